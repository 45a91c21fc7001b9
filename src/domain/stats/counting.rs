//! What each record adds to the running totals (storage's `stat_cells`):
//! a handout its kits, their doses and its first supplies; a reversal
//! report one report, its outcome and the doses given; a training session
//! itself, the people at it and the certificates issued on it. Live writes
//! and `seed-demo` count through these same functions.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::domain::error::Error;
use crate::model::handouts::Supply;
use crate::model::ids::{OrganisationId, ProductId};
use crate::model::records::RecordState;
use crate::model::reversals::Outcome;
use crate::model::stats::Subject;
use crate::model::trainings::TrainingKind;
use crate::storage::kit_issues::KitIssue;
use crate::storage::reversals::Reversal;
use crate::storage::stat_cells::{Changes, Contribution};
use crate::storage::trainings::TrainingRow;
use crate::storage::{organisations, products, DbConnection};

/// The changes a transaction makes to the totals, with the look-ups they
/// need (a product's doses per kit, an organisation's area) made once.
#[derive(Debug, Default)]
pub struct Tally {
    changes: Changes,
    doses_per_kit: HashMap<ProductId, i64>,
    organisation_areas: HashMap<OrganisationId, String>,
}

impl Tally {
    /// An empty set of changes that shares this one's look-ups: for a part
    /// of the transaction that may yet be rolled back (a sync item).
    pub fn fresh(&self) -> Tally {
        Tally {
            changes: Changes::default(),
            doses_per_kit: self.doses_per_kit.clone(),
            organisation_areas: self.organisation_areas.clone(),
        }
    }

    /// Folds in another part's changes (a sync item that was stored).
    pub fn merge(&mut self, other: Tally) {
        self.changes.merge(other.changes);
        self.doses_per_kit.extend(other.doses_per_kit);
        self.organisation_areas.extend(other.organisation_areas);
    }

    fn doses_per_kit(&mut self, conn: &mut DbConnection, product: &ProductId) -> Result<i64, Error> {
        if let Some(doses) = self.doses_per_kit.get(product) {
            return Ok(*doses);
        }
        let doses = i64::from(products::doses_per_kit(conn, product)?);
        self.doses_per_kit.insert(product.clone(), doses);
        Ok(doses)
    }

    fn organisation_area(&mut self, conn: &mut DbConnection, organisation: &OrganisationId) -> Result<String, Error> {
        if let Some(area) = self.organisation_areas.get(organisation) {
            return Ok(area.clone());
        }
        let area = organisations::area_of(conn, organisation)?.to_string();
        self.organisation_areas.insert(organisation.clone(), area.clone());
        Ok(area)
    }

    /// A handout counts unless voided: its kits, their doses and, for a first supply, its kits as first supplies.
    pub fn kit_issue(&mut self, conn: &mut DbConnection, issue: &KitIssue, sign: i64) -> Result<(), Error> {
        if issue.state != RecordState::Recorded {
            return Ok(());
        }
        let kits = i64::from(issue.quantity);
        let doses = kits * self.doses_per_kit(conn, &issue.product_id)?;
        let first = if issue.supply == Some(Supply::First) { kits } else { 0 };
        self.changes.add(
            Contribution {
                subject: Subject::KitIssues,
                day: issue.issued_at.date(),
                area_id: issue.area_id.as_str(),
                organisation_id: issue.organisation_id.as_str(),
                product_id: issue.product_id.as_str(),
                keys: [
                    issue.setting.as_str(),
                    issue.recipient_type.as_str(),
                    issue.supply.map_or("", Supply::as_str),
                    issue.repeat_reason.map_or("", |r| r.as_str()),
                ],
                counts: [kits, doses, first, 0, 0],
            },
            sign,
        );
        Ok(())
    }

    /// A report counts unless voided: one report, its outcome and the doses given.
    pub fn reversal(&mut self, report: &Reversal, sign: i64) {
        if report.state != RecordState::Recorded {
            return;
        }
        let outcome = |o: Outcome| i64::from(report.outcome == o);
        self.changes.add(
            Contribution {
                subject: Subject::Reversals,
                day: report.occurred_at.date(),
                area_id: report.area_id.as_str(),
                organisation_id: report.organisation_id.as_str(),
                product_id: report.product_id.as_str(),
                keys: [report.outcome.as_str(), report.administered_by.as_str(), report.place.as_str(), ""],
                counts: [
                    1,
                    outcome(Outcome::Survived),
                    outcome(Outcome::Died),
                    outcome(Outcome::Unknown),
                    i64::from(report.doses),
                ],
            },
            sign,
        );
    }

    /// A session counts unless voided: itself, the people at it (`attendees`
    /// with accounts and the anonymous ones) and the certificates issued on it.
    pub fn training(
        &mut self,
        conn: &mut DbConnection,
        session: &TrainingRow,
        attendees: usize,
        certificates_issued: i64,
        sign: i64,
    ) -> Result<(), Error> {
        if session.state != RecordState::Recorded {
            return Ok(());
        }
        let people = attendees as i64 + i64::from(session.anonymous_attendees);
        let counts = [1, people, certificates_issued];
        self.trainings(conn, session.delivered_on, &session.organisation_id, Some(session.kind), counts, sign)
    }

    /// A certificate counts with the session it was issued on, or on the
    /// day it was issued in its organisation when it names none.
    pub fn certificate(
        &mut self,
        conn: &mut DbConnection,
        session: Option<(NaiveDate, &OrganisationId, TrainingKind)>,
        issued_on: NaiveDate,
        organisation: &OrganisationId,
    ) -> Result<(), Error> {
        match session {
            Some((day, organisation, kind)) => self.trainings(conn, day, organisation, Some(kind), [0, 0, 1], 1),
            None => self.trainings(conn, issued_on, organisation, None, [0, 0, 1], 1),
        }
    }

    /// Counts of trainings held by an organisation on a day: sessions,
    /// people trained, certificates issued. The area is the organisation's.
    fn trainings(
        &mut self,
        conn: &mut DbConnection,
        day: NaiveDate,
        organisation: &OrganisationId,
        kind: Option<TrainingKind>,
        [sessions, people, certificates]: [i64; 3],
        sign: i64,
    ) -> Result<(), Error> {
        let area_id = self.organisation_area(conn, organisation)?;
        self.changes.add(
            Contribution {
                subject: Subject::Trainings,
                day,
                area_id: &area_id,
                organisation_id: organisation.as_str(),
                product_id: "",
                keys: [kind.map_or("", TrainingKind::as_str), "", "", ""],
                counts: [sessions, people, certificates, 0, 0],
            },
            sign,
        );
        Ok(())
    }

    /// Stores the changes (in one fixed order, see `stat_cells`).
    pub fn store(self, conn: &mut DbConnection) -> Result<(), Error> {
        Ok(self.changes.store(conn)?)
    }
}

/// Runs `work` with a [`Tally`] and stores what it counted: the way every
/// write that changes counted records ends.
pub fn counting<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection, &mut Tally) -> Result<T, Error>,
) -> Result<T, Error> {
    let mut tally = Tally::default();
    let value = work(conn, &mut tally)?;
    tally.store(conn)?;
    Ok(value)
}
