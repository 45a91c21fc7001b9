//! Sessions. Each sign-in starts one, with a family of refresh tokens: every
//! refresh replaces the current generation of tokens with the next. Access
//! tokens name their session, and stop working when it ends.
//!
//! A token presented again within the grace after it was replaced, while
//! its replacement is still unused, is a lost answer (a phone with bad
//! signal) or a race (two tabs): it gets another token of the current
//! generation, of the same session. Presented later, or once the
//! replacement has been used, it means the token was copied, and the whole
//! session ends.

use chrono::Duration;

use super::tokens::{hash_refresh_token, new_refresh_token};
use crate::domain::error::{Code, Error};
use crate::model::ids::UserId;
use crate::model::time::now;
use crate::storage::sessions::{self, NewRefreshToken, NewSession};
use crate::storage::DbConnection;

/// A refresh token as the client gets it.
pub struct IssuedRefreshToken {
    pub token: String,
    pub expires_in_seconds: i64,
}

/// Starts a session for `user_id`: its id and its first refresh token.
pub fn start(conn: &mut DbConnection, user_id: &UserId, ttl: Duration) -> Result<(String, IssuedRefreshToken), Error> {
    let id = uuid::Uuid::now_v7().to_string();
    let at = now();
    sessions::insert_session(
        conn,
        &NewSession { id: id.clone(), user_id: user_id.clone(), generation: 1, created_at: at, rotated_at: at },
    )?;
    let token = issue(conn, user_id, &id, 1, ttl)?;
    Ok((id, token))
}

/// Stores a new refresh token of `generation` in a session.
pub fn issue(
    conn: &mut DbConnection,
    user_id: &UserId,
    session_id: &str,
    generation: i32,
    ttl: Duration,
) -> Result<IssuedRefreshToken, Error> {
    let token = new_refresh_token();
    let created_at = now();
    sessions::insert(
        conn,
        &NewRefreshToken {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: user_id.clone(),
            family_id: session_id.to_owned(),
            token_hash: hash_refresh_token(&token),
            created_at,
            expires_at: created_at + ttl,
            generation,
        },
    )?;
    Ok(IssuedRefreshToken { token, expires_in_seconds: ttl.num_seconds() })
}

pub enum Rotation {
    /// The token was good (or a replay within the grace): the caller issues
    /// the next token, of `generation`, in `session_id`.
    Rotated { user_id: UserId, session_id: String, generation: i32 },
    /// The token had been replaced and its replacement used, or the grace
    /// is over, or the session had ended: the session is ended now.
    Reused,
}

/// Uses up a presented refresh token. Reuse is reported as `Ok(Reused)` so
/// that the end of the session commits before the caller is refused.
pub fn use_token(conn: &mut DbConnection, presented: &str, grace: Duration) -> Result<Rotation, Error> {
    let invalid = || Error::unauthenticated(Code::InvalidRefreshToken, "the refresh token is not valid; sign in again");
    let stored = sessions::find_by_hash(conn, &hash_refresh_token(presented))?.ok_or_else(invalid)?;
    let mut session = sessions::find_session(conn, &stored.family_id)?.ok_or_else(invalid)?;
    let at = now();
    if session.revoked_at.is_some() {
        return Ok(Rotation::Reused);
    }
    if stored.expires_at <= at {
        return Err(Error::unauthenticated(Code::RefreshTokenExpired, "the refresh token has expired; sign in again"));
    }
    let rotated = |generation| Rotation::Rotated {
        user_id: stored.user_id.clone(),
        session_id: stored.family_id.clone(),
        generation,
    };
    if stored.generation == session.generation {
        if sessions::advance(conn, &session.id, session.generation, at)? {
            sessions::mark_used(conn, &stored.id, at)?;
            return Ok(rotated(session.generation + 1));
        }
        // A concurrent refresh of the same token won: this one is a replay of it.
        session = sessions::find_session(conn, &stored.family_id)?.ok_or_else(invalid)?;
        if session.revoked_at.is_some() {
            return Ok(Rotation::Reused);
        }
    }
    let replaced_and_unused = stored.generation + 1 == session.generation;
    if replaced_and_unused && grace > Duration::zero() && at < session.rotated_at + grace {
        sessions::mark_used(conn, &stored.id, at)?;
        return Ok(rotated(session.generation));
    }
    sessions::revoke_session(conn, &session.id, at)?;
    tracing::warn!(user_id = %stored.user_id, session_id = %session.id, "refresh token reused; its session is ended");
    Ok(Rotation::Reused)
}

/// Ends the session the token belongs to. Unknown tokens are ignored, so
/// that logging out twice is harmless.
pub fn revoke_session_of(conn: &mut DbConnection, presented: &str) -> Result<(), Error> {
    if let Some(stored) = sessions::find_by_hash(conn, &hash_refresh_token(presented))? {
        sessions::revoke_session(conn, &stored.family_id, now())?;
    }
    Ok(())
}

/// Ends every session of a user (deactivation, password change).
pub fn revoke_all_for_user(conn: &mut DbConnection, user_id: &UserId) -> Result<(), Error> {
    Ok(sessions::revoke_all_for_user(conn, user_id, now())?)
}
