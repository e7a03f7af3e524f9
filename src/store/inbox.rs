//! Webhook receipts: every delivery is stored before it is acknowledged, and a
//! delivery id is processed at most once per provider.

use rusqlite::{Connection, params};
use serde_json::Value;

use super::Result;

/// What the receiver knows about one delivery.
#[derive(Debug, Clone)]
pub struct Delivery<'a> {
    pub provider: &'a str,
    pub delivery_id: Option<&'a str>,
    /// The headers worth keeping for audit (never an Authorization header).
    pub headers: Value,
    pub body: &'a [u8],
    pub received_at: &'a str,
}

/// Stores a delivery as processed. Returns `false` when the same delivery id
/// was already processed (a retry or duplicate): the caller acks and stops.
pub fn record_processed(
    conn: &Connection,
    d: &Delivery<'_>,
    order_id: Option<&str>,
) -> Result<bool> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO inbox (provider, delivery_id, received_at, state, order_id, headers, body)
             VALUES (?1, ?2, ?3, 'processed', ?4, ?5, ?6)
             ON CONFLICT (provider, delivery_id) WHERE state = 'processed' AND delivery_id IS NOT NULL
             DO NOTHING",
        )?
        .execute(params![
            d.provider,
            d.delivery_id,
            d.received_at,
            order_id,
            d.headers.to_string(),
            d.body
        ])?;
    Ok(inserted == 1)
}

/// Keeps a refused delivery for audit.
pub fn record_rejected(conn: &Connection, d: &Delivery<'_>, reason: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO inbox (provider, delivery_id, received_at, state, reason, headers, body)
         VALUES (?1, ?2, ?3, 'rejected', ?4, ?5, ?6)",
    )?
    .execute(params![
        d.provider,
        d.delivery_id,
        d.received_at,
        reason,
        d.headers.to_string(),
        d.body
    ])?;
    Ok(())
}

/// Counts by state, for `status` and the tests.
pub fn counts(conn: &Connection, provider: &str) -> Result<(i64, i64)> {
    Ok(super::query_one(
        conn,
        "SELECT COALESCE(SUM(state = 'processed'), 0), COALESCE(SUM(state = 'rejected'), 0)
         FROM inbox WHERE provider = ?1",
        [provider],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}
