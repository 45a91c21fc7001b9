//! Storage: one diesel code base over SQLite (the embedded default) and
//! PostgreSQL (production): the tables, their rows and the queries on them,
//! the pool, transactions, SQLite's group commit and the running totals
//! behind the statistics. Everything that must differ between the two
//! backends lives here. Nothing here knows HTTP or the rules of the domain;
//! errors come back as [`Error`].

mod checkpoint;
pub mod connection;
mod database;
mod error;
pub mod files;
mod group_commit;
mod paging;
pub mod schema;
pub mod snapshot;
mod transaction;

pub mod areas;
pub mod audit;
pub mod certificates;
pub mod kit_issues;
pub mod locks;
pub mod login_throttle;
pub mod organisations;
pub mod products;
pub mod reversals;
pub mod sessions;
pub mod stat_cells;
pub mod stock;
pub mod trainings;
pub mod users;

pub use connection::{Backend, DatabaseTarget, DbConnection};
pub use database::{migrations, Database};
pub use error::{Error, Result};
pub use paging::{Paging, Visible, ROWS_PER_INSERT};
pub use transaction::{rehearsal, savepoint, write_transaction};
