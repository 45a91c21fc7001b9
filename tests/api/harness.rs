//! Test harness: every test starts the real application on a random port,
//! with a database of its own, and talks HTTP to it.

use std::net::TcpListener;

use clap::Parser;
use diesel::prelude::*;
use naloxone_tracker::config::Cli;
use naloxone_tracker::http::{AppState, Application};
use naloxone_tracker::storage::{Database, DatabaseTarget};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// What a test's own query answers (the storage layer's error).
pub type Stored<T> = Result<T, naloxone_tracker::storage::Error>;

pub const ADMIN_EMAIL: &str = "admin@test.example";
pub const PASSWORD: &str = "correct horse battery";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs an `async fn name(app: TestApp)` once on SQLite and once on
/// PostgreSQL (when `TEST_POSTGRES_URL` is set), each in a fresh database.
/// `main.rs` declares this module first, with `#[macro_use]`, so that every
/// module after it can call the macro.
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[actix_web::test]
            async fn sqlite() {
                let app = $crate::harness::TestApp::spawn($crate::harness::Backend::Sqlite).await.expect("SQLite app");
                super::$name(app).await;
            }

            #[actix_web::test]
            async fn postgres() {
                match $crate::harness::TestApp::spawn($crate::harness::Backend::Postgres).await {
                    Some(app) => super::$name(app).await,
                    None => eprintln!("skipped: set TEST_POSTGRES_URL to run this on PostgreSQL"),
                }
            }
        }
    )+};
}

/// The id of the seeded Prenoxad product.
pub const PRENOXAD: &str = "0194f0a0-0000-7000-8000-000000000001";
/// The id of the seeded Nyxoid product.
pub const NYXOID: &str = "0194f0a0-0000-7000-8000-000000000002";

/// A hub with a coordinator and a certified peer.
pub struct Outreach {
    pub admin: String,
    pub area: String,
    pub organisation: String,
    pub coordinator: String,
    pub peer_id: String,
    pub peer: String,
}

/// The smallest handout a peer can record: a tally with nothing about the recipient.
pub fn tally(area: &str, quantity: i32) -> Value {
    json!({
        "id": uuid::Uuid::new_v4(),
        "issued_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "area_id": area,
        "setting": "outreach",
        "product_id": PRENOXAD,
        "quantity": quantity,
    })
}

/// Runs the server's binary with `args` on a data folder and database
/// (logging only warnings), with `env` set.
pub fn run_binary(
    data_dir: &std::path::Path,
    database_url: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_naloxone-tracker"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--database-url", database_url])
        .args(args)
        .envs(env.iter().copied())
        .env("RUST_LOG", "warn")
        .output()
        .expect("run the binary")
}

/// Everything a run of the binary said, standard output then error.
pub fn said(output: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// A PostgreSQL database made for one test and dropped after it.
pub struct ScratchPostgres {
    server_url: String,
    name: String,
}

impl ScratchPostgres {
    /// A fresh database on the server at `server_url`, and its URL.
    pub fn create(server_url: &str) -> (Self, String) {
        // The test server is local: TLS buys nothing, and libpq's OpenSSL
        // cleanup at process exit has crashed the test binary (1 run in
        // 30) while pool threads still held TLS connections.
        let server_url: &str = &if server_url.contains("sslmode=") {
            server_url.to_owned()
        } else {
            format!("{server_url}{}sslmode=disable", if server_url.contains('?') { '&' } else { '?' })
        };
        let name = format!("nx_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(server_url).expect("connect to TEST_POSTGRES_URL");
        diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut admin).expect("create test database");
        let (scheme_and_host, query) = match server_url.split_once('?') {
            Some((base, query)) => (base, format!("?{query}")),
            None => (server_url, String::new()),
        };
        let after_scheme = scheme_and_host.find("://").map_or(0, |i| i + 3);
        let base = match scheme_and_host[after_scheme..].find('/') {
            Some(slash) => &scheme_and_host[..after_scheme + slash],
            None => scheme_and_host,
        };
        let url = format!("{base}/{name}{query}");
        (Self { server_url: server_url.to_owned(), name }, url)
    }
}

impl Drop for ScratchPostgres {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&self.server_url) {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name))
                .execute(&mut admin);
        }
    }
}

pub struct TestApp {
    server: actix_web::dev::ServerHandle,
    pub base_url: String,
    /// `http://…` of the metrics server, when `--metrics-bind` started one.
    pub metrics_url: Option<String>,
    pub client: reqwest::Client,
    pub db: Database,
    pub backend: Backend,
    /// The test's own database, for tests that work on it from outside the app.
    pub database_url: String,
    data_dir: std::path::PathBuf,
    /// Holds the data folder; removed with the app.
    _folder: tempfile::TempDir,
    _postgres: Option<ScratchPostgres>,
}

