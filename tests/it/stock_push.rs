//! Stock push to J-goods (`PUT /item.json`): batches of at most 100, one push
//! per SKU per interval carrying the latest value, ITEM_NOT_FOUND recorded and
//! not retried, 429 honoured; and end to end, J-goods learns the new
//! availability after an order allocates.
//!
//! The pusher tests drive its clock by hand (`push_due(now_ms)`), so debounce
//! windows of a minute take no time.

use std::sync::Arc;
use std::time::Duration;

use ordersync::call::RetryPolicy;
use ordersync::providers::jgoods::client::JgoodsClient;
use ordersync::providers::jgoods::stock_push::JgoodsStock;
use ordersync::providers::stock_push::{PushError, StockPusher};
use ordersync::sim::jgoods::JgoodsSimSettings;
use ordersync::store::stock::StockLevel;
use ordersync::store::{Store, stock, stock_push};
use ordersync::worker::WorkerContext;
use ordersync_sim::jgoods::{self as sim, Endpoint, Fault, JgoodsSimConfig, JgoodsSimHandle};
use tokio::net::TcpListener;

use crate::helpers::*;

const MINUTE_MS: i64 = 60_000;
const T0: i64 = 1_800_000_000_000;

struct Rig {
    sim: JgoodsSimHandle,
    store: Store,
    pusher: StockPusher<JgoodsStock>,
    _dir: tempfile::TempDir,
}

async fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim::start(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        JgoodsSimConfig::default(),
    )
    .await
    .unwrap();
    let store = Store::open_in(dir.path(), 1).unwrap();
    let client = Arc::new(JgoodsClient::new(sim.client_settings()).unwrap());
    let pusher = StockPusher::new(
        &WorkerContext::standalone(store.clone()),
        JgoodsStock { client },
        Duration::from_secs(60),
        RetryPolicy {
            initial_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(600),
            give_up_after: Duration::from_secs(3600),
        },
    );
    Rig {
        sim,
        store,
        pusher,
        _dir: dir,
    }
}

async fn set(store: &Store, levels: &[(&str, i64)]) {
    let levels: Vec<StockLevel> = levels
        .iter()
        .map(|(sku, on_hand)| StockLevel {
            sku: sku.to_string(),
            on_hand: *on_hand,
            as_of: None,
            tax_rate: None,
        })
        .collect();
    store
        .write(move |tx| {
            for l in &levels {
                stock::set_level(tx, l, "2026-11-23T10:00:00+09:00")?;
            }
            Ok(())
        })
        .await
        .unwrap();
}

fn sku(i: usize) -> String {
    format!("SKU-{i:04}")
}

#[tokio::test]
async fn stock_push_sends_at_most_100_items_a_call_and_one_push_per_sku_per_interval() {
    let r = rig().await;
    let skus: Vec<String> = (0..250).map(sku).collect();
    for s in &skus {
        r.sim.register_item(s);
    }
    let levels: Vec<(&str, i64)> = skus.iter().map(|s| (s.as_str(), 10)).collect();
    set(&r.store, &levels).await;

    let round = r.pusher.push_due(T0).await.unwrap();
    assert_eq!((round.calls, round.updated, round.unknown), (3, 250, 0));
    let stats = r.sim.stats();
    let sizes: Vec<usize> = stats.item_stock_calls.iter().map(Vec::len).collect();
    assert_eq!(sizes, [100, 100, 50]);
    assert_eq!(stats.stock.len(), 250);
    assert!(
        stats.stock.values().all(|v| *v == 9),
        "available = on_hand - safety stock"
    );

    // Many changes inside one interval...
    for on_hand in [3, 2, 9, 4, 7] {
        set(&r.store, &[(&skus[0], on_hand)]).await;
    }
    set(&r.store, &[(&skus[1], 0)]).await;
    set(&r.store, &[(&skus[1], 5)]).await;
    let early = r.pusher.push_due(T0 + MINUTE_MS - 1).await.unwrap();
    assert_eq!(early.calls, 0, "debounced until the interval is over");
    // ...become one push per SKU with the latest value.
    let round = r.pusher.push_due(T0 + MINUTE_MS).await.unwrap();
    assert_eq!((round.calls, round.updated), (1, 2));
    let stats = r.sim.stats();
    let last = stats.item_stock_calls.last().unwrap();
    let mut last = last.clone();
    last.sort();
    assert_eq!(last, [(skus[0].clone(), 6), (skus[1].clone(), 4)]);
    assert_eq!(stats.item_stock_calls.len(), 4);
    let idle = r.pusher.push_due(T0 + 10 * MINUTE_MS).await.unwrap();
    assert_eq!(idle.calls, 0, "nothing changed since");
    r.sim.shutdown().await;
}

