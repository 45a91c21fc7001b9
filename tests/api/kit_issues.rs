//! Kit handouts: the certificate gate, every field rule, idempotency, scope, corrections and voids.

use crate::harness::{self, tally, TestApp, NYXOID, PRENOXAD};
use chrono::{Duration, SecondsFormat, Utc};
use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

both_backends!(
    a_tally_needs_only_where_what_and_how_many,
    a_resubmitted_handout_is_stored_once,
    a_reused_id_with_another_body_is_a_conflict,
    a_handout_without_a_certificate_at_its_time_is_held,
    the_rules_between_fields_hold,
    fields_are_checked_one_by_one,
    batches_must_fit_the_handout,
    peers_see_their_own_and_coordinators_their_organisations,
    corrections_and_voids_are_audited_and_windowed,
    recipient_codes_are_stored_only_as_keyed_hashes,
    handouts_filter,
    a_whole_number_written_as_a_float_is_an_integer,
);

fn at(offset: Duration) -> String {
    (Utc::now() + offset).to_rfc3339_opts(SecondsFormat::Millis, true)
}

async fn a_tally_needs_only_where_what_and_how_many(app: TestApp) {
    let o = app.outreach(false).await;
    let body = tally(&o.area, 5);
    let reply = app.post("/api/v1/kit-issues", &o.peer, body.clone()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.headers["location"], format!("/api/v1/kit-issues/{}", body["id"].as_str().unwrap()));
    let issue = &reply.body;
    assert_eq!((issue["quantity"].clone(), issue["recipient_type"].clone()), (json!(5), json!("unknown")));
    assert_eq!(issue["distributor_id"], o.peer_id.as_str());
    assert_eq!(issue["organisation_id"], o.organisation.as_str());
    assert!(issue["received_at"].is_string() && issue["issued_at"].is_string());
    assert!(issue.get("request_fingerprint").is_none() && issue.get("recipient_code_hash").is_none());
    for field in ["id", "issued_at", "area_id", "setting", "product_id", "quantity"] {
        let mut missing = tally(&o.area, 1);
        missing.as_object_mut().unwrap().remove(field);
        let reply = app.post("/api/v1/kit-issues", &o.peer, missing).await;
        assert_eq!(
            (reply.status, reply.error_fields()),
            (StatusCode::UNPROCESSABLE_ENTITY, vec![field.to_owned()]),
            "{field}"
        );
    }
}

