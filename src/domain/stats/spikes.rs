//! Spike alerts: areas where reversal reports jump above their own recent
//! baseline, the way overdose-mapping systems warn of a bad batch.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{Dimension, Subject, Viewer};
use crate::domain::error::Error;
use crate::domain::principal::Principal;
use crate::model::ids::AreaId;
use crate::model::time::now;
use crate::storage::stat_cells::{self, earliest, CellQuery, Rollup};
use crate::storage::{areas, Database, DbConnection};

/// Reports in the last 7 days needed before anything is flagged.
pub const MIN_REPORTS: i64 = 3;
/// How many times the baseline's weekly mean the last 7 days must reach.
pub const FACTOR: i64 = 2;
/// Weeks in the baseline, just before the last 7 days.
pub const BASELINE_WEEKS: u64 = 8;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SpikeFilter {
    /// The last day of the 7 looked at (UTC); today by default.
    #[param(value_type = Option<String>, format = Date)]
    pub as_of: Option<NaiveDate>,
    /// Only this area and those beneath it.
    pub area_id: Option<Uuid>,
}

/// An area whose reports jumped, with the figures behind the alert.
#[derive(Debug, Serialize, ToSchema)]
pub struct SpikeAlert {
    pub area_id: String,
    pub area_name: String,
    /// Reports in the 7 days ending `as_of`; null when suppressed.
    pub last_7_days: Option<i64>,
    /// Reports in the 8 weeks before those 7 days; null when suppressed.
    pub baseline_8_weeks: Option<i64>,
    /// The baseline's mean per week; null when suppressed.
    pub baseline_weekly_mean: Option<f64>,
    pub suppressed: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SpikeReport {
    #[schema(value_type = String, format = Date)]
    pub as_of: NaiveDate,
    /// First day of the 7 looked at.
    #[schema(value_type = String, format = Date)]
    pub window_from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub baseline_from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub baseline_to: NaiveDate,
    /// The rule, in words.
    pub rule: String,
    /// Highest last-7-days count first.
    pub alerts: Vec<SpikeAlert>,
    pub disclosure_threshold: Option<i64>,
}

/// The rule: at least [`MIN_REPORTS`] in the last 7 days, and at least
/// [`FACTOR`] times the weekly mean of the baseline weeks.
pub fn is_spike(last_7_days: i64, baseline: i64) -> bool {
    last_7_days >= MIN_REPORTS && last_7_days * BASELINE_WEEKS as i64 >= FACTOR * baseline
}

fn compute(conn: &mut DbConnection, viewer: &Viewer, filter: SpikeFilter) -> Result<SpikeReport, Error> {
    let threshold = viewer.threshold;
    let as_of = filter.as_of.unwrap_or_else(|| now().date());
    let day = |days_back: u64| as_of.checked_sub_days(Days::new(days_back)).unwrap_or(as_of).max(earliest());
    let window_from = day(6);
    let baseline_from = day(6 + 7 * BASELINE_WEEKS);
    let baseline_to = day(7);
    let area_filter = filter.area_id.map(|a| a.to_string());
    let filters: Vec<(Dimension, String)> =
        viewer.organisation(None)?.map(|o| (Dimension::Organisation, o.to_owned())).into_iter().collect();
    let query = CellQuery {
        subject: Subject::Reversals,
        // A coordinator's organisation is only in the detail cells.
        rollup: Rollup::of(false, !filters.is_empty()),
        buckets: (baseline_from, as_of),
        areas: viewer.areas(conn, area_filter.as_deref())?,
        filters,
    };
    // Per area: reports in the window, reports in the baseline.
    let mut by_area: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (cell, counts) in stat_cells::read(conn, &query)? {
        let entry = by_area.entry(cell.area_id).or_default();
        if cell.bucket >= window_from {
            entry.0 += counts[0];
        } else {
            entry.1 += counts[0];
        }
    }
    by_area.retain(|_, (recent, baseline)| is_spike(*recent, *baseline));
    let ids: Vec<AreaId> = by_area.keys().filter_map(|id| AreaId::parse(id)).collect();
    let names: BTreeMap<String, String> = areas::names(conn, &ids.iter().collect::<Vec<_>>())?
        .into_iter()
        .map(|(id, name)| (id.to_string(), name))
        .collect();
    let hide = |value: i64| threshold.is_some_and(|t| (1..t).contains(&value));
    let mut alerts: Vec<SpikeAlert> = by_area
        .into_iter()
        .map(|(area_id, (recent, baseline))| {
            let mut suppressed = Vec::new();
            if hide(recent) {
                suppressed.push("last_7_days".to_owned());
            }
            if hide(baseline) {
                suppressed.extend(["baseline_8_weeks".to_owned(), "baseline_weekly_mean".to_owned()]);
            }
            SpikeAlert {
                area_name: names.get(&area_id).cloned().unwrap_or_default(),
                area_id,
                last_7_days: (!hide(recent)).then_some(recent),
                baseline_8_weeks: (!hide(baseline)).then_some(baseline),
                baseline_weekly_mean: (!hide(baseline)).then_some(baseline as f64 / BASELINE_WEEKS as f64),
                suppressed,
            }
        })
        .collect();
    alerts.sort_by(|a, b| b.last_7_days.cmp(&a.last_7_days).then_with(|| a.area_name.cmp(&b.area_name)));
    Ok(SpikeReport {
        as_of,
        window_from,
        baseline_from,
        baseline_to,
        rule: format!(
            "an area is flagged when its reversal reports in the 7 days ending as_of are at least {MIN_REPORTS} \
             and at least {FACTOR} times the weekly mean of the {BASELINE_WEEKS} weeks before"
        ),
        alerts,
        disclosure_threshold: threshold,
    })
}

/// The spike alerts within the caller's scope.
pub async fn report(
    db: &Database,
    principal: Principal,
    threshold: i64,
    filter: SpikeFilter,
) -> Result<SpikeReport, Error> {
    filter.as_of.map(|d| super::within_calendar("as_of", d)).transpose()?;
    super::for_viewer(db, principal, threshold, move |conn, viewer| compute(conn, viewer, filter)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_needs_three_reports_and_twice_the_weekly_mean() {
        assert!(!is_spike(2, 0));
        assert!(is_spike(3, 0));
        // Baseline 12 over 8 weeks: a mean of 1.5, so 3 is exactly twice it.
        assert!(is_spike(3, 12));
        assert!(!is_spike(3, 13));
        assert!(is_spike(10, 40));
        assert!(!is_spike(9, 40));
    }
}
