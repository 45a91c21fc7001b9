//! `seed-demo`: fills a database with realistic demo data: the nations,
//! health boards / regions and ADPs / local authorities of the places in
//! the seed documents, their hubs, LEROs and services, users of every
//! role, trainings and certificates, and years of kit handouts and
//! overdose reversal reports. The statistics cells are kept exactly as
//! live writes keep them, in the same transaction as the records.
//!
//! Everything comes from one seeded random generator, so the same options
//! give the same data (relative to the day it runs). The people and their
//! certificates are laid out first, so that every handout's distributor is
//! a peer of its organisation holding a valid certificate at the time.
//! Handouts and reports are then made day by day, in time order, by a
//! generator thread and written in chunks (one transaction each) by the
//! calling thread; only a few chunks are in memory at once.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::{Datelike, Months, NaiveDate, NaiveDateTime, Weekday};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::areas::Area;
use crate::auth::Role;
use crate::certificates::CertificateLevel;
use crate::db::{Database, DbConnection, ROWS_PER_INSERT};
use crate::error::ApiError;
use crate::kit_issues::{AgeBand, Gender, KitIssue, KitSetting, RecipientType, RepeatReason, Supply};
use crate::organisations::{Organisation, OrganisationKind};
use crate::reversals::{AdministeredBy, Outcome, Place, Reversal, YesNoUnknown};
use crate::schema::{
    areas, certificates, kit_issues, organisations, reversals, training_attendees, trainings, user_roles, users,
};
use crate::stats::cells::Pending;
use crate::trainings::{TrainingKind, TrainingSetting};

/// The demo admin; its presence marks a database as already seeded.
pub const ADMIN_EMAIL: &str = "admin@demo.example";
const EMAIL_DOMAIN: &str = "demo.example";
pub const DEFAULT_KITS: u64 = 100_000;
pub const DEFAULT_YEARS: u32 = 5;
pub const DEFAULT_SEED: u64 = 20_261_123;
const FINGERPRINT: &str = "seed-demo";

const PRENOXAD: &str = "0194f0a0-0000-7000-8000-000000000001";
const NYXOID: &str = "0194f0a0-0000-7000-8000-000000000002";
const NASAL_4MG: &str = "0194f0a0-0000-7000-8000-000000000003";

/// Certificates last three years.
const CERTIFICATE_MONTHS: u32 = 36;
/// Handouts a peer records in a year, on average: sets the number of peers.
const KITS_PER_PEER_YEAR: f64 = 150.0;
/// One reversal report for this many handouts.
const KITS_PER_REVERSAL: f64 = 15.0;
/// Handouts written in one transaction: whole days, ending with a month
/// once there are at least the fewer, and never much more than the more.
const MIN_KITS_PER_TRANSACTION: usize = 5_000;
const MAX_KITS_PER_TRANSACTION: usize = 40_000;
/// A peer supplier course takes at most this many registered attendees.
const MAX_RECRUITS: usize = 400;

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
        (crate::auth::password::MIN_PASSWORD_LENGTH..=crate::auth::password::MAX_PASSWORD_LENGTH).contains(&length),
        "the demo password must be {} to {} characters long",
        crate::auth::password::MIN_PASSWORD_LENGTH,
        crate::auth::password::MAX_PASSWORD_LENGTH
    );
    anyhow::ensure!((1..=30).contains(&options.years), "--years must be 1 to 30");
    let seeded: i64 = db
        .run_blocking(|conn| Ok(users::table.filter(users::email.eq(ADMIN_EMAIL)).count().get_result(conn)?))
        .map_err(|e| anyhow::anyhow!("cannot read the users: {e}"))?;
    anyhow::ensure!(
        seeded == 0,
        "this database already holds demo data ({ADMIN_EMAIL} exists); seed-demo fills a fresh database only"
    );
    let say = |text: String| {
        if options.progress {
            eprintln!("seed-demo: {text}");
        }
    };

    let password_hash = crate::auth::password::hash(&options.password)?;
    let today = chrono::Utc::now().date_naive();
    let (world, setup) = plan(options, today, &password_hash);
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
    db.write_blocking(|conn| store_setup(conn, &setup)).map_err(|e| anyhow::anyhow!("storing the set-up: {e}"))?;
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
                    crate::db::write_transaction(conn, |conn| store_chunk(conn, &chunk))
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
            Ok(result.and(reset.map_err(anyhow::Error::from)))
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
        Ok(conn.batch_execute(sql)?)
    })
    .map_err(|e| anyhow::anyhow!("tidying up after the load: {e}"))?;
    report.elapsed = started.elapsed();
    say(format!("done in {:.1}s", report.elapsed.as_secs_f64()));
    Ok(report)
}

// ---------------------------------------------------------------------------
// The places and organisations, after the seed documents.

struct NationSpec {
    name: &'static str,
    boards: &'static [BoardSpec],
}

/// A health board (Scotland), area planning board (Wales) or region (England).
struct BoardSpec {
    name: &'static str,
    places: &'static [PlaceSpec],
}

/// An ADP or local authority: where records are made.
struct PlaceSpec {
    name: &'static str,
    population_at_risk: i32,
    districts: &'static [&'static str],
    organisations: &'static [OrgSpec],
}

struct OrgSpec {
    name: &'static str,
    kind: OrganisationKind,
    /// Share of the handouts.
    weight: u32,
    /// When it opened, as a fraction of the years seeded (0: from the start).
    opens_at: f64,
}

const fn org(name: &'static str, kind: OrganisationKind, weight: u32, opens_at: f64) -> OrgSpec {
    OrgSpec { name, kind, weight, opens_at }
}

use OrganisationKind as K;

