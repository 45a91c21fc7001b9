//! The OpenAPI document, generated from the handlers. The committed copy
//! is `openapi/openapi.json`; a test fails when the two drift apart.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{responses, FieldError, Problem};
use crate::{
    areas, auth, certificates, health, kit_issues, organisations, products, reversals, stats, stock, sync, trainings,
    users,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Naloxone tracker API",
        description = "Records take-home naloxone kits handed out by peer distributors, the trainings that \
certify them and the overdose reversals they report.\n\n\
Errors are `application/problem+json` (RFC 9457) with a stable `code`; validation failures (422) list \
`errors: [{field, code, message}]`. Retry 429 and 503 after `Retry-After`; do not retry 400, 401, 403, \
404, 409, 413, 415 or 422 unchanged.\n\n\
Lists take `limit` (1 to 200) and `cursor` and answer `{items, next_cursor}` in a stable order; \
`next_cursor` is null on the last page.\n\n\
Sign in at `/api/v1/auth/login` and send the access token as `Authorization: Bearer …`. Access tokens \
last 15 minutes by default; refresh tokens are single use.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later")
    ),
    servers((url = "/", description = "The server that serves this document")),
    paths(
        health::health,
        health::ready,
        health::metrics,
        auth::handlers::login,
        auth::handlers::refresh,
        auth::handlers::logout,
        users::me,
        users::list,
        users::create_handler,
        users::get,
        users::update_handler,
        areas::list,
        areas::create,
        areas::get,
        areas::update,
        organisations::list,
        organisations::create,
        organisations::get,
        organisations::update,
        products::list,
        products::create,
        products::get,
        trainings::list,
        trainings::create,
        trainings::get,
        trainings::update,
        trainings::void_handler,
        certificates::handlers::list,
        certificates::handlers::create,
        certificates::handlers::get,
        certificates::handlers::revoke,
        certificates::handlers::token,
        certificates::handlers::verify,
        certificates::handlers::jwks,
        stock::create_batch,
        stock::batches_list,
        stock::recall_batch,
        stock::create_movement,
        stock::stock_on_hand,
        kit_issues::list,
        kit_issues::create,
        kit_issues::get,
        kit_issues::update,
        kit_issues::void_handler,
        reversals::list,
        reversals::create,
        reversals::get,
        reversals::update,
        reversals::void_handler,
        sync::sync,
        sync::reference,
        stats::kits,
        stats::reversals,
        stats::trainings,
        stats::summary::summary,
        stats::spikes::spikes,
    ),
    components(
        schemas(Problem, FieldError),
        responses(
            responses::BadRequest,
            responses::Unauthorized,
            responses::Forbidden,
            responses::NotFound,
            responses::Conflict,
            responses::PayloadTooLarge,
            responses::UnsupportedMediaType,
            responses::Unprocessable,
            responses::TooManyRequests,
            responses::ServiceUnavailable,
            responses::InternalError,
        )
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Signing in and out"),
        (name = "users", description = "Users and their roles"),
        (name = "areas", description = "Areas: nation, health board, ADP or local authority"),
        (name = "organisations", description = "Hubs, LEROs, services and teams"),
        (name = "products", description = "Naloxone products"),
        (name = "trainings", description = "Training sessions delivered"),
        (name = "certificates", description = "Peers' authority to supply and to certify, verifiable by anyone with the code"),
        (name = "stock", description = "Batches received, kits allocated to peers, write-offs"),
        (name = "kit issues", description = "Kits handed out"),
        (name = "reversals", description = "Overdose reversal reports"),
        (name = "statistics", description = "Counts for commissioners, coordinators and admins, with disclosure control; spike alerts"),
        (name = "sync", description = "Offline phones: send a queue, fetch what to cache"),
        (name = "operations", description = "Health checks and metrics"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// The document as committed: pretty JSON with a final newline.
pub fn document() -> String {
    let mut text = ApiDoc::openapi().to_pretty_json().expect("the OpenAPI document serialises");
    text.push('\n');
    text
}
