//! Statistics for commissioners, coordinators and admins: counts of
//! handouts, reversal reports and trainings by any breakdown, read from
//! running totals (storage's `stat_cells`, kept by [`counting`]) so that
//! the cost of a query does not grow with the years of records behind it.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::error::Error;
use super::principal::Principal;
use crate::model::ids::{AreaId, OrganisationId};
use crate::model::roles::Role;
use crate::storage::stat_cells::{self, earliest, latest, CellQuery, Counts, Rollup};
use crate::storage::{Database, DbConnection};

pub mod counting;
mod disclosure;
pub mod period;
pub mod spikes;
pub mod summary;

pub use crate::model::stats::{Dimension, Subject};
use period::Grain;

/// How counts of a subject depend on each other within a row.
fn relations(subject: Subject) -> &'static disclosure::Relations {
    match subject {
        // Doses are kits times the product's doses: hidden with the kits.
        Subject::KitIssues => &disclosure::Relations { linked: &[&[0, 1]], sums: &[] },
        // Reports are the sum of the three outcomes.
        Subject::Reversals => &disclosure::Relations { linked: &[], sums: &[(0, &[1, 2, 3])] },
        Subject::Trainings => &disclosure::Relations { linked: &[], sums: &[] },
    }
}

/// A statistics query as asked.
#[derive(Debug, Default)]
pub struct Request {
    pub grain: Option<Grain>,
    pub dimensions: Vec<Dimension>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub filters: Vec<(Dimension, String)>,
}

fn invalid(detail: impl Into<String>) -> Error {
    Error::bad_query(detail)
}

fn parse_date(name: &str, text: &str) -> Result<NaiveDate, Error> {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| invalid(format!("{name}: expected a date as YYYY-MM-DD")))?;
    within_calendar(name, date)
}

/// A query's date must lie in the years both databases can compare: 1 to 9999.
pub fn within_calendar(name: &str, date: NaiveDate) -> Result<NaiveDate, Error> {
    if (earliest()..=latest()).contains(&date) {
        Ok(date)
    } else {
        Err(invalid(format!("{name}: must be a date from year 1 to 9999")))
    }
}

/// Checks a filter value: an id must be a UUID, anything else one of its dimension's values.
fn parse_filter(dimension: Dimension, text: &str) -> Result<String, Error> {
    match dimension.values() {
        None => uuid::Uuid::parse_str(text)
            .map(|id| id.to_string())
            .map_err(|_| invalid(format!("{}: expected a UUID", dimension.field()))),
        Some(values) if values.contains(&text) => Ok(text.to_owned()),
        Some(values) => Err(invalid(format!("{}: expected one of {}", dimension.field(), values.join(", ")))),
    }
}

impl Request {
    /// Reads a query string: `from`, `to`, `group_by` (comma separated)
    /// and a filter per dimension of the subject. Anything else
    /// is refused, so that a misspelt filter never widens an answer.
    pub fn parse(subject: Subject, query: &str) -> Result<Request, Error> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).map_err(|e| invalid(e.to_string()))?;
        let dimensions = subject.dimensions();
        let mut request = Request::default();
        let mut seen = Vec::new();
        for (name, value) in &pairs {
            if seen.contains(&name) {
                return Err(invalid(format!("{name}: give it once")));
            }
            seen.push(name);
            match name.as_str() {
                "from" => request.from = Some(parse_date(name, value)?),
                "to" => request.to = Some(parse_date(name, value)?),
                "group_by" => request.parse_group_by(&dimensions, value)?,
                _ => {
                    let dimension = dimensions
                        .iter()
                        .copied()
                        .find(|d| d.field() == name)
                        .ok_or_else(|| invalid(format!("unknown parameter {name}")))?;
                    request.filters.push((dimension, parse_filter(dimension, value)?));
                }
            }
        }
        if let (Some(from), Some(to)) = (request.from, request.to) {
            if from > to {
                return Err(invalid("from: must not be after to"));
            }
        }
        Ok(request)
    }

    fn parse_group_by(&mut self, dimensions: &[Dimension], text: &str) -> Result<(), Error> {
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if let Some(grain) = Grain::parse(part) {
                if self.grain.is_some() {
                    return Err(invalid("group_by: one period at most (day, week, month, quarter or year)"));
                }
                self.grain = Some(grain);
                continue;
            }
            let dimension =
                dimensions.iter().copied().find(|d| d.name() == part || d.field() == part).ok_or_else(|| {
                    let mut names: Vec<&str> = Grain::ALL.iter().map(|g| g.name()).collect();
                    names.extend(dimensions.iter().map(|d| d.name()));
                    invalid(format!("group_by: {part} is not one of {}", names.join(", ")))
                })?;
            if self.dimensions.contains(&dimension) {
                return Err(invalid(format!("group_by: {part} is named twice")));
            }
            self.dimensions.push(dimension);
        }
        Ok(())
    }

    fn filter(&self, dimension: Dimension) -> Option<&str> {
        self.filters.iter().find(|(d, _)| *d == dimension).map(|(_, v)| v.as_str())
    }
}

