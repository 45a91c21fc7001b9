//! Storage: one diesel code base over SQLite (the embedded default) and
//! PostgreSQL (production). Everything that must differ between the two
//! backends lives in this module.

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::ApiError;

mod checkpoint;
mod group_commit;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// How long a SQLite writer waits for another writer before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where the data lives: the backend and the URL or path its driver takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseTarget {
    pub backend: Backend,
    pub location: String,
}

impl DatabaseTarget {
    /// `postgres://…` and `postgresql://…` are PostgreSQL; `sqlite://PATH`
    /// or a plain path is a SQLite file.
    pub fn parse(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self { backend: Backend::Postgres, location: url.to_owned() }
        } else {
            let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
            Self { backend: Backend::Sqlite, location: path.to_owned() }
        }
    }

    /// The URL with any password replaced, fit for logs.
    pub fn redacted(&self) -> String {
        match self.backend {
            Backend::Sqlite => format!("sqlite://{}", self.location),
            Backend::Postgres => match (self.location.find("://"), self.location.rfind('@')) {
                (Some(scheme_end), Some(at)) if at > scheme_end => {
                    let credentials = &self.location[scheme_end + 3..at];
                    let user = credentials.split(':').next().unwrap_or_default();
                    format!("{}{user}:***{}", &self.location[..scheme_end + 3], &self.location[at..])
                }
                _ => self.location.clone(),
            },
        }
    }
}

/// Opens connections of the configured backend. diesel's own manager would
/// try every backend in turn on the URL, so a mistyped PostgreSQL URL could
/// silently become a SQLite file; this one opens exactly the backend asked for.
pub struct ConnectionManager {
    target: DatabaseTarget,
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        let location = &self.target.location;
        match self.target.backend {
            Backend::Postgres => {
                PgConnection::establish(location).map(DbConnection::Postgresql).map_err(r2d2::Error::ConnectionError)
            }
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(location).map_err(r2d2::Error::ConnectionError)?;
                // WAL lets readers work beside the one writer. synchronous=FULL
                // syncs the WAL on every commit, so an acknowledged write
                // survives the process being killed and the machine losing
                // power; NORMAL would only survive the process dying.
                // The busy timeout comes first: switching to WAL needs a lock
                // that the pool's other new connections may be holding.
                // Savepoints (one per write in a group commit, one per sync
                // item) keep their undo pages in memory, not a temporary file.
                // Checkpoints have a thread of their own (checkpoint.rs).
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; \
                     PRAGMA wal_autocheckpoint = {};",
                    checkpoint::BACKSTOP_PAGES
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

pub type Pool = r2d2::Pool<ConnectionManager>;

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
    /// Opens the pool (creating the SQLite file and its folder if needed).
    pub fn connect(target: &DatabaseTarget, pool_size: u32) -> anyhow::Result<Self> {
        if target.backend == Backend::Sqlite {
            if let Some(parent) = std::path::Path::new(&target.location).parent() {
                if !parent.as_os_str().is_empty() {
                    std::fs::create_dir_all(parent)?;
                }
            }
        }
        let pool = r2d2::Pool::builder()
            .max_size(pool_size)
            .connection_timeout(Duration::from_secs(10))
            .build(ConnectionManager { target: target.clone() })?;
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
        let migrations = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let applied = conn.run_pending_migrations(migrations).map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
        Ok(applied.iter().map(ToString::to_string).collect())
    }

    /// Runs blocking database work off the async workers.
    pub async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get().map_err(|e| {
                tracing::warn!(error = %e, "no database connection available");
                ApiError::unavailable()
            })?;
            work(&mut conn)
        })
        .await
        .map_err(|e| ApiError::internal(format!("database task failed: {e}")))?
    }

    /// Runs `work` in one write transaction: all of it is stored or none.
    pub async fn write<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        match &self.group_commit {
            Some(writer) => writer.write(work).await,
            None => self.run(move |conn| write_transaction(conn, work)).await,
        }
    }

    /// Blocking work outside the server (command line, tests).
    pub fn run_blocking<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError>,
    {
        let mut conn = self.pool.get().map_err(|_| ApiError::unavailable())?;
        work(&mut conn)
    }

    /// [`Database::write`], tried a second time when it lost a race to
    /// insert the same key (PostgreSQL lets two transactions both find a
    /// row missing; the second insert fails). The second try sees the
    /// winner's row and takes the path for an existing one.
    pub async fn write_retrying_race<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: Fn(&mut DbConnection) -> Result<T, ApiError> + Clone + Send + 'static,
        T: Send + 'static,
    {
        match self.write(work.clone()).await {
            Err(error) if error.code() == "already_exists" => self.write(work).await,
            other => other,
        }
    }

    /// The same as [`Database::write`], for callers outside the server (command line, tests).
    pub fn write_blocking<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError>,
    {
        self.run_blocking(|conn| write_transaction(conn, work))
    }
}

