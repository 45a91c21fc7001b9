//! Typed ids: a handout's id cannot be passed where an area's is meant.
//! Every id is a UUID, kept and shown as its hyphenated text; the ones the
//! server makes are UUIDv7, so that they sort in the order they were made
//! (lists page by id).

/// Declares an id type with its text forms for JSON and the database.
macro_rules! id_type {
    ($($(#[$meta:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$meta])*
        #[derive(
            Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, diesel::AsExpression, diesel::FromSqlRow,
        )]
        #[serde(transparent)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub struct $name(String);

        impl $name {
            /// A new id, later in the order than every id made before it.
            pub fn new_v7() -> Self {
                Self(uuid::Uuid::now_v7().to_string())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// `None` unless `text` is a UUID.
            pub fn parse(text: &str) -> Option<Self> {
                uuid::Uuid::parse_str(text).ok().map(Self::from)
            }
        }

        impl From<uuid::Uuid> for $name {
            fn from(id: uuid::Uuid) -> Self {
                Self(id.hyphenated().to_string())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        stored_as_text!($name);
    )+};
}

id_type! {
    UserId,
    AreaId,
    OrganisationId,
    ProductId,
    BatchId,
    KitIssueId,
    ReversalId,
    TrainingId,
    CertificateId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuids_in_hyphenated_text() {
        let id = AreaId::parse("0194F0A0000070008000000000000001").unwrap();
        assert_eq!(id.as_str(), "0194f0a0-0000-7000-8000-000000000001");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"0194f0a0-0000-7000-8000-000000000001\"");
        assert!(AreaId::parse("not-a-uuid").is_none());
        assert!(AreaId::new_v7() < AreaId::new_v7() || cfg!(miri));
    }
}
