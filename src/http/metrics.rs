//! Prometheus metrics (`GET /metrics`: requests by route and status, and
//! their latency) on an address of their own, given with `--metrics-bind`,
//! and never on the API's: an internal network can scrape them without the
//! world reading them.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{get, web, App, HttpResponse, HttpServer, ResponseError};

use super::middleware::security_headers;
use super::problem::ApiError;
use crate::domain::error::Error;

/// The text exposition format of everything the registry gathers.
#[get("/metrics")]
async fn metrics(registry: web::Data<prometheus::Registry>) -> Result<HttpResponse, ApiError> {
    let text = prometheus::TextEncoder::new().encode_to_string(&registry.gather()).map_err(Error::internal)?;
    Ok(HttpResponse::Ok().content_type(prometheus::TEXT_FORMAT).body(text))
}

async fn nothing_else() -> HttpResponse {
    ApiError::from(Error::NotFound("route")).error_response()
}

/// A small server answering `/metrics` on `listener`. It leaves signals to
/// the API's server, which stops it (see `Application::run`).
pub fn server(listener: TcpListener, registry: prometheus::Registry) -> std::io::Result<Server> {
    let registry = web::Data::new(registry);
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(registry.clone())
            .service(metrics)
            .default_service(web::to(nothing_else))
            .wrap(from_fn(security_headers))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(5)
    .listen(listener)?
    .run())
}
