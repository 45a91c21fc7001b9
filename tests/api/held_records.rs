//! Held records: a well-formed record of something that happened, which a
//! rule about the world (the peer's certificate, the stock, the batch, the
//! trainer, the time) stands in the way of, is stored as held, never
//! refused; it counts and takes stock only once a coordinator releases it.

use crate::harness::{self, tally, Outreach, Reply, TestApp, PRENOXAD};
use chrono::{Duration, SecondsFormat, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

both_backends!(
    a_handout_before_the_certificate_is_held_until_a_coordinator_vouches_for_it,
    a_handout_beyond_the_peers_kits_is_released_once_the_kits_are_there,
    a_queue_sent_after_stock_tracking_began_waits_for_its_batch,
    a_report_from_a_clock_ahead_is_corrected_and_released,
    a_session_of_a_deactivated_trainer_is_held_and_certifies_no_one,
    a_commissioner_may_not_sync_at_all,
);

fn items(reply: &Reply) -> &[Value] {
    reply.body["items"].as_array().map(Vec::as_slice).unwrap_or_default()
}

async fn kits_counted(app: &TestApp, o: &Outreach) -> i64 {
    app.get("/api/v1/stats/kits", &o.admin).await.body["totals"]["kits"].as_i64().unwrap_or_default()
}

async fn release(app: &TestApp, path: &str, token: &str) -> Reply {
    app.post(&format!("{path}/release"), token, json!({"reason": "checked with the peer"})).await
}

/// (store, peer) on hand for a batch, as the coordinator sees it.
async fn balances(app: &TestApp, o: &Outreach, batch: &str) -> (i64, i64) {
    let stock = app.get(&format!("/api/v1/stock?batch_id={batch}"), &o.coordinator).await;
    let lines = items(&stock);
    let on_hand = |peer: bool| {
        lines.iter().filter(|l| l["user_id"].is_null() != peer).map(|l| l["on_hand"].as_i64().unwrap()).sum()
    };
    (on_hand(false), on_hand(true))
}

async fn batch(app: &TestApp, o: &Outreach, quantity: i32) -> String {
    app.create(
        "/api/v1/batches",
        &o.coordinator,
        json!({"product_id": PRENOXAD, "lot_number": "PX1", "expires_on": "2030-06-30", "quantity": quantity}),
    )
    .await
}

async fn allocate(app: &TestApp, o: &Outreach, batch: &str, quantity: i32) {
    let reply = app
        .post(
            "/api/v1/stock/movements",
            &o.coordinator,
            json!({"kind": "allocate", "batch_id": batch, "user_id": o.peer_id, "quantity": quantity}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
}

/// The peer was certified today (on paper, on the day); the handouts of
/// yesterday's round reach the server after it.
async fn a_handout_before_the_certificate_is_held_until_a_coordinator_vouches_for_it(app: TestApp) {
    let o = app.outreach(false).await;
    let mut body = tally(&o.area, 2);
    body["issued_at"] = json!((Utc::now() - Duration::days(1)).to_rfc3339_opts(SecondsFormat::Micros, true));
    let held = app.post("/api/v1/kit-issues", &o.peer, body.clone()).await;
    assert_eq!(held.status, StatusCode::ACCEPTED, "{}", held.body);
    assert_eq!(
        (held.body["state"].as_str(), harness::held_codes(&held.body)),
        (Some("held"), vec!["certificate_required".to_owned()])
    );
    let path = held.headers["location"].to_str().unwrap().to_owned();
    assert_eq!(kits_counted(&app, &o).await, 0, "a held handout does not count");

    // Sent again from the phone's queue: a duplicate, still held.
    let again = app.post("/api/v1/kit-issues", &o.peer, body.clone()).await;
    assert_eq!((again.status, again.body["state"].as_str()), (StatusCode::OK, Some("held")));
    let resynced = app.post("/api/v1/sync", &o.peer, json!({"kit_issues": [body]})).await;
    assert_eq!(resynced.body["kit_issues"][0]["status"], "duplicate", "{}", resynced.body);

    // Its author sees it with its reasons; the coordinator lists it.
    let mine = app.get(&path, &o.peer).await;
    assert_eq!(harness::held_codes(&mine.body), ["certificate_required"]);
    let listed = app.get("/api/v1/kit-issues?state=held", &o.coordinator).await;
    assert_eq!(items(&listed).iter().map(|r| r["id"].clone()).collect::<Vec<_>>(), [held.body["id"].clone()]);
    assert!(items(&app.get("/api/v1/kit-issues?state=recorded", &o.coordinator).await).is_empty());

    // Only a coordinator of its organisation (or an admin) vouches for it.
    let by_peer = release(&app, &path, &o.peer).await;
    assert_eq!(by_peer.status, StatusCode::FORBIDDEN, "{}", by_peer.body);
    let released = release(&app, &path, &o.coordinator).await;
    assert_eq!(released.status, StatusCode::OK, "{}", released.body);
    assert_eq!(released.body["state"], "recorded");
    assert_eq!(released.body["release_reason"], "checked with the peer");
    assert!(released.body["released_at"].is_string());
    assert_eq!(kits_counted(&app, &o).await, 2, "released, it counts");
    let audit = app.audit_of(held.body["id"].as_str().unwrap());
    assert_eq!(audit.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(), ["create", "release"]);
    assert_eq!(audit[1].before.as_ref().unwrap()["state"], "held");

    // Releasing again changes nothing and counts nothing twice.
    let twice = release(&app, &path, &o.coordinator).await;
    assert_eq!(
        (twice.status, twice.body["released_at"].clone()),
        (StatusCode::OK, released.body["released_at"].clone())
    );
    assert_eq!(kits_counted(&app, &o).await, 2);
    assert_eq!(app.audit_of(held.body["id"].as_str().unwrap()).len(), 2);
}

async fn a_handout_beyond_the_peers_kits_is_released_once_the_kits_are_there(app: TestApp) {
    let o = app.outreach(true).await;
    let b = batch(&app, &o, 10).await;
    allocate(&app, &o, &b, 2).await;
    let mut body = tally(&o.area, 3);
    body["batch_id"] = json!(b);
    let held = app.post("/api/v1/kit-issues", &o.peer, body).await;
    assert_eq!(
        (held.status, harness::held_codes(&held.body)),
        (StatusCode::ACCEPTED, vec!["insufficient_stock".to_owned()]),
        "{}",
        held.body
    );
    let path = held.headers["location"].to_str().unwrap().to_owned();
    assert_eq!(balances(&app, &o, &b).await, (8, 2), "a held handout takes no stock");

    let short = release(&app, &path, &o.coordinator).await;
    assert_eq!((short.status, short.code()), (StatusCode::CONFLICT, "still_held"), "{}", short.body);
    assert_eq!(harness::held_codes(&json!({"held_reasons": short.body["errors"]})), ["insufficient_stock"]);
    assert_eq!(app.get(&path, &o.coordinator).await.body["state"], "held", "the refused release changed nothing");
    assert_eq!(balances(&app, &o, &b).await, (8, 2));

    // The kits the peer really had are put on record, and the release takes them.
    allocate(&app, &o, &b, 1).await;
    let released = release(&app, &path, &o.coordinator).await;
    assert_eq!(released.status, StatusCode::OK, "{}", released.body);
    assert_eq!(balances(&app, &o, &b).await, (7, 0), "released, it draws its kits");
    assert_eq!(kits_counted(&app, &o).await, 3);
    // Voiding it gives them back, as for any handout.
    let voided = app.post(&format!("{path}/void"), &o.coordinator, json!({"reason": "entered twice"})).await;
    assert_eq!(voided.status, StatusCode::OK, "{}", voided.body);
    assert_eq!(balances(&app, &o, &b).await, (7, 3));
    assert_eq!(kits_counted(&app, &o).await, 0);
}

async fn a_queue_sent_after_stock_tracking_began_waits_for_its_batch(app: TestApp) {
    let o = app.outreach(false).await;
    let organisation = format!("/api/v1/organisations/{}", o.organisation);
    let renamed = app.patch(&organisation, &o.coordinator, json!({"name": "Renamed"})).await;
    assert_eq!(renamed.status, StatusCode::FORBIDDEN, "a coordinator changes only tracks_stock: {}", renamed.body);
    let switched = app.patch(&organisation, &o.coordinator, json!({"tracks_stock": true})).await;
    assert_eq!(switched.status, StatusCode::OK, "{}", switched.body);
    assert_eq!(
        (switched.body["tracks_stock"].as_bool(), switched.body["held_for_missing_batch"].as_i64()),
        (Some(true), Some(0))
    );

    // The phone queued two handouts before it knew.
    let queue = json!({"kit_issues": [tally(&o.area, 1), tally(&o.area, 2)]});
    let synced = app.post("/api/v1/sync", &o.peer, queue.clone()).await;
    let results = synced.body["kit_issues"].as_array().unwrap();
    assert!(
        results.iter().all(|r| r["status"] == "held" && harness::held_codes(r) == ["batch_required"]),
        "{}",
        synced.body
    );
    let again = app.patch(&organisation, &o.coordinator, json!({"tracks_stock": true})).await;
    assert_eq!(again.body["held_for_missing_batch"], 2, "{}", again.body);
    let replayed = app.post("/api/v1/sync", &o.peer, queue).await;
    assert!(replayed.body["kit_issues"].as_array().unwrap().iter().all(|r| r["status"] == "duplicate"));
    assert_eq!(items(&app.get("/api/v1/kit-issues", &o.coordinator).await).len(), 2, "replaying created nothing");

    // The coordinator finds the batch the peer carried, chooses it, and releases.
    let b = batch(&app, &o, 10).await;
    allocate(&app, &o, &b, 1).await;
    let first = format!("/api/v1/kit-issues/{}", results[0]["id"].as_str().unwrap());
    let unreleased = release(&app, &first, &o.coordinator).await;
    assert_eq!(unreleased.code(), "still_held", "{}", unreleased.body);
    let corrected = app.patch(&first, &o.coordinator, json!({"batch_id": b})).await;
    assert_eq!(corrected.status, StatusCode::OK, "{}", corrected.body);
    assert_eq!(corrected.body["state"], "held", "a correction does not release");
    assert_eq!(corrected.body["held_reasons"], json!([]), "nothing stands in its way now");
    assert_eq!(release(&app, &first, &o.coordinator).await.status, StatusCode::OK);
    assert_eq!(balances(&app, &o, &b).await, (9, 0));

    // The other was entered by mistake: voided, it can no longer be released.
    let second = format!("/api/v1/kit-issues/{}", results[1]["id"].as_str().unwrap());
    let voided = app.post(&format!("{second}/void"), &o.coordinator, json!({"reason": "a test entry"})).await;
    assert_eq!((voided.status, voided.body["state"].as_str()), (StatusCode::OK, Some("voided")));
    assert_eq!(release(&app, &second, &o.coordinator).await.code(), "voided");
    assert_eq!(kits_counted(&app, &o).await, 1);
    let after = app.patch(&organisation, &o.coordinator, json!({"tracks_stock": true})).await;
    assert_eq!(after.body["held_for_missing_batch"], 0);
}

async fn a_report_from_a_clock_ahead_is_corrected_and_released(app: TestApp) {
    let o = app.outreach(false).await;
    let ahead = Utc::now() + Duration::minutes(30);
    let body = json!({
        "id": uuid::Uuid::new_v4(),
        "occurred_at": ahead.to_rfc3339_opts(SecondsFormat::Micros, true),
        "area_id": o.area,
        "place": "street_or_park",
        "administered_by": "reporting_peer",
        "product_id": PRENOXAD,
        "doses": 1,
        "outcome": "survived",
    });
    let held = app.post("/api/v1/reversals", &o.peer, body).await;
    assert_eq!((held.status, harness::held_codes(&held.body)), (StatusCode::ACCEPTED, vec!["in_future".to_owned()]));
    let path = held.headers["location"].to_str().unwrap().to_owned();
    let reports = || async { app.get("/api/v1/stats/reversals", &o.admin).await.body["totals"]["reports"].as_i64() };
    assert_eq!(reports().await.unwrap_or_default(), 0);
    assert_eq!(release(&app, &path, &o.coordinator).await.code(), "still_held");
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
    let corrected = app.patch(&path, &o.coordinator, json!({"occurred_at": now})).await;
    assert_eq!((corrected.body["state"].as_str(), corrected.body["held_reasons"].clone()), (Some("held"), json!([])));
    assert_eq!(release(&app, &path, &o.coordinator).await.status, StatusCode::OK);
    assert_eq!(reports().await, Some(1));
}

async fn a_session_of_a_deactivated_trainer_is_held_and_certifies_no_one(app: TestApp) {
    let o = app.outreach(false).await;
    let (trainer_id, _) = app.user(&o.admin, "trainer@hub.example", &["trainer"], &o.organisation).await;
    let (attendee, _) = app.user(&o.admin, "attendee@hub.example", &["peer"], &o.organisation).await;
    let user = format!("/api/v1/users/{trainer_id}");
    assert_eq!(app.patch(&user, &o.admin, json!({"active": false})).await.status, StatusCode::OK);
    // The coordinator types in last week's paper register after the trainer left.
    let session = json!({
        "id": uuid::Uuid::new_v4(),
        "trainer_id": trainer_id,
        "delivered_on": (Utc::now() - Duration::days(7)).date_naive().to_string(),
        "kind": "peer_supplier_course",
        "setting": "hub",
        "attendee_ids": [attendee],
    });
    let held = app.post("/api/v1/trainings", &o.coordinator, session).await;
    assert_eq!(
        (held.status, harness::held_codes(&held.body)),
        (StatusCode::ACCEPTED, vec!["trainer_not_active".to_owned()]),
        "{}",
        held.body
    );
    let path = held.headers["location"].to_str().unwrap().to_owned();
    let sessions = || async { app.get("/api/v1/stats/trainings", &o.admin).await.body["totals"]["sessions"].as_i64() };
    assert_eq!(sessions().await.unwrap_or_default(), 0);
    let certificate = json!({"user_id": attendee, "level": "peer_supplier", "training_id": held.body["id"]});
    let refused = app.post("/api/v1/certificates", &o.admin, certificate.clone()).await;
    assert_eq!(refused.error_fields(), ["training_id"], "a held session certifies no one: {}", refused.body);

    assert_eq!(release(&app, &path, &o.coordinator).await.code(), "still_held");
    assert_eq!(app.patch(&user, &o.admin, json!({"active": true})).await.status, StatusCode::OK);
    let released = release(&app, &path, &o.coordinator).await;
    assert_eq!(released.status, StatusCode::OK, "{}", released.body);
    assert_eq!(sessions().await, Some(1));
    let certified = app.post("/api/v1/certificates", &o.admin, certificate).await;
    assert_eq!(certified.status, StatusCode::CREATED, "{}", certified.body);
}

async fn a_commissioner_may_not_sync_at_all(app: TestApp) {
    let o = app.outreach(false).await;
    let (_, commissioner) = app.user_in_area(&o.admin, "commissioner@board.example", &o.area).await;
    let reply = app.post("/api/v1/sync", &commissioner, json!({"kit_issues": [tally(&o.area, 1)]})).await;
    assert_eq!((reply.status, reply.code()), (StatusCode::FORBIDDEN, "forbidden"), "{}", reply.body);
    assert!(items(&app.get("/api/v1/kit-issues", &o.admin).await).is_empty());
}
