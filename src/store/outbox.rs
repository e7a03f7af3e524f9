//! Calls to providers waiting to be made. A decision appends rows in its own
//! transaction; the dispatcher drains them with retries.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{Result, StoreError};
use crate::domain::time;
use crate::engine::Call;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub provider: String,
    pub kind: String,
    pub channel: Option<String>,
    pub order_id: Option<String>,
    pub call: Call,
    pub state: String,
    pub attempts: u32,
    /// Next attempt, RFC 3339 (for people); the dispatcher uses milliseconds.
    pub next_attempt_at: String,
    #[serde(skip)]
    pub next_attempt_ms: i64,
    #[serde(skip)]
    pub budget_from_ms: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "id, provider, kind, channel, order_id, payload, state, attempts,
    next_attempt_ms, budget_from_ms, last_error, created_at, updated_at";

fn row_to_outbox(r: &rusqlite::Row<'_>) -> rusqlite::Result<(OutboxRow, String)> {
    let next_ms: i64 = r.get(8)?;
    let payload: String = r.get(5)?;
    let next = chrono::DateTime::from_timestamp_millis(next_ms)
        .map(|t| time::rfc3339(t.with_timezone(&time::jst())))
        .unwrap_or_default();
    Ok((
        OutboxRow {
            id: r.get(0)?,
            provider: r.get(1)?,
            kind: r.get(2)?,
            channel: r.get(3)?,
            order_id: r.get(4)?,
            call: Call::JgoodsFetchOrder {
                order_no: String::new(),
            },
            state: r.get(6)?,
            attempts: r.get(7)?,
            next_attempt_at: next,
            next_attempt_ms: next_ms,
            budget_from_ms: r.get(9)?,
            last_error: r.get(10)?,
            created_at: r.get(11)?,
            updated_at: r.get(12)?,
        },
        payload,
    ))
}

fn decode(pair: (OutboxRow, String)) -> Result<OutboxRow> {
    let (mut row, payload) = pair;
    row.call = serde_json::from_str(&payload)
        .map_err(|e| StoreError::Corrupt(format!("outbox row {}: {e}", row.id)))?;
    Ok(row)
}

fn now_ms() -> i64 {
    time::unix_ms(time::now())
}

/// Appends a call, due now.
pub fn enqueue(
    conn: &Connection,
    call: &Call,
    order: Option<(&str, &str)>,
    now: &str,
) -> Result<i64> {
    let payload = serde_json::to_string(call)
        .map_err(|e| StoreError::Invalid(format!("cannot encode call: {e}")))?;
    let ms = now_ms();
    conn.prepare_cached(
        "INSERT INTO outbox (provider, kind, channel, order_id, payload, state,
                             next_attempt_ms, budget_from_ms, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6, ?7, ?7)",
    )?
    .execute(params![
        call.provider().as_str(),
        call.kind(),
        order.map(|o| o.0),
        order.map(|o| o.1),
        payload,
        ms,
        now
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Pending calls due by `now_ms`, oldest first, at most one per order: a later
/// call for an order waits until the earlier one is finished, so J-goods sees
/// our answers in the order we decided them.
pub fn due(conn: &Connection, now_ms: i64, limit: u32) -> Result<Vec<OutboxRow>> {
    // The limit is written into the text, not bound: SQLite's planner reads a
    // bound LIMIT, and rebinding such a parameter makes it parse and plan the
    // statement again on every call (the dispatcher calls this after every
    // commit).
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM outbox o
         WHERE state = 'pending' AND next_attempt_ms <= ?1
           AND NOT EXISTS (
             SELECT 1 FROM outbox p
             WHERE p.state = 'pending' AND p.channel IS o.channel AND p.order_id IS o.order_id
               AND p.id < o.id)
         ORDER BY next_attempt_ms, id LIMIT {limit}"
    ))?;
    let rows = stmt
        .query_map(params![now_ms], row_to_outbox)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(decode).collect()
}

