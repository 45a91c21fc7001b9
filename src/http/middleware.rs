//! Cross-cutting request handling: request ids and logs, the headers every
//! answer carries (caching, sniffing, framing, referrers), and a last line
//! of defence that turns any error answer into problem+json.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers, Next};
use actix_web::{HttpMessage, HttpResponse, ResponseError};
use tracing::Instrument;

use super::problem::{ApiError, PROBLEM_JSON};
use crate::domain::error::Code;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served, from `X-Request-Id` or made here.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// An incoming id is kept only if it is short and plain, so that it is
/// safe to log and to echo.
fn acceptable_request_id(value: &HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?;
    let plain = !text.is_empty()
        && text.len() <= 128
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    plain.then(|| text.to_owned())
}

/// Gives every request an id, logs it with its outcome and returns the id
/// in `X-Request-Id`.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(acceptable_request_id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.path());
    let started = Instant::now();
    let mut response = next.call(req).instrument(span.clone()).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    let status = response.status().as_u16();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| tracing::info!(status, elapsed_ms, "served"));
    Ok(response)
}

/// Frames nothing, loads nothing: an API answer is data, never a page.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// What the vendored Swagger UI page needs, and no more: its own scripts,
/// styles and images (its stylesheet's icons are `data:` images, and it
/// sets inline styles as it renders), and calls to this server (the
/// document, "Try it out"). No inline script, no `eval`, no other origin;
/// never framed.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Whether an answer to `path` must never be stored by a browser or a
/// proxy: every answer under `/api/v1` (signed-in answers hold personal and
/// health-related data, the auth routes hand out tokens, the public check
/// tells about a person), except the API document, which is the same for
/// everyone.
fn must_not_be_stored(path: &str) -> bool {
    path.starts_with("/api/v1/") && path != "/api/v1/openapi.json"
}

fn is_docs(path: &str) -> bool {
    path == "/docs" || path.starts_with("/docs/")
}

/// Headers every answer carries: `X-Content-Type-Options: nosniff`,
/// `Referrer-Policy: no-referrer`, a content security policy that forbids
/// framing (with `X-Frame-Options: DENY` for older browsers), and
/// `Cache-Control: no-store` where [`must_not_be_stored`] says.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let path = req.path().to_owned();
    // Handlers, extractors and `problem_fallback` answer every error as a
    // response, so what comes back here is an answer to dress.
    let mut response = next.call(req).await?.map_into_boxed_body();
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    let policy = if is_docs(&path) { DOCS_CSP } else { API_CSP };
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
    if must_not_be_stored(&path) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}

/// Answers from the framework itself (405 for a wrong method, CORS
/// refusals, …) are rewritten as problem+json; ours already are.
pub fn problem_fallback<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(|response: ServiceResponse<B>| {
        let is_problem = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
        if is_problem {
            return Ok(ErrorHandlerResponse::Response(response.map_into_left_body()));
        }
        let status = response.status();
        let (code, detail) = match status.as_u16() {
            404 => (Code::NotFound, "no such route"),
            405 => (Code::MethodNotAllowed, "this route does not take that method"),
            413 => (Code::PayloadTooLarge, "the body is too large"),
            415 => (Code::UnsupportedMediaType, "send the body as application/json"),
            400..=499 => (Code::BadRequest, "the request was refused"),
            _ => (Code::InternalError, "an unexpected error occurred"),
        };
        let allow = response.headers().get(header::ALLOW).cloned();
        let (request, _) = response.into_parts();
        let mut problem: HttpResponse = ApiError::new(status, code, detail).error_response();
        if let Some(allow) = allow {
            problem.headers_mut().insert(header::ALLOW, allow);
        }
        Ok(ErrorHandlerResponse::Response(ServiceResponse::new(request, problem).map_into_right_body()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_api_document_of_the_api_may_be_stored() {
        for path in ["/api/v1/me", "/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/certificates/verify/X"] {
            assert!(must_not_be_stored(path), "{path}");
        }
        for path in ["/api/v1/openapi.json", "/health", "/docs/", "/.well-known/jwks.json"] {
            assert!(!must_not_be_stored(path), "{path}");
        }
        assert!(is_docs("/docs") && is_docs("/docs/swagger-ui.css") && !is_docs("/docsx"));
    }
}
