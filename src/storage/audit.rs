//! The audit log's rows: who changed what and when, with the record before
//! and after as JSON.

use diesel::prelude::*;

use super::connection::DbConnection;
use super::error::Result;
use super::paging::ROWS_PER_INSERT;
use super::schema::audit_entries;

/// One change, ready to be written: a sync call writes the entries for all
/// the records it stores in one statement.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_entries, treat_none_as_null = true)]
pub struct AuditRow {
    pub id: String,
    pub occurred_at: chrono::NaiveDateTime,
    pub actor_id: Option<String>,
    pub action: &'static str,
    pub entity_type: &'static str,
    pub entity_id: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub request_id: Option<String>,
}

/// Writes entries in as few statements as the database allows.
pub fn insert_all(conn: &mut DbConnection, entries: &[AuditRow]) -> Result<()> {
    for part in entries.chunks(ROWS_PER_INSERT) {
        crate::on_each_backend!(conn, |backend| diesel::insert_into(audit_entries::table)
            .values(part)
            .execute(backend))?;
    }
    Ok(())
}
