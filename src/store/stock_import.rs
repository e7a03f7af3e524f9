//! A stock import of any size without holding the writer. One transaction
//! over a million rows would keep every webhook waiting for the whole import
//! (and SQLite's statement journal makes it superlinear), so a large import
//! is staged:
//!
//! 1. **Stage**: the rows go into `stock_import_rows`, a chunk per write.
//! 2. **Build**: `stock_next` is the stock table as it will be, built a
//!    chunk per write from `stock` and the staged rows, with the same rule as
//!    a single count (a count `as_of` a time subtracts what shipped after it).
//!    SKUs whose availability changes are listed in `stock_import_changed`.
//!    Writes to `stock` meanwhile (orders, shipments) are noted by a trigger
//!    in `stock_import_dirty`.
//! 3. **Swap**, in one short write: the dirty SKUs are built again from the
//!    stock as it now is, `stock_next` replaces `stock` (its triggers are
//!    recreated from their stored SQL), and waiting short orders are topped
//!    up. Readers see the old stock or the new one, never a part.
//! 4. **Owe**: the old table is dropped and the changed SKUs are owed to
//!    every push channel, a chunk per write. The step and its cursor are
//!    recorded in the store, so a restart finishes it.
//!
//! Webhooks are written between the chunks, so each waits for one chunk at
//! most. A crash before the swap leaves the old stock (the caller had no
//! answer and sends the file again); after it, [`resume`] finishes owing.

use super::Tx;
use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use super::stock::StockLevel;
use super::{Result, Store, StoreError, kv, restock};
use crate::domain::time;

/// Imports of at most this many rows are applied in one transaction.
pub const ONE_TRANSACTION_MAX: usize = 2_000;
/// Rows per write while building `stock_next` and owing: about what keeps a webhook's wait under 50 ms at the 99th
/// percentile on a 2-core machine (`cargo xtask bench import`).
const CHUNK: usize = 2_000;
/// Rows per write while staging (plain inserts into a scratch table).
const STAGE_CHUNK: usize = 5_000;
/// Where the import stands: `building since <time> by <pid>` or `owing`.
const STATE_KEY: &str = "stock.import.state";
/// The last SKU owed to the push channels so far (the owing step's cursor).
const OWED_TO_KEY: &str = "stock.import.owed_to";
/// A build older than this is taken for one that crashed.
const STALE: Duration = Duration::from_secs(30 * 60);

/// The staged rows and the dirty list are TEMP (the writer connection's
/// own, in memory): nothing of them reaches the WAL or the disk, and a crash
/// takes them away. `stock_next` and the changed list are durable: the swap
/// renames the one, the restart owes from the other.
const SCRATCH: &str = "
CREATE TEMP TABLE stock_import_rows (sku TEXT PRIMARY KEY, on_hand INTEGER NOT NULL,
    tax_rate INTEGER, as_of TEXT) STRICT;
CREATE TEMP TABLE stock_import_dirty (sku TEXT PRIMARY KEY) STRICT;
CREATE TABLE IF NOT EXISTS stock_import_changed (sku TEXT PRIMARY KEY) STRICT;
CREATE TEMP TRIGGER stock_import_dirty_insert AFTER INSERT ON main.stock
BEGIN INSERT OR IGNORE INTO stock_import_dirty (sku) VALUES (NEW.sku); END;
CREATE TEMP TRIGGER stock_import_dirty_update AFTER UPDATE ON main.stock
BEGIN INSERT OR IGNORE INTO stock_import_dirty (sku) VALUES (NEW.sku); END;
";

const DROP_DIRTY_TRIGGERS: &str = "
DROP TRIGGER IF EXISTS temp.stock_import_dirty_insert;
DROP TRIGGER IF EXISTS temp.stock_import_dirty_update;
";

const DROP_TEMP_TABLES: &str = "
DROP TABLE IF EXISTS temp.stock_import_rows;
DROP TABLE IF EXISTS temp.stock_import_dirty;
";

const DROP_SCRATCH: &str = "
DROP TABLE IF EXISTS stock_old;
DROP TABLE IF EXISTS stock_next;
";

