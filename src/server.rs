//! The HTTP application: shared state, routes and middleware.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Compress};
use actix_web::{web, App, HttpServer};
use actix_web_prom::PrometheusMetricsBuilder;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::tokens::{load_or_create_secret, TokenService};
use crate::certificates::handlers as certificate_handlers;
use crate::certificates::signing::CertificateSigner;
use crate::config::Settings;
use crate::db::Database;
use crate::error::ApiError;
use crate::extract::{path_config, query_config, BodyLimit};
use crate::middleware::{problem_fallback, request_context};
use crate::openapi::ApiDoc;
use crate::throttle::Throttle;
use crate::{
    areas, auth, health, kit_issues, organisations, products, reversals, stats, stock, sync, trainings, users,
};

/// What every request handler shares.
pub struct AppState {
    pub db: Database,
    pub tokens: TokenService,
    pub login_throttle: Throttle,
    /// Limits public certificate look-ups per client address.
    pub verify_throttle: Throttle,
    pub refresh_ttl: chrono::Duration,
    pub certificate_signer: CertificateSigner,
    pub certificate_validity: chrono::Months,
    /// Keys the hash of pseudonymous recipient codes.
    pub recipient_code_key: Vec<u8>,
    /// Counts below it are hidden from commissioners.
    pub disclosure_threshold: i64,
}

impl AppState {
    pub fn new(settings: &Settings, db: Database) -> anyhow::Result<Self> {
        let secret = load_or_create_secret(settings.jwt_secret.as_deref(), &settings.data_dir)?;
        Ok(Self {
            db,
            tokens: TokenService::new(&secret, settings.access_token_ttl_seconds),
            login_throttle: Throttle::new(
                settings.login_max_failures,
                Duration::from_secs(settings.login_lockout_seconds),
            ),
            verify_throttle: Throttle::new(settings.verify_rate_per_minute, Duration::from_secs(60)),
            refresh_ttl: chrono::Duration::days(settings.refresh_token_ttl_days),
            certificate_signer: CertificateSigner::load_or_create(&settings.data_dir)?,
            certificate_validity: chrono::Months::new(settings.certificate_validity_months),
            recipient_code_key: crate::keys::load_or_create(
                settings.recipient_code_key.as_deref(),
                &settings.data_dir,
                "recipient_code_key",
                "RECIPIENT_CODE_KEY",
            )?,
            disclosure_threshold: settings.disclosure_threshold,
        })
    }
}

/// The routes under `/api/v1`.
fn api_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/auth/login").route(web::post().to(auth::handlers::login)))
        .service(web::resource("/auth/refresh").route(web::post().to(auth::handlers::refresh)))
        .service(web::resource("/auth/logout").route(web::post().to(auth::handlers::logout)))
        .service(web::resource("/me").route(web::get().to(users::me)))
        .service(web::resource("/users").route(web::get().to(users::list)).route(web::post().to(users::create_handler)))
        .service(
            web::resource("/users/{id}").route(web::get().to(users::get)).route(web::patch().to(users::update_handler)),
        )
        .service(web::resource("/areas").route(web::get().to(areas::list)).route(web::post().to(areas::create)))
        .service(web::resource("/areas/{id}").route(web::get().to(areas::get)).route(web::patch().to(areas::update)))
        .service(
            web::resource("/organisations")
                .route(web::get().to(organisations::list))
                .route(web::post().to(organisations::create)),
        )
        .service(
            web::resource("/organisations/{id}")
                .route(web::get().to(organisations::get))
                .route(web::patch().to(organisations::update)),
        )
        .service(
            web::resource("/products").route(web::get().to(products::list)).route(web::post().to(products::create)),
        )
        .service(web::resource("/products/{id}").route(web::get().to(products::get)))
        .service(
            web::resource("/trainings").route(web::get().to(trainings::list)).route(web::post().to(trainings::create)),
        )
        .service(
            web::resource("/trainings/{id}")
                .route(web::get().to(trainings::get))
                .route(web::patch().to(trainings::update)),
        )
        .service(web::resource("/trainings/{id}/void").route(web::post().to(trainings::void_handler)))
        .service(
            web::resource("/certificates")
                .route(web::get().to(certificate_handlers::list))
                .route(web::post().to(certificate_handlers::create)),
        )
        // Before `/certificates/{id}`, which would otherwise take "verify" for an id.
        .service(web::resource("/certificates/verify/{code}").route(web::get().to(certificate_handlers::verify)))
        .service(web::resource("/certificates/{id}").route(web::get().to(certificate_handlers::get)))
        .service(web::resource("/certificates/{id}/revoke").route(web::post().to(certificate_handlers::revoke)))
        .service(web::resource("/certificates/{id}/token").route(web::get().to(certificate_handlers::token)))
        .service(
            web::resource("/batches")
                .route(web::get().to(stock::batches_list))
                .route(web::post().to(stock::create_batch)),
        )
        .service(web::resource("/batches/{id}/recall").route(web::post().to(stock::recall_batch)))
        .service(web::resource("/stock").route(web::get().to(stock::stock_on_hand)))
        .service(web::resource("/stats/kits").route(web::get().to(stats::kits)))
        .service(web::resource("/stats/reversals").route(web::get().to(stats::reversals)))
        .service(web::resource("/stats/trainings").route(web::get().to(stats::trainings)))
        .service(web::resource("/stats/summary").route(web::get().to(stats::summary::summary)))
        .service(web::resource("/alerts/spikes").route(web::get().to(stats::spikes::spikes)))
        .service(web::resource("/stock/movements").route(web::post().to(stock::create_movement)))
        .service(
            web::resource("/kit-issues")
                .route(web::get().to(kit_issues::list))
                .route(web::post().to(kit_issues::create)),
        )
        .service(
            web::resource("/kit-issues/{id}")
                .route(web::get().to(kit_issues::get))
                .route(web::patch().to(kit_issues::update)),
        )
        .service(web::resource("/kit-issues/{id}/void").route(web::post().to(kit_issues::void_handler)))
        .service(
            web::resource("/reversals").route(web::get().to(reversals::list)).route(web::post().to(reversals::create)),
        )
        .service(
            web::resource("/reversals/{id}")
                .route(web::get().to(reversals::get))
                .route(web::patch().to(reversals::update)),
        )
        .service(web::resource("/reversals/{id}/void").route(web::post().to(reversals::void_handler)))
        .service(web::resource("/sync").route(web::post().to(sync::sync)))
        .service(web::resource("/sync/reference").route(web::get().to(sync::reference)));
}

