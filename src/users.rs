//! Users: who may sign in, with which roles, for which organisation or area.

use std::collections::HashMap;

use actix_web::{http::header, web, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::audit::{self, Action, Actor};
use crate::auth::password::{self, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH};
use crate::auth::{sessions, Principal, Role};
use crate::db::{now, DbConnection};
use crate::error::{responses, ApiError, FieldError};
use crate::extract::ValidJson;
use crate::pagination::{ListQuery, Page, PageParams};
use crate::patch::double_option;
use crate::schema::{areas, organisations, user_roles, users};
use crate::server::AppState;
use crate::validation::plain_text;

/// The roles a coordinator may grant within their own organisation.
const COORDINATOR_GRANTS: &[Role] = &[Role::Peer, Role::Trainer, Role::Coordinator];
/// Roles that act for an organisation, and so need one.
const ORGANISATION_ROLES: &[Role] = &[Role::Coordinator, Role::Trainer, Role::Peer];

/// A user as the API shows it. The password hash never leaves the server.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct User {
    pub id: String,
    #[schema(example = "peer@hub.example")]
    pub email: String,
    #[schema(example = "Sam K.")]
    pub display_name: String,
    pub roles: Vec<Role>,
    /// The organisation a coordinator, trainer or peer works for.
    pub organisation_id: Option<String>,
    /// The area a commissioner oversees.
    pub area_id: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = users, treat_none_as_null = true)]
