//! The words every layer shares: the kinds of things records are made of,
//! typed ids and checked values. Each has one text form, the same in JSON,
//! in the OpenAPI document and in the database. Nothing here knows the
//! layers above: `storage` keeps these in rows, `domain` reasons with them
//! and `http` shows them.

#[macro_use]
mod text_enum;
#[macro_use]
mod stored_text;

pub mod certificates;
pub mod handouts;
pub mod ids;
pub mod records;
pub mod reference;
pub mod reversals;
pub mod roles;
pub mod stats;
pub mod stock;
pub mod time;
pub mod trainings;
pub mod values;
