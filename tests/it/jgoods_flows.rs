//! End to end through the J-goods simulator: every flow of the seed, duplicate
//! and out-of-order deliveries, bad input, outages, token expiry, conflicts.

use std::time::Duration;

use ordersync_sim::jgoods::{CustomerDecision, Endpoint, Fault, Status};
use serde_json::{Value, json};

use crate::helpers::*;

fn reserved(o: &Value) -> Vec<u64> {
    o["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["reserved_qty"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn full_allocation_is_confirmed_and_becomes_deferred() {
    let app = spawn_app().await;
    app.set_stock("SKU-001", 10).await;
    app.sim.place_order("JG1", &[("SKU-001", 3, 5500)]);
    let o = app.wait_state("JG1", "confirmed", "deferred").await;
    assert_eq!(reserved(&o), [3]);
    assert!(
        app.sim
            .wait_for_status("JG1", Status::AwaitingArrival, DEADLINE)
            .await
    );
    let s = app.stock("SKU-001").await;
    assert_eq!(
        (
            s["on_hand"].as_i64(),
            s["reserved"].as_i64(),
            s["available"].as_i64()
        ),
        (Some(10), Some(3), Some(7))
    );
    // One PUT carried the quantities and the status together.
    let stats = app.sim.stats();
    assert_eq!(
        stats.put_bodies["JG1"],
        vec![json!({"status": "入荷待ち", "items": [{"line_no": 1, "reserved_qty": 3}]})]
    );
    app.stop().await;
}

#[tokio::test]
async fn partial_allocation_accepted_by_the_customer_is_confirmed() {
    let app = spawn_app().await;
    app.set_stock("SKU-002", 4).await;
    app.sim
        .place_order("JG2", &[("SKU-002", 6, 2200), ("SKU-003", 1, 800)]);
    let o = app.wait_state("JG2", "confirmed", "deferred").await;
    assert_eq!(reserved(&o), [4, 0]);
    let qty: Vec<u64> = o["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["qty"].as_u64().unwrap())
        .collect();
    assert_eq!(qty, [4, 0], "lines take the accepted quantities");
    let puts = &app.sim.stats().put_bodies["JG2"];
    assert_eq!(
        puts[0],
        json!({"items": [{"line_no": 1, "reserved_qty": 4}, {"line_no": 2, "reserved_qty": 0}]})
    );
    assert_eq!(puts[1], json!({"status": "入荷待ち"}));
    assert_eq!(app.stock("SKU-002").await["available"], 0);
    app.stop().await;
}

#[tokio::test]
async fn partial_allocation_declined_releases_the_stock() {
    let app = spawn_app().await;
    app.set_stock("SKU-001", 5).await;
    app.sim.set_decision("JG3", CustomerDecision::Decline);
    app.sim.place_order("JG3", &[("SKU-001", 9, 5500)]);
    let o = app.wait_order("JG3", |o| o["state"] == "cancelled").await;
    assert_eq!(o["payment_state"], "unpaid");
    assert_eq!(reserved(&o), [0]);
    let s = app.stock("SKU-001").await;
    assert_eq!(
        (s["reserved"].as_i64(), s["available"].as_i64()),
        (Some(0), Some(5))
    );
    app.stop().await;
}

#[tokio::test]
async fn nothing_in_stock_answers_zero() {
    let app = spawn_app().await;
    app.sim.set_decision("JG4", CustomerDecision::NoReply);
    app.sim.place_order("JG4", &[("UNKNOWN-SKU", 2, 100)]);
    let o = app.wait_order("JG4", |o| o["state"] == "short").await;
    assert_eq!(reserved(&o), [0]);
    assert!(
        app.sim
            .wait_for_status("JG4", Status::AwaitingReply, DEADLINE)
            .await
    );
    assert_eq!(
        app.sim.stats().put_bodies["JG4"][0],
        json!({"items": [{"line_no": 1, "reserved_qty": 0}]})
    );
    app.stop().await;
}

#[tokio::test]
async fn duplicate_deliveries_are_processed_once() {
    let app = spawn_app().await;
    app.set_stock("A", 10).await;
    let body = paid_order_body("JG5", &[("A", 2)]);
    let first = app.post_signed(&body, "d-1").await;
    assert_eq!(first.0, 200, "{:?}", first.1);
    assert_eq!(first.1["status"], "processed");
    let again = app.post_signed(&body, "d-1").await;
    assert_eq!(
        (again.0, again.1["status"].as_str()),
        (200, Some("duplicate"))
    );
    // The same order under a new delivery id must not allocate twice either.
    let other = app.post_signed(&body, "d-2").await;
    assert_eq!(other.0, 200);
    assert_eq!(app.stock("A").await["reserved"], 2);
    app.stop().await;
}

#[tokio::test]
async fn a_stale_delivery_changes_nothing() {
    let app = spawn_app().await;
    app.set_stock("A", 10).await;
    app.sim.place_order("JG6", &[("A", 2, 100)]);
    app.wait_state("JG6", "confirmed", "deferred").await;
    // An old 注文取消 (before the order was paid) arrives late.
    let stale = json!({
        "order_no": "JG6", "status": "注文取消", "status_changed_at": "2026-01-01T00:00:00+09:00",
        "items": [{"line_no": 1, "item_code": "A", "qty": 2, "reserved_qty": null}]
    });
    let (status, _) = app
        .post_signed(&serde_json::to_vec(&stale).unwrap(), "old-1")
        .await;
    assert_eq!(status, 200);
    // The daemon re-reads the order instead of cancelling it.
    assert!(
        app.sim
            .wait_until(DEADLINE, |v| v.stats().get_order >= 1)
            .await
    );
    let o = app.wait_order("JG6", |o| o["state"] == "confirmed").await;
    assert_eq!(reserved(&o), [2]);
    assert_eq!(app.stock("A").await["reserved"], 2);
    app.stop().await;
}

#[tokio::test]
async fn bad_webhooks_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    app.set_stock("A", 10).await;
    let body = paid_order_body("JG7", &[("A", 2)]);
    let now = chrono::Utc::now().timestamp();
    // Wrong secret, stale timestamp, missing signature, altered body.
    type Case = (Vec<u8>, Vec<(&'static str, String)>, u16);
    let cases: Vec<Case> = vec![
        (
            body.clone(),
            signed_headers(&body, "b1", "wrong-secret", now),
            401,
        ),
        (
            body.clone(),
            signed_headers(&body, "b2", WEBHOOK_SECRET, now - 301),
            401,
        ),
        (body.clone(), vec![("x-jgoods-delivery", "b3".into())], 401),
        (
            body.clone(),
            {
                let mut h = signed_headers(&body, "b4", WEBHOOK_SECRET, now);
                h[2].1 = signed_headers(b"{}", "b4", WEBHOOK_SECRET, now)[2]
                    .1
                    .clone();
                h
            },
            401,
        ),
    ];
    for (b, h, want) in cases {
        let (status, resp) = app.post_webhook(&b, &h).await;
        assert_eq!(status, want, "{resp}");
        assert_eq!(resp["error"]["code"], "unauthorized");
    }
    // Signed but malformed bodies: each names the field.
    let malformed: [(&str, &str); 6] = [
        ("{not json", "body"),
        (
            r#"{"order_no":"JG7","status":"謎","items":[{"line_no":1,"item_code":"A","qty":1}]}"#,
            "status",
        ),
        (
            r#"{"order_no":"JG7","status":"承認待ち","items":[{"line_no":1,"item_code":"A","qty":-1}]}"#,
            "items[0].qty",
        ),
        (
            r#"{"order_no":"JG7","status":"承認待ち","items":[{"line_no":1,"item_code":"A","qty":1.5}]}"#,
            "items[0].qty",
        ),
        (
            r#"{"order_no":"JG7","status":"承認待ち","items":[{"line_no":1,"item_code":"A","qty":1,"reserved_qty":2}]}"#,
            "items[0].reserved_qty",
        ),
        (
            r#"{"order_no":"JG7","status":"承認待ち","items":[]}"#,
            "items",
        ),
    ];
    for (i, (b, field)) in malformed.iter().enumerate() {
        let (status, resp) = app.post_signed(b.as_bytes(), &format!("m{i}")).await;
        assert_eq!(status, 400, "{b}: {resp}");
        assert_eq!(resp["error"]["field"], *field, "{b}");
    }
    // Oversized.
    let big = vec![b' '; 1024 * 1024 + 1];
    let (status, _) = app.post_signed(&big, "big").await;
    assert_eq!(status, 413);
    // Nothing changed, and the refusals were kept for audit.
    assert!(app.order("JG7").await.is_none());
    assert_eq!(app.stock("A").await["reserved"], 0);
    let (processed, rejected) = app
        .daemon
        .as_ref()
        .unwrap()
        .store
        .read(|c| ordersync::store::inbox::counts(c, "jgoods"))
        .await
        .unwrap();
    assert_eq!((processed, rejected), (0, 10));
    app.stop().await;
}

#[tokio::test]
async fn jgoods_outage_is_retried_until_it_answers() {
    let app = spawn_app().await;
    app.set_stock("A", 10).await;
    app.sim.inject(Endpoint::PutOrder, Fault::Status(503), 2);
    app.sim.place_order("JG8", &[("A", 1, 100)]);
    app.wait_state("JG8", "confirmed", "deferred").await;
    assert_eq!(app.sim.stats().put_count("JG8"), 3);
    app.stop().await;
}

#[tokio::test]
async fn rate_limits_are_honoured() {
    let app = spawn_app().await;
    app.set_stock("A", 10).await;
    app.sim.inject(
        Endpoint::PutOrder,
        Fault::TooManyRequests {
            retry_after_secs: 1,
        },
        1,
    );
    let started = std::time::Instant::now();
    app.sim.place_order("JG9", &[("A", 1, 100)]);
    app.wait_state("JG9", "confirmed", "deferred").await;
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "Retry-After: 1 was not honoured"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_expired_token_is_refreshed() {
    let app = spawn_app().await;
    app.set_stock("A", 10).await;
    app.sim.place_order("JG10", &[("A", 1, 100)]);
    app.wait_state("JG10", "confirmed", "deferred").await;
    let tokens_before = app.sim.stats().token_requests;
    app.sim.expire_tokens();
    app.sim.place_order("JG11", &[("A", 1, 100)]);
    app.wait_state("JG11", "confirmed", "deferred").await;
    assert_eq!(app.sim.stats().token_requests, tokens_before + 1);
    app.stop().await;
}

#[tokio::test]
async fn a_conflict_after_cancellation_at_jgoods_releases_the_stock() {
    let app = spawn_app().await;
    app.set_stock("A", 10).await;
    // J-goods cancels while our post-back is failing; the next attempt gets 409.
    app.sim.inject(Endpoint::PutOrder, Fault::Status(503), 1);
    app.sim.place_order("JG12", &[("A", 4, 100)]);
    app.wait_order("JG12", |o| o["state"] == "allocated").await;
    assert!(
        app.sim
            .wait_until(DEADLINE, |v| v.stats().put_count("JG12") >= 1)
            .await
    );
    app.sim.set_status("JG12", Status::Cancelled);
    let o = app.wait_order("JG12", |o| o["state"] == "cancelled").await;
    assert_eq!(o["payment_state"], "unpaid");
    assert_eq!(app.stock("A").await["reserved"], 0);
    app.stop().await;
}

#[tokio::test]
async fn a_dead_call_flags_the_order_and_can_be_retried() {
    let app = spawn_app_with(Options::fast_retries()).await;
    app.set_stock("A", 10).await;
    app.sim.inject(Endpoint::PutOrder, Fault::Status(503), 1000);
    app.sim.place_order("JG13", &[("A", 1, 100)]);
    let o = app.wait_order("JG13", |o| !o["attention"].is_null()).await;
    assert!(o["attention"].as_str().unwrap().contains("J-goods"), "{o}");
    let (_, dead) = app.get("/api/v1/outbox?state=dead").await;
    let id = dead["outbox"][0]["id"].as_i64().unwrap();
    app.sim.clear_faults();
    let (status, _) = app
        .admin(
            reqwest::Method::POST,
            &format!("/api/v1/outbox/{id}/retry"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = app
        .admin(
            reqwest::Method::POST,
            &format!("/api/v1/outbox/{id}/retry"),
            None,
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("not_dead"))
    );
    // The retried call goes through; the order is confirmed (the old reason stays for the record).
    let o = app.wait_state("JG13", "confirmed", "deferred").await;
    assert!(o["attention"].is_null(), "{o}");
    app.stop().await;
}

#[tokio::test]
async fn bearer_auth_and_source_networks() {
    let mut opts = Options::default();
    opts.sim.webhook_auth = ordersync_sim::jgoods::SimWebhookAuth::Bearer {
        secret: "bearer-secret".into(),
    };
    opts.jgoods_extra = "webhook_auth = \"bearer\"\nwebhook_allow_from = [\"127.0.0.0/8\"]".into();
    let app = spawn_app_with(opts).await;
    app.set_stock("A", 1).await;
    app.sim.place_order("JG14", &[("A", 1, 100)]);
    app.wait_state("JG14", "confirmed", "deferred").await;
    let body = paid_order_body("JG15", &[("A", 1)]);
    let (status, _) = app
        .post_webhook(&body, &[("authorization", "Bearer nope".into())])
        .await;
    assert_eq!(status, 401);
    app.stop().await;

    let app = spawn_app_with(Options {
        jgoods_extra: "webhook_allow_from = [\"10.0.0.0/8\"]".into(),
        ..Options::default()
    })
    .await;
    let body = paid_order_body("JG16", &[("A", 1)]);
    let (status, resp) = app.post_signed(&body, "x").await;
    assert_eq!(
        (status, resp["error"]["code"].as_str()),
        (403, Some("forbidden_source"))
    );
    app.stop().await;
}

#[tokio::test]
async fn the_sweep_recovers_a_paid_order_whose_webhook_never_arrived() {
    let app = spawn_app().await;
    app.set_stock("A", 5).await;
    // Webhooks go nowhere: the delivery is lost.
    app.sim
        .set_webhook_url("http://127.0.0.1:9/webhooks/jgoods");
    app.sim.place_order("JG-LOST", &[("A", 2, 100)]);
    assert!(app.order("JG-LOST").await.is_none());
    app.daemon().poll_now();
    let o = app.wait_state("JG-LOST", "confirmed", "deferred").await;
    assert_eq!(reserved(&o), [2]);
    assert!(app.sim.stats().search >= 1);
    // Sweeping again takes nothing twice.
    app.daemon().poll_now();
    assert!(
        app.sim
            .wait_until(DEADLINE, |v| v.stats().search >= 2)
            .await
    );
    assert_eq!(app.stock("A").await["reserved"], 2);
    app.stop().await;
}