async fn a_resubmitted_handout_is_stored_once(app: TestApp) {
    let o = app.outreach(false).await;
    let mut body = tally(&o.area, 2);
    body["recipient_code"] = json!("SMI0412");
    let first = app.post("/api/v1/kit-issues", &o.peer, body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let again = app.post("/api/v1/kit-issues", &o.peer, body.clone()).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body, first.body);
    assert_eq!(app.get("/api/v1/kit-issues", &o.peer).await.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(app.audit_of(body["id"].as_str().unwrap()).len(), 1);
}

async fn a_reused_id_with_another_body_is_a_conflict(app: TestApp) {
    let o = app.outreach(false).await;
    let body = tally(&o.area, 2);
    app.create("/api/v1/kit-issues", &o.peer, body.clone()).await;
    let mut other = body.clone();
    other["quantity"] = json!(3);
    let conflict = app.post("/api/v1/kit-issues", &o.peer, other).await;
    assert_eq!((conflict.status, conflict.code()), (StatusCode::CONFLICT, "id_conflict"));
    let link = format!("/api/v1/kit-issues/{}", body["id"].as_str().unwrap());
    assert!(conflict.body["detail"].as_str().unwrap().contains(&link));
    assert_eq!(conflict.headers["location"], link.as_str());
    let stored = app.get(&format!("/api/v1/kit-issues/{}", body["id"].as_str().unwrap()), &o.peer).await;
    assert_eq!(stored.body["quantity"], 2);
}

/// A handout by a peer with no valid certificate at its time happened all
/// the same: it is kept, held (202), not counted.
async fn a_handout_without_a_certificate_at_its_time_is_held(app: TestApp) {
    let o = app.outreach(false).await;
    let held = |reply: &harness::Reply| {
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
        assert_eq!(
            (reply.body["state"].as_str(), reply.held_codes()),
            (Some("held"), vec!["certificate_required".to_owned()])
        );
    };
    let (_, uncertified) = app.user(&o.admin, "new@hub.example", &["peer"], &o.organisation).await;
    held(&app.post("/api/v1/kit-issues", &uncertified, tally(&o.area, 1)).await);
    // Before the certificate was issued.
    let mut early = tally(&o.area, 1);
    early["issued_at"] = json!(at(-Duration::days(1)));
    held(&app.post("/api/v1/kit-issues", &o.peer, early).await);
    // After revocation; a handout made before it still counts.
    let before_revocation = tally(&o.area, 1);
    let certificate = app.get("/api/v1/me", &o.peer).await.body["certificates"][0]["id"].as_str().unwrap().to_owned();
    tokio_sleep().await;
    app.post(&format!("/api/v1/certificates/{certificate}/revoke"), &o.admin, json!({"reason": "left"})).await;
    held(&app.post("/api/v1/kit-issues", &o.peer, tally(&o.area, 1)).await);
    assert_eq!(app.post("/api/v1/kit-issues", &o.peer, before_revocation).await.status, StatusCode::CREATED);
    // A coordinator is no distributor, nor is a trainer who is not a peer,
    // even with a peer_trainer certificate.
    assert_eq!(app.post("/api/v1/kit-issues", &o.coordinator, tally(&o.area, 1)).await.status, StatusCode::FORBIDDEN);
    let (trainer_id, trainer) = app.user(&o.admin, "trainer@hub.example", &["trainer"], &o.organisation).await;
    app.create(
        "/api/v1/certificates",
        &o.admin,
        json!({"user_id": trainer_id, "level": "peer_trainer", "reason": "the first trainer"}),
    )
    .await;
    assert_eq!(app.post("/api/v1/kit-issues", &trainer, tally(&o.area, 1)).await.status, StatusCode::FORBIDDEN);
    let all = app.get("/api/v1/kit-issues", &o.admin).await.body["items"].as_array().unwrap().len();
    let held = app.get("/api/v1/kit-issues?state=held", &o.admin).await.body["items"].as_array().unwrap().len();
    assert_eq!((all, held), (4, 3), "nothing half-written, nothing lost");
    assert_eq!(harness::kits_recorded_and_counted(&app, &o).await, (1, 1), "held handouts count for nothing");
}

/// Lets the clock move past a moment recorded to the microsecond.
async fn tokio_sleep() {
    actix_web::rt::time::sleep(std::time::Duration::from_millis(5)).await;
}

async fn the_rules_between_fields_hold(app: TestApp) {
    let o = app.outreach(false).await;
    let with = |pairs: &[(&str, Value)]| {
        let mut body = tally(&o.area, 1);
        for (field, value) in pairs {
            body[*field] = value.clone();
        }
        body
    };
    // What a peer in the street cannot put right after the fact holds the
    // handout (202, with the field and the reason); what is wrong with the
    // record itself refuses it (422).
    enum Expect {
        Recorded,
        Held(&'static str, &'static str),
        Refused(&'static str),
    }
    use Expect::{Held, Recorded, Refused};
    let cases: Vec<(Value, Expect)> = vec![
        (with(&[("recipient_type", json!("family_friend"))]), Held("consent_recorded", "consent_not_recorded")),
        (
            with(&[("recipient_type", json!("family_friend")), ("consent_recorded", json!(false))]),
            Held("consent_recorded", "consent_not_recorded"),
        ),
        (with(&[("recipient_type", json!("family_friend")), ("consent_recorded", json!(true))]), Recorded),
        (
            with(&[("recipient_type", json!("person_at_risk")), ("supply", json!("repeat"))]),
            Held("repeat_reason", "repeat_reason_missing"),
        ),
        (
            with(&[
                ("recipient_type", json!("person_at_risk")),
                ("supply", json!("repeat")),
                ("repeat_reason", json!("used_on_overdose")),
            ]),
            Recorded,
        ),
        (
            with(&[("supply", json!("first")), ("repeat_reason", json!("lost"))]),
            Held("repeat_reason", "repeat_reason_not_allowed"),
        ),
        // Recipient unknown: no consent or repeat rule applies.
        (with(&[("supply", json!("repeat"))]), Recorded),
        (with(&[("issued_at", json!(at(Duration::minutes(10))))]), Held("issued_at", "in_future")),
        (with(&[("issued_at", json!(at(Duration::minutes(4))))]), Recorded),
        (with(&[("issued_at", json!("1999-12-31T23:00:00Z"))]), Refused("issued_at")),
        (with(&[("postcode_district", json!("KA1 1AA"))]), Refused("postcode_district")),
        (with(&[("postcode_district", json!("Kilmarnock"))]), Refused("postcode_district")),
        (with(&[("postcode_district", json!("cf10"))]), Recorded),
        (with(&[("quantity", json!(0))]), Refused("quantity")),
        (with(&[("quantity", json!(501))]), Refused("quantity")),
    ];
    for (body, expect) in cases {
        let reply = app.post("/api/v1/kit-issues", &o.peer, body.clone()).await;
        match expect {
            Recorded => assert_eq!(reply.status, StatusCode::CREATED, "{body}: {}", reply.body),
            Held(field, code) => {
                assert_eq!(reply.status, StatusCode::ACCEPTED, "{body}: {}", reply.body);
                let reasons = &reply.body["held_reasons"];
                assert_eq!(
                    (reasons[0]["field"].as_str(), reasons[0]["code"].as_str()),
                    (Some(field), Some(code)),
                    "{body}"
                );
                assert_eq!(reasons.as_array().unwrap().len(), 1, "{body}");
            }
            Refused(field) => {
                assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
                assert_eq!(reply.error_fields(), [field], "{body}");
            }
        }
    }
    let stored = app.get("/api/v1/kit-issues?limit=200", &o.peer).await;
    let districts: Vec<&Value> = stored.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["postcode_district"])
        .filter(|d| !d.is_null())
        .collect();
    assert_eq!(districts, [&json!("CF10")]);
}

async fn fields_are_checked_one_by_one(app: TestApp) {
    let o = app.outreach(false).await;
    let cases = [
        ("setting", json!("street")),
        ("recipient_type", json!("stranger")),
        ("supply", json!("third")),
        ("repeat_reason", json!("bored")),
        ("age_band", json!("40s")),
        ("gender", json!("x")),
        ("issued_at", json!("yesterday")),
        ("issued_at", json!("2026-11-23")),
        ("area_id", json!(uuid::Uuid::new_v4())),
        ("product_id", json!(uuid::Uuid::new_v4())),
        ("quantity", json!("five")),
        ("brief_training_given", json!("yes")),
        ("recipient_code", json!("x".repeat(40))),
        ("full_name", json!("Not Allowed")),
    ];
    for (field, value) in cases {
        let mut body = tally(&o.area, 1);
        body[field] = value.clone();
        let reply = app.post("/api/v1/kit-issues", &o.peer, body).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}={value}");
        assert_eq!(reply.error_fields(), [field], "{field}={value}");
    }
    let mut full = tally(&o.area, 1);
    for (field, value) in [
        ("age_band", json!("25_to_34")),
        ("gender", json!("non_binary")),
        ("brief_training_given", json!(true)),
        ("setting", json!("prison_release")),
    ] {
        full[field] = value;
    }
    assert_eq!(app.post("/api/v1/kit-issues", &o.peer, full).await.status, StatusCode::CREATED);
}

