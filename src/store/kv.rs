//! Small named values of the daemon: poll cursors, last successful polls,
//! licence expiry, channel-wide problems.

use rusqlite::{Connection, OptionalExtension, params};

use super::Result;

pub fn get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM kv WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

pub fn set(conn: &Connection, key: &str, value: &str, now: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO kv (key, value, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )?
    .execute(params![key, value, now])?;
    Ok(())
}

/// Key of this installation's random id.
pub const INSTALLATION_ID: &str = "installation_id";

/// This installation's random id (32 hex digits), made on first use and
/// kept: it makes the idempotency keys sent to a provider unique to this
/// database, so a reset store or a second installation on the same account
/// never reuses another's key (and never gets another request's answer).
pub fn installation_id(conn: &Connection, now: &str) -> Result<String> {
    if let Some(id) = get(conn, INSTALLATION_ID)? {
        return Ok(id);
    }
    let id = format!("{:032x}", rand::random::<u128>());
    set(conn, INSTALLATION_ID, &id, now)?;
    Ok(id)
}

pub fn delete(conn: &Connection, key: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM kv WHERE key = ?1")?
        .execute([key])?;
    Ok(())
}

/// Every value whose key starts with `prefix`, sorted by key.
pub fn with_prefix(conn: &Connection, prefix: &str) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT key, value FROM kv WHERE key >= ?1 AND key < ?1 || x'ff' ORDER BY key",
    )?;
    let rows = stmt.query_map([prefix], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
