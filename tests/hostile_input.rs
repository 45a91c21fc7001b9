//! Hostile input (issue #7): a corpus of bad requests sent to every write
//! route of the OpenAPI document. Each must be refused with a 4xx
//! `application/problem+json` answer carrying a `code`, never a 5xx, and
//! must leave the database exactly as it was.
//!
//! The routes come from `openapi::document()`, so a new write route gets the
//! whole corpus without anyone touching this file; its field-level cases come
//! from the route's request schema, mutating a valid body one field at a
//! time. Only the valid starting bodies ([`World::base`]) are written by
//! hand, per schema; a schema without one gets a body made from the schema.
//!
//! Four tests:
//! - hostile bodies (whole-body and per-field cases) with a valid token:
//!   all refused, database unchanged (compared row by row, every table);
//! - hostile tokens and path ids, with a body that a valid token would get
//!   stored: all refused, database unchanged;
//! - hostile *text* (SQL and script injection, NUL, control and odd Unicode
//!   characters) in free-text fields, where it may legitimately be stored:
//!   each is refused, or accepted and stored verbatim; no row that existed
//!   before is changed or lost;
//! - hostile statistics queries: never a 5xx.
//!
//! A failing corpus entry is named in the assertion message as
//! `METHOD /route [case]`, e.g. `POST /api/v1/kit-issues [quantity: 2^64]`.

mod common;

use std::cell::Cell;
use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use common::{TestApp, PASSWORD, PRENOXAD};
use diesel::prelude::*;
use naloxone_tracker::auth::tokens::TokenService;
use naloxone_tracker::auth::Role;
use naloxone_tracker::db::DbConnection;
use reqwest::Method;
use serde_json::{json, Value};

both_backends!(
    hostile_bodies_are_refused_and_change_nothing,
    hostile_tokens_and_ids_are_refused_and_change_nothing,
    hostile_text_is_refused_or_stored_verbatim,
    hostile_statistics_queries_never_fail_the_server,
);

/// The server's default body limit (`--body-limit-bytes`).
const BODY_LIMIT: usize = 1 << 20;
const JSON: &str = "application/json";
const PROBLEM: &str = "application/problem+json";
/// Stands in a body for a raw JSON fragment that `serde_json::Value` cannot hold (`1e400`, `-0`, …).
const PLACEHOLDER: &str = "\"\\u0001hostile\\u0001\"";

// ---------------------------------------------------------------------------
// Routes and schemas, from the OpenAPI document
// ---------------------------------------------------------------------------

/// A write route of the OpenAPI document.
#[derive(Debug, Clone)]
struct Route {
    method: Method,
    /// As documented: `/api/v1/kit-issues/{id}/void`.
    template: String,
    /// The request body's schema, e.g. `VoidRequest`.
    schema: Option<String>,
    /// Needs a bearer token.
    secured: bool,
}

impl Route {
    fn label(&self) -> String {
        format!("{} {}", self.method, self.template)
    }

    /// `/api/v1/kit-issues` for `/api/v1/kit-issues/{id}/void`; None without an `{id}`.
    fn collection(&self) -> Option<String> {
        self.template.find("/{id}").map(|at| self.template[..at].to_owned())
    }
}

fn write_routes(doc: &Value) -> Vec<Route> {
    let mut routes = Vec::new();
    for (template, operations) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in operations.as_object().expect("operations") {
            let method = match method.as_str() {
                "post" => Method::POST,
                "put" => Method::PUT,
                "patch" => Method::PATCH,
                "delete" => Method::DELETE,
                _ => continue,
            };
            let schema = operation["requestBody"]["content"]
                .as_object()
                .and_then(|content| content.values().next())
                .and_then(|media| media["schema"]["$ref"].as_str())
                .map(|r| r.rsplit('/').next().unwrap_or(r).to_owned());
            // `[]` or an empty requirement `{}` means no sign-in is needed.
            let requirements = operation["security"].as_array().cloned().unwrap_or_default();
            let secured =
                !requirements.is_empty() && requirements.iter().all(|r| r.as_object().is_some_and(|o| !o.is_empty()));
            routes.push(Route { method, template: template.clone(), schema, secured });
        }
    }
    assert!(routes.len() >= 20, "the OpenAPI document lists only {} write routes", routes.len());
    routes
}

/// What a JSON field holds, as far as hostile cases go.
#[derive(Debug, Clone)]
enum Kind {
    Text { write_only: bool },
    Uuid,
    DateTime,
    Date,
    Integer,
    Number,
    Boolean,
    Enum(Vec<String>),
    Array(Box<Kind>),
    Object(Value),
    Any,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// A field of a request body, possibly nested (`replacement.quantity`, `kit_issues[0].setting`).
#[derive(Debug, Clone)]
struct Field {
    path: Vec<Seg>,
    kind: Kind,
}

impl Field {
    fn name(&self) -> String {
        let mut name = String::new();
        for seg in &self.path {
            match seg {
                Seg::Key(key) if name.is_empty() => name.push_str(key),
                Seg::Key(key) => name.push_str(&format!(".{key}")),
                Seg::Index(i) => name.push_str(&format!("[{i}]")),
            }
        }
        name
    }

    fn last_key(&self) -> &str {
        self.path
            .iter()
            .rev()
            .find_map(|s| match s {
                Seg::Key(k) => Some(k.as_str()),
                Seg::Index(_) => None,
            })
            .unwrap_or_default()
    }
}

struct Schemas<'a>(&'a serde_json::Map<String, Value>);

