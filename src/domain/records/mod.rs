//! Field records: what peers and trainers record, often offline, with ids
//! their phones make. One lifecycle serves handouts, reversal reports and
//! training sessions alike: created once (a resend is recognised, a reused
//! id refused), listed and read within the caller's scope, corrected by the
//! author within a window or by a coordinator at any time, voided with a
//! reason, every change audited with the record before and after and
//! reflected in the running totals in the same transaction.
//!
//! A record of something that happened is never refused for a rule about
//! the world (a certificate, stock, a batch, the time, a person's
//! standing): it is stored as held, counts for nothing and takes no stock,
//! until a coordinator releases it (the rules are judged again then) or
//! voids it. Only what is wrong with the record itself (it cannot be read,
//! a value is out of range, it names nothing that exists) refuses it.

mod rules;

use chrono::NaiveDateTime;
use serde::Serialize;

pub use rules::{
    ahead_of_clock, check_event_time, check_postcode_district, day_bounds, fingerprint, VoidRequest,
    AUTHOR_CORRECTION_WINDOW,
};

use super::audit::{self, Action};
use super::error::{Code, Error, FieldError, RecordRef};
use super::pagination::{Page, PageRequest};
use super::principal::Principal;
use super::stats::counting::{counting, Tally};
use super::versions::{self, Precondition};
use crate::model::ids::{OrganisationId, UserId};
use crate::model::records::{HeldReasonCode, HeldReasons, RecordState};
use crate::model::roles::Role;
use crate::model::time::now;
use crate::storage::{locks, Database, DbConnection, Visible};

/// What came of a submission that carries its own id.
#[derive(Debug, Clone)]
pub enum Submission<T> {
    /// A new record was stored, and counts.
    Created(T),
    /// A new record was stored as held: it counts once a coordinator releases it.
    Held(T),
    /// The same submission was stored before: nothing new was written.
    Duplicate(T),
}

impl<T> Submission<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Submission<U> {
        match self {
            Submission::Created(record) => Submission::Created(f(record)),
            Submission::Held(record) => Submission::Held(f(record)),
            Submission::Duplicate(record) => Submission::Duplicate(f(record)),
        }
    }

    pub fn into_inner(self) -> T {
        match self {
            Submission::Created(record) | Submission::Held(record) | Submission::Duplicate(record) => record,
        }
    }
}

/// A record already stored under a submission's id: a resend of the same
/// body (the fingerprints match) is a duplicate; anything else is a
/// different record reusing the id.
pub fn resubmission<T>(
    stored: T,
    stored_fingerprint: &str,
    fingerprint: &str,
    named: RecordRef,
) -> Result<Submission<T>, Error> {
    if stored_fingerprint == fingerprint {
        Ok(Submission::Duplicate(stored))
    } else {
        Err(Error::IdConflict(named))
    }
}

/// Whose a record is and when it was made.
pub struct Stamp<'a> {
    pub organisation: &'a OrganisationId,
    /// Who made it: the peer who handed out or reported, or the trainer
    /// and whoever recorded the session for them.
    pub authors: [&'a UserId; 2],
    pub created_at: NaiveDateTime,
    pub state: RecordState,
}

impl Stamp<'_> {
    fn made_by(&self, user: &UserId) -> bool {
        self.authors.contains(&user)
    }
}

