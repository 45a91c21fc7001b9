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

/// `ProblemCode` lists every code the server has; each one is answered by
/// some operation (so listed in its `x-problem-codes`) or, for
/// `method_not_allowed`, by any path asked with a method it does not take.
/// Every listed code is one of `ProblemCode`.
#[test]
fn every_problem_code_is_listed_where_it_is_answered() {
    let spec: serde_json::Value = serde_json::from_str(COMMITTED).unwrap();
    let all: BTreeSet<&str> = naloxone_tracker::domain::error::Code::ALL.iter().map(|code| code.as_str()).collect();
    let enumerated: BTreeSet<&str> = spec["components"]["schemas"]["ProblemCode"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c.as_str())
        .collect();
    assert_eq!(enumerated, all, "ProblemCode is the server's Code");
    assert_eq!(
        spec["components"]["schemas"]["Problem"]["properties"]["code"]["$ref"],
        "#/components/schemas/ProblemCode"
    );
    let mut listed = BTreeSet::from(["method_not_allowed"]);
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            for (status, codes) in operation["x-problem-codes"].as_object().unwrap() {
                assert!(
                    responses.contains_key(status),
                    "{method} {path}: codes for {status}, which it does not answer"
                );
                for code in codes.as_array().unwrap() {
                    let code = code.as_str().unwrap();
                    assert!(all.contains(code), "{method} {path}: {code} is no ProblemCode");
                    listed.insert(code);
                }
            }
            for status in responses.keys().filter(|s| s.as_str() >= "400") {
                assert!(operation["x-problem-codes"].get(status).is_some(), "{method} {path}: no codes for {status}");
            }
        }
    }
    assert_eq!(listed, all, "codes no operation lists");
}
