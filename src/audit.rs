//! The audit log: every write records who did it, when, and the record
//! before and after, in the same transaction as the write itself.

use diesel::prelude::*;
use serde::Serialize;

use crate::db::{now, DbConnection};
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

#[derive(Insertable)]
#[diesel(table_name = audit_entries)]
struct NewAuditEntry<'a> {
    id: String,
    occurred_at: chrono::NaiveDateTime,
    actor_id: Option<&'a str>,
    action: &'a str,
    entity_type: &'a str,
    entity_id: &'a str,
    before_json: Option<String>,
    after_json: Option<String>,
    request_id: Option<&'a str>,
}

/// Records one change. `before` is `None` for a creation.
pub fn record<T: Serialize>(
    conn: &mut DbConnection,
    actor: &Actor,
    action: Action,
    entity_type: &str,
    entity_id: &str,
    before: Option<&T>,
    after: &T,
) -> Result<(), ApiError> {
    let to_json = |value: &T| serde_json::to_string(value).map_err(ApiError::internal);
    let entry = NewAuditEntry {
        id: uuid::Uuid::now_v7().to_string(),
        occurred_at: now(),
        actor_id: actor.user_id.as_deref(),
        action: action.as_str(),
        entity_type,
        entity_id,
        before_json: before.map(to_json).transpose()?,
        after_json: Some(to_json(after)?),
        request_id: actor.request_id.as_deref(),
    };
    diesel::insert_into(audit_entries::table).values(&entry).execute(conn)?;
    Ok(())
}
