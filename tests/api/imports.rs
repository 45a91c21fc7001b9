//! `naloxone-tracker import`: a hub's earlier records from CSV files, run
//! with the real binary on the app's own database and data folder, and
//! looked at through the API: a dry run stores nothing, a real run stores
//! what the API would (held rows held, refused rows named with their
//! fields), and the same file again stores nothing twice.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::harness::{self, TestApp};

both_backends!(
    handouts_are_judged_by_the_api_rules_and_imported_once,
    reversals_and_trainings_are_imported_as_the_people_they_name,
    the_example_files_import_into_the_demo_data,
);

const HUB: &str = "Kilmarnock Recovery Hub";

/// `examples/import/` against `seed-demo`'s data, as docs/import.md tells a
/// newcomer to try it: the demo hub's peer and trainer are certified on the
/// files' dates, the areas and products are named as the files name them.
async fn the_example_files_import_into_the_demo_data(app: TestApp) {
    // Enough years of history that the files' dates (autumn 2026) fall inside it.
    let years = (chrono::Datelike::year(&Utc::now()) - 2025 + 1).to_string();
    let seeded = harness::run_binary(
        app.data_dir(),
        &app.database_url,
        &["seed-demo", "--kits", "300", "--years", &years, "--password", "demo-password-1"],
        &[],
    );
    assert!(seeded.status.success(), "{}", harness::said(&seeded));
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/import");
    let hub = "EACH Recovery Matters Hub, Kilmarnock";
    for (kind, dry, real) in [
        ("handouts", "dry run, nothing was stored: 4 rows: 3 created, 1 held", "4 rows: 3 created, 1 held"),
        ("reversals", "dry run, nothing was stored: 2 rows: 2 created, 0 held", "2 rows: 2 created, 0 held"),
        ("trainings", "dry run, nothing was stored: 2 rows: 2 created, 0 held", "2 rows: 2 created, 0 held"),
    ] {
        let file = examples.join(format!("{kind}.csv"));
        for (extra, expected) in [(Some("--dry-run"), dry), (None, real)] {
            let mut args = vec!["import", kind, file.to_str().unwrap(), "--organisation", hub];
            args.extend(extra);
            let output = harness::run_binary(app.data_dir(), &app.database_url, &args, &[]);
            let said = harness::said(&output);
            assert!(output.status.success() && said.contains(expected), "{kind}: {said}");
        }
    }
}

/// Runs `import KIND FILE --organisation HUB [more]` and gives (success, everything it said).
fn import(app: &TestApp, kind: &str, csv: &str, more: &[&str]) -> (bool, String) {
    let file = app.data_dir().join(format!("{kind}.csv"));
    std::fs::write(&file, csv).unwrap();
    let mut args = vec!["import", kind, file.to_str().unwrap(), "--organisation", HUB];
    args.extend_from_slice(more);
    let output = harness::run_binary(app.data_dir(), &app.database_url, &args, &[]);
    (output.status.success(), harness::said(&output))
}

fn items(reply: &harness::Reply) -> Vec<Value> {
    reply.body["items"].as_array().cloned().unwrap_or_default()
}

fn days_ago(days: i64) -> chrono::NaiveDate {
    (Utc::now() - Duration::days(days)).date_naive()
}

async fn stored(app: &TestApp, coordinator: &str) -> Vec<Value> {
    items(&app.get("/api/v1/kit-issues?limit=100", coordinator).await)
}