/// A bound, not yet running server.
pub struct Application {
    server: Server,
    address: SocketAddr,
}

impl Application {
    pub fn build(settings: &Settings, state: AppState, listener: TcpListener) -> anyhow::Result<Self> {
        let address = listener.local_addr()?;
        let state = web::Data::new(state);
        let body_limit = BodyLimit(settings.body_limit_bytes);
        let cors_origins = settings.cors_origins.clone();
        for origin in &cors_origins {
            let valid = origin == "*"
                || origin.parse::<actix_web::http::Uri>().is_ok_and(|uri| {
                    uri.scheme().is_some()
                        && uri.host().is_some()
                        && uri.path_and_query().is_none_or(|p| p.as_str() == "/")
                });
            anyhow::ensure!(valid, "CORS origin {origin:?} is not of the form https://host[:port]");
        }
        let metrics = PrometheusMetricsBuilder::new("naloxone")
            .mask_unmatched_patterns("UNMATCHED")
            .build()
            .map_err(|e| anyhow::anyhow!("metrics: {e}"))?;
        let registry = web::Data::new(metrics.registry.clone());
        let openapi = ApiDoc::openapi();
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
                .app_data(state.clone())
                .app_data(registry.clone())
                .app_data(body_limit)
                .app_data(web::PayloadConfig::new(body_limit.0))
                .app_data(query_config())
                .app_data(path_config())
                .wrap(Compress::default())
                .wrap(cors)
                .wrap(metrics.clone())
                .wrap(problem_fallback())
                .wrap(from_fn(request_context))
                .service(web::resource("/health").route(web::get().to(health::health)))
                .service(web::resource("/ready").route(web::get().to(health::ready)))
                .service(web::resource("/metrics").route(web::get().to(health::metrics)))
                .service(web::resource("/.well-known/jwks.json").route(web::get().to(certificate_handlers::jwks)))
                .service(web::redirect("/docs", "/docs/"))
                .service(SwaggerUi::new("/docs/{_:.*}").url("/api/v1/openapi.json", openapi.clone()))
                .service(web::scope("/api/v1").configure(api_routes))
                .default_service(web::to(|| async { Err::<actix_web::HttpResponse, _>(ApiError::not_found("route")) }))
        })
        // Without it, the last segment of a compressed answer can wait ~40 ms
        // for the client's delayed acknowledgement (Nagle's algorithm).
        .tcp_nodelay(true)
        .shutdown_timeout(30)
        .listen(listener)?;
        if let Some(workers) = settings.workers {
            server = server.workers(workers);
        }
        Ok(Self { server: server.run(), address })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Stops the server from elsewhere (tests, benchmarks).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT or SIGTERM, then finishes the requests in flight.
    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }
}
