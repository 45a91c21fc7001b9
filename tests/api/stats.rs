//! Statistics: counts equal the raw records (random data), corrections and
//! voids, periods, scope, disclosure control, CSV, the summary and spike alerts.

use std::collections::BTreeMap;

use crate::harness::{self, TestApp, NYXOID, PASSWORD, PRENOXAD};
use chrono::{Datelike, Duration, NaiveDate, SecondsFormat, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::{json, Value};

both_backends!(
    kit_counts_equal_the_raw_records,
    reversal_counts_by_period_equal_the_raw_records,
    training_counts_follow_sessions_and_certificates,
    counts_follow_corrections_and_voids,
    commissioners_see_their_area_with_small_counts_suppressed,
    who_may_see_what,
    tables_come_as_csv,
    the_summary_gives_headline_figures,
    spike_alerts_follow_the_rule,
    bad_queries_are_refused,
);

const NAIVE_4MG: &str = "0194f0a0-0000-7000-8000-000000000003";

fn doses_per_kit(product: &str) -> i64 {
    if product == PRENOXAD {
        5
    } else {
        2
    }
}

fn pick<'a>(rng: &mut StdRng, options: &[&'a str]) -> &'a str {
    options[rng.random_range(0..options.len())]
}

/// A handout with random dimensions, issued now.
fn random_handout(rng: &mut StdRng, areas: &[String]) -> Value {
    let recipient = pick(rng, &["person_at_risk", "person_at_risk", "family_friend", "service_worker", "unknown"]);
    let supply = pick(rng, &["first", "repeat", ""]);
    let mut body = json!({
        "id": uuid::Uuid::new_v4(),
        "issued_at": Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true),
        "area_id": areas[rng.random_range(0..areas.len())],
        "setting": pick(rng, &["outreach", "hub_drop_in", "prison_release", "event"]),
        "product_id": pick(rng, &[PRENOXAD, NYXOID, NAIVE_4MG]),
        "quantity": rng.random_range(1..4),
        "recipient_type": recipient,
    });
    if recipient == "family_friend" {
        body["consent_recorded"] = json!(true);
    }
    if !supply.is_empty() {
        body["supply"] = json!(supply);
    }
    if supply == "repeat" {
        body["repeat_reason"] = json!(pick(rng, &["used_on_overdose", "lost", "expired"]));
    }
    body
}

/// Every record of a list, following its cursor.
async fn all(app: &TestApp, path: &str, token: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let separator = if path.contains('?') { '&' } else { '?' };
        let page = match &cursor {
            Some(c) => format!("{path}{separator}limit=100&cursor={c}"),
            None => format!("{path}{separator}limit=100"),
        };
        let reply = app.get(&page, token).await;
        assert_eq!(reply.status, StatusCode::OK, "{page}: {}", reply.body);
        items.extend(reply.body["items"].as_array().unwrap().iter().cloned());
        match reply.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return items,
        }
    }
}

/// Group keys as JSON text (`"outreach"`, `null`), so they sort.
type Groups = BTreeMap<Vec<String>, Vec<i64>>;

fn key(values: &[Value]) -> Vec<String> {
    values.iter().map(Value::to_string).collect()
}

/// A statistics table as group keys → counts (suppressed counts as −1).
fn groups(table: &Value, keys: &[&str], counts: &[&str]) -> Groups {
    table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let key = keys.iter().map(|k| row[*k].to_string()).collect();
            let values = counts.iter().map(|c| row[*c].as_i64().unwrap_or(-1)).collect();
            (key, values)
        })
        .collect()
}

async fn stats(app: &TestApp, token: &str, path: &str) -> Value {
    let reply = app.get(path, token).await;
    assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
    reply.body
}

/// The period label of an instant, as the API gives it.
fn label(grain: &str, at: &str) -> String {
    let day = chrono::DateTime::parse_from_rfc3339(at).unwrap().with_timezone(&Utc).date_naive();
    match grain {
        "day" => day.format("%Y-%m-%d").to_string(),
        "week" => format!("{:04}-W{:02}", day.iso_week().year(), day.iso_week().week()),
        "month" => day.format("%Y-%m").to_string(),
        "quarter" => format!("{:04}-Q{}", day.year(), day.month0() / 3 + 1),
        _ => day.format("%Y").to_string(),
    }
}

