//! `/api/v1/users` and `/api/v1/me`.

use actix_web::{get, patch, post, web, HttpResponse};
use uuid::Uuid;

use crate::domain::pagination::{ListQuery, Page, PageParams};
use crate::domain::principal::Principal;
use crate::domain::records::VoidRequest;
use crate::domain::users::{self, Me, NewUser, User, UserFilter, UserPatch};
use crate::http::extract::{IfMatch, ValidJson};
use crate::http::problem::{responses, ApiError, IfMatchParam};
use crate::http::respond;
use crate::http::state::AppState;

/// Lists users: an admin sees everyone, a coordinator their organisation's.
#[utoipa::path(
    tag = "users", operation_id = "list_users",
    params(UserFilter, PageParams),
    responses(
        (status = 200, description = "A page of users, oldest first", body = Page<User>),
        (status = 400, response = responses::BadRequest),
        (status = 403, response = responses::Forbidden),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
#[get("/users")]
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    query: ListQuery<UserFilter>,
) -> Result<HttpResponse, ApiError> {
    let page = users::list(&state.db, principal, query.filter, query.page).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Creates a user. A coordinator creates users in their own organisation only.
#[utoipa::path(
    tag = "users", operation_id = "create_user",
    request_body = NewUser,
    responses(
        (status = 201, description = "Created", body = User, headers(
            ("Location" = String, description = "The new user's URL"),
            ("ETag" = String, description = "The user's version, for `If-Match`"),
        )),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
#[post("/users")]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<NewUser>,
) -> Result<HttpResponse, ApiError> {
    let user = users::create(&state.db, principal, body.into_inner()).await?;
    respond::created_record(format!("/api/v1/users/{}", user.id), &user)
}

/// Reads a user: an admin any, a coordinator their organisation's, anyone themselves.
#[utoipa::path(
    tag = "users", operation_id = "get_user",
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = User, headers(
            ("ETag" = String, description = "The user's version: send it in `If-Match` with a change"),
        )),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
#[get("/users/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    respond::record(&users::get(&state.db, principal, id.into_inner().into()).await?)
}

/// Changes a user. Deactivating ends their sessions and their access tokens stop working.
#[utoipa::path(
    tag = "users", operation_id = "update_user",
    params(("id" = Uuid, Path, description = "User id"), IfMatchParam),
    request_body = UserPatch,
    responses(
        (status = 200, description = "The changed user", body = User, headers(
            ("ETag" = String, description = "The changed user's version"),
        )),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
#[patch("/users/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ValidJson<UserPatch>,
) -> Result<HttpResponse, ApiError> {
    respond::record(&users::update(&state.db, principal, id.into_inner().into(), body.into_inner(), if_match.0).await?)
}

/// Clears a user's sign-in lockout (the failed sign-ins counted against
/// their account from every address), so that they can sign in at once.
/// An admin may for anyone, a coordinator for their organisation's users.
/// Audited, with the reason given.
#[utoipa::path(
    tag = "users", operation_id = "unlock_user",
    params(("id" = Uuid, Path, description = "User id")),
    request_body = VoidRequest,
    responses(
        (status = 204, description = "Unlocked: the user may sign in again from anywhere"),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
#[post("/users/{id}/unlock")]
pub async fn unlock(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidJson<VoidRequest>,
) -> Result<HttpResponse, ApiError> {
    let (throttle, reason) = (state.auth.login_throttle.clone(), body.into_inner().reason);
    users::unlock(&state.db, throttle, principal, id.into_inner().into(), reason).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user and their certificates.
#[utoipa::path(
    operation_id = "get_me",
    tag = "users",
    responses(
        (status = 200, description = "The caller", body = Me),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, principal: Principal) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(users::me(&state.db, principal).await?))
}
