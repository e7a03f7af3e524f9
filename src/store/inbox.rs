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
    /// A digest of what the sender signed (for a timestamped HMAC, the
    /// timestamp and the body), when the channel has one: the same signed
    /// bytes again within [`REPLAY_WINDOW_SECS`] are a duplicate whatever
    /// delivery id they carry.
    pub signed_sha256: Option<&'a [u8]>,
}

/// How long a signed body is remembered as received: twice a five-minute
/// timestamp window (a timestamp may be that far either side of now), so
/// the same signed bytes are refused as too old before they are forgotten.
pub const REPLAY_WINDOW_SECS: i64 = 600;

/// Stores a delivery as processed. Returns `false` when the same delivery id
/// with the same body was already processed (a retry), or the same signed
/// bytes were within [`REPLAY_WINDOW_SECS`] (a captured delivery replayed
/// with a new id): the caller acks and stops. The same id with another body is stored and processed (and logged):
/// the id is not signed, so it alone must not drop a genuine delivery.
pub fn record_processed(
    conn: &Connection,
    d: &Delivery<'_>,
    order_id: Option<&str>,
) -> Result<bool> {
    let hash = Sha256::digest(d.body).to_vec();
    if let Some(signed) = d.signed_sha256
        && signed_recently(conn, d.provider, signed, d.received_at)?
    {
        tracing::warn!(
            provider = d.provider,
            delivery_id = d.delivery_id.unwrap_or("-"),
            "the same signed body arrived again under another delivery id; a duplicate"
        );
        return Ok(false);
    }
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
        "INSERT INTO inbox (provider, delivery_id, received_at, state, order_id, headers, body,
                            body_sha256, signed_sha256)
         VALUES (?1, ?2, ?3, 'processed', ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        d.provider,
        d.delivery_id,
        d.received_at,
        order_id,
        d.headers.to_string(),
        d.body,
        hash,
        d.signed_sha256
    ])?;
    Ok(true)
}

/// Whether these signed bytes were processed within [`REPLAY_WINDOW_SECS`]
/// before `received_at`.
fn signed_recently(
    conn: &Connection,
    provider: &str,
    signed: &[u8],
    received_at: &str,
) -> Result<bool> {
    // `received_at` is the daemon's own clock in RFC 3339, as stored.
    let since = chrono::DateTime::parse_from_rfc3339(received_at)
        .ok()
        .and_then(|t| t.checked_sub_signed(chrono::Duration::seconds(REPLAY_WINDOW_SECS)))
        .map(crate::domain::time::rfc3339)
        .unwrap_or_default();
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM inbox WHERE provider = ?1 AND signed_sha256 = ?2
             AND state = 'processed' AND received_at >= ?3 LIMIT 1",
        )?
        .exists(params![provider, signed, since])?)
}

/// Rejected deliveries kept at most (the newest); older ones are pruned.
pub const MAX_REJECTED_KEPT: i64 = 100_000;
/// Pruning runs once per this many rejected deliveries.
const PRUNE_EVERY: i64 = 512;

/// Keeps a refused delivery for audit. A flood of refused deliveries (no
/// credential needed to send one) keeps only the newest
/// [`MAX_REJECTED_KEPT`], so it cannot fill the disk.
pub fn record_rejected(
    conn: &Connection,
    d: &Delivery<'_>,
    reason: &str,
    claimed_order: Option<&str>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO inbox (provider, delivery_id, received_at, state, reason, headers, body, order_id)
         VALUES (?1, ?2, ?3, 'rejected', ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        d.provider,
        d.delivery_id,
        d.received_at,
        reason,
        d.headers.to_string(),
        d.body,
        claimed_order
    ])?;
    if conn.last_insert_rowid() % PRUNE_EVERY == 0 {
        prune_rejected(conn, MAX_REJECTED_KEPT)?;
    }
    Ok(())
}

/// Deletes the rejected deliveries older than the newest `keep`.
pub fn prune_rejected(conn: &Connection, keep: i64) -> Result<usize> {
    Ok(conn
        .prepare_cached(
            "DELETE FROM inbox WHERE state = 'rejected' AND received_at <= (
                 SELECT received_at FROM inbox WHERE state = 'rejected'
                 ORDER BY received_at DESC LIMIT 1 OFFSET ?1)",
        )?
        .execute([keep])?)
}

