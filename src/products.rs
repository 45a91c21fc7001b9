//! Naloxone products: what a kit contains.

use actix_web::{http::header, web, HttpResponse};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::audit::{self, Action};
use crate::auth::{Principal, Role};
use crate::error::{responses, ApiError};
use crate::extract::ValidJson;
use crate::pagination::{ListQuery, Page, PageParams};
use crate::schema::products;
use crate::server::AppState;
use crate::validation::plain_text;

crate::text_enum! {
    pub enum Route {
        Intramuscular = "intramuscular",
        Intranasal = "intranasal",
    }
}

#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Selectable, Insertable)]
#[diesel(table_name = products)]
pub struct Product {
    pub id: String,
    #[schema(example = "Prenoxad 2 mg/2 ml syringe")]
    pub name: String,
    pub route: Route,
    #[schema(example = 5)]
    pub doses_per_kit: i32,
    #[schema(example = 0.4)]
    pub mg_per_dose: f64,
    #[serde(with = "crate::time::utc")]
    #[schema(value_type = DateTime<Utc>)]
    pub created_at: NaiveDateTime,
    #[serde(with = "crate::time::utc")]
    #[schema(value_type = DateTime<Utc>)]
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    #[validate(length(max = 200), custom(function = "plain_text"))]
    #[schema(max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$")]
    pub name: String,
    pub route: Route,
    #[validate(range(min = 1, max = 20))]
    #[schema(minimum = 1, maximum = 20)]
    pub doses_per_kit: i32,
    #[validate(range(exclusive_min = 0.0, max = 100.0))]
    #[schema(exclusive_minimum = 0.0, maximum = 100.0)]
    pub mg_per_dose: f64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProductFilter {
    pub route: Option<Route>,
}

/// Lists products (the common ones are there from the start).
#[utoipa::path(
    get, path = "/api/v1/products", tag = "products", operation_id = "list_products",
    params(ProductFilter, PageParams),
    responses(
        (status = 200, description = "A page of products", body = Page<Product>),
        (status = 400, response = responses::BadRequest),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    _principal: Principal,
    query: ListQuery<ProductFilter>,
) -> Result<HttpResponse, ApiError> {
    let ListQuery { filter, page } = query;
    let result = state
        .db
        .run(move |conn| {
            let mut query = products::table
                .select(Product::as_select())
                .order(products::id.asc())
                .limit(page.limit + 1)
                .into_boxed();
            if let Some(route) = filter.route {
                query = query.filter(products::route.eq(route));
            }
            if let Some(after) = &page.after {
                query = query.filter(products::id.gt(after.clone()));
            }
            Ok(Page::from_rows(query.load(conn)?, &page, |p: &Product| &p.id))
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Adds a product (admin).
#[utoipa::path(
    post, path = "/api/v1/products", tag = "products", operation_id = "create_product",
    request_body = NewProduct,
    responses(
        (status = 201, description = "Created", body = Product, headers(("Location" = String, description = "The new product's URL"))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<NewProduct>,
) -> Result<HttpResponse, ApiError> {
    principal.require_any(&[Role::Admin])?;
    let new = body.into_inner();
    let product = state
        .db
        .write(move |conn| {
            let name = new.name.trim().to_owned();
            let taken = products::table
                .filter(products::name.eq(&name))
                .select(products::id)
                .first::<String>(conn)
                .optional()?;
            if taken.is_some() {
                return Err(ApiError::conflict("name_taken", "a product with this name exists"));
            }
            let at = crate::db::now();
            let product = Product {
                id: Uuid::now_v7().to_string(),
                name,
                route: new.route,
                doses_per_kit: new.doses_per_kit,
                mg_per_dose: new.mg_per_dose,
                created_at: at,
                updated_at: at,
            };
            diesel::insert_into(products::table).values(&product).execute(conn)?;
            audit::record(conn, &principal.actor(), Action::Create, "product", &product.id, None, &product)?;
            Ok(product)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/products/{}", product.id)))
        .json(product))
}

/// Reads a product.
#[utoipa::path(
    get, path = "/api/v1/products/{id}", tag = "products", operation_id = "get_product",
    params(("id" = Uuid, Path, description = "Product id")),
    responses(
        (status = 200, description = "The product", body = Product),
        (status = 404, response = responses::NotFound),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn get(
    state: web::Data<AppState>,
    _principal: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    let product = state
        .db
        .run(move |conn| Ok(products::table.find(&id).select(Product::as_select()).first(conn).optional()?))
        .await?
        .ok_or_else(|| ApiError::not_found("product"))?;
    Ok(HttpResponse::Ok().json(product))
}