/// Runs the same diesel statement on whichever backend the connection
/// holds: for the few statements a `MultiConnection` cannot express, such
/// as INSERT … ON CONFLICT.
#[macro_export]
macro_rules! on_each_backend {
    ($conn:expr, |$backend:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($backend) => $body,
            $crate::db::DbConnection::Postgresql($backend) => $body,
        }
    };
}

/// Opens a transaction that intends to write. On SQLite it takes the write
/// lock at BEGIN (BEGIN IMMEDIATE), so two writers queue on the busy
/// timeout instead of one failing when it upgrades a read lock.
fn begin_write(conn: &mut DbConnection) -> diesel::QueryResult<()> {
    match conn {
        DbConnection::Sqlite(sqlite) => AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE"),
        DbConnection::Postgresql(_) => DbConnection::begin_transaction(conn),
    }
}

/// Commits (or rolls back) a write; true when it was committed. A failed
/// rollback leaves the connection broken, and the pool drops it.
fn end_write(conn: &mut DbConnection, commit: bool) -> bool {
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
pub fn write_transaction<T, F>(conn: &mut DbConnection, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError>,
{
    begin_write(conn)?;
    match work(conn) {
        Ok(value) if end_write(conn, true) => Ok(value),
        Ok(_) => Err(ApiError::unavailable()),
        Err(error) => {
            end_write(conn, false);
            Err(error)
        }
    }
}

/// Rows in one multi-row INSERT: 23 columns × 1,000 stays under SQLite's
/// 32,766 and PostgreSQL's 65,535 bound parameters.
pub const ROWS_PER_INSERT: usize = 1_000;

/// The current time as stored: UTC, to the microsecond (the precision both
/// backends keep, so a value reads back exactly as it was written).
pub fn now() -> chrono::NaiveDateTime {
    truncate_to_micros(chrono::Utc::now().naive_utc())
}

pub fn truncate_to_micros(t: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
    use chrono::Timelike;
    let micros = t.nanosecond() / 1_000 * 1_000;
    t.with_nanosecond(micros).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_comes_from_the_url_scheme() {
        assert_eq!(DatabaseTarget::parse("postgres://u@h/db").backend, Backend::Postgres);
        assert_eq!(DatabaseTarget::parse("postgresql://u@h/db").backend, Backend::Postgres);
        assert_eq!(
            DatabaseTarget::parse("sqlite://data/x.db"),
            DatabaseTarget { backend: Backend::Sqlite, location: "data/x.db".into() }
        );
        assert_eq!(DatabaseTarget::parse("/var/lib/x.db").location, "/var/lib/x.db");
    }

    #[test]
    fn redaction_hides_the_password_only() {
        let target = DatabaseTarget::parse("postgres://app:s3cret@db.example:5432/naloxone");
        assert_eq!(target.redacted(), "postgres://app:***@db.example:5432/naloxone");
        assert!(!target.redacted().contains("s3cret"));
    }

    /// The options .cargo/config.toml builds the bundled SQLite with.
    #[test]
    fn sqlite_is_built_for_this_server() {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        #[derive(QueryableByName)]
        struct CompileOption {
            #[diesel(sql_type = diesel::sql_types::Text)]
            compile_options: String,
        }
        let options: Vec<String> = diesel::sql_query("PRAGMA compile_options")
            .load::<CompileOption>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|o| o.compile_options)
            .collect();
        for wanted in ["ENABLE_QPSG", "THREADSAFE=2", "DEFAULT_MEMSTATUS=0"] {
            assert!(options.iter().any(|o| o == wanted), "{wanted} missing from {options:?}");
        }
    }

    #[test]
    fn stored_times_keep_microseconds() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 1, 2).unwrap().and_hms_nano_opt(3, 4, 5, 123_456_789).unwrap();
        assert_eq!(truncate_to_micros(t).and_utc().timestamp_subsec_nanos(), 123_456_000);
    }
}
