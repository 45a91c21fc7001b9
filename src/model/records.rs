//! Where a field record stands, and why a record of something that
//! happened may be held rather than counted.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

crate::text_enum! {
    /// Where a handout, report or session stands.
    pub enum RecordState {
        /// Stored and counted in the statistics (and, for a handout, its kits taken from stock).
        Recorded = "recorded",
        /// Stored but not counted: a rule about the world (a certificate, stock, a batch, the
        /// time, a person's standing) stood in its way. `held_reasons` says which; a coordinator
        /// corrects what is needed and releases it, or voids it.
        Held = "held",
        /// Voided with a reason: still readable, never counted.
        Voided = "voided",
    }
}

crate::text_enum! {
    /// Why a record is held.
    pub enum HeldReasonCode {
        /// The peer had no valid certificate at the time of the handout. Releasing vouches for it.
        CertificateRequired = "certificate_required",
        /// The organisation tracks stock and the handout names no batch.
        BatchRequired = "batch_required",
        /// The batch had expired at the time of the handout.
        BatchExpired = "batch_expired",
        /// The batch had been recalled at the time of the handout.
        BatchRecalled = "batch_recalled",
        /// The peer did not hold enough kits of the batch.
        InsufficientStock = "insufficient_stock",
        /// A kit for a family member or friend, with no consent recorded.
        ConsentNotRecorded = "consent_not_recorded",
        /// A repeat supply for a known recipient, with no reason given.
        RepeatReasonMissing = "repeat_reason_missing",
        /// A reason for a repeat supply on a supply that is not a repeat.
        RepeatReasonNotAllowed = "repeat_reason_not_allowed",
        /// Its time is ahead of the server's clock by more than the grace (the phone's clock is wrong).
        InFuture = "in_future",
        /// An attendee is beyond the reach of the session's organisation.
        AttendeeOutOfReach = "attendee_out_of_reach",
        /// The trainer is no longer an active user with the trainer role.
        TrainerNotActive = "trainer_not_active",
    }
}

/// One reason a record is held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HeldReason {
    pub code: HeldReasonCode,
    /// The field the reason is about, if one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "batch_id")]
    pub field: Option<String>,
    #[schema(example = "this organisation tracks stock: say which batch")]
    pub message: String,
}

impl HeldReason {
    pub fn new(code: HeldReasonCode, field: Option<&str>, message: impl Into<String>) -> Self {
        Self { code, field: field.map(str::to_owned), message: message.into() }
    }
}

/// The reasons a record is held (none when it never was), kept in the
/// database as a JSON array. The text is made once, with the reasons, so
/// that every backend can borrow it when the row is written.
#[derive(Debug, Clone, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct HeldReasons {
    reasons: Vec<HeldReason>,
    stored: String,
}

impl HeldReasons {
    pub fn new(reasons: Vec<HeldReason>) -> Self {
        // A Vec of plain fields always serialises.
        let stored = serde_json::to_string(&reasons).unwrap_or_else(|_| "[]".to_owned());
        Self { reasons, stored }
    }

    pub fn reasons(&self) -> &[HeldReason] {
        &self.reasons
    }

    pub fn into_reasons(self) -> Vec<HeldReason> {
        self.reasons
    }

    pub fn is_empty(&self) -> bool {
        self.reasons.is_empty()
    }

    pub fn has(&self, code: HeldReasonCode) -> bool {
        self.reasons.iter().any(|reason| reason.code == code)
    }
}

impl Default for HeldReasons {
    fn default() -> Self {
        Self::new(Vec::new())
    }
}

impl PartialEq for HeldReasons {
    fn eq(&self, other: &Self) -> bool {
        self.reasons == other.reasons
    }
}

impl Eq for HeldReasons {}

impl Serialize for HeldReasons {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.reasons.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for HeldReasons {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<HeldReason>::deserialize(deserializer).map(Self::new)
    }
}

impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for HeldReasons
where
    DB: diesel::backend::Backend,
    str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, DB>) -> diesel::serialize::Result {
        self.stored.as_str().to_sql(out)
    }
}

impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for HeldReasons
where
    DB: diesel::backend::Backend,
    String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
        let stored = String::from_sql(bytes)?;
        Ok(Self { reasons: serde_json::from_str(&stored)?, stored })
    }
}
