//! Stock: batches, each peer's allocation of them, and the ledger of every
//! movement. Balances change only by conditional updates, so that they can
//! never go below zero however many requests race for the last kits.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::connection::DbConnection;
use super::error::Result;
use super::paging::{paged, Paging};
use super::schema::{batches, stock_allocations, stock_movements};
use crate::model::ids::{BatchId, KitIssueId, OrganisationId, ProductId, UserId};
use crate::model::stock::{LedgerKind, WriteOffReason};

#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Selectable, Insertable)]
#[diesel(table_name = batches)]
pub struct Batch {
    #[schema(value_type = uuid::Uuid)]
    pub id: BatchId,
    #[schema(value_type = uuid::Uuid)]
    pub organisation_id: OrganisationId,
    #[schema(value_type = uuid::Uuid)]
    pub product_id: ProductId,
    #[schema(example = "PX24117")]
    pub lot_number: String,
    #[schema(value_type = String, format = Date, example = "2028-06-30")]
    pub expires_on: NaiveDate,
    /// Kits received.
    pub quantity: i32,
    /// Kits in the organisation's store, not allocated to a peer.
    pub unallocated: i32,
    #[serde(with = "crate::model::time::utc_option")]
    #[schema(value_type = Option<chrono::DateTime<chrono::Utc>>)]
    pub recalled_at: Option<NaiveDateTime>,
    pub recall_reason: Option<String>,
    #[schema(value_type = uuid::Uuid)]
    pub created_by: UserId,
    #[serde(with = "crate::model::time::utc")]
    #[schema(value_type = chrono::DateTime<chrono::Utc>)]
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Selectable, Insertable)]
#[diesel(table_name = stock_movements)]
pub struct StockMovement {
    pub id: String,
    pub kind: LedgerKind,
    #[schema(value_type = uuid::Uuid)]
    pub batch_id: BatchId,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub user_id: Option<UserId>,
    pub quantity: i32,
    pub reason: Option<WriteOffReason>,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub kit_issue_id: Option<KitIssueId>,
    #[schema(value_type = uuid::Uuid)]
    pub recorded_by: UserId,
    #[serde(with = "crate::model::time::utc")]
    #[schema(value_type = chrono::DateTime<chrono::Utc>)]
    pub created_at: NaiveDateTime,
}

impl StockMovement {
    pub fn new(kind: LedgerKind, batch_id: &BatchId, user_id: Option<&UserId>, quantity: i32, by: &UserId) -> Self {
        Self {
            id: Uuid::now_v7().to_string(),
            kind,
            batch_id: batch_id.clone(),
            user_id: user_id.cloned(),
            quantity,
            reason: None,
            kit_issue_id: None,
            recorded_by: by.clone(),
            created_at: crate::model::time::now(),
        }
    }
}

/// Kits of one batch on hand with one holder.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StockLine {
    #[schema(value_type = uuid::Uuid)]
    pub batch_id: BatchId,
    #[schema(value_type = uuid::Uuid)]
    pub product_id: ProductId,
    pub lot_number: String,
    #[schema(value_type = String, format = Date)]
    pub expires_on: NaiveDate,
    pub recalled: bool,
    /// The peer holding the kits; null for the organisation's store.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub user_id: Option<UserId>,
    pub on_hand: i32,
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

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StockFilter {
    pub batch_id: Option<Uuid>,
    /// One peer's kits (a peer always sees only their own).
    pub user_id: Option<Uuid>,
}

pub fn record_movement(conn: &mut DbConnection, movement: &StockMovement) -> Result<()> {
    diesel::insert_into(stock_movements::table).values(movement).execute(conn)?;
    Ok(())
}

/// A ledger entry: its kind, batch, holder and quantity.
pub type LedgerEntry = (LedgerKind, BatchId, Option<UserId>, i32);

/// The ledger entries of a handout's kits.
pub fn movements_of_kit_issue(conn: &mut DbConnection, kit_issue: &KitIssueId) -> Result<Vec<LedgerEntry>> {
    Ok(stock_movements::table
        .filter(stock_movements::kit_issue_id.eq(kit_issue))
        .select((stock_movements::kind, stock_movements::batch_id, stock_movements::user_id, stock_movements::quantity))
        .load(conn)?)
}

/// Takes kits from the store; false when there are not enough.
pub fn take_from_store(conn: &mut DbConnection, batch: &BatchId, quantity: i32) -> Result<bool> {
    let changed = diesel::update(batches::table.find(batch).filter(batches::unallocated.ge(quantity)))
        .set(batches::unallocated.eq(batches::unallocated - quantity))
        .execute(conn)?;
    Ok(changed == 1)
}

pub fn put_in_store(conn: &mut DbConnection, batch: &BatchId, quantity: i32) -> Result<()> {
    diesel::update(batches::table.find(batch))
        .set(batches::unallocated.eq(batches::unallocated + quantity))
        .execute(conn)?;
    Ok(())
}

