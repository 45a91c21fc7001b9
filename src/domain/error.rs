//! What can go wrong, in the domain's words: not allowed, not found, at
//! odds with what is stored, invalid fields, busy. There is no HTTP here:
//! `http::problem` gives each kind its status, in one place.

use serde::Serialize;
use utoipa::ToSchema;

use crate::model::ids::{KitIssueId, ReversalId, TrainingId};
use crate::model::records::{HeldReason, HeldReasons};

crate::text_enum! {
    /// Every stable, machine-readable problem code an answer can carry.
    /// Each operation lists those it can answer, by status, in
    /// `x-problem-codes`.
    #[schema(as = ProblemCode)]
    pub enum Code {
        // The request itself.
        BadRequest = "bad_request",
        InvalidQuery = "invalid_query",
        InvalidCursor = "invalid_cursor",
        MalformedJson = "malformed_json",
        UnreadableBody = "unreadable_body",
        PayloadTooLarge = "payload_too_large",
        UnsupportedMediaType = "unsupported_media_type",
        MethodNotAllowed = "method_not_allowed",
        // Who is asking.
        MissingToken = "missing_token",
        InvalidToken = "invalid_token",
        TokenExpired = "token_expired",
        InvalidCredentials = "invalid_credentials",
        AccountInactive = "account_inactive",
        InvalidRefreshToken = "invalid_refresh_token",
        RefreshTokenExpired = "refresh_token_expired",
        RefreshTokenReused = "refresh_token_reused",
        SessionEnded = "session_ended",
        // What they may do.
        Forbidden = "forbidden",
        CertificateRequired = "certificate_required",
        SelfCertification = "self_certification",
        NotFound = "not_found",
        // What is stored.
        IdConflict = "id_conflict",
        EmailTaken = "email_taken",
        NameTaken = "name_taken",
        Voided = "voided",
        InsufficientStock = "insufficient_stock",
        CertificateNotValid = "certificate_not_valid",
        PreconditionFailed = "precondition_failed",
        StillHeld = "still_held",
        // What was sent.
        ValidationFailed = "validation_failed",
        InvalidReference = "invalid_reference",
        ConstraintViolated = "constraint_violated",
        // Try again later.
        LoginThrottled = "login_throttled",
        RateLimited = "rate_limited",
        Unavailable = "unavailable",
        InternalError = "internal_error",
    }
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

/// A reason a record would be held, as a field error: how a correction's
/// refusal or a failed release names it.
impl From<HeldReason> for FieldError {
    fn from(reason: HeldReason) -> Self {
        Self::new(reason.field.unwrap_or_default(), reason.code.as_str(), reason.message)
    }
}

/// A stored record a problem is about (a reused id names the one stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordRef {
    KitIssue(KitIssueId),
    Reversal(ReversalId),
    Training(TrainingId),
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The request cannot be read: a query parameter, a cursor, the body.
    #[error("{code}: {detail}")]
    BadRequest { code: Code, detail: String },
    /// Not signed in, or the credentials are no good.
    #[error("{code}: {detail}")]
    Unauthenticated { code: Code, detail: String },
    /// Signed in, but the caller may not do this.
    #[error("{code}: {detail}")]
    Forbidden { code: Code, detail: String },
    /// No such record, or not one the caller may see.
    #[error("no such {0}")]
    NotFound(&'static str),
    /// At odds with what is stored; sending it again unchanged will not help.
    #[error("{code}: {detail}")]
    Conflict { code: Code, detail: String },
    /// The record changed since the client read it (its `If-Match` names another version).
    #[error("the record changed since it was read")]
    PreconditionFailed,
    /// A held record cannot be released: these rules still stand in its way.
    #[error("still held: {} reason(s)", .0.reasons().len())]
    StillHeld(HeldReasons),
    /// Another record already has the id a client made for a new one.
    #[error("a different record already has this id")]
    IdConflict(RecordRef),
    /// Fields of the request break its rules.
    #[error("{} invalid field(s)", .0.len())]
    Invalid(Vec<FieldError>),
    /// The request names a record that does not exist, or breaks a rule the database keeps.
    #[error("{code}: {detail}")]
    Unprocessable { code: Code, detail: String },
    /// Too many attempts: try again in so many seconds.
    #[error("{code}: retry after {retry_after_seconds} s")]
    Throttled { code: Code, retry_after_seconds: u64 },
    /// The database is busy or unreachable: try again shortly.
    #[error("the service is busy")]
    Unavailable,
    /// Another transaction got in the way of this write: it is tried again
    /// from the start (`domain::transaction`), and answered as busy only if
    /// it keeps happening.
    #[error("another transaction got in the way")]
    Contended,
    /// A fault of ours; the cause is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn bad_query(detail: impl Into<String>) -> Self {
        Error::BadRequest { code: Code::InvalidQuery, detail: detail.into() }
    }

    pub fn unauthenticated(code: Code, detail: impl Into<String>) -> Self {
        Error::Unauthenticated { code, detail: detail.into() }
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Error::Forbidden { code: Code::Forbidden, detail: detail.into() }
    }

    pub fn conflict(code: Code, detail: impl Into<String>) -> Self {
        Error::Conflict { code, detail: detail.into() }
    }

    /// Invalid fields: one entry each.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        Error::Invalid(errors)
    }

    /// One invalid field.
    pub fn invalid_field(field: &str, code: &str, message: &str) -> Self {
        Error::Invalid(vec![FieldError::new(field, code, message)])
    }

    pub fn throttled(code: Code, retry_after_seconds: u64) -> Self {
        Error::Throttled { code, retry_after_seconds: retry_after_seconds.max(1) }
    }

    /// A fault of ours. The cause is logged here, never shown to the client.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Error::Internal(cause.to_string())
    }

    /// The stable code of this problem.
    pub fn code(&self) -> Code {
        match self {
            Error::BadRequest { code, .. }
            | Error::Unauthenticated { code, .. }
            | Error::Forbidden { code, .. }
            | Error::Conflict { code, .. }
            | Error::Unprocessable { code, .. }
            | Error::Throttled { code, .. } => *code,
            Error::NotFound(_) => Code::NotFound,
            Error::IdConflict(_) => Code::IdConflict,
            Error::PreconditionFailed => Code::PreconditionFailed,
            Error::StillHeld(_) => Code::StillHeld,
            Error::Invalid(_) => Code::ValidationFailed,
            Error::Unavailable | Error::Contended => Code::Unavailable,
            Error::Internal(_) => Code::InternalError,
        }
    }

    /// The same error about a nested part of a body: its field names gain `prefix.`.
    pub fn within(self, prefix: &str) -> Self {
        match self {
            Error::Invalid(errors) => Error::Invalid(
                errors
                    .into_iter()
                    .map(|mut error| {
                        error.field = if error.field.is_empty() {
                            prefix.to_owned()
                        } else {
                            format!("{prefix}.{}", error.field)
                        };
                        error
                    })
                    .collect(),
            ),
            other => other,
        }
    }

    /// An error that stops a whole write, not just the record it arose from:
    /// the database failed, or another transaction stored the same id first
    /// (PostgreSQL), and the write is tried again from the start.
    pub fn ends_the_call(&self) -> bool {
        matches!(self, Error::Unavailable | Error::Internal(_)) || self.is_transient()
    }

    /// Another transaction got in the way (see `domain::transaction`):
    /// stored a row with the same key first, or deadlocked with this one.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Contended)
    }
}

