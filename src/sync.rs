//! What a phone needs to work offline: one call to send its whole queue,
//! judged item by item, and one to fetch what it caches.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use diesel::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::areas::Area;
use crate::auth::Principal;
use crate::certificates::Certificate;
use crate::db::DbConnection;
use crate::error::{responses, ApiError, FieldError};
use crate::extract::{decode_value, ValidJson};
use crate::kit_issues::{Draft, KitIssue, NewKitIssue};
use crate::products::Product;
use crate::records::{self, Submission};
use crate::reversals::NewReversal;
use crate::schema::{areas, batches, products};
use crate::server::AppState;
use crate::stats::{counting, Pending};
use crate::stock::{Batch, StockFilter, StockLine};
use crate::trainings::NewTraining;

/// The most records one sync call may carry.
pub const MAX_ITEMS: usize = 500;

fn at_most_max_items(request: &SyncRequest) -> Result<(), ValidationError> {
    if request.kit_issues.len() + request.reversals.len() + request.trainings.len() > MAX_ITEMS {
        return Err(ValidationError::new("too_many_items")
            .with_message(format!("send at most {MAX_ITEMS} records per call").into()));
    }
    Ok(())
}

/// A phone's queue of records, each judged on its own.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[validate(schema(function = "at_most_max_items"))]
pub struct SyncRequest {
    #[serde(default)]
    #[schema(value_type = Vec<NewKitIssue>)]
    pub kit_issues: Vec<serde_json::Value>,
    #[serde(default)]
    #[schema(value_type = Vec<NewReversal>)]
    pub reversals: Vec<serde_json::Value>,
    #[serde(default)]
    #[schema(value_type = Vec<NewTraining>)]
    pub trainings: Vec<serde_json::Value>,
}

