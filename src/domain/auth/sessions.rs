//! Refresh-token sessions. Each sign-in starts a family of refresh tokens;
//! every refresh uses up one token and hands out the next. A token used
//! twice means it was copied, so the whole family is revoked.

use chrono::Duration;

use super::tokens::{hash_refresh_token, new_refresh_token};
use crate::domain::error::{Code, Error};
use crate::model::ids::UserId;
use crate::model::time::now;
use crate::storage::sessions::{self, NewRefreshToken};
use crate::storage::DbConnection;

/// A refresh token as the client gets it.
pub struct IssuedRefreshToken {
    pub token: String,
    pub expires_in_seconds: i64,
}

/// Stores a new refresh token for `user_id`; `family_id` is `None` for a new sign-in.
pub fn issue(
    conn: &mut DbConnection,
    user_id: &UserId,
    family_id: Option<&str>,
    ttl: Duration,
) -> Result<IssuedRefreshToken, Error> {
    let token = new_refresh_token();
    let created_at = now();
    sessions::insert(
        conn,
        &NewRefreshToken {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: user_id.clone(),
            family_id: family_id.map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned),
            token_hash: hash_refresh_token(&token),
            created_at,
            expires_at: created_at + ttl,
        },
    )?;
    Ok(IssuedRefreshToken { token, expires_in_seconds: ttl.num_seconds() })
}

pub enum Rotation {
    /// The token was good: the caller may issue the next one in `family_id`.
    Rotated { user_id: UserId, family_id: String },
    /// The token had been used or revoked before; its family is now revoked.
    Reused,
}

/// Uses up a presented refresh token. Reuse is reported as `Ok(Reused)` so
/// that the revocation of the family commits before the caller is refused.
pub fn use_token(conn: &mut DbConnection, presented: &str) -> Result<Rotation, Error> {
    let invalid = || Error::unauthenticated(Code::InvalidRefreshToken, "the refresh token is not valid; sign in again");
    let stored = sessions::find_by_hash(conn, &hash_refresh_token(presented))?.ok_or_else(invalid)?;
    let at = now();
    if stored.used_at.is_some() || stored.revoked_at.is_some() {
        sessions::revoke_family(conn, &stored.family_id, at)?;
        tracing::warn!(user_id = %stored.user_id, "refresh token reused; its session is revoked");
        return Ok(Rotation::Reused);
    }
    if stored.expires_at <= at {
        return Err(Error::unauthenticated(Code::RefreshTokenExpired, "the refresh token has expired; sign in again"));
    }
    if !sessions::claim(conn, &stored.id, at)? {
        sessions::revoke_family(conn, &stored.family_id, at)?;
        return Ok(Rotation::Reused);
    }
    Ok(Rotation::Rotated { user_id: stored.user_id, family_id: stored.family_id })
}

/// Ends the session the token belongs to. Unknown tokens are ignored, so
/// that logging out twice is harmless.
pub fn revoke_session_of(conn: &mut DbConnection, presented: &str) -> Result<(), Error> {
    if let Some(stored) = sessions::find_by_hash(conn, &hash_refresh_token(presented))? {
        sessions::revoke_family(conn, &stored.family_id, now())?;
    }
    Ok(())
}

/// Ends every session of a user (deactivation, password change).
pub fn revoke_all_for_user(conn: &mut DbConnection, user_id: &UserId) -> Result<(), Error> {
    Ok(sessions::revoke_all_for_user(conn, user_id, now())?)
}
