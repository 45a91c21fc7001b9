//! The OpenAPI document: the parts that belong to no one route (the API's
//! description, the error responses every route shares, the sign-in
//! scheme, the tags) here, and every path from the route table. The
//! committed copy is `openapi/openapi.json`; a test fails when the two
//! drift apart.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use super::problem::{responses, Problem};
use crate::domain::error::FieldError;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Naloxone tracker API",
        description = "Records take-home naloxone kits handed out by peer distributors, the trainings that \
certify them and the overdose reversals they report.\n\n\
Errors are `application/problem+json` (RFC 9457) with a stable `code`; validation failures (422) list \
`errors: [{field, code, message}]`. Retry 429 and 503 after `Retry-After`; do not retry 400, 401, 403, \
404, 409, 413, 415 or 422 unchanged.\n\n\
Held records: a record of something that happened is never refused for a rule about the world. A \
body that cannot be understood (wrong types, unknown values, missing fields, out-of-range numbers, a \
reference to nothing) is refused with 422 and field errors: fix or discard it. A well-formed handout, \
reversal report or training session that only a rule about the peer's certificate, the stock, the \
batch, the trainer or the time stands in the way of (and a handout missing a family member's consent \
or a repeat reason, which a peer cannot ask again) is stored as held: `202 Accepted` (sync: `held`), \
with `state: held` and `held_reasons: [{code, field, message}]`. Keep it as sent; never drop it. A \
held record counts in no statistics and takes no stock until a coordinator of its organisation \
corrects and releases it (`POST …/{id}/release`) or voids it.\n\n\
Lists take `limit` (1 to 200) and `cursor` and answer `{items, next_cursor}` in a stable order; \
`next_cursor` is null on the last page.\n\n\
Sign in at `/api/v1/auth/login` and send the access token as `Authorization: Bearer …`. Access tokens \
last 15 minutes by default and stop working when their session ends (sign-out, password change, \
deactivation, a reused refresh token): `401 session_ended`. Refresh tokens are single use; one sent \
again within the refresh grace (60 s), before its replacement is used, gets another pair of the same \
session.\n\n\
Every answer under `/api/v1` but this document carries `Cache-Control: no-store`: never cache them. \
Prometheus metrics are not served on this address (see `--metrics-bind`).",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later")
    ),
    servers((url = "/", description = "The server that serves this document")),
    components(
        schemas(Problem, FieldError),
        responses(
            responses::BadRequest,
            responses::Unauthorized,
            responses::Forbidden,
            responses::NotFound,
            responses::Conflict,
            responses::PreconditionFailed,
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
        (name = "operations", description = "Health checks (Prometheus metrics are served on an address of their own, `--metrics-bind`, not described here)"),
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

/// The whole document: these parts and every route's entry.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, document) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(super::routes::api)
        .split_for_parts();
    document
}

/// The document as committed: pretty JSON with a final newline.
pub fn document() -> String {
    let mut text = openapi().to_pretty_json().expect("the OpenAPI document serialises");
    text.push('\n');
    text
}
