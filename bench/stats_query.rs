//! Statistics query latency as the records pile up: seeds fresh databases
//! with `seed-demo`'s data (10,000 and 1,000,000 handouts by default, over
//! five years), starts the app and times a year-by-month-by-area table of
//! kits, as the admin and as a health-board commissioner (whose answer
//! goes through disclosure control). Answering must not get slower with
//! the years of records: the target is median(largest) / median(smallest)
//! ≤ 1.5.
//!
//! `cargo bench --bench stats_query`. STATS_BENCH_KITS lists the sizes
//! (default "10000,1000000"; 10000000 works too, given time and disk).
//! PostgreSQL comes from BENCH_POSTGRES_URL (default: the local server), a
//! fresh database per size, dropped afterwards; skipped when it does not answer.
//! Answers are fetched uncompressed unless STATS_BENCH_GZIP=1.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use chrono::Datelike;
use clap::Parser;
use diesel::prelude::*;
use naloxone_tracker::config::Cli;
use naloxone_tracker::http::{AppState, Application};
use naloxone_tracker::seed::{seed_demo, SeedOptions};
use naloxone_tracker::storage::{Database, DatabaseTarget};
use serde_json::{json, Value};

const PASSWORD: &str = "benchmark password";
const WARM_UP: usize = 5;
const TIMED: usize = 50;
const TARGET_RATIO: f64 = 1.5;

/// Latencies of one query, in milliseconds.
struct Timing {
    median: f64,
    p95: f64,
    rows: usize,
}

struct Measured {
    kits: u64,
    seeding: Duration,
    admin: Timing,
    commissioner: Timing,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// One seeded database with the app running on it.
struct Running {
    kits: u64,
    seeding: Duration,
    server: actix_web::dev::ServerHandle,
    url: String,
    admin_token: String,
    commissioner_token: String,
    /// Kept until the end: the SQLite file's folder and the keys.
    _folders: Vec<tempfile::TempDir>,
}

async fn login(client: &reqwest::Client, base: &str, email: &str) -> String {
    let response = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "login as {email}: {status} {body}");
    body["access_token"].as_str().expect("an access token").to_owned()
}

/// One call: milliseconds and rows; fails loudly on anything but 200.
async fn call(client: &reqwest::Client, url: &str, token: &str) -> (f64, usize) {
    let started = Instant::now();
    let response = client.get(url).bearer_auth(token).send().await.unwrap();
    let status = response.status();
    let body = response.bytes().await.unwrap();
    let elapsed = started.elapsed().as_secs_f64() * 1_000.0;
    assert!(
        status == reqwest::StatusCode::OK,
        "GET {url}: {status} {}",
        String::from_utf8_lossy(&body[..body.len().min(500)])
    );
    let json: Value = serde_json::from_slice(&body).unwrap();
    (elapsed, json["rows"].as_array().map_or(0, Vec::len))
}

fn timing(mut samples: Vec<f64>, rows: usize) -> Timing {
    samples.sort_by(f64::total_cmp);
    Timing { median: percentile(&samples, 0.5), p95: percentile(&samples, 0.95), rows }
}

/// Seeds a fresh database at `database_url` and starts the app on it.
async fn prepare(database_url: &str, kits: u64, folder: Option<tempfile::TempDir>) -> Running {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().display().to_string();
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

    let mut options = SeedOptions::new(kits, PASSWORD);
    options.progress = true;
    let started = Instant::now();
    let report = seed_demo(&db, &options).unwrap();
    let seeding = started.elapsed();
    eprintln!("seeded {kits} handouts in {:.1}s", seeding.as_secs_f64());

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let app = Application::build(&settings, AppState::new(&settings, db).unwrap(), listener).unwrap();
    let base = format!("http://{}", app.address());
    let server = app.handle();
    actix_web::rt::spawn(app.run());
    let client = reqwest::Client::new();
    // The last full calendar year, by month and area.
    let year = chrono::Utc::now().year() - 1;
    let url = format!("{base}/api/v1/stats/kits?group_by=month,area&from={year}-01-01&to={year}-12-31");
    let admin_token = login(&client, &base, &report.admin_email).await;
    // NHS Ayrshire and Arran: three ADPs, small numbers suppressed.
    let commissioner_token = login(&client, &base, &report.commissioners[0].1).await;
    let mut folders = vec![data];
    folders.extend(folder);
    Running { kits, seeding, server, url, admin_token, commissioner_token, _folders: folders }
}

