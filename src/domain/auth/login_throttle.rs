//! The sign-in throttle, after the OWASP Authentication Cheat Sheet
//! ("Protect against automated attacks", "Account lockout"): failures are
//! counted per account *and* client address, with delays that double after
//! each further failure, so that a stranger who knows a peer's email locks
//! out only their own address; a higher ceiling per account over all
//! addresses holds against guessing spread over many addresses (NIST SP
//! 800-63B 5.2.2 caps failures per account at 100); and a ceiling per
//! address over all accounts slows one address trying many accounts.
//!
//! An attempt is counted (reserved) before its password is checked, in the
//! same transaction that finds it allowed: under the row locks of its keys,
//! so that no number of concurrent guesses checks more passwords than the
//! limits allow. A successful sign-in gives its reservation back.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};

use crate::domain::error::{Code, Error};
use crate::storage::login_throttle::{self, ThrottleRow};
use crate::storage::DbConnection;

/// Every so many reservations, rows past their time are deleted.
const SWEEP_EVERY: u64 = 64;

/// The limits, from the settings.
#[derive(Debug, Clone)]
pub struct LoginLimits {
    /// Failures of one account from one address before the delays start.
    pub max_failures: u32,
    /// The first delay; each further failure doubles it.
    pub delay: Duration,
    /// The longest delay.
    pub max_delay: Duration,
    /// Failures of one account from all addresses within `window`.
    pub account_max_failures: u32,
    /// Failures from one address for all accounts within `window`.
    pub address_max_failures: u32,
    /// The window of the two ceilings; an account and address pair's count
    /// is forgotten this long after its last failure.
    pub window: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An account from one address: delays that grow.
    Pair,
    /// An account from every address: a ceiling per window.
    Account,
    /// An address for every account: a ceiling per window.
    Address,
}

/// The keys one attempt counts against, as stored (account, address), in
/// the one order every transaction takes them.
fn keys(account: &str, address: &str) -> Vec<(Kind, String, String)> {
    let mut keys = vec![
        (Kind::Pair, account.to_owned(), address.to_owned()),
        (Kind::Account, account.to_owned(), String::new()),
        (Kind::Address, String::new(), address.to_owned()),
    ];
    keys.sort_by(|a, b| (&a.1, &a.2).cmp(&(&b.1, &b.2)));
    keys
}

/// An attempt counted before its password was checked.
#[derive(Debug, Clone)]
pub struct Reservation {
    account: String,
    address: String,
}

/// The throttle on sign-ins. Cheap to clone; clones share their counter of sweeps.
#[derive(Clone)]
pub struct LoginThrottle {
    limits: LoginLimits,
    reservations: Arc<AtomicU64>,
}

impl LoginThrottle {
    pub fn new(mut limits: LoginLimits) -> Self {
        limits.max_failures = limits.max_failures.max(1);
        limits.account_max_failures = limits.account_max_failures.max(1);
        limits.address_max_failures = limits.address_max_failures.max(1);
        limits.max_delay = limits.max_delay.max(limits.delay).min(limits.window);
        Self { limits, reservations: Arc::new(AtomicU64::new(0)) }
    }

    /// Counts an attempt for `account` (the normalised email, whether or not
    /// anyone has it) from `address`, or refuses it, counting nothing, with
    /// the seconds until it would be allowed. Call it in the transaction
    /// that reads the account, before the password is checked.
    pub fn reserve(
        &self,
        conn: &mut DbConnection,
        account: &str,
        address: &str,
        now: NaiveDateTime,
    ) -> Result<Reservation, Error> {
        let address = if address.is_empty() { "unknown" } else { address };
        let keys = keys(account, address);
        let fresh: Vec<ThrottleRow> = keys
            .iter()
            .map(|(_, account, address)| ThrottleRow {
                account: account.clone(),
                address: address.clone(),
                failures: 0,
                window_started_at: now,
                locked_until: None,
                forget_at: now,
            })
            .collect();
        let rows = login_throttle::lock(conn, &fresh)?;
        let wait = rows.iter().filter_map(|row| closed_for(row, now)).max();
        if let Some(wait) = wait {
            return Err(Error::throttled(Code::LoginThrottled, seconds_up(wait)));
        }
        for ((kind, _, _), row) in keys.iter().zip(rows) {
            login_throttle::save(conn, &self.counted(*kind, row, now))?;
        }
        if self.reservations.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            login_throttle::sweep(conn, now)?;
        }
        Ok(Reservation { account: account.to_owned(), address: address.to_owned() })
    }

    /// Gives back the reservation of an attempt that signed in: the account
    /// and address pair starts afresh, and the ceilings count it no more.
    pub fn release(&self, conn: &mut DbConnection, reservation: &Reservation) -> Result<(), Error> {
        for (kind, account, address) in keys(&reservation.account, &reservation.address) {
            match kind {
                Kind::Pair => login_throttle::delete(conn, &account, &address)?,
                Kind::Account => {
                    login_throttle::give_back(conn, &account, &address, self.limits.account_max_failures as i32)?
                }
                Kind::Address => {
                    login_throttle::give_back(conn, &account, &address, self.limits.address_max_failures as i32)?
                }
            }
        }
        Ok(())
    }

    /// Forgets an account's failures from every address (an unlock): how
    /// many counts there were.
    pub fn clear(&self, conn: &mut DbConnection, account: &str) -> Result<usize, Error> {
        Ok(login_throttle::clear_account(conn, account)?)
    }

    /// A row as it stands once this attempt is counted.
    fn counted(&self, kind: Kind, mut row: ThrottleRow, now: NaiveDateTime) -> ThrottleRow {
        let limits = &self.limits;
        match kind {
            Kind::Pair => {
                if row.forget_at <= now {
                    row.failures = 0;
                    row.window_started_at = now;
                }
                row.failures += 1;
                let beyond = row.failures - limits.max_failures as i32;
                row.locked_until = (beyond >= 0).then(|| now + delay_after(limits, beyond as u32));
                row.forget_at = now + limits.window;
            }
            Kind::Account | Kind::Address => {
                let ceiling =
                    if kind == Kind::Account { limits.account_max_failures } else { limits.address_max_failures };
                if row.window_started_at + limits.window <= now {
                    row.failures = 0;
                    row.window_started_at = now;
                }
                row.failures += 1;
                let window_end = row.window_started_at + limits.window;
                row.locked_until = (row.failures >= ceiling as i32).then_some(window_end);
                row.forget_at = window_end;
            }
        }
        row
    }
}