/// Sets the absolute levels of `levels` (the last row of a SKU wins), all or
/// nothing, then tops up the orders waiting for them. Returns the rows read.
pub async fn import(store: &Store, levels: Vec<StockLevel>) -> Result<usize> {
    if let Some(bad) = levels.iter().find(|l| l.on_hand < 0) {
        return Err(StoreError::Invalid(format!(
            "{}: on_hand must be 0 or more",
            bad.sku
        )));
    }
    let n = levels.len();
    if n <= ONE_TRANSACTION_MAX {
        store
            .write(move |tx| restock::set_levels(tx, &levels, &now()))
            .await?;
        return Ok(n);
    }
    // Its own task: a caller that goes away (an HTTP client that hangs up)
    // must not stop an import half-way and leave it marked running.
    let store = store.clone();
    tokio::spawn(async move { staged(&store, levels).await })
        .await
        .map_err(|e| StoreError::Invalid(format!("the stock import stopped: {e}")))??;
    Ok(n)
}

/// The staged path of [`import`], from claiming the import to owing.
async fn staged(store: &Store, levels: Vec<StockLevel>) -> Result<()> {
    let n = levels.len();
    store.write(|tx| begin(tx)).await?;
    let started = std::time::Instant::now();
    let built = stage_and_build(store, levels).await;
    let swapped = match built {
        Ok(()) => {
            let t = std::time::Instant::now();
            let swapped = store.write(swap).await;
            tracing::debug!(took = ?t.elapsed(), "stock import: swapped");
            swapped
        }
        Err(e) => Err(e),
    };
    if let Err(e) = swapped {
        // Nothing was applied: clear the scratch tables for the next try.
        let _ = store.write(|tx| abandon(tx)).await;
        return Err(e);
    }
    let swapped_after = started.elapsed();
    owe(store).await?;
    tracing::info!(rows = n, swapped_after = ?swapped_after, done_after = ?started.elapsed(),
        "stock import applied");
    Ok(())
}

/// Finishes an import whose swap committed before a restart (at start-up).
pub async fn resume(store: &Store) -> Result<()> {
    let state = store.read(|c| kv::get(c, STATE_KEY)).await?;
    match state.as_deref() {
        Some("owing") => owe(store).await,
        // A build another process (the CLI) is still running is left alone.
        Some(building) if is_fresh_build(building) => Ok(()),
        Some(_) => store.write(|tx| abandon(tx)).await,
        None => Ok(()),
    }
}

fn now() -> String {
    time::rfc3339(time::now())
}

/// Claims the import (one at a time, across processes) and creates the scratch tables.
fn begin(conn: &Connection) -> Result<()> {
    if let Some(state) = kv::get(conn, STATE_KEY)?
        && (state == "owing" || is_fresh_build(&state))
    {
        return Err(StoreError::Busy(
            "another stock import is running; send the file again when it has finished".into(),
        ));
    }
    conn.execute_batch(DROP_DIRTY_TRIGGERS)?;
    conn.execute_batch(DROP_TEMP_TABLES)?;
    conn.execute_batch(DROP_SCRATCH)?;
    let table: String = conn.query_row(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'stock'",
        [],
        |r| r.get(0),
    )?;
    let next = table.replacen("stock", "stock_next", 1);
    conn.execute_batch(&format!("{next};\n{SCRATCH}"))?;
    kv::set(
        conn,
        STATE_KEY,
        &format!("building since {} by {}", now(), std::process::id()),
        &now(),
    )
}

/// Whether `state` is a build still running: younger than [`STALE`] and its
/// process alive (a daemon killed mid-build left it; its restart, or the
/// next import, clears it at once).
fn is_fresh_build(state: &str) -> bool {
    let Some((at, pid)) = state
        .strip_prefix("building since ")
        .and_then(|rest| rest.split_once(" by "))
    else {
        return false;
    };
    let young = chrono::DateTime::parse_from_rfc3339(at)
        .is_ok_and(|at| (time::now() - at).to_std().unwrap_or_default() < STALE);
    let alive = pid
        .parse::<u32>()
        .is_ok_and(|pid| pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists());
    young && alive
}

/// Drops the scratch tables of an import that did not swap.
fn abandon(conn: &Connection) -> Result<()> {
    conn.execute_batch(DROP_DIRTY_TRIGGERS)?;
    conn.execute_batch(DROP_TEMP_TABLES)?;
    conn.execute_batch(DROP_SCRATCH)?;
    conn.execute_batch("DROP TABLE IF EXISTS stock_import_changed")?;
    kv::delete(conn, STATE_KEY)
}

