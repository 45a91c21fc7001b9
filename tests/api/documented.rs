//! Every answer the tests get through the harness is held to the committed
//! OpenAPI document: its status is one the operation documents, and a
//! problem's `code` is one the operation lists for that status in
//! `x-problem-codes`. So a code or status the server can answer but the
//! spec does not list fails whichever test meets it first.

use std::sync::OnceLock;

use reqwest::Method;
use serde_json::Value;

fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| serde_json::from_str(include_str!("../../openapi/openapi.json")).expect("the committed spec"))
}

/// The operation a request reaches: the path template that matches with
/// the most literal segments (`/certificates/verify/{code}` over
/// `/certificates/{id}/token`), or `None` for a route the spec lacks.
fn operation(method: &Method, path: &str) -> Option<(&'static str, &'static Value)> {
    let segments: Vec<&str> = path.split('?').next().unwrap_or_default().split('/').collect();
    let (template, item) = spec()["paths"]
        .as_object()?
        .iter()
        .filter_map(|(template, item)| {
            let parts: Vec<&str> = template.split('/').collect();
            let fits = parts.len() == segments.len()
                && parts.iter().zip(&segments).all(|(part, segment)| part.starts_with('{') || part == segment);
            fits.then(|| (parts.iter().filter(|part| !part.starts_with('{')).count(), template, item))
        })
        .max_by_key(|(literal, _, _)| *literal)
        .map(|(_, template, item)| (template.as_str(), item))?;
    item.get(method.as_str().to_lowercase()).map(|operation| (template, operation))
}

/// Panics when an answer is not what the spec says the operation answers.
pub fn check(method: &Method, path: &str, status: u16, problem_code: Option<&str>) {
    let Some((template, operation)) = operation(method, path) else { return };
    let status = status.to_string();
    assert!(
        operation["responses"].get(&status).is_some(),
        "{method} {template} answered {status} (to {path}), which the spec does not document"
    );
    if let Some(code) = problem_code {
        let listed = operation["x-problem-codes"][&status].as_array().into_iter().flatten();
        assert!(
            listed.clone().any(|c| c == code),
            "{method} {template} answered {status} {code} (to {path}); its x-problem-codes list {:?}",
            listed.collect::<Vec<_>>()
        );
    }
}
