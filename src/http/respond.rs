//! Answers that say where a new record is.

use actix_web::http::header;
use actix_web::HttpResponse;
use serde::Serialize;

use crate::domain::records::Submission;

/// 201 with the new record and its URL in `Location`.
pub fn created<T: Serialize>(url: String, record: &T) -> HttpResponse {
    HttpResponse::Created().insert_header((header::LOCATION, url)).json(record)
}

/// A submission that carries its own id: 201 with its URL for a new
/// record, or 200 with the stored one for a resend.
pub fn submission<T: Serialize>(outcome: Submission<T>, url_of: impl Fn(&T) -> String) -> HttpResponse {
    match outcome {
        Submission::Created(record) => created(url_of(&record), &record),
        Submission::Duplicate(record) => HttpResponse::Ok().json(record),
    }
}