async fn stage_and_build(store: &Store, levels: Vec<StockLevel>) -> Result<()> {
    let t = std::time::Instant::now();
    let mut rows = levels.into_iter();
    loop {
        let chunk: Vec<StockLevel> = rows.by_ref().take(STAGE_CHUNK).collect();
        if chunk.is_empty() {
            break;
        }
        store.write(move |tx| stage(tx, &chunk)).await?;
    }
    tracing::debug!(took = ?t.elapsed(), "stock import staged");
    let t = std::time::Instant::now();
    let mut after = String::new();
    loop {
        let from = after.clone();
        match store.write(move |tx| build_existing(tx, &from)).await? {
            Some(last) => after = last,
            None => break,
        }
    }
    tracing::debug!(took = ?t.elapsed(), "stock import: existing SKUs built");
    let t = std::time::Instant::now();
    let mut after = String::new();
    loop {
        let from = after.clone();
        match store.write(move |tx| build_new(tx, &from)).await? {
            Some(last) => after = last,
            None => {
                tracing::debug!(took = ?t.elapsed(), "stock import: new SKUs built");
                return Ok(());
            }
        }
    }
}

fn stage(conn: &Connection, levels: &[StockLevel]) -> Result<()> {
    let mut insert = conn.prepare_cached(
        "INSERT OR REPLACE INTO stock_import_rows (sku, on_hand, tax_rate, as_of) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for l in levels {
        insert.execute(params![l.sku, l.on_hand, l.tax_rate, l.as_of])?;
    }
    Ok(())
}

/// One row of the stock as it was and as the import makes it.
struct Next {
    sku: String,
    /// `(on_hand, reserved)` before; `None` for a new SKU.
    before: Option<(i64, i64)>,
    on_hand: i64,
    reserved: i64,
    tax_rate: i64,
    as_of: Option<String>,
    updated_at: String,
}

/// The stock row and its staged count, as `build_existing` and the swap read them.
const EXISTING: &str = "SELECT s.sku, s.on_hand, s.reserved, s.tax_rate, s.as_of, s.updated_at,
        i.sku IS NOT NULL, i.on_hand, i.tax_rate, i.as_of
    FROM stock s LEFT JOIN stock_import_rows i ON i.sku = s.sku";

/// A staged count: (on_hand, tax_rate, as_of), when the SKU is in the file.
type Staged = Option<(i64, Option<i64>, Option<String>)>;

fn existing_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Next, Staged)> {
    let next = Next {
        sku: r.get(0)?,
        before: Some((r.get(1)?, r.get(2)?)),
        on_hand: r.get(1)?,
        reserved: r.get(2)?,
        tax_rate: r.get(3)?,
        as_of: r.get(4)?,
        updated_at: r.get(5)?,
    };
    let staged = match r.get::<_, bool>(6)? {
        true => Some((r.get(7)?, r.get(8)?, r.get(9)?)),
        false => None,
    };
    Ok((next, staged))
}

/// Writes `next` into `stock_next`, with its staged count applied.
fn apply_staged(conn: &Connection, mut next: Next, staged: Staged, now: &str) -> Result<String> {
    if let Some((on_hand, tax_rate, as_of)) = staged {
        next.on_hand = counted_on_hand(conn, &next.sku, on_hand, as_of.as_deref())?;
        next.tax_rate = tax_rate.unwrap_or(next.tax_rate);
        next.as_of = as_of;
        next.updated_at = now.to_string();
    }
    write_next(conn, &next)?;
    Ok(next.sku)
}

/// The next chunk of existing SKUs (after `after`) into `stock_next`, in
/// two statements (the per-row path, [`build_existing_one`], is for the few
/// SKUs rebuilt at the swap); returns the last SKU, `None` when there was none.
fn build_existing(conn: &Connection, after: &str) -> Result<Option<String>> {
    let last: Option<String> = conn
        .prepare_cached(
            "SELECT MAX(sku) FROM (SELECT sku FROM stock WHERE sku > ?1 ORDER BY sku LIMIT ?2)",
        )?
        .query_row(params![after, CHUNK as i64], |r| r.get(0))?;
    let Some(last) = last else {
        return Ok(None);
    };
    // A staged count replaces on_hand, less what shipped after its as_of
    // (as `stock::set_level` does); reserved stays as the stock has it.
    conn.prepare_cached(
        "INSERT OR REPLACE INTO stock_next (sku, on_hand, reserved, tax_rate, as_of, updated_at)
         SELECT s.sku,
                CASE WHEN i.sku IS NULL THEN s.on_hand ELSE MAX(i.on_hand - CASE
                    WHEN i.as_of IS NULL THEN 0
                    ELSE (SELECT COALESCE(SUM(a.qty), 0) FROM allocations a
                          WHERE a.sku = s.sku AND a.state = 'shipped' AND a.shipped_at > i.as_of)
                    END, 0) END,
                s.reserved,
                CASE WHEN i.sku IS NULL THEN s.tax_rate ELSE COALESCE(i.tax_rate, s.tax_rate) END,
                CASE WHEN i.sku IS NULL THEN s.as_of ELSE i.as_of END,
                CASE WHEN i.sku IS NULL THEN s.updated_at ELSE ?3 END
         FROM stock s LEFT JOIN stock_import_rows i ON i.sku = s.sku
         WHERE s.sku > ?1 AND s.sku <= ?2",
    )?
    .execute(params![after, last, now()])?;
    conn.prepare_cached(
        "INSERT OR IGNORE INTO stock_import_changed (sku)
         SELECT n.sku FROM stock_next n JOIN stock s ON s.sku = n.sku
         WHERE n.sku > ?1 AND n.sku <= ?2
           AND n.on_hand - n.reserved IS NOT s.on_hand - s.reserved",
    )?
    .execute(params![after, last])?;
    Ok(Some(last))
}

