//! Training sessions: who trained whom, where and when. A phone may record
//! one offline: it makes the id, and sending the same record again is harmless.

use std::collections::BTreeSet;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::{Validate, ValidationError};

use super::audit::{self, Action};
use super::error::{Error, FieldError, RecordRef};
use super::pagination::{Page, PageRequest};
use super::principal::Principal;
use super::reach::{Reach, Standing};
use super::records::{self, FieldRecord, Stamp, Submission};
use super::stats::counting::{counting, Tally};
use crate::model::ids::{OrganisationId, TrainingId, UserId};
use crate::model::records::{HeldReason, HeldReasonCode, HeldReasons, RecordState};
use crate::model::roles::Role;
use crate::model::time::now;
pub use crate::model::trainings::{TrainingKind, TrainingSetting};
pub use crate::storage::trainings::TrainingFilter;
use crate::storage::trainings::{self as stored, TrainingRow};
use crate::storage::{locks, organisations, users, Database, DbConnection, Visible};

/// The most attendees one session can list.
const MAX_ATTENDEES: usize = 500;

// A session as shown: its row and its attendees.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Training {
    #[schema(value_type = uuid::Uuid)]
    pub id: TrainingId,
    #[schema(value_type = uuid::Uuid)]
    pub trainer_id: UserId,
    #[schema(value_type = uuid::Uuid)]
    pub organisation_id: OrganisationId,
    #[schema(value_type = String, format = Date, example = "2026-11-20")]
    pub delivered_on: NaiveDate,
    pub kind: TrainingKind,
    pub setting: TrainingSetting,
    /// Registered users who attended.
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub attendee_ids: Vec<UserId>,
    /// People who attended without an account.
    pub anonymous_attendees: i32,
    pub kits_handed_out: i32,
    /// Who recorded it (the trainer, or a coordinator for them).
    #[schema(value_type = uuid::Uuid)]
    pub recorded_by: UserId,
    #[serde(with = "crate::model::time::utc")]
    #[schema(value_type = chrono::DateTime<chrono::Utc>)]
    pub created_at: NaiveDateTime,
    #[serde(with = "crate::model::time::utc")]
    #[schema(value_type = chrono::DateTime<chrono::Utc>)]
    pub updated_at: NaiveDateTime,
    #[serde(with = "crate::model::time::utc_option")]
    #[schema(value_type = Option<chrono::DateTime<chrono::Utc>>)]
    pub voided_at: Option<NaiveDateTime>,
    pub void_reason: Option<String>,
    pub state: RecordState,
    /// Why it is, or was, held: empty for a session that never was.
    #[schema(value_type = Vec<HeldReason>)]
    pub held_reasons: HeldReasons,
    /// When a coordinator released it from being held.
    #[serde(with = "crate::model::time::utc_option")]
    #[schema(value_type = Option<chrono::DateTime<chrono::Utc>>)]
    pub released_at: Option<NaiveDateTime>,
    /// Why they did.
    pub release_reason: Option<String>,
}

/// A stored session and its attendees: what the lifecycle works on.
#[derive(Debug, Clone)]
pub struct Session {
    pub row: TrainingRow,
    /// Sorted, each once.
    pub attendees: Vec<UserId>,
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
// Its serialised form feeds the fingerprint: a field renamed or moved changes it.
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
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
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

/// Stored sessions with their attendees, in the order given.
fn with_attendees(conn: &mut DbConnection, rows: Vec<TrainingRow>) -> Result<Vec<Session>, Error> {
    let ids: Vec<&TrainingId> = rows.iter().map(|r| &r.id).collect();
    let pairs = stored::attendees_of(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let attendees = pairs.iter().filter(|(t, _)| *t == row.id).map(|(_, u)| u.clone()).collect();
            Session { row, attendees }
        })
        .collect())
}

fn load(conn: &mut DbConnection, row: TrainingRow) -> Result<Session, Error> {
    with_attendees(conn, vec![row]).map(|mut sessions| sessions.remove(0))
}

/// Whom a session may list: the reach of its organisation's trainers, or
/// anyone when an admin records or corrects it.
fn reach_for(
    conn: &mut DbConnection,
    principal: &Principal,
    organisation: &OrganisationId,
) -> Result<Option<Reach>, Error> {
    if principal.is_admin() {
        return Ok(None);
    }
    Reach::of(conn, organisation).map(Some)
}