impl<'a> Schemas<'a> {
    fn named(&self, name: &str) -> &'a Value {
        self.0.get(name).unwrap_or_else(|| panic!("no schema {name} in the OpenAPI document"))
    }

    fn resolve(&self, schema: &'a Value) -> &'a Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => self.resolve(self.named(r.rsplit('/').next().unwrap_or(r))),
            None => schema,
        }
    }

    fn kind_of(&self, schema: &Value) -> Kind {
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            return self.kind_of(self.named(r.rsplit('/').next().unwrap_or(r)));
        }
        for combinator in ["oneOf", "anyOf"] {
            if let Some(options) = schema.get(combinator).and_then(Value::as_array) {
                if let Some(option) = options.iter().find(|o| o.get("type") != Some(&json!("null"))) {
                    return match (self.kind_of(option), schema.get("writeOnly")) {
                        (Kind::Text { .. }, Some(Value::Bool(true))) => Kind::Text { write_only: true },
                        (kind, _) => kind,
                    };
                }
            }
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            return Kind::Enum(values.iter().filter_map(Value::as_str).map(str::to_owned).collect());
        }
        let ty = match schema.get("type") {
            Some(Value::String(t)) => t.as_str(),
            Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or(""),
            _ => "",
        };
        match (ty, schema.get("format").and_then(Value::as_str)) {
            ("string", Some("uuid")) => Kind::Uuid,
            ("string", Some("date-time")) => Kind::DateTime,
            ("string", Some("date")) => Kind::Date,
            ("string", _) => Kind::Text { write_only: schema.get("writeOnly") == Some(&json!(true)) },
            ("integer", _) => Kind::Integer,
            ("number", _) => Kind::Number,
            ("boolean", _) => Kind::Boolean,
            ("array", _) => Kind::Array(Box::new(self.kind_of(&schema["items"]))),
            ("object", _) => Kind::Object(schema.clone()),
            _ => Kind::Any,
        }
    }

    /// Every field of `schema`, and of the objects nested in `base` under it.
    fn fields(&self, schema: &Value, base: &Value, prefix: &[Seg], out: &mut Vec<Field>) {
        let schema = self.resolve(schema);
        let Some(properties) = schema["properties"].as_object() else { return };
        for (name, property) in properties {
            let mut path = prefix.to_vec();
            path.push(Seg::Key(name.clone()));
            let kind = self.kind_of(property);
            match (&kind, base.get(name)) {
                (Kind::Object(inner), Some(value)) if value.is_object() => self.fields(inner, value, &path, out),
                (Kind::Array(item), Some(Value::Array(items))) if !items.is_empty() => {
                    if let Kind::Object(inner) = item.as_ref() {
                        let mut element = path.clone();
                        element.push(Seg::Index(0));
                        self.fields(inner, &items[0], &element, out);
                    }
                }
                _ => {}
            }
            out.push(Field { path, kind });
        }
    }

    fn required(&self, name: &str) -> bool {
        self.named(name)["required"].as_array().is_some_and(|r| !r.is_empty())
    }
}

// ---------------------------------------------------------------------------
// The world the corpus is sent into
// ---------------------------------------------------------------------------

/// Who sends the corpus to a route: someone allowed to write there.
fn writer_of(template: &str) -> Who {
    let field_work = ["/api/v1/kit-issues", "/api/v1/reversals", "/api/v1/sync", "/api/v1/trainings"];
    if field_work.iter().any(|prefix| template.starts_with(prefix)) {
        Who::Fieldworker
    } else {
        Who::Admin
    }
}

#[derive(Debug, Clone, Copy)]
enum Who {
    Admin,
    /// A certified peer who is also a trainer: records handouts, reversals and trainings.
    Fieldworker,
}

struct World {
    doc: Value,
    routes: Vec<Route>,
    admin: String,
    admin_id: String,
    fieldworker: String,
    fieldworker_id: String,
    /// A peer who attends trainings and is certified on them.
    peer_id: String,
    area: String,
    organisation: String,
    commissioner_id: String,
    /// A signed-in user deactivated afterwards: the token is still well signed.
    deactivated_token: String,
    training: Option<String>,
    batch: Option<String>,
    /// A record of each collection that has `{id}` write routes.
    fixtures: BTreeMap<String, String>,
    secret: Vec<u8>,
    counter: Cell<u32>,
}

impl World {
    async fn set_up(app: &TestApp) -> World {
        let doc: Value =
            serde_json::from_str(&naloxone_tracker::openapi::document()).expect("the OpenAPI document is JSON");
        let routes = write_routes(&doc);
        let admin = app.admin().await;
        let admin_id = app.get("/api/v1/me", &admin).await.body["id"].as_str().expect("admin id").to_owned();
        let (area, organisation) = app.hub(&admin, "Hostile Input Hub").await;
        let (peer_id, _) = app.user(&admin, "peer@hostile.example", &["peer"], &organisation).await;
        let (fieldworker_id, fieldworker) =
            app.user(&admin, "fieldworker@hostile.example", &["peer", "trainer"], &organisation).await;
        app.create("/api/v1/certificates", &admin, json!({"user_id": fieldworker_id, "level": "peer_supplier"})).await;
        let commissioner_id = app
            .create(
                "/api/v1/users",
                &admin,
                json!({"email": "commissioner@hostile.example", "display_name": "Commissioner",
                       "password": PASSWORD, "roles": ["commissioner"], "area_id": area}),
            )
            .await;
        let (gone_id, deactivated_token) = app.user(&admin, "gone@hostile.example", &["peer"], &organisation).await;
        let reply = app.patch(&format!("/api/v1/users/{gone_id}"), &admin, json!({"active": false})).await;
        assert_eq!(reply.status, 200, "deactivate: {}", reply.body);
        let secret = std::fs::read(app.data_dir().join("jwt_secret")).expect("the generated JWT secret");

        let mut world = World {
            doc,
            routes,
            admin,
            admin_id,
            fieldworker,
            fieldworker_id,
            peer_id,
            area,
            organisation,
            commissioner_id,
            deactivated_token,
            training: None,
            batch: None,
            fixtures: BTreeMap::new(),
            secret,
            counter: Cell::new(0),
        };
        world.training = Some(world.fresh(app, "/api/v1/trainings").await);
        world.batch = Some(world.fresh(app, "/api/v1/batches").await);
        let collections: Vec<String> = world.routes.iter().filter_map(Route::collection).collect();
        for collection in collections {
            if !world.fixtures.contains_key(&collection) {
                let id = world.fresh(app, &collection).await;
                world.fixtures.insert(collection, id);
            }
        }
        world
    }