/// How long a key stays closed after `beyond` failures past the allowance
/// (0 for the first): the first delay, doubled each time, up to the longest.
fn delay_after(limits: &LoginLimits, beyond: u32) -> Duration {
    let factor = 1i32.checked_shl(beyond.min(30)).unwrap_or(i32::MAX);
    limits.delay.checked_mul(factor).map_or(limits.max_delay, |d| d.min(limits.max_delay))
}

/// How long until a row lets an attempt through, if it is closed now.
fn closed_for(row: &ThrottleRow, now: NaiveDateTime) -> Option<Duration> {
    row.locked_until.filter(|until| *until > now && row.forget_at > now).map(|until| until - now)
}

/// Whole seconds, rounded up.
fn seconds_up(wait: Duration) -> u64 {
    let micros = wait.num_microseconds().unwrap_or(i64::MAX).max(0) as u64;
    micros.div_ceil(1_000_000).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> LoginLimits {
        LoginLimits {
            max_failures: 3,
            delay: Duration::seconds(10),
            max_delay: Duration::seconds(45),
            account_max_failures: 7,
            address_max_failures: 9,
            window: Duration::seconds(1000),
        }
    }

    fn fresh(now: NaiveDateTime) -> ThrottleRow {
        ThrottleRow {
            account: "a".into(),
            address: "x".into(),
            failures: 0,
            window_started_at: now,
            locked_until: None,
            forget_at: now,
        }
    }

    #[test]
    fn keys_are_taken_in_one_order() {
        let names: Vec<(String, String)> =
            keys("peer@hub.example", "10.0.0.1").into_iter().map(|k| (k.1, k.2)).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert_eq!(names[0], (String::new(), "10.0.0.1".to_owned()));
    }

    #[test]
    fn a_pair_is_delayed_after_its_allowance_and_each_delay_doubles() {
        let throttle = LoginThrottle::new(limits());
        let start = chrono::Utc::now().naive_utc();
        let mut row = fresh(start);
        let mut now = start;
        let mut delays = Vec::new();
        for _ in 0..7 {
            assert_eq!(closed_for(&row, now), None);
            row = throttle.counted(Kind::Pair, row, now);
            let wait = closed_for(&row, now);
            delays.push(wait.map(|w| w.num_seconds()));
            now += wait.unwrap_or_default();
        }
        assert_eq!(delays, [None, None, Some(10), Some(20), Some(40), Some(45), Some(45)]);
        // Forgotten a window after the last failure.
        let later = now + Duration::seconds(1000);
        assert_eq!(throttle.counted(Kind::Pair, row, later).failures, 1);
    }

    #[test]
    fn a_ceiling_closes_until_its_window_ends() {
        let throttle = LoginThrottle::new(limits());
        let start = chrono::Utc::now().naive_utc();
        let mut row = fresh(start);
        for i in 0..7 {
            assert_eq!(closed_for(&row, start + Duration::seconds(i)), None);
            row = throttle.counted(Kind::Account, row, start + Duration::seconds(i));
        }
        assert_eq!(closed_for(&row, start + Duration::seconds(10)), Some(Duration::seconds(990)));
        assert_eq!(closed_for(&row, start + Duration::seconds(1000)), None);
        let next = throttle.counted(Kind::Account, row, start + Duration::seconds(1000));
        assert_eq!((next.failures, next.locked_until), (1, None));
    }

    #[test]
    fn waits_round_up_to_whole_seconds() {
        assert_eq!(seconds_up(Duration::milliseconds(1)), 1);
        assert_eq!(seconds_up(Duration::milliseconds(1000)), 1);
        assert_eq!(seconds_up(Duration::milliseconds(1001)), 2);
        assert_eq!(delay_after(&limits(), 200), Duration::seconds(45));
    }
}
