//! Stock: batches an organisation receives, kits allocated to peers, and a
//! ledger of every movement. Balances are kept beside the ledger and only
//! ever changed by conditional updates, so they never go below zero, even
//! when many requests race for the last kits.

use actix_web::{http::header, web, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::audit::{self, Action};
use crate::auth::{Principal, Role};
use crate::db::{now, DbConnection};
use crate::error::{responses, ApiError};
use crate::extract::ValidJson;
use crate::pagination::{ListQuery, Page, PageParams, PageRequest};
use crate::records::VoidRequest;
use crate::schema::{batches, products, stock_allocations, stock_movements};
use crate::server::AppState;
use crate::validation::{plain_text, plausible_date};

crate::text_enum! {
    /// What a coordinator does with stock.
    pub enum MovementKind {
        /// From the organisation's store to a peer.
        Allocate = "allocate",
        /// From a peer back to the store.
        Return = "return",
        /// Out of stock for good, from the store or from a peer.
        WriteOff = "write_off",
    }
}

crate::text_enum! {
    pub enum WriteOffReason {
        Expired = "expired",
        Damaged = "damaged",
        Recalled = "recalled",
        Lost = "lost",
    }
}

crate::text_enum! {
    /// Every kind of entry in the ledger.
    pub enum LedgerKind {
        Receive = "receive",
        Allocate = "allocate",
        Return = "return",
        WriteOff = "write_off",
        /// Kits handed out.
        Issue = "issue",
        /// A handout voided or corrected: its kits are back with the peer.
        IssueReversed = "issue_reversed",
    }
}

#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Selectable, Insertable)]
#[diesel(table_name = batches)]
pub struct Batch {
    pub id: String,
    pub organisation_id: String,
    pub product_id: String,
    #[schema(example = "PX24117")]
    pub lot_number: String,
    #[schema(value_type = String, format = Date, example = "2028-06-30")]
    pub expires_on: NaiveDate,
    /// Kits received.
    pub quantity: i32,
    /// Kits in the organisation's store, not allocated to a peer.
    pub unallocated: i32,
    #[serde(with = "crate::time::utc_option")]
    #[schema(value_type = Option<chrono::DateTime<chrono::Utc>>)]
    pub recalled_at: Option<NaiveDateTime>,
    pub recall_reason: Option<String>,
    pub created_by: String,
    #[serde(with = "crate::time::utc")]
    #[schema(value_type = chrono::DateTime<chrono::Utc>)]
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBatch {
    pub product_id: Uuid,
    #[validate(length(max = 64), custom(function = "plain_text"))]
    #[schema(max_length = 64, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$")]
    pub lot_number: String,
    #[schema(value_type = String, format = Date)]
    #[validate(custom(function = "plausible_date"))]
    pub expires_on: NaiveDate,
    #[validate(range(min = 1, max = 100000))]
    #[schema(minimum = 1, maximum = 100000)]
    pub quantity: i32,
    /// Admins only; a coordinator's batches are their organisation's.
    pub organisation_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BatchFilter {
    pub product_id: Option<Uuid>,
    /// Admins: one organisation's batches.
    pub organisation_id: Option<Uuid>,
    /// false leaves recalled batches out.
    pub recalled: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMovement {
    pub kind: MovementKind,
    pub batch_id: Uuid,
    /// The peer: needed to allocate or return; for a write-off, the peer whose kits are lost.
    pub user_id: Option<Uuid>,
    #[validate(range(min = 1, max = 100000))]
    #[schema(minimum = 1, maximum = 100000)]
    pub quantity: i32,
    /// Needed for a write-off.
    pub reason: Option<WriteOffReason>,
}

#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Selectable, Insertable)]
#[diesel(table_name = stock_movements)]
pub struct StockMovement {
    pub id: String,
    pub kind: LedgerKind,
    pub batch_id: String,
    pub user_id: Option<String>,
    pub quantity: i32,
    pub reason: Option<WriteOffReason>,
    pub kit_issue_id: Option<String>,
    pub recorded_by: String,
    #[serde(with = "crate::time::utc")]
    #[schema(value_type = chrono::DateTime<chrono::Utc>)]
    pub created_at: NaiveDateTime,
}

/// Kits of one batch on hand with one holder.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StockLine {
    pub batch_id: String,
    pub product_id: String,
    pub lot_number: String,
    #[schema(value_type = String, format = Date)]
    pub expires_on: NaiveDate,
    pub recalled: bool,
    /// The peer holding the kits; null for the organisation's store.
    pub user_id: Option<String>,
    pub on_hand: i32,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StockFilter {
    pub batch_id: Option<Uuid>,
    /// One peer's kits (a peer always sees only their own).
    pub user_id: Option<Uuid>,
}

pub fn insufficient_stock() -> ApiError {
    ApiError::conflict("insufficient_stock", "there are not enough kits of this batch on hand")
}

impl StockMovement {
    fn new(kind: LedgerKind, batch_id: &str, user_id: Option<&str>, quantity: i32, recorded_by: &str) -> Self {
        Self {
            id: Uuid::now_v7().to_string(),
            kind,
            batch_id: batch_id.to_owned(),
            user_id: user_id.map(str::to_owned),
            quantity,
            reason: None,
            kit_issue_id: None,
            recorded_by: recorded_by.to_owned(),
            created_at: now(),
        }
    }

    fn for_kit_issue(self, kit_issue_id: &str) -> Self {
        Self { kit_issue_id: Some(kit_issue_id.to_owned()), ..self }
    }
}

fn record_movement(conn: &mut DbConnection, movement: StockMovement) -> Result<StockMovement, ApiError> {
    diesel::insert_into(stock_movements::table).values(&movement).execute(conn)?;
    Ok(movement)
}

/// Takes kits from the store; false when there are not enough.
fn take_from_store(conn: &mut DbConnection, batch_id: &str, quantity: i32) -> Result<bool, ApiError> {
    let changed = diesel::update(batches::table.find(batch_id).filter(batches::unallocated.ge(quantity)))
        .set(batches::unallocated.eq(batches::unallocated - quantity))
        .execute(conn)?;
    Ok(changed == 1)
}

fn put_in_store(conn: &mut DbConnection, batch_id: &str, quantity: i32) -> Result<(), ApiError> {
    diesel::update(batches::table.find(batch_id))
        .set(batches::unallocated.eq(batches::unallocated + quantity))
        .execute(conn)?;
    Ok(())
}

/// Takes kits from a peer's allocation; false when they have not enough.
fn take_from_peer(conn: &mut DbConnection, batch_id: &str, user_id: &str, quantity: i32) -> Result<bool, ApiError> {
    let changed = diesel::update(
        stock_allocations::table.find((batch_id, user_id)).filter(stock_allocations::on_hand.ge(quantity)),
    )
    .set(stock_allocations::on_hand.eq(stock_allocations::on_hand - quantity))
    .execute(conn)?;
    Ok(changed == 1)
}

fn give_to_peer(conn: &mut DbConnection, batch_id: &str, user_id: &str, quantity: i32) -> Result<(), ApiError> {
    let changed = diesel::update(stock_allocations::table.find((batch_id, user_id)))
        .set(stock_allocations::on_hand.eq(stock_allocations::on_hand + quantity))
        .execute(conn)?;
    if changed == 0 {
        diesel::insert_into(stock_allocations::table)
            .values((
                stock_allocations::batch_id.eq(batch_id),
                stock_allocations::user_id.eq(user_id),
                stock_allocations::on_hand.eq(quantity),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Kits handed out: taken from the peer's allocation of the batch, or 409.
pub fn issue_from_allocation(
    conn: &mut DbConnection,
    batch_id: &str,
    peer_id: &str,
    quantity: i32,
    kit_issue_id: &str,
) -> Result<(), ApiError> {
    if !take_from_peer(conn, batch_id, peer_id, quantity)? {
        return Err(insufficient_stock());
    }
    record_movement(
        conn,
        StockMovement::new(LedgerKind::Issue, batch_id, Some(peer_id), quantity, peer_id).for_kit_issue(kit_issue_id),
    )?;
    Ok(())
}

/// A handout voided or corrected: its kits go back to the peer's allocation.
pub fn reverse_issue(
    conn: &mut DbConnection,
    batch_id: &str,
    peer_id: &str,
    quantity: i32,
    kit_issue_id: &str,
    recorded_by: &str,
) -> Result<(), ApiError> {
    give_to_peer(conn, batch_id, peer_id, quantity)?;
    let movement = StockMovement::new(LedgerKind::IssueReversed, batch_id, Some(peer_id), quantity, recorded_by);
    record_movement(conn, movement.for_kit_issue(kit_issue_id))?;
    Ok(())
}

pub fn find_batch(conn: &mut DbConnection, id: &str) -> Result<Option<Batch>, ApiError> {
    Ok(batches::table.find(id).select(Batch::as_select()).first(conn).optional()?)
}

/// Coordinators manage their own organisation's stock; admins any.
fn require_stock_manager(principal: &Principal, organisation_id: &str) -> Result<(), ApiError> {
    let own = principal.has(Role::Coordinator) && principal.organisation_id.as_deref() == Some(organisation_id);
    if principal.is_admin() || own {
        Ok(())
    } else {
        Err(ApiError::forbidden("stock is managed by the organisation's coordinators"))
    }
}

fn receive(conn: &mut DbConnection, principal: &Principal, new: NewBatch) -> Result<Batch, ApiError> {
    principal.require_any(&[Role::Coordinator, Role::Admin])?;
    let organisation_id = match (new.organisation_id, principal.is_admin()) {
        (Some(asked), true) => asked.to_string(),
        (None, _) | (Some(_), false) => principal.organisation_id.clone().ok_or_else(|| {
            ApiError::invalid_field("organisation_id", "required", "say which organisation received it")
        })?,
    };
    require_stock_manager(principal, &organisation_id)?;
    if crate::organisations::find(conn, &organisation_id)?.is_none() {
        return Err(ApiError::invalid_field("organisation_id", "not_found", "no such organisation"));
    }
    let product_id = new.product_id.to_string();
    let product = products::table.find(&product_id).select(products::id).first::<String>(conn).optional()?;
    if product.is_none() {
        return Err(ApiError::invalid_field("product_id", "not_found", "no such product"));
    }
    let batch = Batch {
        id: Uuid::now_v7().to_string(),
        organisation_id,
        product_id,
        lot_number: new.lot_number.trim().to_owned(),
        expires_on: new.expires_on,
        quantity: new.quantity,
        unallocated: new.quantity,
        recalled_at: None,
        recall_reason: None,
        created_by: principal.user_id.clone(),
        created_at: now(),
    };
    diesel::insert_into(batches::table).values(&batch).execute(conn)?;
    record_movement(
        conn,
        StockMovement::new(LedgerKind::Receive, &batch.id, None, batch.quantity, &principal.user_id),
    )?;
    audit::record(conn, &principal.actor(), Action::Create, "batch", &batch.id, None, &batch)?;
    Ok(batch)
}

fn recall(conn: &mut DbConnection, principal: &Principal, id: &str, reason: &str) -> Result<Batch, ApiError> {
    let batch = find_batch(conn, id)?.ok_or_else(|| ApiError::not_found("batch"))?;
    require_stock_manager(principal, &batch.organisation_id)?;
    if batch.recalled_at.is_some() {
        return Ok(batch);
    }
    diesel::update(batches::table.find(id))
        .set((batches::recalled_at.eq(now()), batches::recall_reason.eq(reason.trim())))
        .execute(conn)?;
    let after = find_batch(conn, id)?.ok_or_else(|| ApiError::not_found("batch"))?;
    audit::record(conn, &principal.actor(), Action::Revoke, "batch", id, Some(&batch), &after)?;
    Ok(after)
}

/// The peer must be an active peer of the batch's organisation.
fn check_peer(conn: &mut DbConnection, user_id: &str, organisation_id: &str) -> Result<(), ApiError> {
    let peer = crate::users::find_account(conn, user_id)?
        .filter(|a| a.active && a.roles.contains(&Role::Peer) && a.organisation_id.as_deref() == Some(organisation_id));
    peer.map(|_| ())
        .ok_or_else(|| ApiError::invalid_field("user_id", "not_a_peer", "no active peer of this organisation"))
}

fn move_stock(conn: &mut DbConnection, principal: &Principal, new: &NewMovement) -> Result<StockMovement, ApiError> {
    principal.require_any(&[Role::Coordinator, Role::Admin])?;
    let batch_id = new.batch_id.to_string();
    let batch = find_batch(conn, &batch_id)?
        .ok_or_else(|| ApiError::invalid_field("batch_id", "not_found", "no such batch"))?;
    require_stock_manager(principal, &batch.organisation_id)?;
    let peer = new.user_id.map(|u| u.to_string());
    if let Some(peer) = &peer {
        check_peer(conn, peer, &batch.organisation_id)?;
    }
    let needs_peer = || ApiError::invalid_field("user_id", "required", "say which peer");
    let (kind, quantity) = (new.kind, new.quantity);
    let ledger = match kind {
        MovementKind::Allocate => {
            let peer = peer.as_deref().ok_or_else(needs_peer)?;
            if batch.recalled_at.is_some() {
                return Err(ApiError::invalid_field(
                    "batch_id",
                    "batch_recalled",
                    "a recalled batch cannot be allocated",
                ));
            }
            if !take_from_store(conn, &batch_id, quantity)? {
                return Err(insufficient_stock());
            }
            give_to_peer(conn, &batch_id, peer, quantity)?;
            LedgerKind::Allocate
        }
        MovementKind::Return => {
            let peer = peer.as_deref().ok_or_else(needs_peer)?;
            if !take_from_peer(conn, &batch_id, peer, quantity)? {
                return Err(insufficient_stock());
            }
            put_in_store(conn, &batch_id, quantity)?;
            LedgerKind::Return
        }
        MovementKind::WriteOff => {
            if new.reason.is_none() {
                return Err(ApiError::invalid_field("reason", "required", "say why the kits are written off"));
            }
            let taken = match peer.as_deref() {
                Some(peer) => take_from_peer(conn, &batch_id, peer, quantity)?,
                None => take_from_store(conn, &batch_id, quantity)?,
            };
            if !taken {
                return Err(insufficient_stock());
            }
            LedgerKind::WriteOff
        }
    };
    let reason = if kind == MovementKind::WriteOff { new.reason } else { None };
    if reason.is_none() && new.reason.is_some() {
        return Err(ApiError::invalid_field("reason", "not_allowed", "only a write-off has a reason"));
    }
    let movement = StockMovement {
        reason,
        ..StockMovement::new(ledger, &batch_id, peer.as_deref(), quantity, &principal.user_id)
    };
    let movement = record_movement(conn, movement)?;
    audit::record(conn, &principal.actor(), Action::Create, "stock_movement", &movement.id, None, &movement)?;
    Ok(movement)
}

/// Whose stock a caller sees.
fn stock_scope(principal: &Principal) -> Result<(Option<String>, Option<String>), ApiError> {
    if principal.is_admin() {
        return Ok((None, None));
    }
    let organisation = principal
        .organisation_id
        .clone()
        .ok_or_else(|| ApiError::forbidden("stock belongs to organisations; this account has none"))?;
    if principal.has(Role::Coordinator) {
        Ok((Some(organisation), None))
    } else if principal.has(Role::Peer) {
        Ok((Some(organisation), Some(principal.user_id.clone())))
    } else {
        Err(ApiError::forbidden("stock is seen by coordinators and peers"))
    }
}

/// Stock on hand, by batch and holder. Batches with nothing on hand are left out.
pub fn on_hand(
    conn: &mut DbConnection,
    organisation: Option<&str>,
    peer: Option<&str>,
    filter: &StockFilter,
) -> Result<Vec<StockLine>, ApiError> {
    let mut batch_query = batches::table.select(Batch::as_select()).order(batches::id.asc()).into_boxed();
    if let Some(organisation) = organisation {
        batch_query = batch_query.filter(batches::organisation_id.eq(organisation.to_owned()));
    }
    if let Some(batch) = filter.batch_id {
        batch_query = batch_query.filter(batches::id.eq(batch.to_string()));
    }
    let found = batch_query.load(conn)?;
    let ids: Vec<&str> = found.iter().map(|b| b.id.as_str()).collect();
    let mut allocation_query = stock_allocations::table
        .filter(stock_allocations::batch_id.eq_any(&ids))
        .filter(stock_allocations::on_hand.gt(0))
        .order((stock_allocations::batch_id, stock_allocations::user_id))
        .select((stock_allocations::batch_id, stock_allocations::user_id, stock_allocations::on_hand))
        .into_boxed();
    let only_user = peer.map(str::to_owned).or(filter.user_id.map(|u| u.to_string()));
    if let Some(user) = &only_user {
        allocation_query = allocation_query.filter(stock_allocations::user_id.eq(user.clone()));
    }
    let allocations: Vec<(String, String, i32)> = allocation_query.load(conn)?;
    let mut lines = Vec::new();
    for batch in &found {
        let line = |user_id: Option<String>, on_hand: i32| StockLine {
            batch_id: batch.id.clone(),
            product_id: batch.product_id.clone(),
            lot_number: batch.lot_number.clone(),
            expires_on: batch.expires_on,
            recalled: batch.recalled_at.is_some(),
            user_id,
            on_hand,
        };
        if only_user.is_none() && batch.unallocated > 0 {
            lines.push(line(None, batch.unallocated));
        }
        lines.extend(allocations.iter().filter(|(b, _, _)| *b == batch.id).map(|(_, u, n)| line(Some(u.clone()), *n)));
    }
    Ok(lines)
}

/// Peers of an organisation see its batches (to pick one on a handout); coordinators manage them.
fn list_batches(
    conn: &mut DbConnection,
    principal: &Principal,
    filter: BatchFilter,
    page: &PageRequest,
) -> Result<Page<Batch>, ApiError> {
    let organisation = if principal.is_admin() {
        filter.organisation_id.map(|o| o.to_string())
    } else {
        Some(
            principal
                .organisation_id
                .clone()
                .ok_or_else(|| ApiError::forbidden("batches belong to organisations; this account has none"))?,
        )
    };
    let mut query =
        batches::table.select(Batch::as_select()).order(batches::id.asc()).limit(page.limit + 1).into_boxed();
    if let Some(organisation) = organisation {
        query = query.filter(batches::organisation_id.eq(organisation));
    }
    if let Some(product) = filter.product_id {
        query = query.filter(batches::product_id.eq(product.to_string()));
    }
    match filter.recalled {
        Some(true) => query = query.filter(batches::recalled_at.is_not_null()),
        Some(false) => query = query.filter(batches::recalled_at.is_null()),
        None => {}
    }
    if let Some(after) = &page.after {
        query = query.filter(batches::id.gt(after.clone()));
    }
    Ok(Page::from_rows(query.load(conn)?, page, |b: &Batch| &b.id))
}

/// Records stock received (a coordinator for their organisation; an admin for any).
#[utoipa::path(
    post, path = "/api/v1/batches", tag = "stock",
    request_body = NewBatch,
    responses(
        (status = 201, description = "Recorded", body = Batch, headers(("Location" = String, description = "The batch's URL"))),
        (status = 403, response = responses::Forbidden),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn create_batch(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<NewBatch>,
) -> Result<HttpResponse, ApiError> {
    let new = body.into_inner();
    let batch = state.db.write(move |conn| receive(conn, &principal, new)).await?;
    Ok(HttpResponse::Created().insert_header((header::LOCATION, format!("/api/v1/batches/{}", batch.id))).json(batch))
}

/// Lists the organisation's batches (an admin: all, or one organisation's).
#[utoipa::path(
    get, path = "/api/v1/batches", tag = "stock",
    params(BatchFilter, PageParams),
    responses(
        (status = 200, description = "A page of batches, oldest first", body = Page<Batch>),
        (status = 400, response = responses::BadRequest),
        (status = 403, response = responses::Forbidden),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn batches_list(
    state: web::Data<AppState>,
    principal: Principal,
    query: ListQuery<BatchFilter>,
) -> Result<HttpResponse, ApiError> {
    let ListQuery { filter, page } = query;
    let result = state.db.run(move |conn| list_batches(conn, &principal, filter, &page)).await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Recalls a batch: its kits can no longer be allocated or handed out. Recalling again changes nothing.
#[utoipa::path(
    post, path = "/api/v1/batches/{id}/recall", tag = "stock",
    params(("id" = Uuid, Path, description = "Batch id")),
    request_body = VoidRequest,
    responses(
        (status = 200, description = "The recalled batch", body = Batch),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn recall_batch(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidJson<VoidRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    let reason = body.into_inner().reason;
    let batch = state.db.write(move |conn| recall(conn, &principal, &id, &reason)).await?;
    Ok(HttpResponse::Ok().json(batch))
}

/// Allocates kits to a peer, takes them back, or writes them off. Never
/// lets a balance go below zero: 409 `insufficient_stock` instead.
#[utoipa::path(
    post, path = "/api/v1/stock/movements", tag = "stock",
    request_body = NewMovement,
    responses(
        (status = 201, description = "Recorded", body = StockMovement),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn create_movement(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<NewMovement>,
) -> Result<HttpResponse, ApiError> {
    let new = body.into_inner();
    let movement = state.db.write_retrying_race(move |conn| move_stock(conn, &principal, &new)).await?;
    Ok(HttpResponse::Created().json(movement))
}

/// Kits on hand by batch: the organisation's store and each peer's (a peer sees their own).
#[utoipa::path(
    get, path = "/api/v1/stock", tag = "stock",
    params(StockFilter),
    responses(
        (status = 200, description = "Stock on hand; one page holds it all", body = Page<StockLine>),
        (status = 400, response = responses::BadRequest),
        (status = 403, response = responses::Forbidden),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn stock_on_hand(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<StockFilter>,
) -> Result<HttpResponse, ApiError> {
    let (organisation, peer) = stock_scope(&principal)?;
    let filter = filter.into_inner();
    let lines = state.db.run(move |conn| on_hand(conn, organisation.as_deref(), peer.as_deref(), &filter)).await?;
    Ok(HttpResponse::Ok().json(Page { items: lines, next_cursor: None }))
}
