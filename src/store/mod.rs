//! SQLite store: one file, WAL, `synchronous=FULL`, STRICT tables.
//!
//! All writes go through one writer thread and run inside `BEGIN IMMEDIATE`, so a
//! decision (order state, stock movements, events, outbox rows) is committed
//! whole or not at all, and other processes using the same file (the CLI while
//! the daemon runs) queue on SQLite's write lock instead of interleaving.
//! Reads use a small pool of separate connections; WAL lets them run beside the
//! writer.
//!
//! Group commit: when several writes are queued, the writer runs them in one
//! transaction, each inside its own savepoint (a failing one is rolled back
//! alone), and commits once. Every caller still gets its answer only after that
//! commit is durable, so a webhook is never acknowledged before it is on disk;
//! the fsync is simply shared.

pub mod alerts;
pub mod catalog;
pub mod credit;
pub mod events;
pub mod home;
pub mod inbox;
pub mod invoices;
pub mod komoju_lapse;
pub mod komoju_refund_requests;
pub mod kv;
pub mod order_search;
pub mod orders;
pub mod outbox;
pub mod rakuten_skus;
pub mod restock;
pub mod restore;
mod schema;
pub mod sellers;
pub mod stock;
pub mod stock_import;
pub mod stock_push;

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use tokio::sync::{Notify, oneshot};

/// How long a writer waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Idle read connections kept for reuse.
const READ_POOL: usize = 8;
/// The least time between two WAL checkpoints.
const CHECKPOINT_PAUSE: Duration = Duration::from_millis(250);
/// The WAL file is cut back to this size whenever it is restarted from the
/// beginning, so a burst of writes does not leave a file that large behind.
const JOURNAL_SIZE_LIMIT: i64 = 16 * 1024 * 1024;
/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 256;
/// The database file inside `data_dir`.
pub const DB_FILE: &str = "ordersync.sqlite";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Invalid(String),
    /// Refused for now because of other work in progress (a stock import).
    #[error("{0}")]
    Busy(String),
    #[error("the store is closed")]
    Closed,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Most writes sharing one commit.
const MAX_GROUP: usize = 64;

/// A queued write: runs inside the group's transaction (or learns why there is
/// none) and returns what to do once the group's commit is known (`None` =
/// committed, `Some(reason)` = it failed).
type Job =
    Box<dyn for<'t> FnOnce(std::result::Result<&Transaction<'t>, &str>) -> Completion + Send>;
type Completion = Box<dyn FnOnce(Option<&str>) + Send>;

/// What the writer thread has done since the store was opened, for
/// `/metrics`. Busy time against wall time says how close the daemon is to
/// its write capacity; commit time against busy time says whether the disk
/// (the commit's fsync) or the work before it is what fills it.
#[derive(Debug, Default)]
pub struct WriterStats {
    commits: AtomicU64,
    writes: AtomicU64,
    commit_nanos: AtomicU64,
    busy_nanos: AtomicU64,
}

/// A reading of [`WriterStats`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WriterTotals {
    /// Transactions the writer ran (each one commit, shared by its writes).
    pub commits: u64,
    /// Writes run in them.
    pub writes: u64,
    /// Time spent in `COMMIT`, the durable part (fsync), in seconds.
    pub commit_seconds: f64,
    /// Time the writer was running writes and commits rather than waiting
    /// for work, in seconds.
    pub busy_seconds: f64,
}

impl WriterStats {
    fn record(&self, writes: usize, commit: Duration, busy: Duration) {
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.writes.fetch_add(writes as u64, Ordering::Relaxed);
        self.commit_nanos
            .fetch_add(nanos(commit), Ordering::Relaxed);
        self.busy_nanos.fetch_add(nanos(busy), Ordering::Relaxed);
    }

