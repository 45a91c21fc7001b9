//! Durability under SIGKILL, on SQLite and PostgreSQL. The real server
//! binary runs as a separate process; many clients record handouts with
//! ids they made (single `POST /api/v1/kit-issues` and `/api/v1/sync`
//! batches) until, after a random short delay, the server is killed with
//! SIGKILL. It is restarted on the same database and every record it had
//! answered 2xx (for sync, every item answered `created` or `duplicate`)
//! must be there; records whose answer never came may or may not be. The
//! running totals must match the records, the unanswered records are sent
//! again (each must answer created or duplicate, as a phone would see), and
//! the next round starts. Records of earlier rounds are checked again after
//! every kill.
//!
//! ```sh
//! cargo bench --bench durability                      # release build, 5 rounds
//! cargo test --bench durability -- --rounds 3         # the debug binary `cargo test` built (CI)
//! ```
//!
//! Options: `--rounds N` (5), `--clients N` (32), `--max-delay-ms N` (kill
//! between 500 ms and this after the load starts; 2000), `--backend
//! sqlite|postgres|both` (both), `--bin PATH` (default: the binary of the
//! profile being built), `--postgres URL` (a server where databases may be
//! created; default `BENCH_POSTGRES_URL`, then `TEST_POSTGRES_URL`, then
//! the local server). A PostgreSQL server that does not answer is a
//! failure, not a skip. Exits non-zero when an acknowledged record is
//! missing, a record nobody acknowledged appears, the totals disagree, or a
//! request fails other than by the kill.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix_web::rt::time::sleep;
use serde_json::{json, Value};

mod process;
use process::{create_admin, ScratchPostgres, Server};

const PRENOXAD: &str = "0194f0a0-0000-7000-8000-000000000001";
const PASSWORD: &str = "durability password";
const ADMIN: &str = "admin@durability.example";
const PEERS: usize = 4;
const SYNC_BATCH: usize = 10;
/// Percentage of requests that are /sync batches rather than single POSTs.
const SYNC_SHARE: u32 = 20;
const MIN_DELAY_MS: u64 = 500;

struct Options {
    process: process::Options,
    rounds: usize,
    max_delay_ms: u64,
}

fn options() -> Options {
    let process = process::options("durability", &["--rounds", "--max-delay-ms"], 32);
    Options {
        rounds: process.own("--rounds").map_or(5, |n| n.max(1) as usize),
        max_delay_ms: process.own("--max-delay-ms").map_or(2000, |n| n.max(MIN_DELAY_MS + 1)),
        process,
    }
}

/// HTTP to one running server.
#[derive(Clone)]
struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    fn new(server: &Server, clients: usize) -> Self {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(clients)
            .timeout(Duration::from_secs(60))
            .build()
            .expect("HTTP client");
        Api { client, base: server.base.clone() }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request that must succeed (set-up and checks).
    async fn must(&self, method: reqwest::Method, path: &str, token: Option<&str>, body: Option<&Value>) -> Value {
        let mut request = self.client.request(method.clone(), self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {path}: {status} {body}");
        body
    }

    async fn post(&self, path: &str, token: &str, body: &Value) -> Value {
        self.must(reqwest::Method::POST, path, Some(token), Some(body)).await
    }

    async fn login(&self, email: &str) -> String {
        let body = json!({"email": email, "password": PASSWORD});
        let reply = self.must(reqwest::Method::POST, "/api/v1/auth/login", None, Some(&body)).await;
        reply["access_token"].as_str().expect("access token").to_owned()
    }

    /// Every stored handout: id and quantity (voided ones would have quantity 0).
    async fn stored(&self, admin: &str) -> HashMap<String, i64> {
        let mut found = HashMap::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = "/api/v1/kit-issues?limit=200".to_owned();
            if let Some(cursor) = &cursor {
                path.push_str("&cursor=");
                path.push_str(&urlencode(cursor));
            }
            let page = self.must(reqwest::Method::GET, &path, Some(admin), None).await;
            for item in page["items"].as_array().expect("items") {
                let quantity = if item["voided_at"].is_null() { item["quantity"].as_i64().unwrap_or(0) } else { 0 };
                found.insert(item["id"].as_str().expect("id").to_owned(), quantity);
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return found,
            }
        }
    }
}

