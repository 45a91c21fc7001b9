//! Secrets the server makes for itself on first start and keeps in the
//! data folder (made `0700` if missing), each file readable by its owner
//! only (`0600`), whatever the umask; each can instead be given in the
//! environment (several servers must share them).

use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;

/// The file of the key that hashes recipient codes: without it, first and
/// repeat supply can no longer be told apart.
pub const RECIPIENT_CODE_KEY_FILE: &str = "recipient_code_key";

/// The recipient-code key: given in `RECIPIENT_CODE_KEY`, or the data folder's file.
pub fn recipient_code_key(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    load_or_create(configured, data_dir, RECIPIENT_CODE_KEY_FILE, "RECIPIENT_CODE_KEY")
}

/// Secrets are at least as long as the SHA-256 output they key.
const MIN_SECRET_BYTES: usize = 32;

/// `configured` when given (it came from the variable `variable`),
/// otherwise the file `file_name` in `data_dir`, made if missing.
pub fn load_or_create(
    configured: Option<&str>,
    data_dir: &Path,
    file_name: &str,
    variable: &str,
) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = configured {
        anyhow::ensure!(secret.len() >= MIN_SECRET_BYTES, "{variable} must be at least {MIN_SECRET_BYTES} bytes long");
        return Ok(secret.as_bytes().to_vec());
    }
    let path = data_dir.join(file_name);
    if path.exists() {
        let secret = std::fs::read(&path)?;
        anyhow::ensure!(
            secret.len() >= MIN_SECRET_BYTES,
            "{} is too short; delete it to make a new one",
            path.display()
        );
        return Ok(secret);
    }
    crate::storage::files::create_private_dir(data_dir)?;
    let mut secret = [0u8; 64];
    rand::rng().fill_bytes(&mut secret);
    let encoded = URL_SAFE_NO_PAD.encode(secret);
    crate::storage::files::create_private_file(&path, encoded.as_bytes())?;
    tracing::info!(path = %path.display(), "generated a new secret");
    Ok(encoded.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_kept_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(None, dir.path(), "s", "S").unwrap();
        assert_eq!(first, load_or_create(None, dir.path(), "s", "S").unwrap());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("s")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(load_or_create(Some("short"), dir.path(), "s", "S").is_err());
        assert_eq!(load_or_create(Some(&"k".repeat(32)), dir.path(), "s", "S").unwrap(), b"k".repeat(32));
    }
}
