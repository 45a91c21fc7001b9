//! `seed-demo`: fills a database with realistic demo data: the nations,
//! health boards / regions and ADPs / local authorities of the places in
//! the seed documents ([`places`]), their hubs, LEROs and services, users
//! of every role, trainings and certificates ([`plan`]), and years of kit
//! handouts and overdose reversal reports ([`generate`]). Everything is
//! written through the same storage rows as live writes, and the running
//! totals are counted by the same code, in the same transaction as the
//! records ([`store`]).
//!
//! Everything comes from one seeded random generator, so the same options
//! give the same data (relative to the day it runs). The people and their
//! certificates are laid out first, so that every handout's distributor is
//! a peer of its organisation holding a valid certificate at the time.
//! Handouts and reports are then made day by day, in time order, by a
//! generator thread and written in chunks (one transaction each) by the
//! calling thread; only a few chunks are in memory at once.

mod generate;
mod options;
mod places;
mod plan;
mod store;
mod tables;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use rand::Rng;

use crate::domain::auth::password::{self, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH};
use crate::domain::error::Error;
use crate::storage::{users, Database, DbConnection};
use generate::{Chunk, Generator};
pub use options::{SeedOptions, ADMIN_EMAIL, DEFAULT_KITS, DEFAULT_SEED, DEFAULT_YEARS};
use store::{set_sqlite_cache, store_chunk, store_setup, DEFAULT_SQLITE_CACHE_KIB, SEED_SQLITE_CACHE_KIB};

/// What was made.
#[derive(Debug, Clone)]
pub struct SeedReport {
    pub admin_email: String,
    /// One per health board or region: (area name, email).
    pub commissioners: Vec<(String, String)>,
    pub areas: usize,
    pub organisations: usize,
    pub users: usize,
    pub trainings: usize,
    pub certificates: usize,
    /// Kit-issue records.
    pub kit_issues: u64,
    /// Kits in them (tallies hold several).
    pub kits: u64,
    pub reversals: u64,
    pub elapsed: Duration,
}

/// A password for the demo users, from the operating system's randomness.
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    let groups: Vec<String> =
        (0..4).map(|_| (0..4).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()).collect();
    groups.join("-")
}

