//! `/api/v1/certificates/*` and the published signing key.

use actix_web::{get, http::header, post, web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::certificates::signing::JwkSet;
use crate::domain::certificates::{self, Certificate, CertificateFilter, NewCertificate, Verification};
use crate::domain::error::{Code, Error};
use crate::domain::pagination::Page;
use crate::domain::principal::Principal;
use crate::domain::records::VoidRequest;
use crate::http::client_address::client_address;
use crate::http::extract::ValidJson;
use crate::http::problem::{responses, ApiError};
use crate::http::respond;
use crate::http::state::AppState;

/// A certificate as a signed token (EdDSA). Check it with the key at
/// `/.well-known/jwks.json`; it cannot show a revocation made after it was fetched.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateToken {
    pub token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

reference_endpoints! {
    record: Certificate, filter: CertificateFilter, tag: "certificates", id: "Certificate id",
    /// Lists the certificates the caller may see: their own, those they
    /// issued, and for a coordinator those of their organisation's people.
    list("list_certificates", "A page of certificates, oldest first") at "/certificates";
    /// Reads a certificate.
    get("get_certificate", "The certificate") at "/certificates/{id}";
}

/// Issues a certificate: a trainer holding a valid peer_trainer
/// certificate, or an admin (to bootstrap the first trainers). A trainer
/// certifies someone of their organisation or of an organisation in its
/// area or beneath it (422 `out_of_scope` otherwise), at a session they
/// delivered that the holder attended (`training_id`). An admin may name
/// any session the holder attended, or none with a `reason`, which the
/// audit log keeps.
#[utoipa::path(
    tag = "certificates", operation_id = "create_certificate",
    request_body = NewCertificate,
    responses(
        (status = 201, description = "Issued", body = Certificate, headers(("Location" = String, description = "The certificate's URL"))),
        (status = 403, response = responses::Forbidden),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
#[post("/certificates")]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<NewCertificate>,
) -> Result<HttpResponse, ApiError> {
    let new = body.into_inner();
    let validity = state.certificate_validity;
    let certificate = certificates::issue(&state.db, principal, new, validity).await?;
    Ok(respond::created(format!("/api/v1/certificates/{}", certificate.id), &certificate))
}

/// Revokes a certificate: its issuer, a coordinator of the holder's
/// organisation, or an admin. Revoking a revoked certificate changes nothing.
#[utoipa::path(
    operation_id = "revoke_certificate",
    tag = "certificates",
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
#[post("/certificates/{id}/revoke")]
pub async fn revoke(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidJson<VoidRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().into();
    let reason = body.into_inner().reason;
    let certificate = certificates::revoke(&state.db, principal, id, reason).await?;
    Ok(HttpResponse::Ok().json(certificate))
}

/// A valid certificate as a signed token, for checking with no signal.
/// A revoked, expired or suspended one (its holder deactivated) is 409
/// `certificate_not_valid`.
#[utoipa::path(
    operation_id = "get_certificate_token",
    tag = "certificates",
    params(("id" = Uuid, Path, description = "Certificate id")),
    responses(
        (status = 200, description = "The signed token", body = CertificateToken),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
#[get("/certificates/{id}/token")]
pub async fn token(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().into();
    let claims = state.db.run(move |conn| certificates::token_claims(conn, &principal, &id)).await?;
    let token = state.certificate_signer.sign(&claims)?;
    let expires_at = chrono::DateTime::from_timestamp(claims.exp, 0).unwrap_or_default();
    Ok(HttpResponse::Ok().json(CertificateToken { token, expires_at }))
}

/// Checks a certificate by its code, with no sign-in. Answers only its
/// status, level, expiry date, issuing organisation and the holder's
/// initials. `suspended`: it would be valid, but its holder's account is
/// deactivated; it authorises nothing. Rate limited per client address.
#[utoipa::path(
    operation_id = "verify_certificate",
    tag = "certificates",
    params(("code" = String, Path, description = "The verification code; case, dashes and spaces do not matter")),
    responses(
        (status = 200, description = "What the certificate says now", body = Verification),
        (status = 404, response = responses::NotFound),
        (status = 429, response = responses::TooManyRequests),
        (status = 500, response = responses::InternalError),
        (status = 503, response = responses::ServiceUnavailable),
    )
)]
#[get("/certificates/verify/{code}")]
pub async fn verify(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let address = client_address(&req);
    state.verify_throttle.attempt(&address).map_err(|wait| Error::throttled(Code::RateLimited, wait))?;
    let code = code.into_inner();
    let verification = state
        .db
        .run(move |conn| certificates::verification(conn, &code))
        .await?
        .ok_or(Error::NotFound("certificate"))?;
    Ok(HttpResponse::Ok().json(verification))
}

/// The public key that signs certificate tokens (RFC 7517).
#[utoipa::path(
    operation_id = "get_signing_keys",
    tag = "certificates",
    responses((status = 200, description = "The key set", body = JwkSet))
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .json(state.certificate_signer.jwks())
}
