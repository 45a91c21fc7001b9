//! The committed OpenAPI document must match the one the code generates.

use std::collections::BTreeSet;

const COMMITTED: &str = include_str!("../../openapi/openapi.json");

#[test]
fn committed_spec_matches_the_code() {
    let generated = naloxone_tracker::http::openapi::document();
    assert!(
        generated == COMMITTED,
        "openapi/openapi.json is out of date: run `cargo run -- openapi > openapi/openapi.json` and commit it"
    );
}

#[test]
fn every_operation_documents_its_errors() {
    let spec: serde_json::Value = serde_json::from_str(COMMITTED).unwrap();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let statuses: BTreeSet<&str> =
                operation["responses"].as_object().unwrap().keys().map(String::as_str).collect();
            let public = ["/health", "/ready", "/metrics", "/.well-known/jwks.json"].contains(&path.as_str());
            if !public {
                assert!(statuses.contains("500") && statuses.contains("503"), "{method} {path}: {statuses:?}");
            }
            let secured = operation.get("security").is_some();
            assert_eq!(secured, statuses.contains("401") && !path.starts_with("/api/v1/auth/"), "{method} {path}");
            if method == "post" || method == "patch" {
                for status in ["400", "413", "415", "422"] {
                    assert!(statuses.contains(status), "{method} {path} lacks {status}");
                }
            }
        }
    }
    assert!(spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer");
}
