//! Backups of a hub's data: the database (SQLite; PostgreSQL has
//! `pg_dump`) and the key files the data depends on (the recipient-code
//! key, without which first and repeat supply can no longer be told; the
//! certificate signing key, which checks the tokens phones hold; the token
//! secret), in one tar archive encrypted with a passphrase in the age
//! format (scrypt and ChaCha20-Poly1305, by the `age` crate), because it
//! holds health data. A restore makes a data folder from it.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use age::secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::auth::tokens::SECRET_FILE;
use super::certificates::signing::KEY_FILE;
use super::keys::RECIPIENT_CODE_KEY_FILE;
use crate::storage::connection::{Backend, DatabaseTarget};
use crate::storage::files::{create_private_dir, create_private_writer};
use crate::storage::snapshot::copy_sqlite;

/// The database's name in a backup and in a restored data folder (where
/// the server looks for it by default).
const DATABASE_FILE: &str = "naloxone.db";
const MANIFEST_FILE: &str = "manifest.json";
const KEY_FILES: [&str; 3] = [RECIPIENT_CODE_KEY_FILE, KEY_FILE, SECRET_FILE];
/// This layout of a backup.
const FORMAT: u32 = 1;

/// What a backup says of itself.
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: u32,
    made_at: chrono::DateTime<chrono::Utc>,
    /// Whether it holds the database (a SQLite one) or only the keys (PostgreSQL's go with `pg_dump`).
    database: bool,
    files: Vec<String>,
}

/// What went into a backup.
#[derive(Debug)]
pub struct Made {
    pub files: Vec<String>,
    /// Key files the data folder does not hold (given in the environment instead): keep those yourself.
    pub keys_not_in_folder: Vec<&'static str>,
    pub database: bool,
}

/// Writes an encrypted backup of `target` (when SQLite) and the key files
/// of `data_dir` to `output`, a new file readable by its owner only.
pub fn make(target: &DatabaseTarget, data_dir: &Path, output: &Path, passphrase: SecretString) -> anyhow::Result<Made> {
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    let mut keys_not_in_folder = Vec::new();
    for key in KEY_FILES {
        let path = data_dir.join(key);
        if path.exists() {
            files.push((key.to_owned(), path));
        } else {
            keys_not_in_folder.push(key);
        }
    }
    // The snapshot sits beside the output (same disk, same owner) until it is in the archive.
    let snapshot = output.with_file_name(format!(".{}.db-snapshot", uuid::Uuid::new_v4().simple()));
    let database = target.backend == Backend::Sqlite;
    if database {
        copy_sqlite(Path::new(&target.location), &snapshot)?;
        files.push((DATABASE_FILE.to_owned(), snapshot.clone()));
    }
    let written = write_archive(&files, database, output, passphrase);
    if database {
        let _ = std::fs::remove_file(&snapshot);
    }
    if written.is_err() {
        let _ = std::fs::remove_file(output);
    }
    written?;
    Ok(Made { files: files.into_iter().map(|(name, _)| name).collect(), keys_not_in_folder, database })
}

fn write_archive(
    files: &[(String, PathBuf)],
    database: bool,
    output: &Path,
    passphrase: SecretString,
) -> anyhow::Result<()> {
    let out = create_private_writer(output).map_err(|e| anyhow::anyhow!("{}: {e}", output.display()))?;
    let mut encrypted = age::Encryptor::with_user_passphrase(passphrase).wrap_output(out)?;
    {
        let mut archive = tar::Builder::new(&mut encrypted);
        let manifest = Manifest {
            format: FORMAT,
            made_at: chrono::Utc::now(),
            database,
            files: files.iter().map(|(name, _)| name.clone()).collect(),
        };
        let manifest = serde_json::to_vec_pretty(&manifest)?;
        append(&mut archive, MANIFEST_FILE, manifest.len() as u64, manifest.as_slice())?;
        for (name, path) in files {
            let file = std::fs::File::open(path)?;
            append(&mut archive, name, file.metadata()?.len(), file)?;
        }
        archive.finish()?;
    }
    encrypted.finish()?.sync_all()?;
    Ok(())
}

