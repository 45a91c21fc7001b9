//! The columns of each kind of file: named like the API's fields, with a
//! few that name things the way a spreadsheet does (an area or product by
//! its name, a batch by its lot number, people by email), and how a cell's
//! text becomes the field's JSON value.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde_json::Value;

/// The kind of records a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    Handouts,
    Reversals,
    Trainings,
}

impl Kind {
    pub fn singular(self) -> &'static str {
        match self {
            Kind::Handouts => "handout",
            Kind::Reversals => "reversal report",
            Kind::Trainings => "training",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Handouts => "handouts",
            Kind::Reversals => "reversals",
            Kind::Trainings => "trainings",
        }
    }
}

/// What a cell holds, and so how it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// Passed on as text.
    Text,
    /// A word of a closed list: `Family or friend` is read as `family_or_friend`.
    Word,
    Integer,
    Boolean,
    /// A moment: RFC 3339, a date and time without offset (UTC), or a date alone (noon UTC).
    Instant,
    /// A date: `2024-05-01` or `01/05/2024` (day first).
    Day,
    /// A record's id.
    Id,
    /// An area by its name.
    AreaName,
    /// A product by its name.
    ProductName,
    /// A batch of the organisation by its lot number.
    BatchLot,
    /// The person the record is made as (its peer or trainer), by email.
    Author,
    /// People by email, separated by `;`.
    People,
}

/// One column a file may have.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub header: &'static str,
    /// The API field it fills.
    pub field: &'static str,
    pub cell: Cell,
}

const fn column(header: &'static str, field: &'static str, cell: Cell) -> Column {
    Column { header, field, cell }
}

const fn same(header: &'static str, cell: Cell) -> Column {
    Column { header, field: header, cell }
}

const HANDOUTS: &[Column] = &[
    same("id", Cell::Id),
    column("peer_email", "", Cell::Author),
    same("issued_at", Cell::Instant),
    same("area_id", Cell::Id),
    column("area", "area_id", Cell::AreaName),
    same("postcode_district", Cell::Text),
    same("setting", Cell::Word),
    same("product_id", Cell::Id),
    column("product", "product_id", Cell::ProductName),
    same("batch_id", Cell::Id),
    column("batch", "batch_id", Cell::BatchLot),
    same("quantity", Cell::Integer),
    same("recipient_type", Cell::Word),
    same("consent_recorded", Cell::Boolean),
    same("supply", Cell::Word),
    same("repeat_reason", Cell::Word),
    same("brief_training_given", Cell::Boolean),
    same("recipient_code", Cell::Text),
    same("age_band", Cell::Word),
    same("gender", Cell::Word),
];

const REVERSALS: &[Column] = &[
    same("id", Cell::Id),
    column("peer_email", "", Cell::Author),
    same("occurred_at", Cell::Instant),
    same("area_id", Cell::Id),
    column("area", "area_id", Cell::AreaName),
    same("postcode_district", Cell::Text),
    same("place", Cell::Word),
    same("administered_by", Cell::Word),
    same("product_id", Cell::Id),
    column("product", "product_id", Cell::ProductName),
    same("doses", Cell::Integer),
    same("emergency_services_called", Cell::Word),
    same("ambulance_attended", Cell::Word),
    same("rescue_breaths_or_cpr", Cell::Word),
    same("outcome", Cell::Word),
    same("age_band", Cell::Word),
    same("gender", Cell::Word),
    same("kit_issue_id", Cell::Id),
];

const TRAININGS: &[Column] = &[
    same("id", Cell::Id),
    column("trainer_email", "", Cell::Author),
    same("delivered_on", Cell::Day),
    same("kind", Cell::Word),
    same("setting", Cell::Word),
    column("attendee_emails", "attendee_ids", Cell::People),
    same("anonymous_attendees", Cell::Integer),
    same("kits_handed_out", Cell::Integer),
];

/// The columns a file of this kind may have.
pub fn of(kind: Kind) -> &'static [Column] {
    match kind {
        Kind::Handouts => HANDOUTS,
        Kind::Reversals => REVERSALS,
        Kind::Trainings => TRAININGS,
    }
}

