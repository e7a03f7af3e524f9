//! What the soak asserts, read from the daemon's SQLite file and the
//! simulators: nothing acknowledged was lost, nothing was done twice at a
//! provider, and the store's own invariants hold.
//!
//! Each check first copies what was acknowledged (the ledger, the
//! simulators' delivery records), then opens one read transaction on the
//! store: an acknowledgement is only sent after its commit, so everything
//! copied must be in that snapshot, even while the daemon keeps working.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rusqlite::{Connection, OpenFlags, params};
use serde_json::Value;

use super::load::{Ledger, SharedLedger};
use super::world::World;
use ordersync::providers::credit::kuroneko::order_no_for;
use ordersync_sim::atobarai_com::DataStatus;
use ordersync_sim::jgoods::DeliveryOutcome as JgoodsOutcome;
use ordersync_sim::jgoods::Status;
use ordersync_sim::komoju::{DeliveryOutcome as KomojuOutcome, PaymentStatus};
use ordersync_sim::kuroneko::KuronekoStatus;

mod sides;
use sides::*;

/// Findings of one check, by kind.
#[derive(Debug, Default)]
pub struct Findings {
    /// Acknowledged inputs the store does not show.
    pub lost: BTreeSet<String>,
    /// Provider calls whose effect happened more than once, and allocations
    /// of one line beyond its quantity.
    pub doubled: BTreeSet<String>,
    /// Anything else inconsistent. A finding seen after several restarts
    /// counts once.
    pub broken: BTreeSet<String>,
}

impl Findings {
    pub fn add(&mut self, other: Findings) {
        self.lost.extend(other.lost);
        self.doubled.extend(other.doubled);
        self.broken.extend(other.broken);
    }

    pub fn is_clean(&self) -> bool {
        self.lost.is_empty() && self.doubled.is_empty() && self.broken.is_empty()
    }
}

/// A copy of what had been acknowledged when the check began.
struct Acked {
    jgoods_deliveries: Vec<(String, String)>,
    komoju_events: Vec<(String, Option<String>)>,
    direct: Vec<String>,
    shipped: BTreeMap<(String, String), String>,
    cancelled: BTreeSet<(String, String)>,
    stock: BTreeMap<String, (i64, String)>,
}

impl Acked {
    fn copy(world: &World, ledger: &SharedLedger) -> Acked {
        let jgoods_deliveries = world
            .jgoods
            .stats()
            .deliveries
            .into_iter()
            .filter(|d| d.outcome == JgoodsOutcome::Acked)
            .map(|d| (d.delivery_id, d.order_no))
            .collect();
        let komoju_events = world
            .komoju
            .stats()
            .deliveries
            .into_iter()
            .filter(|d| d.outcome == KomojuOutcome::Acked)
            .map(|d| (d.event_id, d.payment_id))
            .collect();
        let l = ledger.lock();
        Acked {
            jgoods_deliveries,
            komoju_events,
            direct: l.direct.keys().cloned().collect(),
            shipped: l.shipped.clone(),
            cancelled: l.cancelled.clone(),
            stock: l.stock.clone(),
        }
    }
}

/// A read-only connection: the soak never writes the daemon's store.
pub fn open(db: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(conn)
}

/// The checks run after every restart: acknowledged inputs and the store's
/// invariants.
pub fn after_restart(db: &Path, world: &World, ledger: &SharedLedger) -> anyhow::Result<Findings> {
    let acked = Acked::copy(world, ledger);
    let mut conn = open(db)?;
    let tx = conn.transaction()?;
    let mut f = Findings::default();
    lost(&tx, &acked, &mut f)?;
    invariants(&tx, &mut f)?;
    Ok(f)
}