fn urlencode(text: &str) -> String {
    serde_urlencoded::to_string([("", text)]).expect("encode").trim_start_matches('=').to_owned()
}

/// An area, an organisation in it, and peers certified to supply.
struct World {
    area: String,
    peers: Vec<String>,
}

async fn set_up(api: &Api) -> World {
    let admin = api.login(ADMIN).await;
    let area = api.post("/api/v1/areas", &admin, &json!({"name": "East Ayrshire"})).await["id"]
        .as_str()
        .expect("area id")
        .to_owned();
    let organisation = api
        .post(
            "/api/v1/organisations",
            &admin,
            &json!({"name": "Kilmarnock Recovery Hub", "kind": "recovery_hub", "area_id": area}),
        )
        .await["id"]
        .as_str()
        .expect("organisation id")
        .to_owned();
    let mut peers = Vec::new();
    for n in 0..PEERS {
        let email = format!("peer{n}@durability.example");
        let user = json!({"email": email, "display_name": format!("Peer {n}"), "password": PASSWORD,
                          "roles": ["peer"], "organisation_id": organisation});
        let id = api.post("/api/v1/users", &admin, &user).await["id"].as_str().expect("user id").to_owned();
        api.post(
            "/api/v1/certificates",
            &admin,
            &json!({"user_id": id, "level": "peer_supplier", "reason": "benchmark"}),
        )
        .await;
        peers.push(email);
    }
    World { area, peers }
}

fn handout(area: &str) -> Value {
    json!({
        "id": uuid::Uuid::new_v4(),
        "issued_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "area_id": area, "setting": "outreach", "product_id": PRENOXAD,
        "quantity": rand::random_range(1..=3i64), "recipient_type": "unknown", "postcode_district": "KA1",
    })
}

fn id_of(record: &Value) -> String {
    record["id"].as_str().expect("record id").to_owned()
}

/// Records sent whose answer never came, with the token of the peer who
/// sent them (the same id from another peer would be a conflict).
enum Unanswered {
    Single(Value, String),
    Batch(Vec<Value>, String),
}

#[derive(Default)]
struct Tally {
    acknowledged: Vec<String>,
    unanswered: Vec<Unanswered>,
    /// Records answered with something other than 2xx, or refused inside a 2xx sync, by status.
    refused: BTreeMap<String, usize>,
    /// Requests that failed before the kill.
    broken: usize,
}

/// One client: single POSTs and sync batches until told to stop.
async fn client(api: Api, token: String, area: String, stop: Rc<Cell<bool>>, tally: Rc<RefCell<Tally>>) {
    while !stop.get() {
        if rand::random_range(0..100) >= SYNC_SHARE {
            let record = handout(&area);
            let sent = api.client.post(api.url("/api/v1/kit-issues")).bearer_auth(&token).json(&record).send().await;
            let mut tally = tally.borrow_mut();
            match sent {
                // The status line is the acknowledgement; the body may be cut off by the kill.
                Ok(response) if response.status().is_success() => tally.acknowledged.push(id_of(&record)),
                Ok(response) => *tally.refused.entry(response.status().to_string()).or_default() += 1,
                Err(_) => {
                    tally.broken += usize::from(!stop.get());
                    tally.unanswered.push(Unanswered::Single(record, token.clone()));
                }
            }
        } else {
            let records: Vec<Value> = (0..SYNC_BATCH).map(|_| handout(&area)).collect();
            let request =
                api.client.post(api.url("/api/v1/sync")).bearer_auth(&token).json(&json!({"kit_issues": records}));
            let reply = async {
                let response = request.send().await?;
                let status = response.status();
                Ok::<_, reqwest::Error>((status, response.json::<Value>().await?))
            }
            .await;
            let mut tally = tally.borrow_mut();
            match reply {
                Ok((status, body)) if status.is_success() => {
                    for item in body["kit_issues"].as_array().into_iter().flatten() {
                        match item["status"].as_str() {
                            Some("created" | "duplicate") => tally.acknowledged.push(id_of(item)),
                            other => *tally.refused.entry(format!("sync {other:?}")).or_default() += 1,
                        }
                    }
                }
                Ok((status, _)) => *tally.refused.entry(status.to_string()).or_default() += SYNC_BATCH,
                Err(_) => {
                    tally.broken += usize::from(!stop.get());
                    tally.unanswered.push(Unanswered::Batch(records, token.clone()));
                }
            }
        }
    }
}

