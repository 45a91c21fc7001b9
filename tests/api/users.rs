//! Who may manage which users, and the rules on a user's record.

use crate::harness::{self, TestApp, PASSWORD};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

both_backends!(
    admin_manages_everyone_and_every_write_is_audited,
    coordinator_manages_only_their_own_organisation,
    coordinator_grants_only_peer_trainer_and_coordinator,
    peers_trainers_and_commissioners_cannot_manage_users,
    user_fields_are_validated,
    emails_are_unique_without_regard_to_case,
    role_assignments_need_their_organisation_or_area,
    admins_cannot_lock_themselves_out,
    user_lists_page_and_filter,
);

fn new_user(email: &str, roles: &[&str], organisation_id: &str) -> Value {
    json!({"email": email, "display_name": "Alex P.", "password": PASSWORD, "roles": roles, "organisation_id": organisation_id})
}

async fn admin_manages_everyone_and_every_write_is_audited(app: TestApp) {
    let admin = app.admin().await;
    let (area, organisation) = app.hub(&admin, "Recovery Connections").await;
    let created = app
        .post("/api/v1/users", &admin, new_user("Coord@Test.Example", &["coordinator", "peer"], &organisation))
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.body["id"].as_str().unwrap();
    assert_eq!(created.headers["location"], format!("/api/v1/users/{id}"));
    assert_eq!(created.body["email"], "coord@test.example");
    assert_eq!(created.body["roles"], json!(["coordinator", "peer"]));
    assert!(created.body.get("password").is_none());

    let commissioner = app
        .post(
            "/api/v1/users",
            &admin,
            json!({"email": "adp@test.example", "display_name": "ADP lead", "password": PASSWORD, "roles": ["commissioner"], "area_id": area}),
        )
        .await;
    assert_eq!(commissioner.status, StatusCode::CREATED, "{}", commissioner.body);

    let changed = app
        .patch(&format!("/api/v1/users/{id}"), &admin, json!({"display_name": "Alex Pryce", "roles": ["trainer"]}))
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_eq!(changed.body["roles"], json!(["trainer"]));
    assert_eq!(app.get(&format!("/api/v1/users/{id}"), &admin).await.body["display_name"], "Alex Pryce");

    let audit = app.audit_of(id);
    assert_eq!(audit.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(), ["create", "update"]);
    let admin_id = app.get("/api/v1/me", &admin).await.body["id"].clone();
    assert_eq!(audit[1].actor_id.as_deref(), admin_id.as_str());
    assert_eq!(audit[1].before.as_ref().unwrap()["display_name"], "Alex P.");
    assert_eq!(audit[1].after["display_name"], "Alex Pryce");
    assert!(audit.iter().all(|a| !a.after.to_string().contains("argon2")));
}

async fn coordinator_manages_only_their_own_organisation(app: TestApp) {
    let admin = app.admin().await;
    let (_, own) = app.hub(&admin, "Kilmarnock Recovery Hub").await;
    let (_, other) = app.hub(&admin, "Shetland Recovery Hub").await;
    let (_, coordinator) = app.user(&admin, "coord@test.example", &["coordinator"], &own).await;
    let (stranger_id, _) = app.user(&admin, "stranger@test.example", &["peer"], &other).await;

    // Created in the coordinator's organisation even when none is given.
    let mut body = new_user("peer@test.example", &["peer"], &own);
    body.as_object_mut().unwrap().remove("organisation_id");
    let peer = app.post("/api/v1/users", &coordinator, body).await;
    assert_eq!(peer.status, StatusCode::CREATED, "{}", peer.body);
    assert_eq!(peer.body["organisation_id"], own.as_str());
    let peer_id = peer.body["id"].as_str().unwrap();

    let elsewhere = app.post("/api/v1/users", &coordinator, new_user("x@test.example", &["peer"], &other)).await;
    assert_eq!((elsewhere.status, elsewhere.code()), (StatusCode::FORBIDDEN, "forbidden"));

    let listed = app.get("/api/v1/users", &coordinator).await;
    let emails: Vec<&str> =
        listed.body["items"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["coord@test.example", "peer@test.example"]);
    let asked_other = app.get(&format!("/api/v1/users?organisation_id={other}"), &coordinator).await;
    assert_eq!(asked_other.body["items"], json!([]));

    assert_eq!(app.get(&format!("/api/v1/users/{stranger_id}"), &coordinator).await.status, StatusCode::NOT_FOUND);
    let patch_stranger =
        app.patch(&format!("/api/v1/users/{stranger_id}"), &coordinator, json!({"active": false})).await;
    assert_eq!(patch_stranger.status, StatusCode::NOT_FOUND);

    let moved = app.patch(&format!("/api/v1/users/{peer_id}"), &coordinator, json!({"organisation_id": other})).await;
    assert_eq!(moved.status, StatusCode::FORBIDDEN);
    let deactivated = app.patch(&format!("/api/v1/users/{peer_id}"), &coordinator, json!({"active": false})).await;
    assert_eq!(deactivated.status, StatusCode::OK);
}

