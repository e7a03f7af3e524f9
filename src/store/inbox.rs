//! Webhook receipts: every delivery is stored before it is acknowledged, and a
//! delivery id is processed at most once per provider.

use rusqlite::{Connection, params};
use serde_json::Value;
use sha2::{Digest, Sha256};

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
/// with the same body was already processed (a retry): the caller acks and
/// stops. The same id with another body is stored and processed (and logged):
/// the id is not signed, so it alone must not drop a genuine delivery.
pub fn record_processed(
    conn: &Connection,
    d: &Delivery<'_>,
    order_id: Option<&str>,
) -> Result<bool> {
    let hash = Sha256::digest(d.body).to_vec();
    if let Some(id) = d.delivery_id {
        let mut seen = conn.prepare_cached(
            "SELECT body_sha256, body FROM inbox
             WHERE provider = ?1 AND delivery_id = ?2 AND state = 'processed'",
        )?;
        let mut rows = seen.query(params![d.provider, id])?;
        let mut reused = false;
        while let Some(row) = rows.next()? {
            let same = match row.get::<_, Option<Vec<u8>>>(0)? {
                Some(stored) => stored == hash,
                None => row.get::<_, Vec<u8>>(1)? == d.body,
            };
            if same {
                return Ok(false);
            }
            reused = true;
        }
        if reused {
            tracing::warn!(
                provider = d.provider,
                delivery_id = id,
                "a delivery id arrived again with another body; processing it as a new delivery"
            );
        }
    }
    conn.prepare_cached(
        "INSERT INTO inbox (provider, delivery_id, received_at, state, order_id, headers, body, body_sha256)
         VALUES (?1, ?2, ?3, 'processed', ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        d.provider,
        d.delivery_id,
        d.received_at,
        order_id,
        d.headers.to_string(),
        d.body,
        hash
    ])?;
    Ok(true)
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
