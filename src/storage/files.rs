//! Files that hold the data or the keys to it (the SQLite database, the
//! generated secrets and the signing key) and the folders that hold them:
//! created readable by their owner only, whatever the umask (which can
//! only take permissions away from the modes asked for here).

use std::io::Write;
use std::path::Path;

/// The mode of a folder this server creates for its data.
pub const PRIVATE_DIR_MODE: u32 = 0o700;
/// The mode of a file this server creates for its data or keys.
pub const PRIVATE_FILE_MODE: u32 = 0o600;

/// Creates `path` and any missing folder above it, each `0700`. A folder
/// that exists already is left as it is.
pub fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, PRIVATE_DIR_MODE);
    builder.create(path)
}

/// Creates a file only its owner can read, holding `contents`; never
/// overwrites one (`AlreadyExists`).
pub fn create_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    create_private_writer(path)?.write_all(contents)
}

/// Creates an empty file only its owner can read, to be written; never
/// overwrites one (`AlreadyExists`).
pub fn create_private_writer(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, PRIVATE_FILE_MODE);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn folders_and_files_are_the_owners_alone() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let nested = root.path().join("a").join("b");
        create_private_dir(&nested).unwrap();
        create_private_dir(&nested).unwrap();
        let file = nested.join("secret");
        create_private_file(&file, b"x").unwrap();
        assert_eq!(create_private_file(&file, b"y").unwrap_err().kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&file).unwrap(), b"x");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&root.path().join("a")), mode(&nested), mode(&file)), (0o700, 0o700, 0o600));
    }
}
