//! Stock: batches, allocations, write-offs, handouts drawing on a peer's
//! kits, and balances that never go below zero under concurrent requests.

use crate::harness::{self, tally, Outreach, TestApp, PRENOXAD};
use reqwest::StatusCode;
use serde_json::{json, Value};

both_backends!(
    stock_moves_between_store_and_peers,
    handouts_draw_on_the_peers_allocation,
    a_synced_queue_draws_on_stock_item_by_item,
    racing_handouts_never_take_more_than_there_is,
    racing_allocations_never_take_more_than_there_is,
    only_coordinators_manage_stock,
    recalled_batches_cannot_be_allocated,
    kits_held_by_a_deactivated_peer_come_back_or_are_written_off,
);

async fn batch(app: &TestApp, o: &Outreach, quantity: i32) -> String {
    app.create(
        "/api/v1/batches",
        &o.coordinator,
        json!({"product_id": PRENOXAD, "lot_number": "PX1", "expires_on": "2030-06-30", "quantity": quantity}),
    )
    .await
}

async fn movement(app: &TestApp, token: &str, body: Value) -> harness::Reply {
    app.post("/api/v1/stock/movements", token, body).await
}

/// (store, peer) on hand for a batch, as the coordinator sees it.
async fn balances(app: &TestApp, o: &Outreach, batch: &str) -> (i64, i64) {
    let stock = app.get(&format!("/api/v1/stock?batch_id={batch}"), &o.coordinator).await;
    let lines = stock.body["items"].as_array().unwrap();
    let store = lines.iter().filter(|l| l["user_id"].is_null()).map(|l| l["on_hand"].as_i64().unwrap()).sum();
    let peer =
        lines.iter().filter(|l| l["user_id"] == o.peer_id.as_str()).map(|l| l["on_hand"].as_i64().unwrap()).sum();
    (store, peer)
}

async fn a_synced_queue_draws_on_stock_item_by_item(app: TestApp) {
    let o = app.outreach(true).await;
    let b = batch(&app, &o, 20).await;
    movement(&app, &o.coordinator, json!({"kind": "allocate", "batch_id": b, "user_id": o.peer_id, "quantity": 5}))
        .await;
    let from_batch = |quantity: i32| {
        let mut handout = tally(&o.area, quantity);
        handout["batch_id"] = json!(b);
        handout
    };
    let items = json!([from_batch(2), from_batch(2), from_batch(2), tally(&o.area, 1), from_batch(1)]);
    let reply = app.post("/api/v1/sync", &o.peer, json!({"kit_issues": items})).await;
    let results = reply.body["kit_issues"].as_array().unwrap();
    let outcome: Vec<(&str, Vec<String>)> =
        results.iter().map(|r| (r["status"].as_str().unwrap(), harness::held_codes(r))).collect();
    let none = Vec::<String>::new;
    assert_eq!(
        outcome,
        [
            ("created", none()),
            ("created", none()),
            ("held", vec!["insufficient_stock".to_owned()]),
            ("held", vec!["batch_required".to_owned()]),
            ("created", none()),
        ],
        "{}",
        reply.body
    );
    assert_eq!(balances(&app, &o, &b).await, (15, 0), "five kits allocated, five handed out; held ones take none");
    for item in items.as_array().unwrap() {
        assert_eq!(app.audit_of(item["id"].as_str().unwrap()).len(), 1, "an audit entry for each stored handout");
    }
    let stored = app.get("/api/v1/kit-issues", &o.peer).await;
    assert_eq!(stored.body["items"].as_array().unwrap().len(), 5, "held handouts are kept");
    let held = app.get("/api/v1/kit-issues?state=held", &o.peer).await;
    assert_eq!(held.body["items"].as_array().unwrap().len(), 2);
}

