//! Who may call what: one table lists every route and method against every
//! kind of caller, with the status each must get. A test walks the whole
//! table on both backends; another fails when a route exists that the
//! table does not list (in the OpenAPI document, in the route table
//! `src/http/routes.rs` or beside it in `src/http/app.rs`, or as a method
//! some path answers that the table does not name).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use crate::harness::{tally, TestApp, PASSWORD, PRENOXAD};
use chrono::{Duration, SecondsFormat, Utc};
use reqwest::Method;
use serde_json::{json, Value};

both_backends!(every_route_answers_every_caller_as_the_table_says, no_path_answers_a_method_the_table_does_not_list);

/// The callers, in the order of each row's statuses.
const CALLERS: [&str; 6] = ["no login", "peer", "trainer", "coordinator", "commissioner", "admin"];

/// Which record a row's `{id}` (or `{code}`) names. The standing records are
/// made once per world; the `New…` ones afresh for every call, so that a
/// permitted call never changes what the next caller meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum On {
    /// The path has no placeholder.
    Nothing,
    /// The index page of the interactive docs (`/docs/`).
    DocsIndex,
    /// The certified peer of organisation A (the "peer" caller).
    Peer,
    /// A certified peer of organisation B.
    PeerB,
    /// Area A, where organisation A is and the commissioner oversees.
    Area,
    /// Organisation A, the peer's, trainer's and coordinator's.
    Organisation,
    /// The seeded Prenoxad product.
    Product,
    /// A session the trainer delivered in organisation A.
    Training,
    /// A session a trainer of organisation B delivered.
    TrainingB,
    /// The peer's peer_supplier certificate, issued by the trainer.
    PeerCertificate,
    /// The trainer's peer_trainer certificate, issued by the admin.
    TrainerCertificate,
    /// The peer of organisation B's certificate, issued by the admin.
    CertificateB,
    /// The verification code of the peer's certificate.
    VerificationCode,
    /// A handout the peer recorded.
    KitIssue,
    /// A handout a second peer of organisation A recorded.
    KitIssueOfPeer2,
    /// A handout the peer of organisation B recorded.
    KitIssueB,
    /// A reversal report the peer made.
    Reversal,
    /// A reversal report the peer of organisation B made.
    ReversalB,
    /// A session the trainer records just before the call.
    NewTraining,
    /// A certificate the trainer issues to the second peer of organisation A just before the call.
    NewCertificate,
    /// A batch organisation A receives just before the call.
    NewBatch,
    /// A batch organisation B receives just before the call.
    NewBatchB,
    /// A handout the peer records just before the call.
    NewKitIssue,
    /// A reversal report the peer makes just before the call.
    NewReversal,
}

use Body::{AttendeeB, HolderB};
use On::*;

/// What a write sends: the valid body `World::body_for` makes, or one that
/// names someone beyond a trainer's reach, to show that rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    Usual,
    /// A certificate for the peer of organisation B (another area), with an admin's reason.
    HolderB,
    /// A session of the trainer with the peer of organisation B among its attendees.
    AttendeeB,
}

struct Row {
    /// `*` for a route that answers every method alike.
    method: &'static str,
    /// As in the OpenAPI document (or as registered, for routes outside it).
    path: &'static str,
    on: On,
    body: Body,
    /// In the order of `CALLERS`.
    expect: [u16; 6],
}

const fn row(method: &'static str, path: &'static str, on: On, expect: [u16; 6]) -> Row {
    Row { method, path, on, body: Body::Usual, expect }
}

/// A write whose body, not its path, names who is out of a caller's reach.
const fn reach(method: &'static str, path: &'static str, body: Body, expect: [u16; 6]) -> Row {
    Row { method, path, on: Nothing, body, expect }
}

