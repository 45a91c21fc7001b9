//! Hostile *text* (SQL and script injection, NUL, control and odd Unicode
//! characters) in free-text fields, where it may legitimately be stored:
//! each is refused, or accepted and stored verbatim; no row that existed
//! before is changed or lost.

use serde_json::Value;

use super::corpus::{with_field, Case};
use super::judging::{every_item_refused, judge_refusal, send};
use super::routes::{Field, Kind};
use super::snapshot::{missing, snapshot};
use super::world::World;
use crate::harness::TestApp;

both_backends!(hostile_text_is_refused_or_stored_verbatim);

/// Text that a free-text field (a name, a void reason, a password) may
/// legitimately store as it is, or refuse.
const HOSTILE_TEXT: [(&str, &str); 15] = [
    ("SQL: drop table", "'; DROP TABLE users;--"),
    ("SQL: tautology", "' OR '1'='1"),
    ("SQL: union", "x' UNION SELECT password_hash FROM users--"),
    ("SQL: Bobby Tables", "Robert'); DROP TABLE areas;--"),
    ("SQL, e-mail shaped", "x'or'1'='1'--@example.org"),
    ("script", "<script>alert(1)</script>"),
    ("HTML attribute", "\"><img src=x onerror=alert(1)>"),
    ("template", "{{7*7}}${7*7}#{7*7}"),
    ("CSV formula", "=HYPERLINK(\"http://example.org\",\"x\")"),
    ("path traversal", "../../../../etc/passwd"),
    ("percent escapes", "%00%27%22"),
    ("escaped NUL", "a\u{0}b"),
    ("control characters", "line\nbreak\r\ttab\u{1b}[31m"),
    ("odd Unicode", "\u{202e}evil\u{200b}\u{feff}🦄 ẞ ﷺ"),
    ("blank", "          "),
];

fn contains_string(value: &Value, wanted: &str) -> bool {
    match value {
        Value::String(s) => s == wanted,
        Value::Array(items) => items.iter().any(|v| contains_string(v, wanted)),
        Value::Object(members) => members.values().any(|v| contains_string(v, wanted)),
        _ => false,
    }
}

async fn hostile_text_is_refused_or_stored_verbatim(app: TestApp) {
    let world = World::set_up(&app).await;
    let before = snapshot(&app);
    let (mut sent, mut stored, mut refused) = (0, 0, 0);
    let mut failures = Vec::new();
    for route in &world.routes {
        let schema = route.schema.as_deref().unwrap_or("");
        let probe = world.base(schema);
        let text_fields: Vec<Field> =
            world.fields(route, &probe).into_iter().filter(|f| matches!(f.kind, Kind::Text { .. })).collect();
        for field in &text_fields {
            for (name, text) in HOSTILE_TEXT {
                // A new record per request, so that an accepted void or
                // rename does not stop the next case from getting as far.
                let path = world.fresh_path(&app, route).await;
                let raw = serde_json::to_string(text).expect("text");
                let case =
                    Case::new(format!("{}: {name}", field.name()), with_field(&world.base(schema), &field.path, &raw));
                sent += 1;
                let label = format!("{} {path} [{}]", route.method, case.name);
                let answer = match send(&app, &world, route, &path, &case).await {
                    Ok(answer) => answer,
                    Err(error) => {
                        failures.push(format!("{label}: {error}"));
                        continue;
                    }
                };
                if (400..500).contains(&answer.status) {
                    refused += 1;
                    if let Err(why) = judge_refusal(&answer, None) {
                        failures.push(format!("{label}: {why}"));
                    }
                    continue;
                }
                if !(200..300).contains(&answer.status) {
                    failures.push(format!("{label}: {}", answer.summary()));
                    continue;
                }
                stored += 1;
                // Accepted: the text must be kept exactly as sent, unless the
                // field is write-only (passwords, recipient codes: only a hash is kept).
                let write_only = matches!(field.kind, Kind::Text { write_only: true });
                let body = answer.json();
                if write_only || body.is_null() || every_item_refused(&answer) {
                    continue;
                }
                if !contains_string(&body, text) {
                    failures.push(format!("{label}: accepted but not answered verbatim: {}", answer.summary()));
                    continue;
                }
                let record = answer.location.clone().or_else(|| {
                    let collection = route.collection().unwrap_or_else(|| route.template.clone());
                    body["id"].as_str().map(|id| format!("{collection}/{id}"))
                });
                let readable = record.as_deref().is_some_and(|r| {
                    let template = format!("{}/{{id}}", r.rsplit_once('/').map_or(r, |(c, _)| c));
                    world.doc["paths"][template.as_str()]["get"].is_object()
                });
                if let (Some(record), true) = (record, readable) {
                    let reply = app.get(&record, world.writer_token(route)).await;
                    if !reply.status.is_success() || !contains_string(&reply.body, text) {
                        failures
                            .push(format!("{label}: stored, but GET {record} answers {} {}", reply.status, reply.body));
                    }
                }
            }
        }
    }
    eprintln!(
        "hostile text on {:?}: {sent} requests, {stored} stored verbatim, {refused} refused, {} failures",
        app.backend,
        failures.len()
    );
    // Rows that existed before must all still be there, unchanged: the text
    // above could only add records (and rename or void the fresh ones it
    // made for itself). `stat_cells` holds running totals that new records
    // legitimately bump.
    let after = snapshot(&app);
    for (table, rows) in &before {
        if table == "stat_cells" {
            continue;
        }
        match after.get(table) {
            None => failures.push(format!("table {table} disappeared")),
            Some(now) => {
                let gone = missing(rows, now);
                if !gone.is_empty() {
                    failures.push(format!("{table}: {} rows changed or gone, e.g. {:?}", gone.len(), &gone[..1]));
                }
            }
        }
    }
    // Last (they change rows that existed before: stock allocation, a
    // batch's balance): the valid bodies the corpus starts from must
    // themselves be accepted, or the field cases prove little.
    for route in world.routes.iter().filter(|r| r.secured) {
        let path = world.fresh_path(&app, route).await;
        let body = world.base(route.schema.as_deref().unwrap_or(""));
        let reply = app.request(route.method.clone(), &path, Some(world.writer_token(route)), Some(&body)).await;
        let all_created = !reply.body["kit_issues"].is_array()
            || ["kit_issues", "reversals", "trainings"]
                .iter()
                .flat_map(|k| reply.body[k].as_array().cloned().unwrap_or_default())
                .all(|item| item["status"] == "created");
        if !reply.status.is_success() || !all_created {
            failures.push(format!("{} {path} [the valid base body]: {} {}", route.method, reply.status, reply.body));
        }
    }
    assert!(failures.is_empty(), "hostile text ({:?}):\n  {}", app.backend, failures.join("\n  "));
}
