//! Mixed load on SQLite and PostgreSQL: the real server binary runs as a
//! separate process on loopback and 64 concurrent clients (one connection
//! each, a new request as soon as the last is answered) send, for a bounded
//! time, 70% single `POST /api/v1/kit-issues` from certified peers, 10%
//! `/api/v1/sync` batches of 20 handouts, and 20% statistics reads by a
//! commissioner of the region (`/api/v1/stats/kits?group_by=month,area` and
//! `/api/v1/stats/summary`, half each). Prints requests, requests per
//! second, p50 and p99 latency, errors and the server's peak memory
//! (VmHWM) per backend, then the same by kind of request.
//!
//! ```sh
//! cargo bench --bench load                      # release build, 30 s per backend
//! cargo bench --bench load -- --duration 10
//! ```
//!
//! Options: `--duration SECONDS` (30), `--clients N` (64), `--backend
//! sqlite|postgres|both` (both), `--bin PATH` (default: the binary of the
//! profile being built), `--postgres URL` (a server where databases may be
//! created; default `BENCH_POSTGRES_URL`, then `TEST_POSTGRES_URL`, then
//! the local server). The clients run in this process on one thread and
//! share the machine's cores with the server. Exits non-zero on any error:
//! a status other than the one expected, a sync item not created, or a
//! request with no answer.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

mod process;
use process::{create_admin, ScratchPostgres, Server};

const PRENOXAD: &str = "0194f0a0-0000-7000-8000-000000000001";
const NYXOID: &str = "0194f0a0-0000-7000-8000-000000000002";
const PASSWORD: &str = "load test password";
const ADMIN: &str = "admin@load.example";
const COMMISSIONER: &str = "commissioner@load.example";
const AREAS: [&str; 3] = ["East Ayrshire", "North Ayrshire", "South Ayrshire"];
const PEERS_PER_HUB: usize = 2;
const SYNC_BATCH: usize = 20;
/// Handouts recorded before the clock starts, so that the statistics have something to add up.
const PRELOAD_BATCHES: usize = 6;
const PRELOAD_BATCH: usize = 500;

struct Options {
    process: process::Options,
    duration: Duration,
}

fn options() -> Options {
    let process = process::options("load", &["--duration"], 64);
    Options { duration: Duration::from_secs(process.own("--duration").map_or(30, |n| n.max(1))), process }
}

/// A line of /proc/<pid>/status of the server, in KiB.
fn status_kib(server: &Server, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id())).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// User and system CPU time the server has used so far.
fn cpu_used(server: &Server) -> Duration {
    cpu_of(&format!("/proc/{}/stat", server.child.id()))
}

/// utime + stime of /proc/<pid>/stat (USER_HZ is 100 on Linux).
fn cpu_of(stat: &str) -> Duration {
    let text = std::fs::read_to_string(stat).unwrap_or_default();
    let after_name = text.rsplit_once(')').map_or("", |(_, rest)| rest);
    let ticks: u64 = after_name.split_whitespace().skip(11).take(2).filter_map(|t| t.parse::<u64>().ok()).sum();
    Duration::from_millis(ticks * 10)
}

/// Busy and total CPU ticks of the whole machine, from /proc/stat.
fn machine_ticks() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<u64> =
        text.lines().next().unwrap_or_default().split_whitespace().skip(1).filter_map(|t| t.parse().ok()).collect();
    let total: u64 = ticks.iter().sum();
    let idle = ticks.get(3).copied().unwrap_or(0) + ticks.get(4).copied().unwrap_or(0);
    (total - idle, total)
}

/// HTTP to the running server.
#[derive(Clone)]
struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request that must succeed (set-up).
    async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Value {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("POST {path}: {e}"));
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "POST {path}: {status} {body}");
        body
    }

    async fn create(&self, path: &str, token: &str, body: Value) -> String {
        self.post(path, Some(token), &body).await["id"].as_str().expect("id").to_owned()
    }

    async fn login(&self, email: &str) -> String {
        let reply = self.post("/api/v1/auth/login", None, &json!({"email": email, "password": PASSWORD})).await;
        reply["access_token"].as_str().expect("access token").to_owned()
    }

    /// One timed request: Ok with the handouts it recorded, or what went wrong.
    async fn send(&self, request: reqwest::RequestBuilder, expected: u16) -> Result<Value, String> {
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let body = response.bytes().await.map_err(transport)?;
        if status.as_u16() != expected {
            return Err(status.to_string());
        }
        serde_json::from_slice(&body).map_err(|_| "not JSON".to_owned())
    }
}

