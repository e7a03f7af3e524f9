//! Files that hold customer data or secrets are private to their owner,
//! whatever the umask of the shell that runs the command: directories 0700,
//! files 0600. Under systemd the unit's `UMask=0077` and
//! `StateDirectoryMode=0700` say the same; these make a root shell, cron or a
//! container agree.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Mode of a private directory.
pub const DIR_MODE: u32 = 0o700;
/// Mode of a private file.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and its parents) as 0700; an existing one open to its
/// group or others is closed to them.
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)?;
    close_to_others(dir, DIR_MODE)
}

/// Removes the group's and others' access to `path` (leaves it as `mode`)
/// when it has any; a path that does not exist is left alone.
pub fn close_to_others(path: &Path, mode: u32) -> std::io::Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        }
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Gives `path` the owner of `dir` when they differ: a root shell's
/// `restore`, or the first command before the daemon ever ran, must not
/// leave a database or lock file the service's own user cannot open
/// (systemd fixes the owner of a state directory only when the directory's
/// own owner is wrong). Only root can change an owner; for anyone else the
/// owners already agree.
pub fn match_owner(path: &Path, dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let (want, have) = (std::fs::metadata(dir)?, std::fs::metadata(path)?);
    if (want.uid(), want.gid()) == (have.uid(), have.gid()) {
        return Ok(());
    }
    match std::os::unix::fs::chown(path, Some(want.uid()), Some(want.gid())) {
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Ok(()),
        other => other,
    }
}

/// Creates `path` empty with mode 0600; fails if it exists.
pub fn create_new(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
}

/// Writes `bytes` to `path` as a 0600 file: whole into a temporary file
/// beside it, then renamed into place, so a reader polling the path never
/// reads half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // tempfile creates its files 0600.
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn whatever_the_umask_the_files_are_private() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        create_dir(&dir).unwrap();
        assert_eq!(mode(&dir), DIR_MODE);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_dir(&dir).unwrap();
        assert_eq!(mode(&dir), DIR_MODE, "an open directory is closed");
        let file = dir.join("export.csv");
        write_atomic(&file, b"x").unwrap();
        assert_eq!(mode(&file), FILE_MODE);
        assert!(create_new(&file).is_err(), "never replaces a file");
        let other = dir.join("backup.sqlite");
        create_new(&other).unwrap();
        assert_eq!(mode(&other), FILE_MODE);
    }

    /// As root (CI), a file made in a directory of another user becomes that user's.
    #[test]
    fn a_file_made_by_root_takes_the_directorys_owner() {
        use std::os::unix::fs::MetadataExt;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("state");
        create_dir(&dir).unwrap();
        let file = dir.join("ordersync.sqlite");
        create_new(&file).unwrap();
        if std::os::unix::fs::chown(&dir, Some(61_234), Some(61_234)).is_err() {
            eprintln!("skipped: not root, owners cannot differ here");
            return;
        }
        match_owner(&file, &dir).unwrap();
        let m = std::fs::metadata(&file).unwrap();
        assert_eq!((m.uid(), m.gid()), (61_234, 61_234));
        match_owner(&file, &dir).unwrap();
    }
}