/// The staged SKUs of the next chunk (after `after`) that the stock does
/// not have yet; returns the chunk's last staged SKU, `None` past the end.
/// The chunk is a range of staged rows, not of new ones: an import of
/// existing SKUs only would otherwise scan the whole file in one write
/// looking for a new one, and hold every webhook meanwhile.
fn build_new(conn: &Connection, after: &str) -> Result<Option<String>> {
    let last: Option<String> = conn
        .prepare_cached(
            "SELECT MAX(sku) FROM (SELECT sku FROM stock_import_rows WHERE sku > ?1 ORDER BY sku LIMIT ?2)",
        )?
        .query_row(params![after, CHUNK as i64], |r| r.get(0))?;
    let Some(last) = last else {
        return Ok(None);
    };
    let mut select = conn.prepare_cached(
        "SELECT i.sku, i.on_hand, i.tax_rate, i.as_of FROM stock_import_rows i
         WHERE i.sku > ?1 AND i.sku <= ?2 AND NOT EXISTS (SELECT 1 FROM stock s WHERE s.sku = i.sku)",
    )?;
    let rows = select.query_map(params![after, last], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, Option<i64>>(2)?,
            r.get::<_, Option<String>>(3)?,
        ))
    })?;
    let now = now();
    for row in rows {
        let (sku, on_hand, tax_rate, as_of) = row?;
        let next = Next {
            on_hand: counted_on_hand(conn, &sku, on_hand, as_of.as_deref())?,
            sku,
            before: None,
            reserved: 0,
            tax_rate: tax_rate.unwrap_or(10),
            as_of,
            updated_at: now.clone(),
        };
        write_next(conn, &next)?;
    }
    Ok(Some(last))
}

/// A count `as_of` a time, less what shipped after it (as [`super::stock::set_level`]).
fn counted_on_hand(conn: &Connection, sku: &str, on_hand: i64, as_of: Option<&str>) -> Result<i64> {
    let shipped: i64 = match as_of {
        Some(as_of) => conn
            .prepare_cached(super::stock::SHIPPED_SINCE)?
            .query_row(params![sku, as_of], |r| r.get(0))?,
        None => 0,
    };
    Ok((on_hand - shipped).max(0))
}

fn write_next(conn: &Connection, n: &Next) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO stock_next (sku, on_hand, reserved, tax_rate, as_of, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        n.sku,
        n.on_hand,
        n.reserved,
        n.tax_rate,
        n.as_of,
        n.updated_at
    ])?;
    let changed = n
        .before
        .is_none_or(|(on_hand, reserved)| on_hand - reserved != n.on_hand - n.reserved);
    let mut mark = if changed {
        conn.prepare_cached("INSERT OR IGNORE INTO stock_import_changed (sku) VALUES (?1)")?
    } else {
        conn.prepare_cached("DELETE FROM stock_import_changed WHERE sku = ?1")?
    };
    mark.execute([&n.sku])?;
    Ok(())
}

