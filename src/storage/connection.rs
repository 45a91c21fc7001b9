//! Connections: which backend a URL names, how each connection is opened
//! (SQLite's pragmas), and the pool that keeps them.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};

/// How long a SQLite writer waits for another writer before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

/// The log size (in 4 KiB pages, 40 MB) past which a commit checkpoints
/// itself: only under a write rate the checkpoint thread cannot keep up
/// with (see `checkpoint`).
pub const CHECKPOINT_BACKSTOP_PAGES: u32 = 10_000;

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

    fn connect(&self) -> std::result::Result<DbConnection, r2d2::Error> {
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
                    CHECKPOINT_BACKSTOP_PAGES
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> std::result::Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

pub type Pool = r2d2::Pool<ConnectionManager>;

/// Runs the same diesel statement on whichever backend the connection
/// holds: for the few statements a `MultiConnection` cannot express, such
/// as INSERT … ON CONFLICT.
#[macro_export]
macro_rules! on_each_backend {
    ($conn:expr, |$backend:ident| $body:expr) => {
        match $conn {
            $crate::storage::connection::DbConnection::Sqlite($backend) => $body,
            $crate::storage::connection::DbConnection::Postgresql($backend) => $body,
        }
    };
}

/// Makes a SQLite database's file, empty, readable by its owner only
/// (and its folder, if missing, `0700`) before SQLite opens it: SQLite
/// would make it `0644` less the umask, and it gives the log and
/// shared-memory files beside it (`-wal`, `-shm`) the database file's own
/// permissions. An existing file is left as it is; `:memory:` and `file:`
/// URIs are SQLite's to open.
fn create_sqlite_file(location: &str) -> std::io::Result<()> {
    if location.is_empty() || location.starts_with(':') || location.starts_with("file:") {
        return Ok(());
    }
    let path = std::path::Path::new(location);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        super::files::create_private_dir(parent)?;
    }
    match super::files::create_private_file(path, b"") {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        created => created,
    }
}

/// A pool of connections to one database.
pub fn pool(target: &DatabaseTarget, size: u32) -> anyhow::Result<Pool> {
    if target.backend == Backend::Sqlite {
        create_sqlite_file(&target.location)
            .map_err(|e| anyhow::anyhow!("cannot create the database file {}: {e}", target.location))?;
    }
    Ok(r2d2::Pool::builder()
        .max_size(size)
        .connection_timeout(Duration::from_secs(10))
        .build(ConnectionManager { target: target.clone() })?)
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
}
