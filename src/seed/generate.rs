//! Making the handouts and reversal reports, day by day in time order, by
//! peers who hold a valid certificate on the day: sent to the writer in
//! chunks of whole days, so that only a few chunks are in memory at once.

use std::sync::mpsc;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Weekday};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::options::{
    new_id, DAY, HOUR, KITS_PER_REVERSAL, MAX_KITS_PER_TRANSACTION, MIN_KITS_PER_TRANSACTION, NASAL_4MG, NYXOID,
    PRENOXAD, SECOND,
};
use super::plan::World;
use super::tables::{uniform, Tables, Weighted};
use crate::model::handouts::{KitSetting, RecipientType, RepeatReason, Supply};
use crate::model::ids::{KitIssueId, ProductId, ReversalId};
use crate::model::records::{HeldReasons, RecordState};
use crate::model::reversals::YesNoUnknown;
use crate::model::values::PostcodeDistrict;
use crate::storage::kit_issues::KitIssue;
use crate::storage::reversals::Reversal;

/// Handouts and reports of whole days, written in one transaction.
pub struct Chunk {
    pub kits: Vec<KitIssue>,
    pub reversals: Vec<Reversal>,
    /// The last day in it.
    pub through: NaiveDate,
}

/// How many handouts each day gets: `total` shared out by weight, rounding
/// on the running sum so that the days add up to exactly `total`.
pub fn share_out(weights: &[f64], total: u64) -> Vec<u64> {
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

pub struct Generator<'a> {
    world: &'a World,
    rng: StdRng,
    tables: Tables,
    /// Handouts per day, day 0 to today.
    per_day: Vec<u64>,
    /// Per peer: their last few standing handouts (issued_at, id).
    recent: Vec<Vec<(NaiveDateTime, KitIssueId)>>,
}

impl<'a> Generator<'a> {
    pub fn new(world: &'a World, seed: u64, kits: u64) -> Self {
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
    pub fn run(mut self, sender: &mpsc::SyncSender<Chunk>) {
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
                kit.id = KitIssueId::from(new_id(&mut self.rng, kit.issued_at));
            }
            let mut reports = self.reversals(day, &mut kits, &who, &eligible);
            reports.sort_by_key(|r| r.occurred_at);
            for report in &mut reports {
                report.id = ReversalId::from(new_id(&mut self.rng, report.occurred_at));
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

    fn product(&mut self, day: i64, setting: KitSetting) -> ProductId {
        // Nasal sprays gain ground over the years; prisons keep to syringes.
        let mut nasal = 0.3 + 0.25 * day as f64 / self.world.days.max(1) as f64;
        if setting == KitSetting::PrisonRelease {
            nasal *= 0.5;
        }
        let product = if !self.rng.random_bool(nasal) {
            PRENOXAD
        } else if self.rng.random_bool(0.75) {
            NYXOID
        } else {
            NASAL_4MG
        };
        ProductId::parse(product).unwrap_or_else(ProductId::new_v7)
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

    fn district(&mut self, area: usize, share: f64) -> Option<PostcodeDistrict> {
        let districts = self.world.areas[area].districts;
        let district = self.rng.random_bool(share).then(|| *uniform(&mut self.rng, districts))?;
        PostcodeDistrict::parse(district).ok()
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
            // Made once the day's handouts are in time order.
            id: KitIssueId::new_v7(),
            distributor_id: world.peers[peer].user_id.clone(),
            organisation_id: org.id.clone(),
            issued_at,
            area_id: world.areas[area].id.clone(),
            postcode_district,
            setting,
            product_id,
            batch_id: None,
            quantity,
            recipient_type,
            consent_recorded,
            supply,
            repeat_reason,
            brief_training_given,
            age_band,
            gender,
            created_at,
            updated_at: created_at,
            voided_at: None,
            void_reason: None,
            state: RecordState::Recorded,
            held_reasons: HeldReasons::default(),
            released_at: None,
            release_reason: None,
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
                kit.state = RecordState::Voided;
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
                (reporter, at, world.areas[area].id.clone(), district, product)
            };
            // Sometimes the kit used is one the reporter handed out before.
            let used = self.recent[reporter]
                .iter()
                .filter(|(at, _)| *at < occurred_at)
                .map(|(_, id)| id.clone())
                .collect::<Vec<_>>();
            let kit_issue_id =
                (!used.is_empty() && self.rng.random_bool(0.35)).then(|| uniform(&mut self.rng, &used).clone());
            let doses = if product_id.as_str() == PRENOXAD {
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
                // Made once the day's reports are in time order.
                id: ReversalId::new_v7(),
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
                created_at,
                updated_at: created_at,
                voided_at: voided.then_some(created_at),
                void_reason: voided.then(|| "reported in error".to_owned()),
                state: if voided { RecordState::Voided } else { RecordState::Recorded },
                held_reasons: HeldReasons::default(),
                released_at: None,
                release_reason: None,
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

    use chrono::NaiveDateTime;

    use super::super::plan::tests::{options, today};
    use super::super::plan::{expiry, plan, AreaInfo, PlannedTraining, Setup};
    use super::super::{SeedOptions, DEFAULT_SEED};
    use super::*;
    use crate::model::certificates::CertificateLevel;
    use crate::model::reversals::Outcome;
    use crate::model::roles::Role;
    use crate::storage::certificates::CertificateRow;
    use crate::storage::users::UserRow;

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
            assert!(
                valid(training.row.trainer_id.as_str(), &[CertificateLevel::PeerTrainer], at),
                "{:?}",
                training.row
            );
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
            assert!(kit_by_id.insert(kit.id.as_str(), kit).is_none(), "ids are unique");
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
                assert!(leaves[kit.area_id.as_str()].districts.contains(&district.as_str()));
            }
            assert!(kit.voided_at.is_some() == kit.void_reason.is_some());
            assert_eq!(kit.voided_at.is_some(), kit.state == RecordState::Voided);
            // The distributor: a certified peer of the organisation.
            let distributor = users[kit.distributor_id.as_str()];
            assert_eq!(distributor.organisation_id.as_ref(), Some(&kit.organisation_id));
            assert!(roles.contains(&(kit.distributor_id.as_str(), Role::Peer)));
            assert!(
                valid(kit.distributor_id.as_str(), &[CertificateLevel::PeerSupplier], kit.issued_at),
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
            assert_eq!(users[report.reporter_id.as_str()].organisation_id.as_ref(), Some(&report.organisation_id));
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
}
