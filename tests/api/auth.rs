//! Signing in, token rotation and reuse detection, logout, deactivation.

use crate::harness::{TestApp, ADMIN_EMAIL, PASSWORD};
use reqwest::{Method, StatusCode};
use serde_json::json;

both_backends!(
    login_gives_a_working_token_pair,
    wrong_passwords_and_unknown_accounts_are_refused_alike,
    repeated_failures_are_throttled,
    refresh_rotates_and_reuse_revokes_the_session,
    logout_ends_the_session,
    deactivation_stops_tokens_at_once,
    bad_tokens_are_refused,
    password_change_ends_sessions,
);

async fn login_gives_a_working_token_pair(app: TestApp) {
    let token = app.admin().await;
    let reply = app.login(" Admin@Test.Example ", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["expires_in"], 900);
    assert!(reply.body["refresh_token"].as_str().unwrap().len() >= 43);
    let me = app.get("/api/v1/me", &token).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["email"], ADMIN_EMAIL);
    assert_eq!(me.body["roles"], json!(["admin"]));
    assert!(me.body.get("password_hash").is_none() && me.body.get("password").is_none());
}

async fn wrong_passwords_and_unknown_accounts_are_refused_alike(app: TestApp) {
    app.admin().await;
    let wrong = app.login(ADMIN_EMAIL, "not the password").await;
    let unknown = app.login("nobody@test.example", PASSWORD).await;
    for reply in [&wrong, &unknown] {
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert!(reply.is_problem());
        assert_eq!(reply.code(), "invalid_credentials");
    }
    assert_eq!(wrong.body["detail"], unknown.body["detail"]);
    let invalid = app.request(Method::POST, "/api/v1/auth/login", None, Some(&json!({"email": ADMIN_EMAIL}))).await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid.error_fields(), vec!["password"]);
}

async fn repeated_failures_are_throttled(app: TestApp) {
    app.admin().await;
    for _ in 0..5 {
        assert_eq!(app.login(ADMIN_EMAIL, "wrong password!").await.status, StatusCode::UNAUTHORIZED);
    }
    let throttled = app.login(ADMIN_EMAIL, PASSWORD).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(throttled.code(), "login_throttled");
    let wait: u64 = throttled.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&wait));
    // Another account from the same address is not locked out by one account's failures.
    let other = app.login("someone@test.example", "whatever password").await;
    assert_eq!(other.status, StatusCode::UNAUTHORIZED);
}

async fn refresh_rotates_and_reuse_revokes_the_session(app: TestApp) {
    // With no refresh grace, any second use of a token is reuse (see
    // tests/api/sessions.rs for the grace).
    let app = TestApp::spawn_with(app.backend, &["--refresh-grace-seconds", "0"]).await.expect("app");
    app.admin().await;
    let first = app.login(ADMIN_EMAIL, PASSWORD).await.body;
    let second = app.refresh(first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_ne!(second.body["refresh_token"], first["refresh_token"]);
    assert_eq!(app.get("/api/v1/me", second.body["access_token"].as_str().unwrap()).await.status, StatusCode::OK);

    // The first token again: someone copied it. The whole session ends.
    let reused = app.refresh(first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reused.code(), "refresh_token_reused");
    let after = app.refresh(second.body["refresh_token"].as_str().unwrap()).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);

    // Another session of the same user is untouched.
    let other = app.login(ADMIN_EMAIL, PASSWORD).await.body;
    assert_eq!(app.refresh(other["refresh_token"].as_str().unwrap()).await.status, StatusCode::OK);
    assert_eq!(app.refresh("made-up-token").await.code(), "invalid_refresh_token");
}

async fn logout_ends_the_session(app: TestApp) {
    app.admin().await;
    let pair = app.login(ADMIN_EMAIL, PASSWORD).await.body;
    let body = json!({"refresh_token": pair["refresh_token"]});
    let out = app.request(Method::POST, "/api/v1/auth/logout", None, Some(&body)).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let again = app.request(Method::POST, "/api/v1/auth/logout", None, Some(&body)).await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
    let refreshed = app.request(Method::POST, "/api/v1/auth/refresh", None, Some(&body)).await;
    assert_eq!(refreshed.status, StatusCode::UNAUTHORIZED);
}