/// Every route and method, against no login, peer, trainer, coordinator,
/// commissioner and admin. Writes send a valid body (fresh ids for every
/// call), so that a status tells who may do it, not whether the body was
/// right. Where scope rather than role decides, a row names a record that
/// shows the rule: records out of a caller's scope answer 404, as if they
/// did not exist, whereas a role that may never do something answers 403.
/// Columns: no login, peer, trainer, coordinator, commissioner, admin.
#[rustfmt::skip]
const TABLE: &[Row] = &[
    //  method   path                                           on                    none peer trnr coor comm admn
    // Operations and docs: public.
    row("GET",   "/health",                                     Nothing,             [200, 200, 200, 200, 200, 200]),
    row("GET",   "/ready",                                      Nothing,             [200, 200, 200, 200, 200, 200]),
    // Prometheus metrics are served on an address of their own (`--metrics-bind`), never here.
    row("GET",   "/metrics",                                    Nothing,             [404, 404, 404, 404, 404, 404]),
    row("GET",   "/.well-known/jwks.json",                      Nothing,             [200, 200, 200, 200, 200, 200]),
    row("GET",   "/api/v1/openapi.json",                        Nothing,             [200, 200, 200, 200, 200, 200]),
    // A redirect to `/docs/`, whatever the method.
    row("*",     "/docs",                                       Nothing,             [307, 307, 307, 307, 307, 307]),
    row("GET",   "/docs/{_:.*}",                                DocsIndex,           [200, 200, 200, 200, 200, 200]),
    // Signing in and out needs no access token; a token sent along changes nothing.
    row("POST",  "/api/v1/auth/login",                          Nothing,             [200, 200, 200, 200, 200, 200]),
    row("POST",  "/api/v1/auth/refresh",                        Nothing,             [200, 200, 200, 200, 200, 200]),
    row("POST",  "/api/v1/auth/logout",                         Nothing,             [204, 204, 204, 204, 204, 204]),
    // Everyone their own record.
    row("GET",   "/api/v1/me",                                  Nothing,             [401, 200, 200, 200, 200, 200]),
    // Users: admins all; coordinators their organisation's.
    row("GET",   "/api/v1/users",                               Nothing,             [401, 403, 403, 200, 403, 200]),
    row("POST",  "/api/v1/users",                               Nothing,             [401, 403, 403, 201, 403, 201]),
    // The peer reads themselves; the trainer may not read others.
    row("GET",   "/api/v1/users/{id}",                          Peer,                [401, 200, 403, 200, 403, 200]),
    // A coordinator does not see another organisation's users.
    row("GET",   "/api/v1/users/{id}",                          PeerB,               [401, 403, 403, 404, 403, 200]),
    // Even their own record is changed by a manager.
    row("PATCH", "/api/v1/users/{id}",                          Peer,                [401, 403, 403, 200, 403, 200]),
    row("PATCH", "/api/v1/users/{id}",                          PeerB,               [401, 403, 403, 404, 403, 200]),
    // Clearing a user's sign-in lockout: whoever may change the user.
    row("POST",  "/api/v1/users/{id}/unlock",                   Peer,                [401, 403, 403, 204, 403, 204]),
    row("POST",  "/api/v1/users/{id}/unlock",                   PeerB,               [401, 403, 403, 404, 403, 204]),
    // Reference data: everyone signed in reads it, admins set it up.
    row("GET",   "/api/v1/areas",                               Nothing,             [401, 200, 200, 200, 200, 200]),
    row("POST",  "/api/v1/areas",                               Nothing,             [401, 403, 403, 403, 403, 201]),
    row("GET",   "/api/v1/areas/{id}",                          Area,                [401, 200, 200, 200, 200, 200]),
    row("PATCH", "/api/v1/areas/{id}",                          Area,                [401, 403, 403, 403, 403, 200]),
    row("GET",   "/api/v1/organisations",                       Nothing,             [401, 200, 200, 200, 200, 200]),
    row("POST",  "/api/v1/organisations",                       Nothing,             [401, 403, 403, 403, 403, 201]),
    row("GET",   "/api/v1/organisations/{id}",                  Organisation,        [401, 200, 200, 200, 200, 200]),
    row("PATCH", "/api/v1/organisations/{id}",                  Organisation,        [401, 403, 403, 403, 403, 200]),
    row("GET",   "/api/v1/products",                            Nothing,             [401, 200, 200, 200, 200, 200]),
    row("POST",  "/api/v1/products",                            Nothing,             [401, 403, 403, 403, 403, 201]),
    row("GET",   "/api/v1/products/{id}",                       Product,             [401, 200, 200, 200, 200, 200]),
    // Trainings: a trainer their own, a coordinator their organisation's (recording for its
    // trainers), an admin all; peers and commissioners never.
    row("GET",   "/api/v1/trainings",                           Nothing,             [401, 403, 200, 200, 403, 200]),
    row("POST",  "/api/v1/trainings",                           Nothing,             [401, 403, 201, 201, 403, 201]),
    // A trainer's reach is their organisation and the organisations of its area and beneath:
    // organisation B (Fife) is beyond it. The coordinator records for the trainer, within the
    // trainer's reach; an admin works beyond any (202: stored, but held for a coordinator).
    reach("POST", "/api/v1/trainings",                          AttendeeB,           [401, 403, 202, 202, 403, 201]),
    row("GET",   "/api/v1/trainings/{id}",                      Training,            [401, 403, 200, 200, 403, 200]),
    row("GET",   "/api/v1/trainings/{id}",                      TrainingB,           [401, 403, 404, 404, 403, 200]),
    row("PATCH", "/api/v1/trainings/{id}",                      Training,            [401, 403, 200, 200, 403, 200]),
    row("PATCH", "/api/v1/trainings/{id}",                      TrainingB,           [401, 403, 404, 404, 403, 200]),
    row("POST",  "/api/v1/trainings/{id}/void",                 NewTraining,         [401, 403, 200, 200, 403, 200]),
    // Releasing a held record is for a coordinator of its organisation or an admin, never its
    // author; releasing a recorded one changes nothing (200).
    row("POST",  "/api/v1/trainings/{id}/release",              NewTraining,         [401, 403, 403, 200, 403, 200]),
    // Certificates: anyone signed in lists those they may see (maybe none); a holder, the
    // issuer, a coordinator of the holder's organisation and an admin read one.
    row("GET",   "/api/v1/certificates",                        Nothing,             [401, 200, 200, 200, 200, 200]),
    // Only a trainer with a valid peer_trainer certificate, or an admin, certifies.
    row("POST",  "/api/v1/certificates",                        Nothing,             [401, 403, 201, 403, 403, 201]),
    // The trainer may not certify beyond their reach; an admin may, giving a reason.
    reach("POST", "/api/v1/certificates",                       HolderB,             [401, 403, 422, 403, 403, 201]),
    row("GET",   "/api/v1/certificates/{id}",                   PeerCertificate,     [401, 200, 200, 200, 404, 200]),
    // A peer reading another's certificate: 404.
    row("GET",   "/api/v1/certificates/{id}",                   TrainerCertificate,  [401, 404, 200, 200, 404, 200]),
    row("GET",   "/api/v1/certificates/{id}",                   CertificateB,        [401, 404, 404, 404, 404, 200]),
    // Peer 404: the second peer's certificate, which the peer cannot see.
    row("POST",  "/api/v1/certificates/{id}/revoke",            NewCertificate,      [401, 404, 200, 200, 404, 200]),
    row("GET",   "/api/v1/certificates/{id}/token",             PeerCertificate,     [401, 200, 200, 200, 404, 200]),
    row("GET",   "/api/v1/certificates/{id}/token",             TrainerCertificate,  [401, 404, 200, 200, 404, 200]),
    // The public check needs no sign-in.
    row("GET",   "/api/v1/certificates/verify/{code}",          VerificationCode,    [200, 200, 200, 200, 200, 200]),
    // Stock: coordinators manage their organisation's, admins any; peers see their
    // organisation's batches (to pick one) and their own stock.
    row("GET",   "/api/v1/batches",                             Nothing,             [401, 200, 200, 200, 403, 200]),
    row("POST",  "/api/v1/batches",                             Nothing,             [401, 403, 403, 201, 403, 201]),
    row("POST",  "/api/v1/batches/{id}/recall",                 NewBatch,            [401, 403, 403, 200, 403, 200]),
    // Another organisation's batch: 403, not 404, for its coordinator.
    row("POST",  "/api/v1/batches/{id}/recall",                 NewBatchB,           [401, 403, 403, 403, 403, 200]),
    row("GET",   "/api/v1/stock",                               Nothing,             [401, 200, 403, 200, 403, 200]),
    row("POST",  "/api/v1/stock/movements",                     Nothing,             [401, 403, 403, 201, 403, 201]),
    // Handouts: the peer their own, a coordinator their organisation's, an admin all.
    // Recording one needs a valid certificate (and so an organisation): the coordinator,
    // commissioner and admin hold none.
    row("GET",   "/api/v1/kit-issues",                          Nothing,             [401, 200, 403, 200, 403, 200]),
    // Trainer 403: only a peer records handouts, and the trainer (a peer_trainer certificate,
    // no peer role) could not read, correct or void one. BUG: answers 201 today.
    row("POST",  "/api/v1/kit-issues",                          Nothing,             [401, 201, 403, 403, 403, 403]),
    row("GET",   "/api/v1/kit-issues/{id}",                     KitIssue,            [401, 200, 403, 200, 403, 200]),
    // A peer reading another peer's handout: 404.
    row("GET",   "/api/v1/kit-issues/{id}",                     KitIssueOfPeer2,     [401, 404, 403, 200, 403, 200]),
    row("GET",   "/api/v1/kit-issues/{id}",                     KitIssueB,           [401, 404, 403, 404, 403, 200]),
    row("PATCH", "/api/v1/kit-issues/{id}",                     KitIssue,            [401, 200, 403, 200, 403, 200]),
    row("PATCH", "/api/v1/kit-issues/{id}",                     KitIssueOfPeer2,     [401, 404, 403, 200, 403, 200]),
    row("PATCH", "/api/v1/kit-issues/{id}",                     KitIssueB,           [401, 404, 403, 404, 403, 200]),
    row("POST",  "/api/v1/kit-issues/{id}/void",                NewKitIssue,         [401, 200, 403, 200, 403, 200]),
    row("POST",  "/api/v1/kit-issues/{id}/release",             NewKitIssue,         [401, 403, 403, 200, 403, 200]),
    // Reversal reports: scoped as handouts. Reporting needs no certificate but an
    // organisation, so the admin may not.
    row("GET",   "/api/v1/reversals",                           Nothing,             [401, 200, 403, 200, 403, 200]),
    row("POST",  "/api/v1/reversals",                           Nothing,             [401, 201, 403, 201, 403, 403]),
    row("GET",   "/api/v1/reversals/{id}",                      Reversal,            [401, 200, 403, 200, 403, 200]),
    row("GET",   "/api/v1/reversals/{id}",                      ReversalB,           [401, 404, 403, 404, 403, 200]),
    row("PATCH", "/api/v1/reversals/{id}",                      Reversal,            [401, 200, 403, 200, 403, 200]),
    row("PATCH", "/api/v1/reversals/{id}",                      ReversalB,           [401, 404, 403, 404, 403, 200]),
    row("POST",  "/api/v1/reversals/{id}/void",                 NewReversal,         [401, 200, 403, 200, 403, 200]),
    row("POST",  "/api/v1/reversals/{id}/release",              NewReversal,         [401, 403, 403, 200, 403, 200]),
    // Sync judges each item on its own, for everyone who may submit records; a commissioner
    // may submit none, so the whole call is refused.
    row("POST",  "/api/v1/sync",                                Nothing,             [401, 200, 200, 200, 403, 200]),
    row("GET",   "/api/v1/sync/reference",                      Nothing,             [401, 200, 200, 200, 200, 200]),
    // Statistics: commissioners, coordinators and admins; peers and trainers 403.
    row("GET",   "/api/v1/stats/kits",                          Nothing,             [401, 403, 403, 200, 200, 200]),
    row("GET",   "/api/v1/stats/kits.csv",                      Nothing,             [401, 403, 403, 200, 200, 200]),
    row("GET",   "/api/v1/stats/reversals",                     Nothing,             [401, 403, 403, 200, 200, 200]),
    row("GET",   "/api/v1/stats/reversals.csv",                 Nothing,             [401, 403, 403, 200, 200, 200]),
    row("GET",   "/api/v1/stats/trainings",                     Nothing,             [401, 403, 403, 200, 200, 200]),
    row("GET",   "/api/v1/stats/trainings.csv",                 Nothing,             [401, 403, 403, 200, 200, 200]),
    row("GET",   "/api/v1/stats/summary",                       Nothing,             [401, 403, 403, 200, 200, 200]),
    row("GET",   "/api/v1/alerts/spikes",                       Nothing,             [401, 403, 403, 200, 200, 200]),
];

