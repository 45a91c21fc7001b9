//! Rules every field record follows: a fingerprint that tells a resend from
//! another record reusing an id, when something may have happened, where
//! (a postcode district, never a postcode), how long its author may change
//! it, and why it was voided.

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use validator::Validate;

use crate::domain::error::{Error, FieldError};
use crate::domain::validation::plain_text;
use crate::model::records::{HeldReason, HeldReasonCode};
use crate::model::time::now;
use crate::model::values::PostcodeDistrict;

/// How long the author of a record may correct or void it; coordinators may at any time.
pub const AUTHOR_CORRECTION_WINDOW: Duration = Duration::days(7);

/// A fingerprint of what was submitted, to tell a retry (same body) from a
/// different record that reuses an id. Includes who submitted it. The
/// serialised form of the body feeds it, so renaming or reordering a field
/// of a submitted type changes every fingerprint (tests pin known ones).
pub fn fingerprint<T: Serialize>(submitter_id: &str, body: &T) -> Result<String, Error> {
    let json = serde_json::to_vec(body).map_err(Error::internal)?;
    let mut hasher = Sha256::new();
    hasher.update(submitter_id.as_bytes());
    hasher.update([0]);
    hasher.update(&json);
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// How far ahead of the server's clock a phone's clock may run.
pub const FUTURE_TOLERANCE: Duration = Duration::minutes(5);

/// How far ahead a wrong phone clock (or time-zone setting) may put a
/// time; beyond it, the time is mistyped.
pub const CLOCK_ERROR_LIMIT: Duration = Duration::days(1);

/// When something happened, by the phone's clock, cannot be before 2000
/// or more than a day ahead of the server's clock: either is a mistyped
/// record, which the phone must put right.
pub fn check_event_time(field: &str, at: NaiveDateTime) -> Option<FieldError> {
    let earliest = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default();
    if at > now() + CLOCK_ERROR_LIMIT {
        Some(FieldError::new(field, "in_future", "is more than a day ahead of the server's clock"))
    } else if at < earliest {
        Some(FieldError::new(field, "too_old", "is before 2000"))
    } else {
        None
    }
}

/// A time more than 5 minutes (and at most a day) ahead of the server's
/// clock: the phone's clock is wrong, but the thing happened, so the record
/// is held (a coordinator corrects the time, or releases it once the time
/// has come).
pub fn ahead_of_clock(field: &str, at: NaiveDateTime) -> Option<HeldReason> {
    (at > now() + FUTURE_TOLERANCE).then(|| {
        HeldReason::new(HeldReasonCode::InFuture, Some(field), "is more than 5 minutes ahead of the server's clock")
    })
}

/// Reads a postcode district as typed, or says what is wrong with it.
pub fn check_postcode_district(text: Option<&str>) -> Result<Option<PostcodeDistrict>, FieldError> {
    text.map(PostcodeDistrict::parse)
        .transpose()
        .map_err(|wrong| FieldError::new("postcode_district", wrong.code(), wrong.message()))
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

/// Why a record is voided. Voided records stay readable and stop counting.
// Certificates' revocations, batches' recalls and users' unlocks give their reasons in it too.
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
    fn a_district_is_read_however_typed_and_a_full_postcode_is_refused() {
        assert_eq!(check_postcode_district(Some(" ka1 ")).unwrap().unwrap().as_str(), "KA1");
        assert_eq!(check_postcode_district(None).unwrap(), None);
        assert_eq!(check_postcode_district(Some("KA1 1AA")).unwrap_err().code, "full_postcode");
    }

    #[test]
    fn event_times_before_2000_are_refused_and_far_ahead_are_held() {
        assert!(check_event_time("at", now()).is_none());
        assert!(check_event_time("at", now() + Duration::minutes(6)).is_none());
        assert_eq!(check_event_time("at", now() + Duration::hours(25)).unwrap().code, "in_future");
        let old = chrono::NaiveDate::from_ymd_opt(1999, 12, 31).unwrap().and_hms_opt(0, 0, 0).unwrap();
        assert_eq!(check_event_time("at", old).unwrap().code, "too_old");
        assert!(ahead_of_clock("at", now() + Duration::minutes(4)).is_none());
        let held = ahead_of_clock("at", now() + Duration::minutes(6)).unwrap();
        assert_eq!((held.code, held.field.as_deref()), (HeldReasonCode::InFuture, Some("at")));
    }
}
