//! Areas: nation > health board > ADP or local authority, as a tree.

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::audit::{self, Action};
use super::error::Error;
use super::listing::Listed;
use super::pagination::{Page, PageRequest};
use super::patch::double_option;
use super::principal::Principal;
use super::transaction;
use super::validation::plain_text;
use crate::model::ids::AreaId;
use crate::model::roles::Role;
use crate::model::time::now;
pub use crate::storage::areas::Area;
use crate::storage::{areas, locks, Database, DbConnection};

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewArea {
    #[validate(length(max = 200), custom(function = "plain_text"))]
    #[schema(
        example = "East Ayrshire",
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: String,
    pub parent_id: Option<Uuid>,
    #[validate(range(min = 0))]
    #[schema(minimum = 0)]
    pub population_at_risk: Option<i32>,
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AreaPatch {
    #[validate(length(max = 200), custom(function = "plain_text"))]
    #[schema(max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub parent_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(range(min = 0))]
    #[schema(value_type = Option<i32>, minimum = 0)]
    pub population_at_risk: Option<Option<i32>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AreaFilter {
    /// Only the direct children of this area.
    pub parent_id: Option<Uuid>,
}

impl Listed for Area {
    type Id = AreaId;
    type Filter = AreaFilter;
    const NAME: &'static str = "area";

    fn find(conn: &mut DbConnection, _: &Principal, id: &AreaId) -> Result<Option<Area>, Error> {
        Ok(areas::find(conn, id)?)
    }

    fn list(
        conn: &mut DbConnection,
        _: &Principal,
        filter: &AreaFilter,
        page: &PageRequest,
    ) -> Result<Page<Area>, Error> {
        let parent = filter.parent_id.map(AreaId::from);
        let rows = areas::list(conn, parent.as_ref(), page.paging())?;
        Ok(Page::from_rows(rows, page, |a| a.id.as_str()))
    }
}

/// The deepest an area can lie (nation > board > partnership, with room to
/// spare): every walk of the tree stops here, so that no data, not even a
/// cycle that slipped in, can keep a request walking for ever.
pub const MAX_DEPTH: usize = 12;

/// An area and every area beneath it, down to [`MAX_DEPTH`] levels (the
/// area itself first), each once.
pub fn with_descendants(conn: &mut DbConnection, root: &AreaId) -> Result<Vec<AreaId>, Error> {
    let links = areas::parents(conn)?;
    let mut found = vec![root.clone()];
    let mut level = vec![root.clone()];
    for _ in 0..MAX_DEPTH {
        level = links
            .iter()
            .filter(|(id, parent)| parent.as_ref().is_some_and(|p| level.contains(p)) && !found.contains(id))
            .map(|(id, _)| id.clone())
            .collect();
        if level.is_empty() {
            break;
        }
        found.extend(level.iter().cloned());
    }
    Ok(found)
}

/// A parent must exist, must not be the area itself or one beneath it, and
/// must leave the area within [`MAX_DEPTH`] levels. The caller holds the
/// tree (`locks::area_tree`), so that no other parent change can make a
/// cycle with this one between the check and the write.
fn check_parent(conn: &mut DbConnection, area: &AreaId, parent: Option<&AreaId>) -> Result<(), Error> {
    let mut next = parent.cloned();
    for _ in 0..MAX_DEPTH {
        let Some(id) = next else { return Ok(()) };
        if &id == area {
            return Err(Error::invalid_field("parent_id", "cycle", "an area cannot lie within itself"));
        }
        let parent =
            areas::find(conn, &id)?.ok_or_else(|| Error::invalid_field("parent_id", "not_found", "no such area"))?;
        next = parent.parent_id;
    }
    Err(Error::invalid_field("parent_id", "too_deep", "areas lie at most 12 levels deep"))
}

/// Creates an area (admin).
pub async fn create(db: &Database, principal: Principal, new: NewArea) -> Result<Area, Error> {
    principal.require_any(&[Role::Admin])?;
    transaction::write(db, move |conn| {
        if new.parent_id.is_some() {
            locks::area_tree(conn)?;
        }
        let at = now();
        let area = Area {
            id: AreaId::new_v7(),
            name: new.name.trim().to_owned(),
            parent_id: new.parent_id.map(AreaId::from),
            population_at_risk: new.population_at_risk,
            created_at: at,
            updated_at: at,
        };
        check_parent(conn, &area.id, area.parent_id.as_ref())?;
        areas::insert(conn, &area)?;
        audit::record(conn, &principal.actor(), Action::Create, "area", area.id.as_str(), None, &area)?;
        Ok(area)
    })
    .await
}

/// Changes an area (admin).
pub async fn update(db: &Database, principal: Principal, id: AreaId, patch: AreaPatch) -> Result<Area, Error> {
    principal.require_any(&[Role::Admin])?;
    transaction::write(db, move |conn| {
        if patch.parent_id.is_some() {
            locks::area_tree(conn)?;
        }
        locks::row(conn, locks::Table::Areas, id.as_str())?;
        let before = areas::find(conn, &id)?.ok_or(Error::NotFound("area"))?;
        let mut after = before.clone();
        if let Some(name) = &patch.name {
            after.name = name.trim().to_owned();
        }
        if let Some(parent_id) = patch.parent_id {
            after.parent_id = parent_id.map(AreaId::from);
            check_parent(conn, &after.id, after.parent_id.as_ref())?;
        }
        if let Some(population) = patch.population_at_risk {
            after.population_at_risk = population;
        }
        after.updated_at = now();
        areas::update(conn, &after)?;
        audit::record(conn, &principal.actor(), Action::Update, "area", id.as_str(), Some(&before), &after)?;
        Ok(after)
    })
    .await
}
