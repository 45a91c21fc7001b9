//! Arbitrary bytes through everything the server does to a request before
//! it touches the database: the strict JSON decoding of `ValidJson`
//! (`domain::decode::decode_json`) and the `validator` rules of every request
//! body, the per-item decoding of a sync batch, the statistics query
//! parser, the access-token check and the small text rules (postcode
//! districts, plain text, e-mail and verification-code normalisation).
//!
//! Beyond "never panics", it checks what the API promises: a body that is
//! refused is refused with a 4xx (400 or 422), never a 5xx; a body that is
//! taken is exactly one well-formed JSON value; a record the server
//! fingerprints re-encodes and decodes to the same JSON; random bytes are
//! never a valid access token.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use naloxone_tracker::domain::auth::tokens::TokenService;
use naloxone_tracker::domain::decode::{self, decode_json};
use naloxone_tracker::domain::{
    areas, auth, certificates, kit_issues, organisations, products, records, reversals, stats, stock, sync, trainings,
    users, validation, Error,
};
use naloxone_tracker::http::problem::ApiError;
use naloxone_tracker::model::stats::Subject;
use naloxone_tracker::model::values::{Email, PostcodeDistrict};
use serde::de::DeserializeOwned;
use serde::Serialize;
use validator::Validate;

/// A refusal must be the client's fault and render as a problem document.
fn assert_client_error(error: &Error, what: &str) {
    let error = ApiError::from(error.clone());
    let status = error.status().as_u16();
    assert!(matches!(status, 400 | 422), "{what}: a refusal answered {status} ({error})");
    let problem = serde_json::to_vec(&error.problem()).expect("a problem serialises");
    assert!(!problem.is_empty());
}

/// What `ValidJson<T>` does to a body: decode strictly, then validate.
fn decode_and_validate<T: DeserializeOwned + Validate>(bytes: &[u8], what: &str) -> Option<T> {
    match decode_json::<T>(bytes) {
        Ok(value) => {
            // A body the server takes must be exactly one JSON value: nothing
            // after it (`{…} xyz`, two bodies in a row) may be ignored.
            assert!(
                serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok(),
                "{what}: accepted a body that is not one well-formed JSON value: {:?}",
                String::from_utf8_lossy(bytes)
            );
            validated(value, what)
        }
        Err(error) => {
            assert_client_error(&error, what);
            None
        }
    }
}

fn validated<T: Validate>(value: T, what: &str) -> Option<T> {
    match value.validate() {
        Ok(()) => Some(value),
        Err(errors) => {
            let error = Error::from(errors);
            assert_eq!(ApiError::from(error.clone()).status().as_u16(), 422, "{what}: validation failure is not a 422");
            assert_client_error(&error, what);
            None
        }
    }
}

/// What the sync endpoint does to one item of a batch.
fn decode_item<T: DeserializeOwned + Validate>(item: &serde_json::value::RawValue, what: &str) -> Option<T> {
    match decode::decode_item::<T>(item) {
        Ok(value) => validated(value, what),
        Err(error) => {
            assert_client_error(&error, what);
            None
        }
    }
}

/// Records whose fingerprint is taken (idempotent resubmission) must
/// re-encode to JSON that decodes to the same record.
fn round_trips<T: Serialize + DeserializeOwned>(value: &T, what: &str) {
    let first = serde_json::to_vec(value).expect("a decoded record serialises");
    let again: T = decode_json(&first).unwrap_or_else(|e| panic!("{what}: its own JSON is refused: {e}"));
    let second = serde_json::to_vec(&again).expect("serialises again");
    assert_eq!(first, second, "{what}: re-decoding changed the record");
}

fn kit_issue_rules(issue: &kit_issues::NewKitIssue) {
    let _ = records::check_postcode_district(issue.postcode_district.as_deref());
    let _ = records::check_event_time("issued_at", issue.issued_at.naive_utc());
}

