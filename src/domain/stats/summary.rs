//! Headline figures for a period and an area: what a commissioner puts at
//! the top of a report.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{disclosure, exact_counts, relations, Dimension, Request, Subject, Viewer};
use crate::domain::error::Error;
use crate::domain::principal::Principal;
use crate::model::ids::{AreaId, OrganisationId};
use crate::model::time::now;
use crate::storage::{areas, certificates, Database, DbConnection};

/// How far ahead "expiring soon" looks.
const EXPIRY_WINDOW_DAYS: i64 = 90;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SummaryFilter {
    /// First day counted (UTC).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    /// Last day counted (UTC); the peers and certificates figures are as at its end (or now, if sooner).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    /// This area and those beneath it (a commissioner's own area by default).
    pub area_id: Option<Uuid>,
    pub organisation_id: Option<Uuid>,
}

/// Headline figures. Counts are `null` when suppressed (commissioners
/// only; see `/stats/kits` for the rule) and named in `suppressed`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Summary {
    #[schema(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    pub area_id: Option<String>,
    pub kits: Option<i64>,
    pub doses: Option<i64>,
    pub first_supplies: Option<i64>,
    /// First supplies to people at risk themselves (not family, friends or workers).
    pub first_supplies_to_people_at_risk: Option<i64>,
    pub reversal_reports: Option<i64>,
    pub survived: Option<i64>,
    pub died: Option<i64>,
    pub unknown_outcome: Option<i64>,
    pub training_sessions: Option<i64>,
    pub people_trained: Option<i64>,
    pub certificates_issued: Option<i64>,
    /// Active users holding a valid certificate at the end of the period.
    pub active_certified_peers: Option<i64>,
    /// Of those valid certificates, how many end within 90 days after it.
    pub certificates_expiring_within_90_days: Option<i64>,
    /// The area's estimated people at risk, where it has the figure.
    pub population_at_risk: Option<i32>,
    /// First supplies to people at risk per 1,000 of the area's population
    /// at risk; null without that figure or when the count is suppressed.
    pub reach_per_1000: Option<f64>,
    pub disclosure_threshold: Option<i64>,
    pub suppressed: Vec<String>,
}

/// Certificate figures as at an instant, within the viewer's scope.
fn summary_field(subject: Subject, count: &str) -> Option<&'static str> {
    Some(match (subject, count) {
        (Subject::KitIssues, "kits") => "kits",
        (Subject::KitIssues, "doses") => "doses",
        (Subject::KitIssues, "first_supplies") => "first_supplies",
        (Subject::Reversals, "reports") => "reversal_reports",
        (Subject::Reversals, "survived") => "survived",
        (Subject::Reversals, "died") => "died",
        (Subject::Reversals, "unknown_outcome") => "unknown_outcome",
        (Subject::Trainings, "sessions") => "training_sessions",
        (Subject::Trainings, "people_trained") => "people_trained",
        (Subject::Trainings, "certificates_issued") => "certificates_issued",
        _ => return None,
    })
}

/// Hides what a commissioner may not see among one subject's figures.
fn shown(subject: Subject, counts: &[i64], threshold: Option<i64>, suppressed: &mut Vec<String>) -> Vec<Option<i64>> {
    let hidden = match threshold {
        Some(threshold) => disclosure::suppress(&[], counts, relations(subject), threshold).totals,
        None => vec![false; counts.len()],
    };
    for (name, _) in subject.counts().iter().zip(&hidden).filter(|(_, h)| **h) {
        suppressed.extend(summary_field(subject, name).map(str::to_owned));
    }
    counts.iter().zip(hidden).map(|(c, h)| (!h).then_some(*c)).collect()
}