fn transport(error: reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_connect() {
        "could not connect".into()
    } else {
        "connection lost".into()
    }
}

/// Who sends what: peers (with their area) and the commissioner of the region.
struct World {
    peers: Vec<(String, String)>,
    commissioner: String,
}

/// A region with three areas, a hub in each with two certified peers, and
/// a commissioner of the region.
async fn set_up(api: &Api) -> World {
    let admin = api.login(ADMIN).await;
    let region =
        api.create("/api/v1/areas", &admin, json!({"name": "Ayrshire and Arran", "population_at_risk": 3600})).await;
    let mut peers = Vec::new();
    for (a, name) in AREAS.iter().enumerate() {
        let area = api
            .create("/api/v1/areas", &admin, json!({"name": name, "parent_id": region, "population_at_risk": 1200}))
            .await;
        let hub = json!({"name": format!("{name} Recovery Hub"), "kind": "recovery_hub", "area_id": area});
        let organisation = api.create("/api/v1/organisations", &admin, hub).await;
        for p in 0..PEERS_PER_HUB {
            let email = format!("peer{a}{p}@load.example");
            let user = json!({"email": email, "display_name": format!("Peer {a}{p}"), "password": PASSWORD,
                              "roles": ["peer"], "organisation_id": organisation});
            let id = api.create("/api/v1/users", &admin, user).await;
            api.create(
                "/api/v1/certificates",
                &admin,
                json!({"user_id": id, "level": "peer_supplier", "reason": "benchmark"}),
            )
            .await;
            peers.push((api.login(&email).await, area.clone()));
        }
    }
    let commissioner = json!({"email": COMMISSIONER, "display_name": "Commissioner", "password": PASSWORD,
                              "roles": ["commissioner"], "area_id": region});
    api.create("/api/v1/users", &admin, commissioner).await;
    World { peers, commissioner: api.login(COMMISSIONER).await }
}

/// A handout with a varied, valid body.
fn handout(area: &str) -> Value {
    const SETTINGS: [&str; 4] = ["outreach", "hub_drop_in", "home_visit", "prison_release"];
    const DISTRICTS: [&str; 4] = ["KA1", "KA3", "KA7", "KA12"];
    let pick = |n: usize| rand::random_range(0..n);
    let mut body = json!({
        "id": uuid::Uuid::new_v4(),
        "issued_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "area_id": area, "setting": SETTINGS[pick(4)], "postcode_district": DISTRICTS[pick(4)],
        "product_id": if pick(3) == 0 { NYXOID } else { PRENOXAD }, "quantity": 1 + pick(2),
    });
    if pick(2) == 0 {
        body["recipient_type"] = json!("person_at_risk");
        body["supply"] = json!(if pick(3) == 0 { "repeat" } else { "first" });
        if body["supply"] == "repeat" {
            body["repeat_reason"] = json!("used_on_overdose");
        }
        body["brief_training_given"] = json!(true);
    }
    body
}

#[derive(Clone, Copy)]
enum Kind {
    Single,
    Sync,
    StatsKits,
    Summary,
}

const KINDS: [(Kind, &str); 4] = [
    (Kind::Single, "POST /kit-issues"),
    (Kind::Sync, "POST /sync (20)"),
    (Kind::StatsKits, "GET /stats/kits"),
    (Kind::Summary, "GET /stats/summary"),
];

#[derive(Default)]
struct Samples {
    /// Microseconds, by kind.
    latencies: [Vec<u32>; 4],
    /// Errors by kind and cause.
    errors: BTreeMap<String, usize>,
    handouts: usize,
}