impl From<crate::storage::Error> for Error {
    fn from(error: crate::storage::Error) -> Self {
        use crate::storage::Error as Storage;
        match error {
            Storage::NotFound => Error::NotFound("record"),
            // Another transaction stored the same key first: tried again, the
            // write sees its row (and answers as its rules say) or is busy.
            Storage::Duplicate => Error::Contended,
            Storage::MissingReference => Error::Unprocessable {
                code: Code::InvalidReference,
                detail: "the request refers to a record that does not exist".into(),
            },
            Storage::Constraint(message) => Error::Unprocessable { code: Code::ConstraintViolated, detail: message },
            Storage::Busy => Error::Unavailable,
            Storage::Contention => Error::Contended,
            Storage::Fault(cause) => Error::internal(cause),
        }
    }
}

impl From<validator::ValidationErrors> for Error {
    fn from(errors: validator::ValidationErrors) -> Self {
        let mut fields = Vec::new();
        flatten_validation_errors(&errors, "", &mut fields);
        fields.sort_by(|a, b| a.field.cmp(&b.field));
        Error::Invalid(fields)
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
        let error: Error = Sample { name: String::new(), email: "nope".into() }.validate().unwrap_err().into();
        let Error::Invalid(errors) = error else { panic!("not a validation error") };
        assert_eq!(
            errors,
            vec![
                FieldError::new("email", "email", "must be an email address"),
                FieldError::new("name", "length", "must not be empty"),
            ]
        );
    }

    #[test]
    fn nested_errors_name_their_parent() {
        let error = Error::invalid_field("quantity", "range", "must be 1 to 500 kits").within("replacement");
        let Error::Invalid(errors) = error else { panic!("not a validation error") };
        assert_eq!(errors[0].field, "replacement.quantity");
        assert!(Error::Unavailable.ends_the_call());
        assert!(Error::from(crate::storage::Error::Duplicate).ends_the_call());
        assert!(!Error::conflict(Code::EmailTaken, "x").ends_the_call());
    }
}
