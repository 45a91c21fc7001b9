//! Organisations: the hubs, LEROs, services and teams whose peers hand out kits.

use actix_web::{http::header, web, HttpResponse};
use chrono::NaiveDateTime;
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
use crate::pagination::{ListQuery, Page, PageParams};
use crate::schema::organisations;
use crate::server::AppState;
use crate::validation::plain_text;

crate::text_enum! {
    pub enum OrganisationKind {
        RecoveryHub = "recovery_hub",
        /// Lived-experience recovery organisation.
        Lero = "lero",
        DrugService = "drug_service",
        Pharmacy = "pharmacy",
        Prison = "prison",
        Hospital = "hospital",
        OutreachTeam = "outreach_team",
        Other = "other",
    }
}

#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = organisations)]
pub struct Organisation {
    pub id: String,
    #[schema(example = "Kilmarnock Recovery Hub")]
    pub name: String,
    pub kind: OrganisationKind,
    pub area_id: String,
    /// Whether kit handouts draw on stock allocated to the peer.
    pub tracks_stock: bool,
    #[serde(with = "crate::time::utc")]
    #[schema(value_type = DateTime<Utc>)]
    pub created_at: NaiveDateTime,
    #[serde(with = "crate::time::utc")]
    #[schema(value_type = DateTime<Utc>)]
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
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

#[derive(Debug, Deserialize, Validate, ToSchema)]
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

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<Organisation>, ApiError> {
    Ok(organisations::table.find(id).select(Organisation::as_select()).first(conn).optional()?)
}

fn check_area(conn: &mut DbConnection, area_id: &str) -> Result<(), ApiError> {
    crate::areas::find(conn, area_id)?
        .ok_or_else(|| ApiError::invalid_field("area_id", "not_found", "no such area"))?;
    Ok(())
}

/// Lists organisations in creation order.
#[utoipa::path(
    get, path = "/api/v1/organisations", tag = "organisations", operation_id = "list_organisations",
    params(OrganisationFilter, PageParams),
    responses(
        (status = 200, description = "A page of organisations", body = Page<Organisation>),
        (status = 400, response = responses::BadRequest),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    _principal: Principal,
    query: ListQuery<OrganisationFilter>,
) -> Result<HttpResponse, ApiError> {
    let ListQuery { filter, page } = query;
    let result = state
        .db
        .run(move |conn| {
            let mut query = organisations::table
                .select(Organisation::as_select())
                .order(organisations::id.asc())
                .limit(page.limit + 1)
                .into_boxed();
            if let Some(area) = filter.area_id {
                query = query.filter(organisations::area_id.eq(area.to_string()));
            }
            if let Some(kind) = filter.kind {
                query = query.filter(organisations::kind.eq(kind));
            }
            if let Some(after) = &page.after {
                query = query.filter(organisations::id.gt(after.clone()));
            }
            Ok(Page::from_rows(query.load(conn)?, &page, |o: &Organisation| &o.id))
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Creates an organisation (admin).
#[utoipa::path(
    post, path = "/api/v1/organisations", tag = "organisations", operation_id = "create_organisation",
    request_body = NewOrganisation,
    responses(
        (status = 201, description = "Created", body = Organisation, headers(("Location" = String, description = "The new organisation's URL"))),
        (status = 403, response = responses::Forbidden),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<NewOrganisation>,
) -> Result<HttpResponse, ApiError> {
    principal.require_any(&[Role::Admin])?;
    let new = body.into_inner();
    let organisation = state
        .db
        .write(move |conn| {
            let area_id = new.area_id.to_string();
            check_area(conn, &area_id)?;
            let at = now();
            let organisation = Organisation {
                id: Uuid::now_v7().to_string(),
                name: new.name.trim().to_owned(),
                kind: new.kind,
                area_id,
                tracks_stock: new.tracks_stock.unwrap_or(false),
                created_at: at,
                updated_at: at,
            };
            diesel::insert_into(organisations::table).values(&organisation).execute(conn)?;
            audit::record(
                conn,
                &principal.actor(),
                Action::Create,
                "organisation",
                &organisation.id,
                None,
                &organisation,
            )?;
            Ok(organisation)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/organisations/{}", organisation.id)))
        .json(organisation))
}

/// Reads an organisation.
#[utoipa::path(
    get, path = "/api/v1/organisations/{id}", tag = "organisations", operation_id = "get_organisation",
    params(("id" = Uuid, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "The organisation", body = Organisation),
        (status = 404, response = responses::NotFound),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn get(
    state: web::Data<AppState>,
    _principal: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    let organisation =
        state.db.run(move |conn| find(conn, &id)).await?.ok_or_else(|| ApiError::not_found("organisation"))?;
    Ok(HttpResponse::Ok().json(organisation))
}

/// Changes an organisation (admin).
#[utoipa::path(
    patch, path = "/api/v1/organisations/{id}", tag = "organisations", operation_id = "update_organisation",
    params(("id" = Uuid, Path, description = "Organisation id")),
    request_body = OrganisationPatch,
    responses(
        (status = 200, description = "The changed organisation", body = Organisation),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidJson<OrganisationPatch>,
) -> Result<HttpResponse, ApiError> {
    principal.require_any(&[Role::Admin])?;
    let id = id.into_inner().to_string();
    let patch = body.into_inner();
    let organisation = state
        .db
        .write(move |conn| {
            let before = find(conn, &id)?.ok_or_else(|| ApiError::not_found("organisation"))?;
            let mut after = before.clone();
            if let Some(name) = patch.name {
                after.name = name.trim().to_owned();
            }
            if let Some(kind) = patch.kind {
                after.kind = kind;
            }
            if let Some(area) = patch.area_id {
                after.area_id = area.to_string();
                check_area(conn, &after.area_id)?;
            }
            if let Some(tracks_stock) = patch.tracks_stock {
                after.tracks_stock = tracks_stock;
            }
            after.updated_at = now();
            diesel::update(organisations::table.find(&id)).set(&after).execute(conn)?;
            if after.area_id != before.area_id {
                crate::stats::cells::move_trainings(conn, &id, &after.area_id)?;
            }
            audit::record(conn, &principal.actor(), Action::Update, "organisation", &id, Some(&before), &after)?;
            Ok(after)
        })
        .await?;
    Ok(HttpResponse::Ok().json(organisation))
}
