//! Overdose reversal reports as stored. The request fingerprint is kept
//! apart from what is shown.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::connection::DbConnection;
use super::error::Result;
use super::paging::{paged, Paging, Visible};
use super::schema::reversals;
use crate::model::handouts::{AgeBand, Gender};
use crate::model::ids::{AreaId, KitIssueId, OrganisationId, ProductId, ReversalId, UserId};
use crate::model::records::{HeldReason, HeldReasons, RecordState};
use crate::model::reversals::{AdministeredBy, Outcome, Place, YesNoUnknown};
use crate::model::values::PostcodeDistrict;

/// A report as stored and shown. No names: only what happened.
#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = reversals, treat_none_as_null = true)]
pub struct Reversal {
    #[schema(value_type = uuid::Uuid)]
    pub id: ReversalId,
    #[schema(value_type = uuid::Uuid)]
    pub reporter_id: UserId,
    #[schema(value_type = uuid::Uuid)]
    pub organisation_id: OrganisationId,
    /// When, by the phone's clock.
    #[serde(with = "crate::model::time::utc")]
    #[schema(value_type = DateTime<Utc>)]
    pub occurred_at: NaiveDateTime,
    #[schema(value_type = uuid::Uuid)]
    pub area_id: AreaId,
    #[schema(value_type = Option<String>)]
    pub postcode_district: Option<PostcodeDistrict>,
    pub place: Place,
    pub administered_by: AdministeredBy,
    #[schema(value_type = uuid::Uuid)]
    pub product_id: ProductId,
    pub doses: i32,
    pub emergency_services_called: YesNoUnknown,
    pub ambulance_attended: YesNoUnknown,
    pub rescue_breaths_or_cpr: YesNoUnknown,
    pub outcome: Outcome,
    pub age_band: Option<AgeBand>,
    pub gender: Option<Gender>,
    /// The handout whose kit was used, if known.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub kit_issue_id: Option<KitIssueId>,
    /// The kit handed out to replace the one used.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub replacement_kit_issue_id: Option<KitIssueId>,
    /// When the server stored it.
    #[serde(rename = "reported_at", with = "crate::model::time::utc")]
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
#[diesel(table_name = reversals)]
pub struct ReversalRow {
    #[diesel(embed)]
    pub shown: Reversal,
    /// Tells a resend (the same body) from another record reusing the id.
    pub request_fingerprint: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReversalFilter {
    /// Occurred on or after this date (UTC).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    /// Occurred on or before this date (UTC).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    pub reporter_id: Option<Uuid>,
    pub organisation_id: Option<Uuid>,
    pub area_id: Option<Uuid>,
    pub outcome: Option<Outcome>,
    /// true: only voided; false: only standing; absent: both.
    pub voided: Option<bool>,
    /// Only records in this state: `held` lists what waits for a coordinator.
    pub state: Option<RecordState>,
}

pub fn find(conn: &mut DbConnection, id: &ReversalId) -> Result<Option<Reversal>> {
    Ok(reversals::table.find(id).select(Reversal::as_select()).first(conn).optional()?)
}

pub fn find_row(conn: &mut DbConnection, id: &ReversalId) -> Result<Option<ReversalRow>> {
    Ok(reversals::table.find(id).select(ReversalRow::as_select()).first(conn).optional()?)
}

pub fn insert(conn: &mut DbConnection, row: &ReversalRow) -> Result<()> {
    diesel::insert_into(reversals::table).values(row).execute(conn)?;
    Ok(())
}

/// Stores a corrected or voided report (its fingerprint never changes).
pub fn update(conn: &mut DbConnection, report: &Reversal) -> Result<()> {
    diesel::update(reversals::table.find(&report.id)).set(report).execute(conn)?;
    Ok(())
}

/// A page of reports. `occurred` bounds `occurred_at` (from inclusive, to exclusive).
pub fn list(
    conn: &mut DbConnection,
    visible: &Visible,
    filter: &ReversalFilter,
    occurred: (Option<NaiveDateTime>, Option<NaiveDateTime>),
    paging: Paging<'_>,
) -> Result<Vec<Reversal>> {
    let mut query = reversals::table.select(Reversal::as_select()).into_boxed();
    match visible {
        Visible::All => {}
        Visible::Organisation(organisation) => query = query.filter(reversals::organisation_id.eq(organisation)),
        Visible::Authored(me) => query = query.filter(reversals::reporter_id.eq(me)),
    }
    if let Some(start) = occurred.0 {
        query = query.filter(reversals::occurred_at.ge(start));
    }
    if let Some(end) = occurred.1 {
        query = query.filter(reversals::occurred_at.lt(end));
    }
    if let Some(reporter) = filter.reporter_id {
        query = query.filter(reversals::reporter_id.eq(reporter.to_string()));
    }
    if let Some(organisation) = filter.organisation_id {
        query = query.filter(reversals::organisation_id.eq(organisation.to_string()));
    }
    if let Some(area) = filter.area_id {
        query = query.filter(reversals::area_id.eq(area.to_string()));
    }
    if let Some(outcome) = filter.outcome {
        query = query.filter(reversals::outcome.eq(outcome));
    }
    match filter.voided {
        Some(true) => query = query.filter(reversals::voided_at.is_not_null()),
        Some(false) => query = query.filter(reversals::voided_at.is_null()),
        None => {}
    }
    if let Some(state) = filter.state {
        query = query.filter(reversals::state.eq(state));
    }
    Ok(paged!(query, reversals::id, paging).load(conn)?)
}
