//! The OpenAPI document: the parts that belong to no one route (the API's
//! description, the error responses every route shares, the sign-in
//! scheme, the tags) here, and every path from the route table. The
//! committed copy is `openapi/openapi.json`; a test fails when the two
//! drift apart.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{ArrayItems, Schema};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use super::problem::{responses, Problem};
use crate::domain::error::{Code, FieldError};

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
        schemas(Problem, Code, FieldError),
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

/// The whole document: these parts and every route's entry, each
/// operation with the problem codes it can answer.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut document) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(super::routes::api)
        .split_for_parts();
    refer_to_page_items(&mut document);
    for item in document.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.post, &mut item.patch, &mut item.put, &mut item.delete];
        for operation in operations.into_iter().flatten() {
            list_problem_codes(operation);
        }
    }
    document
}

/// `Page_KitIssue` and the other pages: utoipa 5 copies the item's schema
/// into each page (juhaku/utoipa#1586); they refer to it by name instead.
fn refer_to_page_items(document: &mut utoipa::openapi::OpenApi) {
    let Some(components) = document.components.as_mut() else { return };
    let known: Vec<String> = components.schemas.keys().cloned().collect();
    for (name, schema) in components.schemas.iter_mut() {
        let Some(item) = name.strip_prefix("Page_").filter(|item| known.iter().any(|k| k == item)) else { continue };
        let RefOr::T(Schema::Object(page)) = schema else { continue };
        if let Some(RefOr::T(Schema::Array(items))) = page.properties.get_mut("items") {
            items.items = ArrayItems::RefOrSchema(Box::new(Ref::from_schema_name(item).into()));
        }
    }
}

/// `x-problem-codes`: for each error status an operation documents, the
/// `code`s its problem can carry there (every one is a `ProblemCode`).
/// The integration tests hold every answer to it.
fn list_problem_codes(operation: &mut Operation) {
    let mut by_status = serde_json::Map::new();
    for status in operation.responses.responses.keys() {
        let Ok(status) = status.parse::<u16>() else { continue };
        let codes = problem_codes(operation, status);
        if !codes.is_empty() {
            by_status.insert(status.to_string(), codes.iter().map(|code| code.as_str()).collect());
        }
    }
    operation.extensions.get_or_insert_with(Default::default).insert("x-problem-codes".into(), by_status.into());
}

/// The codes an operation's problem can carry at a status: the status's
/// own, narrowed by what the operation takes, and the codes of the rules
/// only some operations have.
fn problem_codes(operation: &Operation, status: u16) -> Vec<Code> {
    let id = operation.operation_id.as_deref().unwrap_or_default();
    let takes = |name: &str| operation.parameters.iter().flatten().any(|p| p.name == name);
    let has_query = operation.parameters.iter().flatten().any(|p| p.parameter_in == ParameterIn::Query);
    let has_body = operation.request_body.is_some();
    let mut codes = Vec::new();
    match status {
        400 => {
            codes.push(Code::BadRequest);
            if has_query {
                codes.push(Code::InvalidQuery);
            }
            if takes("cursor") {
                codes.push(Code::InvalidCursor);
            }
            if has_body {
                codes.extend([Code::MalformedJson, Code::UnreadableBody]);
            }
        }
        401 => match id {
            "sign_in" => codes.extend([Code::InvalidCredentials, Code::AccountInactive]),
            "refresh_tokens" => codes.extend([
                Code::InvalidRefreshToken,
                Code::RefreshTokenExpired,
                Code::RefreshTokenReused,
                Code::SessionEnded,
                Code::AccountInactive,
            ]),
            _ => codes.extend([
                Code::MissingToken,
                Code::InvalidToken,
                Code::TokenExpired,
                Code::SessionEnded,
                Code::AccountInactive,
            ]),
        },
        403 => {
            codes.push(Code::Forbidden);
            match id {
                "create_kit_issue" | "create_reversal" | "update_kit_issue" => codes.push(Code::CertificateRequired),
                "create_certificate" => codes.extend([Code::CertificateRequired, Code::SelfCertification]),
                _ => {}
            }
        }
        404 => codes.push(Code::NotFound),
        409 => codes.extend(match id {
            "create_kit_issue" | "create_reversal" | "create_training" => &[Code::IdConflict][..],
            "update_kit_issue" => &[Code::Voided, Code::InsufficientStock],
            "update_reversal" | "update_training" => &[Code::Voided],
            "release_kit_issue" | "release_reversal" | "release_training" => &[Code::Voided, Code::StillHeld],
            "create_user" | "update_user" => &[Code::EmailTaken],
            "create_product" => &[Code::NameTaken],
            "create_stock_movement" => &[Code::InsufficientStock],
            "get_certificate_token" => &[Code::CertificateNotValid],
            _ => &[],
        }),
        412 => codes.push(Code::PreconditionFailed),
        413 => codes.push(Code::PayloadTooLarge),
        415 => codes.push(Code::UnsupportedMediaType),
        422 => codes.extend([Code::ValidationFailed, Code::InvalidReference, Code::ConstraintViolated]),
        429 => codes.push(if id == "sign_in" { Code::LoginThrottled } else { Code::RateLimited }),
        500 => codes.push(Code::InternalError),
        503 => codes.push(Code::Unavailable),
        _ => {}
    }
    codes
}

/// The document as committed: pretty JSON with a final newline.
pub fn document() -> String {
    let mut text = openapi().to_pretty_json().expect("the OpenAPI document serialises");
    text.push('\n');
    text
}
