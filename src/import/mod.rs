//! `naloxone-tracker import`: a hub's earlier records (handouts, reversal
//! reports, trainings) from a CSV file into one organisation. Each row is
//! turned into the body the API takes and judged by the same code as a
//! phone's sync (`domain::sync`): the same rules, held records for rows
//! that break a rule about the world, one transaction per batch of rows.
//! A row's id is its `id` cell or is derived from the row itself, so
//! importing a file again stores nothing twice. A dry run judges the whole
//! file in one transaction and rolls it back.

pub mod columns;
mod directory;

use std::collections::HashMap;
use std::path::Path;

use indicatif::ProgressBar;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use uuid::Uuid;

pub use self::columns::Kind;
use self::columns::{Cell, Column};
use self::directory::Directory;
use crate::domain::error::{Error, FieldError};
use crate::domain::principal::Principal;
use crate::domain::records::Submission;
use crate::domain::sync::{self, Judged, Judgements, Queue, SyncRequest};
use crate::domain::transaction;
use crate::model::records::HeldReasons;
use crate::storage::organisations::Organisation;
use crate::storage::{self as store, Database};

/// Ids derived from rows live under this namespace (UUID version 5), with
/// the organisation and kind in the name: the same row imported into
/// another organisation is another record.
const ROW_NAMESPACE: Uuid = Uuid::from_u128(0x6e61_6c6f_786f_6e65_8000_696d_706f_7274);

/// A file read: its columns, and its rows with their line numbers.
pub struct Table {
    kind: Kind,
    columns: Vec<Column>,
    rows: Vec<(u64, Vec<String>)>,
}

impl Table {
    /// Reads a CSV file (UTF-8, comma-separated, a header row); refuses an
    /// unknown or missing column before any row is looked at.
    pub fn read(kind: Kind, path: &Path) -> anyhow::Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        Self::from_reader(kind, file).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    pub fn from_reader(kind: Kind, mut reader: impl std::io::Read) -> anyhow::Result<Self> {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes)?;
        let mut csv = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(bytes.as_slice());
        let headers: Vec<String> =
            csv.headers().map_err(|e| read_error(&bytes, e))?.iter().map(str::to_owned).collect();
        let columns = columns::read_headers(kind, &headers).map_err(anyhow::Error::msg)?;
        let mut rows = Vec::new();
        for record in csv.records() {
            let record = record.map_err(|e| read_error(&bytes, e))?;
            if record.iter().all(str::is_empty) {
                continue;
            }
            let line = line_of(&bytes, record.position());
            rows.push((line, record.iter().map(str::to_owned).collect()));
        }
        Ok(Table { kind, columns, rows })
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// The line a record is on, counted in the file's bytes: csv's record
/// position is where it started reading, before any blank lines (and, with
/// Windows line ends, before the previous line's end), so its line number
/// runs behind.
fn line_of(bytes: &[u8], position: Option<&csv::Position>) -> u64 {
    let from = position.map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX)).min(bytes.len());
    let blank = bytes[from..].iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
    1 + bytes[..from + blank].iter().filter(|&&b| b == b'\n').count() as u64
}

fn read_error(bytes: &[u8], error: csv::Error) -> anyhow::Error {
    let line = error.position().map(|p| format!("line {}: ", line_of(bytes, Some(p)))).unwrap_or_default();
    match error.kind() {
        csv::ErrorKind::Utf8 { .. } => {
            anyhow::anyhow!("{line}the file is not UTF-8 text: save it as \"CSV UTF-8\"")
        }
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            anyhow::anyhow!("{line}{len} cells where the header has {expected_len}")
        }
        _ => anyhow::anyhow!("{line}{error}"),
    }
}

/// What became (or, in a dry run, would become) of one row.
#[derive(Debug)]
pub enum Outcome {
    Created {
        id: String,
    },
    Held {
        id: String,
        reasons: HeldReasons,
    },
    /// Imported before: nothing new.
    Duplicate {
        id: String,
    },
    /// Not stored, and why: invalid fields, or a rule that refuses it.
    Refused(Error),
}

