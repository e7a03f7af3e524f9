//! Rakuten Pay as the live API behaves (the contract's Corrections): the
//! licence-expiry permission, `GA0001`, confirmation of every order at 100
//! and the 14-day auto-cancel, restock top-ups, deleted lines and packages,
//! the first start's backfill, and no credit routing.

use std::time::Duration;

use ordersync::store::kv;
use ordersync_sim::rakuten_pay::{NewItem, NewOrder, OrderProgress, RakutenSimConfig};
use serde_json::json;

use crate::helpers::*;

/// Waits until the store holds `key` (written by a worker).
async fn wait_kv(app: &TestApp, key: &'static str) -> String {
    let store = app.daemon().store.clone();
    let until = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(v) = store.read(move |c| kv::get(c, key)).await.unwrap() {
            return v;
        }
        assert!(tokio::time::Instant::now() < until, "{key} never written");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_key_without_the_expiry_permission_still_imports_and_says_what_to_tick() {
    let app = rakuten_app().await;
    let r = app.rakuten();
    // Many shops leave license.expiryDate.get off: the expiry call is refused,
    // the order API works.
    r.set_license_expiry_permission(false);
    app.set_stock("LP-1", 3).await;
    let n = card_order(&app, "LP-1", 1);
    let o = app.poll_until(&n, |o| o["state"] == "confirmed").await;
    assert_eq!(o["lines"][0]["reserved_qty"], 1);
    let fix = wait_kv(&app, "rakuten_pay.license_check_refused").await;
    assert!(fix.contains("license.expiryDate.get"), "{fix}");

    // Shown once, with the fix; not a problem of the channel (the key works).
    let out = app.cli(&["status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("license.expiryDate.get"), "{text}");
    assert!(!text.contains("attention.rakuten_pay"), "{text}");
    assert_eq!(out.status.code(), Some(0), "{text}");
    let page = app.status_page().await;
    assert!(page.contains("license.expiryDate.get"), "{page}");
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("ordersync_rakuten_license_check_refused 1"),
        "{metrics}"
    );
    // No made-up "0 days left" while the expiry is unknown.
    assert!(
        !metrics.contains("ordersync_rakuten_license_days_left "),
        "{metrics}"
    );
    assert!(
        metrics.contains("ordersync_provider_problem{provider=\"rakuten_pay\"} 0"),
        "{metrics}"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_expired_key_answers_ga0001_and_is_shown_as_the_credential_until_it_works_again() {
    let app = rakuten_app().await;
    let r = app.rakuten();
    app.poll_complete().await;
    // The expiry is read once, in its own task (offset-less, as the live API writes it).
    let expiry = wait_kv(&app, "rakuten_pay.license_expiry").await;
    assert!(expiry.ends_with("+09:00"), "{expiry}");

    r.set_license_expiry(r.now() - chrono::Duration::days(1));
    app.set_stock("LP-2", 3).await;
    let n = card_order(&app, "LP-2", 1);
    app.daemon().poll_now();
    let problem = wait_kv(&app, "attention.rakuten_pay").await;
    assert!(
        problem.contains("GA0001") && problem.contains("license_key"),
        "{problem}"
    );
    let out = app.cli(&["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        app.metrics()
            .await
            .contains("ordersync_provider_problem{provider=\"rakuten_pay\"} 1")
    );
    assert!(app.rakuten_order(&n).await.is_none());

    // The key works again (a new one was put in): the next poll imports and clears it.
    r.set_license_expiry(r.now() + chrono::Duration::days(80));
    app.poll_until(&n, |o| o["state"] == "confirmed").await;
    app.wait_problem_cleared("rakuten_pay").await;
    app.stop().await;
}

#[tokio::test]
async fn rakuten_deferred_payment_is_rakuten_handled_and_never_goes_to_a_credit_provider() {
    use ordersync_sim::kuroneko::KuronekoSimConfig;
    let app = spawn_app_with(Options {
        rakuten: Some(RakutenSimConfig::default()),
        // The deprecated key, as an old config has it: read, and without effect.
        rakuten_extra: "deferred_payment = \"kuroneko\"".into(),
        kuroneko: Some(KuronekoSimConfig::default()),
        kuroneko_extra: "settle_delay = \"0s\"\npoll_interval = \"1h\"".into(),
        ..Options::default()
    })
    .await;
    app.set_stock("R-D", 5).await;
    let r = app.rakuten();
    let n = r.next_order_number();
    r.place_order(
        NewOrder::new(&n)
            .rakuten_deferred()
            .item(NewItem::new("R-D", "", 2200, 1)),
    );
    let o = app.poll_until(&n, |o| o["state"] == "confirmed").await;
    assert!(o["payment"].is_null() && o["credit"].is_null(), "{o}");
    assert!(
        r.wait_for_progress(&n, OrderProgress::RakutenProcessing, DEADLINE)
            .await
    );
    r.advance_clock(Duration::from_secs(600));
    let o = app.poll_until(&n, |o| o["payment_state"] == "paid").await;
    assert_eq!(o["state"], json!("confirmed"));
    let kuroneko = app.kuroneko.as_ref().unwrap();
    assert!(
        kuroneko.stats().bodies.is_empty(),
        "nothing went to Kuroneko"
    );
    // check-config says the key is deprecated, at its line.
    let out = app.cli(&["check-config"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("rakuten_pay.deferred_payment") && err.contains("deprecated"),
        "{err}"
    );
    app.stop().await;
}

/// A direct order of `qty` units of `sku`, paid on the merchant's own terms, allocated at once.
fn direct_order(id: &str, sku: &str, qty: u32) -> serde_json::Value {
    json!({"channel": "direct", "id": id, "ordered_at": "2026-11-23T10:00:00+09:00",
        "customer": {"name": "山田 太郎", "name_kana": "ﾔﾏﾀﾞ ﾀﾛｳ", "postal_code": "1000001",
                     "address": "東京都千代田区千代田1-1", "phone": "0312345678"},
        "ship_to": null,
        "lines": [{"line_no": 1, "sku": sku, "name": "南部鉄器 急須", "qty": qty, "unit_price": 5500}],
        "shipping_fee": 800, "fee": 0, "payment": {"method": "none"}, "allocate": true})
}

#[tokio::test]
async fn a_short_order_shows_its_deadline_and_a_restock_tops_it_up_and_confirms_it() {
    let app = rakuten_app().await;
    app.set_stock("TU-1", 1).await;
    let n = card_order(&app, "TU-1", 3);
    let o = app.poll_until(&n, |o| o["state"] == "short").await;
    let reason = o["attention"].as_str().unwrap().to_string();
    let deadline = (app.rakuten().order(&n).unwrap().order_datetime + chrono::Duration::days(14))
        .format("%Y-%m-%d %H:%M")
        .to_string();
    assert!(reason.contains(&deadline), "{reason} / {deadline}");
    // Shown beside the order too: status, the status page, metrics.
    let out = app.cli(&["status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("注文確認待ち 1 件(うち在庫不足 1 件)"),
        "{text}"
    );
    let page = app.status_page().await;
    assert!(
        page.contains("id=\"rakuten-unconfirmed\" class=\"warn\""),
        "{page}"
    );
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("ordersync_rakuten_unconfirmed_orders 1"),
        "{metrics}"
    );
    assert!(metrics.contains("ordersync_rakuten_unconfirmed_oldest_seconds "));
    assert_eq!(app.rakuten().stats().confirm_order, 0);

    // The ERP counts 5 (from another process): the order gets its units in the
    // same transaction, before anything else could take them.
    let out = app.cli(&["stock", "set", "TU-1", "5"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let o = app.rakuten_order(&n).await.unwrap();
    assert_eq!(o["lines"][0]["reserved_qty"], 3, "{o}");
    assert_eq!(o["state"], "allocated");
    assert!(o["attention"].is_null(), "{o}");
    assert_eq!(app.stock("TU-1").await["available"], 2);
    // The next poll confirms it at Rakuten.
    app.poll_until(&n, |o| o["state"] == "confirmed").await;
    assert!(
        app.rakuten()
            .wait_for_progress(&n, OrderProgress::RakutenProcessing, DEADLINE)
            .await
    );
    assert!(
        app.metrics()
            .await
            .contains("ordersync_rakuten_unconfirmed_orders 0")
    );
    app.stop().await;
}

#[tokio::test]
async fn rakuten_cancels_an_order_left_unconfirmed_for_14_days_and_its_stock_comes_back() {
    let app = rakuten_app().await;
    app.set_stock("TU-2", 1).await;
    let n = card_order(&app, "TU-2", 2);
    app.poll_until(&n, |o| o["state"] == "short").await;
    assert_eq!(app.stock("TU-2").await["available"], 0);
    let r = app.rakuten();
    r.advance_clock(Duration::from_secs(14 * 24 * 3600 + 3600));
    assert!(
        r.wait_for_progress(&n, OrderProgress::Cancelled, DEADLINE)
            .await
    );
    app.poll_until(&n, |o| o["state"] == "cancelled").await;
    assert_eq!(app.stock("TU-2").await["available"], 1);
    app.stop().await;
}

#[tokio::test]
async fn freed_units_go_to_the_oldest_waiting_order_first_and_never_to_jgoods_short_orders() {
    let app = rakuten_app().await;
    app.set_stock("TU-3", 2).await;
    // An older direct order short by 1, a newer Rakuten order short by 2.
    let (status, o) = app
        .post("/api/v1/orders", direct_order("SHOP-T1", "TU-3", 3))
        .await;
    assert_eq!(status, 201, "{o}");
    assert_eq!(o["state"], "short");
    let n = card_order(&app, "TU-3", 2);
    app.poll_until(&n, |o| o["state"] == "short").await;
    // A J-goods order short as well: its customer decides (返答待ち).
    app.sim
        .set_decision("JG-T1", ordersync_sim::jgoods::CustomerDecision::NoReply);
    app.sim.place_order("JG-T1", &[("TU-3", 1, 5500)]);
    app.wait_order("JG-T1", |o| o["state"] == "short").await;

    // One unit arrives through the admin API: the oldest order gets it.
    let (status, _) = app
        .admin(
            reqwest::Method::PUT,
            "/api/v1/stock/TU-3",
            Some(json!({"on_hand": 3})),
        )
        .await;
    assert_eq!(status, 200);
    let direct = app.wait_direct("SHOP-T1", |_| true).await;
    assert_eq!(direct["lines"][0]["reserved_qty"], 3, "{direct}");
    assert_eq!(direct["state"], "confirmed", "paid on the merchant's terms");
    assert!(direct["attention"].is_null());
    assert_eq!(
        app.rakuten_order(&n).await.unwrap()["lines"][0]["reserved_qty"],
        0
    );

    // The direct order is cancelled: its 3 units go to the Rakuten order
    // (2) and the rest stays free; the J-goods order is not topped up.
    let (status, _) = app
        .post(
            "/api/v1/orders/direct/SHOP-T1/cancel",
            json!({"reason": "customer"}),
        )
        .await;
    assert_eq!(status, 202);
    let o = app.rakuten_order(&n).await.unwrap();
    assert_eq!(
        (o["state"].as_str(), &o["lines"][0]["reserved_qty"]),
        (Some("allocated"), &json!(2))
    );
    assert_eq!(app.stock("TU-3").await["available"], 1);
    let jg = app.order("JG-T1").await.unwrap();
    assert_eq!(jg["lines"][0]["reserved_qty"], 0, "{jg}");
    app.stop().await;
}

#[tokio::test]
async fn deleted_lines_and_packages_are_never_allocated_and_give_their_stock_back() {
    use ordersync_sim::rakuten_pay::OrderEdit;
    let app = rakuten_app().await;
    app.set_stock("DL-A", 5).await;
    app.set_stock("DL-B", 5).await;
    app.set_stock("DL-C", 5).await;
    let r = app.rakuten();
    // Deleted before the first poll: never allocated.
    let n = r.next_order_number();
    r.place_order(
        NewOrder::new(&n)
            .item(NewItem::new("DL-A", "", 1000, 1))
            .item(NewItem::new("DL-B", "", 1000, 2))
            .package(vec![NewItem::new("DL-C", "", 1000, 3)]),
    );
    let lines = r.order(&n).unwrap();
    let b_line = lines.packages[0].items[1].item_detail_id;
    let second = lines.packages[1].basket_id;
    assert!(r.edit(
        &n,
        OrderEdit::RemoveItem {
            item_detail_id: b_line
        }
    ));
    let o = app.poll_until(&n, |o| o["state"] == "confirmed").await;
    assert_eq!(o["lines"][1]["qty"], 0, "{o}");
    assert_eq!(o["lines"][1]["reserved_qty"], 0);
    assert_eq!(app.stock("DL-B").await["available"], 5);
    assert_eq!(app.stock("DL-C").await["available"], 2);

    // At 300 the second destination is deleted (through 400): its stock comes back.
    r.advance_clock(Duration::from_secs(600));
    app.poll_until(&n, |o| o["payment_state"] == "paid").await;
    assert!(r.edit(&n, OrderEdit::RemovePackage { basket_id: second }));
    let o = app.poll_until(&n, |o| o["lines"][2]["qty"] == 0).await;
    assert_eq!(o["lines"][2]["reserved_qty"], 0, "{o}");
    assert_eq!(app.stock("DL-C").await["available"], 5);
    assert_eq!(app.stock("DL-A").await["available"], 4);
    app.stop().await;
}

/// The earliest `startDatetime` of the searches made since `from` (an index into the recordings).
fn earliest_search_start(
    app: &TestApp,
    from: usize,
) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    app.rakuten().stats().search_bodies[from..]
        .iter()
        .filter_map(|b| b["startDatetime"].as_str())
        .filter_map(|s| chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%z").ok())
        .min()
}

#[tokio::test]
async fn a_first_start_imports_the_orders_still_open_from_before_the_lookback() {
    let old = chrono::Utc::now().with_timezone(&ordersync::domain::time::jst())
        - chrono::Duration::days(100);
    let open = NewOrder::new("123456-20260823-00000001")
        .ordered_at(old)
        .progress(OrderProgress::AwaitingShipment)
        .item(NewItem::new("BF-1", "", 1000, 1));
    let app = spawn_app_with(Options {
        rakuten: Some(RakutenSimConfig::default()),
        rakuten_orders: vec![open],
        ..Options::default()
    })
    .await;
    app.poll_complete().await;
    let o = app
        .rakuten_order("123456-20260823-00000001")
        .await
        .expect("imported although ordered before the 3-day lookback");
    assert_eq!(o["state"], "short", "no stock for it yet: {o}");
    let earliest = earliest_search_start(&app, 0).unwrap();
    let limit = app.rakuten().now() - chrono::Duration::days(730);
    assert!(
        earliest >= limit,
        "never past Rakuten's 730 days: {earliest}"
    );
    assert!(earliest < limit + chrono::Duration::days(2), "{earliest}");
    // Once only: the next polls search the lookback window alone.
    let seen = app.rakuten().stats().search_bodies.len();
    app.poll_complete().await;
    let later = earliest_search_start(&app, seen).unwrap();
    assert!(
        later > app.rakuten().now() - chrono::Duration::days(4),
        "{later}"
    );
    app.stop().await;
}
