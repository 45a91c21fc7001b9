//! Certificates: who may certify, expiry and revocation, public checks and signed tokens.

use crate::harness::{self, Backend, TestApp};
use chrono::{Duration, Utc};
use diesel::prelude::*;
use naloxone_tracker::domain::certificates::{may_certify, may_supply};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

both_backends!(
    an_admin_bootstraps_the_first_trainer,
    a_valid_peer_trainer_certifies_after_a_training,
    those_without_a_valid_peer_trainer_certificate_cannot_certify,
    holders_must_fit_the_level,
    expiry_and_revocation_end_the_authority,
    certificates_are_seen_only_by_those_concerned,
    public_verification_reveals_only_the_listed_facts,
    signed_tokens_verify_with_the_published_key,
    me_shows_certificates_and_the_earliest_expiry,
    a_trainer_trains_and_certifies_only_within_reach,
    a_certificate_names_the_trainers_own_session_unless_an_admin_gives_a_reason,
    a_deactivated_holders_certificate_is_suspended,
    an_admin_brings_in_a_paper_certificate_with_its_own_dates,
    a_trainer_dates_a_certificate_from_the_session,
);

struct Hub {
    admin: String,
    organisation: String,
    trainer_id: String,
    trainer: String,
    peer_id: String,
    peer: String,
    coordinator: String,
}

async fn hub(app: &TestApp) -> Hub {
    let admin = app.admin().await;
    let (_, organisation) = app.hub(&admin, "Kilmarnock Recovery Hub").await;
    let (trainer_id, trainer) = app.user(&admin, "trainer@hub.example", &["trainer", "peer"], &organisation).await;
    let (peer_id, peer) = app.user(&admin, "peer@hub.example", &["peer"], &organisation).await;
    let (_, coordinator) = app.user(&admin, "coord@hub.example", &["coordinator"], &organisation).await;
    Hub { admin, organisation, trainer_id, trainer, peer_id, peer, coordinator }
}

/// Certifies as a trainer does, at a session the issuer records with the
/// holder in it; when the issuer cannot record one (an admin, a coordinator
/// or a peer), with no training and a reason, as an admin does.
async fn certify(app: &TestApp, issuer: &str, holder: &str, level: &str) -> harness::Reply {
    let session = json!({
        "id": uuid::Uuid::new_v4(), "delivered_on": Utc::now().date_naive().to_string(),
        "kind": "peer_supplier_course", "setting": "hub", "attendee_ids": [holder],
    });
    let recorded = app.post("/api/v1/trainings", issuer, session).await;
    let body = if recorded.status == StatusCode::CREATED {
        json!({"user_id": holder, "level": level, "training_id": recorded.body["id"]})
    } else {
        json!({"user_id": holder, "level": level, "reason": "certified on paper before the tracker"})
    };
    app.post("/api/v1/certificates", issuer, body).await
}

/// The hub with a certified trainer: returns the trainer's certificate.
async fn certified_hub(app: &TestApp) -> (Hub, Value) {
    let hub = hub(app).await;
    let certificate = certify(app, &hub.admin, &hub.trainer_id, "peer_trainer").await;
    assert_eq!(certificate.status, StatusCode::CREATED, "{}", certificate.body);
    (hub, certificate.body)
}

/// Moves a certificate's times, as if time had passed.
fn set_times(app: &TestApp, id: &str, expires_in: Duration) {
    let certificate = id.to_owned();
    app.db
        .run_blocking(move |conn| -> crate::harness::Stored<_> {
            use naloxone_tracker::storage::schema::certificates::dsl::*;
            let now = naloxone_tracker::model::time::now();
            diesel::update(certificates.find(certificate))
                .set((issued_at.eq(now - Duration::days(400)), expires_at.eq(now + expires_in)))
                .execute(conn)?;
            Ok(())
        })
        .unwrap();
}