/// When the next pending call falls due (to sleep until then).
pub fn next_due_ms(conn: &Connection) -> Result<Option<i64>> {
    Ok(super::query_one(
        conn,
        "SELECT MIN(next_attempt_ms) FROM outbox WHERE state = 'pending'",
        [],
        |r| r.get(0),
    )?)
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<OutboxRow>> {
    super::query_one(
        conn,
        &format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"),
        [id],
        row_to_outbox,
    )
    .optional()?
    .map(decode)
    .transpose()
}

/// The newest calls, of one state or of any. Two statements, not one with
/// `?1 IS NULL OR state = ?1`: that form cannot use the partial indexes, and
/// the few dead calls were found by reading every call back to the oldest.
pub fn list(conn: &Connection, state: Option<&str>, limit: u32) -> Result<Vec<OutboxRow>> {
    let mut stmt = conn.prepare_cached(&list_sql(state.is_some()))?;
    let rows = match state {
        Some(state) => stmt.query_map(params![state, limit], row_to_outbox)?,
        None => stmt.query_map(params![limit], row_to_outbox)?,
    }
    .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(decode).collect()
}

fn list_sql(of_one_state: bool) -> String {
    if of_one_state {
        format!("SELECT {COLUMNS} FROM outbox WHERE state = ?1 ORDER BY id DESC LIMIT ?2")
    } else {
        format!("SELECT {COLUMNS} FROM outbox ORDER BY id DESC LIMIT ?1")
    }
}

/// Every call of an order, newest first (the console's order page).
pub fn for_order(conn: &Connection, channel: &str, order_id: &str) -> Result<Vec<OutboxRow>> {
    let rows = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE channel = ?1 AND order_id = ?2
             ORDER BY id DESC LIMIT 100"
        ))?
        .query_map(params![channel, order_id], row_to_outbox)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(decode).collect()
}

pub fn pending_for_order(conn: &Connection, channel: &str, order_id: &str) -> Result<u32> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*) FROM outbox WHERE state = 'pending' AND channel = ?1 AND order_id = ?2",
        )?
        .query_row(params![channel, order_id], |r| r.get(0))?)
}

/// Pending calls, dead calls, and the age in seconds of the oldest pending
/// one. Read from the partial indexes of pending and dead calls: the table
/// keeps every call ever made, and this runs at start-up, on every scrape,
/// health check and status line.
const DEPTH: &str = "SELECT (SELECT COUNT(*) FROM outbox WHERE state = 'pending'),
            (SELECT COUNT(*) FROM outbox WHERE state = 'dead'),
            (SELECT MIN(budget_from_ms) FROM outbox WHERE state = 'pending')";

/// Pending calls, dead calls, and the age in seconds of the oldest pending one.
pub fn depth(conn: &Connection) -> Result<(i64, i64, Option<i64>)> {
    Ok(super::query_one(conn, DEPTH, [], |r| {
        let oldest: Option<i64> = r.get(2)?;
        Ok((
            r.get(0)?,
            r.get(1)?,
            oldest.map(|ms| (now_ms() - ms).max(0) / 1000),
        ))
    })?)
}

pub fn complete(conn: &Connection, id: i64, now: &str) -> Result<()> {
    super::exec(conn,
        "UPDATE outbox SET state = 'done', attempts = attempts + 1, last_error = NULL, updated_at = ?2
         WHERE id = ?1 AND state = 'pending'",
        params![id, now],
    )?;
    Ok(())
}

pub fn reschedule(conn: &Connection, id: i64, next_ms: i64, error: &str, now: &str) -> Result<()> {
    super::exec(conn,
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = ?2, last_error = ?3, updated_at = ?4
         WHERE id = ?1 AND state = 'pending'",
        params![id, next_ms, error, now],
    )?;
    Ok(())
}

pub fn kill(conn: &Connection, id: i64, error: &str, now: &str) -> Result<()> {
    super::exec(conn,
        "UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_error = ?2, updated_at = ?3
         WHERE id = ?1 AND state = 'pending'",
        params![id, error, now],
    )?;
    Ok(())
}

/// Puts a dead call back in the queue with a fresh retry budget. Returns
/// `false` if the row is not dead.
pub fn retry(conn: &Connection, id: i64, now: &str) -> Result<bool> {
    let ms = now_ms();
    let n = super::exec(conn,
        "UPDATE outbox SET state = 'pending', next_attempt_ms = ?2, budget_from_ms = ?2, updated_at = ?3
         WHERE id = ?1 AND state = 'dead'",
        params![id, ms, now],
    )?;
    Ok(n == 1)
}

