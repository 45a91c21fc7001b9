//! Many writers on one record at once: every read-modify-write holds what
//! it changes, so concurrent changes apply one after another, each to the
//! last, and stock balances and running totals always equal what the
//! stored records imply. Clients that name the version they read
//! (`If-Match`) are refused when it changed. A write another transaction
//! got in the way of is tried again, never answered 500 or 409.

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::harness::{self, tally, Outreach, Reply, TestApp, PRENOXAD};

both_backends!(
    racing_corrections_voids_and_handouts_keep_stock_and_totals_right,
    a_void_is_never_undone_by_a_racing_correction,
    a_deactivation_racing_a_rename_stands,
    two_areas_cannot_become_each_others_parent_at_once,
    a_cycle_in_the_area_data_cannot_hang_a_request,
    a_change_names_the_version_it_was_made_on,
    a_sync_that_loses_a_race_for_an_id_is_never_a_conflict,
    syncs_drawing_on_batches_in_opposite_orders_all_land,
);

/// How many writers race in each test.
const WRITERS: usize = 24;

async fn batch_allocated(app: &TestApp, o: &Outreach, received: i32, allocated: i32) -> String {
    let batch = app
        .create(
            "/api/v1/batches",
            &o.coordinator,
            json!({"product_id": PRENOXAD, "lot_number": "PX1", "expires_on": "2030-06-30", "quantity": received}),
        )
        .await;
    let reply = app
        .post(
            "/api/v1/stock/movements",
            &o.coordinator,
            json!({"kind": "allocate", "batch_id": batch, "user_id": o.peer_id, "quantity": allocated}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    batch
}

fn from_batch(o: &Outreach, batch: &str, quantity: i32) -> Value {
    let mut handout = tally(&o.area, quantity);
    handout["batch_id"] = json!(batch);
    handout
}

/// The peer's kits of a batch on hand, as the coordinator sees them.
async fn peer_on_hand(app: &TestApp, o: &Outreach, batch: &str) -> i64 {
    let stock = app.get(&format!("/api/v1/stock?batch_id={batch}"), &o.coordinator).await;
    stock.body["items"]
        .as_array()
        .expect("stock lines")
        .iter()
        .filter(|line| line["user_id"] == o.peer_id.as_str())
        .map(|line| line["on_hand"].as_i64().expect("on hand"))
        .sum()
}

fn statuses(replies: &[Reply]) -> Vec<u16> {
    replies.iter().map(|r| r.status.as_u16()).collect()
}

async fn racing_corrections_voids_and_handouts_keep_stock_and_totals_right(app: TestApp) {
    let o = app.outreach(true).await;
    let batch = batch_allocated(&app, &o, 400, 300).await;
    let raced = app.create("/api/v1/kit-issues", &o.peer, from_batch(&o, &batch, 2)).await;
    let other = app.create("/api/v1/kit-issues", &o.peer, from_batch(&o, &batch, 3)).await;
    let path = format!("/api/v1/kit-issues/{raced}");
    let writes = (0..WRITERS).map(|n| {
        let (app, o, path, other, batch) = (&app, &o, path.clone(), other.clone(), batch.clone());
        async move {
            match n % 6 {
                5 if n == 11 => {
                    app.post(&format!("/api/v1/kit-issues/{other}/void"), &o.coordinator, json!({"reason": "twice"}))
                        .await
                }
                5 => app.post("/api/v1/kit-issues", &o.peer, from_batch(o, &batch, 1)).await,
                k => app.patch(&path, &o.coordinator, json!({"quantity": 1 + (n % 5) as i32 + k as i32})).await,
            }
        }
    });
    let replies = join_all(writes).await;
    assert!(replies.iter().all(|r| r.status.is_success()), "every write stands: {:?}", statuses(&replies));
    let (standing, counted) = harness::kits_recorded_and_counted(&app, &o).await;
    assert_eq!(counted, standing, "the running totals are what the standing handouts hold");
    assert_eq!(peer_on_hand(&app, &o, &batch).await, 300 - standing, "the peer's kits are what was not handed out");
    // The last correction's audit entry starts from what the one before it left.
    let audit = app.audit_of(&raced);
    for pair in audit.windows(2) {
        assert_eq!(pair[1].before.as_ref().expect("a before")["quantity"], pair[0].after["quantity"]);
    }
}

async fn a_void_is_never_undone_by_a_racing_correction(app: TestApp) {
    let o = app.outreach(false).await;
    for round in 0..3 {
        let id = app.create("/api/v1/kit-issues", &o.peer, tally(&o.area, 4)).await;
        let path = format!("/api/v1/kit-issues/{id}");
        let writes = (0..WRITERS).map(|n| {
            let (app, o, path) = (&app, &o, path.clone());
            async move {
                if n == WRITERS / 2 {
                    app.post(&format!("{path}/void"), &o.coordinator, json!({"reason": format!("round {round}")})).await
                } else {
                    app.patch(&path, &o.coordinator, json!({"quantity": 1 + (n % 7) as i32})).await
                }
            }
        });
        let replies = join_all(writes).await;
        let voided = &replies[WRITERS / 2];
        assert_eq!(voided.status, StatusCode::OK, "{}", voided.body);
        for (n, reply) in replies.iter().enumerate().filter(|(n, _)| *n != WRITERS / 2) {
            // A correction before the void stands (200); one after it is refused (409 voided).
            assert!(
                reply.status == StatusCode::OK || reply.code() == "voided",
                "writer {n}: {} {}",
                reply.status,
                reply.body
            );
        }
        let stored = app.get(&path, &o.coordinator).await;
        assert!(stored.body["voided_at"].is_string(), "the void stands: {}", stored.body);
        assert_eq!(app.audit_of(&id).last().expect("entries").action, "void");
    }
    let (standing, counted) = harness::kits_recorded_and_counted(&app, &o).await;
    assert_eq!((standing, counted), (0, 0), "voided handouts count for nothing");
}

async fn a_deactivation_racing_a_rename_stands(app: TestApp) {
    let o = app.outreach(false).await;
    let path = format!("/api/v1/users/{}", o.peer_id);
    let writes = (0..WRITERS).map(|n| {
        let (app, o, path) = (&app, &o, path.clone());
        async move {
            let body =
                if n == WRITERS / 2 { json!({"active": false}) } else { json!({"display_name": format!("Peer {n}")}) };
            app.patch(&path, &o.admin, body).await
        }
    });
    let replies = join_all(writes).await;
    assert!(replies.iter().all(|r| r.status == StatusCode::OK), "{:?}", statuses(&replies));
    assert_eq!(app.get(&path, &o.admin).await.body["active"], false, "the deactivation was not undone");
    assert_eq!(
        app.get("/api/v1/me", &o.peer).await.status,
        StatusCode::UNAUTHORIZED,
        "the peer's token stopped working"
    );
}

async fn two_areas_cannot_become_each_others_parent_at_once(app: TestApp) {
    let admin = app.admin().await;
    let (a, _) = app.hub(&admin, "A").await;
    let (b, _) = app.hub(&admin, "B").await;
    for _ in 0..8 {
        let (to_b, to_a) = (json!({"parent_id": b}), json!({"parent_id": a}));
        let (one, two) = futures_util::future::join(
            app.patch(&format!("/api/v1/areas/{a}"), &admin, to_b),
            app.patch(&format!("/api/v1/areas/{b}"), &admin, to_a),
        )
        .await;
        let refused = [&one, &two].into_iter().filter(|r| r.error_fields() == ["parent_id"]).count();
        assert_eq!(refused, 1, "exactly one of two crossing parent changes stands: {} {}", one.body, two.body);
        for area in [&a, &b] {
            let reply = app.patch(&format!("/api/v1/areas/{area}"), &admin, json!({"parent_id": null})).await;
            assert_eq!(reply.status, StatusCode::OK);
        }
    }
    // Statistics walk the tree: they answer.
    assert_eq!(app.get(&format!("/api/v1/stats/kits?area_id={a}"), &admin).await.status, StatusCode::OK);
}

async fn a_change_names_the_version_it_was_made_on(app: TestApp) {
    let o = app.outreach(false).await;
    let id = app.create("/api/v1/kit-issues", &o.peer, tally(&o.area, 2)).await;
    let path = format!("/api/v1/kit-issues/{id}");
    let read = app.get(&path, &o.coordinator).await;
    let etag = read.headers["etag"].to_str().expect("an ETag").to_owned();
    // Someone else changes it meanwhile.
    let changed = app.patch(&path, &o.peer, json!({"quantity": 3})).await;
    assert_ne!(changed.headers["etag"].to_str().unwrap(), etag, "a change makes a new version");
    let stale = app
        .request_with(Method::PATCH, &path, Some(&o.coordinator), Some(&json!({"quantity": 5})), &[("if-match", &etag)])
        .await;
    assert_eq!((stale.status, stale.code()), (StatusCode::PRECONDITION_FAILED, "precondition_failed"));
    assert!(stale.is_problem());
    let void = json!({"reason": "stale"});
    let stale_void = app
        .request_with(Method::POST, &format!("{path}/void"), Some(&o.coordinator), Some(&void), &[("if-match", &etag)])
        .await;
    assert_eq!(stale_void.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(app.get(&path, &o.coordinator).await.body["quantity"], 3, "nothing changed");
    let current = changed.headers["etag"].to_str().unwrap().to_owned();
    let fresh = app
        .request_with(
            Method::PATCH,
            &path,
            Some(&o.coordinator),
            Some(&json!({"quantity": 5})),
            &[("if-match", &current)],
        )
        .await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.body);
    let any = app
        .request_with(Method::PATCH, &path, Some(&o.coordinator), Some(&json!({"quantity": 6})), &[("if-match", "*")])
        .await;
    assert_eq!(any.status, StatusCode::OK);
    // Users carry versions too.
    let user = format!("/api/v1/users/{}", o.peer_id);
    let etag = app.get(&user, &o.admin).await.headers["etag"].to_str().unwrap().to_owned();
    assert_eq!(app.patch(&user, &o.admin, json!({"display_name": "Sam"})).await.status, StatusCode::OK);
    let stale = app
        .request_with(Method::PATCH, &user, Some(&o.admin), Some(&json!({"active": false})), &[("if-match", &etag)])
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(app.get(&user, &o.admin).await.body["active"], true);
}

async fn a_sync_that_loses_a_race_for_an_id_is_never_a_conflict(app: TestApp) {
    let o = app.outreach(false).await;
    for _ in 0..3 {
        let queue: Vec<Value> = (0..5).map(|_| tally(&o.area, 1)).collect();
        let body = json!({"kit_issues": queue});
        let calls = (0..8).map(|_| app.post("/api/v1/sync", &o.peer, body.clone()));
        let replies = join_all(calls).await;
        assert!(replies.iter().all(|r| r.status == StatusCode::OK), "{:?} {}", statuses(&replies), replies[0].body);
        for item in 0..5 {
            let answers: Vec<&str> =
                replies.iter().map(|r| r.body["kit_issues"][item]["status"].as_str().unwrap()).collect();
            assert_eq!(answers.iter().filter(|a| **a == "created").count(), 1, "{answers:?}");
            assert!(answers.iter().all(|a| *a == "created" || *a == "duplicate"), "{answers:?}");
        }
    }
}

async fn syncs_drawing_on_batches_in_opposite_orders_all_land(app: TestApp) {
    let o = app.outreach(true).await;
    let x = batch_allocated(&app, &o, 500, 400).await;
    let y = batch_allocated(&app, &o, 500, 400).await;
    let calls = (0..16).map(|n| {
        let (first, second) = if n % 2 == 0 { (&x, &y) } else { (&y, &x) };
        let queue =
            json!({"kit_issues": [from_batch(&o, first, 1), from_batch(&o, second, 1), from_batch(&o, first, 1)]});
        app.post("/api/v1/sync", &o.peer, queue)
    });
    let replies = join_all(calls).await;
    for reply in &replies {
        assert!(
            reply.status == StatusCode::OK
                || (reply.status == StatusCode::SERVICE_UNAVAILABLE && reply.headers.contains_key("retry-after")),
            "{} {}",
            reply.status,
            reply.body
        );
    }
    let landed = replies.iter().filter(|r| r.status == StatusCode::OK).count() as i64;
    assert!(landed > 0);
    assert_eq!(peer_on_hand(&app, &o, &x).await + peer_on_hand(&app, &o, &y).await, 800 - 3 * landed);
    let (standing, counted) = harness::kits_recorded_and_counted(&app, &o).await;
    assert_eq!((standing, counted), (3 * landed, 3 * landed));
}

async fn a_cycle_in_the_area_data_cannot_hang_a_request(app: TestApp) {
    let admin = app.admin().await;
    let (a, _) = app.hub(&admin, "A").await;
    let (b, _) = app.hub(&admin, "B").await;
    let (_, commissioner) = app.user_in_area(&admin, "commissioner@a.example", &a).await;
    // However it got there, a cycle in the stored tree.
    let (into_a, into_b) = (a.clone(), b.clone());
    app.db
        .run_blocking(move |conn| -> crate::harness::Stored<_> {
            use diesel::prelude::*;
            use naloxone_tracker::storage::schema::areas::dsl::*;
            diesel::update(areas.find(&into_a)).set(parent_id.eq(&into_b)).execute(conn)?;
            diesel::update(areas.find(&into_b)).set(parent_id.eq(&into_a)).execute(conn)?;
            Ok(())
        })
        .unwrap();
    let asked =
        tokio::time::timeout(std::time::Duration::from_secs(20), app.get("/api/v1/stats/summary", &commissioner));
    let reply = asked.await.expect("the statistics answered");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let moved = app.patch(&format!("/api/v1/areas/{a}"), &admin, json!({"population_at_risk": 10})).await;
    assert_eq!(moved.status, StatusCode::OK);
}
