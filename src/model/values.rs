//! Checked values: text parsed once, at the edge, into a type that can
//! only hold a good value, so that nothing further in checks it again.

use validator::ValidateEmail;

/// A UK postcode district: the outward code only (one or two letters, a
/// digit, then an optional letter or digit), in capitals. Never a full
/// postcode: a district names a town or part of one, not a street.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, diesel::AsExpression, diesel::FromSqlRow,
)]
#[serde(transparent)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct PostcodeDistrict(String);

/// Why text is not a postcode district.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotADistrict {
    /// A whole postcode (it has the inward part after a space).
    FullPostcode,
    Format,
}

impl NotADistrict {
    pub fn code(self) -> &'static str {
        match self {
            NotADistrict::FullPostcode => "full_postcode",
            NotADistrict::Format => "format",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            NotADistrict::FullPostcode => "give only the district, the part before the space (e.g. KA1)",
            NotADistrict::Format => "must be a postcode district such as KA1, ZE1 or CF10",
        }
    }
}

impl PostcodeDistrict {
    /// Reads a district however it is typed (`ka1`, ` KA1 `).
    pub fn parse(text: &str) -> Result<Self, NotADistrict> {
        if text.trim().contains(' ') {
            return Err(NotADistrict::FullPostcode);
        }
        let district = text.trim().to_ascii_uppercase();
        let b = district.as_bytes();
        let letters = b.iter().take_while(|c| c.is_ascii_uppercase()).count();
        let rest = &b[letters..];
        let valid = (1..=2).contains(&letters)
            && !rest.is_empty()
            && rest.len() <= 2
            && rest[0].is_ascii_digit()
            && rest[1..].iter().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase());
        if valid {
            Ok(Self(district))
        } else {
            Err(NotADistrict::Format)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address as stored: trimmed and in lower case, so that one
/// address is one account however it is typed.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, diesel::AsExpression, diesel::FromSqlRow,
)]
#[serde(transparent)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct Email(String);

/// The longest address a mail system delivers to (RFC 5321).
pub const MAX_EMAIL_LENGTH: usize = 254;

impl Email {
    /// `None` unless `text` is an email address.
    pub fn parse(text: &str) -> Option<Self> {
        let email = Self::normalise(text);
        (email.len() <= MAX_EMAIL_LENGTH && email.validate_email()).then_some(Self(email))
    }

    /// How any text is compared with stored addresses (a sign-in may type anything).
    pub fn normalise(text: &str) -> String {
        text.trim().to_lowercase()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

stored_as_text!(PostcodeDistrict, Email);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postcode_districts_are_outward_codes_only() {
        for good in ["KA1", "ZE1", "CF10", "M1", "EC1A", "W1J", "ka1", " ze1 "] {
            assert!(PostcodeDistrict::parse(good).is_ok(), "{good}");
        }
        assert_eq!(PostcodeDistrict::parse(" ka1 ").unwrap().as_str(), "KA1");
        for bad in ["KA", "1KA", "KA1 1AA", "KAB1", "CF100", ""] {
            assert!(PostcodeDistrict::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(PostcodeDistrict::parse("KA1 1AA"), Err(NotADistrict::FullPostcode));
    }

    #[test]
    fn emails_are_one_address_however_typed() {
        assert_eq!(Email::parse("  Sam@Hub.Example ").unwrap().as_str(), "sam@hub.example");
        assert!(Email::parse("not an email").is_none());
        assert!(Email::parse(&format!("{}@example.org", "a".repeat(250))).is_none());
    }
}