crate::text_enum! {
    pub enum ItemStatus {
        /// Stored now.
        Created = "created",
        /// Stored before; nothing new was written.
        Duplicate = "duplicate",
        /// Another record has this id: give this one a new id.
        Conflict = "conflict",
        /// Refused; `errors` says why. Do not send it again unchanged.
        Invalid = "invalid",
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemResult {
    /// The item's id, when it had a readable one.
    pub id: Option<String>,
    pub status: ItemStatus,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// One result per item, in the order sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncResponse {
    pub kit_issues: Vec<ItemResult>,
    pub reversals: Vec<ItemResult>,
    pub trainings: Vec<ItemResult>,
}

fn item_errors(error: &ApiError) -> Vec<FieldError> {
    let problem = error.problem();
    if problem.errors.is_empty() {
        vec![FieldError::new("", problem.code, problem.detail)]
    } else {
        problem.errors
    }
}

/// The item's id, when it has a readable one.
fn item_id(item: &serde_json::Value) -> Option<String> {
    item.get("id").and_then(serde_json::Value::as_str).map(str::to_owned)
}

/// Reads and validates one item; an unreadable or invalid one is answered at once.
fn decode<T: DeserializeOwned + Validate>(item: &serde_json::Value) -> Result<T, ItemResult> {
    let invalid =
        |error: &ApiError| ItemResult { id: item_id(item), status: ItemStatus::Invalid, errors: item_errors(error) };
    let record: T = decode_value(item).map_err(|error| invalid(&error))?;
    record.validate().map_err(|errors| invalid(&ApiError::from(errors)))?;
    Ok(record)
}

/// An item's answer, from what became of it. An error that ends the call
/// (the database failing, or a race lost to another call) is no fault of
/// the item: the whole call fails and is tried again.
fn verdict<R>(item: &serde_json::Value, outcome: Result<Submission<R>, ApiError>) -> Result<ItemResult, ApiError> {
    let (status, errors) = match outcome {
        Ok(Submission::Created(_)) => (ItemStatus::Created, Vec::new()),
        Ok(Submission::Duplicate(_)) => (ItemStatus::Duplicate, Vec::new()),
        Err(error) if records::ends_the_call(&error) => return Err(error),
        Err(error) if error.code() == "id_conflict" => (ItemStatus::Conflict, item_errors(&error)),
        Err(error) => (ItemStatus::Invalid, item_errors(&error)),
    };
    Ok(ItemResult { id: item_id(item), status, errors })
}

/// Judges one item in a savepoint of its own, so that a refused item
/// leaves nothing behind and does not stop the others.
fn judge<T, R, F>(
    conn: &mut DbConnection,
    pending: &mut Pending,
    item: &serde_json::Value,
    submit: &mut F,
) -> Result<ItemResult, ApiError>
where
    T: DeserializeOwned + Validate,
    F: FnMut(&mut DbConnection, &mut Pending, T) -> Result<Submission<R>, ApiError>,
{
    let record: T = match decode(item) {
        Ok(record) => record,
        Err(answer) => return Ok(answer),
    };
    // The item's counts join the call's only once its savepoint stands.
    let mut counts = pending.fresh();
    let outcome = conn.transaction(|c| submit(c, &mut counts, record));
    if outcome.is_ok() {
        pending.merge(counts);
    }
    verdict(item, outcome)
}

/// Reads, validates and drafts each handout, before the writer is taken.
fn draft_kit_issues(
    principal: &Principal,
    key: &[u8],
    items: &[serde_json::Value],
) -> Result<Vec<Result<Draft, ItemResult>>, ApiError> {
    items
        .iter()
        .map(|item| match decode::<NewKitIssue>(item) {
            Err(answer) => Ok(Err(answer)),
            Ok(new) => match crate::kit_issues::draft(principal, key, &new) {
                Ok(drafted) => Ok(Ok(drafted)),
                Err(error) => verdict::<KitIssue>(item, Err(error)).map(Err),
            },
        })
        .collect()
}

/// Judges the drafted handouts together (see [`crate::kit_issues::submit_all`]):
/// the answers come back in the order sent.
fn judge_kit_issues(
    conn: &mut DbConnection,
    lookups: &mut crate::kit_issues::Lookups,
    pending: &mut Pending,
    items: &[serde_json::Value],
    drafts: &[Result<Draft, ItemResult>],
) -> Result<Vec<ItemResult>, ApiError> {
    let ready: Vec<&Draft> = drafts.iter().filter_map(|d| d.as_ref().ok()).collect();
    let mut outcomes = crate::kit_issues::submit_all(conn, lookups, pending, &ready)?.into_iter();
    items
        .iter()
        .zip(drafts)
        .map(|(item, drafted)| match drafted {
            Ok(_) => {
                verdict(item, outcomes.next().unwrap_or_else(|| Err(ApiError::internal("a handout went unanswered"))))
            }
            Err(answer) => Ok(answer.clone()),
        })
        .collect()
}

/// Stores a phone's queue (handouts, reversal reports, trainings): up to 500 records, each judged on its own and
/// answered in order as created, duplicate, conflict or invalid. Sending
/// the same queue again creates nothing new.
#[utoipa::path(
    post, path = "/api/v1/sync", tag = "sync",
    request_body = SyncRequest,
    responses(
        (status = 200, description = "A result per item, in the order sent", body = SyncResponse),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn sync(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<SyncRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.into_inner();
    let key = state.recipient_code_key.clone();
    let kit_drafts = draft_kit_issues(&principal, &key, &request.kit_issues)?;
    let call = std::sync::Arc::new((request, kit_drafts));
    // One transaction for the whole call (one commit, one disk sync), a
    // savepoint per item. Losing a race for an id to another call
    // (PostgreSQL) rolls it all back; the second try sees the winner's records.
    let response = state
        .db
        .write_retrying_race(move |conn| {
            counting(conn, |conn, pending| {
                let (request, kit_drafts) = &*call;
                let mut lookups = crate::kit_issues::Lookups::default();
                let kit_issues = judge_kit_issues(conn, &mut lookups, pending, &request.kit_issues, kit_drafts)?;
                let mut submit_training = |c: &mut DbConnection, p: &mut Pending, new: NewTraining| {
                    crate::trainings::submit(c, p, &principal, new)
                };
                let trainings = request
                    .trainings
                    .iter()
                    .map(|item| judge(conn, pending, item, &mut submit_training))
                    .collect::<Result<_, _>>()?;
                let mut submit_reversal = |c: &mut DbConnection, p: &mut Pending, new: NewReversal| {
                    crate::reversals::submit(c, &mut lookups, p, &principal, &key, new)
                };
                let reversals = request
                    .reversals
                    .iter()
                    .map(|item| judge(conn, pending, item, &mut submit_reversal))
                    .collect::<Result<_, _>>()?;
                Ok(SyncResponse { kit_issues, reversals, trainings })
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(response))
}

/// What a phone caches to work offline.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reference {
    pub products: Vec<Product>,
    pub areas: Vec<Area>,
    /// The caller's organisation's batches that are neither recalled nor expired.
    pub batches: Vec<Batch>,
    /// The kits in the caller's hands.
    pub stock: Vec<StockLine>,
    pub certificates: Vec<Certificate>,
}

fn load_reference(conn: &mut DbConnection, principal: &Principal) -> Result<Reference, ApiError> {
    let products = products::table.order(products::id.asc()).select(Product::as_select()).load(conn)?;
    let areas = areas::table.order(areas::id.asc()).select(Area::as_select()).load(conn)?;
    let (batches, stock) = match &principal.organisation_id {
        Some(organisation) => {
            let today = chrono::Utc::now().date_naive();
            let batches = batches::table
                .filter(batches::organisation_id.eq(organisation))
                .filter(batches::recalled_at.is_null())
                .filter(batches::expires_on.ge(today))
                .order(batches::id.asc())
                .select(Batch::as_select())
                .load(conn)?;
            let filter = StockFilter { batch_id: None, user_id: None };
            let stock = crate::stock::on_hand(conn, Some(organisation), Some(&principal.user_id), &filter)?;
            (batches, stock)
        }
        None => (Vec::new(), Vec::new()),
    };
    let (certificates, _) = crate::certificates::of_holder(conn, &principal.user_id)?;
    Ok(Reference { products, areas, batches, stock, certificates })
}

/// Products, areas, the caller's batches, stock and certificates, with an
/// ETag: send it back in `If-None-Match` and an unchanged answer is a 304.
#[utoipa::path(
    get, path = "/api/v1/sync/reference", tag = "sync",
    params(("If-None-Match" = Option<String>, Header, description = "The ETag of the copy the phone holds")),
    responses(
        (status = 200, description = "What to cache", body = Reference, headers(("ETag" = String, description = "Names this answer"))),
        (status = 304, description = "Unchanged since the copy named in If-None-Match"),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn reference(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let reference = state.db.run(move |conn| load_reference(conn, &principal)).await?;
    let body = serde_json::to_vec(&reference).map_err(ApiError::internal)?;
    let digest = Sha256::digest(&body);
    let etag = format!("\"{}\"", digest.iter().take(16).map(|b| format!("{b:02x}")).collect::<String>());
    let held = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if held.split(',').any(|tag| tag.trim().trim_start_matches("W/") == etag) {
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, etag)).finish());
    }
    Ok(HttpResponse::Ok().insert_header((header::ETAG, etag)).content_type("application/json").body(body))
}
