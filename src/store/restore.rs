//! Who may hold the data directory, and putting a backup back.
//!
//! The daemon holds an exclusive lock on `data_dir/ordersync.lock` while it
//! runs (a second daemon on the same directory refuses to start); the
//! commands of a shell work beside it without the lock, SQLite serialising
//! their writes. `ordersync restore` takes the lock itself, so it refuses
//! while the daemon runs and a daemon started meanwhile waits for nothing
//! half-copied: it refuses too.

use std::fs::File;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::{DB_FILE, Result, StoreError};
use crate::private_files;

/// The lock file beside the database.
const LOCK_FILE: &str = "ordersync.lock";

/// The data directory held by one process until dropped.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

/// Takes the data directory's lock, or says who has it.
pub fn lock(data_dir: &Path) -> Result<DataDirLock> {
    private_files::create_dir(data_dir)
        .map_err(|e| StoreError::Invalid(format!("cannot create {}: {e}", data_dir.display())))?;
    let path = data_dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| StoreError::Invalid(format!("cannot open {}: {e}", path.display())))?;
    private_files::match_owner(&path, data_dir).map_err(|e| io(&path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(DataDirLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Busy(format!(
            "ordersync is running on {} (stop it first: systemctl stop ordersync) / \
             デーモンが動いています。先に停止してください",
            data_dir.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(StoreError::Invalid(format!(
            "cannot lock {}: {e}",
            path.display()
        ))),
    }
}

/// Whether a daemon holds `data_dir` now, read without taking anything: the
/// lock file is only opened, and a shared lock tried and let go at once.
/// `None` when that cannot be told (the file cannot be opened for a reason
/// other than its absence).
pub fn daemon_running(data_dir: &Path) -> Option<bool> {
    let file = match File::open(data_dir.join(LOCK_FILE)) {
        Ok(file) => file,
        // A daemon creates the file before it opens the store.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(false),
        Err(_) => return None,
    };
    match file.try_lock_shared() {
        Ok(()) => Some(false),
        Err(std::fs::TryLockError::WouldBlock) => Some(true),
        Err(std::fs::TryLockError::Error(_)) => None,
    }
}

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    /// Where the database it replaced was kept (`None`: there was none).
    pub kept: Option<PathBuf>,
    /// Orders in the restored database.
    pub orders: i64,
}

/// Puts the backup `from` in place of the data directory's database, with
/// the daemon stopped: checks it is a whole ordersync database, keeps the
/// current one (and its WAL) as `ordersync.sqlite.before-restore-<time>`,
/// then moves a private copy of the backup into place.
pub fn restore(data_dir: &Path, from: &Path, stamp: &str) -> Result<Restored> {
    let _lock = lock(data_dir)?;
    let orders = check_backup(from)?;
    let db = data_dir.join(DB_FILE);
    // The copy is made beside the database, so the move into place is one rename.
    let copy = data_dir.join(format!("{DB_FILE}.restoring"));
    let _ = std::fs::remove_file(&copy);
    copy_private(from, &copy)?;
    private_files::match_owner(&copy, data_dir).map_err(|e| io(&copy, e))?;
    let kept = match db.exists() {
        true => {
            let aside = data_dir.join(format!("{DB_FILE}.before-restore-{stamp}"));
            // The WAL and shared-memory files belong to the database beside
            // them: left in place, SQLite would apply the old WAL to the backup.
            for suffix in ["", "-wal", "-shm"] {
                let (old, new) = (suffixed(&db, suffix), suffixed(&aside, suffix));
                if old.exists() {
                    std::fs::rename(&old, &new).map_err(|e| io(&old, e))?;
                }
            }
            Some(aside)
        }
        false => None,
    };
    std::fs::rename(&copy, &db).map_err(|e| io(&db, e))?;
    Ok(Restored { kept, orders })
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn io(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Invalid(format!("{}: {e}", path.display()))
}

/// The number of orders of `path` when it is a whole ordersync database.
fn check_backup(path: &Path) -> Result<i64> {
    let not = |why: String| {
        StoreError::Invalid(format!(
            "{} is not an ordersync backup: {why} / バックアップではありません",
            path.display()
        ))
    };
    if !path.is_file() {
        return Err(not("no such file".into()));
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| not(e.to_string()))?;
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(|e| not(e.to_string()))?;
    if check != "ok" {
        return Err(not(format!("damaged ({check})")));
    }
    conn.query_row("SELECT COUNT(*) FROM orders", [], |r| r.get(0))
        .map_err(|e| not(e.to_string()))
}

/// Copies `from` to a new 0600 file `to`, flushed to disk.
fn copy_private(from: &Path, to: &Path) -> Result<()> {
    let mut src = File::open(from).map_err(|e| io(from, e))?;
    let mut dst = private_files::create_new(to).map_err(|e| io(to, e))?;
    std::io::copy(&mut src, &mut dst).map_err(|e| io(to, e))?;
    dst.sync_all().map_err(|e| io(to, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[tokio::test]
    async fn a_backup_goes_back_in_place_and_the_replaced_database_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let store = Store::open_in(&data, 0).unwrap();
        let backup = dir.path().join("backup.sqlite");
        store.backup_to(&backup).await.unwrap();
        {
            let _held = lock(&data).unwrap();
            let refused = restore(&data, &backup, "t0").unwrap_err();
            assert!(refused.to_string().contains("is running"), "{refused}");
        }
        drop(store);
        let done = restore(&data, &backup, "t1").unwrap();
        assert_eq!(done.orders, 0);
        let kept = done.kept.unwrap();
        assert!(kept.exists() && !suffixed(&data.join(DB_FILE), "-wal").exists());
        Store::open_in(&data, 0).unwrap();

        let junk = dir.path().join("junk.sqlite");
        std::fs::write(&junk, b"not a database at all").unwrap();
        let refused = restore(&data, &junk, "t2").unwrap_err();
        assert!(
            refused.to_string().contains("not an ordersync backup"),
            "{refused}"
        );
    }
}
