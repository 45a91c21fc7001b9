//! Batch sync from phones, and the reference data they cache.

use crate::harness::{self, tally, TestApp, PRENOXAD};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

both_backends!(
    each_item_is_judged_on_its_own,
    one_id_twice_in_a_queue,
    a_repeated_batch_creates_nothing_new,
    trainings_sync_too,
    batches_are_limited_to_500_items,
    reference_data_comes_with_an_etag,
    a_repeated_key_in_an_item_is_refused_as_in_a_single_post,
);

fn statuses(results: &Value) -> Vec<String> {
    results.as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap().to_owned()).collect()
}

async fn each_item_is_judged_on_its_own(app: TestApp) {
    let o = app.outreach(false).await;
    let stored = tally(&o.area, 1);
    app.create("/api/v1/kit-issues", &o.peer, stored.clone()).await;
    let mut conflicting = stored.clone();
    conflicting["quantity"] = json!(7);
    conflicting["id"] = json!(stored["id"]);
    let mut family_without_consent = tally(&o.area, 1);
    family_without_consent["recipient_type"] = json!("family_friend");
    let good = tally(&o.area, 3);
    let items = json!([
        good,
        stored,
        conflicting,
        {"id": "not-a-uuid", "quantity": "lots"},
        family_without_consent,
        42,
        tally(&o.area, 2),
    ]);
    let reply = app.post("/api/v1/sync", &o.peer, json!({"kit_issues": items})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let results = &reply.body["kit_issues"];
    assert_eq!(statuses(results), ["created", "duplicate", "conflict", "invalid", "held", "invalid", "created"]);
    assert_eq!(results[0]["id"], good["id"]);
    assert!(results[0].get("errors").is_none());
    assert_eq!(results[3]["id"], "not-a-uuid");
    assert!(results[4].get("errors").is_none(), "a held record has nothing to fix");
    assert_eq!(harness::held_codes(&results[4]), ["consent_not_recorded"]);
    assert_eq!(results[4]["held_reasons"][0]["field"], "consent_recorded");
    assert_eq!(results[5]["id"], json!(null));
    assert_eq!(reply.body["trainings"], json!([]));
    let stored_now = app.get("/api/v1/kit-issues", &o.peer).await;
    assert_eq!(
        stored_now.body["items"].as_array().unwrap().len(),
        4,
        "one before, two created, one held; nothing from the items that cannot be understood"
    );
}

async fn one_id_twice_in_a_queue(app: TestApp) {
    let o = app.outreach(false).await;
    let twice = tally(&o.area, 1);
    let first = tally(&o.area, 1);
    let mut reused = tally(&o.area, 4);
    reused["id"] = first["id"].clone();
    let refused = json!({"id": uuid::Uuid::new_v4(), "quantity": 0});
    let mut after_refusal = tally(&o.area, 2);
    after_refusal["id"] = refused["id"].clone();
    let items = json!([twice, twice, first, reused, refused, after_refusal]);
    let reply = app.post("/api/v1/sync", &o.peer, json!({"kit_issues": items})).await;
    assert_eq!(
        statuses(&reply.body["kit_issues"]),
        ["created", "duplicate", "created", "conflict", "invalid", "created"],
        "{}",
        reply.body
    );
    let stored = app.get(&format!("/api/v1/kit-issues/{}", first["id"].as_str().unwrap()), &o.peer).await;
    assert_eq!(stored.body["quantity"], 1, "the first body sent under an id is the one kept");
    let after = app.get(&format!("/api/v1/kit-issues/{}", after_refusal["id"].as_str().unwrap()), &o.peer).await;
    assert_eq!(after.body["quantity"], 2, "a refused item does not hold on to its id");
    for (record, entries) in [(&twice, 1), (&first, 1), (&after_refusal, 1)] {
        let audit = app.audit_of(record["id"].as_str().unwrap());
        assert_eq!(audit.len(), entries, "one audit entry per stored handout");
        assert_eq!((audit[0].action.as_str(), audit[0].actor_id.as_deref()), ("create", Some(o.peer_id.as_str())));
        assert_eq!(audit[0].after["id"], record["id"]);
    }
    assert_eq!(app.get("/api/v1/kit-issues", &o.peer).await.body["items"].as_array().unwrap().len(), 3);
}

async fn a_repeated_batch_creates_nothing_new(app: TestApp) {
    let o = app.outreach(false).await;
    let (_, uncertified) = app.user(&o.admin, "new@hub.example", &["peer"], &o.organisation).await;
    let items: Vec<Value> = (0..100).map(|i| tally(&o.area, 1 + i % 3)).collect();
    let body = json!({"kit_issues": items});
    let first = app.post("/api/v1/sync", &o.peer, body.clone()).await;
    assert!(statuses(&first.body["kit_issues"]).iter().all(|s| s == "created"));
    let again = app.post("/api/v1/sync", &o.peer, body.clone()).await;
    assert!(statuses(&again.body["kit_issues"]).iter().all(|s| s == "duplicate"));
    assert_eq!(app.get("/api/v1/kit-issues?limit=200", &o.peer).await.body["items"].as_array().unwrap().len(), 100);
    // Someone else sending the same records: each one a conflict or refused, never a second row.
    let other = app.post("/api/v1/sync", &uncertified, body).await;
    assert!(statuses(&other.body["kit_issues"]).iter().all(|s| s == "conflict"));
    let fresh = app.post("/api/v1/sync", &uncertified, json!({"kit_issues": [tally(&o.area, 1)]})).await;
    assert_eq!(fresh.body["kit_issues"][0]["status"], "held");
    assert_eq!(harness::held_codes(&fresh.body["kit_issues"][0]), ["certificate_required"]);
    assert_eq!(app.get("/api/v1/kit-issues?limit=200", &o.admin).await.body["items"].as_array().unwrap().len(), 101);
}

async fn trainings_sync_too(app: TestApp) {
    let o = app.outreach(false).await;
    let (_, trainer) = app.user(&o.admin, "trainer@hub.example", &["trainer"], &o.organisation).await;
    let session = json!({"id": uuid::Uuid::new_v4(), "delivered_on": chrono::Utc::now().date_naive().to_string(), "kind": "awareness", "setting": "outreach", "anonymous_attendees": 6});
    let reply = app
        .post("/api/v1/sync", &trainer, json!({"trainings": [session.clone(), session, {"kind": "awareness"}]}))
        .await;
    assert_eq!(statuses(&reply.body["trainings"]), ["created", "duplicate", "invalid"]);
    assert_eq!(app.get("/api/v1/trainings", &trainer).await.body["items"].as_array().unwrap().len(), 1);
}

async fn batches_are_limited_to_500_items(app: TestApp) {
    let o = app.outreach(false).await;
    let items: Vec<Value> = (0..501).map(|_| tally(&o.area, 1)).collect();
    let reply = app.post("/api/v1/sync", &o.peer, json!({"kit_issues": items})).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["errors"][0]["code"], "too_many_items");
    let unknown = app.post("/api/v1/sync", &o.peer, json!({"reversals_and_more": []})).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.post("/api/v1/sync", &o.peer, json!({"kit_issues": {}})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(app.get("/api/v1/kit-issues", &o.peer).await.body["items"], json!([]));
}

async fn reference_data_comes_with_an_etag(app: TestApp) {
    let o = app.outreach(true).await;
    let b = app
        .create(
            "/api/v1/batches",
            &o.coordinator,
            json!({"product_id": PRENOXAD, "lot_number": "PX1", "expires_on": "2030-06-30", "quantity": 10}),
        )
        .await;
    app.create(
        "/api/v1/batches",
        &o.coordinator,
        json!({"product_id": PRENOXAD, "lot_number": "OLD", "expires_on": "2021-01-01", "quantity": 10}),
    )
    .await;
    app.post(
        "/api/v1/stock/movements",
        &o.coordinator,
        json!({"kind": "allocate", "batch_id": b, "user_id": o.peer_id, "quantity": 4}),
    )
    .await;
    let first = app.get("/api/v1/sync/reference", &o.peer).await;
    assert_eq!(first.status, StatusCode::OK);
    let reference = &first.body;
    assert_eq!(reference["products"].as_array().unwrap().len(), 3);
    assert_eq!(reference["areas"].as_array().unwrap().len(), 1);
    assert_eq!(reference["batches"].as_array().unwrap().len(), 1, "expired batches are left out");
    assert_eq!(reference["stock"][0]["on_hand"], 4);
    assert_eq!(reference["certificates"][0]["status"], "valid");
    let etag = first.headers["etag"].to_str().unwrap().to_owned();

    let unchanged = app
        .client
        .get(app.url("/api/v1/sync/reference"))
        .bearer_auth(&o.peer)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(unchanged.headers()["etag"].to_str().unwrap(), etag);
    app.post(
        "/api/v1/stock/movements",
        &o.coordinator,
        json!({"kind": "allocate", "batch_id": b, "user_id": o.peer_id, "quantity": 1}),
    )
    .await;
    let changed = app
        .client
        .get(app.url("/api/v1/sync/reference"))
        .bearer_auth(&o.peer)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(app.request(Method::GET, "/api/v1/sync/reference", None, None).await.status, StatusCode::UNAUTHORIZED);
}

/// `{…}` with one more member before its closing brace.
fn with_member(object: &Value, member: &str) -> String {
    let text = object.to_string();
    format!("{},{member}}}", text.strip_suffix('}').unwrap())
}

async fn send_text(app: &TestApp, path: &str, token: &str, body: String) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

/// A record with a key twice (the last one acceptable) is refused in a
/// queue as a single POST refuses it, not stored with whichever value came
/// last; the rest of the queue is judged as usual.
async fn a_repeated_key_in_an_item_is_refused_as_in_a_single_post(app: TestApp) {
    let o = app.outreach(false).await;
    let mut twice = tally(&o.area, 500_000);
    let repeated = with_member(&twice, r#""quantity":1"#);
    twice["quantity"] = json!(1);
    let (status, single) = send_text(&app, "/api/v1/kit-issues", &o.peer, repeated.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{single}");
    assert_eq!(
        (&single["errors"][0]["field"], &single["errors"][0]["code"]),
        (&json!("quantity"), &json!("duplicate_field"))
    );

    let report = json!({
        "id": uuid::Uuid::new_v4(), "occurred_at": chrono::Utc::now().to_rfc3339(), "area_id": o.area,
        "place": "street_or_park", "administered_by": "kit_recipient", "product_id": PRENOXAD, "doses": 2,
        "outcome": "survived",
    });
    let mut with_replacement = report.clone();
    with_replacement["id"] = json!(uuid::Uuid::new_v4());
    with_replacement["replacement"] = tally(&o.area, 1);
    let replacement_twice = with_replacement.to_string().replacen(r#""quantity":1"#, r#""quantity":9,"quantity":1"#, 1);
    let good = tally(&o.area, 2);
    let body = format!(
        r#"{{"kit_issues": [{repeated}, {good}, {id_twice}], "reversals": [{replacement_twice}, {doses_twice}]}}"#,
        id_twice = with_member(&tally(&o.area, 1), &format!(r#""id":"{}""#, uuid::Uuid::new_v4())),
        doses_twice = with_member(&report, r#""doses":3"#),
    );
    let (status, reply) = send_text(&app, "/api/v1/sync", &o.peer, body).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let kits = &reply["kit_issues"];
    assert_eq!(statuses(kits), ["invalid", "created", "invalid"], "{reply}");
    assert_eq!(kits[0]["id"], twice["id"]);
    assert_eq!(
        kits[0]["errors"],
        json!([{"field": "quantity", "code": "duplicate_field", "message": "duplicate field `quantity`"}])
    );
    assert_eq!(kits[2]["errors"][0]["field"], "id");
    assert_eq!(kits[2]["id"], Value::Null, "an item with two ids has no readable one");
    let reversals = &reply["reversals"];
    assert_eq!(statuses(reversals), ["invalid", "invalid"], "{reply}");
    assert_eq!(reversals[0]["errors"][0]["field"], "replacement.quantity");
    assert_eq!(reversals[1]["errors"][0]["field"], "doses");

    let stored = app.get("/api/v1/kit-issues", &o.peer).await;
    let ids: Vec<&Value> = stored.body["items"].as_array().unwrap().iter().map(|k| &k["id"]).collect();
    assert_eq!(ids, [&good["id"]], "only the good handout is stored");
    assert_eq!(app.get("/api/v1/reversals", &o.peer).await.body["items"], json!([]));
}