    pub fn totals(&self) -> WriterTotals {
        WriterTotals {
            commits: self.commits.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
            commit_seconds: self.commit_nanos.load(Ordering::Relaxed) as f64 / 1e9,
            busy_seconds: self.busy_nanos.load(Ordering::Relaxed) as f64 / 1e9,
        }
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A transaction on the store: a write on the writer thread, or a read
/// snapshot. It reads and writes as the connection it derefs to, and
/// carries the one stock rule every availability follows, so no caller
/// passes it along: `available = on_hand − reserved − safety_stock`.
pub struct Tx<'a> {
    conn: &'a Connection,
    safety_stock: u32,
}

impl<'a> Tx<'a> {
    /// `conn` under the rule `safety_stock` (for tests of single statements
    /// and for the store's own writers).
    pub fn new(conn: &'a Connection, safety_stock: u32) -> Tx<'a> {
        Tx { conn, safety_stock }
    }

    /// `[inventory] safety_stock`: units per SKU held back from every channel.
    pub fn safety_stock(&self) -> u32 {
        self.safety_stock
    }
}

impl Deref for Tx<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    readers: Mutex<Vec<Connection>>,
    writer_stats: Arc<WriterStats>,
    /// `[inventory] safety_stock`, given to every transaction ([`Tx`]); a
    /// reload may change it.
    safety_stock: AtomicU32,
    /// Woken after every commit, so long polls on the change feed answer at once.
    committed: Notify,
}

impl Store {
    /// Opens (creating if needed) the database at `path`, migrates it and starts
    /// the writer thread. `safety_stock` is `[inventory] safety_stock`.
    pub fn open(path: &Path, safety_stock: u32) -> Result<Store> {
        let mut writer = {
            let _alone = open_alone(path)?;
            let mut writer = open_connection(path)?;
            schema::migrate(&mut writer)?;
            writer
        };
        // Checkpoints run on their own thread (below), not inside whichever
        // commit happens to cross SQLite's threshold: that commit's callers
        // would wait for the copy and its fsync.
        writer.pragma_update(None, "wal_autocheckpoint", 0)?;
        let checkpoint = start_checkpointer(path)?;
        let (tx, rx) = mpsc::channel::<Job>();
        let writer_stats = Arc::new(WriterStats::default());
        let stats = writer_stats.clone();
        std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let started = Instant::now();
                    let mut group = vec![first];
                    while group.len() < MAX_GROUP {
                        match rx.try_recv() {
                            Ok(job) => group.push(job),
                            Err(_) => break,
                        }
                    }
                    let writes = group.len();
                    if let Some(commit) = run_group(&mut writer, group) {
                        stats.record(writes, commit, started.elapsed());
                    }
                    // Full means a checkpoint is already asked for.
                    let _ = checkpoint.try_send(());
                }
            })
            .map_err(|e| StoreError::Invalid(format!("cannot start the writer thread: {e}")))?;
        Ok(Store {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                jobs: Mutex::new(Some(tx)),
                readers: Mutex::new(Vec::new()),
                writer_stats,
                safety_stock: AtomicU32::new(safety_stock),
                committed: Notify::new(),
            }),
        })
    }

    /// Opens `data_dir/ordersync.sqlite`, creating the directory if needed.
    pub fn open_in(data_dir: &Path, safety_stock: u32) -> Result<Store> {
        // Private whoever opens it (the daemon under its unit, a root
        // shell): the store is every customer's name and address.
        crate::private_files::create_dir(data_dir).map_err(|e| {
            StoreError::Invalid(format!(
                "cannot create data_dir {}: {e}",
                data_dir.display()
            ))
        })?;
        let path = data_dir.join(DB_FILE);
        // SQLite gives its -wal and -shm files the database file's mode.
        let private = match crate::private_files::create_new(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                crate::private_files::close_to_others(&path, crate::private_files::FILE_MODE)
            }
            other => other
                .map(drop)
                .and_then(|()| crate::private_files::match_owner(&path, data_dir)),
        };
        private.map_err(|e| {
            StoreError::Invalid(format!("cannot make {} private: {e}", path.display()))
        })?;
        Store::open(&path, safety_stock)
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// `[inventory] safety_stock` as the store applies it.
    pub fn safety_stock(&self) -> u32 {
        self.inner.safety_stock.load(Ordering::Relaxed)
    }

    /// Applies a reloaded `[inventory] safety_stock` to every transaction
    /// that starts from now on.
    pub fn set_safety_stock(&self, safety_stock: u32) {
        self.inner
            .safety_stock
            .store(safety_stock, Ordering::Relaxed);
    }

    /// The writer thread's counters (live: read them at any time).
    pub fn writer_stats(&self) -> Arc<WriterStats> {
        self.inner.writer_stats.clone()
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction on the writer thread and
    /// commits it. An error from `f` rolls everything back.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Tx<'_>) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let (done, wait) = oneshot::channel();
        let safety_stock = self.safety_stock();
        let job: Job = Box::new(move |tx| {
            match tx
                .map_err(|e| StoreError::Invalid(e.to_string()))
                .and_then(|tx| run_in_savepoint(&Tx::new(tx, safety_stock), f))
            {
                Ok(value) => Box::new(move |commit_error: Option<&str>| {
                    let _ = done.send(match commit_error {
                        None => Ok(value),
                        Some(e) => Err(StoreError::Invalid(format!("commit failed: {e}"))),
                    });
                }),
                Err(e) => Box::new(move |_: Option<&str>| {
                    let _ = done.send(Err(e));
                }),
            }
        });
        {
            let jobs = self.inner.jobs.lock().map_err(|_| StoreError::Closed)?;
            jobs.as_ref()
                .ok_or(StoreError::Closed)?
                .send(job)
                .map_err(|_| StoreError::Closed)?;
        }
        let result = wait.await.map_err(|_| StoreError::Closed)?;
        if result.is_ok() {
            self.inner.committed.notify_waiters();
        }
        result
    }

    /// Runs `f` on a read connection (a consistent snapshot for its duration).
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Tx<'_>) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let inner = self.inner.clone();
        let safety_stock = self.safety_stock();
        tokio::task::spawn_blocking(move || {
            let conn = match inner.readers.lock().ok().and_then(|mut p| p.pop()) {
                Some(c) => c,
                None => open_connection(&inner.path)?,
            };
            let result = (|| {
                let tx = conn.unchecked_transaction()?;
                let r = f(&Tx::new(&tx, safety_stock))?;
                tx.finish()?;
                Ok(r)
            })();
            if let Ok(mut pool) = inner.readers.lock()
                && pool.len() < READ_POOL
            {
                pool.push(conn);
            }
            result
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }

    /// Resolves after the next commit by this process (or after `timeout`).
    /// Writes by other processes are seen by the caller's periodic re-check.
    pub async fn wait_for_commit(&self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.inner.committed.notified()).await;
    }

    /// Stops accepting writes; queued writes still finish.
    pub fn close(&self) {
        if let Ok(mut jobs) = self.inner.jobs.lock() {
            jobs.take();
        }
    }

    /// An online, consistent copy of the database (SQLite backup API).
    pub async fn backup_to(&self, dest: &Path) -> Result<()> {
        let dest = dest.to_path_buf();
        // Created 0600 first (SQLite takes an empty file as an empty database).
        crate::private_files::create_new(&dest)
            .map_err(|e| StoreError::Invalid(format!("cannot create {}: {e}", dest.display())))?;
        self.read(move |conn| {
            let mut target = Connection::open(&dest)?;
            let backup = rusqlite::backup::Backup::new(conn, &mut target)?;
            backup.run_to_completion(256, Duration::from_millis(0), None)?;
            Ok(())
        })
        .await
    }
}