async fn stock_moves_between_store_and_peers(app: TestApp) {
    let o = app.outreach(true).await;
    let b = batch(&app, &o, 20).await;
    assert_eq!(balances(&app, &o, &b).await, (20, 0));
    let allocated =
        movement(&app, &o.coordinator, json!({"kind": "allocate", "batch_id": b, "user_id": o.peer_id, "quantity": 8}))
            .await;
    assert_eq!(allocated.status, StatusCode::CREATED, "{}", allocated.body);
    assert_eq!(balances(&app, &o, &b).await, (12, 8));
    movement(&app, &o.coordinator, json!({"kind": "return", "batch_id": b, "user_id": o.peer_id, "quantity": 3})).await;
    assert_eq!(balances(&app, &o, &b).await, (15, 5));
    let lost = movement(
        &app,
        &o.coordinator,
        json!({"kind": "write_off", "batch_id": b, "user_id": o.peer_id, "quantity": 1, "reason": "lost"}),
    )
    .await;
    assert_eq!(lost.status, StatusCode::CREATED);
    movement(&app, &o.coordinator, json!({"kind": "write_off", "batch_id": b, "quantity": 5, "reason": "damaged"}))
        .await;
    assert_eq!(balances(&app, &o, &b).await, (10, 4));

    let too_many =
        movement(&app, &o.coordinator, json!({"kind": "return", "batch_id": b, "user_id": o.peer_id, "quantity": 5}))
            .await;
    assert_eq!((too_many.status, too_many.code()), (StatusCode::CONFLICT, "insufficient_stock"));
    let no_reason = movement(&app, &o.coordinator, json!({"kind": "write_off", "batch_id": b, "quantity": 1})).await;
    assert_eq!(no_reason.error_fields(), ["reason"]);
    let no_peer = movement(&app, &o.coordinator, json!({"kind": "allocate", "batch_id": b, "quantity": 1})).await;
    assert_eq!(no_peer.error_fields(), ["user_id"]);
    let reason_on_allocate = movement(
        &app,
        &o.coordinator,
        json!({"kind": "allocate", "batch_id": b, "user_id": o.peer_id, "quantity": 1, "reason": "lost"}),
    )
    .await;
    assert_eq!(reason_on_allocate.error_fields(), ["reason"]);
    assert_eq!(balances(&app, &o, &b).await, (10, 4), "refused movements changed nothing");

    // A peer sees only their own kits.
    let mine = app.get("/api/v1/stock", &o.peer).await;
    let lines = mine.body["items"].as_array().unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!((lines[0]["user_id"].as_str(), lines[0]["on_hand"].as_i64()), (Some(o.peer_id.as_str()), Some(4)));
}