/// Times the query on every database, taking turns call by call so that
/// changes in the machine's load fall on all sizes alike.
async fn measure(running: &[Running]) -> Vec<Measured> {
    // Uncompressed by default: a compressed (chunked) answer on a kept-alive
    // connection waits ~40 ms for a delayed ACK while the server leaves
    // TCP_NODELAY off, which would hide the cost of the query itself.
    let gzip = std::env::var("STATS_BENCH_GZIP").is_ok_and(|v| v == "1");
    let client = reqwest::Client::builder().gzip(gzip).build().unwrap();
    let mut samples = vec![(Vec::with_capacity(TIMED), Vec::with_capacity(TIMED)); running.len()];
    let mut rows = vec![(0, 0); running.len()];
    for round in 0..WARM_UP + TIMED {
        for (i, r) in running.iter().enumerate() {
            let (admin, admin_rows) = call(&client, &r.url, &r.admin_token).await;
            let (commissioner, commissioner_rows) = call(&client, &r.url, &r.commissioner_token).await;
            rows[i] = (admin_rows, commissioner_rows);
            if round >= WARM_UP {
                samples[i].0.push(admin);
                samples[i].1.push(commissioner);
            }
        }
    }
    running
        .iter()
        .zip(samples)
        .zip(rows)
        .map(|((r, (admin, commissioner)), (admin_rows, commissioner_rows))| Measured {
            kits: r.kits,
            seeding: r.seeding,
            admin: timing(admin, admin_rows),
            commissioner: timing(commissioner, commissioner_rows),
        })
        .collect()
}

async fn stop(running: Vec<Running>) {
    // Stop the servers so that their connections close before the databases are dropped.
    for r in running {
        r.server.stop(true).await;
    }
}

fn print_table(backend: &str, results: &[Measured]) {
    println!();
    println!(
        "{backend}: GET /api/v1/stats/kits?group_by=month,area for last year; {WARM_UP} warm-up + {TIMED} timed calls each, sizes taking turns"
    );
    println!(
        "| {:>10} | {:>10} | {:>9} | {:>9} | {:>5} | {:>17} | {:>15} | {:>17} |",
        "kits",
        "seed time",
        "median ms",
        "p95 ms",
        "rows",
        "commissioner med.",
        "commissioner p95",
        "commissioner rows"
    );
    println!("|-----------:|-----------:|----------:|----------:|------:|------------------:|----------------:|------------------:|");
    for m in results {
        println!(
            "| {:>10} | {:>9.1}s | {:>9.2} | {:>9.2} | {:>5} | {:>17.2} | {:>15.2} | {:>17} |",
            m.kits,
            m.seeding.as_secs_f64(),
            m.admin.median,
            m.admin.p95,
            m.admin.rows,
            m.commissioner.median,
            m.commissioner.p95,
            m.commissioner.rows
        );
    }
    if let (Some(smallest), Some(largest)) = (results.first(), results.last()) {
        if results.len() > 1 {
            let ratio = largest.admin.median / smallest.admin.median;
            let verdict = if ratio <= TARGET_RATIO { "meets" } else { "MISSES" };
            println!(
                "median({}) / median({}) = {ratio:.2} ({verdict} the target ≤ {TARGET_RATIO}); commissioner: {:.2}",
                largest.kits,
                smallest.kits,
                largest.commissioner.median / smallest.commissioner.median
            );
        }
    }
}

/// A fresh database on the server, or `None` when the server does not answer.
fn postgres_database(server: &str, kits: u64) -> Option<(String, String)> {
    let mut admin = PgConnection::establish(server).ok()?;
    // Named by size, so that a run that died is cleaned up by the next.
    let name = format!("naloxone_stats_bench_{kits}");
    diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut admin).ok()?;
    diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut admin).ok()?;
    let base = server.rsplit_once('/').map_or(server, |(base, _)| base);
    Some((format!("{base}/{name}"), name))
}

fn drop_postgres_database(server: &str, name: &str) {
    if let Ok(mut admin) = PgConnection::establish(server) {
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut admin);
    }
}

fn main() {
    let sizes: Vec<u64> = std::env::var("STATS_BENCH_KITS")
        .unwrap_or_else(|_| "10000,1000000".into())
        .split(',')
        .map(|s| s.trim().replace('_', "").parse().expect("STATS_BENCH_KITS: comma-separated numbers"))
        .collect();
    let pg_server =
        std::env::var("BENCH_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    println!(
        "statistics query latency against handouts seeded over 5 years; sizes {sizes:?}; {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    actix_web::rt::System::new().block_on(async {
        let mut running = Vec::new();
        for &kits in &sizes {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("stats.db").display());
            running.push(prepare(&url, kits, Some(dir)).await);
        }
        print_table("SQLite", &measure(&running).await);
        stop(running).await;

        let mut running = Vec::new();
        let mut databases = Vec::new();
        for &kits in &sizes {
            let Some((url, name)) = postgres_database(&pg_server, kits) else {
                println!();
                println!("PostgreSQL: not reachable at {pg_server}; skipped");
                break;
            };
            databases.push(name);
            running.push(prepare(&url, kits, None).await);
        }
        if !running.is_empty() {
            print_table("PostgreSQL", &measure(&running).await);
        }
        stop(running).await;
        for name in databases {
            drop_postgres_database(&pg_server, &name);
        }
    });
}
