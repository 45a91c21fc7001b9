//! Reading lists and single records alike: what areas, organisations,
//! products and certificates share. Each kind says how it is found and
//! listed within what a caller may see; reading it is then the same for all.

use serde::Serialize;

use super::error::Error;
use super::pagination::{Page, PageRequest};
use super::principal::Principal;
use crate::storage::{Database, DbConnection};

/// A kind of record that is read one at a time by id or a page at a time.
pub trait Listed: Serialize + Sized + Send + 'static {
    type Id: Send + 'static;
    type Filter: Send + 'static;
    /// In a 404: "no such area".
    const NAME: &'static str;

    /// The record, if the caller may see it.
    fn find(conn: &mut DbConnection, principal: &Principal, id: &Self::Id) -> Result<Option<Self>, Error>;
    /// A page of the records the caller may see.
    fn list(
        conn: &mut DbConnection,
        principal: &Principal,
        filter: &Self::Filter,
        page: &PageRequest,
    ) -> Result<Page<Self>, Error>;
}

/// One record, or "not found" (also for one the caller may not see).
pub async fn get<R: Listed>(db: &Database, principal: Principal, id: R::Id) -> Result<R, Error> {
    db.run(move |conn| R::find(conn, &principal, &id)?.ok_or(Error::NotFound(R::NAME))).await
}

/// A page of records.
pub async fn list<R: Listed>(
    db: &Database,
    principal: Principal,
    filter: R::Filter,
    page: PageRequest,
) -> Result<Page<R>, Error> {
    db.run(move |conn| R::list(conn, &principal, &filter, &page)).await
}
