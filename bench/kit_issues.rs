//! Handout throughput on SQLite and PostgreSQL: single POSTs from 32
//! concurrent clients, records through /sync in batches of 100, and the
//! raw rate of the same rows straight through diesel: the handout and the
//! running totals it adds to, one transaction each. Run with
//! `cargo bench --bench kit_issues`; PostgreSQL comes from
//! BENCH_POSTGRES_URL (default: the local server) and is skipped when it
//! does not answer.

use std::net::TcpListener;
use std::time::Instant;

use clap::Parser;
use diesel::prelude::*;
use naloxone_tracker::config::Cli;
use naloxone_tracker::domain::stats::counting::counting;
use naloxone_tracker::http::{AppState, Application};
use naloxone_tracker::model::handouts::{KitSetting, RecipientType};
use naloxone_tracker::model::values::PostcodeDistrict;
use naloxone_tracker::storage::kit_issues::{KitIssue, KitIssueRow};
use naloxone_tracker::storage::{Database, DatabaseTarget};
use serde_json::{json, Value};

const PRENOXAD: &str = "0194f0a0-0000-7000-8000-000000000001";
const PASSWORD: &str = "benchmark password";
const CLIENTS: usize = 32;
const SINGLE_POSTS: usize = 4_000;
const SYNC_BATCH: usize = 100;
const SYNC_BATCHES: usize = 80;
const SYNC_CLIENTS: usize = 4;
const RAW_INSERTS: usize = 2_000;

struct Bench {
    server: actix_web::dev::ServerHandle,
    base: String,
    client: reqwest::Client,
    token: String,
    area: String,
    peer_id: String,
    organisation: String,
    db: Database,
}

impl Bench {
    async fn post(&self, path: &str, token: &str, body: &Value) -> Value {
        let response =
            self.client.post(format!("{}{path}", self.base)).bearer_auth(token).json(body).send().await.unwrap();
        assert!(response.status().is_success(), "{path}: {}", response.status());
        response.json().await.unwrap()
    }

    fn handout(&self) -> Value {
        json!({
            "id": uuid::Uuid::new_v4(),
            "issued_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "area_id": self.area, "setting": "outreach", "product_id": PRENOXAD, "quantity": 1,
            "recipient_type": "person_at_risk", "supply": "first", "postcode_district": "KA1",
        })
    }
}

