//! The sellers (出品者) of a KOMOJU Platform Model merchant: the master
//! (each seller's KOMOJU sub-merchant, review state and fee rule), which
//! seller sells each order line, the captures held for a seller not live
//! yet, and each seller's ledger as ordersync booked it.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{Result, StoreError, exec};

/// One seller of the master.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Seller {
    /// The merchant's own code for the seller (出品者コード), also its key in
    /// the product master and on order lines.
    pub code: String,
    /// The seller's name, as KOMOJU's sub-merchant carries it too.
    pub name: String,
    /// KOMOJU's sub-merchant id; `None` until KOMOJU created it.
    pub submerchant_id: Option<String>,
    /// The live application's state as KOMOJU last told it
    /// (`not_applied`, `incomplete`, `pending`, `accepted`, `declined`).
    pub review_status: String,
    /// Whether KOMOJU pays the seller out: only then may a split name it.
    pub payouts_enabled: bool,
    /// The platform fee, in basis points of the seller's share (1000 = 10%).
    pub fee_bps: u32,
    /// The least fee per order line, in yen, when the merchant wants one.
    pub fee_min_per_line: Option<i64>,
    /// When KOMOJU's state was last read.
    pub checked_at: Option<String>,
    /// When the seller was entered.
    pub created_at: String,
    /// When the row last changed.
    pub updated_at: String,
}

impl Seller {
    /// Whether a payment may be split to the seller: KOMOJU accepted it
    /// and pays it out.
    pub fn is_live(&self) -> bool {
        self.submerchant_id.is_some() && self.payouts_enabled
    }
}

