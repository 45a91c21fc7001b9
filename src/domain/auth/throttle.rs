//! Public certificate look-ups per client address, kept in memory. (Sign-ins
//! have a throttle of their own, in the database: `login_throttle`.)
//! governor's keyed limiter (GCRA) answers and counts an attempt in one
//! atomic step, so no number of look-ups at once gets past the limit: a
//! burst of the per-minute rate, then one more each 60/rate seconds.
//! Several API servers each keep their own count, which only multiplies an
//! attacker's allowance by the number of servers.

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Once the limiter holds this many addresses, those back to a full
/// allowance are forgotten.
const SWEEP_AT: usize = 10_000;

pub struct Throttle {
    limiter: DefaultKeyedRateLimiter<String>,
}

impl Throttle {
    /// At most `rate` attempts a minute per key (at least one).
    pub fn per_minute(rate: u32) -> Self {
        Self { limiter: RateLimiter::keyed(Quota::per_minute(NonZeroU32::new(rate).unwrap_or(NonZeroU32::MIN))) }
    }

    /// Counts an attempt by `key`, or answers `Err(seconds)`: how long
    /// until the next one is allowed.
    pub fn attempt(&self, key: &str) -> Result<(), u64> {
        if self.limiter.len() >= SWEEP_AT {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&key.to_owned())
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()).as_secs() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_rate_then_says_how_long_to_wait() {
        let throttle = Throttle::per_minute(3);
        for _ in 0..3 {
            assert!(throttle.attempt("address:x").is_ok());
        }
        let wait = throttle.attempt("address:x").unwrap_err();
        assert!((1..=21).contains(&wait), "one more after 20 s, not {wait}");
        assert!(throttle.attempt("address:y").is_ok(), "each key has its own allowance");
    }

    #[test]
    fn attempts_at_once_never_pass_the_limit() {
        let throttle = std::sync::Arc::new(Throttle::per_minute(5));
        let threads: Vec<_> = (0..40)
            .map(|_| {
                let throttle = throttle.clone();
                std::thread::spawn(move || throttle.attempt("address:x").is_ok())
            })
            .collect();
        let allowed = threads.into_iter().map(|t| t.join().unwrap()).filter(|ok| *ok).count();
        assert_eq!(allowed, 5);
    }
}
