//! Request extractors whose every failure is a problem+json answer: a
//! strict JSON body, a list's query string, the signed-in caller.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use validator::Validate;

use super::middleware::RequestId;
use super::problem::ApiError;
use super::state::AppState;
use crate::domain::decode::{decode_json, strip_position};
use crate::domain::error::{Code, Error};
use crate::domain::pagination::ListQuery;
use crate::domain::principal::Principal;
use crate::domain::versions::Precondition;

/// The largest body a request may carry, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON body, decoded strictly and validated. Malformed JSON is a 400;
/// a wrong type, missing or unknown field is a 422 naming the field.
pub struct ValidJson<T>(pub T);

impl<T> ValidJson<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<BodyLimit>().copied().unwrap_or(BodyLimit(1 << 20)).0;
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime::Mime>().ok())
            .is_some_and(|m| m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON));
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::unsupported_media_type());
            }
            let bytes = body.await.map_err(|e| match e.as_response_error().status_code().as_u16() {
                413 => ApiError::payload_too_large(limit),
                _ => Error::BadRequest {
                    code: Code::UnreadableBody,
                    detail: "the request body could not be read".into(),
                }
                .into(),
            })?;
            let value = decode_json::<T>(&bytes)?;
            value.validate().map_err(Error::from)?;
            Ok(ValidJson(value))
        })
    }
}

impl<F: DeserializeOwned> FromRequest for ListQuery<F> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Self::parse(req.query_string()).map_err(ApiError::from))
    }
}

/// What a change depends on: the versions named in `If-Match`, if sent.
/// A value that is not text matches no version.
pub struct IfMatch(pub Option<Precondition>);

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let precondition = req
            .headers()
            .get(header::IF_MATCH)
            .map(|value| value.to_str().map_or(Precondition::OneOf(Vec::new()), Precondition::parse));
        std::future::ready(Ok(IfMatch(precondition)))
    }
}

/// The caller, from the bearer token, checked against the database.
impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        let request_id = req.extensions().get::<RequestId>().map(|id| id.0.clone());
        Box::pin(async move {
            let state = state.ok_or_else(|| Error::internal("application state missing"))?;
            Ok(state.auth.authenticate(&state.db, &token?, request_id).await?)
        })
    }
}

fn bearer_token(req: &HttpRequest) -> Result<String, Error> {
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(|| {
        Error::unauthenticated(Code::MissingToken, "sign in and send the access token as `Authorization: Bearer …`")
    })?;
    value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::unauthenticated(Code::InvalidToken, "the Authorization header is not a bearer token"))
}

/// Bad query strings are 400s in problem+json.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|error, _| ApiError::from(Error::bad_query(strip_position(&error.to_string()))).into())
}

/// A path segment that is not a valid id names no record: 404.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_, _| ApiError::from(Error::NotFound("record")).into())
}