/// Every attendee must be a user (an error otherwise: the record names
/// no one real); one beyond the trainer's reach (`None`: no limit) holds
/// the session.
fn judge_attendees(
    conn: &mut DbConnection,
    people: &[UserId],
    reach: Option<&Reach>,
) -> Result<Vec<HeldReason>, Error> {
    let standings = match reach {
        Some(reach) => reach.standings(conn, people)?,
        None => {
            let list: Vec<&UserId> = people.iter().collect::<BTreeSet<_>>().into_iter().collect();
            let known: BTreeSet<UserId> = users::existing(conn, &list)?.into_iter().collect();
            people
                .iter()
                .map(|person| if known.contains(person) { Standing::InReach } else { Standing::Unknown })
                .collect()
        }
    };
    let unknown: Vec<FieldError> = standings
        .iter()
        .enumerate()
        .filter(|(_, standing)| **standing == Standing::Unknown)
        .map(|(i, _)| FieldError::new(format!("attendee_ids[{i}]"), "not_found", "no such user"))
        .collect();
    if !unknown.is_empty() {
        return Err(Error::invalid(unknown));
    }
    Ok(standings
        .iter()
        .enumerate()
        .filter(|(_, standing)| **standing == Standing::OutOfReach)
        .map(|(i, _)| {
            HeldReason::new(
                HeldReasonCode::AttendeeOutOfReach,
                Some(&format!("attendee_ids[{i}]")),
                "a trainer trains the people of their organisation and of the organisations in its area or beneath it",
            )
        })
        .collect())
}

/// A session's attendees as the phone sent them.
fn people(attendees: &[Uuid]) -> Vec<UserId> {
    attendees.iter().map(|id| UserId::from(*id)).collect()
}

/// Stores a session's attendees, each once.
fn store_attendees(conn: &mut DbConnection, training: &TrainingId, people: &[UserId]) -> Result<(), Error> {
    let list: Vec<&UserId> = people.iter().collect::<BTreeSet<_>>().into_iter().collect();
    Ok(stored::replace_attendees(conn, training, &list)?)
}

/// A session cannot be in the future (a day's grace for the phone's time
/// zone covers a clock that is wrong) or before 2000: a date beyond those
/// is mistyped.
fn check_delivered_on(date: NaiveDate) -> Result<(), Error> {
    let latest = chrono::Utc::now().date_naive() + chrono::Duration::days(1);
    let earliest = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default();
    if date > latest || date < earliest {
        return Err(Error::invalid_field("delivered_on", "out_of_range", "must be a date from 2000 up to today"));
    }
    Ok(())
}

/// The trainer must be a user with the trainer role (naming anyone else is
/// a mistake in the record); one deactivated since holds the session.
fn trainer_standing(trainer: &crate::storage::users::Account) -> Result<Option<HeldReason>, Error> {
    if !trainer.roles.contains(&Role::Trainer) {
        return Err(Error::invalid_field("trainer_id", "not_a_trainer", "no user with the trainer role"));
    }
    Ok((!trainer.row.active).then(|| {
        HeldReason::new(HeldReasonCode::TrainerNotActive, Some("trainer_id"), "the trainer's account is deactivated")
    }))
}

/// What holds a stored session now: its trainer's standing and its
/// attendees, judged within the reach of whoever corrects or releases it.
fn standing(
    conn: &mut DbConnection,
    principal: &Principal,
    row: &TrainingRow,
    attendees: &[UserId],
) -> Result<Vec<HeldReason>, Error> {
    let trainer = users::find_account(conn, &row.trainer_id)?
        .ok_or_else(|| Error::internal("a stored session's trainer is missing"))?;
    let mut reasons: Vec<HeldReason> = trainer_standing(&trainer)?.into_iter().collect();
    let reach = reach_for(conn, principal, &row.organisation_id)?;
    reasons.extend(judge_attendees(conn, attendees, reach.as_ref())?);
    Ok(reasons)
}

