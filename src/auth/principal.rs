//! The signed-in caller, taken from the bearer token and checked against
//! the database on every request, so that deactivating a user or changing
//! their roles takes effect at once, not when their token expires.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;

use crate::audit::Actor;
use crate::error::ApiError;
use crate::middleware::RequestId;
use crate::server::AppState;
use crate::users;

crate::text_enum! {
    /// What a user may do; a user may hold several roles.
    pub enum Role {
        /// Sets up areas, organisations and products; sees everything.
        Admin = "admin",
        /// Runs one organisation: its users, stock and records.
        Coordinator = "coordinator",
        /// Records trainings and certifies peers.
        Trainer = "trainer",
        /// Hands out kits and reports reversals.
        Peer = "peer",
        /// Sees aggregate statistics for an area and the areas under it.
        Commissioner = "commissioner",
    }
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: String,
    pub roles: Vec<Role>,
    pub organisation_id: Option<String>,
    pub area_id: Option<String>,
    pub request_id: Option<String>,
}

impl Principal {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn is_admin(&self) -> bool {
        self.has(Role::Admin)
    }

    /// 403 unless the caller holds one of `roles`.
    pub fn require_any(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.iter().any(|role| self.has(*role)) {
            Ok(())
        } else {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(ApiError::forbidden(format!("this needs the role {}", names.join(" or "))))
        }
    }

    pub fn actor(&self) -> Actor {
        Actor { user_id: Some(self.user_id.clone()), request_id: self.request_id.clone() }
    }
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        let request_id = req.extensions().get::<RequestId>().map(|id| id.0.clone());
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            let token = token?;
            let claims = state.tokens.verify_access(&token)?;
            // Only this server's keys sign tokens, and it puts a user id in `sub`.
            if uuid::Uuid::parse_str(&claims.sub).is_err() {
                return Err(ApiError::unauthorized("invalid_token", "the access token is not valid"));
            }
            let account = state.db.run(move |conn| users::find_account(conn, &claims.sub)).await?;
            match account {
                Some(account) if account.active => Ok(Principal {
                    user_id: account.id,
                    roles: account.roles,
                    organisation_id: account.organisation_id,
                    area_id: account.area_id,
                    request_id,
                }),
                _ => Err(ApiError::unauthorized("account_inactive", "this account is no longer active")),
            }
        })
    }
}

fn bearer_token(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized("missing_token", "sign in and send the access token as `Authorization: Bearer …`")
    })?;
    value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::unauthorized("invalid_token", "the Authorization header is not a bearer token"))
}
