//! Kit handouts as stored. What a handout's row holds that is never shown
//! (the recipient code's hash, the request fingerprint) is kept apart from
//! what is, so that no answer can carry it by mistake.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::connection::DbConnection;
use super::error::Result;
use super::paging::{paged, Paging, Visible, ROWS_PER_INSERT};
use super::schema::kit_issues;
use crate::model::handouts::{AgeBand, Gender, KitSetting, RecipientType, RepeatReason, Supply};
use crate::model::ids::{AreaId, BatchId, KitIssueId, OrganisationId, ProductId, UserId};
use crate::model::records::{HeldReason, HeldReasonCode, HeldReasons, RecordState};
use crate::model::values::PostcodeDistrict;

/// A handout as stored and shown. The recipient code is kept only as a
/// keyed hash and never shown.
#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = kit_issues, treat_none_as_null = true)]
pub struct KitIssue {
    #[schema(value_type = uuid::Uuid)]
    pub id: KitIssueId,
    /// The peer who handed the kits out.
    #[schema(value_type = uuid::Uuid)]
    pub distributor_id: UserId,
    #[schema(value_type = uuid::Uuid)]
    pub organisation_id: OrganisationId,
    /// When, by the phone's clock.
    #[serde(with = "crate::model::time::utc")]
    #[schema(value_type = DateTime<Utc>)]
    pub issued_at: NaiveDateTime,
    #[schema(value_type = uuid::Uuid)]
    pub area_id: AreaId,
    #[schema(value_type = Option<String>, example = "KA1")]
    pub postcode_district: Option<PostcodeDistrict>,
    pub setting: KitSetting,
    #[schema(value_type = uuid::Uuid)]
    pub product_id: ProductId,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub batch_id: Option<BatchId>,
    /// Number of kits.
    pub quantity: i32,
    pub recipient_type: RecipientType,
    pub consent_recorded: Option<bool>,
    pub supply: Option<Supply>,
    pub repeat_reason: Option<RepeatReason>,
    pub brief_training_given: Option<bool>,
    pub age_band: Option<AgeBand>,
    pub gender: Option<Gender>,
    /// When the server stored it.
    #[serde(rename = "received_at", with = "crate::model::time::utc")]
    #[schema(value_type = DateTime<Utc>)]
    pub created_at: NaiveDateTime,
    #[serde(with = "crate::model::time::utc")]
    #[schema(value_type = DateTime<Utc>)]
    pub updated_at: NaiveDateTime,
    #[serde(with = "crate::model::time::utc_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub voided_at: Option<NaiveDateTime>,
    pub void_reason: Option<String>,
    pub state: RecordState,
    /// Why it is, or was, held: empty for a record that never was.
    #[schema(value_type = Vec<HeldReason>)]
    pub held_reasons: HeldReasons,
    /// When a coordinator released it from being held.
    #[serde(with = "crate::model::time::utc_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub released_at: Option<NaiveDateTime>,
    /// Why they did (a peer's certificate they vouch for, say).
    pub release_reason: Option<String>,
}