/// Sends the unanswered records again, as a phone would: each must answer
/// created or duplicate. Returns (created, duplicate).
async fn resend(api: &Api, unanswered: &[Unanswered], acknowledged: &mut HashSet<String>) -> (usize, usize) {
    let (mut created, mut duplicate) = (0, 0);
    for sent in unanswered {
        match sent {
            Unanswered::Single(record, token) => {
                let response = api
                    .client
                    .post(api.url("/api/v1/kit-issues"))
                    .bearer_auth(token)
                    .json(record)
                    .send()
                    .await
                    .expect("resend");
                match response.status().as_u16() {
                    201 => created += 1,
                    200 => duplicate += 1,
                    status => panic!("resending {}: {status}", id_of(record)),
                }
                acknowledged.insert(id_of(record));
            }
            Unanswered::Batch(records, token) => {
                let reply = api.post("/api/v1/sync", token, &json!({"kit_issues": records})).await;
                for item in reply["kit_issues"].as_array().expect("sync answer") {
                    match item["status"].as_str() {
                        Some("created") => created += 1,
                        Some("duplicate") => duplicate += 1,
                        other => panic!("resending {} through sync: {other:?}", id_of(item)),
                    }
                    acknowledged.insert(id_of(item));
                }
            }
        }
    }
    (created, duplicate)
}

fn unanswered_ids(unanswered: &[Unanswered]) -> Vec<String> {
    unanswered
        .iter()
        .flat_map(|sent| match sent {
            Unanswered::Single(record, _) => vec![id_of(record)],
            Unanswered::Batch(records, _) => records.iter().map(id_of).collect(),
        })
        .collect()
}