/// Routes served outside the OpenAPI document: the document itself and the docs pages.
const OUTSIDE_THE_DOCUMENT: &[(&str, &str)] =
    &[("GET", "/api/v1/openapi.json"), ("*", "/docs"), ("GET", "/docs/{_:.*}")];

/// Routes the API's address must not serve, though another address may
/// (`/metrics` with `--metrics-bind`): every caller gets 404.
const NOT_ON_THIS_ADDRESS: &[(&str, &str)] = &[("GET", "/metrics")];

/// The methods tried on every path for the ones the table does not list.
const PROBED_METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

const SESSION_EMAIL: &str = "sessions@a.example";

/// Everything the table's rows refer to, on one backend.
struct World {
    /// In the order of `CALLERS`; no token for "no login".
    tokens: [Option<String>; 6],
    /// A token that was never issued, and one of a deactivated account.
    unknown_tokens: [String; 2],
    peer: String,
    trainer: String,
    peer_id: String,
    trainer_id: String,
    peer2_id: String,
    peer_b_id: String,
    area: String,
    organisation: String,
    organisation_b: String,
    admin: String,
    training: String,
    training_b: String,
    peer_certificate: String,
    trainer_certificate: String,
    certificate_b: String,
    verification_code: String,
    batch: String,
    kit_issue: String,
    kit_issue_of_peer2: String,
    kit_issue_b: String,
    reversal: String,
    reversal_b: String,
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn report(area: &str) -> Value {
    json!({
        "id": uuid::Uuid::new_v4(),
        "occurred_at": now(),
        "area_id": area,
        "place": "street_or_park",
        "administered_by": "kit_recipient",
        "product_id": PRENOXAD,
        "doses": 2,
        "outcome": "survived",
    })
}

fn training_body(trainer_id: &str) -> Value {
    json!({
        "id": uuid::Uuid::new_v4(),
        "trainer_id": trainer_id,
        "delivered_on": Utc::now().date_naive(),
        "kind": "awareness",
        "setting": "hub",
        "anonymous_attendees": 4,
    })
}

fn batch_body(organisation: &str) -> Value {
    json!({
        "product_id": PRENOXAD,
        "lot_number": format!("LOT-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
        "expires_on": (Utc::now() + Duration::days(365)).date_naive(),
        "quantity": 1000,
        "organisation_id": organisation,
    })
}

fn str_of(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or_else(|| panic!("no {key} in {value}")).to_owned()
}

impl World {
    async fn build(app: &TestApp) -> World {
        let admin = app.admin().await;
        let nation = app.create("/api/v1/areas", &admin, json!({"name": "Scotland"})).await;
        let area = app.create("/api/v1/areas", &admin, json!({"name": "East Ayrshire", "parent_id": nation})).await;
        let area_b = app.create("/api/v1/areas", &admin, json!({"name": "Fife", "parent_id": nation})).await;
        let organisation = app
            .create(
                "/api/v1/organisations",
                &admin,
                json!({"name": "Kilmarnock Recovery Hub", "kind": "recovery_hub", "area_id": area}),
            )
            .await;
        let organisation_b = app
            .create("/api/v1/organisations", &admin, json!({"name": "Fife LERO", "kind": "lero", "area_id": area_b}))
            .await;

        let (trainer_id, trainer) = app.user(&admin, "trainer@a.example", &["trainer"], &organisation).await;
        let trainer_certificate = app
            .create(
                "/api/v1/certificates",
                &admin,
                json!({"user_id": trainer_id, "level": "peer_trainer", "reason": "the first peer trainer"}),
            )
            .await;
        let (peer_id, peer) = app.user(&admin, "peer@a.example", &["peer"], &organisation).await;
        let (peer2_id, peer2) = app.user(&admin, "peer2@a.example", &["peer"], &organisation).await;
        let (_, coordinator) = app.user(&admin, "coordinator@a.example", &["coordinator"], &organisation).await;
        app.create(
            "/api/v1/users",
            &admin,
            json!({"email": "commissioner@adp.example", "display_name": "ADP lead", "password": PASSWORD,
                   "roles": ["commissioner"], "area_id": area}),
        )
        .await;
        let commissioner = app.token_for("commissioner@adp.example").await;
        app.user(&admin, SESSION_EMAIL, &["peer"], &organisation).await;

        // The trainer trains and certifies the peers of organisation A.
        let mut course = training_body(&trainer_id);
        course["kind"] = json!("peer_supplier_course");
        course["attendee_ids"] = json!([peer_id, peer2_id]);
        let training = app.create("/api/v1/trainings", &trainer, course).await;
        let certified = app
            .post(
                "/api/v1/certificates",
                &trainer,
                json!({"user_id": peer_id, "level": "peer_supplier", "training_id": training}),
            )
            .await;
        assert_eq!(certified.status, 201, "{}", certified.body);
        let peer_certificate = str_of(&certified.body, "id");
        let verification_code = str_of(&certified.body, "verification_code");
        app.create(
            "/api/v1/certificates",
            &trainer,
            json!({"user_id": peer2_id, "level": "peer_supplier", "training_id": training}),
        )
        .await;

        // Organisation B: a certified peer and a trainer with a session.
        let (peer_b_id, peer_b) = app.user(&admin, "peer@b.example", &["peer"], &organisation_b).await;
        let certificate_b = app
            .create(
                "/api/v1/certificates",
                &admin,
                json!({"user_id": peer_b_id, "level": "peer_supplier", "reason": "certified on paper"}),
            )
            .await;
        let (trainer_b_id, trainer_b) = app.user(&admin, "trainer@b.example", &["trainer"], &organisation_b).await;
        let training_b = app.create("/api/v1/trainings", &trainer_b, training_body(&trainer_b_id)).await;

        let batch = app.create("/api/v1/batches", &admin, batch_body(&organisation)).await;
        app.create("/api/v1/batches", &admin, batch_body(&organisation_b)).await;
        let kit_issue = app.create("/api/v1/kit-issues", &peer, tally(&area, 1)).await;
        let kit_issue_of_peer2 = app.create("/api/v1/kit-issues", &peer2, tally(&area, 1)).await;
        let kit_issue_b = app.create("/api/v1/kit-issues", &peer_b, tally(&area_b, 1)).await;
        let reversal = app.create("/api/v1/reversals", &peer, report(&area)).await;
        let reversal_b = app.create("/api/v1/reversals", &peer_b, report(&area_b)).await;

        let (gone_id, gone) = app.user(&admin, "gone@a.example", &["peer"], &organisation).await;
        let deactivated = app.patch(&format!("/api/v1/users/{gone_id}"), &admin, json!({"active": false})).await;
        assert_eq!(deactivated.status, 200, "{}", deactivated.body);
        let forged = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJub2JvZHkifQ.c2lnbmF0dXJl".to_owned();

        World {
            tokens: [
                None,
                Some(peer.clone()),
                Some(trainer.clone()),
                Some(coordinator),
                Some(commissioner),
                Some(admin.clone()),
            ],
            unknown_tokens: [forged, gone],
            peer,
            trainer,
            peer_id,
            trainer_id,
            peer2_id,
            peer_b_id,
            area,
            organisation,
            organisation_b,
            admin,
            training,
            training_b,
            peer_certificate,
            trainer_certificate,
            certificate_b,
            verification_code,
            batch,
            kit_issue,
            kit_issue_of_peer2,
            kit_issue_b,
            reversal,
            reversal_b,
        }
    }

    /// What a row's placeholder stands for, made now for the `New…` targets.
    async fn value_of(&self, app: &TestApp, on: On) -> String {
        match on {
            Nothing | DocsIndex => String::new(),
            Peer => self.peer_id.clone(),
            PeerB => self.peer_b_id.clone(),
            Area => self.area.clone(),
            Organisation => self.organisation.clone(),
            Product => PRENOXAD.to_owned(),
            Training => self.training.clone(),
            TrainingB => self.training_b.clone(),
            PeerCertificate => self.peer_certificate.clone(),
            TrainerCertificate => self.trainer_certificate.clone(),
            CertificateB => self.certificate_b.clone(),
            VerificationCode => self.verification_code.clone(),
            KitIssue => self.kit_issue.clone(),
            KitIssueOfPeer2 => self.kit_issue_of_peer2.clone(),
            KitIssueB => self.kit_issue_b.clone(),
            Reversal => self.reversal.clone(),
            ReversalB => self.reversal_b.clone(),
            NewTraining => app.create("/api/v1/trainings", &self.trainer, training_body(&self.trainer_id)).await,
            NewCertificate => {
                let body = json!({"user_id": self.peer2_id, "level": "peer_supplier", "training_id": self.training});
                app.create("/api/v1/certificates", &self.trainer, body).await
            }
            NewBatch => app.create("/api/v1/batches", &self.admin, batch_body(&self.organisation)).await,
            NewBatchB => app.create("/api/v1/batches", &self.admin, batch_body(&self.organisation_b)).await,
            NewKitIssue => app.create("/api/v1/kit-issues", &self.peer, tally(&self.area, 1)).await,
            NewReversal => app.create("/api/v1/reversals", &self.peer, report(&self.area)).await,
        }
    }

    /// A fresh refresh token of a session nobody else uses.
    async fn refresh_token(&self, app: &TestApp) -> String {
        let reply = app.login(SESSION_EMAIL, PASSWORD).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        str_of(&reply.body, "refresh_token")
    }

    /// A valid body for a write, made afresh for every call.
    async fn body_for(&self, app: &TestApp, method: &str, path: &str, kind: Body) -> Option<Value> {
        let fresh = || uuid::Uuid::new_v4().simple().to_string();
        match kind {
            Body::Usual => {}
            Body::HolderB => {
                return Some(json!({"user_id": self.peer_b_id, "level": "peer_supplier", "reason": "moved from Fife"}))
            }
            Body::AttendeeB => {
                let mut session = training_body(&self.trainer_id);
                session["attendee_ids"] = json!([self.peer_b_id]);
                return Some(session);
            }
        }
        let body = match (method, path) {
            ("GET", _) | ("*", _) => return None,
            ("POST", "/api/v1/auth/login") => json!({"email": SESSION_EMAIL, "password": PASSWORD}),
            ("POST", "/api/v1/auth/refresh" | "/api/v1/auth/logout") => {
                json!({"refresh_token": self.refresh_token(app).await})
            }
            ("POST", "/api/v1/users") => json!({
                "email": format!("{}@a.example", fresh()), "display_name": "New Peer", "password": PASSWORD,
                "roles": ["peer"], "organisation_id": self.organisation,
            }),
            ("PATCH", "/api/v1/users/{id}") => json!({"display_name": "Sam K."}),
            ("POST", "/api/v1/areas") => json!({"name": format!("Area {}", fresh()), "parent_id": self.area}),
            ("PATCH", "/api/v1/areas/{id}") => json!({"population_at_risk": 1200}),
            ("POST", "/api/v1/organisations") => {
                json!({"name": format!("Outreach {}", fresh()), "kind": "outreach_team", "area_id": self.area})
            }
            ("PATCH", "/api/v1/organisations/{id}") => json!({"name": "Kilmarnock Recovery Hub"}),
            ("POST", "/api/v1/products") => json!({
                "name": format!("Nasal spray {}", fresh()), "route": "intranasal", "doses_per_kit": 2, "mg_per_dose": 1.8,
            }),
            ("POST", "/api/v1/trainings") => training_body(&self.trainer_id),
            ("PATCH", "/api/v1/trainings/{id}") => json!({"kits_handed_out": 2}),
            // A session the second peer attended, delivered by the trainer: the admin may name it too.
            ("POST", "/api/v1/certificates") => {
                json!({"user_id": self.peer2_id, "level": "peer_supplier", "training_id": self.training})
            }
            ("POST", "/api/v1/batches") => batch_body(&self.organisation),
            ("POST", "/api/v1/stock/movements") => {
                json!({"kind": "allocate", "batch_id": self.batch, "user_id": self.peer_id, "quantity": 1})
            }
            ("POST", "/api/v1/kit-issues") => tally(&self.area, 1),
            ("PATCH", "/api/v1/kit-issues/{id}") => json!({"quantity": 2}),
            ("POST", "/api/v1/reversals") => report(&self.area),
            ("PATCH", "/api/v1/reversals/{id}") => json!({"doses": 3}),
            ("POST", "/api/v1/sync") => json!({"kit_issues": [tally(&self.area, 1)]}),
            ("POST", p)
                if p.ends_with("/void")
                    || p.ends_with("/release")
                    || p.ends_with("/revoke")
                    || p.ends_with("/recall")
                    || p.ends_with("/unlock") =>
            {
                json!({"reason": "entered twice"})
            }
            _ => panic!("the table has no body for {method} {path}: add one to World::body_for"),
        };
        Some(body)
    }
}

/// The path with its one placeholder (`{id}`, `{code}`, `{_:.*}`) filled.
fn fill(path: &str, value: &str) -> String {
    match (path.find('{'), path.find('}')) {
        (Some(open), Some(close)) => format!("{}{value}{}", &path[..open], &path[close + 1..]),
        _ => path.to_owned(),
    }
}

struct Answer {
    status: u16,
    problem: bool,
    code: String,
}

/// Sends one request as the table's caller would, following no redirect.
async fn send(
    client: &reqwest::Client,
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Answer {
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = client.request(method, app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let problem =
        response.headers().get("content-type").is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    let bytes = response.bytes().await.unwrap_or_default();
    let code = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_owned))
        .unwrap_or_default();
    Answer { status, problem, code }
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

fn describe(row: &Row) -> String {
    if row.body != Body::Usual {
        format!("{} {} (sending {:?})", row.method, row.path, row.body)
    } else if row.on == Nothing {
        format!("{} {}", row.method, row.path)
    } else {
        format!("{} {} (on {:?})", row.method, row.path, row.on)
    }
}

async fn every_route_answers_every_caller_as_the_table_says(app: TestApp) {
    let started = Instant::now();
    let world = World::build(&app).await;
    let built = started.elapsed();
    let client = no_redirects();
    let mut wrong = Vec::new();
    let mut calls = 0;
    for row in TABLE {
        let method = if row.method == "*" { "GET" } else { row.method };
        // The six callers, then a token never issued and a deactivated account's token,
        // which must both be answered as no login is.
        let callers = CALLERS
            .iter()
            .zip(&world.tokens)
            .zip(row.expect)
            .map(|((name, token), expect)| (*name, token.as_deref(), expect))
            .chain([
                ("an unknown token", Some(world.unknown_tokens[0].as_str()), row.expect[0]),
                ("a deactivated account", Some(world.unknown_tokens[1].as_str()), row.expect[0]),
            ]);
        for (caller, token, expect) in callers {
            let path = fill(row.path, &world.value_of(&app, row.on).await);
            let body = world.body_for(&app, method, row.path, row.body).await;
            let answer = send(&client, &app, method, &path, token, body.as_ref()).await;
            calls += 1;
            if answer.status != expect {
                wrong.push(format!(
                    "{} as {caller}: expected {expect}, got {} {}",
                    describe(row),
                    answer.status,
                    answer.code
                ));
            }
            if answer.status >= 400 && !answer.problem {
                wrong.push(format!("{} as {caller}: {} is not application/problem+json", describe(row), answer.status));
            }
        }
    }
    eprintln!(
        "{:?}: {} rows x {} callers (+2 unknown tokens), {calls} calls, world built in {} ms, walked in {} ms",
        app.backend,
        TABLE.len(),
        CALLERS.len(),
        built.as_millis(),
        (started.elapsed() - built).as_millis()
    );
    assert!(wrong.is_empty(), "{} answers differ from the table:\n{}", wrong.len(), wrong.join("\n"));
}

/// Every path of the table, tried with every method the table does not list
/// for it, as an admin with a body: only 404 or 405 may come back. Anything
/// else (2xx, 400, 401, 403, 422, …) means a handler the table does not list.
async fn no_path_answers_a_method_the_table_does_not_list(app: TestApp) {
    let started = Instant::now();
    let world = World::build(&app).await;
    let client = no_redirects();
    // Each path with the methods listed for it, and the first record a row names on it.
    let mut methods_of: BTreeMap<&str, (On, BTreeSet<&str>)> = BTreeMap::new();
    for row in TABLE {
        methods_of.entry(row.path).or_insert_with(|| (row.on, BTreeSet::new())).1.insert(row.method);
    }
    let mut unlisted = Vec::new();
    let mut calls = 0;
    for (path, (on, listed)) in &methods_of {
        if listed.contains("*") {
            continue;
        }
        let concrete = fill(path, &world.value_of(&app, *on).await);
        for method in PROBED_METHODS.iter().filter(|m| !listed.contains(*m)) {
            let body = matches!(*method, "POST" | "PUT" | "PATCH" | "DELETE").then(|| json!({}));
            let answer = send(&client, &app, method, &concrete, world.tokens[5].as_deref(), body.as_ref()).await;
            calls += 1;
            if !matches!(answer.status, 404 | 405) {
                unlisted.push(format!(
                    "{method} {path} answers {} {}: a route the table does not list (add a row for it)",
                    answer.status, answer.code
                ));
            } else if *method != "HEAD" && !answer.problem {
                unlisted.push(format!("{method} {path}: {} is not application/problem+json", answer.status));
            }
        }
    }
    eprintln!("{:?}: {calls} unlisted methods tried in {} ms", app.backend, started.elapsed().as_millis());
    assert!(unlisted.is_empty(), "{}", unlisted.join("\n"));
}

fn table_routes() -> BTreeSet<(String, String)> {
    TABLE.iter().map(|r| (r.method.to_owned(), r.path.to_owned())).collect()
}

/// The operations of the OpenAPI document the code generates.
fn documented_routes() -> BTreeSet<(String, String)> {
    let spec: Value = serde_json::from_str(&naloxone_tracker::http::openapi::document()).expect("the document is JSON");
    let mut routes = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if ["get", "put", "post", "delete", "options", "head", "patch", "trace"].contains(&method.as_str()) {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

/// The string literal opening `text` (after blanks), and what follows it.
fn literal<'a>(text: &'a str, opener: &str) -> (&'a str, &'a str) {
    let text = text.trim_start();
    let inner = text
        .strip_prefix('"')
        .unwrap_or_else(|| panic!("{opener} takes something this test cannot read: {}", &text[..text.len().min(40)]));
    let end = inner.find('"').expect("a closing quote");
    (&inner[..end], &inner[end + 1..])
}

/// What the source registers: the routes outside the OpenAPI document
/// (the docs page, its redirect, the document itself), read from
/// `src/http/app.rs`, and the number of handlers the route table
/// `src/http/routes.rs` registers (each one is one operation of the
/// document: utoipa-actix-web takes a route only with its entry). A
/// registration of another shape fails here, so that the test is taught
/// about it rather than miss it.
fn registered_routes() -> (BTreeSet<(String, String)>, usize) {
    let mut routes = BTreeSet::new();
    collect_routes(include_str!("../../src/http/app.rs"), &mut routes);
    (routes, count_handlers(include_str!("../../src/http/routes.rs")))
}

/// Routes registered straight on the app, beside the route table.
fn collect_routes(text: &str, routes: &mut BTreeSet<(String, String)>) {
    let mut at = 0;
    while at < text.len() {
        let rest = &text[at..];
        let opener = ["web::redirect(", "SwaggerUi::new(", ".url("].into_iter().find(|opener| rest.starts_with(opener));
        let step = if let Some(opener) = opener {
            let (path, _) = literal(&rest[opener.len()..], opener);
            let method = if opener == "web::redirect(" { "*" } else { "GET" };
            routes.insert((method.to_owned(), path.to_owned()));
            opener.len()
        } else if let Some(unreadable) =
            ["web::resource(", "web::scope(", "web::route(", ".route(", ".to(", "web::get(", "web::post("]
                .into_iter()
                .find(|shape| rest.starts_with(shape))
        {
            panic!(
                "src/http/app.rs registers a route this test cannot read: {unreadable}{}",
                &rest[unreadable.len()..rest.len().min(unreadable.len() + 40)]
            );
        } else if let Some(tail) = rest.strip_prefix(".service(") {
            let argument = tail.trim_start();
            assert!(
                ["web::redirect(", "SwaggerUi::new("].iter().any(|known| argument.starts_with(known)),
                "src/http/app.rs registers a service this test cannot read: .service({}…)",
                &argument[..argument.len().min(40)]
            );
            ".service(".len()
        } else {
            rest.chars().next().map_or(1, char::len_utf8)
        };
        at += step;
    }
}

/// The handlers a route table registers: every `.service(…)` is a handler
/// (`module::handler`) or the one `/api/v1` scope they are in.
fn count_handlers(text: &str) -> usize {
    let mut handlers = 0;
    for (_, tail) in text.match_indices(".service(").map(|(i, _)| text.split_at(i + ".service(".len())) {
        let argument = tail.trim_start();
        let name: String = argument.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
        let after = &argument[name.len()..];
        if name == "scope::scope" {
            let (path, _) = literal(after.strip_prefix('(').unwrap_or(after), "scope::scope(");
            assert_eq!(path, "/api/v1", "src/http/routes.rs opens a scope this test does not know");
        } else {
            assert!(
                name.split("::").count() == 2 && after.trim_start().starts_with(')'),
                "src/http/routes.rs registers a service this test cannot read: .service({}…)",
                &argument[..argument.len().min(40)]
            );
            handlers += 1;
        }
    }
    let code: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("use ") && !line.trim_start().starts_with("//"))
        .collect();
    for unreadable in ["web::", ".route(", ".to(", "configure("] {
        assert!(
            !code.contains(unreadable),
            "src/http/routes.rs registers something this test cannot read: {unreadable}"
        );
    }
    handlers
}

fn differences(
    left: &BTreeSet<(String, String)>,
    right: &BTreeSet<(String, String)>,
    wording: &str,
    out: &mut Vec<String>,
) {
    for (method, path) in left.difference(right) {
        out.push(format!("{method} {path} {wording}"));
    }
}

#[test]
fn the_table_lists_every_route_there_is() {
    let table = table_routes();
    let documented = documented_routes();
    let (outside, handlers) = registered_routes();
    let outside_listed: BTreeSet<(String, String)> =
        OUTSIDE_THE_DOCUMENT.iter().map(|(m, p)| ((*m).to_owned(), (*p).to_owned())).collect();
    let mut problems = Vec::new();
    let mut known = documented.clone();
    known.extend(outside_listed.iter().cloned());
    known.extend(NOT_ON_THIS_ADDRESS.iter().map(|(m, p)| ((*m).to_owned(), (*p).to_owned())));
    differences(&known, &table, "is in the OpenAPI document but not in the table", &mut problems);
    differences(&table, &known, "is in the table but not in the OpenAPI document", &mut problems);
    differences(&outside, &outside_listed, "is registered in src/http/app.rs but not in the table", &mut problems);
    differences(&outside_listed, &outside, "is in the table but not registered in src/http/app.rs", &mut problems);
    if handlers != documented.len() {
        problems.push(format!(
            "src/http/routes.rs registers {handlers} handlers for the document's {} operations",
            documented.len()
        ));
    }
    assert!(problems.is_empty(), "the authorization table is out of date:\n{}", problems.join("\n"));
    for row in TABLE {
        if NOT_ON_THIS_ADDRESS.contains(&(row.method, row.path)) {
            assert_eq!(row.expect, [404; 6], "{}: not served here, so 404 for everyone", describe(row));
        }
        assert!(
            row.path.contains('{') == (row.on != Nothing),
            "{}: a path with a placeholder needs a record to name, and only such a path",
            describe(row)
        );
    }
}

#[test]
fn the_source_reader_finds_every_shape_of_route() {
    let app = r#"
        App::new()
            .service(SwaggerUi::new("/docs/{_:.*}").url("/api/v1/openapi.json", document.clone()))
            .service(web::redirect("/old", "/new"))
            .default_service(web::to(no_route))
    "#;
    let mut routes = BTreeSet::new();
    collect_routes(app, &mut routes);
    let expected: BTreeSet<(String, String)> =
        [("GET", "/docs/{_:.*}"), ("GET", "/api/v1/openapi.json"), ("*", "/old")]
            .iter()
            .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
            .collect();
    assert_eq!(routes, expected);
    let table = r#"config.service(a::list).service(scope::scope("/api/v1").service(b::get).service(b::create));"#;
    assert_eq!(count_handlers(table), 3);
    for unreadable in ["App::new().route(\"/x\", web::get().to(x))", "App::new().service(web::resource(\"/x\"))"] {
        let caught = std::panic::catch_unwind(|| collect_routes(unreadable, &mut BTreeSet::new()));
        assert!(caught.is_err(), "{unreadable} was not refused");
    }
    for unreadable in ["config.service(hidden)", "config.service(scope::scope(\"/v2\"))", "config.route(\"/x\", r)"] {
        let caught = std::panic::catch_unwind(|| count_handlers(unreadable));
        assert!(caught.is_err(), "{unreadable} was not refused");
    }
}
