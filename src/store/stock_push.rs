//! What each sales channel is owed about stock: SKUs whose availability
//! changed since the channel was last told. The `stock_push` rows are marked by
//! triggers on `stock` (see the `CHANNEL_PUSH` migration) inside the
//! transaction that changed the stock, once for every channel in
//! `push_channels`, so a committed change always owes a push; a pusher clears a
//! SKU only for the version it actually sent, so a change racing with a push
//! is never lost.

use super::Tx;
use rusqlite::{Connection, params};

use super::Result;
use crate::domain::{Channel, available};

/// One SKU to push: its current availability and the change it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwedPush {
    pub sku: String,
    /// The `stock_push.version` read with `stock`; clearing uses it so a later
    /// change stays owed.
    pub version: i64,
    /// Availability now: `on_hand - reserved - safety_stock`, at least 0
    /// (0 for a SKU the mirror no longer has).
    pub stock: u32,
}

/// Makes the pushing channels exactly `channels`. A channel that joins owes
/// every SKU of the mirror once (it may have missed any change); one that
/// leaves stops being owed changes, and owes all again if it comes back.
pub fn set_channels(conn: &Connection, channels: &[Channel]) -> Result<()> {
    let names: Vec<&str> = channels.iter().map(|c| c.as_str()).collect();
    let mut current = Vec::new();
    for row in conn
        .prepare_cached("SELECT channel FROM push_channels")?
        .query_map([], |r| r.get::<_, String>(0))?
    {
        current.push(row?);
    }
    for gone in current.iter().filter(|c| !names.contains(&c.as_str())) {
        conn.execute("DELETE FROM push_channels WHERE channel = ?1", [gone])?;
    }
    for joined in names.iter().filter(|n| !current.iter().any(|c| c == *n)) {
        conn.execute("INSERT INTO push_channels (channel) VALUES (?1)", [joined])?;
        conn.execute(
            "INSERT INTO stock_push (channel, sku, owed_since_ms) SELECT ?1, sku, ?2 FROM stock WHERE true
             ON CONFLICT (channel, sku) DO UPDATE SET version = version + 1,
                 owed_since_ms = COALESCE(owed_since_ms, excluded.owed_since_ms)",
            params![joined, now_ms()],
        )?;
    }
    Ok(())
}

/// Milliseconds since the epoch, as `owed_since_ms` keeps when a SKU
/// became owed (set where the row is owed, in the same statement: a trigger
/// of its own doubled the writes of a large stock import).
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Owes `skus` to `channel` again although their stock did not change (the
/// channel learnt where to put them, e.g. Rakuten's SKU map).
pub fn owe(conn: &Connection, channel: Channel, skus: &[String]) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO stock_push (channel, sku, owed_since_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT (channel, sku) DO UPDATE SET version = version + 1,
             owed_since_ms = COALESCE(owed_since_ms, excluded.owed_since_ms)",
    )?;
    let now = now_ms();
    for sku in skus {
        stmt.execute(params![channel.as_str(), sku, now])?;
    }
    Ok(())
}

