//! SQLite takes one writer at a time and every commit waits for the disk.
//! Writes that arrive together are run one after another by a single
//! writer thread, each in a savepoint of its own (so each is still all or
//! nothing), and committed together: one disk sync answers them all, and
//! no caller hears "stored" before that sync.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;

use super::connection::{DbConnection, Pool};
use super::error::Error;
use super::transaction::{begin_write, end_write, savepoint};

/// The most writes one commit carries.
const MOST_PER_COMMIT: usize = 64;

/// Given the commit's outcome, answers the caller.
type Answer = Box<dyn FnOnce(bool) + Send>;
/// A write: run on the writer's connection (or refused, given none), it
/// leaves behind how to answer its caller.
type Job = Box<dyn FnOnce(Option<&mut DbConnection>) -> Answer + Send>;

pub struct GroupCommitter {
    jobs: mpsc::Sender<Job>,
}

impl GroupCommitter {
    pub fn start(pool: Pool) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new().name("sqlite-writer".into()).spawn(move || write_loop(&pool, &queue))?;
        Ok(Self { jobs })
    }

    /// Runs `work` in its own savepoint and answers once it is committed.
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        let (reply, answer) = futures_channel::oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let outcome = match conn {
                Some(conn) => savepoint(conn, work),
                None => Err(Error::Busy.into()),
            };
            Box::new(move |committed| {
                let _ = reply.send(if committed { outcome } else { outcome.and(Err(Error::Busy.into())) });
            })
        });
        self.jobs.send(job).map_err(|_| Error::Busy)?;
        answer.await.map_err(|_| Error::Fault("the SQLite writer stopped".into()))?
    }
}

fn write_loop(pool: &Pool, queue: &mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MOST_PER_COMMIT {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut conn = match pool.get() {
            Ok(conn) => conn,
            Err(error) => {
                tracing::warn!(%error, "no database connection for the writer");
                batch.into_iter().for_each(|job| job(None)(false));
                continue;
            }
        };
        if let Err(error) = begin_write(&mut conn) {
            tracing::warn!(%error, "could not begin a write");
            batch.into_iter().for_each(|job| job(None)(false));
            continue;
        }
        // A write that panics leaves its savepoint in doubt: the whole commit is abandoned.
        let ran =
            catch_unwind(AssertUnwindSafe(|| batch.into_iter().map(|job| job(Some(&mut conn))).collect::<Vec<_>>()));
        let (answers, committed) = match ran {
            Ok(answers) => {
                let committed = end_write(&mut conn, true);
                (answers, committed)
            }
            Err(_) => {
                tracing::error!("a write panicked; its commit is abandoned");
                end_write(&mut conn, false);
                (Vec::new(), false)
            }
        };
        answers.into_iter().for_each(|answer| answer(committed));
    }
}