/// Inputs acknowledged but not in the store.
fn lost(db: &Connection, acked: &Acked, f: &mut Findings) -> anyhow::Result<()> {
    let processed = |provider: &str| -> rusqlite::Result<BTreeSet<String>> {
        let mut stmt = db.prepare(
            "SELECT delivery_id FROM inbox
             WHERE provider = ?1 AND state = 'processed' AND delivery_id IS NOT NULL",
        )?;
        stmt.query_map([provider], |r| r.get(0))?.collect()
    };
    let jgoods = processed("jgoods")?;
    for (delivery, order) in &acked.jgoods_deliveries {
        if !jgoods.contains(delivery) {
            f.lost.insert(format!(
                "J-goods webhook {delivery} ({order}) acked, not stored"
            ));
        }
    }
    let komoju = processed("komoju")?;
    for (event, payment) in &acked.komoju_events {
        if !komoju.contains(event) {
            f.lost.insert(format!(
                "KOMOJU event {event} ({}) acked, not stored",
                payment.as_deref().unwrap_or("-")
            ));
        }
    }
    for id in &acked.direct {
        if order_state(db, "direct", id)?.is_none() {
            f.lost
                .insert(format!("direct order {id} acked, not stored"));
        }
    }
    for ((channel, id), tracking) in &acked.shipped {
        let n: i64 = db.query_row(
            "SELECT COUNT(*) FROM shipments WHERE channel = ?1 AND order_id = ?2 AND tracking_no = ?3",
            params![channel, id, tracking],
            |r| r.get(0),
        )?;
        if n == 0 {
            f.lost.insert(format!(
                "shipment {tracking} of {channel}/{id} acked, not stored"
            ));
        }
    }
    for (channel, id) in &acked.cancelled {
        let state = order_state(db, channel, id)?;
        if state.as_deref() != Some("cancelled") {
            f.lost.insert(format!(
                "cancel of {channel}/{id} acked, the order is {state:?}"
            ));
        }
    }
    for (sku, (_, as_of)) in &acked.stock {
        let stored: Option<String> = db
            .query_row("SELECT as_of FROM stock WHERE sku = ?1", [sku], |r| {
                r.get(0)
            })
            .ok()
            .flatten();
        let older = match stored.as_deref() {
            Some(s) => is_before(s, as_of),
            None => true,
        };
        if older {
            f.lost.insert(format!(
                "stock of {sku} counted at {as_of} acked, the store has {stored:?}"
            ));
        }
    }
    Ok(())
}

fn is_before(a: &str, b: &str) -> bool {
    match (
        chrono::DateTime::parse_from_rfc3339(a),
        chrono::DateTime::parse_from_rfc3339(b),
    ) {
        (Ok(a), Ok(b)) => a < b,
        _ => a < b,
    }
}

fn order_state(db: &Connection, channel: &str, id: &str) -> rusqlite::Result<Option<String>> {
    use rusqlite::OptionalExtension;
    db.query_row(
        "SELECT state FROM orders WHERE channel = ?1 AND id = ?2",
        params![channel, id],
        |r| r.get(0),
    )
    .optional()
}

/// Rows of a query as tuples of strings (and numbers rendered as text).
fn rows(db: &Connection, sql: &str) -> rusqlite::Result<Vec<Vec<String>>> {
    let mut stmt = db.prepare(sql)?;
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        (0..n)
            .map(|i| {
                let v: rusqlite::types::Value = r.get(i)?;
                Ok(match v {
                    rusqlite::types::Value::Null => "NULL".to_string(),
                    rusqlite::types::Value::Integer(i) => i.to_string(),
                    rusqlite::types::Value::Real(x) => x.to_string(),
                    rusqlite::types::Value::Text(t) => t,
                    rusqlite::types::Value::Blob(_) => "<blob>".to_string(),
                })
            })
            .collect()
    })?
    .collect()
}

/// The store agrees with itself.
fn invariants(db: &Connection, f: &mut Findings) -> anyhow::Result<()> {
    for r in rows(
        db,
        "SELECT s.sku, s.reserved, COALESCE(SUM(a.qty), 0) FROM stock s
         LEFT JOIN allocations a ON a.sku = s.sku AND a.state = 'reserved'
         GROUP BY s.sku HAVING s.reserved != COALESCE(SUM(a.qty), 0)",
    )? {
        f.broken.insert(format!(
            "stock {}: reserved {} but open allocations hold {}",
            r[0], r[1], r[2]
        ));
    }
    for r in rows(
        db,
        "SELECT l.channel, l.order_id, l.line_no, l.qty, SUM(a.qty) FROM order_lines l
         JOIN allocations a ON a.channel = l.channel AND a.order_id = l.order_id
              AND a.line_no = l.line_no AND a.state IN ('reserved', 'shipped')
         GROUP BY l.channel, l.order_id, l.line_no HAVING SUM(a.qty) > l.qty",
    )? {
        f.doubled.insert(format!(
            "{}/{} line {}: {} units allocated for {} ordered",
            r[0], r[1], r[2], r[4], r[3]
        ));
    }
    for r in rows(
        db,
        "SELECT o.channel, o.id, o.state FROM orders o
         WHERE o.state IN ('cancelled', 'shipped', 'new')
           AND EXISTS (SELECT 1 FROM allocations a WHERE a.channel = o.channel
                       AND a.order_id = o.id AND a.state = 'reserved')",
    )? {
        f.broken
            .insert(format!("{}/{} is {} yet holds stock", r[0], r[1], r[2]));
    }
    for r in rows(
        db,
        "SELECT o.channel, o.id FROM orders o WHERE o.state = 'shipped'
           AND NOT EXISTS (SELECT 1 FROM shipments s WHERE s.channel = o.channel AND s.order_id = o.id)",
    )? {
        f.broken
            .insert(format!("{}/{} is shipped without a shipment", r[0], r[1]));
    }
    for r in rows(
        db,
        "SELECT o.channel, o.id, o.state FROM orders o
         WHERE o.state IN ('new', 'allocated', 'short', 'confirmed')
           AND EXISTS (SELECT 1 FROM allocations a WHERE a.channel = o.channel
                       AND a.order_id = o.id AND a.state = 'shipped')",
    )? {
        f.broken.insert(format!(
            "{}/{} is {} yet has shipped stock",
            r[0], r[1], r[2]
        ));
    }
    // Too little stock for a direct or Rakuten order is the merchant's
    // business, not a fault; any other reason for attention is.
    let short = format!("{}%", ordersync::engine::restock::SHORT_PREFIX);
    for r in rows(
        db,
        &format!(
            "SELECT channel, id, attention FROM orders
             WHERE attention IS NOT NULL AND attention NOT LIKE '{short}'"
        ),
    )? {
        f.broken
            .insert(format!("{}/{} needs attention: {}", r[0], r[1], r[2]));
    }
    for r in rows(
        db,
        "SELECT id, provider, kind, COALESCE(order_id, '-'), COALESCE(last_error, '') FROM outbox WHERE state = 'dead'",
    )? {
        f.broken.insert(format!(
            "outbox call {} ({} {} for {}) is dead: {}",
            r[0], r[1], r[2], r[3], r[4]
        ));
    }
    Ok(())
}

