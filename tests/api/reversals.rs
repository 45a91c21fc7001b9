//! Overdose reversal reports, their replacement kits, idempotency, sync and scope.

use crate::harness::{self, tally, TestApp, PRENOXAD};
use chrono::{Duration, SecondsFormat, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

both_backends!(
    a_report_needs_little_and_unknowns_are_accepted,
    every_field_rule_holds,
    a_replacement_kit_is_stored_with_its_report,
    a_held_replacement_keeps_its_report,
    reports_are_idempotent_and_sync,
    peers_see_their_own_reports,
    corrections_and_voids_are_audited,
);

fn report(area: &str) -> Value {
    json!({
        "id": uuid::Uuid::new_v4(),
        "occurred_at": Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true),
        "area_id": area,
        "place": "street_or_park",
        "administered_by": "kit_recipient",
        "product_id": PRENOXAD,
        "doses": 2,
        "outcome": "survived",
    })
}

async fn a_report_needs_little_and_unknowns_are_accepted(app: TestApp) {
    let o = app.outreach(false).await;
    let body = report(&o.area);
    let reply = app.post("/api/v1/reversals", &o.peer, body.clone()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.headers["location"], format!("/api/v1/reversals/{}", body["id"].as_str().unwrap()));
    for field in ["emergency_services_called", "ambulance_attended", "rescue_breaths_or_cpr"] {
        assert_eq!(reply.body[field], "unknown", "{field}");
    }
    assert!(reply.body["reported_at"].is_string());
    assert_eq!(reply.body["replacement_kit_issue_id"], json!(null));
    let mut unknown = report(&o.area);
    unknown["outcome"] = json!("unknown");
    unknown["ambulance_attended"] = json!("unknown");
    assert_eq!(app.post("/api/v1/reversals", &o.peer, unknown).await.status, StatusCode::CREATED);
    // A coordinator may report too; a reversal needs no certificate.
    assert_eq!(app.post("/api/v1/reversals", &o.coordinator, report(&o.area)).await.status, StatusCode::CREATED);
}

async fn every_field_rule_holds(app: TestApp) {
    let o = app.outreach(false).await;
    let cases = [
        ("doses", json!(0)),
        ("doses", json!(11)),
        ("place", json!("nightclub")),
        ("administered_by", json!("passer_by")),
        ("outcome", json!("fine")),
        ("emergency_services_called", json!("maybe")),
        ("rescue_breaths_or_cpr", json!(true)),
        ("occurred_at", json!((Utc::now() + Duration::days(2)).to_rfc3339())),
        ("occurred_at", json!("last night")),
        ("postcode_district", json!("KA1 1AA")),
        ("area_id", json!(uuid::Uuid::new_v4())),
        ("product_id", json!(uuid::Uuid::new_v4())),
        ("kit_issue_id", json!(uuid::Uuid::new_v4())),
        ("name", json!("Not Allowed")),
    ];
    for (field, value) in cases {
        let mut body = report(&o.area);
        body[field] = value.clone();
        let reply = app.post("/api/v1/reversals", &o.peer, body).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}={value}: {}", reply.body);
        assert_eq!(reply.error_fields(), [field], "{field}={value}");
    }
    for field in ["id", "occurred_at", "area_id", "place", "administered_by", "product_id", "doses", "outcome"] {
        let mut body = report(&o.area);
        body.as_object_mut().unwrap().remove(field);
        assert_eq!(app.post("/api/v1/reversals", &o.peer, body).await.error_fields(), [field]);
    }
    assert_eq!(app.get("/api/v1/reversals", &o.peer).await.body["items"], json!([]));
    // A phone whose clock runs ahead (by less than a day): the overdose
    // happened, so the report is kept, held.
    let mut ahead = report(&o.area);
    ahead["occurred_at"] = json!((Utc::now() + Duration::minutes(10)).to_rfc3339());
    let held = app.post("/api/v1/reversals", &o.peer, ahead).await;
    assert_eq!((held.status, held.held_codes()), (StatusCode::ACCEPTED, vec!["in_future".to_owned()]));
}

