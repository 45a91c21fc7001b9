//! `/api/v1/products`.

use actix_web::{get, post, web, HttpResponse};

use crate::domain::pagination::Page;
use crate::domain::principal::Principal;
use crate::domain::products::{self, NewProduct, Product, ProductFilter};
use crate::http::extract::ValidJson;
use crate::http::problem::{responses, ApiError};
use crate::http::respond;
use crate::http::state::AppState;

reference_endpoints! {
    record: Product, filter: ProductFilter, tag: "products", id: "Product id",
    /// Lists products (the common ones are there from the start).
    list("list_products", "A page of products") at "/products";
    /// Reads a product.
    get("get_product", "The product") at "/products/{id}";
}

/// Adds a product (admin).
#[utoipa::path(
    tag = "products", operation_id = "create_product",
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
#[post("/products")]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<NewProduct>,
) -> Result<HttpResponse, ApiError> {
    let product = products::create(&state.db, principal, body.into_inner()).await?;
    Ok(respond::created(format!("/api/v1/products/{}", product.id), &product))
}
