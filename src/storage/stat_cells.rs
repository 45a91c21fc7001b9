//! The running totals behind the statistics (table `stat_cells`).
//!
//! A record adds its counts to a cell of each of four rollups: by day and
//! by month, each with every dimension of its subject (`detail`) and with
//! only its area (`area`: what commissioners' tables by period and area
//! read, a number of cells that stops growing once every area has records
//! every month). Writes collect what they add in [`Changes`] and store
//! them, in one fixed order, just before their transaction commits: a
//! correction takes the record's old contribution away and adds its new
//! one; a void takes it away. The fixed order keeps two PostgreSQL
//! transactions that touch the same cells from deadlocking. What a record
//! contributes is the domain's to say (`domain::stats::counting`).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;

use super::connection::DbConnection;
use super::error::Result;
use super::schema::stat_cells;
use crate::model::ids::AreaId;
use crate::model::stats::{Dimension, Subject};

/// The first and last days a bucket can hold: years 1 to 9999, what both
/// databases can compare.
pub fn earliest() -> NaiveDate {
    NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or(NaiveDate::MIN)
}

pub fn latest() -> NaiveDate {
    NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX)
}

/// The four rollups every record adds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rollup {
    DayDetail = 1,
    MonthDetail = 2,
    DayArea = 3,
    MonthArea = 4,
}

impl Rollup {
    pub const ALL: [Rollup; 4] = [Rollup::DayDetail, Rollup::MonthDetail, Rollup::DayArea, Rollup::MonthArea];

    pub fn of(by_month: bool, detail: bool) -> Rollup {
        match (by_month, detail) {
            (false, true) => Rollup::DayDetail,
            (true, true) => Rollup::MonthDetail,
            (false, false) => Rollup::DayArea,
            (true, false) => Rollup::MonthArea,
        }
    }

    fn by_month(self) -> bool {
        matches!(self, Rollup::MonthDetail | Rollup::MonthArea)
    }

    fn detail(self) -> bool {
        matches!(self, Rollup::DayDetail | Rollup::MonthDetail)
    }

    /// The bucket a day falls in.
    pub fn bucket(self, day: NaiveDate) -> NaiveDate {
        if self.by_month() {
            day.with_day(1).unwrap_or(day)
        } else {
            day
        }
    }
}

pub const COUNTS: usize = 5;
pub type Counts = [i64; COUNTS];

/// One cell's identity: every column of the primary key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellKey {
    pub subject: Subject,
    pub rollup: Rollup,
    pub bucket: NaiveDate,
    pub area_id: String,
    pub organisation_id: String,
    pub product_id: String,
    pub keys: [String; 4],
}

impl CellKey {
    /// The value this cell holds for a dimension (`None`: not recorded).
    pub fn value(&self, dimension: Dimension) -> Option<&str> {
        let text = match dimension {
            Dimension::Area => &self.area_id,
            Dimension::Organisation => &self.organisation_id,
            Dimension::Product => &self.product_id,
            other => self.subject.keys().iter().position(|d| *d == other).map_or("", |i| &self.keys[i]),
        };
        (!text.is_empty()).then_some(text)
    }
}

/// What one record adds to the totals, at the finest grain.
pub struct Contribution<'a> {
    pub subject: Subject,
    pub day: NaiveDate,
    pub area_id: &'a str,
    pub organisation_id: &'a str,
    pub product_id: &'a str,
    pub keys: [&'a str; 4],
    pub counts: Counts,
}

/// The changes a transaction makes to the totals, stored by [`Changes::store`].
#[derive(Debug, Default)]
pub struct Changes {
    cells: BTreeMap<CellKey, Counts>,
}

