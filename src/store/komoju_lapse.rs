//! KOMOJU authorizations still waiting for their capture: what the lapse
//! watch reads and writes.

use rusqlite::{Connection, params};
use serde_json::json;

use super::{Result, events};

/// An authorized, unshipped, uncancelled order without attention, with the
/// time (RFC 3339) KOMOJU authorized it: the payment's own `created_at`
/// (cards authorize at creation) as its latest `payment.authorized` event
/// recorded it, else when the daemon heard of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub channel: String,
    pub id: String,
    pub authorized_at: String,
}

/// Every order still holding a KOMOJU card authorization and needing no
/// person yet (a konbini slip or bank account waiting for the customer is
/// not an authorization that lapses: it ends at its deadline).
pub fn waiting(conn: &Connection) -> Result<Vec<Waiting>> {
    let mut stmt = conn.prepare_cached(
        "SELECT channel, id, authorized_at FROM (
           SELECT o.channel, o.id,
                  (SELECT COALESCE(json_extract(e.detail, '$.authorized_at'), e.at)
                     FROM events e
                    WHERE e.channel = o.channel AND e.order_id = o.id
                      AND e.kind = 'payment.authorized'
                      AND COALESCE(json_extract(e.detail, '$.awaiting_customer'), 0) = 0
                    ORDER BY e.id DESC LIMIT 1) AS authorized_at
             FROM orders o
            WHERE o.payment_state = 'authorized'
              AND o.state NOT IN ('shipped', 'cancelled')
              AND o.attention IS NULL)
          WHERE authorized_at IS NOT NULL",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Waiting {
            channel: r.get(0)?,
            id: r.get(1)?,
            authorized_at: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Puts `reason` on the order (if it has no attention yet) with its event.
pub fn flag(conn: &Connection, w: &Waiting, reason: &str, now: &str) -> Result<bool> {
    let changed = conn
        .prepare_cached(
            "UPDATE orders SET attention = ?3, updated_at = ?4
              WHERE channel = ?1 AND id = ?2 AND attention IS NULL",
        )?
        .execute(params![w.channel, w.id, reason, now])?;
    if changed > 0 {
        events::append(
            conn,
            now,
            Some((&w.channel, &w.id)),
            crate::engine::EventKind::PaymentAuthorizationLapsing.as_str(),
            &json!({"authorized_at": w.authorized_at, "reason": reason}),
        )?;
    }
    Ok(changed > 0)
}
