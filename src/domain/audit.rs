//! The audit log: every write records who did it, when, and the record
//! before and after, in the same transaction as the write itself.

use serde::Serialize;

use super::error::Error;
use crate::model::ids::UserId;
use crate::model::time::now;
use crate::storage::audit::{self, AuditRow};
use crate::storage::DbConnection;

/// Who is writing: a signed-in user, or the system (command line, migrations).
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user_id: Option<UserId>,
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
    Unlock,
    Release,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Void => "void",
            Action::Revoke => "revoke",
            Action::Unlock => "unlock",
            Action::Release => "release",
        }
    }
}

/// One change, ready to be written: a sync call writes the entries for all
/// the records it stores in one statement. `before` is `None` for a creation.
pub fn entry<T: Serialize>(
    actor: &Actor,
    action: Action,
    entity_type: &'static str,
    entity_id: &str,
    before: Option<&T>,
    after: &T,
) -> Result<AuditRow, Error> {
    let to_json = |value: &T| serde_json::to_string(value).map_err(Error::internal);
    Ok(AuditRow {
        id: uuid::Uuid::now_v7().to_string(),
        occurred_at: now(),
        actor_id: actor.user_id.as_ref().map(ToString::to_string),
        action: action.as_str(),
        entity_type,
        entity_id: entity_id.to_owned(),
        before_json: before.map(to_json).transpose()?,
        after_json: Some(to_json(after)?),
        request_id: actor.request_id.clone(),
    })
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
) -> Result<(), Error> {
    record_all(conn, &[entry(actor, action, entity_type, entity_id, before, after)?])
}

/// Records many changes, in as few statements as the database allows.
pub fn record_all(conn: &mut DbConnection, entries: &[AuditRow]) -> Result<(), Error> {
    Ok(audit::insert_all(conn, entries)?)
}
