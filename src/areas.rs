//! Areas: nation > health board > ADP or local authority, as a tree.

use actix_web::{http::header, web, HttpResponse};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::audit::{self, Action};
use crate::auth::{Principal, Role};
use crate::db::{now, DbConnection};
use crate::error::{responses, ApiError};
use crate::extract::ValidJson;
use crate::pagination::{ListQuery, Page, PageParams};
use crate::patch::double_option;
use crate::schema::areas;
use crate::server::AppState;
use crate::validation::plain_text;

/// A region. Its parent is the larger area it lies in.
#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = areas, treat_none_as_null = true)]
pub struct Area {
    pub id: String,
    #[schema(example = "East Ayrshire")]
    pub name: String,
    pub parent_id: Option<String>,
    /// Estimated number of people at risk of opioid overdose, for reach figures.
    #[schema(example = 1200)]
    pub population_at_risk: Option<i32>,
    #[serde(with = "crate::time::utc")]
    #[schema(value_type = DateTime<Utc>)]
    pub created_at: NaiveDateTime,
    #[serde(with = "crate::time::utc")]
    #[schema(value_type = DateTime<Utc>)]
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewArea {
    #[validate(length(max = 200), custom(function = "plain_text"))]
    #[schema(
        example = "East Ayrshire",
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: String,
    pub parent_id: Option<Uuid>,
    #[validate(range(min = 0))]
    #[schema(minimum = 0)]
    pub population_at_risk: Option<i32>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AreaPatch {
    #[validate(length(max = 200), custom(function = "plain_text"))]
    #[schema(max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub parent_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(range(min = 0))]
    #[schema(value_type = Option<i32>, minimum = 0)]
    pub population_at_risk: Option<Option<i32>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AreaFilter {
    /// Only the direct children of this area.
    pub parent_id: Option<Uuid>,
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<Area>, ApiError> {
    Ok(areas::table.find(id).select(Area::as_select()).first(conn).optional()?)
}

/// An area and every area beneath it, at any depth (the area itself first).
pub fn with_descendants(conn: &mut DbConnection, root: &str) -> Result<Vec<String>, ApiError> {
    // Areas are few (nations, boards, partnerships): one read, walked here.
    let links: Vec<(String, Option<String>)> = areas::table.select((areas::id, areas::parent_id)).load(conn)?;
    let mut found = vec![root.to_owned()];
    let mut next = 0;
    while next < found.len() {
        let parent = found[next].clone();
        found.extend(links.iter().filter(|(_, p)| p.as_deref() == Some(&parent)).map(|(id, _)| id.clone()));
        next += 1;
    }
    Ok(found)
}

/// A parent must exist and must not be the area itself or one beneath it.
fn check_parent(conn: &mut DbConnection, area_id: &str, parent_id: Option<&str>) -> Result<(), ApiError> {
    let mut next = parent_id.map(str::to_owned);
    while let Some(id) = next {
        if id == area_id {
            return Err(ApiError::invalid_field("parent_id", "cycle", "an area cannot lie within itself"));
        }
        let parent =
            find(conn, &id)?.ok_or_else(|| ApiError::invalid_field("parent_id", "not_found", "no such area"))?;
        next = parent.parent_id;
    }
    Ok(())
}

/// Lists areas in creation order.
#[utoipa::path(
    get, path = "/api/v1/areas", tag = "areas", operation_id = "list_areas",
    params(AreaFilter, PageParams),
    responses(
        (status = 200, description = "A page of areas", body = Page<Area>),
        (status = 400, response = responses::BadRequest),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    _principal: Principal,
    query: ListQuery<AreaFilter>,
) -> Result<HttpResponse, ApiError> {
    let ListQuery { filter, page } = query;
    let result = state
        .db
        .run(move |conn| {
            let mut query =
                areas::table.select(Area::as_select()).order(areas::id.asc()).limit(page.limit + 1).into_boxed();
            if let Some(parent) = filter.parent_id {
                query = query.filter(areas::parent_id.eq(parent.to_string()));
            }
            if let Some(after) = &page.after {
                query = query.filter(areas::id.gt(after.clone()));
            }
            Ok(Page::from_rows(query.load(conn)?, &page, |a: &Area| &a.id))
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Creates an area (admin).
#[utoipa::path(
    post, path = "/api/v1/areas", tag = "areas", operation_id = "create_area",
    request_body = NewArea,
    responses(
        (status = 201, description = "Created", body = Area, headers(("Location" = String, description = "The new area's URL"))),
        (status = 403, response = responses::Forbidden),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<NewArea>,
) -> Result<HttpResponse, ApiError> {
    principal.require_any(&[Role::Admin])?;
    let new = body.into_inner();
    let area = state
        .db
        .write(move |conn| {
            let at = now();
            let area = Area {
                id: Uuid::now_v7().to_string(),
                name: new.name.trim().to_owned(),
                parent_id: new.parent_id.map(|id| id.to_string()),
                population_at_risk: new.population_at_risk,
                created_at: at,
                updated_at: at,
            };
            check_parent(conn, &area.id, area.parent_id.as_deref())?;
            diesel::insert_into(areas::table).values(&area).execute(conn)?;
            audit::record(conn, &principal.actor(), Action::Create, "area", &area.id, None, &area)?;
            Ok(area)
        })
        .await?;
    Ok(HttpResponse::Created().insert_header((header::LOCATION, format!("/api/v1/areas/{}", area.id))).json(area))
}

/// Reads an area.
#[utoipa::path(
    get, path = "/api/v1/areas/{id}", tag = "areas", operation_id = "get_area",
    params(("id" = Uuid, Path, description = "Area id")),
    responses(
        (status = 200, description = "The area", body = Area),
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
    let area = state.db.run(move |conn| find(conn, &id)).await?.ok_or_else(|| ApiError::not_found("area"))?;
    Ok(HttpResponse::Ok().json(area))
}

/// Changes an area (admin).
#[utoipa::path(
    patch, path = "/api/v1/areas/{id}", tag = "areas", operation_id = "update_area",
    params(("id" = Uuid, Path, description = "Area id")),
    request_body = AreaPatch,
    responses(
        (status = 200, description = "The changed area", body = Area),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidJson<AreaPatch>,
) -> Result<HttpResponse, ApiError> {
    principal.require_any(&[Role::Admin])?;
    let id = id.into_inner().to_string();
    let patch = body.into_inner();
    let area = state
        .db
        .write(move |conn| {
            let before = find(conn, &id)?.ok_or_else(|| ApiError::not_found("area"))?;
            let mut after = before.clone();
            if let Some(name) = patch.name {
                after.name = name.trim().to_owned();
            }
            if let Some(parent_id) = patch.parent_id {
                after.parent_id = parent_id.map(|p| p.to_string());
                check_parent(conn, &after.id, after.parent_id.as_deref())?;
            }
            if let Some(population) = patch.population_at_risk {
                after.population_at_risk = population;
            }
            after.updated_at = now();
            diesel::update(areas::table.find(&id)).set(&after).execute(conn)?;
            audit::record(conn, &principal.actor(), Action::Update, "area", &id, Some(&before), &after)?;
            Ok(after)
        })
        .await?;
    Ok(HttpResponse::Ok().json(area))
}