/// Starts the thread that copies committed WAL pages into the database file
/// (a passive checkpoint: it never blocks the writer or readers), at most
/// once per [`CHECKPOINT_PAUSE`]; once no commit came during a pause (the
/// writer is idle), a truncating one empties the WAL file, which otherwise
/// keeps the size of the largest burst. It ends when the writer drops its
/// sender.
fn start_checkpointer(path: &Path) -> Result<mpsc::SyncSender<()>> {
    let conn = open_connection(path)?;
    // An idle writer means a short wait at most: never the writer's 10 s.
    conn.busy_timeout(Duration::from_millis(100))?;
    let (tx, rx) = mpsc::sync_channel::<()>(1);
    std::thread::Builder::new()
        .name("store-checkpt".into())
        .spawn(move || {
            let mut asked = false;
            loop {
                if !asked && rx.recv().is_err() {
                    break;
                }
                // Let commits accumulate, so one checkpoint (and one fsync of
                // the database file) covers many of them.
                std::thread::sleep(CHECKPOINT_PAUSE);
                let started = std::time::Instant::now();
                let pages = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                    Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
                });
                match pages {
                    // Its fsync competes with the commits' (large imports).
                    Ok((log, copied)) => tracing::debug!(took = ?started.elapsed(), log, copied, "WAL checkpoint"),
                    Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; it is retried after the next commit"),
                }
                match rx.try_recv() {
                    Ok(()) => asked = true,
                    Err(mpsc::TryRecvError::Empty) => {
                        asked = false;
                        // Busy (a reader on an old snapshot): the next idle
                        // moment tries again.
                        let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
                    }
                    Err(mpsc::TryRecvError::Disconnected) => break,
                }
            }
        })
        .map_err(|e| StoreError::Invalid(format!("cannot start the checkpoint thread: {e}")))?;
    Ok(tx)
}