/// One client: a request of the mix as soon as the last is answered, until the deadline.
async fn client(
    api: Api,
    peer: (String, String),
    commissioner: String,
    deadline: Instant,
    samples: Rc<RefCell<Samples>>,
) {
    let (token, area) = peer;
    while Instant::now() < deadline {
        let roll = rand::random_range(0..100);
        let kind = match roll {
            0..70 => Kind::Single,
            70..80 => Kind::Sync,
            80..90 => Kind::StatsKits,
            _ => Kind::Summary,
        };
        let started = Instant::now();
        let result = match kind {
            Kind::Single => {
                let request = api.client.post(api.url("/api/v1/kit-issues")).bearer_auth(&token).json(&handout(&area));
                api.send(request, 201).await.map(|_| 1)
            }
            Kind::Sync => {
                let records: Vec<Value> = (0..SYNC_BATCH).map(|_| handout(&area)).collect();
                let request =
                    api.client.post(api.url("/api/v1/sync")).bearer_auth(&token).json(&json!({"kit_issues": records}));
                api.send(request, 200).await.and_then(|reply| {
                    let items = reply["kit_issues"].as_array().map_or(&[][..], |v| v.as_slice());
                    match items.iter().find(|item| item["status"] != "created") {
                        None if items.len() == SYNC_BATCH => Ok(SYNC_BATCH),
                        None => Err(format!("{} items answered", items.len())),
                        Some(item) => Err(format!("item {}", item["status"])),
                    }
                })
            }
            Kind::StatsKits => {
                let request =
                    api.client.get(api.url("/api/v1/stats/kits?group_by=month,area")).bearer_auth(&commissioner);
                api.send(request, 200).await.and_then(|reply| {
                    if reply["rows"].is_array() {
                        Ok(0)
                    } else {
                        Err("no rows".into())
                    }
                })
            }
            Kind::Summary => {
                let request = api.client.get(api.url("/api/v1/stats/summary")).bearer_auth(&commissioner);
                api.send(request, 200).await.map(|_| 0)
            }
        };
        let micros = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
        let mut samples = samples.borrow_mut();
        samples.latencies[kind as usize].push(micros);
        match result {
            Ok(handouts) => samples.handouts += handouts,
            Err(cause) => *samples.errors.entry(format!("{}: {cause}", KINDS[kind as usize].1)).or_default() += 1,
        }
    }
}

/// The latency at quantile `q` of sorted samples, in milliseconds.
fn quantile(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    f64::from(sorted[rank - 1]) / 1000.0
}

struct Report {
    name: &'static str,
    elapsed: Duration,
    samples: Samples,
    peak_rss_kib: u64,
    server_cpu: Duration,
    client_cpu: Duration,
    /// Share of the machine's CPU time busy, from 0 to 1: the server, the clients, PostgreSQL and anything else.
    machine_busy: f64,
}

async fn run(name: &'static str, options: &Options, database_url: &str, dir: &Path) -> Report {
    create_admin(&options.process.bin, dir, database_url, ADMIN, PASSWORD);
    let server = Server::start(&options.process.bin, dir, database_url).await;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(options.process.clients)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client");
    let api = Api { client: http, base: server.base.clone() };
    let world = set_up(&api).await;
    for n in 0..PRELOAD_BATCHES {
        let (token, area) = &world.peers[n % world.peers.len()];
        let records: Vec<Value> = (0..PRELOAD_BATCH).map(|_| handout(area)).collect();
        api.post("/api/v1/sync", Some(token), &json!({"kit_issues": records})).await;
    }

    let samples = Rc::new(RefCell::new(Samples::default()));
    let (server_cpu, client_cpu, machine) = (cpu_used(&server), cpu_of("/proc/self/stat"), machine_ticks());
    let started = Instant::now();
    let deadline = started + options.duration;
    let clients: Vec<_> = (0..options.process.clients)
        .map(|n| {
            let peer = world.peers[n % world.peers.len()].clone();
            actix_web::rt::spawn(client(api.clone(), peer, world.commissioner.clone(), deadline, samples.clone()))
        })
        .collect();
    for task in clients {
        task.await.expect("client task");
    }
    let elapsed = started.elapsed();
    let (busy, total) = machine_ticks();
    let report = Report {
        name,
        elapsed,
        samples: Rc::try_unwrap(samples).ok().expect("clients finished").into_inner(),
        peak_rss_kib: status_kib(&server, "VmHWM"),
        server_cpu: cpu_used(&server).saturating_sub(server_cpu),
        client_cpu: cpu_of("/proc/self/stat").saturating_sub(client_cpu),
        machine_busy: (busy - machine.0) as f64 / (total - machine.1).max(1) as f64,
    };
    if !report.samples.errors.is_empty() {
        eprintln!("{name} server log, last lines:\n{}", server.log_tail());
    }
    report
}

