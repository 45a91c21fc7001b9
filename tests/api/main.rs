//! The integration tests, one binary: every area of the API is a module
//! here, and all of them share the harness (a real server per test, on
//! SQLite and on PostgreSQL).

// First: `both_backends!` is visible to the modules declared after it.
#[macro_use]
mod harness;

mod auth;
mod authorization_matrix;
mod backups;
mod certificates;
mod command_line;
mod concurrency;
mod documented;
mod held_records;
mod hostile_input;
mod http_surface;
mod imports;
mod kit_issues;
mod layering;
mod migrations;
mod openapi;
mod private_files;
mod reference_data;
mod reversals;
mod sessions;
mod stats;
mod stock;
mod sync;
mod tls;
mod trainings;
mod users;
