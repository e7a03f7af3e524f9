//! What the console's home reads beyond the status summary: orders per
//! hour and channel (kept by triggers in `order_hours`), since when each
//! channel has been owed a stock push, and the last successful contact with
//! each provider. Every read is a few rows or one step into an index, so
//! the home costs the same with a thousand orders or a million.

use rusqlite::{Connection, params};

use super::Result;
use crate::domain::Provider;

/// Orders per channel that arrived in or after the hour `from`
/// (`YYYY-MM-DDTHH`, Japan time), busiest channel first.
pub fn orders_per_channel_since(conn: &Connection, from: &str) -> Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT channel, SUM(n) FROM order_hours WHERE hour >= ?1
         GROUP BY channel HAVING SUM(n) > 0 ORDER BY SUM(n) DESC, channel",
    )?;
    let rows = stmt.query_map([from], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Orders per hour (`YYYY-MM-DDTHH`, Japan time) in or after the hour
/// `from`, every channel together, oldest hour first; hours without orders
/// are left out.
pub fn orders_per_hour_since(conn: &Connection, from: &str) -> Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT hour, SUM(n) FROM order_hours WHERE hour >= ?1
         GROUP BY hour HAVING SUM(n) > 0 ORDER BY hour",
    )?;
    let rows = stmt.query_map([from], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Per pushing channel: since when (ms since the epoch) its oldest owed
/// stock push has been owed; `None` when it is owed nothing.
pub fn push_owed_since(conn: &Connection) -> Result<Vec<(String, Option<i64>)>> {
    let channels: Vec<String> = conn
        .prepare_cached("SELECT channel FROM push_channels ORDER BY channel")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut oldest = conn.prepare_cached(
        "SELECT MIN(owed_since_ms) FROM stock_push
         WHERE channel = ?1 AND version > pushed_version",
    )?;
    channels
        .into_iter()
        .map(|ch| {
            let since = oldest.query_row(params![ch], |r| r.get(0))?;
            Ok((ch, since))
        })
        .collect()
}

/// What the daemon recorded of its last successful contact with one
/// provider (RFC 3339 times as stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub provider: Provider,
    /// Its poller's last successful poll (from the status summary, which
    /// reads the pollers' records).
    pub poll: Option<String>,
    /// The last call to it that succeeded.
    pub call: Option<String>,
    /// The last webhook from it that was verified and processed.
    pub webhook: Option<String>,
}

impl Contact {
    /// The newest of the three (all are stored in Japan time, so the text
    /// orders as the time does).
    pub fn last(&self) -> Option<&str> {
        [&self.poll, &self.call, &self.webhook]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .max()
    }
}

/// The last successful contact with every provider the daemon has
/// recorded any contact with, in the order of [`Provider::ALL`]; `polls`
/// are the pollers' last successes as `(provider name, time)`.
pub fn last_contacts(conn: &Connection, polls: &[(&str, &str)]) -> Result<Vec<Contact>> {
    let mut call = conn.prepare_cached(
        "SELECT MAX(updated_at) FROM outbox WHERE provider = ?1 AND state = 'done'",
    )?;
    let mut webhook = conn.prepare_cached(
        "SELECT MAX(received_at) FROM inbox WHERE provider = ?1 AND state = 'processed'",
    )?;
    let mut out = Vec::new();
    for provider in Provider::ALL {
        let name = provider.as_str();
        let c = Contact {
            provider,
            poll: polls
                .iter()
                .find(|(p, _)| *p == name)
                .map(|(_, at)| at.to_string()),
            call: call.query_row([name], |r| r.get(0))?,
            webhook: webhook.query_row([name], |r| r.get(0))?,
        };
        if c.last().is_some() {
            out.push(c);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