const WORLD: &[NationSpec] = &[
    NationSpec {
        name: "Scotland",
        boards: &[
            BoardSpec {
                name: "NHS Ayrshire and Arran",
                places: &[
                    PlaceSpec {
                        name: "East Ayrshire ADP",
                        population_at_risk: 2100,
                        districts: &["KA1", "KA2", "KA3", "KA4", "KA5", "KA16", "KA17", "KA18"],
                        organisations: &[
                            org("EACH Recovery Matters Hub, Kilmarnock", K::RecoveryHub, 10, 0.0),
                            org("EACH Recovery Matters Crew (outreach)", K::OutreachTeam, 6, 0.1),
                            org("HMP Kilmarnock", K::Prison, 2, 0.0),
                            org("University Hospital Crosshouse", K::Hospital, 2, 0.0),
                            org("John Finnie Street Pharmacy, Kilmarnock", K::Pharmacy, 2, 0.0),
                        ],
                    },
                    PlaceSpec {
                        name: "North Ayrshire ADP",
                        population_at_risk: 2600,
                        districts: &["KA11", "KA12", "KA13", "KA20", "KA21", "KA22", "KA23", "KA24", "KA25", "KA30"],
                        organisations: &[
                            org("North Ayrshire Recovery Hub, Irvine", K::RecoveryHub, 7, 0.0),
                            org("North Ayrshire Drug and Alcohol Recovery Service", K::DrugService, 4, 0.0),
                        ],
                    },
                    PlaceSpec {
                        name: "South Ayrshire ADP",
                        population_at_risk: 1700,
                        districts: &["KA6", "KA7", "KA8", "KA9", "KA10", "KA19", "KA26"],
                        organisations: &[
                            org("South Ayrshire Recovery Hub, Ayr", K::RecoveryHub, 6, 0.0),
                            org("University Hospital Ayr", K::Hospital, 2, 0.0),
                        ],
                    },
                ],
            },
            BoardSpec {
                name: "NHS Shetland",
                places: &[PlaceSpec {
                    name: "Shetland ADP",
                    population_at_risk: 800,
                    districts: &["ZE1", "ZE2", "ZE3"],
                    organisations: &[
                        org("Shetland Recovery Hub and Community Network", K::RecoveryHub, 3, 0.0),
                        org("Shetland Lived and Living Experience Recovery Network (LLERN)", K::Lero, 1, 0.55),
                        org("Shetland Community Nursing Outreach (ANP)", K::OutreachTeam, 1, 0.6),
                        org("Gilbert Bain Hospital, Lerwick", K::Hospital, 1, 0.0),
                    ],
                }],
            },
        ],
    },
    NationSpec {
        name: "Wales",
        boards: &[
            BoardSpec {
                name: "Cardiff and Vale Area Planning Board",
                places: &[
                    PlaceSpec {
                        name: "Cardiff",
                        population_at_risk: 3800,
                        districts: &["CF3", "CF5", "CF10", "CF11", "CF14", "CF23", "CF24"],
                        organisations: &[
                            org("Cardiff Peer-to-Peer Naloxone Project", K::Lero, 8, 0.0),
                            org("Cardiff Street Outreach Team", K::OutreachTeam, 6, 0.0),
                            org("HMP Cardiff (through the gate)", K::Prison, 3, 0.0),
                            org("University Hospital of Wales (peer in-reach)", K::Hospital, 2, 0.2),
                        ],
                    },
                    PlaceSpec {
                        name: "Vale of Glamorgan",
                        population_at_risk: 1100,
                        districts: &["CF61", "CF62", "CF63", "CF64", "CF71"],
                        organisations: &[
                            org("Vale Community Drug and Alcohol Team, Barry", K::DrugService, 3, 0.0),
                            org("Barry Community Pharmacy", K::Pharmacy, 2, 0.0),
                        ],
                    },
                ],
            },
            BoardSpec {
                name: "Swansea Bay Area Planning Board",
                places: &[
                    PlaceSpec {
                        name: "Swansea",
                        population_at_risk: 3000,
                        districts: &["SA1", "SA2", "SA4", "SA5", "SA6", "SA7"],
                        organisations: &[
                            org("Swansea Peer-to-Peer Naloxone Network", K::Lero, 7, 0.0),
                            org("HMP Swansea (through the gate)", K::Prison, 3, 0.0),
                            org("Morriston Hospital (peer in-reach)", K::Hospital, 2, 0.0),
                        ],
                    },
                    PlaceSpec {
                        name: "Neath Port Talbot",
                        population_at_risk: 1600,
                        districts: &["SA8", "SA10", "SA11", "SA12", "SA13"],
                        organisations: &[
                            org("Neath Port Talbot Substance Misuse Service", K::DrugService, 4, 0.0),
                            org("Port Talbot Outreach Team", K::OutreachTeam, 3, 0.0),
                        ],
                    },
                ],
            },
        ],
    },
    NationSpec {
        name: "England",
        boards: &[
            BoardSpec {
                name: "North East",
                places: &[
                    PlaceSpec {
                        name: "Middlesbrough",
                        population_at_risk: 3200,
                        districts: &["TS1", "TS3", "TS4", "TS5", "TS6", "TS7"],
                        organisations: &[
                            org("Recovery Connections, Middlesbrough", K::Lero, 9, 0.0),
                            org("Recovery Connections Community Café", K::Other, 2, 0.2),
                            org("James Cook University Hospital (peer in-reach)", K::Hospital, 2, 0.0),
                        ],
                    },
                    PlaceSpec {
                        name: "Stockton-on-Tees",
                        population_at_risk: 2300,
                        districts: &["TS17", "TS18", "TS19", "TS20", "TS21"],
                        organisations: &[
                            org("Recovery Connections, Stockton", K::Lero, 6, 0.0),
                            org("HMP Holme House (through the gate)", K::Prison, 3, 0.0),
                        ],
                    },
                    PlaceSpec {
                        name: "Darlington",
                        population_at_risk: 1300,
                        districts: &["DL1", "DL2", "DL3"],
                        organisations: &[org("Recovery Connections, Darlington", K::Lero, 4, 0.0)],
                    },
                    PlaceSpec {
                        name: "Gateshead",
                        population_at_risk: 2000,
                        districts: &["NE8", "NE9", "NE10", "NE11"],
                        organisations: &[org("Recovery Connections, Gateshead", K::Lero, 4, 0.0)],
                    },
                    PlaceSpec {
                        name: "Sunderland",
                        population_at_risk: 2900,
                        districts: &["SR1", "SR2", "SR3", "SR4", "SR5"],
                        organisations: &[org("Recovery Connections, Sunderland", K::Lero, 5, 0.0)],
                    },
                ],
            },
            BoardSpec {
                name: "South East",
                places: &[PlaceSpec {
                    name: "Kent",
                    population_at_risk: 4000,
                    districts: &["CT1", "CT9", "CT20", "DA1", "ME4", "ME14", "ME15", "TN9", "TN23"],
                    organisations: &[
                        org("Kent Lived Experience Recovery Organisation", K::Lero, 6, 0.7),
                        org("Turning Point Kent", K::DrugService, 6, 0.0),
                        org("Kent Outreach Team", K::OutreachTeam, 3, 0.0),
                    ],
                }],
            },
            BoardSpec {
                name: "West Midlands",
                places: &[PlaceSpec {
                    name: "Birmingham",
                    population_at_risk: 4000,
                    districts: &["B1", "B5", "B6", "B10", "B11", "B12", "B19", "B21"],
                    organisations: &[
                        org("Dear Albert", K::Lero, 7, 0.0),
                        org("Turning Point Birmingham", K::DrugService, 7, 0.0),
                        org("Birmingham Street Outreach Team", K::OutreachTeam, 4, 0.0),
                    ],
                }],
            },
        ],
    },
];

const FIRST_NAMES: &[&str] = &[
    "Alex", "Ailsa", "Andy", "Bethan", "Callum", "Carys", "Chris", "Dai", "Danielle", "Darren", "Dot", "Eilidh",
    "Fiona", "Gareth", "Gemma", "Hamish", "Iona", "Jamie", "Jo", "Kerry", "Kirsty", "Lee", "Lewis", "Lindsay", "Mark",
    "Megan", "Morag", "Nia", "Paul", "Rhys", "Robbie", "Ross", "Sam", "Sian", "Stacey", "Steph", "Stuart", "Tam",
    "Tracy", "Wayne",
];

// ---------------------------------------------------------------------------
// Weighted picks.

/// Picks items in proportion to their weights (zero: never).
#[derive(Debug, Clone)]
pub struct Weighted<T> {
    items: Vec<T>,
    cumulative: Vec<u32>,
}

impl<T: Copy> Weighted<T> {
    /// Panics when all weights are zero: a table of ours is wrong.
    pub fn new(pairs: &[(T, u32)]) -> Self {
        let mut total = 0u32;
        let mut items = Vec::with_capacity(pairs.len());
        let mut cumulative = Vec::with_capacity(pairs.len());
        for &(item, weight) in pairs {
            total += weight;
            items.push(item);
            cumulative.push(total);
        }
        assert!(total > 0, "a weighted pick needs some weight");
        Self { items, cumulative }
    }

    pub fn pick(&self, rng: &mut impl Rng) -> T {
        let total = self.cumulative[self.cumulative.len() - 1];
        let x = rng.random_range(0..total);
        self.items[self.cumulative.partition_point(|&c| c <= x)]
    }
}

fn uniform<'a, T>(rng: &mut impl Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// The shape of the records: which values are common and which are rare.
struct Tables {
    recipients: Weighted<RecipientType>,
    supply_known: Weighted<Option<Supply>>,
    supply_unknown: Weighted<Option<Supply>>,
    reasons: Weighted<RepeatReason>,
    ages_at_risk: Weighted<Option<AgeBand>>,
    ages_others: Weighted<Option<AgeBand>>,
    genders: Weighted<Option<Gender>>,
    brief_training: Weighted<Option<bool>>,
    hours: Weighted<u32>,
    places: Weighted<Place>,
    administered_by: Weighted<AdministeredBy>,
    yes_no_unknown: Weighted<YesNoUnknown>,
    ambulance_if_called: Weighted<YesNoUnknown>,
    ambulance_otherwise: Weighted<YesNoUnknown>,
    cpr: Weighted<YesNoUnknown>,
    outcomes: Weighted<Outcome>,
    doses_syringe: Weighted<i32>,
    doses_nasal: Weighted<i32>,
}

impl Tables {
    fn new() -> Self {
        use AgeBand as A;
        use YesNoUnknown as Y;
        Self {
            recipients: Weighted::new(&[
                (RecipientType::PersonAtRisk, 66),
                (RecipientType::FamilyFriend, 20),
                (RecipientType::ServiceWorker, 5),
                (RecipientType::Unknown, 9),
            ]),
            supply_known: Weighted::new(&[(Some(Supply::First), 55), (Some(Supply::Repeat), 36), (None, 9)]),
            supply_unknown: Weighted::new(&[(None, 80), (Some(Supply::First), 10), (Some(Supply::Repeat), 10)]),
            reasons: Weighted::new(&[
                (RepeatReason::UsedOnOverdose, 30),
                (RepeatReason::Lost, 20),
                (RepeatReason::Stolen, 7),
                (RepeatReason::Confiscated, 10),
                (RepeatReason::Expired, 17),
                (RepeatReason::Damaged, 5),
                (RepeatReason::Other, 11),
            ]),
            ages_at_risk: Weighted::new(&[
                (Some(A::Under18), 1),
                (Some(A::From18To24), 6),
                (Some(A::From25To34), 24),
                (Some(A::From35To44), 32),
                (Some(A::From45To54), 20),
                (Some(A::From55To64), 6),
                (Some(A::From65), 1),
                (None, 20),
            ]),
            ages_others: Weighted::new(&[
                (Some(A::Under18), 2),
                (Some(A::From18To24), 8),
                (Some(A::From25To34), 14),
                (Some(A::From35To44), 16),
                (Some(A::From45To54), 18),
                (Some(A::From55To64), 14),
                (Some(A::From65), 8),
                (None, 20),
            ]),
            genders: Weighted::new(&[
                (Some(Gender::Male), 58),
                (Some(Gender::Female), 28),
                (Some(Gender::NonBinary), 1),
                (Some(Gender::Other), 1),
                (Some(Gender::NotStated), 3),
                (None, 9),
            ]),
            brief_training: Weighted::new(&[(Some(true), 70), (Some(false), 12), (None, 18)]),
            hours: Weighted::new(&[
                (7, 1),
                (8, 3),
                (9, 6),
                (10, 8),
                (11, 9),
                (12, 9),
                (13, 9),
                (14, 9),
                (15, 8),
                (16, 7),
                (17, 6),
                (18, 5),
                (19, 4),
                (20, 3),
                (21, 2),
                (22, 1),
            ]),
            places: Weighted::new(&[
                (Place::Home, 30),
                (Place::OtherHome, 16),
                (Place::StreetOrPark, 20),
                (Place::Hostel, 13),
                (Place::PublicToilet, 6),
                (Place::HospitalGrounds, 3),
                (Place::PrisonOrCustody, 2),
                (Place::Other, 10),
            ]),
            administered_by: Weighted::new(&[
                (AdministeredBy::ReportingPeer, 45),
                (AdministeredBy::KitRecipient, 25),
                (AdministeredBy::FamilyFriend, 15),
                (AdministeredBy::ServiceWorker, 10),
                (AdministeredBy::Other, 5),
            ]),
            yes_no_unknown: Weighted::new(&[(Y::Yes, 72), (Y::No, 20), (Y::Unknown, 8)]),
            ambulance_if_called: Weighted::new(&[(Y::Yes, 80), (Y::No, 12), (Y::Unknown, 8)]),
            ambulance_otherwise: Weighted::new(&[(Y::Yes, 4), (Y::No, 82), (Y::Unknown, 14)]),
            cpr: Weighted::new(&[(Y::Yes, 45), (Y::No, 35), (Y::Unknown, 20)]),
            outcomes: Weighted::new(&[(Outcome::Survived, 93), (Outcome::Died, 2), (Outcome::Unknown, 5)]),
            doses_syringe: Weighted::new(&[(1, 45), (2, 35), (3, 20)]),
            doses_nasal: Weighted::new(&[(1, 60), (2, 35), (3, 5)]),
        }
    }
}

