//! The change feed: an append-only log of what happened, read by the ERP.

use rusqlite::{Connection, params};
use serde::Serialize;
use serde_json::Value;

use super::Result;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRow {
    pub id: i64,
    pub at: String,
    pub channel: Option<String>,
    pub order_id: Option<String>,
    pub kind: String,
    pub detail: Value,
}

pub fn append(
    conn: &Connection,
    at: &str,
    order: Option<(&str, &str)>,
    kind: &str,
    detail: &Value,
) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO events (at, channel, order_id, kind, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        at,
        order.map(|o| o.0),
        order.map(|o| o.1),
        kind,
        detail.to_string()
    ])?;
    Ok(conn.last_insert_rowid())
}

fn row_to_event(r: &rusqlite::Row<'_>) -> rusqlite::Result<EventRow> {
    let detail: String = r.get(5)?;
    Ok(EventRow {
        id: r.get(0)?,
        at: r.get(1)?,
        channel: r.get(2)?,
        order_id: r.get(3)?,
        kind: r.get(4)?,
        detail: serde_json::from_str(&detail).unwrap_or(Value::Null),
    })
}

/// Events with `id > after`, oldest first.
pub fn after(conn: &Connection, after: i64, limit: u32) -> Result<Vec<EventRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, channel, order_id, kind, detail FROM events
         WHERE id > ?1 ORDER BY id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after, limit], row_to_event)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The id of the newest event (0 when there is none).
pub fn newest_id(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COALESCE(MAX(id), 0) FROM events", [], |r| r.get(0))?)
}

/// How many events of each kind have an id in `(after, up_to]`.
pub fn count_by_kind(conn: &Connection, after: i64, up_to: i64) -> Result<Vec<(String, u64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT kind, COUNT(*) FROM events WHERE id > ?1 AND id <= ?2 GROUP BY kind ORDER BY kind",
    )?;
    let rows = stmt.query_map(params![after, up_to], |r| {
        Ok((r.get(0)?, r.get::<_, i64>(1)?.unsigned_abs()))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Events of one order, oldest first (for `orders show`).
pub fn for_order(conn: &Connection, channel: &str, id: &str) -> Result<Vec<EventRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, channel, order_id, kind, detail FROM events
         WHERE channel = ?1 AND order_id = ?2 ORDER BY id",
    )?;
    let rows = stmt.query_map(params![channel, id], row_to_event)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
