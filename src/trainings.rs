//! Training sessions: who trained whom, where and when. A phone may record
//! one offline: it makes the id, and sending the same record again is harmless.

use std::collections::BTreeSet;

use actix_web::{web, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::audit::{self, Action};
use crate::auth::{Principal, Role};
use crate::db::{now, DbConnection};
use crate::error::{responses, ApiError, FieldError};
use crate::extract::ValidJson;
use crate::pagination::{ListQuery, Page, PageParams, PageRequest};
use crate::records::{self, Submission, VoidRequest};
use crate::schema::{certificates, training_attendees, trainings, users};
use crate::server::AppState;
use crate::stats::{counting, Pending};

crate::text_enum! {
    pub enum TrainingKind {
        /// Naloxone awareness for anyone.
        Awareness = "awareness",
        /// Qualifies peers to supply kits.
        PeerSupplierCourse = "peer_supplier_course",
        /// Qualifies peer trainers.
        TrainTheTrainer = "train_the_trainer",
        Refresher = "refresher",
    }
}

crate::text_enum! {
    pub enum TrainingSetting {
        Hub = "hub",
        Outreach = "outreach",
        Prison = "prison",
        Hospital = "hospital",
        CommunityVenue = "community_venue",
        Online = "online",
        Other = "other",
    }
}

/// The most attendees one session can list.
const MAX_ATTENDEES: usize = 500;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Training {
    pub id: String,
    pub trainer_id: String,
    pub organisation_id: String,
    #[schema(value_type = String, format = Date, example = "2026-11-20")]
    pub delivered_on: NaiveDate,
    pub kind: TrainingKind,
    pub setting: TrainingSetting,
    /// Registered users who attended.
    pub attendee_ids: Vec<String>,
    /// People who attended without an account.
    pub anonymous_attendees: i32,
    pub kits_handed_out: i32,
    /// Who recorded it (the trainer, or a coordinator for them).
    pub recorded_by: String,
    #[serde(with = "crate::time::utc")]
    #[schema(value_type = chrono::DateTime<chrono::Utc>)]
    pub created_at: NaiveDateTime,
    #[serde(with = "crate::time::utc")]
    #[schema(value_type = chrono::DateTime<chrono::Utc>)]
    pub updated_at: NaiveDateTime,
    #[serde(with = "crate::time::utc_option")]
    #[schema(value_type = Option<chrono::DateTime<chrono::Utc>>)]
    pub voided_at: Option<NaiveDateTime>,
    pub void_reason: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = trainings, treat_none_as_null = true)]
struct TrainingRow {
    id: String,
    trainer_id: String,
    organisation_id: String,
    delivered_on: NaiveDate,
    kind: TrainingKind,
    setting: TrainingSetting,
    anonymous_attendees: i32,
    kits_handed_out: i32,
    recorded_by: String,
    request_fingerprint: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    voided_at: Option<NaiveDateTime>,
    void_reason: Option<String>,
}

impl TrainingRow {
    fn into_api(self, attendee_ids: Vec<String>) -> Training {
        Training {
            id: self.id,
            trainer_id: self.trainer_id,
            organisation_id: self.organisation_id,
            delivered_on: self.delivered_on,
            kind: self.kind,
            setting: self.setting,
            attendee_ids,
            anonymous_attendees: self.anonymous_attendees,
            kits_handed_out: self.kits_handed_out,
            recorded_by: self.recorded_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
            voided_at: self.voided_at,
            void_reason: self.void_reason,
        }
    }
}

fn validate_attendees(ids: &[Uuid]) -> Result<(), ValidationError> {
    if ids.len() > MAX_ATTENDEES {
        return Err(ValidationError::new("length").with_message(format!("at most {MAX_ATTENDEES} attendees").into()));
    }
    Ok(())
}

fn someone_attended(new: &NewTraining) -> Result<(), ValidationError> {
    if new.attendee_ids.is_empty() && new.anonymous_attendees == 0 {
        return Err(ValidationError::new("no_attendees")
            .with_message("list the attendees or give a count of anonymous attendees".into()));
    }
    Ok(())
}

