//! `/api/v1/areas`.

use actix_web::{get, patch, post, web, HttpResponse};
use uuid::Uuid;

use crate::domain::areas::{self, Area, AreaFilter, AreaPatch, NewArea};
use crate::domain::pagination::Page;
use crate::domain::principal::Principal;
use crate::http::extract::ValidJson;
use crate::http::problem::{responses, ApiError};
use crate::http::respond;
use crate::http::state::AppState;

reference_endpoints! {
    record: Area, filter: AreaFilter, tag: "areas", id: "Area id",
    /// Lists areas in creation order.
    list("list_areas", "A page of areas") at "/areas";
    /// Reads an area.
    get("get_area", "The area") at "/areas/{id}";
}

/// Creates an area (admin).
#[utoipa::path(
    tag = "areas", operation_id = "create_area",
    request_body = NewArea,
    responses(
        (status = 201, description = "Created", body = Area, headers(("Location" = String, description = "The new area's URL"))),
        (status = 403, response = responses::Forbidden),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
#[post("/areas")]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<NewArea>,
) -> Result<HttpResponse, ApiError> {
    let area = areas::create(&state.db, principal, body.into_inner()).await?;
    Ok(respond::created(format!("/api/v1/areas/{}", area.id), &area))
}

/// Changes an area (admin).
#[utoipa::path(
    tag = "areas", operation_id = "update_area",
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
#[patch("/areas/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidJson<AreaPatch>,
) -> Result<HttpResponse, ApiError> {
    let area = areas::update(&state.db, principal, id.into_inner().into(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(area))
}
