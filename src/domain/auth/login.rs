//! Signing in, refreshing and signing out, and the check every signed-in
//! request goes through.

use chrono::Duration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::login_throttle::LoginThrottle;
use super::password;
use super::sessions::{self, Rotation};
use super::tokens::TokenService;
use crate::domain::error::{Code, Error};
use crate::domain::principal::Principal;
use crate::domain::transaction;
use crate::domain::validation::plain_text;
use crate::model::time::now;
use crate::model::values::Email;
use crate::storage::{sessions as stored_sessions, users, Database};

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[validate(length(max = 254), custom(function = "plain_text"))]
    #[schema(
        example = "coordinator@hub.example",
        max_length = 254,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub email: String,
    #[validate(length(min = 1, max = 128))]
    #[schema(example = "a long passphrase", min_length = 1, max_length = 128)]
    pub password: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256)]
    pub refresh_token: String,
}

/// A signed-in session: a short-lived access token for the
/// `Authorization: Bearer` header, and a refresh token to get the next pair.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    /// Single use: every refresh returns a new one. Presented again after its
    /// replacement was used, or after the refresh grace, it ends the session.
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: i64,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: i64,
}

/// What signing in needs: the token keys, the throttle on sign-ins, how
/// long a session's refresh tokens last and how long a replaced one may be
/// presented again.
pub struct Authentication {
    pub tokens: TokenService,
    pub login_throttle: LoginThrottle,
    pub refresh_ttl: Duration,
    pub refresh_grace: Duration,
}

fn inactive() -> Error {
    Error::unauthenticated(Code::AccountInactive, "this account is no longer active")
}

fn session_ended() -> Error {
    Error::unauthenticated(
        Code::SessionEnded,
        "this session has ended (signed out, password changed or refresh token reused); sign in again",
    )
}

impl Authentication {
    /// Signs in with email and password, from `address` (the client's, for
    /// the throttle). The attempt is counted before the password is checked
    /// and given back if it signs in. A wrong password, an unknown email and
    /// a deactivated account get the same answer.
    pub async fn login(&self, db: &Database, request: LoginRequest, address: &str) -> Result<TokenPair, Error> {
        let LoginRequest { email, password } = request;
        let email = Email::normalise(&email);
        let (throttle, address) = (self.login_throttle.clone(), address.to_owned());
        let (reservation, account) = transaction::write(db, move |conn| {
            let reservation = throttle.reserve(conn, &email, &address, now())?;
            let account = users::find_account_by_email(conn, &email)?;
            Ok::<_, Error>((reservation, account))
        })
        .await?;
        let stored_hash = account.as_ref().map(|a| a.row.password_hash.clone());
        let matches = password::verify_off_thread(password, stored_hash).await?;
        let account = match account {
            Some(account) if matches && account.row.active => account,
            _ => return Err(Error::unauthenticated(Code::InvalidCredentials, "the email or password is wrong")),
        };
        let (ttl, throttle, user_id) = (self.refresh_ttl, self.login_throttle.clone(), account.row.id.clone());
        let (session_id, token) = transaction::write(db, move |conn| {
            throttle.release(conn, &reservation)?;
            sessions::start(conn, &user_id, ttl)
        })
        .await?;
        let access_token = self.tokens.issue_access(&account.row.id, &account.roles, &session_id)?;
        Ok(self.pair(access_token, token))
    }

    /// Trades a refresh token for a new pair of the same session. Presented
    /// again within the grace, while its replacement is unused, it gets
    /// another pair; otherwise a used token ends the whole session.
    pub async fn refresh(&self, db: &Database, presented: String) -> Result<TokenPair, Error> {
        let (ttl, grace) = (self.refresh_ttl, self.refresh_grace);
        let (account, session_id, token) =
            transaction::write(db, move |conn| match sessions::use_token(conn, &presented, grace)? {
                Rotation::Reused => Ok::<_, Error>(None),
                Rotation::Rotated { user_id, session_id, generation } => {
                    let account = users::find_account(conn, &user_id)?.filter(|a| a.row.active).ok_or_else(inactive)?;
                    let token = sessions::issue(conn, &account.row.id, &session_id, generation, ttl)?;
                    Ok(Some((account, session_id, token)))
                }
            })
            .await?
            .ok_or_else(|| {
                Error::unauthenticated(
                    Code::RefreshTokenReused,
                    "this refresh token was already used; the session is ended, sign in again",
                )
            })?;
        let access_token = self.tokens.issue_access(&account.row.id, &account.roles, &session_id)?;
        Ok(self.pair(access_token, token))
    }

    /// Ends the session a refresh token belongs to, and its access tokens.
    /// Unknown tokens are accepted, so that signing out twice is harmless.
    pub async fn logout(&self, db: &Database, presented: String) -> Result<(), Error> {
        transaction::write(db, move |conn| sessions::revoke_session_of(conn, &presented)).await
    }

    /// The caller an access token names, as the database has them now, in
    /// a session that has not ended: one query.
    pub async fn authenticate(
        &self,
        db: &Database,
        token: &str,
        request_id: Option<String>,
    ) -> Result<Principal, Error> {
        let access = self.tokens.verify_access(token)?;
        let found =
            db.run(move |conn| stored_sessions::account_in_session(conn, &access.user_id, &access.session_id)).await?;
        match found {
            Some((account, _)) if !account.row.active => Err(inactive()),
            Some((_, false)) => Err(session_ended()),
            Some((account, true)) => Principal::of(account, request_id).ok_or_else(inactive),
            None => Err(inactive()),
        }
    }

    fn pair(&self, access_token: String, refresh: sessions::IssuedRefreshToken) -> TokenPair {
        TokenPair {
            access_token,
            refresh_token: refresh.token,
            token_type: "Bearer".to_owned(),
            expires_in: self.tokens.access_ttl_seconds(),
            refresh_expires_in: refresh.expires_in_seconds,
        }
    }
}
