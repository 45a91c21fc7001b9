//! `/api/v1/auth/*`: sign in, refresh, sign out.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::sessions::{self, Rotation};
use super::{password, Role};
use crate::error::{responses, ApiError};
use crate::extract::ValidJson;
use crate::server::AppState;
use crate::users::{self, normalise_email};
use crate::validation::plain_text;

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

/// Signs in with email and password.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenPair),
        (status = 401, response = responses::Unauthorized),
        (status = 429, response = responses::TooManyRequests),
        (status = 500, response = responses::InternalError),
        (status = 503, response = responses::ServiceUnavailable),
        responses::BodyErrors,
    )
)]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ValidJson<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest { email, password } = body.into_inner();
    let email = normalise_email(&email);
    let account_key = format!("account:{email}");
    let address_key = format!("address:{}", req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default());
    let keys = [(account_key.as_str(), 1), (address_key.as_str(), ADDRESS_MULTIPLE)];
    state.login_throttle.check(&keys).map_err(|wait| ApiError::too_many_requests("login_throttled", wait))?;

    let account = state.db.run(move |conn| users::find_account_by_email(conn, &email)).await?;
    let stored_hash = account.as_ref().map(|a| a.password_hash.clone());
    let matches =
        web::block(move || password::verify(&password, stored_hash.as_deref())).await.map_err(ApiError::internal)?;
    let account = match account {
        Some(account) if matches => account,
        _ => {
            state.login_throttle.record(&keys);
            return Err(ApiError::unauthorized("invalid_credentials", "the email or password is wrong"));
        }
    };
    state.login_throttle.clear(&account_key);
    if !account.active {
        return Err(ApiError::unauthorized("account_inactive", "this account is no longer active"));
    }
    let pair = issue_pair(&state, account.id, account.roles).await?;
    Ok(HttpResponse::Ok().json(pair))
}

/// Trades a refresh token for a new pair. The presented token is used up;
/// presenting it again revokes the whole session.
#[utoipa::path(
    post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair", body = TokenPair),
        (status = 401, response = responses::Unauthorized),
        (status = 500, response = responses::InternalError),
        (status = 503, response = responses::ServiceUnavailable),
        responses::BodyErrors,
    )
)]
pub async fn refresh(state: web::Data<AppState>, body: ValidJson<RefreshRequest>) -> Result<HttpResponse, ApiError> {
    let presented = body.into_inner().refresh_token;
    let ttl = state.refresh_ttl;
    let (account, token) = state
        .db
        .write(move |conn| match sessions::use_token(conn, &presented)? {
            Rotation::Reused => Ok(None),
            Rotation::Rotated { user_id, family_id } => {
                let account = users::find_account(conn, &user_id)?.filter(|a| a.active);
                let Some(account) = account else {
                    return Err(ApiError::unauthorized("account_inactive", "this account is no longer active"));
                };
                let token = sessions::issue(conn, &account.id, Some(&family_id), ttl)?;
                Ok(Some((account, token)))
            }
        })
        .await?
        .ok_or_else(|| {
            ApiError::unauthorized(
                "refresh_token_reused",
                "this refresh token was already used; the session is ended, sign in again",
            )
        })?;
    let access_token = state.tokens.issue_access(&account.id, &account.roles)?;
    Ok(HttpResponse::Ok().json(token_pair(&state, access_token, token)))
}

/// Ends the session a refresh token belongs to. Unknown tokens are accepted,
/// so that signing out twice is harmless.
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Signed out"),
        (status = 500, response = responses::InternalError),
        (status = 503, response = responses::ServiceUnavailable),
        responses::BodyErrors,
    )
)]
pub async fn logout(state: web::Data<AppState>, body: ValidJson<RefreshRequest>) -> Result<HttpResponse, ApiError> {
    let presented = body.into_inner().refresh_token;
    state.db.write(move |conn| sessions::revoke_session_of(conn, &presented)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A new session: the first pair of a new refresh-token family.
async fn issue_pair(state: &AppState, user_id: String, roles: Vec<Role>) -> Result<TokenPair, ApiError> {
    let ttl = state.refresh_ttl;
    let access_token = state.tokens.issue_access(&user_id, &roles)?;
    let token = state.db.write(move |conn| sessions::issue(conn, &user_id, None, ttl)).await?;
    Ok(token_pair(state, access_token, token))
}

fn token_pair(state: &AppState, access_token: String, refresh: sessions::IssuedRefreshToken) -> TokenPair {
    TokenPair {
        access_token,
        refresh_token: refresh.token,
        token_type: "Bearer".to_owned(),
        expires_in: state.tokens.access_ttl_seconds(),
        refresh_expires_in: refresh.expires_in_seconds,
    }
}
