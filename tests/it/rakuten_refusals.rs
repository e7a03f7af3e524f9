//! Rakuten stock entries Rakuten refuses or must not be sent
//! (`rakuten-inventory.md`, Corrections 2026-12-07), end to end over loopback:
//! one refused entry is set aside while the rest of its batch is pushed at
//! once, pre-order and subscription items are never pushed, a search result
//! without `item` does not fail its page.

use std::time::Duration;

use ordersync::store::{kv, rakuten_skus};
use ordersync_sim::rakuten_pay::{CatalogItem, Endpoint, ItemType, RakutenSimConfig};

use crate::helpers::*;
use crate::rakuten_stock::{app_with, import, wait_quantity};

const EVERY: Duration = Duration::from_millis(20);

async fn report(app: &TestApp) -> rakuten_skus::MapReport {
    app.daemon()
        .store
        .read(|c| rakuten_skus::report(c, 10))
        .await
        .unwrap()
}

// Multi-threaded: the command line runs as a child process and blocks its
// thread while the simulator answers it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_entry_is_set_aside_and_the_rest_of_its_batch_is_pushed_at_once() {
    let app = app_with(
        vec![
            CatalogItem::new("cup", &[("c1", "SKU-CUP")]),
            CatalogItem::new("mug", &[("m1", "SKU-MUG")]),
        ],
        "",
    )
    .await;
    import(&app, &[("SKU-CUP", 5), ("SKU-MUG", 5)]).await;
    wait_quantity(&app, "cup", "c1", 5).await;
    wait_quantity(&app, "mug", "m1", 5).await;
    // The shop makes the cup a 予約商品 in RMS after the map was learnt:
    // Rakuten refuses its entry, and with it the whole call.
    let r = app.rakuten();
    assert!(r.set_item_type("cup", ItemType::PreOrder));
    import(&app, &[("SKU-CUP", 6), ("SKU-MUG", 7)]).await;
    wait_quantity(&app, "mug", "m1", 7).await;
    assert_eq!(r.quantity("cup", "c1"), Some(5));
    assert_eq!(r.inventory_stats().invalid, 1, "refused once");
    let refused = eventually(EVERY, || async {
        let report = report(&app).await;
        match report.refused.first() {
            Some(refused) => Ok(refused.clone()),
            None => Err(format!("the refusal is not kept: {report:?}")),
        }
    })
    .await;
    assert_eq!(refused.pair.sku, "SKU-CUP");
    assert_eq!(refused.code, "IE1101");
    assert!(refused.fix.contains("予約商品"), "{}", refused.fix);
    // Not sent again while the item is unchanged, whatever its stock does.
    import(&app, &[("SKU-CUP", 4), ("SKU-MUG", 3)]).await;
    wait_quantity(&app, "mug", "m1", 3).await;
    assert_eq!(r.inventory_stats().invalid, 1, "the cup is not resent");
    // Shown where the merchant looks.
    let page = app.status_page().await;
    assert!(
        page.contains("IE1101") && page.contains("SKU-CUP"),
        "{page}"
    );
    let out = app.cli(&["rakuten", "skus"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("IE1101") && text.contains("SKU-CUP"),
        "{text}"
    );
    let out = app.cli(&["status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("IE1101"), "{text}");
    // The shop makes it a normal item again: the next map sync sees the item
    // changed and the cup's current count goes out.
    assert!(r.set_item_type("cup", ItemType::Normal));
    let out = app.cli(&["rakuten", "sync-skus"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_quantity(&app, "cup", "c1", 4).await;
    assert!(report(&app).await.refused.is_empty());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pre_order_and_subscription_items_are_never_pushed_and_a_result_without_item_is_read_past()
{
    let mut yoyaku = CatalogItem::new("yoyaku", &[("y1", "SKU-Y")]);
    yoyaku.item_type = ItemType::PreOrder;
    let mut club = CatalogItem::new("hanpu", &[("h1", "SKU-H")]);
    club.item_type = ItemType::BuyingClub;
    let app = app_with(
        vec![CatalogItem::new("mug", &[("m1", "SKU-MUG")]), yoyaku, club],
        "",
    )
    .await;
    // A result without `item` in the middle of the page.
    app.rakuten().list_result_without_item("bare");
    let out = app.cli(&["rakuten", "sync-skus"]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    import(&app, &[("SKU-H", 2), ("SKU-MUG", 5), ("SKU-Y", 3)]).await;
    wait_quantity(&app, "mug", "m1", 5).await;
    let r = app.rakuten();
    assert_eq!(r.quantity("yoyaku", "y1"), None);
    assert_eq!(r.quantity("hanpu", "h1"), None);
    assert_eq!(
        r.inventory_stats().invalid,
        0,
        "nothing Rakuten refuses is sent"
    );
    let report = report(&app).await;
    assert_eq!(report.pairs, 1, "{report:?}");
    let not_pushed: Vec<(&str, &str)> = report
        .not_pushed
        .iter()
        .map(|(p, item_type)| (p.sku.as_str(), item_type.as_str()))
        .collect();
    assert_eq!(
        not_pushed,
        [("SKU-H", "BUYING_CLUB"), ("SKU-Y", "PRE_ORDER")]
    );
    let page = app.status_page().await;
    assert!(page.contains("頒布会") && page.contains("SKU-Y"), "{page}");
    app.stop().await;
}

async fn kv_value(app: &TestApp, key: &'static str) -> Option<String> {
    app.daemon()
        .store
        .read(move |c| kv::get(c, key))
        .await
        .unwrap()
}

async fn wait_kv(app: &TestApp, key: &'static str, present: bool) -> Option<String> {
    eventually(EVERY, || async {
        let value = kv_value(app, key).await;
        if value.is_some() == present {
            Ok(value)
        } else {
            Err(format!("{key}: {value:?}, want present {present}"))
        }
    })
    .await
}

const SEARCH_PROBLEM: &str = "attention.rakuten_pay.items_search";
const INVENTORIES_PROBLEM: &str = "attention.rakuten_pay.inventories";
/// Words of the fix for a refused key, which must not be given for a
/// function that is merely not ticked.
const NEW_KEY: &str = "新しいライセンスキーを発行";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_not_ticked_for_the_key_is_the_stock_pushs_own_problem_until_it_answers() {
    let app = spawn_app_with(Options {
        rakuten_items: vec![CatalogItem::new("mug", &[("m1", "SKU-MUG")])],
        rakuten: Some(RakutenSimConfig {
            unticked_functions: vec![Endpoint::ItemsSearch],
            ..RakutenSimConfig::default()
        }),
        ..Options::rakuten("stock_push_interval = \"1s\"\n")
    })
    .await;
    let fix = wait_kv(&app, SEARCH_PROBLEM, true).await.unwrap();
    assert!(
        fix.starts_with("楽天") && fix.contains("itemapi_2.0.items.search"),
        "{fix}"
    );
    assert!(!fix.contains(NEW_KEY), "{fix}");
    // The order import works with the same key: it neither clears the
    // problem nor is blamed for it.
    app.poll_complete().await;
    app.poll_complete().await;
    assert!(kv_value(&app, SEARCH_PROBLEM).await.is_some());
    assert_eq!(kv_value(&app, "attention.rakuten_pay").await, None);
    // Shown where a person looks.
    let page = app.status_page().await;
    assert!(page.contains("itemapi_2.0.items.search"), "{page}");
    let out = app.cli(&["status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "a problem: status exits 1");
    assert!(text.contains("itemapi_2.0.items.search"), "{text}");
    // The shop ticks items.search but not the Inventory API: the map is
    // learnt within a push interval, and the push is refused in its turn.
    let r = app.rakuten();
    r.set_function_permission(Endpoint::BulkUpsert, false);
    r.set_function_permission(Endpoint::ItemsSearch, true);
    wait_kv(&app, SEARCH_PROBLEM, false).await;
    app.set_stock("SKU-MUG", 4).await;
    let fix = wait_kv(&app, INVENTORIES_PROBLEM, true).await.unwrap();
    assert!(
        fix.contains("inventories") && !fix.contains(NEW_KEY),
        "{fix}"
    );
    app.poll_complete().await;
    assert!(
        kv_value(&app, INVENTORIES_PROBLEM).await.is_some(),
        "an order poll that works does not clear it"
    );
    r.set_function_permission(Endpoint::BulkUpsert, true);
    wait_quantity(&app, "mug", "m1", 4).await;
    wait_kv(&app, INVENTORIES_PROBLEM, false).await;
    app.stop().await;
}

#[tokio::test]
async fn the_low_stock_watch_counts_its_searches_and_stops_at_its_daily_ceiling() {
    let app = spawn_app_with(Options {
        rakuten_items: vec![CatalogItem::new("mug", &[("m1", "SKU-MUG")])],
        ..Options::rakuten(
            "stock_push_interval = \"1s\"\nlow_stock_poll_interval = \"1s\"\n\
             low_stock_level = 3\nlow_stock_daily_searches = 2\n",
        )
    })
    .await;
    app.set_stock("SKU-MUG", 2).await;
    wait_quantity(&app, "mug", "m1", 2).await;
    let count = |metrics: &str, result: &str| -> u64 {
        let series = format!("ordersync_rakuten_low_stock_searches_total{{result=\"{result}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(series.as_str()))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    };
    // Low stock: the watch searches every second until its ceiling, then
    // skips its turns.
    let metrics = eventually(EVERY, || async {
        let metrics = app.metrics().await;
        if count(&metrics, "over_ceiling") >= 2 {
            Ok(metrics)
        } else {
            Err(metrics)
        }
    })
    .await;
    assert_eq!(count(&metrics, "made"), 2, "{metrics}");
    app.stop().await;
}