/// A training session as a phone submits it.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[validate(schema(function = "someone_attended", skip_on_field_errors = true))]
pub struct NewTraining {
    /// Made by the client, so that sending the record again is harmless.
    pub id: Uuid,
    /// Defaults to the caller; a coordinator may record for a trainer of their organisation.
    pub trainer_id: Option<Uuid>,
    /// Defaults to the trainer's organisation.
    pub organisation_id: Option<Uuid>,
    #[schema(value_type = String, format = Date, example = "2026-11-20")]
    pub delivered_on: NaiveDate,
    pub kind: TrainingKind,
    pub setting: TrainingSetting,
    #[serde(default)]
    #[validate(custom(function = "validate_attendees"))]
    pub attendee_ids: Vec<Uuid>,
    #[serde(default)]
    #[validate(range(min = 0, max = 10000))]
    #[schema(minimum = 0, maximum = 10000)]
    pub anonymous_attendees: i32,
    #[serde(default)]
    #[validate(range(min = 0, max = 10000))]
    #[schema(minimum = 0, maximum = 10000)]
    pub kits_handed_out: i32,
}

/// Corrections; absent fields stay as they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainingPatch {
    #[schema(value_type = Option<String>, format = Date)]
    pub delivered_on: Option<NaiveDate>,
    pub kind: Option<TrainingKind>,
    pub setting: Option<TrainingSetting>,
    #[validate(custom(function = "validate_attendees"))]
    pub attendee_ids: Option<Vec<Uuid>>,
    #[validate(range(min = 0, max = 10000))]
    #[schema(minimum = 0, maximum = 10000)]
    pub anonymous_attendees: Option<i32>,
    #[validate(range(min = 0, max = 10000))]
    #[schema(minimum = 0, maximum = 10000)]
    pub kits_handed_out: Option<i32>,
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
}

/// Whose trainings a caller sees.
enum Scope {
    All,
    Organisation(String),
    Trainer(String),
}

fn scope_of(principal: &Principal) -> Result<Scope, ApiError> {
    if principal.is_admin() {
        return Ok(Scope::All);
    }
    match (&principal.organisation_id, principal.has(Role::Coordinator), principal.has(Role::Trainer)) {
        (Some(organisation), true, _) => Ok(Scope::Organisation(organisation.clone())),
        (_, _, true) => Ok(Scope::Trainer(principal.user_id.clone())),
        _ => Err(ApiError::forbidden("trainings are seen by trainers, coordinators and admins")),
    }
}

fn in_scope(scope: &Scope, row: &TrainingRow) -> bool {
    match scope {
        Scope::All => true,
        Scope::Organisation(organisation) => &row.organisation_id == organisation,
        Scope::Trainer(trainer) => &row.trainer_id == trainer || &row.recorded_by == trainer,
    }
}

/// Admins and the organisation's coordinators may correct at any time; the
/// trainer (or whoever recorded it) within the author window.
fn may_correct(principal: &Principal, row: &TrainingRow, at: NaiveDateTime) -> bool {
    let coordinator =
        principal.has(Role::Coordinator) && principal.organisation_id.as_deref() == Some(&row.organisation_id);
    let author = row.trainer_id == principal.user_id || row.recorded_by == principal.user_id;
    principal.is_admin() || coordinator || (author && records::within_author_window(row.created_at, at))
}

fn find_row(conn: &mut DbConnection, id: &str) -> Result<Option<TrainingRow>, ApiError> {
    Ok(trainings::table.find(id).select(TrainingRow::as_select()).first(conn).optional()?)
}

fn attendees_of(conn: &mut DbConnection, ids: &[&str]) -> Result<Vec<(String, String)>, ApiError> {
    Ok(training_attendees::table
        .filter(training_attendees::training_id.eq_any(ids))
        .order((training_attendees::training_id, training_attendees::user_id))
        .select((training_attendees::training_id, training_attendees::user_id))
        .load(conn)?)
}

fn with_attendees(conn: &mut DbConnection, rows: Vec<TrainingRow>) -> Result<Vec<Training>, ApiError> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let pairs = attendees_of(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let attendees = pairs.iter().filter(|(t, _)| *t == row.id).map(|(_, u)| u.clone()).collect();
            row.into_api(attendees)
        })
        .collect())
}

fn load(conn: &mut DbConnection, row: TrainingRow) -> Result<Training, ApiError> {
    with_attendees(conn, vec![row]).map(|mut v| v.remove(0))
}

/// Every attendee must be a user; each is stored once.
fn replace_attendees(conn: &mut DbConnection, training_id: &str, attendees: &[Uuid]) -> Result<(), ApiError> {
    let wanted: BTreeSet<String> = attendees.iter().map(Uuid::to_string).collect();
    let list: Vec<&String> = wanted.iter().collect();
    let known: BTreeSet<String> =
        users::table.filter(users::id.eq_any(&list)).select(users::id).load::<String>(conn)?.into_iter().collect();
    let errors: Vec<FieldError> = attendees
        .iter()
        .enumerate()
        .filter(|(_, id)| !known.contains(&id.to_string()))
        .map(|(i, _)| FieldError::new(format!("attendee_ids[{i}]"), "not_found", "no such user"))
        .collect();
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    diesel::delete(training_attendees::table.filter(training_attendees::training_id.eq(training_id))).execute(conn)?;
    for user in &wanted {
        diesel::insert_into(training_attendees::table)
            .values((training_attendees::training_id.eq(training_id), training_attendees::user_id.eq(user)))
            .execute(conn)?;
    }
    Ok(())
}

