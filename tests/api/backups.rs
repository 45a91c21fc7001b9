//! Backups: made with the real binary while handouts are being written,
//! restored into a new folder, and served again: every record acknowledged
//! before the backup began is there, the statistics agree with the
//! records, recipient codes hash as before (repeat supplies are still
//! recognised) and certificate tokens signed before still verify.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::harness::{self, said, tally, Backend, TestApp, ADMIN_EMAIL};

const PASSPHRASE: &str = "a passphrase for the backup";

/// Runs the binary with `args` on a data folder and database.
fn run(data_dir: &Path, database_url: &str, args: &[&str]) -> std::process::Output {
    harness::run_binary(data_dir, database_url, args, &[("BACKUP_PASSPHRASE", PASSPHRASE)])
}

fn recipient_hashes(database: &str) -> Vec<String> {
    let mut conn = SqliteConnection::establish(database.trim_start_matches("sqlite://")).unwrap();
    use naloxone_tracker::storage::schema::kit_issues::dsl::*;
    kit_issues
        .filter(recipient_code_hash.is_not_null())
        .select(recipient_code_hash.assume_not_null())
        .load(&mut conn)
        .unwrap()
}

#[actix_web::test]
async fn a_backup_made_while_handouts_arrive_restores_everything_acknowledged() {
    let app = TestApp::spawn_with(Backend::Sqlite, &[]).await.unwrap();
    let o = app.outreach(false).await;
    let mut coded = tally(&o.area, 1);
    coded["recipient_code"] = json!("smi 0412");
    app.create("/api/v1/kit-issues", &o.peer, coded).await;
    let me = app.get("/api/v1/me", &o.peer).await;
    let certificate = me.body["certificates"][0]["id"].as_str().unwrap().to_owned();
    let token = app.get(&format!("/api/v1/certificates/{certificate}/token"), &o.peer).await;
    let token = token.body["token"].as_str().unwrap().to_owned();
    for quantity in 1..=20 {
        app.create("/api/v1/kit-issues", &o.peer, tally(&o.area, quantity % 7 + 1)).await;
    }
    let before = app.get("/api/v1/kit-issues?limit=200", &o.admin).await.body["items"].clone();

    // Handouts keep arriving while the backup is made.
    let writing = Arc::new(AtomicBool::new(true));
    let writer = {
        let (writing, url, peer, area) =
            (writing.clone(), app.url("/api/v1/kit-issues"), o.peer.clone(), o.area.clone());
        actix_web::rt::spawn(async move {
            let client = reqwest::Client::new();
            let mut sent = 0;
            while writing.load(Ordering::Relaxed) {
                let reply = client.post(&url).bearer_auth(&peer).json(&tally(&area, 1)).send().await.unwrap();
                assert_eq!(reply.status(), StatusCode::CREATED);
                sent += 1;
            }
            sent
        })
    };
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("hub.backup");
    let (data_dir, url, output) = (app.data_dir().to_owned(), app.database_url.clone(), file.clone());
    let made =
        tokio::task::spawn_blocking(move || run(&data_dir, &url, &["backup", "--output", output.to_str().unwrap()]))
            .await
            .unwrap();
    writing.store(false, Ordering::Relaxed);
    let sent_during = writer.await.unwrap();
    assert!(made.status.success(), "{}", said(&made));
    assert!(said(&made).contains("naloxone.db"), "{}", said(&made));
    assert!(sent_during > 0, "handouts were written while the backup was made");
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1"), "an age file");
    assert!(!bytes.windows(8).any(|w| w == b"SQLite f"), "nothing in it readable");

    let restored_root = tempfile::tempdir().unwrap();
    let restored = restored_root.path().join("data");
    let database = format!("sqlite://{}", restored.join("naloxone.db").display());
    let wrong = Command::new(env!("CARGO_BIN_EXE_naloxone-tracker"))
        .arg("--data-dir")
        .arg(&restored)
        .args(["restore", "--input", file.to_str().unwrap()])
        .env("BACKUP_PASSPHRASE", "not the passphrase")
        .output()
        .unwrap();
    assert!(!wrong.status.success() && said(&wrong).contains("passphrase"), "{}", said(&wrong));
    let restoring = run(&restored, &database, &["restore", "--input", file.to_str().unwrap()]);
    assert!(restoring.status.success(), "{}", said(&restoring));

    let back = TestApp::on_existing(restored_root, restored, database.clone());
    let admin = back.token_for(ADMIN_EMAIL).await;
    let kept = back.get("/api/v1/kit-issues?limit=200", &admin).await.body["items"].clone();
    let kept = kept.as_array().unwrap();
    for record in before.as_array().unwrap() {
        assert!(kept.contains(record), "acknowledged before the backup: {}", record["id"]);
    }
    let kits: i64 = kept.iter().map(|k| k["quantity"].as_i64().unwrap()).sum();
    let stats = back.get("/api/v1/stats/kits", &admin).await;
    assert_eq!(stats.body["totals"]["kits"].as_i64(), Some(kits), "the statistics agree with the records");

    // The same person comes back: the restored key hashes their code as before.
    let peer = back.token_for("peer@hub.example").await;
    let mut again = tally(&o.area, 1);
    again["recipient_code"] = json!("SMI0412");
    back.create("/api/v1/kit-issues", &peer, again).await;
    let hashes = recipient_hashes(&database);
    assert_eq!((hashes.len(), hashes[0] == hashes[1]), (2, true), "a repeat supply is recognised");

    // A certificate token a phone got before still verifies with the restored server's key.
    let jwks = back.request(reqwest::Method::GET, "/.well-known/jwks.json", None, None).await;
    let key = jsonwebtoken::DecodingKey::from_ed_components(jwks.body["keys"][0]["x"].as_str().unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_issuer(&["naloxone-tracker"]);
    let claims = jsonwebtoken::decode::<Value>(&token, &key, &validation).expect("the old token verifies");
    assert_eq!(claims.claims["level"], "peer_supplier");
}

/// PostgreSQL's data is `pg_dump`'s to back up; the backup holds the keys and says so.
#[actix_web::test]
async fn a_postgres_backup_holds_the_keys_and_names_pg_dump() {
    let Some(app) = TestApp::spawn_with(Backend::Postgres, &[]).await else { return };
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("keys.backup");
    let made = run(app.data_dir(), &app.database_url, &["backup", "--output", file.to_str().unwrap()]);
    assert!(made.status.success(), "{}", said(&made));
    assert!(said(&made).contains("pg_dump"), "{}", said(&made));
    let restored = folder.path().join("restored");
    let restoring = run(&restored, &app.database_url, &["restore", "--input", file.to_str().unwrap()]);
    assert!(restoring.status.success(), "{}", said(&restoring));
    for key in ["recipient_code_key", "certificate_signing_key.pem", "jwt_secret"] {
        assert_eq!(
            std::fs::read(restored.join(key)).unwrap(),
            std::fs::read(app.data_dir().join(key)).unwrap(),
            "{key}"
        );
    }
    assert!(!restored.join("naloxone.db").exists());
}
