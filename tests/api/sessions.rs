//! Sessions and the login throttle: access tokens that end with their
//! session, refresh that survives a lost answer, and a throttle by account
//! and client address that counts an attempt before its password is checked.
//!
//! The test server sees the client's own socket address. Linux answers on
//! all of 127.0.0.0/8, so a client bound to 127.0.0.2 (reqwest's
//! `local_address`) reaches the server from another address than the
//! harness's client (127.0.0.1).

use std::net::IpAddr;
use std::time::{Duration, Instant};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use diesel::prelude::*;
use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::harness::{Backend, Reply, TestApp, ADMIN_EMAIL, PASSWORD};

both_backends!(
    concurrent_wrong_guesses_check_no_more_passwords_than_the_limit,
    a_strangers_guesses_do_not_lock_the_peer_out_of_their_own_address,
    forwarding_headers_are_believed_only_from_trusted_proxies,
    the_account_ceiling_holds_against_guesses_from_many_addresses,
    delays_grow_with_each_further_failure,
    a_coordinator_or_an_admin_unlocks_a_user,
    a_deactivated_account_with_its_password_is_refused_as_a_wrong_password,
    logout_ends_the_access_token_at_once,
    a_password_change_ends_the_access_tokens_at_once,
    reactivation_does_not_revive_old_access_tokens,
    a_lost_refresh_answer_is_answered_again_within_the_grace,
    reuse_after_the_replacement_was_used_revokes_the_session,
    reuse_after_the_grace_revokes_the_session,
    concurrent_refreshes_of_one_token_leave_one_working_session,
    access_tokens_not_valid_yet_are_refused,
    throttle_counts_past_their_time_are_swept,
);

/// A client whose requests come from `address` (a loopback address).
fn client_from(address: &str) -> reqwest::Client {
    let ip: IpAddr = address.parse().expect("an IP address");
    reqwest::Client::builder().local_address(ip).build().expect("client")
}

/// Signs in through `client` (from its own address).
async fn login_from(app: &TestApp, client: &reqwest::Client, email: &str, password: &str) -> Reply {
    let response = client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("login sent");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    Reply { status, headers, body }
}

/// Signs in through `client`, saying it forwards for `forwarded_for`.
async fn login_forwarded(app: &TestApp, client: &reqwest::Client, forwarded_for: &str, password: &str) -> StatusCode {
    client
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"email": "peer@hub.example", "password": password}))
        .send()
        .await
        .expect("login sent")
        .status()
}

/// How many answers are 401 `invalid_credentials` (a password was checked)
/// and how many 429 `login_throttled` (none was).
fn checked_and_throttled(replies: &[Reply]) -> (usize, usize) {
    let checked =
        replies.iter().filter(|r| r.status == StatusCode::UNAUTHORIZED && r.code() == "invalid_credentials").count();
    let throttled =
        replies.iter().filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS && r.code() == "login_throttled").count();
    (checked, throttled)
}

fn statuses(replies: &[Reply]) -> Vec<(u16, String)> {
    replies.iter().map(|r| (r.status.as_u16(), r.code().to_owned())).collect()
}

fn retry_after(reply: &Reply) -> u64 {
    reply.headers["retry-after"].to_str().unwrap().parse().unwrap()
}

/// The claims of a JWT, unchecked.
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON claims")
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_else(|| panic!("no {key} in {value}"))
}

/// A peer of a new hub who has not signed in yet: (id, email).
async fn peer_of_a_hub(app: &TestApp, admin: &str) -> (String, String, String) {
    let (_, organisation) = app.hub(admin, "Kilmarnock Recovery Hub").await;
    let email = "peer@hub.example".to_owned();
    let id = app
        .create(
            "/api/v1/users",
            admin,
            json!({"email": email, "display_name": "Sam K.", "password": PASSWORD, "roles": ["peer"],
                   "organisation_id": organisation}),
        )
        .await;
    (id, email, organisation)
}

