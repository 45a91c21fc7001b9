//! Locks for read-modify-write. A change that reads a row, works out the
//! new one and writes it back must not be interleaved with another change
//! to the same row, or one of them is lost. On PostgreSQL the row is read
//! `FOR UPDATE`, which holds it until the transaction ends: concurrent
//! changes then run one after another, each reading the last. On SQLite
//! every write already runs alone (one writer thread, `BEGIN IMMEDIATE`),
//! so there is nothing to add.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::connection::DbConnection;
use super::error::Result;

/// The tables whose rows are changed by reading them first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    KitIssues,
    Reversals,
    Trainings,
    Users,
    Areas,
    Organisations,
    Certificates,
    Batches,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::KitIssues => "kit_issues",
            Table::Reversals => "reversals",
            Table::Trainings => "trainings",
            Table::Users => "users",
            Table::Areas => "areas",
            Table::Organisations => "organisations",
            Table::Certificates => "certificates",
            Table::Batches => "batches",
        }
    }
}

/// Holds the row `id` of `table` until the transaction ends (nothing
/// happens when there is no such row: the caller finds that out itself).
pub fn row(conn: &mut DbConnection, table: Table, id: &str) -> Result<()> {
    if let DbConnection::Postgresql(pg) = conn {
        diesel::sql_query(format!("SELECT 1 FROM {} WHERE id = $1 FOR UPDATE", table.name()))
            .bind::<Text, _>(id)
            .execute(pg)?;
    }
    Ok(())
}

/// Arbitrary number that names the area tree's lock among PostgreSQL's advisory locks.
const AREA_TREE: i64 = 0x6e61_6c6f_7865_0001;

/// Holds the whole area tree until the transaction ends: a parent change
/// is checked against the tree as it stands, and no other parent change
/// can slip in between the check and the write (two areas made each
/// other's parent at once would otherwise both pass).
pub fn area_tree(conn: &mut DbConnection) -> Result<()> {
    if let DbConnection::Postgresql(pg) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)").bind::<BigInt, _>(AREA_TREE).execute(pg)?;
    }
    Ok(())
}