/// What the caller may see, and whether small counts are hidden from them.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub scope: Scope,
    /// `Some(threshold)` for commissioners: counts below it are suppressed.
    pub threshold: Option<i64>,
}

#[derive(Debug, Clone)]
pub enum Scope {
    All,
    Organisation(OrganisationId),
    /// A commissioner's area and every area beneath it.
    Areas {
        root: AreaId,
        areas: Vec<AreaId>,
    },
}

impl Viewer {
    /// Admins see everything exactly, coordinators their organisation
    /// exactly, commissioners their area with small counts suppressed;
    /// peers and trainers see no statistics.
    pub fn of(conn: &mut DbConnection, principal: &Principal, threshold: i64) -> Result<Viewer, Error> {
        let exact = |scope| Ok(Viewer { scope, threshold: None });
        if principal.is_admin() {
            return exact(Scope::All);
        }
        if let (true, Some(organisation)) = (principal.has(Role::Coordinator), &principal.organisation_id) {
            return exact(Scope::Organisation(organisation.clone()));
        }
        if let (true, Some(area)) = (principal.has(Role::Commissioner), &principal.area_id) {
            let areas = super::areas::with_descendants(conn, area)?;
            return Ok(Viewer { scope: Scope::Areas { root: area.clone(), areas }, threshold: Some(threshold) });
        }
        Err(Error::forbidden("statistics are for commissioners, coordinators and admins"))
    }

    /// The checks that need no database, so a peer is refused before any query.
    pub fn may_ask(principal: &Principal) -> Result<(), Error> {
        principal.require_any(&[Role::Admin, Role::Coordinator, Role::Commissioner])
    }

    /// The areas a query is limited to (`None`: all), after an `area_id` filter,
    /// which takes in the areas beneath the one named.
    pub fn areas(&self, conn: &mut DbConnection, filter: Option<&str>) -> Result<Option<Vec<AreaId>>, Error> {
        let Some(area) = filter else {
            return Ok(match &self.scope {
                Scope::Areas { areas, .. } => Some(areas.clone()),
                _ => None,
            });
        };
        if let Scope::Areas { areas, .. } = &self.scope {
            if !areas.iter().any(|a| a.as_str() == area) {
                return Err(Error::forbidden("that area is outside yours"));
            }
        }
        let area = AreaId::parse(area).ok_or_else(|| invalid("area_id: expected a UUID"))?;
        Ok(Some(super::areas::with_descendants(conn, &area)?))
    }

    /// The organisation a query is limited to, after an `organisation_id` filter.
    pub fn organisation<'a>(&'a self, filter: Option<&'a str>) -> Result<Option<&'a str>, Error> {
        match (&self.scope, filter) {
            (Scope::Organisation(own), Some(asked)) if own.as_str() != asked => {
                Err(Error::forbidden("coordinators see their own organisation's statistics"))
            }
            (Scope::Organisation(own), _) => Ok(Some(own.as_str())),
            (_, asked) => Ok(asked),
        }
    }
}

/// A row of a statistics table: its group keys, in the order of the
/// table's columns, and its counts (`None`: suppressed).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub keys: Vec<Option<String>>,
    pub counts: Vec<Option<i64>>,
}

