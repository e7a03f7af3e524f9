use super::*;

/// The daemon's first start and an operator's command open a new store
/// at the same moment: both open it, neither stops on a half-made schema.
#[test]
fn two_processes_opening_a_new_store_at_once_both_open_it() {
    for _ in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ordersync.sqlite");
        let barrier = std::sync::Barrier::new(2);
        std::thread::scope(|s| {
            let opens: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        crate::store::Store::open(&path, 0).map(|_| ())
                    })
                })
                .collect();
            for open in opens {
                open.join().unwrap().unwrap();
            }
        });
    }
}

#[test]
fn migrations_are_valid() {
    assert!(migrations().validate().is_ok());
    let mut conn = Connection::open_in_memory().unwrap();
    migrate(&mut conn).unwrap();
    migrate(&mut conn).unwrap(); // idempotent
}

/// The kept counts equal a count of the table after inserts, state
/// changes (and writes that keep the state), deletes, and an upsert.
#[test]
fn order_counts_follow_every_write() {
    let mut conn = Connection::open_in_memory().unwrap();
    migrate(&mut conn).unwrap();
    let counted = |c: &Connection| -> Vec<(String, i64)> {
        c.prepare("SELECT state, COUNT(*) FROM orders GROUP BY state ORDER BY state")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    let kept = |c: &Connection| -> Vec<(String, i64)> {
        c.prepare("SELECT state, n FROM order_counts WHERE n > 0 ORDER BY state")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    conn.execute_batch(
        "INSERT INTO orders (channel, id, state, payment_state, created_at, updated_at) VALUES
             ('jgoods', 'A', 'new', 'unpaid', 'x', 'x'),
             ('jgoods', 'B', 'new', 'unpaid', 'x', 'x'),
             ('rakuten', 'C', 'allocated', 'unpaid', 'x', 'x');
         UPDATE orders SET state = 'allocated' WHERE id = 'A';
         UPDATE orders SET payment_state = 'paid' WHERE id = 'C';
         UPDATE orders SET state = 'allocated' WHERE id = 'C';
         INSERT INTO orders (channel, id, state, payment_state, created_at, updated_at)
             VALUES ('jgoods', 'B', 'short', 'unpaid', 'y', 'y')
             ON CONFLICT (channel, id) DO UPDATE SET state = excluded.state;
         DELETE FROM orders WHERE id = 'C';",
    )
    .unwrap();
    assert_eq!(kept(&conn), counted(&conn));
    assert_eq!(
        kept(&conn),
        [("allocated".to_string(), 1), ("short".to_string(), 1)]
    );
}