#[derive(Debug)]
pub struct Row {
    pub line: u64,
    pub outcome: Outcome,
}

#[derive(Debug, Default)]
pub struct Report {
    pub rows: Vec<Row>,
}

impl Report {
    /// Created, held, duplicate and refused rows.
    pub fn counts(&self) -> [usize; 4] {
        let mut counts = [0; 4];
        for row in &self.rows {
            counts[match row.outcome {
                Outcome::Created { .. } => 0,
                Outcome::Held { .. } => 1,
                Outcome::Duplicate { .. } => 2,
                Outcome::Refused(_) => 3,
            }] += 1;
        }
        counts
    }
}

/// Rows of one author, sent together as one queue.
struct Batch {
    principal: Principal,
    /// Index in the report of each row, and its body.
    rows: Vec<(usize, Box<RawValue>)>,
}

impl Batch {
    fn queue(&self, kind: Kind) -> SyncRequest {
        let bodies: Vec<Box<RawValue>> = self.rows.iter().map(|(_, body)| body.clone()).collect();
        let mut request = SyncRequest { kit_issues: Vec::new(), reversals: Vec::new(), trainings: Vec::new() };
        match kind {
            Kind::Handouts => request.kit_issues = bodies,
            Kind::Reversals => request.reversals = bodies,
            Kind::Trainings => request.trainings = bodies,
        }
        request
    }
}

/// The organisation named by its id or its name (case aside).
fn find_organisation(all: Vec<Organisation>, named: &str) -> anyhow::Result<Organisation> {
    let mut found: Vec<Organisation> =
        all.into_iter().filter(|o| o.id.as_str() == named || o.name.eq_ignore_ascii_case(named)).collect();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => anyhow::bail!("no organisation is called \"{named}\" (give its name or id)"),
        n => anyhow::bail!("{n} organisations are called \"{named}\": give its id"),
    }
}

/// Imports (or, with `dry_run`, judges and rolls back) a file's rows into
/// the organisation, as the people the rows name. `source` names the file
/// in the audit log; `progress` counts rows judged.
pub async fn import(
    db: &Database,
    key: Vec<u8>,
    organisation: &str,
    table: Table,
    source: &str,
    dry_run: bool,
    progress: &ProgressBar,
) -> anyhow::Result<Report> {
    let named = organisation.to_owned();
    let source = source.to_owned();
    let (organisation, prepared) = db
        .run(move |conn| {
            let organisation = find_organisation(store::organisations::all(conn)?, &named)?;
            let prepared = prepare(conn, &organisation, &table, &source)?;
            anyhow::Ok((organisation, prepared))
        })
        .await?;
    let Prepared { kind, columns, lines } = prepared;
    let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(lines.len());
    let mut batches = Vec::new();
    for (index, (_, body)) in lines.iter().enumerate() {
        match body {
            Ok((principal, body)) => {
                outcomes.push(None);
                add_to_batches(&mut batches, principal.clone(), index, body.clone());
            }
            Err(error) => {
                progress.inc(1);
                outcomes.push(Some(Outcome::Refused(in_columns(error.clone(), &columns))));
            }
        }
    }
    tracing::debug!(organisation = %organisation.name, batches = batches.len(), "importing");
    let judged = if dry_run {
        rehearse(db, key, kind, batches, progress.clone()).await?
    } else {
        let mut judged = Vec::with_capacity(batches.len());
        for batch in batches {
            let request = batch.queue(kind);
            let outcome = match sync::sync(db, batch.principal.clone(), key.clone(), request).await {
                Err(error) if error.ends_the_call() => anyhow::bail!(
                    "the import stopped: {error}; the rows stored before it stay, and importing the file again stores only the rest"
                ),
                outcome => outcome,
            };
            progress.inc(batch.rows.len() as u64);
            judged.push((batch, outcome));
        }
        judged
    };
    for (batch, outcome) in judged {
        let indices = batch.rows.iter().map(|(index, _)| *index);
        match outcome {
            Ok(judgements) => {
                for (index, item) in indices.zip(of_kind(kind, judgements)) {
                    outcomes[index] = Some(outcome_of(item, &columns));
                }
            }
            Err(error) => {
                for index in indices {
                    outcomes[index] = Some(Outcome::Refused(error.clone()));
                }
            }
        }
    }
    let rows = lines
        .iter()
        .zip(outcomes)
        .map(|((line, _), outcome)| Row {
            line: *line,
            outcome: outcome.unwrap_or_else(|| Outcome::Refused(Error::internal("a row went unanswered"))),
        })
        .collect();
    Ok(Report { rows })
}

