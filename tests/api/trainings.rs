//! Training sessions: offline-safe creation, scope, corrections and voids.

use crate::harness::{self, TestApp};
use chrono::{Duration, Utc};
use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

both_backends!(
    a_resubmitted_session_is_not_stored_twice,
    a_reused_id_with_another_body_is_a_conflict,
    only_trainers_coordinators_and_admins_record,
    each_sees_only_their_own_sessions,
    sessions_are_validated,
    corrections_and_voids_are_audited,
    the_trainer_may_correct_for_seven_days,
    sessions_filter_by_date_kind_and_void,
);

struct Hub {
    admin: String,
    organisation: String,
    trainer_id: String,
    trainer: String,
    peer_id: String,
    coordinator: String,
}

async fn hub(app: &TestApp, name: &str, admin: Option<&str>) -> Hub {
    let admin = match admin {
        Some(token) => token.to_owned(),
        None => app.admin().await,
    };
    let (_, organisation) = app.hub(&admin, name).await;
    let slug = name.to_lowercase().replace(' ', "");
    let (trainer_id, trainer) =
        app.user(&admin, &format!("trainer@{slug}.example"), &["trainer", "peer"], &organisation).await;
    let (peer_id, _) = app.user(&admin, &format!("peer@{slug}.example"), &["peer"], &organisation).await;
    let (_, coordinator) = app.user(&admin, &format!("coord@{slug}.example"), &["coordinator"], &organisation).await;
    Hub { admin, organisation, trainer_id, trainer, peer_id, coordinator }
}

fn session(attendees: &[&str]) -> Value {
    json!({
        "id": uuid::Uuid::new_v4(),
        "delivered_on": Utc::now().date_naive().to_string(),
        "kind": "peer_supplier_course",
        "setting": "hub",
        "attendee_ids": attendees,
        "anonymous_attendees": 3,
        "kits_handed_out": 4,
    })
}

async fn a_resubmitted_session_is_not_stored_twice(app: TestApp) {
    let hub = hub(&app, "Kilmarnock Recovery Hub", None).await;
    let body = session(&[&hub.peer_id]);
    let first = app.post("/api/v1/trainings", &hub.trainer, body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.body["trainer_id"], hub.trainer_id.as_str());
    assert_eq!(first.body["organisation_id"], hub.organisation.as_str());
    assert_eq!(first.body["attendee_ids"], json!([hub.peer_id]));
    let again = app.post("/api/v1/trainings", &hub.trainer, body.clone()).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body, first.body);
    let listed = app.get("/api/v1/trainings", &hub.trainer).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(app.audit_of(body["id"].as_str().unwrap()).len(), 1, "the retry wrote nothing");
}

async fn a_reused_id_with_another_body_is_a_conflict(app: TestApp) {
    let hub = hub(&app, "Kilmarnock Recovery Hub", None).await;
    let body = session(&[&hub.peer_id]);
    app.create("/api/v1/trainings", &hub.trainer, body.clone()).await;
    let mut other = body.clone();
    other["kits_handed_out"] = json!(9);
    let conflict = app.post("/api/v1/trainings", &hub.trainer, other).await;
    assert_eq!((conflict.status, conflict.code()), (StatusCode::CONFLICT, "id_conflict"));
    assert!(conflict.body["detail"]
        .as_str()
        .unwrap()
        .contains(&format!("/api/v1/trainings/{}", body["id"].as_str().unwrap())));
    // The same body from someone else is another record too.
    let by_coordinator = app.post("/api/v1/trainings", &hub.coordinator, body.clone()).await;
    assert_eq!(by_coordinator.status, StatusCode::CONFLICT);
    assert_eq!(
        app.get(&format!("/api/v1/trainings/{}", body["id"].as_str().unwrap()), &hub.trainer).await.body
            ["kits_handed_out"],
        4
    );
}

