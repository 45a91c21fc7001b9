//! Users: who may sign in, with which roles, for which organisation or area.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use super::audit::{self, Action, Actor};
use super::auth::login_throttle::LoginThrottle;
use super::auth::password::{self, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH};
use super::auth::sessions;
use super::certificates::{self, Certificate};
use super::error::{Code, Error, FieldError};
use super::pagination::{Page, PageRequest};
use super::patch::double_option;
use super::principal::Principal;
use super::validation::plain_text;
use super::versions::{self, Precondition};
use crate::model::ids::{AreaId, OrganisationId, UserId};
use crate::model::roles::Role;
use crate::model::time::now;
use crate::model::values::Email;
use crate::storage::users::{self, Account, UserRow};
use crate::storage::{areas, locks, organisations, Database, DbConnection};

/// The roles a coordinator may grant within their own organisation.
const COORDINATOR_GRANTS: &[Role] = &[Role::Peer, Role::Trainer, Role::Coordinator];
/// Roles that act for an organisation, and so need one.
const ORGANISATION_ROLES: &[Role] = &[Role::Coordinator, Role::Trainer, Role::Peer];

/// A user as the API shows it. The password hash never leaves the server.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct User {
    #[schema(value_type = uuid::Uuid)]
    pub id: UserId,
    #[schema(value_type = String, example = "peer@hub.example")]
    pub email: Email,
    #[schema(example = "Sam K.")]
    pub display_name: String,
    pub roles: Vec<Role>,
    /// The organisation a coordinator, trainer or peer works for.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub organisation_id: Option<OrganisationId>,
    /// The area a commissioner oversees.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub area_id: Option<AreaId>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl User {
    fn of(account: &Account) -> Self {
        let row = &account.row;
        User {
            id: row.id.clone(),
            email: row.email.clone(),
            display_name: row.display_name.clone(),
            roles: account.roles.clone(),
            organisation_id: row.organisation_id.clone(),
            area_id: row.area_id.clone(),
            active: row.active,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        }
    }
}

fn validate_roles(roles: &[Role]) -> Result<(), ValidationError> {
    if roles.is_empty() {
        return Err(ValidationError::new("required").with_message("give at least one role".into()));
    }
    Ok(())
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
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
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
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

/// The signed-in user, with their certificates.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    #[serde(flatten)]
    pub user: User,
    /// Newest first, whatever their status.
    pub certificates: Vec<Certificate>,
    /// When the first of the caller's valid certificates runs out; null when none is valid.
    pub earliest_certificate_expiry: Option<DateTime<Utc>>,
}

/// May `principal` manage a user in `organisation` holding `roles`?
fn may_manage(principal: &Principal, organisation: Option<&OrganisationId>, roles: &[Role]) -> bool {
    principal.is_admin()
        || (principal.has(Role::Coordinator)
            && principal.organisation_id.is_some()
            && organisation == principal.organisation_id.as_ref()
            && roles.iter().all(|r| COORDINATOR_GRANTS.contains(r)))
}

fn require_manager(principal: &Principal) -> Result<(), Error> {
    principal.require_any(&[Role::Admin, Role::Coordinator])
}

fn coordinator_limits() -> Error {
    Error::forbidden(
        "a coordinator manages only their own organisation's users and grants only peer, trainer and coordinator",
    )
}

/// Checks what only the database can tell, on the user as it would be stored.
fn check_assignment(conn: &mut DbConnection, account: &Account) -> Result<(), Error> {
    let mut errors = Vec::new();
    let row = &account.row;
    let needs_organisation = account.roles.iter().any(|r| ORGANISATION_ROLES.contains(r));
    match &row.organisation_id {
        None if needs_organisation => errors.push(FieldError::new(
            "organisation_id",
            "required",
            "coordinators, trainers and peers need an organisation",
        )),
        Some(id) if !organisations::exists(conn, id)? => {
            errors.push(FieldError::new("organisation_id", "not_found", "no such organisation"))
        }
        _ => {}
    }
    match &row.area_id {
        None if account.roles.contains(&Role::Commissioner) => {
            errors.push(FieldError::new("area_id", "required", "commissioners need an area"))
        }
        Some(id) if !areas::exists(conn, id)? => errors.push(FieldError::new("area_id", "not_found", "no such area")),
        _ => {}
    }
    let taken = users::email_taken(conn, &row.email, &row.id)?;
    if !errors.is_empty() {
        return Err(Error::invalid(errors));
    }
    if taken {
        return Err(Error::conflict(Code::EmailTaken, "another user has this email"));
    }
    Ok(())
}