type StoredAudit = (String, Option<String>, Option<String>, Option<String>);

pub struct AuditRow {
    pub action: String,
    pub actor_id: Option<String>,
    pub before: Option<Value>,
    pub after: Value,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The problem `code` of an error answer.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    pub fn is_problem(&self) -> bool {
        self.headers.get("content-type").is_some_and(|v| v == "application/problem+json")
    }

    /// The codes of a held record's `held_reasons` (of the record answered,
    /// or of a sync item's result).
    pub fn held_codes(&self) -> Vec<String> {
        held_codes(&self.body)
    }

    /// The fields named in a 422's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

impl Drop for TestApp {
    /// Stops the server's workers, so that none is still using the
    /// database when it is dropped or the process exits.
    fn drop(&mut self) {
        drop(self.server.stop(false));
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, &[]).await
    }

    /// Starts the app with extra command-line settings.
    pub async fn spawn_with(backend: Backend, flags: &[&str]) -> Option<Self> {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let (postgres, database_url) = match backend {
            Backend::Sqlite => (None, format!("sqlite://{}", data_dir.path().join("test.db").display())),
            Backend::Postgres => {
                let Ok(server_url) = std::env::var("TEST_POSTGRES_URL") else {
                    assert!(
                        std::env::var_os("CI").is_none(),
                        "CI must run every database test on PostgreSQL: set TEST_POSTGRES_URL"
                    );
                    return None;
                };
                let (scratch, url) = ScratchPostgres::create(&server_url);
                (Some(scratch), url)
            }
        };
        let path = data_dir.path().to_owned();
        Some(Self::start(backend, (data_dir, path), database_url, postgres, flags))
    }

    /// Starts the app on a data folder and database that exist already
    /// (`folder` holds the data folder, `data_dir`, and goes with the app).
    pub fn on_existing(folder: tempfile::TempDir, data_dir: std::path::PathBuf, database_url: String) -> Self {
        Self::start(Backend::Sqlite, (folder, data_dir), database_url, None, &[])
    }

