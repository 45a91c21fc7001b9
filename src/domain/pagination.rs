//! Cursor pagination. Every list is ordered by id; ids the server makes are
//! UUIDv7, so that order is creation order. The cursor is the last id of
//! the page, opaque to clients.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use serde::de::DeserializeOwned;

use super::error::{Code, Error};
use crate::storage::Paging;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// How many items to return (1 to 200, default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page; empty or absent for the first page.
    pub cursor: Option<String>,
}

/// A validated page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: i64,
    /// Only ids greater than this one.
    pub after: Option<String>,
}

impl PageParams {
    pub fn resolve(&self) -> Result<PageRequest, Error> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Error::bad_query(format!("limit must be between 1 and {MAX_LIMIT}")));
        }
        let after = match self.cursor.as_deref() {
            // `cursor=` is how some clients write an absent one.
            None | Some("") => None,
            Some(cursor) => Some(decode_cursor(cursor).ok_or_else(|| Error::BadRequest {
                code: Code::InvalidCursor,
                detail: "the cursor is not one this server gave".into(),
            })?),
        };
        Ok(PageRequest { limit, after })
    }
}

impl PageRequest {
    /// The rows to read for this page: one more than it holds, to tell
    /// whether another page follows.
    pub fn paging(&self) -> Paging<'_> {
        Paging { after: self.after.as_deref(), limit: self.limit + 1 }
    }
}

/// The query string of a list: the list's own filters `F` (which should
/// deny unknown fields, so that a misspelt filter is an error rather than
/// a silently unfiltered answer) and the page parameters.
pub struct ListQuery<F> {
    pub filter: F,
    pub page: PageRequest,
}

impl<F: DeserializeOwned> ListQuery<F> {
    pub fn parse(query: &str) -> Result<Self, Error> {
        let invalid = |e: serde_urlencoded::de::Error| Error::bad_query(e.to_string());
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).map_err(invalid)?;
        let (paging, filters): (Vec<_>, Vec<_>) = pairs.into_iter().partition(|(k, _)| k == "limit" || k == "cursor");
        let encode = |pairs: &[(String, String)]| serde_urlencoded::to_string(pairs).unwrap_or_default();
        let filter = serde_urlencoded::from_str(&encode(&filters)).map_err(invalid)?;
        let page: PageParams = serde_urlencoded::from_str(&encode(&paging)).map_err(invalid)?;
        Ok(Self { filter, page: page.resolve()? })
    }
}

fn decode_cursor(cursor: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let id = String::from_utf8(bytes).ok()?;
    uuid::Uuid::parse_str(&id).ok().map(|_| id)
}

fn encode_cursor(id: &str) -> String {
    URL_SAFE_NO_PAD.encode(id)
}

/// A page of a list: `next_cursor` is null on the last page.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Send it back as `cursor` for the next page; null on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in id order: the
    /// extra row only tells that there is another page.
    pub fn from_rows(mut rows: Vec<T>, request: &PageRequest, id_of: impl Fn(&T) -> &str) -> Self {
        let limit = usize::try_from(request.limit).unwrap_or(usize::MAX);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| encode_cursor(id_of(last)))
        } else {
            None
        };
        Self { items: rows, next_cursor }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next_cursor: self.next_cursor }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_checked() {
        assert!(PageParams { limit: Some(0), cursor: None }.resolve().is_err());
        assert!(PageParams { limit: Some(201), cursor: None }.resolve().is_err());
        assert_eq!(PageParams::default().resolve().unwrap().limit, DEFAULT_LIMIT);
    }

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        let id = uuid::Uuid::now_v7().to_string();
        let cursor = encode_cursor(&id);
        let request = PageParams { limit: None, cursor: Some(cursor) }.resolve().unwrap();
        assert_eq!(request.after, Some(id));
        assert!(PageParams { limit: None, cursor: Some("not-a-cursor".into()) }.resolve().is_err());
        let empty = PageParams { limit: None, cursor: Some(String::new()) }.resolve().unwrap();
        assert_eq!(empty.after, None, "an empty cursor is the first page");
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Filter {
        kind: Option<String>,
    }

    #[test]
    fn list_queries_split_filters_from_paging() {
        let query = ListQuery::<Filter>::parse("kind=lero&limit=5").unwrap();
        assert_eq!((query.filter.kind.as_deref(), query.page.limit), (Some("lero"), 5));
        assert_eq!(ListQuery::<Filter>::parse("kinds=lero").err().unwrap().code(), Code::InvalidQuery);
        assert_eq!(ListQuery::<Filter>::parse("limit=many").err().unwrap().code(), Code::InvalidQuery);
        assert!(ListQuery::<Filter>::parse("").unwrap().filter.kind.is_none());
    }

    #[test]
    fn an_extra_row_means_another_page() {
        let request = PageRequest { limit: 2, after: None };
        let ids = vec!["a".to_owned(), "b".to_owned(), "c".to_owned()];
        let page = Page::from_rows(ids, &request, |s| s.as_str());
        assert_eq!(page.items, vec!["a", "b"]);
        assert_eq!(page.next_cursor, Some(encode_cursor("b")));
        let page = Page::from_rows(vec!["a".to_owned()], &request, |s| s.as_str());
        assert_eq!(page.next_cursor, None);
    }
}