struct UserRow {
    id: String,
    email: String,
    display_name: String,
    password_hash: String,
    organisation_id: Option<String>,
    area_id: Option<String>,
    active: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// A stored user with their roles, as the server itself needs it.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub organisation_id: Option<String>,
    pub area_id: Option<String>,
    pub active: bool,
    pub roles: Vec<Role>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Account {
    fn from_row(row: UserRow, roles: Vec<Role>) -> Self {
        Self {
            id: row.id,
            email: row.email,
            display_name: row.display_name,
            password_hash: row.password_hash,
            organisation_id: row.organisation_id,
            area_id: row.area_id,
            active: row.active,
            roles,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }

    fn to_row(&self) -> UserRow {
        UserRow {
            id: self.id.clone(),
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            password_hash: self.password_hash.clone(),
            organisation_id: self.organisation_id.clone(),
            area_id: self.area_id.clone(),
            active: self.active,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    pub fn to_user(&self) -> User {
        User {
            id: self.id.clone(),
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            roles: self.roles.clone(),
            organisation_id: self.organisation_id.clone(),
            area_id: self.area_id.clone(),
            active: self.active,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        }
    }
}

/// Emails are compared without case or surrounding space.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// One query: every request's caller is looked up with it.
pub fn find_account(conn: &mut DbConnection, id: &str) -> Result<Option<Account>, ApiError> {
    let rows: Vec<(UserRow, Option<Role>)> = users::table
        .left_join(user_roles::table)
        .filter(users::id.eq(id))
        .select((UserRow::as_select(), user_roles::role.nullable()))
        .load(conn)?;
    let mut roles: Vec<Role> = rows.iter().filter_map(|(_, role)| *role).collect();
    roles.sort();
    Ok(rows.into_iter().next().map(|(row, _)| Account::from_row(row, roles)))
}

pub fn find_account_by_email(conn: &mut DbConnection, email: &str) -> Result<Option<Account>, ApiError> {
    let row = users::table.filter(users::email.eq(email)).select(UserRow::as_select()).first(conn).optional()?;
    with_roles(conn, row.into_iter().collect()).map(|mut accounts| accounts.pop())
}

/// Attaches roles to rows with one query, keeping the rows' order.
fn with_roles(conn: &mut DbConnection, rows: Vec<UserRow>) -> Result<Vec<Account>, ApiError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let pairs: Vec<(String, Role)> = user_roles::table
        .filter(user_roles::user_id.eq_any(&ids))
        .select((user_roles::user_id, user_roles::role))
        .load(conn)?;
    let mut roles: HashMap<String, Vec<Role>> = HashMap::new();
    for (user_id, role) in pairs {
        roles.entry(user_id).or_default().push(role);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let mut own = roles.remove(&row.id).unwrap_or_default();
            own.sort();
            Account::from_row(row, own)
        })
        .collect())
}

fn replace_roles(conn: &mut DbConnection, user_id: &str, roles: &[Role]) -> Result<(), ApiError> {
    diesel::delete(user_roles::table.filter(user_roles::user_id.eq(user_id))).execute(conn)?;
    // One row at a time: diesel has no multi-row insert over both backends.
    for role in roles {
        diesel::insert_into(user_roles::table)
            .values((user_roles::user_id.eq(user_id), user_roles::role.eq(*role)))
            .execute(conn)?;
    }
    Ok(())
}

fn validate_roles(roles: &[Role]) -> Result<(), ValidationError> {
    if roles.is_empty() {
        return Err(ValidationError::new("required").with_message("give at least one role".into()));
    }
    Ok(())
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[validate(email(message = "must be an email address"), length(max = 254))]
    #[schema(example = "peer@hub.example", format = Email, max_length = 254)]
    pub email: String,
    #[validate(length(max = 100), custom(function = "plain_text"))]
    #[schema(
        example = "Sam K.",
        max_length = 100,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub display_name: String,
    /// 10 to 128 characters. Write only.
    #[validate(length(min = "MIN_PASSWORD_LENGTH", max = "MAX_PASSWORD_LENGTH"))]
    #[schema(write_only, min_length = 10, max_length = 128)]
    pub password: String,
    #[validate(custom(function = "validate_roles"))]
    #[schema(min_items = 1)]
    pub roles: Vec<Role>,
    /// Needed for coordinator, trainer and peer. A coordinator's new users
    /// are always in the coordinator's organisation.
    pub organisation_id: Option<Uuid>,
    /// Needed for commissioner: the area whose statistics they see.
    pub area_id: Option<Uuid>,
    /// Defaults to true.
    pub active: Option<bool>,
}

/// Fields to change; absent fields stay as they are, `null` clears.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[validate(email(message = "must be an email address"), length(max = 254))]
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    #[validate(length(max = 100), custom(function = "plain_text"))]
    #[schema(max_length = 100, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$")]
    pub display_name: Option<String>,
    /// A new password ends all of the user's sessions.
    #[validate(length(min = "MIN_PASSWORD_LENGTH", max = "MAX_PASSWORD_LENGTH"))]
    #[schema(write_only, min_length = 10, max_length = 128)]
    pub password: Option<String>,
    #[validate(custom(function = "validate_roles"))]
    pub roles: Option<Vec<Role>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub organisation_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub area_id: Option<Option<Uuid>>,
    /// false deactivates: the user's sessions end and their tokens stop working at once.
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserFilter {
    pub organisation_id: Option<Uuid>,
    pub role: Option<Role>,
    pub active: Option<bool>,
}

/// May `principal` manage a user in `organisation_id` holding `roles`?
fn may_manage(principal: &Principal, organisation_id: Option<&str>, roles: &[Role]) -> bool {
    principal.is_admin()
        || (principal.has(Role::Coordinator)
            && principal.organisation_id.is_some()
            && organisation_id == principal.organisation_id.as_deref()
            && roles.iter().all(|r| COORDINATOR_GRANTS.contains(r)))
}

fn require_manager(principal: &Principal) -> Result<(), ApiError> {
    principal.require_any(&[Role::Admin, Role::Coordinator])
}

fn coordinator_limits() -> ApiError {
    ApiError::forbidden(
        "a coordinator manages only their own organisation's users and grants only peer, trainer and coordinator",
    )
}

/// Checks what only the database can tell, on the user as it would be stored.
fn check_assignment(conn: &mut DbConnection, account: &Account) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    let needs_organisation = account.roles.iter().any(|r| ORGANISATION_ROLES.contains(r));
    match &account.organisation_id {
        None if needs_organisation => errors.push(FieldError::new(
            "organisation_id",
            "required",
            "coordinators, trainers and peers need an organisation",
        )),
        Some(id)
            if organisations::table.find(id).select(organisations::id).first::<String>(conn).optional()?.is_none() =>
        {
            errors.push(FieldError::new("organisation_id", "not_found", "no such organisation"))
        }
        _ => {}
    }
    match &account.area_id {
        None if account.roles.contains(&Role::Commissioner) => {
            errors.push(FieldError::new("area_id", "required", "commissioners need an area"))
        }
        Some(id) if areas::table.find(id).select(areas::id).first::<String>(conn).optional()?.is_none() => {
            errors.push(FieldError::new("area_id", "not_found", "no such area"))
        }
        _ => {}
    }
    let taken = users::table
        .filter(users::email.eq(&account.email))
        .filter(users::id.ne(&account.id))
        .select(users::id)
        .first::<String>(conn)
        .optional()?
        .is_some();
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    if taken {
        return Err(ApiError::conflict("email_taken", "another user has this email"));
    }
    Ok(())
}