/// Records a session, or recognises a resubmission of one.
pub fn submit(
    conn: &mut DbConnection,
    tally: &mut Tally,
    principal: &Principal,
    new: NewTraining,
) -> Result<Submission<Training>, Error> {
    principal.require_any(&[Role::Trainer, Role::Coordinator, Role::Admin])?;
    let id = TrainingId::from(new.id);
    let fingerprint = records::fingerprint(principal.user_id.as_str(), &new)?;
    if let Some(existing) = stored::find(conn, &id)? {
        let stored_fingerprint = existing.request_fingerprint.clone();
        let view = load(conn, existing)?.view();
        return records::resubmission(view, &stored_fingerprint, &fingerprint, RecordRef::Training(id));
    }
    check_delivered_on(new.delivered_on)?;
    let trainer_id = new.trainer_id.map_or_else(|| principal.user_id.clone(), UserId::from);
    let trainer = users::find_account(conn, &trainer_id)?
        .ok_or_else(|| Error::invalid_field("trainer_id", "not_found", "no such user"))?;
    let coordinator_of_trainer = principal.has(Role::Coordinator)
        && principal.organisation_id.is_some()
        && trainer.row.organisation_id == principal.organisation_id;
    if trainer_id != principal.user_id && !principal.is_admin() && !coordinator_of_trainer {
        return Err(Error::forbidden("a coordinator records sessions only for trainers of their own organisation"));
    }
    let organisation_id = match (new.organisation_id.map(OrganisationId::from), trainer.row.organisation_id.clone()) {
        (Some(asked), Some(own)) if asked != own && !principal.is_admin() => {
            return Err(Error::invalid_field(
                "organisation_id",
                "not_trainers",
                "a session belongs to its trainer's organisation",
            ))
        }
        (Some(asked), _) => asked,
        (None, Some(own)) => own,
        (None, None) => {
            return Err(Error::invalid_field(
                "organisation_id",
                "required",
                "the trainer has no organisation: give one",
            ))
        }
    };
    if !organisations::exists(conn, &organisation_id)? {
        return Err(Error::invalid_field("organisation_id", "not_found", "no such organisation"));
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
        state: RecordState::Recorded,
        held_reasons: HeldReasons::default(),
        released_at: None,
        release_reason: None,
    };
    let reach = reach_for(conn, principal, &row.organisation_id)?;
    let people = people(&new.attendee_ids);
    let mut reasons: Vec<HeldReason> = trainer_standing(&trainer)?.into_iter().collect();
    reasons.extend(judge_attendees(conn, &people, reach.as_ref())?);
    let held = !reasons.is_empty();
    let row = if held {
        TrainingRow { state: RecordState::Held, held_reasons: HeldReasons::new(reasons), ..row }
    } else {
        row
    };
    stored::insert(conn, &row)?;
    store_attendees(conn, &id, &people)?;
    let session = load(conn, row)?;
    session.count(conn, tally, 1)?;
    let training = session.view();
    audit::record(conn, &principal.actor(), Action::Create, Session::ENTITY, id.as_str(), None, &training)?;
    Ok(if held { Submission::Held(training) } else { Submission::Created(training) })
}

/// Records a training session.
pub async fn create(db: &Database, principal: Principal, new: NewTraining) -> Result<Submission<Training>, Error> {
    super::transaction::write(db, move |conn| {
        counting(conn, |conn, tally| submit(conn, tally, &principal, new.clone()))
    })
    .await
}

impl FieldRecord for Session {
    type View = Training;
    type Id = TrainingId;
    type Patch = TrainingPatch;
    type Filter = TrainingFilter;
    const NAME: &'static str = "training";
    const ENTITY: &'static str = "training";
    const PLURAL: &'static str = "trainings";
    const CALLED: &'static str = "session";
    const TABLE: locks::Table = locks::Table::Trainings;
    const AUTHORS: Role = Role::Trainer;

    fn load(conn: &mut DbConnection, id: &TrainingId) -> Result<Option<Self>, Error> {
        stored::find(conn, id)?.map(|row| load(conn, row)).transpose()
    }

    fn list(
        conn: &mut DbConnection,
        visible: &Visible,
        filter: &TrainingFilter,
        page: &PageRequest,
    ) -> Result<Page<Training>, Error> {
        let rows = stored::list(conn, visible, filter, page.paging())?;
        let page = Page::from_rows(rows, page, |r| r.id.as_str());
        Ok(Page {
            items: with_attendees(conn, page.items)?.iter().map(Session::view).collect(),
            next_cursor: page.next_cursor,
        })
    }

