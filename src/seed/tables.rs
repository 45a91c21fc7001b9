//! The shape of the demo records: which values are common and which are
//! rare, drawn by weighted picks from one seeded generator.

use rand::Rng;

use crate::model::handouts::{AgeBand, Gender, KitSetting, RecipientType, RepeatReason, Supply};
use crate::model::reference::OrganisationKind;
use crate::model::reversals::{AdministeredBy, Outcome, Place, YesNoUnknown};
use crate::model::trainings::TrainingSetting;

use OrganisationKind as K;

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

pub fn uniform<'a, T>(rng: &mut impl Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// The shape of the records: which values are common and which are rare.
pub struct Tables {
    pub recipients: Weighted<RecipientType>,
    pub supply_known: Weighted<Option<Supply>>,
    pub supply_unknown: Weighted<Option<Supply>>,
    pub reasons: Weighted<RepeatReason>,
    pub ages_at_risk: Weighted<Option<AgeBand>>,
    pub ages_others: Weighted<Option<AgeBand>>,
    pub genders: Weighted<Option<Gender>>,
    pub brief_training: Weighted<Option<bool>>,
    pub hours: Weighted<u32>,
    pub places: Weighted<Place>,
    pub administered_by: Weighted<AdministeredBy>,
    pub yes_no_unknown: Weighted<YesNoUnknown>,
    pub ambulance_if_called: Weighted<YesNoUnknown>,
    pub ambulance_otherwise: Weighted<YesNoUnknown>,
    pub cpr: Weighted<YesNoUnknown>,
    pub outcomes: Weighted<Outcome>,
    pub doses_syringe: Weighted<i32>,
    pub doses_nasal: Weighted<i32>,
}

impl Tables {
    pub fn new() -> Self {
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
pub fn settings_for(kind: OrganisationKind) -> Weighted<KitSetting> {
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
pub fn training_setting_for(kind: OrganisationKind) -> TrainingSetting {
    match kind {
        K::Prison => TrainingSetting::Prison,
        K::Hospital => TrainingSetting::Hospital,
        K::OutreachTeam | K::Pharmacy => TrainingSetting::CommunityVenue,
        _ => TrainingSetting::Hub,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

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
}