/// Creates a user. `password_hash` is computed by the caller, off the
/// async workers. The command line passes no principal (the system).
pub fn create(
    conn: &mut DbConnection,
    principal: Option<&Principal>,
    actor: &Actor,
    new: NewUser,
    password_hash: String,
) -> Result<User, ApiError> {
    let mut roles = new.roles;
    roles.sort();
    roles.dedup();
    let mut organisation_id = new.organisation_id.map(|id| id.to_string());
    if let Some(principal) = principal {
        require_manager(principal)?;
        if !principal.is_admin() && organisation_id.is_none() {
            organisation_id = principal.organisation_id.clone();
        }
        if !may_manage(principal, organisation_id.as_deref(), &roles)
            || (!principal.is_admin() && new.area_id.is_some())
        {
            return Err(coordinator_limits());
        }
    }
    let at = now();
    let account = Account {
        id: Uuid::now_v7().to_string(),
        email: normalise_email(&new.email),
        display_name: new.display_name.trim().to_owned(),
        password_hash,
        organisation_id,
        area_id: new.area_id.map(|id| id.to_string()),
        active: new.active.unwrap_or(true),
        roles,
        created_at: at,
        updated_at: at,
    };
    check_assignment(conn, &account)?;
    diesel::insert_into(users::table).values(account.to_row()).execute(conn)?;
    replace_roles(conn, &account.id, &account.roles)?;
    let user = account.to_user();
    audit::record(conn, actor, Action::Create, "user", &user.id, None, &user)?;
    Ok(user)
}