/// A nation with a board beneath it and a partnership beneath that, each
/// with a hub: (area ids, organisation ids, admin token).
async fn nested_hubs(app: &TestApp) -> (Vec<String>, Vec<String>, String) {
    let admin = app.admin().await;
    let nation = app.create("/api/v1/areas", &admin, json!({"name": "Scotland"})).await;
    let board =
        app.create("/api/v1/areas", &admin, json!({"name": "NHS Ayrshire and Arran", "parent_id": nation})).await;
    let adp = app
        .create(
            "/api/v1/areas",
            &admin,
            json!({"name": "East Ayrshire ADP", "parent_id": board, "population_at_risk": 2000}),
        )
        .await;
    let mut organisations = Vec::new();
    for (name, area) in [("EACH Recovery Matters", &adp), ("Ayrshire Outreach", &board)] {
        organisations.push(
            app.create("/api/v1/organisations", &admin, json!({"name": name, "kind": "recovery_hub", "area_id": area}))
                .await,
        );
    }
    (vec![nation, board, adp], organisations, admin)
}

async fn kit_counts_equal_the_raw_records(app: TestApp) {
    let (areas, organisations, admin) = nested_hubs(&app).await;
    let mut peers = Vec::new();
    for (i, organisation) in organisations.iter().enumerate() {
        peers.push(app.certified_peer(&admin, &format!("peer{i}@hub.example"), organisation).await.1);
    }
    let mut rng = StdRng::seed_from_u64(7);
    let mut ids = Vec::new();
    for _ in 0..40 {
        let peer = &peers[rng.random_range(0..peers.len())];
        ids.push((app.create("/api/v1/kit-issues", peer, random_handout(&mut rng, &areas)).await, peer.clone()));
    }
    // Some corrected (moved to another setting, area or quantity), some voided.
    for (id, peer) in ids.iter().step_by(5) {
        let patch = json!({"setting": "pharmacy", "quantity": rng.random_range(1..6), "area_id": areas[2]});
        assert_eq!(app.patch(&format!("/api/v1/kit-issues/{id}"), peer, patch).await.status, StatusCode::OK);
    }
    for (id, peer) in ids.iter().skip(2).step_by(7) {
        let reply = app.post(&format!("/api/v1/kit-issues/{id}/void"), peer, json!({"reason": "entered twice"})).await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    let standing = all(&app, "/api/v1/kit-issues?voided=false", &admin).await;
    assert!(standing.len() > 30);
    let field = |record: &Value, name: &str| -> Value {
        match name {
            "area" => record["area_id"].clone(),
            "organisation" => record["organisation_id"].clone(),
            "product" => record["product_id"].clone(),
            other => record[other].clone(),
        }
    };
    let names = ["kits", "doses", "first_supplies"];
    let cases: [&[&str]; 6] = [
        &[],
        &["area"],
        &["setting", "recipient_type"],
        &["supply", "repeat_reason"],
        &["product", "organisation"],
        &["area", "organisation", "setting", "recipient_type", "supply", "repeat_reason", "product"],
    ];
    for dims in cases {
        let mut expected = Groups::new();
        for record in &standing {
            let key: Vec<String> = dims.iter().map(|d| field(record, d).to_string()).collect();
            let kits = record["quantity"].as_i64().unwrap();
            let first = if record["supply"] == "first" { kits } else { 0 };
            let doses = kits * doses_per_kit(record["product_id"].as_str().unwrap());
            let entry = expected.entry(key).or_insert_with(|| vec![0; 3]);
            for (total, add) in entry.iter_mut().zip([kits, doses, first]) {
                *total += add;
            }
        }
        let table = stats(&app, &admin, &format!("/api/v1/stats/kits?group_by={}", dims.join(","))).await;
        let keys: Vec<&str> = dims
            .iter()
            .map(|d| match *d {
                "area" => "area_id",
                "organisation" => "organisation_id",
                "product" => "product_id",
                other => other,
            })
            .collect();
        assert_eq!(groups(&table, &keys, &names), expected, "group_by={dims:?}");
        assert_eq!(table["disclosure_threshold"], Value::Null);
    }
    // A filter on an area takes in the areas beneath it.
    let board_and_below: i64 = standing
        .iter()
        .filter(|r| r["area_id"] != areas[0].as_str() && r["setting"] == "outreach")
        .map(|r| r["quantity"].as_i64().unwrap())
        .sum();
    let table = stats(&app, &admin, &format!("/api/v1/stats/kits?area_id={}&setting=outreach", areas[1])).await;
    assert_eq!(table["totals"]["kits"], board_and_below);
}

async fn reversal_counts_by_period_equal_the_raw_records(app: TestApp) {
    let o = app.outreach(false).await;
    let mut rng = StdRng::seed_from_u64(11);
    let now = Utc::now();
    let mut reports = Vec::new();
    for _ in 0..60 {
        let occurred = now - Duration::minutes(rng.random_range(0..(2 * 365 * 24 * 60)));
        reports.push(json!({
            "id": uuid::Uuid::new_v4(),
            "occurred_at": occurred.to_rfc3339_opts(SecondsFormat::Micros, true),
            "area_id": o.area,
            "place": pick(&mut rng, &["home", "street_or_park", "hostel"]),
            "administered_by": pick(&mut rng, &["reporting_peer", "kit_recipient"]),
            "product_id": pick(&mut rng, &[PRENOXAD, NYXOID]),
            "doses": rng.random_range(1..4),
            "outcome": pick(&mut rng, &["survived", "survived", "survived", "died", "unknown"]),
        }));
    }
    let reply = app.post("/api/v1/sync", &o.peer, json!({"reversals": reports})).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body["reversals"].as_array().unwrap().iter().all(|r| r["status"] == "created"));
    // Corrections move reports in time and change outcomes; voids take them away.
    for report in reports.iter().step_by(6) {
        let moved = (now - Duration::days(rng.random_range(0..700))).to_rfc3339_opts(SecondsFormat::Micros, true);
        let patch = json!({"occurred_at": moved, "outcome": "died"});
        let reply = app.patch(&format!("/api/v1/reversals/{}", report["id"].as_str().unwrap()), &o.peer, patch).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    for report in reports.iter().skip(1).step_by(9) {
        let path = format!("/api/v1/reversals/{}/void", report["id"].as_str().unwrap());
        assert_eq!(app.post(&path, &o.peer, json!({"reason": "duplicate"})).await.status, StatusCode::OK);
    }
    let standing = all(&app, "/api/v1/reversals?voided=false", &o.admin).await;
    let names = ["reports", "survived", "died", "unknown_outcome", "doses"];
    let today = now.date_naive();
    // Whole years, and a range with ragged ends read partly by day and partly by month.
    let ranges = [
        (None, None),
        (Some(today - Duration::days(400)), Some(today - Duration::days(35))),
        (Some(today - Duration::days(20)), Some(today)),
    ];
    for grain in ["day", "week", "month", "quarter", "year"] {
        for (from, to) in ranges {
            let mut expected = Groups::new();
            for record in &standing {
                let at = record["occurred_at"].as_str().unwrap();
                let day = chrono::DateTime::parse_from_rfc3339(at).unwrap().with_timezone(&Utc).date_naive();
                if from.is_some_and(|f| day < f) || to.is_some_and(|t| day > t) {
                    continue;
                }
                let outcome = record["outcome"].as_str().unwrap();
                let add = [
                    1,
                    i64::from(outcome == "survived"),
                    i64::from(outcome == "died"),
                    i64::from(outcome == "unknown"),
                    record["doses"].as_i64().unwrap(),
                ];
                let key = key(&[json!(label(grain, at)), record["outcome"].clone()]);
                let entry = expected.entry(key).or_insert_with(|| vec![0; 5]);
                for (total, value) in entry.iter_mut().zip(add) {
                    *total += value;
                }
            }
            let mut path = format!("/api/v1/stats/reversals?group_by={grain},outcome");
            for (name, date) in [("from", from), ("to", to)] {
                if let Some(date) = date {
                    path.push_str(&format!("&{name}={date}"));
                }
            }
            let table = stats(&app, &o.admin, &path).await;
            assert_eq!(groups(&table, &["period", "outcome"], &names), expected, "{path}");
        }
    }
}

async fn training_counts_follow_sessions_and_certificates(app: TestApp) {
    let o = app.outreach(false).await;
    let (trainer_id, trainer) = app.user(&o.admin, "trainer@hub.example", &["trainer"], &o.organisation).await;
    app.create(
        "/api/v1/certificates",
        &o.admin,
        json!({"user_id": trainer_id, "level": "peer_trainer", "reason": "the first trainer"}),
    )
    .await;
    let (learner, _) = app.user(&o.admin, "learner@hub.example", &["peer"], &o.organisation).await;
    let today = Utc::now().date_naive();
    let session = |kind: &str, attendees: Vec<&str>, anonymous: i32, day: NaiveDate| {
        json!({"id": uuid::Uuid::new_v4(), "delivered_on": day, "kind": kind, "setting": "hub",
               "attendee_ids": attendees, "anonymous_attendees": anonymous, "kits_handed_out": 0})
    };
    let course = app
        .create("/api/v1/trainings", &trainer, session("peer_supplier_course", vec![&learner, &o.peer_id], 2, today))
        .await;
    app.create("/api/v1/trainings", &trainer, session("awareness", vec![], 9, today)).await;
    let voided = app.create("/api/v1/trainings", &trainer, session("awareness", vec![], 4, today)).await;
    let reply = app.post(&format!("/api/v1/trainings/{voided}/void"), &trainer, json!({"reason": "test"})).await;
    assert_eq!(reply.status, StatusCode::OK);
    let certificate = json!({"user_id": learner, "level": "peer_supplier", "training_id": course});
    app.create("/api/v1/certificates", &trainer, certificate).await;
    let names = ["sessions", "people_trained", "certificates_issued"];
    let table = stats(&app, &o.admin, "/api/v1/stats/trainings?group_by=kind").await;
    let got = groups(&table, &["kind"], &names);
    assert_eq!(got[&key(&[json!("peer_supplier_course")])], vec![1, 4, 1]);
    assert_eq!(got[&key(&[json!("awareness")])], vec![1, 9, 0]);
    // The certificates issued by the admin at set-up name no session.
    assert_eq!(got[&key(&[Value::Null])], vec![0, 0, 2]);
    // Correcting the session's kind and attendees moves its counts.
    let patch = json!({"kind": "refresher", "attendee_ids": [learner]});
    assert_eq!(app.patch(&format!("/api/v1/trainings/{course}"), &trainer, patch).await.status, StatusCode::OK);
    let table = stats(&app, &o.admin, &format!("/api/v1/stats/trainings?group_by=kind,area&area_id={}", o.area)).await;
    let got = groups(&table, &["kind", "area_id"], &names);
    assert_eq!(got[&key(&[json!("refresher"), json!(o.area)])], vec![1, 3, 1]);
    assert!(!got.contains_key(&key(&[json!("peer_supplier_course"), json!(o.area)])));
    // An organisation that moves takes its sessions with it.
    let elsewhere = app.create("/api/v1/areas", &o.admin, json!({"name": "Shetland"})).await;
    let reply =
        app.patch(&format!("/api/v1/organisations/{}", o.organisation), &o.admin, json!({"area_id": elsewhere})).await;
    assert_eq!(reply.status, StatusCode::OK);
    let table = stats(&app, &o.admin, &format!("/api/v1/stats/trainings?area_id={elsewhere}")).await;
    assert_eq!(table["totals"]["sessions"], 2);
    let table = stats(&app, &o.admin, &format!("/api/v1/stats/trainings?area_id={}", o.area)).await;
    assert_eq!(table["totals"]["sessions"], 0);
}

async fn counts_follow_corrections_and_voids(app: TestApp) {
    let o = app.outreach(false).await;
    let mut handout = harness::tally(&o.area, 5);
    handout["supply"] = json!("first");
    let id = app.create("/api/v1/kit-issues", &o.peer, handout).await;
    let by_setting = "/api/v1/stats/kits?group_by=setting";
    let names = ["kits", "doses", "first_supplies"];
    let table = stats(&app, &o.coordinator, by_setting).await;
    assert_eq!(groups(&table, &["setting"], &names), Groups::from([(key(&[json!("outreach")]), vec![5, 25, 5])]));
    let patch = json!({"setting": "event", "quantity": 8, "product_id": NYXOID});
    assert_eq!(app.patch(&format!("/api/v1/kit-issues/{id}"), &o.peer, patch).await.status, StatusCode::OK);
    let table = stats(&app, &o.coordinator, by_setting).await;
    assert_eq!(groups(&table, &["setting"], &names), Groups::from([(key(&[json!("event")]), vec![8, 16, 8])]));
    let patch = json!({"supply": "repeat", "repeat_reason": "lost"});
    assert_eq!(app.patch(&format!("/api/v1/kit-issues/{id}"), &o.peer, patch).await.status, StatusCode::OK);
    let table = stats(&app, &o.coordinator, "/api/v1/stats/kits?group_by=supply,repeat_reason").await;
    assert_eq!(
        groups(&table, &["supply", "repeat_reason"], &names),
        Groups::from([(key(&[json!("repeat"), json!("lost")]), vec![8, 16, 0])])
    );
    let reply = app.post(&format!("/api/v1/kit-issues/{id}/void"), &o.peer, json!({"reason": "test"})).await;
    assert_eq!(reply.status, StatusCode::OK);
    let table = stats(&app, &o.coordinator, by_setting).await;
    assert_eq!(table["rows"], json!([]));
    assert_eq!(table["totals"]["kits"], 0);
    // A refused correction changes nothing.
    let id = app.create("/api/v1/kit-issues", &o.peer, harness::tally(&o.area, 2)).await;
    let reply = app.patch(&format!("/api/v1/kit-issues/{id}"), &o.peer, json!({"quantity": 0})).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(stats(&app, &o.coordinator, by_setting).await["totals"]["kits"], 2);
    // Reversal outcomes move with a correction.
    let report = json!({"id": uuid::Uuid::new_v4(), "occurred_at": Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true),
        "area_id": o.area, "place": "home", "administered_by": "family_friend", "product_id": PRENOXAD, "doses": 2,
        "outcome": "unknown"});
    let report_id = app.create("/api/v1/reversals", &o.peer, report).await;
    let reply = app.patch(&format!("/api/v1/reversals/{report_id}"), &o.peer, json!({"outcome": "survived"})).await;
    assert_eq!(reply.status, StatusCode::OK);
    let totals = stats(&app, &o.coordinator, "/api/v1/stats/reversals").await["totals"].clone();
    assert_eq!(
        (totals["reports"].as_i64(), totals["survived"].as_i64(), totals["unknown_outcome"].as_i64()),
        (Some(1), Some(1), Some(0))
    );
}