/// The file's columns, in its order; refused when a header is unknown or
/// repeated, two headers fill the same field, or the author's is missing.
/// A misspelt header refused here is data that would otherwise be dropped.
pub fn read_headers(kind: Kind, headers: &[String]) -> Result<Vec<Column>, String> {
    let known = of(kind);
    let mut columns: Vec<Column> = Vec::with_capacity(headers.len());
    for header in headers {
        let name = header.trim().to_lowercase();
        let Some(found) = known.iter().find(|c| c.header == name) else {
            let names: Vec<&str> = known.iter().map(|c| c.header).collect();
            return Err(format!(
                "unknown column `{header}`: a {} file has the columns {}",
                kind.singular(),
                names.join(", ")
            ));
        };
        if let Some(other) = columns.iter().find(|c| c.header == found.header) {
            return Err(format!("the column `{}` appears twice", other.header));
        }
        if let Some(other) = columns.iter().find(|c| !c.field.is_empty() && c.field == found.field) {
            return Err(format!(
                "give `{}` or `{}`, not both: each fills `{}`",
                other.header, found.header, found.field
            ));
        }
        columns.push(*found);
    }
    if let Some(author) = known.iter().find(|c| c.cell == Cell::Author) {
        if !columns.iter().any(|c| c.cell == Cell::Author) {
            return Err(format!("the column `{}` is missing: it names who made each record", author.header));
        }
    }
    Ok(columns)
}

/// The JSON value of a cell that needs nothing from the database, or what
/// is wrong with it.
pub fn value(cell: Cell, text: &str) -> Result<Value, &'static str> {
    match cell {
        Cell::Text | Cell::Id => Ok(Value::String(text.to_owned())),
        Cell::Word => Ok(Value::String(text.to_lowercase().replace([' ', '-'], "_"))),
        Cell::Integer => text.parse::<i64>().map(Value::from).map_err(|_| "must be a whole number"),
        Cell::Boolean => match text.to_lowercase().as_str() {
            "true" | "yes" | "y" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "n" | "0" => Ok(Value::Bool(false)),
            _ => Err("must be yes or no (or true or false)"),
        },
        Cell::Instant => instant(text)
            .map(|at| Value::String(at.to_rfc3339()))
            .ok_or("must be a date, or a date and time (RFC 3339)"),
        Cell::Day => day(text).map(|d| Value::String(d.to_string())).ok_or("must be a date: 2024-05-01 or 01/05/2024"),
        Cell::AreaName | Cell::ProductName | Cell::BatchLot | Cell::Author | Cell::People => {
            Err("is named, not read: the importer looks it up")
        }
    }
}

fn day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y")).ok()
}

/// A date alone is taken at noon UTC, which is the same day in Britain all year.
fn instant(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M"] {
        if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
            return Some(at.and_utc());
        }
    }
    day(text).map(|d| d.and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap_or_default()).and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn headers_are_checked_before_any_row() {
        let read = read_headers(Kind::Handouts, &headers(&["Peer_Email", "issued_at", "quantity"])).unwrap();
        assert_eq!(read.iter().map(|c| c.field).collect::<Vec<_>>(), ["", "issued_at", "quantity"]);
        let typo = read_headers(Kind::Handouts, &headers(&["peer_email", "quantitty"])).unwrap_err();
        assert!(typo.contains("unknown column `quantitty`"), "{typo}");
        let both = read_headers(Kind::Handouts, &headers(&["peer_email", "area", "area_id"])).unwrap_err();
        assert!(both.contains("give `area` or `area_id`, not both"), "{both}");
        let twice = read_headers(Kind::Trainings, &headers(&["trainer_email", "kind", "kind"])).unwrap_err();
        assert!(twice.contains("appears twice"), "{twice}");
        let nobody = read_headers(Kind::Reversals, &headers(&["occurred_at"])).unwrap_err();
        assert!(nobody.contains("`peer_email` is missing"), "{nobody}");
    }

    #[test]
    fn cells_are_read_the_way_spreadsheets_write_them() {
        assert_eq!(value(Cell::Word, "Person at risk"), Ok(Value::from("person_at_risk")));
        assert_eq!(value(Cell::Word, "Hub drop-in"), Ok(Value::from("hub_drop_in")));
        assert_eq!(value(Cell::Boolean, "Yes"), Ok(Value::Bool(true)));
        assert_eq!(value(Cell::Boolean, "0"), Ok(Value::Bool(false)));
        assert!(value(Cell::Boolean, "maybe").is_err());
        assert_eq!(value(Cell::Integer, "12"), Ok(Value::from(12)));
        assert!(value(Cell::Integer, "1.5").is_err());
        assert_eq!(value(Cell::Day, "01/05/2024"), Ok(Value::from("2024-05-01")));
        assert_eq!(value(Cell::Instant, "2024-05-01"), Ok(Value::from("2024-05-01T12:00:00+00:00")));
        assert_eq!(value(Cell::Instant, "2024-07-01T14:30:00+01:00"), Ok(Value::from("2024-07-01T13:30:00+00:00")));
        assert_eq!(value(Cell::Instant, "01/05/2024 09:15"), Ok(Value::from("2024-05-01T09:15:00+00:00")));
        assert!(value(Cell::Instant, "May the first").is_err());
    }
}