/// Every batch judged in one transaction that is then rolled back, so that
/// later rows see what earlier ones would have stored.
async fn rehearse(
    db: &Database,
    key: Vec<u8>,
    kind: Kind,
    batches: Vec<Batch>,
    progress: ProgressBar,
) -> anyhow::Result<Vec<(Batch, Result<Judgements, Error>)>> {
    let judged = transaction::rehearse(db, move |conn| {
        let mut judged = Vec::with_capacity(batches.len());
        for batch in batches {
            let outcome = Queue::read(&batch.principal, &key, batch.queue(kind))
                .and_then(|queue| sync::judge_queue(conn, &batch.principal, &key, &queue));
            if let Err(error) = &outcome {
                if error.ends_the_call() {
                    return Err(error.clone());
                }
            }
            progress.inc(batch.rows.len() as u64);
            judged.push((batch, outcome));
        }
        Ok(judged)
    })
    .await;
    judged.map_err(|error| anyhow::anyhow!("the dry run stopped: {error}"))
}

/// A row joins the last batch when it has the same author and room is left:
/// rows stay in the file's order, which first and repeat supplies depend on.
fn add_to_batches(batches: &mut Vec<Batch>, principal: Principal, index: usize, body: Box<RawValue>) {
    match batches.last_mut() {
        Some(last) if last.principal.user_id == principal.user_id && last.rows.len() < sync::MAX_ITEMS => {
            last.rows.push((index, body));
        }
        _ => batches.push(Batch { principal, rows: vec![(index, body)] }),
    }
}

fn of_kind(kind: Kind, judgements: Judgements) -> Vec<Judged> {
    match kind {
        Kind::Handouts => judgements.kit_issues,
        Kind::Reversals => judgements.reversals,
        Kind::Trainings => judgements.trainings,
    }
}

fn outcome_of(judged: Judged, columns: &[Column]) -> Outcome {
    match judged.outcome {
        Ok(Submission::Created(filed)) => Outcome::Created { id: filed.id },
        Ok(Submission::Held(filed)) => Outcome::Held { id: filed.id, reasons: filed.held_reasons },
        Ok(Submission::Duplicate(filed)) => Outcome::Duplicate { id: filed.id },
        Err(error) => Outcome::Refused(in_columns(error, columns)),
    }
}

/// A field error names the file's column: `area` where the file names
/// areas, though the API's field is `area_id`.
fn in_columns(error: Error, columns: &[Column]) -> Error {
    match error {
        Error::Invalid(errors) => Error::Invalid(
            errors
                .into_iter()
                .map(|mut e| {
                    if let Some(column) = columns.iter().find(|c| c.field == e.field) {
                        column.header.clone_into(&mut e.field);
                    }
                    e
                })
                .collect(),
        ),
        other => other,
    }
}

/// A row as the body the API takes and the person it is made as, or why it cannot be.
type RowBody = Result<(Principal, Box<RawValue>), Error>;

/// Each row as the body the API takes and the person it is made as.
struct Prepared {
    kind: Kind,
    columns: Vec<Column>,
    lines: Vec<(u64, RowBody)>,
}