async fn batches_must_fit_the_handout(app: TestApp) {
    let o = app.outreach(false).await;
    let batch = |product: &str, expires: &str| json!({"product_id": product, "lot_number": "L1", "expires_on": expires, "quantity": 10});
    let good = app.create("/api/v1/batches", &o.coordinator, batch(PRENOXAD, "2030-01-01")).await;
    let expired = app.create("/api/v1/batches", &o.coordinator, batch(PRENOXAD, "2020-01-01")).await;
    let nasal = app.create("/api/v1/batches", &o.coordinator, batch(NYXOID, "2030-01-01")).await;
    let recalled = app.create("/api/v1/batches", &o.coordinator, batch(PRENOXAD, "2030-01-01")).await;
    app.post(&format!("/api/v1/batches/{recalled}/recall"), &o.coordinator, json!({"reason": "faulty syringes"})).await;
    let (_, elsewhere) = app.hub(&o.admin, "Shetland Recovery Hub").await;
    let foreign = app.create("/api/v1/batches", &o.admin, json!({"product_id": PRENOXAD, "lot_number": "S", "expires_on": "2030-01-01", "quantity": 5, "organisation_id": elsewhere})).await;
    // A batch of another product or organisation is no batch of this
    // handout (422); one expired or recalled at the time holds it.
    for (batch_id, code) in [(&nasal, "product_mismatch"), (&foreign, "not_found")] {
        let mut body = tally(&o.area, 1);
        body["batch_id"] = json!(batch_id);
        let reply = app.post("/api/v1/kit-issues", &o.peer, body).await;
        assert_eq!(
            (reply.status, reply.body["errors"][0]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code))
        );
    }
    for (batch_id, code) in [(&expired, "batch_expired"), (&recalled, "batch_recalled")] {
        let mut body = tally(&o.area, 1);
        body["batch_id"] = json!(batch_id);
        let reply = app.post("/api/v1/kit-issues", &o.peer, body).await;
        assert_eq!((reply.status, reply.held_codes()), (StatusCode::ACCEPTED, vec![code.to_owned()]));
    }
    let mut body = tally(&o.area, 1);
    body["batch_id"] = json!(good);
    assert_eq!(app.post("/api/v1/kit-issues", &o.peer, body).await.status, StatusCode::CREATED);
}