/// A commissioner of `area`, signed in.
async fn commissioner(app: &TestApp, admin: &str, email: &str, area: &str) -> String {
    let body = json!({"email": email, "display_name": "ADP lead", "password": PASSWORD,
                      "roles": ["commissioner"], "area_id": area});
    app.create("/api/v1/users", admin, body).await;
    app.token_for(email).await
}

async fn commissioners_see_their_area_with_small_counts_suppressed(app: TestApp) {
    let (areas, organisations, admin) = nested_hubs(&app).await;
    let (wales, welsh_hub) = app.hub(&admin, "Swansea hub").await;
    let (_, peer) = app.certified_peer(&admin, "peer@each.example", &organisations[0]).await;
    let (_, welsh_peer) = app.certified_peer(&admin, "peer@swansea.example", &welsh_hub).await;
    for (setting, quantity) in [("outreach", 12), ("hub_drop_in", 3), ("prison_release", 6), ("event", 0)] {
        if quantity > 0 {
            let mut handout = harness::tally(&areas[2], quantity);
            handout["setting"] = json!(setting);
            handout["product_id"] = json!(NYXOID);
            app.create("/api/v1/kit-issues", &peer, handout).await;
        }
    }
    app.create("/api/v1/kit-issues", &welsh_peer, harness::tally(&wales, 2)).await;
    let board = commissioner(&app, &admin, "adp@ayrshire.example", &areas[1]).await;
    let table = stats(&app, &board, "/api/v1/stats/kits?group_by=setting").await;
    assert_eq!(table["disclosure_threshold"], 5);
    let names = ["kits", "doses", "first_supplies"];
    // 3 is hidden; 6, the next smallest, goes with it, since the total
    // 21 would give the 3 away; doses go with their kits. Wales is not
    // theirs and does not count.
    assert_eq!(
        groups(&table, &["setting"], &names),
        Groups::from([
            (key(&[json!("hub_drop_in")]), vec![-1, -1, 0]),
            (key(&[json!("outreach")]), vec![12, 24, 0]),
            (key(&[json!("prison_release")]), vec![-1, -1, 0]),
        ])
    );
    let hidden_row = table["rows"].as_array().unwrap().iter().find(|r| r["setting"] == "hub_drop_in").unwrap();
    assert_eq!(hidden_row["suppressed"], json!(["kits", "doses"]));
    assert_eq!(table["totals"]["kits"], 21);
    // The coordinator of the hub sees the exact counts.
    let (_, coordinator) = app.user(&admin, "coord@each.example", &["coordinator"], &organisations[0]).await;
    let exact = stats(&app, &coordinator, "/api/v1/stats/kits?group_by=setting").await;
    assert_eq!(groups(&exact, &["setting"], &names)[&key(&[json!("hub_drop_in")])], vec![3, 6, 0]);
    // Outside their area: refused; above it too.
    for area in [&wales, &areas[0]] {
        let reply = app.get(&format!("/api/v1/stats/kits?area_id={area}"), &board).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert!(reply.is_problem());
    }
    // A threshold of 1 hides nothing.
    let nothing_hidden = TestApp::spawn_with(app.backend, &["--disclosure-threshold", "1"]).await.unwrap();
    let (areas, _, admin) = nested_hubs(&nothing_hidden).await;
    let token = commissioner(&nothing_hidden, &admin, "adp@ayrshire.example", &areas[1]).await;
    let table = stats(&nothing_hidden, &token, "/api/v1/stats/kits").await;
    assert_eq!(table["disclosure_threshold"], 1);
}