impl Changes {
    /// Adds (`sign` 1) or takes away (−1) a record's contribution, in every rollup.
    pub fn add(&mut self, c: Contribution<'_>, sign: i64) {
        for rollup in Rollup::ALL {
            let detail = rollup.detail();
            let blank_unless = |keep: bool, text: &str| if keep { text.to_owned() } else { String::new() };
            let key = CellKey {
                subject: c.subject,
                rollup,
                bucket: rollup.bucket(c.day),
                area_id: c.area_id.to_owned(),
                organisation_id: blank_unless(detail, c.organisation_id),
                product_id: blank_unless(detail, c.product_id),
                keys: c.keys.map(|k| blank_unless(detail, k)),
            };
            let cell = self.cells.entry(key).or_default();
            for (total, count) in cell.iter_mut().zip(c.counts) {
                *total += sign * count;
            }
        }
    }

    /// Folds in the changes of another part of the transaction (a sync item that was stored).
    pub fn merge(&mut self, other: Changes) {
        for (key, counts) in other.cells {
            let cell = self.cells.entry(key).or_default();
            for (total, count) in cell.iter_mut().zip(counts) {
                *total += count;
            }
        }
    }

    /// Stores the changes, cell by cell in key order.
    pub fn store(self, conn: &mut DbConnection) -> Result<()> {
        for (key, counts) in self.cells.into_iter().filter(|(_, counts)| counts.iter().any(|c| *c != 0)) {
            add_to_cell(conn, &key, counts)?;
        }
        Ok(())
    }
}

#[derive(Insertable)]
#[diesel(table_name = stat_cells)]
struct CellRow<'a> {
    subject: &'a str,
    rollup: i16,
    bucket: NaiveDate,
    area_id: &'a str,
    organisation_id: &'a str,
    product_id: &'a str,
    key_1: &'a str,
    key_2: &'a str,
    key_3: &'a str,
    key_4: &'a str,
    count_1: i64,
    count_2: i64,
    count_3: i64,
    count_4: i64,
    count_5: i64,
}

/// Adds to a cell, creating it if it is new (INSERT … ON CONFLICT, which
/// diesel offers per backend only).
fn add_to_cell(conn: &mut DbConnection, key: &CellKey, counts: Counts) -> Result<()> {
    use diesel::upsert::excluded;
    use stat_cells::dsl as c;
    let row = CellRow {
        subject: key.subject.table_name(),
        rollup: key.rollup as i16,
        bucket: key.bucket,
        area_id: &key.area_id,
        organisation_id: &key.organisation_id,
        product_id: &key.product_id,
        key_1: &key.keys[0],
        key_2: &key.keys[1],
        key_3: &key.keys[2],
        key_4: &key.keys[3],
        count_1: counts[0],
        count_2: counts[1],
        count_3: counts[2],
        count_4: counts[3],
        count_5: counts[4],
    };
    let statement = diesel::insert_into(c::stat_cells)
        .values(&row)
        .on_conflict((
            c::subject,
            c::rollup,
            c::bucket,
            c::area_id,
            c::organisation_id,
            c::product_id,
            c::key_1,
            c::key_2,
            c::key_3,
            c::key_4,
        ))
        .do_update()
        .set((
            c::count_1.eq(c::count_1 + excluded(c::count_1)),
            c::count_2.eq(c::count_2 + excluded(c::count_2)),
            c::count_3.eq(c::count_3 + excluded(c::count_3)),
            c::count_4.eq(c::count_4 + excluded(c::count_4)),
            c::count_5.eq(c::count_5 + excluded(c::count_5)),
        ));
    crate::on_each_backend!(conn, |backend| statement.execute(backend))?;
    Ok(())
}

