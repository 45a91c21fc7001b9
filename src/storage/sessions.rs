//! Sessions and their refresh tokens, kept only as hashes. A session is one
//! sign-in; its refresh tokens are a family (`family_id` is the session's
//! id), and each rotation starts a new generation of them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::connection::DbConnection;
use super::error::Result;
use super::schema::{refresh_tokens, sessions, user_roles, users};
use super::users::{Account, UserRow};
use crate::model::ids::UserId;
use crate::model::roles::Role;

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession {
    pub id: String,
    pub user_id: UserId,
    pub generation: i32,
    pub created_at: NaiveDateTime,
    pub rotated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: String,
    pub user_id: UserId,
    /// The generation of the refresh tokens to use now.
    pub generation: i32,
    /// When the current generation replaced the one before.
    pub rotated_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct NewRefreshToken {
    pub id: String,
    pub user_id: UserId,
    pub family_id: String,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub generation: i32,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
pub struct StoredRefreshToken {
    pub id: String,
    pub user_id: UserId,
    pub family_id: String,
    pub expires_at: NaiveDateTime,
    pub generation: i32,
}

pub fn insert_session(conn: &mut DbConnection, session: &NewSession) -> Result<()> {
    diesel::insert_into(sessions::table).values(session).execute(conn)?;
    Ok(())
}

pub fn find_session(conn: &mut DbConnection, id: &str) -> Result<Option<SessionRow>> {
    Ok(sessions::table.find(id).select(SessionRow::as_select()).first(conn).optional()?)
}

pub fn insert(conn: &mut DbConnection, token: &NewRefreshToken) -> Result<()> {
    diesel::insert_into(refresh_tokens::table).values(token).execute(conn)?;
    Ok(())
}

pub fn find_by_hash(conn: &mut DbConnection, token_hash: &str) -> Result<Option<StoredRefreshToken>> {
    Ok(refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select(StoredRefreshToken::as_select())
        .first(conn)
        .optional()?)
}

/// Moves a live session from generation `from` to the next: true when this
/// call did (of two racing rotations, one waits for the other's commit and
/// then finds the generation moved on).
pub fn advance(conn: &mut DbConnection, id: &str, from: i32, at: NaiveDateTime) -> Result<bool> {
    let moved = diesel::update(
        sessions::table
            .filter(sessions::id.eq(id))
            .filter(sessions::generation.eq(from))
            .filter(sessions::revoked_at.is_null()),
    )
    .set((sessions::generation.eq(from + 1), sessions::rotated_at.eq(at)))
    .execute(conn)?;
    Ok(moved == 1)
}

/// Notes when a refresh token was presented and replaced.
pub fn mark_used(conn: &mut DbConnection, token_id: &str, at: NaiveDateTime) -> Result<()> {
    diesel::update(
        refresh_tokens::table.filter(refresh_tokens::id.eq(token_id)).filter(refresh_tokens::used_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(at))
    .execute(conn)?;
    Ok(())
}

/// Ends a session: its refresh tokens and its access tokens stop working.
pub fn revoke_session(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> Result<()> {
    diesel::update(sessions::table.filter(sessions::id.eq(id)).filter(sessions::revoked_at.is_null()))
        .set(sessions::revoked_at.eq(at))
        .execute(conn)?;
    diesel::update(
        refresh_tokens::table.filter(refresh_tokens::family_id.eq(id)).filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(at))
    .execute(conn)?;
    Ok(())
}

/// Ends every session of a user.
pub fn revoke_all_for_user(conn: &mut DbConnection, user_id: &UserId, at: NaiveDateTime) -> Result<()> {
    diesel::update(sessions::table.filter(sessions::user_id.eq(user_id)).filter(sessions::revoked_at.is_null()))
        .set(sessions::revoked_at.eq(at))
        .execute(conn)?;
    diesel::update(
        refresh_tokens::table.filter(refresh_tokens::user_id.eq(user_id)).filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(at))
    .execute(conn)?;
    Ok(())
}

/// The caller of a signed-in request, in one query: the account with its
/// roles, and whether `session_id` is a live session of theirs.
pub fn account_in_session(
    conn: &mut DbConnection,
    user_id: &UserId,
    session_id: &str,
) -> Result<Option<(Account, bool)>> {
    let live = diesel::dsl::exists(
        sessions::table
            .filter(sessions::id.eq(session_id))
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null()),
    );
    let rows: Vec<(UserRow, Option<Role>, bool)> = users::table
        .left_join(user_roles::table)
        .filter(users::id.eq(user_id))
        .select((UserRow::as_select(), user_roles::role.nullable(), live))
        .load(conn)?;
    let mut roles: Vec<Role> = rows.iter().filter_map(|(_, role, _)| *role).collect();
    roles.sort();
    Ok(rows.into_iter().next().map(|(row, _, live)| (Account { row, roles }, live)))
}