/// Where an organisation of a kind hands kits out; outreach and hub drop-ins lead.
fn settings_for(kind: OrganisationKind) -> Weighted<KitSetting> {
    use KitSetting as S;
    let pairs: &[(KitSetting, u32)] = match kind {
        K::RecoveryHub => &[
            (S::HubDropIn, 44),
            (S::Outreach, 30),
            (S::HomeVisit, 8),
            (S::Event, 6),
            (S::HospitalInReach, 3),
            (S::PrisonRelease, 2),
            (S::Pharmacy, 2),
            (S::Other, 5),
        ],
        K::Lero => &[
            (S::Outreach, 42),
            (S::HubDropIn, 30),
            (S::HomeVisit, 9),
            (S::Event, 8),
            (S::HospitalInReach, 4),
            (S::PrisonRelease, 3),
            (S::Other, 4),
        ],
        K::DrugService => {
            &[(S::HubDropIn, 40), (S::Outreach, 25), (S::HomeVisit, 18), (S::Pharmacy, 5), (S::Event, 4), (S::Other, 8)]
        }
        K::Pharmacy => &[(S::Pharmacy, 88), (S::HubDropIn, 4), (S::Other, 8)],
        K::Prison => &[(S::PrisonRelease, 88), (S::Other, 12)],
        K::Hospital => &[(S::HospitalInReach, 85), (S::Outreach, 5), (S::Other, 10)],
        K::OutreachTeam => &[(S::Outreach, 72), (S::HomeVisit, 14), (S::Event, 8), (S::Other, 6)],
        K::Other => &[(S::HubDropIn, 35), (S::Outreach, 30), (S::Event, 20), (S::Other, 15)],
    };
    Weighted::new(pairs)
}

/// Where an organisation of a kind trains people.
fn training_setting_for(kind: OrganisationKind) -> TrainingSetting {
    match kind {
        K::Prison => TrainingSetting::Prison,
        K::Hospital => TrainingSetting::Hospital,
        K::OutreachTeam | K::Pharmacy => TrainingSetting::CommunityVenue,
        _ => TrainingSetting::Hub,
    }
}

// ---------------------------------------------------------------------------
// Rows.

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = users, treat_none_as_null = true)]
struct UserRow {
    id: String,
    email: String,
    display_name: String,
    password_hash: String,
    organisation_id: Option<String>,
    area_id: Option<String>,
    active: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = user_roles)]
struct RoleRow {
    user_id: String,
    role: Role,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = trainings, treat_none_as_null = true)]
struct TrainingRow {
    id: String,
    trainer_id: String,
    organisation_id: String,
    delivered_on: NaiveDate,
    kind: TrainingKind,
    setting: TrainingSetting,
    anonymous_attendees: i32,
    kits_handed_out: i32,
    recorded_by: String,
    request_fingerprint: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    voided_at: Option<NaiveDateTime>,
    void_reason: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = training_attendees)]
struct AttendeeRow<'a> {
    training_id: &'a str,
    user_id: &'a str,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = certificates, treat_none_as_null = true)]
struct CertificateRow {
    id: String,
    user_id: String,
    level: CertificateLevel,
    training_id: Option<String>,
    organisation_id: String,
    issued_by: String,
    issued_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
    revoked_by: Option<String>,
    revoke_reason: Option<String>,
    verification_code: String,
}

struct PlannedTraining {
    row: TrainingRow,
    attendees: Vec<String>,
    /// Certificates issued on it.
    certificates: i64,
}

/// Everything made before the handouts.
struct Setup {
    /// By level: nations, boards, places (parents before children).
    areas: [Vec<Area>; 3],
    organisations: Vec<Organisation>,
    users: Vec<UserRow>,
    roles: Vec<RoleRow>,
    trainings: Vec<PlannedTraining>,
    certificates: Vec<CertificateRow>,
    commissioners: Vec<(String, String)>,
}

// ---------------------------------------------------------------------------
// The world the handouts are made in.

struct AreaInfo {
    id: String,
    districts: &'static [&'static str],
    /// The leaf areas of the same board, itself included.
    siblings: Vec<usize>,
}

struct OrgInfo {
    id: String,
    kind: OrganisationKind,
    /// Index into `World::areas`.
    area: usize,
    weight: u32,
    start_day: i64,
    settings: Weighted<KitSetting>,
    /// Indices into `World::peers`.
    peers: Vec<usize>,
}

/// A peer and the days on which they may hand out kits: from the day after
/// their first certificate until they leave or their last one runs out.
#[derive(Debug, Clone)]
struct PeerSpan {
    user_id: String,
    joined: i64,
    left: i64,
    /// First day they may supply, and the day after the last.
    from: i64,
    until: i64,
}

struct World {
    /// Day 0.
    start: NaiveDate,
    /// Today is day `days`.
    days: i64,
    /// Midnight at the start of today (UTC): records end there, so that
    /// the same options on the same day give the same data.
    end: NaiveDateTime,
    /// Leaf areas only.
    areas: Vec<AreaInfo>,
    orgs: Vec<OrgInfo>,
    peers: Vec<PeerSpan>,
}

impl World {
    fn date(&self, day: i64) -> NaiveDate {
        self.start + chrono::Duration::days(day)
    }

    fn day_of(&self, date: NaiveDate) -> i64 {
        (date - self.start).num_days()
    }

    /// An instant on a day, `micros` after its midnight.
    fn at(&self, day: i64, micros: i64) -> NaiveDateTime {
        self.date(day).and_time(chrono::NaiveTime::MIN) + chrono::Duration::microseconds(micros)
    }
}

const SECOND: i64 = 1_000_000;
const HOUR: i64 = 3_600 * SECOND;
const DAY: i64 = 24 * HOUR;

/// A UUID v7 for a record made at `at`: ids follow time, as live ones do.
fn new_id(rng: &mut impl Rng, at: NaiveDateTime) -> String {
    let millis = u64::try_from(at.and_utc().timestamp_millis()).unwrap_or(0);
    let random: [u8; 10] = rng.random();
    uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid().to_string()
}

fn verification_code(rng: &mut impl Rng) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let symbols: Vec<char> = (0..20).map(|_| ALPHABET[rng.random_range(0..32)] as char).collect();
    symbols.chunks(5).map(|group| group.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

fn expiry(issued: NaiveDateTime) -> NaiveDateTime {
    issued.checked_add_months(Months::new(CERTIFICATE_MONTHS)).unwrap_or(issued)
}

// ---------------------------------------------------------------------------
// Planning the people, their trainings and certificates.

struct Planner<'a> {
    rng: StdRng,
    world: World,
    password_hash: &'a str,
    admin_id: String,
    users: Vec<UserRow>,
    roles: Vec<RoleRow>,
    trainings: Vec<PlannedTraining>,
    certificates: Vec<CertificateRow>,
    /// (organisation, day) → training, for refresher sessions made on demand.
    refreshers: BTreeMap<(usize, i64), usize>,
    /// (board, day) → training, for train-the-trainer sessions.
    sessions: BTreeMap<(usize, i64), usize>,
    /// Per organisation: its trainers' user ids.
    trainers: Vec<Vec<String>>,
    /// Per organisation: its board.
    org_board: Vec<usize>,
    /// Per board: its lead organisation and lead trainer.
    board_leads: Vec<(usize, String)>,
}

