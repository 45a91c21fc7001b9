//! Liveness and readiness, for load balancers and orchestrators (metrics
//! have an address of their own: `http::metrics`).

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::error::Error;
use crate::http::problem::{responses, ApiError};
use crate::http::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(
    operation_id = "get_health",
    tag = "operations",
    responses((status = 200, description = "Alive", body = Health))
)]
#[get("/health")]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// The database answers.
#[utoipa::path(
    operation_id = "get_readiness",
    tag = "operations",
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, response = responses::ServiceUnavailable),
    )
)]
#[get("/ready")]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.db.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "database not ready");
        Error::Unavailable
    })?;
    Ok(HttpResponse::Ok().json(Health { status: "ok" }))
}