async fn who_may_see_what(app: TestApp) {
    let o = app.outreach(false).await;
    let (_, trainer) = app.user(&o.admin, "trainer@hub.example", &["trainer"], &o.organisation).await;
    let (_, other_hub) = app.hub(&o.admin, "Other hub").await;
    let (_, other_peer) = app.certified_peer(&o.admin, "peer@other.example", &other_hub).await;
    app.create("/api/v1/kit-issues", &o.peer, harness::tally(&o.area, 7)).await;
    app.create("/api/v1/kit-issues", &other_peer, harness::tally(&o.area, 9)).await;
    for path in [
        "/api/v1/stats/kits",
        "/api/v1/stats/reversals",
        "/api/v1/stats/trainings",
        "/api/v1/stats/summary",
        "/api/v1/alerts/spikes",
    ] {
        for token in [&o.peer, &trainer] {
            let reply = app.get(path, token).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
            assert!(reply.is_problem());
        }
        let reply = app.request(reqwest::Method::GET, path, None, None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}");
    }
    // A coordinator counts their own organisation's handouts only.
    assert_eq!(stats(&app, &o.coordinator, "/api/v1/stats/kits").await["totals"]["kits"], 7);
    let reply = app.get(&format!("/api/v1/stats/kits?organisation_id={other_hub}"), &o.coordinator).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(stats(&app, &o.admin, "/api/v1/stats/kits").await["totals"]["kits"], 16);
}

