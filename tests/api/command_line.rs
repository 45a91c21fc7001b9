//! The commands say which database they opened and whether it is new, so
//! that one run from another folder cannot silently make a second, empty
//! database; `create-admin --existing` refuses to make one at all, and a
//! password of the wrong length is refused before anything is written.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::harness::{said, ScratchPostgres};

/// `create-admin` on `database_url`, with `password` on standard input.
fn create_admin(data_dir: &Path, database_url: &str, email: &str, password: &str, extra: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_naloxone-tracker"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--database-url", database_url, "create-admin", "--email", email])
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary");
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn create_admin_says_which_sqlite_database_it_opens() {
    let folder = tempfile::tempdir().unwrap();
    let data = folder.path().join("data");
    let file = data.join("naloxone.db");
    let url = format!("sqlite://{}", file.display());
    let password = "a long passphrase";

    let refused = create_admin(&data, &url, "one@example.org", password, &["--existing"]);
    assert!(!refused.status.success());
    assert!(said(&refused).contains("there is no database at"), "{}", said(&refused));
    assert!(!file.exists(), "--existing makes no database");

    let short = create_admin(&data, &url, "one@example.org", "short", &[]);
    assert!(!short.status.success());
    assert!(said(&short).contains("10 to 128 characters long; that one has 5"), "{}", said(&short));

    let created = create_admin(&data, &url, "one@example.org", password, &[]);
    assert!(created.status.success(), "{}", said(&created));
    assert!(said(&created).contains(&format!("creating a new database at sqlite://{}", file.display())));
    let again = create_admin(&data, &url, "two@example.org", password, &["--existing"]);
    assert!(again.status.success(), "{}", said(&again));
    assert!(said(&again).contains("using the database at"), "{}", said(&again));
}

#[test]
fn create_admin_existing_refuses_an_empty_postgres_database() {
    let Ok(server) = std::env::var("TEST_POSTGRES_URL") else {
        assert!(std::env::var("CI").is_err(), "CI must run every database test on PostgreSQL: set TEST_POSTGRES_URL");
        return;
    };
    let (_database, url) = ScratchPostgres::create(&server);
    let folder = tempfile::tempdir().unwrap();
    let refused = create_admin(folder.path(), &url, "one@example.org", "a long passphrase", &["--existing"]);
    assert!(!refused.status.success());
    assert!(said(&refused).contains("holds nothing yet"), "{}", said(&refused));
    let created = create_admin(folder.path(), &url, "one@example.org", "a long passphrase", &[]);
    assert!(said(&created).contains("creating a new database at postgres://"), "{}", said(&created));
    let again = create_admin(folder.path(), &url, "two@example.org", "a long passphrase", &["--existing"]);
    assert!(again.status.success() && said(&again).contains("using the database at"), "{}", said(&again));
}
