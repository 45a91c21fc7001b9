//! Stock: batches an organisation receives, kits allocated to peers, and a
//! ledger of every movement. Balances never go below zero, even when many
//! requests race for the last kits (storage changes them conditionally).

use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::audit::{self, Action};
use super::error::{Code, Error};
use super::pagination::{Page, PageRequest};
use super::principal::Principal;
use super::validation::{plain_text, plausible_date};
use crate::model::ids::{BatchId, KitIssueId, OrganisationId, ProductId, UserId};
use crate::model::roles::Role;
pub use crate::model::stock::{LedgerKind, MovementKind, WriteOffReason};
use crate::model::time::now;
use crate::storage::stock::{self as stored, StockMovement};
pub use crate::storage::stock::{Batch, BatchFilter, StockFilter, StockLine};
use crate::storage::{locks, organisations, products, users, Database, DbConnection};

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBatch {
    pub product_id: Uuid,
    #[validate(length(max = 64), custom(function = "plain_text"))]
    #[schema(max_length = 64, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$")]
    pub lot_number: String,
    #[schema(value_type = String, format = Date)]
    #[validate(custom(function = "plausible_date"))]
    pub expires_on: chrono::NaiveDate,
    #[validate(range(min = 1, max = 100000))]
    #[schema(minimum = 1, maximum = 100000)]
    pub quantity: i32,
    /// Admins only; a coordinator's batches are their organisation's.
    pub organisation_id: Option<Uuid>,
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

pub fn insufficient_stock() -> Error {
    Error::conflict(Code::InsufficientStock, "there are not enough kits of this batch on hand")
}

/// Kits handed out: taken from the peer's allocation of the batch, or a conflict.
pub fn issue_from_allocation(
    conn: &mut DbConnection,
    batch: &BatchId,
    peer: &UserId,
    quantity: i32,
    kit_issue: &KitIssueId,
) -> Result<(), Error> {
    if !stored::take_from_peer(conn, batch, peer, quantity)? {
        return Err(insufficient_stock());
    }
    let movement = StockMovement {
        kit_issue_id: Some(kit_issue.clone()),
        ..StockMovement::new(LedgerKind::Issue, batch, Some(peer), quantity, peer)
    };
    Ok(stored::record_movement(conn, &movement)?)
}

/// Puts back whatever stock a handout took (nothing, if its organisation
/// did not track stock when it was recorded): a void or a correction.
pub fn reverse_issue(conn: &mut DbConnection, kit_issue: &KitIssueId, recorded_by: &UserId) -> Result<(), Error> {
    let mut net: Vec<(BatchId, UserId, i32)> = Vec::new();
    for (kind, batch, user, quantity) in stored::movements_of_kit_issue(conn, kit_issue)? {
        let Some(user) = user else { continue };
        let signed = if kind == LedgerKind::Issue { quantity } else { -quantity };
        match net.iter_mut().find(|(b, u, _)| *b == batch && *u == user) {
            Some(entry) => entry.2 += signed,
            None => net.push((batch, user, signed)),
        }
    }
    for (batch, peer, quantity) in net.into_iter().filter(|(_, _, q)| *q > 0) {
        stored::give_to_peer(conn, &batch, &peer, quantity)?;
        let movement = StockMovement {
            kit_issue_id: Some(kit_issue.clone()),
            ..StockMovement::new(LedgerKind::IssueReversed, &batch, Some(&peer), quantity, recorded_by)
        };
        stored::record_movement(conn, &movement)?;
    }
    Ok(())
}

/// Coordinators manage their own organisation's stock; admins any.
fn require_stock_manager(principal: &Principal, organisation: &OrganisationId) -> Result<(), Error> {
    if principal.is_admin() || principal.coordinates(organisation) {
        Ok(())
    } else {
        Err(Error::forbidden("stock is managed by the organisation's coordinators"))
    }
}

fn receive(conn: &mut DbConnection, principal: &Principal, new: &NewBatch) -> Result<Batch, Error> {
    principal.require_any(&[Role::Coordinator, Role::Admin])?;
    let organisation_id = match (new.organisation_id, principal.is_admin()) {
        (Some(asked), true) => OrganisationId::from(asked),
        (None, _) | (Some(_), false) => principal
            .organisation_id
            .clone()
            .ok_or_else(|| Error::invalid_field("organisation_id", "required", "say which organisation received it"))?,
    };
    require_stock_manager(principal, &organisation_id)?;
    if !organisations::exists(conn, &organisation_id)? {
        return Err(Error::invalid_field("organisation_id", "not_found", "no such organisation"));
    }
    let product_id = ProductId::from(new.product_id);
    if !products::exists(conn, &product_id)? {
        return Err(Error::invalid_field("product_id", "not_found", "no such product"));
    }
    let batch = Batch {
        id: BatchId::new_v7(),
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
    stored::insert_batch(conn, &batch)?;
    let received = StockMovement::new(LedgerKind::Receive, &batch.id, None, batch.quantity, &principal.user_id);
    stored::record_movement(conn, &received)?;
    audit::record(conn, &principal.actor(), Action::Create, "batch", batch.id.as_str(), None, &batch)?;
    Ok(batch)
}

fn recall(conn: &mut DbConnection, principal: &Principal, id: &BatchId, reason: &str) -> Result<Batch, Error> {
    // Held, so that two recalls at once store and audit one.
    locks::row(conn, locks::Table::Batches, id.as_str())?;
    let batch = stored::find_batch(conn, id)?.ok_or(Error::NotFound("batch"))?;
    require_stock_manager(principal, &batch.organisation_id)?;
    if batch.recalled_at.is_some() {
        return Ok(batch);
    }
    stored::recall_batch(conn, id, now(), reason.trim())?;
    let after = stored::find_batch(conn, id)?.ok_or(Error::NotFound("batch"))?;
    audit::record(conn, &principal.actor(), Action::Revoke, "batch", id.as_str(), Some(&batch), &after)?;
    Ok(after)
}

/// Kits go only to an active peer of the batch's organisation.
fn check_peer(conn: &mut DbConnection, user: &UserId, organisation: &OrganisationId) -> Result<(), Error> {
    let peer = users::find_account(conn, user)?.filter(|a| {
        a.row.active && a.roles.contains(&Role::Peer) && a.row.organisation_id.as_ref() == Some(organisation)
    });
    peer.map(|_| ()).ok_or_else(|| Error::invalid_field("user_id", "not_a_peer", "no active peer of this organisation"))
}

/// Kits come back from (or are written off for) whoever holds them: a
/// peer since deactivated, moved to another organisation or no longer a
/// peer included. What they hold is checked when the kits are taken.
fn check_holder(conn: &mut DbConnection, user: &UserId) -> Result<(), Error> {
    match users::find_account(conn, user)? {
        Some(_) => Ok(()),
        None => Err(Error::invalid_field("user_id", "not_found", "no such user")),
    }
}

fn move_stock(conn: &mut DbConnection, principal: &Principal, new: &NewMovement) -> Result<StockMovement, Error> {
    principal.require_any(&[Role::Coordinator, Role::Admin])?;
    let batch_id = BatchId::from(new.batch_id);
    let batch = stored::find_batch(conn, &batch_id)?
        .ok_or_else(|| Error::invalid_field("batch_id", "not_found", "no such batch"))?;
    require_stock_manager(principal, &batch.organisation_id)?;
    let peer = new.user_id.map(UserId::from);
    match (&peer, new.kind) {
        (Some(peer), MovementKind::Allocate) => check_peer(conn, peer, &batch.organisation_id)?,
        (Some(holder), MovementKind::Return | MovementKind::WriteOff) => check_holder(conn, holder)?,
        (None, _) => {}
    }
    let needs_peer = || Error::invalid_field("user_id", "required", "say which peer");
    let (kind, quantity) = (new.kind, new.quantity);
    let ledger = match kind {
        MovementKind::Allocate => {
            let peer = peer.as_ref().ok_or_else(needs_peer)?;
            if batch.recalled_at.is_some() {
                return Err(Error::invalid_field("batch_id", "batch_recalled", "a recalled batch cannot be allocated"));
            }
            if !stored::take_from_store(conn, &batch_id, quantity)? {
                return Err(insufficient_stock());
            }
            stored::give_to_peer(conn, &batch_id, peer, quantity)?;
            LedgerKind::Allocate
        }
        MovementKind::Return => {
            let peer = peer.as_ref().ok_or_else(needs_peer)?;
            if !stored::take_from_peer(conn, &batch_id, peer, quantity)? {
                return Err(insufficient_stock());
            }
            stored::put_in_store(conn, &batch_id, quantity)?;
            LedgerKind::Return
        }
        MovementKind::WriteOff => {
            if new.reason.is_none() {
                return Err(Error::invalid_field("reason", "required", "say why the kits are written off"));
            }
            let taken = match &peer {
                Some(peer) => stored::take_from_peer(conn, &batch_id, peer, quantity)?,
                None => stored::take_from_store(conn, &batch_id, quantity)?,
            };
            if !taken {
                return Err(insufficient_stock());
            }
            LedgerKind::WriteOff
        }
    };
    let reason = if kind == MovementKind::WriteOff { new.reason } else { None };
    if reason.is_none() && new.reason.is_some() {
        return Err(Error::invalid_field("reason", "not_allowed", "only a write-off has a reason"));
    }
    let movement =
        StockMovement { reason, ..StockMovement::new(ledger, &batch_id, peer.as_ref(), quantity, &principal.user_id) };
    stored::record_movement(conn, &movement)?;
    audit::record(conn, &principal.actor(), Action::Create, "stock_movement", &movement.id, None, &movement)?;
    Ok(movement)
}

/// Whose stock a caller sees: (organisation, holder); `None` is all.
fn stock_scope(principal: &Principal) -> Result<(Option<OrganisationId>, Option<UserId>), Error> {
    if principal.is_admin() {
        return Ok((None, None));
    }
    let organisation = principal
        .organisation_id
        .clone()
        .ok_or_else(|| Error::forbidden("stock belongs to organisations; this account has none"))?;
    if principal.has(Role::Coordinator) {
        Ok((Some(organisation), None))
    } else if principal.has(Role::Peer) {
        Ok((Some(organisation), Some(principal.user_id.clone())))
    } else {
        Err(Error::forbidden("stock is seen by coordinators and peers"))
    }
}

/// Records stock received (a coordinator for their organisation; an admin for any).
pub async fn create_batch(db: &Database, principal: Principal, new: NewBatch) -> Result<Batch, Error> {
    super::transaction::write(db, move |conn| receive(conn, &principal, &new)).await
}

/// Recalls a batch: its kits can no longer be allocated or handed out. Recalling again changes nothing.
pub async fn recall_batch(db: &Database, principal: Principal, id: BatchId, reason: String) -> Result<Batch, Error> {
    super::transaction::write(db, move |conn| recall(conn, &principal, &id, &reason)).await
}

/// Allocates kits to a peer, takes them back, or writes them off.
pub async fn create_movement(db: &Database, principal: Principal, new: NewMovement) -> Result<StockMovement, Error> {
    super::transaction::write(db, move |conn| move_stock(conn, &principal, &new)).await
}

/// Peers of an organisation see its batches (to pick one on a handout); coordinators manage them.
pub async fn list_batches(
    db: &Database,
    principal: Principal,
    filter: BatchFilter,
    page: PageRequest,
) -> Result<Page<Batch>, Error> {
    let organisation = if principal.is_admin() {
        filter.organisation_id.map(OrganisationId::from)
    } else {
        Some(
            principal
                .organisation_id
                .clone()
                .ok_or_else(|| Error::forbidden("batches belong to organisations; this account has none"))?,
        )
    };
    db.run(move |conn| {
        let rows = stored::list_batches(conn, organisation.as_ref(), &filter, page.paging())?;
        Ok(Page::from_rows(rows, &page, |b| b.id.as_str()))
    })
    .await
}

/// Stock on hand, by batch and holder (a peer sees their own).
pub fn on_hand(
    conn: &mut DbConnection,
    organisation: Option<&OrganisationId>,
    peer: Option<&UserId>,
    filter: &StockFilter,
) -> Result<Vec<StockLine>, Error> {
    let holder = peer.cloned().or(filter.user_id.map(UserId::from));
    let batch = filter.batch_id.map(BatchId::from);
    Ok(stored::on_hand(conn, organisation, holder.as_ref(), batch.as_ref())?)
}

/// The stock on hand the caller may see.
pub async fn stock_on_hand(db: &Database, principal: Principal, filter: StockFilter) -> Result<Vec<StockLine>, Error> {
    let (organisation, peer) = stock_scope(&principal)?;
    db.run(move |conn| on_hand(conn, organisation.as_ref(), peer.as_ref(), &filter)).await
}
