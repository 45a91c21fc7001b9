//! Writing the demo data through the same rows as live writes, with its
//! running totals counted by the same code (`domain::stats::counting`).

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::generate::Chunk;
use super::options::FINGERPRINT;
use super::plan::Setup;
use crate::domain::error::Error;
use crate::domain::stats::counting::Tally;
use crate::storage::kit_issues::KitIssueRow;
use crate::storage::reversals::ReversalRow;
use crate::storage::schema::{
    areas, certificates, kit_issues, organisations, reversals, training_attendees, trainings, user_roles, users,
};
use crate::storage::trainings::{AttendeeRow, TrainingRow};
use crate::storage::{DbConnection, ROWS_PER_INSERT};

/// SQLite's page cache while seeding, in KiB: the indexes of a million
/// handouts do not fit in the default 2 MiB, and inserts then crawl.
pub const SEED_SQLITE_CACHE_KIB: i64 = 256 * 1024;
pub const DEFAULT_SQLITE_CACHE_KIB: i64 = 2_000;

pub fn set_sqlite_cache(conn: &mut DbConnection, kib: i64) -> Result<(), Error> {
    if let DbConnection::Sqlite(sqlite) = conn {
        sqlite.batch_execute(&format!("PRAGMA cache_size = -{kib}")).map_err(crate::storage::Error::from)?;
    }
    Ok(())
}

/// Inserts rows many to a statement, as few statements as the database allows.
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {
        for part in $rows.chunks(ROWS_PER_INSERT) {
            crate::on_each_backend!(&mut *$conn, |backend| diesel::insert_into($table).values(part).execute(backend))
                .map_err(crate::storage::Error::from)?;
        }
    };
}

/// The areas, organisations, people, trainings and certificates, and what they count for.
pub fn store_setup(conn: &mut DbConnection, setup: &Setup) -> Result<(), Error> {
    for level in &setup.areas {
        insert_rows!(conn, areas::table, level);
    }
    insert_rows!(conn, organisations::table, setup.organisations);
    insert_rows!(conn, users::table, setup.users);
    insert_rows!(conn, user_roles::table, setup.roles);
    let rows: Vec<TrainingRow> = setup.trainings.iter().map(|t| t.row.clone()).collect();
    insert_rows!(conn, trainings::table, rows);
    let attendees: Vec<AttendeeRow<'_>> = setup
        .trainings
        .iter()
        .flat_map(|t| t.attendees.iter().map(|user_id| AttendeeRow { training_id: &t.row.id, user_id }))
        .collect();
    insert_rows!(conn, training_attendees::table, attendees);
    insert_rows!(conn, certificates::table, setup.certificates);

    let mut tally = Tally::default();
    for training in &setup.trainings {
        tally.training(conn, &training.row, training.attendees.len(), training.certificates, 1)?;
    }
    for certificate in setup.certificates.iter().filter(|c| c.training_id.is_none()) {
        tally.certificate(conn, None, certificate.issued_at.date(), &certificate.organisation_id)?;
    }
    tally.store(conn)
}

/// Whole days of handouts and reports, and what they count for.
pub fn store_chunk(conn: &mut DbConnection, chunk: Chunk) -> Result<(), Error> {
    let mut tally = Tally::default();
    for kit in &chunk.kits {
        tally.kit_issue(conn, kit, 1)?;
    }
    for report in &chunk.reversals {
        tally.reversal(report, 1);
    }
    let fingerprint = || FINGERPRINT.to_owned();
    let kits: Vec<KitIssueRow> = chunk
        .kits
        .into_iter()
        .map(|shown| KitIssueRow { shown, recipient_code_hash: None, request_fingerprint: fingerprint() })
        .collect();
    insert_rows!(conn, kit_issues::table, kits);
    let reports: Vec<ReversalRow> =
        chunk.reversals.into_iter().map(|shown| ReversalRow { shown, request_fingerprint: fingerprint() }).collect();
    insert_rows!(conn, reversals::table, reports);
    tally.store(conn)
}
