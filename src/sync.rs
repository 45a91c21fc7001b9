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
use crate::kit_issues::NewKitIssue;
use crate::products::Product;
use crate::records::Submission;
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

#[derive(Debug, Serialize, ToSchema)]
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

/// Judges one item in a savepoint of its own, so that a refused item
/// leaves nothing behind and does not stop the others.
fn judge<T, R, F>(
    conn: &mut DbConnection,
    pending: &mut Pending,
    item: serde_json::Value,
    submit: &F,
) -> Result<ItemResult, ApiError>
where
    T: DeserializeOwned + Validate + Clone,
    F: Fn(&mut DbConnection, &mut Pending, T) -> Result<Submission<R>, ApiError>,
{
    let id = item.get("id").and_then(serde_json::Value::as_str).map(str::to_owned);
    let result = |status, errors| Ok(ItemResult { id: id.clone(), status, errors });
    let record: T = match decode_value(item) {
        Ok(record) => record,
        Err(error) => return result(ItemStatus::Invalid, item_errors(&error)),
    };
    if let Err(errors) = record.validate() {
        return result(ItemStatus::Invalid, item_errors(&ApiError::from(errors)));
    }
    // The item's counts join the call's only once its savepoint stands.
    let attempt = |conn: &mut DbConnection| {
        let mut counts = pending.fresh();
        conn.transaction(|c| submit(c, &mut counts, record.clone())).map(|outcome| (outcome, counts))
    };
    // A first submission racing another sync (PostgreSQL): look again.
    let outcome = match attempt(conn) {
        Err(error) if error.code() == "already_exists" => attempt(conn),
        other => other,
    };
    match outcome {
        Ok((Submission::Created(_), counts)) => {
            pending.merge(counts);
            result(ItemStatus::Created, Vec::new())
        }
        Ok((Submission::Duplicate(_), _)) => result(ItemStatus::Duplicate, Vec::new()),
        Err(error) if error.code() == "id_conflict" => result(ItemStatus::Conflict, item_errors(&error)),
        // The database failing is no fault of the item: the whole call is retried later.
        Err(error) if error.status().is_server_error() => Err(error),
        Err(error) => result(ItemStatus::Invalid, item_errors(&error)),
    }
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
    // One transaction for the whole call (one commit, one disk sync), a savepoint per item.
    let response = state
        .db
        .write(move |conn| {
            counting(conn, |conn, pending| {
                let lookups = std::cell::RefCell::new(crate::kit_issues::Lookups::default());
                let submit_kit = |c: &mut DbConnection, p: &mut Pending, new: NewKitIssue| {
                    crate::kit_issues::submit(c, &mut lookups.borrow_mut(), p, &principal, &key, new)
                };
                let submit_reversal = |c: &mut DbConnection, p: &mut Pending, new: NewReversal| {
                    crate::reversals::submit(c, &mut lookups.borrow_mut(), p, &principal, &key, new)
                };
                let submit_training = |c: &mut DbConnection, p: &mut Pending, new: NewTraining| {
                    crate::trainings::submit(c, p, &principal, new)
                };
                let kit_issues = request
                    .kit_issues
                    .into_iter()
                    .map(|item| judge(conn, pending, item, &submit_kit))
                    .collect::<Result<_, _>>()?;
                let trainings = request
                    .trainings
                    .into_iter()
                    .map(|item| judge(conn, pending, item, &submit_training))
                    .collect::<Result<_, _>>()?;
                let reversals = request
                    .reversals
                    .into_iter()
                    .map(|item| judge(conn, pending, item, &submit_reversal))
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