fn compute(conn: &mut DbConnection, viewer: &Viewer, filter: SummaryFilter) -> Result<Summary, Error> {
    let area = filter.area_id.map(|a| a.to_string()).or_else(|| match &viewer.scope {
        super::Scope::Areas { root, .. } => Some(root.to_string()),
        _ => None,
    });
    let organisation = filter.organisation_id.map(|o| o.to_string());
    let mut filters = Vec::new();
    filters.extend(area.clone().map(|a| (Dimension::Area, a)));
    filters.extend(organisation.clone().map(|o| (Dimension::Organisation, o)));
    let totals = |conn: &mut DbConnection, subject: Subject, extra: Option<(Dimension, &str)>| {
        let mut request = Request { from: filter.from, to: filter.to, filters: filters.clone(), ..Request::default() };
        request.filters.extend(extra.map(|(d, v)| (d, v.to_owned())));
        let groups = exact_counts(conn, subject, &request, viewer)?;
        Ok::<_, Error>(groups.into_values().next().unwrap_or_default()[..subject.counts().len()].to_vec())
    };
    let kits = totals(conn, Subject::KitIssues, None)?;
    let at_risk = totals(conn, Subject::KitIssues, Some((Dimension::RecipientType, "person_at_risk")))?;
    let reversals = totals(conn, Subject::Reversals, None)?;
    let trainings = totals(conn, Subject::Trainings, None)?;

    let end_of_period = filter.to.and_then(|d| d.succ_opt()).and_then(|d| d.and_hms_opt(0, 0, 0));
    let at = end_of_period.map_or_else(now, |end| end.min(now()));
    let areas = viewer.areas(conn, area.as_deref())?;
    let organisation_scope = viewer.organisation(organisation.as_deref())?;
    let organisation_scope = organisation_scope.and_then(OrganisationId::parse);
    let horizon = at + Duration::days(EXPIRY_WINDOW_DAYS);
    let (peers, expiring) =
        certificates::valid_counts(conn, areas.as_deref(), organisation_scope.as_ref(), at, horizon)?;
    let population = match area.as_deref().and_then(AreaId::parse) {
        Some(area) => areas::find(conn, &area)?.and_then(|a| a.population_at_risk),
        None => None,
    };

    let threshold = viewer.threshold;
    let mut suppressed = Vec::new();
    let kits = shown(Subject::KitIssues, &kits, threshold, &mut suppressed);
    let reversals = shown(Subject::Reversals, &reversals, threshold, &mut suppressed);
    let trainings = shown(Subject::Trainings, &trainings, threshold, &mut suppressed);
    let mut single = |name: &str, value: i64| {
        let hide = threshold.is_some_and(|t| (1..t).contains(&value));
        if hide {
            suppressed.push(name.to_owned());
        }
        (!hide).then_some(value)
    };
    let first_supplies_to_people_at_risk = single("first_supplies_to_people_at_risk", at_risk[2]);
    let active_certified_peers = single("active_certified_peers", peers);
    let expiring = single("certificates_expiring_within_90_days", expiring);
    let reach_per_1000 = match (first_supplies_to_people_at_risk, population) {
        (Some(first), Some(population)) if population > 0 => {
            Some((first as f64 * 1000.0 / f64::from(population) * 10.0).round() / 10.0)
        }
        _ => None,
    };
    Ok(Summary {
        from: filter.from,
        to: filter.to,
        area_id: area,
        kits: kits[0],
        doses: kits[1],
        first_supplies: kits[2],
        first_supplies_to_people_at_risk,
        reversal_reports: reversals[0],
        survived: reversals[1],
        died: reversals[2],
        unknown_outcome: reversals[3],
        training_sessions: trainings[0],
        people_trained: trainings[1],
        certificates_issued: trainings[2],
        active_certified_peers,
        certificates_expiring_within_90_days: expiring,
        population_at_risk: population,
        reach_per_1000,
        disclosure_threshold: threshold,
        suppressed,
    })
}

/// The headline figures within the caller's scope.
pub async fn summary(
    db: &Database,
    principal: Principal,
    threshold: i64,
    filter: SummaryFilter,
) -> Result<Summary, Error> {
    Viewer::may_ask(&principal)?;
    for (name, date) in [("from", filter.from), ("to", filter.to)] {
        date.map(|d| super::within_calendar(name, d)).transpose()?;
    }
    if let (Some(from), Some(to)) = (filter.from, filter.to) {
        if from > to {
            return Err(Error::bad_query("from: must not be after to"));
        }
    }
    super::for_viewer(db, principal, threshold, move |conn, viewer| compute(conn, viewer, filter)).await
}