/// A session cannot be in the future (a day's grace for the phone's time zone) or before 2000.
fn check_delivered_on(date: NaiveDate) -> Result<(), ApiError> {
    let latest = chrono::Utc::now().date_naive() + chrono::Duration::days(1);
    let earliest = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default();
    if date > latest || date < earliest {
        return Err(ApiError::invalid_field("delivered_on", "out_of_range", "must be a date from 2000 up to today"));
    }
    Ok(())
}

/// What a session adds to the statistics: itself, the people at it and
/// the certificates issued on it (nothing, once voided).
fn count(conn: &mut DbConnection, pending: &mut Pending, training: &Training, sign: i64) -> Result<(), ApiError> {
    if training.voided_at.is_some() {
        return Ok(());
    }
    let certificates_issued: i64 =
        certificates::table.filter(certificates::training_id.eq(&training.id)).count().get_result(conn)?;
    let people = training.attendee_ids.len() as i64 + i64::from(training.anonymous_attendees);
    pending.training(
        conn,
        training.delivered_on,
        &training.organisation_id,
        Some(training.kind.as_str()),
        [1, people, certificates_issued],
        sign,
    )
}

/// Records a session, or recognises a resubmission of one.
pub fn submit(
    conn: &mut DbConnection,
    pending: &mut Pending,
    principal: &Principal,
    new: NewTraining,
) -> Result<Submission<Training>, ApiError> {
    principal.require_any(&[Role::Trainer, Role::Coordinator, Role::Admin])?;
    let id = new.id.to_string();
    let fingerprint = records::fingerprint(&principal.user_id, &new)?;
    if let Some(existing) = find_row(conn, &id)? {
        if existing.request_fingerprint != fingerprint {
            return Err(records::id_conflict(&format!("/api/v1/trainings/{id}")));
        }
        return Ok(Submission::Duplicate(load(conn, existing)?));
    }
    check_delivered_on(new.delivered_on)?;
    let trainer_id = new.trainer_id.map_or_else(|| principal.user_id.clone(), |t| t.to_string());
    let trainer = crate::users::find_account(conn, &trainer_id)?
        .filter(|t| t.active && t.roles.contains(&Role::Trainer))
        .ok_or_else(|| {
            ApiError::invalid_field("trainer_id", "not_a_trainer", "no active user with the trainer role")
        })?;
    let coordinator_of_trainer = principal.has(Role::Coordinator)
        && principal.organisation_id.is_some()
        && trainer.organisation_id == principal.organisation_id;
    if trainer_id != principal.user_id && !principal.is_admin() && !coordinator_of_trainer {
        return Err(ApiError::forbidden("a coordinator records sessions only for trainers of their own organisation"));
    }
    let organisation_id = match (new.organisation_id.map(|o| o.to_string()), trainer.organisation_id) {
        (Some(asked), Some(own)) if asked != own && !principal.is_admin() => {
            return Err(ApiError::invalid_field(
                "organisation_id",
                "not_trainers",
                "a session belongs to its trainer's organisation",
            ))
        }
        (Some(asked), _) => asked,
        (None, Some(own)) => own,
        (None, None) => {
            return Err(ApiError::invalid_field(
                "organisation_id",
                "required",
                "the trainer has no organisation: give one",
            ))
        }
    };
    if crate::organisations::find(conn, &organisation_id)?.is_none() {
        return Err(ApiError::invalid_field("organisation_id", "not_found", "no such organisation"));
    }
    let at = now();
    let row = TrainingRow {
        id: id.clone(),
        trainer_id,
        organisation_id,
        delivered_on: new.delivered_on,
        kind: new.kind,
        setting: new.setting,
        anonymous_attendees: new.anonymous_attendees,
        kits_handed_out: new.kits_handed_out,
        recorded_by: principal.user_id.clone(),
        request_fingerprint: fingerprint,
        created_at: at,
        updated_at: at,
        voided_at: None,
        void_reason: None,
    };
    diesel::insert_into(trainings::table).values(&row).execute(conn)?;
    replace_attendees(conn, &id, &new.attendee_ids)?;
    let training = load(conn, row)?;
    count(conn, pending, &training, 1)?;
    audit::record(conn, &principal.actor(), Action::Create, "training", &id, None, &training)?;
    Ok(Submission::Created(training))
}

