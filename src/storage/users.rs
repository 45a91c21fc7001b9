//! Users and their roles. The password hash lives in the row and nowhere
//! else: no type that is ever shown holds it.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::connection::DbConnection;
use super::error::Result;
use super::paging::{paged, Paging};
use super::schema::{organisations, user_roles, users};
use crate::model::ids::{AreaId, OrganisationId, UserId};
use crate::model::roles::Role;
use crate::model::values::Email;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = users, treat_none_as_null = true)]
pub struct UserRow {
    pub id: UserId,
    pub email: Email,
    pub display_name: String,
    /// argon2id; never shown, never in the audit log.
    pub password_hash: String,
    pub organisation_id: Option<OrganisationId>,
    pub area_id: Option<AreaId>,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = user_roles)]
pub struct RoleRow {
    pub user_id: UserId,
    pub role: Role,
}

/// A stored user with their roles, as the server itself needs it.
#[derive(Debug, Clone)]
pub struct Account {
    pub row: UserRow,
    /// Sorted, each once.
    pub roles: Vec<Role>,
}

/// One query: every request's caller is looked up with it.
pub fn find_account(conn: &mut DbConnection, id: &UserId) -> Result<Option<Account>> {
    let rows: Vec<(UserRow, Option<Role>)> = users::table
        .left_join(user_roles::table)
        .filter(users::id.eq(id))
        .select((UserRow::as_select(), user_roles::role.nullable()))
        .load(conn)?;
    let mut roles: Vec<Role> = rows.iter().filter_map(|(_, role)| *role).collect();
    roles.sort();
    Ok(rows.into_iter().next().map(|(row, _)| Account { row, roles }))
}

pub fn find_account_by_email(conn: &mut DbConnection, email: &str) -> Result<Option<Account>> {
    let row = users::table.filter(users::email.eq(email)).select(UserRow::as_select()).first(conn).optional()?;
    with_roles(conn, row.into_iter().collect()).map(|mut accounts| accounts.pop())
}

/// Which of these users exist.
pub fn existing(conn: &mut DbConnection, ids: &[&UserId]) -> Result<Vec<UserId>> {
    Ok(users::table.filter(users::id.eq_any(ids)).select(users::id).load(conn)?)
}

/// Is the address in use by a user other than `except`?
pub fn email_taken(conn: &mut DbConnection, email: &Email, except: &UserId) -> Result<bool> {
    Ok(users::table
        .filter(users::email.eq(email))
        .filter(users::id.ne(except))
        .select(users::id)
        .first::<UserId>(conn)
        .optional()?
        .is_some())
}

/// The organisation a user works for.
pub fn organisation_of(conn: &mut DbConnection, id: &UserId) -> Result<Option<OrganisationId>> {
    Ok(users::table.find(id).select(users::organisation_id).first::<Option<OrganisationId>>(conn).optional()?.flatten())
}

/// How many users hold a role.
pub fn count_with_role(conn: &mut DbConnection, role: Role) -> Result<i64> {
    Ok(user_roles::table.filter(user_roles::role.eq(role)).count().get_result(conn)?)
}

/// A page of users with their roles.
pub fn list(
    conn: &mut DbConnection,
    organisation: Option<&OrganisationId>,
    role: Option<Role>,
    active: Option<bool>,
    paging: Paging<'_>,
) -> Result<Vec<Account>> {
    let mut query = users::table.select(UserRow::as_select()).into_boxed();
    if let Some(organisation) = organisation {
        query = query.filter(users::organisation_id.eq(organisation));
    }
    if let Some(role) = role {
        query = query
            .filter(users::id.eq_any(user_roles::table.filter(user_roles::role.eq(role)).select(user_roles::user_id)));
    }
    if let Some(active) = active {
        query = query.filter(users::active.eq(active));
    }
    let rows = paged!(query, users::id, paging).load(conn)?;
    with_roles(conn, rows)
}

/// Attaches roles to rows with one query, keeping the rows' order.
fn with_roles(conn: &mut DbConnection, rows: Vec<UserRow>) -> Result<Vec<Account>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&UserId> = rows.iter().map(|r| &r.id).collect();
    let pairs: Vec<(UserId, Role)> = user_roles::table
        .filter(user_roles::user_id.eq_any(&ids))
        .select((user_roles::user_id, user_roles::role))
        .load(conn)?;
    let mut roles: HashMap<UserId, Vec<Role>> = HashMap::new();
    for (user_id, role) in pairs {
        roles.entry(user_id).or_default().push(role);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let mut own = roles.remove(&row.id).unwrap_or_default();
            own.sort();
            Account { row, roles: own }
        })
        .collect())
}

/// Stores a new user and their roles.
pub fn insert(conn: &mut DbConnection, account: &Account) -> Result<()> {
    diesel::insert_into(users::table).values(&account.row).execute(conn)?;
    replace_roles(conn, &account.row.id, &account.roles)
}

/// Stores a changed user; `roles_changed` says whether their roles need writing too.
pub fn update(conn: &mut DbConnection, account: &Account, roles_changed: bool) -> Result<()> {
    diesel::update(users::table.find(&account.row.id)).set(&account.row).execute(conn)?;
    if roles_changed {
        replace_roles(conn, &account.row.id, &account.roles)?;
    }
    Ok(())
}

fn replace_roles(conn: &mut DbConnection, user_id: &UserId, roles: &[Role]) -> Result<()> {
    diesel::delete(user_roles::table.filter(user_roles::user_id.eq(user_id))).execute(conn)?;
    // One row at a time: diesel has no multi-row insert over both backends.
    for role in roles {
        diesel::insert_into(user_roles::table)
            .values((user_roles::user_id.eq(user_id), user_roles::role.eq(*role)))
            .execute(conn)?;
    }
    Ok(())
}

/// A user, their organisation and its area.
pub type Placement = (UserId, Option<OrganisationId>, Option<AreaId>);

/// Where these users work: each one found, with their organisation and its area.
pub fn placements(conn: &mut DbConnection, ids: &[&UserId]) -> Result<Vec<Placement>> {
    Ok(users::table
        .left_join(organisations::table)
        .filter(users::id.eq_any(ids))
        .select((users::id, users::organisation_id, organisations::area_id.nullable()))
        .load(conn)?)
}
