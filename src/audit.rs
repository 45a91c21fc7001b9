//! The audit log: every write records who did it, when, and the record
//! before and after, in the same transaction as the write itself.

use diesel::prelude::*;
use serde::Serialize;

use crate::db::{now, DbConnection, ROWS_PER_INSERT};
use crate::error::ApiError;
use crate::schema::audit_entries;

/// Who is writing: a signed-in user, or the system (command line, migrations).
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user_id: Option<String>,
    pub request_id: Option<String>,
}

impl Actor {
    pub fn system() -> Self {
        Self::default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Void,
    Revoke,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Void => "void",
            Action::Revoke => "revoke",
        }
    }
}

/// One change, ready to be written: a sync call writes the entries for all
/// the records it stores in one statement.
#[derive(Clone, Insertable)]
#[diesel(table_name = audit_entries, treat_none_as_null = true)]
pub struct Entry {
    id: String,
    occurred_at: chrono::NaiveDateTime,
    actor_id: Option<String>,
    action: &'static str,
    entity_type: &'static str,
    entity_id: String,
    before_json: Option<String>,
    after_json: Option<String>,
    request_id: Option<String>,
}

impl Entry {
    /// `before` is `None` for a creation.
    pub fn new<T: Serialize>(
        actor: &Actor,
        action: Action,
        entity_type: &'static str,
        entity_id: &str,
        before: Option<&T>,
        after: &T,
    ) -> Result<Self, ApiError> {
        let to_json = |value: &T| serde_json::to_string(value).map_err(ApiError::internal);
        Ok(Self {
            id: uuid::Uuid::now_v7().to_string(),
            occurred_at: now(),
            actor_id: actor.user_id.clone(),
            action: action.as_str(),
            entity_type,
            entity_id: entity_id.to_owned(),
            before_json: before.map(to_json).transpose()?,
            after_json: Some(to_json(after)?),
            request_id: actor.request_id.clone(),
        })
    }
}

/// Records one change. `before` is `None` for a creation.
pub fn record<T: Serialize>(
    conn: &mut DbConnection,
    actor: &Actor,
    action: Action,
    entity_type: &'static str,
    entity_id: &str,
    before: Option<&T>,
    after: &T,
) -> Result<(), ApiError> {
    record_all(conn, &[Entry::new(actor, action, entity_type, entity_id, before, after)?])
}

/// Records many changes, as few statements as the database allows.
pub fn record_all(conn: &mut DbConnection, entries: &[Entry]) -> Result<(), ApiError> {
    for part in entries.chunks(ROWS_PER_INSERT) {
        crate::on_each_backend!(conn, |backend| diesel::insert_into(audit_entries::table)
            .values(part)
            .execute(backend))?;
    }
    Ok(())
}
