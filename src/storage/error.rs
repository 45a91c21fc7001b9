//! What can go wrong in storage, in terms the layers above can act on
//! without knowing diesel.

/// A storage failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A row that was expected is not there.
    #[error("no such row")]
    NotFound,
    /// A unique key is taken: another transaction may have stored the same
    /// record first (PostgreSQL lets two transactions both find it missing).
    #[error("a row with this key exists")]
    Duplicate,
    /// A reference names a row that does not exist.
    #[error("a referenced row does not exist")]
    MissingReference,
    /// A CHECK or NOT NULL constraint refused the values.
    #[error("{0}")]
    Constraint(String),
    /// The database is busy (a lock waited out, a failed commit, no free
    /// connection): the work may be tried again later.
    #[error("the database is busy")]
    Busy,
    /// Another transaction got in the way (PostgreSQL broke a deadlock or
    /// a serialization failure by failing this one): the work may be tried
    /// again at once.
    #[error("another transaction got in the way")]
    Contention,
    /// Anything else: a fault, logged where it is turned into an answer.
    #[error("{0}")]
    Fault(String),
}

impl From<diesel::result::Error> for Error {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as Kind, Error as Diesel};
        match &error {
            Diesel::NotFound => Error::NotFound,
            Diesel::DatabaseError(Kind::UniqueViolation, _) => Error::Duplicate,
            Diesel::DatabaseError(Kind::ForeignKeyViolation, _) => Error::MissingReference,
            Diesel::DatabaseError(Kind::CheckViolation | Kind::NotNullViolation, info) => {
                Error::Constraint(info.message().to_owned())
            }
            Diesel::DatabaseError(Kind::SerializationFailure, _) => Error::Contention,
            // PostgreSQL reports a deadlock it broke by failing this transaction so.
            Diesel::DatabaseError(_, info) if info.message().contains("deadlock detected") => Error::Contention,
            // SQLite reports a writer that waited past the busy timeout as "database is locked".
            Diesel::DatabaseError(_, info) if info.message().contains("database is locked") => Error::Busy,
            _ => Error::Fault(error.to_string()),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