/// Refused deliveries of one provider for one reason since a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedSummary {
    pub provider: String,
    /// The error code answered (`unauthorized`, `invalid_body`, …).
    pub code: String,
    pub count: i64,
    /// Of them, those of the last hour.
    pub last_hour: i64,
    /// The newest one's time (RFC 3339).
    pub last_at: String,
}

/// Refused deliveries since `since`, per provider and code, most first.
pub fn rejected_since(
    conn: &Connection,
    since: &str,
    hour_ago: &str,
) -> Result<Vec<RejectedSummary>> {
    let mut stmt = conn.prepare_cached(
        "SELECT provider, CASE WHEN instr(reason, ':') > 0
                    THEN substr(reason, 1, instr(reason, ':') - 1) ELSE reason END AS code,
                COUNT(*), COALESCE(SUM(received_at >= ?2), 0), MAX(received_at)
         FROM inbox WHERE state = 'rejected' AND received_at >= ?1
         GROUP BY provider, code ORDER BY COUNT(*) DESC LIMIT 20",
    )?;
    let rows = stmt.query_map(params![since, hour_ago], |r| {
        Ok(RejectedSummary {
            provider: r.get(0)?,
            code: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            count: r.get(2)?,
            last_hour: r.get(3)?,
            last_at: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A webhook received for an order, as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub provider: String,
    pub delivery_id: Option<String>,
    pub received_at: String,
    /// `processed` or `rejected`.
    pub state: String,
    pub reason: Option<String>,
}

/// Verified deliveries an order's page lists (the newest).
pub const ORDER_VERIFIED_SHOWN: u32 = 100;
/// Refused deliveries naming an order shown as a sample (the newest); the
/// rest are only counted, so forged posts cannot fill the page.
pub const ORDER_REFUSED_SAMPLE: u32 = 10;

/// The webhooks received for an order, verified and refused kept apart: a
/// refused delivery only claims the order (anyone can post one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderDeliveries {
    /// Processed deliveries, newest first, at most [`ORDER_VERIFIED_SHOWN`].
    pub verified: Vec<Received>,
    /// How many refused deliveries named the order.
    pub refused: i64,
    /// The newest of them, at most [`ORDER_REFUSED_SAMPLE`].
    pub refused_sample: Vec<Received>,
}

/// The webhooks received for `order_id`.
pub fn for_order(conn: &Connection, order_id: &str) -> Result<OrderDeliveries> {
    let read = |state: &str, limit: u32| -> Result<Vec<Received>> {
        Ok(conn
            .prepare_cached(
                "SELECT provider, delivery_id, received_at, state, reason FROM inbox
                 WHERE order_id = ?1 AND state = ?2 ORDER BY id DESC LIMIT ?3",
            )?
            .query_map(params![order_id, state, limit], |r| {
                Ok(Received {
                    provider: r.get(0)?,
                    delivery_id: r.get(1)?,
                    received_at: r.get(2)?,
                    state: r.get(3)?,
                    reason: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    };
    let refused = conn
        .prepare_cached("SELECT COUNT(*) FROM inbox WHERE order_id = ?1 AND state = 'rejected'")?
        .query_row([order_id], |r| r.get(0))?;
    Ok(OrderDeliveries {
        verified: read("processed", ORDER_VERIFIED_SHOWN)?,
        refused,
        refused_sample: read("rejected", ORDER_REFUSED_SAMPLE)?,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_refused_deliveries_keeps_only_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = crate::store::open_connection(&dir.path().join("t.sqlite")).unwrap();
        crate::store::schema::migrate(&mut conn).unwrap();
        for i in 0..10 {
            let at = format!("2026-12-03T10:00:{i:02}+09:00");
            let d = Delivery {
                provider: "jgoods",
                delivery_id: None,
                received_at: &at,
                headers: serde_json::json!({}),
                body: b"x",
                signed_sha256: None,
            };
            record_rejected(&conn, &d, "unauthorized: bad signature", None).unwrap();
        }
        assert_eq!(prune_rejected(&conn, 3).unwrap(), 7);
        let left = rejected_since(
            &conn,
            "2026-12-03T00:00:00+09:00",
            "2026-12-03T10:00:08+09:00",
        )
        .unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(
            (left[0].code.as_str(), left[0].count, left[0].last_hour),
            ("unauthorized", 3, 2)
        );
        assert_eq!(left[0].last_at, "2026-12-03T10:00:09+09:00");
    }
}
