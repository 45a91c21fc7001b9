//! Built-in HTTPS for a small hub without a reverse proxy: a certificate
//! chain and its private key from PEM files, served with rustls (its
//! `ring` provider; safe protocol versions only). Every way the files can
//! be wrong is said plainly before the server starts.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;

/// How long browsers keep to HTTPS once they have seen it (a year, the
/// usual value; short enough to recover from a hub giving HTTPS up).
pub const HSTS: &str = "max-age=31536000";

fn read(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read the TLS {what} {}: {e}", path.display()))
}

/// The TLS settings for the certificate chain in `cert` and the private key in `key`.
pub fn server_config(cert: &Path, key: &Path) -> anyhow::Result<ServerConfig> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&read(cert, "certificate")?)
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("{} is not a PEM certificate file: {e}", cert.display()))?;
    anyhow::ensure!(
        !chain.is_empty(),
        "{} holds no certificate (a PEM file with -----BEGIN CERTIFICATE-----)",
        cert.display()
    );
    let private = PrivateKeyDer::from_pem_slice(&read(key, "private key")?).map_err(|e| {
        anyhow::anyhow!("{} holds no private key (a PEM file with -----BEGIN PRIVATE KEY-----): {e}", key.display())
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => anyhow::anyhow!(
                "the private key in {} does not belong to the certificate in {}",
                key.display(),
                cert.display()
            ),
            other => anyhow::anyhow!("cannot use {} with {}: {other}", cert.display(), key.display()),
        })
}