#[derive(Debug)]
pub struct Table {
    pub subject: Subject,
    pub request: Request,
    /// The group keys' names (`period`, `area_id`, …).
    pub columns: Vec<&'static str>,
    pub rows: Vec<Row>,
    pub totals: Row,
    pub threshold: Option<i64>,
}

/// Adds counts into a group.
fn add(into: &mut Counts, counts: &Counts) {
    for (total, count) in into.iter_mut().zip(counts) {
        *total += count;
    }
}

/// Answers a statistics query within what the viewer may see.
pub fn table(conn: &mut DbConnection, subject: Subject, request: Request, viewer: &Viewer) -> Result<Table, Error> {
    let groups = exact_counts(conn, subject, &request, viewer)?;
    let width = subject.counts().len();
    let mut totals = [0; stat_cells::COUNTS];
    for counts in groups.values() {
        add(&mut totals, counts);
    }
    let values: Vec<Vec<i64>> = groups.values().map(|c| c[..width].to_vec()).collect();
    let hidden = match viewer.threshold {
        Some(threshold) => disclosure::suppress(&values, &totals[..width], relations(subject), threshold),
        None => disclosure::Hidden { rows: vec![vec![false; width]; values.len()], totals: vec![false; width] },
    };
    let shown = |values: &[i64], hidden: &[bool]| -> Vec<Option<i64>> {
        values.iter().zip(hidden).map(|(v, h)| (!h).then_some(*v)).collect()
    };
    let rows = groups
        .keys()
        .zip(&values)
        .zip(&hidden.rows)
        .map(|((keys, values), hidden)| Row { keys: keys.clone(), counts: shown(values, hidden) })
        .collect();
    let mut columns: Vec<&'static str> = request.grain.map(|_| "period").into_iter().collect();
    columns.extend(request.dimensions.iter().map(|d| d.field()));
    Ok(Table {
        subject,
        columns,
        rows,
        totals: Row { keys: Vec::new(), counts: shown(&totals[..width], &hidden.totals) },
        threshold: viewer.threshold,
        request,
    })
}

/// The exact counts of each group with anything in it, in key order.
pub fn exact_counts(
    conn: &mut DbConnection,
    subject: Subject,
    request: &Request,
    viewer: &Viewer,
) -> Result<BTreeMap<Vec<Option<String>>, Counts>, Error> {
    let areas = viewer.areas(conn, request.filter(Dimension::Area))?;
    let mut filters: Vec<(Dimension, String)> = request
        .filters
        .iter()
        .filter(|(d, _)| !matches!(d, Dimension::Area | Dimension::Organisation))
        .cloned()
        .collect();
    if let Some(organisation) = viewer.organisation(request.filter(Dimension::Organisation))? {
        filters.push((Dimension::Organisation, organisation.to_owned()));
    }
    let detail = request.dimensions.iter().chain(filters.iter().map(|(d, _)| d)).any(|d| !d.in_area_rollups());
    let months_allowed = request.grain.is_none_or(Grain::spans_months);
    let mut groups: BTreeMap<Vec<Option<String>>, Counts> = BTreeMap::new();
    let (from, to) = (request.from.unwrap_or_else(earliest), request.to.unwrap_or_else(latest));
    for segment in period::segments(from, to, months_allowed) {
        let query = CellQuery {
            subject,
            rollup: Rollup::of(segment.by_month, detail),
            buckets: (segment.first, segment.last),
            areas: areas.clone(),
            filters: filters.clone(),
        };
        for (cell, counts) in stat_cells::read(conn, &query)? {
            let mut key: Vec<Option<String>> = request.grain.map(|g| Some(g.label(cell.bucket))).into_iter().collect();
            key.extend(request.dimensions.iter().map(|d| cell.value(*d).map(str::to_owned)));
            add(groups.entry(key).or_default(), &counts);
        }
    }
    // A group whose records were all voided or moved away has nothing to show.
    groups.retain(|_, counts| counts.iter().any(|c| *c != 0));
    Ok(groups)
}