async fn a_replacement_kit_is_stored_with_its_report(app: TestApp) {
    let o = app.outreach(false).await;
    let used = app.create("/api/v1/kit-issues", &o.peer, tally(&o.area, 1)).await;
    let mut body = report(&o.area);
    body["kit_issue_id"] = json!(used);
    let replacement = tally(&o.area, 1);
    body["replacement"] = replacement.clone();
    let reply = app.post("/api/v1/reversals", &o.peer, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["kit_issue_id"], used.as_str());
    assert_eq!(reply.body["replacement_kit_issue_id"], replacement["id"]);
    let kit = app.get(&format!("/api/v1/kit-issues/{}", replacement["id"].as_str().unwrap()), &o.peer).await;
    assert_eq!(kit.status, StatusCode::OK);
    assert_eq!(
        (kit.body["supply"].as_str(), kit.body["repeat_reason"].as_str()),
        (Some("repeat"), Some("used_on_overdose"))
    );
    let mut contradicting = report(&o.area);
    let mut first_supply = tally(&o.area, 1);
    first_supply["supply"] = json!("first");
    contradicting["replacement"] = first_supply;
    let refused = app.post("/api/v1/reversals", &o.peer, contradicting).await;
    assert_eq!(refused.error_fields(), ["replacement.supply"]);
}

/// A replacement is a handout like any other: too few kits or no
/// certificate hold it, and the report stands, recorded, beside it.
async fn a_held_replacement_keeps_its_report(app: TestApp) {
    let o = app.outreach(true).await;
    // The organisation tracks stock and the peer holds none.
    let batch = app
        .create(
            "/api/v1/batches",
            &o.coordinator,
            json!({"product_id": PRENOXAD, "lot_number": "PX1", "expires_on": "2030-01-01", "quantity": 5}),
        )
        .await;
    let mut body = report(&o.area);
    let mut kit = tally(&o.area, 1);
    kit["batch_id"] = json!(batch);
    body["replacement"] = kit.clone();
    let reported = app.post("/api/v1/reversals", &o.peer, body.clone()).await;
    assert_eq!((reported.status, reported.body["state"].as_str()), (StatusCode::CREATED, Some("recorded")));
    assert_eq!(reported.body["replacement_kit_issue_id"], kit["id"]);
    let replacement = app.get(&format!("/api/v1/kit-issues/{}", kit["id"].as_str().unwrap()), &o.peer).await;
    assert_eq!(
        (replacement.body["state"].as_str(), replacement.held_codes()),
        (Some("held"), vec!["insufficient_stock".to_owned()])
    );
    // An invalid replacement names its fields under `replacement`, and neither is stored.
    let mut bad = report(&o.area);
    bad["replacement"] = json!({"id": uuid::Uuid::new_v4(), "issued_at": Utc::now().to_rfc3339(), "area_id": o.area, "setting": "outreach", "product_id": PRENOXAD, "quantity": 0});
    assert_eq!(app.post("/api/v1/reversals", &o.peer, bad).await.error_fields(), ["replacement.quantity"]);
    assert_eq!(app.get("/api/v1/reversals", &o.peer).await.body["items"].as_array().unwrap().len(), 1);
    // With stock, both are recorded.
    app.post(
        "/api/v1/stock/movements",
        &o.coordinator,
        json!({"kind": "allocate", "batch_id": batch, "user_id": o.peer_id, "quantity": 1}),
    )
    .await;
    let mut again = report(&o.area);
    let mut stocked = tally(&o.area, 1);
    stocked["batch_id"] = json!(batch);
    again["replacement"] = stocked.clone();
    assert_eq!(app.post("/api/v1/reversals", &o.peer, again).await.status, StatusCode::CREATED);
    let stocked = app.get(&format!("/api/v1/kit-issues/{}", stocked["id"].as_str().unwrap()), &o.peer).await;
    assert_eq!(stocked.body["state"], "recorded");
    // An uncertified peer's report stands; the kit they handed out is held.
    let (_, uncertified) = app.user(&o.admin, "new@hub.example", &["peer"], &o.organisation).await;
    let mut with_kit = report(&o.area);
    let mut handed = tally(&o.area, 1);
    handed["batch_id"] = json!(batch);
    with_kit["replacement"] = handed.clone();
    assert_eq!(app.post("/api/v1/reversals", &uncertified, with_kit).await.status, StatusCode::CREATED);
    let handed = app.get(&format!("/api/v1/kit-issues/{}", handed["id"].as_str().unwrap()), &o.admin).await;
    assert!(handed.held_codes().contains(&"certificate_required".to_owned()), "{}", handed.body);
}

