//! `/api/v1/certificates/*` and the published signing key.

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::signing::JwkSet;
use super::{Certificate, CertificateFilter, NewCertificate, Verification};
use crate::auth::Principal;
use crate::error::{responses, ApiError};
use crate::extract::ValidJson;
use crate::pagination::{ListQuery, Page, PageParams};
use crate::records::VoidRequest;
use crate::server::AppState;

/// A certificate as a signed token (EdDSA). Check it with the key at
/// `/.well-known/jwks.json`; it cannot show a revocation made after it was fetched.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateToken {
    pub token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// Issues a certificate: a trainer holding a valid peer_trainer
/// certificate, or an admin (to bootstrap the first trainers).
#[utoipa::path(
    post, path = "/api/v1/certificates", tag = "certificates", operation_id = "create_certificate",
    request_body = NewCertificate,
    responses(
        (status = 201, description = "Issued", body = Certificate, headers(("Location" = String, description = "The certificate's URL"))),
        (status = 403, response = responses::Forbidden),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<NewCertificate>,
) -> Result<HttpResponse, ApiError> {
    let new = body.into_inner();
    let validity = state.certificate_validity;
    let certificate = state
        .db
        .write(move |conn| {
            crate::stats::counting(conn, |conn, pending| super::issue(conn, pending, &principal, new, validity))
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/certificates/{}", certificate.id)))
        .json(certificate))
}

/// Lists the certificates the caller may see: their own, those they
/// issued, and for a coordinator those of their organisation's people.
#[utoipa::path(
    get, path = "/api/v1/certificates", tag = "certificates", operation_id = "list_certificates",
    params(CertificateFilter, PageParams),
    responses(
        (status = 200, description = "A page of certificates, oldest first", body = Page<Certificate>),
        (status = 400, response = responses::BadRequest),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    query: ListQuery<CertificateFilter>,
) -> Result<HttpResponse, ApiError> {
    let ListQuery { filter, page } = query;
    let result = state.db.run(move |conn| super::list(conn, &principal, filter, &page)).await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Reads a certificate.
#[utoipa::path(
    get, path = "/api/v1/certificates/{id}", tag = "certificates", operation_id = "get_certificate",
    params(("id" = Uuid, Path, description = "Certificate id")),
    responses(
        (status = 200, description = "The certificate", body = Certificate),
        (status = 404, response = responses::NotFound),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn get(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    let certificate = state.db.run(move |conn| super::get(conn, &principal, &id)).await?;
    Ok(HttpResponse::Ok().json(certificate))
}

/// Revokes a certificate: its issuer, a coordinator of the holder's
/// organisation, or an admin. Revoking a revoked certificate changes nothing.
#[utoipa::path(
    post, path = "/api/v1/certificates/{id}/revoke", tag = "certificates",
    params(("id" = Uuid, Path, description = "Certificate id")),
    request_body = VoidRequest,
    responses(
        (status = 200, description = "The revoked certificate", body = Certificate),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn revoke(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidJson<VoidRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    let reason = body.into_inner().reason;
    let certificate = state.db.write(move |conn| super::revoke(conn, &principal, &id, &reason)).await?;
    Ok(HttpResponse::Ok().json(certificate))
}

/// A valid certificate as a signed token, for checking with no signal.
#[utoipa::path(
    get, path = "/api/v1/certificates/{id}/token", tag = "certificates",
    params(("id" = Uuid, Path, description = "Certificate id")),
    responses(
        (status = 200, description = "The signed token", body = CertificateToken),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn token(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    let claims = state.db.run(move |conn| super::token_claims(conn, &principal, &id)).await?;
    let token = state.certificate_signer.sign(&claims)?;
    let expires_at = chrono::DateTime::from_timestamp(claims.exp, 0).unwrap_or_default();
    Ok(HttpResponse::Ok().json(CertificateToken { token, expires_at }))
}

/// Checks a certificate by its code, with no sign-in. Answers only its
/// status, level, expiry date, issuing organisation and the holder's
/// initials. Rate limited per client address.
#[utoipa::path(
    get, path = "/api/v1/certificates/verify/{code}", tag = "certificates",
    params(("code" = String, Path, description = "The verification code; case, dashes and spaces do not matter")),
    responses(
        (status = 200, description = "What the certificate says now", body = Verification),
        (status = 404, response = responses::NotFound),
        (status = 429, response = responses::TooManyRequests),
        (status = 500, response = responses::InternalError),
        (status = 503, response = responses::ServiceUnavailable),
    )
)]
pub async fn verify(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let address = format!("verify:{}", req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default());
    let key = [(address.as_str(), 1)];
    state.verify_throttle.check(&key).map_err(|wait| ApiError::too_many_requests("rate_limited", wait))?;
    state.verify_throttle.record(&key);
    let code = code.into_inner();
    let verification = state
        .db
        .run(move |conn| super::verification(conn, &code))
        .await?
        .ok_or_else(|| ApiError::not_found("certificate"))?;
    Ok(HttpResponse::Ok().json(verification))
}

/// The public key that signs certificate tokens (RFC 7517).
#[utoipa::path(
    get, path = "/.well-known/jwks.json", tag = "certificates",
    responses((status = 200, description = "The key set", body = JwkSet))
)]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .json(state.certificate_signer.jwks())
}