/// A kind of field record, as the shared lifecycle needs to know it.
pub trait FieldRecord: Sized + Send + 'static {
    /// How it is shown (and recorded in the audit log).
    type View: Serialize + Send + 'static;
    type Id: Clone + std::fmt::Display + Send + 'static;
    type Patch: Clone + Send + Sync + 'static;
    type Filter: Send + 'static;

    /// In a 404: "no such kit issue".
    const NAME: &'static str;
    /// In the audit log.
    const ENTITY: &'static str;
    /// In a 403 for a caller who may see none: "handouts are seen by …".
    const PLURAL: &'static str;
    /// In a 403 for an author past the window: "the peer may change a handout …".
    const CALLED: &'static str;
    /// Who makes them: peers (handouts, reports) or trainers (sessions).
    const AUTHORS: Role;
    /// Where they are stored, to hold one while it changes.
    const TABLE: locks::Table;

    fn load(conn: &mut DbConnection, id: &Self::Id) -> Result<Option<Self>, Error>;
    fn list(
        conn: &mut DbConnection,
        visible: &Visible,
        filter: &Self::Filter,
        page: &PageRequest,
    ) -> Result<Page<Self::View>, Error>;
    fn view(&self) -> Self::View;
    /// Whose it is and when it was made, as the rules read them.
    fn stamp(&self) -> Stamp<'_>;
    /// Applies a correction, checks the record's rules and stores it, with
    /// whatever follows from it (a handout's stock moves with it).
    fn correct(
        conn: &mut DbConnection,
        principal: &Principal,
        before: &Self,
        patch: Self::Patch,
    ) -> Result<Self, Error>;
    /// Judges a held record again as it now stands, and stores it recorded
    /// if nothing stands in its way any more (a handout then takes its
    /// kits); otherwise `Error::StillHeld` with what still does. Releasing
    /// vouches for what a coordinator can vouch for (a handout's certificate).
    fn release(
        conn: &mut DbConnection,
        principal: &Principal,
        before: &Self,
        at: NaiveDateTime,
        reason: &str,
    ) -> Result<Self, Error>;
    /// Stores the record voided at `at`, with whatever follows from it.
    fn void(
        conn: &mut DbConnection,
        principal: &Principal,
        before: &Self,
        at: NaiveDateTime,
        reason: &str,
    ) -> Result<Self, Error>;
    /// Adds what the record counts for to the running totals (`sign` −1
    /// takes it away; only a recorded record counts for anything).
    fn count(&self, conn: &mut DbConnection, tally: &mut Tally, sign: i64) -> Result<(), Error>;
}

/// Which records of a kind a caller sees: an admin all of them, a
/// coordinator their organisation's, their authors their own.
pub fn visible_to<R: FieldRecord>(principal: &Principal) -> Result<Visible, Error> {
    if principal.is_admin() {
        return Ok(Visible::All);
    }
    match (&principal.organisation_id, principal.has(Role::Coordinator), principal.has(R::AUTHORS)) {
        (Some(organisation), true, _) => Ok(Visible::Organisation(organisation.clone())),
        (_, _, true) => Ok(Visible::Authored(principal.user_id.clone())),
        _ => Err(Error::forbidden(format!("{} are seen by {}s, coordinators and admins", R::PLURAL, R::AUTHORS))),
    }
}

/// Is this record among those `visible`?
pub fn covers<R: FieldRecord>(visible: &Visible, record: &R) -> bool {
    match visible {
        Visible::All => true,
        Visible::Organisation(organisation) => record.stamp().organisation == organisation,
        Visible::Authored(me) => record.stamp().made_by(me),
    }
}

/// A record the caller may see, or "not found" as if it did not exist.
pub fn load_visible<R: FieldRecord>(conn: &mut DbConnection, principal: &Principal, id: &R::Id) -> Result<R, Error> {
    let visible = visible_to::<R>(principal)?;
    R::load(conn, id)?.filter(|record| covers(&visible, record)).ok_or(Error::NotFound(R::NAME))
}

/// A record the caller may change: an admin, a coordinator of its
/// organisation, or its author within the window may. It is held
/// (`storage::locks`) until the transaction ends, so that concurrent
/// changes apply one after another, each to the last; and it must still be
/// the version the client read, if it named one.
fn correctable<R: FieldRecord>(
    conn: &mut DbConnection,
    principal: &Principal,
    id: &R::Id,
    precondition: Option<&Precondition>,
) -> Result<R, Error> {
    locks::row(conn, R::TABLE, &id.to_string())?;
    let record = load_visible::<R>(conn, principal, id)?;
    versions::check(precondition, &record.view())?;
    let stamp = record.stamp();
    let author = stamp.made_by(&principal.user_id) && within_author_window(stamp.created_at, now());
    if !(principal.is_admin() || principal.coordinates(stamp.organisation) || author) {
        return Err(Error::forbidden(format!(
            "the {} may change a {} for 7 days; after that, a coordinator",
            R::AUTHORS,
            R::CALLED
        )));
    }
    Ok(record)
}

/// May the author still change a record made at `created_at`?
pub fn within_author_window(created_at: NaiveDateTime, at: NaiveDateTime) -> bool {
    at - created_at <= AUTHOR_CORRECTION_WINDOW
}

/// Reads one record (voided ones too).
pub async fn get<R: FieldRecord>(db: &Database, principal: Principal, id: R::Id) -> Result<R::View, Error> {
    visible_to::<R>(&principal)?;
    db.run(move |conn| Ok(load_visible::<R>(conn, &principal, &id)?.view())).await
}