async fn concurrent_wrong_guesses_check_no_more_passwords_than_the_limit(app: TestApp) {
    app.admin().await;
    // 40 wrong guesses at once, for an account and for an email nobody has.
    for email in [ADMIN_EMAIL, "nobody@test.example"] {
        let passwords: Vec<String> = (0..40).map(|i| format!("wrong guess {i}")).collect();
        let replies = join_all(passwords.iter().map(|p| app.login(email, p))).await;
        let (checked, throttled) = checked_and_throttled(&replies);
        assert!(
            checked <= 5 && checked + throttled == 40,
            "{email}: {checked} passwords checked against a limit of 5: {:?}",
            statuses(&replies)
        );
        assert!(checked >= 1, "some guess was checked: {:?}", statuses(&replies));
    }
    // Now even the right password waits.
    let right = app.login(ADMIN_EMAIL, PASSWORD).await;
    assert_eq!((right.status, right.code()), (StatusCode::TOO_MANY_REQUESTS, "login_throttled"));
}

async fn a_strangers_guesses_do_not_lock_the_peer_out_of_their_own_address(app: TestApp) {
    let admin = app.admin().await;
    let (_, email, _) = peer_of_a_hub(&app, &admin).await;
    let stranger = client_from("127.0.0.2");
    let passwords: Vec<String> = (0..20).map(|i| format!("a guess {i}")).collect();
    let replies = join_all(passwords.iter().map(|p| login_from(&app, &stranger, &email, p))).await;
    let (checked, throttled) = checked_and_throttled(&replies);
    assert!(checked <= 5 && checked + throttled == 20, "{:?}", statuses(&replies));
    // The stranger's address is throttled for this account, even with the right password …
    let stranger_right = login_from(&app, &stranger, &email, PASSWORD).await;
    assert_eq!(stranger_right.status, StatusCode::TOO_MANY_REQUESTS);
    // … but the peer, on their own phone, signs in.
    let peer = app.login(&email, PASSWORD).await;
    assert_eq!(peer.status, StatusCode::OK, "{}", peer.body);
    let phone = login_from(&app, &client_from("127.0.0.3"), &email, PASSWORD).await;
    assert_eq!(phone.status, StatusCode::OK, "{}", phone.body);
    // And the stranger's address may still sign in to another account.
    assert_eq!(login_from(&app, &stranger, ADMIN_EMAIL, PASSWORD).await.status, StatusCode::OK);
}

