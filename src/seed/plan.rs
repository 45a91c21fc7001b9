//! The plan of the demo world, made before any handout: its areas and
//! organisations, its people with their roles, and the trainings and
//! certificates that let every peer hand kits out at the times they do.

use std::collections::BTreeMap;

use chrono::{Months, NaiveDate, NaiveDateTime};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::options::{
    new_id, SeedOptions, ADMIN_EMAIL, CERTIFICATE_MONTHS, EMAIL_DOMAIN, FINGERPRINT, HOUR, KITS_PER_PEER_YEAR,
    MAX_RECRUITS,
};
use super::places::{FIRST_NAMES, WORLD};
use super::tables::{settings_for, training_setting_for, uniform, Weighted};
use crate::model::certificates::CertificateLevel;
use crate::model::handouts::KitSetting;
use crate::model::ids::{AreaId, CertificateId, OrganisationId, TrainingId, UserId};
use crate::model::records::{HeldReasons, RecordState};
use crate::model::reference::OrganisationKind;
use crate::model::roles::Role;
use crate::model::trainings::{TrainingKind, TrainingSetting};
use crate::model::values::Email;
use crate::storage::areas::Area;
use crate::storage::certificates::CertificateRow;
use crate::storage::organisations::Organisation;
use crate::storage::trainings::TrainingRow;
use crate::storage::users::{RoleRow, UserRow};

use OrganisationKind as K;

pub struct PlannedTraining {
    pub row: TrainingRow,
    pub attendees: Vec<UserId>,
    /// Certificates issued on it.
    pub certificates: i64,
}

/// Everything made before the handouts.
pub struct Setup {
    /// By level: nations, boards, places (parents before children).
    pub areas: [Vec<Area>; 3],
    pub organisations: Vec<Organisation>,
    pub users: Vec<UserRow>,
    pub roles: Vec<RoleRow>,
    pub trainings: Vec<PlannedTraining>,
    pub certificates: Vec<CertificateRow>,
    pub commissioners: Vec<(String, String)>,
}

pub struct AreaInfo {
    pub id: AreaId,
    pub districts: &'static [&'static str],
    /// The leaf areas of the same board, itself included.
    pub siblings: Vec<usize>,
}

pub struct OrgInfo {
    pub id: OrganisationId,
    pub kind: OrganisationKind,
    /// Index into `World::areas`.
    pub area: usize,
    pub weight: u32,
    pub start_day: i64,
    pub settings: Weighted<KitSetting>,
    /// Indices into `World::peers`.
    pub peers: Vec<usize>,
}

/// A peer and the days on which they may hand out kits: from the day after
/// their first certificate until they leave or their last one runs out.
#[derive(Debug, Clone)]
pub struct PeerSpan {
    pub user_id: UserId,
    pub joined: i64,
    pub left: i64,
    /// First day they may supply, and the day after the last.
    pub from: i64,
    pub until: i64,
}

pub struct World {
    /// Day 0.
    pub start: NaiveDate,
    /// Today is day `days`.
    pub days: i64,
    /// Midnight at the start of today (UTC): records end there, so that
    /// the same options on the same day give the same data.
    pub end: NaiveDateTime,
    /// Leaf areas only.
    pub areas: Vec<AreaInfo>,
    pub orgs: Vec<OrgInfo>,
    pub peers: Vec<PeerSpan>,
}

impl World {
    pub fn date(&self, day: i64) -> NaiveDate {
        self.start + chrono::Duration::days(day)
    }

    pub fn day_of(&self, date: NaiveDate) -> i64 {
        (date - self.start).num_days()
    }

    /// An instant on a day, `micros` after its midnight.
    pub fn at(&self, day: i64, micros: i64) -> NaiveDateTime {
        self.date(day).and_time(chrono::NaiveTime::MIN) + chrono::Duration::microseconds(micros)
    }
}

fn verification_code(rng: &mut impl Rng) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let symbols: Vec<char> = (0..20).map(|_| ALPHABET[rng.random_range(0..32)] as char).collect();
    symbols.chunks(5).map(|group| group.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// The longest slug: `coordinator.` and `peer400.` with it stay within the
/// 64 characters an address's local part may have.
const MAX_SLUG: usize = 40;

/// A name in an email address: lower case words joined by `-`, whole words
/// up to [`MAX_SLUG`] characters.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for word in name.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
        if !out.is_empty() && out.len() + 1 + word.len() > MAX_SLUG {
            break;
        }
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&word.to_ascii_lowercase());
    }
    out
}