async fn handouts_draw_on_the_peers_allocation(app: TestApp) {
    let o = app.outreach(true).await;
    let b = batch(&app, &o, 10).await;
    movement(&app, &o.coordinator, json!({"kind": "allocate", "batch_id": b, "user_id": o.peer_id, "quantity": 4}))
        .await;
    let with_batch = |quantity: i32| {
        let mut body = tally(&o.area, quantity);
        body["batch_id"] = json!(b);
        body
    };
    let no_batch = app.post("/api/v1/kit-issues", &o.peer, tally(&o.area, 1)).await;
    assert_eq!(
        (no_batch.status, harness::held_codes(&no_batch.body)),
        (StatusCode::ACCEPTED, vec!["batch_required".into()])
    );
    let first = app.create("/api/v1/kit-issues", &o.peer, with_batch(3)).await;
    assert_eq!(balances(&app, &o, &b).await, (6, 1));
    let beyond = app.post("/api/v1/kit-issues", &o.peer, with_batch(2)).await;
    assert_eq!(
        (beyond.status, harness::held_codes(&beyond.body)),
        (StatusCode::ACCEPTED, vec!["insufficient_stock".into()])
    );
    assert_eq!(balances(&app, &o, &b).await, (6, 1), "held handouts take no stock");
    assert_eq!(app.get("/api/v1/kit-issues?state=recorded", &o.peer).await.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(app.get("/api/v1/kit-issues?state=held", &o.peer).await.body["items"].as_array().unwrap().len(), 2);

    // A correction moves the stock with it; a void gives it back.
    let corrected = app.patch(&format!("/api/v1/kit-issues/{first}"), &o.peer, json!({"quantity": 4})).await;
    assert_eq!(corrected.status, StatusCode::OK, "{}", corrected.body);
    assert_eq!(balances(&app, &o, &b).await, (6, 0));
    let too_far = app.patch(&format!("/api/v1/kit-issues/{first}"), &o.peer, json!({"quantity": 5})).await;
    assert_eq!(too_far.code(), "insufficient_stock");
    assert_eq!(balances(&app, &o, &b).await, (6, 0), "the refused correction moved nothing");
    app.post(&format!("/api/v1/kit-issues/{first}/void"), &o.peer, json!({"reason": "wrong batch"})).await;
    assert_eq!(balances(&app, &o, &b).await, (6, 4));
    // Resubmitting the first handout is a duplicate and takes nothing.
    app.post(&format!("/api/v1/kit-issues/{first}/void"), &o.peer, json!({"reason": "again"})).await;
    assert_eq!(balances(&app, &o, &b).await, (6, 4));
}

async fn racing_handouts_never_take_more_than_there_is(app: TestApp) {
    let o = app.outreach(true).await;
    let b = batch(&app, &o, 10).await;
    movement(&app, &o.coordinator, json!({"kind": "allocate", "batch_id": b, "user_id": o.peer_id, "quantity": 10}))
        .await;
    let requests = (0..32).map(|_| {
        let mut body = tally(&o.area, 1);
        body["batch_id"] = json!(b);
        app.post("/api/v1/kit-issues", &o.peer, body)
    });
    let replies = futures_util::future::join_all(requests).await;
    let created = replies.iter().filter(|r| r.status == StatusCode::CREATED).count();
    let held = replies
        .iter()
        .filter(|r| r.status == StatusCode::ACCEPTED && harness::held_codes(&r.body) == ["insufficient_stock"])
        .count();
    assert_eq!((created, held), (10, 22), "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    assert_eq!(balances(&app, &o, &b).await, (0, 0));
    let recorded = app.get("/api/v1/kit-issues?limit=100&state=recorded", &o.peer).await;
    let kept_held = app.get("/api/v1/kit-issues?limit=100&state=held", &o.peer).await;
    let count = |reply: &harness::Reply| reply.body["items"].as_array().unwrap().len();
    assert_eq!((count(&recorded), count(&kept_held)), (10, 22), "every handout is kept");
}

async fn racing_allocations_never_take_more_than_there_is(app: TestApp) {
    let o = app.outreach(true).await;
    let (peer2, _) = app.certified_peer(&o.admin, "peer2@hub.example", &o.organisation).await;
    let b = batch(&app, &o, 10).await;
    let requests = (0..32).map(|i| {
        let peer = if i % 2 == 0 { &o.peer_id } else { &peer2 };
        movement(&app, &o.coordinator, json!({"kind": "allocate", "batch_id": b, "user_id": peer, "quantity": 1}))
    });
    let replies = futures_util::future::join_all(requests).await;
    let created = replies.iter().filter(|r| r.status == StatusCode::CREATED).count();
    let refused = replies.iter().filter(|r| r.code() == "insufficient_stock").count();
    assert_eq!(
        (created, refused),
        (10, 22),
        "{:?}",
        replies.iter().map(|r| (r.status, r.code().to_owned())).collect::<Vec<_>>()
    );
    let stock = app.get(&format!("/api/v1/stock?batch_id={b}"), &o.coordinator).await;
    let total: i64 = stock.body["items"].as_array().unwrap().iter().map(|l| l["on_hand"].as_i64().unwrap()).sum();
    assert_eq!(total, 10, "no kit made or lost");
    assert!(stock.body["items"].as_array().unwrap().iter().all(|l| l["on_hand"].as_i64().unwrap() >= 0));
}

async fn only_coordinators_manage_stock(app: TestApp) {
    let o = app.outreach(true).await;
    let b = batch(&app, &o, 5).await;
    let new_batch = json!({"product_id": PRENOXAD, "lot_number": "X", "expires_on": "2030-01-01", "quantity": 5});
    assert_eq!(app.post("/api/v1/batches", &o.peer, new_batch.clone()).await.status, StatusCode::FORBIDDEN);
    let allocate = json!({"kind": "allocate", "batch_id": b, "user_id": o.peer_id, "quantity": 1});
    assert_eq!(movement(&app, &o.peer, allocate.clone()).await.status, StatusCode::FORBIDDEN);
    let (_, elsewhere) = app.hub(&o.admin, "Shetland Recovery Hub").await;
    let (_, stranger) = app.user(&o.admin, "coord@shetland.example", &["coordinator"], &elsewhere).await;
    assert_eq!(movement(&app, &stranger, allocate).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.post(&format!("/api/v1/batches/{b}/recall"), &stranger, json!({"reason": "x"})).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.get("/api/v1/batches", &stranger).await.body["items"], json!([]));
    assert_eq!(
        app.get("/api/v1/batches", &o.peer).await.body["items"].as_array().unwrap().len(),
        1,
        "peers see their organisation's batches"
    );
    let (stranger_peer, _) = app.user(&o.admin, "peer@shetland.example", &["peer"], &elsewhere).await;
    let to_stranger = movement(
        &app,
        &o.coordinator,
        json!({"kind": "allocate", "batch_id": b, "user_id": stranger_peer, "quantity": 1}),
    )
    .await;
    assert_eq!(to_stranger.error_fields(), ["user_id"]);
    let bad = app
        .post(
            "/api/v1/batches",
            &o.coordinator,
            json!({"product_id": PRENOXAD, "lot_number": "", "expires_on": "2030-01-01", "quantity": 0}),
        )
        .await;
    assert_eq!(bad.error_fields(), ["lot_number", "quantity"]);
    assert_eq!(app.audit_of(&b)[0].action, "create");
}

async fn recalled_batches_cannot_be_allocated(app: TestApp) {
    let o = app.outreach(true).await;
    let b = batch(&app, &o, 5).await;
    let recalled = app
        .post(&format!("/api/v1/batches/{b}/recall"), &o.coordinator, json!({"reason": "manufacturer recall"}))
        .await;
    assert_eq!(recalled.status, StatusCode::OK);
    assert!(recalled.body["recalled_at"].is_string());
    let reply =
        movement(&app, &o.coordinator, json!({"kind": "allocate", "batch_id": b, "user_id": o.peer_id, "quantity": 1}))
            .await;
    assert_eq!(reply.body["errors"][0]["code"], "batch_recalled");
    let written_off = movement(
        &app,
        &o.coordinator,
        json!({"kind": "write_off", "batch_id": b, "quantity": 5, "reason": "recalled"}),
    )
    .await;
    assert_eq!(written_off.status, StatusCode::CREATED);
    assert_eq!(app.get("/api/v1/batches?recalled=false", &o.coordinator).await.body["items"], json!([]));
}

/// A peer who leaves keeps no kits on the books for good: a coordinator takes
/// them back or writes them off, but allocates nothing more to them.
async fn kits_held_by_a_deactivated_peer_come_back_or_are_written_off(app: TestApp) {
    let o = app.outreach(true).await;
    let b = batch(&app, &o, 20).await;
    let allocate = json!({"kind": "allocate", "batch_id": b, "user_id": o.peer_id, "quantity": 6});
    assert_eq!(movement(&app, &o.coordinator, allocate.clone()).await.status, StatusCode::CREATED);
    let deactivated =
        app.patch(&format!("/api/v1/users/{}", o.peer_id), &o.coordinator, json!({"active": false})).await;
    assert_eq!(deactivated.status, StatusCode::OK, "{}", deactivated.body);

    let refused = movement(&app, &o.coordinator, allocate).await;
    assert_eq!(
        (refused.status, refused.body["errors"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("not_a_peer")),
        "{}",
        refused.body
    );
    let back =
        movement(&app, &o.coordinator, json!({"kind": "return", "batch_id": b, "user_id": o.peer_id, "quantity": 4}))
            .await;
    assert_eq!(back.status, StatusCode::CREATED, "{}", back.body);
    let lost = json!({"kind": "write_off", "batch_id": b, "user_id": o.peer_id, "quantity": 2, "reason": "lost"});
    let written_off = movement(&app, &o.coordinator, lost.clone()).await;
    assert_eq!(written_off.status, StatusCode::CREATED, "{}", written_off.body);
    assert_eq!(balances(&app, &o, &b).await, (18, 0), "4 back in store, 2 written off");
    // Never more than they held, and never from someone who does not exist.
    let more = movement(&app, &o.coordinator, lost).await;
    assert_eq!((more.status, more.code()), (StatusCode::CONFLICT, "insufficient_stock"));
    let nobody = json!({"kind": "return", "batch_id": b, "user_id": uuid::Uuid::new_v4(), "quantity": 1});
    let unknown = movement(&app, &o.coordinator, nobody).await;
    assert_eq!(
        (unknown.status, unknown.body["errors"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("not_found"))
    );
    let audited = app.audit_of(back.body["id"].as_str().unwrap());
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].after["kind"], "return");
}
