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

use super::Role;
use crate::error::ApiError;

const ISSUER: &str = "naloxone-tracker";
const SECRET_FILE: &str = "jwt_secret";
/// HS256 wants a key at least as long as its hash.
const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
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

    pub fn issue_access(&self, user_id: &str, roles: &[Role]) -> Result<String, ApiError> {
        let iat = Utc::now().timestamp();
        let claims = AccessClaims {
            sub: user_id.to_owned(),
            iat,
            exp: iat + self.access_ttl_seconds,
            jti: uuid::Uuid::new_v4().to_string(),
            iss: ISSUER.to_owned(),
            roles: roles.to_vec(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(ApiError::internal)
    }

    /// Checks signature, algorithm (HS256 only: `alg: none` and others are
    /// refused), issuer and expiry.
    pub fn verify_access(&self, token: &str) -> Result<AccessClaims, ApiError> {
        jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation).map(|data| data.claims).map_err(
            |e| match e.kind() {
                ErrorKind::ExpiredSignature => {
                    ApiError::unauthorized("token_expired", "the access token has expired; refresh it")
                }
                _ => ApiError::unauthorized("invalid_token", "the access token is not valid"),
            },
        )
    }
}

/// The JWT secret: `JWT_SECRET` when set, otherwise a random one made on
/// first start and kept in the data folder, readable by its owner only.
pub fn load_or_create_secret(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = configured {
        anyhow::ensure!(secret.len() >= MIN_SECRET_BYTES, "JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes long");
        return Ok(secret.as_bytes().to_vec());
    }
    let path = data_dir.join(SECRET_FILE);
    if path.exists() {
        let secret = std::fs::read(&path)?;
        anyhow::ensure!(
            secret.len() >= MIN_SECRET_BYTES,
            "{} is too short; delete it to make a new one",
            path.display()
        );
        return Ok(secret);
    }
    std::fs::create_dir_all(data_dir)?;
    let mut secret = [0u8; 64];
    rand::rng().fill_bytes(&mut secret);
    let encoded = URL_SAFE_NO_PAD.encode(secret);
    write_private_file(&path, encoded.as_bytes())?;
    tracing::info!(path = %path.display(), "generated a new JWT secret");
    Ok(encoded.into_bytes())
}

pub fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents)
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
        let token = service.issue_access("u1", &[Role::Peer]).unwrap();
        let claims = service.verify_access(&token).unwrap();
        assert_eq!((claims.sub.as_str(), claims.roles.as_slice()), ("u1", &[Role::Peer][..]));
        assert_eq!(claims.exp - claims.iat, 900);
    }

    #[test]
    fn foreign_expired_and_unsigned_tokens_are_refused() {
        let service = TokenService::new(&[7u8; 32], 900);
        let other = TokenService::new(&[8u8; 32], 900);
        assert_eq!(service.verify_access(&other.issue_access("u1", &[]).unwrap()).unwrap_err().code(), "invalid_token");
        let expired = TokenService::new(&[7u8; 32], -3600).issue_access("u1", &[]).unwrap();
        assert_eq!(service.verify_access(&expired).unwrap_err().code(), "token_expired");
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD
            .encode(r#"{"sub":"u1","iat":0,"exp":99999999999,"jti":"x","iss":"naloxone-tracker","roles":["admin"]}"#);
        assert!(service.verify_access(&format!("{header}.{body}.")).is_err());
    }

    #[test]
    fn generated_secret_is_kept_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_secret(None, dir.path()).unwrap();
        assert_eq!(first, load_or_create_secret(None, dir.path()).unwrap());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(SECRET_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(load_or_create_secret(Some("short"), dir.path()).is_err());
    }

    #[test]
    fn refresh_tokens_are_unique_and_hashed() {
        let (a, b) = (new_refresh_token(), new_refresh_token());
        assert_ne!(a, b);
        assert_eq!(hash_refresh_token(&a).len(), 64);
        assert_ne!(hash_refresh_token(&a), a);
    }
}