async fn an_admin_bootstraps_the_first_trainer(app: TestApp) {
    let (hub, certificate) = certified_hub(&app).await;
    assert_eq!(certificate["level"], "peer_trainer");
    assert_eq!(certificate["status"], "valid");
    assert_eq!(certificate["user_id"], hub.trainer_id.as_str());
    assert_eq!(certificate["organisation_id"], hub.organisation.as_str());
    let issued = chrono::DateTime::parse_from_rfc3339(certificate["issued_at"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(certificate["expires_at"].as_str().unwrap()).unwrap();
    assert!((expires - issued).num_days() >= 365 * 3, "three years by default");
    assert_eq!(certificate["verification_code"].as_str().unwrap().len(), 23);
    assert_eq!(app.audit_of(certificate["id"].as_str().unwrap())[0].action, "create");
}

async fn a_valid_peer_trainer_certifies_after_a_training(app: TestApp) {
    let (hub, _) = certified_hub(&app).await;
    let training = json!({
        "id": uuid::Uuid::new_v4(), "delivered_on": Utc::now().date_naive().to_string(),
        "kind": "peer_supplier_course", "setting": "hub", "attendee_ids": [hub.peer_id],
    });
    let training_id = app.create("/api/v1/trainings", &hub.trainer, training).await;
    let issued = app
        .post(
            "/api/v1/certificates",
            &hub.trainer,
            json!({"user_id": hub.peer_id, "level": "peer_supplier", "training_id": training_id}),
        )
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
    assert_eq!(issued.body["training_id"], training_id.as_str());
    assert_eq!(issued.body["issued_by"], hub.trainer_id.as_str());
    assert_eq!(issued.headers["location"], format!("/api/v1/certificates/{}", issued.body["id"].as_str().unwrap()));

    // The training must have had the holder in it.
    let (other_id, _) = app.user(&hub.admin, "other@hub.example", &["peer"], &hub.organisation).await;
    let absent = app
        .post(
            "/api/v1/certificates",
            &hub.trainer,
            json!({"user_id": other_id, "level": "peer_supplier", "training_id": training_id}),
        )
        .await;
    assert_eq!(
        (absent.status, absent.body["errors"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("not_attended"))
    );
    let unknown = app
        .post(
            "/api/v1/certificates",
            &hub.trainer,
            json!({"user_id": other_id, "level": "peer_supplier", "training_id": uuid::Uuid::new_v4()}),
        )
        .await;
    assert_eq!(unknown.error_fields(), ["training_id"]);
}

async fn those_without_a_valid_peer_trainer_certificate_cannot_certify(app: TestApp) {
    let hub = hub(&app).await;
    // A peer, even a certified one, cannot certify.
    assert_eq!(certify(&app, &hub.admin, &hub.peer_id, "peer_supplier").await.status, StatusCode::CREATED);
    let by_peer = certify(&app, &hub.peer, &hub.trainer_id, "peer_supplier").await;
    assert_eq!(by_peer.status, StatusCode::FORBIDDEN);
    // A trainer without a peer_trainer certificate cannot either.
    let uncertified = certify(&app, &hub.trainer, &hub.peer_id, "peer_supplier").await;
    assert_eq!((uncertified.status, uncertified.code()), (StatusCode::FORBIDDEN, "certificate_required"));
    // A coordinator is not a certifier.
    assert_eq!(certify(&app, &hub.coordinator, &hub.peer_id, "peer_supplier").await.status, StatusCode::FORBIDDEN);
    // Nobody certifies themselves.
    let own = certify(&app, &hub.admin, &hub.trainer_id, "peer_trainer").await;
    assert_eq!(own.status, StatusCode::CREATED);
    let myself = certify(&app, &hub.trainer, &hub.trainer_id, "peer_supplier").await;
    assert_eq!((myself.status, myself.code()), (StatusCode::FORBIDDEN, "self_certification"));

    // Expired: no longer a certifier.
    let cert_id = own.body["id"].as_str().unwrap();
    set_times(&app, cert_id, -Duration::days(1));
    let expired = certify(&app, &hub.trainer, &hub.peer_id, "peer_supplier").await;
    assert_eq!((expired.status, expired.code()), (StatusCode::FORBIDDEN, "certificate_required"));
    // Renewed, then revoked: not a certifier either.
    let renewed = certify(&app, &hub.admin, &hub.trainer_id, "peer_trainer").await.body;
    assert_eq!(certify(&app, &hub.trainer, &hub.peer_id, "peer_supplier").await.status, StatusCode::CREATED);
    let revoked = app
        .post(
            &format!("/api/v1/certificates/{}/revoke", renewed["id"].as_str().unwrap()),
            &hub.admin,
            json!({"reason": "left"}),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    let after_revoke = certify(&app, &hub.trainer, &hub.peer_id, "peer_supplier").await;
    assert_eq!((after_revoke.status, after_revoke.code()), (StatusCode::FORBIDDEN, "certificate_required"));
}

async fn holders_must_fit_the_level(app: TestApp) {
    let hub = hub(&app).await;
    let (staff_id, _) = app.user(&hub.admin, "staff@hub.example", &["trainer"], &hub.organisation).await;
    // A staff trainer who is not a peer can be a peer_trainer, not a peer_supplier.
    assert_eq!(certify(&app, &hub.admin, &staff_id, "peer_trainer").await.status, StatusCode::CREATED);
    let wrong = certify(&app, &hub.admin, &staff_id, "peer_supplier").await;
    assert_eq!(
        (wrong.status, wrong.body["errors"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("role_missing"))
    );
    assert_eq!(certify(&app, &hub.admin, &hub.peer_id, "peer_trainer").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let nobody = certify(&app, &hub.admin, &uuid::Uuid::new_v4().to_string(), "peer_supplier").await;
    assert_eq!(nobody.error_fields(), ["user_id"]);
    assert_eq!(certify(&app, &hub.admin, &hub.peer_id, "expert").await.error_fields(), ["level"]);
}

async fn expiry_and_revocation_end_the_authority(app: TestApp) {
    let (hub, trainer_certificate) = certified_hub(&app).await;
    let peer_certificate = certify(&app, &hub.trainer, &hub.peer_id, "peer_supplier").await.body;
    let peer_cert_id = peer_certificate["id"].as_str().unwrap().to_owned();
    let (peer, trainer) = (hub.peer_id.clone(), hub.trainer_id.clone());
    let check = move |app: &TestApp, who: String, at: chrono::NaiveDateTime| {
        let who = naloxone_tracker::model::ids::UserId::parse(&who).expect("a user id");
        app.db
            .run_blocking(move |conn| -> Result<_, naloxone_tracker::domain::Error> {
                Ok((may_supply(conn, &who, at)?, may_certify(conn, &who, at)?))
            })
            .unwrap()
    };
    let now = naloxone_tracker::model::time::now();
    assert_eq!(check(&app, peer.clone(), now), (true, false));
    assert_eq!(check(&app, trainer.clone(), now), (true, true), "a peer trainer may also supply");
    assert_eq!(check(&app, peer.clone(), now - Duration::days(1)), (false, false), "not before it was issued");
    assert_eq!(check(&app, peer.clone(), now + Duration::days(365 * 3 + 1)), (false, false), "not after it expires");

    // Revocation by a coordinator of the holder's organisation.
    let revoked = app
        .post(
            &format!("/api/v1/certificates/{peer_cert_id}/revoke"),
            &hub.coordinator,
            json!({"reason": "left the service"}),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    assert_eq!(
        (revoked.body["status"].as_str(), revoked.body["revoke_reason"].as_str()),
        (Some("revoked"), Some("left the service"))
    );
    let revoked_at = naloxone_tracker::model::time::now();
    assert!(!check(&app, peer.clone(), revoked_at + Duration::seconds(1)).0);
    assert!(check(&app, peer.clone(), now).0, "a handout made before the revocation was covered");
    let again = app
        .post(&format!("/api/v1/certificates/{peer_cert_id}/revoke"), &hub.coordinator, json!({"reason": "again"}))
        .await;
    assert_eq!(again.body["revoke_reason"], "left the service");
    assert_eq!(app.audit_of(&peer_cert_id).iter().map(|a| a.action.as_str()).collect::<Vec<_>>(), ["create", "revoke"]);
    // The holder cannot revoke their own; nobody without a say can.
    let own = app
        .post(
            &format!("/api/v1/certificates/{}/revoke", trainer_certificate["id"].as_str().unwrap()),
            &hub.trainer,
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);

    // Status filters.
    set_times(&app, trainer_certificate["id"].as_str().unwrap(), Duration::days(20));
    let count = |reply: harness::Reply| reply.body["items"].as_array().unwrap().len();
    assert_eq!(count(app.get("/api/v1/certificates?status=revoked", &hub.admin).await), 1);
    assert_eq!(count(app.get("/api/v1/certificates?status=valid", &hub.admin).await), 1);
    assert_eq!(count(app.get("/api/v1/certificates?expiring_within_days=30", &hub.admin).await), 1);
    assert_eq!(count(app.get("/api/v1/certificates?expiring_within_days=10", &hub.admin).await), 0);
    set_times(&app, trainer_certificate["id"].as_str().unwrap(), -Duration::days(1));
    let expired =
        app.get(&format!("/api/v1/certificates/{}", trainer_certificate["id"].as_str().unwrap()), &hub.admin).await;
    assert_eq!(expired.body["status"], "expired");
    assert_eq!(count(app.get("/api/v1/certificates?status=expired", &hub.admin).await), 1);
}

async fn certificates_are_seen_only_by_those_concerned(app: TestApp) {
    let (hub, trainer_certificate) = certified_hub(&app).await;
    let peer_certificate = certify(&app, &hub.trainer, &hub.peer_id, "peer_supplier").await.body;
    let (_, elsewhere) = app.hub(&hub.admin, "Shetland Recovery Hub").await;
    let (_, stranger) = app.user(&hub.admin, "coord@shetland.example", &["coordinator"], &elsewhere).await;
    let ids = |reply: harness::Reply| -> Vec<String> {
        reply.body["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
    };
    let peer_cert = peer_certificate["id"].as_str().unwrap().to_owned();
    let trainer_cert = trainer_certificate["id"].as_str().unwrap().to_owned();
    assert_eq!(ids(app.get("/api/v1/certificates", &hub.peer).await), vec![peer_cert.clone()]);
    assert_eq!(ids(app.get("/api/v1/certificates", &hub.trainer).await), [trainer_cert.clone(), peer_cert.clone()]);
    assert_eq!(ids(app.get("/api/v1/certificates", &hub.coordinator).await).len(), 2);
    assert_eq!(ids(app.get("/api/v1/certificates", &stranger).await), Vec::<String>::new());
    assert_eq!(app.get(&format!("/api/v1/certificates/{peer_cert}"), &stranger).await.status, StatusCode::NOT_FOUND);
    let revoke = app.post(&format!("/api/v1/certificates/{peer_cert}/revoke"), &stranger, json!({"reason": "x"})).await;
    assert_eq!(revoke.status, StatusCode::NOT_FOUND);
    assert_eq!(
        ids(app.get(&format!("/api/v1/certificates?user_id={}", hub.peer_id), &hub.admin).await),
        vec![peer_cert.clone()]
    );
    assert_eq!(
        ids(app.get(&format!("/api/v1/certificates?organisation_id={elsewhere}"), &hub.admin).await),
        Vec::<String>::new()
    );
    assert_eq!(app.get("/api/v1/certificates?status=lost", &hub.admin).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.request(Method::GET, "/api/v1/certificates", None, None).await.status, StatusCode::UNAUTHORIZED);
}

async fn public_verification_reveals_only_the_listed_facts(app: TestApp) {
    let (hub, _) = certified_hub(&app).await;
    let certificate = certify(&app, &hub.trainer, &hub.peer_id, "peer_supplier").await.body;
    app.patch(&format!("/api/v1/users/{}", hub.peer_id), &hub.admin, json!({"display_name": "Sam K. Jones"})).await;
    let code = certificate["verification_code"].as_str().unwrap();
    let typed = code.to_lowercase().replace('-', " ");
    let check = app
        .request(Method::GET, &format!("/api/v1/certificates/verify/{}", typed.replace(' ', "%20")), None, None)
        .await;
    assert_eq!(check.status, StatusCode::OK, "{}", check.body);
    let expected = json!({
        "status": "valid",
        "level": "peer_supplier",
        "expires_on": certificate["expires_at"].as_str().unwrap()[..10],
        "issuing_organisation": "Kilmarnock Recovery Hub",
        "holder_initials": "SKJ",
    });
    assert_eq!(check.body, expected, "nothing more than these five facts");
    let unknown = app.request(Method::GET, "/api/v1/certificates/verify/00000-00000-00000-00000", None, None).await;
    assert_eq!((unknown.status, unknown.is_problem()), (StatusCode::NOT_FOUND, true));
    let junk = app.request(Method::GET, "/api/v1/certificates/verify/'%20OR%201=1", None, None).await;
    assert_eq!(junk.status, StatusCode::NOT_FOUND);
    app.post(
        &format!("/api/v1/certificates/{}/revoke", certificate["id"].as_str().unwrap()),
        &hub.trainer,
        json!({"reason": "lost card"}),
    )
    .await;
    let revoked = app.request(Method::GET, &format!("/api/v1/certificates/verify/{code}"), None, None).await;
    assert_eq!(revoked.body["status"], "revoked");
}

/// Public checks are rate limited per client address.
#[actix_web::test]
async fn public_verification_is_rate_limited() {
    let app = TestApp::spawn_with(Backend::Sqlite, &["--verify-rate-per-minute", "3"]).await.unwrap();
    for _ in 0..3 {
        let reply = app.request(Method::GET, "/api/v1/certificates/verify/00000-00000-00000-00000", None, None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
    }
    let limited = app.request(Method::GET, "/api/v1/certificates/verify/00000-00000-00000-00000", None, None).await;
    assert_eq!((limited.status, limited.code()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    assert!(limited.headers.contains_key("retry-after"));
}

/// Look-ups at once are counted as they are answered: no more than the
/// limit get through (a check followed by a separate count let them all).
#[actix_web::test]
async fn public_checks_at_once_get_no_more_than_the_limit() {
    let app = TestApp::spawn_with(Backend::Sqlite, &["--verify-rate-per-minute", "5"]).await.unwrap();
    let path = "/api/v1/certificates/verify/00000-00000-00000-00000";
    let replies = futures_util::future::join_all((0..40).map(|_| app.request(Method::GET, path, None, None))).await;
    let answered = replies.iter().filter(|reply| reply.status == StatusCode::NOT_FOUND).count();
    let limited = replies.iter().filter(|reply| reply.status == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((answered, limited), (5, 35));
}

async fn signed_tokens_verify_with_the_published_key(app: TestApp) {
    let (hub, _) = certified_hub(&app).await;
    let certificate = certify(&app, &hub.trainer, &hub.peer_id, "peer_supplier").await.body;
    let id = certificate["id"].as_str().unwrap();
    let token = app.get(&format!("/api/v1/certificates/{id}/token"), &hub.peer).await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.body);
    let jwks = app.request(Method::GET, "/.well-known/jwks.json", None, None).await;
    assert_eq!(jwks.status, StatusCode::OK);
    let key = &jwks.body["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str(), key["alg"].as_str()),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
    );

    let decoding = jsonwebtoken::DecodingKey::from_ed_components(key["x"].as_str().unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_issuer(&["naloxone-tracker"]);
    let decoded = jsonwebtoken::decode::<Value>(token.body["token"].as_str().unwrap(), &decoding, &validation).unwrap();
    assert_eq!(decoded.header.kid.as_deref(), key["kid"].as_str());
    assert_eq!(decoded.claims["sub"], id);
    assert_eq!(decoded.claims["level"], "peer_supplier");
    assert_eq!(decoded.claims["issuing_organisation"], "Kilmarnock Recovery Hub");
    let expires = chrono::DateTime::parse_from_rfc3339(certificate["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(decoded.claims["exp"], expires.timestamp());
    // A token tampered with does not verify.
    let mut tampered = token.body["token"].as_str().unwrap().to_owned();
    tampered.insert(tampered.len() / 2, 'x');
    assert!(jsonwebtoken::decode::<Value>(&tampered, &decoding, &validation).is_err());

    app.post(&format!("/api/v1/certificates/{id}/revoke"), &hub.trainer, json!({"reason": "x"})).await;
    let refused = app.get(&format!("/api/v1/certificates/{id}/token"), &hub.peer).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::CONFLICT, "certificate_not_valid"));
}

async fn me_shows_certificates_and_the_earliest_expiry(app: TestApp) {
    let (hub, trainer_certificate) = certified_hub(&app).await;
    let me = app.get("/api/v1/me", &hub.peer).await;
    assert_eq!(
        (me.body["certificates"].clone(), me.body["earliest_certificate_expiry"].clone()),
        (json!([]), json!(null))
    );
    let supplier = certify(&app, &hub.admin, &hub.trainer_id, "peer_supplier").await.body;
    set_times(&app, supplier["id"].as_str().unwrap(), Duration::days(10));
    let me = app.get("/api/v1/me", &hub.trainer).await;
    assert_eq!(me.body["email"], "trainer@hub.example");
    assert_eq!(me.body["certificates"].as_array().unwrap().len(), 2);
    let earliest =
        app.get(&format!("/api/v1/certificates/{}", supplier["id"].as_str().unwrap()), &hub.trainer).await.body
            ["expires_at"]
            .clone();
    assert_eq!(me.body["earliest_certificate_expiry"], earliest);
    assert_ne!(earliest, trainer_certificate["expires_at"]);
}

/// A board (with a partnership beneath it) and a far area: (board, partnership, far).
async fn areas(app: &TestApp, admin: &str) -> (String, String, String) {
    let nation = app.create("/api/v1/areas", admin, json!({"name": "Scotland"})).await;
    let board = app.create("/api/v1/areas", admin, json!({"name": "NHS Ayrshire", "parent_id": nation})).await;
    let partnership =
        app.create("/api/v1/areas", admin, json!({"name": "East Ayrshire ADP", "parent_id": board})).await;
    let far = app.create("/api/v1/areas", admin, json!({"name": "NHS Shetland", "parent_id": nation})).await;
    (board, partnership, far)
}

async fn organisation_in(app: &TestApp, admin: &str, name: &str, area: &str) -> String {
    app.create("/api/v1/organisations", admin, json!({"name": name, "kind": "lero", "area_id": area})).await
}

fn session(trainer: &str, attendees: &[&str]) -> Value {
    json!({
        "id": uuid::Uuid::new_v4(), "trainer_id": trainer, "delivered_on": Utc::now().date_naive().to_string(),
        "kind": "peer_supplier_course", "setting": "hub", "attendee_ids": attendees,
    })
}

fn first_error(reply: &harness::Reply) -> (StatusCode, String, String) {
    let error = &reply.body["errors"][0];
    (
        reply.status,
        error["field"].as_str().unwrap_or_default().into(),
        error["code"].as_str().unwrap_or_default().into(),
    )
}

/// An NHS board's trainer trains and certifies its own people and those of
/// the organisations in its area and beneath it, nobody else; a coordinator
/// recording for the trainer is held to the same reach, an admin is not.
async fn a_trainer_trains_and_certifies_only_within_reach(app: TestApp) {
    let admin = app.admin().await;
    let (board, partnership, far) = areas(&app, &admin).await;
    let board_org = organisation_in(&app, &admin, "Ayrshire Recovery Network", &board).await;
    let neighbour_org = organisation_in(&app, &admin, "Irvine Peer Hub", &board).await;
    let hub_org = organisation_in(&app, &admin, "Kilmarnock Recovery Hub", &partnership).await;
    let far_org = organisation_in(&app, &admin, "Lerwick LERO", &far).await;
    let (trainer_id, trainer) = app.user(&admin, "trainer@board.example", &["trainer"], &board_org).await;
    let first = json!({"user_id": trainer_id, "level": "peer_trainer", "reason": "the board's first trainer"});
    app.create("/api/v1/certificates", &admin, first).await;
    let (_, coordinator) = app.user(&admin, "coord@board.example", &["coordinator"], &board_org).await;
    let (own_id, _) = app.user(&admin, "own@board.example", &["peer"], &board_org).await;
    let (neighbour_id, _) = app.user(&admin, "peer@irvine.example", &["peer"], &neighbour_org).await;
    let (hub_id, _) = app.user(&admin, "peer@kilmarnock.example", &["peer"], &hub_org).await;
    let (far_id, _) = app.user(&admin, "peer@lerwick.example", &["peer"], &far_org).await;

    // Within reach: their organisation, its area's organisations and those beneath.
    let course =
        app.create("/api/v1/trainings", &trainer, session(&trainer_id, &[&own_id, &neighbour_id, &hub_id])).await;
    for holder in [&own_id, &neighbour_id, &hub_id] {
        let body = json!({"user_id": holder, "level": "peer_supplier", "training_id": course});
        assert_eq!(app.post("/api/v1/certificates", &trainer, body).await.status, StatusCode::CREATED);
    }

    // Beyond it: a session naming someone there is held, whoever records it
    // (and no one is certified at it until it is released); a correction
    // cannot bring them in; nor can a trainer certify them.
    let held_at = |reply: &harness::Reply, field: &str| {
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
        let reason = &reply.body["held_reasons"][0];
        assert_eq!(
            (reason["field"].as_str(), reason["code"].as_str()),
            (Some(field), Some("attendee_out_of_reach")),
            "{}",
            reply.body
        );
    };
    let beyond = app.post("/api/v1/trainings", &trainer, session(&trainer_id, &[&hub_id, &far_id])).await;
    held_at(&beyond, "attendee_ids[1]");
    let at_held = json!({"user_id": hub_id, "level": "peer_supplier", "training_id": beyond.body["id"]});
    let refused = app.post("/api/v1/certificates", &trainer, at_held).await;
    assert_eq!(first_error(&refused), (StatusCode::UNPROCESSABLE_ENTITY, "training_id".into(), "held".into()));
    let for_trainer = app.post("/api/v1/trainings", &coordinator, session(&trainer_id, &[&far_id])).await;
    held_at(&for_trainer, "attendee_ids[0]");
    let corrected =
        app.patch(&format!("/api/v1/trainings/{course}"), &trainer, json!({"attendee_ids": [far_id]})).await;
    assert_eq!(
        first_error(&corrected),
        (StatusCode::UNPROCESSABLE_ENTITY, "attendee_ids[0]".into(), "attendee_out_of_reach".into())
    );
    let kept = app.get(&format!("/api/v1/trainings/{course}"), &trainer).await;
    assert_eq!(kept.body["attendee_ids"].as_array().unwrap().len(), 3, "the refused correction changed nothing");
    let queued = app.post("/api/v1/sync", &trainer, json!({"trainings": [session(&trainer_id, &[&far_id])]})).await;
    assert_eq!(queued.status, StatusCode::OK);
    let result = &queued.body["trainings"][0];
    assert_eq!(
        (result["status"].as_str(), harness::held_codes(result)),
        (Some("held"), vec!["attendee_out_of_reach".to_owned()]),
        "{}",
        queued.body
    );

    // An admin may record such a session, but the trainer still cannot certify beyond reach at it.
    let by_admin = app.create("/api/v1/trainings", &admin, session(&trainer_id, &[&far_id])).await;
    let far_body = json!({"user_id": far_id, "level": "peer_supplier", "training_id": by_admin});
    let refused = app.post("/api/v1/certificates", &trainer, far_body.clone()).await;
    assert_eq!(first_error(&refused), (StatusCode::UNPROCESSABLE_ENTITY, "user_id".into(), "out_of_scope".into()));
    assert_eq!(app.post("/api/v1/certificates", &admin, far_body).await.status, StatusCode::CREATED);
    let held: Vec<Value> = app.get(&format!("/api/v1/certificates?user_id={far_id}"), &admin).await.body["items"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(held.len(), 1, "only the admin's certificate");
    assert_eq!(held[0]["issued_by"], app.get("/api/v1/me", &admin).await.body["id"]);
}

/// A trainer's certificate names a session they delivered that the holder
/// attended; only an admin issues one with no session, and their reason is audited.
async fn a_certificate_names_the_trainers_own_session_unless_an_admin_gives_a_reason(app: TestApp) {
    let (hub, _) = certified_hub(&app).await;
    let (other_trainer_id, other_trainer) =
        app.user(&hub.admin, "trainer2@hub.example", &["trainer"], &hub.organisation).await;
    let bare = json!({"user_id": hub.peer_id, "level": "peer_supplier"});
    let untrained = app.post("/api/v1/certificates", &hub.trainer, bare.clone()).await;
    assert_eq!(first_error(&untrained), (StatusCode::UNPROCESSABLE_ENTITY, "training_id".into(), "required".into()));
    let with_reason = json!({"user_id": hub.peer_id, "level": "peer_supplier", "reason": "I know them"});
    let still = app.post("/api/v1/certificates", &hub.trainer, with_reason).await;
    assert_eq!(first_error(&still), (StatusCode::UNPROCESSABLE_ENTITY, "training_id".into(), "required".into()));

    let theirs = app.create("/api/v1/trainings", &other_trainer, session(&other_trainer_id, &[&hub.peer_id])).await;
    let at_theirs = json!({"user_id": hub.peer_id, "level": "peer_supplier", "training_id": theirs});
    let not_mine = app.post("/api/v1/certificates", &hub.trainer, at_theirs.clone()).await;
    assert_eq!(first_error(&not_mine), (StatusCode::UNPROCESSABLE_ENTITY, "training_id".into(), "not_trainers".into()));
    // An admin may name any session the holder attended.
    assert_eq!(app.post("/api/v1/certificates", &hub.admin, at_theirs).await.status, StatusCode::CREATED);

    let no_reason = app.post("/api/v1/certificates", &hub.admin, bare).await;
    assert_eq!(first_error(&no_reason), (StatusCode::UNPROCESSABLE_ENTITY, "reason".into(), "required".into()));
    let blank = json!({"user_id": hub.peer_id, "level": "peer_supplier", "reason": "  "});
    assert_eq!(app.post("/api/v1/certificates", &hub.admin, blank).await.error_fields(), ["reason"]);
    let paper = json!({"user_id": hub.peer_id, "level": "peer_supplier", "reason": "certified on paper in 2024"});
    let issued = app.post("/api/v1/certificates", &hub.admin, paper).await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
    assert_eq!(issued.body["training_id"], Value::Null);
    let audit = app.audit_of(issued.body["id"].as_str().unwrap());
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].after["issue_reason"], "certified on paper in 2024");
    assert_eq!(audit[0].after["id"], issued.body["id"]);
    assert_eq!(issued.body["issue_reason"], "certified on paper in 2024", "kept with the certificate too");
}

/// A deactivated holder's certificate authorises nothing: the public check
/// says so, no token is signed for it, and lists tell it apart; it is valid
/// again if the holder comes back.
async fn a_deactivated_holders_certificate_is_suspended(app: TestApp) {
    let (hub, _) = certified_hub(&app).await;
    let certificate = certify(&app, &hub.trainer, &hub.peer_id, "peer_supplier").await.body;
    let (id, code) = (certificate["id"].as_str().unwrap(), certificate["verification_code"].as_str().unwrap());
    let (check_path, user_path) =
        (format!("/api/v1/certificates/verify/{code}"), format!("/api/v1/users/{}", hub.peer_id));
    let verify = || app.request(Method::GET, &check_path, None, None);
    assert_eq!(verify().await.body["status"], "valid");
    let set_active = |active: bool| app.patch(&user_path, &hub.coordinator, json!({"active": active}));
    assert_eq!(set_active(false).await.status, StatusCode::OK);

    let checked = verify().await;
    assert_eq!((checked.status, checked.body["status"].as_str()), (StatusCode::OK, Some("suspended")));
    for reader in [&hub.admin, &hub.coordinator, &hub.trainer] {
        let token = app.get(&format!("/api/v1/certificates/{id}/token"), reader).await;
        assert_eq!((token.status, token.code()), (StatusCode::CONFLICT, "certificate_not_valid"), "{}", token.body);
        assert_eq!(app.get(&format!("/api/v1/certificates/{id}"), reader).await.body["status"], "suspended");
    }
    let ids = |reply: harness::Reply| -> Vec<String> {
        reply.body["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
    };
    let of_peer = format!("/api/v1/certificates?user_id={}", hub.peer_id);
    assert_eq!(ids(app.get(&format!("{of_peer}&status=suspended"), &hub.admin).await), [id]);
    assert!(ids(app.get(&format!("{of_peer}&status=valid"), &hub.admin).await).is_empty());
    assert!(ids(app.get(&format!("{of_peer}&expiring_within_days=3650"), &hub.admin).await).is_empty());
    let listed = app.get(&of_peer, &hub.coordinator).await;
    assert_eq!(listed.body["items"][0]["status"], "suspended");

    // Revoked and expired stay so whoever holds them; suspension lifts on reactivation.
    assert_eq!(set_active(true).await.status, StatusCode::OK);
    assert_eq!(verify().await.body["status"], "valid");
    // Deactivation ended the peer's session; back, they sign in again.
    let peer = app.token_for("peer@hub.example").await;
    assert_eq!(app.get(&format!("/api/v1/certificates/{id}/token"), &peer).await.status, StatusCode::OK);
    assert_eq!(ids(app.get(&format!("{of_peer}&status=valid"), &hub.admin).await), [id]);
    app.post(&format!("/api/v1/certificates/{id}/revoke"), &hub.admin, json!({"reason": "left"})).await;
    assert_eq!(set_active(false).await.status, StatusCode::OK);
    assert_eq!(verify().await.body["status"], "revoked");
    assert!(ids(app.get(&format!("{of_peer}&status=suspended"), &hub.admin).await).is_empty());
}

/// A hub that starts with the tracker brings in a certificate issued on
/// paper in 2024 by another scheme: its real dates, the evidence, and the
/// handouts made under it since are recorded, not held.
async fn an_admin_brings_in_a_paper_certificate_with_its_own_dates(app: TestApp) {
    let hub = hub(&app).await;
    let paper = json!({
        "user_id": hub.peer_id, "level": "peer_supplier", "reason": "certified before the tracker",
        "issued_on": "2024-05-14", "expires_on": "2027-05-13", "evidence": "paper certificate, NHS Ayrshire course",
    });
    let issued = app.post("/api/v1/certificates", &hub.admin, paper).await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
    assert_eq!(
        (issued.body["issued_at"].as_str(), issued.body["expires_at"].as_str(), issued.body["status"].as_str()),
        (Some("2024-05-14T00:00:00Z"), Some("2027-05-14T00:00:00Z"), Some("valid"))
    );
    assert_eq!(issued.body["evidence"], "paper certificate, NHS Ayrshire course");
    let audit = app.audit_of(issued.body["id"].as_str().unwrap());
    assert_eq!((audit.len(), audit[0].after["issued_at"].as_str()), (1, Some("2024-05-14T00:00:00Z")));
    assert!(audit[0].actor_id.is_some(), "the audit log says who dated it");

    let code = issued.body["verification_code"].as_str().unwrap();
    let check = app.request(Method::GET, &format!("/api/v1/certificates/verify/{code}"), None, None).await;
    assert_eq!(check.body["expires_on"], "2027-05-13", "the public check shows its last valid day");

    let area = app.create("/api/v1/areas", &hub.admin, json!({"name": "Ayrshire"})).await;
    let mut last_year = harness::tally(&area, 2);
    last_year["issued_at"] = json!("2025-03-01T10:00:00Z");
    let recorded = app.post("/api/v1/kit-issues", &hub.peer, last_year).await;
    assert_eq!((recorded.status, recorded.body["state"].as_str()), (StatusCode::CREATED, Some("recorded")));
    let mut before_it = harness::tally(&area, 1);
    before_it["issued_at"] = json!("2024-05-13T23:00:00Z");
    let held = app.post("/api/v1/kit-issues", &hub.peer, before_it).await;
    assert_eq!(harness::held_codes(&held.body), ["certificate_required"], "the day before it, no certificate");
}

/// A trainer who records the certificate days after the session dates it
/// from the session, so that the kits given there are recorded; never
/// before it, and never with an expiry of their own.
async fn a_trainer_dates_a_certificate_from_the_session(app: TestApp) {
    let (hub, _) = certified_hub(&app).await;
    let last_week = (Utc::now() - Duration::days(7)).date_naive();
    let mut at_session = session(&hub.trainer_id, &[&hub.peer_id]);
    at_session["delivered_on"] = json!(last_week.to_string());
    let training = app.create("/api/v1/trainings", &hub.trainer, at_session).await;
    let certify_on = |issued_on: chrono::NaiveDate, expires_on: Option<&str>| {
        let mut body = json!({"user_id": hub.peer_id, "level": "peer_supplier", "training_id": training, "issued_on": issued_on.to_string()});
        if let Some(day) = expires_on {
            body["expires_on"] = json!(day);
        }
        app.post("/api/v1/certificates", &hub.trainer, body)
    };
    let before = certify_on(last_week - Duration::days(1), None).await;
    assert_eq!(first_error(&before), (StatusCode::UNPROCESSABLE_ENTITY, "issued_on".into(), "before_training".into()));
    let own_expiry = certify_on(last_week, Some("2030-01-01")).await;
    assert_eq!(first_error(&own_expiry), (StatusCode::UNPROCESSABLE_ENTITY, "expires_on".into(), "not_allowed".into()));
    let tomorrow = certify_on(Utc::now().date_naive() + Duration::days(1), None).await;
    assert_eq!(first_error(&tomorrow), (StatusCode::UNPROCESSABLE_ENTITY, "issued_on".into(), "in_future".into()));
    // The trainer's own certificate is from today: last week they could certify no one.
    let uncertified_then = certify_on(last_week, None).await;
    assert_eq!((uncertified_then.status, uncertified_then.code()), (StatusCode::FORBIDDEN, "certificate_required"));
    let trainer_certificate = json!({
        "user_id": hub.trainer_id, "level": "peer_trainer", "reason": "certified on paper", "issued_on": "2025-01-01",
    });
    assert_eq!(app.post("/api/v1/certificates", &hub.admin, trainer_certificate).await.status, StatusCode::CREATED);
    let dated = certify_on(last_week, None).await;
    assert_eq!(dated.status, StatusCode::CREATED, "{}", dated.body);
    assert_eq!(dated.body["issued_at"], format!("{last_week}T00:00:00Z"));

    let area = app.create("/api/v1/areas", &hub.admin, json!({"name": "Kilmarnock"})).await;
    let mut at_the_session = harness::tally(&area, 3);
    at_the_session["issued_at"] = json!(format!("{last_week}T15:00:00Z"));
    let recorded = app.post("/api/v1/kit-issues", &hub.peer, at_the_session).await;
    assert_eq!((recorded.status, recorded.body["state"].as_str()), (StatusCode::CREATED, Some("recorded")));
}
