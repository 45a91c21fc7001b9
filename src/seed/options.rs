//! What to make, and the fixed names and numbers the making follows.

use chrono::NaiveDateTime;
use rand::Rng;

/// The demo admin; its presence marks a database as already seeded.
pub const ADMIN_EMAIL: &str = "admin@demo.example";
pub const EMAIL_DOMAIN: &str = "demo.example";
pub const DEFAULT_KITS: u64 = 100_000;
pub const DEFAULT_YEARS: u32 = 5;
pub const DEFAULT_SEED: u64 = 20_261_123;
pub const FINGERPRINT: &str = "seed-demo";

pub const PRENOXAD: &str = "0194f0a0-0000-7000-8000-000000000001";
pub const NYXOID: &str = "0194f0a0-0000-7000-8000-000000000002";
pub const NASAL_4MG: &str = "0194f0a0-0000-7000-8000-000000000003";

/// Certificates last three years.
pub const CERTIFICATE_MONTHS: u32 = 36;
/// Handouts a peer records in a year, on average: sets the number of peers.
pub const KITS_PER_PEER_YEAR: f64 = 150.0;
/// One reversal report for this many handouts.
pub const KITS_PER_REVERSAL: f64 = 15.0;
/// Microseconds in a second, an hour and a day.
pub const SECOND: i64 = 1_000_000;
pub const HOUR: i64 = 3_600 * SECOND;
pub const DAY: i64 = 24 * HOUR;

/// Handouts written in one transaction: whole days, ending with a month
/// once there are at least the fewer, and never much more than the more.
pub const MIN_KITS_PER_TRANSACTION: usize = 5_000;
pub const MAX_KITS_PER_TRANSACTION: usize = 40_000;
/// A peer supplier course takes at most this many registered attendees.
pub const MAX_RECRUITS: usize = 400;

/// What to make.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    /// Kit-issue records (handouts); a tally record holds several kits.
    pub kits: u64,
    /// Years of history, up to the start of today (UTC).
    pub years: u32,
    /// Seed of the random generator: the same seed gives the same data.
    pub seed: u64,
    /// The password every demo user shares.
    pub password: String,
    /// Report progress on standard error.
    pub progress: bool,
}

impl SeedOptions {
    pub fn new(kits: u64, password: impl Into<String>) -> Self {
        Self { kits, years: DEFAULT_YEARS, seed: DEFAULT_SEED, password: password.into(), progress: false }
    }
}

/// A UUID v7 for a record made at `at`: ids follow time, as live ones do.
pub fn new_id(rng: &mut impl Rng, at: NaiveDateTime) -> uuid::Uuid {
    let millis = u64::try_from(at.and_utc().timestamp_millis()).unwrap_or(0);
    let random: [u8; 10] = rng.random();
    uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
}
