//! `/api/v1/organisations`.

use actix_web::{get, patch, post, web, HttpResponse};
use uuid::Uuid;

use crate::domain::organisations::{
    self, ChangedOrganisation, NewOrganisation, Organisation, OrganisationFilter, OrganisationPatch,
};
use crate::domain::pagination::Page;
use crate::domain::principal::Principal;
use crate::http::extract::ValidJson;
use crate::http::problem::{responses, ApiError};
use crate::http::respond;
use crate::http::state::AppState;

reference_endpoints! {
    record: Organisation, filter: OrganisationFilter, tag: "organisations", id: "Organisation id",
    /// Lists organisations in creation order.
    list("list_organisations", "A page of organisations") at "/organisations";
    /// Reads an organisation.
    get("get_organisation", "The organisation") at "/organisations/{id}";
}

/// Creates an organisation (admin).
#[utoipa::path(
    tag = "organisations", operation_id = "create_organisation",
    request_body = NewOrganisation,
    responses(
        (status = 201, description = "Created", body = Organisation, headers(("Location" = String, description = "The new organisation's URL"))),
        (status = 403, response = responses::Forbidden),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
#[post("/organisations")]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<NewOrganisation>,
) -> Result<HttpResponse, ApiError> {
    let organisation = organisations::create(&state.db, principal, body.into_inner()).await?;
    Ok(respond::created(format!("/api/v1/organisations/{}", organisation.id), &organisation))
}

/// Changes an organisation: an admin anything; a coordinator of it whether
/// it tracks stock (`tracks_stock` alone). The answer says how many of its
/// handouts are held for naming no batch.
#[utoipa::path(
    tag = "organisations", operation_id = "update_organisation",
    params(("id" = Uuid, Path, description = "Organisation id")),
    request_body = OrganisationPatch,
    responses(
        (status = 200, description = "The changed organisation", body = ChangedOrganisation),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
#[patch("/organisations/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidJson<OrganisationPatch>,
) -> Result<HttpResponse, ApiError> {
    let organisation = organisations::update(&state.db, principal, id.into_inner().into(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(organisation))
}
