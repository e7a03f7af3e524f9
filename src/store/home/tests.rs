use super::*;
use crate::domain::Channel;
use crate::store::Tx;
use crate::store::stock::{self, StockLevel};
use crate::store::stock_push;

fn db() -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = Connection::open(dir.path().join("home.sqlite")).unwrap();
    crate::store::schema::migrate(&mut conn).unwrap();
    (dir, conn)
}

fn order(conn: &Connection, channel: &str, id: &str, at: &str) {
    conn.execute(
        "INSERT INTO orders (channel, id, state, payment_state, created_at, updated_at)
         VALUES (?1, ?2, 'new', 'unpaid', ?3, ?3)",
        params![channel, id, at],
    )
    .unwrap();
}

#[test]
fn orders_are_counted_per_hour_of_the_japanese_day() {
    let (_dir, conn) = db();
    // 23:59 on the 7th in Japan, written in Japan time and in UTC.
    order(&conn, "jgoods", "A", "2026-12-07T23:59:59+09:00");
    order(&conn, "rakuten", "B", "2026-12-07T14:59:59Z");
    // The 8th from midnight in Japan (still the 7th in UTC).
    order(&conn, "jgoods", "C", "2026-12-08T00:00:00+09:00");
    order(&conn, "jgoods", "D", "2026-12-07T15:30:00Z");
    order(&conn, "direct", "E", "2026-12-08T09:10:00+09:00");
    order(&conn, "direct", "F", "not a time");
    conn.execute("DELETE FROM orders WHERE id = 'F'", [])
        .unwrap();

    let today = orders_per_channel_since(&conn, "2026-12-08T00").unwrap();
    assert_eq!(today, [("jgoods".into(), 2), ("direct".into(), 1)]);
    let hours = orders_per_hour_since(&conn, "2026-12-07T23").unwrap();
    assert_eq!(
        hours,
        [
            ("2026-12-07T23".into(), 2),
            ("2026-12-08T00".into(), 2),
            ("2026-12-08T09".into(), 1)
        ]
    );
}

#[test]
fn a_push_is_owed_from_the_change_until_the_push_catches_up() {
    let (_dir, conn) = db();
    let since = |conn: &Connection| push_owed_since(conn).unwrap()[0].clone();
    let level = |sku: &str, on_hand| StockLevel {
        sku: sku.into(),
        on_hand,
        as_of: None,
        tax_rate: None,
    };
    assert_eq!(since(&conn), ("jgoods".into(), None));
    let before = crate::domain::time::unix_ms(crate::domain::time::now());
    stock::set_level(&conn, &level("A", 5), "2026-12-08T10:00:00+09:00").unwrap();
    let (_, first) = since(&conn);
    let first = first.expect("owed once the stock changed");
    assert!(
        (before - 1000..before + 60_000).contains(&first),
        "{first} vs {before}"
    );

    // A second change does not make the push younger than the first.
    stock::set_level(&conn, &level("A", 4), "2026-12-08T10:01:00+09:00").unwrap();
    assert_eq!(since(&conn).1, Some(first));

    let push = stock_push::due(&Tx::new(&conn, 0), Channel::Jgoods, i64::MAX / 2, 0, 10)
        .unwrap()
        .remove(0);
    stock_push::accepted(&conn, Channel::Jgoods, &push, 0).unwrap();
    assert_eq!(since(&conn).1, None, "paid up");
    let cleared: Option<i64> = conn
        .query_row(
            "SELECT owed_since_ms FROM stock_push WHERE sku = 'A'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(cleared, None);

    stock::set_level(&conn, &level("A", 3), "2026-12-08T10:02:00+09:00").unwrap();
    assert!(since(&conn).1.is_some(), "owed again");
}

#[test]
fn the_last_contact_is_the_newest_call_webhook_or_poll() {
    let (_dir, conn) = db();
    conn.execute_batch(
        "INSERT INTO outbox (provider, kind, payload, state, next_attempt_ms, budget_from_ms, created_at, updated_at)
         VALUES ('jgoods', 'k', '{}', 'done', 0, 0, 'x', '2026-12-08T09:00:00+09:00'),
                ('jgoods', 'k', '{}', 'dead', 0, 0, 'x', '2026-12-08T11:00:00+09:00'),
                ('komoju', 'k', '{}', 'pending', 0, 0, 'x', '2026-12-08T11:00:00+09:00');
         INSERT INTO inbox (provider, received_at, state, body)
         VALUES ('jgoods', '2026-12-08T10:00:00+09:00', 'processed', x''),
                ('jgoods', '2026-12-08T12:00:00+09:00', 'rejected', x''),
                ('komoju', '2026-12-08T12:00:00+09:00', 'rejected', x'');",
    )
    .unwrap();
    let polls = [("rakuten_pay", "2026-12-08T08:00:00+09:00")];
    let contacts = last_contacts(&conn, &polls).unwrap();
    assert_eq!(
        contacts,
        [
            Contact {
                provider: Provider::Jgoods,
                poll: None,
                call: Some("2026-12-08T09:00:00+09:00".into()),
                webhook: Some("2026-12-08T10:00:00+09:00".into()),
            },
            Contact {
                provider: Provider::RakutenPay,
                poll: Some("2026-12-08T08:00:00+09:00".into()),
                call: None,
                webhook: None,
            },
        ],
        "a dead call, a pending one and a refused webhook are no contact"
    );
    assert_eq!(contacts[0].last(), Some("2026-12-08T10:00:00+09:00"));
}

/// Each read of the home is a step into an index, never a scan of a table
/// that grows with the orders, calls or webhooks.
#[test]
fn every_read_of_the_home_uses_an_index() {
    let (_dir, conn) = db();
    for (sql, index) in [
        (
            "SELECT channel, SUM(n) FROM order_hours WHERE hour >= 'x' GROUP BY channel",
            "PRIMARY KEY",
        ),
        (
            "SELECT hour, SUM(n) FROM order_hours WHERE hour >= 'x' GROUP BY hour",
            "PRIMARY KEY",
        ),
        (
            "SELECT MIN(owed_since_ms) FROM stock_push WHERE channel = 'x' AND version > pushed_version",
            "stock_push_owed_since",
        ),
        (
            "SELECT MAX(updated_at) FROM outbox WHERE provider = 'x' AND state = 'done'",
            "outbox_done_by_provider",
        ),
        (
            "SELECT MAX(received_at) FROM inbox WHERE provider = 'x' AND state = 'processed'",
            "inbox_processed_by_provider",
        ),
    ] {
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let plan = plan.join("; ");
        assert!(plan.contains(index), "{sql}: {plan}");
        assert!(!plan.contains("SCAN"), "{sql}: {plan}");
    }
}