async fn tables_come_as_csv(app: TestApp) {
    let (areas, organisations, admin) = nested_hubs(&app).await;
    let (_, peer) = app.certified_peer(&admin, "peer@each.example", &organisations[0]).await;
    for (setting, quantity) in [("outreach", 12), ("event", 2), ("pharmacy", 30)] {
        let mut handout = harness::tally(&areas[2], quantity);
        handout["setting"] = json!(setting);
        app.create("/api/v1/kit-issues", &peer, handout).await;
    }
    let board = commissioner(&app, &admin, "adp@ayrshire.example", &areas[1]).await;
    let expected = "setting,kits,doses,first_supplies\r\nevent,c,c,0\r\noutreach,c,c,0\r\npharmacy,30,150,0\r\n";
    let reply = app.get("/api/v1/stats/kits.csv?group_by=setting", &board).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(reply.headers["content-disposition"].to_str().unwrap().contains("kit-issues.csv"));
    assert_eq!(reply.body, Value::String(expected.to_owned()));
    // The JSON table is JSON whatever the Accept header asks; CSV has its own path.
    let response = reqwest::Client::new()
        .get(app.url("/api/v1/stats/kits?group_by=setting"))
        .bearer_auth(&board)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let reports = app.get("/api/v1/stats/reversals.csv?group_by=outcome", &board).await;
    assert!(reports.body.as_str().unwrap().starts_with("outcome,reports,"), "{}", reports.body);
    let sessions = app.get("/api/v1/stats/trainings.csv?group_by=kind", &board).await;
    assert!(sessions.body.as_str().unwrap().starts_with("kind,sessions,"), "{}", sessions.body);
    let refused = app.get("/api/v1/stats/kits?format=csv", &board).await;
    assert_eq!(refused.code(), "invalid_query", "format is no parameter: CSV has its own path");
}

