//! The database, its log and the keys are created readable by their owner
//! only, and the data folder entered by them only, whatever the umask: the
//! real binary is started with a umask that takes nothing away (000).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{Backend, ScratchPostgres};

/// The server, killed when the test ends however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

/// Starts `serve` under umask 000 and waits for `files` (in `data_dir`) to exist.
fn serve_until(data_dir: &Path, database_url: &str, files: &[PathBuf]) -> Server {
    let server = Command::new("sh")
        .arg("-c")
        .arg(r#"umask 000 && exec "$0" "$@""#)
        .arg(env!("CARGO_BIN_EXE_naloxone-tracker"))
        .args(["--bind", "127.0.0.1:0", "--database-pool-size", "2", "--data-dir"])
        .arg(data_dir)
        .args(["--database-url", database_url, "serve"])
        .env_remove("JWT_SECRET")
        .env_remove("RECIPIENT_CODE_KEY")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server binary");
    let mut server = Server(server);
    let started = Instant::now();
    while !files.iter().all(|f| f.exists()) {
        if let Some(status) = server.0.try_wait().expect("server status") {
            panic!("the server stopped ({status}) before making {files:?}");
        }
        assert!(started.elapsed() < Duration::from_secs(60), "still missing after 60 s: {files:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

fn data_and_keys_are_the_owners_alone(backend: Backend) {
    let root = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // Two levels the server makes itself.
    let data_dir = root.path().join("srv").join("data");
    let keys = ["jwt_secret", "recipient_code_key", "certificate_signing_key.pem"].map(|k| data_dir.join(k));
    let (_postgres, database_url, database_files) = match backend {
        Backend::Sqlite => {
            let db = data_dir.join("naloxone.db");
            let files = ["", "-wal", "-shm"].map(|suffix| PathBuf::from(format!("{}{suffix}", db.display())));
            (None, format!("sqlite://{}", db.display()), files.to_vec())
        }
        Backend::Postgres => {
            let Ok(server_url) = std::env::var("TEST_POSTGRES_URL") else {
                return eprintln!("skipped: set TEST_POSTGRES_URL to run this on PostgreSQL");
            };
            let (scratch, url) = ScratchPostgres::create(&server_url);
            (Some(scratch), url, Vec::new())
        }
    };
    let mut files = keys.to_vec();
    files.extend(database_files.iter().cloned());
    let _server = serve_until(&data_dir, &database_url, &files);
    assert_eq!(mode(&root.path().join("srv")), 0o700, "a folder the server made");
    assert_eq!(mode(&data_dir), 0o700, "the data folder");
    for file in &files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
}

#[test]
fn data_and_keys_are_the_owners_alone_sqlite() {
    data_and_keys_are_the_owners_alone(Backend::Sqlite);
}

#[test]
fn data_and_keys_are_the_owners_alone_postgres() {
    data_and_keys_are_the_owners_alone(Backend::Postgres);
}
