//! Areas: nation > health board > ADP or local authority, as a tree.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::connection::DbConnection;
use super::error::Result;
use super::paging::{paged, Paging};
use super::schema::areas;
use crate::model::ids::AreaId;

/// A region. Its parent is the larger area it lies in.
#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = areas, treat_none_as_null = true)]
pub struct Area {
    #[schema(value_type = uuid::Uuid)]
    pub id: AreaId,
    #[schema(example = "East Ayrshire")]
    pub name: String,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub parent_id: Option<AreaId>,
    /// Estimated number of people at risk of opioid overdose, for reach figures.
    #[schema(example = 1200)]
    pub population_at_risk: Option<i32>,
    #[serde(with = "crate::model::time::utc")]
    #[schema(value_type = DateTime<Utc>)]
    pub created_at: NaiveDateTime,
    #[serde(with = "crate::model::time::utc")]
    #[schema(value_type = DateTime<Utc>)]
    pub updated_at: NaiveDateTime,
}

pub fn find(conn: &mut DbConnection, id: &AreaId) -> Result<Option<Area>> {
    Ok(areas::table.find(id).select(Area::as_select()).first(conn).optional()?)
}

pub fn exists(conn: &mut DbConnection, id: &AreaId) -> Result<bool> {
    Ok(areas::table.find(id).select(areas::id).first::<AreaId>(conn).optional()?.is_some())
}

/// Every area's parent: areas are few (nations, boards, partnerships), so
/// walks of the tree read them all at once.
pub fn parents(conn: &mut DbConnection) -> Result<Vec<(AreaId, Option<AreaId>)>> {
    Ok(areas::table.select((areas::id, areas::parent_id)).load(conn)?)
}

/// Every area, in creation order (what a phone caches).
pub fn all(conn: &mut DbConnection) -> Result<Vec<Area>> {
    Ok(areas::table.order(areas::id.asc()).select(Area::as_select()).load(conn)?)
}

/// A page of areas, optionally the children of one.
pub fn list(conn: &mut DbConnection, parent: Option<&AreaId>, paging: Paging<'_>) -> Result<Vec<Area>> {
    let mut query = areas::table.select(Area::as_select()).into_boxed();
    if let Some(parent) = parent {
        query = query.filter(areas::parent_id.eq(parent));
    }
    Ok(paged!(query, areas::id, paging).load(conn)?)
}

pub fn insert(conn: &mut DbConnection, area: &Area) -> Result<()> {
    diesel::insert_into(areas::table).values(area).execute(conn)?;
    Ok(())
}

pub fn update(conn: &mut DbConnection, area: &Area) -> Result<()> {
    diesel::update(areas::table.find(&area.id)).set(area).execute(conn)?;
    Ok(())
}

/// The names of some areas.
pub fn names(conn: &mut DbConnection, ids: &[&AreaId]) -> Result<Vec<(AreaId, String)>> {
    Ok(areas::table.filter(areas::id.eq_any(ids)).select((areas::id, areas::name)).load(conn)?)
}