async fn handouts_are_judged_by_the_api_rules_and_imported_once(app: TestApp) {
    let o = app.outreach(false).await;
    // Certified on paper more than a year ago, so that earlier handouts count.
    let certificate = json!({"user_id": o.peer_id, "level": "peer_supplier", "issued_on": days_ago(400).to_string(), "reason": "certified on paper", "evidence": "paper certificate"});
    let made = app.post("/api/v1/certificates", &o.admin, certificate).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let area = format!("{HUB} area");
    let (d1, d2, d3) = (days_ago(90), days_ago(60), days_ago(30));
    let csv = format!(
        "peer_email,issued_at,area,setting,product,quantity,recipient_type,consent_recorded,supply,repeat_reason,recipient_code\n\
         peer@hub.example,{d1}T14:20:00Z,{area},outreach,Prenoxad 2 mg/2 ml syringe,1,Person at risk,,first,,SMI0412\n\
         PEER@hub.example,{},{area},Hub drop-in,Prenoxad 2 mg/2 ml syringe,1,person_at_risk,,repeat,Used on overdose,SMI0412\n\
         peer@hub.example,{d3},{area},outreach,Nyxoid 1.8 mg nasal spray,6,,,,,\n\
         peer@hub.example,{d3},{area},outreach,Nyxoid 1.8 mg nasal spray,6,,,,,\n\
         peer@hub.example,{d3} 10:00,{area},home_visit,Nyxoid 1.8 mg nasal spray,1,family_friend,,first,,\n\
         peer@hub.example,{d3},Nowhere,outreach,Nyxoid 1.8 mg nasal spray,1,,,,,\n\
         peer@hub.example,{d3},{area},outreach,Nyxoid 1.8 mg nasal spray,0,,,,,\n",
        d2.format("%d/%m/%Y")
    );

    // The dry run says what each row would become and stores nothing.
    let (ok, said) = import(&app, "handouts", &csv, &["--dry-run"]);
    assert!(!ok, "refused rows make the command fail: {said}");
    assert_eq!(said.matches("would be created").count(), 4, "{said}");
    assert!(said.contains("line 6: would be held for a coordinator"), "{said}");
    assert!(said.contains("consent_not_recorded"), "{said}");
    assert!(said.contains("line 7: refused") && said.contains("area: no area is called \"Nowhere\""), "{said}");
    assert!(said.contains("line 8: refused") && said.contains("quantity"), "{said}");
    assert!(said.contains("dry run, nothing was stored: 7 rows: 4 created, 1 held"), "{said}");
    assert!(stored(&app, &o.coordinator).await.is_empty(), "a dry run stores nothing");

    // The real run stores the same: two identical tally rows are two records.
    let (ok, said) = import(&app, "handouts", &csv, &[]);
    assert!(!ok, "{said}");
    assert!(
        said.contains("7 rows: 4 created, 1 held for a coordinator to release, 0 imported before, 2 refused"),
        "{said}"
    );
    let records = stored(&app, &o.coordinator).await;
    assert_eq!(records.len(), 5, "{records:?}");
    let held = items(&app.get("/api/v1/kit-issues?state=held", &o.coordinator).await);
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["held_reasons"][0]["code"], "consent_not_recorded");
    assert!(records.iter().all(|r| r["distributor_id"] == o.peer_id.as_str()), "made as the peer named: {records:?}");
    let repeat = records.iter().find(|r| r["setting"] == "hub_drop_in").expect("the dd/mm/yyyy row");
    assert_eq!(repeat["issued_at"].as_str().unwrap()[..10], d2.to_string(), "a date alone is that day");
    let kits = app.get("/api/v1/stats/kits", &o.admin).await;
    assert_eq!(kits.body["totals"]["kits"], 14, "the held handout does not count yet: {}", kits.body);
    let audit = app.audit_of(records[0]["id"].as_str().unwrap());
    assert_eq!(audit[0].actor_id.as_deref(), Some(o.peer_id.as_str()), "the audit log names the peer");

    // The same file again: nothing new.
    let (ok, said) = import(&app, "handouts", &csv, &[]);
    assert!(!ok, "{said}");
    assert!(
        said.contains("7 rows: 0 created, 0 held for a coordinator to release, 5 imported before, 2 refused"),
        "{said}"
    );
    assert_eq!(stored(&app, &o.coordinator).await.len(), 5);
    let again = app.get("/api/v1/stats/kits", &o.admin).await;
    assert_eq!(again.body["totals"]["kits"], 14);

    // A file the importer cannot read is refused whole, before any row.
    let (ok, said) = import(&app, "handouts", "peer_email,issued_at,quantitty\npeer@hub.example,2026-01-01,1\n", &[]);
    assert!(!ok && said.contains("unknown column `quantitty`"), "{said}");
    let (ok, said) = import(&app, "handouts", "issued_at,quantity\n2026-01-01,1\n", &[]);
    assert!(!ok && said.contains("`peer_email` is missing"), "{said}");
    assert_eq!(stored(&app, &o.coordinator).await.len(), 5);
}

async fn reversals_and_trainings_are_imported_as_the_people_they_name(app: TestApp) {
    let o = app.outreach(false).await;
    let certificate = json!({"user_id": o.peer_id, "level": "peer_supplier", "issued_on": days_ago(400).to_string(), "reason": "certified on paper"});
    let made = app.post("/api/v1/certificates", &o.admin, certificate).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let (trainer_id, _) = app.user(&o.admin, "trainer@hub.example", &["trainer"], &o.organisation).await;
    let area = format!("{HUB} area");
    let day = days_ago(20);
    let reversals = format!(
        "peer_email,occurred_at,area,place,administered_by,product,doses,outcome\n\
         peer@hub.example,{day} 23:10,{area},street_or_park,reporting_peer,Prenoxad 2 mg/2 ml syringe,2,survived\n\
         peer@hub.example,{day},{area},home,kit_recipient,Nyxoid 1.8 mg nasal spray,1,maybe\n"
    );
    let (ok, said) = import(&app, "reversals", &reversals, &[]);
    assert!(!ok, "{said}");
    assert!(said.contains("2 rows: 1 created"), "{said}");
    assert!(said.contains("line 3: refused: outcome"), "the API's own checks: {said}");
    let reports = items(&app.get("/api/v1/reversals", &o.admin).await);
    assert_eq!(reports.len(), 1);
    assert_eq!((reports[0]["reporter_id"].as_str(), reports[0]["doses"].as_i64()), (Some(o.peer_id.as_str()), Some(2)));

    let trainings = format!(
        "trainer_email,delivered_on,kind,setting,attendee_emails,anonymous_attendees,kits_handed_out\n\
         trainer@hub.example,{day},awareness,community_venue,,14,9\n\
         trainer@hub.example,{},refresher,hub,peer@hub.example; nobody@hub.example,0,0\n",
        day.format("%d/%m/%Y")
    );
    let (ok, said) = import(&app, "trainings", &trainings, &[]);
    assert!(!ok && said.contains("attendee_emails: nobody has the email nobody@hub.example"), "{said}");
    let fixed = trainings.replace("; nobody@hub.example", "");
    let (ok, said) = import(&app, "trainings", &fixed, &[]);
    assert!(ok, "{said}");
    assert!(
        said.contains("2 rows: 1 created, 0 held for a coordinator to release, 1 imported before, 0 refused"),
        "{said}"
    );
    let sessions = items(&app.get("/api/v1/trainings", &o.admin).await);
    assert_eq!(sessions.len(), 2);
    assert!(sessions
        .iter()
        .all(|s| s["trainer_id"] == trainer_id.as_str() && s["organisation_id"] == o.organisation.as_str()));
    let refresher = sessions.iter().find(|s| s["kind"] == "refresher").unwrap();
    assert_eq!(refresher["attendee_ids"], json!([o.peer_id]));
}