async fn coordinator_grants_only_peer_trainer_and_coordinator(app: TestApp) {
    let admin = app.admin().await;
    let (area, own) = app.hub(&admin, "Kilmarnock Recovery Hub").await;
    let (_, coordinator) = app.user(&admin, "coord@test.example", &["coordinator"], &own).await;
    for roles in [vec!["admin"], vec!["commissioner"], vec!["peer", "admin"]] {
        let reply = app.post("/api/v1/users", &coordinator, new_user("new@test.example", &roles, &own)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{roles:?}");
    }
    let with_area = json!({"email": "new@test.example", "display_name": "N", "password": PASSWORD, "roles": ["peer"], "area_id": area});
    assert_eq!(app.post("/api/v1/users", &coordinator, with_area).await.status, StatusCode::FORBIDDEN);
    let trainer = app.post("/api/v1/users", &coordinator, new_user("t@test.example", &["trainer", "peer"], &own)).await;
    assert_eq!(trainer.status, StatusCode::CREATED);
    let trainer_id = trainer.body["id"].as_str().unwrap();
    let promote = app.patch(&format!("/api/v1/users/{trainer_id}"), &coordinator, json!({"roles": ["admin"]})).await;
    assert_eq!(promote.status, StatusCode::FORBIDDEN);

    // An admin in the organisation is beyond a coordinator's reach.
    let (staff_admin, _) = app.user(&admin, "hubadmin@test.example", &["admin", "peer"], &own).await;
    let reply = app.patch(&format!("/api/v1/users/{staff_admin}"), &coordinator, json!({"active": false})).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
}

async fn peers_trainers_and_commissioners_cannot_manage_users(app: TestApp) {
    let admin = app.admin().await;
    let (area, own) = app.hub(&admin, "Kilmarnock Recovery Hub").await;
    let (peer_id, peer) = app.user(&admin, "peer@test.example", &["peer"], &own).await;
    let (_, trainer) = app.user(&admin, "trainer@test.example", &["trainer"], &own).await;
    app.create(
        "/api/v1/users",
        &admin,
        json!({"email": "adp@test.example", "display_name": "ADP", "password": PASSWORD, "roles": ["commissioner"], "area_id": area}),
    )
    .await;
    let commissioner = app.token_for("adp@test.example").await;
    for token in [&peer, &trainer, &commissioner] {
        assert_eq!(app.get("/api/v1/users", token).await.status, StatusCode::FORBIDDEN);
        let reply = app.post("/api/v1/users", token, new_user("n@test.example", &["peer"], &own)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert!(reply.is_problem());
    }
    assert_eq!(
        app.patch(&format!("/api/v1/users/{peer_id}"), &peer, json!({"roles": ["admin"]})).await.status,
        StatusCode::FORBIDDEN
    );
    // Everyone may read their own record.
    assert_eq!(app.get(&format!("/api/v1/users/{peer_id}"), &peer).await.status, StatusCode::OK);
    let admin_id = app.get("/api/v1/me", &admin).await.body["id"].as_str().unwrap().to_owned();
    assert_eq!(app.get(&format!("/api/v1/users/{admin_id}"), &peer).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.request(Method::GET, "/api/v1/users", None, None).await.status, StatusCode::UNAUTHORIZED);
}

async fn user_fields_are_validated(app: TestApp) {
    let admin = app.admin().await;
    let (_, own) = app.hub(&admin, "Kilmarnock Recovery Hub").await;
    let bad = json!({"email": "not-an-email", "display_name": "  ", "password": "short", "roles": [], "organisation_id": own});
    let reply = app.post("/api/v1/users", &admin, bad).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.code(), "validation_failed");
    assert_eq!(reply.error_fields(), ["display_name", "email", "password", "roles"]);

    let unknown_role = app.post("/api/v1/users", &admin, new_user("a@test.example", &["superuser"], &own)).await;
    assert_eq!(unknown_role.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown_role.error_fields(), ["roles[0]"]);
    let bad_id = app.post("/api/v1/users", &admin, new_user("a@test.example", &["peer"], "not-a-uuid")).await;
    assert_eq!(
        (bad_id.status, bad_id.error_fields()),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["organisation_id".to_owned()])
    );
    let missing_org = app
        .post("/api/v1/users", &admin, new_user("a@test.example", &["peer"], &uuid::Uuid::new_v4().to_string()))
        .await;
    assert_eq!(missing_org.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(missing_org.body["errors"][0]["code"], "not_found");
    let mut extra = new_user("a@test.example", &["peer"], &own);
    extra["is_admin"] = json!(true);
    let reply = app.post("/api/v1/users", &admin, extra).await;
    assert_eq!(
        (reply.status, reply.body["errors"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_field"))
    );
    assert_eq!(
        app.get("/api/v1/users", &admin).await.body["items"].as_array().unwrap().len(),
        1,
        "nothing half-written"
    );
}

async fn emails_are_unique_without_regard_to_case(app: TestApp) {
    let admin = app.admin().await;
    let (_, own) = app.hub(&admin, "Kilmarnock Recovery Hub").await;
    app.create("/api/v1/users", &admin, new_user("sam@test.example", &["peer"], &own)).await;
    let again = app.post("/api/v1/users", &admin, new_user("SAM@test.example", &["peer"], &own)).await;
    assert_eq!((again.status, again.code()), (StatusCode::CONFLICT, "email_taken"));
    let other = app.create("/api/v1/users", &admin, new_user("jo@test.example", &["peer"], &own)).await;
    let rename = app.patch(&format!("/api/v1/users/{other}"), &admin, json!({"email": "Sam@Test.Example"})).await;
    assert_eq!(rename.status, StatusCode::CONFLICT);
}

async fn role_assignments_need_their_organisation_or_area(app: TestApp) {
    let admin = app.admin().await;
    let (_, own) = app.hub(&admin, "Kilmarnock Recovery Hub").await;
    let peer_without = json!({"email": "p@test.example", "display_name": "P", "password": PASSWORD, "roles": ["peer"]});
    let reply = app.post("/api/v1/users", &admin, peer_without).await;
    assert_eq!(
        (reply.status, reply.error_fields()),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["organisation_id".to_owned()])
    );
    let commissioner =
        json!({"email": "c@test.example", "display_name": "C", "password": PASSWORD, "roles": ["commissioner"]});
    let reply = app.post("/api/v1/users", &admin, commissioner).await;
    assert_eq!((reply.status, reply.error_fields()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["area_id".to_owned()]));
    let peer = app.create("/api/v1/users", &admin, new_user("p@test.example", &["peer"], &own)).await;
    let cleared = app.patch(&format!("/api/v1/users/{peer}"), &admin, json!({"organisation_id": null})).await;
    assert_eq!(cleared.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn admins_cannot_lock_themselves_out(app: TestApp) {
    let admin = app.admin().await;
    let me = app.get("/api/v1/me", &admin).await.body["id"].as_str().unwrap().to_owned();
    let off = app.patch(&format!("/api/v1/users/{me}"), &admin, json!({"active": false})).await;
    assert_eq!(
        (off.status, off.body["errors"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("self_lockout"))
    );
    let demote = app.patch(&format!("/api/v1/users/{me}"), &admin, json!({"roles": ["peer"]})).await;
    assert_eq!(demote.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get("/api/v1/me", &admin).await.body["roles"], json!(["admin"]));
}

async fn user_lists_page_and_filter(app: TestApp) {
    let admin = app.admin().await;
    let (_, own) = app.hub(&admin, "Kilmarnock Recovery Hub").await;
    for i in 0..5 {
        let roles: &[&str] = if i % 2 == 0 { &["peer"] } else { &["trainer"] };
        app.create("/api/v1/users", &admin, new_user(&format!("u{i}@test.example"), roles, &own)).await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/users?limit=2".to_owned();
    loop {
        let page = app.get(&path, &admin).await;
        assert_eq!(page.status, StatusCode::OK);
        seen.extend(page.body["items"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap().to_owned()));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/users?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6);
    assert_eq!(seen[0], harness::ADMIN_EMAIL, "oldest first");
    let peers = app.get("/api/v1/users?role=peer", &admin).await;
    assert_eq!(peers.body["items"].as_array().unwrap().len(), 3);
    let inactive = app.get("/api/v1/users?active=false", &admin).await;
    assert_eq!(inactive.body["items"], json!([]));
    assert_eq!(app.get("/api/v1/users?role=wizard", &admin).await.status, StatusCode::BAD_REQUEST);
}