/// Loads a session the caller may change, or says why not.
fn correctable(conn: &mut DbConnection, principal: &Principal, id: &str) -> Result<TrainingRow, ApiError> {
    let scope = scope_of(principal)?;
    let row = find_row(conn, id)?.filter(|r| in_scope(&scope, r)).ok_or_else(|| ApiError::not_found("training"))?;
    if !may_correct(principal, &row, now()) {
        return Err(ApiError::forbidden("the trainer may change a session for 7 days; after that, a coordinator"));
    }
    Ok(row)
}

fn correct(
    conn: &mut DbConnection,
    pending: &mut Pending,
    principal: &Principal,
    id: &str,
    patch: TrainingPatch,
) -> Result<Training, ApiError> {
    let mut row = correctable(conn, principal, id)?;
    if row.voided_at.is_some() {
        return Err(records::already_voided());
    }
    let before = load(conn, row.clone())?;
    let attendees = patch.attendee_ids.as_ref().map_or(before.attendee_ids.len(), Vec::len);
    if attendees == 0 && patch.anonymous_attendees.unwrap_or(row.anonymous_attendees) == 0 {
        return Err(ApiError::invalid_field("attendee_ids", "no_attendees", "a session needs at least one attendee"));
    }
    if let Some(date) = patch.delivered_on {
        check_delivered_on(date)?;
        row.delivered_on = date;
    }
    if let Some(kind) = patch.kind {
        row.kind = kind;
    }
    if let Some(setting) = patch.setting {
        row.setting = setting;
    }
    if let Some(count) = patch.anonymous_attendees {
        row.anonymous_attendees = count;
    }
    if let Some(kits) = patch.kits_handed_out {
        row.kits_handed_out = kits;
    }
    if let Some(attendees) = &patch.attendee_ids {
        replace_attendees(conn, id, attendees)?;
    }
    row.updated_at = now();
    diesel::update(trainings::table.find(id)).set(&row).execute(conn)?;
    let after = load(conn, row)?;
    count(conn, pending, &before, -1)?;
    count(conn, pending, &after, 1)?;
    audit::record(conn, &principal.actor(), Action::Update, "training", id, Some(&before), &after)?;
    Ok(after)
}

fn void(
    conn: &mut DbConnection,
    pending: &mut Pending,
    principal: &Principal,
    id: &str,
    reason: &str,
) -> Result<Training, ApiError> {
    let row = correctable(conn, principal, id)?;
    if row.voided_at.is_some() {
        return load(conn, row);
    }
    let before = load(conn, row.clone())?;
    let at = now();
    let voided =
        TrainingRow { voided_at: Some(at), void_reason: Some(reason.trim().to_owned()), updated_at: at, ..row };
    diesel::update(trainings::table.find(id)).set(&voided).execute(conn)?;
    let after = load(conn, voided)?;
    count(conn, pending, &before, -1)?;
    audit::record(conn, &principal.actor(), Action::Void, "training", id, Some(&before), &after)?;
    Ok(after)
}

