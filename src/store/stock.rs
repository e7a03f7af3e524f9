//! The inventory mirror: `on_hand` pushed by the ERP, `reserved` held by
//! allocations, and availability derived from both.

use super::Tx;
use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{Result, StoreError};
use crate::domain::available;

/// One SKU as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockRow {
    pub sku: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: u32,
    pub tax_rate: i64,
    pub as_of: Option<String>,
    pub updated_at: String,
}

/// An absolute stock level from the ERP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockLevel {
    pub sku: String,
    pub on_hand: i64,
    /// When the ERP counted it; shipments recorded after this are subtracted.
    pub as_of: Option<String>,
    pub tax_rate: Option<i64>,
}

impl StockLevel {
    /// A count of `on_hand` units taken now (no `as_of`, tax rate kept).
    pub fn counted(sku: &str, on_hand: i64) -> StockLevel {
        StockLevel {
            sku: sku.to_string(),
            on_hand,
            as_of: None,
            tax_rate: None,
        }
    }
}

const COLUMNS: &str = "sku, on_hand, reserved, tax_rate, as_of, updated_at";

fn row_to_stock(row: &rusqlite::Row<'_>, safety_stock: u32) -> rusqlite::Result<StockRow> {
    let on_hand: i64 = row.get(1)?;
    let reserved: i64 = row.get(2)?;
    Ok(StockRow {
        sku: row.get(0)?,
        on_hand,
        reserved,
        available: available(on_hand, reserved, safety_stock),
        tax_rate: row.get(3)?,
        as_of: row.get(4)?,
        updated_at: row.get(5)?,
    })
}

pub fn get(conn: &Tx<'_>, sku: &str) -> Result<Option<StockRow>> {
    let safety_stock = conn.safety_stock();
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM stock WHERE sku = ?1"),
            [sku],
            |r| row_to_stock(r, safety_stock),
        )
        .optional()?)
}

