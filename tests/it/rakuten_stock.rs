//! Stock push to Rakuten, end to end over loopback: the real daemon, the
//! Rakuten simulator's items and stock (`items.search`, `bulk-upsert`,
//! `bulk-get`) and J-goods' simulator for the other channel's orders.

use std::time::Duration;

use ordersync::providers::rakuten_pay::skus::SYNCED_AT_KEY;
use ordersync::store::{kv, rakuten_skus, stock_push};
use ordersync_sim::jgoods::Status;
use ordersync_sim::rakuten_pay::{
    self as rakuten_sim, CatalogItem, Endpoint, Fault, NewItem, NewOrder,
};
use serde_json::json;
use tokio::net::TcpListener;

use crate::helpers::*;

const EVERY: Duration = Duration::from_millis(20);

fn mug() -> CatalogItem {
    CatalogItem::new("mug", &[("m1", "SKU-MUG")])
}

pub(crate) async fn app_with(items: Vec<CatalogItem>, extra: &str) -> TestApp {
    let extra = format!("stock_push_interval = \"1s\"\n{extra}");
    let app = spawn_app_with(Options {
        rakuten_items: items,
        ..Options::rakuten(&extra)
    })
    .await;
    wait_synced(&app).await;
    app
}

/// Waits until the daemon learnt the SKU map once.
async fn wait_synced(app: &TestApp) {
    let store = app.daemon().store.clone();
    eventually(EVERY, || {
        let store = store.clone();
        async move {
            let at = store.read(|c| kv::get(c, SYNCED_AT_KEY)).await.unwrap();
            at.ok_or_else(|| "the SKU map was never learnt".to_string())
        }
    })
    .await;
}

/// Waits until Rakuten shows `quantity` for the pair.
pub(crate) async fn wait_quantity(app: &TestApp, manage: &str, variant: &str, quantity: i64) {
    let r = app.rakuten();
    eventually(EVERY, || async {
        match r.quantity(manage, variant) {
            Some(q) if q == quantity => Ok(()),
            other => Err(format!(
                "{manage}/{variant}: Rakuten shows {other:?}, want {quantity}"
            )),
        }
    })
    .await;
}

