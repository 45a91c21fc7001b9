//! The database handle every layer above uses: blocking work on the pool,
//! run off the async workers, and writes each in one transaction (on
//! SQLite through the group-committing writer thread).

use diesel::prelude::*;
use diesel::r2d2;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::connection::{self, Backend, ConnectionManager, DatabaseTarget, DbConnection, Pool};
use super::error::{Error, Result};
use super::transaction::write_transaction;
use super::{checkpoint, group_commit};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A backend's migrations, oldest first (`migrations/sqlite`, `migrations/postgres`).
pub fn migrations(backend: Backend) -> EmbeddedMigrations {
    match backend {
        Backend::Sqlite => SQLITE_MIGRATIONS,
        Backend::Postgres => POSTGRES_MIGRATIONS,
    }
}

/// Cheap to clone; handed to every request.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    backend: Backend,
    /// SQLite's writes go through one writer thread that commits them in
    /// groups; PostgreSQL's run on any pooled connection.
    group_commit: Option<std::sync::Arc<group_commit::GroupCommitter>>,
    /// SQLite's checkpoints, off the writer's path.
    _checkpointer: Option<std::sync::Arc<checkpoint::Checkpointer>>,
}

impl Database {
    /// Opens the pool (creating the SQLite file and its folder if needed) and,
    /// on SQLite, the writer and checkpoint threads.
    pub fn connect(target: &DatabaseTarget, pool_size: u32) -> anyhow::Result<Self> {
        let pool = connection::pool(target, pool_size)?;
        let (group_commit, checkpointer) = match target.backend {
            Backend::Sqlite => (
                Some(std::sync::Arc::new(group_commit::GroupCommitter::start(pool.clone())?)),
                Some(std::sync::Arc::new(checkpoint::Checkpointer::start(pool.clone())?)),
            ),
            Backend::Postgres => (None, None),
        };
        Ok(Self { pool, backend: target.backend, group_commit, _checkpointer: checkpointer })
    }

    /// Applies every migration the database has not had yet.
    pub fn migrate(&self) -> anyhow::Result<Vec<String>> {
        let mut conn = self.pool.get()?;
        let applied = conn
            .run_pending_migrations(migrations(self.backend))
            .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
        Ok(applied.iter().map(ToString::to_string).collect())
    }

    /// No migration has been applied yet: the database is new (or empty).
    pub fn is_new(&self) -> anyhow::Result<bool> {
        let mut conn = self.pool.get()?;
        let applied = conn.applied_migrations().map_err(|e| anyhow::anyhow!("reading the migrations: {e}"))?;
        Ok(applied.is_empty())
    }

    /// Runs blocking database work off the async workers.
    pub async fn run<T, E, F>(&self, work: F) -> std::result::Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> std::result::Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = connection(&pool)?;
            work(&mut conn)
        })
        .await
        .map_err(|e| E::from(Error::Fault(format!("database task failed: {e}"))))?
    }

    /// Runs `work` in one write transaction: all of it is stored or none.
    pub async fn write<T, E, F>(&self, work: F) -> std::result::Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> std::result::Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        match &self.group_commit {
            Some(writer) => writer.write(work).await,
            None => self.run(move |conn| write_transaction(conn, work)).await,
        }
    }

    /// Does the database answer?
    pub async fn ping(&self) -> Result<()> {
        self.run(|conn| {
            diesel::sql_query("SELECT 1").execute(conn)?;
            Ok(())
        })
        .await
    }

    /// Blocking work outside the server (command line, tests).
    pub fn run_blocking<T, E, F>(&self, work: F) -> std::result::Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> std::result::Result<T, E>,
        E: From<Error>,
    {
        let mut conn = connection(&self.pool)?;
        work(&mut conn)
    }

    /// The same as [`Database::write`], for callers outside the server (command line, tests).
    pub fn write_blocking<T, E, F>(&self, work: F) -> std::result::Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> std::result::Result<T, E>,
        E: From<Error>,
    {
        self.run_blocking(|conn| write_transaction(conn, work))
    }
}

/// A pooled connection, or busy when none comes free in time.
fn connection(pool: &Pool) -> Result<r2d2::PooledConnection<ConnectionManager>> {
    pool.get().map_err(|e| {
        tracing::warn!(error = %e, "no database connection available");
        Error::Busy
    })
}
