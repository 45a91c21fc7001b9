//! The rules and use-cases: who may do what, what a record must say, when a
//! handout needs a certificate, that stock never goes below zero, how a
//! resend is told from a new record, what the statistics count and hide.
//! Use-cases take the caller, the database and what was asked, and answer
//! a value or an [`Error`]; each write is one transaction. Nothing here
//! knows HTTP: `http` turns requests into these calls and errors into
//! statuses.

pub mod areas;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod certificates;
pub mod decode;
pub mod error;
pub mod keys;
pub mod kit_issues;
pub mod listing;
pub mod organisations;
pub mod pagination;
pub mod patch;
pub mod principal;
pub mod products;
pub mod reach;
pub mod records;
pub mod reversals;
pub mod stats;
pub mod stock;
pub mod sync;
pub mod trainings;
pub mod transaction;
pub mod users;
pub mod validation;
pub mod versions;

pub use error::{Error, Result};
