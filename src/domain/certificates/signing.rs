//! Certificates as signed tokens (EdDSA over Ed25519), so that a phone with
//! no signal can check a peer's certificate against the published key.
//! The key is made on first start and kept in the data folder.

use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::domain::error::Error;
use crate::model::certificates::CertificateLevel;

pub const KEY_FILE: &str = "certificate_signing_key.pem";
pub const TOKEN_ISSUER: &str = "naloxone-tracker";

/// What a signed certificate token says: no more than the public check shows.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CertificateClaims {
    pub iss: String,
    /// The certificate id.
    pub sub: String,
    pub iat: i64,
    /// The certificate's expiry.
    pub exp: i64,
    pub level: CertificateLevel,
    pub holder_initials: String,
    pub issuing_organisation: String,
}

pub struct CertificateSigner {
    encoding: EncodingKey,
    public_key: [u8; 32],
    key_id: String,
}

impl CertificateSigner {
    /// Loads the key from the data folder, making one on first start.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Self> {
        let path = data_dir.join(KEY_FILE);
        let pem = if path.exists() {
            std::fs::read_to_string(&path)?
        } else {
            crate::storage::files::create_private_dir(data_dir)?;
            let mut seed = [0u8; 32];
            rand::rng().fill_bytes(&mut seed);
            let pem = SigningKey::from_bytes(&seed)
                .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
                .map_err(|e| anyhow::anyhow!("encoding the signing key: {e}"))?;
            crate::storage::files::create_private_file(&path, pem.as_bytes())?;
            tracing::info!(path = %path.display(), "generated a new certificate signing key");
            pem.to_string()
        };
        let key = SigningKey::from_pkcs8_pem(&pem)
            .map_err(|e| anyhow::anyhow!("{} is not an Ed25519 key: {e}", path.display()))?;
        let public_key = key.verifying_key().to_bytes();
        let key_id = Sha256::digest(public_key).iter().take(8).map(|b| format!("{b:02x}")).collect();
        let der = key.to_pkcs8_der().map_err(|e| anyhow::anyhow!("encoding the signing key: {e}"))?;
        Ok(Self { encoding: EncodingKey::from_ed_der(der.as_bytes()), public_key, key_id })
    }

    pub fn sign(&self, claims: &CertificateClaims) -> Result<String, Error> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.key_id.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).map_err(Error::internal)
    }

    /// The public key as a JSON Web Key Set.
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: vec![Jwk {
                kty: "OKP".to_owned(),
                crv: "Ed25519".to_owned(),
                x: URL_SAFE_NO_PAD.encode(self.public_key),
                kid: self.key_id.clone(),
                alg: "EdDSA".to_owned(),
                key_use: "sig".to_owned(),
            }],
        }
    }
}

/// RFC 7517 key set.
#[derive(Debug, Serialize, ToSchema)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

/// An Ed25519 public key (RFC 8037).
#[derive(Debug, Serialize, ToSchema)]
pub struct Jwk {
    #[schema(example = "OKP")]
    pub kty: String,
    #[schema(example = "Ed25519")]
    pub crv: String,
    /// The public key, base64url.
    pub x: String,
    pub kid: String,
    #[schema(example = "EdDSA")]
    pub alg: String,
    #[serde(rename = "use")]
    #[schema(example = "sig")]
    pub key_use: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    #[test]
    fn tokens_verify_with_the_published_key_and_the_key_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let signer = CertificateSigner::load_or_create(dir.path()).unwrap();
        let again = CertificateSigner::load_or_create(dir.path()).unwrap();
        assert_eq!(signer.public_key, again.public_key);
        let claims = CertificateClaims {
            iss: TOKEN_ISSUER.into(),
            sub: "c1".into(),
            iat: 1_700_000_000,
            exp: 4_000_000_000,
            level: CertificateLevel::PeerSupplier,
            holder_initials: "SK".into(),
            issuing_organisation: "Hub".into(),
        };
        let token = signer.sign(&claims).unwrap();
        let jwk = &signer.jwks().keys[0];
        let key = DecodingKey::from_ed_components(&jwk.x).unwrap();
        let decoded =
            jsonwebtoken::decode::<CertificateClaims>(&token, &key, &Validation::new(Algorithm::EdDSA)).unwrap();
        assert_eq!(decoded.claims.sub, "c1");
        assert_eq!(decoded.header.kid.as_deref(), Some(jwk.kid.as_str()));
    }
}
