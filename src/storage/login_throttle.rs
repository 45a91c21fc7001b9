//! Sign-in attempts counted per key: an account and a client address
//! together, an account over all addresses (`address` empty), an address
//! over all accounts (`account` empty). Kept in the database, so that every
//! server on one database counts together, a restart forgets nothing, and
//! an unlock holds everywhere.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::upsert::excluded;

use super::connection::DbConnection;
use super::error::Result;
use super::schema::login_throttle;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = login_throttle, treat_none_as_null = true)]
pub struct ThrottleRow {
    pub account: String,
    pub address: String,
    pub failures: i32,
    pub window_started_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub forget_at: NaiveDateTime,
}

/// The row of each key, made as `fresh` if there is none, and locked (on
/// PostgreSQL) until the transaction ends, so that two sign-ins for the same
/// key count one after the other. Give the keys in one order everywhere
/// (sorted), so that two transactions never wait for each other's rows.
pub fn lock(conn: &mut DbConnection, fresh: &[ThrottleRow]) -> Result<Vec<ThrottleRow>> {
    let mut rows = Vec::with_capacity(fresh.len());
    for row in fresh {
        // The no-op update takes the row's lock and returns it as stored.
        let statement = diesel::insert_into(login_throttle::table)
            .values(row)
            .on_conflict((login_throttle::account, login_throttle::address))
            .do_update()
            .set(login_throttle::account.eq(excluded(login_throttle::account)));
        let stored: ThrottleRow = crate::on_each_backend!(conn, |backend| statement
            .returning(ThrottleRow::as_returning())
            .get_result(backend))?;
        rows.push(stored);
    }
    Ok(rows)
}

pub fn save(conn: &mut DbConnection, row: &ThrottleRow) -> Result<()> {
    diesel::update(login_throttle::table.find((&row.account, &row.address))).set(row).execute(conn)?;
    Ok(())
}

pub fn delete(conn: &mut DbConnection, account: &str, address: &str) -> Result<()> {
    diesel::delete(login_throttle::table.find((account, address))).execute(conn)?;
    Ok(())
}

/// Takes one failure off a key's count (a sign-in that succeeded): the row
/// goes when none is left, and opens if it is left under `ceiling`.
pub fn give_back(conn: &mut DbConnection, account: &str, address: &str, ceiling: i32) -> Result<()> {
    use login_throttle::dsl;
    let key = || login_throttle::table.find((account, address));
    diesel::delete(key().filter(dsl::failures.le(1))).execute(conn)?;
    diesel::update(key()).set(dsl::failures.eq(dsl::failures - 1)).execute(conn)?;
    diesel::update(key().filter(dsl::failures.lt(ceiling)))
        .set(dsl::locked_until.eq(None::<NaiveDateTime>))
        .execute(conn)?;
    Ok(())
}

/// Forgets every count of an account (an unlock): how many there were.
/// The rows are locked in key order first, as [`lock`] takes them.
pub fn clear_account(conn: &mut DbConnection, account: &str) -> Result<usize> {
    let keys = login_throttle::table
        .filter(login_throttle::account.eq(account))
        .order((login_throttle::account, login_throttle::address))
        .select(login_throttle::address);
    let addresses: Vec<String> = match conn {
        DbConnection::Postgresql(pg) => keys.for_update().load(pg)?,
        DbConnection::Sqlite(sqlite) => keys.load(sqlite)?,
    };
    diesel::delete(login_throttle::table.filter(login_throttle::account.eq(account))).execute(conn)?;
    Ok(addresses.len())
}

/// Deletes rows past their `forget_at`. On PostgreSQL it skips rows another
/// sign-in holds, so that it never waits for one.
pub fn sweep(conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize> {
    Ok(match conn {
        DbConnection::Postgresql(pg) => diesel::sql_query(
            "DELETE FROM login_throttle WHERE (account, address) IN \
             (SELECT account, address FROM login_throttle WHERE forget_at < $1 FOR UPDATE SKIP LOCKED)",
        )
        .bind::<diesel::sql_types::Timestamp, _>(now)
        .execute(pg)?,
        DbConnection::Sqlite(sqlite) => {
            diesel::delete(login_throttle::table.filter(login_throttle::forget_at.lt(now))).execute(sqlite)?
        }
    })
}