fn append<W: Write>(archive: &mut tar::Builder<W>, name: &str, size: u64, data: impl Read) -> anyhow::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(0o600);
    header.set_mtime(u64::try_from(chrono::Utc::now().timestamp()).unwrap_or_default());
    header.set_cksum();
    archive.append_data(&mut header, name, data)?;
    Ok(())
}

/// Restores the backup `input` into `data_dir`, which must be empty or not
/// exist yet; the files it made. Only the files a backup holds are taken,
/// each by its own name, readable by their owner only.
pub fn restore(input: &Path, data_dir: &Path, passphrase: SecretString) -> anyhow::Result<Vec<String>> {
    if data_dir.exists() && std::fs::read_dir(data_dir)?.next().is_some() {
        anyhow::bail!("{} is not empty: restore into a new folder", data_dir.display());
    }
    let file = std::fs::File::open(input).map_err(|e| anyhow::anyhow!("{}: {e}", input.display()))?;
    let decryptor = age::Decryptor::new(std::io::BufReader::new(file))
        .map_err(|e| anyhow::anyhow!("{} is not a backup of this server: {e}", input.display()))?;
    let identity = age::scrypt::Identity::new(passphrase);
    let reader = decryptor
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .map_err(|_| anyhow::anyhow!("the passphrase does not open {}", input.display()))?;
    create_private_dir(data_dir)?;
    let mut restored = Vec::new();
    let mut manifest: Option<Manifest> = None;
    for entry in tar::Archive::new(reader).entries()? {
        let mut entry = entry?;
        let name = entry.path()?.to_string_lossy().into_owned();
        if name == MANIFEST_FILE {
            let mut text = Vec::new();
            entry.read_to_end(&mut text)?;
            let read: Manifest = serde_json::from_slice(&text)?;
            anyhow::ensure!(read.format == FORMAT, "a backup of format {} (this server reads {FORMAT})", read.format);
            manifest = Some(read);
            continue;
        }
        anyhow::ensure!(manifest.is_some(), "the backup does not begin with its manifest");
        anyhow::ensure!(
            name == DATABASE_FILE || KEY_FILES.contains(&name.as_str()),
            "unexpected file {name:?} in the backup"
        );
        let mut out = create_private_writer(&data_dir.join(&name))?;
        std::io::copy(&mut entry, &mut out)?;
        out.sync_all()?;
        restored.push(name);
    }
    let manifest = manifest.ok_or_else(|| anyhow::anyhow!("the backup holds no manifest"))?;
    anyhow::ensure!(manifest.files == restored, "the backup is incomplete: {restored:?} of {:?}", manifest.files);
    Ok(restored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_opens_with_its_passphrase_only_and_into_an_empty_folder() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        create_private_dir(&data).unwrap();
        std::fs::write(data.join(RECIPIENT_CODE_KEY_FILE), b"the key").unwrap();
        let target = DatabaseTarget::parse(&data.join(DATABASE_FILE).to_string_lossy());
        {
            let mut conn =
                diesel::Connection::establish(&target.location).map(|c: diesel::SqliteConnection| c).unwrap();
            diesel::RunQueryDsl::execute(diesel::sql_query("CREATE TABLE t (x INTEGER)"), &mut conn).unwrap();
        }
        let output = root.path().join("hub.backup");
        let made = make(&target, &data, &output, SecretString::from("correct horse battery".to_owned())).unwrap();
        assert_eq!(made.files, [RECIPIENT_CODE_KEY_FILE, DATABASE_FILE]);
        assert_eq!(made.keys_not_in_folder, [KEY_FILE, SECRET_FILE]);

        let wrong = restore(&output, &root.path().join("wrong"), SecretString::from("wrong horse".to_owned()));
        assert!(wrong.unwrap_err().to_string().contains("passphrase"));
        let restored = root.path().join("restored");
        let files = restore(&output, &restored, SecretString::from("correct horse battery".to_owned())).unwrap();
        assert_eq!(files, made.files);
        assert_eq!(std::fs::read(restored.join(RECIPIENT_CODE_KEY_FILE)).unwrap(), b"the key");
        let again = restore(&output, &restored, SecretString::from("correct horse battery".to_owned()));
        assert!(again.unwrap_err().to_string().contains("not empty"));
    }
}