const COLUMNS: &str = "code, name, submerchant_id, review_status, payouts_enabled, fee_bps, \
                       fee_min_per_line, checked_at, created_at, updated_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Seller> {
    Ok(Seller {
        code: r.get(0)?,
        name: r.get(1)?,
        submerchant_id: r.get(2)?,
        review_status: r.get(3)?,
        payouts_enabled: r.get(4)?,
        fee_bps: r.get(5)?,
        fee_min_per_line: r.get(6)?,
        checked_at: r.get(7)?,
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

/// Enters a new seller; `false` when the code (or the sub-merchant id) is
/// taken.
pub fn insert(conn: &Connection, s: &Seller) -> Result<bool> {
    let n = exec(
        conn,
        "INSERT INTO sellers (code, name, submerchant_id, review_status, payouts_enabled, fee_bps,
                              fee_min_per_line, checked_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
         ON CONFLICT DO NOTHING",
        params![
            s.code,
            s.name,
            s.submerchant_id,
            s.review_status,
            s.payouts_enabled,
            s.fee_bps,
            s.fee_min_per_line,
            s.checked_at,
            s.created_at
        ],
    )?;
    Ok(n == 1)
}

/// One seller by code.
pub fn get(conn: &Connection, code: &str) -> Result<Option<Seller>> {
    let sql = format!("SELECT {COLUMNS} FROM sellers WHERE code = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([code], row)
        .optional()?)
}

/// One seller by its KOMOJU sub-merchant id.
pub fn by_submerchant(conn: &Connection, id: &str) -> Result<Option<Seller>> {
    let sql = format!("SELECT {COLUMNS} FROM sellers WHERE submerchant_id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id], row).optional()?)
}

/// Every seller, by code (a merchant has tens, not thousands).
pub fn list(conn: &Connection) -> Result<Vec<Seller>> {
    let sql = format!("SELECT {COLUMNS} FROM sellers ORDER BY code LIMIT 10000");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([], row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Links a seller to the sub-merchant KOMOJU created for it (once: a
/// seller linked already keeps its id).
pub fn link(conn: &Connection, code: &str, submerchant_id: &str, now: &str) -> Result<bool> {
    let n = exec(
        conn,
        "UPDATE sellers SET submerchant_id = ?2, updated_at = ?3
         WHERE code = ?1 AND submerchant_id IS NULL",
        params![code, submerchant_id, now],
    )?;
    Ok(n == 1)
}

/// Records KOMOJU's review state of a seller.
pub fn set_state(
    conn: &Connection,
    code: &str,
    review_status: &str,
    payouts_enabled: bool,
    now: &str,
) -> Result<()> {
    let n = exec(
        conn,
        "UPDATE sellers SET review_status = ?2, payouts_enabled = ?3, checked_at = ?4,
                            updated_at = CASE WHEN review_status = ?2 AND payouts_enabled = ?3
                                              THEN updated_at ELSE ?4 END
         WHERE code = ?1",
        params![code, review_status, payouts_enabled, now],
    )?;
    if n == 0 {
        return Err(StoreError::Invalid(format!("no seller {code}")));
    }
    Ok(())
}

/// Records which seller sells each line of an order (lines without one are
/// the merchant's own).
pub fn set_line_sellers(
    conn: &Connection,
    channel: &str,
    order_id: &str,
    lines: &[(u32, String)],
) -> Result<()> {
    for (line_no, code) in lines {
        exec(
            conn,
            "INSERT INTO order_line_sellers (channel, order_id, line_no, seller_code)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (channel, order_id, line_no) DO UPDATE SET seller_code = excluded.seller_code",
            params![channel, order_id, line_no, code],
        )?;
    }
    Ok(())
}

/// The seller of each line of an order that has one, by line number.
pub fn line_sellers(
    conn: &Connection,
    channel: &str,
    order_id: &str,
) -> Result<Vec<(u32, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT line_no, seller_code FROM order_line_sellers
         WHERE channel = ?1 AND order_id = ?2 ORDER BY line_no",
    )?;
    let rows = stmt.query_map(params![channel, order_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Sets (or, with `None`, clears) the product master's seller of a SKU.
pub fn set_catalog_seller(conn: &Connection, sku: &str, code: Option<&str>) -> Result<()> {
    match code {
        Some(code) => exec(
            conn,
            "INSERT INTO catalog_sellers (sku, seller_code) VALUES (?1, ?2)
             ON CONFLICT (sku) DO UPDATE SET seller_code = excluded.seller_code",
            params![sku, code],
        )?,
        None => exec(conn, "DELETE FROM catalog_sellers WHERE sku = ?1", [sku])?,
    };
    Ok(())
}

/// The product master's seller of a SKU.
pub fn catalog_seller(conn: &Connection, sku: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT seller_code FROM catalog_sellers WHERE sku = ?1")?
        .query_row([sku], |r| r.get(0))
        .optional()?)
}

/// A capture held because a seller of the order is not live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    /// The order's channel.
    pub channel: String,
    /// The order's id.
    pub order_id: String,
    /// The KOMOJU payment to capture.
    pub payment_id: String,
}

/// Holds an order's capture until its sellers are live.
pub fn hold(conn: &Connection, h: &Hold, reason: &str, now: &str) -> Result<()> {
    exec(
        conn,
        "INSERT INTO komoju_capture_holds (channel, order_id, payment_id, reason, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (channel, order_id) DO UPDATE SET reason = excluded.reason",
        params![h.channel, h.order_id, h.payment_id, reason, now],
    )?;
    Ok(())
}

/// Every held capture, oldest first.
pub fn holds(conn: &Connection) -> Result<Vec<Hold>> {
    let mut stmt = conn.prepare_cached(
        "SELECT channel, order_id, payment_id FROM komoju_capture_holds ORDER BY created_at LIMIT 10000",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Hold {
            channel: r.get(0)?,
            order_id: r.get(1)?,
            payment_id: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Releases a held capture.
pub fn release(conn: &Connection, channel: &str, order_id: &str) -> Result<()> {
    exec(
        conn,
        "DELETE FROM komoju_capture_holds WHERE channel = ?1 AND order_id = ?2",
        params![channel, order_id],
    )?;
    Ok(())
}

/// One booking of a seller's ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Booking {
    /// The seller's code.
    pub seller_code: String,
    /// `sale`, `refund` or `transfer`.
    pub kind: String,
    /// The order's channel, for sales and refunds.
    pub channel: Option<String>,
    /// The order's id, for sales and refunds.
    pub order_id: Option<String>,
    /// The KOMOJU payment, for sales and refunds.
    pub payment_id: Option<String>,
    /// Yen: the seller's share of a sale (positive), what a refund takes
    /// back (negative), a transfer to (positive) or from (negative) it.
    pub amount: i64,
    /// Yen: the platform fee on a sale (positive), the fee a refund
    /// returns (negative).
    pub fee: i64,
    /// Why (a transfer's reason).
    pub reason: Option<String>,
    /// Unique per KOMOJU booking (the outbox row and the seller), so a
    /// replayed answer books nothing twice.
    pub reference: String,
    /// When (RFC 3339).
    pub at: String,
}

/// Books a row of a seller's ledger; `false` when its reference is booked already.
pub fn book(conn: &Connection, b: &Booking) -> Result<bool> {
    let n = exec(
        conn,
        "INSERT INTO seller_ledger (seller_code, kind, channel, order_id, payment_id, amount, fee,
                                    reason, reference, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (reference) DO NOTHING",
        params![
            b.seller_code,
            b.kind,
            b.channel,
            b.order_id,
            b.payment_id,
            b.amount,
            b.fee,
            b.reason,
            b.reference,
            b.at
        ],
    )?;
    Ok(n == 1)
}

/// A seller's bookings from `from` (inclusive) to `to` (exclusive), RFC
/// 3339 texts in UTC compared as stored; oldest first.
pub fn bookings(conn: &Connection, code: &str, from: &str, to: &str) -> Result<Vec<Booking>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seller_code, kind, channel, order_id, payment_id, amount, fee, reason, reference, at
         FROM seller_ledger WHERE seller_code = ?1 AND at >= ?2 AND at < ?3 ORDER BY id LIMIT 100000",
    )?;
    let rows = stmt.query_map(params![code, from, to], |r| {
        Ok(Booking {
            seller_code: r.get(0)?,
            kind: r.get(1)?,
            channel: r.get(2)?,
            order_id: r.get(3)?,
            payment_id: r.get(4)?,
            amount: r.get(5)?,
            fee: r.get(6)?,
            reason: r.get(7)?,
            reference: r.get(8)?,
            at: r.get(9)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// What each seller still holds of a payment in ordersync's books (sales
/// less refunds): `(seller, amount, fee)`, by seller; sellers holding
/// nothing left out.
pub fn held_of_payment(conn: &Connection, payment_id: &str) -> Result<Vec<(String, i64, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seller_code, SUM(amount), SUM(fee) FROM seller_ledger
         WHERE payment_id = ?1 AND kind IN ('sale', 'refund')
         GROUP BY seller_code HAVING SUM(amount) > 0 ORDER BY seller_code",
    )?;
    let rows = stmt.query_map([payment_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