impl Table {
    fn count_names(&self) -> &'static [&'static str] {
        self.subject.counts()
    }

    fn suppressed(&self, row: &Row) -> Vec<&'static str> {
        self.count_names().iter().zip(&row.counts).filter(|(_, c)| c.is_none()).map(|(n, _)| *n).collect()
    }

    fn row_json(&self, row: &Row) -> serde_json::Value {
        let mut object = serde_json::Map::new();
        for (name, key) in self.columns.iter().zip(&row.keys) {
            object.insert((*name).to_owned(), key.clone().into());
        }
        for (name, count) in self.count_names().iter().zip(&row.counts) {
            object.insert((*name).to_owned(), (*count).into());
        }
        object.insert("suppressed".to_owned(), self.suppressed(row).into());
        object.into()
    }

    pub fn to_json(&self) -> serde_json::Value {
        let mut group_by: Vec<&str> = self.request.grain.map(Grain::name).into_iter().collect();
        group_by.extend(self.request.dimensions.iter().map(|d| d.name()));
        serde_json::json!({
            "from": self.request.from,
            "to": self.request.to,
            "group_by": group_by,
            "disclosure_threshold": self.threshold,
            "rows": self.rows.iter().map(|r| self.row_json(r)).collect::<Vec<_>>(),
            "totals": self.row_json(&self.totals),
        })
    }

    /// The rows as CSV with a header row; a suppressed count is `c`.
    pub fn to_csv(&self) -> String {
        let mut header: Vec<&str> = self.columns.clone();
        header.extend(self.count_names());
        let mut out = header.join(",");
        out.push_str("\r\n");
        for row in &self.rows {
            let keys = row.keys.iter().map(|k| csv_field(k.as_deref().unwrap_or("")));
            let counts = row.counts.iter().map(|c| c.map_or_else(|| "c".to_owned(), |v| v.to_string()));
            out.push_str(&keys.chain(counts).collect::<Vec<_>>().join(","));
            out.push_str("\r\n");
        }
        out
    }
}

/// A CSV field, quoted when it holds a comma, quote or line break (RFC 4180).
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// Runs a statistics read for the caller: peers and trainers are refused
/// before any query; everyone else gets what their scope allows, with
/// counts below `threshold` hidden from commissioners.
pub async fn for_viewer<T, F>(db: &Database, principal: Principal, threshold: i64, work: F) -> Result<T, Error>
where
    F: FnOnce(&mut DbConnection, &Viewer) -> Result<T, Error> + Send + 'static,
    T: Send + 'static,
{
    Viewer::may_ask(&principal)?;
    db.run(move |conn| {
        let viewer = Viewer::of(conn, &principal, threshold)?;
        work(conn, &viewer)
    })
    .await
}

/// Answers a statistics table query (`query` is the query string as sent).
pub async fn answer(
    db: &Database,
    principal: Principal,
    threshold: i64,
    subject: Subject,
    query: &str,
) -> Result<Table, Error> {
    Viewer::may_ask(&principal)?;
    let request = Request::parse(subject, query)?;
    for_viewer(db, principal, threshold, move |conn, viewer| table(conn, subject, request, viewer)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_names_its_groups_and_filters() {
        let request =
            Request::parse(Subject::KitIssues, "group_by=month,area,setting&from=2025-01-01&setting=outreach").unwrap();
        assert_eq!(request.grain, Some(Grain::Month));
        assert_eq!(request.dimensions, vec![Dimension::Area, Dimension::Setting]);
        assert_eq!(request.filters, vec![(Dimension::Setting, "outreach".to_owned())]);
    }

    #[test]
    fn a_bad_query_is_refused() {
        for query in [
            "group_by=month,week",
            "group_by=outcome",
            "group_by=area,area",
            "setting=pub",
            "area_id=not-a-uuid",
            "from=2025-13-01",
            "from=2025-02-01&to=2025-01-01",
            "colour=red",
            "format=csv",
            "from=2025-01-01&from=2025-01-02",
            "to=-262143-01-01",
            "from=+10000-01-01",
        ] {
            let error = Request::parse(Subject::KitIssues, query).unwrap_err();
            assert!(matches!(error, Error::BadRequest { .. }), "{query}");
        }
        assert!(Request::parse(Subject::Trainings, "product_id=0194f0a0-0000-7000-8000-000000000001").is_err());
        assert!(Request::parse(Subject::Reversals, "group_by=outcome,place").is_ok());
    }

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("outreach"), "outreach");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