/// Fills the database (already migrated) with demo data. Refuses a
/// database that already holds it.
pub fn seed_demo(db: &Database, options: &SeedOptions) -> anyhow::Result<SeedReport> {
    let started = Instant::now();
    let length = options.password.chars().count() as u64;
    anyhow::ensure!(
        (MIN_PASSWORD_LENGTH..=MAX_PASSWORD_LENGTH).contains(&length),
        "the demo password must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters long"
    );
    anyhow::ensure!((1..=30).contains(&options.years), "--years must be 1 to 30");
    let seeded = db
        .run_blocking(|conn| users::find_account_by_email(conn, ADMIN_EMAIL))
        .map_err(|e| anyhow::anyhow!("cannot read the users: {e}"))?
        .is_some();
    anyhow::ensure!(
        !seeded,
        "this database already holds demo data ({ADMIN_EMAIL} exists); seed-demo fills a fresh database only"
    );
    let say = |text: String| {
        if options.progress {
            eprintln!("seed-demo: {text}");
        }
    };

    let password_hash = password::hash(&options.password)?;
    let today = chrono::Utc::now().date_naive();
    let (world, setup) = plan::plan(options, today, &password_hash);
    let mut report = SeedReport {
        admin_email: ADMIN_EMAIL.to_owned(),
        commissioners: setup.commissioners.clone(),
        areas: setup.areas.iter().map(Vec::len).sum(),
        organisations: setup.organisations.len(),
        users: setup.users.len(),
        trainings: setup.trainings.len(),
        certificates: setup.certificates.len(),
        kit_issues: 0,
        kits: 0,
        reversals: 0,
        elapsed: Duration::ZERO,
    };
    say(format!(
        "{} areas, {} organisations, {} users, {} trainings, {} certificates; {} handouts over {} years from {}",
        report.areas,
        report.organisations,
        report.users,
        report.trainings,
        report.certificates,
        options.kits,
        options.years,
        world.start
    ));
    db.write_blocking(|conn| store_setup(conn, &setup))
        .map_err(|e: Error| anyhow::anyhow!("storing the set-up: {e}"))?;
    drop(setup);

    let (sender, receiver) = mpsc::sync_channel::<Chunk>(2);
    let generator = Generator::new(&world, options.seed, options.kits);
    let total = options.kits.max(1);
    let writing = Instant::now();
    let mut step = 0;
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let handle = scope.spawn(move || generator.run(&sender));
        // One connection for all the chunks, with a bigger page cache on SQLite while it lasts.
        let written = db.run_blocking(|conn| {
            let mut write = || -> anyhow::Result<()> {
                set_sqlite_cache(conn, SEED_SQLITE_CACHE_KIB)?;
                for chunk in receiver.iter() {
                    let through = chunk.through;
                    let kit_issues = chunk.kits.len() as u64;
                    let kits = chunk.kits.iter().map(|k| k.quantity as u64).sum::<u64>();
                    let reversals = chunk.reversals.len() as u64;
                    crate::storage::write_transaction(conn, |conn| store_chunk(conn, chunk))
                        .map_err(|e| anyhow::anyhow!("storing handouts up to {through}: {e}"))?;
                    report.kit_issues += kit_issues;
                    report.kits += kits;
                    report.reversals += reversals;
                    let reached = report.kit_issues * 20 / total;
                    if reached > step {
                        step = reached;
                        let seconds = writing.elapsed().as_secs_f64().max(1e-3);
                        let rate = report.kit_issues as f64 / seconds;
                        let left = (options.kits - report.kit_issues) as f64 / rate.max(1.0);
                        say(format!(
                            "{:>3}%  {} / {} handouts ({} kits), {} reversals, up to {through}; {:.0} handouts/s, {:.0}s so far, ~{:.0}s left",
                            report.kit_issues * 100 / total,
                            report.kit_issues,
                            options.kits,
                            report.kits,
                            report.reversals,
                            rate,
                            seconds,
                            left
                        ));
                    }
                }
                Ok(())
            };
            let result = write();
            let reset = set_sqlite_cache(conn, DEFAULT_SQLITE_CACHE_KIB);
            Ok::<_, Error>(result.and(reset.map_err(anyhow::Error::from)))
        });
        // The generator stops once the receiver is gone.
        drop(receiver);
        handle.join().map_err(|_| anyhow::anyhow!("the demo data generator failed"))?;
        written.map_err(|e| anyhow::anyhow!("no database connection: {e}"))?
    })?;
    anyhow::ensure!(
        report.kit_issues == options.kits,
        "only {} of {} handouts were made",
        report.kit_issues,
        options.kits
    );
    // After a bulk load: fresh planner statistics, and on PostgreSQL a
    // vacuum now rather than autovacuum's later, in the middle of use.
    let tidy = |conn: &mut DbConnection| match conn {
        DbConnection::Postgresql(_) => "VACUUM (ANALYZE)",
        DbConnection::Sqlite(_) => "ANALYZE",
    };
    db.run_blocking(|conn| {
        let sql = tidy(conn);
        say(format!("{sql} after the bulk load"));
        conn.batch_execute(sql).map_err(crate::storage::Error::from)
    })
    .map_err(|e| anyhow::anyhow!("tidying up after the load: {e}"))?;
    report.elapsed = started.elapsed();
    say(format!("done in {:.1}s", report.elapsed.as_secs_f64()));
    Ok(report)
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;

    use super::*;

    #[derive(QueryableByName)]
    struct Total {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        total: i64,
    }

    fn total(db: &Database, sql: &str) -> i64 {
        db.run_blocking(|conn| diesel::sql_query(sql).get_result::<Total>(conn).map_err(crate::storage::Error::from))
            .unwrap()
            .total
    }

    /// Seeds a SQLite file: the totals match the records, and a second run is refused.
    #[test]
    fn seeds_sqlite_keeping_the_totals() {
        let dir = tempfile::tempdir().unwrap();
        let target = crate::storage::DatabaseTarget::parse(&dir.path().join("demo.db").display().to_string());
        let db = Database::connect(&target, 2).unwrap();
        db.migrate().unwrap();
        let options = SeedOptions::new(3_000, "a demo password");
        let report = seed_demo(&db, &options).unwrap();
        assert_eq!(report.kit_issues, 3_000);
        assert_eq!(total(&db, "SELECT COUNT(*) AS total FROM kit_issues"), 3_000);
        let kits = total(&db, "SELECT CAST(SUM(quantity) AS BIGINT) AS total FROM kit_issues WHERE voided_at IS NULL");
        assert!(kits > 0 && kits as u64 <= report.kits);
        for rollup in 1..=4 {
            let sql = format!(
                "SELECT CAST(SUM(count_1) AS BIGINT) AS total FROM stat_cells WHERE subject = 'kit_issues' AND rollup = {rollup}"
            );
            assert_eq!(total(&db, &sql), kits, "rollup {rollup}");
        }
        assert_eq!(
            total(&db, "SELECT CAST(SUM(count_1) AS BIGINT) AS total FROM stat_cells WHERE subject = 'reversals' AND rollup = 4"),
            total(&db, "SELECT COUNT(*) AS total FROM reversals WHERE voided_at IS NULL")
        );
        assert_eq!(
            total(&db, "SELECT CAST(SUM(count_3) AS BIGINT) AS total FROM stat_cells WHERE subject = 'trainings' AND rollup = 4"),
            total(&db, "SELECT COUNT(*) AS total FROM certificates")
        );
        assert_eq!(
            total(&db, "SELECT CAST(SUM(count_1) AS BIGINT) AS total FROM stat_cells WHERE subject = 'trainings' AND rollup = 4"),
            total(&db, "SELECT COUNT(*) AS total FROM trainings")
        );
        let again = seed_demo(&db, &options).unwrap_err().to_string();
        assert!(again.contains("already holds demo data"), "{again}");
    }
}
