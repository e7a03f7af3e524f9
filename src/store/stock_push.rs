//! What J-goods is owed about stock: SKUs whose availability changed since the
//! last accepted push. The `stock_push` rows are marked by triggers on `stock`
//! (see the `STOCK_PUSH` migration) inside the transaction that changed the
//! stock, so a committed change always owes a push; the pusher clears a SKU only
//! for the version it actually sent, so a change racing with a push is never lost.

use rusqlite::{Connection, params};

use super::Result;
use crate::domain::available;

/// One SKU to push: its current availability and the change it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwedPush {
    pub sku: String,
    /// The `stock_push.version` read with `stock`; clearing uses it so a later
    /// change stays owed.
    pub version: i64,
    /// Availability now: `on_hand - reserved - safety_stock`, at least 0
    /// (0 for a SKU the mirror no longer has).
    pub stock: u32,
}

/// SKUs owed a push and due at `now_ms`: never pushed, or last pushed at least
/// `interval_ms` ago, and not held back after a refusal. Oldest pushes first.
pub fn due(
    conn: &Connection,
    now_ms: i64,
    interval_ms: i64,
    safety_stock: u32,
    limit: u32,
) -> Result<Vec<OwedPush>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.sku, p.version, COALESCE(s.on_hand, 0), COALESCE(s.reserved, 0)
         FROM stock_push p LEFT JOIN stock s ON s.sku = p.sku
         WHERE p.version > p.pushed_version
           AND p.retry_at_ms <= ?1
           AND (p.pushed_at_ms IS NULL OR p.pushed_at_ms + ?2 <= ?1)
         ORDER BY COALESCE(p.pushed_at_ms, 0), p.sku
         LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![now_ms, interval_ms, limit], |r| {
        Ok(OwedPush {
            sku: r.get(0)?,
            version: r.get(1)?,
            stock: available(r.get(2)?, r.get(3)?, safety_stock),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// When the next owed SKU becomes due (`None`: nothing is owed).
pub fn next_due_ms(conn: &Connection, interval_ms: i64) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT MIN(MAX(COALESCE(pushed_at_ms + ?1, 0), retry_at_ms))
             FROM stock_push WHERE version > pushed_version",
        )?
        .query_row([interval_ms], |r| r.get(0))?)
}

/// J-goods accepted `push.stock` for `push.sku` at `now_ms`.
pub fn accepted(conn: &Connection, push: &OwedPush, now_ms: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE stock_push SET pushed_version = MAX(pushed_version, ?2), pushed_stock = ?3,
                pushed_at_ms = ?4, retry_at_ms = 0, unknown_at = NULL
         WHERE sku = ?1",
    )?
    .execute(params![push.sku, push.version, push.stock, now_ms])?;
    Ok(())
}

/// J-goods does not know the item. The change counts as delivered (retrying
/// could never succeed); the next stock change tries again, in case the
/// merchant registered the item meanwhile. Returns true the first time, so the
/// caller logs it once rather than at every change.
pub fn unknown_item(conn: &Connection, push: &OwedPush, now_ms: i64, now: &str) -> Result<bool> {
    let newly: bool = conn
        .prepare_cached("SELECT unknown_at IS NULL FROM stock_push WHERE sku = ?1")?
        .query_row([&push.sku], |r| r.get(0))?;
    conn.prepare_cached(
        "UPDATE stock_push SET pushed_version = MAX(pushed_version, ?2), pushed_at_ms = ?3,
                retry_at_ms = 0, unknown_at = COALESCE(unknown_at, ?4)
         WHERE sku = ?1",
    )?
    .execute(params![push.sku, push.version, now_ms, now])?;
    Ok(newly)
}

/// Holds SKUs back until `retry_at_ms` (J-goods answered 429 or 5xx).
pub fn hold_back(conn: &Connection, skus: &[&str], retry_at_ms: i64) -> Result<()> {
    let mut stmt = conn.prepare_cached("UPDATE stock_push SET retry_at_ms = ?2 WHERE sku = ?1")?;
    for sku in skus {
        stmt.execute(params![sku, retry_at_ms])?;
    }
    Ok(())
}

/// For the status page and `/metrics`: SKUs owed a push, and the SKUs J-goods
/// said it does not know (with when it first said so).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushSummary {
    pub owed: i64,
    pub unknown: Vec<(String, String)>,
}