/// Applies a patch; `password_hash` is the new password's hash, if any.
fn update(
    conn: &mut DbConnection,
    principal: &Principal,
    id: &str,
    patch: UserPatch,
    password_hash: Option<String>,
) -> Result<User, ApiError> {
    require_manager(principal)?;
    let before = find_account(conn, id)?.ok_or_else(|| ApiError::not_found("user"))?;
    if !principal.is_admin() && before.organisation_id != principal.organisation_id {
        return Err(ApiError::not_found("user"));
    }
    if !may_manage(principal, before.organisation_id.as_deref(), &before.roles) {
        return Err(coordinator_limits());
    }
    let mut after = before.clone();
    if let Some(email) = &patch.email {
        after.email = normalise_email(email);
    }
    if let Some(name) = &patch.display_name {
        after.display_name = name.trim().to_owned();
    }
    if let Some(mut roles) = patch.roles {
        roles.sort();
        roles.dedup();
        after.roles = roles;
    }
    if let Some(organisation_id) = patch.organisation_id {
        after.organisation_id = organisation_id.map(|id| id.to_string());
    }
    if let Some(area_id) = patch.area_id {
        after.area_id = area_id.map(|id| id.to_string());
    }
    if let Some(active) = patch.active {
        after.active = active;
    }
    let password_changed = password_hash.is_some();
    if let Some(hash) = password_hash {
        after.password_hash = hash;
    }
    if !may_manage(principal, after.organisation_id.as_deref(), &after.roles)
        || (!principal.is_admin() && after.area_id != before.area_id)
    {
        return Err(coordinator_limits());
    }
    if principal.user_id == after.id && (!after.active || (principal.is_admin() && !after.roles.contains(&Role::Admin)))
    {
        return Err(ApiError::invalid_field(
            if after.active { "roles" } else { "active" },
            "self_lockout",
            "you cannot deactivate yourself or give up your own admin role",
        ));
    }
    check_assignment(conn, &after)?;
    after.updated_at = now();
    diesel::update(users::table.find(&after.id)).set(after.to_row()).execute(conn)?;
    if after.roles != before.roles {
        replace_roles(conn, &after.id, &after.roles)?;
    }
    if password_changed || (before.active && !after.active) {
        sessions::revoke_all_for_user(conn, &after.id)?;
    }
    let (before_user, after_user) = (before.to_user(), after.to_user());
    let mut after_json = serde_json::to_value(&after_user).map_err(ApiError::internal)?;
    if password_changed {
        after_json["password_changed"] = serde_json::Value::Bool(true);
    }
    audit::record(
        conn,
        &principal.actor(),
        Action::Update,
        "user",
        &after.id,
        Some(&serde_json::to_value(&before_user).map_err(ApiError::internal)?),
        &after_json,
    )?;
    Ok(after_user)
}

async fn hash_off_thread(password: Option<String>) -> Result<Option<String>, ApiError> {
    match password {
        None => Ok(None),
        Some(password) => web::block(move || password::hash(&password)).await.map_err(ApiError::internal)?.map(Some),
    }
}