async fn the_summary_gives_headline_figures(app: TestApp) {
    let (areas, organisations, admin) = nested_hubs(&app).await;
    let (_, peer) = app.certified_peer(&admin, "peer@each.example", &organisations[0]).await;
    let (_, peer_two) = app.certified_peer(&admin, "peer2@each.example", &organisations[0]).await;
    for (recipient, quantity) in [("person_at_risk", 10), ("person_at_risk", 6), ("service_worker", 3)] {
        let mut handout = harness::tally(&areas[2], quantity);
        handout["recipient_type"] = json!(recipient);
        handout["supply"] = json!("first");
        app.create("/api/v1/kit-issues", &peer, handout).await;
    }
    let mut repeat = harness::tally(&areas[2], 4);
    repeat["supply"] = json!("repeat");
    repeat["repeat_reason"] = json!("lost");
    repeat["recipient_type"] = json!("person_at_risk");
    app.create("/api/v1/kit-issues", &peer_two, repeat).await;
    let summary = stats(&app, &admin, &format!("/api/v1/stats/summary?area_id={}", areas[2])).await;
    assert_eq!(summary["kits"], 23);
    assert_eq!(summary["doses"], 115);
    assert_eq!(summary["first_supplies"], 19);
    assert_eq!(summary["first_supplies_to_people_at_risk"], 16);
    assert_eq!(summary["active_certified_peers"], 2);
    assert_eq!(summary["certificates_expiring_within_90_days"], 0);
    assert_eq!(summary["population_at_risk"], 2000);
    assert_eq!(summary["reach_per_1000"], 8.0);
    assert_eq!(summary["reversal_reports"], 0);
    assert_eq!(summary["suppressed"], json!([]));
    // A commissioner of the board sees its area's figures, small ones hidden;
    // the board has no population figure, so no reach.
    let board = commissioner(&app, &admin, "adp@ayrshire.example", &areas[1]).await;
    let summary = stats(&app, &board, "/api/v1/stats/summary").await;
    assert_eq!(summary["kits"], 23);
    assert_eq!(summary["active_certified_peers"], Value::Null);
    assert_eq!(summary["reach_per_1000"], Value::Null);
    assert!(summary["suppressed"].as_array().unwrap().contains(&json!("active_certified_peers")));
    let summary = stats(&app, &board, &format!("/api/v1/stats/summary?area_id={}", areas[2])).await;
    assert_eq!(summary["reach_per_1000"], 8.0);
    // Certificates expiring: as at a day before they were issued, none were valid.
    let yesterday = Utc::now().date_naive() - Duration::days(1);
    let summary = stats(&app, &admin, &format!("/api/v1/stats/summary?to={yesterday}")).await;
    assert_eq!(summary["active_certified_peers"], 0);
    assert_eq!(summary["kits"], 0);
}

