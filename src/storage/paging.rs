//! How lists page, and which records of a kind a caller's list may hold.

/// Which rows of a list to read: up to `limit`, after the id `after`, in id order.
#[derive(Debug, Clone, Copy)]
pub struct Paging<'a> {
    pub after: Option<&'a str>,
    pub limit: i64,
}

/// Orders a boxed query by its id column and keeps one page of it: how every list pages.
macro_rules! paged {
    ($query:expr, $id:expr, $paging:expr) => {{
        let paging: $crate::storage::paging::Paging<'_> = $paging;
        let query = $query.order($id.asc()).limit(paging.limit);
        match paging.after {
            Some(after) => query.filter($id.gt(after)),
            None => query,
        }
    }};
}
pub(crate) use paged;

/// Which records of a kind a list may show: the domain decides, per caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visible {
    All,
    /// An organisation's.
    Organisation(crate::model::ids::OrganisationId),
    /// Those the user made (handed out, reported, trained or recorded).
    Authored(crate::model::ids::UserId),
}

/// Rows in one multi-row INSERT: 23 columns × 1,000 stays under SQLite's
/// 32,766 and PostgreSQL's 65,535 bound parameters.
pub const ROWS_PER_INSERT: usize = 1_000;
