//! The HTTP surface: problem+json for every failure, health, metrics, docs,
//! request ids, compression and concurrent writers.

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
    app.request(Method::GET, "/api/v1/areas", None, None).await;
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains(r#"naloxone_http_requests_total{endpoint="/api/v1/areas",method="GET",status="401"} 1"#),
        "{text}"
    );
    assert!(text.contains("naloxone_http_requests_duration_seconds_bucket"));
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