async fn reports_are_idempotent_and_sync(app: TestApp) {
    let o = app.outreach(false).await;
    let mut body = report(&o.area);
    let mut kit = tally(&o.area, 1);
    kit["recipient_code"] = json!("JON0101");
    body["replacement"] = kit;
    let first = app.post("/api/v1/reversals", &o.peer, body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let again = app.post("/api/v1/reversals", &o.peer, body.clone()).await;
    assert_eq!((again.status, &again.body), (StatusCode::OK, &first.body));
    let mut different = body.clone();
    different["doses"] = json!(3);
    assert_eq!(app.post("/api/v1/reversals", &o.peer, different).await.code(), "id_conflict");

    let mut family = report(&o.area);
    family["administered_by"] = json!("family_friend");
    let synced = app.post("/api/v1/sync", &o.peer, json!({"reversals": [body, family, {"id": "x"}]})).await;
    assert_eq!(synced.status, StatusCode::OK, "{}", synced.body);
    let statuses: Vec<&str> =
        synced.body["reversals"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["duplicate", "created", "invalid"]);
    assert_eq!(app.get("/api/v1/reversals", &o.peer).await.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(app.get("/api/v1/kit-issues", &o.peer).await.body["items"].as_array().unwrap().len(), 1);
}

async fn peers_see_their_own_reports(app: TestApp) {
    let o = app.outreach(false).await;
    let (_, other) = app.certified_peer(&o.admin, "peer2@hub.example", &o.organisation).await;
    let mine = app.create("/api/v1/reversals", &o.peer, report(&o.area)).await;
    let theirs = app.create("/api/v1/reversals", &other, report(&o.area)).await;
    let count = |reply: harness::Reply| reply.body["items"].as_array().unwrap().len();
    assert_eq!(count(app.get("/api/v1/reversals", &o.peer).await), 1);
    assert_eq!(app.get(&format!("/api/v1/reversals/{theirs}"), &o.peer).await.status, StatusCode::NOT_FOUND);
    assert_eq!(count(app.get("/api/v1/reversals", &o.coordinator).await), 2);
    assert_eq!(count(app.get("/api/v1/reversals?outcome=died", &o.coordinator).await), 0);
    let (_, elsewhere) = app.hub(&o.admin, "Shetland Recovery Hub").await;
    let (_, stranger) = app.user(&o.admin, "coord@shetland.example", &["coordinator"], &elsewhere).await;
    assert_eq!(app.get(&format!("/api/v1/reversals/{mine}"), &stranger).await.status, StatusCode::NOT_FOUND);
    // A handout of another peer cannot be linked by a peer who cannot see it.
    let their_kit = app.create("/api/v1/kit-issues", &other, tally(&o.area, 1)).await;
    let mut linked = report(&o.area);
    linked["kit_issue_id"] = json!(their_kit);
    assert_eq!(app.post("/api/v1/reversals", &o.peer, linked).await.error_fields(), ["kit_issue_id"]);
}

async fn corrections_and_voids_are_audited(app: TestApp) {
    let o = app.outreach(false).await;
    let id = app.create("/api/v1/reversals", &o.peer, report(&o.area)).await;
    let path = format!("/api/v1/reversals/{id}");
    let corrected = app.patch(&path, &o.peer, json!({"outcome": "died", "ambulance_attended": "yes"})).await;
    assert_eq!(corrected.status, StatusCode::OK, "{}", corrected.body);
    assert_eq!(corrected.body["outcome"], "died");
    assert_eq!(app.patch(&path, &o.peer, json!({"doses": 12})).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let voided = app.post(&format!("{path}/void"), &o.coordinator, json!({"reason": "reported twice"})).await;
    assert_eq!(voided.status, StatusCode::OK);
    assert_eq!(app.patch(&path, &o.coordinator, json!({"doses": 1})).await.code(), "voided");
    let audit = app.audit_of(&id);
    assert_eq!(audit.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(), ["create", "update", "void"]);
    assert_eq!(audit[1].before.as_ref().unwrap()["outcome"], "survived");
    assert_eq!(audit[1].after["outcome"], "died");
}