/// A stranger who makes up `X-Forwarded-For` gets no fresh address per
/// guess; behind a trusted proxy (here 127.0.0.2) the clients it forwards
/// for are told apart, so one client's guesses slow down only that client.
async fn forwarding_headers_are_believed_only_from_trusted_proxies(app: TestApp) {
    let admin = app.admin().await;
    let (_, email, _) = peer_of_a_hub(&app, &admin).await;
    assert_eq!(email, "peer@hub.example");
    let stranger = client_from("127.0.0.2");
    for guess in 0..5 {
        let status = login_forwarded(&app, &stranger, &format!("198.51.100.{guess}"), "a wrong guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let spoofed = login_forwarded(&app, &stranger, "198.51.100.99", "another guess").await;
    assert_eq!(spoofed, StatusCode::TOO_MANY_REQUESTS, "a made-up header is not a new address");

    let behind_proxy = TestApp::spawn_with(app.backend, &["--trusted-proxies", "127.0.0.2"]).await.expect("app");
    let admin = behind_proxy.admin().await;
    peer_of_a_hub(&behind_proxy, &admin).await;
    let proxy = client_from("127.0.0.2");
    for _ in 0..5 {
        assert_eq!(
            login_forwarded(&behind_proxy, &proxy, "198.51.100.7", "a wrong guess").await,
            StatusCode::UNAUTHORIZED
        );
    }
    let guesser = login_forwarded(&behind_proxy, &proxy, "198.51.100.7", PASSWORD).await;
    assert_eq!(guesser, StatusCode::TOO_MANY_REQUESTS, "the guessing client is slowed down");
    let peer = login_forwarded(&behind_proxy, &proxy, "198.51.100.8", PASSWORD).await;
    assert_eq!(peer, StatusCode::OK, "another client of the same proxy is not");
    // The client's own first entry is not believed: the proxy appended the real one.
    let prefixed = login_forwarded(&behind_proxy, &proxy, "198.51.100.8, 198.51.100.7", PASSWORD).await;
    assert_eq!(prefixed, StatusCode::TOO_MANY_REQUESTS);
}

async fn the_account_ceiling_holds_against_guesses_from_many_addresses(app: TestApp) {
    let app = TestApp::spawn_with(app.backend, &["--login-max-failures", "3", "--login-account-max-failures", "10"])
        .await
        .expect("app");
    let admin = app.admin().await;
    let (_, email, _) = peer_of_a_hub(&app, &admin).await;
    // 12 addresses, 5 guesses each, all at once: each address alone stays
    // under what it may try, together they would check 36 passwords.
    let clients: Vec<reqwest::Client> = (2..14).map(|n| client_from(&format!("127.0.0.{n}"))).collect();
    let guesses: Vec<(&reqwest::Client, String)> =
        clients.iter().flat_map(|c| (0..5).map(move |i| (c, format!("guess {i}")))).collect();
    let replies = join_all(guesses.iter().map(|(c, p)| login_from(&app, c, &email, p))).await;
    let (checked, throttled) = checked_and_throttled(&replies);
    assert!(
        checked <= 10 && checked + throttled == 60,
        "{checked} passwords checked against an account ceiling of 10: {:?}",
        statuses(&replies)
    );
    // The account is closed from everywhere now, its owner's phone too.
    let owner = login_from(&app, &client_from("127.0.0.20"), &email, PASSWORD).await;
    assert_eq!((owner.status, owner.code()), (StatusCode::TOO_MANY_REQUESTS, "login_throttled"));
    let wait = retry_after(&owner);
    assert!((1..=86_400).contains(&wait), "{wait}");
    assert!(str_of(&owner.body, "detail").contains(&wait.to_string()), "{}", owner.body);
    // Other accounts are not.
    assert_eq!(app.login(ADMIN_EMAIL, PASSWORD).await.status, StatusCode::OK);
}

async fn delays_grow_with_each_further_failure(app: TestApp) {
    let app = TestApp::spawn_with(app.backend, &["--login-max-failures", "2", "--login-delay-seconds", "1"])
        .await
        .expect("app");
    app.admin().await;
    for _ in 0..2 {
        assert_eq!(app.login(ADMIN_EMAIL, "not the password").await.status, StatusCode::UNAUTHORIZED);
    }
    // After the allowance: wait 1 s, then 2 s, then 4 s between guesses.
    for expected in [1, 2] {
        let refused = app.login(ADMIN_EMAIL, "not the password").await;
        assert_eq!((refused.status, refused.code()), (StatusCode::TOO_MANY_REQUESTS, "login_throttled"));
        assert_eq!(retry_after(&refused), expected, "{}", refused.body);
        assert!(str_of(&refused.body, "detail").contains(&format!("{expected} second")), "{}", refused.body);
        actix_web::rt::time::sleep(Duration::from_millis(expected * 1000 + 100)).await;
        assert_eq!(app.login(ADMIN_EMAIL, "not the password").await.status, StatusCode::UNAUTHORIZED);
    }
    // The right password, once allowed, signs in and ends the delays.
    let refused = app.login(ADMIN_EMAIL, PASSWORD).await;
    assert_eq!(retry_after(&refused), 4, "{}", refused.body);
    actix_web::rt::time::sleep(Duration::from_millis(4_100)).await;
    assert_eq!(app.login(ADMIN_EMAIL, PASSWORD).await.status, StatusCode::OK);
    assert_eq!(app.login(ADMIN_EMAIL, "not the password").await.status, StatusCode::UNAUTHORIZED);
}

async fn a_coordinator_or_an_admin_unlocks_a_user(app: TestApp) {
    let admin = app.admin().await;
    let (peer_id, email, organisation) = peer_of_a_hub(&app, &admin).await;
    let (coordinator_id, coordinator) =
        app.user(&admin, "coordinator@hub.example", &["coordinator"], &organisation).await;
    let (_, elsewhere) = app.hub(&admin, "Shetland Recovery Hub").await;
    let (_, other_coordinator) = app.user(&admin, "coordinator@shetland.example", &["coordinator"], &elsewhere).await;
    let (_, peer2) = app.user(&admin, "peer2@hub.example", &["peer"], &organisation).await;
    let lock_out = || async {
        for _ in 0..5 {
            app.login(&email, "not the password").await;
        }
        let locked = app.login(&email, PASSWORD).await;
        assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
        let wait = retry_after(&locked);
        assert!(str_of(&locked.body, "detail").contains(&format!("{wait} second")), "{}", locked.body);
    };
    lock_out().await;

    let unlock = format!("/api/v1/users/{peer_id}/unlock");
    let why = json!({"reason": "the peer phoned the hub"});
    assert_eq!(app.request(Method::POST, &unlock, Some(&peer2), Some(&why)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.request(Method::POST, &unlock, Some(&other_coordinator), Some(&why)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.request(Method::POST, &unlock, None, Some(&why)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.login(&email, PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS, "still locked");
    let missing = app
        .request(Method::POST, &format!("/api/v1/users/{}/unlock", uuid::Uuid::new_v4()), Some(&admin), Some(&why))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let no_reason = app.request(Method::POST, &unlock, Some(&admin), Some(&json!({}))).await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let unlocked = app.request(Method::POST, &unlock, Some(&coordinator), Some(&why)).await;
    assert_eq!(unlocked.status, StatusCode::NO_CONTENT, "{}", unlocked.body);
    assert_eq!(app.login(&email, PASSWORD).await.status, StatusCode::OK);
    let audit = app.audit_of(&peer_id);
    let last = audit.last().expect("an audit entry");
    assert_eq!((last.action.as_str(), last.actor_id.as_deref()), ("unlock", Some(coordinator_id.as_str())));
    assert_eq!(last.after["reason"], "the peer phoned the hub");

    // An admin may too; the unlock forgets the failures, so five more are allowed.
    lock_out().await;
    assert_eq!(app.request(Method::POST, &unlock, Some(&admin), Some(&why)).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.login(&email, PASSWORD).await.status, StatusCode::OK);
    assert_eq!(app.audit_of(&peer_id).iter().filter(|e| e.action == "unlock").count(), 2);
}

async fn a_deactivated_account_with_its_password_is_refused_as_a_wrong_password(app: TestApp) {
    let admin = app.admin().await;
    let (peer_id, email, _) = peer_of_a_hub(&app, &admin).await;
    let deactivated = app.patch(&format!("/api/v1/users/{peer_id}"), &admin, json!({"active": false})).await;
    assert_eq!(deactivated.status, StatusCode::OK);
    let right = app.login(&email, PASSWORD).await;
    let wrong = app.login(&email, "not the password").await;
    for reply in [&right, &wrong] {
        assert_eq!((reply.status, reply.code()), (StatusCode::UNAUTHORIZED, "invalid_credentials"), "{}", reply.body);
    }
    assert_eq!(right.body, wrong.body);
}

/// Signs in: (access token, refresh token).
async fn pair(app: &TestApp, email: &str) -> (String, String) {
    let reply = app.login(email, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    (str_of(&reply.body, "access_token").to_owned(), str_of(&reply.body, "refresh_token").to_owned())
}

async fn logout_ends_the_access_token_at_once(app: TestApp) {
    app.admin().await;
    let (access, refresh) = pair(&app, ADMIN_EMAIL).await;
    let (other_access, _) = pair(&app, ADMIN_EMAIL).await;
    assert_eq!(app.get("/api/v1/me", &access).await.status, StatusCode::OK);
    let out = app.request(Method::POST, "/api/v1/auth/logout", None, Some(&json!({"refresh_token": refresh}))).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let me = app.get("/api/v1/me", &access).await;
    assert_eq!((me.status, me.code()), (StatusCode::UNAUTHORIZED, "session_ended"));
    assert_eq!(app.get("/api/v1/products", &access).await.status, StatusCode::UNAUTHORIZED);
    // The user's other session goes on.
    assert_eq!(app.get("/api/v1/me", &other_access).await.status, StatusCode::OK);
}

async fn a_password_change_ends_the_access_tokens_at_once(app: TestApp) {
    let admin = app.admin().await;
    let (peer_id, email, _) = peer_of_a_hub(&app, &admin).await;
    let (first, _) = pair(&app, &email).await;
    let (second, _) = pair(&app, &email).await;
    assert_eq!(app.get("/api/v1/me", &first).await.status, StatusCode::OK);
    let changed =
        app.patch(&format!("/api/v1/users/{peer_id}"), &admin, json!({"password": "a brand new passphrase"})).await;
    assert_eq!(changed.status, StatusCode::OK);
    for token in [&first, &second] {
        let me = app.get("/api/v1/me", token).await;
        assert_eq!((me.status, me.code()), (StatusCode::UNAUTHORIZED, "session_ended"));
    }
    assert_eq!(app.get("/api/v1/me", &admin).await.status, StatusCode::OK, "the admin's session goes on");
    let fresh = app.login(&email, "a brand new passphrase").await;
    assert_eq!(app.get("/api/v1/me", str_of(&fresh.body, "access_token")).await.status, StatusCode::OK);
}

async fn reactivation_does_not_revive_old_access_tokens(app: TestApp) {
    let admin = app.admin().await;
    let (peer_id, email, _) = peer_of_a_hub(&app, &admin).await;
    let (access, refresh) = pair(&app, &email).await;
    let path = format!("/api/v1/users/{peer_id}");
    assert_eq!(app.patch(&path, &admin, json!({"active": false})).await.status, StatusCode::OK);
    assert_eq!(app.get("/api/v1/me", &access).await.code(), "account_inactive");
    assert_eq!(app.patch(&path, &admin, json!({"active": true})).await.status, StatusCode::OK);
    let me = app.get("/api/v1/me", &access).await;
    assert_eq!((me.status, me.code()), (StatusCode::UNAUTHORIZED, "session_ended"));
    assert_eq!(app.refresh(&refresh).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.login(&email, PASSWORD).await.status, StatusCode::OK);
}

async fn a_lost_refresh_answer_is_answered_again_within_the_grace(app: TestApp) {
    app.admin().await;
    let (first_access, first) = pair(&app, ADMIN_EMAIL).await;
    let session = claims_of(&first_access)["sid"].clone();
    // The phone sends its refresh token; the answer is lost on the way back …
    let lost = app.refresh(&first).await;
    assert_eq!(lost.status, StatusCode::OK);
    // … so it sends the same token again, and gets a working pair of the same session.
    let again = app.refresh(&first).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let access = str_of(&again.body, "access_token");
    assert_eq!(claims_of(access)["sid"], session);
    assert_eq!(app.get("/api/v1/me", access).await.status, StatusCode::OK);
    let next = app.refresh(str_of(&again.body, "refresh_token")).await;
    assert_eq!(next.status, StatusCode::OK, "{}", next.body);
    let next_access = str_of(&next.body, "access_token");
    assert_eq!(claims_of(next_access)["sid"], session);
    assert_eq!(app.get("/api/v1/me", next_access).await.status, StatusCode::OK);
    assert_eq!(app.get("/api/v1/me", &first_access).await.status, StatusCode::OK, "the session lives");
}

async fn reuse_after_the_replacement_was_used_revokes_the_session(app: TestApp) {
    app.admin().await;
    let (_, first) = pair(&app, ADMIN_EMAIL).await;
    let second = app.refresh(&first).await.body;
    let third = app.refresh(str_of(&second, "refresh_token")).await.body;
    let third_access = str_of(&third, "access_token");
    assert_eq!(app.get("/api/v1/me", third_access).await.status, StatusCode::OK);
    // The first token again, after its replacement was used: it was copied.
    let reused = app.refresh(&first).await;
    assert_eq!((reused.status, reused.code()), (StatusCode::UNAUTHORIZED, "refresh_token_reused"));
    assert_eq!(app.refresh(str_of(&third, "refresh_token")).await.status, StatusCode::UNAUTHORIZED);
    let me = app.get("/api/v1/me", third_access).await;
    assert_eq!((me.status, me.code()), (StatusCode::UNAUTHORIZED, "session_ended"));
}

async fn reuse_after_the_grace_revokes_the_session(app: TestApp) {
    let app = TestApp::spawn_with(app.backend, &["--refresh-grace-seconds", "1"]).await.expect("app");
    app.admin().await;
    let (_, first) = pair(&app, ADMIN_EMAIL).await;
    let second = app.refresh(&first).await.body;
    actix_web::rt::time::sleep(Duration::from_millis(1_300)).await;
    let reused = app.refresh(&first).await;
    assert_eq!((reused.status, reused.code()), (StatusCode::UNAUTHORIZED, "refresh_token_reused"));
    assert_eq!(app.refresh(str_of(&second, "refresh_token")).await.status, StatusCode::UNAUTHORIZED);
    let me = app.get("/api/v1/me", str_of(&second, "access_token")).await;
    assert_eq!((me.status, me.code()), (StatusCode::UNAUTHORIZED, "session_ended"));
}

async fn concurrent_refreshes_of_one_token_leave_one_working_session(app: TestApp) {
    let admin = app.admin().await;
    let (peer_id, email, _) = peer_of_a_hub(&app, &admin).await;
    let (first_access, first) = pair(&app, &email).await;
    let session = claims_of(&first_access)["sid"].clone();
    let replies = join_all((0..12).map(|_| app.refresh(&first))).await;
    assert!(replies.iter().all(|r| r.status == StatusCode::OK), "{:?}", statuses(&replies));
    for reply in &replies {
        let access = str_of(&reply.body, "access_token");
        assert_eq!(claims_of(access)["sid"], session);
        assert_eq!(app.get("/api/v1/me", access).await.status, StatusCode::OK);
    }
    // One of them carries on; the session is the only one the peer has.
    let next = app.refresh(str_of(&replies[7].body, "refresh_token")).await;
    assert_eq!(next.status, StatusCode::OK, "{}", next.body);
    assert_eq!(app.get("/api/v1/me", str_of(&next.body, "access_token")).await.status, StatusCode::OK);
    assert_eq!(live_sessions(&app, &peer_id), 1);
}

/// Sessions of a user that have not ended.
fn live_sessions(app: &TestApp, user: &str) -> i64 {
    use naloxone_tracker::storage::schema::sessions::dsl::*;
    let wanted = user.to_owned();
    app.db
        .run_blocking(move |conn| -> crate::harness::Stored<i64> {
            Ok(sessions.filter(user_id.eq(wanted)).filter(revoked_at.is_null()).count().get_result(conn)?)
        })
        .expect("sessions")
}

async fn access_tokens_not_valid_yet_are_refused(app: TestApp) {
    let admin = app.admin().await;
    let secret = std::fs::read(app.data_dir().join("jwt_secret")).expect("the generated JWT secret");
    let sign = |claims: &Value| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            claims,
            &jsonwebtoken::EncodingKey::from_secret(&secret),
        )
        .expect("signed")
    };
    let now = chrono::Utc::now().timestamp();
    let mut claims = claims_of(&admin);
    claims["nbf"] = json!(now - 60);
    assert_eq!(app.get("/api/v1/me", &sign(&claims)).await.status, StatusCode::OK, "valid since a minute ago");
    claims["nbf"] = json!(now + 3600);
    let early = app.get("/api/v1/me", &sign(&claims)).await;
    assert_eq!((early.status, early.code()), (StatusCode::UNAUTHORIZED, "invalid_token"));
}

async fn throttle_counts_past_their_time_are_swept(app: TestApp) {
    use naloxone_tracker::storage::login_throttle::{lock, sweep, ThrottleRow};
    use naloxone_tracker::storage::schema::login_throttle;
    let now = naloxone_tracker::model::time::now();
    let row = |account: &str, forget_at| ThrottleRow {
        account: account.to_owned(),
        address: "10.0.0.1".to_owned(),
        failures: 3,
        window_started_at: now,
        locked_until: None,
        forget_at,
    };
    let (old, recent) = (row("old@test.example", now - chrono::Duration::hours(1)), row("new@test.example", now));
    let (swept, left) = app
        .db
        .write_blocking(move |conn| -> crate::harness::Stored<(usize, Vec<String>)> {
            assert_eq!(lock(conn, &[old.clone(), recent.clone()])?, vec![old, recent]);
            let swept = sweep(conn, now - chrono::Duration::seconds(1))?;
            Ok((swept, login_throttle::table.select(login_throttle::account).load(conn)?))
        })
        .expect("sweep");
    assert_eq!((swept, left), (1, vec!["new@test.example".to_owned()]));
}

#[actix_web::test]
#[ignore = "a measurement: run it with --ignored --nocapture"]
async fn session_check_cost_sqlite() {
    measure_session_check_cost(TestApp::spawn(Backend::Sqlite).await.expect("SQLite app")).await;
}

#[actix_web::test]
#[ignore = "a measurement: run it with --ignored --nocapture"]
async fn session_check_cost_postgres() {
    if let Some(app) = TestApp::spawn(Backend::Postgres).await {
        measure_session_check_cost(app).await;
    }
}

/// `cargo test --test api sessions::session_check_cost -- --ignored --nocapture`:
/// the time of `GET /api/v1/me`, which checks the caller's account and
/// session on every request, over many sequential calls.
async fn measure_session_check_cost(app: TestApp) {
    let token = app.admin().await;
    let mut timings = Vec::new();
    for round in 0..3200 {
        let started = Instant::now();
        let reply = app.get("/api/v1/me", &token).await;
        let took = started.elapsed();
        assert_eq!(reply.status, StatusCode::OK);
        if round >= 200 {
            timings.push(took);
        }
    }
    timings.sort();
    let mean = timings.iter().sum::<Duration>() / timings.len() as u32;
    let at = |q: f64| timings[((timings.len() - 1) as f64 * q) as usize];
    eprintln!(
        "{:?}: GET /api/v1/me x{}: mean {:?}, median {:?}, p90 {:?}, p99 {:?}",
        app.backend,
        timings.len(),
        mean,
        at(0.5),
        at(0.9),
        at(0.99)
    );
    // The caller's query alone, without and with the session in it, taking turns.
    let claims = claims_of(&token);
    let user = naloxone_tracker::model::ids::UserId::parse(str_of(&claims, "sub")).expect("a user id");
    let session = str_of(&claims, "sid").to_owned();
    let (account_only, with_session) = app
        .db
        .run_blocking(move |conn| -> crate::harness::Stored<(Duration, Duration)> {
            let (mut account_only, mut with_session) = (Vec::new(), Vec::new());
            for _ in 0..20_000 {
                let started = Instant::now();
                assert!(naloxone_tracker::storage::users::find_account(conn, &user)?.is_some());
                account_only.push(started.elapsed());
                let started = Instant::now();
                let found = naloxone_tracker::storage::sessions::account_in_session(conn, &user, &session)?;
                assert!(found.is_some_and(|(_, live)| live));
                with_session.push(started.elapsed());
            }
            let median = |mut v: Vec<Duration>| {
                v.sort();
                v[v.len() / 2]
            };
            Ok((median(account_only), median(with_session)))
        })
        .expect("queries");
    eprintln!(
        "{:?}: the caller's query x20000, median: account and roles {:?}, with the session {:?} (+{:?})",
        app.backend,
        account_only,
        with_session,
        with_session.saturating_sub(account_only)
    );
}
