//! Sending and judging.

use serde_json::{json, Value};

use super::corpus::{Auth, Case};
use super::routes::Route;
use super::snapshot::{differences, Snapshot};
use super::world::World;
use super::PROBLEM;
use crate::harness::TestApp;

pub(super) struct Answer {
    pub(super) status: u16,
    content_type: String,
    pub(super) location: Option<String>,
    body: Vec<u8>,
}

impl Answer {
    pub(super) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub(super) fn summary(&self) -> String {
        let body = String::from_utf8_lossy(&self.body);
        let cut: String = body.chars().take(300).collect();
        format!("{} {} {cut}", self.status, self.content_type)
    }
}

pub(super) async fn send(
    app: &TestApp,
    world: &World,
    route: &Route,
    path: &str,
    case: &Case,
) -> Result<Answer, String> {
    let mut request = app.client.request(route.method.clone(), app.url(path)).body(case.body.clone());
    match &case.auth {
        Auth::Writer if route.secured => request = request.bearer_auth(world.writer_token(route)),
        Auth::Writer => {}
        Auth::Header(Some(value)) => request = request.header("authorization", value),
        Auth::Header(None) => {}
    }
    if let Some(content_type) = &case.content_type {
        request = request.header("content-type", content_type);
    }
    for (name, value) in &case.headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.map_err(|e| format!("no answer: {e:?}"))?;
    let status = response.status().as_u16();
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let content_type = header("content-type").unwrap_or_default();
    let location = header("location");
    let body = response.bytes().await.map_err(|e| format!("body unreadable: {e}"))?.to_vec();
    Ok(Answer { status, content_type, location, body })
}

/// A 4xx problem+json with a `code` (and the status asked for, if any).
pub(super) fn judge_refusal(answer: &Answer, expect: Option<u16>) -> Result<(), String> {
    if !(400..500).contains(&answer.status) {
        return Err(format!("not refused: {}", answer.summary()));
    }
    if expect.is_some_and(|e| e != answer.status) {
        return Err(format!("expected {}, got {}", expect.unwrap_or_default(), answer.summary()));
    }
    if answer.content_type != PROBLEM {
        return Err(format!("not problem+json: {}", answer.summary()));
    }
    let body = answer.json();
    if body["code"].as_str().is_none_or(str::is_empty) {
        return Err(format!("no code: {}", answer.summary()));
    }
    if body["status"] != json!(answer.status) {
        return Err(format!("status in the body differs: {}", answer.summary()));
    }
    Ok(())
}

/// A batch (sync) answers 200 with a result per item: refusing every item stores nothing.
pub(super) fn every_item_refused(answer: &Answer) -> bool {
    let body = answer.json();
    let items: Vec<&Value> =
        body.as_object().into_iter().flatten().filter_map(|(_, v)| v.as_array()).flatten().collect();
    answer.status == 200 && !items.is_empty() && items.iter().all(|item| item["status"] == "invalid")
}

/// Sends each case and collects what went wrong.
pub(super) struct Run<'a> {
    app: &'a TestApp,
    world: &'a World,
    sent: usize,
    routes: std::collections::BTreeSet<String>,
    failures: Vec<String>,
}

impl<'a> Run<'a> {
    pub(super) fn new(app: &'a TestApp, world: &'a World) -> Self {
        Run { app, world, sent: 0, routes: Default::default(), failures: Vec::new() }
    }

    pub(super) async fn refused(&mut self, route: &Route, path: &str, case: &Case) {
        self.sent += 1;
        self.routes.insert(route.label());
        let verdict = match send(self.app, self.world, route, path, case).await {
            Ok(answer) if every_item_refused(&answer) && case.expect.is_none() => Ok(()),
            Ok(answer) => judge_refusal(&answer, case.expect),
            Err(error) => Err(error),
        };
        if let Err(why) = verdict {
            self.failures.push(format!("{} {path} [{}]: {why}", route.method, case.name));
        }
    }

    pub(super) fn finish(self, what: &str, before: &Snapshot, after: &Snapshot) {
        eprintln!(
            "{what} on {:?}: {} requests to {} write routes, {} failures",
            self.app.backend,
            self.sent,
            self.routes.len(),
            self.failures.len()
        );
        let changes = differences(before, after);
        let mut report = String::new();
        if !self.failures.is_empty() {
            report.push_str(&format!("{} hostile requests were not refused properly:\n", self.failures.len()));
            for failure in &self.failures {
                report.push_str(&format!("  {failure}\n"));
            }
        }
        if !changes.is_empty() {
            report.push_str("the database changed:\n");
            for change in &changes {
                report.push_str(&format!("  {change}\n"));
            }
        }
        assert!(report.is_empty(), "{what} ({:?}):\n{report}", self.app.backend);
    }
}
