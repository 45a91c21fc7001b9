//! Upgrades and downgrades, on SQLite and on PostgreSQL: every migration's
//! `down` undoes its `up` (each is applied, reverted and applied again, and
//! the schema, its tables, columns, indexes and constraints, after the
//! revert is the schema before it), and a database holding records made
//! before the newest migrations upgrades with its records and totals intact.

use diesel::backend::Backend as DieselBackend;
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_migrations::MigrationHarness;
use naloxone_tracker::storage::{migrations, Backend};

use crate::harness::{self, tally, ScratchPostgres, TestApp, PRENOXAD};
use chrono::Utc;
use serde_json::{json, Value};

both_backends!(records_and_totals_come_through_an_upgrade);

/// How many of the newest migrations a database made by the previous
/// release lacks (held records and certificate evidence).
const NEWEST: usize = 2;

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

/// What an admin reads of the world: the lists and the statistics.
async fn everything(app: &TestApp, admin: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    for path in [
        "/api/v1/kit-issues?limit=200",
        "/api/v1/reversals?limit=200",
        "/api/v1/trainings?limit=200",
        "/api/v1/certificates?limit=200",
        "/api/v1/stats/kits?group_by=day,area,setting",
        "/api/v1/stats/reversals?group_by=month,outcome",
        "/api/v1/stats/trainings?group_by=kind",
    ] {
        let reply = app.get(path, admin).await;
        assert_eq!(reply.status, reqwest::StatusCode::OK, "{path}: {}", reply.body);
        seen.push(reply.body);
    }
    seen
}

/// Records made on the schema of the previous release (the newest
/// migrations reverted under them), then the upgrade: every record and
/// every total is as it was, each record `recorded`.
async fn records_and_totals_come_through_an_upgrade(app: TestApp) {
    let o = app.outreach(false).await;
    for quantity in [1, 3, 12] {
        app.create("/api/v1/kit-issues", &o.peer, tally(&o.area, quantity)).await;
    }
    let report = json!({
        "id": uuid::Uuid::new_v4(), "occurred_at": Utc::now().to_rfc3339(), "area_id": o.area,
        "place": "hostel", "administered_by": "reporting_peer", "product_id": PRENOXAD, "doses": 2, "outcome": "survived",
    });
    app.create("/api/v1/reversals", &o.peer, report).await;
    let session = json!({
        "id": uuid::Uuid::new_v4(), "delivered_on": Utc::now().date_naive().to_string(), "kind": "awareness",
        "setting": "outreach", "anonymous_attendees": 7,
    });
    let (_, trainer) = app.user(&o.admin, "trainer@hub.example", &["trainer"], &o.organisation).await;
    app.create("/api/v1/trainings", &trainer, session).await;
    let before = everything(&app, &o.admin).await;
    assert_eq!((before[0]["items"].as_array().unwrap().len(), before[4]["totals"]["kits"].as_i64()), (3, Some(16)));

    let url = app.database_url.clone();
    let upgrade = match app.backend {
        harness::Backend::Sqlite => tokio::task::spawn_blocking(move || {
            let mut conn = SqliteConnection::establish(url.trim_start_matches("sqlite://")).unwrap();
            from_the_previous_release(&mut conn, Backend::Sqlite)
        }),
        harness::Backend::Postgres => tokio::task::spawn_blocking(move || {
            from_the_previous_release(&mut PgConnection::establish(&url).unwrap(), Backend::Postgres)
        }),
    };
    let applied = upgrade.await.unwrap();
    assert_eq!(applied, NEWEST, "the upgrade applies the newest migrations");

    let after = everything(&app, &o.admin).await;
    assert_eq!(after, before, "every record and total as it was");
    assert!(after[0]["items"].as_array().unwrap().iter().all(|k| k["state"] == "recorded"));
}

/// Takes the schema back to the previous release's, under the records,
/// and upgrades it again; how many migrations the upgrade applied.
fn from_the_previous_release<C, DB>(conn: &mut C, backend: Backend) -> usize
where
    C: MigrationHarness<DB>,
    DB: DieselBackend,
{
    for _ in 0..NEWEST {
        conn.revert_last_migration(migrations(backend)).expect("revert");
    }
    conn.run_pending_migrations(migrations(backend)).expect("upgrade").len()
}