async fn spike_alerts_follow_the_rule(app: TestApp) {
    let o = app.outreach(false).await;
    let today = Utc::now().date_naive();
    let mut areas = Vec::new();
    for name in ["Spiking", "Steady", "Quiet", "Edge"] {
        areas.push(app.create("/api/v1/areas", &o.admin, json!({"name": name})).await);
    }
    // (area, days ago) of each report. Spiking: 3 in the window against 12
    // in the baseline (a weekly mean of 1.5: exactly twice). Steady: 3
    // against 13. Quiet: 2 against none. Edge: 3, one of them on day 7,
    // which belongs to the baseline, so only 2 in the window.
    let mut reports = Vec::new();
    let mut add = |area: &String, days_ago: i64| {
        // Today's reports happen now: noon may still be ahead.
        let at = match days_ago {
            0 => Utc::now(),
            _ => (today - Duration::days(days_ago)).and_hms_opt(12, 0, 0).unwrap().and_utc(),
        };
        reports.push(
            json!({"id": uuid::Uuid::new_v4(), "occurred_at": at.to_rfc3339_opts(SecondsFormat::Micros, true),
            "area_id": area, "place": "home", "administered_by": "kit_recipient", "product_id": PRENOXAD,
            "doses": 1, "outcome": "survived"}),
        );
    };
    for days_ago in [0, 3, 6] {
        add(&areas[0], days_ago);
        add(&areas[1], days_ago);
    }
    for i in 0..12 {
        add(&areas[0], 7 + i * 4);
        add(&areas[1], 7 + i * 4);
    }
    add(&areas[1], 62);
    add(&areas[1], 63); // Outside the baseline: does not count.
    add(&areas[2], 1);
    add(&areas[2], 2);
    for days_ago in [0, 1, 7] {
        add(&areas[3], days_ago);
    }
    let reply = app.post("/api/v1/sync", &o.peer, json!({"reversals": reports})).await;
    assert_eq!(reply.status, StatusCode::OK);
    let report = stats(&app, &o.admin, "/api/v1/alerts/spikes").await;
    let alerts = report["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{report}");
    assert_eq!(alerts[0]["area_id"], areas[0].as_str());
    assert_eq!(alerts[0]["area_name"], "Spiking");
    assert_eq!(alerts[0]["last_7_days"], 3);
    assert_eq!(alerts[0]["baseline_8_weeks"], 12);
    assert_eq!(alerts[0]["baseline_weekly_mean"], 1.5);
    assert_eq!(report["window_from"], json!(today - Duration::days(6)));
    assert_eq!(report["baseline_to"], json!(today - Duration::days(7)));
    assert!(report["rule"].as_str().unwrap().contains("at least 3"));
    // A week later the window holds none of them.
    let later = stats(&app, &o.admin, &format!("/api/v1/alerts/spikes?as_of={}", today + Duration::days(7))).await;
    assert_eq!(later["alerts"], json!([]));
    // Voiding one of the three ends the alert.
    let first = reports_id(&reply.body, 0);
    let reply = app.post(&format!("/api/v1/reversals/{first}/void"), &o.peer, json!({"reason": "test"})).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(stats(&app, &o.admin, "/api/v1/alerts/spikes").await["alerts"], json!([]));
}

fn reports_id(sync_reply: &Value, index: usize) -> String {
    sync_reply["reversals"][index]["id"].as_str().unwrap().to_owned()
}

async fn bad_queries_are_refused(app: TestApp) {
    let admin = app.admin().await;
    for query in [
        "/api/v1/stats/kits?group_by=month,year",
        "/api/v1/stats/kits?group_by=outcome",
        "/api/v1/stats/kits?setting=nightclub",
        "/api/v1/stats/kits?from=2026-02-30",
        "/api/v1/stats/kits?from=2026-02-01&to=2026-01-01",
        "/api/v1/stats/reversals?colour=blue",
        "/api/v1/stats/trainings?product_id=0194f0a0-0000-7000-8000-000000000001",
        "/api/v1/stats/summary?from=2026-02-01&to=2026-01-01",
        "/api/v1/stats/summary?area_id=nope",
        "/api/v1/alerts/spikes?as_of=yesterday",
    ] {
        let reply = app.get(query, &admin).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}: {}", reply.body);
        assert!(reply.is_problem(), "{query}");
    }
}