    fn start(
        backend: Backend,
        (folder, data_dir): (tempfile::TempDir, std::path::PathBuf),
        database_url: String,
        postgres: Option<ScratchPostgres>,
        flags: &[&str],
    ) -> Self {
        let data_dir_text = data_dir.display().to_string();
        let mut args = vec![
            "naloxone-tracker",
            "--data-dir",
            &data_dir_text,
            "--database-url",
            &database_url,
            "--database-pool-size",
            "4",
        ];
        args.extend_from_slice(flags);
        let settings = Cli::try_parse_from(args).expect("test settings").settings;
        let db =
            Database::connect(&DatabaseTarget::parse(&database_url), settings.database_pool_size).expect("database");
        db.migrate().expect("migrations");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let state = AppState::new(&settings, db.clone()).expect("state");
        let app = Application::build(&settings, state, listener).expect("app");
        let base_url = format!("http://{}", app.address());
        let metrics_url = app.metrics_address().map(|address| format!("http://{address}"));
        let server = app.handle();
        actix_web::rt::spawn(app.run());
        Self {
            server,
            base_url,
            metrics_url,
            client: reqwest::Client::builder().build().expect("client"),
            db,
            backend,
            database_url,
            data_dir,
            _folder: folder,
            _postgres: postgres,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    pub async fn request(&self, method: Method, path: &str, token: Option<&str>, body: Option<&Value>) -> Reply {
        self.request_with(method, path, token, body, &[]).await
    }

    /// A request with headers of its own (`If-Match`, …).
    pub async fn request_with(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self.client.request(method.clone(), self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        let reply = Reply { status, headers, body };
        crate::documented::check(&method, path, status.as_u16(), reply.is_problem().then(|| reply.code()));
        reply
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.request(Method::POST, path, Some(token), Some(&body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.request(Method::PATCH, path, Some(token), Some(&body)).await
    }

    /// Signs in and returns the whole token pair.
    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.request(Method::POST, "/api/v1/auth/login", None, Some(&json!({"email": email, "password": password})))
            .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Reply {
        self.request(Method::POST, "/api/v1/auth/refresh", None, Some(&json!({"refresh_token": refresh_token}))).await
    }

    pub async fn token_for(&self, email: &str) -> String {
        let reply = self.login(email, PASSWORD).await;
        assert_eq!(reply.status, StatusCode::OK, "login of {email}: {}", reply.body);
        reply.body["access_token"].as_str().expect("access token").to_owned()
    }

    /// Creates the first admin as the command line does and signs in.
    pub async fn admin(&self) -> String {
        naloxone_tracker::domain::users::create_admin(&self.db, ADMIN_EMAIL, "Test Admin", PASSWORD)
            .expect("create admin");
        self.token_for(ADMIN_EMAIL).await
    }

    /// Creates a record and returns its id, asserting 201.
    pub async fn create(&self, path: &str, token: &str, body: Value) -> String {
        let reply = self.post(path, token, body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "POST {path}: {}", reply.body);
        reply.body["id"].as_str().expect("id").to_owned()
    }

    /// An area with an organisation in it: (area_id, organisation_id).
    pub async fn hub(&self, admin: &str, name: &str) -> (String, String) {
        let area = self.create("/api/v1/areas", admin, json!({"name": format!("{name} area")})).await;
        let organisation = self
            .create("/api/v1/organisations", admin, json!({"name": name, "kind": "recovery_hub", "area_id": area}))
            .await;
        (area, organisation)
    }

    /// A hub (tracking stock or not) with a coordinator and a peer certified to supply.
    pub async fn outreach(&self, tracks_stock: bool) -> Outreach {
        let admin = self.admin().await;
        let (area, organisation) = self.hub(&admin, "Kilmarnock Recovery Hub").await;
        if tracks_stock {
            let reply = self
                .patch(&format!("/api/v1/organisations/{organisation}"), &admin, json!({"tracks_stock": true}))
                .await;
            assert_eq!(reply.status, StatusCode::OK);
        }
        let (_, coordinator) = self.user(&admin, "coord@hub.example", &["coordinator"], &organisation).await;
        let (peer_id, peer) = self.certified_peer(&admin, "peer@hub.example", &organisation).await;
        Outreach { admin, area, organisation, coordinator, peer_id, peer }
    }

    /// A peer of `organisation` holding a peer_supplier certificate from now on.
    pub async fn certified_peer(&self, admin: &str, email: &str, organisation: &str) -> (String, String) {
        let (peer_id, peer) = self.user(admin, email, &["peer"], organisation).await;
        self.create(
            "/api/v1/certificates",
            admin,
            json!({"user_id": peer_id, "level": "peer_supplier", "reason": "certified on paper"}),
        )
        .await;
        (peer_id, peer)
    }

    /// Creates a user with `roles` in `organisation_id` and signs them in.
    pub async fn user(&self, creator: &str, email: &str, roles: &[&str], organisation_id: &str) -> (String, String) {
        let id = self
            .create(
                "/api/v1/users",
                creator,
                json!({"email": email, "display_name": email, "password": PASSWORD, "roles": roles, "organisation_id": organisation_id}),
            )
            .await;
        (id, self.token_for(email).await)
    }

    /// A commissioner of `area`, signed in: (user id, token).
    pub async fn user_in_area(&self, creator: &str, email: &str, area: &str) -> (String, String) {
        let id = self
            .create(
                "/api/v1/users",
                creator,
                json!({"email": email, "display_name": email, "password": PASSWORD, "roles": ["commissioner"], "area_id": area}),
            )
            .await;
        (id, self.token_for(email).await)
    }

    /// The audit entries of one record, oldest first.
    pub fn audit_of(&self, entity: &str) -> Vec<AuditRow> {
        use naloxone_tracker::storage::schema::audit_entries::dsl::*;
        let wanted = entity.to_owned();
        let rows: Vec<StoredAudit> = self
            .db
            .run_blocking(move |conn| -> crate::harness::Stored<_> {
                Ok(audit_entries
                    .filter(entity_id.eq(wanted))
                    .order(occurred_at.asc())
                    .select((action, actor_id, before_json, after_json))
                    .load(conn)?)
            })
            .expect("audit rows");
        let parse = |text: &str| serde_json::from_str::<Value>(text).expect("audit JSON");
        rows.into_iter()
            .map(|(a, who, before, after)| AuditRow {
                action: a,
                actor_id: who,
                before: before.as_deref().map(parse),
                after: after.as_deref().map(parse).unwrap_or(Value::Null),
            })
            .collect()
    }
}

impl TestApp {
    /// The app's data folder, where it keeps the secrets it generated
    /// (`jwt_secret`, …): hostile-input tests sign their own tokens with it.
    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }
}

/// The codes of a record's (or a sync result's) `held_reasons`.
pub fn held_codes(record: &Value) -> Vec<String> {
    record["held_reasons"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|reason| reason["code"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Kits in the recorded handouts of an outreach hub, and what the
/// statistics count: equal whenever the running totals are right.
pub async fn kits_recorded_and_counted(app: &TestApp, o: &Outreach) -> (i64, i64) {
    let handouts = app.get("/api/v1/kit-issues?state=recorded&limit=200", &o.coordinator).await;
    let recorded =
        handouts.body["items"].as_array().expect("handouts").iter().map(|h| h["quantity"].as_i64().unwrap()).sum();
    let stats = app.get("/api/v1/stats/kits", &o.admin).await;
    (recorded, stats.body["totals"]["kits"].as_i64().unwrap_or_default())
}
