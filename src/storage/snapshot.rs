//! A consistent copy of a SQLite database while the server writes to it.

use std::path::Path;

use diesel::prelude::*;
use diesel::sql_types::Text;

use super::error::{Error, Result};

/// Copies the SQLite database at `database` into a new file `into`:
/// `VACUUM INTO` reads one snapshot of it (the WAL lets writers go on) and
/// writes every committed row as of that moment, compacted.
pub fn copy_sqlite(database: &Path, into: &Path) -> Result<()> {
    let mut conn = SqliteConnection::establish(&database.to_string_lossy())
        .map_err(|e| Error::Fault(format!("opening {}: {e}", database.display())))?;
    diesel::sql_query("PRAGMA busy_timeout = 10000").execute(&mut conn)?;
    diesel::sql_query("VACUUM INTO ?").bind::<Text, _>(into.to_string_lossy().into_owned()).execute(&mut conn)?;
    Ok(())
}
