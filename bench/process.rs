//! What the process benches (durability, load) share: their command line,
//! the real server binary run as a child process, its first admin made with
//! `create-admin`, and a scratch PostgreSQL database.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use actix_web::rt::time::sleep;
use diesel::prelude::*;

/// The options every process bench takes, and the numbers of its own flags.
pub struct Options {
    pub bin: PathBuf,
    pub clients: usize,
    pub sqlite: bool,
    /// A server where databases may be created; `None` skips PostgreSQL.
    pub postgres: Option<String>,
    own: HashMap<&'static str, u64>,
}

impl Options {
    /// The number given for one of the bench's own flags, if any.
    pub fn own(&self, flag: &str) -> Option<u64> {
        self.own.get(flag).copied()
    }
}

fn usage(bench: &str, own_flags: &[&str], message: &str) -> ! {
    eprintln!("{bench}: {message}");
    let own: String = own_flags.iter().map(|flag| format!("{flag} N, ")).collect();
    eprintln!("options: {own}--clients N, --backend sqlite|postgres|both, --bin PATH, --postgres URL");
    std::process::exit(2)
}

/// Reads the command line: `--clients N` (default `clients`), `--backend`,
/// `--bin` (default: the binary of the profile being built), `--postgres`
/// (default `BENCH_POSTGRES_URL`, then `TEST_POSTGRES_URL`, then the local
/// server) and the bench's own flags, each with a number.
pub fn options(bench: &str, own_flags: &[&'static str], clients: usize) -> Options {
    let postgres_url = std::env::var("BENCH_POSTGRES_URL")
        .or_else(|_| std::env::var("TEST_POSTGRES_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut options = Options {
        bin: PathBuf::from(env!("CARGO_BIN_EXE_naloxone-tracker")),
        clients,
        sqlite: true,
        postgres: Some(postgres_url),
        own: HashMap::new(),
    };
    let usage = |message: &str| -> ! { usage(bench, own_flags, message) };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage(&format!("{arg} needs a value")));
        let number = |text: String| text.parse::<u64>().unwrap_or_else(|_| usage(&format!("not a number: {text}")));
        match arg.as_str() {
            "--bench" => {} // added by `cargo bench`
            "--clients" => options.clients = number(value()).max(1) as usize,
            "--bin" => options.bin = PathBuf::from(value()),
            "--postgres" => options.postgres = Some(value()),
            "--backend" => match value().as_str() {
                "sqlite" => options.postgres = None,
                "postgres" => options.sqlite = false,
                "both" => {}
                other => usage(&format!("unknown backend {other}")),
            },
            other => match own_flags.iter().find(|flag| **flag == other) {
                Some(flag) => {
                    options.own.insert(flag, number(value()));
                }
                None => usage(&format!("unknown argument {other}")),
            },
        }
    }
    if !options.bin.is_file() {
        usage(&format!("no server binary at {}", options.bin.display()));
    }
    options
}

/// The server binary running as a child process; killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    log: PathBuf,
}

impl Server {
    /// Starts `serve` on a free port and waits for `/health`.
    pub async fn start(bin: &Path, dir: &Path, database_url: &str) -> Server {
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let log = dir.join("server.log");
        let file = OpenOptions::new().create(true).append(true).open(&log).expect("server log");
        let child = Command::new(bin)
            .arg("serve")
            .arg("--data-dir")
            .arg(dir)
            .args(["--database-url", database_url, "--bind", &format!("127.0.0.1:{port}")])
            .args(["--access-token-ttl-seconds", "86400"])
            .env("RUST_LOG", "warn")
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("server log"))
            .stderr(file)
            .spawn()
            .expect("start the server");
        let mut server = Server { child, base: format!("http://127.0.0.1:{port}"), log };
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Some(status) = server.child.try_wait().expect("server status") {
                panic!("the server stopped at start ({status}):\n{}", server.log_tail());
            }
            let health = client.get(format!("{}/health", server.base)).send().await;
            if health.is_ok_and(|r| r.status().is_success()) {
                return server;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "no /health after 60 s:\n{}", server.log_tail());
            sleep(Duration::from_millis(10)).await;
        }
    }

    /// SIGKILL, and reap the process.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The first admin, made as an operator would: `create-admin`, password on standard input.
pub fn create_admin(bin: &Path, dir: &Path, database_url: &str, email: &str, password: &str) {
    let mut child = Command::new(bin)
        .args(["create-admin", "--email", email, "--data-dir"])
        .arg(dir)
        .args(["--database-url", database_url])
        .env("RUST_LOG", "warn")
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run create-admin");
    child.stdin.take().expect("stdin").write_all(format!("{password}\n").as_bytes()).expect("password");
    let output = child.wait_with_output().expect("create-admin");
    assert!(output.status.success(), "create-admin failed: {}", String::from_utf8_lossy(&output.stderr));
}

/// A fresh PostgreSQL database, dropped when this is.
pub struct ScratchPostgres {
    server: String,
    name: String,
    pub url: String,
}

impl ScratchPostgres {
    /// A database named `prefix` and a random suffix on `server`.
    pub fn create(server: &str, prefix: &str) -> Result<Self, String> {
        let mut admin = PgConnection::establish(server).map_err(|e| e.to_string())?;
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut admin).map_err(|e| e.to_string())?;
        let (base, query) = server.split_once('?').map_or((server, String::new()), |(b, q)| (b, format!("?{q}")));
        let after_scheme = base.find("://").map_or(0, |i| i + 3);
        let host = base[after_scheme..].find('/').map_or(base, |slash| &base[..after_scheme + slash]);
        Ok(Self { server: server.to_owned(), url: format!("{host}/{name}{query}"), name })
    }
}

impl Drop for ScratchPostgres {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&self.server) {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name))
                .execute(&mut admin);
        }
    }
}
