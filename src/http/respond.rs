//! Answers that say where a new record is, and which version of a record
//! they carry (`ETag`, for a later `If-Match`).

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, HttpResponseBuilder};
use serde::Serialize;

use super::problem::ApiError;
use crate::domain::error::Error;
use crate::domain::records::Submission;
use crate::domain::versions::etag_of;

/// 201 with the new record and its URL in `Location`.
pub fn created<T: Serialize>(url: String, record: &T) -> HttpResponse {
    HttpResponse::Created().insert_header((header::LOCATION, url)).json(record)
}

/// The record as JSON with its version in `ETag`.
fn versioned<T: Serialize>(mut answer: HttpResponseBuilder, record: &T) -> Result<HttpResponse, ApiError> {
    let body = serde_json::to_vec(record).map_err(Error::internal)?;
    Ok(answer.insert_header((header::ETAG, etag_of(&body))).content_type(mime::APPLICATION_JSON).body(body))
}

/// 200 with a record and its version.
pub fn record<T: Serialize>(record: &T) -> Result<HttpResponse, ApiError> {
    versioned(HttpResponse::Ok(), record)
}

/// A new record (201, or 202 when it is held), its URL and its version.
fn stored_record<T: Serialize>(status: StatusCode, url: String, record: &T) -> Result<HttpResponse, ApiError> {
    let mut answer = HttpResponse::build(status);
    answer.insert_header((header::LOCATION, url));
    versioned(answer, record)
}

/// 201 with a new record, its URL and its version.
pub fn created_record<T: Serialize>(url: String, record: &T) -> Result<HttpResponse, ApiError> {
    stored_record(StatusCode::CREATED, url, record)
}

/// A submission that carries its own id: 201 with its URL for a new
/// record, 202 for a new record stored as held, or 200 with the stored one
/// for a resend; each with its version.
pub fn submission<T: Serialize>(
    outcome: Submission<T>,
    url_of: impl Fn(&T) -> String,
) -> Result<HttpResponse, ApiError> {
    match outcome {
        Submission::Created(record) => stored_record(StatusCode::CREATED, url_of(&record), &record),
        Submission::Held(record) => stored_record(StatusCode::ACCEPTED, url_of(&record), &record),
        Submission::Duplicate(stored) => record(&stored),
    }
}
