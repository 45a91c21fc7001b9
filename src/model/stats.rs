//! What statistics count and what they can be broken down by.

use super::handouts::{KitSetting, RecipientType, RepeatReason, Supply};
use super::reversals::{AdministeredBy, Outcome, Place};
use super::trainings::TrainingKind;

/// What a statistics table counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subject {
    KitIssues,
    Reversals,
    Trainings,
}

/// Everything a statistics row can be grouped or filtered by, besides the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dimension {
    Area,
    Organisation,
    Product,
    Setting,
    RecipientType,
    Supply,
    RepeatReason,
    Outcome,
    AdministeredBy,
    Place,
    Kind,
}

impl Dimension {
    /// The name in `group_by`.
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Area => "area",
            Dimension::Organisation => "organisation",
            Dimension::Product => "product",
            Dimension::Setting => "setting",
            Dimension::RecipientType => "recipient_type",
            Dimension::Supply => "supply",
            Dimension::RepeatReason => "repeat_reason",
            Dimension::Outcome => "outcome",
            Dimension::AdministeredBy => "administered_by",
            Dimension::Place => "place",
            Dimension::Kind => "kind",
        }
    }

    /// The name of its key in a row and of its filter parameter.
    pub fn field(self) -> &'static str {
        match self {
            Dimension::Area => "area_id",
            Dimension::Organisation => "organisation_id",
            Dimension::Product => "product_id",
            other => other.name(),
        }
    }

    /// Area: the one dimension the area rollups keep.
    pub fn in_area_rollups(self) -> bool {
        self == Dimension::Area
    }

    /// The values a dimension takes; `None` for ids.
    pub fn values(self) -> Option<Vec<&'static str>> {
        fn texts<T: Copy>(all: &[T], text: fn(T) -> &'static str) -> Option<Vec<&'static str>> {
            Some(all.iter().map(|v| text(*v)).collect())
        }
        match self {
            Dimension::Area | Dimension::Organisation | Dimension::Product => None,
            Dimension::Setting => texts(KitSetting::ALL, KitSetting::as_str),
            Dimension::RecipientType => texts(RecipientType::ALL, RecipientType::as_str),
            Dimension::Supply => texts(Supply::ALL, Supply::as_str),
            Dimension::RepeatReason => texts(RepeatReason::ALL, RepeatReason::as_str),
            Dimension::Outcome => texts(Outcome::ALL, Outcome::as_str),
            Dimension::AdministeredBy => texts(AdministeredBy::ALL, AdministeredBy::as_str),
            Dimension::Place => texts(Place::ALL, Place::as_str),
            Dimension::Kind => texts(TrainingKind::ALL, TrainingKind::as_str),
        }
    }
}

impl Subject {
    pub fn table_name(self) -> &'static str {
        match self {
            Subject::KitIssues => "kit_issues",
            Subject::Reversals => "reversals",
            Subject::Trainings => "trainings",
        }
    }

    /// The subject's own dimensions, in the order of columns `key_1`…`key_4`.
    pub fn keys(self) -> &'static [Dimension] {
        match self {
            Subject::KitIssues => {
                &[Dimension::Setting, Dimension::RecipientType, Dimension::Supply, Dimension::RepeatReason]
            }
            Subject::Reversals => &[Dimension::Outcome, Dimension::AdministeredBy, Dimension::Place],
            Subject::Trainings => &[Dimension::Kind],
        }
    }

    /// Every dimension a row of this subject can be grouped by.
    pub fn dimensions(self) -> Vec<Dimension> {
        let mut all = vec![Dimension::Area, Dimension::Organisation];
        if self != Subject::Trainings {
            all.push(Dimension::Product);
        }
        all.extend_from_slice(self.keys());
        all
    }

    /// The names of its counts, in the order of columns `count_1`…
    pub fn counts(self) -> &'static [&'static str] {
        match self {
            Subject::KitIssues => &["kits", "doses", "first_supplies"],
            Subject::Reversals => &["reports", "survived", "died", "unknown_outcome", "doses"],
            Subject::Trainings => &["sessions", "people_trained", "certificates_issued"],
        }
    }
}
