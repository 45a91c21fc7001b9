//! Naloxone tracker: a JSON API that records take-home naloxone kits,
//! peer trainings and overdose reversals.
//!
//! The layers, each a folder, import only downwards: [`http`] (the only
//! code that knows actix-web) → [`domain`] (rules and use-cases) →
//! [`storage`] (diesel, the two backends) → [`model`] (the words they all
//! share). [`cli`] (with its [`config`]), [`seed`] and [`import`] are the ways in
//! from the command line.

pub mod cli;
pub mod config;
pub mod domain;
pub mod http;
pub mod import;
pub mod model;
pub mod seed;
pub mod storage;