/// Lists the records the caller may see.
pub async fn list<R: FieldRecord>(
    db: &Database,
    principal: Principal,
    filter: R::Filter,
    page: PageRequest,
) -> Result<Page<R::View>, Error> {
    let visible = visible_to::<R>(&principal)?;
    db.run(move |conn| R::list(conn, &visible, &filter, &page)).await
}

/// Corrects a record; a voided one can no longer change.
pub async fn correct<R: FieldRecord>(
    db: &Database,
    principal: Principal,
    id: R::Id,
    patch: R::Patch,
    precondition: Option<Precondition>,
) -> Result<R::View, Error> {
    change::<R>(db, principal, id, precondition, Action::Update, move |conn, tally, principal, before| {
        if before.stamp().state == RecordState::Voided {
            return Err(voided());
        }
        let after = R::correct(conn, principal, before, patch.clone())?;
        before.count(conn, tally, -1)?;
        after.count(conn, tally, 1)?;
        Ok(Some(after))
    })
    .await
}

/// Voids a record: it stays readable and stops counting. Voiding again changes nothing.
pub async fn void<R: FieldRecord>(
    db: &Database,
    principal: Principal,
    id: R::Id,
    reason: String,
    precondition: Option<Precondition>,
) -> Result<R::View, Error> {
    change::<R>(db, principal, id, precondition, Action::Void, move |conn, tally, principal, before| {
        if before.stamp().state == RecordState::Voided {
            return Ok(None);
        }
        let after = R::void(conn, principal, before, now(), reason.trim())?;
        before.count(conn, tally, -1)?;
        Ok(Some(after))
    })
    .await
}

/// Releases a held record: a coordinator of its organisation or an admin
/// has looked at it (and corrected what was needed). The rules are judged
/// again; if they now let it through it counts from here, in this
/// transaction. Releasing a recorded record changes nothing.
pub async fn release<R: FieldRecord>(
    db: &Database,
    principal: Principal,
    id: R::Id,
    reason: String,
    precondition: Option<Precondition>,
) -> Result<R::View, Error> {
    change::<R>(db, principal, id, precondition, Action::Release, move |conn, tally, principal, before| {
        if !(principal.is_admin() || principal.coordinates(before.stamp().organisation)) {
            return Err(Error::forbidden(format!(
                "a held {} is released by a coordinator of its organisation or an admin",
                R::CALLED
            )));
        }
        match before.stamp().state {
            RecordState::Recorded => return Ok(None),
            RecordState::Voided => return Err(voided()),
            RecordState::Held => {}
        }
        let after = R::release(conn, principal, before, now(), reason.trim())?;
        after.count(conn, tally, 1)?;
        Ok(Some(after))
    })
    .await
}

/// One change to a stored record, in one transaction: the record as the
/// caller may change it, what `work` makes of it (and of the running
/// totals), and its audit entry. `work` answering `None` changes nothing.
async fn change<R: FieldRecord>(
    db: &Database,
    principal: Principal,
    id: R::Id,
    precondition: Option<Precondition>,
    action: Action,
    work: impl Fn(&mut DbConnection, &mut Tally, &Principal, &R) -> Result<Option<R>, Error> + Clone + Send + 'static,
) -> Result<R::View, Error> {
    super::transaction::write(db, move |conn| {
        counting(conn, |conn, tally| {
            let before = correctable::<R>(conn, &principal, &id, precondition.as_ref())?;
            let Some(after) = work(conn, tally, &principal, &before)? else {
                return Ok(before.view());
            };
            let (before, after) = (before.view(), after.view());
            audit::record(conn, &principal.actor(), action, R::ENTITY, &id.to_string(), Some(&before), &after)?;
            Ok(after)
        })
    })
    .await
}

fn voided() -> Error {
    Error::conflict(Code::Voided, "this record is voided and can no longer change")
}

/// The reasons a correction would leave a record held, as its refusal: a
/// person at a screen can put them right, and the record stands as it was.
pub fn refusal(reasons: HeldReasons) -> Error {
    if let Some(reason) = reasons.reasons().iter().find(|r| r.code == HeldReasonCode::CertificateRequired) {
        return Error::Forbidden { code: Code::CertificateRequired, detail: reason.message.clone() };
    }
    Error::invalid(reasons.into_reasons().into_iter().map(FieldError::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_author_window_is_seven_days() {
        let made = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap().naive_utc();
        assert!(within_author_window(made, made + chrono::Duration::days(7)));
        assert!(!within_author_window(made, made + chrono::Duration::days(7) + chrono::Duration::seconds(1)));
    }
}
