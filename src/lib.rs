//! Naloxone tracker: a JSON API that records take-home naloxone kits,
//! peer trainings and overdose reversals.

pub mod areas;
pub mod audit;
pub mod auth;
pub mod certificates;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod extract;
pub mod health;
pub mod keys;
pub mod kit_issues;
pub mod middleware;
pub mod openapi;
pub mod organisations;
pub mod pagination;
pub mod patch;
pub mod products;
pub mod records;
pub mod reversals;
pub mod schema;
pub mod seed;
pub mod server;
pub mod stats;
pub mod stock;
pub mod sync;
pub mod text_enum;
pub mod throttle;
pub mod time;
pub mod trainings;
pub mod users;
pub mod validation;
