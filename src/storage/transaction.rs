//! Transactions: a write takes SQLite's lock at its start, commits or
//! rolls back as one, and savepoints let part of a write fail alone.

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::Connection;

use super::connection::DbConnection;
use super::error::Error;

/// Opens a transaction that intends to write. On SQLite it takes the write
/// lock at BEGIN (BEGIN IMMEDIATE), so two writers queue on the busy
/// timeout instead of one failing when it upgrades a read lock.
pub(super) fn begin_write(conn: &mut DbConnection) -> diesel::QueryResult<()> {
    match conn {
        DbConnection::Sqlite(sqlite) => AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE"),
        DbConnection::Postgresql(_) => DbConnection::begin_transaction(conn),
    }
}

/// Commits (or rolls back) a write; true when it was committed. A failed
/// rollback leaves the connection broken, and the pool drops it.
pub(super) fn end_write(conn: &mut DbConnection, commit: bool) -> bool {
    let committed = commit
        && DbConnection::commit_transaction(conn).map_err(|e| tracing::warn!(error = %e, "commit failed")).is_ok();
    if !committed {
        if let Err(rollback) = DbConnection::rollback_transaction(conn) {
            tracing::error!(error = %rollback, "rollback failed");
        }
    }
    committed
}

/// Runs `work` in one write transaction: all of it is stored or none.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, work: F) -> std::result::Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> std::result::Result<T, E>,
    E: From<Error>,
{
    begin_write(conn).map_err(Error::from)?;
    match work(conn) {
        Ok(value) if end_write(conn, true) => Ok(value),
        Ok(_) => Err(Error::Busy.into()),
        Err(error) => {
            end_write(conn, false);
            Err(error)
        }
    }
}

/// Runs `work` in a write transaction that is always rolled back: what it
/// would have written is seen inside, then undone (an import's dry run).
pub fn rehearsal<T, E, F>(conn: &mut DbConnection, work: F) -> std::result::Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> std::result::Result<T, E>,
    E: From<Error>,
{
    begin_write(conn).map_err(Error::from)?;
    let outcome = work(conn);
    end_write(conn, false);
    outcome
}

/// Runs `work` in a savepoint (or, outside a transaction, a transaction of
/// its own): what it wrote is undone if it fails, and the rest stands.
pub fn savepoint<T, E, F>(conn: &mut DbConnection, work: F) -> std::result::Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> std::result::Result<T, E>,
    E: From<Error>,
{
    conn.transaction(|c| work(c).map_err(Undo::Work)).map_err(|undo| match undo {
        Undo::Work(error) => error,
        Undo::Storage(error) => Error::from(error).into(),
    })
}

/// Why a savepoint was undone: its work failed, or the database did.
enum Undo<E> {
    Work(E),
    Storage(diesel::result::Error),
}

impl<E> From<diesel::result::Error> for Undo<E> {
    fn from(error: diesel::result::Error) -> Self {
        Undo::Storage(error)
    }
}
