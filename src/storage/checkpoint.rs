//! SQLite copies committed pages from its write-ahead log back into the
//! database file (a checkpoint). Left to itself it does so inside whichever
//! commit takes the log past 1,000 pages, and the writer (and every write
//! queued behind it) waits for the copy. Here a thread of its own
//! checkpoints four times a second beside the writer (a PASSIVE checkpoint
//! never blocks it), so commits stay short; a commit still checkpoints if
//! the log outgrows `CHECKPOINT_BACKSTOP_PAGES` (set on every connection), so it cannot grow without bound.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use diesel::connection::SimpleConnection;

use super::connection::{DbConnection, Pool};

/// How often the log is copied back.
const INTERVAL: Duration = Duration::from_millis(250);

/// Stops its thread when dropped.
pub struct Checkpointer {
    _stop: mpsc::Sender<()>,
}

impl Checkpointer {
    pub fn start(pool: Pool) -> std::io::Result<Self> {
        let (stop, stopped) = mpsc::channel::<()>();
        std::thread::Builder::new().name("sqlite-checkpoint".into()).spawn(move || {
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                if let Err(error) = checkpoint(&pool) {
                    tracing::warn!(%error, "SQLite checkpoint failed; the next one tries again");
                }
            }
        })?;
        Ok(Self { _stop: stop })
    }
}

fn checkpoint(pool: &Pool) -> anyhow::Result<()> {
    let mut conn = pool.get()?;
    if let DbConnection::Sqlite(sqlite) = &mut *conn {
        sqlite.batch_execute("PRAGMA wal_checkpoint(PASSIVE)")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;

    use crate::storage::{Database, DatabaseTarget, Error};

    #[test]
    fn committed_pages_reach_the_database_file_with_no_commit_copying_them() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("checkpoint.db");
        let db = Database::connect(&DatabaseTarget::parse(&format!("sqlite://{}", file.display())), 2).unwrap();
        db.write_blocking(|conn| {
            let crate::storage::DbConnection::Sqlite(sqlite) = conn else { unreachable!("a SQLite target") };
            // About 2 MB: far past what one page of the file holds.
            sqlite
                .batch_execute(
                    "CREATE TABLE filler (body BLOB); \
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) \
                 INSERT INTO filler SELECT randomblob(4000) FROM n;",
                )
                .map_err(Error::from)
        })
        .unwrap();
        // 500 pages: below the backstop, so only the checkpoint thread moves them.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::fs::metadata(&file).unwrap().len() < 2_000_000 {
            assert!(std::time::Instant::now() < deadline, "the pages stayed in the write-ahead log");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}