/// Whether everything the load started has finished: no webhook waiting, no
/// call pending, every order imported and decided, J-goods told the stock.
pub fn settled(db: &Path, world: &World, ledger: &SharedLedger) -> anyhow::Result<Option<String>> {
    let (jgoods, rakuten) = {
        let l = ledger.lock();
        (l.jgoods.clone(), l.rakuten.clone())
    };
    let jg = world.jgoods.stats();
    if jg
        .deliveries
        .iter()
        .any(|d| d.outcome == JgoodsOutcome::Pending)
    {
        return Ok(Some("J-goods webhooks are still being delivered".into()));
    }
    if world
        .komoju
        .stats()
        .deliveries
        .iter()
        .any(|d| d.outcome == KomojuOutcome::Pending)
    {
        return Ok(Some("KOMOJU webhooks are still being delivered".into()));
    }
    for no in &jgoods {
        let status = world.jgoods.order(no).map(|o| o.status);
        if !matches!(status, Some(Status::AwaitingArrival | Status::Cancelled)) {
            return Ok(Some(format!("J-goods order {no} is at {status:?}")));
        }
    }
    let conn = open(db)?;
    for no in &rakuten {
        match order_state(&conn, "rakuten", no)?.as_deref() {
            None | Some("new") => {
                return Ok(Some(format!("Rakuten order {no} is not imported yet")));
            }
            _ => {}
        }
    }
    let pending: i64 = conn.query_row(
        "SELECT COUNT(*) FROM outbox WHERE state = 'pending'",
        [],
        |r| r.get(0),
    )?;
    if pending > 0 {
        return Ok(Some(format!("{pending} outbox calls pending")));
    }
    let credit: i64 = conn.query_row(
        "SELECT COUNT(*) FROM credit_checks c JOIN orders o ON o.channel = c.channel AND o.id = c.order_id
         WHERE o.state != 'cancelled' AND (c.result = 'pending'
            OR (o.state = 'shipped' AND COALESCE(c.transaction_status, '') != 'shipment_registered'))",
        [],
        |r| r.get(0),
    )?;
    if credit > 0 {
        return Ok(Some(format!(
            "{credit} credit checks or shipment registrations unfinished"
        )));
    }
    let pushed = world.jgoods.stats().stock;
    for r in rows(&conn, "SELECT sku, MAX(on_hand - reserved, 0) FROM stock")? {
        let told = pushed.get(&r[0]).map(u64::to_string);
        if told.as_deref() != Some(r[1].as_str()) {
            return Ok(Some(format!(
                "J-goods was told {told:?} of {} available {}",
                r[0], r[1]
            )));
        }
    }
    Ok(None)
}

/// The end of the run: everything [`after_restart`] checks, plus orders the
/// daemon had to find itself, each provider's side of every order, and the
/// stock as the admin API shows it.
pub fn at_end(
    db: &Path,
    world: &World,
    ledger: &SharedLedger,
    api_stock: &Value,
) -> anyhow::Result<Findings> {
    let mut f = after_restart(db, world, ledger)?;
    let conn = open(db)?;
    let l = ledger.lock();
    for no in &l.rakuten {
        if order_state(&conn, "rakuten", no)?.is_none() {
            f.lost.insert(format!("Rakuten order {no} never imported"));
        }
    }
    jgoods_side(&conn, world, &l, &mut f)?;
    rakuten_side(&conn, world, &l, &mut f)?;
    komoju_side(&conn, world, &l, &mut f)?;
    kuroneko_side(&conn, world, &l, &mut f)?;
    atobarai_side(&conn, world, &l, &mut f)?;
    stock_levels(&conn, &l, api_stock, &mut f)?;
    Ok(f)
}
