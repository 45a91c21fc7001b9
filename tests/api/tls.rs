//! Built-in HTTPS: a client that trusts the hub's certificate talks HTTPS
//! to the real server and is told to keep to it (HSTS); plain HTTP on that
//! port gets nowhere; unreadable, empty or mismatched files stop the server
//! before it starts, with a message that says which file and what is wrong.

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use clap::Parser;
use naloxone_tracker::config::Cli;
use naloxone_tracker::http::{AppState, Application};
use naloxone_tracker::storage::{Database, DatabaseTarget};

/// A certificate for `localhost` and its key, as PEM text.
fn self_signed() -> (String, String) {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("a certificate");
    (made.cert.pem(), made.signing_key.serialize_pem())
}

fn write(folder: &Path, name: &str, text: &str) -> PathBuf {
    let path = folder.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The server built with `--tls-cert cert --tls-key key` on a new SQLite database.
fn build(folder: &Path, cert: &Path, key: &Path) -> anyhow::Result<Application> {
    let database = format!("sqlite://{}", folder.join("tls.db").display());
    let args = ["naloxone-tracker", "--data-dir", folder.to_str().unwrap(), "--database-url", &database];
    let tls = ["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()];
    let settings = Cli::try_parse_from(args.iter().chain(&tls)).expect("settings").settings;
    let db = Database::connect(&DatabaseTarget::parse(&database), 2)?;
    db.migrate()?;
    let state = AppState::new(&settings, db)?;
    Application::build(&settings, state, TcpListener::bind("127.0.0.1:0")?)
}

fn refusal(folder: &Path, cert: &Path, key: &Path) -> String {
    match build(folder, cert, key) {
        Ok(_) => panic!("the server started with {} and {}", cert.display(), key.display()),
        Err(error) => error.to_string(),
    }
}

#[actix_web::test]
async fn a_client_talks_https_to_the_server_and_is_told_to_keep_to_it() {
    let folder = tempfile::tempdir().unwrap();
    let (cert_pem, key_pem) = self_signed();
    let cert = write(folder.path(), "cert.pem", &cert_pem);
    let key = write(folder.path(), "key.pem", &key_pem);
    let app = build(folder.path(), &cert, &key).expect("the server starts with its certificate");
    let port = app.address().port();
    let handle = app.handle();
    actix_web::rt::spawn(app.run());

    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let reply = client.get(format!("https://localhost:{port}/health")).send().await.expect("an HTTPS answer");
    assert_eq!(reply.status(), reqwest::StatusCode::OK);
    assert_eq!(reply.headers()["strict-transport-security"], "max-age=31536000");
    let spec = client.get(format!("https://localhost:{port}/api/v1/openapi.json")).send().await.unwrap();
    assert_eq!(spec.status(), reqwest::StatusCode::OK, "the API is served over it too");

    let plain = reqwest::Client::new().get(format!("http://localhost:{port}/health")).send().await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success(), "plain HTTP is not served on the HTTPS port");
    handle.stop(true).await;
}

#[actix_web::test]
async fn without_tls_there_is_no_hsts() {
    let app = crate::harness::TestApp::spawn(crate::harness::Backend::Sqlite).await.unwrap();
    let reply = app.client.get(app.url("/health")).send().await.unwrap();
    assert!(reply.headers().get("strict-transport-security").is_none(), "a proxy in front says it, not us");
}

#[test]
fn unreadable_empty_or_mismatched_files_stop_the_server_with_a_plain_message() {
    let folder = tempfile::tempdir().unwrap();
    let (cert_pem, key_pem) = self_signed();
    let (_, other_key_pem) = self_signed();
    let cert = write(folder.path(), "cert.pem", &cert_pem);
    let key = write(folder.path(), "key.pem", &key_pem);
    let other_key = write(folder.path(), "other-key.pem", &other_key_pem);
    let garbage = write(folder.path(), "notes.txt", "not a certificate\n");
    let missing = folder.path().join("missing.pem");

    let said = refusal(folder.path(), &missing, &key);
    assert!(said.contains("cannot read the TLS certificate") && said.contains("missing.pem"), "{said}");
    let said = refusal(folder.path(), &cert, &missing);
    assert!(said.contains("cannot read the TLS private key"), "{said}");
    let said = refusal(folder.path(), &garbage, &key);
    assert!(said.contains("notes.txt holds no certificate"), "{said}");
    let said = refusal(folder.path(), &cert, &garbage);
    assert!(said.contains("notes.txt holds no private key"), "{said}");
    let said = refusal(folder.path(), &key, &cert);
    assert!(said.contains("key.pem holds no certificate"), "a key given as the certificate: {said}");
    let said = refusal(folder.path(), &cert, &other_key);
    assert!(said.contains("other-key.pem does not belong to the certificate"), "{said}");

    let half = Cli::try_parse_from(["naloxone-tracker", "--tls-cert", cert.to_str().unwrap()]);
    let said = half.expect_err("--tls-cert alone is refused").to_string();
    assert!(said.contains("--tls-key"), "{said}");
}
