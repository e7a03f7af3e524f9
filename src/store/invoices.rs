//! What a J-goods invoice is made of (shipped orders, parcels) and the invoices issued.

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, StoreError};
use crate::invoice::compute::{ShippedLine, ShippedOrder, ShippingCharge};
use crate::invoice::issue::IssuedHead;
use crate::invoice::{Invoice, Period, TaxRate};

fn day(value: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| StoreError::Corrupt(format!("stored date {value:?} is not YYYY-MM-DD")))
}

/// J-goods orders whose first parcel is dated in `period` and that are shipped (a
/// cancelled or unshipped order never is), with the units shipped per line and each SKU's
/// tax rate from the stock record (10% when the mirror has no record).
pub fn shipped_orders(conn: &Connection, period: Period) -> Result<Vec<ShippedOrder>> {
    let heads: Vec<(String, String)> = conn
        .prepare_cached(
            "SELECT o.id, MIN(s.shipped_on) AS first
             FROM orders o JOIN shipments s ON s.channel = o.channel AND s.order_id = o.id
             WHERE o.channel = 'jgoods' AND o.state = 'shipped'
             GROUP BY o.id HAVING first BETWEEN ?1 AND ?2
             ORDER BY first, o.id",
        )?
        .query_map(
            params![period.from.to_string(), period.to.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
        .collect::<rusqlite::Result<_>>()?;
    let mut lines_of = conn.prepare_cached(
        // A line J-goods gave no name takes the product master's.
        "SELECT l.line_no, l.sku,
                COALESCE(NULLIF(l.name, ''),
                         (SELECT json_extract(i.item, '$.name') FROM catalog_items i WHERE i.sku = l.sku),
                         ''),
                l.unit_price, COALESCE(st.tax_rate, 10),
                COALESCE((SELECT SUM(a.qty) FROM allocations a
                          WHERE a.channel = l.channel AND a.order_id = l.order_id
                            AND a.line_no = l.line_no AND a.state = 'shipped'), 0)
         FROM order_lines l LEFT JOIN stock st ON st.sku = l.sku
         WHERE l.channel = 'jgoods' AND l.order_id = ?1 ORDER BY l.line_no",
    )?;
    let mut out = Vec::with_capacity(heads.len());
    for (id, first) in heads {
        let rows: Vec<(u32, String, String, Option<i64>, i64, u32)> = lines_of
            .query_map(params![id], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut lines = Vec::with_capacity(rows.len());
        for (line_no, sku, name, unit_price, rate, qty) in rows {
            lines.push(ShippedLine {
                line_no,
                item_code: sku,
                name,
                qty,
                unit_price,
                tax_rate: TaxRate::from_percent(rate)
                    .ok_or_else(|| StoreError::Corrupt(format!("tax rate {rate}")))?,
            });
        }
        out.push(ShippedOrder {
            order_id: id,
            first_shipped_on: day(&first)?,
            lines,
        });
    }
    Ok(out)
}

/// Parcels of shipped J-goods orders dated in `period` that carry a shipping cost.
pub fn shipping_charges(conn: &Connection, period: Period) -> Result<Vec<ShippingCharge>> {
    let rows: Vec<(String, String, String, String, i64)> = conn
        .prepare_cached(
            "SELECT s.order_id, s.shipped_on, s.carrier, s.tracking_no, s.shipping_cost
             FROM shipments s JOIN orders o ON o.channel = s.channel AND o.id = s.order_id
             WHERE s.channel = 'jgoods' AND o.state = 'shipped'
               AND s.shipping_cost IS NOT NULL AND s.shipped_on BETWEEN ?1 AND ?2
             ORDER BY s.shipped_on, s.order_id, s.id",
        )?
        .query_map(
            params![period.from.to_string(), period.to.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )?
        .collect::<rusqlite::Result<_>>()?;
    rows.into_iter()
        .map(|(order_id, on, carrier, tracking_no, cost)| {
            Ok(ShippingCharge {
                order_id,
                shipped_on: day(&on)?,
                carrier,
                tracking_no,
                cost,
            })
        })
        .collect()
}

/// Every invoice issued, oldest first.
pub fn issued(conn: &Connection) -> Result<Vec<IssuedHead>> {
    let rows: Vec<(i64, String, String, String, String)> = conn
        .prepare_cached(
            "SELECT seq, number, period_from, period_to, issued_on FROM invoices ORDER BY seq",
        )?
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    rows.into_iter()
        .map(|(seq, number, from, to, on)| {
            Ok(IssuedHead {
                seq,
                number,
                period: Period {
                    from: day(&from)?,
                    to: day(&to)?,
                },
                issued_on: day(&on)?,
            })
        })
        .collect()
}

/// The invoice recorded under `number`, as it was issued.
pub fn body(conn: &Connection, number: &str) -> Result<Option<Invoice>> {
    let text: Option<String> = conn
        .prepare_cached("SELECT body FROM invoices WHERE number = ?1")?
        .query_row(params![number], |r| r.get(0))
        .optional()?;
    text.map(|t| {
        serde_json::from_str(&t)
            .map_err(|e| StoreError::Corrupt(format!("invoice {number} body: {e}")))
    })
    .transpose()
}

/// Records an issued invoice.
pub fn record(
    conn: &Connection,
    head: &IssuedHead,
    invoice: &Invoice,
    issued_at: &str,
) -> Result<()> {
    let body = serde_json::to_string(invoice)
        .map_err(|e| StoreError::Invalid(format!("cannot encode the invoice: {e}")))?;
    conn.prepare_cached(
        "INSERT INTO invoices (seq, number, period_from, period_to, grand_total, tax_total,
                               service_fee, expected_transfer, body, issued_on, issued_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        head.seq,
        head.number,
        head.period.from.to_string(),
        head.period.to.to_string(),
        invoice.grand_total,
        invoice.tax_total,
        invoice.service_fee,
        invoice.expected_transfer,
        body,
        head.issued_on.to_string(),
        issued_at
    ])?;
    Ok(())
}