/// Sets several counts in one stock import, so one push carries them together.
pub(crate) async fn import(app: &TestApp, counts: &[(impl AsRef<str>, i64)]) {
    let csv: String = std::iter::once("sku,on_hand\n".to_string())
        .chain(
            counts
                .iter()
                .map(|(sku, n)| format!("{},{n}\n", sku.as_ref())),
        )
        .collect();
    let response = app
        .http
        .post(format!("{}/api/v1/stock/import", app.admin_url))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn rakuten_is_told_each_count_allocation_and_cancel_as_an_absolute_quantity() {
    let app = app_with(vec![mug()], "").await;
    app.set_stock("SKU-MUG", 5).await;
    wait_quantity(&app, "mug", "m1", 5).await;
    // A unit sold on J-goods leaves Rakuten's count.
    app.set_stock("SKU-001", 10).await;
    app.sim.place_order("JG1", &[("SKU-MUG", 2, 1100)]);
    app.wait_state("JG1", "confirmed", "deferred").await;
    wait_quantity(&app, "mug", "m1", 3).await;
    // Cancelled at J-goods: back on sale at Rakuten.
    assert!(app.sim.set_status("JG1", Status::Cancelled));
    wait_quantity(&app, "mug", "m1", 5).await;
    // A new count from the ERP.
    app.set_stock("SKU-MUG", 8).await;
    wait_quantity(&app, "mug", "m1", 8).await;
    let stats = app.rakuten().inventory_stats();
    assert_eq!(stats.relative_entries, 0, "never RELATIVE");
    assert_eq!(stats.invalid, 0);
    let metrics = app.metrics().await;
    assert!(
        metrics
            .contains("ordersync_stock_push_items_total{channel=\"rakuten\",result=\"updated\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("ordersync_stock_push_owed{channel=\"rakuten\"}"));
    app.stop().await;
}

#[tokio::test]
async fn the_buffer_holds_units_back_from_rakuten_only() {
    let app = app_with(vec![mug()], "stock_buffer = 2").await;
    app.set_stock("SKU-MUG", 5).await;
    wait_quantity(&app, "mug", "m1", 3).await;
    app.set_stock("SKU-MUG", 1).await;
    wait_quantity(&app, "mug", "m1", 0).await;
    assert_eq!(
        app.stock("SKU-MUG").await["available"],
        1,
        "the mirror is unchanged"
    );
    app.stop().await;
}

#[tokio::test]
async fn nine_hundred_skus_take_three_upserts_a_second_apart() {
    let variants: Vec<(String, String)> = (0..900)
        .map(|i| (format!("v{i:03}"), format!("B-{i:03}")))
        .collect();
    let refs: Vec<(&str, &str)> = variants
        .iter()
        .map(|(v, s)| (v.as_str(), s.as_str()))
        .collect();
    let app = app_with(vec![CatalogItem::new("bulk", &refs)], "").await;
    let counts: Vec<(String, i64)> = (0..900).map(|i| (format!("B-{i:03}"), i % 7 + 1)).collect();
    import(&app, &counts).await;
    let r = app.rakuten();
    eventually(EVERY, || async {
        let done = (0..900).all(|i| r.quantity("bulk", &format!("v{i:03}")) == Some(i % 7 + 1));
        done.then_some(())
            .ok_or_else(|| format!("{:?}", r.inventory_stats()))
    })
    .await;
    let stats = r.inventory_stats();
    assert_eq!(
        (stats.upserts, stats.upserted_entries),
        (3, 900),
        "{stats:?}"
    );
    assert_eq!(stats.rate_limited, 0, "one upsert a second");
    app.stop().await;
}

#[tokio::test]
async fn a_503_and_a_429_are_retried_until_rakuten_takes_the_value() {
    let app = app_with(vec![mug()], "").await;
    let r = app.rakuten();
    r.inject(Endpoint::BulkUpsert, Fault::Status(503), 1);
    r.inject(
        Endpoint::BulkUpsert,
        Fault::TooManyRequests {
            retry_after_secs: 1,
        },
        1,
    );
    app.set_stock("SKU-MUG", 4).await;
    wait_quantity(&app, "mug", "m1", 4).await;
    assert!(r.inventory_stats().upserts >= 3);
    app.stop().await;
}

#[tokio::test]
async fn a_pair_rakuten_does_not_hold_is_found_by_reading_it_back_and_reported_once() {
    let app = app_with(vec![mug()], "").await;
    // Deleted in RMS after the map was learnt: the search still lists it for
    // a day, and a push to it is accepted (204) and stored against nothing.
    assert!(app.rakuten().delist_item("mug"));
    app.set_stock("SKU-MUG", 5).await;
    let store = app.daemon().store.clone();
    let report = eventually(EVERY, || {
        let store = store.clone();
        async move {
            let report = store.read(|c| rakuten_skus::report(c, 10)).await.unwrap();
            if report.not_held.is_empty() {
                Err("not reported yet".to_string())
            } else {
                Ok(report)
            }
        }
    })
    .await;
    assert_eq!(report.not_held[0].0.sku, "SKU-MUG");
    assert_eq!(app.rakuten().quantity("mug", "m1"), None);
    // The push's verdict is written after the read-back's report: wait for it.
    let rakuten = eventually(EVERY, || {
        let store = store.clone();
        async move {
            let pushes = store.read(|c| stock_push::summary(c, 10)).await.unwrap();
            let rakuten = pushes
                .into_iter()
                .find(|p| p.channel.as_str() == "rakuten")
                .unwrap();
            if rakuten.unknown.is_empty() {
                Err("the push's verdict is not recorded yet".to_string())
            } else {
                Ok(rakuten)
            }
        }
    })
    .await;
    assert_eq!(rakuten.unknown.len(), 1);
    assert_eq!(rakuten.owed, 0, "not retried before the next change");
    let out = app.cli(&["rakuten", "skus"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("楽天が保持していない組: 1"), "{text}");
    assert!(app.status_page().await.contains("楽天が持っていない組"));
    app.stop().await;
}

// Multi-threaded: the command line runs as a child process and blocks its
// thread while the simulator answers it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_map_is_learnt_from_every_page_of_items_search() {
    let mut items: Vec<CatalogItem> = (0..250)
        .map(|i| CatalogItem::new(&format!("item{i:03}"), &[("v", &format!("S-{i:03}"))]))
        .collect();
    let mut unlimited = CatalogItem::new("download", &[("d", "S-DL")]);
    unlimited.unlimited_inventory = true;
    items.push(unlimited);
    let app = app_with(items, "").await;
    assert_eq!(
        app.rakuten().inventory_stats().searches,
        4,
        "three pages and the end"
    );
    app.set_stock("S-000", 1).await;
    app.set_stock("ONLY-HERE", 1).await;
    let report = app
        .daemon()
        .store
        .read(|c| rakuten_skus::report(c, 10))
        .await
        .unwrap();
    assert_eq!(
        report.pairs, 250,
        "the item without stock management is skipped"
    );
    assert_eq!(report.not_at_rakuten, ["ONLY-HERE"]);
    assert_eq!(report.not_in_mirror_total, 249);
    // On demand, from the command line.
    let out = app.cli(&["rakuten", "sync-skus"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("楽天の商品 251 件から SKU対応 250 件を取得しました"),
        "{text}"
    );
    assert!(text.contains("楽天にないミラーのSKU: 1"), "{text}");
    app.stop().await;
}

#[tokio::test]
async fn an_order_placed_at_rakuten_just_before_a_push_is_counted_by_it() {
    let app = app_with(vec![mug()], "").await;
    app.set_stock("SKU-MUG", 5).await;
    wait_quantity(&app, "mug", "m1", 5).await;
    // A buyer at Rakuten takes one: Rakuten lowers its own count to 4. The
    // daemon polls Rakuten hourly here, so only the pre-push import sees it.
    let r = app.rakuten();
    let number = r.next_order_number();
    r.try_place_order(
        NewOrder::new(&number).item(NewItem::new("mug", "mug", 1000, 1).sku("SKU-MUG")),
    )
    .unwrap();
    assert_eq!(r.quantity("mug", "m1"), Some(4));
    // The ERP counts a delivery of one: 6 on hand, 1 of them now sold at Rakuten.
    app.set_stock("SKU-MUG", 6).await;
    wait_quantity(&app, "mug", "m1", 5).await;
    assert!(
        app.rakuten_order(&number).await.is_some(),
        "imported before the push"
    );
    assert_eq!(app.stock("SKU-MUG").await["reserved"], 1);
    app.stop().await;
}

#[tokio::test]
async fn a_rakuten_sale_of_a_last_unit_is_imported_within_the_low_stock_interval() {
    // Orders are polled hourly here; nothing else changes the stock, so no
    // push (and no pre-push import) happens: only the watch can find it.
    let app = app_with(
        vec![mug()],
        "low_stock_poll_interval = \"1s\"\nlow_stock_level = 2\n",
    )
    .await;
    app.set_stock("SKU-MUG", 2).await;
    wait_quantity(&app, "mug", "m1", 2).await;
    let r = app.rakuten();
    let number = r.next_order_number();
    r.try_place_order(
        NewOrder::new(&number).item(NewItem::new("mug", "mug", 1000, 1).sku("SKU-MUG")),
    )
    .unwrap();
    let started = std::time::Instant::now();
    eventually(EVERY, || async {
        match app.rakuten_order(&number).await {
            Some(_) => Ok(()),
            None => Err("the Rakuten order is not imported yet".to_string()),
        }
    })
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(app.stock("SKU-MUG").await["reserved"], 1);
    // The one unit left goes to a J-goods customer; the Rakuten buyer's unit is not sold twice.
    app.sim.place_order("JG7", &[("SKU-MUG", 2, 1100)]);
    eventually(EVERY, || async {
        match app.stock("SKU-MUG").await["reserved"].as_i64() {
            Some(2) => Ok(()),
            other => Err(format!("reserved {other:?}")),
        }
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_rakuten_buyer_is_refused_the_last_unit_a_jgoods_customer_took() {
    let app = app_with(vec![mug()], "").await;
    app.set_stock("SKU-MUG", 1).await;
    wait_quantity(&app, "mug", "m1", 1).await;
    app.sim.place_order("JG9", &[("SKU-MUG", 1, 1100)]);
    app.wait_state("JG9", "confirmed", "deferred").await;
    wait_quantity(&app, "mug", "m1", 0).await;
    let r = app.rakuten();
    let refused = r.try_place_order(
        NewOrder::new(r.next_order_number())
            .item(NewItem::new("mug", "mug", 1000, 1).sku("SKU-MUG")),
    );
    assert!(refused.is_err(), "sold out at Rakuten");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_owed_when_the_daemon_is_killed_reaches_rakuten_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let jgoods = ordersync_sim::jgoods::start(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        Default::default(),
    )
    .await
    .unwrap();
    let rakuten = rakuten_sim::start(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        Default::default(),
    )
    .await
    .unwrap();
    rakuten.list_item(mug());
    let extra = rakuten_section(&rakuten, "stock_push_interval = \"1s\"");
    let (config, _, admin) = child_config(dir.path(), &jgoods, &Options::default(), &extra).await;
    let mut daemon = start_daemon(&config, &admin).await;
    let db = dir.path().join("data").join("ordersync.sqlite");
    eventually(EVERY, || async {
        let conn = rusqlite::Connection::open(&db).map_err(|e| e.to_string())?;
        let pairs: i64 = conn
            .query_row("SELECT COUNT(*) FROM rakuten_skus", [], |r| r.get(0))
            .map_err(|e| e.to_string())?;
        (pairs == 1)
            .then_some(())
            .ok_or("the SKU map is not learnt yet".to_string())
    })
    .await;
    // Rakuten is down: the change is owed, not delivered.
    rakuten.set_maintenance(true);
    let http = reqwest::Client::new();
    let put = http
        .put(format!("http://{admin}/api/v1/stock/SKU-MUG"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"on_hand": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    eventually(EVERY, || async {
        let s = rakuten.inventory_stats();
        (s.upserts > 0)
            .then_some(())
            .ok_or("no push tried yet".to_string())
    })
    .await;
    daemon.start_kill().unwrap();
    daemon.wait().await.unwrap();
    rakuten.set_maintenance(false);
    assert_eq!(
        rakuten.quantity("mug", "m1"),
        None,
        "nothing reached Rakuten before the kill"
    );
    let mut daemon = start_daemon(&config, &admin).await;
    eventually(EVERY, || async {
        match rakuten.quantity("mug", "m1") {
            Some(7) => Ok(()),
            other => Err(format!("Rakuten shows {other:?}")),
        }
    })
    .await;
    daemon.start_kill().unwrap();
    daemon.wait().await.unwrap();
}
