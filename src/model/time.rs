//! Times are stored as UTC without a zone, to the microsecond, and shown
//! as RFC 3339 with `Z`.

/// The current time as stored: UTC, to the microsecond (the precision both
/// backends keep, so a value reads back exactly as it was written).
pub fn now() -> chrono::NaiveDateTime {
    truncate_to_micros(chrono::Utc::now().naive_utc())
}

pub fn truncate_to_micros(t: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
    use chrono::Timelike;
    let micros = t.nanosecond() / 1_000 * 1_000;
    t.with_nanosecond(micros).unwrap_or(t)
}

/// `#[serde(with = "crate::model::time::utc")]` for a stored `NaiveDateTime`.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_times_keep_microseconds() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 1, 2).unwrap().and_hms_nano_opt(3, 4, 5, 123_456_789).unwrap();
        assert_eq!(truncate_to_micros(t).and_utc().timestamp_subsec_nanos(), 123_456_000);
    }
}