pub fn summary(conn: &Connection, unknown_limit: u32) -> Result<PushSummary> {
    let owed = conn.query_row(
        "SELECT COUNT(*) FROM stock_push WHERE version > pushed_version",
        [],
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare_cached(
        "SELECT sku, unknown_at FROM stock_push WHERE unknown_at IS NOT NULL ORDER BY sku LIMIT ?1",
    )?;
    let unknown = stmt
        .query_map([unknown_limit], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(PushSummary { owed, unknown })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::stock::{self, StockLevel};

    fn db() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::schema::migrate(&mut conn).unwrap();
        conn
    }

    fn set(conn: &Connection, sku: &str, on_hand: i64) {
        let level = StockLevel {
            sku: sku.into(),
            on_hand,
            as_of: None,
            tax_rate: None,
        };
        stock::set_level(conn, &level, "2026-11-23T10:00:00+09:00").unwrap();
    }

    fn owed(conn: &Connection, now_ms: i64) -> Vec<(String, u32)> {
        due(conn, now_ms, 1000, 1, 100)
            .unwrap()
            .into_iter()
            .map(|p| (p.sku, p.stock))
            .collect()
    }

    #[test]
    fn every_availability_change_is_owed_and_shipping_is_not() {
        let conn = db();
        set(&conn, "A", 5);
        assert_eq!(owed(&conn, 0), [("A".to_string(), 4)]);
        let push = due(&conn, 0, 1000, 1, 100).unwrap().remove(0);
        accepted(&conn, &push, 0).unwrap();
        assert!(owed(&conn, 5000).is_empty(), "nothing changed since");
        set(&conn, "A", 5);
        assert!(owed(&conn, 5000).is_empty(), "the same count is no change");
        conn.execute(
            "INSERT INTO orders (channel, id, state, payment_state, created_at, updated_at)
             VALUES ('jgoods', 'O1', 'new', 'unpaid', 'x', 'x')",
            [],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO order_lines (channel, order_id, line_no, sku, qty) VALUES ('jgoods', 'O1', 1, 'A', 2)",
            [],
        )
        .unwrap();
        stock::reserve(&conn, ("jgoods", "O1"), 1, "A", 2, 1, "x").unwrap();
        assert_eq!(owed(&conn, 5000), [("A".to_string(), 2)]);
        let push = due(&conn, 5000, 1000, 1, 100).unwrap().remove(0);
        accepted(&conn, &push, 5000).unwrap();
        stock::ship_order(&conn, ("jgoods", "O1"), "y").unwrap();
        assert!(
            owed(&conn, 10_000).is_empty(),
            "shipping moves on_hand and reserved together"
        );
    }

    #[test]
    fn a_change_during_a_push_stays_owed() {
        let conn = db();
        set(&conn, "A", 5);
        let sent = due(&conn, 0, 1000, 0, 100).unwrap().remove(0);
        set(&conn, "A", 3); // arrives while the push is on the wire
        accepted(&conn, &sent, 0).unwrap();
        assert!(owed(&conn, 999).is_empty(), "debounced");
        assert_eq!(next_due_ms(&conn, 1000).unwrap(), Some(1000));
        assert_eq!(owed(&conn, 1000), [("A".to_string(), 2)]);
    }

    #[test]
    fn unknown_items_are_reported_once_and_held_back_skus_wait() {
        let conn = db();
        set(&conn, "X", 1);
        let push = due(&conn, 0, 1000, 0, 100).unwrap().remove(0);
        assert!(unknown_item(&conn, &push, 0, "t1").unwrap());
        assert!(owed(&conn, 10_000).is_empty());
        set(&conn, "X", 2);
        let push = due(&conn, 10_000, 1000, 0, 100).unwrap().remove(0);
        assert!(!unknown_item(&conn, &push, 10_000, "t2").unwrap());
        assert_eq!(
            summary(&conn, 10).unwrap().unknown,
            [("X".to_string(), "t1".to_string())]
        );
        set(&conn, "X", 3);
        hold_back(&conn, &["X"], 50_000).unwrap();
        assert!(owed(&conn, 49_999).is_empty());
        assert_eq!(next_due_ms(&conn, 1000).unwrap(), Some(50_000));
        let push = due(&conn, 50_000, 1000, 0, 100).unwrap().remove(0);
        accepted(&conn, &push, 50_000).unwrap();
        assert_eq!(summary(&conn, 10).unwrap(), PushSummary::default());
    }
}
