//! Upgrades and downgrades: every migration's `down` undoes its `up`, on
//! SQLite and on PostgreSQL. Each migration is applied, reverted and
//! applied again, and the schema (tables, columns, indexes, constraints)
//! after the revert is the schema before it.

use diesel::backend::Backend as DieselBackend;
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_migrations::MigrationHarness;
use naloxone_tracker::storage::{migrations, Backend};

use crate::harness::ScratchPostgres;

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

/// The schema of a SQLite database, a line per column, index, trigger and view.
const SQLITE_SCHEMA: &str = "
    SELECT m.name || '.' || p.name || ' ' || p.type || ' notnull=' || p.\"notnull\" || ' default='
           || coalesce(p.dflt_value, '') || ' pk=' || p.pk AS line
      FROM sqlite_master m, pragma_table_info(m.name) p
     WHERE m.type = 'table' AND m.name <> '__diesel_schema_migrations'
    UNION ALL
    SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_master
     WHERE type IN ('index', 'trigger', 'view') AND tbl_name <> '__diesel_schema_migrations'
    ORDER BY 1";

/// The schema of a PostgreSQL database, a line per column, index and constraint.
const POSTGRES_SCHEMA: &str = "
    SELECT table_name || '.' || column_name || ' ' || data_type || ' nullable=' || is_nullable
           || ' default=' || coalesce(column_default, '') AS line
      FROM information_schema.columns
     WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'
    UNION ALL
    SELECT 'index ' || indexdef FROM pg_indexes
     WHERE schemaname = 'public' AND tablename <> '__diesel_schema_migrations'
    UNION ALL
    SELECT 'constraint ' || c.conrelid::regclass::text || ' ' || c.conname || ' ' || pg_get_constraintdef(c.oid)
      FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
     WHERE n.nspname = 'public' AND c.conrelid::regclass::text <> '__diesel_schema_migrations'
    ORDER BY 1";

fn sqlite_schema(conn: &mut SqliteConnection) -> Vec<String> {
    diesel::sql_query(SQLITE_SCHEMA).load::<Line>(conn).expect("read the schema").into_iter().map(|l| l.line).collect()
}

fn postgres_schema(conn: &mut PgConnection) -> Vec<String> {
    diesel::sql_query(POSTGRES_SCHEMA)
        .load::<Line>(conn)
        .expect("read the schema")
        .into_iter()
        .map(|l| l.line)
        .collect()
}

fn each_down_undoes_its_up<C, DB>(conn: &mut C, backend: Backend, schema: impl Fn(&mut C) -> Vec<String>)
where
    C: MigrationHarness<DB>,
    DB: DieselBackend,
{
    let all = conn.pending_migrations(migrations(backend)).expect("the migrations");
    assert!(all.len() >= 9, "{backend:?}: {} migrations", all.len());
    for migration in &all {
        let name = migration.name().to_string();
        let before = schema(conn);
        conn.run_migration(migration.as_ref()).unwrap_or_else(|e| panic!("{backend:?} {name} up: {e}"));
        let after = schema(conn);
        assert_ne!(before, after, "{backend:?} {name} changes the schema");
        conn.revert_migration(migration.as_ref()).unwrap_or_else(|e| panic!("{backend:?} {name} down: {e}"));
        assert_eq!(schema(conn), before, "{backend:?} {name}: down leaves the schema as it found it");
        conn.run_migration(migration.as_ref()).unwrap_or_else(|e| panic!("{backend:?} {name} up again: {e}"));
        assert_eq!(schema(conn), after, "{backend:?} {name}: up again");
    }
    assert!(conn.pending_migrations(migrations(backend)).unwrap().is_empty());
}

#[test]
fn every_sqlite_migration_reverts() {
    let folder = tempfile::tempdir().unwrap();
    let mut conn = SqliteConnection::establish(folder.path().join("round-trip.db").to_str().unwrap()).unwrap();
    each_down_undoes_its_up(&mut conn, Backend::Sqlite, sqlite_schema);
}

#[test]
fn every_postgres_migration_reverts() {
    let Ok(server) = std::env::var("TEST_POSTGRES_URL") else {
        assert!(std::env::var("CI").is_err(), "CI must run every database test on PostgreSQL: set TEST_POSTGRES_URL");
        return;
    };
    let (_database, url) = ScratchPostgres::create(&server);
    let mut conn = PgConnection::establish(&url).unwrap();
    each_down_undoes_its_up(&mut conn, Backend::Postgres, postgres_schema);
}
