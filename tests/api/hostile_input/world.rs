//! The world the corpus is sent into.

use std::cell::Cell;
use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{json, Value};

use super::routes::{write_routes, Field, Kind, Route, Schemas};
use crate::harness::{TestApp, PASSWORD, PRENOXAD};

/// Who sends the corpus to a route: someone allowed to write there.
fn writer_of(template: &str) -> Who {
    // A held record is released by a coordinator or an admin, not its author.
    if template.ends_with("/release") {
        return Who::Admin;
    }
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

pub(super) struct World {
    pub(super) doc: Value,
    pub(super) routes: Vec<Route>,
    pub(super) admin: String,
    pub(super) admin_id: String,
    pub(super) fieldworker: String,
    fieldworker_id: String,
    /// A peer who attends trainings and is certified on them.
    peer_id: String,
    /// A peer of an organisation beyond the fieldworker's reach: a session
    /// naming them is held.
    far_peer_id: String,
    pub(super) area: String,
    pub(super) organisation: String,
    pub(super) commissioner_id: String,
    /// The commissioner's session (a sign-in), which forged tokens name.
    pub(super) commissioner_session: String,
    /// A signed-in user deactivated afterwards: the token is still well signed.
    pub(super) deactivated_token: String,
    training: Option<String>,
    batch: Option<String>,
    /// A record of each collection that has `{id}` write routes.
    pub(super) fixtures: BTreeMap<String, String>,
    pub(super) secret: Vec<u8>,
    counter: Cell<u32>,
}

impl World {
    pub(super) async fn set_up(app: &TestApp) -> World {
        let doc: Value =
            serde_json::from_str(&naloxone_tracker::http::openapi::document()).expect("the OpenAPI document is JSON");
        let routes = write_routes(&doc);
        let admin = app.admin().await;
        let admin_id = app.get("/api/v1/me", &admin).await.body["id"].as_str().expect("admin id").to_owned();
        let (area, organisation) = app.hub(&admin, "Hostile Input Hub").await;
        let (peer_id, _) = app.user(&admin, "peer@hostile.example", &["peer"], &organisation).await;
        let (_, far_organisation) = app.hub(&admin, "Far Away Hub").await;
        let (far_peer_id, _) = app.user(&admin, "far@hostile.example", &["peer"], &far_organisation).await;
        let (fieldworker_id, fieldworker) =
            app.user(&admin, "fieldworker@hostile.example", &["peer", "trainer"], &organisation).await;
        app.create(
            "/api/v1/certificates",
            &admin,
            json!({"user_id": fieldworker_id, "level": "peer_supplier", "reason": "on paper"}),
        )
        .await;
        let commissioner_id = app
            .create(
                "/api/v1/users",
                &admin,
                json!({"email": "commissioner@hostile.example", "display_name": "Commissioner",
                       "password": PASSWORD, "roles": ["commissioner"], "area_id": area}),
            )
            .await;
        let commissioner = app.token_for("commissioner@hostile.example").await;
        let commissioner_session = super::corpus::session_of(&commissioner);
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
            far_peer_id,
            area,
            organisation,
            commissioner_id,
            commissioner_session,
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

    pub(super) fn schemas(&self) -> Schemas<'_> {
        Schemas(self.doc["components"]["schemas"].as_object().expect("component schemas"))
    }

    fn token(&self, who: Who) -> &str {
        match who {
            Who::Admin => &self.admin,
            Who::Fieldworker => &self.fieldworker,
        }
    }

    pub(super) fn writer_token(&self, route: &Route) -> &str {
        self.token(writer_of(&route.template))
    }

    fn next(&self) -> u32 {
        self.counter.set(self.counter.get() + 1);
        self.counter.get()
    }

    /// A new record of `collection` (e.g. `/api/v1/areas`), made through its POST route: its id.
    pub(super) async fn fresh(&self, app: &TestApp, collection: &str) -> String {
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

    /// The route's path with a new record of its collection for `{id}`: for
    /// a release, one held for what releasing can let through.
    pub(super) async fn fresh_path(&self, app: &TestApp, route: &Route) -> String {
        let Some(collection) = route.collection() else { return route.template.clone() };
        let id = if route.template.ends_with("/release") {
            self.held(app, &collection).await
        } else {
            self.fresh(app, &collection).await
        };
        route.template.replace("{id}", &id)
    }

    /// A new held record of `collection` that an admin may release: a
    /// handout from before the fieldworker's certificate, a session naming
    /// someone beyond their reach, a report dated ahead of the clock and
    /// then put right.
    async fn held(&self, app: &TestApp, collection: &str) -> String {
        let (body, fixed) = match collection {
            "/api/v1/kit-issues" => {
                let mut kit = self.kit_issue(false);
                kit["issued_at"] = json!((chrono::Utc::now() - chrono::Duration::days(2)).to_rfc3339());
                (kit, None)
            }
            "/api/v1/trainings" => {
                let mut session = self.base("NewTraining");
                session["attendee_ids"] = json!([self.peer_id, self.far_peer_id]);
                (session, None)
            }
            "/api/v1/reversals" => {
                let mut report = self.reversal(false);
                report["occurred_at"] = json!((chrono::Utc::now() + chrono::Duration::minutes(30)).to_rfc3339());
                (report, Some(json!({"occurred_at": now()})))
            }
            other => panic!("no held record of {other}"),
        };
        let reply = app.post(collection, &self.fieldworker, body).await;
        assert_eq!(
            (reply.status.as_u16(), reply.body["state"].as_str()),
            (202, Some("held")),
            "{collection}: {}",
            reply.body
        );
        let id = reply.body["id"].as_str().expect("the held record's id").to_owned();
        if let Some(fix) = fixed {
            let reply = app.patch(&format!("{collection}/{id}"), &self.fieldworker, fix).await;
            assert_eq!(reply.status, 200, "{collection}/{id}: {}", reply.body);
        }
        id
    }

    /// The route's path, with the fixture of its collection for `{id}`.
    pub(super) fn path(&self, route: &Route) -> String {
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
    pub(super) fn base(&self, schema: &str) -> Value {
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

    pub(super) fn fields(&self, route: &Route, base: &Value) -> Vec<Field> {
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