/// Rounds of load, SIGKILL, restart and check on one database. True when every check held.
async fn run(name: &str, options: &Options, database_url: &str, dir: &Path) -> bool {
    let started = Instant::now();
    create_admin(&options.process.bin, dir, database_url, ADMIN, PASSWORD);
    let mut server = Server::start(&options.process.bin, dir, database_url).await;
    let mut api = Api::new(&server, options.process.clients);
    let world = set_up(&api).await;
    let mut acknowledged: HashSet<String> = HashSet::new();
    let (mut total_missing, mut total_unanswered, mut total_unanswered_stored, mut ok) = (0, 0, 0, true);
    for round in 1..=options.rounds {
        let mut tokens = Vec::new();
        for email in &world.peers {
            tokens.push(api.login(email).await);
        }
        let stop = Rc::new(Cell::new(false));
        let tally = Rc::new(RefCell::new(Tally::default()));
        let clients: Vec<_> = (0..options.process.clients)
            .map(|n| {
                let task =
                    client(api.clone(), tokens[n % PEERS].clone(), world.area.clone(), stop.clone(), tally.clone());
                actix_web::rt::spawn(task)
            })
            .collect();
        let delay = Duration::from_millis(rand::random_range(MIN_DELAY_MS..=options.max_delay_ms));
        sleep(delay).await;
        // No await between these two: no client sees the flag before the kill.
        stop.set(true);
        server.kill();
        for task in clients {
            task.await.expect("client task");
        }
        let tally = Rc::try_unwrap(tally).ok().expect("clients finished").into_inner();

        server = Server::start(&options.process.bin, dir, database_url).await;
        api = Api::new(&server, options.process.clients);
        let admin = api.login(ADMIN).await;
        let stored = api.stored(&admin).await;
        let answered = tally.acknowledged.len();
        acknowledged.extend(tally.acknowledged);
        let missing: Vec<String> = acknowledged.iter().filter(|id| !stored.contains_key(*id)).cloned().collect();
        let unanswered = unanswered_ids(&tally.unanswered);
        let unanswered_stored = unanswered.iter().filter(|id| stored.contains_key(*id)).count();
        let extra = {
            let unanswered: HashSet<&String> = unanswered.iter().collect();
            stored.keys().filter(|id| !acknowledged.contains(*id) && !unanswered.contains(id)).count()
        };
        let kits: i64 = stored.values().sum();
        let summary = api.must(reqwest::Method::GET, "/api/v1/stats/summary", Some(&admin), None).await;
        let totals_match = summary["kits"].as_i64() == Some(kits);
        println!(
            "| {name:<10} | {round:>5} | {:>9} ms | {answered:>8} | {:>12} | {:>6} | {:>7} | {:>10} | {unanswered_stored:>6} | {:>6} |",
            delay.as_millis(),
            acknowledged.len(),
            acknowledged.len() - missing.len(),
            missing.len(),
            unanswered.len(),
            if totals_match { "match" } else { "DIFFER" },
        );

        // Send the unanswered records again; each answers 200 exactly when the kill had spared it.
        let (created, duplicate) = resend(&api, &tally.unanswered, &mut acknowledged).await;
        let resend_consistent = duplicate == unanswered_stored && created == unanswered.len() - unanswered_stored;
        if !resend_consistent {
            println!("  resent: {created} created, {duplicate} duplicate, but {unanswered_stored} had been stored");
        }
        if extra > 0 {
            println!("  {extra} stored records were neither acknowledged nor unanswered");
        }
        for id in missing.iter().take(5) {
            println!("  missing: {id}");
        }
        if !tally.refused.is_empty() || tally.broken > 0 {
            println!("  refused: {:?}; failed before the kill: {}", tally.refused, tally.broken);
        }
        if !totals_match {
            println!("  summary kits {} but the records hold {kits}", summary["kits"]);
        }
        total_missing += missing.len();
        total_unanswered += unanswered.len();
        total_unanswered_stored += unanswered_stored;
        ok &= missing.is_empty()
            && extra == 0
            && totals_match
            && resend_consistent
            && tally.broken == 0
            && tally.refused.keys().all(|status| status.starts_with("429") || status.starts_with("503"));
    }
    drop(server);
    println!(
        "  {name}: {} rounds, {} records acknowledged (resent ones included), {total_missing} missing; \
         {total_unanswered} unanswered at a kill, {total_unanswered_stored} of them stored; {:.1} s",
        options.rounds,
        acknowledged.len(),
        started.elapsed().as_secs_f64()
    );
    ok
}

fn main() {
    let options = options();
    println!(
        "SIGKILL durability: {} rounds, {} clients ({}% sync batches of {SYNC_BATCH}), kill {MIN_DELAY_MS}-{} ms into each round; {} cores; {}",
        options.rounds,
        options.process.clients,
        SYNC_SHARE,
        options.max_delay_ms,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        options.process.bin.display()
    );
    println!("answered: records answered 2xx in the round; acknowledged, found, missing: all rounds so far, checked after the restart;");
    println!("unanswered: records sent whose answer the kill cut off (resent after the check), stored: how many of those were there;");
    println!("totals: /stats/summary kits against the stored records' quantities");
    println!("| backend    | round | killed after | answered | acknowledged |  found | missing | unanswered | stored | totals |");
    println!("|------------|-------|--------------|----------|--------------|--------|---------|------------|--------|--------|");
    let ok = actix_web::rt::System::new().block_on(async {
        let mut ok = true;
        if options.process.sqlite {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("naloxone.db").display());
            ok &= run("SQLite", &options, &url, dir.path()).await;
        }
        if let Some(server) = &options.process.postgres {
            match ScratchPostgres::create(server, "nx_durability") {
                Ok(database) => {
                    let dir = tempfile::tempdir().expect("temp dir");
                    ok &= run("PostgreSQL", &options, &database.url, dir.path()).await;
                }
                Err(e) => {
                    println!("| PostgreSQL | not reachable at {server}: {e} (use --backend sqlite to leave it out)");
                    ok = false;
                }
            }
        }
        ok
    });
    if !ok {
        eprintln!("durability: FAILED");
        std::process::exit(1);
    }
}
