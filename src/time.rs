//! Times are stored as UTC without a zone and shown as RFC 3339 with `Z`.

/// `#[serde(with = "crate::time::utc")]` for a stored `NaiveDateTime`.
pub mod utc {
    use chrono::NaiveDateTime;
    use serde::{Serialize, Serializer};

    pub fn serialize<S: Serializer>(value: &NaiveDateTime, serializer: S) -> Result<S::Ok, S::Error> {
        value.and_utc().serialize(serializer)
    }
}

/// The same for an optional time.
pub mod utc_option {
    use chrono::NaiveDateTime;
    use serde::{Serialize, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<NaiveDateTime>, serializer: S) -> Result<S::Ok, S::Error> {
        value.map(|v| v.and_utc()).serialize(serializer)
    }
}