    fn view(&self) -> Training {
        let row = &self.row;
        Training {
            id: row.id.clone(),
            trainer_id: row.trainer_id.clone(),
            organisation_id: row.organisation_id.clone(),
            delivered_on: row.delivered_on,
            kind: row.kind,
            setting: row.setting,
            attendee_ids: self.attendees.clone(),
            anonymous_attendees: row.anonymous_attendees,
            kits_handed_out: row.kits_handed_out,
            recorded_by: row.recorded_by.clone(),
            created_at: row.created_at,
            updated_at: row.updated_at,
            voided_at: row.voided_at,
            void_reason: row.void_reason.clone(),
            state: row.state,
            held_reasons: row.held_reasons.clone(),
            released_at: row.released_at,
            release_reason: row.release_reason.clone(),
        }
    }

    fn stamp(&self) -> Stamp<'_> {
        Stamp {
            organisation: &self.row.organisation_id,
            authors: [&self.row.trainer_id, &self.row.recorded_by],
            created_at: self.row.created_at,
            state: self.row.state,
        }
    }

    fn correct(
        conn: &mut DbConnection,
        principal: &Principal,
        before: &Self,
        patch: TrainingPatch,
    ) -> Result<Self, Error> {
        let mut row = before.row.clone();
        let attendees = patch.attendee_ids.as_ref().map_or(before.attendees.len(), Vec::len);
        if attendees == 0 && patch.anonymous_attendees.unwrap_or(row.anonymous_attendees) == 0 {
            return Err(Error::invalid_field("attendee_ids", "no_attendees", "a session needs at least one attendee"));
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
        let people = patch.attendee_ids.as_deref().map(people);
        // A held session stays held until it is released, showing what still
        // stands in its way; a recorded one may not be corrected into one
        // that would be held.
        if row.state == RecordState::Held {
            row.held_reasons =
                HeldReasons::new(standing(conn, principal, &row, people.as_ref().unwrap_or(&before.attendees))?);
        } else if let Some(people) = &people {
            let reach = reach_for(conn, principal, &row.organisation_id)?;
            let reasons = judge_attendees(conn, people, reach.as_ref())?;
            if !reasons.is_empty() {
                return Err(records::refusal(HeldReasons::new(reasons)));
            }
        }
        if let Some(people) = &people {
            store_attendees(conn, &row.id, people)?;
        }
        row.updated_at = now();
        stored::update(conn, &row)?;
        load(conn, row)
    }

    /// Its trainer and its attendees are judged again, the attendees
    /// within the reach of whoever releases it.
    fn release(
        conn: &mut DbConnection,
        principal: &Principal,
        before: &Self,
        at: NaiveDateTime,
        reason: &str,
    ) -> Result<Self, Error> {
        let reasons = standing(conn, principal, &before.row, &before.attendees)?;
        if !reasons.is_empty() {
            return Err(Error::StillHeld(HeldReasons::new(reasons)));
        }
        let row = TrainingRow {
            state: RecordState::Recorded,
            released_at: Some(at),
            release_reason: Some(reason.to_owned()),
            updated_at: at,
            ..before.row.clone()
        };
        stored::update(conn, &row)?;
        Ok(Session { row, attendees: before.attendees.clone() })
    }

    fn void(
        conn: &mut DbConnection,
        _: &Principal,
        before: &Self,
        at: NaiveDateTime,
        reason: &str,
    ) -> Result<Self, Error> {
        let row = TrainingRow {
            voided_at: Some(at),
            void_reason: Some(reason.to_owned()),
            updated_at: at,
            state: RecordState::Voided,
            ..before.row.clone()
        };
        stored::update(conn, &row)?;
        Ok(Session { row, attendees: before.attendees.clone() })
    }

    /// Itself, the people at it and the certificates issued on it.
    fn count(&self, conn: &mut DbConnection, tally: &mut Tally, sign: i64) -> Result<(), Error> {
        if self.row.state != RecordState::Recorded {
            return Ok(());
        }
        let certificates = stored::certificates_issued(conn, &self.row.id)?;
        tally.training(conn, &self.row, self.attendees.len(), certificates, sign)
    }
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