    fn schemas(&self) -> Schemas<'_> {
        Schemas(self.doc["components"]["schemas"].as_object().expect("component schemas"))
    }

    fn token(&self, who: Who) -> &str {
        match who {
            Who::Admin => &self.admin,
            Who::Fieldworker => &self.fieldworker,
        }
    }

    fn writer_token(&self, route: &Route) -> &str {
        self.token(writer_of(&route.template))
    }

    fn next(&self) -> u32 {
        self.counter.set(self.counter.get() + 1);
        self.counter.get()
    }

    /// A new record of `collection` (e.g. `/api/v1/areas`), made through its POST route: its id.
    async fn fresh(&self, app: &TestApp, collection: &str) -> String {
        let create = self
            .routes
            .iter()
            .find(|r| r.method == Method::POST && r.template == collection)
            .unwrap_or_else(|| panic!("no POST {collection} to make a record for its {{id}} routes"));
        let body = self.base(create.schema.as_deref().unwrap_or(""));
        let token = self.token(writer_of(collection));
        let reply = app.post(collection, token, body).await;
        assert!(reply.status.is_success(), "POST {collection}: {} {}", reply.status, reply.body);
        reply.body["id"].as_str().expect("the new record's id").to_owned()
    }

    /// The route's path, with the fixture of its collection for `{id}`.
    fn path(&self, route: &Route) -> String {
        match route.collection() {
            Some(collection) => route.template.replace("{id}", &self.fixtures[&collection]),
            None => route.template.clone(),
        }
    }

    fn kit_issue(&self, replacement: bool) -> Value {
        let mut kit = json!({
            "id": uuid::Uuid::new_v4(),
            "issued_at": now(),
            "area_id": self.area,
            "postcode_district": "KA1",
            "setting": "outreach",
            "product_id": PRENOXAD,
            "quantity": 1,
            "recipient_type": "person_at_risk",
            "consent_recorded": true,
            "supply": "first",
            "brief_training_given": true,
            "recipient_code": "SMI0412",
            "age_band": "25_to_34",
            "gender": "female",
        });
        if replacement {
            kit["supply"] = json!("repeat");
            kit["repeat_reason"] = json!("used_on_overdose");
        }
        kit
    }

    fn reversal(&self, with_replacement: bool) -> Value {
        let mut report = json!({
            "id": uuid::Uuid::new_v4(),
            "occurred_at": now(),
            "area_id": self.area,
            "postcode_district": "KA1",
            "place": "street_or_park",
            "administered_by": "kit_recipient",
            "product_id": PRENOXAD,
            "doses": 2,
            "emergency_services_called": "yes",
            "ambulance_attended": "yes",
            "rescue_breaths_or_cpr": "no",
            "outcome": "survived",
            "age_band": "35_to_44",
            "gender": "male",
        });
        if with_replacement {
            report["replacement"] = self.kit_issue(true);
        }
        report
    }

    /// A valid body of `schema`, new each time (fresh ids, unique names), which
    /// the route's writer could get stored — except the sign-in bodies, which
    /// name no account and no session.
    fn base(&self, schema: &str) -> Value {
        let n = self.next();
        let today = chrono::Utc::now().date_naive();
        match schema {
            "LoginRequest" => json!({"email": "nobody@hostile.example", "password": "not the password"}),
            "RefreshRequest" => json!({"refresh_token": "not-a-refresh-token"}),
            "NewArea" => json!({"name": format!("Area {n}"), "parent_id": self.area, "population_at_risk": 250}),
            "AreaPatch" => json!({"name": format!("Area {n} renamed"), "population_at_risk": 300}),
            "NewOrganisation" => json!({"name": format!("Organisation {n}"), "kind": "lero",
                                        "area_id": self.area, "tracks_stock": false}),
            "OrganisationPatch" => json!({"name": format!("Organisation {n} renamed"), "kind": "drug_service",
                                          "area_id": self.area, "tracks_stock": false}),
            "NewUser" => json!({"email": format!("user{n}@hostile.example"), "display_name": format!("User {n}"),
                                "password": PASSWORD, "roles": ["peer"], "organisation_id": self.organisation,
                                "active": true}),
            "UserPatch" => json!({"email": format!("user{n}.b@hostile.example"), "display_name": format!("User {n} B"),
                                  "password": "another long passphrase", "roles": ["peer"],
                                  "organisation_id": self.organisation, "active": true}),
            "NewProduct" => json!({"name": format!("Product {n}"), "route": "intranasal", "doses_per_kit": 2,
                                   "mg_per_dose": 1.8}),
            "NewTraining" => json!({"id": uuid::Uuid::new_v4(), "delivered_on": today.to_string(), "kind": "awareness",
                                    "setting": "hub", "attendee_ids": [self.peer_id], "anonymous_attendees": 2,
                                    "kits_handed_out": 1}),
            "TrainingPatch" => json!({"delivered_on": today.to_string(), "kind": "refresher", "setting": "outreach",
                                      "attendee_ids": [self.peer_id], "anonymous_attendees": 3, "kits_handed_out": 2}),
            "VoidRequest" => json!({"reason": format!("entered twice ({n})")}),
            "NewCertificate" => {
                json!({"user_id": self.peer_id, "level": "peer_supplier", "training_id": self.training})
            }
            "NewBatch" => json!({"product_id": PRENOXAD, "lot_number": format!("LOT-{n}"),
                                 "expires_on": (today + chrono::Duration::days(365)).to_string(), "quantity": 50,
                                 "organisation_id": self.organisation}),
            "NewMovement" => json!({"kind": "allocate", "batch_id": self.batch, "user_id": self.fieldworker_id,
                                    "quantity": 1}),
            "NewKitIssue" => self.kit_issue(false),
            "KitIssuePatch" => json!({"issued_at": now(), "area_id": self.area, "postcode_district": "KA3",
                                      "setting": "event", "product_id": PRENOXAD, "quantity": 2,
                                      "recipient_type": "person_at_risk", "supply": "first",
                                      "brief_training_given": false, "age_band": "45_to_54", "gender": "not_stated"}),
            "NewReversal" => self.reversal(true),
            "ReversalPatch" => json!({"occurred_at": now(), "area_id": self.area, "postcode_district": "KA2",
                                      "place": "hostel", "administered_by": "reporting_peer", "product_id": PRENOXAD,
                                      "doses": 1, "emergency_services_called": "no", "ambulance_attended": "unknown",
                                      "rescue_breaths_or_cpr": "yes", "outcome": "unknown", "age_band": "18_to_24",
                                      "gender": "other"}),
            "SyncRequest" => json!({"kit_issues": [self.kit_issue(false)], "reversals": [self.reversal(false)],
                                    "trainings": [self.base("NewTraining")]}),
            "" => json!({}),
            other => self.synthesise(self.schemas().named(other)),
        }
    }

    /// A body for a schema this file does not know yet: every required field
    /// with a plausible value.
    fn synthesise(&self, schema: &Value) -> Value {
        let schemas = self.schemas();
        let schema = schemas.resolve(schema);
        let mut body = serde_json::Map::new();
        let required: Vec<&str> =
            schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        for (name, property) in schema["properties"].as_object().into_iter().flatten() {
            if !required.contains(&name.as_str()) {
                continue;
            }
            let value = match schemas.kind_of(property) {
                Kind::Uuid => match name.as_str() {
                    "area_id" => json!(self.area),
                    "organisation_id" => json!(self.organisation),
                    "product_id" => json!(PRENOXAD),
                    "user_id" => json!(self.peer_id),
                    "batch_id" => json!(self.batch),
                    "training_id" => json!(self.training),
                    _ => json!(uuid::Uuid::new_v4()),
                },
                Kind::DateTime => json!(now()),
                Kind::Date => json!(chrono::Utc::now().date_naive().to_string()),
                Kind::Integer | Kind::Number => json!(1),
                Kind::Boolean => json!(true),
                Kind::Enum(values) => json!(values[0]),
                Kind::Text { .. } => json!(format!("text {}", self.next())),
                Kind::Array(_) => json!([]),
                Kind::Object(inner) => self.synthesise(&inner),
                Kind::Any => Value::Null,
            };
            body.insert(name.clone(), value);
        }
        Value::Object(body)
    }

    fn fields(&self, route: &Route, base: &Value) -> Vec<Field> {
        let mut fields = Vec::new();
        if let Some(schema) = &route.schema {
            self.schemas().fields(self.schemas().named(schema), base, &[], &mut fields);
        }
        fields
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

// ---------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------

/// One hostile request: a raw body, its content type and headers, and the token it carries.
struct Case {
    name: String,
    body: Vec<u8>,
    content_type: Option<String>,
    headers: Vec<(&'static str, String)>,
    auth: Auth,
    /// The exact status the refusal must have, when one is right (413, 415, 401);
    /// otherwise any 4xx.
    expect: Option<u16>,
}

#[derive(Clone)]
enum Auth {
    /// The route's writer, signed in properly.
    Writer,
    /// This `Authorization` header, or none.
    Header(Option<String>),
}

impl Case {
    fn new(name: impl Into<String>, body: impl Into<Vec<u8>>) -> Self {
        Case {
            name: name.into(),
            body: body.into(),
            content_type: Some(JSON.to_owned()),
            headers: Vec::new(),
            auth: Auth::Writer,
            expect: None,
        }
    }

    fn content_type(mut self, content_type: Option<&str>) -> Self {
        self.content_type = content_type.map(str::to_owned);
        self
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    fn expect(mut self, status: u16) -> Self {
        self.expect = Some(status);
        self
    }

    fn expect_some(mut self, status: Option<u16>) -> Self {
        self.expect = status;
        self
    }

    fn auth(mut self, header: Option<String>) -> Self {
        self.auth = Auth::Header(header);
        self
    }
}

/// A valid JSON body padded with white space to one byte over the limit:
/// only the limit stands between it and the database.
fn oversized(base: &[u8]) -> Vec<u8> {
    let mut body = base.to_vec();
    body.resize(BODY_LIMIT + 1, b' ');
    body
}

/// A gzip stream of `size` spaces, a few hundred kilobytes long: a fixed
/// Huffman block of one literal and repeated copies (length 258, distance 1).
/// The limit must apply to what it inflates to, not to its own size.
fn gzip_bomb(size: usize) -> Vec<u8> {
    struct Bits {
        out: Vec<u8>,
        acc: u8,
        used: u32,
    }
    impl Bits {
        fn bit(&mut self, bit: u32) {
            self.acc |= ((bit & 1) as u8) << self.used;
            self.used += 1;
            if self.used == 8 {
                self.out.push(self.acc);
                (self.acc, self.used) = (0, 0);
            }
        }
        /// Header fields go least significant bit first…
        fn value(&mut self, value: u32, bits: u32) {
            (0..bits).for_each(|i| self.bit(value >> i));
        }
        /// …Huffman codes most significant bit first.
        fn code(&mut self, code: u32, bits: u32) {
            (0..bits).rev().for_each(|i| self.bit(code >> i));
        }
    }
    let mut bits = Bits { out: Vec::new(), acc: 0, used: 0 };
    bits.value(1, 1); // the final block
    bits.value(1, 2); // fixed Huffman codes
    bits.code(0x30 + u32::from(b' '), 8);
    for _ in 0..(size - 1) / 258 {
        bits.code(0b1100_0101, 8); // length 258 (code 285)
        bits.code(0, 5); // distance 1
    }
    bits.code(0, 7); // end of block
    if bits.used > 0 {
        bits.out.push(bits.acc);
    }
    let mut gzip = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    gzip.extend(bits.out);
    gzip.extend(0u32.to_le_bytes()); // CRC-32: never reached, the limit comes first
    gzip.extend((size as u32).to_le_bytes());
    gzip
}

fn bomb() -> &'static [u8] {
    static BOMB: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BOMB.get_or_init(|| gzip_bomb(64 << 20))
}

/// Hostile bodies that need nothing of the route but a valid body to start from.
fn whole_body_cases(base: &Value, has_required_fields: bool) -> Vec<Case> {
    let valid = serde_json::to_vec(base).expect("base body");
    let text = String::from_utf8(valid.clone()).expect("UTF-8");
    let first_key = base.as_object().and_then(|o| o.keys().next().cloned());
    let mut cases = vec![
        Case::new("body one byte over the 1 MiB limit", oversized(&valid)).expect(413),
        Case::new("gzip bomb: 64 MiB of spaces in 420 kB", bomb().to_vec())
            .header("content-encoding", "gzip")
            .expect(413),
        Case::new("content-encoding gzip on a plain body", valid.clone()).header("content-encoding", "gzip"),
        Case::new("empty body", Vec::new()),
        Case::new("null", "null"),
        Case::new("true", "true"),
        Case::new("a number", "42"),
        Case::new("a string", "\"text\""),
        Case::new("an empty array instead of an object", "[]"),
        Case::new("the body wrapped in an array", format!("[{text}]")),
        Case::new("100k nested arrays", "[".repeat(100_000)),
        Case::new("100k nested objects", "{\"a\":".repeat(100_000)),
        Case::new("1000 balanced nested arrays", format!("{}{}", "[".repeat(1000), "]".repeat(1000))),
        Case::new("300k-element array", format!("[{}0]", "0,".repeat(300_000))),
        Case::new("60k unknown keys", {
            let keys: Vec<String> = (0..60_000).map(|i| format!("\"k{i}\":0")).collect();
            format!("{{{}}}", keys.join(","))
        }),
        Case::new("a 900 kB string", format!("\"{}\"", "x".repeat(900_000))),
        Case::new("1e400 as the body", "1e400"),
        Case::new("invalid UTF-8 (FF FE) in a string", {
            let mut body = br#"{"name": "abc"#.to_vec();
            body.extend([0xff, 0xfe]);
            body.extend(br#""}"#);
            body
        }),
        Case::new("invalid UTF-8 before the body", [&[0xc3, 0x28][..], &valid].concat()),
        Case::new("overlong UTF-8 for '/' (C0 AF)", [&b"{\"a\":\"\xc0\xaf\"}"[..]].concat()),
        Case::new("UTF-16 surrogate encoded in UTF-8 (ED A0 80)", &b"{\"a\":\"\xed\xa0\x80\"}"[..]),
        Case::new("the body in UTF-16LE with a BOM", {
            let mut body = vec![0xff, 0xfe];
            body.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
            body
        }),
        Case::new("UTF-8 BOM before a valid body", [&[0xef, 0xbb, 0xbf][..], &valid].concat()),
        Case::new("raw NUL byte inside a string", text.replacen("\":", "\u{0}\":", 1)),
        Case::new("raw NUL byte between tokens", text.replacen('{', "{\u{0}", 1)),
        Case::new("1000 NUL bytes", vec![0u8; 1000]),
        // Regression (hostile-1): both were once stored; `extract::decode_json`
        // did not check that the body ends after the JSON value.
        Case::new("trailing garbage", format!("{text}xyz")),
        Case::new("two bodies in a row", format!("{text}{text}")),
        Case::new("truncated body", text[..text.len() / 2].to_owned()),
        Case::new("a comment before the body", format!("/* hi */{text}")),
        Case::new("single-quoted JSON", text.replace('"', "'")),
        Case::new("NaN and Infinity literals", "{\"a\": NaN, \"b\": Infinity}"),
        Case::new("an unknown field", add_member(&text, "\"is_admin\":true")),
        Case::new("__proto__ pollution", add_member(&text, "\"__proto__\":{\"admin\":true}")),
        Case::new("wrong content type: text/plain", valid.clone()).content_type(Some("text/plain")).expect(415),
        Case::new("wrong content type: form", "name=x&quantity=1")
            .content_type(Some("application/x-www-form-urlencoded"))
            .expect(415),
        Case::new("wrong content type: multipart", valid.clone())
            .content_type(Some("multipart/form-data; boundary=x"))
            .expect(415),
        Case::new("wrong content type: application/xml", "<a>1</a>").content_type(Some("application/xml")).expect(415),
        Case::new("wrong content type: application/jsonp", valid.clone())
            .content_type(Some("application/jsonp"))
            .expect(415),
        Case::new("garbage content type", valid.clone()).content_type(Some(";;;=/")).expect(415),
        Case::new("no content type", valid.clone()).content_type(None).expect(415),
    ];
    if let Some(key) = first_key {
        let value = serde_json::to_string(&base[&key]).expect("value");
        cases.push(Case::new(format!("duplicate key {key:?}"), add_member(&text, &format!("{key:?}:{value}"))));
        cases.push(Case::new(
            format!("10k-deep nesting in {key:?}"),
            text.replacen(&format!("{key:?}:"), &format!("{key:?}:{}", "[".repeat(10_000)), 1),
        ));
    }
    if has_required_fields {
        // Bodies without required fields could be harmless no-ops (an empty PATCH).
        cases.push(Case::new("an empty object", "{}"));
        let nulls: serde_json::Map<String, Value> =
            base.as_object().into_iter().flatten().map(|(k, _)| (k.clone(), Value::Null)).collect();
        cases.push(Case::new("every field null", serde_json::to_vec(&nulls).expect("nulls")));
    }
    cases
}

/// `{…}` with one more member before its closing brace.
fn add_member(object: &str, member: &str) -> String {
    let inner = object.trim_end().strip_suffix('}').expect("an object");
    if inner.trim_end().ends_with('{') {
        format!("{inner}{member}}}")
    } else {
        format!("{inner},{member}}}")
    }
}

/// A field set to a raw JSON fragment. In or at a top-level list (a sync
/// batch), the other lists are emptied, so that nothing valid beside the
/// hostile value is stored.
fn with_field(base: &Value, path: &[Seg], raw: &str) -> Vec<u8> {
    let mut body = base.clone();
    if let Some(Seg::Key(list)) = path.first().filter(|_| base[path_key(path)][0].is_object()) {
        if let Some(object) = body.as_object_mut() {
            for (key, value) in object.iter_mut() {
                if key != list && value.is_array() {
                    *value = json!([]);
                }
            }
        }
    }
    let mut slot = &mut body;
    for seg in path {
        slot = match seg {
            Seg::Key(key) => {
                if !slot.is_object() {
                    *slot = json!({});
                }
                slot.as_object_mut().expect("object").entry(key.clone()).or_insert(Value::Null)
            }
            Seg::Index(i) => &mut slot[*i],
        };
    }
    *slot = serde_json::from_str(PLACEHOLDER).expect("placeholder");
    serde_json::to_string(&body).expect("body").replacen(PLACEHOLDER, raw, 1).into_bytes()
}

fn path_key(path: &[Seg]) -> &str {
    match path.first() {
        Some(Seg::Key(key)) => key,
        _ => "",
    }
}

const INJECTIONS: [&str; 4] =
    ["'; DROP TABLE users;--", "<script>alert(1)</script>", "1 OR 1=1", "${jndi:ldap://example.org/a}"];

/// Values a field of this kind must refuse: wrong types, numbers no integer
/// type holds, unknown enum values, injection strings where only an id, a
/// date or an enum value can go. `own_id` is the id in the route's path.
fn refused_values(field: &Field, own_id: Option<&str>) -> Vec<(String, String)> {
    let quoted = |s: &str| serde_json::to_string(s).expect("string");
    let mut values: Vec<(String, String)> = Vec::new();
    let mut add = |name: &str, raw: String| values.push((name.to_owned(), raw));
    let injections = |add: &mut dyn FnMut(&str, String)| {
        for injection in INJECTIONS {
            add(&format!("injection {injection:?}"), quoted(injection));
        }
    };
    match &field.kind {
        Kind::Text { .. } => {
            add("a number for a string", "12345".into());
            add("true for a string", "true".into());
            add("an object for a string", "{}".into());
            add("an array for a string", "[\"x\"]".into());
            add("an empty string", "\"\"".into());
            add("a lone surrogate escape", "\"\\ud800\"".into());
            add("100k characters", quoted(&"x".repeat(100_000)));
        }
        Kind::Uuid => {
            add("a number for an id", "12345".into());
            add("an object for an id", "{}".into());
            add("an array for an id", "[]".into());
            add("not a uuid", quoted("not-a-uuid"));
            add("an empty id", "\"\"".into());
            add("a uuid with a NUL", quoted("\u{0}0000000-0000-0000-0000-000000000000"));
            add("a uuid with a bad digit", quoted("00000000-0000-0000-0000-00000000000g"));
            injections(&mut add);
            if field.last_key() != "id" {
                add("a record that does not exist", quoted(&uuid::Uuid::new_v4().to_string()));
                if let Some(own) = own_id {
                    add("the record's own id", quoted(own));
                }
            }
        }
        Kind::DateTime => {
            add("a number for a time", "1700000000".into());
            add("an object for a time", "{}".into());
            add("not a time", quoted("last night"));
            add("30 February", quoted("2026-02-30T10:00:00Z"));
            add("hour 25", quoted("2026-11-23T25:61:00Z"));
            add("no time zone", quoted("2026-11-23T10:15:00"));
            add("far future", quoted("9999-12-31T23:59:59Z"));
            add("year +275760", quoted("+275760-09-13T00:00:00Z"));
            add("year -1", quoted("-0001-01-01T00:00:00Z"));
            add("1970", quoted("1970-01-01T00:00:00Z"));
            add("an empty time", "\"\"".into());
            injections(&mut add);
        }
        Kind::Date => {
            add("a number for a date", "20261123".into());
            add("not a date", quoted("tomorrow"));
            add("30 February", quoted("2026-02-30"));
            add("month 13", quoted("2026-13-01"));
            add("a date with a time", quoted("2026-11-23T10:00:00Z"));
            // Regression (hostile-2): `NewBatch.expires_on` once took all three
            // (PostgreSQL: 500 for year -262143).
            add("year +262142", quoted("+262142-12-31"));
            add("year -262143", quoted("-262143-01-01"));
            add("year 0", quoted("0000-01-01"));
            add("an empty date", "\"\"".into());
            injections(&mut add);
        }
        Kind::Integer => {
            add("a string for a number", quoted("1"));
            add("a fraction", "1.5".into());
            add("1e2 (a float)", "1e2".into());
            add("true for a number", "true".into());
            add("an object for a number", "{}".into());
            add("an array for a number", "[1]".into());
            add("1e400", "1e400".into());
            add("-1e400", "-1e400".into());
            add("2^64", "18446744073709551616".into());
            add("-2^63-1", "-9223372036854775809".into());
            add("10^30", "1000000000000000000000000000000".into());
            add("2^31", "2147483648".into());
            add("-2^31-1", "-2147483649".into());
            add("-1", "-1".into());
            add("-0", "-0".into());
            add("NaN", "NaN".into());
        }
        Kind::Number => {
            add("a string for a number", quoted("1.8"));
            add("true for a number", "true".into());
            add("an object for a number", "{}".into());
            add("1e400", "1e400".into());
            add("-1e400", "-1e400".into());
            add("1e-400 (rounds to 0)", "1e-400".into());
            add("-0", "-0".into());
            add("-0.0", "-0.0".into());
            add("2^64", "18446744073709551616".into());
            add("10^30", "1000000000000000000000000000000".into());
            add("-1", "-1".into());
            add("NaN", "NaN".into());
            add("Infinity", "Infinity".into());
        }
        Kind::Boolean => {
            add("a string for a boolean", quoted("true"));
            add("1 for a boolean", "1".into());
            add("0 for a boolean", "0".into());
            add("an object for a boolean", "{}".into());
            add("an array for a boolean", "[true]".into());
        }
        Kind::Enum(known) => {
            let first = known.first().cloned().unwrap_or_default();
            add("a number for an enum", "1".into());
            add("true for an enum", "true".into());
            add("an object for an enum", "{}".into());
            add("an array for an enum", format!("[{}]", quoted(&first)));
            add("an unknown value", quoted("not_a_value"));
            add("an empty value", "\"\"".into());
            add("a known value in capitals", quoted(&first.to_uppercase()));
            add("a known value and a space", quoted(&format!("{first} ")));
            add("a known value and a NUL", quoted(&format!("{first}\u{0}")));
            injections(&mut add);
        }
        Kind::Array(item) => {
            add("an object for an array", "{}".into());
            add("a string for an array", quoted("x"));
            add("a number for an array", "1".into());
            add("an array of null", "[null]".into());
            add("an array of objects", "[{}]".into());
            add("an array holding 1e400", "[1e400]".into());
            match item.as_ref() {
                Kind::Uuid => {
                    add("an array holding a non-uuid", format!("[{}]", quoted("not-a-uuid")));
                    add("an array holding an injection", format!("[{}]", quoted(INJECTIONS[0])));
                    add(
                        "an array holding a record that does not exist",
                        format!("[{}]", quoted(&uuid::Uuid::new_v4().to_string())),
                    );
                    let nil = quoted(&uuid::Uuid::nil().to_string());
                    add("10,001 ids", format!("[{}]", vec![nil; 10_001].join(",")));
                }
                Kind::Enum(_) => {
                    add("an array holding an unknown value", format!("[{}]", quoted("superuser")));
                    add("an array holding an injection", format!("[{}]", quoted(INJECTIONS[0])));
                    add("an empty array", "[]".into());
                }
                _ => {}
            }
        }
        Kind::Object(_) => {
            add("an array for an object", "[]".into());
            add("a string for an object", quoted("x"));
            add("a number for an object", "1".into());
            add("an empty object", "{}".into());
        }
        Kind::Any => {
            add("an operator object", "{\"$ne\": null}".into());
        }
    }
    values
}

/// Field-level cases: each field of the route's body set to each value it
/// must refuse, each in a body of its own (new ids), so that one case
/// wrongly accepted does not turn the next into a duplicate.
fn field_cases(world: &World, route: &Route, own_id: Option<&str>) -> Vec<Case> {
    let schema = route.schema.as_deref().unwrap_or("");
    let mut cases = Vec::new();
    for field in world.fields(route, &world.base(schema)) {
        for (name, raw) in refused_values(&field, own_id) {
            let body = with_field(&world.base(schema), &field.path, &raw);
            cases.push(Case::new(format!("{}: {name}", field.name()), body));
        }
    }
    cases
}

/// Tokens that must not get anyone in.
fn token_attacks(world: &World, app_secret: &[u8]) -> Vec<(String, Option<String>, Option<u16>)> {
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    let admin_roles = [Role::Admin];
    let bearer = |token: String| Some(format!("Bearer {token}"));
    let signed = |header: Header, claims: &Value, key: &[u8]| {
        encode(&header, claims, &EncodingKey::from_secret(key)).expect("token signed")
    };
    let unix = chrono::Utc::now().timestamp();
    let claims = |sub: &str| json!({"sub": sub, "iat": unix, "exp": unix + 900, "jti": "hostile", "iss": "naloxone-tracker", "roles": ["admin"]});
    let unsigned = |header: &str, claims: &Value| {
        format!("{}.{}.", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(claims.to_string()))
    };
    let genuine = TokenService::new(app_secret, 900).issue_access(&world.admin_id, &admin_roles).expect("token");
    let genuine_parts: Vec<&str> = genuine.split('.').collect();
    let mut tampered_claims = claims(&world.admin_id);
    tampered_claims["jti"] = json!("tampered");
    let tampered =
        format!("{}.{}.{}", genuine_parts[0], URL_SAFE_NO_PAD.encode(tampered_claims.to_string()), genuine_parts[2]);
    let mut wrong_issuer = claims(&world.admin_id);
    wrong_issuer["iss"] = json!("someone-else");
    let mut no_expiry = claims(&world.admin_id);
    no_expiry.as_object_mut().expect("claims").remove("exp");
    let mut kid_header = Header::new(Algorithm::HS256);
    kid_header.kid = Some("../../../../dev/null".into());
    vec![
        ("no Authorization header".into(), None, Some(401)),
        ("an empty bearer token".into(), Some("Bearer ".into()), Some(401)),
        ("a garbage bearer token".into(), bearer("garbage".into()), Some(401)),
        ("three empty segments".into(), bearer("..".into()), Some(401)),
        ("Basic credentials".into(), Some("Basic YWRtaW46YWRtaW4=".into()), Some(401)),
        ("a 16 KiB garbage token".into(), bearer("A".repeat(16 << 10)), Some(401)),
        (
            "expired an hour ago".into(),
            bearer(TokenService::new(app_secret, -3600).issue_access(&world.admin_id, &admin_roles).expect("token")),
            Some(401),
        ),
        (
            "signed with another secret".into(),
            bearer(TokenService::new(&[0x42; 64], 900).issue_access(&world.admin_id, &admin_roles).expect("token")),
            Some(401),
        ),
        (
            "alg none, no signature".into(),
            bearer(unsigned(r#"{"alg":"none","typ":"JWT"}"#, &claims(&world.admin_id))),
            Some(401),
        ),
        (
            "alg none with a genuine signature".into(),
            bearer(format!(
                "{}{}",
                unsigned(r#"{"alg":"none","typ":"JWT"}"#, &claims(&world.admin_id)),
                genuine_parts[2]
            )),
            Some(401),
        ),
        ("alg NONE, no signature".into(), bearer(unsigned(r#"{"alg":"NONE"}"#, &claims(&world.admin_id))), Some(401)),
        (
            "HS512 with the server's secret".into(),
            bearer(signed(Header::new(Algorithm::HS512), &claims(&world.admin_id), app_secret)),
            Some(401),
        ),
        ("claims changed under a genuine signature".into(), bearer(tampered), Some(401)),
        ("wrong issuer".into(), bearer(signed(Header::new(Algorithm::HS256), &wrong_issuer, app_secret)), Some(401)),
        ("no expiry".into(), bearer(signed(Header::new(Algorithm::HS256), &no_expiry, app_secret)), Some(401)),
        (
            "a kid pointing at /dev/null, signed with another secret".into(),
            bearer(signed(kid_header, &claims(&world.admin_id), &[0u8; 32])),
            Some(401),
        ),
        (
            "well signed, for a user that does not exist".into(),
            bearer(signed(Header::new(Algorithm::HS256), &claims(&uuid::Uuid::new_v4().to_string()), app_secret)),
            Some(401),
        ),
        (
            "well signed, subject an SQL injection".into(),
            bearer(signed(Header::new(Algorithm::HS256), &claims("' OR '1'='1"), app_secret)),
            Some(401),
        ),
        // Regression (hostile-3): PostgreSQL once answered 500 (it refuses NUL in text).
        (
            "well signed, subject with a NUL".into(),
            bearer(signed(Header::new(Algorithm::HS256), &claims("\u{0}"), app_secret)),
            Some(401),
        ),
        (
            "a commissioner's token claiming the admin role".into(),
            bearer(signed(Header::new(Algorithm::HS256), &claims(&world.commissioner_id), app_secret)),
            // 403, 404 (a record they may not see) or, for a batch, every item refused.
            None,
        ),
        ("a deactivated user's token".into(), bearer(world.deactivated_token.clone()), Some(401)),
        ("a genuine token with junk after it".into(), bearer(format!("{}.junk", world.fieldworker)), Some(401)),
    ]
    .into_iter()
    .filter(|(_, header, _)| header.as_ref().is_none_or(|h| reqwest::header::HeaderValue::from_str(h).is_ok()))
    .collect()
}

// ---------------------------------------------------------------------------
// Sending and judging
// ---------------------------------------------------------------------------

struct Answer {
    status: u16,
    content_type: String,
    location: Option<String>,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    fn summary(&self) -> String {
        let body = String::from_utf8_lossy(&self.body);
        let cut: String = body.chars().take(300).collect();
        format!("{} {} {cut}", self.status, self.content_type)
    }
}

async fn send(app: &TestApp, world: &World, route: &Route, path: &str, case: &Case) -> Result<Answer, String> {
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
fn judge_refusal(answer: &Answer, expect: Option<u16>) -> Result<(), String> {
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
fn every_item_refused(answer: &Answer) -> bool {
    let body = answer.json();
    let items: Vec<&Value> =
        body.as_object().into_iter().flatten().filter_map(|(_, v)| v.as_array()).flatten().collect();
    answer.status == 200 && !items.is_empty() && items.iter().all(|item| item["status"] == "invalid")
}

/// Sends each case and collects what went wrong.
struct Run<'a> {
    app: &'a TestApp,
    world: &'a World,
    sent: usize,
    routes: std::collections::BTreeSet<String>,
    failures: Vec<String>,
}

impl<'a> Run<'a> {
    fn new(app: &'a TestApp, world: &'a World) -> Self {
        Run { app, world, sent: 0, routes: Default::default(), failures: Vec::new() }
    }

    async fn refused(&mut self, route: &Route, path: &str, case: &Case) {
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

    fn finish(self, what: &str, before: &Snapshot, after: &Snapshot) {
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

// ---------------------------------------------------------------------------
// The database, every row of every table
// ---------------------------------------------------------------------------

type Snapshot = BTreeMap<String, Vec<String>>;

#[derive(QueryableByName)]
struct NameRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

#[derive(QueryableByName)]
struct TextRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    row: String,
}

/// Every table's rows as text, sorted.
fn snapshot(app: &TestApp) -> Snapshot {
    app.db
        .run_blocking(|conn| {
            let mut tables = Snapshot::new();
            match conn {
                DbConnection::Sqlite(conn) => {
                    let names: Vec<NameRow> = diesel::sql_query(
                        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
                    )
                    .load(conn)?;
                    for NameRow { name } in names {
                        let columns: Vec<NameRow> =
                            diesel::sql_query(format!("SELECT name FROM pragma_table_info('{name}') ORDER BY cid"))
                                .load(conn)?;
                        let row = columns.iter().map(|c| format!("quote(\"{}\")", c.name)).collect::<Vec<_>>();
                        let sql = format!("SELECT {} AS row FROM \"{name}\"", row.join(" || '|' || "));
                        let rows: Vec<TextRow> = diesel::sql_query(sql).load(conn)?;
                        tables.insert(name, rows.into_iter().map(|r| r.row).collect());
                    }
                }
                DbConnection::Postgresql(conn) => {
                    let names: Vec<NameRow> = diesel::sql_query(
                        "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1",
                    )
                    .load(conn)?;
                    for NameRow { name } in names {
                        let rows: Vec<TextRow> =
                            diesel::sql_query(format!("SELECT t::text AS row FROM \"{name}\" AS t")).load(conn)?;
                        tables.insert(name, rows.into_iter().map(|r| r.row).collect());
                    }
                }
            }
            for rows in tables.values_mut() {
                rows.sort();
            }
            Ok(tables)
        })
        .expect("database snapshot")
}

/// Rows of `a` missing from `b`, as a multiset.
fn missing(a: &[String], b: &[String]) -> Vec<String> {
    let mut left: BTreeMap<&String, usize> = BTreeMap::new();
    for row in b {
        *left.entry(row).or_default() += 1;
    }
    a.iter()
        .filter(|row| match left.get_mut(row) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        })
        .cloned()
        .collect()
}

fn differences(before: &Snapshot, after: &Snapshot) -> Vec<String> {
    let mut changes = Vec::new();
    let empty = Vec::new();
    for table in before.keys().chain(after.keys()).collect::<std::collections::BTreeSet<_>>() {
        let (old, new) = (before.get(table), after.get(table));
        if old.is_none() || new.is_none() {
            changes.push(format!("table {table} {}", if old.is_none() { "appeared" } else { "disappeared" }));
            continue;
        }
        let (old, new) = (old.unwrap_or(&empty), new.unwrap_or(&empty));
        let (gone, added) = (missing(old, new), missing(new, old));
        if !gone.is_empty() || !added.is_empty() {
            let sample = |rows: &[String]| {
                rows.iter().take(3).map(|r| r.chars().take(200).collect::<String>()).collect::<Vec<_>>()
            };
            changes.push(format!(
                "{table}: {} rows gone {:?}, {} rows new {:?}",
                gone.len(),
                sample(&gone),
                added.len(),
                sample(&added)
            ));
        }
    }
    changes
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

async fn hostile_bodies_are_refused_and_change_nothing(app: TestApp) {
    let world = World::set_up(&app).await;
    let before = snapshot(&app);
    let mut run = Run::new(&app, &world);
    let mut corpus_size = 0;
    for route in &world.routes {
        let path = world.path(route);
        let own_id = route.collection().map(|c| world.fixtures[&c].clone());
        let schema = route.schema.as_deref().unwrap_or("");
        let base = world.base(schema);
        let required = !schema.is_empty() && world.schemas().required(schema);
        let mut cases = whole_body_cases(&base, required);
        cases.extend(field_cases(&world, route, own_id.as_deref()));
        corpus_size += cases.len();
        for case in &cases {
            run.refused(route, &path, case).await;
        }
    }
    eprintln!("{corpus_size} body cases over {} write routes", world.routes.len());
    let after = snapshot(&app);
    run.finish("hostile bodies", &before, &after);
}

async fn hostile_tokens_and_ids_are_refused_and_change_nothing(app: TestApp) {
    let world = World::set_up(&app).await;
    let attacks = token_attacks(&world, &world.secret);
    let before = snapshot(&app);
    let mut run = Run::new(&app, &world);
    for route in &world.routes {
        let path = world.path(route);
        let schema = route.schema.as_deref().unwrap_or("");
        if route.secured {
            for (name, header, status) in &attacks {
                // A body the route's writer would get stored: only the token stands in the way.
                let valid = serde_json::to_vec(&world.base(schema)).expect("body");
                run.refused(
                    route,
                    &path,
                    &Case::new(name.clone(), valid.clone()).auth(header.clone()).expect_some(*status),
                )
                .await;
                let case = Case::new(format!("{name}, body over the limit"), oversized(&valid)).auth(header.clone());
                run.refused(route, &path, &case).await;
                let case = Case::new(format!("{name}, malformed body"), "{\"a\":").auth(header.clone());
                run.refused(route, &path, &case).await;
            }
        }
        let Some(collection) = route.collection() else { continue };
        let other = if collection.ends_with("/areas") { &world.organisation } else { &world.area };
        let encoded_injection: String = url_encode("'; DROP TABLE users;--");
        let ids = [
            ("an SQL injection", encoded_injection),
            ("a NUL", "%00".to_owned()),
            ("a NUL after a real id", format!("{}%00", world.fixtures[&collection])),
            ("an encoded path traversal", "..%2F..%2Fusers".to_owned()),
            ("an encoded script", url_encode("<script>alert(1)</script>")),
            ("invalid UTF-8", "%FF%FE".to_owned()),
            ("the nil uuid", uuid::Uuid::nil().to_string()),
            ("a record that does not exist", uuid::Uuid::new_v4().to_string()),
            ("a record of another kind", other.clone()),
            ("10,000 characters", "a".repeat(10_000)),
        ];
        for (name, id) in ids {
            let case = Case::new(format!("path id: {name}"), serde_json::to_vec(&world.base(schema)).expect("body"));
            run.refused(route, &route.template.replace("{id}", &id), &case).await;
        }
    }
    eprintln!("{} token attacks", attacks.len());
    let after = snapshot(&app);
    run.finish("hostile tokens and ids", &before, &after);
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

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
                let path = match route.collection() {
                    Some(collection) => route.template.replace("{id}", &world.fresh(&app, &collection).await),
                    None => route.template.clone(),
                };
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
        let path = match route.collection() {
            Some(collection) => route.template.replace("{id}", &world.fresh(&app, &collection).await),
            None => route.template.clone(),
        };
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

async fn hostile_statistics_queries_never_fail_the_server(app: TestApp) {
    let world = World::set_up(&app).await;
    let routes: Vec<String> = world.doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .filter(|p| p.contains("/stats/") || p.contains("/alerts/"))
        .cloned()
        .collect();
    assert!(routes.len() >= 4, "statistics routes: {routes:?}");
    let queries = [
        "group_by=day&from=-262143-01-01&to=+262142-12-31",
        "group_by=week&from=+262142-12-25&to=+262142-12-31",
        "group_by=month,area,setting,product,organisation&from=0000-01-01&to=9999-12-31",
        "from=2026-12-31&to=2026-01-01",
        "as_of=+262142-12-31",
        "as_of=-262143-01-01", // regression (hostile-4): PostgreSQL once answered 500
        "group_by=day,day",
        "group_by=%00",
        "area_id=%27%3B%20DROP%20TABLE%20users%3B--",
        "setting=%3Cscript%3E",
        "from=2026-01-01&from=2026-02-01",
        "%FF%FE=%FF",
        "format=csv&group_by=quarter,kind,outcome,place",
        "limit=18446744073709551616",
    ];
    let mut failures = Vec::new();
    for route in &routes {
        for query in queries {
            let path = format!("{route}?{query}");
            let reply = app.get(&path, &world.admin).await;
            let fine = reply.status.is_success() || (reply.status.is_client_error() && reply.is_problem());
            if !fine {
                failures.push(format!("GET {path}: {} {}", reply.status, reply.body));
            }
        }
    }
    assert!(failures.is_empty(), "statistics ({:?}):\n  {}", app.backend, failures.join("\n  "));
}