/// A person retries a dead call: it goes back in the queue with a fresh
/// budget, the order's attention flag is cleared (the person acted on it; a
/// new failure sets it again) and the change feed records it.
/// `None` when there is no such call, `Some(false)` when it is not dead.
pub fn retry_by_hand(conn: &Connection, id: i64, now: &str) -> Result<Option<bool>> {
    let Some(row) = get(conn, id)? else {
        return Ok(None);
    };
    if !retry(conn, id, now)? {
        return Ok(Some(false));
    }
    let order = row.channel.as_deref().zip(row.order_id.as_deref());
    if let Some((channel, order_id)) = order {
        super::exec(
            conn,
            "UPDATE orders SET attention = NULL, updated_at = ?3 WHERE channel = ?1 AND id = ?2",
            params![channel, order_id, now],
        )?;
    }
    super::events::append(
        conn,
        now,
        order,
        crate::engine::EventKind::CallRetried.as_str(),
        &serde_json::json!({"outbox_id": id, "kind": row.kind}),
    )?;
    Ok(Some(true))
}

/// A person drops a dead call: it will never be made. Its order keeps an
/// attention saying so (what was not sent, who dropped it and why), and the
/// change feed records it. `None` when there is no such call, `Some(false)`
/// when it is not dead.
pub fn drop_by_hand(
    conn: &Connection,
    id: i64,
    by: &str,
    reason: &str,
    now: &str,
) -> Result<Option<bool>> {
    let Some(row) = get(conn, id)? else {
        return Ok(None);
    };
    let why = format!("dropped by {by}: {reason}");
    let n = super::exec(
        conn,
        "UPDATE outbox SET state = 'dropped', last_error = ?2, updated_at = ?3
         WHERE id = ?1 AND state = 'dead'",
        params![id, why, now],
    )?;
    if n != 1 {
        return Ok(Some(false));
    }
    let order = row.channel.as_deref().zip(row.order_id.as_deref());
    if let Some((channel, order_id)) = order {
        let (ja, en) = (
            crate::wording::call_kind(crate::config::Language::Ja, &row.kind),
            crate::wording::call_kind(crate::config::Language::En, &row.kind),
        );
        let attention = format!(
            "{ja}は送信していません({by}が取り下げ: {reason})。本来の処理を手作業で行ってください / \
             the {en} was never sent ({why}); do by hand what it would have done"
        );
        super::exec(
            conn,
            "UPDATE orders SET attention = ?3, updated_at = ?4 WHERE channel = ?1 AND id = ?2",
            params![channel, order_id, attention, now],
        )?;
    }
    super::events::append(
        conn,
        now,
        order,
        crate::engine::EventKind::CallDropped.as_str(),
        &serde_json::json!({"outbox_id": id, "kind": row.kind, "by": by, "reason": reason}),
    )?;
    Ok(Some(true))
}

pub fn cancel_pending_for_order(
    conn: &Connection,
    channel: &str,
    order_id: &str,
    now: &str,
) -> Result<()> {
    super::exec(
        conn,
        "UPDATE outbox SET state = 'cancelled', updated_at = ?3
         WHERE state = 'pending' AND channel = ?1 AND order_id = ?2",
        params![channel, order_id, now],
    )?;
    Ok(())
}

/// Moves a pending call to `next_ms` without counting an attempt: the call
/// was not made (it waits for a pause the provider needs).
pub fn defer(conn: &Connection, id: i64, next_ms: i64, why: &str, now: &str) -> Result<()> {
    conn.execute(
        "UPDATE outbox SET next_attempt_ms = ?2, last_error = ?3, updated_at = ?4
         WHERE id = ?1 AND state = 'pending'",
        params![id, next_ms, why, now],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_reads_the_pending_and_dead_indexes_not_every_call() {
        let conn = super::super::migrated_in_memory();
        let plan = super::super::query_plan(&conn, DEPTH, []);
        assert!(
            plan.lines()
                .all(|step| !step.starts_with("SCAN outbox") || step.contains(" INDEX ")),
            "{plan}"
        );
        assert!(plan.contains("outbox_dead"), "{plan}");
    }

    #[test]
    fn the_newest_dead_calls_are_read_from_their_index() {
        let conn = super::super::migrated_in_memory();
        let plan = super::super::query_plan(&conn, &list_sql(true), params!["dead", 100]);
        assert!(plan.contains("INDEX outbox_dead"), "{plan}");
    }
}