#[tokio::test]
async fn stock_push_records_an_unknown_item_once_and_pushes_it_again_only_after_a_change() {
    let r = rig().await;
    r.sim.register_item("KNOWN");
    set(&r.store, &[("KNOWN", 4), ("NOT-AT-JGOODS", 4)]).await;
    let round = r.pusher.push_due(T0).await.unwrap();
    assert_eq!((round.calls, round.updated, round.unknown), (1, 1, 1));
    let summary = r
        .store
        .read(|c| stock_push::summary(c, 10))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(summary.owed, 0, "an unknown item is not owed forever");
    assert_eq!(summary.unknown.len(), 1);
    assert_eq!(summary.unknown[0].0, "NOT-AT-JGOODS");
    for minutes in 1..5 {
        let round = r.pusher.push_due(T0 + minutes * MINUTE_MS).await.unwrap();
        assert_eq!(round.calls, 0, "not retried");
    }
    // The merchant registers it at J-goods; the next change reaches it.
    r.sim.register_item("NOT-AT-JGOODS");
    set(&r.store, &[("NOT-AT-JGOODS", 6)]).await;
    let round = r.pusher.push_due(T0 + 10 * MINUTE_MS).await.unwrap();
    assert_eq!((round.updated, round.unknown), (1, 0));
    assert_eq!(r.sim.stats().stock.get("NOT-AT-JGOODS"), Some(&5));
    let summary = r
        .store
        .read(|c| stock_push::summary(c, 10))
        .await
        .unwrap()
        .remove(0);
    assert!(summary.unknown.is_empty());
    r.sim.shutdown().await;
}

#[tokio::test]
async fn stock_push_waits_for_retry_after_and_then_sends_the_current_value() {
    let r = rig().await;
    r.sim.register_item("A");
    set(&r.store, &[("A", 8)]).await;
    r.sim.inject(
        Endpoint::ItemStock,
        Fault::TooManyRequests {
            retry_after_secs: 30,
        },
        1,
    );
    let err = r.pusher.push_due(T0).await.unwrap_err();
    assert!(matches!(err, PushError::Provider(_)), "{err}");
    set(&r.store, &[("A", 3)]).await;
    let held = r.pusher.push_due(T0 + 29_999).await.unwrap();
    assert_eq!(held.calls, 0, "Retry-After: 30 is honoured");
    let round = r.pusher.push_due(T0 + 30_000).await.unwrap();
    assert_eq!(round.updated, 1);
    assert_eq!(r.sim.stats().stock.get("A"), Some(&2));
    // A 503 without Retry-After backs off (initial delay 2 s).
    set(&r.store, &[("A", 1)]).await;
    r.sim.inject(Endpoint::ItemStock, Fault::Status(503), 1);
    let later = T0 + 30_000 + MINUTE_MS;
    assert!(r.pusher.push_due(later).await.is_err());
    assert_eq!(r.pusher.push_due(later + 500).await.unwrap().calls, 0);
    assert_eq!(r.pusher.push_due(later + 5_000).await.unwrap().updated, 1);
    assert_eq!(r.sim.stats().stock.get("A"), Some(&0));
    r.sim.shutdown().await;
}

#[tokio::test]
async fn jgoods_sees_the_new_available_value_after_an_order_allocates() {
    let app = spawn_app_with(Options {
        jgoods_extra: "stock_push_interval = \"1s\"\n".into(),
        ..Options::default()
    })
    .await;
    app.sim.register_item("A");
    app.set_stock("A", 10).await;
    app.daemon().push_stock_now();
    let first = app
        .sim
        .wait_until(DEADLINE, |s| s.stats().stock.get("A") == Some(&10))
        .await;
    assert!(first, "J-goods never saw the ERP's count");
    app.sim.place_order("JG-PUSH-1", &[("A", 3, 1100)]);
    app.wait_state("JG-PUSH-1", "confirmed", "deferred").await;
    let seen = app
        .sim
        .wait_until(DEADLINE, |s| s.stats().stock.get("A") == Some(&7))
        .await;
    assert!(seen, "J-goods never saw 7 available");
    let metrics = reqwest::get(format!("{}/metrics", app.admin_url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("ordersync_stock_push_items_total{channel=\"jgoods\",result=\"updated\"}"),
        "{metrics}"
    );
    app.stop().await;
}
