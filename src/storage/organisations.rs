//! Organisations: the hubs, LEROs, services and teams whose peers hand out kits.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::connection::DbConnection;
use super::error::Result;
use super::paging::{paged, Paging};
use super::schema::organisations;
use crate::model::ids::{AreaId, OrganisationId};
use crate::model::reference::OrganisationKind;

#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = organisations)]
pub struct Organisation {
    #[schema(value_type = uuid::Uuid)]
    pub id: OrganisationId,
    #[schema(example = "Kilmarnock Recovery Hub")]
    pub name: String,
    pub kind: OrganisationKind,
    #[schema(value_type = uuid::Uuid)]
    pub area_id: AreaId,
    /// Whether kit handouts draw on stock allocated to the peer.
    pub tracks_stock: bool,
    #[serde(with = "crate::model::time::utc")]
    #[schema(value_type = DateTime<Utc>)]
    pub created_at: NaiveDateTime,
    #[serde(with = "crate::model::time::utc")]
    #[schema(value_type = DateTime<Utc>)]
    pub updated_at: NaiveDateTime,
}

pub fn find(conn: &mut DbConnection, id: &OrganisationId) -> Result<Option<Organisation>> {
    Ok(organisations::table.find(id).select(Organisation::as_select()).first(conn).optional()?)
}

pub fn exists(conn: &mut DbConnection, id: &OrganisationId) -> Result<bool> {
    Ok(organisations::table.find(id).select(organisations::id).first::<OrganisationId>(conn).optional()?.is_some())
}

/// The area an organisation belongs to.
pub fn area_of(conn: &mut DbConnection, id: &OrganisationId) -> Result<AreaId> {
    Ok(organisations::table.find(id).select(organisations::area_id).first(conn)?)
}

/// A page of organisations.
/// Every organisation, by id.
pub fn all(conn: &mut DbConnection) -> Result<Vec<Organisation>> {
    Ok(organisations::table.order(organisations::id.asc()).select(Organisation::as_select()).load(conn)?)
}

pub fn list(
    conn: &mut DbConnection,
    area: Option<&AreaId>,
    kind: Option<OrganisationKind>,
    paging: Paging<'_>,
) -> Result<Vec<Organisation>> {
    let mut query = organisations::table.select(Organisation::as_select()).into_boxed();
    if let Some(area) = area {
        query = query.filter(organisations::area_id.eq(area));
    }
    if let Some(kind) = kind {
        query = query.filter(organisations::kind.eq(kind));
    }
    Ok(paged!(query, organisations::id, paging).load(conn)?)
}

pub fn insert(conn: &mut DbConnection, organisation: &Organisation) -> Result<()> {
    diesel::insert_into(organisations::table).values(organisation).execute(conn)?;
    Ok(())
}

pub fn update(conn: &mut DbConnection, organisation: &Organisation) -> Result<()> {
    diesel::update(organisations::table.find(&organisation.id)).set(organisation).execute(conn)?;
    Ok(())
}