fn text_rules(text: &str) {
    let _ = validation::plain_text(text);
    let _ = PostcodeDistrict::parse(text);
    let _ = Email::parse(text);
    let _ = certificates::initials(text);
    let _ = certificates::normalise_verification_code(text);
}

fn tokens() -> &'static TokenService {
    static SERVICE: OnceLock<TokenService> = OnceLock::new();
    SERVICE.get_or_init(|| TokenService::new(&[0x5a; 64], 900))
}

fuzz_target!(|bytes: &[u8]| {
    decode_and_validate::<auth::login::LoginRequest>(bytes, "LoginRequest");
    decode_and_validate::<auth::login::RefreshRequest>(bytes, "RefreshRequest");
    decode_and_validate::<users::NewUser>(bytes, "NewUser");
    decode_and_validate::<users::UserPatch>(bytes, "UserPatch");
    decode_and_validate::<areas::NewArea>(bytes, "NewArea");
    decode_and_validate::<areas::AreaPatch>(bytes, "AreaPatch");
    decode_and_validate::<organisations::NewOrganisation>(bytes, "NewOrganisation");
    decode_and_validate::<organisations::OrganisationPatch>(bytes, "OrganisationPatch");
    decode_and_validate::<products::NewProduct>(bytes, "NewProduct");
    decode_and_validate::<certificates::NewCertificate>(bytes, "NewCertificate");
    decode_and_validate::<records::VoidRequest>(bytes, "VoidRequest");
    decode_and_validate::<stock::NewBatch>(bytes, "NewBatch");
    decode_and_validate::<stock::NewMovement>(bytes, "NewMovement");
    decode_and_validate::<kit_issues::KitIssuePatch>(bytes, "KitIssuePatch");
    decode_and_validate::<reversals::ReversalPatch>(bytes, "ReversalPatch");
    decode_and_validate::<trainings::TrainingPatch>(bytes, "TrainingPatch");

    if let Some(issue) = decode_and_validate::<kit_issues::NewKitIssue>(bytes, "NewKitIssue") {
        kit_issue_rules(&issue);
        round_trips(&issue, "NewKitIssue");
    }
    if let Some(report) = decode_and_validate::<reversals::NewReversal>(bytes, "NewReversal") {
        let _ = records::check_postcode_district(report.postcode_district.as_deref());
        let _ = records::check_event_time("occurred_at", report.occurred_at.naive_utc());
        if let Some(kit) = &report.replacement {
            kit_issue_rules(kit);
        }
        round_trips(&report, "NewReversal");
    }
    if let Some(training) = decode_and_validate::<trainings::NewTraining>(bytes, "NewTraining") {
        round_trips(&training, "NewTraining");
    }
    if let Some(batch) = decode_and_validate::<sync::SyncRequest>(bytes, "SyncRequest") {
        for item in &batch.kit_issues {
            if let Some(issue) = decode_item::<kit_issues::NewKitIssue>(item, "sync kit_issues[]") {
                kit_issue_rules(&issue);
            }
        }
        for item in &batch.reversals {
            decode_item::<reversals::NewReversal>(item, "sync reversals[]");
        }
        for item in &batch.trainings {
            decode_item::<trainings::NewTraining>(item, "sync trainings[]");
        }
    }

    // Query strings and header values reach the server as text.
    if let Ok(text) = std::str::from_utf8(bytes) {
        for subject in [Subject::KitIssues, Subject::Reversals, Subject::Trainings] {
            if let Err(error) = stats::Request::parse(subject, text) {
                assert_eq!(ApiError::from(error).status().as_u16(), 400, "stats query {text:?}");
            }
        }
        match tokens().verify_access(text) {
            Ok(user) => panic!("arbitrary text passed as an access token: {user}"),
            Err(error) => assert_eq!(ApiError::from(error).status().as_u16(), 401),
        }
        text_rules(text);
    }
});
