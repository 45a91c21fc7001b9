//! Training sessions and who attended them.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::connection::DbConnection;
use super::error::Result;
use super::paging::{paged, Paging, Visible};
use super::schema::{certificates, training_attendees, trainings};
use crate::model::ids::{OrganisationId, TrainingId, UserId};
use crate::model::records::{HeldReasons, RecordState};
use crate::model::trainings::{TrainingKind, TrainingSetting};

/// A session as stored. Its attendees are rows of their own.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = trainings, treat_none_as_null = true)]
pub struct TrainingRow {
    pub id: TrainingId,
    pub trainer_id: UserId,
    pub organisation_id: OrganisationId,
    pub delivered_on: NaiveDate,
    pub kind: TrainingKind,
    pub setting: TrainingSetting,
    pub anonymous_attendees: i32,
    pub kits_handed_out: i32,
    /// Who recorded it (the trainer, or a coordinator for them).
    pub recorded_by: UserId,
    /// Tells a resend from another record reusing the id; never shown.
    pub request_fingerprint: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub voided_at: Option<NaiveDateTime>,
    pub void_reason: Option<String>,
    pub state: RecordState,
    /// Why it is, or was, held: empty for a session that never was.
    pub held_reasons: HeldReasons,
    pub released_at: Option<NaiveDateTime>,
    pub release_reason: Option<String>,
}

/// Someone with an account who attended a session.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = training_attendees)]
pub struct AttendeeRow<'a> {
    pub training_id: &'a TrainingId,
    pub user_id: &'a UserId,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TrainingFilter {
    /// Delivered on or after this date.
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    /// Delivered on or before this date.
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    pub organisation_id: Option<Uuid>,
    pub trainer_id: Option<Uuid>,
    pub kind: Option<TrainingKind>,
    /// true: only voided sessions; false: only standing ones; absent: both.
    pub voided: Option<bool>,
    /// Only records in this state: `held` lists what waits for a coordinator.
    pub state: Option<RecordState>,
}

pub fn find(conn: &mut DbConnection, id: &TrainingId) -> Result<Option<TrainingRow>> {
    Ok(trainings::table.find(id).select(TrainingRow::as_select()).first(conn).optional()?)
}

pub fn insert(conn: &mut DbConnection, row: &TrainingRow) -> Result<()> {
    diesel::insert_into(trainings::table).values(row).execute(conn)?;
    Ok(())
}

pub fn update(conn: &mut DbConnection, row: &TrainingRow) -> Result<()> {
    diesel::update(trainings::table.find(&row.id)).set(row).execute(conn)?;
    Ok(())
}

/// The attendees of some sessions, by session and then user.
pub fn attendees_of(conn: &mut DbConnection, ids: &[&TrainingId]) -> Result<Vec<(TrainingId, UserId)>> {
    Ok(training_attendees::table
        .filter(training_attendees::training_id.eq_any(ids))
        .order((training_attendees::training_id, training_attendees::user_id))
        .select((training_attendees::training_id, training_attendees::user_id))
        .load(conn)?)
}

pub fn attended(conn: &mut DbConnection, training: &TrainingId, user: &UserId) -> Result<bool> {
    Ok(training_attendees::table
        .filter(training_attendees::training_id.eq(training))
        .filter(training_attendees::user_id.eq(user))
        .select(training_attendees::user_id)
        .first::<UserId>(conn)
        .optional()?
        .is_some())
}

pub fn replace_attendees(conn: &mut DbConnection, training: &TrainingId, users: &[&UserId]) -> Result<()> {
    diesel::delete(training_attendees::table.filter(training_attendees::training_id.eq(training))).execute(conn)?;
    for user_id in users {
        diesel::insert_into(training_attendees::table)
            .values(AttendeeRow { training_id: training, user_id })
            .execute(conn)?;
    }
    Ok(())
}

/// How many certificates name a session.
pub fn certificates_issued(conn: &mut DbConnection, training: &TrainingId) -> Result<i64> {
    Ok(certificates::table.filter(certificates::training_id.eq(training)).count().get_result(conn)?)
}

/// A page of sessions.
pub fn list(
    conn: &mut DbConnection,
    visible: &Visible,
    filter: &TrainingFilter,
    paging: Paging<'_>,
) -> Result<Vec<TrainingRow>> {
    let mut query = trainings::table.select(TrainingRow::as_select()).into_boxed();
    match visible {
        Visible::All => {}
        Visible::Organisation(organisation) => query = query.filter(trainings::organisation_id.eq(organisation)),
        Visible::Authored(me) => query = query.filter(trainings::trainer_id.eq(me).or(trainings::recorded_by.eq(me))),
    }
    if let Some(from) = filter.from {
        query = query.filter(trainings::delivered_on.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(trainings::delivered_on.le(to));
    }
    if let Some(organisation) = filter.organisation_id {
        query = query.filter(trainings::organisation_id.eq(organisation.to_string()));
    }
    if let Some(trainer) = filter.trainer_id {
        query = query.filter(trainings::trainer_id.eq(trainer.to_string()));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(trainings::kind.eq(kind));
    }
    match filter.voided {
        Some(true) => query = query.filter(trainings::voided_at.is_not_null()),
        Some(false) => query = query.filter(trainings::voided_at.is_null()),
        None => {}
    }
    if let Some(state) = filter.state {
        query = query.filter(trainings::state.eq(state));
    }
    Ok(paged!(query, trainings::id, paging).load(conn)?)
}

/// When, where and what a session was, for the certificates issued on it.
pub fn session_of(conn: &mut DbConnection, id: &TrainingId) -> Result<(NaiveDate, OrganisationId, TrainingKind)> {
    Ok(trainings::table
        .find(id)
        .select((trainings::delivered_on, trainings::organisation_id, trainings::kind))
        .first(conn)?)
}