/// Lays out the areas, organisations, users, trainings and certificates.
fn plan(options: &SeedOptions, today: NaiveDate, password_hash: &str) -> (World, Setup) {
    let end = today.and_time(chrono::NaiveTime::MIN);
    let start = today.checked_sub_months(Months::new(12 * options.years)).unwrap_or(today);
    let days = (today - start).num_days();
    let mut rng = StdRng::seed_from_u64(options.seed);
    let created = start.and_hms_opt(8, 0, 0).unwrap_or_default();

    let mut levels: [Vec<Area>; 3] = Default::default();
    let mut area_infos = Vec::new();
    let mut orgs = Vec::new();
    let mut org_rows = Vec::new();
    let mut org_specs = Vec::new();
    let mut org_board = Vec::new();
    let mut boards = Vec::new();
    let area = |rng: &mut StdRng, name: &str, parent: Option<&str>, population: Option<i32>| Area {
        id: new_id(rng, created),
        name: name.to_owned(),
        parent_id: parent.map(str::to_owned),
        population_at_risk: population,
        created_at: created,
        updated_at: created,
    };
    for nation in WORLD {
        let nation_area = area(&mut rng, nation.name, None, None);
        for board in nation.boards {
            let board_area = area(&mut rng, board.name, Some(&nation_area.id), None);
            let first_leaf = area_infos.len();
            for place in board.places {
                let leaf = area(&mut rng, place.name, Some(&board_area.id), Some(place.population_at_risk));
                let leaf_index = area_infos.len();
                for spec in place.organisations {
                    let start_day = ((spec.opens_at * days as f64).round() as i64).min(days - 1).max(0);
                    let opened = created + chrono::Duration::days(start_day);
                    let row = Organisation {
                        id: new_id(&mut rng, opened),
                        name: spec.name.to_owned(),
                        kind: spec.kind,
                        area_id: leaf.id.clone(),
                        tracks_stock: false,
                        created_at: opened,
                        updated_at: opened,
                    };
                    orgs.push(OrgInfo {
                        id: row.id.clone(),
                        kind: spec.kind,
                        area: leaf_index,
                        weight: spec.weight,
                        start_day,
                        settings: settings_for(spec.kind),
                        peers: Vec::new(),
                    });
                    org_rows.push(row);
                    org_specs.push(spec);
                    org_board.push(boards.len());
                }
                area_infos.push(AreaInfo { id: leaf.id.clone(), districts: place.districts, siblings: Vec::new() });
                levels[2].push(leaf);
            }
            let leaves: Vec<usize> = (first_leaf..area_infos.len()).collect();
            for &leaf in &leaves {
                area_infos[leaf].siblings.clone_from(&leaves);
            }
            boards.push((board.name, board_area.id.clone()));
            levels[1].push(board_area);
        }
        levels[0].push(nation_area);
    }

    let world = World { start, days, end, areas: area_infos, orgs, peers: Vec::new() };
    let mut planner = Planner {
        rng,
        world,
        password_hash,
        admin_id: String::new(),
        users: Vec::new(),
        roles: Vec::new(),
        trainings: Vec::new(),
        certificates: Vec::new(),
        refreshers: BTreeMap::new(),
        sessions: BTreeMap::new(),
        trainers: Vec::new(),
        org_board,
        board_leads: Vec::new(),
    };

    let admin =
        planner.user(ADMIN_EMAIL.to_owned(), "Demo Administrator".into(), None, None, &[Role::Admin], true, created);
    planner.admin_id = planner.users[admin].id.clone();
    let mut commissioners = Vec::new();
    for (name, area_id) in &boards {
        let email = format!("commissioner.{}@{EMAIL_DOMAIN}", slug(name));
        let display = format!("{} (commissioner, {name})", planner.person_name());
        planner.user(email.clone(), display, None, Some(area_id.clone()), &[Role::Commissioner], true, created);
        commissioners.push(((*name).to_owned(), email));
    }

    // Peers per organisation, at the average level of activity.
    let total_weight: u32 = org_specs.iter().map(|s| s.weight).sum();
    let kits_per_year = options.kits as f64 / f64::from(options.years);
    let average_peers: Vec<f64> = org_specs
        .iter()
        .map(|s| kits_per_year * f64::from(s.weight) / f64::from(total_weight) / KITS_PER_PEER_YEAR)
        .collect();

    // Coordinators and trainers.
    for (o, spec) in org_specs.iter().enumerate() {
        let org_slug = slug(spec.name);
        let org_id = org_rows[o].id.clone();
        let opened = org_rows[o].created_at;
        let name = planner.person_name();
        planner.user(
            format!("coordinator.{org_slug}@{EMAIL_DOMAIN}"),
            name,
            Some(org_id.clone()),
            None,
            &[Role::Coordinator],
            true,
            opened,
        );
        let count = match spec.kind {
            K::RecoveryHub | K::Lero => 2 + (average_peers[o] / 80.0) as usize,
            _ => 1,
        };
        let mut trainers = Vec::new();
        for n in 1..=count {
            let name = planner.person_name();
            let index = planner.user(
                format!("trainer{n}.{org_slug}@{EMAIL_DOMAIN}"),
                name,
                Some(org_id.clone()),
                None,
                &[Role::Trainer],
                true,
                opened,
            );
            trainers.push(planner.users[index].id.clone());
        }
        planner.trainers.push(trainers);
    }
    // Each board's lead trainer (of its first-opened organisation) runs the train-the-trainer sessions.
    for b in 0..boards.len() {
        let lead_org = (0..org_specs.len())
            .filter(|&o| planner.org_board[o] == b)
            .min_by_key(|&o| (planner.world.orgs[o].start_day, o))
            .unwrap_or(0);
        planner.board_leads.push((lead_org, planner.trainers[lead_org][0].clone()));
    }
    for o in 0..org_specs.len() {
        for trainer in planner.trainers[o].clone() {
            planner.trainer_certificates(o, &trainer);
        }
    }
    for (o, spec) in org_specs.iter().enumerate() {
        planner.peers_of(o, &slug(spec.name), average_peers[o]);
        planner.awareness_sessions(o);
    }

    let Planner { world, users, roles, trainings, certificates, .. } = planner;
    let setup = Setup { areas: levels, organisations: org_rows, users, roles, trainings, certificates, commissioners };
    (world, setup)
}

