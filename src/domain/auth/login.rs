//! Signing in, refreshing and signing out, and the check every signed-in
//! request goes through.

use chrono::Duration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::password;
use super::sessions::{self, Rotation};
use super::throttle::Throttle;
use super::tokens::TokenService;
use crate::domain::error::{Code, Error};
use crate::domain::principal::Principal;
use crate::domain::validation::plain_text;
use crate::model::values::Email;
use crate::storage::{users, Database};

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
    /// Single use: every refresh returns a new one. Using one twice ends the session.
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: i64,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: i64,
}

/// Failures allowed per account before the throttle; a client address gets this many times more.
const ADDRESS_MULTIPLE: u32 = 4;

/// What signing in needs: the token keys, the throttle on failed logins
/// and how long a session lasts.
pub struct Authentication {
    pub tokens: TokenService,
    pub login_throttle: Throttle,
    pub refresh_ttl: Duration,
}

fn inactive() -> Error {
    Error::unauthenticated(Code::AccountInactive, "this account is no longer active")
}

impl Authentication {
    /// Signs in with email and password, from `address` (the client's, for the throttle).
    pub async fn login(&self, db: &Database, request: LoginRequest, address: &str) -> Result<TokenPair, Error> {
        let LoginRequest { email, password } = request;
        let email = Email::normalise(&email);
        let account_key = format!("account:{email}");
        let address_key = format!("address:{address}");
        let keys = [(account_key.as_str(), 1), (address_key.as_str(), ADDRESS_MULTIPLE)];
        self.login_throttle.check(&keys).map_err(|wait| Error::throttled(Code::LoginThrottled, wait))?;

        let account = db.run(move |conn| users::find_account_by_email(conn, &email)).await?;
        let stored_hash = account.as_ref().map(|a| a.row.password_hash.clone());
        let matches = password::verify_off_thread(password, stored_hash).await?;
        let account = match account {
            Some(account) if matches => account,
            _ => {
                self.login_throttle.record(&keys);
                return Err(Error::unauthenticated(Code::InvalidCredentials, "the email or password is wrong"));
            }
        };
        self.login_throttle.clear(&account_key);
        if !account.row.active {
            return Err(inactive());
        }
        let ttl = self.refresh_ttl;
        let access_token = self.tokens.issue_access(&account.row.id, &account.roles)?;
        let user_id = account.row.id;
        let token = db.write(move |conn| sessions::issue(conn, &user_id, None, ttl)).await?;
        Ok(self.pair(access_token, token))
    }

    /// Trades a refresh token for a new pair. The presented token is used
    /// up; presenting it again revokes the whole session.
    pub async fn refresh(&self, db: &Database, presented: String) -> Result<TokenPair, Error> {
        let ttl = self.refresh_ttl;
        let (account, token) = db
            .write(move |conn| match sessions::use_token(conn, &presented)? {
                Rotation::Reused => Ok::<_, Error>(None),
                Rotation::Rotated { user_id, family_id } => {
                    let account = users::find_account(conn, &user_id)?.filter(|a| a.row.active).ok_or_else(inactive)?;
                    let token = sessions::issue(conn, &account.row.id, Some(&family_id), ttl)?;
                    Ok(Some((account, token)))
                }
            })
            .await?
            .ok_or_else(|| {
                Error::unauthenticated(
                    Code::RefreshTokenReused,
                    "this refresh token was already used; the session is ended, sign in again",
                )
            })?;
        let access_token = self.tokens.issue_access(&account.row.id, &account.roles)?;
        Ok(self.pair(access_token, token))
    }

    /// Ends the session a refresh token belongs to. Unknown tokens are
    /// accepted, so that signing out twice is harmless.
    pub async fn logout(&self, db: &Database, presented: String) -> Result<(), Error> {
        db.write(move |conn| sessions::revoke_session_of(conn, &presented)).await
    }

    /// The caller an access token names, as the database has them now.
    pub async fn authenticate(
        &self,
        db: &Database,
        token: &str,
        request_id: Option<String>,
    ) -> Result<Principal, Error> {
        let user_id = self.tokens.verify_access(token)?;
        let account = db.run(move |conn| users::find_account(conn, &user_id)).await?;
        account.and_then(|account| Principal::of(account, request_id)).ok_or_else(inactive)
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
