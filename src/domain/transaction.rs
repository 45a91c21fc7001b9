//! Writes that another transaction can get in the way of: a deadlock or a
//! serialization failure broken by PostgreSQL, or a race for the same new
//! id lost to another call (PostgreSQL lets two transactions both find it
//! missing; the second insert fails). Each is tried again from the start,
//! a bounded number of times: the next try reads what the other wrote (an
//! id already stored is then a resend, never a conflict). If every try is
//! thwarted, the answer is "busy, try again" (503 with `Retry-After`),
//! never a 409 the client would be told not to retry.

use std::time::Duration;

use super::error::Error;
use crate::storage::{Database, DbConnection};

/// Tries of one write before it gives up as busy.
const TRIES: u32 = 4;

/// Runs `work` in one write transaction (all of it is stored or none), again
/// from the start if another transaction got in its way.
pub async fn write<T, F>(db: &Database, work: F) -> Result<T, Error>
where
    F: Fn(&mut DbConnection) -> Result<T, Error> + Clone + Send + 'static,
    T: Send + 'static,
{
    let mut tries = 1;
    loop {
        match db.write(work.clone()).await {
            Err(error) if error.is_transient() && tries < TRIES => {
                tracing::info!(%error, tries, "write got in another's way; trying again");
                // A little longer each time, so that the other can finish.
                tokio::time::sleep(Duration::from_millis(u64::from(5 * tries))).await;
                tries += 1;
            }
            Err(error) if error.is_transient() => {
                tracing::warn!(%error, tries, "write kept getting in another's way; answering busy");
                return Err(Error::Unavailable);
            }
            other => return other,
        }
    }
}

/// Runs `work` as [`write`] would, then undoes it: what it would store, and nothing stored.
pub async fn rehearse<T, F>(db: &Database, work: F) -> Result<T, Error>
where
    F: FnOnce(&mut DbConnection) -> Result<T, Error> + Send + 'static,
    T: Send + 'static,
{
    db.run(move |conn| crate::storage::rehearsal(conn, work)).await
}
