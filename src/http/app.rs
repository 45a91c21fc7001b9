//! The HTTP application: middleware, the route table, the docs page, and
//! the server that runs them.

use std::net::{SocketAddr, TcpListener};

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Compress, Condition, DefaultHeaders};
use actix_web::{web, App, HttpServer};
use actix_web_prom::PrometheusMetricsBuilder;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::{Config, SwaggerUi};

use super::extract::{path_config, query_config, BodyLimit};
use super::fallback::{no_route, KnownPaths};
use super::middleware::{problem_fallback, request_context, security_headers};
use super::openapi::ApiDoc;
use super::state::AppState;
use crate::config::Settings;
use utoipa::OpenApi;

/// A bound, not yet running server, and the metrics server beside it when
/// `--metrics-bind` asks for one.
pub struct Application {
    server: Server,
    address: SocketAddr,
    metrics: Option<(Server, SocketAddr)>,
}

/// A CORS origin must be `*` or a bare origin (`https://host[:port]`).
fn check_cors_origins(origins: &[String]) -> anyhow::Result<()> {
    for origin in origins {
        let valid = origin == "*"
            || origin.parse::<actix_web::http::Uri>().is_ok_and(|uri| {
                uri.scheme().is_some() && uri.host().is_some() && uri.path_and_query().is_none_or(|p| p.as_str() == "/")
            });
        anyhow::ensure!(valid, "CORS origin {origin:?} is not of the form https://host[:port]");
    }
    Ok(())
}

impl Application {
    pub fn build(settings: &Settings, state: AppState, listener: TcpListener) -> anyhow::Result<Self> {
        let address = listener.local_addr()?;
        let state = web::Data::new(state);
        let body_limit = BodyLimit(settings.body_limit_bytes);
        let cors_origins = settings.cors_origins.clone();
        check_cors_origins(&cors_origins)?;
        let tls = match (&settings.tls_cert, &settings.tls_key) {
            (Some(cert), Some(key)) => Some(super::tls::server_config(cert, key)?),
            _ => None,
        };
        let https = tls.is_some();
        let metrics = PrometheusMetricsBuilder::new("naloxone")
            .mask_unmatched_patterns("UNMATCHED")
            .build()
            .map_err(|e| anyhow::anyhow!("metrics: {e}"))?;
        // Requests are counted only when something serves the counts.
        let metrics_listener = match &settings.metrics_bind {
            Some(bind) => {
                Some(TcpListener::bind(bind).map_err(|e| anyhow::anyhow!("cannot serve metrics on {bind}: {e}"))?)
            }
            None => None,
        };
        let counting = metrics_listener.is_some();
        let registry = metrics.registry.clone();
        let document = super::openapi::openapi();
        let known_paths = web::Data::new(KnownPaths::of(&document));
        let mut server = HttpServer::new(move || {
            let cors = cors_origins.iter().fold(
                Cors::default()
                    .allowed_methods(["GET", "POST", "PATCH"])
                    .allowed_headers(["authorization", "content-type", "x-request-id"])
                    .expose_headers(["x-request-id", "location", "retry-after"])
                    .max_age(3600),
                // Tokens travel in a header, never a cookie, so `*` is safe to allow.
                |cors, origin| if origin == "*" { cors.allow_any_origin() } else { cors.allowed_origin(origin) },
            );
            App::new()
                // Before the route table, whose `/api/v1` scope would take its document's URL.
                .service(
                    SwaggerUi::new("/docs/{_:.*}")
                        .url("/api/v1/openapi.json", document.clone())
                        // No badge from validator.swagger.io: the page stays offline (and within its CSP).
                        .config(Config::default().validator_url("none")),
                )
                .into_utoipa_app()
                .openapi(ApiDoc::openapi())
                .configure(super::routes::api)
                .into_app()
                .app_data(state.clone())
                .app_data(known_paths.clone())
                .app_data(body_limit)
                .app_data(web::PayloadConfig::new(body_limit.0))
                .app_data(query_config())
                .app_data(path_config())
                .wrap(Compress::default())
                .wrap(cors)
                .wrap(Condition::new(counting, metrics.clone()))
                .wrap(problem_fallback())
                .wrap(from_fn(request_context))
                .wrap(from_fn(security_headers))
                // Only when this server speaks HTTPS itself: behind a proxy, the proxy says it.
                .wrap(Condition::new(
                    https,
                    DefaultHeaders::new().add((actix_web::http::header::STRICT_TRANSPORT_SECURITY, super::tls::HSTS)),
                ))
                .service(web::redirect("/docs", "/docs/"))
                .default_service(web::to(no_route))
        })
        // Without it, the last segment of a compressed answer can wait ~40 ms
        // for the client's delayed acknowledgement (Nagle's algorithm).
        .tcp_nodelay(true)
        .shutdown_timeout(30);
        server = match tls {
            Some(config) => server.listen_rustls_0_23(listener, config)?,
            None => server.listen(listener)?,
        };
        if let Some(workers) = settings.workers {
            server = server.workers(workers);
        }
        let metrics = match metrics_listener {
            Some(listener) => {
                let address = listener.local_addr()?;
                Some((super::metrics::server(listener, registry)?, address))
            }
            None => None,
        };
        Ok(Self { server: server.run(), address, metrics })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Where `/metrics` is served, if anywhere.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|(_, address)| *address)
    }

    /// Stops the server from elsewhere (tests, benchmarks).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT or SIGTERM (or the handle stops it), then
    /// finishes the requests in flight; the metrics server stops with it.
    pub async fn run(self) -> std::io::Result<()> {
        let Some((metrics, _)) = self.metrics else {
            return self.server.await;
        };
        let metrics_handle = metrics.handle();
        let metrics_served = actix_web::rt::spawn(metrics);
        let served = self.server.await;
        metrics_handle.stop(true).await;
        let _ = metrics_served.await;
        served
    }
}
