//! The HTTP surface: problem+json for every failure, health, metrics (on
//! their own address), docs, security headers, request ids, compression
//! and concurrent writers.

use crate::harness::{Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::json;

both_backends!(
    malformed_and_misshapen_bodies_are_refused_cleanly,
    oversized_bodies_are_refused,
    unknown_routes_methods_and_ids_are_problems,
    health_readiness_and_metrics_answer,
    request_ids_are_kept_or_made,
    responses_are_compressed_on_request,
    concurrent_writers_all_succeed,
    nul_bytes_never_reach_the_database,
    answers_carry_the_security_headers,
);

async fn malformed_and_misshapen_bodies_are_refused_cleanly(app: TestApp) {
    let admin = app.admin().await;
    let send = |body: &'static str, content_type: &'static str| {
        app.client
            .post(app.url("/api/v1/areas"))
            .bearer_auth(&admin)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let cases = [
        ("{\"name\": ", "application/json", 400, "malformed_json"),
        ("\u{0}\u{1}", "application/json", 400, "malformed_json"),
        ("[]", "application/json", 422, "validation_failed"),
        ("{\"name\": 7}", "application/json", 422, "validation_failed"),
        ("{\"name\": \"A\", \"population_at_risk\": 1e40}", "application/json", 422, "validation_failed"),
        ("{\"name\": \"A\", \"population_at_risk\": 99999999999}", "application/json", 422, "validation_failed"),
        ("{\"name\": \"A\"}", "text/plain", 415, "unsupported_media_type"),
        ("name=A", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    ];
    for (body, content_type, status, code) in cases {
        let response = send(body, content_type).await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{body:?}");
        assert_eq!(response.headers()["content-type"], "application/problem+json");
        let problem: serde_json::Value = response.json().await.unwrap();
        assert_eq!(problem["code"], code, "{body:?}");
        assert_eq!(problem["status"], status);
        assert!(problem["title"].is_string() && problem["detail"].is_string() && problem["type"].is_string());
    }
    let invalid_utf8 = app
        .client
        .post(app.url("/api/v1/areas"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body(vec![b'{', b'"', 0xff, 0xfe, b'"', b'}'])
        .send()
        .await
        .unwrap();
    assert_eq!(invalid_utf8.status(), StatusCode::BAD_REQUEST);
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep = app
        .client
        .post(app.url("/api/v1/areas"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body(deep)
        .send()
        .await
        .unwrap();
    assert!(deep.status().is_client_error());
    assert_eq!(app.get("/api/v1/areas", &admin).await.body["items"], json!([]), "nothing was written");
}

async fn oversized_bodies_are_refused(app: TestApp) {
    let admin = app.admin().await;
    let big = json!({"name": "x".repeat(2 * 1024 * 1024)});
    let reply = app.post("/api/v1/areas", &admin, big).await;
    assert_eq!((reply.status, reply.code()), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"));
    assert!(reply.is_problem());
}

async fn unknown_routes_methods_and_ids_are_problems(app: TestApp) {
    let admin = app.admin().await;
    let unknown = app.get("/api/v1/nothing-here", &admin).await;
    assert_eq!((unknown.status, unknown.code()), (StatusCode::NOT_FOUND, "not_found"));
    assert!(unknown.is_problem());
    let wrong_method = app.request(Method::DELETE, "/api/v1/areas", Some(&admin), None).await;
    assert_eq!((wrong_method.status, wrong_method.code()), (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"));
    assert!(wrong_method.is_problem());
    assert!(wrong_method.headers["allow"].to_str().unwrap().contains("GET"));
    let put = app.request(Method::PUT, "/api/v1/auth/login", None, Some(&json!({}))).await;
    assert_eq!(put.status, StatusCode::METHOD_NOT_ALLOWED);
    for path in ["/api/v1/areas/not-a-uuid", "/api/v1/areas/00000000-0000-0000-0000-000000000000", "/api/v1/users/%00"]
    {
        let reply = app.get(path, &admin).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(reply.is_problem());
    }
}

async fn health_readiness_and_metrics_answer(app: TestApp) {
    let health = app.request(Method::GET, "/health", None, None).await;
    assert_eq!((health.status, health.body["status"].as_str()), (StatusCode::OK, Some("ok")));
    let ready = app.request(Method::GET, "/ready", None, None).await;
    assert_eq!(ready.status, StatusCode::OK);
    // Metrics are off unless an address of their own is given: never on the API's.
    let metrics = app.request(Method::GET, "/metrics", None, None).await;
    assert_eq!((metrics.status, metrics.code()), (StatusCode::NOT_FOUND, "not_found"));
    assert!(metrics.is_problem());
    assert!(app.metrics_url.is_none());
}

/// With `--metrics-bind`, `/metrics` answers Prometheus text on that
/// address, counting the API's requests, and still 404 on the API's.
async fn metrics_are_served_on_their_own_address(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, &["--metrics-bind", "127.0.0.1:0"]).await else {
        return eprintln!("skipped: set TEST_POSTGRES_URL to run this on PostgreSQL");
    };
    let metrics_url = app.metrics_url.clone().expect("a metrics address");
    assert_ne!(metrics_url, app.base_url);
    app.request(Method::GET, "/api/v1/areas", None, None).await;
    let on_api = app.request(Method::GET, "/metrics", None, None).await;
    assert_eq!((on_api.status, on_api.code()), (StatusCode::NOT_FOUND, "not_found"));
    let metrics = app.client.get(format!("{metrics_url}/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    assert!(metrics.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    assert_eq!(metrics.headers()["x-content-type-options"], "nosniff");
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains(r#"naloxone_http_requests_total{endpoint="/api/v1/areas",method="GET",status="401"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"naloxone_http_requests_total{endpoint="UNMATCHED",method="GET",status="404"} 1"#),
        "{text}"
    );
    assert!(text.contains("naloxone_http_requests_duration_seconds_bucket"));
    // The metrics address serves nothing of the API.
    let api_there = app.client.get(format!("{metrics_url}/api/v1/areas")).send().await.unwrap();
    assert_eq!(api_there.status(), StatusCode::NOT_FOUND);
    let health_there = app.client.get(format!("{metrics_url}/health")).send().await.unwrap();
    assert_eq!(health_there.status(), StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn metrics_are_served_on_their_own_address_sqlite() {
    metrics_are_served_on_their_own_address(Backend::Sqlite).await;
}

#[actix_web::test]
async fn metrics_are_served_on_their_own_address_postgres() {
    metrics_are_served_on_their_own_address(Backend::Postgres).await;
}

async fn request_ids_are_kept_or_made(app: TestApp) {
    let given = app.client.get(app.url("/health")).header("x-request-id", "phone-42.retry-1").send().await.unwrap();
    assert_eq!(given.headers()["x-request-id"], "phone-42.retry-1");
    let made = app.client.get(app.url("/health")).send().await.unwrap();
    let id = made.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok());
    let hostile = app.client.get(app.url("/health")).header("x-request-id", "a b<script>").send().await.unwrap();
    assert_ne!(hostile.headers()["x-request-id"], "a b<script>");
}

async fn responses_are_compressed_on_request(app: TestApp) {
    let admin = app.admin().await;
    let plain_client = reqwest::Client::builder().no_gzip().build().unwrap();
    let raw = plain_client
        .get(app.url("/api/v1/products"))
        .bearer_auth(&admin)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.headers()["content-encoding"], "gzip");
    let decoded = app.get("/api/v1/products", &admin).await;
    assert_eq!(decoded.body["items"].as_array().unwrap().len(), 3);
}

async fn concurrent_writers_all_succeed(app: TestApp) {
    let admin = app.admin().await;
    let writes = (0..32).map(|i| app.post("/api/v1/areas", &admin, json!({"name": format!("Area {i}")})));
    let replies = futures_util::future::join_all(writes).await;
    for reply in &replies {
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    let all = app.get("/api/v1/areas?limit=100", &admin).await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 32);
}

/// Nothing here touches the database, so SQLite alone will do.
#[actix_web::test]
async fn docs_page_is_served_from_the_binary() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let docs = redirect.get(app.url("/docs")).send().await.unwrap();
    assert!(docs.status().is_redirection());
    let page = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("swagger-ui"));
    let script = app.client.get(app.url("/docs/swagger-ui-bundle.js")).send().await.unwrap();
    assert_eq!(script.status(), StatusCode::OK);
    let spec: serde_json::Value =
        app.client.get(app.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
}

/// The values of `attribute="…"` in an HTML page.
fn attribute_values<'a>(page: &'a str, attribute: &str) -> Vec<&'a str> {
    let opener = format!(" {attribute}=\"");
    page.match_indices(&opener).filter_map(|(at, _)| page[at + opener.len()..].split('"').next()).collect()
}

/// The docs page lives within its own content security policy: every
/// script and style it loads is its own file, served with a type that
/// `nosniff` accepts; it has no inline script or style element; its
/// configuration names only this server; and nothing may frame it.
#[actix_web::test]
async fn the_docs_page_loads_only_its_own_assets_and_cannot_be_framed() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let page = app.client.get(app.url("/docs/")).send().await.unwrap();
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    for directive in ["frame-ancestors 'none'", "script-src 'self'", "default-src 'none'", "connect-src 'self'"] {
        assert!(policy.split(';').any(|d| d.trim() == directive), "{directive} missing from {policy}");
    }
    assert!(!policy.contains("unsafe-eval") && !policy.contains("script-src 'self' 'unsafe-inline'"), "{policy}");
    let html = page.text().await.unwrap();
    assert!(!html.contains("<style"), "an inline style element would need 'unsafe-inline' in style-src");
    assert_eq!(html.matches("<script").count(), attribute_values(&html, "src").len(), "every script is a file");
    assert!(["onload=", "onerror=", "onclick=", "javascript:"].iter().all(|h| !html.contains(h)), "no inline handlers");
    let scripts = attribute_values(&html, "src");
    let styles: Vec<&str> = attribute_values(&html, "href").into_iter().filter(|h| h.ends_with(".css")).collect();
    assert!(scripts.len() >= 3 && styles.len() >= 2, "{scripts:?} {styles:?}");
    for (asset, wanted) in scripts.iter().map(|s| (s, "javascript")).chain(styles.iter().map(|s| (s, "text/css"))) {
        assert!(!asset.contains("//"), "{asset} is not one of the page's own files");
        let url = app.url(&format!("/docs/{}", asset.trim_start_matches("./")));
        let loaded = app.client.get(&url).send().await.unwrap();
        assert_eq!(loaded.status(), StatusCode::OK, "{url}");
        assert_eq!(loaded.headers()["x-content-type-options"], "nosniff");
        let content_type = loaded.headers()["content-type"].to_str().unwrap();
        assert!(content_type.contains(wanted), "{url} is {content_type}: a browser with nosniff would refuse it");
    }
    let initializer =
        app.client.get(app.url("/docs/swagger-initializer.js")).send().await.unwrap().text().await.unwrap();
    assert!(initializer.contains("\"/api/v1/openapi.json\""), "{initializer}");
    assert!(initializer.contains("\"validatorUrl\": \"none\""), "no badge from another origin: {initializer}");
}

/// Every answer says not to sniff its type, sends no referrer and may not
/// be framed; everything under /api/v1 but its document (tokens, personal
/// and health-related data, the public check) may never be stored.
async fn answers_carry_the_security_headers(app: TestApp) {
    let o = app.outreach(false).await;
    let login = app.login("peer@hub.example", crate::harness::PASSWORD).await;
    let refresh_token = login.body["refresh_token"].as_str().unwrap().to_owned();
    let handout = app.post("/api/v1/kit-issues", &o.peer, crate::harness::tally(&o.area, 1)).await;
    assert_eq!(handout.status, StatusCode::CREATED);
    let certificates = app.get("/api/v1/certificates", &o.admin).await;
    let code = certificates.body["items"][0]["verification_code"].as_str().unwrap().to_owned();
    let answers = vec![
        ("login", login),
        ("failed login", app.login("peer@hub.example", "not the password at all").await),
        ("refresh", app.refresh(&refresh_token).await),
        ("me", app.get("/api/v1/me", &o.peer).await),
        ("handout created", handout),
        ("handouts", app.get("/api/v1/kit-issues", &o.coordinator).await),
        ("sync", app.post("/api/v1/sync", &o.peer, json!({"kit_issues": []})).await),
        ("reference", app.get("/api/v1/sync/reference", &o.peer).await),
        ("public check", app.request(Method::GET, &format!("/api/v1/certificates/verify/{code}"), None, None).await),
        ("no login", app.request(Method::GET, "/api/v1/me", None, None).await),
        ("unknown route", app.get("/api/v1/nothing-here", &o.admin).await),
        ("wrong method", app.request(Method::DELETE, "/api/v1/areas", Some(&o.admin), None).await),
        ("malformed", app.post("/api/v1/areas", &o.admin, json!([])).await),
        ("stats", app.get("/api/v1/stats/kits", &o.admin).await),
    ];
    for (name, reply) in &answers {
        assert!(reply.status.as_u16() < 500, "{name}: {}", reply.status);
        assert_eq!(reply.headers["cache-control"], "no-store", "{name}");
        assert_eq!(reply.headers["x-content-type-options"], "nosniff", "{name}");
        assert_eq!(reply.headers["referrer-policy"], "no-referrer", "{name}");
        assert_eq!(reply.headers["x-frame-options"], "DENY", "{name}");
        assert_eq!(reply.headers["content-security-policy"], "default-src 'none'; frame-ancestors 'none'", "{name}");
    }
    for path in ["/api/v1/openapi.json", "/health", "/ready", "/.well-known/jwks.json", "/docs/"] {
        let reply = app.request(Method::GET, path, None, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_ne!(reply.headers.get("cache-control").map(|v| v.to_str().unwrap()), Some("no-store"), "{path}");
        assert_eq!(reply.headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(reply.headers["referrer-policy"], "no-referrer", "{path}");
        assert!(
            reply.headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"),
            "{path}"
        );
    }
}

async fn nul_bytes_never_reach_the_database(app: TestApp) {
    let admin = app.admin().await;
    let (area, organisation) = app.hub(&admin, "Kilmarnock Recovery Hub").await;
    let nul = "Kil\u{0}marnock";
    let writes = [
        ("/api/v1/areas", json!({"name": nul})),
        ("/api/v1/organisations", json!({"name": nul, "kind": "lero", "area_id": area})),
        ("/api/v1/products", json!({"name": nul, "route": "intranasal", "doses_per_kit": 2, "mg_per_dose": 1.0})),
        (
            "/api/v1/users",
            json!({"email": "a\u{0}@test.example", "display_name": nul, "password": "pass\u{0}word-long",
                   "roles": ["peer"], "organisation_id": organisation}),
        ),
    ];
    for (path, body) in writes {
        let reply = app.post(path, &admin, body).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {}", reply.body);
    }
    let login = app.login("admin\u{0}@test.example", "whatever password").await;
    assert_eq!(login.status, StatusCode::UNPROCESSABLE_ENTITY);
    let refresh = app.refresh("tok\u{0}en").await;
    assert_eq!(refresh.status, StatusCode::UNAUTHORIZED);
}

/// Browser apps from the configured origins may call the API; others may not.
#[actix_web::test]
async fn cors_allows_only_configured_origins() {
    let app = TestApp::spawn_with(Backend::Sqlite, &["--cors-origins", "https://app.example"]).await.unwrap();
    let preflight = |origin: &'static str| {
        app.client
            .request(Method::OPTIONS, app.url("/api/v1/areas"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type")
            .send()
    };
    let allowed = preflight("https://app.example").await.unwrap();
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://app.example");
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(refused.status().is_client_error());
    assert_eq!(refused.headers()["content-type"], "application/problem+json");
}
