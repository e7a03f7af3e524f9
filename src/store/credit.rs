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

/// Orders of `provider` whose credit is still under review (and was sent).
pub fn under_review(conn: &Connection, provider: DeferredProvider) -> Result<Vec<Followed>> {
    followed(
        conn,
        "SELECT c.channel, c.order_id, o.payment_reference FROM credit_checks c
         JOIN orders o ON o.channel = c.channel AND o.id = c.order_id
         WHERE c.provider = ?1 AND c.result = 'pending' AND o.payment_reference IS NOT NULL
           AND o.state != 'cancelled'
         ORDER BY c.rowid",
        provider,
    )
}

/// Orders of `provider` whose shipment is registered and whose transaction
/// has not ended (paid or cancelled) yet.
pub fn awaiting_payment(conn: &Connection, provider: DeferredProvider) -> Result<Vec<Followed>> {
    followed(
        conn,
        "SELECT c.channel, c.order_id, o.payment_reference FROM credit_checks c
         JOIN orders o ON o.channel = c.channel AND o.id = c.order_id
         WHERE c.provider = ?1 AND c.shipment_tracking IS NOT NULL
           AND o.payment_reference IS NOT NULL
           AND COALESCE(c.transaction_status, '') NOT IN ('paid', 'cancelled')
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
