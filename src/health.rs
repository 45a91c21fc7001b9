//! Liveness and readiness, for load balancers and orchestrators.

use actix_web::{web, HttpResponse};
use diesel::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{responses, ApiError};
use crate::server::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, description = "Alive", body = Health)))]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Prometheus metrics: requests by route and status, and their latency.
#[utoipa::path(
    get, path = "/metrics", tag = "operations",
    responses(
        (status = 200, description = "Prometheus text exposition format", body = String, content_type = "text/plain"),
        (status = 500, response = responses::InternalError),
    )
)]
pub async fn metrics(registry: web::Data<prometheus::Registry>) -> Result<HttpResponse, ApiError> {
    let text = prometheus::TextEncoder::new().encode_to_string(&registry.gather()).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().content_type(prometheus::TEXT_FORMAT).body(text))
}

/// The database answers.
#[utoipa::path(
    get, path = "/ready", tag = "operations",
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, response = responses::ServiceUnavailable),
    )
)]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state
        .db
        .run(|conn| {
            diesel::sql_query("SELECT 1").execute(conn).map_err(|e| {
                tracing::warn!(error = %e, "database not ready");
                ApiError::unavailable()
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Health { status: "ok" }))
}