async fn only_trainers_coordinators_and_admins_record(app: TestApp) {
    let hub = hub(&app, "Kilmarnock Recovery Hub", None).await;
    let other = self::hub(&app, "Shetland Recovery Hub", Some(&hub.admin)).await;
    let peer = app.token_for("peer@kilmarnockrecoveryhub.example").await;
    let refused = app.post("/api/v1/trainings", &peer, session(&[])).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/v1/trainings", &peer).await.status, StatusCode::FORBIDDEN);

    // A coordinator records for a trainer of their organisation, not of another.
    let mut for_trainer = session(&[]);
    for_trainer["trainer_id"] = json!(hub.trainer_id);
    let recorded = app.post("/api/v1/trainings", &hub.coordinator, for_trainer).await;
    assert_eq!(recorded.status, StatusCode::CREATED, "{}", recorded.body);
    let mut for_stranger = session(&[]);
    for_stranger["trainer_id"] = json!(other.trainer_id);
    assert_eq!(app.post("/api/v1/trainings", &hub.coordinator, for_stranger).await.status, StatusCode::FORBIDDEN);
    // A trainer cannot record a session as another trainer's.
    let mut as_other = session(&[]);
    as_other["trainer_id"] = json!(other.trainer_id);
    assert_eq!(app.post("/api/v1/trainings", &hub.trainer, as_other).await.status, StatusCode::FORBIDDEN);
    // Nor for another organisation.
    let mut elsewhere = session(&[]);
    elsewhere["organisation_id"] = json!(other.organisation);
    let reply = app.post("/api/v1/trainings", &hub.trainer, elsewhere).await;
    assert_eq!(
        (reply.status, reply.error_fields()),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["organisation_id".to_owned()])
    );
    // The trainer must be a trainer.
    let mut not_trainer = session(&[]);
    not_trainer["trainer_id"] = json!(hub.peer_id);
    let reply = app.post("/api/v1/trainings", &hub.admin, not_trainer).await;
    assert_eq!(reply.error_fields(), ["trainer_id"]);
}

