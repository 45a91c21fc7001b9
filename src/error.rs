//! The one error type of the API, rendered as `application/problem+json`
//! (RFC 9457) with a stable machine-readable `code`.

use std::borrow::Cow;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::{ToResponse, ToSchema};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem report (RFC 9457). `code` is stable and meant for programs;
/// `title` and `detail` are for people. Clients should retry 429 and 503
/// (after `Retry-After`) and should not retry 400, 401, 403, 404, 409, 413,
/// 415 or 422 unchanged.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the `code` names the kind of problem.
    #[serde(rename = "type")]
    #[schema(example = "about:blank")]
    pub problem_type: String,
    #[schema(example = "Unprocessable Entity")]
    pub title: String,
    #[schema(example = 422)]
    pub status: u16,
    #[schema(example = "the request has 1 invalid field")]
    pub detail: String,
    #[schema(example = "validation_failed")]
    pub code: String,
    /// Present on `validation_failed`: one entry per invalid field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(nullable = false)]
    pub errors: Vec<FieldError>,
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Path of the field in the request body, e.g. `email` or `roles[1]`.
    #[schema(example = "email")]
    pub field: String,
    #[schema(example = "email")]
    pub code: String,
    #[schema(example = "must be an email address")]
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), code: code.into(), message: message.into() }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{status} {code}: {detail}")]
pub struct ApiError {
    status: StatusCode,
    code: Cow<'static, str>,
    detail: String,
    errors: Vec<FieldError>,
    retry_after_seconds: Option<u64>,
    /// A record the problem is about, sent as `Location`.
    location: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: impl Into<Cow<'static, str>>, detail: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            detail: detail.into(),
            errors: Vec::new(),
            retry_after_seconds: None,
            location: None,
        }
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("no such {what}"))
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body is over the limit of {limit} bytes"),
        )
    }

    /// 422 with one entry per invalid field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.len() {
            1 => "the request has 1 invalid field".to_owned(),
            n => format!("the request has {n} invalid fields"),
        };
        Self { errors, ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", detail) }
    }

    /// A 422 for a single field.
    pub fn invalid_field(field: &str, code: &str, message: &str) -> Self {
        Self::validation(vec![FieldError::new(field, code, message)])
    }

    pub fn too_many_requests(code: &'static str, retry_after_seconds: u64) -> Self {
        Self {
            retry_after_seconds: Some(retry_after_seconds.max(1)),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, code, "too many attempts; wait before trying again")
        }
    }

    /// 503: the database is busy or unreachable; the client should retry.
    pub fn unavailable() -> Self {
        Self {
            retry_after_seconds: Some(2),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the service is busy; try again shortly")
        }
    }

    /// A fault of ours. The cause is logged, never shown to the client.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "an unexpected error occurred")
    }

    /// Points the client at a record, in the `Location` header.
    pub fn with_location(self, location: String) -> Self {
        Self { location: Some(location), ..self }
    }

    /// The same error about a nested part of a body: its field names gain `prefix.`.
    pub fn within(mut self, prefix: &str) -> Self {
        for error in &mut self.errors {
            error.field = if error.field.is_empty() { prefix.to_owned() } else { format!("{prefix}.{}", error.field) };
        }
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> &str {
        &self.code
    }

    pub fn problem(&self) -> Problem {
        Problem {
            problem_type: "about:blank".to_owned(),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.to_string(),
            errors: self.errors.clone(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.content_type(PROBLEM_JSON);
        if let Some(seconds) = self.retry_after_seconds {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        if let Some(location) = &self.location {
            response.insert_header((header::LOCATION, location.as_str()));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        response.json(self.problem())
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as Kind, Error};
        match &error {
            Error::NotFound => Self::not_found("record"),
            Error::DatabaseError(Kind::UniqueViolation, _) => {
                Self::conflict("already_exists", "a record with these values already exists")
            }
            Error::DatabaseError(Kind::ForeignKeyViolation, _) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_reference",
                "the request refers to a record that does not exist",
            ),
            Error::DatabaseError(Kind::CheckViolation | Kind::NotNullViolation, info) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "constraint_violated", info.message().to_owned())
            }
            Error::DatabaseError(Kind::SerializationFailure, _) => Self::unavailable(),
            // SQLite reports a writer that waited past the busy timeout as "database is locked".
            Error::DatabaseError(_, info) if info.message().contains("database is locked") => Self::unavailable(),
            _ => Self::internal(error),
        }
    }
}

impl From<validator::ValidationErrors> for ApiError {
    fn from(errors: validator::ValidationErrors) -> Self {
        let mut fields = Vec::new();
        flatten_validation_errors(&errors, "", &mut fields);
        fields.sort_by(|a, b| a.field.cmp(&b.field));
        Self::validation(fields)
    }
}

