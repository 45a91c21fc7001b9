//! The database, every row of every table.

use std::collections::BTreeMap;

use diesel::prelude::*;
use naloxone_tracker::storage::DbConnection;

use crate::harness::TestApp;

pub(super) type Snapshot = BTreeMap<String, Vec<String>>;

#[derive(QueryableByName)]
struct NameRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

#[derive(QueryableByName)]
struct TextRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    row: String,
}

/// Every table's rows as text, sorted.
pub(super) fn snapshot(app: &TestApp) -> Snapshot {
    app.db
        .run_blocking(|conn| -> crate::harness::Stored<_> {
            let mut tables = Snapshot::new();
            match conn {
                DbConnection::Sqlite(conn) => {
                    let names: Vec<NameRow> = diesel::sql_query(
                        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
                    )
                    .load(conn)?;
                    for NameRow { name } in names {
                        let columns: Vec<NameRow> =
                            diesel::sql_query(format!("SELECT name FROM pragma_table_info('{name}') ORDER BY cid"))
                                .load(conn)?;
                        let row = columns.iter().map(|c| format!("quote(\"{}\")", c.name)).collect::<Vec<_>>();
                        let sql = format!("SELECT {} AS row FROM \"{name}\"", row.join(" || '|' || "));
                        let rows: Vec<TextRow> = diesel::sql_query(sql).load(conn)?;
                        tables.insert(name, rows.into_iter().map(|r| r.row).collect());
                    }
                }
                DbConnection::Postgresql(conn) => {
                    let names: Vec<NameRow> = diesel::sql_query(
                        "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1",
                    )
                    .load(conn)?;
                    for NameRow { name } in names {
                        let rows: Vec<TextRow> =
                            diesel::sql_query(format!("SELECT t::text AS row FROM \"{name}\" AS t")).load(conn)?;
                        tables.insert(name, rows.into_iter().map(|r| r.row).collect());
                    }
                }
            }
            for rows in tables.values_mut() {
                rows.sort();
            }
            Ok(tables)
        })
        .expect("database snapshot")
}

/// Rows of `a` missing from `b`, as a multiset.
pub(super) fn missing(a: &[String], b: &[String]) -> Vec<String> {
    let mut left: BTreeMap<&String, usize> = BTreeMap::new();
    for row in b {
        *left.entry(row).or_default() += 1;
    }
    a.iter()
        .filter(|row| match left.get_mut(row) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        })
        .cloned()
        .collect()
}

pub(super) fn differences(before: &Snapshot, after: &Snapshot) -> Vec<String> {
    let mut changes = Vec::new();
    let empty = Vec::new();
    for table in before.keys().chain(after.keys()).collect::<std::collections::BTreeSet<_>>() {
        let (old, new) = (before.get(table), after.get(table));
        if old.is_none() || new.is_none() {
            changes.push(format!("table {table} {}", if old.is_none() { "appeared" } else { "disappeared" }));
            continue;
        }
        let (old, new) = (old.unwrap_or(&empty), new.unwrap_or(&empty));
        let (gone, added) = (missing(old, new), missing(new, old));
        if !gone.is_empty() || !added.is_empty() {
            let sample = |rows: &[String]| {
                rows.iter().take(3).map(|r| r.chars().take(200).collect::<String>()).collect::<Vec<_>>()
            };
            changes.push(format!(
                "{table}: {} rows gone {:?}, {} rows new {:?}",
                gone.len(),
                sample(&gone),
                added.len(),
                sample(&added)
            ));
        }
    }
    changes
}