async fn deactivation_stops_tokens_at_once(app: TestApp) {
    let admin = app.admin().await;
    let (_, organisation) = app.hub(&admin, "Kilmarnock Recovery Hub").await;
    let (peer_id, peer_token) = app.user(&admin, "peer@test.example", &["peer"], &organisation).await;
    let pair = app.login("peer@test.example", PASSWORD).await.body;
    assert_eq!(app.get("/api/v1/me", &peer_token).await.status, StatusCode::OK);

    let reply = app.patch(&format!("/api/v1/users/{peer_id}"), &admin, json!({"active": false})).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["active"], false);

    let me = app.get("/api/v1/me", &peer_token).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert_eq!(me.code(), "account_inactive");
    let refresh = app.refresh(pair["refresh_token"].as_str().unwrap()).await;
    assert_eq!(refresh.status, StatusCode::UNAUTHORIZED);
    // The right password of a deactivated account is answered as a wrong one.
    let login = app.login("peer@test.example", PASSWORD).await;
    assert_eq!((login.status, login.code()), (StatusCode::UNAUTHORIZED, "invalid_credentials"));

    let audit = app.audit_of(&peer_id);
    let last = audit.last().unwrap();
    assert_eq!(last.action, "update");
    assert_eq!((&last.before.as_ref().unwrap()["active"], &last.after["active"]), (&json!(true), &json!(false)));
}

async fn bad_tokens_are_refused(app: TestApp) {
    let admin = app.admin().await;
    let no_token = app.request(Method::GET, "/api/v1/me", None, None).await;
    assert_eq!((no_token.status, no_token.code()), (StatusCode::UNAUTHORIZED, "missing_token"));
    assert_eq!(no_token.headers["www-authenticate"], "Bearer");
    let garbage = app.get("/api/v1/me", "not.a.jwt").await;
    assert_eq!((garbage.status, garbage.code()), (StatusCode::UNAUTHORIZED, "invalid_token"));

    // The same claims, unsigned (`alg: none`), or with the signature of another key.
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    let parts: Vec<&str> = admin.split('.').collect();
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let unsigned = format!("{none_header}.{}.", parts[1]);
    assert_eq!(app.get("/api/v1/me", &unsigned).await.status, StatusCode::UNAUTHORIZED);
    let forged = naloxone_tracker::domain::auth::tokens::TokenService::new(&[1u8; 32], 900)
        .issue_access(&uuid::Uuid::new_v4().into(), &[naloxone_tracker::model::roles::Role::Admin], "a-session")
        .unwrap();
    assert_eq!(app.get("/api/v1/me", &forged).await.status, StatusCode::UNAUTHORIZED);
    let tampered = format!("{}.{}.{}x", parts[0], parts[1], parts[2]);
    assert_eq!(app.get("/api/v1/me", &tampered).await.status, StatusCode::UNAUTHORIZED);
    let basic = app.client.get(app.url("/api/v1/me")).basic_auth("a", Some("b")).send().await.unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
}

async fn password_change_ends_sessions(app: TestApp) {
    let admin = app.admin().await;
    let (_, organisation) = app.hub(&admin, "Shetland Recovery Hub").await;
    let (peer_id, _) = app.user(&admin, "peer@test.example", &["peer"], &organisation).await;
    let pair = app.login("peer@test.example", PASSWORD).await.body;
    let changed =
        app.patch(&format!("/api/v1/users/{peer_id}"), &admin, json!({"password": "a brand new passphrase"})).await;
    assert_eq!(changed.status, StatusCode::OK);
    let refresh = app.refresh(pair["refresh_token"].as_str().unwrap()).await;
    assert_eq!(refresh.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.login("peer@test.example", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.login("peer@test.example", "a brand new passphrase").await.status, StatusCode::OK);
    let after = app.audit_of(&peer_id).pop().unwrap().after;
    assert_eq!(after["password_changed"], true);
    assert!(!after.to_string().contains("brand new"));
}