fn flatten_validation_errors(errors: &validator::ValidationErrors, prefix: &str, out: &mut Vec<FieldError>) {
    use validator::ValidationErrorsKind as Kind;
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() { field.to_string() } else { format!("{prefix}.{field}") };
        match kind {
            Kind::Field(list) => out.extend(list.iter().map(|e| {
                let message = e.message.as_ref().map(ToString::to_string).unwrap_or_else(|| default_message(&e.code));
                FieldError::new(path.clone(), e.code.to_string(), message)
            })),
            Kind::Struct(inner) => flatten_validation_errors(inner, &path, out),
            Kind::List(items) => {
                for (index, inner) in items {
                    flatten_validation_errors(inner, &format!("{path}[{index}]"), out);
                }
            }
        }
    }
}

fn default_message(code: &str) -> String {
    match code {
        "length" => "has a length outside the allowed range".to_owned(),
        "range" => "is outside the allowed range".to_owned(),
        "email" => "must be an email address".to_owned(),
        other => format!("is invalid ({other})"),
    }
}

/// Reusable OpenAPI responses, so every operation documents its errors the same way.
pub mod responses {
    use super::*;

    /// The request is malformed: bad JSON, bad query parameters or an unknown field.
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct BadRequest(#[allow(dead_code)] Problem);

    /// No valid access token (missing, malformed, expired, or the account was deactivated).
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct Unauthorized(#[allow(dead_code)] Problem);

    /// Signed in, but the caller's roles do not allow this.
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct Forbidden(#[allow(dead_code)] Problem);

    /// No such record, or not one the caller may see.
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct NotFound(#[allow(dead_code)] Problem);

    /// The request conflicts with stored data (for example an email already in use). Do not retry unchanged.
    #[derive(ToResponse)]
    #[response(
        content_type = "application/problem+json",
        headers(("Location" = String, description = "For `id_conflict`: the record already stored under that id"))
    )]
    pub struct Conflict(#[allow(dead_code)] Problem);

    /// The body is larger than the configured limit.
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct PayloadTooLarge(#[allow(dead_code)] Problem);

    /// The body is not `application/json`.
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct UnsupportedMediaType(#[allow(dead_code)] Problem);

    /// One or more fields are invalid; `errors` lists them. Do not retry unchanged.
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct Unprocessable(#[allow(dead_code)] Problem);

    /// Too many attempts; retry after the number of seconds in `Retry-After`.
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before retrying")))]
    pub struct TooManyRequests(#[allow(dead_code)] Problem);

    /// The database is busy or unreachable; retry after `Retry-After` seconds.
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before retrying")))]
    pub struct ServiceUnavailable(#[allow(dead_code)] Problem);

    /// An unexpected fault on the server. The details are in the server log under the request id.
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct InternalError(#[allow(dead_code)] Problem);

    /// What any signed-in request can meet.
    #[derive(utoipa::IntoResponses)]
    #[allow(dead_code)]
    pub enum SignedInErrors {
        #[response(status = 401)]
        Unauthorized(#[ref_response] Unauthorized),
        #[response(status = 500)]
        InternalError(#[ref_response] InternalError),
        #[response(status = 503)]
        ServiceUnavailable(#[ref_response] ServiceUnavailable),
    }

    /// What any request with a JSON body can meet, besides its own rules.
    #[derive(utoipa::IntoResponses)]
    #[allow(dead_code)]
    pub enum BodyErrors {
        #[response(status = 400)]
        BadRequest(#[ref_response] BadRequest),
        #[response(status = 413)]
        PayloadTooLarge(#[ref_response] PayloadTooLarge),
        #[response(status = 415)]
        UnsupportedMediaType(#[ref_response] UnsupportedMediaType),
        #[response(status = 422)]
        Unprocessable(#[ref_response] Unprocessable),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use validator::Validate;

    #[derive(Validate)]
    struct Sample {
        #[validate(length(min = 1, message = "must not be empty"))]
        name: String,
        #[validate(email)]
        email: String,
    }

    #[test]
    fn validation_errors_become_sorted_field_errors() {
        let error: ApiError = Sample { name: String::new(), email: "nope".into() }.validate().unwrap_err().into();
        let problem = error.problem();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.code, "validation_failed");
        assert_eq!(
            problem.errors,
            vec![
                FieldError::new("email", "email", "must be an email address"),
                FieldError::new("name", "length", "must not be empty"),
            ]
        );
    }

    #[test]
    fn retryable_errors_carry_retry_after() {
        let response = ApiError::too_many_requests("login_throttled", 30).error_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "30");
        assert_eq!(response.headers().get(header::CONTENT_TYPE).unwrap(), PROBLEM_JSON);
    }
}