/// Trainings count in their organisation's area: when it moves, its
/// sessions move with it. Its detail cells carry the organisation and move
/// as they are (none of them can be in the new area already: all are in
/// the old one); the area cells, which add up every organisation, lose
/// what the detail cells held and the new area gains it.
pub fn move_trainings(conn: &mut DbConnection, organisation_id: &str, area_id: &str) -> Result<()> {
    let mut changes = Changes::default();
    for rollup in [Rollup::DayDetail, Rollup::MonthDetail] {
        let query = CellQuery {
            subject: Subject::Trainings,
            rollup,
            buckets: (earliest(), latest()),
            areas: None,
            filters: vec![(Dimension::Organisation, organisation_id.to_owned())],
        };
        let area_rollup = Rollup::of(rollup.by_month(), false);
        for (cell, counts) in read(conn, &query)? {
            let area_cell = |area: &str| CellKey {
                subject: Subject::Trainings,
                rollup: area_rollup,
                bucket: cell.bucket,
                area_id: area.to_owned(),
                organisation_id: String::new(),
                product_id: String::new(),
                keys: Default::default(),
            };
            for (key, sign) in [(area_cell(&cell.area_id), -1), (area_cell(area_id), 1)] {
                let totals = changes.cells.entry(key).or_default();
                for (total, count) in totals.iter_mut().zip(counts) {
                    *total += sign * count;
                }
            }
        }
    }
    diesel::update(
        stat_cells::table
            .filter(stat_cells::subject.eq(Subject::Trainings.table_name()))
            .filter(stat_cells::organisation_id.eq(organisation_id)),
    )
    .set(stat_cells::area_id.eq(area_id))
    .execute(conn)?;
    changes.store(conn)
}

/// Which cells a query reads.
pub struct CellQuery {
    pub subject: Subject,
    pub rollup: Rollup,
    /// First and last bucket, both included.
    pub buckets: (NaiveDate, NaiveDate),
    /// `None`: every area.
    pub areas: Option<Vec<AreaId>>,
    pub filters: Vec<(Dimension, String)>,
}

type CellColumns = (NaiveDate, String, String, String, String, String, String, String, i64, i64, i64, i64, i64);

/// The cells a query asks for, with their counts.
pub fn read(conn: &mut DbConnection, query: &CellQuery) -> Result<Vec<(CellKey, Counts)>> {
    use stat_cells::dsl as c;
    let (first, last) = query.buckets;
    let mut select = c::stat_cells
        .filter(c::subject.eq(query.subject.table_name()))
        .filter(c::rollup.eq(query.rollup as i16))
        .filter(c::bucket.between(first, last))
        .select((
            c::bucket,
            c::area_id,
            c::organisation_id,
            c::product_id,
            c::key_1,
            c::key_2,
            c::key_3,
            c::key_4,
            c::count_1,
            c::count_2,
            c::count_3,
            c::count_4,
            c::count_5,
        ))
        .into_boxed();
    if let Some(areas) = &query.areas {
        select = select.filter(c::area_id.eq_any(areas));
    }
    for (dimension, value) in &query.filters {
        let slot = query.subject.keys().iter().position(|d| d == dimension);
        select = match (dimension, slot) {
            (Dimension::Area, _) => select.filter(c::area_id.eq(value)),
            (Dimension::Organisation, _) => select.filter(c::organisation_id.eq(value)),
            (Dimension::Product, _) => select.filter(c::product_id.eq(value)),
            (_, Some(0)) => select.filter(c::key_1.eq(value)),
            (_, Some(1)) => select.filter(c::key_2.eq(value)),
            (_, Some(2)) => select.filter(c::key_3.eq(value)),
            (_, Some(3)) => select.filter(c::key_4.eq(value)),
            _ => {
                return Err(super::error::Error::Fault(format!(
                    "{dimension:?} is not a dimension of {:?}",
                    query.subject
                )))
            }
        };
    }
    let rows: Vec<CellColumns> = select.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(bucket, area_id, organisation_id, product_id, k1, k2, k3, k4, c1, c2, c3, c4, c5)| {
            let key = CellKey {
                subject: query.subject,
                rollup: query.rollup,
                bucket,
                area_id,
                organisation_id,
                product_id,
                keys: [k1, k2, k3, k4],
            };
            (key, [c1, c2, c3, c4, c5])
        })
        .collect())
}