impl Planner<'_> {
    fn person_name(&mut self) -> String {
        let first = uniform(&mut self.rng, FIRST_NAMES);
        let initial = char::from(b'A' + self.rng.random_range(0..26u8));
        format!("{first} {initial}.")
    }

    #[allow(clippy::too_many_arguments)]
    fn user(
        &mut self,
        email: String,
        display_name: String,
        organisation_id: Option<String>,
        area_id: Option<String>,
        roles: &[Role],
        active: bool,
        created_at: NaiveDateTime,
    ) -> usize {
        let id = new_id(&mut self.rng, created_at);
        for role in roles {
            self.roles.push(RoleRow { user_id: id.clone(), role: *role });
        }
        self.users.push(UserRow {
            id,
            email,
            display_name,
            password_hash: self.password_hash.to_owned(),
            organisation_id,
            area_id,
            active,
            created_at,
            updated_at: created_at,
        });
        self.users.len() - 1
    }

    fn training(&mut self, o: usize, day: i64, kind: TrainingKind, setting: TrainingSetting, trainer: String) -> usize {
        let delivered = self.world.at(day, 10 * HOUR);
        let recorded = self.world.at(day, 17 * HOUR + self.rng.random_range(0..2 * HOUR)).min(self.world.end);
        let row = TrainingRow {
            id: new_id(&mut self.rng, delivered),
            trainer_id: trainer.clone(),
            organisation_id: self.world.orgs[o].id.clone(),
            delivered_on: self.world.date(day),
            kind,
            setting,
            anonymous_attendees: 0,
            kits_handed_out: 0,
            recorded_by: trainer,
            request_fingerprint: FINGERPRINT.to_owned(),
            created_at: recorded,
            updated_at: recorded,
            voided_at: None,
            void_reason: None,
        };
        self.trainings.push(PlannedTraining { row, attendees: Vec::new(), certificates: 0 });
        self.trainings.len() - 1
    }

    fn certificate(
        &mut self,
        holder: &str,
        level: CertificateLevel,
        training: Option<usize>,
        o: usize,
        issued_by: String,
        issued_at: NaiveDateTime,
    ) -> usize {
        if let Some(t) = training {
            self.trainings[t].certificates += 1;
        }
        let row = CertificateRow {
            id: new_id(&mut self.rng, issued_at),
            user_id: holder.to_owned(),
            level,
            training_id: training.map(|t| self.trainings[t].row.id.clone()),
            organisation_id: self.world.orgs[o].id.clone(),
            issued_by,
            issued_at,
            expires_at: expiry(issued_at),
            revoked_at: None,
            revoked_by: None,
            revoke_reason: None,
            verification_code: verification_code(&mut self.rng),
        };
        self.certificates.push(row);
        self.certificates.len() - 1
    }

    /// A trainer's peer_trainer certificates: the first from the admin when
    /// the organisation opens, renewals at the board's train-the-trainer
    /// sessions (the lead trainer's from the admin again).
    fn trainer_certificates(&mut self, o: usize, trainer: &str) {
        let board = self.org_board[o];
        let (lead_org, lead) = self.board_leads[board].clone();
        let base = self.world.orgs[lead_org].start_day;
        let last_day = self.world.days - 1;
        let mut issued =
            self.world.at(self.world.orgs[o].start_day, 8 * HOUR + HOUR / 2 + self.rng.random_range(0..HOUR / 2));
        let mut training = None;
        let mut issuer = self.admin_id.clone();
        loop {
            let c = self.certificate(trainer, CertificateLevel::PeerTrainer, training, o, issuer, issued);
            let e = self.world.day_of(self.certificates[c].expires_at.date());
            if trainer == lead {
                let renewal = e - 30;
                if renewal > last_day {
                    break;
                }
                issued = self.world.at(renewal, 7 * HOUR + self.rng.random_range(0..HOUR));
                training = None;
                issuer = self.admin_id.clone();
            } else {
                // Sessions every 180 days after the board's first opening; the last one before expiry.
                let latest = (e - 1).min(last_day);
                let k = (latest - base).div_euclid(180);
                let day = base + 180 * k;
                if k < 1 || day < e - 180 {
                    break;
                }
                let t = match self.sessions.get(&(board, day)) {
                    Some(&t) => t,
                    None => {
                        let t = self.training(
                            lead_org,
                            day,
                            TrainingKind::TrainTheTrainer,
                            TrainingSetting::Hub,
                            lead.clone(),
                        );
                        self.sessions.insert((board, day), t);
                        t
                    }
                };
                self.trainings[t].attendees.push(trainer.to_owned());
                issued = self.world.at(day, 16 * HOUR + self.rng.random_range(0..HOUR));
                training = Some(t);
                issuer = lead.clone();
            }
        }
    }

    /// Growth: activity rises over the years (×0.6 at the start, ×1.4 now).
    fn growth(&self, day: i64) -> f64 {
        0.6 + 0.8 * day as f64 / self.world.days.max(1) as f64
    }

    /// Peer supplier courses from the organisation's opening on, recruiting
    /// peers to keep up with growth and turnover; certificates renewed at
    /// monthly refresher sessions while the peer stays.
    fn peers_of(&mut self, o: usize, org_slug: &str, average: f64) {
        let start = self.world.orgs[o].start_day;
        let last_day = self.world.days - 1;
        let kind = self.world.orgs[o].kind;
        let mut day = start;
        let mut number = 0;
        while day <= last_day {
            let ahead = (day + 60).min(self.world.days);
            let wanted = ((average * self.growth(ahead)).ceil() as usize).max(2);
            let active = self.world.orgs[o]
                .peers
                .iter()
                .filter(|&&p| self.world.peers[p].joined <= day && self.world.peers[p].left > day)
                .count();
            let founding = day == start;
            // A course when peers are wanted: to found the group, for growth and to replace those who left.
            let recruits = if founding { wanted } else { wanted.saturating_sub(active) }.min(MAX_RECRUITS);
            if recruits > 0 {
                let trainer = uniform(&mut self.rng, &self.trainers[o]).clone();
                let course =
                    self.training(o, day, TrainingKind::PeerSupplierCourse, training_setting_for(kind), trainer);
                self.trainings[course].row.anonymous_attendees = self.rng.random_range(0..=3);
                self.trainings[course].row.kits_handed_out = recruits as i32;
                for r in 0..recruits {
                    number += 1;
                    // The organisation's first peer stays throughout, so someone can always hand kits out.
                    let stays = founding && r == 0;
                    let tenure = (-(1.0 - self.rng.random::<f64>()).ln() * 1_100.0).max(120.0) as i64;
                    let left = if stays { i64::MAX } else { day + tenure };
                    self.peer(o, course, day, left, format!("peer{number}.{org_slug}@{EMAIL_DOMAIN}"));
                }
            }
            day += self.rng.random_range(45..=100);
        }
    }

    fn peer(&mut self, o: usize, course: usize, joined: i64, left: i64, email: String) {
        let last_day = self.world.days - 1;
        let name = self.person_name();
        let created = self.world.at(joined, 9 * HOUR + self.rng.random_range(0..HOUR));
        let active = left > self.world.days;
        let org_id = self.world.orgs[o].id.clone();
        let index = self.user(email, name, Some(org_id), None, &[Role::Peer], active, created);
        let user_id = self.users[index].id.clone();
        self.trainings[course].attendees.push(user_id.clone());
        let refresher_base = self.world.orgs[o].start_day + 15;
        let mut training = course;
        let mut issued = self.world.at(joined, 16 * HOUR + self.rng.random_range(0..2 * HOUR));
        let (last, end) = loop {
            let issuer = self.trainings[training].row.trainer_id.clone();
            let c = self.certificate(&user_id, CertificateLevel::PeerSupplier, Some(training), o, issuer, issued);
            let e = self.world.day_of(self.certificates[c].expires_at.date());
            if left <= e {
                break (c, e);
            }
            // Refreshers are offered every 30 days; the last one before expiry, within 60 days of it.
            let latest = (e - 1).min(last_day);
            if latest < refresher_base {
                break (c, e);
            }
            let day = refresher_base + 30 * (latest - refresher_base).div_euclid(30);
            if day < e - 60 {
                break (c, e);
            }
            training = match self.refreshers.get(&(o, day)) {
                Some(&t) => t,
                None => {
                    let trainer = uniform(&mut self.rng, &self.trainers[o]).clone();
                    let setting = training_setting_for(self.world.orgs[o].kind);
                    let t = self.training(o, day, TrainingKind::Refresher, setting, trainer);
                    self.refreshers.insert((o, day), t);
                    t
                }
            };
            self.trainings[training].attendees.push(user_id.clone());
            issued = self.world.at(day, 16 * HOUR + self.rng.random_range(0..2 * HOUR));
        };
        // Some who leave early have their certificate revoked when they go.
        if left < end && left <= last_day && self.rng.random_bool(0.25) {
            let revoker = self.trainers[o][0].clone();
            let revoked_at = self.world.at(left, 12 * HOUR + self.rng.random_range(0..HOUR));
            let certificate = &mut self.certificates[last];
            certificate.revoked_at = Some(revoked_at);
            certificate.revoked_by = Some(revoker);
            certificate.revoke_reason = Some("left the programme".into());
        }
        let span = PeerSpan { user_id, joined, left, from: joined + 1, until: left.min(end) };
        self.world.peers.push(span);
        let p = self.world.peers.len() - 1;
        self.world.orgs[o].peers.push(p);
    }

    /// Naloxone awareness sessions for the public: anonymous attendees, no certificates.
    fn awareness_sessions(&mut self, o: usize) {
        if !matches!(self.world.orgs[o].kind, K::RecoveryHub | K::Lero | K::DrugService | K::OutreachTeam) {
            return;
        }
        let settings = Weighted::new(&[
            (TrainingSetting::CommunityVenue, 50),
            (TrainingSetting::Hub, 35),
            (TrainingSetting::Online, 15),
        ]);
        let mut day = self.world.orgs[o].start_day + self.rng.random_range(20..50);
        while day < self.world.days {
            let trainer = uniform(&mut self.rng, &self.trainers[o]).clone();
            let setting = settings.pick(&mut self.rng);
            let t = self.training(o, day, TrainingKind::Awareness, setting, trainer);
            let anonymous = self.rng.random_range(6..=25);
            self.trainings[t].row.anonymous_attendees = anonymous;
            self.trainings[t].row.kits_handed_out = self.rng.random_range(0..=anonymous / 2);
            day += self.rng.random_range(40..=120);
        }
    }
}

// ---------------------------------------------------------------------------
// Storing.

/// SQLite's page cache while seeding, in KiB: the indexes of a million
/// handouts do not fit in the default 2 MiB, and inserts then crawl.
const SEED_SQLITE_CACHE_KIB: i64 = 256 * 1024;
const DEFAULT_SQLITE_CACHE_KIB: i64 = 2_000;

fn set_sqlite_cache(conn: &mut DbConnection, kib: i64) -> Result<(), ApiError> {
    if let DbConnection::Sqlite(sqlite) = conn {
        sqlite.batch_execute(&format!("PRAGMA cache_size = -{kib}"))?;
    }
    Ok(())
}

macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {
        for part in $rows.chunks(ROWS_PER_INSERT) {
            crate::on_each_backend!(&mut *$conn, |backend| diesel::insert_into($table).values(part).execute(backend))?;
        }
    };
}

fn store_setup(conn: &mut DbConnection, setup: &Setup) -> Result<(), ApiError> {
    for level in &setup.areas {
        insert_rows!(conn, areas::table, level);
    }
    insert_rows!(conn, organisations::table, setup.organisations);
    insert_rows!(conn, users::table, setup.users);
    insert_rows!(conn, user_roles::table, setup.roles);
    let rows: Vec<&TrainingRow> = setup.trainings.iter().map(|t| &t.row).collect();
    for part in rows.chunks(ROWS_PER_INSERT) {
        let part: Vec<TrainingRow> = part.iter().map(|&r| r.clone()).collect();
        crate::on_each_backend!(&mut *conn, |backend| diesel::insert_into(trainings::table)
            .values(&part)
            .execute(backend))?;
    }
    let attendees: Vec<AttendeeRow<'_>> = setup
        .trainings
        .iter()
        .flat_map(|t| t.attendees.iter().map(|user| AttendeeRow { training_id: &t.row.id, user_id: user }))
        .collect();
    insert_rows!(conn, training_attendees::table, attendees);
    insert_rows!(conn, certificates::table, setup.certificates);

    let mut pending = Pending::default();
    for training in &setup.trainings {
        let people = training.attendees.len() as i64 + i64::from(training.row.anonymous_attendees);
        pending.training(
            conn,
            training.row.delivered_on,
            &training.row.organisation_id,
            Some(training.row.kind.as_str()),
            [1, people, training.certificates],
            1,
        )?;
    }
    for certificate in setup.certificates.iter().filter(|c| c.training_id.is_none()) {
        pending.training(conn, certificate.issued_at.date(), &certificate.organisation_id, None, [0, 0, 1], 1)?;
    }
    pending.store(conn)
}

