//! Credit checks of deferred-payment orders (table `credit_checks`).

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, parse_enum};
use crate::domain::Channel;
use crate::domain::credit::{CreditCase, CreditVerdict, DeferredProvider, Transaction};
use crate::engine::CreditWrite;

/// The credit check of an order, if it has one.
pub fn load(conn: &Connection, channel: Channel, id: &str) -> Result<Option<CreditCase>> {
    let row = conn
        .prepare_cached(
            "SELECT provider, attempt, result, checked_at, requested_at_ms,
                    shipment_carrier, shipment_tracking, transaction_status
             FROM credit_checks WHERE channel = ?1 AND order_id = ?2",
        )?
        .query_row(params![channel.as_str(), id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, u32>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        })
        .optional()?;
    let Some((provider, attempt, result, checked_at, requested_at_ms, carrier, tracking, tx)) = row
    else {
        return Ok(None);
    };
    Ok(Some(CreditCase {
        provider: parse_enum(&provider, DeferredProvider::parse, "credit provider")?,
        attempt,
        result: parse_enum(&result, CreditVerdict::parse, "credit result")?,
        checked_at,
        requested_at_ms,
        registered: carrier.zip(tracking),
        transaction: tx
            .map(|t| parse_enum(&t, Transaction::parse, "transaction status"))
            .transpose()?,
    }))
}

/// Applies a [`CreditWrite`]: starts the check when it names a provider,
/// then changes the fields it sets.
pub fn write(conn: &Connection, key: (&str, &str), w: &CreditWrite) -> Result<()> {
    if let Some(p) = w.provider {
        conn.prepare_cached(
            "INSERT INTO credit_checks (channel, order_id, provider) VALUES (?1, ?2, ?3)
             ON CONFLICT (channel, order_id) DO UPDATE SET provider = excluded.provider",
        )?
        .execute(params![key.0, key.1, p.as_str()])?;
    }
    let (carrier, tracking) = w.registered.clone().unzip();
    conn.prepare_cached(
        "UPDATE credit_checks SET
            attempt = COALESCE(?3, attempt),
            result = COALESCE(?4, result),
            checked_at = COALESCE(?5, checked_at),
            requested_at_ms = COALESCE(?6, requested_at_ms),
            shipment_carrier = COALESCE(?7, shipment_carrier),
            shipment_tracking = COALESCE(?8, shipment_tracking),
            transaction_status = COALESCE(?9, transaction_status)
         WHERE channel = ?1 AND order_id = ?2",
    )?
    .execute(params![
        key.0,
        key.1,
        w.attempt,
        w.result.map(CreditVerdict::as_str),
        w.checked_at,
        w.requested_at_ms,
        carrier,
        tracking,
        w.transaction.map(Transaction::as_str),
    ])?;
    Ok(())
}

/// An order the credit poller follows, with the provider's id of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Followed {
    pub channel: Channel,
    pub order_id: String,
    pub reference: String,
}

/// How long after the request a credit under review is polled at every
/// turn of its poller; after that, at most every [`SLOW_POLL_MS`]
/// (Atobarai.com's suggested cadence: every 5 minutes for the first hour,
/// then every 30 minutes).
pub const EAGER_POLL_MS: i64 = 60 * 60 * 1000;
pub const SLOW_POLL_MS: i64 = 30 * 60 * 1000;

/// Orders of `provider` whose credit is still under review (and was sent)
/// and due for a poll at `now_ms`.
pub fn under_review(
    conn: &Connection,
    provider: DeferredProvider,
    now_ms: i64,
) -> Result<Vec<Followed>> {
    let rows: Vec<(String, String, String)> = conn
        .prepare_cached(
            "SELECT c.channel, c.order_id, o.payment_reference FROM credit_checks c
             JOIN orders o ON o.channel = c.channel AND o.id = c.order_id
             WHERE c.provider = ?1 AND c.result = 'pending' AND o.payment_reference IS NOT NULL
               AND o.state != 'cancelled'
               AND (c.requested_at_ms IS NULL OR c.polled_at_ms IS NULL
                    OR ?2 - c.requested_at_ms < ?3 OR ?2 - c.polled_at_ms >= ?4)
             ORDER BY c.rowid",
        )?
        .query_map(
            params![provider.as_str(), now_ms, EAGER_POLL_MS, SLOW_POLL_MS],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?
        .collect::<rusqlite::Result<_>>()?;
    to_followed(rows)
}

/// Records that an order's credit was polled at `now_ms`.
pub fn mark_polled(conn: &Connection, channel: Channel, id: &str, now_ms: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE credit_checks SET polled_at_ms = ?3 WHERE channel = ?1 AND order_id = ?2",
    )?
    .execute(params![channel.as_str(), id, now_ms])?;
    Ok(())
}