/// Takes kits from a peer's allocation; false when they have not enough.
pub fn take_from_peer(conn: &mut DbConnection, batch: &BatchId, user: &UserId, quantity: i32) -> Result<bool> {
    let changed =
        diesel::update(stock_allocations::table.find((batch, user)).filter(stock_allocations::on_hand.ge(quantity)))
            .set(stock_allocations::on_hand.eq(stock_allocations::on_hand - quantity))
            .execute(conn)?;
    Ok(changed == 1)
}

pub fn give_to_peer(conn: &mut DbConnection, batch: &BatchId, user: &UserId, quantity: i32) -> Result<()> {
    let changed = diesel::update(stock_allocations::table.find((batch, user)))
        .set(stock_allocations::on_hand.eq(stock_allocations::on_hand + quantity))
        .execute(conn)?;
    if changed == 0 {
        diesel::insert_into(stock_allocations::table)
            .values((
                stock_allocations::batch_id.eq(batch),
                stock_allocations::user_id.eq(user),
                stock_allocations::on_hand.eq(quantity),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn find_batch(conn: &mut DbConnection, id: &BatchId) -> Result<Option<Batch>> {
    Ok(batches::table.find(id).select(Batch::as_select()).first(conn).optional()?)
}

/// The organisation's batches with this lot number (one, as a rule; lots of two makers may clash).
pub fn batches_with_lot(conn: &mut DbConnection, organisation: &OrganisationId, lot: &str) -> Result<Vec<Batch>> {
    Ok(batches::table
        .filter(batches::organisation_id.eq(organisation))
        .filter(batches::lot_number.eq(lot))
        .select(Batch::as_select())
        .load(conn)?)
}

pub fn insert_batch(conn: &mut DbConnection, batch: &Batch) -> Result<()> {
    diesel::insert_into(batches::table).values(batch).execute(conn)?;
    Ok(())
}

pub fn recall_batch(conn: &mut DbConnection, id: &BatchId, at: NaiveDateTime, reason: &str) -> Result<()> {
    diesel::update(batches::table.find(id))
        .set((batches::recalled_at.eq(at), batches::recall_reason.eq(reason)))
        .execute(conn)?;
    Ok(())
}

/// An organisation's batches that are neither recalled nor expired on `day`.
pub fn usable_batches(conn: &mut DbConnection, organisation: &OrganisationId, day: NaiveDate) -> Result<Vec<Batch>> {
    Ok(batches::table
        .filter(batches::organisation_id.eq(organisation))
        .filter(batches::recalled_at.is_null())
        .filter(batches::expires_on.ge(day))
        .order(batches::id.asc())
        .select(Batch::as_select())
        .load(conn)?)
}

/// A page of batches, of one organisation (or all).
pub fn list_batches(
    conn: &mut DbConnection,
    organisation: Option<&OrganisationId>,
    filter: &BatchFilter,
    paging: Paging<'_>,
) -> Result<Vec<Batch>> {
    let mut query = batches::table.select(Batch::as_select()).into_boxed();
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
    Ok(paged!(query, batches::id, paging).load(conn)?)
}

/// Stock on hand, by batch and holder, of one organisation (or all) and
/// optionally one holder. Batches with nothing on hand are left out.
pub fn on_hand(
    conn: &mut DbConnection,
    organisation: Option<&OrganisationId>,
    holder: Option<&UserId>,
    batch: Option<&BatchId>,
) -> Result<Vec<StockLine>> {
    let mut batch_query = batches::table.select(Batch::as_select()).order(batches::id.asc()).into_boxed();
    if let Some(organisation) = organisation {
        batch_query = batch_query.filter(batches::organisation_id.eq(organisation));
    }
    if let Some(batch) = batch {
        batch_query = batch_query.filter(batches::id.eq(batch));
    }
    let found = batch_query.load(conn)?;
    let ids: Vec<&BatchId> = found.iter().map(|b| &b.id).collect();
    let mut allocation_query = stock_allocations::table
        .filter(stock_allocations::batch_id.eq_any(&ids))
        .filter(stock_allocations::on_hand.gt(0))
        .order((stock_allocations::batch_id, stock_allocations::user_id))
        .select((stock_allocations::batch_id, stock_allocations::user_id, stock_allocations::on_hand))
        .into_boxed();
    if let Some(user) = holder {
        allocation_query = allocation_query.filter(stock_allocations::user_id.eq(user));
    }
    let allocations: Vec<(BatchId, UserId, i32)> = allocation_query.load(conn)?;
    let mut lines = Vec::new();
    for batch in &found {
        let line = |user_id: Option<UserId>, on_hand: i32| StockLine {
            batch_id: batch.id.clone(),
            product_id: batch.product_id.clone(),
            lot_number: batch.lot_number.clone(),
            expires_on: batch.expires_on,
            recalled: batch.recalled_at.is_some(),
            user_id,
            on_hand,
        };
        if holder.is_none() && batch.unallocated > 0 {
            lines.push(line(None, batch.unallocated));
        }
        lines.extend(allocations.iter().filter(|(b, _, _)| *b == batch.id).map(|(_, u, n)| line(Some(u.clone()), *n)));
    }
    Ok(lines)
}