/// Handouts and reports of whole days, written in one transaction.
struct Chunk {
    kits: Vec<KitIssue>,
    reversals: Vec<Reversal>,
    /// The last day in it.
    through: NaiveDate,
}

fn store_chunk(conn: &mut DbConnection, chunk: &Chunk) -> Result<(), ApiError> {
    insert_rows!(conn, kit_issues::table, chunk.kits);
    insert_rows!(conn, reversals::table, chunk.reversals);
    let mut pending = Pending::default();
    for kit in &chunk.kits {
        pending.kit_issue(conn, kit, 1)?;
    }
    for report in &chunk.reversals {
        pending.reversal(report, 1);
    }
    pending.store(conn)
}

// ---------------------------------------------------------------------------
// Making the handouts and reports.

/// How many handouts each day gets: `total` shared out by weight, rounding
/// on the running sum so that the days add up to exactly `total`.
fn share_out(weights: &[f64], total: u64) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    if sum <= 0.0 {
        return vec![0; weights.len()];
    }
    let mut running = 0.0;
    let mut given = 0u64;
    weights
        .iter()
        .map(|w| {
            running += w;
            let upto = ((running / sum) * total as f64).round() as u64;
            let upto = upto.min(total);
            let share = upto.saturating_sub(given);
            given += share;
            share
        })
        .collect()
}

struct Generator<'a> {
    world: &'a World,
    rng: StdRng,
    tables: Tables,
    /// Handouts per day, day 0 to today.
    per_day: Vec<u64>,
    /// Per peer: their last few standing handouts (issued_at, id).
    recent: Vec<Vec<(NaiveDateTime, String)>>,
}

impl<'a> Generator<'a> {
    fn new(world: &'a World, seed: u64, kits: u64) -> Self {
        // A stream of its own, so that the plan and the records do not shift each other.
        let mut rng = StdRng::seed_from_u64(seed ^ 0x05ee_d0fc_1ea7);
        let weights: Vec<f64> = (0..=world.days)
            .map(|day| {
                if day == 0 || day >= world.days {
                    return 0.0;
                }
                let date = world.date(day);
                let weekday = match date.weekday() {
                    Weekday::Mon | Weekday::Thu => 1.0,
                    Weekday::Tue | Weekday::Wed => 1.05,
                    Weekday::Fri => 0.95,
                    Weekday::Sat => 0.55,
                    Weekday::Sun => 0.4,
                };
                // Busier in winter.
                let season = 1.0 + 0.1 * (std::f64::consts::TAU * f64::from(date.ordinal0() + 15) / 365.0).cos();
                let noise = rng.random_range(0.85..1.15);
                (0.6 + 0.8 * day as f64 / world.days.max(1) as f64) * weekday * season * noise
            })
            .collect();
        Self {
            world,
            rng,
            tables: Tables::new(),
            per_day: share_out(&weights, kits),
            recent: vec![Vec::new(); world.peers.len()],
        }
    }

    /// Makes the records day by day and sends them in chunks; stops early
    /// when the writer has gone.
    fn run(mut self, sender: &mpsc::SyncSender<Chunk>) {
        let world = self.world;
        let mut chunk = Chunk { kits: Vec::new(), reversals: Vec::new(), through: world.start };
        let mut eligible: Vec<Vec<usize>> = vec![Vec::new(); world.orgs.len()];
        let mut carried = 0;
        for day in 1..world.days {
            let wanted = self.per_day[day as usize] + carried;
            if wanted == 0 {
                continue;
            }
            for (o, org) in world.orgs.iter().enumerate() {
                eligible[o].clear();
                if org.start_day < day {
                    let open = org.peers.iter().filter(|&&p| world.peers[p].from <= day && day < world.peers[p].until);
                    eligible[o].extend(open);
                }
            }
            let pairs: Vec<(usize, u32)> = world
                .orgs
                .iter()
                .enumerate()
                .map(|(o, org)| (o, if eligible[o].is_empty() { 0 } else { org.weight }))
                .collect();
            if pairs.iter().all(|(_, w)| *w == 0) {
                carried = wanted;
                continue;
            }
            carried = 0;
            let orgs = Weighted::new(&pairs);
            let mut made: Vec<(KitIssue, usize, usize)> = (0..wanted)
                .map(|_| {
                    let o = orgs.pick(&mut self.rng);
                    let peer = *uniform(&mut self.rng, &eligible[o]);
                    (self.kit(day, o, peer), o, peer)
                })
                .collect();
            made.sort_by_key(|(k, _, _)| k.issued_at);
            let (mut kits, who): (Vec<KitIssue>, Vec<(usize, usize)>) =
                made.into_iter().map(|(kit, o, peer)| (kit, (o, peer))).unzip();
            for kit in &mut kits {
                kit.id = new_id(&mut self.rng, kit.issued_at);
            }
            let mut reports = self.reversals(day, &mut kits, &who, &eligible);
            reports.sort_by_key(|r| r.occurred_at);
            for report in &mut reports {
                report.id = new_id(&mut self.rng, report.occurred_at);
            }
            self.remember(&kits, &who);
            chunk.kits.append(&mut kits);
            chunk.reversals.append(&mut reports);
            chunk.through = world.date(day);
            // Whole months where possible: a month's cells are then written once.
            let month_ends = world.date(day + 1).day() == 1;
            if chunk.kits.len() >= MAX_KITS_PER_TRANSACTION
                || (month_ends && chunk.kits.len() >= MIN_KITS_PER_TRANSACTION)
            {
                let full = std::mem::replace(
                    &mut chunk,
                    Chunk { kits: Vec::new(), reversals: Vec::new(), through: world.date(day) },
                );
                if sender.send(full).is_err() {
                    return;
                }
            }
        }
        if !chunk.kits.is_empty() || !chunk.reversals.is_empty() {
            let _ = sender.send(chunk);
        }
    }

    /// A time on `day`, `micros` after midnight; never at or after the end.
    fn time_on(&self, day: i64, micros: i64) -> NaiveDateTime {
        self.world.at(day, micros).min(self.world.end - chrono::Duration::microseconds(1))
    }

    fn working_hours(&mut self, day: i64) -> NaiveDateTime {
        let hour = i64::from(self.tables.hours.pick(&mut self.rng));
        let micros = hour * HOUR + self.rng.random_range(0..HOUR);
        self.time_on(day, micros)
    }

    /// When the server got it: mostly at once, sometimes hours later (offline).
    fn received(&mut self, at: NaiveDateTime) -> NaiveDateTime {
        let delay = if self.rng.random_bool(0.75) {
            self.rng.random_range(SECOND..10 * 60 * SECOND)
        } else {
            self.rng.random_range(HOUR..2 * DAY)
        };
        (at + chrono::Duration::microseconds(delay)).min(self.world.end)
    }