/// SKUs owed to `channel` and due at `now_ms`: never pushed, last pushed at
/// least `interval_ms` ago, or sold out since the channel was told a unit
/// (the debounce never holds back the last unit's sale), and not held back
/// after a refusal. Oldest pushes first.
pub fn due(
    conn: &Tx<'_>,
    channel: Channel,
    now_ms: i64,
    interval_ms: i64,
    limit: u32,
) -> Result<Vec<OwedPush>> {
    let safety_stock = conn.safety_stock();
    let mut stmt = conn.prepare_cached(
        "SELECT p.sku, p.version, COALESCE(s.on_hand, 0), COALESCE(s.reserved, 0)
         FROM stock_push p LEFT JOIN stock s ON s.sku = p.sku
         WHERE p.channel = ?4 AND p.version > p.pushed_version
           AND p.retry_at_ms <= ?1
           AND (p.pushed_at_ms IS NULL OR p.pushed_at_ms + ?2 <= ?1
                OR (COALESCE(p.pushed_stock, 1) > 0
                    AND COALESCE(s.on_hand, 0) - COALESCE(s.reserved, 0) <= ?5))
         ORDER BY COALESCE(p.pushed_at_ms, 0), p.sku
         LIMIT ?3",
    )?;
    let args = params![now_ms, interval_ms, limit, channel.as_str(), safety_stock];
    let rows = stmt.query_map(args, |r| {
        Ok(OwedPush {
            sku: r.get(0)?,
            version: r.get(1)?,
            stock: available(r.get(2)?, r.get(3)?, safety_stock),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// When the next SKU owed to `channel` becomes due (`None`: nothing is owed);
/// a sold-out SKU is due without its debounce, as in [`due`].
pub fn next_due_ms(conn: &Tx<'_>, channel: Channel, interval_ms: i64) -> Result<Option<i64>> {
    let safety_stock = conn.safety_stock();
    Ok(conn
        .prepare_cached(
            "SELECT MIN(MAX(CASE
                    WHEN COALESCE(p.pushed_stock, 1) > 0
                         AND COALESCE(s.on_hand, 0) - COALESCE(s.reserved, 0) <= ?3 THEN 0
                    ELSE COALESCE(p.pushed_at_ms + ?1, 0) END, p.retry_at_ms))
             FROM stock_push p LEFT JOIN stock s ON s.sku = p.sku
             WHERE p.channel = ?2 AND p.version > p.pushed_version",
        )?
        .query_row(params![interval_ms, channel.as_str(), safety_stock], |r| {
            r.get(0)
        })?)
}

/// `channel` accepted `push.stock` for `push.sku` at `now_ms`.
pub fn accepted(conn: &Connection, channel: Channel, push: &OwedPush, now_ms: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE stock_push SET pushed_version = MAX(pushed_version, ?2), pushed_stock = ?3,
                pushed_at_ms = ?4, retry_at_ms = 0, unknown_at = NULL
         WHERE channel = ?5 AND sku = ?1",
    )?
    .execute(params![
        push.sku,
        push.version,
        push.stock,
        now_ms,
        channel.as_str()
    ])?;
    Ok(())
}

/// The channel does not sell the SKU (it has no place for it there): the
/// change is delivered with nothing sent; the next change looks again.
pub fn passed_over(
    conn: &Connection,
    channel: Channel,
    push: &OwedPush,
    now_ms: i64,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE stock_push SET pushed_version = MAX(pushed_version, ?2), pushed_at_ms = ?3,
                retry_at_ms = 0
         WHERE channel = ?4 AND sku = ?1",
    )?
    .execute(params![push.sku, push.version, now_ms, channel.as_str()])?;
    Ok(())
}

/// The channel does not know the item. The change counts as delivered
/// (retrying could never succeed); the next stock change tries again, in case
/// the merchant registered the item meanwhile. Returns true the first time, so
/// the caller logs it once rather than at every change.
pub fn unknown_item(
    conn: &Connection,
    channel: Channel,
    push: &OwedPush,
    now_ms: i64,
    now: &str,
) -> Result<bool> {
    let newly: bool = conn
        .prepare_cached(
            "SELECT unknown_at IS NULL FROM stock_push WHERE channel = ?1 AND sku = ?2",
        )?
        .query_row(params![channel.as_str(), push.sku], |r| r.get(0))?;
    conn.prepare_cached(
        "UPDATE stock_push SET pushed_version = MAX(pushed_version, ?2), pushed_at_ms = ?3,
                retry_at_ms = 0, unknown_at = COALESCE(unknown_at, ?4)
         WHERE channel = ?5 AND sku = ?1",
    )?
    .execute(params![
        push.sku,
        push.version,
        now_ms,
        now,
        channel.as_str()
    ])?;
    Ok(newly)
}

/// Holds SKUs back until `retry_at_ms` (the channel answered 429 or 5xx).
pub fn hold_back(
    conn: &Connection,
    channel: Channel,
    skus: &[&str],
    retry_at_ms: i64,
) -> Result<()> {
    let mut stmt = conn
        .prepare_cached("UPDATE stock_push SET retry_at_ms = ?2 WHERE channel = ?3 AND sku = ?1")?;
    for sku in skus {
        stmt.execute(params![sku, retry_at_ms, channel.as_str()])?;
    }
    Ok(())
}

/// For the status page and `/metrics`: per pushing channel, the SKUs owed a
/// push, and the SKUs it said it does not know (with when it first said so).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSummary {
    pub channel: Channel,
    pub owed: i64,
    pub unknown: Vec<(String, String)>,
}

