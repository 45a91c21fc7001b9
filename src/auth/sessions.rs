//! Refresh-token sessions. Each sign-in starts a family of refresh tokens;
//! every refresh uses up one token and hands out the next. A token used
//! twice means it was copied, so the whole family is revoked.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::tokens::{hash_refresh_token, new_refresh_token};
use crate::db::{now, DbConnection};
use crate::error::ApiError;
use crate::schema::refresh_tokens;

#[derive(Insertable)]
#[diesel(table_name = refresh_tokens)]
struct NewRefreshToken {
    id: String,
    user_id: String,
    family_id: String,
    token_hash: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
struct StoredRefreshToken {
    id: String,
    user_id: String,
    family_id: String,
    expires_at: NaiveDateTime,
    used_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
}

/// A refresh token as the client gets it.
pub struct IssuedRefreshToken {
    pub token: String,
    pub expires_in_seconds: i64,
}

/// Stores a new refresh token for `user_id`; `family_id` is `None` for a new sign-in.
pub fn issue(
    conn: &mut DbConnection,
    user_id: &str,
    family_id: Option<&str>,
    ttl: Duration,
) -> Result<IssuedRefreshToken, ApiError> {
    let token = new_refresh_token();
    let created_at = now();
    let row = NewRefreshToken {
        id: uuid::Uuid::now_v7().to_string(),
        user_id: user_id.to_owned(),
        family_id: family_id.map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned),
        token_hash: hash_refresh_token(&token),
        created_at,
        expires_at: created_at + ttl,
    };
    diesel::insert_into(refresh_tokens::table).values(&row).execute(conn)?;
    Ok(IssuedRefreshToken { token, expires_in_seconds: ttl.num_seconds() })
}

pub enum Rotation {
    /// The token was good: the caller may issue the next one in `family_id`.
    Rotated { user_id: String, family_id: String },
    /// The token had been used or revoked before; its family is now revoked.
    Reused,
}

/// Uses up a presented refresh token. Reuse is reported as `Ok(Reused)` so
/// that the revocation of the family commits before the caller answers 401.
pub fn use_token(conn: &mut DbConnection, presented: &str) -> Result<Rotation, ApiError> {
    let invalid = || ApiError::unauthorized("invalid_refresh_token", "the refresh token is not valid; sign in again");
    let stored = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash_refresh_token(presented)))
        .select(StoredRefreshToken::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(invalid)?;
    let at = now();
    if stored.used_at.is_some() || stored.revoked_at.is_some() {
        revoke_family(conn, &stored.family_id)?;
        tracing::warn!(user_id = %stored.user_id, "refresh token reused; its session is revoked");
        return Ok(Rotation::Reused);
    }
    if stored.expires_at <= at {
        return Err(ApiError::unauthorized("refresh_token_expired", "the refresh token has expired; sign in again"));
    }
    // Conditional on still being unused, so two racing refreshes cannot both win.
    let claimed = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::id.eq(&stored.id))
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(at))
    .execute(conn)?;
    if claimed == 0 {
        revoke_family(conn, &stored.family_id)?;
        return Ok(Rotation::Reused);
    }
    Ok(Rotation::Rotated { user_id: stored.user_id, family_id: stored.family_id })
}

/// Ends the session the token belongs to. Unknown tokens are ignored, so
/// that logging out twice is harmless.
pub fn revoke_session_of(conn: &mut DbConnection, presented: &str) -> Result<(), ApiError> {
    let family: Option<String> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash_refresh_token(presented)))
        .select(refresh_tokens::family_id)
        .first(conn)
        .optional()?;
    if let Some(family) = family {
        revoke_family(conn, &family)?;
    }
    Ok(())
}

fn revoke_family(conn: &mut DbConnection, family_id: &str) -> Result<(), ApiError> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now()))
    .execute(conn)?;
    Ok(())
}

/// Ends every session of a user (deactivation, password change).
pub fn revoke_all_for_user(conn: &mut DbConnection, user_id: &str) -> Result<(), ApiError> {
    diesel::update(
        refresh_tokens::table.filter(refresh_tokens::user_id.eq(user_id)).filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now()))
    .execute(conn)?;
    Ok(())
}
