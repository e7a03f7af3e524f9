//! Yahoo! orders applied to the store, each in one transaction with its
//! `yahoo_orders` row: imports and re-reads, the mark-seen calls owed, and
//! the lists the poller works from.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};

use super::YahooOrder;
use super::rules::{self, Seen};
use crate::domain::{Channel, OrderState, time};
use crate::engine::{Call, Decision};
use crate::store::{self, Store, Tx, orders, stock};

const CHANNEL: Channel = Channel::Yahoo;

fn load_seen(tx: &rusqlite::Connection, id: &str) -> rusqlite::Result<Option<Seen>> {
    tx.prepare_cached("SELECT read_only, seen, announced FROM yahoo_orders WHERE order_id = ?1")?
        .query_row([id], |r| {
            Ok(Seen {
                read_only: r.get(0)?,
                seen: r.get(1)?,
                announced: r.get(2)?,
            })
        })
        .optional()
}

/// Applies one order read from Yahoo! (decision, stock, row, in one
/// transaction). Returns the kinds of the events written.
pub async fn apply_order(store: &Store, order: YahooOrder) -> store::Result<Vec<String>> {
    store
        .write(move |tx| {
            let now = time::rfc3339(time::now());
            let id = order.order_id.clone();
            let stored = orders::load(tx, CHANNEL, &id)?;
            let seen = load_seen(tx, &id)?.unwrap_or_default();
            let lines = rules::lines_of(&order);
            let available = stock::available_map(tx, lines.iter().map(|l| l.sku.as_str()))?;
            let outcome = rules::decide(&order, stored.as_ref().map(|o| (o, seen)), &available);
            orders::apply(tx, CHANNEL, &id, &outcome.decision, &now)?;
            // Kept even for an order not taken in (cancelled, 完了 at first
            // sight): it is read again only when what orderList shows of it moves.
            let s = outcome.seen.unwrap_or_default();
            {
                tx.prepare_cached(
                    "INSERT INTO yahoo_orders (order_id, listed, read_only, seen, announced)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (order_id) DO UPDATE SET listed = ?2, read_only = ?3,
                       seen = ?4, announced = ?5",
                )?
                .execute(params![
                    id,
                    order.listed,
                    s.read_only,
                    s.seen,
                    s.announced
                ])?;
            }
            Ok(outcome
                .decision
                .events
                .iter()
                .map(|e| e.kind.as_str().to_string())
                .collect())
        })
        .await
}

/// Every Yahoo! order the store holds with what orderList showed of it
/// ([`super::fingerprint`]) when last read.
pub async fn known(store: &Store) -> store::Result<HashMap<String, String>> {
    store
        .read(|c| {
            let mut stmt = c.prepare_cached("SELECT order_id, listed FROM yahoo_orders")?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
        .await
}

/// When the oldest order still open here (neither cancelled nor shipped)
/// was placed: the hourly sweep reaches back to it.
pub async fn oldest_open(store: &Store) -> store::Result<Option<String>> {
    store
        .read(|c| {
            Ok(c.prepare_cached(
                "SELECT MIN(ordered_at) FROM orders WHERE channel = 'yahoo'
                 AND state NOT IN ('cancelled', 'shipped')",
            )?
            .query_row([], |r| r.get(0))?)
        })
        .await
}

/// Owes a mark-seen call for every order fully held, out of the cancel
/// window and not yet seen (once each: `seen_owed`); confirms at once the
/// ones Yahoo! already shows as seen. Returns how many calls were owed.
pub async fn owe_mark_seen(store: &Store) -> store::Result<usize> {
    store
        .write(|tx| {
            let now = time::rfc3339(time::now());
            let rows: Vec<(String, bool)> = tx
                .prepare_cached(
                    "SELECT y.order_id, y.seen FROM yahoo_orders y
                     JOIN orders o ON o.channel = 'yahoo' AND o.id = y.order_id
                     WHERE o.state = 'allocated' AND y.read_only = 0 AND y.seen_owed = 0",
                )?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let mut owed = 0;
            for (id, seen) in rows {
                let d = if seen {
                    match orders::load(tx, CHANNEL, &id)? {
                        Some(o) => rules::decide_marked_seen(&o),
                        None => continue,
                    }
                } else {
                    owed += 1;
                    Decision {
                        calls: vec![Call::YahooMarkSeen {
                            order_id: id.clone(),
                        }],
                        ..Default::default()
                    }
                };
                orders::apply(tx, CHANNEL, &id, &d, &now)?;
                set_seen_owed(tx, &id, !seen)?;
            }
            Ok(owed)
        })
        .await
}

fn set_seen_owed(tx: &Tx<'_>, id: &str, owed: bool) -> store::Result<()> {
    tx.prepare_cached("UPDATE yahoo_orders SET seen_owed = ?2 WHERE order_id = ?1")?
        .execute(params![id, owed])?;
    Ok(())
}

/// Records that Yahoo! took the mark: seen, and 処理中 here if fully held.
pub fn marked_seen(tx: &Tx<'_>, id: &str) -> store::Result<Decision> {
    tx.prepare_cached("UPDATE yahoo_orders SET seen = 1, seen_owed = 0 WHERE order_id = ?1")?
        .execute([id])?;
    let d = match orders::load(tx, CHANNEL, id)? {
        Some(o) if o.state == OrderState::Allocated => rules::decide_marked_seen(&o),
        _ => Decision::default(),
    };
    Ok(d)
}
