//! Hostile input (issue #7): a corpus of bad requests sent to every write
//! route of the OpenAPI document. Each must be refused with a 4xx
//! `application/problem+json` answer carrying a `code`, never a 5xx, and
//! must leave the database exactly as it was.
//!
//! The routes come from `openapi::document()`, so a new write route gets the
//! whole corpus without anyone touching this module; its field-level cases come
//! from the route's request schema, mutating a valid body one field at a
//! time. Only the valid starting bodies ([`world::World::base`]) are written by
//! hand, per schema; a schema without one gets a body made from the schema.
//!
//! Four tests, a file each:
//! - `bodies`: hostile bodies (whole-body and per-field cases) with a valid token:
//!   all refused, database unchanged (compared row by row, every table);
//! - `tokens_and_ids`: hostile tokens and path ids, with a body that a valid token would get
//!   stored: all refused, database unchanged;
//! - `text`: hostile *text* (SQL and script injection, NUL, control and odd Unicode
//!   characters) in free-text fields, where it may legitimately be stored:
//!   each is refused, or accepted and stored verbatim; no row that existed
//!   before is changed or lost;
//! - `statistics_queries`: hostile statistics queries: never a 5xx.
//!
//! A failing corpus entry is named in the assertion message as
//! `METHOD /route [case]`, e.g. `POST /api/v1/kit-issues [quantity: 2^64]`.

// What the corpus is made of and how its answers are judged.
mod corpus;
mod judging;
mod routes;
mod snapshot;
mod world;

// The tests, one concern each.
mod bodies;
mod statistics_queries;
mod text;
mod tokens_and_ids;

/// The server's default body limit (`--body-limit-bytes`).
const BODY_LIMIT: usize = 1 << 20;
const JSON: &str = "application/json";
const PROBLEM: &str = "application/problem+json";