/// The address as stored, or the field error for one that is not an address.
fn email(field_text: &str) -> Result<Email, Error> {
    Email::parse(field_text).ok_or_else(|| Error::invalid_field("email", "email", "must be an email address"))
}

fn sorted(mut roles: Vec<Role>) -> Vec<Role> {
    roles.sort();
    roles.dedup();
    roles
}

/// Stores a new user. `password_hash` was computed off the async workers.
/// The command line passes no principal (the system).
fn insert(
    conn: &mut DbConnection,
    principal: Option<&Principal>,
    actor: &Actor,
    new: NewUser,
    password_hash: String,
) -> Result<User, Error> {
    let roles = sorted(new.roles);
    let mut organisation_id = new.organisation_id.map(OrganisationId::from);
    if let Some(principal) = principal {
        require_manager(principal)?;
        if !principal.is_admin() && organisation_id.is_none() {
            organisation_id = principal.organisation_id.clone();
        }
        if !may_manage(principal, organisation_id.as_ref(), &roles) || (!principal.is_admin() && new.area_id.is_some())
        {
            return Err(coordinator_limits());
        }
    }
    let at = now();
    let account = Account {
        row: UserRow {
            id: UserId::new_v7(),
            email: email(&new.email)?,
            display_name: new.display_name.trim().to_owned(),
            password_hash,
            organisation_id,
            area_id: new.area_id.map(AreaId::from),
            active: new.active.unwrap_or(true),
            created_at: at,
            updated_at: at,
        },
        roles,
    };
    check_assignment(conn, &account)?;
    users::insert(conn, &account)?;
    let user = User::of(&account);
    audit::record(conn, actor, Action::Create, "user", user.id.as_str(), None, &user)?;
    Ok(user)
}

/// Applies a patch; `password_hash` is the new password's hash, if any.
fn apply(
    conn: &mut DbConnection,
    principal: &Principal,
    id: &UserId,
    patch: UserPatch,
    password_hash: Option<String>,
    precondition: Option<&Precondition>,
) -> Result<User, Error> {
    require_manager(principal)?;
    // Held until the end, so that a concurrent change (a deactivation
    // racing a rename) cannot be undone by this one.
    locks::row(conn, locks::Table::Users, id.as_str())?;
    let before = users::find_account(conn, id)?.ok_or(Error::NotFound("user"))?;
    if !principal.is_admin() && before.row.organisation_id != principal.organisation_id {
        return Err(Error::NotFound("user"));
    }
    versions::check(precondition, &User::of(&before))?;
    if !may_manage(principal, before.row.organisation_id.as_ref(), &before.roles) {
        return Err(coordinator_limits());
    }
    let mut after = before.clone();
    if let Some(text) = &patch.email {
        after.row.email = email(text)?;
    }
    if let Some(name) = &patch.display_name {
        after.row.display_name = name.trim().to_owned();
    }
    if let Some(roles) = patch.roles {
        after.roles = sorted(roles);
    }
    if let Some(organisation_id) = patch.organisation_id {
        after.row.organisation_id = organisation_id.map(OrganisationId::from);
    }
    if let Some(area_id) = patch.area_id {
        after.row.area_id = area_id.map(AreaId::from);
    }
    if let Some(active) = patch.active {
        after.row.active = active;
    }
    let password_changed = password_hash.is_some();
    if let Some(hash) = password_hash {
        after.row.password_hash = hash;
    }
    if !may_manage(principal, after.row.organisation_id.as_ref(), &after.roles)
        || (!principal.is_admin() && after.row.area_id != before.row.area_id)
    {
        return Err(coordinator_limits());
    }
    if principal.user_id == after.row.id
        && (!after.row.active || (principal.is_admin() && !after.roles.contains(&Role::Admin)))
    {
        return Err(Error::invalid_field(
            if after.row.active { "roles" } else { "active" },
            "self_lockout",
            "you cannot deactivate yourself or give up your own admin role",
        ));
    }
    check_assignment(conn, &after)?;
    after.row.updated_at = now();
    users::update(conn, &after, after.roles != before.roles)?;
    if password_changed || (before.row.active && !after.row.active) {
        sessions::revoke_all_for_user(conn, &after.row.id)?;
    }
    let (before_user, after_user) = (User::of(&before), User::of(&after));
    let mut after_json = serde_json::to_value(&after_user).map_err(Error::internal)?;
    if password_changed {
        after_json["password_changed"] = serde_json::Value::Bool(true);
    }
    let before_json = serde_json::to_value(&before_user).map_err(Error::internal)?;
    audit::record(conn, &principal.actor(), Action::Update, "user", id.as_str(), Some(&before_json), &after_json)?;
    Ok(after_user)
}

