//! `/api/v1/auth/*`: sign in, refresh, sign out.

use actix_web::{post, web, HttpRequest, HttpResponse};

use crate::domain::auth::login::{LoginRequest, RefreshRequest, TokenPair};
use crate::http::extract::{client_address, ValidJson};
use crate::http::problem::{responses, ApiError};
use crate::http::state::AppState;

/// Signs in with email and password.
#[utoipa::path(
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

/// Trades a refresh token for a new pair. The presented token is used up;
/// presenting it again revokes the whole session.
#[utoipa::path(
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

/// Ends the session a refresh token belongs to. Unknown tokens are accepted,
/// so that signing out twice is harmless.
#[utoipa::path(
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