async fn start(database_url: &str, data_dir: &std::path::Path) -> Bench {
    let dir = data_dir.display().to_string();
    let settings = Cli::try_parse_from([
        "bench",
        "--data-dir",
        &dir,
        "--database-url",
        database_url,
        "--login-max-failures",
        "1000",
    ])
    .unwrap()
    .settings;
    let db = Database::connect(&DatabaseTarget::parse(database_url), settings.database_pool_size).unwrap();
    db.migrate().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let app = Application::build(&settings, AppState::new(&settings, db.clone()).unwrap(), listener).unwrap();
    let base = format!("http://{}", app.address());
    let server = app.handle();
    actix_web::rt::spawn(app.run());
    naloxone_tracker::domain::users::create_admin(&db, "admin@bench.example", "Admin", PASSWORD).unwrap();
    // Idle connections are dropped before the server's keep-alive (5 s) would close them under a request.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .pool_idle_timeout(std::time::Duration::from_secs(2))
        .build()
        .unwrap();
    let login = |email: &'static str| {
        let client = client.clone();
        let url = format!("{base}/api/v1/auth/login");
        async move {
            let reply: Value = client
                .post(url)
                .json(&json!({"email": email, "password": PASSWORD}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            reply["access_token"].as_str().unwrap().to_owned()
        }
    };
    let admin = login("admin@bench.example").await;
    let mut bench = Bench {
        server,
        base: base.clone(),
        client: client.clone(),
        token: admin.clone(),
        area: String::new(),
        peer_id: String::new(),
        organisation: String::new(),
        db,
    };
    bench.area =
        bench.post("/api/v1/areas", &admin, &json!({"name": "East Ayrshire"})).await["id"].as_str().unwrap().to_owned();
    bench.organisation = bench
        .post(
            "/api/v1/organisations",
            &admin,
            &json!({"name": "Kilmarnock Recovery Hub", "kind": "recovery_hub", "area_id": bench.area}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let peer = json!({"email": "peer@bench.example", "display_name": "Peer", "password": PASSWORD, "roles": ["peer"], "organisation_id": bench.organisation});
    bench.peer_id = bench.post("/api/v1/users", &admin, &peer).await["id"].as_str().unwrap().to_owned();
    bench
        .post(
            "/api/v1/certificates",
            &admin,
            &json!({"user_id": bench.peer_id, "level": "peer_supplier", "reason": "benchmark"}),
        )
        .await;
    bench.token = login("peer@bench.example").await;
    bench
}

/// Records per second: single POSTs from 32 clients at once.
async fn single_posts(bench: &Bench) -> f64 {
    let started = Instant::now();
    let per_client = SINGLE_POSTS / CLIENTS;
    let clients = (0..CLIENTS).map(|_| async {
        for _ in 0..per_client {
            bench.post("/api/v1/kit-issues", &bench.token, &bench.handout()).await;
        }
    });
    futures_util::future::join_all(clients).await;
    (per_client * CLIENTS) as f64 / started.elapsed().as_secs_f64()
}

/// Records per second through /sync in batches of 100.
async fn synced(bench: &Bench) -> f64 {
    let started = Instant::now();
    let per_client = SYNC_BATCHES / SYNC_CLIENTS;
    let clients = (0..SYNC_CLIENTS).map(|_| async {
        for _ in 0..per_client {
            let items: Vec<Value> = (0..SYNC_BATCH).map(|_| bench.handout()).collect();
            let reply = bench.post("/api/v1/sync", &bench.token, &json!({"kit_issues": items})).await;
            assert!(reply["kit_issues"].as_array().unwrap().iter().all(|r| r["status"] == "created"));
        }
    });
    futures_util::future::join_all(clients).await;
    (per_client * SYNC_CLIENTS * SYNC_BATCH) as f64 / started.elapsed().as_secs_f64()
}

/// An id the server gave, as a UUID.
fn id(text: &str) -> uuid::Uuid {
    uuid::Uuid::parse_str(text).expect("an id")
}

/// Records per second inserted straight through diesel, one transaction each.
fn raw_inserts(bench: &Bench) -> f64 {
    let started = Instant::now();
    for _ in 0..RAW_INSERTS {
        let now = naloxone_tracker::model::time::now();
        let shown = KitIssue {
            id: uuid::Uuid::now_v7().into(),
            distributor_id: id(&bench.peer_id).into(),
            organisation_id: id(&bench.organisation).into(),
            issued_at: now,
            area_id: id(&bench.area).into(),
            postcode_district: PostcodeDistrict::parse("KA1").ok(),
            setting: KitSetting::Outreach,
            product_id: id(PRENOXAD).into(),
            batch_id: None,
            quantity: 1,
            recipient_type: RecipientType::PersonAtRisk,
            consent_recorded: None,
            supply: None,
            repeat_reason: None,
            brief_training_given: None,
            age_band: None,
            gender: None,
            created_at: now,
            updated_at: now,
            voided_at: None,
            void_reason: None,
            state: naloxone_tracker::model::records::RecordState::Recorded,
            held_reasons: Default::default(),
            released_at: None,
            release_reason: None,
        };
        let row = KitIssueRow { shown, recipient_code_hash: None, request_fingerprint: String::new() };
        bench
            .db
            .write_blocking(move |conn| {
                counting(conn, |conn, totals| {
                    diesel::insert_into(naloxone_tracker::storage::schema::kit_issues::table)
                        .values(&row)
                        .execute(conn)
                        .map_err(naloxone_tracker::storage::Error::from)?;
                    totals.kit_issue(conn, &row.shown, 1)
                })
            })
            .unwrap();
    }
    RAW_INSERTS as f64 / started.elapsed().as_secs_f64()
}

async fn measure(name: &str, database_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let bench = start(database_url, dir.path()).await;
    // Warm up connections and caches.
    for _ in 0..50 {
        bench.post("/api/v1/kit-issues", &bench.token, &bench.handout()).await;
    }
    let raw = raw_inserts(&bench);
    let single = single_posts(&bench).await;
    let batch = synced(&bench).await;
    println!(
        "| {name:<10} | {raw:>12.0} | {single:>14.0} | {batch:>14.0} | {:>12.2} | {:>12.2} |",
        single / raw,
        batch / single
    );
    // Stop the server so that its connections are closed before the database is dropped.
    bench.server.stop(true).await;
}

fn postgres_scratch(server: &str) -> Option<(String, String)> {
    let mut admin = PgConnection::establish(server).ok()?;
    let name = format!("nx_bench_{}", uuid::Uuid::new_v4().simple());
    diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut admin).ok()?;
    let base = server.rsplit_once('/').map_or(server, |(base, _)| base);
    Some((format!("{base}/{name}"), name))
}

fn main() {
    let pg_server =
        std::env::var("BENCH_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    println!(
        "kit-issue throughput, records per second; {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("single: {CLIENTS} clients, {SINGLE_POSTS} POSTs; sync: {SYNC_CLIENTS} clients, {SYNC_BATCHES} batches of {SYNC_BATCH}; raw: {RAW_INSERTS} inserts");
    println!("| backend    |   raw diesel |    single POST |     sync batch | single / raw | batch / single |");
    println!("|------------|--------------|----------------|----------------|--------------|----------------|");
    actix_web::rt::System::new().block_on(async {
        let sqlite_dir = tempfile::tempdir().unwrap();
        measure("SQLite", &format!("sqlite://{}", sqlite_dir.path().join("bench.db").display())).await;
        match postgres_scratch(&pg_server) {
            Some((url, name)) => {
                measure("PostgreSQL", &url).await;
                if let Ok(mut admin) = PgConnection::establish(&pg_server) {
                    let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .execute(&mut admin);
                }
            }
            None => println!("| PostgreSQL | not reachable at {pg_server} |"),
        }
    });
}
