//! Versions of a record as clients see them: an entity tag made from the
//! record as shown, so that it changes whenever anything shown changes,
//! and the precondition a client sends with a change (`If-Match`): apply
//! it only if the record is still the one the client read. A coordinator's
//! screen and a phone then cannot silently overwrite each other.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::error::Error;

/// The entity tag of an answer's body: a quoted hex digest.
pub fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("\"{}\"", digest.iter().take(16).map(|b| format!("{b:02x}")).collect::<String>())
}

/// The entity tag of a record as it is shown.
pub fn etag<T: Serialize>(shown: &T) -> Result<String, Error> {
    Ok(etag_of(&serde_json::to_vec(shown).map_err(Error::internal)?))
}

/// What a client asked a change to depend on (`If-Match`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// `*`: the record exists.
    Any,
    /// The record is (still) one of these versions. Weak tags (`W/"…"`)
    /// never match: a change needs the strong comparison.
    OneOf(Vec<String>),
}

impl Precondition {
    /// Reads an `If-Match` header's value.
    pub fn parse(header: &str) -> Self {
        if header.trim() == "*" {
            return Precondition::Any;
        }
        Precondition::OneOf(header.split(',').map(|tag| tag.trim().to_owned()).filter(|t| !t.is_empty()).collect())
    }

    /// Refuses the change unless the record as shown now is a version asked for.
    pub fn check<T: Serialize>(&self, current: &T) -> Result<(), Error> {
        match self {
            Precondition::Any => Ok(()),
            Precondition::OneOf(tags) if tags.contains(&etag(current)?) => Ok(()),
            Precondition::OneOf(_) => Err(Error::PreconditionFailed),
        }
    }
}

/// Checks an optional precondition.
pub fn check<T: Serialize>(precondition: Option<&Precondition>, current: &T) -> Result<(), Error> {
    precondition.map_or(Ok(()), |p| p.check(current))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_applies_only_to_the_version_read() {
        let read = serde_json::json!({"quantity": 1});
        let changed = serde_json::json!({"quantity": 2});
        let tag = etag(&read).unwrap();
        assert!(tag.starts_with('"') && tag.ends_with('"') && tag.len() == 34);
        assert_eq!(Precondition::parse(&tag).check(&read).map_err(|e| e.code()), Ok(()));
        assert!(Precondition::parse(&tag).check(&changed).is_err());
        assert!(Precondition::parse(&format!("\"x\", {tag}")).check(&read).is_ok());
        assert!(Precondition::parse(&format!("W/{tag}")).check(&read).is_err(), "weak tags never match");
        assert!(Precondition::parse(" * ").check(&changed).is_ok());
        assert!(check(None, &changed).is_ok());
    }
}