fn prepare(
    conn: &mut store::DbConnection,
    organisation: &Organisation,
    table: &Table,
    source: &str,
) -> anyhow::Result<Prepared> {
    let mut directory = Directory::load(conn, organisation, source)?;
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut lines = Vec::with_capacity(table.rows.len());
    for (line, cells) in &table.rows {
        // The same row twice in a file is two records (two kits handed out alike).
        let canonical = canonical(&table.columns, cells);
        let occurrence = seen.entry(canonical.clone()).or_default();
        *occurrence += 1;
        let name = format!("{}\n{}\n{canonical}\n{occurrence}", organisation.id, table.kind.name());
        let derived = Uuid::new_v5(&ROW_NAMESPACE, name.as_bytes());
        lines.push((*line, body(conn, &mut directory, organisation, table, cells, derived)));
    }
    Ok(Prepared { kind: table.kind, columns: table.columns.clone(), lines })
}

/// A row's cells by column name, in a fixed order, empty ones left out:
/// what its derived id is made from.
fn canonical(columns: &[Column], cells: &[String]) -> String {
    let mut named: Vec<(&str, &str)> =
        columns.iter().zip(cells).filter(|(_, text)| !text.is_empty()).map(|(c, t)| (c.header, t.as_str())).collect();
    named.sort_unstable();
    named.iter().map(|(header, text)| format!("{header}={text}")).collect::<Vec<_>>().join("\u{1f}")
}

/// One row's body, or every field error it has.
fn body(
    conn: &mut store::DbConnection,
    directory: &mut Directory<'_>,
    organisation: &Organisation,
    table: &Table,
    cells: &[String],
    derived: Uuid,
) -> RowBody {
    let mut fields = Map::new();
    let mut author = None;
    let mut errors = Vec::new();
    fields.insert("id".into(), Value::String(derived.to_string()));
    if table.kind == Kind::Trainings {
        fields.insert("organisation_id".into(), Value::String(organisation.id.to_string()));
    }
    for (column, text) in table.columns.iter().zip(cells) {
        if text.is_empty() {
            continue;
        }
        let value = match column.cell {
            Cell::Author => match directory.author(conn, text) {
                Ok(principal) => {
                    author = Some(principal);
                    continue;
                }
                Err(message) => Err(message),
            },
            Cell::People => text
                .split(';')
                .map(str::trim)
                .filter(|email| !email.is_empty())
                .map(|email| directory.person(conn, email).map(|id| Value::String(id.to_string())))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Cell::AreaName => directory.area(text).map(Value::String),
            Cell::ProductName => directory.product(text).map(Value::String),
            Cell::BatchLot => directory.batch(conn, text).map(Value::String),
            cell => columns::value(cell, text).map_err(str::to_owned),
        };
        match value {
            Ok(value) => {
                fields.insert(column.field.to_owned(), value);
            }
            Err(message) => errors.push(FieldError::new(column.header, "import", message)),
        }
    }
    let Some(author) = author else {
        if let Some(column) = table.columns.iter().find(|c| c.cell == Cell::Author) {
            if errors.iter().all(|e| e.field != column.header) {
                errors.push(FieldError::new(column.header, "required", "who made the record is missing"));
            }
        }
        return Err(Error::invalid(errors));
    };
    if !errors.is_empty() {
        return Err(Error::invalid(errors));
    }
    let body = serde_json::value::to_raw_value(&fields).map_err(Error::internal)?;
    Ok((author, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_keep_the_line_they_are_on_whatever_the_line_ends() {
        for file in [
            "peer_email\n\na@x.org\nb@x.org\n",
            "peer_email\r\n\r\na@x.org\r\nb@x.org\r\n",
            "\u{feff}peer_email\r\n\r\na@x.org\r\nb@x.org",
        ] {
            let table = Table::from_reader(Kind::Handouts, file.as_bytes()).unwrap();
            let lines: Vec<u64> = table.rows.iter().map(|(line, _)| *line).collect();
            assert_eq!(lines, [3, 4], "{file:?}");
        }
    }
}
