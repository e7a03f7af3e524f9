//! What the alerts remember: the causes open now, the notices each
//! destination is owed, the messages sent. See `crate::alerts`.

use rusqlite::{Connection, params};

use super::Result;

/// One cause of an alert, as it is open (or as it was, when cleared).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRow {
    /// What it is about, unique: `order:jgoods:JG-1`, `call:12`, …
    pub cause: String,
    /// `order`, `call`, `problem`, `rejected`, `poller`, `licence`.
    pub kind: String,
    /// What a person reads about it.
    pub text: String,
}

/// How a cause changed since the last look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// New (or new again): every destination is told.
    Opened(AlertRow),
    /// Still open with a text that changed in a way nobody needs to be told
    /// of (a count, days left): only the stored text follows.
    Updated(AlertRow),
    /// Over: every destination is told it cleared.
    Cleared(AlertRow),
}

/// A notice a destination is owed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub id: i64,
    pub alert: AlertRow,
    /// `true` when the cause cleared (a recovery notice).
    pub cleared: bool,
    pub created_at: String,
}

/// The causes open now.
pub fn open(conn: &Connection) -> Result<Vec<AlertRow>> {
    let mut stmt = conn.prepare_cached("SELECT cause, kind, text FROM alerts ORDER BY cause")?;
    let rows = stmt.query_map([], |r| {
        Ok(AlertRow {
            cause: r.get(0)?,
            kind: r.get(1)?,
            text: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Applies `changes`, owing each opened or cleared one to every destination
/// in `destinations`, in the caller's transaction.
pub fn apply(
    conn: &Connection,
    changes: &[Change],
    destinations: &[&str],
    now: &str,
) -> Result<()> {
    let mut upsert = conn.prepare_cached(
        "INSERT INTO alerts (cause, kind, text, opened_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (cause) DO UPDATE SET kind = excluded.kind, text = excluded.text",
    )?;
    let mut remove = conn.prepare_cached("DELETE FROM alerts WHERE cause = ?1")?;
    let mut owe = conn.prepare_cached(
        "INSERT INTO alert_notices (destination, cause, kind, change, text, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for change in changes {
        let (alert, told) = match change {
            Change::Opened(a) => {
                upsert.execute(params![a.cause, a.kind, a.text, now])?;
                (a, Some("opened"))
            }
            Change::Updated(a) => {
                upsert.execute(params![a.cause, a.kind, a.text, now])?;
                (a, None)
            }
            Change::Cleared(a) => {
                remove.execute([&a.cause])?;
                (a, Some("cleared"))
            }
        };
        if let Some(told) = told {
            for d in destinations {
                owe.execute(params![d, alert.cause, alert.kind, told, alert.text, now])?;
            }
        }
    }
    Ok(())
}

/// The oldest `limit` notices `destination` is owed, how many it is owed in
/// all, and the newest one's id.
pub fn owed(conn: &Connection, destination: &str, limit: u32) -> Result<(Vec<Notice>, i64, i64)> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, cause, kind, change, text, created_at FROM alert_notices
         WHERE destination = ?1 AND sent_at IS NULL ORDER BY id LIMIT ?2",
    )?;
    let notices = stmt
        .query_map(params![destination, limit], |r| {
            Ok(Notice {
                id: r.get(0)?,
                alert: AlertRow {
                    cause: r.get(1)?,
                    kind: r.get(2)?,
                    text: r.get(4)?,
                },
                cleared: r.get::<_, String>(3)? == "cleared",
                created_at: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let (total, newest) = conn
        .prepare_cached(
            "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM alert_notices
             WHERE destination = ?1 AND sent_at IS NULL",
        )?
        .query_row([destination], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok((notices, total, newest))
}

/// Records one message sent to `destination`: every notice it was owed up
/// to `through_id` (those the message told, and those it counted as "and
/// N more") is sent.
pub fn sent(
    conn: &Connection,
    destination: &str,
    through_id: i64,
    subject: &str,
    sent_ms: i64,
    now: &str,
) -> Result<()> {
    let told = conn
        .prepare_cached(
            "UPDATE alert_notices SET sent_at = ?3
             WHERE destination = ?1 AND sent_at IS NULL AND id <= ?2",
        )?
        .execute(params![destination, through_id, now])?;
    conn.prepare_cached(
        "INSERT INTO alert_messages (destination, subject, notices, sent_ms, sent_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![destination, subject, told as i64, sent_ms, now])?;
    Ok(())
}

/// When the messages to `destination` since `since_ms` were sent (oldest first).
pub fn sends_since(conn: &Connection, destination: &str, since_ms: i64) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT sent_ms FROM alert_messages WHERE destination = ?1 AND sent_ms >= ?2
         ORDER BY sent_ms",
    )?;
    let rows = stmt.query_map(params![destination, since_ms], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The last message sent to `destination`, if any: when (ms) and its subject.
pub fn last_sent(conn: &Connection, destination: &str) -> Result<Option<(i64, String)>> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .prepare_cached(
            "SELECT sent_ms, subject FROM alert_messages WHERE destination = ?1
             ORDER BY sent_ms DESC LIMIT 1",
        )?
        .query_row([destination], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Forgets what was sent before `before_ms` / `before` (RFC 3339), and
/// notices owed since then to a destination that never took them (one
/// removed from the config, a server down for a month): a month of history
/// is plenty, and the tables must not grow for ever.
pub fn prune(conn: &Connection, before_ms: i64, before: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM alert_messages WHERE sent_ms < ?1")?
        .execute([before_ms])?;
    conn.prepare_cached("DELETE FROM alert_notices WHERE COALESCE(sent_at, created_at) < ?1")?
        .execute([before])?;
    Ok(())
}

/// What `ordersync alerts list` and `GET /api/v1/alerts` show.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// The causes open now, newest first (at most 500).
    pub open: Vec<OpenAlert>,
    /// Per destination, the notices not sent yet.
    pub owed: Vec<Owed>,
    /// The newest messages sent (at most 50).
    pub sent: Vec<SentMessage>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OpenAlert {
    pub cause: String,
    pub kind: String,
    pub text: String,
    pub opened_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Owed {
    pub destination: String,
    pub notices: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SentMessage {
    pub destination: String,
    pub subject: String,
    pub notices: i64,
    pub sent_at: String,
}

/// Reads the [`Report`].
pub fn report(conn: &Connection) -> Result<Report> {
    let open = conn
        .prepare_cached(
            "SELECT cause, kind, text, opened_at FROM alerts ORDER BY opened_at DESC, cause LIMIT 500",
        )?
        .query_map([], |r| {
            Ok(OpenAlert {
                cause: r.get(0)?,
                kind: r.get(1)?,
                text: r.get(2)?,
                opened_at: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let owed = conn
        .prepare_cached(
            "SELECT destination, COUNT(*) FROM alert_notices WHERE sent_at IS NULL
             GROUP BY destination ORDER BY destination",
        )?
        .query_map([], |r| {
            Ok(Owed {
                destination: r.get(0)?,
                notices: r.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let sent = conn
        .prepare_cached(
            "SELECT destination, subject, notices, sent_at FROM alert_messages
             ORDER BY id DESC LIMIT 50",
        )?
        .query_map([], |r| {
            Ok(SentMessage {
                destination: r.get(0)?,
                subject: r.get(1)?,
                notices: r.get(2)?,
                sent_at: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Report { open, owed, sent })
}

/// Every order that needs a person: `(channel, id, attention)`.
pub fn attention_orders(conn: &Connection) -> Result<Vec<(String, String, String)>> {
    let mut stmt = conn
        .prepare_cached("SELECT channel, id, attention FROM orders WHERE attention IS NOT NULL")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A call given up (dead), as an alert tells of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadCall {
    pub id: i64,
    pub kind: String,
    pub channel: Option<String>,
    pub order_id: Option<String>,
    pub last_error: Option<String>,
}

/// Every dead call.
pub fn dead_calls(conn: &Connection) -> Result<Vec<DeadCall>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, channel, order_id, last_error FROM outbox WHERE state = 'dead'",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(DeadCall {
            id: r.get(0)?,
            kind: r.get(1)?,
            channel: r.get(2)?,
            order_id: r.get(3)?,
            last_error: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// An `order` alert (for tests).
#[cfg(test)]
pub(crate) fn order_row(cause: &str, text: &str) -> AlertRow {
    AlertRow {
        cause: cause.into(),
        kind: "order".into(),
        text: text.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    use super::order_row as row;

    #[tokio::test]
    async fn a_change_is_owed_to_every_destination_until_sent() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path(), 0).unwrap();
        let now = "2026-12-07T10:00:00+09:00";
        store
            .write(move |tx| {
                apply(
                    tx,
                    &[
                        Change::Opened(row("order:jgoods:A", "short")),
                        Change::Updated(row("order:jgoods:B", "quiet")),
                    ],
                    &["email", "webhook"],
                    now,
                )
            })
            .await
            .unwrap();
        let open_now = store.read(|c| open(c)).await.unwrap();
        assert_eq!(open_now.len(), 2);
        let (owed_mail, n, _) = store.read(|c| owed(c, "email", 10)).await.unwrap();
        assert_eq!((owed_mail.len(), n), (1, 1));
        assert_eq!(owed_mail[0].alert, row("order:jgoods:A", "short"));
        let id = owed_mail[0].id;
        store
            .write(move |tx| {
                sent(tx, "email", id, "s", 1000, now)?;
                apply(
                    tx,
                    &[Change::Cleared(row("order:jgoods:A", "short"))],
                    &["email", "webhook"],
                    now,
                )
            })
            .await
            .unwrap();
        let (owed_mail, _, _) = store.read(|c| owed(c, "email", 10)).await.unwrap();
        assert!(owed_mail.len() == 1 && owed_mail[0].cleared);
        let (owed_hook, n, newest) = store.read(|c| owed(c, "webhook", 1)).await.unwrap();
        assert_eq!((owed_hook.len(), n), (1, 2), "the webhook still owes both");
        assert!(newest > owed_hook[0].id);
        assert_eq!(store.read(|c| open(c)).await.unwrap().len(), 1);
        assert_eq!(
            store.read(|c| sends_since(c, "email", 0)).await.unwrap(),
            vec![1000]
        );
    }
}
