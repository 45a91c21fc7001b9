//! Organisations: the hubs, LEROs, services and teams whose peers hand out kits.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::audit::{self, Action};
use super::error::Error;
use super::listing::Listed;
use super::pagination::{Page, PageRequest};
use super::principal::Principal;
use super::transaction;
use super::validation::plain_text;
use crate::model::ids::{AreaId, OrganisationId};
use crate::model::reference::OrganisationKind;
use crate::model::roles::Role;
use crate::model::time::now;
pub use crate::storage::organisations::Organisation;
use crate::storage::{areas, kit_issues, locks, organisations, stat_cells, Database, DbConnection};

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisation {
    #[validate(length(max = 200), custom(function = "plain_text"))]
    #[schema(
        example = "Kilmarnock Recovery Hub",
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: String,
    pub kind: OrganisationKind,
    pub area_id: Uuid,
    /// Defaults to false: recording must not wait for stock to be set up.
    pub tracks_stock: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationPatch {
    #[validate(length(max = 200), custom(function = "plain_text"))]
    #[schema(max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$")]
    pub name: Option<String>,
    pub kind: Option<OrganisationKind>,
    pub area_id: Option<Uuid>,
    pub tracks_stock: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OrganisationFilter {
    pub area_id: Option<Uuid>,
    pub kind: Option<OrganisationKind>,
}

impl Listed for Organisation {
    type Id = OrganisationId;
    type Filter = OrganisationFilter;
    const NAME: &'static str = "organisation";

    fn find(conn: &mut DbConnection, _: &Principal, id: &OrganisationId) -> Result<Option<Organisation>, Error> {
        Ok(organisations::find(conn, id)?)
    }

    fn list(
        conn: &mut DbConnection,
        _: &Principal,
        filter: &OrganisationFilter,
        page: &PageRequest,
    ) -> Result<Page<Organisation>, Error> {
        let area = filter.area_id.map(AreaId::from);
        let rows = organisations::list(conn, area.as_ref(), filter.kind, page.paging())?;
        Ok(Page::from_rows(rows, page, |o| o.id.as_str()))
    }
}

fn check_area(conn: &mut DbConnection, area: &AreaId) -> Result<(), Error> {
    if !areas::exists(conn, area)? {
        return Err(Error::invalid_field("area_id", "not_found", "no such area"));
    }
    Ok(())
}

/// Creates an organisation (admin).
pub async fn create(db: &Database, principal: Principal, new: NewOrganisation) -> Result<Organisation, Error> {
    principal.require_any(&[Role::Admin])?;
    transaction::write(db, move |conn| {
        let area_id = AreaId::from(new.area_id);
        check_area(conn, &area_id)?;
        let at = now();
        let organisation = Organisation {
            id: OrganisationId::new_v7(),
            name: new.name.trim().to_owned(),
            kind: new.kind,
            area_id,
            tracks_stock: new.tracks_stock.unwrap_or(false),
            created_at: at,
            updated_at: at,
        };
        organisations::insert(conn, &organisation)?;
        let id = organisation.id.as_str();
        audit::record(conn, &principal.actor(), Action::Create, "organisation", id, None, &organisation)?;
        Ok(organisation)
    })
    .await
}

/// An organisation as changed, and what waits on it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangedOrganisation {
    #[serde(flatten)]
    pub organisation: Organisation,
    /// Its handouts held because they name no batch while it tracks stock.
    /// Phones queue handouts offline: once `tracks_stock` is switched on,
    /// those sent without a batch are held here until a coordinator names
    /// their batch and releases them (`GET /api/v1/kit-issues?state=held`).
    pub held_for_missing_batch: i64,
}

/// Changes an organisation: an admin anything, a coordinator of it whether
/// it tracks stock. Its trainings count in its area, so when it moves,
/// their totals move with it.
pub async fn update(
    db: &Database,
    principal: Principal,
    id: OrganisationId,
    patch: OrganisationPatch,
) -> Result<ChangedOrganisation, Error> {
    let only_stock = patch.name.is_none() && patch.kind.is_none() && patch.area_id.is_none();
    if !(principal.is_admin() || (only_stock && principal.coordinates(&id))) {
        return Err(Error::forbidden("an admin changes an organisation; its coordinators may switch tracks_stock"));
    }
    transaction::write(db, move |conn| {
        locks::row(conn, locks::Table::Organisations, id.as_str())?;
        let before = organisations::find(conn, &id)?.ok_or(Error::NotFound("organisation"))?;
        let mut after = before.clone();
        if let Some(name) = &patch.name {
            after.name = name.trim().to_owned();
        }
        if let Some(kind) = patch.kind {
            after.kind = kind;
        }
        if let Some(area) = patch.area_id {
            after.area_id = AreaId::from(area);
            check_area(conn, &after.area_id)?;
        }
        if let Some(tracks_stock) = patch.tracks_stock {
            after.tracks_stock = tracks_stock;
        }
        after.updated_at = now();
        organisations::update(conn, &after)?;
        if after.area_id != before.area_id {
            stat_cells::move_trainings(conn, id.as_str(), after.area_id.as_str())?;
        }
        audit::record(conn, &principal.actor(), Action::Update, "organisation", id.as_str(), Some(&before), &after)?;
        let held_for_missing_batch = kit_issues::held_for_missing_batch(conn, &id)?;
        Ok(ChangedOrganisation { organisation: after, held_for_missing_batch })
    })
    .await
}
