//! Access tokens (short-lived HS256 JWTs) and refresh tokens (random,
//! opaque, stored only as a hash).

use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use jsonwebtoken::{errors::ErrorKind, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::error::{Code, Error};
use crate::model::ids::UserId;
use crate::model::roles::Role;

const ISSUER: &str = "naloxone-tracker";
pub const SECRET_FILE: &str = "jwt_secret";

#[derive(Debug, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    /// The session (a sign-in) the token belongs to: it stops working when that ends.
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub iss: String,
    pub roles: Vec<Role>,
}

pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    access_ttl_seconds: i64,
}

impl TokenService {
    pub fn new(secret: &[u8], access_ttl_seconds: i64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss"]);
        // A token is refused before its `nbf`, when it has one (ours have none).
        validation.validate_nbf = true;
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            access_ttl_seconds,
        }
    }

    pub fn access_ttl_seconds(&self) -> i64 {
        self.access_ttl_seconds
    }

    /// An access token of `user_id` in the session `session_id`.
    pub fn issue_access(&self, user_id: &UserId, roles: &[Role], session_id: &str) -> Result<String, Error> {
        let iat = Utc::now().timestamp();
        let claims = AccessClaims {
            sub: user_id.to_string(),
            sid: session_id.to_owned(),
            iat,
            exp: iat + self.access_ttl_seconds,
            jti: uuid::Uuid::new_v4().to_string(),
            iss: ISSUER.to_owned(),
            roles: roles.to_vec(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(Error::internal)
    }

    /// Checks signature, algorithm (HS256 only: `alg: none` and others are
    /// refused), issuer, expiry and `nbf`; answers whose token it is, and of
    /// which session.
    pub fn verify_access(&self, token: &str) -> Result<VerifiedAccess, Error> {
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => {
                    Error::unauthenticated(Code::TokenExpired, "the access token has expired; refresh it")
                }
                _ => invalid_token(),
            })?;
        // Only this server's keys sign tokens, and it puts a user id in `sub`.
        let user_id = UserId::parse(&claims.sub).ok_or_else(invalid_token)?;
        Ok(VerifiedAccess { user_id, session_id: claims.sid })
    }
}

/// Whose an access token is, and of which session, once its signature and times are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAccess {
    pub user_id: UserId,
    pub session_id: String,
}

fn invalid_token() -> Error {
    Error::unauthenticated(Code::InvalidToken, "the access token is not valid")
}

/// The JWT secret: `JWT_SECRET` when set, otherwise a random one made on
/// first start and kept in the data folder, readable by its owner only.
pub fn load_or_create_secret(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    crate::domain::keys::load_or_create(configured, data_dir, SECRET_FILE, "JWT_SECRET")
}

/// A new refresh token: 256 random bits, base64url.
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Refresh tokens are random and long, so a plain SHA-256 is enough to
/// make a stolen database useless for signing in.
pub fn hash_refresh_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_tokens_round_trip() {
        let service = TokenService::new(&[7u8; 32], 900);
        let user = UserId::new_v7();
        let token = service.issue_access(&user, &[Role::Peer], "s1").unwrap();
        assert_eq!(
            service.verify_access(&token).unwrap(),
            VerifiedAccess { user_id: user.clone(), session_id: "s1".into() }
        );
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        let claims = jsonwebtoken::decode::<AccessClaims>(&token, &DecodingKey::from_secret(&[7u8; 32]), &validation)
            .unwrap()
            .claims;
        assert_eq!((claims.roles.as_slice(), claims.exp - claims.iat), (&[Role::Peer][..], 900));
    }

    #[test]
    fn foreign_expired_and_unsigned_tokens_are_refused() {
        let service = TokenService::new(&[7u8; 32], 900);
        let other = TokenService::new(&[8u8; 32], 900);
        let user = UserId::new_v7();
        assert_eq!(
            service.verify_access(&other.issue_access(&user, &[], "s1").unwrap()).unwrap_err().code(),
            Code::InvalidToken
        );
        let expired = TokenService::new(&[7u8; 32], -3600).issue_access(&user, &[], "s1").unwrap();
        assert_eq!(service.verify_access(&expired).unwrap_err().code(), Code::TokenExpired);
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD
            .encode(r#"{"sub":"u1","iat":0,"exp":99999999999,"jti":"x","iss":"naloxone-tracker","roles":["admin"]}"#);
        assert!(service.verify_access(&format!("{header}.{body}.")).is_err());
        // A token of this server's key whose subject is not a user id.
        let claims = AccessClaims {
            sub: "not-a-user".into(),
            sid: "s1".into(),
            iat: Utc::now().timestamp(),
            exp: Utc::now().timestamp() + 60,
            jti: "x".into(),
            iss: ISSUER.into(),
            roles: vec![Role::Admin],
        };
        let odd = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(&[7u8; 32]))
            .unwrap();
        assert_eq!(service.verify_access(&odd).unwrap_err().code(), Code::InvalidToken);
    }

    #[test]
    fn tokens_not_valid_yet_or_without_a_session_are_refused() {
        let service = TokenService::new(&[7u8; 32], 900);
        let key = EncodingKey::from_secret(&[7u8; 32]);
        let now = Utc::now().timestamp();
        let user = UserId::new_v7().to_string();
        let claims = |nbf: i64| {
            serde_json::json!({"sub": user, "sid": "s1", "iat": now, "exp": now + 900, "nbf": nbf,
                               "jti": "x", "iss": ISSUER, "roles": []})
        };
        let sign =
            |claims: &serde_json::Value| jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key).unwrap();
        assert!(service.verify_access(&sign(&claims(now - 60))).is_ok());
        assert_eq!(service.verify_access(&sign(&claims(now + 3600))).unwrap_err().code(), Code::InvalidToken);
        let mut no_session = claims(now - 60);
        no_session.as_object_mut().unwrap().remove("sid");
        assert_eq!(service.verify_access(&sign(&no_session)).unwrap_err().code(), Code::InvalidToken);
    }

    #[test]
    fn refresh_tokens_are_unique_and_hashed() {
        let (a, b) = (new_refresh_token(), new_refresh_token());
        assert_ne!(a, b);
        assert_eq!(hash_refresh_token(&a).len(), 64);
        assert_ne!(hash_refresh_token(&a), a);
    }
}