/// The whole row: what is shown, and what never is.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = kit_issues)]
pub struct KitIssueRow {
    #[diesel(embed)]
    pub shown: KitIssue,
    /// The keyed hash of the pseudonymous recipient code.
    pub recipient_code_hash: Option<String>,
    /// Tells a resend (the same body) from another record reusing the id.
    pub request_fingerprint: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct KitIssueFilter {
    /// Issued on or after this date (UTC).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    /// Issued on or before this date (UTC).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    pub distributor_id: Option<Uuid>,
    pub organisation_id: Option<Uuid>,
    pub area_id: Option<Uuid>,
    pub setting: Option<KitSetting>,
    pub recipient_type: Option<RecipientType>,
    pub supply: Option<Supply>,
    /// true: only voided; false: only standing; absent: both.
    pub voided: Option<bool>,
    /// Only records in this state: `held` lists what waits for a coordinator.
    pub state: Option<RecordState>,
}

pub fn find(conn: &mut DbConnection, id: &KitIssueId) -> Result<Option<KitIssue>> {
    Ok(kit_issues::table.find(id).select(KitIssue::as_select()).first(conn).optional()?)
}

/// The stored rows among these ids.
pub fn rows_among(conn: &mut DbConnection, ids: &[&KitIssueId]) -> Result<Vec<KitIssueRow>> {
    let mut rows = Vec::new();
    for part in ids.chunks(ROWS_PER_INSERT) {
        rows.extend(kit_issues::table.filter(kit_issues::id.eq_any(part)).select(KitIssueRow::as_select()).load(conn)?);
    }
    Ok(rows)
}

/// SQLite, in-process, reuses one prepared single-row statement (diesel
/// prepares a multi-row INSERT afresh each time); PostgreSQL takes many
/// rows per statement, one round trip for them all.
pub fn insert_all(conn: &mut DbConnection, rows: &[KitIssueRow]) -> Result<()> {
    match conn {
        DbConnection::Sqlite(sqlite) => {
            for row in rows {
                diesel::insert_into(kit_issues::table).values(row).execute(sqlite)?;
            }
        }
        DbConnection::Postgresql(pg) => {
            for part in rows.chunks(ROWS_PER_INSERT) {
                diesel::insert_into(kit_issues::table).values(part).execute(pg)?;
            }
        }
    }
    Ok(())
}

/// Stores a corrected or voided handout (its code hash and fingerprint never change).
pub fn update(conn: &mut DbConnection, issue: &KitIssue) -> Result<()> {
    diesel::update(kit_issues::table.find(&issue.id)).set(issue).execute(conn)?;
    Ok(())
}

/// A page of handouts. `issued` bounds `issued_at` (from inclusive, to exclusive).
pub fn list(
    conn: &mut DbConnection,
    visible: &Visible,
    filter: &KitIssueFilter,
    issued: (Option<NaiveDateTime>, Option<NaiveDateTime>),
    paging: Paging<'_>,
) -> Result<Vec<KitIssue>> {
    let mut query = kit_issues::table.select(KitIssue::as_select()).into_boxed();
    match visible {
        Visible::All => {}
        Visible::Organisation(organisation) => query = query.filter(kit_issues::organisation_id.eq(organisation)),
        Visible::Authored(me) => query = query.filter(kit_issues::distributor_id.eq(me)),
    }
    if let Some(start) = issued.0 {
        query = query.filter(kit_issues::issued_at.ge(start));
    }
    if let Some(end) = issued.1 {
        query = query.filter(kit_issues::issued_at.lt(end));
    }
    if let Some(distributor) = filter.distributor_id {
        query = query.filter(kit_issues::distributor_id.eq(distributor.to_string()));
    }
    if let Some(organisation) = filter.organisation_id {
        query = query.filter(kit_issues::organisation_id.eq(organisation.to_string()));
    }
    if let Some(area) = filter.area_id {
        query = query.filter(kit_issues::area_id.eq(area.to_string()));
    }
    if let Some(setting) = filter.setting {
        query = query.filter(kit_issues::setting.eq(setting));
    }
    if let Some(recipient) = filter.recipient_type {
        query = query.filter(kit_issues::recipient_type.eq(recipient));
    }
    if let Some(supply) = filter.supply {
        query = query.filter(kit_issues::supply.eq(supply));
    }
    match filter.voided {
        Some(true) => query = query.filter(kit_issues::voided_at.is_not_null()),
        Some(false) => query = query.filter(kit_issues::voided_at.is_null()),
        None => {}
    }
    if let Some(state) = filter.state {
        query = query.filter(kit_issues::state.eq(state));
    }
    Ok(paged!(query, kit_issues::id, paging).load(conn)?)
}

/// How many of an organisation's handouts are held for naming no batch.
pub fn held_for_missing_batch(conn: &mut DbConnection, organisation: &OrganisationId) -> Result<i64> {
    // The reasons are JSON this server wrote (compact, `code` first), so
    // the code's text stands in it exactly as matched here.
    let pattern = format!("%\"code\":\"{}\"%", HeldReasonCode::BatchRequired.as_str());
    Ok(kit_issues::table
        .filter(kit_issues::organisation_id.eq(organisation))
        .filter(kit_issues::state.eq(RecordState::Held))
        .filter(kit_issues::held_reasons.like(pattern))
        .count()
        .get_result(conn)?)
}
