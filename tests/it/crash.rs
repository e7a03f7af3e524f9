//! Crash safety: the daemon runs as a child process and is killed with SIGKILL
//! while webhooks and post-backs are in flight, then restarted. Every
//! acknowledged webhook must be processed exactly once, every order's
//! post-back must happen, and stock must equal on_hand − reservations.

use std::time::Duration;

use ordersync::channels::jgoods::Status;
use ordersync::sim::jgoods::{self as sim, DeliveryOutcome, JgoodsSimConfig};
use rusqlite::Connection;
use tokio::net::TcpListener;
use tokio::process::Command;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_in_flight_loses_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let sim_cfg = JgoodsSimConfig {
        webhook_retry_budget: Duration::from_secs(120),
        webhook_retry_max: Duration::from_millis(100),
        ..JgoodsSimConfig::default()
    };
    let sim = sim::start(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        sim_cfg.clone(),
    )
    .await
    .unwrap();
    let (listen, admin) = (
        format!("127.0.0.1:{}", free_port().await),
        format!("127.0.0.1:{}", free_port().await),
    );
    let opts = Options {
        sim: sim_cfg,
        ..Options::default()
    };
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        config_text(&dir.path().join("data"), &sim, &opts, &listen, &admin),
    )
    .unwrap();
    sim.set_webhook_url(format!("http://{listen}/webhooks/jgoods"));

    let mut daemon = start_daemon(&config, &admin).await;
    let http = reqwest::Client::new();
    let r = http
        .put(format!("http://{admin}/api/v1/stock/A"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&serde_json::json!({"on_hand": 100}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    const ORDERS: usize = 150;
    let mut kills = 0;
    for i in 0..ORDERS {
        sim.place_order(&format!("K{i:03}"), &[("A", 1, 100)]);
        if i % 30 == 29 {
            // Let some work get in flight, then pull the plug.
            tokio::time::sleep(Duration::from_millis(5 + (i as u64 % 7) * 3)).await;
            daemon.start_kill().unwrap();
            daemon.wait().await.unwrap();
            kills += 1;
            daemon = start_daemon(&config, &admin).await;
        }
    }
    // Everything settles: each order is either confirmed in full or, with
    // nothing left, accepted at zero by the customer and confirmed.
    let settled = sim
        .wait_until(Duration::from_secs(60), |v| {
            (0..ORDERS).all(|i| v.status(&format!("K{i:03}")) == Some(Status::AwaitingArrival))
        })
        .await;
    assert!(settled, "not every order reached 入荷待ち at J-goods");
    assert!(sim.wait_webhooks_idle(DEADLINE).await);
    // SIGTERM for a clean stop, then read the database directly.
    let pid = daemon.id().unwrap().to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    let status = tokio::time::timeout(DEADLINE, daemon.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(
        status.success(),
        "SIGTERM should stop the daemon cleanly: {status:?}"
    );

    let stats = sim.stats();
    let db = Connection::open(dir.path().join("data").join("ordersync.sqlite")).unwrap();
    // Every webhook the daemon acknowledged is stored as processed.
    for d in stats
        .deliveries
        .iter()
        .filter(|d| d.outcome == DeliveryOutcome::Acked)
    {
        let n: i64 = db
            .query_row(
                "SELECT COUNT(*) FROM inbox WHERE provider = 'jgoods' AND state = 'processed' AND delivery_id = ?1",
                [&d.delivery_id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            n, 1,
            "acked delivery {} ({:?}) stored {n} times",
            d.delivery_id, d.status
        );
    }
    // Exactly the stock there was is reserved: nothing lost, nothing doubled.
    let (reserved, open): (i64, i64) = db
        .query_row(
            "SELECT s.reserved, (SELECT COALESCE(SUM(qty), 0) FROM allocations WHERE sku = 'A' AND state = 'reserved')
             FROM stock s WHERE sku = 'A'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((reserved, open), (100, 100));
    let per_order_max: i64 = db
        .query_row(
            "SELECT MAX(n) FROM (SELECT SUM(qty) AS n FROM allocations WHERE state = 'reserved' GROUP BY order_id)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(per_order_max, 1, "an order was allocated twice");
    // J-goods agrees with the daemon line by line, and every order is confirmed here.
    for i in 0..ORDERS {
        let no = format!("K{i:03}");
        let theirs = sim.order(&no).unwrap().lines[0].reserved_qty;
        let (ours, state): (i64, String) = db
            .query_row(
                "SELECT COALESCE((SELECT SUM(qty) FROM allocations WHERE order_id = ?1 AND state = 'reserved'), 0),
                        (SELECT state FROM orders WHERE channel = 'jgoods' AND id = ?1)",
                [&no],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(theirs.map(i64::from), Some(ours), "{no}");
        assert_eq!(state, "confirmed", "{no}");
    }
    eprintln!(
        "crash test: {ORDERS} orders, {kills} SIGKILLs, {} webhook attempts ({} acked), {} PUTs",
        stats.webhooks.attempts,
        stats.webhooks.acked,
        stats.put_bodies.values().map(Vec::len).sum::<usize>()
    );
    sim.shutdown().await;
}