    fn product(&mut self, day: i64, setting: KitSetting) -> &'static str {
        // Nasal sprays gain ground over the years; prisons keep to syringes.
        let mut nasal = 0.3 + 0.25 * day as f64 / self.world.days.max(1) as f64;
        if setting == KitSetting::PrisonRelease {
            nasal *= 0.5;
        }
        if !self.rng.random_bool(nasal) {
            PRENOXAD
        } else if self.rng.random_bool(0.75) {
            NYXOID
        } else {
            NASAL_4MG
        }
    }

    /// The organisation's own area mostly, now and then a neighbouring one.
    fn area_near(&mut self, home: usize, away: f64) -> usize {
        let siblings = &self.world.areas[home].siblings;
        if siblings.len() > 1 && self.rng.random_bool(away) {
            *uniform(&mut self.rng, siblings)
        } else {
            home
        }
    }

    fn district(&mut self, area: usize, share: f64) -> Option<String> {
        let districts = self.world.areas[area].districts;
        self.rng.random_bool(share).then(|| (*uniform(&mut self.rng, districts)).to_owned())
    }

    fn kit(&mut self, day: i64, o: usize, peer: usize) -> KitIssue {
        let world = self.world;
        let org = &world.orgs[o];
        let setting = org.settings.pick(&mut self.rng);
        let recipient_type = self.tables.recipients.pick(&mut self.rng);
        let unknown = recipient_type == RecipientType::Unknown;
        let group_setting = matches!(setting, KitSetting::Outreach | KitSetting::Event | KitSetting::Other);
        let tally = unknown && group_setting && self.rng.random_bool(0.45);
        let quantity = if tally {
            self.rng.random_range(2..=10)
        } else if self.rng.random_bool(0.02) {
            2
        } else {
            1
        };
        let supply = if tally {
            None
        } else if unknown {
            self.tables.supply_unknown.pick(&mut self.rng)
        } else {
            self.tables.supply_known.pick(&mut self.rng)
        };
        let repeat_reason = match supply {
            Some(Supply::Repeat) if !unknown || self.rng.random_bool(0.5) => {
                Some(self.tables.reasons.pick(&mut self.rng))
            }
            _ => None,
        };
        let consent_recorded = match recipient_type {
            RecipientType::FamilyFriend => Some(true),
            RecipientType::PersonAtRisk if self.rng.random_bool(0.45) => Some(true),
            _ => None,
        };
        let brief_training_given = if tally { None } else { self.tables.brief_training.pick(&mut self.rng) };
        let (age_band, gender) = match recipient_type {
            RecipientType::Unknown => (None, None),
            RecipientType::PersonAtRisk => {
                (self.tables.ages_at_risk.pick(&mut self.rng), self.tables.genders.pick(&mut self.rng))
            }
            _ => (self.tables.ages_others.pick(&mut self.rng), self.tables.genders.pick(&mut self.rng)),
        };
        let away = if setting == KitSetting::PrisonRelease { 0.35 } else { 0.1 };
        let area = self.area_near(org.area, away);
        let postcode_district = self.district(area, 0.72);
        let product_id = self.product(day, setting);
        let issued_at = self.working_hours(day);
        let created_at = self.received(issued_at);
        KitIssue {
            id: String::new(),
            distributor_id: world.peers[peer].user_id.clone(),
            organisation_id: org.id.clone(),
            issued_at,
            area_id: world.areas[area].id.clone(),
            postcode_district,
            setting,
            product_id: product_id.to_owned(),
            batch_id: None,
            quantity,
            recipient_type,
            consent_recorded,
            supply,
            repeat_reason,
            brief_training_given,
            recipient_code_hash: None,
            age_band,
            gender,
            request_fingerprint: FINGERPRINT.to_owned(),
            created_at,
            updated_at: created_at,
            voided_at: None,
            void_reason: None,
        }
    }

    /// About one report per 15 handouts. Some kits of the day become the
    /// replacement for a kit just used on an overdose (a repeat supply,
    /// "used on overdose"); a few records are voided as entered twice.
    /// `who` holds each kit's organisation and peer.
    fn reversals(
        &mut self,
        day: i64,
        kits: &mut [KitIssue],
        who: &[(usize, usize)],
        eligible: &[Vec<usize>],
    ) -> Vec<Reversal> {
        let world = self.world;
        let mut reports = Vec::new();
        for index in 0..kits.len() {
            if self.rng.random_bool(0.003) {
                let voided = self.received(kits[index].created_at + chrono::Duration::hours(1));
                let kit = &mut kits[index];
                kit.voided_at = Some(voided.max(kit.created_at));
                kit.updated_at = voided.max(kit.created_at);
                kit.void_reason = Some("entered twice".into());
                continue;
            }
            if !self.rng.random_bool(1.0 / KITS_PER_REVERSAL) {
                continue;
            }
            let (o, distributor) = who[index];
            let replacement = kits[index].quantity == 1
                && kits[index].recipient_type != RecipientType::Unknown
                && self.rng.random_bool(0.3);
            let (reporter, occurred_at, area_id, postcode_district, product_id) = if replacement {
                let kit = &mut kits[index];
                kit.supply = Some(Supply::Repeat);
                kit.repeat_reason = Some(RepeatReason::UsedOnOverdose);
                let before = chrono::Duration::microseconds(self.rng.random_range(5 * 60 * SECOND..8 * HOUR));
                (
                    distributor,
                    kit.issued_at - before,
                    kit.area_id.clone(),
                    kit.postcode_district.clone(),
                    kit.product_id.clone(),
                )
            } else {
                let reporter = *uniform(&mut self.rng, &eligible[o]);
                let area = self.area_near(world.orgs[o].area, 0.15);
                let district = self.district(area, 0.65);
                let micros = self.rng.random_range(0..DAY);
                let at = self.time_on(day, micros);
                let product = self.product(day, KitSetting::Outreach);
                (reporter, at, world.areas[area].id.clone(), district, product.to_owned())
            };
            // Sometimes the kit used is one the reporter handed out before.
            let used = self.recent[reporter]
                .iter()
                .filter(|(at, _)| *at < occurred_at)
                .map(|(_, id)| id.clone())
                .collect::<Vec<_>>();
            let kit_issue_id =
                (!used.is_empty() && self.rng.random_bool(0.35)).then(|| uniform(&mut self.rng, &used).clone());
            let doses = if product_id == PRENOXAD {
                self.tables.doses_syringe.pick(&mut self.rng)
            } else {
                self.tables.doses_nasal.pick(&mut self.rng)
            };
            let emergency_services_called = self.tables.yes_no_unknown.pick(&mut self.rng);
            let ambulance_attended = if emergency_services_called == YesNoUnknown::Yes {
                self.tables.ambulance_if_called.pick(&mut self.rng)
            } else {
                self.tables.ambulance_otherwise.pick(&mut self.rng)
            };
            let created_at = self.received(occurred_at);
            let voided = self.rng.random_bool(0.004);
            reports.push(Reversal {
                id: String::new(),
                reporter_id: world.peers[reporter].user_id.clone(),
                organisation_id: world.orgs[o].id.clone(),
                occurred_at,
                area_id,
                postcode_district,
                place: self.tables.places.pick(&mut self.rng),
                administered_by: self.tables.administered_by.pick(&mut self.rng),
                product_id,
                doses,
                emergency_services_called,
                ambulance_attended,
                rescue_breaths_or_cpr: self.tables.cpr.pick(&mut self.rng),
                outcome: self.tables.outcomes.pick(&mut self.rng),
                age_band: self.tables.ages_at_risk.pick(&mut self.rng),
                gender: self.tables.genders.pick(&mut self.rng),
                kit_issue_id,
                replacement_kit_issue_id: replacement.then(|| kits[index].id.clone()),
                request_fingerprint: FINGERPRINT.to_owned(),
                created_at,
                updated_at: created_at,
                voided_at: voided.then_some(created_at),
                void_reason: voided.then(|| "reported in error".to_owned()),
            });
        }
        reports
    }

    /// Keeps each peer's last few standing handouts, for reports to link to.
    fn remember(&mut self, kits: &[KitIssue], who: &[(usize, usize)]) {
        for (kit, &(_, peer)) in kits.iter().zip(who).filter(|(k, _)| k.voided_at.is_none()) {
            let recent = &mut self.recent[peer];
            if recent.len() == 4 {
                recent.remove(0);
            }
            recent.push((kit.issued_at, kit.id.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;

    const TODAY: (i32, u32, u32) = (2026, 11, 23);

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(TODAY.0, TODAY.1, TODAY.2).unwrap()
    }

    fn options(kits: u64, years: u32, seed: u64) -> SeedOptions {
        SeedOptions { kits, years, seed, password: "not used here".into(), progress: false }
    }

    /// The plan and every record the generator makes, without a database.
    fn generate(options: &SeedOptions) -> (World, Setup, Vec<KitIssue>, Vec<Reversal>) {
        let (world, setup) = plan(options, today(), "$argon2id$not-a-real-hash");
        let (sender, receiver) = mpsc::sync_channel(100_000);
        Generator::new(&world, options.seed, options.kits).run(&sender);
        drop(sender);
        let (mut kits, mut reports) = (Vec::new(), Vec::new());
        for mut chunk in receiver {
            kits.append(&mut chunk.kits);
            reports.append(&mut chunk.reversals);
        }
        (world, setup, kits, reports)
    }

    #[test]
    fn weighted_picks_follow_their_weights() {
        let table = Weighted::new(&[('a', 1), ('b', 0), ('c', 3)]);
        let mut rng = StdRng::seed_from_u64(7);
        let mut seen: HashMap<char, u32> = HashMap::new();
        for _ in 0..40_000 {
            *seen.entry(table.pick(&mut rng)).or_default() += 1;
        }
        assert_eq!(seen.get(&'b'), None, "a zero weight is never picked");
        let ratio = f64::from(seen[&'c']) / f64::from(seen[&'a']);
        assert!((2.8..3.2).contains(&ratio), "c should come three times as often as a, came {ratio:.2}×");
        // The same seed picks the same.
        let again: Vec<char> = (0..50).map(|_| table.pick(&mut StdRng::seed_from_u64(1))).collect();
        assert!(again.iter().all(|c| *c == again[0]));
    }

    #[test]
    #[should_panic(expected = "needs some weight")]
    fn weighted_picks_need_some_weight() {
        Weighted::new(&[('a', 0)]);
    }

    #[test]
    fn days_share_out_exactly_the_total() {
        let weights = [0.0, 1.0, 2.5, 0.0, 0.7, 3.3, 1.1];
        for total in [0, 1, 7, 1_000, 1_000_003] {
            let shares = share_out(&weights, total);
            assert_eq!(shares.iter().sum::<u64>(), total);
            assert_eq!((shares[0], shares[3]), (0, 0));
        }
        assert_eq!(share_out(&[0.0, 0.0], 10), vec![0, 0]);
    }

    #[test]
    fn places_have_valid_districts_and_people_unique_emails() {
        for nation in WORLD {
            for board in nation.boards {
                for place in board.places {
                    assert!((800..=4000).contains(&place.population_at_risk), "{}", place.name);
                    assert!(!place.organisations.is_empty(), "{}", place.name);
                    for district in place.districts {
                        assert!(crate::records::check_postcode_district(district).is_none(), "{district}");
                    }
                }
            }
        }
        let (_, setup) = plan(&options(5_000, 5, 1), today(), "hash");
        let emails: HashSet<&str> = setup.users.iter().map(|u| u.email.as_str()).collect();
        assert_eq!(emails.len(), setup.users.len());
        assert!(emails.contains(ADMIN_EMAIL));
        assert!(emails.contains("coordinator.each-recovery-matters-hub-kilmarnock@demo.example"));
        assert!(emails.contains("commissioner.nhs-shetland@demo.example"));
        let names: Vec<&str> = setup.organisations.iter().map(|o| o.name.as_str()).collect();
        for name in ["Shetland Recovery Hub and Community Network", "Recovery Connections, Middlesbrough"] {
            assert!(names.contains(&name), "{name}");
        }
    }

    #[test]
    fn the_same_seed_makes_the_same_records() {
        let first = generate(&options(1_500, 2, 42));
        let second = generate(&options(1_500, 2, 42));
        let other = generate(&options(1_500, 2, 43));
        let show = |kits: &[KitIssue]| kits.iter().map(|k| format!("{k:?}")).collect::<Vec<_>>();
        assert_eq!(show(&first.2), show(&second.2));
        assert_eq!(first.3.len(), second.3.len());
        assert_ne!(show(&first.2), show(&other.2));
        let ids = |setup: &Setup| setup.users.iter().map(|u| u.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&first.1), ids(&second.1));
    }

    /// Every handout and report satisfies the schema's CHECKs and the rules
    /// live writes enforce, and the distributor was certified at the time.
    #[test]
    fn records_follow_the_rules() {
        let options = options(12_000, 3, DEFAULT_SEED);
        let (world, setup, kits, reports) = generate(&options);
        assert_eq!(kits.len() as u64, options.kits);
        let end = world.end;
        let start = world.at(0, 0);

        let users: HashMap<&str, &UserRow> = setup.users.iter().map(|u| (u.id.as_str(), u)).collect();
        let roles: HashSet<(&str, Role)> = setup.roles.iter().map(|r| (r.user_id.as_str(), r.role)).collect();
        let mut held: HashMap<&str, Vec<&CertificateRow>> = HashMap::new();
        for certificate in &setup.certificates {
            assert_eq!(certificate.expires_at, expiry(certificate.issued_at));
            assert!(certificate.issued_at < end);
            held.entry(certificate.user_id.as_str()).or_default().push(certificate);
        }
        let valid = |user: &str, levels: &[CertificateLevel], at: NaiveDateTime| {
            held.get(user).is_some_and(|certificates| {
                certificates.iter().any(|c| {
                    levels.contains(&c.level)
                        && c.issued_at <= at
                        && at < c.expires_at
                        && c.revoked_at.is_none_or(|r| at < r)
                })
            })
        };
        let organisation_area: HashMap<&str, &str> =
            setup.organisations.iter().map(|o| (o.id.as_str(), o.area_id.as_str())).collect();
        let leaves: HashMap<&str, &AreaInfo> = world.areas.iter().map(|a| (a.id.as_str(), a)).collect();

        // Trainings: a certified trainer; certificates only for attendees.
        let trainings: HashMap<&str, &PlannedTraining> =
            setup.trainings.iter().map(|t| (t.row.id.as_str(), t)).collect();
        for training in &setup.trainings {
            let at = training.row.delivered_on.and_hms_opt(16, 0, 0).unwrap();
            assert!(valid(&training.row.trainer_id, &[CertificateLevel::PeerTrainer], at), "{:?}", training.row);
            assert!(training.attendees.len() <= 500);
            let linked = setup.certificates.iter().filter(|c| c.training_id.as_ref() == Some(&training.row.id));
            assert_eq!(linked.count() as i64, training.certificates);
        }
        for certificate in &setup.certificates {
            let needed = match certificate.level {
                CertificateLevel::PeerSupplier => Role::Peer,
                CertificateLevel::PeerTrainer => Role::Trainer,
            };
            assert!(roles.contains(&(certificate.user_id.as_str(), needed)));
            assert!(users[certificate.user_id.as_str()].created_at <= certificate.issued_at);
            assert!(users[certificate.issued_by.as_str()].created_at <= certificate.issued_at);
            if let Some(training) = &certificate.training_id {
                assert!(trainings[training.as_str()].attendees.contains(&certificate.user_id));
            }
        }

        let mut kit_by_id: HashMap<&str, &KitIssue> = HashMap::new();
        let mut settings: HashMap<KitSetting, usize> = HashMap::new();
        let mut recipients: HashMap<RecipientType, usize> = HashMap::new();
        for kit in &kits {
            assert!(kit_by_id.insert(&kit.id, kit).is_none(), "ids are unique");
            assert!(kit.issued_at >= start && kit.issued_at < end, "{}", kit.issued_at);
            assert!(kit.created_at >= kit.issued_at && kit.created_at <= end);
            assert!((1..=10).contains(&kit.quantity));
            assert!([PRENOXAD, NYXOID, NASAL_4MG].contains(&kit.product_id.as_str()));
            assert_eq!(kit.batch_id, None);
            if kit.recipient_type == RecipientType::FamilyFriend {
                assert_eq!(kit.consent_recorded, Some(true));
            }
            let repeat = kit.supply == Some(Supply::Repeat);
            assert!(!repeat || kit.repeat_reason.is_some() || kit.recipient_type == RecipientType::Unknown);
            assert!(repeat || kit.repeat_reason.is_none());
            if let Some(district) = &kit.postcode_district {
                assert!(crate::records::check_postcode_district(district).is_none());
                assert!(leaves[kit.area_id.as_str()].districts.contains(&district.as_str()));
            }
            assert!(kit.voided_at.is_some() == kit.void_reason.is_some());
            // The distributor: a certified peer of the organisation.
            let distributor = users[kit.distributor_id.as_str()];
            assert_eq!(distributor.organisation_id.as_deref(), Some(kit.organisation_id.as_str()));
            assert!(roles.contains(&(kit.distributor_id.as_str(), Role::Peer)));
            assert!(
                valid(&kit.distributor_id, &[CertificateLevel::PeerSupplier], kit.issued_at),
                "no valid certificate at {}",
                kit.issued_at
            );
            // In the organisation's area or a neighbouring one.
            let home = leaves[organisation_area[kit.organisation_id.as_str()]];
            assert!(home.siblings.iter().any(|&s| world.areas[s].id == kit.area_id));
            *settings.entry(kit.setting).or_default() += 1;
            *recipients.entry(kit.recipient_type).or_default() += 1;
        }
        let mut common: Vec<(KitSetting, usize)> = settings.into_iter().collect();
        common.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        let top: HashSet<KitSetting> = common.iter().take(2).map(|(s, _)| *s).collect();
        assert_eq!(top, HashSet::from([KitSetting::Outreach, KitSetting::HubDropIn]));
        assert!(recipients[&RecipientType::PersonAtRisk] > recipients[&RecipientType::FamilyFriend]);
        assert!(recipients[&RecipientType::FamilyFriend] > recipients[&RecipientType::Unknown]);
        let singles = kits.iter().filter(|k| k.quantity == 1).count();
        assert!(singles * 10 > kits.len() * 9, "mostly single kits");

        let expected = kits.len() as f64 / KITS_PER_REVERSAL;
        assert!((reports.len() as f64 - expected).abs() < expected * 0.2, "{} reports", reports.len());
        let mut report_ids = HashSet::new();
        for report in &reports {
            assert!(report_ids.insert(report.id.as_str()));
            assert!(report.occurred_at < end && report.created_at >= report.occurred_at);
            assert!((1..=3).contains(&report.doses));
            assert_eq!(
                users[report.reporter_id.as_str()].organisation_id.as_deref(),
                Some(report.organisation_id.as_str())
            );
            if let Some(district) = &report.postcode_district {
                assert!(crate::records::check_postcode_district(district).is_none());
            }
            if let Some(used) = &report.kit_issue_id {
                let kit = kit_by_id[used.as_str()];
                assert!(kit.issued_at < report.occurred_at);
                assert_eq!(kit.distributor_id, report.reporter_id);
            }
            if let Some(replacement) = &report.replacement_kit_issue_id {
                let kit = kit_by_id[replacement.as_str()];
                assert!(kit.issued_at > report.occurred_at);
                assert_eq!((kit.supply, kit.repeat_reason), (Some(Supply::Repeat), Some(RepeatReason::UsedOnOverdose)));
            }
        }
        let survived = reports.iter().filter(|r| r.outcome == Outcome::Survived).count();
        assert!(survived * 10 > reports.len() * 8, "mostly survived");
        assert!(reports.iter().any(|r| r.kit_issue_id.is_some()));
        assert!(reports.iter().any(|r| r.replacement_kit_issue_id.is_some()));
    }

    #[derive(QueryableByName)]
    struct Total {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        total: i64,
    }

    fn total(db: &Database, sql: &str) -> i64 {
        db.run_blocking(|conn| Ok(diesel::sql_query(sql).get_result::<Total>(conn)?.total)).unwrap()
    }

    /// Seeds a SQLite file: the totals match the records, and a second run is refused.
    #[test]
    fn seeds_sqlite_keeping_the_totals() {
        let dir = tempfile::tempdir().unwrap();
        let target = crate::db::DatabaseTarget::parse(&dir.path().join("demo.db").display().to_string());
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