fn print(reports: &[Report], options: &Options) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!();
    println!("| backend    | requests |  req/s | handouts/s |  p50 ms |  p99 ms | errors | peak RSS | server CPU | client CPU | all CPU |");
    println!("|------------|----------|--------|------------|---------|---------|--------|----------|------------|------------|---------|");
    for report in reports {
        let mut all: Vec<u32> = report.samples.latencies.iter().flatten().copied().collect();
        all.sort_unstable();
        let seconds = report.elapsed.as_secs_f64();
        let errors: usize = report.samples.errors.values().sum();
        println!(
            "| {:<10} | {:>8} | {:>6.0} | {:>10.0} | {:>7.1} | {:>7.1} | {:>6} | {:>4} MiB | {:>9.0}% | {:>9.0}% | {:>6.0}% |",
            report.name,
            all.len(),
            all.len() as f64 / seconds,
            report.samples.handouts as f64 / seconds,
            quantile(&all, 0.5),
            quantile(&all, 0.99),
            errors,
            report.peak_rss_kib / 1024,
            100.0 * report.server_cpu.as_secs_f64() / seconds / cores as f64,
            100.0 * report.client_cpu.as_secs_f64() / seconds / cores as f64,
            100.0 * report.machine_busy,
        );
    }
    println!();
    println!("| backend    | request            | requests |  req/s |  p50 ms |  p99 ms |");
    println!("|------------|--------------------|----------|--------|---------|---------|");
    for report in reports {
        for (kind, label) in KINDS {
            let mut latencies = report.samples.latencies[kind as usize].clone();
            latencies.sort_unstable();
            println!(
                "| {:<10} | {label:<18} | {:>8} | {:>6.0} | {:>7.1} | {:>7.1} |",
                report.name,
                latencies.len(),
                latencies.len() as f64 / report.elapsed.as_secs_f64(),
                quantile(&latencies, 0.5),
                quantile(&latencies, 0.99),
            );
        }
    }
    for report in reports {
        for (cause, count) in &report.samples.errors {
            println!("  {} error: {cause} ×{count}", report.name);
        }
    }
    println!(
        "CPU: share of all {cores} cores over the {} s run used by the server process, by these clients, and by \
         everything (PostgreSQL included); the server had {} handouts before the clock started",
        options.duration.as_secs(),
        PRELOAD_BATCHES * PRELOAD_BATCH
    );
}

fn main() {
    let options = options();
    println!(
        "load: {} clients for {} s per backend; 70% POST /kit-issues, 10% POST /sync of {SYNC_BATCH}, 10% GET /stats/kits?group_by=month,area, 10% GET /stats/summary (commissioner); {} cores; {}",
        options.process.clients,
        options.duration.as_secs(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        options.process.bin.display()
    );
    let (reports, reachable) = actix_web::rt::System::new().block_on(async {
        let (mut reports, mut reachable) = (Vec::new(), true);
        if options.process.sqlite {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("naloxone.db").display());
            reports.push(run("SQLite", &options, &url, dir.path()).await);
        }
        if let Some(server) = &options.process.postgres {
            match ScratchPostgres::create(server, "nx_load") {
                Ok(database) => {
                    let dir = tempfile::tempdir().expect("temp dir");
                    reports.push(run("PostgreSQL", &options, &database.url, dir.path()).await);
                }
                Err(e) => {
                    eprintln!("load: PostgreSQL not reachable at {server}: {e} (use --backend sqlite to leave it out)");
                    reachable = false;
                }
            }
        }
        (reports, reachable)
    });
    print(&reports, &options);
    let errors: usize = reports.iter().flat_map(|r| r.samples.errors.values()).sum();
    if errors > 0 || !reachable {
        eprintln!("load: FAILED ({errors} errors)");
        std::process::exit(1);
    }
}