/// Runs a group of writes in one `BEGIN IMMEDIATE` transaction and one
/// commit; returns the time the commit took (`None`: no transaction began).
fn run_group(conn: &mut Connection, group: Vec<Job>) -> Option<Duration> {
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            let reason = format!("cannot begin a write transaction: {e}");
            tracing::error!(error = %reason);
            for job in group {
                // Nothing ran: each caller gets the reason.
                job(Err(&reason))(None);
            }
            return None;
        }
    };
    let completions: Vec<Completion> = group.into_iter().map(|job| job(Ok(&tx))).collect();
    let committing = Instant::now();
    let outcome = tx.commit().map_err(|e| e.to_string());
    let commit = committing.elapsed();
    for complete in completions {
        complete(outcome.as_ref().err().map(String::as_str));
    }
    Some(commit)
}

/// Runs one write in its own savepoint, so its failure undoes only its own work.
fn run_in_savepoint<T>(tx: &Tx<'_>, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
    exec(tx, "SAVEPOINT job", [])?;
    match f(tx) {
        Ok(value) => {
            exec(tx, "RELEASE job", [])?;
            Ok(value)
        }
        Err(e) => {
            exec(tx, "ROLLBACK TO job", [])?;
            exec(tx, "RELEASE job", [])?;
            Err(e)
        }
    }
}

/// Holds the database file at `path` (created, private, when missing) for
/// one process's opening: the daemon's first start and an operator's
/// `ordersync status` opening a new store together would both switch it to
/// WAL and create its tables, and the loser would stop ("database is
/// locked", "table already exists"). The lock is an `flock` on the database
/// file itself, which SQLite's own (`fcntl`) locks do not see; the second
/// process waits, then finds the schema current. Released when dropped.
fn open_alone(path: &Path) -> Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(|e| StoreError::Invalid(format!("cannot open {}: {e}", path.display())))?;
    file.lock()
        .map_err(|e| StoreError::Invalid(format!("cannot lock {}: {e}", path.display())))?;
    Ok(file)
}

/// Opens a connection with the daemon's pragmas.
pub fn open_connection(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // WAL: readers never block the writer. FULL: a commit is on disk before we
    // acknowledge a webhook, which is the whole point of acking after commit.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Savepoints (one per write in a group commit) keep their undo records in
    // the statement journal; in a file that is a write syscall per page.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "journal_size_limit", JOURNAL_SIZE_LIMIT)?;
    // Room for every statement of the write and read paths (the default, 16,
    // is fewer than one decision uses, so statements were parsed again).
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// `Connection::execute` through the statement cache. The write path runs
/// the same few dozen statements thousands of times a second; parsing each
/// again every time cost about a tenth of the daemon's CPU under load.
pub(crate) fn exec<P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

/// `Connection::query_row` through the statement cache (see [`exec`]).
pub(crate) fn query_one<T, P, F>(
    conn: &Connection,
    sql: &str,
    params: P,
    f: F,
) -> rusqlite::Result<T>
where
    P: rusqlite::Params,
    F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
{
    conn.prepare_cached(sql)?.query_row(params, f)
}

/// Reads a column that must hold one of a closed set of names.
pub(crate) fn parse_enum<T>(value: &str, parse: fn(&str) -> Option<T>, what: &str) -> Result<T> {
    parse(value).ok_or_else(|| StoreError::Corrupt(format!("unknown {what} {value:?}")))
}

/// The steps of SQLite's plan for `sql`, for tests that pin which index a
/// query on a large table uses.
#[cfg(test)]
pub(crate) fn query_plan(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> String {
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .expect("the statement prepares");
    let steps = stmt
        .query_map(params, |r| r.get::<_, String>(3))
        .expect("the plan is readable");
    steps
        .map(|s| s.expect("a plan step"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A migrated in-memory store connection, for tests of single statements.
#[cfg(test)]
pub(crate) fn migrated_in_memory() -> Connection {
    let mut conn = Connection::open_in_memory().expect("in-memory SQLite");
    schema::migrate(&mut conn).expect("migrations apply");
    conn
}