pub fn list(conn: &Tx<'_>) -> Result<Vec<StockRow>> {
    let safety_stock = conn.safety_stock();
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM stock ORDER BY sku"))?;
    let rows = stmt.query_map([], |r| row_to_stock(r, safety_stock))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Up to `limit` rows in SKU order, after `after` (from the start when `None`).
pub fn page(conn: &Tx<'_>, after: Option<&str>, limit: u32) -> Result<Vec<StockRow>> {
    let safety_stock = conn.safety_stock();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM stock WHERE ?1 IS NULL OR sku > ?1 ORDER BY sku LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![after, limit], |r| row_to_stock(r, safety_stock))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Up to `limit` rows in SKU order from `from` (included): the console's
/// stock page starts at the SKU typed.
pub fn page_from(conn: &Tx<'_>, from: &str, limit: u32) -> Result<Vec<StockRow>> {
    let safety_stock = conn.safety_stock();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM stock WHERE sku >= ?1 ORDER BY sku LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![from, limit], |r| row_to_stock(r, safety_stock))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Up to `limit` rows with at most `threshold` available, least first.
pub fn low(conn: &Tx<'_>, threshold: u32, limit: u32) -> Result<Vec<StockRow>> {
    let safety_stock = conn.safety_stock();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM stock WHERE MAX(on_hand - reserved - ?1, 0) <= ?2
         ORDER BY MAX(on_hand - reserved - ?1, 0), sku LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![safety_stock, threshold, limit], |r| {
        row_to_stock(r, safety_stock)
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The `limit` SKUs with the least available stock (ties by SKU), as
/// `(sku, available)`: what `/metrics` exposes per SKU without growing with
/// the catalogue.
pub fn least_available(conn: &Tx<'_>, limit: usize) -> Result<Vec<(String, i64)>> {
    let safety_stock = conn.safety_stock();
    let mut stmt = conn.prepare_cached(
        "SELECT sku, MAX(on_hand - reserved - ?1, 0) AS free FROM stock
         ORDER BY free, sku LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![safety_stock, limit as i64], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Free units of each SKU (a SKU the mirror has never heard of has 0).
pub fn available_map<'a>(
    conn: &Tx<'_>,
    skus: impl IntoIterator<Item = &'a str>,
) -> Result<HashMap<String, u32>> {
    let safety_stock = conn.safety_stock();
    let mut stmt = conn.prepare_cached("SELECT on_hand, reserved FROM stock WHERE sku = ?1")?;
    let mut out = HashMap::new();
    for sku in skus {
        if out.contains_key(sku) {
            continue;
        }
        let free = stmt
            .query_row([sku], |r| Ok(available(r.get(0)?, r.get(1)?, safety_stock)))
            .optional()?
            .unwrap_or(0);
        out.insert(sku.to_string(), free);
    }
    Ok(out)
}

/// Units of a SKU shipped after a time: a range of the `allocations_shipped`
/// index, so a count costs the same with a million orders behind it.
pub(super) const SHIPPED_SINCE: &str = "SELECT COALESCE(SUM(qty), 0) FROM allocations
     WHERE sku = ?1 AND state = 'shipped' AND shipped_at > ?2";

/// Sets the absolute level of one SKU. A level counted before shipments this
/// daemon already subtracted does not count those shipments twice.
pub fn set_level(conn: &Connection, level: &StockLevel, now: &str) -> Result<()> {
    if level.on_hand < 0 {
        return Err(StoreError::Invalid(format!(
            "{}: on_hand must be 0 or more",
            level.sku
        )));
    }
    let shipped_since: i64 = match &level.as_of {
        Some(as_of) => {
            super::query_one(conn, SHIPPED_SINCE, params![level.sku, as_of], |r| r.get(0))?
        }
        None => 0,
    };
    let on_hand = (level.on_hand - shipped_since).max(0);
    super::exec(
        conn,
        "INSERT INTO stock (sku, on_hand, tax_rate, as_of, updated_at)
         VALUES (?1, ?2, COALESCE(?3, 10), ?4, ?5)
         ON CONFLICT (sku) DO UPDATE SET
            on_hand = excluded.on_hand,
            tax_rate = COALESCE(?3, stock.tax_rate),
            as_of = excluded.as_of,
            updated_at = excluded.updated_at",
        params![level.sku, on_hand, level.tax_rate, level.as_of, now],
    )?;
    Ok(())
}

/// Holds `qty` units for an order line. Refuses (and so rolls the whole
/// decision back) if that would take availability below zero: the last line
/// of defence against overselling.
pub fn reserve(
    conn: &Tx<'_>,
    order: (&str, &str),
    line_no: u32,
    sku: &str,
    qty: u32,
    now: &str,
) -> Result<()> {
    let free = available_map(conn, [sku])?.get(sku).copied().unwrap_or(0);
    if qty > free {
        return Err(StoreError::Invalid(format!(
            "refusing to reserve {qty} of {sku}: only {free} available"
        )));
    }
    super::exec(conn,
        "INSERT INTO allocations (channel, order_id, line_no, sku, qty, state, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'reserved', ?6, ?6)",
        params![order.0, order.1, line_no, sku, qty, now],
    )?;
    super::exec(
        conn,
        "UPDATE stock SET reserved = reserved + ?2 WHERE sku = ?1",
        params![sku, qty],
    )?;
    Ok(())
}

/// Units still reserved for an order, per SKU.
fn reserved_by_sku(conn: &Connection, order: (&str, &str)) -> Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT sku, SUM(qty) FROM allocations
         WHERE channel = ?1 AND order_id = ?2 AND state = 'reserved' GROUP BY sku",
    )?;
    let held = stmt
        .query_map(params![order.0, order.1], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(held)
}

/// Gives back every unit still reserved for an order; returns the SKUs freed.
pub fn release_order(conn: &Connection, order: (&str, &str), now: &str) -> Result<Vec<String>> {
    let held = reserved_by_sku(conn, order)?;
    for (sku, qty) in &held {
        super::exec(
            conn,
            "UPDATE stock SET reserved = reserved - ?2 WHERE sku = ?1",
            params![sku, qty],
        )?;
    }
    super::exec(
        conn,
        "UPDATE allocations SET state = 'released', updated_at = ?3
         WHERE channel = ?1 AND order_id = ?2 AND state = 'reserved'",
        params![order.0, order.1, now],
    )?;
    Ok(held.into_iter().map(|(sku, _)| sku).collect())
}

/// Gives back up to `qty` units reserved for one line, newest reservation
/// first; returns the SKU freed, if any unit was.
pub fn release_line(
    conn: &Connection,
    order: (&str, &str),
    line_no: u32,
    qty: u32,
    now: &str,
) -> Result<Option<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, sku, qty FROM allocations
         WHERE channel = ?1 AND order_id = ?2 AND line_no = ?3 AND state = 'reserved' ORDER BY id DESC",
    )?;
    let rows: Vec<(i64, String, u32)> = stmt
        .query_map(params![order.0, order.1, line_no], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut left = qty;
    let mut freed = None;
    for (id, sku, held) in rows {
        if left == 0 {
            break;
        }
        let take = held.min(left);
        if take == held {
            super::exec(
                conn,
                "UPDATE allocations SET state = 'released', updated_at = ?2 WHERE id = ?1",
                params![id, now],
            )?;
        } else {
            super::exec(
                conn,
                "UPDATE allocations SET qty = qty - ?2, updated_at = ?3 WHERE id = ?1",
                params![id, take, now],
            )?;
        }
        super::exec(
            conn,
            "UPDATE stock SET reserved = reserved - ?2 WHERE sku = ?1",
            params![sku, take],
        )?;
        left -= take;
        freed = Some(sku);
    }
    Ok(freed)
}

/// Turns every reservation of an order into shipped stock: `reserved` and
/// `on_hand` both go down, so `available` is unchanged and the mirror stays
/// right until the ERP's next count. Returns the units shipped.
pub fn ship_order(conn: &Connection, order: (&str, &str), now: &str) -> Result<u32> {
    let held = reserved_by_sku(conn, order)?;
    for (sku, qty) in &held {
        super::exec(
            conn,
            "UPDATE stock SET reserved = reserved - ?2, on_hand = on_hand - ?2, updated_at = ?3 WHERE sku = ?1",
            params![sku, qty, now],
        )?;
    }
    super::exec(
        conn,
        "UPDATE allocations SET state = 'shipped', shipped_at = ?3, updated_at = ?3
         WHERE channel = ?1 AND order_id = ?2 AND state = 'reserved'",
        params![order.0, order.1, now],
    )?;
    Ok(held.iter().map(|(_, q)| *q as u32).sum())
}

/// Checks the mirror's invariants; returns a description of each breach.
/// Used by `status`, the tests and the crash checks.
pub fn invariant_breaches(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.sku, s.reserved, COALESCE(a.open, 0)
         FROM stock s LEFT JOIN (
            SELECT sku, SUM(qty) AS open FROM allocations WHERE state = 'reserved' GROUP BY sku
         ) a ON a.sku = s.sku
         WHERE s.reserved != COALESCE(a.open, 0)",
    )?;
    let mut out: Vec<String> = stmt
        .query_map([], |r| {
            Ok(format!(
                "{}: reserved {} but open allocations sum to {}",
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let orphan: i64 = super::query_one(
        conn,
        "SELECT COUNT(*) FROM allocations a WHERE state = 'reserved'
         AND NOT EXISTS (SELECT 1 FROM stock s WHERE s.sku = a.sku)",
        [],
        |r| r.get(0),
    )?;
    if orphan > 0 {
        out.push(format!(
            "{orphan} reservations for SKUs without a stock row"
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stock_count_reads_recent_shipments_not_every_allocation() {
        let conn = super::super::migrated_in_memory();
        let plan = super::super::query_plan(
            &conn,
            SHIPPED_SINCE,
            params!["B-1", "2026-11-23T10:00:00+09:00"],
        );
        assert!(
            plan.contains("INDEX allocations_shipped (shipped_at>?)"),
            "{plan}"
        );
    }
}