/// Lists users: an admin sees everyone, a coordinator their organisation's.
pub async fn list(
    db: &Database,
    principal: Principal,
    filter: UserFilter,
    page: PageRequest,
) -> Result<Page<User>, Error> {
    require_manager(&principal)?;
    let asked = filter.organisation_id.map(OrganisationId::from);
    let organisation = if principal.is_admin() {
        asked
    } else {
        match (asked, principal.organisation_id.clone()) {
            (Some(asked), Some(own)) if asked != own => return Ok(Page { items: vec![], next_cursor: None }),
            (_, own) => own,
        }
    };
    db.run(move |conn| {
        let accounts = users::list(conn, organisation.as_ref(), filter.role, filter.active, page.paging())?;
        Ok(Page::from_rows(accounts, &page, |a| a.row.id.as_str()).map(|a| User::of(&a)))
    })
    .await
}

/// Creates a user. A coordinator creates users in their own organisation only.
pub async fn create(db: &Database, principal: Principal, new: NewUser) -> Result<User, Error> {
    require_manager(&principal)?;
    let hash = password::hash_off_thread(new.password.clone()).await?;
    super::transaction::write(db, move |conn| {
        insert(conn, Some(&principal), &principal.actor(), new.clone(), hash.clone())
    })
    .await
}

/// Reads a user: an admin any, a coordinator their organisation's, anyone themselves.
pub async fn get(db: &Database, principal: Principal, id: UserId) -> Result<User, Error> {
    if id != principal.user_id {
        require_manager(&principal)?;
    }
    let account = db.run(move |conn| users::find_account(conn, &id)).await?.ok_or(Error::NotFound("user"))?;
    let same_organisation =
        principal.organisation_id.is_some() && account.row.organisation_id == principal.organisation_id;
    let visible = account.row.id == principal.user_id || principal.is_admin() || same_organisation;
    if !visible {
        return Err(Error::NotFound("user"));
    }
    Ok(User::of(&account))
}

/// Changes a user (if still the version read, when one is named).
/// Deactivating or a new password ends their sessions.
pub async fn update(
    db: &Database,
    principal: Principal,
    id: UserId,
    mut patch: UserPatch,
    precondition: Option<Precondition>,
) -> Result<User, Error> {
    require_manager(&principal)?;
    let hash = match patch.password.take() {
        Some(password) => Some(password::hash_off_thread(password).await?),
        None => None,
    };
    super::transaction::write(db, move |conn| {
        apply(conn, &principal, &id, patch.clone(), hash.clone(), precondition.as_ref())
    })
    .await
}

/// The signed-in user and their certificates.
pub async fn me(db: &Database, principal: Principal) -> Result<Me, Error> {
    let id = principal.user_id;
    db.run(move |conn| {
        let account = users::find_account(conn, &id)?.ok_or(Error::NotFound("user"))?;
        let (certificates, earliest_certificate_expiry) = certificates::of_holder(conn, &id)?;
        Ok(Me { user: User::of(&account), certificates, earliest_certificate_expiry })
    })
    .await
}

/// Clears a user's sign-in lockout: the failures counted against their
/// account from every address. An admin may for anyone, a coordinator for
/// their organisation's users; it is audited with its reason.
pub async fn unlock(
    db: &Database,
    throttle: LoginThrottle,
    principal: Principal,
    id: UserId,
    reason: String,
) -> Result<(), Error> {
    require_manager(&principal)?;
    super::transaction::write(db, move |conn| {
        let account = users::find_account(conn, &id)?.ok_or(Error::NotFound("user"))?;
        if !principal.is_admin() && account.row.organisation_id != principal.organisation_id {
            return Err(Error::NotFound("user"));
        }
        if !may_manage(&principal, account.row.organisation_id.as_ref(), &account.roles) {
            return Err(coordinator_limits());
        }
        let cleared = throttle.clear(conn, account.row.email.as_str())?;
        let after = serde_json::json!({ "unlocked": true, "reason": reason.trim(), "counts_cleared": cleared });
        audit::record(conn, &principal.actor(), Action::Unlock, "user", id.as_str(), None, &after)
    })
    .await
}

/// Creates an admin from the command line (or a test), with no signed-in caller.
pub fn create_admin(db: &Database, email: &str, display_name: &str, password: &str) -> Result<User, Error> {
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
    db.write_blocking(move |conn| insert(conn, None, &Actor::system(), new, hash))
}

/// Is there an admin yet?
pub fn has_admin(db: &Database) -> Result<bool, Error> {
    Ok(db.run_blocking(|conn| users::count_with_role(conn, Role::Admin))? > 0)
}