/// The swap: dirty SKUs built again from the stock as it is now, then
/// `stock_next` becomes `stock` with the same triggers.
fn swap(conn: &Tx<'_>) -> Result<()> {
    let dirty: Vec<String> = {
        let mut stmt = conn.prepare("SELECT sku FROM stock_import_dirty")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for sku in &dirty {
        conn.execute("DELETE FROM stock_next WHERE sku = ?1", [sku])?;
        let existing = conn
            .query_row("SELECT 1 FROM stock WHERE sku = ?1", [sku], |_| Ok(()))
            .optional()?
            .is_some();
        if existing {
            build_existing_one(conn, sku)?;
        } else {
            build_new_one(conn, sku)?;
        }
    }
    let triggers: Vec<(String, String)> = {
        let mut stmt = conn.prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'stock'",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    // The old table is renamed here and dropped in a write of its own after
    // (about 70 ms for a million rows), to keep this one short. Its triggers
    // go first, or the rename would carry them along.
    conn.execute_batch(DROP_DIRTY_TRIGGERS)?;
    for (name, _) in &triggers {
        conn.execute_batch(&format!("DROP TRIGGER \"{name}\""))?;
    }
    conn.execute_batch(
        "ALTER TABLE stock RENAME TO stock_old; ALTER TABLE stock_next RENAME TO stock;",
    )?;
    for (_, sql) in &triggers {
        conn.execute_batch(sql)?;
    }
    conn.execute_batch(DROP_TEMP_TABLES)?;
    kv::set(conn, STATE_KEY, "owing", &now())?;
    top_up_changed(conn)
}

/// [`build_existing`] for one SKU.
fn build_existing_one(conn: &Connection, sku: &str) -> Result<()> {
    let (next, staged) = conn
        .prepare_cached(&format!("{EXISTING} WHERE s.sku = ?1"))?
        .query_row([sku], existing_row)?;
    apply_staged(conn, next, staged, &now()).map(|_| ())
}

/// A dirty SKU the stock does not have (deleted meanwhile): as new, if staged.
fn build_new_one(conn: &Connection, sku: &str) -> Result<()> {
    let staged = conn
        .query_row(
            "SELECT on_hand, tax_rate, as_of FROM stock_import_rows WHERE sku = ?1",
            [sku],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            },
        )
        .optional()?;
    let Some((on_hand, tax_rate, as_of)) = staged else {
        return Ok(());
    };
    let next = Next {
        on_hand: counted_on_hand(conn, sku, on_hand, as_of.as_deref())?,
        sku: sku.to_string(),
        before: None,
        reserved: 0,
        tax_rate: tax_rate.unwrap_or(10),
        as_of,
        updated_at: now(),
    };
    write_next(conn, &next)
}

/// Tops up the waiting short orders whose SKUs the import changed.
fn top_up_changed(conn: &Tx<'_>) -> Result<()> {
    let waiting: HashSet<String> = {
        let mut stmt = conn.prepare_cached(
            "SELECT DISTINCT l.sku FROM orders o
             JOIN order_lines l ON l.channel = o.channel AND l.order_id = o.id
             JOIN stock_import_changed c ON c.sku = l.sku
             WHERE o.state = 'short'",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let changed: HashSet<&str> = waiting.iter().map(String::as_str).collect();
    restock::top_up(conn, &changed, &now())
}

/// Drops the old table, owes the changed SKUs to every push channel a chunk
/// per write (the cursor kept in the store, so a restart goes on from it),
/// then ends the import.
async fn owe(store: &Store) -> Result<()> {
    let t = std::time::Instant::now();
    store
        .write(|tx| Ok(tx.execute_batch("DROP TABLE IF EXISTS stock_old")?))
        .await?;
    tracing::debug!(took = ?t.elapsed(), "stock import: old table dropped");
    loop {
        let done = store
            .write(|tx| {
                let after = kv::get(tx, OWED_TO_KEY)?.unwrap_or_default();
                let last: Option<String> = tx.query_row(
                    "SELECT MAX(sku) FROM (SELECT sku FROM stock_import_changed
                             WHERE sku > ?1 ORDER BY sku LIMIT ?2)",
                    params![after, CHUNK as i64],
                    |r| r.get(0),
                )?;
                let Some(last) = last else {
                    tx.execute_batch("DROP TABLE stock_import_changed")?;
                    kv::delete(tx, OWED_TO_KEY)?;
                    kv::delete(tx, STATE_KEY)?;
                    return Ok(true);
                };
                tx.execute(
                    "INSERT INTO stock_push (channel, sku, owed_since_ms)
                     SELECT p.channel, c.sku, ?3 FROM stock_import_changed c, push_channels p
                     WHERE c.sku > ?1 AND c.sku <= ?2
                     ON CONFLICT (channel, sku) DO UPDATE SET version = version + 1,
                         owed_since_ms = COALESCE(owed_since_ms, excluded.owed_since_ms)",
                    params![after, last, crate::store::stock_push::now_ms()],
                )?;
                kv::set(tx, OWED_TO_KEY, &last, &now())?;
                Ok(false)
            })
            .await?;
        if done {
            tracing::debug!(took = ?t.elapsed(), "stock import: owed");
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests;