fn list_in_scope(
    conn: &mut DbConnection,
    scope: Scope,
    filter: TrainingFilter,
    page: &PageRequest,
) -> Result<Page<Training>, ApiError> {
    let mut query =
        trainings::table.select(TrainingRow::as_select()).order(trainings::id.asc()).limit(page.limit + 1).into_boxed();
    match scope {
        Scope::All => {}
        Scope::Organisation(organisation) => query = query.filter(trainings::organisation_id.eq(organisation)),
        Scope::Trainer(me) => {
            query = query.filter(trainings::trainer_id.eq(me.clone()).or(trainings::recorded_by.eq(me)))
        }
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
    if let Some(after) = &page.after {
        query = query.filter(trainings::id.gt(after.clone()));
    }
    let rows = query.load(conn)?;
    let page = Page::from_rows(rows, page, |r: &TrainingRow| &r.id);
    Ok(Page { items: with_attendees(conn, page.items)?, next_cursor: page.next_cursor })
}

/// Records a training session. The same id with the same body again
/// answers 200 with the stored session; with another body, 409.
#[utoipa::path(
    post, path = "/api/v1/trainings", tag = "trainings", operation_id = "create_training",
    request_body = NewTraining,
    responses(
        (status = 201, description = "Recorded", body = Training, headers(("Location" = String, description = "The session's URL"))),
        (status = 200, description = "Already recorded: the stored session", body = Training),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<NewTraining>,
) -> Result<HttpResponse, ApiError> {
    let new = body.into_inner();
    let outcome = state
        .db
        .write_retrying_race(move |conn| counting(conn, |conn, pending| submit(conn, pending, &principal, new.clone())))
        .await?;
    Ok(outcome.into_response("/api/v1/trainings", |record| &record.id))
}

/// Lists sessions: a trainer their own, a coordinator their organisation's, an admin all.
#[utoipa::path(
    get, path = "/api/v1/trainings", tag = "trainings", operation_id = "list_trainings",
    params(TrainingFilter, PageParams),
    responses(
        (status = 200, description = "A page of sessions, oldest record first", body = Page<Training>),
        (status = 400, response = responses::BadRequest),
        (status = 403, response = responses::Forbidden),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    query: ListQuery<TrainingFilter>,
) -> Result<HttpResponse, ApiError> {
    let scope = scope_of(&principal)?;
    let ListQuery { filter, page } = query;
    let result = state.db.run(move |conn| list_in_scope(conn, scope, filter, &page)).await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Reads a session (voided ones too).
#[utoipa::path(
    get, path = "/api/v1/trainings/{id}", tag = "trainings", operation_id = "get_training",
    params(("id" = Uuid, Path, description = "Training id")),
    responses(
        (status = 200, description = "The session", body = Training),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn get(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let scope = scope_of(&principal)?;
    let id = id.into_inner().to_string();
    let training = state
        .db
        .run(move |conn| {
            let row =
                find_row(conn, &id)?.filter(|r| in_scope(&scope, r)).ok_or_else(|| ApiError::not_found("training"))?;
            load(conn, row)
        })
        .await?;
    Ok(HttpResponse::Ok().json(training))
}

/// Corrects a session: its trainer within 7 days, a coordinator of its organisation or an admin at any time.
#[utoipa::path(
    patch, path = "/api/v1/trainings/{id}", tag = "trainings", operation_id = "update_training",
    params(("id" = Uuid, Path, description = "Training id")),
    request_body = TrainingPatch,
    responses(
        (status = 200, description = "The corrected session", body = Training),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidJson<TrainingPatch>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    let patch = body.into_inner();
    let training = state
        .db
        .write(move |conn| counting(conn, |conn, pending| correct(conn, pending, &principal, &id, patch)))
        .await?;
    Ok(HttpResponse::Ok().json(training))
}

/// Voids a session: it stays readable and stops counting. Voiding again changes nothing.
#[utoipa::path(
    post, path = "/api/v1/trainings/{id}/void", tag = "trainings", operation_id = "void_training",
    params(("id" = Uuid, Path, description = "Training id")),
    request_body = VoidRequest,
    responses(
        (status = 200, description = "The voided session", body = Training),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn void_handler(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidJson<VoidRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    let reason = body.into_inner().reason;
    let training = state
        .db
        .write(move |conn| counting(conn, |conn, pending| void(conn, pending, &principal, &id, &reason)))
        .await?;
    Ok(HttpResponse::Ok().json(training))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stored session's fingerprint was made from this body's serialised
    /// form: renaming or reordering a field of `NewTraining` would turn a
    /// phone's harmless resend of it into a 409.
    #[test]
    fn the_fingerprint_of_a_known_body_is_pinned() {
        let body = r#"{"id": "7f1c2a9e-3b4d-4e5f-8a6b-1c2d3e4f5a6b", "delivered_on": "2026-11-20",
            "trainer_id": "0194f0a0-0000-7000-8000-0000000000f2", "organisation_id": "0194f0a0-0000-7000-8000-0000000000c1",
            "kind": "peer_supplier_course", "setting": "hub",
            "attendee_ids": ["0194f0a0-0000-7000-8000-0000000000f1"], "anonymous_attendees": 2, "kits_handed_out": 3}"#;
        let new: NewTraining = serde_json::from_str(body).unwrap();
        assert_eq!(
            records::fingerprint("0194f0a0-0000-7000-8000-0000000000f2", &new).unwrap(),
            "c15baccf306ddc699123dc2716c47f6f76eda1db0dcf8780935cf3e9803a7e7d"
        );
        let bare: NewTraining = serde_json::from_str(
            r#"{"id": "7f1c2a9e-3b4d-4e5f-8a6b-1c2d3e4f5a6c", "delivered_on": "2026-11-20", "kind": "awareness",
                "setting": "online", "anonymous_attendees": 12}"#,
        )
        .unwrap();
        assert_eq!(
            records::fingerprint("0194f0a0-0000-7000-8000-0000000000f2", &bare).unwrap(),
            "da955704303d12cbb94f1a14694701b502bd697bf6f6d683e4096bd894ad000d"
        );
    }
}