async fn each_sees_only_their_own_sessions(app: TestApp) {
    let hub = hub(&app, "Kilmarnock Recovery Hub", None).await;
    let other = self::hub(&app, "Shetland Recovery Hub", Some(&hub.admin)).await;
    let ours = app.create("/api/v1/trainings", &hub.trainer, session(&[&hub.peer_id])).await;
    let theirs = app.create("/api/v1/trainings", &other.trainer, session(&[&other.peer_id])).await;

    let ids = |reply: &harness::Reply| -> Vec<String> {
        reply.body["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(ids(&app.get("/api/v1/trainings", &hub.coordinator).await), vec![ours.clone()]);
    assert_eq!(ids(&app.get("/api/v1/trainings", &other.trainer).await), vec![theirs.clone()]);
    assert_eq!(ids(&app.get("/api/v1/trainings", &hub.admin).await).len(), 2);
    let hidden = app.get(&format!("/api/v1/trainings/{theirs}"), &hub.coordinator).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let asked = app.get(&format!("/api/v1/trainings?organisation_id={}", other.organisation), &hub.coordinator).await;
    assert_eq!(asked.body["items"], json!([]));
    let patch =
        app.patch(&format!("/api/v1/trainings/{theirs}"), &hub.coordinator, json!({"kits_handed_out": 0})).await;
    assert_eq!(patch.status, StatusCode::NOT_FOUND);
    let void = app.post(&format!("/api/v1/trainings/{theirs}/void"), &hub.trainer, json!({"reason": "not ours"})).await;
    assert_eq!(void.status, StatusCode::NOT_FOUND);
}

async fn sessions_are_validated(app: TestApp) {
    let hub = hub(&app, "Kilmarnock Recovery Hub", None).await;
    let mut future = session(&[]);
    future["delivered_on"] = json!((Utc::now().date_naive() + Duration::days(3)).to_string());
    assert_eq!(app.post("/api/v1/trainings", &hub.trainer, future).await.error_fields(), ["delivered_on"]);
    let mut empty = session(&[]);
    empty["anonymous_attendees"] = json!(0);
    let reply = app.post("/api/v1/trainings", &hub.trainer, empty).await;
    assert_eq!(
        (reply.status, reply.body["errors"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("no_attendees"))
    );
    let stranger = uuid::Uuid::new_v4().to_string();
    let reply = app.post("/api/v1/trainings", &hub.trainer, session(&[&hub.peer_id, &stranger])).await;
    assert_eq!(reply.error_fields(), ["attendee_ids[1]"]);
    for (field, value) in [
        ("kind", json!("lecture")),
        ("setting", json!("pub")),
        ("anonymous_attendees", json!(-1)),
        ("delivered_on", json!("23/11/2026")),
        ("id", json!("abc")),
    ] {
        let mut body = session(&[]);
        body[field] = value;
        let reply = app.post("/api/v1/trainings", &hub.trainer, body).await;
        assert_eq!(
            (reply.status, reply.error_fields()),
            (StatusCode::UNPROCESSABLE_ENTITY, vec![field.to_owned()]),
            "{field}"
        );
    }
    let mut no_id = session(&[]);
    no_id.as_object_mut().unwrap().remove("id");
    assert_eq!(app.post("/api/v1/trainings", &hub.trainer, no_id).await.error_fields(), ["id"]);
    assert_eq!(app.get("/api/v1/trainings", &hub.admin).await.body["items"], json!([]), "nothing half-written");
}

async fn corrections_and_voids_are_audited(app: TestApp) {
    let hub = hub(&app, "Kilmarnock Recovery Hub", None).await;
    let id = app.create("/api/v1/trainings", &hub.trainer, session(&[&hub.peer_id])).await;
    let path = format!("/api/v1/trainings/{id}");
    let corrected = app.patch(&path, &hub.coordinator, json!({"kits_handed_out": 6, "attendee_ids": []})).await;
    assert_eq!(corrected.status, StatusCode::OK, "{}", corrected.body);
    assert_eq!(
        (corrected.body["kits_handed_out"].clone(), corrected.body["attendee_ids"].clone()),
        (json!(6), json!([]))
    );
    let emptied = app.patch(&path, &hub.coordinator, json!({"anonymous_attendees": 0})).await;
    assert_eq!(emptied.status, StatusCode::UNPROCESSABLE_ENTITY);

    let voided = app.post(&format!("{path}/void"), &hub.trainer, json!({"reason": "entered twice"})).await;
    assert_eq!(voided.status, StatusCode::OK);
    assert!(voided.body["voided_at"].is_string());
    assert_eq!(voided.body["void_reason"], "entered twice");
    let again = app.post(&format!("{path}/void"), &hub.trainer, json!({"reason": "again"})).await;
    assert_eq!((again.status, again.body["void_reason"].as_str()), (StatusCode::OK, Some("entered twice")));
    assert_eq!(app.patch(&path, &hub.coordinator, json!({"kits_handed_out": 1})).await.code(), "voided");
    assert_eq!(
        app.get(&path, &hub.trainer).await.body["void_reason"],
        "entered twice",
        "voided sessions stay readable"
    );
    assert_eq!(
        app.post(&format!("{path}/void"), &hub.trainer, json!({"reason": " "})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let audit = app.audit_of(&id);
    assert_eq!(audit.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(), ["create", "update", "void"]);
    assert_eq!(audit[1].before.as_ref().unwrap()["kits_handed_out"], 4);
    assert_eq!(audit[1].after["kits_handed_out"], 6);
    assert_eq!(audit[2].after["void_reason"], "entered twice");
}

async fn the_trainer_may_correct_for_seven_days(app: TestApp) {
    let hub = hub(&app, "Kilmarnock Recovery Hub", None).await;
    let id = app.create("/api/v1/trainings", &hub.trainer, session(&[])).await;
    let path = format!("/api/v1/trainings/{id}");
    assert_eq!(app.patch(&path, &hub.trainer, json!({"kits_handed_out": 5})).await.status, StatusCode::OK);
    // Eight days pass.
    let aged = id.clone();
    app.db
        .run_blocking(move |conn| -> crate::harness::Stored<_> {
            use naloxone_tracker::storage::schema::trainings::dsl::*;
            let then = naloxone_tracker::model::time::now() - Duration::days(8);
            diesel::update(trainings.find(aged)).set(created_at.eq(then)).execute(conn)?;
            Ok(())
        })
        .unwrap();
    let late = app.patch(&path, &hub.trainer, json!({"kits_handed_out": 6})).await;
    assert_eq!(late.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.post(&format!("{path}/void"), &hub.trainer, json!({"reason": "late"})).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.patch(&path, &hub.coordinator, json!({"kits_handed_out": 6})).await.status, StatusCode::OK);
}

async fn sessions_filter_by_date_kind_and_void(app: TestApp) {
    let hub = hub(&app, "Kilmarnock Recovery Hub", None).await;
    let today = Utc::now().date_naive();
    let mut old = session(&[]);
    old["delivered_on"] = json!((today - Duration::days(30)).to_string());
    old["kind"] = json!("awareness");
    let old_id = app.create("/api/v1/trainings", &hub.trainer, old).await;
    let new_id = app.create("/api/v1/trainings", &hub.trainer, session(&[])).await;
    app.post(&format!("/api/v1/trainings/{new_id}/void"), &hub.trainer, json!({"reason": "test"})).await;
    let count = |reply: harness::Reply| reply.body["items"].as_array().unwrap().len();
    let from = (today - Duration::days(7)).to_string();
    assert_eq!(count(app.get(&format!("/api/v1/trainings?from={from}"), &hub.trainer).await), 1);
    assert_eq!(count(app.get(&format!("/api/v1/trainings?to={from}"), &hub.trainer).await), 1);
    assert_eq!(count(app.get("/api/v1/trainings?kind=awareness", &hub.trainer).await), 1);
    assert_eq!(count(app.get("/api/v1/trainings?voided=false", &hub.trainer).await), 1);
    assert_eq!(count(app.get(&format!("/api/v1/trainings?trainer_id={}", hub.trainer_id), &hub.admin).await), 2);
    assert_eq!(app.get("/api/v1/trainings?from=yesterday", &hub.trainer).await.status, StatusCode::BAD_REQUEST);
    let _ = old_id;
}
