//! `/api/v1/batches` and `/api/v1/stock`.

use actix_web::{get, post, web, HttpResponse};
use uuid::Uuid;

use crate::domain::pagination::{ListQuery, Page, PageParams};
use crate::domain::principal::Principal;
use crate::domain::records::VoidRequest;
use crate::domain::stock::{self, Batch, BatchFilter, NewBatch, NewMovement, StockFilter, StockLine};
use crate::http::extract::ValidJson;
use crate::http::problem::{responses, ApiError};
use crate::http::respond;
use crate::http::state::AppState;
use crate::storage::stock::StockMovement;

/// Records stock received (a coordinator for their organisation; an admin for any).
#[utoipa::path(
    tag = "stock",
    request_body = NewBatch,
    responses(
        (status = 201, description = "Recorded", body = Batch, headers(("Location" = String, description = "The batch's URL"))),
        (status = 403, response = responses::Forbidden),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
#[post("/batches")]
pub async fn create_batch(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<NewBatch>,
) -> Result<HttpResponse, ApiError> {
    let batch = stock::create_batch(&state.db, principal, body.into_inner()).await?;
    Ok(respond::created(format!("/api/v1/batches/{}", batch.id), &batch))
}

/// Lists the organisation's batches (an admin: all, or one organisation's).
#[utoipa::path(
    operation_id = "list_batches",
    tag = "stock",
    params(BatchFilter, PageParams),
    responses(
        (status = 200, description = "A page of batches, oldest first", body = Page<Batch>),
        (status = 400, response = responses::BadRequest),
        (status = 403, response = responses::Forbidden),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
#[get("/batches")]
pub async fn batches_list(
    state: web::Data<AppState>,
    principal: Principal,
    query: ListQuery<BatchFilter>,
) -> Result<HttpResponse, ApiError> {
    let page = stock::list_batches(&state.db, principal, query.filter, query.page).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Recalls a batch: its kits can no longer be allocated or handed out. Recalling again changes nothing.
#[utoipa::path(
    tag = "stock",
    params(("id" = Uuid, Path, description = "Batch id")),
    request_body = VoidRequest,
    responses(
        (status = 200, description = "The recalled batch", body = Batch),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
#[post("/batches/{id}/recall")]
pub async fn recall_batch(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidJson<VoidRequest>,
) -> Result<HttpResponse, ApiError> {
    let batch = stock::recall_batch(&state.db, principal, id.into_inner().into(), body.into_inner().reason).await?;
    Ok(HttpResponse::Ok().json(batch))
}

/// Allocates kits to a peer, takes them back, or writes them off. Never
/// lets a balance go below zero: 409 `insufficient_stock` instead. Kits go
/// only to an active peer of the batch's organisation; they come back from
/// (or are written off for) whoever holds them, a deactivated peer included.
#[utoipa::path(
    operation_id = "create_stock_movement",
    tag = "stock",
    request_body = NewMovement,
    responses(
        (status = 201, description = "Recorded", body = StockMovement),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
#[post("/stock/movements")]
pub async fn create_movement(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<NewMovement>,
) -> Result<HttpResponse, ApiError> {
    let movement = stock::create_movement(&state.db, principal, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(movement))
}

/// Kits on hand by batch: the organisation's store and each peer's (a peer sees their own).
#[utoipa::path(
    operation_id = "list_stock",
    tag = "stock",
    params(StockFilter),
    responses(
        (status = 200, description = "Stock on hand; one page holds it all", body = Page<StockLine>),
        (status = 400, response = responses::BadRequest),
        (status = 403, response = responses::Forbidden),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
#[get("/stock")]
pub async fn stock_on_hand(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<StockFilter>,
) -> Result<HttpResponse, ApiError> {
    let lines = stock::stock_on_hand(&state.db, principal, filter.into_inner()).await?;
    Ok(HttpResponse::Ok().json(Page { items: lines, next_cursor: None }))
}