async fn peers_see_their_own_and_coordinators_their_organisations(app: TestApp) {
    let o = app.outreach(false).await;
    let (_, other_peer) = app.certified_peer(&o.admin, "peer2@hub.example", &o.organisation).await;
    let mine = app.create("/api/v1/kit-issues", &o.peer, tally(&o.area, 1)).await;
    let theirs = app.create("/api/v1/kit-issues", &other_peer, tally(&o.area, 2)).await;
    let ids = |reply: harness::Reply| -> Vec<String> {
        reply.body["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(ids(app.get("/api/v1/kit-issues", &o.peer).await), vec![mine.clone()]);
    assert_eq!(app.get(&format!("/api/v1/kit-issues/{theirs}"), &o.peer).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.patch(&format!("/api/v1/kit-issues/{theirs}"), &o.peer, json!({"quantity": 9})).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(ids(app.get("/api/v1/kit-issues", &o.coordinator).await).len(), 2);
    let (_, elsewhere) = app.hub(&o.admin, "Shetland Recovery Hub").await;
    let (_, stranger) = app.user(&o.admin, "coord@shetland.example", &["coordinator"], &elsewhere).await;
    assert_eq!(ids(app.get("/api/v1/kit-issues", &stranger).await), Vec::<String>::new());
    assert_eq!(app.get(&format!("/api/v1/kit-issues/{mine}"), &stranger).await.status, StatusCode::NOT_FOUND);
    let (_, trainer) = app.user(&o.admin, "trainer@hub.example", &["trainer"], &o.organisation).await;
    assert_eq!(app.get("/api/v1/kit-issues", &trainer).await.status, StatusCode::FORBIDDEN);
}

async fn corrections_and_voids_are_audited_and_windowed(app: TestApp) {
    let o = app.outreach(false).await;
    let id = app.create("/api/v1/kit-issues", &o.peer, tally(&o.area, 3)).await;
    let path = format!("/api/v1/kit-issues/{id}");
    let corrected = app.patch(&path, &o.peer, json!({"quantity": 4, "postcode_district": "ka3"})).await;
    assert_eq!(corrected.status, StatusCode::OK, "{}", corrected.body);
    assert_eq!(
        (corrected.body["quantity"].clone(), corrected.body["postcode_district"].clone()),
        (json!(4), json!("KA3"))
    );
    let broken = app.patch(&path, &o.peer, json!({"recipient_type": "family_friend"})).await;
    assert_eq!(broken.error_fields(), ["consent_recorded"]);
    let cleared = app.patch(&path, &o.peer, json!({"postcode_district": null})).await;
    assert_eq!(cleared.body["postcode_district"], json!(null));

    let aged = id.clone();
    app.db
        .run_blocking(move |conn| -> crate::harness::Stored<_> {
            use naloxone_tracker::storage::schema::kit_issues::dsl::*;
            diesel::update(kit_issues.find(aged))
                .set(created_at.eq(naloxone_tracker::model::time::now() - Duration::days(8)))
                .execute(conn)?;
            Ok(())
        })
        .unwrap();
    assert_eq!(app.patch(&path, &o.peer, json!({"quantity": 5})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.patch(&path, &o.coordinator, json!({"quantity": 5})).await.status, StatusCode::OK);
    let voided =
        app.post(&format!("{path}/void"), &o.coordinator, json!({"reason": "duplicate of a paper record"})).await;
    assert_eq!(voided.status, StatusCode::OK);
    assert_eq!(voided.body["void_reason"], "duplicate of a paper record");
    assert_eq!(app.patch(&path, &o.coordinator, json!({"quantity": 1})).await.code(), "voided");
    assert!(app.get(&path, &o.peer).await.body["voided_at"].is_string(), "voided records stay readable");
    let audit = app.audit_of(&id);
    assert_eq!(
        audit.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(),
        ["create", "update", "update", "update", "void"]
    );
    assert_eq!(audit[1].before.as_ref().unwrap()["quantity"], 3);
    assert_eq!(audit[1].after["quantity"], 4);
}

async fn recipient_codes_are_stored_only_as_keyed_hashes(app: TestApp) {
    let o = app.outreach(false).await;
    let mut first = tally(&o.area, 1);
    first["recipient_code"] = json!("smi 0412");
    let mut second = tally(&o.area, 1);
    second["recipient_code"] = json!("SMI0412");
    let a = app.create("/api/v1/kit-issues", &o.peer, first).await;
    let b = app.create("/api/v1/kit-issues", &o.peer, second).await;
    let stored: Vec<(Option<String>, String)> = app
        .db
        .run_blocking(|conn| -> crate::harness::Stored<_> {
            use naloxone_tracker::storage::schema::kit_issues::dsl::*;
            Ok(kit_issues.order(id.asc()).select((recipient_code_hash, request_fingerprint)).load(conn)?)
        })
        .unwrap();
    assert_eq!(stored.len(), 2);
    let (hash_a, hash_b) = (stored[0].0.clone().unwrap(), stored[1].0.clone().unwrap());
    assert_eq!(hash_a, hash_b, "the same person, however typed");
    assert!(!hash_a.to_uppercase().contains("SMI") && hash_a.len() == 64);
    let audit = app.audit_of(&a);
    assert!(!audit[0].after.to_string().to_uppercase().contains("SMI"));
    assert!(app.get(&format!("/api/v1/kit-issues/{b}"), &o.peer).await.body.get("recipient_code").is_none());
}

async fn handouts_filter(app: TestApp) {
    let o = app.outreach(false).await;
    let mut old = tally(&o.area, 1);
    old["issued_at"] = json!(at(-Duration::days(40)));
    old["setting"] = json!("prison_release");
    // The certificate was issued just now, so backdate it to cover the old handout.
    let peer = o.peer_id.clone();
    app.db
        .run_blocking(move |conn| -> crate::harness::Stored<_> {
            use naloxone_tracker::storage::schema::certificates::dsl::*;
            diesel::update(certificates.filter(user_id.eq(peer)))
                .set(issued_at.eq(naloxone_tracker::model::time::now() - Duration::days(100)))
                .execute(conn)?;
            Ok(())
        })
        .unwrap();
    app.create("/api/v1/kit-issues", &o.peer, old).await;
    let mut family = tally(&o.area, 2);
    family["recipient_type"] = json!("family_friend");
    family["consent_recorded"] = json!(true);
    family["supply"] = json!("first");
    app.create("/api/v1/kit-issues", &o.peer, family).await;
    let count = |reply: harness::Reply| reply.body["items"].as_array().unwrap().len();
    let week_ago = (Utc::now() - Duration::days(7)).date_naive();
    assert_eq!(count(app.get(&format!("/api/v1/kit-issues?from={week_ago}"), &o.coordinator).await), 1);
    assert_eq!(count(app.get(&format!("/api/v1/kit-issues?to={week_ago}"), &o.coordinator).await), 1);
    assert_eq!(count(app.get("/api/v1/kit-issues?setting=prison_release", &o.coordinator).await), 1);
    assert_eq!(count(app.get("/api/v1/kit-issues?recipient_type=family_friend&supply=first", &o.coordinator).await), 1);
    assert_eq!(count(app.get(&format!("/api/v1/kit-issues?area_id={}", o.area), &o.coordinator).await), 2);
    assert_eq!(count(app.get(&format!("/api/v1/kit-issues?distributor_id={}", o.peer_id), &o.admin).await), 2);
    assert_eq!(count(app.get("/api/v1/kit-issues?voided=true", &o.coordinator).await), 0);
    assert_eq!(app.get("/api/v1/kit-issues?settings=outreach", &o.coordinator).await.status, StatusCode::BAD_REQUEST);
}

/// JSON Schema counts `3.0` and `1e1` as integers; clients that write every
/// number as a float are understood. A fraction is still refused.
async fn a_whole_number_written_as_a_float_is_an_integer(app: TestApp) {
    let o = app.outreach(false).await;
    for (written, kits) in [(json!(3.0), 3), (json!(1e1), 10)] {
        let mut body = tally(&o.area, 1);
        body["quantity"] = written.clone();
        let reply = app.post("/api/v1/kit-issues", &o.peer, body).await;
        assert_eq!((reply.status, reply.body["quantity"].clone()), (StatusCode::CREATED, json!(kits)), "{written}");
    }
    let mut fraction = tally(&o.area, 1);
    fraction["quantity"] = json!(2.5);
    assert_eq!(app.post("/api/v1/kit-issues", &o.peer, fraction).await.error_fields(), ["quantity"]);
}
