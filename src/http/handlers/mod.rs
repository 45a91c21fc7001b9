//! One thin module per resource: each handler reads the request, calls the
//! domain and renders the answer. Each is registered once, in
//! [`super::routes`], and that registration is also its OpenAPI entry.

#[macro_use]
mod lifecycle;

pub mod areas;
pub mod auth;
pub mod certificates;
pub mod kit_issues;
pub mod operations;
pub mod organisations;
pub mod products;
pub mod reversals;
pub mod stats;
pub mod stock;
pub mod sync;
pub mod trainings;
pub mod users;
