//! argon2id password hashes.

use std::sync::OnceLock;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::domain::error::Error;

pub const MIN_PASSWORD_LENGTH: u64 = 10;
pub const MAX_PASSWORD_LENGTH: u64 = 128;

/// Hashes with argon2id and the OWASP-recommended default cost. CPU heavy:
/// call it off the async workers ([`hash_off_thread`]).
pub fn hash(password: &str) -> Result<String, Error> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(Error::internal)
}

/// Checks a password; `None` (no such account) still spends the same time
/// on a dummy hash, so response times do not tell which emails exist.
pub fn verify(password: &str, stored_hash: Option<&str>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash("a dummy password nobody has").unwrap_or_default());
    let candidate = stored_hash.unwrap_or(dummy);
    let matches = PasswordHash::new(candidate)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false);
    matches && stored_hash.is_some()
}

/// [`hash`], on a thread for blocking work.
pub async fn hash_off_thread(password: String) -> Result<String, Error> {
    tokio::task::spawn_blocking(move || hash(&password)).await.map_err(Error::internal)?
}

/// [`verify`], on a thread for blocking work.
pub async fn verify_off_thread(password: String, stored_hash: Option<String>) -> Result<bool, Error> {
    tokio::task::spawn_blocking(move || verify(&password, stored_hash.as_deref())).await.map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let first = hash("correct horse battery").unwrap();
        let second = hash("correct horse battery").unwrap();
        assert_ne!(first, second);
        assert!(first.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", Some(&first)));
        assert!(!verify("wrong horse battery", Some(&first)));
        assert!(!verify("correct horse battery", None));
    }
}
