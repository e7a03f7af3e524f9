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
use ordersync::channels::credit::atobarai_com::DetailStatus;
use ordersync::channels::credit::kuroneko::{TransactionStatus, order_no_for};
use ordersync::channels::jgoods::Status;
use ordersync::channels::komoju::PaymentStatus;
use ordersync::sim::jgoods::DeliveryOutcome as JgoodsOutcome;
use ordersync::sim::komoju::DeliveryOutcome as KomojuOutcome;

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

/// Units held (reserved or shipped) per line of one order.
fn held(db: &Connection, channel: &str, id: &str) -> rusqlite::Result<BTreeMap<u32, u32>> {
    let mut stmt = db.prepare(
        "SELECT line_no, SUM(qty) FROM allocations
         WHERE channel = ?1 AND order_id = ?2 AND state IN ('reserved', 'shipped')
         GROUP BY line_no",
    )?;
    stmt.query_map(params![channel, id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}

fn jgoods_side(db: &Connection, world: &World, l: &Ledger, f: &mut Findings) -> anyhow::Result<()> {
    let stats = world.jgoods.stats();
    for no in &l.jgoods {
        let Some(theirs) = world.jgoods.order(no) else {
            continue;
        };
        let Some(ours) = order_state(db, "jgoods", no)? else {
            f.lost.insert(format!("J-goods order {no} never stored"));
            continue;
        };
        let agree = match theirs.status {
            Status::AwaitingArrival => matches!(ours.as_str(), "confirmed" | "shipped"),
            Status::Cancelled => ours == "cancelled",
            _ => false,
        };
        if !agree {
            f.broken.insert(format!(
                "J-goods order {no}: {:?} there, {ours} here",
                theirs.status
            ));
            continue;
        }
        if theirs.status == Status::AwaitingArrival {
            let ours = held(db, "jgoods", no)?;
            for line in &theirs.lines {
                let here = ours.get(&line.line_no).copied().unwrap_or(0);
                if line.reserved_qty != Some(here) {
                    f.broken.insert(format!(
                        "J-goods order {no} line {}: J-goods has {:?} reserved, the store {here}",
                        line.line_no, line.reserved_qty
                    ));
                }
            }
        }
        // Each decision is one outbox call; J-goods applying more than that
        // means a call took effect twice.
        let decisions: i64 = db.query_row(
            "SELECT COUNT(*) FROM outbox WHERE provider = 'jgoods' AND kind = 'jgoods_put_order' AND order_id = ?1",
            [no],
            |r| r.get(0),
        )?;
        let applied = stats.applied_puts.get(no).copied().unwrap_or(0);
        if i64::try_from(applied).unwrap_or(i64::MAX) > decisions {
            f.doubled.insert(format!(
                "J-goods order {no}: {applied} PUTs applied for {decisions} decisions"
            ));
        }
    }
    Ok(())
}

fn shipped_tracking(db: &Connection, channel: &str, id: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt =
        db.prepare("SELECT tracking_no FROM shipments WHERE channel = ?1 AND order_id = ?2")?;
    stmt.query_map(params![channel, id], |r| r.get(0))?
        .collect()
}

fn rakuten_side(
    db: &Connection,
    world: &World,
    l: &Ledger,
    f: &mut Findings,
) -> anyhow::Result<()> {
    for no in &l.rakuten {
        let Some(theirs) = world.rakuten.order(no) else {
            continue;
        };
        let ours = shipped_tracking(db, "rakuten", no)?;
        let rows: Vec<String> = theirs
            .packages
            .iter()
            .flat_map(|p| p.shipping.iter())
            .filter_map(|r| r.shipping_number.clone())
            .collect();
        if rows.len() > ours.len() {
            f.doubled.insert(format!(
                "Rakuten order {no}: {} shipping rows for {} shipments",
                rows.len(),
                ours.len()
            ));
        }
        for t in &ours {
            if !rows.contains(t) {
                f.broken
                    .insert(format!("Rakuten order {no}: shipment {t} never registered"));
            }
        }
    }
    Ok(())
}

fn komoju_side(db: &Connection, world: &World, l: &Ledger, f: &mut Findings) -> anyhow::Result<()> {
    let stats = world.komoju.stats();
    for (id, d) in &l.direct {
        let Some(payment_id) = &d.payment_id else {
            continue;
        };
        let counts = stats.payment(payment_id);
        for (what, n) in [
            ("captured", counts.captures),
            ("cancelled", counts.cancels),
            ("refunded", counts.refunds),
        ] {
            if n > 1 {
                f.doubled.insert(format!(
                    "KOMOJU payment {payment_id} of {id} {what} {n} times"
                ));
            }
        }
        let Some(theirs) = world.komoju.payment(payment_id) else {
            continue;
        };
        let state = order_state(db, "direct", id)?.unwrap_or_default();
        let expected = match state.as_str() {
            "shipped" => PaymentStatus::Captured,
            "cancelled" => PaymentStatus::Cancelled,
            _ => PaymentStatus::Authorized,
        };
        if theirs.status != expected {
            f.broken.insert(format!(
                "KOMOJU payment {payment_id}: {:?} there, order {id} {state} here",
                theirs.status
            ));
        }
    }
    Ok(())
}

fn kuroneko_side(
    db: &Connection,
    world: &World,
    l: &Ledger,
    f: &mut Findings,
) -> anyhow::Result<()> {
    for (id, d) in &l.direct {
        if d.method != "kuroneko" {
            continue;
        }
        // Every attempt Yamato knows of, live ones apart.
        let attempts: Vec<_> = (1..=20)
            .map_while(|a| world.kuroneko.order(&order_no_for(id, a)))
            .collect();
        let live: Vec<_> = attempts
            .iter()
            .filter(|o| !matches!(o.status, Some(TransactionStatus::Cancelled)))
            .collect();
        if live.len() > 1 {
            f.doubled.insert(format!(
                "Kuroneko: {} live transactions for {id}",
                live.len()
            ));
        }
        let state = order_state(db, "direct", id)?.unwrap_or_default();
        let tracking = shipped_tracking(db, "direct", id)?;
        match state.as_str() {
            "cancelled" if !live.is_empty() => {
                f.broken.insert(format!(
                    "Kuroneko: {id} is cancelled here, {} is live there",
                    live[0].order_no
                ));
            }
            "shipped" => {
                let registered = live
                    .iter()
                    .any(|o| tracking.iter().any(|t| o.payment_no.as_deref() == Some(t)));
                if !registered {
                    f.broken
                        .insert(format!("Kuroneko: the shipment of {id} is not registered"));
                }
            }
            "cancelled" => {}
            _ if live.is_empty() => {
                f.lost.insert(format!(
                    "Kuroneko: no credit transaction for {id} ({state})"
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

fn atobarai_side(
    db: &Connection,
    world: &World,
    l: &Ledger,
    f: &mut Findings,
) -> anyhow::Result<()> {
    let mut by_order: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for o in world.atobarai.orders() {
        by_order.entry(o.ent_order_id.clone()).or_default().push(o);
    }
    for (id, d) in &l.direct {
        if d.method != "atobarai_com" {
            continue;
        }
        let theirs = by_order.remove(id).unwrap_or_default();
        let live: Vec<_> = theirs
            .iter()
            .filter(|o| {
                !matches!(
                    o.status,
                    DetailStatus::Cancelled
                        | DetailStatus::CancelRequested
                        | DetailStatus::CreditNg
                )
            })
            .collect();
        if live.len() > 1 {
            f.doubled
                .insert(format!("Atobarai.com: {} live orders for {id}", live.len()));
        }
        let state = order_state(db, "direct", id)?.unwrap_or_default();
        let tracking = shipped_tracking(db, "direct", id)?;
        match state.as_str() {
            "cancelled" if !live.is_empty() => {
                f.broken.insert(format!(
                    "Atobarai.com: {id} is cancelled here, {} is live there",
                    live[0].system_order_id
                ));
            }
            "shipped" => {
                let registered = live.iter().any(|o| {
                    o.journal_number
                        .as_ref()
                        .is_some_and(|j| tracking.contains(j))
                });
                if !registered {
                    f.broken.insert(format!(
                        "Atobarai.com: the shipment of {id} is not registered"
                    ));
                }
            }
            "cancelled" => {}
            _ if live.is_empty() => {
                f.lost
                    .insert(format!("Atobarai.com: no order for {id} ({state})"));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Stock as the merchant sees it: available = on_hand − open reservations
/// (no safety stock here), and on_hand = the last count less what shipped
/// after it was counted (as_of).
fn stock_levels(db: &Connection, l: &Ledger, api: &Value, f: &mut Findings) -> anyhow::Result<()> {
    let listed = api["stock"].as_array().cloned().unwrap_or_default();
    for (sku, (counted, as_of)) in &l.stock {
        let (on_hand, reserved): (i64, i64) = db.query_row(
            "SELECT on_hand, reserved FROM stock WHERE sku = ?1",
            [sku],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        // Times have whole seconds: a shipment in the second of the count
        // may have been in it or not, so on_hand lies between two bounds.
        let (after, same_second): (i64, i64) = db.query_row(
            "SELECT COALESCE(SUM(CASE WHEN shipped_at > ?2 THEN qty END), 0),
                    COALESCE(SUM(CASE WHEN shipped_at = ?2 THEN qty END), 0)
             FROM allocations WHERE sku = ?1 AND state = 'shipped'",
            params![sku, as_of],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let most = (counted - after).max(0);
        let least = (counted - after - same_second).max(0);
        if !(least..=most).contains(&on_hand) {
            f.broken.insert(format!(
                "stock {sku}: on_hand {on_hand}, but {counted} were counted at {as_of} and {after} (+{same_second} in that second) shipped since"
            ));
        }
        let shown = listed.iter().find(|s| s["sku"] == sku.as_str());
        let available = shown.and_then(|s| s["available"].as_i64());
        if available != Some((on_hand - reserved).max(0)) {
            f.broken.insert(format!(
                "stock {sku}: the API shows {available:?} available, on_hand {on_hand} − reserved {reserved}"
            ));
        }
    }
    Ok(())
}
