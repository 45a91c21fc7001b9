//! `/api/v1/sync`: an offline phone's queue, and what it caches.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::domain::error::{Code, Error, FieldError};
use crate::domain::principal::Principal;
use crate::domain::records::Submission;
use crate::domain::sync::{Judged, Reference, SyncRequest};
use crate::http::extract::ValidJson;
use crate::http::problem::{responses, ApiError};
use crate::http::state::AppState;
use crate::model::records::HeldReason;

crate::text_enum! {
    pub enum ItemStatus {
        /// Stored now.
        Created = "created",
        /// Stored now as held, not counted: `held_reasons` says what stands in its way. Do not
        /// send it again: a coordinator releases it (or voids it).
        Held = "held",
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
    /// Why a `held` record is held.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub held_reasons: Vec<HeldReason>,
}

/// One result per item, in the order sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncResponse {
    pub kit_issues: Vec<ItemResult>,
    pub reversals: Vec<ItemResult>,
    pub trainings: Vec<ItemResult>,
}

/// How an item's judgement is answered: its errors in the words of any other answer.
fn item_result(judged: Judged) -> ItemResult {
    let (status, errors, held_reasons) = match judged.outcome {
        Ok(Submission::Created(_)) => (ItemStatus::Created, Vec::new(), Vec::new()),
        Ok(Submission::Held(reasons)) => (ItemStatus::Held, Vec::new(), reasons.into_reasons()),
        Ok(Submission::Duplicate(_)) => (ItemStatus::Duplicate, Vec::new(), Vec::new()),
        Err(error) => {
            let status = if error.code() == Code::IdConflict { ItemStatus::Conflict } else { ItemStatus::Invalid };
            (status, ApiError::from(error).item_errors(), Vec::new())
        }
    };
    ItemResult { id: judged.id, status, errors, held_reasons }
}

fn item_results(judged: Vec<Judged>) -> Vec<ItemResult> {
    judged.into_iter().map(item_result).collect()
}

/// Stores a phone's queue (handouts, reversal reports, trainings): up to 500 records, each judged on its own and
/// answered in order as created, held, duplicate, conflict or invalid. A
/// record of something that happened is held, never refused, when only a
/// rule about the world (a certificate, stock, a batch, the time, a
/// person's standing) stands in its way; `invalid` is for a record that
/// cannot be read or names nothing that exists. Sending the same queue
/// again creates nothing new. A caller who may submit no records
/// (a commissioner) gets 403 for the whole call.
#[utoipa::path(
    tag = "sync",
    request_body = SyncRequest,
    responses(
        (status = 200, description = "A result per item, in the order sent", body = SyncResponse),
        (status = 403, response = responses::Forbidden),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
#[post("/sync")]
pub async fn sync(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<SyncRequest>,
) -> Result<HttpResponse, ApiError> {
    let judged =
        crate::domain::sync::sync(&state.db, principal, state.recipient_code_key.clone(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(SyncResponse {
        kit_issues: item_results(judged.kit_issues),
        reversals: item_results(judged.reversals),
        trainings: item_results(judged.trainings),
    }))
}

/// Products, areas, the caller's batches, stock and certificates, with an
/// ETag: send it back in `If-None-Match` and an unchanged answer is a 304.
#[utoipa::path(
    tag = "sync",
    params(("If-None-Match" = Option<String>, Header, description = "The ETag of the copy the phone holds")),
    responses(
        (status = 200, description = "What to cache", body = Reference, headers(("ETag" = String, description = "Names this answer"))),
        (status = 304, description = "Unchanged since the copy named in If-None-Match"),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
#[get("/sync/reference")]
pub async fn reference(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let reference = crate::domain::sync::reference(&state.db, principal).await?;
    let body = serde_json::to_vec(&reference).map_err(Error::internal)?;
    let digest = Sha256::digest(&body);
    let etag = format!("\"{}\"", digest.iter().take(16).map(|b| format!("{b:02x}")).collect::<String>());
    let held = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if held.split(',').any(|tag| tag.trim().trim_start_matches("W/") == etag) {
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, etag)).finish());
    }
    Ok(HttpResponse::Ok().insert_header((header::ETAG, etag)).content_type("application/json").body(body))
}
