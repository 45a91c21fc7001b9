//! Error answers: `application/problem+json` (RFC 9457) with a stable
//! machine-readable `code`. Every domain error is given its status here,
//! in one place; the few problems only HTTP can have (a body too large, a
//! wrong method) are made here too.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::{ToResponse, ToSchema};

use crate::domain::error::{Code, Error, FieldError, RecordRef};

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
    pub code: Code,
    /// Present on `validation_failed`: one entry per invalid field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(nullable = false)]
    pub errors: Vec<FieldError>,
}

/// An error answer, ready to be rendered.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status} {code}: {detail}")]
pub struct ApiError {
    status: StatusCode,
    code: Code,
    detail: String,
    errors: Vec<FieldError>,
    retry_after_seconds: Option<u64>,
    /// A record the problem is about, sent as `Location`.
    location: Option<String>,
}

/// Where a stored record is read.
pub fn record_url(record: &RecordRef) -> String {
    match record {
        RecordRef::KitIssue(id) => format!("/api/v1/kit-issues/{id}"),
        RecordRef::Reversal(id) => format!("/api/v1/reversals/{id}"),
        RecordRef::Training(id) => format!("/api/v1/trainings/{id}"),
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: Code, detail: impl Into<String>) -> Self {
        Self { status, code, detail: detail.into(), errors: Vec::new(), retry_after_seconds: None, location: None }
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            Code::PayloadTooLarge,
            format!("the body is over the limit of {limit} bytes"),
        )
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, Code::UnsupportedMediaType, "send the body as application/json")
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> Code {
        self.code
    }

    pub fn problem(&self) -> Problem {
        Problem {
            problem_type: "about:blank".to_owned(),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code,
            errors: self.errors.clone(),
        }
    }

    /// The problem as the field errors of one item of a batch: its own
    /// field errors, or one entry with no field naming the problem.
    pub fn item_errors(&self) -> Vec<FieldError> {
        if self.errors.is_empty() {
            vec![FieldError::new("", self.code.as_str(), self.detail.clone())]
        } else {
            self.errors.clone()
        }
    }
}

/// Each domain error's status, code and words: the one place they are given.
impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        let code = error.code();
        match error {
            Error::BadRequest { detail, .. } => Self::new(StatusCode::BAD_REQUEST, code, detail),
            Error::Unauthenticated { detail, .. } => Self::new(StatusCode::UNAUTHORIZED, code, detail),
            Error::Forbidden { detail, .. } => Self::new(StatusCode::FORBIDDEN, code, detail),
            Error::NotFound(what) => Self::new(StatusCode::NOT_FOUND, code, format!("no such {what}")),
            Error::Conflict { detail, .. } => Self::new(StatusCode::CONFLICT, code, detail),
            Error::IdConflict(record) => {
                let location = record_url(&record);
                let detail =
                    format!("a different record already has this id: {location}; give the new record a new id");
                Self { location: Some(location), ..Self::new(StatusCode::CONFLICT, code, detail) }
            }
            Error::StillHeld(reasons) => {
                let errors = reasons.into_reasons().into_iter().map(FieldError::from).collect();
                let detail = "the record is still held: correct what `errors` names, then release it again";
                Self { errors, ..Self::new(StatusCode::CONFLICT, code, detail) }
            }
            Error::PreconditionFailed => Self::new(
                StatusCode::PRECONDITION_FAILED,
                code,
                "the record changed since you read it: read it again, then send the change",
            ),
            Error::Invalid(errors) => {
                let detail = match errors.len() {
                    1 => "the request has 1 invalid field".to_owned(),
                    n => format!("the request has {n} invalid fields"),
                };
                Self { errors, ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail) }
            }
            Error::Unprocessable { detail, .. } => Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail),
            Error::Throttled { retry_after_seconds, .. } => {
                let wait = match retry_after_seconds {
                    1 => "1 second".to_owned(),
                    n => format!("{n} seconds"),
                };
                let detail = match code {
                    Code::LoginThrottled => format!(
                        "too many sign-in attempts; try again in {wait}, or ask a coordinator or an admin to unlock the account"
                    ),
                    _ => format!("too many attempts; try again in {wait}"),
                };
                Self {
                    retry_after_seconds: Some(retry_after_seconds),
                    ..Self::new(StatusCode::TOO_MANY_REQUESTS, code, detail)
                }
            }
            Error::Unavailable | Error::Contended => Self {
                retry_after_seconds: Some(2),
                ..Self::new(StatusCode::SERVICE_UNAVAILABLE, code, "the service is busy; try again shortly")
            },
            // Logged where it was made; never shown.
            Error::Internal(_) => Self::new(StatusCode::INTERNAL_SERVER_ERROR, code, "an unexpected error occurred"),
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

/// The `If-Match` header a change takes, documented once.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct IfMatchParam {
    /// The version (`ETag`) the change was made on. If the record has
    /// changed since, the answer is 412 `precondition_failed` and nothing
    /// changes; without it the change applies to the record as it stands
    /// after any other (last writer wins, each change whole).
    #[param(rename = "If-Match", required = false, value_type = String)]
    pub if_match: Option<String>,
}

/// Reusable OpenAPI responses, so every operation documents its errors the same way.
pub mod responses {
    use super::*;

    /// The request is malformed: bad JSON, bad query parameters or an unknown field.
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct BadRequest(#[allow(dead_code)] Problem);

    /// No valid access token (missing, malformed, expired, of a session that ended, or of a deactivated account).
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

    /// The record changed since the version named in `If-Match` was read: read it again. Do not retry unchanged.
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct PreconditionFailed(#[allow(dead_code)] Problem);

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

    /// Too many attempts; retry after the number of seconds in `Retry-After`, which `detail` also gives.
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
    use crate::model::ids::KitIssueId;

    #[test]
    fn retryable_errors_carry_retry_after() {
        let response = ApiError::from(Error::throttled(Code::LoginThrottled, 30)).error_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "30");
        assert_eq!(response.headers().get(header::CONTENT_TYPE).unwrap(), PROBLEM_JSON);
        let problem = ApiError::from(Error::throttled(Code::LoginThrottled, 30)).problem();
        assert!(problem.detail.contains("try again in 30 seconds"), "{}", problem.detail);
        let busy = ApiError::from(Error::Unavailable).error_response();
        assert_eq!(
            (busy.status(), busy.headers().get(header::RETRY_AFTER).unwrap().to_str().unwrap()),
            (StatusCode::SERVICE_UNAVAILABLE, "2")
        );
    }

    #[test]
    fn a_reused_id_names_the_stored_record() {
        let id = KitIssueId::new_v7();
        let error = ApiError::from(Error::IdConflict(RecordRef::KitIssue(id.clone())));
        let response = error.error_response();
        let location = format!("/api/v1/kit-issues/{id}");
        assert_eq!(
            (response.status(), response.headers().get(header::LOCATION).unwrap().to_str().unwrap()),
            (StatusCode::CONFLICT, location.as_str())
        );
        assert!(error.problem().detail.contains(&location));
        assert_eq!(error.problem().code, Code::IdConflict);
    }

    #[test]
    fn invalid_fields_are_listed_and_counted() {
        let problem =
            ApiError::from(Error::invalid(vec![FieldError::new("a", "x", "y"), FieldError::new("b", "x", "y")]))
                .problem();
        assert_eq!(
            (problem.status, problem.detail.as_str(), problem.errors.len()),
            (422, "the request has 2 invalid fields", 2)
        );
    }
}
