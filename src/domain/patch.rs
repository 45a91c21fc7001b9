//! PATCH bodies: an absent field stays as it is, `null` clears it.

use serde::{Deserialize, Deserializer};

/// For `Option<Option<T>>` fields with `#[serde(default)]`: absent gives
/// `None`, `null` gives `Some(None)`, a value gives `Some(Some(value))`.
pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Patch {
        #[serde(default, deserialize_with = "double_option")]
        parent: Option<Option<u32>>,
    }

    #[test]
    fn absent_null_and_value_differ() {
        assert_eq!(serde_json::from_str::<Patch>("{}").unwrap().parent, None);
        assert_eq!(serde_json::from_str::<Patch>(r#"{"parent": null}"#).unwrap().parent, Some(None));
        assert_eq!(serde_json::from_str::<Patch>(r#"{"parent": 3}"#).unwrap().parent, Some(Some(3)));
    }
}