impl PushSummary {
    /// How the channel said it has no item for a SKU.
    pub fn unknown_reason(&self, lang: crate::config::Language) -> &'static str {
        match self.channel {
            Channel::Jgoods => "ITEM_NOT_FOUND",
            Channel::Rakuten => crate::wording::say(
                lang,
                "送信後の一括取得に含まれません",
                "not returned by bulk-get after a push",
            ),
            Channel::Yahoo => crate::wording::say(
                lang,
                "送信後の getStock で在庫データなし",
                "no stock data in getStock after a push",
            ),
            Channel::Direct => crate::wording::say(lang, "不明", "unknown"),
        }
    }
}

/// The summary of every channel in `push_channels`.
pub fn summary(conn: &Connection, unknown_limit: u32) -> Result<Vec<PushSummary>> {
    let mut out = Vec::new();
    let channels: Vec<String> = conn
        .prepare_cached("SELECT channel FROM push_channels ORDER BY channel")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for name in channels {
        let Some(channel) = Channel::parse(&name) else {
            continue;
        };
        let owed = conn
            .prepare_cached(
                "SELECT COUNT(*) FROM stock_push WHERE channel = ?1 AND version > pushed_version",
            )?
            .query_row([&name], |r| r.get(0))?;
        let unknown = conn
            .prepare_cached(
                "SELECT sku, unknown_at FROM stock_push
                 WHERE channel = ?1 AND unknown_at IS NOT NULL ORDER BY sku LIMIT ?2",
            )?
            .query_map(params![name, unknown_limit], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        out.push(PushSummary {
            channel,
            owed,
            unknown,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::stock::{self, StockLevel};

    const J: Channel = Channel::Jgoods;
    const R: Channel = Channel::Rakuten;

    fn db() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::schema::migrate(&mut conn).unwrap();
        conn
    }

    fn set(conn: &Connection, sku: &str, on_hand: i64) {
        let level = StockLevel {
            sku: sku.into(),
            on_hand,
            as_of: None,
            tax_rate: None,
        };
        stock::set_level(conn, &level, "2026-11-23T10:00:00+09:00").unwrap();
    }

    fn owed(conn: &Connection, now_ms: i64) -> Vec<(String, u32)> {
        due(&Tx::new(conn, 1), J, now_ms, 1000, 100)
            .unwrap()
            .into_iter()
            .map(|p| (p.sku, p.stock))
            .collect()
    }

    #[test]
    fn every_availability_change_is_owed_and_shipping_is_not() {
        let conn = db();
        set(&conn, "A", 5);
        assert_eq!(owed(&conn, 0), [("A".to_string(), 4)]);
        let push = due(&Tx::new(&conn, 1), J, 0, 1000, 100).unwrap().remove(0);
        accepted(&conn, J, &push, 0).unwrap();
        assert!(owed(&conn, 5000).is_empty(), "nothing changed since");
        set(&conn, "A", 5);
        assert!(owed(&conn, 5000).is_empty(), "the same count is no change");
        conn.execute(
            "INSERT INTO orders (channel, id, state, payment_state, created_at, updated_at)
             VALUES ('jgoods', 'O1', 'new', 'unpaid', 'x', 'x')",
            [],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO order_lines (channel, order_id, line_no, sku, qty) VALUES ('jgoods', 'O1', 1, 'A', 2)",
            [],
        )
        .unwrap();
        stock::reserve(&Tx::new(&conn, 1), ("jgoods", "O1"), 1, "A", 2, "x").unwrap();
        assert_eq!(owed(&conn, 5000), [("A".to_string(), 2)]);
        let push = due(&Tx::new(&conn, 1), J, 5000, 1000, 100)
            .unwrap()
            .remove(0);
        accepted(&conn, J, &push, 5000).unwrap();
        stock::ship_order(&conn, ("jgoods", "O1"), "y").unwrap();
        assert!(
            owed(&conn, 10_000).is_empty(),
            "shipping moves on_hand and reserved together"
        );
    }

    #[test]
    fn a_change_during_a_push_stays_owed() {
        let conn = db();
        set(&conn, "A", 5);
        let sent = due(&Tx::new(&conn, 0), J, 0, 1000, 100).unwrap().remove(0);
        set(&conn, "A", 3); // arrives while the push is on the wire
        accepted(&conn, J, &sent, 0).unwrap();
        assert!(owed(&conn, 999).is_empty(), "debounced");
        assert_eq!(
            next_due_ms(&Tx::new(&conn, 0), J, 1000).unwrap(),
            Some(1000)
        );
        assert_eq!(owed(&conn, 1000), [("A".to_string(), 2)]);
    }

    #[test]
    fn unknown_items_are_reported_once_and_held_back_skus_wait() {
        let conn = db();
        set(&conn, "X", 1);
        let push = due(&Tx::new(&conn, 0), J, 0, 1000, 100).unwrap().remove(0);
        assert!(unknown_item(&conn, J, &push, 0, "t1").unwrap());
        assert!(owed(&conn, 10_000).is_empty());
        set(&conn, "X", 2);
        let push = due(&Tx::new(&conn, 0), J, 10_000, 1000, 100)
            .unwrap()
            .remove(0);
        assert!(!unknown_item(&conn, J, &push, 10_000, "t2").unwrap());
        assert_eq!(
            summary(&conn, 10).unwrap()[0].unknown,
            [("X".to_string(), "t1".to_string())]
        );
        set(&conn, "X", 3);
        hold_back(&conn, J, &["X"], 50_000).unwrap();
        assert!(owed(&conn, 49_999).is_empty());
        assert_eq!(
            next_due_ms(&Tx::new(&conn, 0), J, 1000).unwrap(),
            Some(50_000)
        );
        let push = due(&Tx::new(&conn, 0), J, 50_000, 1000, 100)
            .unwrap()
            .remove(0);
        accepted(&conn, J, &push, 50_000).unwrap();
        let after = &summary(&conn, 10).unwrap()[0];
        assert_eq!((after.channel, after.owed, after.unknown.len()), (J, 0, 0));
    }

    #[test]
    fn each_channel_is_owed_on_its_own_and_a_joining_channel_owes_every_sku() {
        let conn = db();
        set(&conn, "A", 5);
        set_channels(&conn, &[J, R]).unwrap();
        let of = |c: Channel, now: i64| -> Vec<String> {
            due(&Tx::new(&conn, 0), c, now, 1000, 100)
                .unwrap()
                .into_iter()
                .map(|p| p.sku)
                .collect()
        };
        assert_eq!(
            of(R, 0),
            ["A"],
            "Rakuten joined: the mirror's SKUs are owed to it"
        );
        let push = due(&Tx::new(&conn, 0), R, 0, 1000, 100).unwrap().remove(0);
        accepted(&conn, R, &push, 0).unwrap();
        assert!(of(R, 5000).is_empty());
        assert_eq!(of(J, 5000), ["A"], "J-goods was not told yet");
        set(&conn, "B", 1);
        assert_eq!(of(R, 5000), ["B"]);
        set_channels(&conn, &[J]).unwrap();
        set(&conn, "A", 9);
        assert_eq!(
            of(R, 5000),
            ["B"],
            "a channel that left is owed no new change"
        );
        let names: Vec<Channel> = summary(&conn, 10)
            .unwrap()
            .iter()
            .map(|s| s.channel)
            .collect();
        assert_eq!(names, [J]);
        owe(&conn, R, &["A".to_string()]).unwrap();
        assert_eq!(of(R, 5000), ["A", "B"]);
    }

    #[test]
    fn a_sale_of_the_last_unit_skips_the_debounce() {
        let conn = db();
        set(&conn, "A", 5);
        let push = due(&Tx::new(&conn, 0), J, 0, 60_000, 100)
            .unwrap()
            .remove(0);
        accepted(&conn, J, &push, 0).unwrap();
        set(&conn, "A", 3);
        assert!(
            due(&Tx::new(&conn, 0), J, 1000, 60_000, 100)
                .unwrap()
                .is_empty(),
            "debounced"
        );
        assert_eq!(
            next_due_ms(&Tx::new(&conn, 0), J, 60_000).unwrap(),
            Some(60_000)
        );
        set(&conn, "A", 0);
        assert_eq!(next_due_ms(&Tx::new(&conn, 0), J, 60_000).unwrap(), Some(0));
        let sold_out = due(&Tx::new(&conn, 0), J, 1000, 60_000, 100).unwrap();
        assert_eq!((sold_out[0].sku.as_str(), sold_out[0].stock), ("A", 0));
        accepted(&conn, J, &sold_out[0], 1000).unwrap();
        set(&conn, "A", 2);
        set(&conn, "A", 0);
        // The channel was told 0 last: nothing to hurry.
        assert!(
            due(&Tx::new(&conn, 0), J, 2000, 60_000, 100)
                .unwrap()
                .is_empty()
        );
    }
}
