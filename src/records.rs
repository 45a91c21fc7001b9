//! Rules shared by the records peers and trainers submit (trainings now;
//! kit issues and reversals later): client-made ids that make a retried
//! submission harmless, corrections within a window, and voiding.

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::{Principal, Role};
use crate::error::{ApiError, FieldError};
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

/// An error that stops a whole write, not just the record it arose from:
/// the database failed, or another transaction stored the same id first
/// (PostgreSQL), and the write is tried again from the start.
pub fn ends_the_call(error: &ApiError) -> bool {
    error.status().is_server_error() || error.code() == "already_exists"
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
    .with_location(location.to_owned())
}

/// May the author still correct a record made at `created_at`?
pub fn within_author_window(created_at: NaiveDateTime, now: NaiveDateTime) -> bool {
    now - created_at <= AUTHOR_CORRECTION_WINDOW
}

/// How far ahead of the server's clock a phone's clock may run.
pub const FUTURE_TOLERANCE: Duration = Duration::minutes(5);

/// When something happened, by the phone's clock: not more than 5 minutes
/// ahead of the server's, and not before 2000.
pub fn check_event_time(field: &str, at: NaiveDateTime) -> Option<FieldError> {
    let earliest = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default();
    if at > crate::db::now() + FUTURE_TOLERANCE {
        Some(FieldError::new(field, "in_future", "is more than 5 minutes ahead of the server's clock"))
    } else if at < earliest {
        Some(FieldError::new(field, "too_old", "is before 2000"))
    } else {
        None
    }
}

/// A list filter's `from` and `to` dates (UTC, both inclusive) as the
/// instants that bound them: from midnight of `from` to before midnight
/// after `to`.
pub fn day_bounds(
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
) -> (Option<NaiveDateTime>, Option<NaiveDateTime>) {
    let start = from.and_then(|d| d.and_hms_opt(0, 0, 0));
    let end = to.and_then(|d| d.succ_opt()).and_then(|d| d.and_hms_opt(0, 0, 0));
    (start, end)
}

/// A UK postcode district (the outward code: one or two letters, a digit,
/// then an optional letter or digit), never a full postcode.
pub fn check_postcode_district(text: &str) -> Option<FieldError> {
    let field = |code: &str, message: &str| Some(FieldError::new("postcode_district", code, message));
    if text.trim().contains(' ') {
        return field("full_postcode", "give only the district, the part before the space (e.g. KA1)");
    }
    let b = text.as_bytes();
    let letters = b.iter().take_while(|c| c.is_ascii_uppercase()).count();
    let rest = &b[letters.min(b.len())..];
    let valid = (1..=2).contains(&letters)
        && !rest.is_empty()
        && rest.len() <= 2
        && rest[0].is_ascii_digit()
        && rest[1..].iter().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase());
    if valid {
        None
    } else {
        field("format", "must be a postcode district such as KA1, ZE1 or CF10")
    }
}

/// Districts are stored in capitals, however typed.
pub fn normalise_district(text: &str) -> String {
    text.trim().to_ascii_uppercase()
}

/// Whose field records (handouts, reversal reports) a caller sees: a peer
/// their own, a coordinator their organisation's, an admin all.
pub enum PeerScope {
    All,
    Organisation(String),
    Own(String),
}

impl PeerScope {
    /// `what` names the records in the 403 for anyone else.
    pub fn of(principal: &Principal, what: &str) -> Result<Self, ApiError> {
        if principal.is_admin() {
            return Ok(Self::All);
        }
        match (&principal.organisation_id, principal.has(Role::Coordinator), principal.has(Role::Peer)) {
            (Some(organisation), true, _) => Ok(Self::Organisation(organisation.clone())),
            (_, _, true) => Ok(Self::Own(principal.user_id.clone())),
            _ => Err(ApiError::forbidden(format!("{what} are seen by peers, coordinators and admins"))),
        }
    }

    pub fn covers(&self, author_id: &str, organisation_id: &str) -> bool {
        match self {
            Self::All => true,
            Self::Organisation(organisation) => organisation == organisation_id,
            Self::Own(me) => me == author_id,
        }
    }
}

/// An admin, a coordinator of the record's organisation, or its author
/// within the window may change a record.
pub fn may_correct(principal: &Principal, author_id: &str, organisation_id: &str, created_at: NaiveDateTime) -> bool {
    let coordinator = principal.has(Role::Coordinator) && principal.organisation_id.as_deref() == Some(organisation_id);
    let author = author_id == principal.user_id && within_author_window(created_at, crate::db::now());
    principal.is_admin() || coordinator || author
}

/// Why a record is voided. Voided records stay readable and stop counting.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidRequest {
    #[validate(length(max = 500), custom(function = "plain_text"))]
    #[schema(
        example = "entered twice",
        max_length = 500,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
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
    fn postcode_districts_are_outward_codes_only() {
        for good in ["KA1", "ZE1", "CF10", "M1", "EC1A", "W1J"] {
            assert!(check_postcode_district(good).is_none(), "{good}");
        }
        for bad in ["KA", "1KA", "KA1 1AA", "KAB1", "CF100", "", "ka1"] {
            assert!(check_postcode_district(bad).is_some(), "{bad}");
        }
        assert_eq!(check_postcode_district("KA1 1AA").unwrap().code, "full_postcode");
    }

    #[test]
    fn the_author_window_is_seven_days() {
        let made = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap().naive_utc();
        assert!(within_author_window(made, made + Duration::days(7)));
        assert!(!within_author_window(made, made + Duration::days(7) + Duration::seconds(1)));
    }
}
