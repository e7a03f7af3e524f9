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

/// The newest events of one order and how many came before them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderHistory {
    /// Oldest first.
    pub events: Vec<EventRow>,
    /// Older events of the order not read.
    pub earlier: i64,
}

/// The newest `limit` events of one order (oldest first) and a count of the
/// rest: what a page or `orders show` reads, however many events an order
/// gathered.
pub fn recent_for_order(
    conn: &Connection,
    channel: &str,
    id: &str,
    limit: u32,
) -> Result<OrderHistory> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, channel, order_id, kind, detail FROM events
         WHERE channel = ?1 AND order_id = ?2 ORDER BY id DESC LIMIT ?3",
    )?;
    let mut events = stmt
        .query_map(params![channel, id, limit], row_to_event)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    events.reverse();
    let earlier = match events.first() {
        Some(oldest) if events.len() >= limit as usize => conn
            .prepare_cached(
                "SELECT COUNT(*) FROM events WHERE channel = ?1 AND order_id = ?2 AND id < ?3",
            )?
            .query_row(params![channel, id, oldest.id], |r| r.get(0))?,
        _ => 0,
    };
    Ok(OrderHistory { events, earlier })
}

/// Events of one order, oldest first.
pub fn for_order(conn: &Connection, channel: &str, id: &str) -> Result<Vec<EventRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, channel, order_id, kind, detail FROM events
         WHERE channel = ?1 AND order_id = ?2 ORDER BY id",
    )?;
    let rows = stmt.query_map(params![channel, id], row_to_event)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_orders_history_is_its_newest_events_and_a_count_of_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = crate::store::open_connection(&dir.path().join("t.sqlite")).unwrap();
        crate::store::schema::migrate(&mut conn).unwrap();
        for i in 0..25 {
            let detail = serde_json::json!({ "n": i });
            append(
                &conn,
                "2026-12-03T10:00:00+09:00",
                Some(("jgoods", "J1")),
                "order.reposted",
                &detail,
            )
            .unwrap();
        }
        append(
            &conn,
            "2026-12-03T10:00:00+09:00",
            Some(("jgoods", "J2")),
            "x",
            &Value::Null,
        )
        .unwrap();
        let h = recent_for_order(&conn, "jgoods", "J1", 10).unwrap();
        assert_eq!(h.earlier, 15);
        let shown: Vec<_> = h
            .events
            .iter()
            .map(|e| e.detail["n"].as_i64().unwrap())
            .collect();
        assert_eq!(
            shown,
            (15..25).collect::<Vec<_>>(),
            "the newest, oldest first"
        );
        let few = recent_for_order(&conn, "jgoods", "J2", 10).unwrap();
        assert_eq!((few.events.len(), few.earlier), (1, 0));
    }
}