pub(super) fn expiry(issued: NaiveDateTime) -> NaiveDateTime {
    issued.checked_add_months(Months::new(CERTIFICATE_MONTHS)).unwrap_or(issued)
}

struct Planner<'a> {
    rng: StdRng,
    world: World,
    password_hash: &'a str,
    admin_id: UserId,
    users: Vec<UserRow>,
    roles: Vec<RoleRow>,
    trainings: Vec<PlannedTraining>,
    certificates: Vec<CertificateRow>,
    /// (organisation, day) → training, for refresher sessions made on demand.
    refreshers: BTreeMap<(usize, i64), usize>,
    /// (board, day) → training, for train-the-trainer sessions.
    sessions: BTreeMap<(usize, i64), usize>,
    /// Per organisation: its trainers' user ids.
    trainers: Vec<Vec<UserId>>,
    /// Per organisation: its board.
    org_board: Vec<usize>,
    /// Per board: its lead organisation and lead trainer.
    board_leads: Vec<(usize, UserId)>,
}

/// Lays out the areas, organisations, users, trainings and certificates.
pub fn plan(options: &SeedOptions, today: NaiveDate, password_hash: &str) -> (World, Setup) {
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
    let area = |rng: &mut StdRng, name: &str, parent: Option<&AreaId>, population: Option<i32>| Area {
        id: new_id(rng, created).into(),
        name: name.to_owned(),
        parent_id: parent.cloned(),
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
                        id: new_id(&mut rng, opened).into(),
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
        admin_id: UserId::new_v7(),
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
        organisation_id: Option<OrganisationId>,
        area_id: Option<AreaId>,
        roles: &[Role],
        active: bool,
        created_at: NaiveDateTime,
    ) -> usize {
        let id = UserId::from(new_id(&mut self.rng, created_at));
        for role in roles {
            self.roles.push(RoleRow { user_id: id.clone(), role: *role });
        }
        self.users.push(UserRow {
            id,
            email: Email::parse(&email).expect("demo addresses are well formed"),
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

    fn training(&mut self, o: usize, day: i64, kind: TrainingKind, setting: TrainingSetting, trainer: UserId) -> usize {
        let delivered = self.world.at(day, 10 * HOUR);
        let recorded = self.world.at(day, 17 * HOUR + self.rng.random_range(0..2 * HOUR)).min(self.world.end);
        let row = TrainingRow {
            id: TrainingId::from(new_id(&mut self.rng, delivered)),
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
            state: RecordState::Recorded,
            held_reasons: HeldReasons::default(),
            released_at: None,
            release_reason: None,
        };
        self.trainings.push(PlannedTraining { row, attendees: Vec::new(), certificates: 0 });
        self.trainings.len() - 1
    }

    fn certificate(
        &mut self,
        holder: &UserId,
        level: CertificateLevel,
        training: Option<usize>,
        o: usize,
        issued_by: UserId,
        issued_at: NaiveDateTime,
    ) -> usize {
        if let Some(t) = training {
            self.trainings[t].certificates += 1;
        }
        let row = CertificateRow {
            id: CertificateId::from(new_id(&mut self.rng, issued_at)),
            user_id: holder.clone(),
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
            issue_reason: training.is_none().then(|| "certified before the tracker".to_owned()),
            evidence: None,
        };
        self.certificates.push(row);
        self.certificates.len() - 1
    }

    /// A trainer's peer_trainer certificates: the first from the admin when
    /// the organisation opens, renewals at the board's train-the-trainer
    /// sessions (the lead trainer's from the admin again).
    fn trainer_certificates(&mut self, o: usize, trainer: &UserId) {
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
            if *trainer == lead {
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
                self.trainings[t].attendees.push(trainer.clone());
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

#[cfg(test)]
pub(super) mod tests {
    use std::collections::HashSet;

    use super::*;

    const TODAY: (i32, u32, u32) = (2026, 11, 23);

    pub fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(TODAY.0, TODAY.1, TODAY.2).unwrap()
    }

    pub fn options(kits: u64, years: u32, seed: u64) -> SeedOptions {
        SeedOptions { kits, years, seed, password: "not used here".into(), progress: false }
    }

    #[test]
    fn places_have_valid_districts_and_people_unique_emails() {
        for nation in WORLD {
            for board in nation.boards {
                for place in board.places {
                    assert!((800..=4000).contains(&place.population_at_risk), "{}", place.name);
                    assert!(!place.organisations.is_empty(), "{}", place.name);
                    for district in place.districts {
                        assert!(crate::model::values::PostcodeDistrict::parse(district).is_ok(), "{district}");
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
}
