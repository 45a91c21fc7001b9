//! Rules shared by the records peers and trainers submit (trainings now;
//! kit issues and reversals later): client-made ids that make a retried
//! submission harmless, corrections within a window, and voiding.

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use validator::Validate;

use crate::error::ApiError;
use crate::validation::plain_text;

/// How long the author of a record may correct or void it; coordinators may at any time.
pub const AUTHOR_CORRECTION_WINDOW: Duration = Duration::days(7);

/// What came of a submission that carries its own id.
pub enum Submission<T> {
    /// A new record was stored.
    Created(T),
    /// The same submission was stored before: nothing new was written.
    Duplicate(T),
}

impl<T: Serialize> Submission<T> {
    /// 201 with the new record's URL under `collection`, or 200 for a resubmission.
    pub fn into_response(self, collection: &str, id_of: impl Fn(&T) -> &str) -> actix_web::HttpResponse {
        match self {
            Submission::Created(record) => actix_web::HttpResponse::Created()
                .insert_header((actix_web::http::header::LOCATION, format!("{collection}/{}", id_of(&record))))
                .json(record),
            Submission::Duplicate(record) => actix_web::HttpResponse::Ok().json(record),
        }
    }
}

/// A fingerprint of what was submitted, to tell a retry (same body) from a
/// different record that reuses an id. Includes who submitted it.
pub fn fingerprint<T: Serialize>(submitter_id: &str, body: &T) -> Result<String, ApiError> {
    let json = serde_json::to_vec(body).map_err(ApiError::internal)?;
    let mut hasher = Sha256::new();
    hasher.update(submitter_id.as_bytes());
    hasher.update([0]);
    hasher.update(&json);
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The answer to a reused id with a different body: 409, naming the stored record.
pub fn id_conflict(location: &str) -> ApiError {
    ApiError::conflict(
        "id_conflict",
        format!("a different record already has this id: {location}; give the new record a new id"),
    )
}

/// May the author still correct a record made at `created_at`?
pub fn within_author_window(created_at: NaiveDateTime, now: NaiveDateTime) -> bool {
    now - created_at <= AUTHOR_CORRECTION_WINDOW
}

/// Why a record is voided. Voided records stay readable and stop counting.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidRequest {
    #[validate(length(max = 500), custom(function = "plain_text"))]
    #[schema(example = "entered twice")]
    pub reason: String,
}

/// 409 for a change to a voided record.
pub fn already_voided() -> ApiError {
    ApiError::conflict("voided", "this record is voided and can no longer change")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_tell_bodies_and_submitters_apart() {
        let a = fingerprint("u1", &serde_json::json!({"k": 1})).unwrap();
        assert_eq!(a, fingerprint("u1", &serde_json::json!({"k": 1})).unwrap());
        assert_ne!(a, fingerprint("u1", &serde_json::json!({"k": 2})).unwrap());
        assert_ne!(a, fingerprint("u2", &serde_json::json!({"k": 1})).unwrap());
    }

    #[test]
    fn the_author_window_is_seven_days() {
        let made = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap().naive_utc();
        assert!(within_author_window(made, made + Duration::days(7)));
        assert!(!within_author_window(made, made + Duration::days(7) + Duration::seconds(1)));
    }
}
