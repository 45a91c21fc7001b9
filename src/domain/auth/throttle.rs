//! Counting attempts per key (a client address) in a fixed window, kept in
//! memory: public certificate look-ups. (Sign-ins have a throttle of their
//! own, in the database: `login_throttle`.)
//! Several API servers each keep their own count, which only multiplies an
//! attacker's allowance by the number of servers.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Once the map holds this many keys, expired ones are swept out.
const SWEEP_AT: usize = 10_000;

pub struct Throttle {
    max_failures: u32,
    window: Duration,
    failures: Mutex<HashMap<String, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    first_at: Instant,
}

impl Throttle {
    /// `max_attempts` within `window` lock a key until the window ends.
    pub fn new(max_attempts: u32, window: Duration) -> Self {
        Self { max_failures: max_attempts.max(1), window, failures: Mutex::new(HashMap::new()) }
    }

    /// `Err(seconds)` when any key is locked: how long until it opens.
    /// `limits` pairs each key with a multiple of `max_failures` (an
    /// address is shared by many honest people behind one router).
    pub fn check(&self, keys: &[(&str, u32)]) -> Result<(), u64> {
        let now = Instant::now();
        let failures = self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let wait = keys
            .iter()
            .filter_map(|(key, multiple)| {
                let entry = failures.get(*key)?;
                let open_at = entry.first_at + self.window;
                (entry.count >= self.max_failures * multiple && open_at > now).then(|| (open_at - now).as_secs() + 1)
            })
            .max();
        wait.map_or(Ok(()), Err)
    }

    pub fn record(&self, keys: &[(&str, u32)]) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if failures.len() >= SWEEP_AT {
            failures.retain(|_, entry| entry.first_at + self.window > now);
        }
        for (key, _) in keys {
            let entry = failures.entry((*key).to_owned()).or_insert(Failures { count: 0, first_at: now });
            if entry.first_at + self.window <= now {
                *entry = Failures { count: 0, first_at: now };
            }
            entry.count += 1;
        }
    }

    /// Forgets a key's count (a successful login clears the account's).
    pub fn clear(&self, key: &str) {
        self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_max_failures_and_reopens_after_the_window() {
        let throttle = Throttle::new(3, Duration::from_millis(200));
        let keys = [("account:a", 1), ("address:x", 4)];
        for _ in 0..2 {
            throttle.record(&keys);
        }
        assert!(throttle.check(&keys).is_ok());
        throttle.record(&keys);
        assert_eq!(throttle.check(&keys), Err(1));
        // The shared address allows four times as many failures.
        assert!(throttle.check(&[("address:x", 4)]).is_ok());
        std::thread::sleep(Duration::from_millis(250));
        assert!(throttle.check(&keys).is_ok());
    }

    #[test]
    fn success_clears_the_account() {
        let throttle = Throttle::new(1, Duration::from_secs(60));
        throttle.record(&[("account:a", 1)]);
        assert!(throttle.check(&[("account:a", 1)]).is_err());
        throttle.clear("account:a");
        assert!(throttle.check(&[("account:a", 1)]).is_ok());
    }
}