/// Orders of `provider` whose shipment is registered and whose transaction
/// has not ended (paid, closed unpaid or cancelled) yet.
pub fn awaiting_payment(conn: &Connection, provider: DeferredProvider) -> Result<Vec<Followed>> {
    followed(
        conn,
        "SELECT c.channel, c.order_id, o.payment_reference FROM credit_checks c
         JOIN orders o ON o.channel = c.channel AND o.id = c.order_id
         WHERE c.provider = ?1 AND c.shipment_tracking IS NOT NULL
           AND o.payment_reference IS NOT NULL
           AND COALESCE(c.transaction_status, '') NOT IN ('paid', 'closed_unpaid', 'cancelled')
         ORDER BY c.rowid",
        provider,
    )
}

fn followed(conn: &Connection, sql: &str, provider: DeferredProvider) -> Result<Vec<Followed>> {
    let rows: Vec<(String, String, String)> = conn
        .prepare_cached(sql)?
        .query_map([provider.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    to_followed(rows)
}

fn to_followed(rows: Vec<(String, String, String)>) -> Result<Vec<Followed>> {
    rows.into_iter()
        .map(|(ch, order_id, reference)| {
            Ok(Followed {
                channel: parse_enum(&ch, Channel::parse, "channel")?,
                order_id,
                reference,
            })
        })
        .collect()
}

/// The registration of an order as received (customer, ship-to, fees, order
/// date): what a credit application is built from.
pub fn registration_detail(
    conn: &Connection,
    channel: Channel,
    id: &str,
) -> Result<Option<serde_json::Value>> {
    let text: Option<String> = conn
        .prepare_cached("SELECT detail FROM orders WHERE channel = ?1 AND id = ?2")?
        .query_row(params![channel.as_str(), id], |r| r.get(0))
        .optional()?
        .flatten();
    text.map(|t| {
        serde_json::from_str(&t)
            .map_err(|e| super::StoreError::Corrupt(format!("order {id}: detail: {e}")))
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3600 * 1000;
    const NOW: i64 = 100 * HOUR;

    /// A direct order under review with Kuroneko, requested at `requested`.
    fn under_review_order(conn: &Connection, id: &str, requested: i64, polled: Option<i64>) {
        conn.execute(
            "INSERT INTO orders (channel, id, state, payment_state, created_at, updated_at,
                                 payment_method, payment_reference)
             VALUES ('direct', ?1, 'allocated', 'credit_pending', 't', 't', 'kuroneko', ?1)",
            [id],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO credit_checks (channel, order_id, provider, requested_at_ms, polled_at_ms)
             VALUES ('direct', ?1, 'kuroneko', ?2, ?3)",
            params![id, requested, polled],
        )
        .unwrap();
    }

    fn due(conn: &Connection) -> Vec<String> {
        under_review(conn, DeferredProvider::Kuroneko, NOW)
            .unwrap()
            .into_iter()
            .map(|f| f.order_id)
            .collect()
    }

    #[test]
    fn reviews_are_polled_every_turn_for_an_hour_then_every_half_hour() {
        let conn = crate::store::migrated_in_memory();
        under_review_order(&conn, "FRESH", NOW - HOUR / 2, Some(NOW - 60_000));
        under_review_order(&conn, "NEVER", NOW - 5 * HOUR, None);
        under_review_order(&conn, "RECENT", NOW - 5 * HOUR, Some(NOW - 10 * 60_000));
        under_review_order(&conn, "STALE", NOW - 5 * HOUR, Some(NOW - SLOW_POLL_MS));
        assert_eq!(due(&conn), ["FRESH", "NEVER", "STALE"]);
        mark_polled(&conn, Channel::Direct, "STALE", NOW).unwrap();
        mark_polled(&conn, Channel::Direct, "NEVER", NOW).unwrap();
        assert_eq!(due(&conn), ["FRESH"]);
    }
}
