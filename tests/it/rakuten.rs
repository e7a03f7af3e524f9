//! Rakuten Pay end to end: the real daemon polls the Rakuten simulator.

use std::time::Duration;

use ordersync::store::kv;
use ordersync_sim::rakuten_pay::{Endpoint, Fault, NewItem, NewOrder, OrderProgress};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_card_order_is_imported_allocated_confirmed_and_paid() {
    let app = rakuten_app().await;
    app.set_stock("R-A", 5).await;
    let n = card_order(&app, "R-A", 2);
    let o = app.poll_until(&n, |o| o["state"] == "confirmed").await;
    assert_eq!(o["payment_state"], "pending");
    assert_eq!(o["lines"][0]["reserved_qty"], 2);
    assert!(
        app.rakuten()
            .wait_for_progress(&n, OrderProgress::RakutenProcessing, DEADLINE)
            .await
    );
    // Rakuten finishes its processing: 300 means paid.
    app.rakuten().advance_clock(Duration::from_secs(600));
    app.poll_until(&n, |o| o["payment_state"] == "paid").await;
    assert_eq!(app.stock("R-A").await["available"], 3);
    app.stop().await;
}

#[tokio::test]
async fn cash_on_delivery_is_held_and_confirmed_at_100_and_announced_to_the_erp_at_300() {
    let app = rakuten_app().await;
    app.set_stock("R-B", 5).await;
    let r = app.rakuten();
    let n = r.next_order_number();
    r.place_order(
        NewOrder::new(&n)
            .cash_on_delivery()
            .item(NewItem::new("R-B", "", 500, 1)),
    );
    // Seen at 100: its stock is held and it is confirmed, or Rakuten would
    // cancel it after 14 days.
    let o = app.poll_until(&n, |o| o["state"] == "confirmed").await;
    assert_eq!(o["lines"][0]["reserved_qty"], 1);
    assert!(
        r.wait_for_progress(&n, OrderProgress::RakutenProcessing, DEADLINE)
            .await
    );
    let kinds = |events: &serde_json::Value| -> Vec<String> {
        events["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["order_id"] == json!(n))
            .map(|e| e["kind"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, feed) = app.get("/api/v1/events?after=0&limit=1000").await;
    let seen = kinds(&feed);
    assert!(seen.contains(&"order.held".to_string()), "{seen:?}");
    assert!(
        !seen.contains(&"order.imported".to_string()),
        "the ERP imports a shop-collected order at 300: {seen:?}"
    );
    // Rakuten finishes its processing: 300, announced to the ERP.
    r.advance_clock(Duration::from_secs(600));
    app.poll_until(&n, |_| true).await;
    app.wait_event("order.imported", true).await;
    let o = app.rakuten_order(&n).await.unwrap();
    assert_eq!(
        o["payment_state"], "pending",
        "cash on delivery is never paid by Rakuten"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_cancellation_at_rakuten_releases_the_stock() {
    let app = rakuten_app().await;
    app.set_stock("R-C", 3).await;
    let n = card_order(&app, "R-C", 3);
    app.poll_until(&n, |o| o["state"] == "confirmed").await;
    assert_eq!(app.stock("R-C").await["available"], 0);
    assert!(app.rakuten().cancel(&n));
    app.poll_until(&n, |o| o["state"] == "cancelled").await;
    assert_eq!(app.stock("R-C").await["available"], 3);
    app.stop().await;
}

#[tokio::test]
async fn a_short_order_keeps_its_partial_reservation_and_is_not_confirmed() {
    let app = rakuten_app().await;
    app.set_stock("R-D", 1).await;
    let n = card_order(&app, "R-D", 2);
    let o = app.poll_until(&n, |o| o["state"] == "short").await;
    assert_eq!(o["lines"][0]["reserved_qty"], 1);
    let reason = o["attention"].as_str().unwrap();
    assert!(
        reason.starts_with("在庫不足") && reason.contains("JST"),
        "the attention says when Rakuten cancels it: {reason}"
    );
    assert_eq!(app.rakuten().stats().confirm_order, 0);
    app.stop().await;
}

#[tokio::test]
async fn the_shipment_is_reported_once_even_when_the_answer_is_lost() {
    let app = spawn_app_with(Options::rakuten("").daemon("http_timeout = \"1s\"")).await;
    app.set_stock("R-E", 2).await;
    let n = card_order(&app, "R-E", 1);
    app.poll_until(&n, |o| o["state"] == "confirmed").await;
    app.rakuten().advance_clock(Duration::from_secs(600));
    app.poll_until(&n, |o| o["payment_state"] == "paid").await;
    // Rakuten applies the report but its answer never arrives (a crash or a
    // timeout between "recorded" and "answered" looks the same).
    app.rakuten().inject(
        Endpoint::UpdateOrderShipping,
        Fault::Delay(Duration::from_secs(3)),
        1,
    );
    let parcel =
        json!({"carrier": "yamato", "tracking_no": "123456789012", "shipped_on": "2026-11-24"});
    let (status, _) = app
        .post(&format!("/api/v1/orders/rakuten/{n}/shipment"), parcel)
        .await;
    assert_eq!(status, 202);
    assert!(
        app.rakuten()
            .wait_for_progress(&n, OrderProgress::Shipped, DEADLINE)
            .await
    );
    // Wait for the retried call to finish, then check Rakuten has one row.
    app.wait_event("order.shipment_reported", false).await;
    let stats = app.rakuten().stats();
    assert_eq!(
        stats.shipping_bodies.len(),
        1,
        "{:?}",
        stats.shipping_bodies
    );
    let body = &stats.shipping_bodies[0];
    let row = &body["BasketidModelList"][0]["ShippingModelList"][0];
    assert_eq!(row["deliveryCompany"], "1001");
    assert_eq!(row["shippingNumber"], "123456789012");
    assert_eq!(row["shippingDate"], "2026-11-24");
    let order = app.rakuten().order(&n).unwrap();
    assert_eq!(order.packages[0].shipping.len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn fifteen_hundred_orders_take_the_minimum_number_of_calls() {
    let app = spawn_app_with(Options::rakuten("auto_confirm = false")).await;
    app.set_stock("BULK", 10_000).await;
    // The poll at start-up is over before the orders arrive.
    app.poll_complete().await;
    let r = app.rakuten();
    for _ in 0..1500 {
        let n = r.next_order_number();
        r.place_order(NewOrder::new(&n).item(NewItem::new("BULK", "", 100, 1)));
    }
    let before = r.stats();
    app.poll_complete().await;
    let until = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (_, list) = app
            .get("/api/v1/orders?channel=rakuten&limit=1000&state=allocated")
            .await;
        let (_, more) = app
            .get(&format!(
                "/api/v1/orders?channel=rakuten&limit=1000&state=allocated&after={}",
                list["next_after"].as_str().unwrap_or("")
            ))
            .await;
        let n = list["orders"].as_array().unwrap().len()
            + more["orders"].as_array().map_or(0, Vec::len);
        if n == 1500 {
            break;
        }
        assert!(tokio::time::Instant::now() < until, "imported {n} of 1500");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let s = r.stats();
    assert_eq!(s.search_order - before.search_order, 2, "searchOrder pages");
    assert_eq!(s.get_order - before.get_order, 15, "getOrder calls");
    assert_eq!(app.stock("BULK").await["reserved"], 1500);
    app.stop().await;
}

#[tokio::test]
async fn licence_expiry_is_watched_and_a_refused_key_flags_the_channel() {
    let app = rakuten_app().await;
    let r = app.rakuten();
    r.set_license_expiry(r.now() + chrono::Duration::days(10));
    app.daemon().poll_now();
    let store = app.daemon().store.clone();
    let until = tokio::time::Instant::now() + DEADLINE;
    loop {
        let expiry = store
            .read(|c| kv::get(c, "rakuten_pay.license_expiry"))
            .await
            .unwrap();
        if expiry.is_some() {
            break;
        }
        assert!(tokio::time::Instant::now() < until);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The key lapses: ES01-01 on every call.
    r.set_license_expiry(r.now() - chrono::Duration::days(1));
    app.daemon().poll_now();
    loop {
        let flag = store
            .read(|c| kv::get(c, "attention.rakuten_pay"))
            .await
            .unwrap();
        if let Some(f) = flag {
            assert!(f.contains("ES01-01"), "{f}");
            break;
        }
        assert!(tokio::time::Instant::now() < until);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_sku_sold_on_both_channels_never_oversells() {
    let app = rakuten_app().await;
    app.set_stock("SHARED", 10).await;
    let mut rakuten_orders = vec![];
    for i in 0..10 {
        app.sim.set_decision(
            &format!("JX{i}"),
            ordersync_sim::jgoods::CustomerDecision::NoReply,
        );
        app.sim
            .place_order(&format!("JX{i}"), &[("SHARED", 1, 100)]);
        rakuten_orders.push(card_order(&app, "SHARED", 1));
        app.daemon().poll_now();
    }
    assert!(app.sim.wait_webhooks_idle(DEADLINE).await);
    for n in &rakuten_orders {
        app.poll_until(n, |o| o["state"] != "new").await;
    }
    let s = app.stock("SHARED").await;
    assert_eq!(
        (s["reserved"].as_i64(), s["available"].as_i64()),
        (Some(10), Some(0))
    );
    let breaches = app
        .daemon()
        .store
        .read(|c| ordersync::store::stock::invariant_breaches(c))
        .await
        .unwrap();
    assert!(breaches.is_empty(), "{breaches:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_parcel_shipped_while_rakuten_processes_is_reported_at_300() {
    let app = rakuten_app().await;
    app.set_stock("R-W", 2).await;
    let n = card_order(&app, "R-W", 1);
    app.poll_until(&n, |o| o["state"] == "confirmed").await;
    assert_eq!(
        app.rakuten().order(&n).unwrap().order_progress,
        OrderProgress::RakutenProcessing
    );
    // The warehouse is faster than Rakuten's payment processing.
    let parcel =
        json!({"carrier": "yamato", "tracking_no": "123456789012", "shipped_on": "2026-11-24"});
    let (status, _) = app
        .post(&format!("/api/v1/orders/rakuten/{n}/shipment"), parcel)
        .await;
    assert_eq!(status, 202);
    // The call waits (read, not sent) while the order is at 200…
    let until = tokio::time::Instant::now() + DEADLINE;
    while app.rakuten().stats().get_order < 3 {
        assert!(
            tokio::time::Instant::now() < until,
            "the report was never tried"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(app.rakuten().stats().update_order_shipping, 0);
    let (_, dead) = app.get("/api/v1/outbox?state=dead").await;
    assert_eq!(dead["outbox"].as_array().map(Vec::len), Some(0), "{dead}");
    // …and goes out once Rakuten reaches 300.
    app.rakuten().advance_clock(Duration::from_secs(600));
    assert!(
        app.rakuten()
            .wait_for_progress(&n, OrderProgress::Shipped, DEADLINE)
            .await
    );
    let o = app.rakuten_order(&n).await.unwrap();
    assert_eq!(o["attention"], serde_json::Value::Null, "{o}");
    assert_eq!(
        app.rakuten().order(&n).unwrap().packages[0].shipping.len(),
        1
    );
    app.stop().await;
}