/// Lists users: an admin sees everyone, a coordinator their organisation's.
#[utoipa::path(
    get, path = "/api/v1/users", tag = "users", operation_id = "list_users",
    params(UserFilter, PageParams),
    responses(
        (status = 200, description = "A page of users, oldest first", body = Page<User>),
        (status = 400, response = responses::BadRequest),
        (status = 403, response = responses::Forbidden),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    query: ListQuery<UserFilter>,
) -> Result<HttpResponse, ApiError> {
    require_manager(&principal)?;
    let ListQuery { filter, page } = query;
    let organisation = if principal.is_admin() {
        filter.organisation_id.map(|id| id.to_string())
    } else {
        match (filter.organisation_id.map(|id| id.to_string()), principal.organisation_id.clone()) {
            (Some(asked), Some(own)) if asked != own => {
                return Ok(HttpResponse::Ok().json(Page::<User> { items: vec![], next_cursor: None }))
            }
            (_, own) => own,
        }
    };
    let result = state
        .db
        .run(move |conn| {
            let mut query =
                users::table.select(UserRow::as_select()).order(users::id.asc()).limit(page.limit + 1).into_boxed();
            if let Some(organisation) = organisation {
                query = query.filter(users::organisation_id.eq(organisation));
            }
            if let Some(role) = filter.role {
                query = query.filter(
                    users::id.eq_any(user_roles::table.filter(user_roles::role.eq(role)).select(user_roles::user_id)),
                );
            }
            if let Some(active) = filter.active {
                query = query.filter(users::active.eq(active));
            }
            if let Some(after) = &page.after {
                query = query.filter(users::id.gt(after.clone()));
            }
            let rows = query.load(conn)?;
            let accounts = with_roles(conn, rows)?;
            Ok(Page::from_rows(accounts, &page, |a| &a.id).map(|a| a.to_user()))
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Creates a user. A coordinator creates users in their own organisation only.
#[utoipa::path(
    post, path = "/api/v1/users", tag = "users", operation_id = "create_user",
    request_body = NewUser,
    responses(
        (status = 201, description = "Created", body = User, headers(("Location" = String, description = "The new user's URL"))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn create_handler(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<NewUser>,
) -> Result<HttpResponse, ApiError> {
    require_manager(&principal)?;
    let new = body.into_inner();
    let hash = hash_off_thread(Some(new.password.clone())).await?.unwrap_or_default();
    let user = state.db.write(move |conn| create(conn, Some(&principal), &principal.actor(), new, hash)).await?;
    Ok(HttpResponse::Created().insert_header((header::LOCATION, format!("/api/v1/users/{}", user.id))).json(user))
}

/// Reads a user: an admin any, a coordinator their organisation's, anyone themselves.
#[utoipa::path(
    get, path = "/api/v1/users/{id}", tag = "users", operation_id = "get_user",
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = User),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn get(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    if id != principal.user_id {
        require_manager(&principal)?;
    }
    let account =
        state.db.run(move |conn| find_account(conn, &id)).await?.ok_or_else(|| ApiError::not_found("user"))?;
    let same_organisation = principal.organisation_id.is_some() && account.organisation_id == principal.organisation_id;
    let visible = account.id == principal.user_id || principal.is_admin() || same_organisation;
    if !visible {
        return Err(ApiError::not_found("user"));
    }
    Ok(HttpResponse::Ok().json(account.to_user()))
}

/// Changes a user. Deactivating ends their sessions and their access tokens stop working.
#[utoipa::path(
    patch, path = "/api/v1/users/{id}", tag = "users", operation_id = "update_user",
    params(("id" = Uuid, Path, description = "User id")),
    request_body = UserPatch,
    responses(
        (status = 200, description = "The changed user", body = User),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn update_handler(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidJson<UserPatch>,
) -> Result<HttpResponse, ApiError> {
    require_manager(&principal)?;
    let id = id.into_inner().to_string();
    let mut patch = body.into_inner();
    let hash = hash_off_thread(patch.password.take()).await?;
    let user = state.db.write(move |conn| update(conn, &principal, &id, patch, hash)).await?;
    Ok(HttpResponse::Ok().json(user))
}

/// The signed-in user, with their certificates.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    #[serde(flatten)]
    pub user: User,
    /// Newest first, whatever their status.
    pub certificates: Vec<crate::certificates::Certificate>,
    /// When the first of the caller's valid certificates runs out; null when none is valid.
    pub earliest_certificate_expiry: Option<DateTime<Utc>>,
}

/// The signed-in user and their certificates.
#[utoipa::path(
    get, path = "/api/v1/me", tag = "users",
    responses(
        (status = 200, description = "The caller", body = Me),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn me(state: web::Data<AppState>, principal: Principal) -> Result<HttpResponse, ApiError> {
    let id = principal.user_id.clone();
    let me = state
        .db
        .run(move |conn| {
            let account = find_account(conn, &id)?.ok_or_else(|| ApiError::not_found("user"))?;
            let (certificates, earliest_certificate_expiry) = crate::certificates::of_holder(conn, &id)?;
            Ok(Me { user: account.to_user(), certificates, earliest_certificate_expiry })
        })
        .await?;
    Ok(HttpResponse::Ok().json(me))
}

/// Creates an admin from the command line (or a test), with no signed-in caller.
pub fn create_admin(
    db: &crate::db::Database,
    email: &str,
    display_name: &str,
    password: &str,
) -> Result<User, ApiError> {
    let new = NewUser {
        email: email.to_owned(),
        display_name: display_name.to_owned(),
        password: password.to_owned(),
        roles: vec![Role::Admin],
        organisation_id: None,
        area_id: None,
        active: None,
    };
    new.validate()?;
    let hash = password::hash(password)?;
    db.write_blocking(move |conn| create(conn, None, &Actor::system(), new, hash))
}
