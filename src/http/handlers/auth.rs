//! `/api/v1/auth/*`: sign in, refresh, sign out.

use actix_web::{post, web, HttpRequest, HttpResponse};

use crate::domain::auth::login::{LoginRequest, RefreshRequest, TokenPair};
use crate::http::client_address::client_address;
use crate::http::extract::ValidJson;
use crate::http::problem::{responses, ApiError};
use crate::http::state::AppState;

/// Signs in with email and password, starting a session.
///
/// A wrong password, an email nobody has and a deactivated account all get
/// the same `401 invalid_credentials`. Attempts are throttled by account and
/// client address together: after `LOGIN_MAX_FAILURES` (5) failures from one
/// address the next try from there waits `LOGIN_DELAY_SECONDS` (60), and each
/// further failure doubles the wait (up to an hour); an account takes at
/// most `LOGIN_ACCOUNT_MAX_FAILURES` (100) failures from all addresses
/// together per `LOGIN_WINDOW_SECONDS` (a day). Each attempt is counted
/// before its password is checked. A throttled attempt gets `429
/// login_throttled`, its wait in `Retry-After` and in `detail`; a
/// coordinator or an admin can lift it (`POST /api/v1/users/{id}/unlock`).
#[utoipa::path(
    operation_id = "sign_in",
    tag = "auth",
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
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ValidJson<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let pair = state.auth.login(&state.db, body.into_inner(), &client_address(&req)).await?;
    Ok(HttpResponse::Ok().json(pair))
}

/// Trades a refresh token for a new pair of the same session. The presented
/// token is used up.
///
/// Sent again within `REFRESH_GRACE_SECONDS` (60 s) of that refresh, while
/// the token that replaced it has not been used yet (the answer was lost on
/// the way, or two tabs refreshed at once), it gets another working pair of
/// the same session: the session is not ended. Sent again after the grace,
/// or after its replacement was used, it counts as copied: `401
/// refresh_token_reused`, and the whole session ends, its access tokens
/// with it.
#[utoipa::path(
    operation_id = "refresh_tokens",
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair", body = TokenPair),
        (status = 401, response = responses::Unauthorized),
        (status = 500, response = responses::InternalError),
        (status = 503, response = responses::ServiceUnavailable),
        responses::BodyErrors,
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(state: web::Data<AppState>, body: ValidJson<RefreshRequest>) -> Result<HttpResponse, ApiError> {
    let pair = state.auth.refresh(&state.db, body.into_inner().refresh_token).await?;
    Ok(HttpResponse::Ok().json(pair))
}

/// Ends the session a refresh token belongs to: its refresh tokens and its
/// access tokens stop working at once. Unknown tokens are accepted, so that
/// signing out twice is harmless.
#[utoipa::path(
    operation_id = "sign_out",
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Signed out"),
        (status = 500, response = responses::InternalError),
        (status = 503, response = responses::ServiceUnavailable),
        responses::BodyErrors,
    )
)]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, body: ValidJson<RefreshRequest>) -> Result<HttpResponse, ApiError> {
    state.auth.logout(&state.db, body.into_inner().refresh_token).await?;
    Ok(HttpResponse::NoContent().finish())
}
