//! Atobarai.com as its server source answers (the contract's Corrections):
//! `detail` with the status as element text, `cancel` and `status` answering
//! `error` with a result per order, the caller's address not registered
//! (`E..101`) as a configuration problem, and the 60-day registration limit.

use std::time::Duration;

use ordersync_sim::atobarai_com::{
    AtobaraiService, AtobaraiSimConfig, DataStatus, Fault, MARKER_REVIEW, MARKER_UNPAID, SiteChecks,
};
use serde_json::{Value, json};

use crate::helpers::*;

fn order(id: &str, ordered_at: &str) -> Value {
    json!({"channel": "direct", "id": id, "ordered_at": ordered_at,
        "customer": {"name": "山田 太郎", "name_kana": "ﾔﾏﾀﾞ ﾀﾛｳ", "postal_code": "1000001",
                     "address": "東京都千代田区千代田1-1", "phone": "0312345678", "email": "taro@example.jp"},
        "ship_to": null,
        "lines": [{"line_no": 1, "sku": "AF-A", "name": "南部鉄器 急須", "qty": 1, "unit_price": 5500}],
        "shipping_fee": 800, "fee": 0, "payment": {"method": "atobarai_com"}, "allocate": false})
}

fn today() -> String {
    ordersync::domain::time::rfc3339(ordersync::domain::time::now())
}

async fn app() -> TestApp {
    app_with(AtobaraiSimConfig::default()).await
}

/// A daemon on a simulator configured as `sim`, polled only when poked.
async fn app_with(sim: AtobaraiSimConfig) -> TestApp {
    spawn_app_with(
        Options {
            atobarai: Some(sim),
            atobarai_extra: "poll_interval = \"1h\"".into(),
            ..Options::default()
        }
        .daemon("http_timeout = \"1s\""),
    )
    .await
}

async fn register(app: &TestApp, body: Value) {
    let (status, o) = app.post("/api/v1/orders", body).await;
    assert_eq!(status, 201, "{o}");
}

#[tokio::test]
async fn a_shipped_order_is_followed_to_paid_through_detail_with_no_attention() {
    let app = app().await;
    let sim = app.atobarai.as_ref().unwrap();
    register(&app, order("AF-PAY", &today())).await;
    app.wait_direct("AF-PAY", |o| o["credit"]["result"] == "ok")
        .await;
    let (status, _) = app
        .post(
            "/api/v1/orders/direct/AF-PAY/shipment",
            json!({"carrier": "sagawa", "tracking_no": "400012345678", "shipped_on": "2026-11-24"}),
        )
        .await;
    assert_eq!(status, 202);
    app.wait_direct("AF-PAY", |o| {
        o["credit"]["transaction"] == "shipment_registered"
    })
    .await;
    // The buyer pays: detail moves on (its status is the element's text).
    sim.advance_clock(Duration::from_secs(16 * 24 * 3600));
    let o = app
        .poll_direct("AF-PAY", |o| o["payment_state"] == "paid")
        .await;
    assert!(o["attention"].is_null(), "{o}");
    assert_eq!(o["credit"]["transaction"], "paid");
    app.stop().await;
}

#[tokio::test]
async fn a_cancel_answered_error_with_its_result_is_read_and_a_repeat_taken_as_done() {
    let app = app().await;
    let sim = app.atobarai.as_ref().unwrap();
    register(&app, order("AF-C", &today())).await;
    let o = app
        .wait_direct("AF-C", |o| o["credit"]["result"] == "ok")
        .await;
    let reference = o["payment"]["reference"].as_str().unwrap().to_string();
    // The first cancel goes through but its answer is lost: the retry is
    // refused per order (E002, top status error E05301), detail shows it done.
    sim.inject(AtobaraiService::Cancel, Fault::Timeout, 1);
    let (status, _) = app
        .post(
            "/api/v1/orders/direct/AF-C/cancel",
            json!({"reason": "the customer called"}),
        )
        .await;
    assert_eq!(status, 202);
    let o = app
        .wait_direct("AF-C", |o| o["credit"]["transaction"] == "cancelled")
        .await;
    assert!(o["attention"].is_null(), "{o}");
    assert!(sim.stats().calls(AtobaraiService::Cancel) >= 2);
    assert!(matches!(
        sim.order(&reference).unwrap().status,
        DataStatus::CancelRequested | DataStatus::Cancelled
    ));
    let (_, dead) = app.get("/api/v1/outbox?state=dead").await;
    assert_eq!(dead["outbox"], json!([]), "{dead}");
    app.stop().await;
}

#[tokio::test]
async fn an_unregistered_server_address_is_shown_with_the_fix_and_the_call_waits() {
    let app = spawn_app_with(Options {
        atobarai: Some(AtobaraiSimConfig::default()),
        atobarai_extra: "poll_interval = \"1h\"".into(),
        // A short max_delay: the blocked call is tried again within it.
        retry: ("20ms", "300ms", "1s"),
        ..Options::default()
    })
    .await;
    let sim = app.atobarai.as_ref().unwrap();
    sim.set_allowed_sources(vec!["192.0.2.0/24".parse().unwrap()]);
    register(&app, order("AF-IP", &today())).await;
    let fix = app.wait_provider_problem("atobarai_com").await;
    assert!(
        fix.contains("IPアドレス") && fix.contains("E..101"),
        "{fix}"
    );
    let out = app.cli(&["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("後払い.com: 後払い.com"));
    assert!(
        app.metrics()
            .await
            .contains("ordersync_provider_problem{provider=\"atobarai_com\"} 1")
    );
    // Longer than give_up_after: the call is never given up for it, nor
    // counted as an attempt; the order has no attention of its own.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, pending) = app.get("/api/v1/outbox?state=pending").await;
    let call = &pending["outbox"][0];
    assert_eq!(call["kind"], "credit_request", "{pending}");
    assert_eq!(call["attempts"], 0, "{pending}");
    let refused = sim.stats().refused_ip;
    assert!(
        (2..=12).contains(&refused),
        "no tight loop: {refused} refusals"
    );

    // The address is registered: the next try goes through and the problem clears.
    sim.set_allowed_sources(vec!["127.0.0.0/8".parse().unwrap()]);
    app.wait_direct("AF-IP", |o| o["credit"]["result"] == "ok")
        .await;
    app.wait_problem_cleared("atobarai_com").await;
    app.stop().await;
}

#[tokio::test]
async fn an_order_older_than_60_days_is_refused_with_a_readable_reason() {
    // The date window is a per-site option of 後払い.com.
    let app = app_with(AtobaraiSimConfig {
        site_checks: SiteChecks {
            order_date_window: true,
            ..SiteChecks::default()
        },
        ..AtobaraiSimConfig::default()
    })
    .await;
    let old = ordersync::domain::time::rfc3339(
        ordersync::domain::time::now() - chrono::Duration::days(70),
    );
    register(&app, order("AF-OLD", &old)).await;
    let o = app
        .wait_direct("AF-OLD", |o| o["attention"].is_string())
        .await;
    let reason = o["attention"].as_str().unwrap();
    assert!(
        reason.contains("E00306") && reason.contains("60 days"),
        "{reason}"
    );
    app.stop().await;
}

/// An order billed to `name` (the simulator's credit hooks read it).
fn order_for(id: &str, name: &str) -> Value {
    let mut o = order(id, &today());
    o["customer"]["name"] = json!(name);
    o
}

#[tokio::test]
async fn a_lost_answer_under_review_is_found_by_detail_and_never_registered_twice() {
    let app = app().await;
    let sim = app.atobarai.as_ref().unwrap();
    // 後払い.com takes the order (与信中) but the answer comes too late.
    sim.inject(
        AtobaraiService::Order,
        Fault::Delay(Duration::from_secs(3)),
        1,
    );
    register(&app, order_for("AF-LOST", &format!("{MARKER_REVIEW} 次郎"))).await;
    let o = app
        .wait_direct("AF-LOST", |o| o["payment"]["reference"].is_string())
        .await;
    let held = sim.orders_by_ent("AF-LOST");
    assert_eq!(held.len(), 1, "registered once: {held:?}");
    assert_eq!(
        o["payment"]["reference"].as_str(),
        Some(held[0].system_order_id.as_str())
    );
    assert_eq!(sim.stats().calls(AtobaraiService::Order), 1);
    // Reviewed OK later: the poll finds it.
    sim.advance_clock(Duration::from_secs(10 * 60));
    app.poll_direct("AF-LOST", |o| o["credit"]["result"] == "ok")
        .await;
    app.stop().await;
}

#[tokio::test]
async fn a_lost_answer_on_a_site_that_refuses_duplicates_is_found_not_looped() {
    let app = app_with(AtobaraiSimConfig {
        site_checks: SiteChecks {
            duplicate_order_id: true,
            ..SiteChecks::default()
        },
        ..AtobaraiSimConfig::default()
    })
    .await;
    let sim = app.atobarai.as_ref().unwrap();
    sim.inject(
        AtobaraiService::Order,
        Fault::Delay(Duration::from_secs(3)),
        1,
    );
    register(&app, order_for("AF-DUP", &format!("{MARKER_REVIEW} 三郎"))).await;
    let o = app
        .wait_direct("AF-DUP", |o| o["payment"]["reference"].is_string())
        .await;
    assert!(o["attention"].is_null(), "{o}");
    assert_eq!(sim.orders_by_ent("AF-DUP").len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn an_order_closed_without_payment_is_not_paid() {
    let app = app().await;
    let sim = app.atobarai.as_ref().unwrap();
    // This buyer never pays: 後払い.com takes its advance back (立替精算戻し)
    // and closes the order, 9 クローズ without a confirmed receipt.
    register(
        &app,
        order_for("AF-UNPAID", &format!("{MARKER_UNPAID} 四郎")),
    )
    .await;
    app.wait_direct("AF-UNPAID", |o| o["credit"]["result"] == "ok")
        .await;
    let (status, _) = app
        .post(
            "/api/v1/orders/direct/AF-UNPAID/shipment",
            json!({"carrier": "sagawa", "tracking_no": "400012345678", "shipped_on": "2026-11-24"}),
        )
        .await;
    assert_eq!(status, 202);
    app.wait_direct("AF-UNPAID", |o| {
        o["credit"]["transaction"] == "shipment_registered"
    })
    .await;
    sim.advance_clock(Duration::from_secs(16 * 24 * 3600));
    let o = app
        .poll_direct("AF-UNPAID", |o| {
            o["credit"]["transaction"] != "shipment_registered"
                && o["credit"]["transaction"] != "invoiced"
        })
        .await;
    assert_eq!(o["credit"]["transaction"], "closed_unpaid", "{o}");
    assert_ne!(o["payment_state"], "paid", "{o}");
    let attention = o["attention"].as_str().unwrap_or_default();
    assert!(
        attention.contains("入金のないまま") && attention.contains("not paid"),
        "{o}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_cancel_reply_behind_a_php_warning_is_read_not_retried() {
    let app = app_with(AtobaraiSimConfig {
        warning_before_cancel_xml: true,
        ..AtobaraiSimConfig::default()
    })
    .await;
    let sim = app.atobarai.as_ref().unwrap();
    register(&app, order("AF-WARN", &today())).await;
    app.wait_direct("AF-WARN", |o| o["credit"]["result"] == "ok")
        .await;
    let (status, _) = app
        .post(
            "/api/v1/orders/direct/AF-WARN/cancel",
            json!({"reason": "the customer called"}),
        )
        .await;
    assert_eq!(status, 202);
    let o = app
        .wait_direct("AF-WARN", |o| o["credit"]["transaction"] == "cancelled")
        .await;
    assert!(o["attention"].is_null(), "{o}");
    assert_eq!(sim.stats().calls(AtobaraiService::Cancel), 1, "not retried");
    app.stop().await;
}

#[tokio::test]
async fn a_cancel_the_service_refuses_tells_the_merchant_in_japanese_first() {
    let app = app().await;
    let sim = app.atobarai.as_ref().unwrap();
    register(&app, order("AF-NOCXL", &today())).await;
    let o = app
        .wait_direct("AF-NOCXL", |o| o["credit"]["result"] == "ok")
        .await;
    let reference = o["payment"]["reference"].as_str().unwrap().to_string();
    sim.refuse_cancel(&reference, Some(("E003", "SBPS: 取消期限を過ぎています")));
    let (status, _) = app
        .post(
            "/api/v1/orders/direct/AF-NOCXL/cancel",
            json!({"reason": "the customer called"}),
        )
        .await;
    assert_eq!(status, 202);
    let o = app
        .wait_direct("AF-NOCXL", |o| o["attention"].is_string())
        .await;
    let attention = o["attention"].as_str().unwrap();
    assert!(
        attention.contains("後払い.com") && attention.contains("SBPS: 取消期限を過ぎています"),
        "{attention}"
    );
    assert!(!attention.contains("does not know"), "{attention}");
    app.stop().await;
}

/// The last time the Atobarai.com poller finished a round.
async fn last_poll(app: &TestApp) -> Option<String> {
    let key =
        ordersync::providers::polling::last_success_key(ordersync::domain::Provider::AtobaraiCom);
    app.daemon()
        .store
        .read(move |c| ordersync::store::kv::get(c, &key))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_configuration_problem_stays_shown_through_a_poll_that_calls_nothing() {
    let app = spawn_app_with(Options {
        atobarai: Some(AtobaraiSimConfig::default()),
        atobarai_extra: "poll_interval = \"1h\"".into(),
        // The blocked call waits long: only the poller could clear the problem.
        retry: ("20ms", "30s", "1h"),
        ..Options::default()
    })
    .await;
    let sim = app.atobarai.as_ref().unwrap();
    sim.set_allowed_sources(vec!["192.0.2.0/24".parse().unwrap()]);
    register(&app, order("AF-STAY", &today())).await;
    let fix = app.wait_provider_problem("atobarai_com").await;
    assert!(fix.contains("api_user_id"), "{fix}");
    // Poll rounds with nothing to ask 後払い.com prove nothing. (The round's
    // time is stored to the second: poke until it moves on.)
    let before = last_poll(&app).await;
    eventually(Duration::from_millis(20), || async {
        app.daemon().poll_now();
        if last_poll(&app).await != before {
            Ok(())
        } else {
            Err("the poller never finished a round".to_string())
        }
    })
    .await;
    let key = ordersync::problems::key(ordersync::domain::Provider::AtobaraiCom);
    let shown = app
        .daemon()
        .store
        .read(move |c| ordersync::store::kv::get(c, &key))
        .await
        .unwrap();
    assert_eq!(shown.as_deref(), Some(fix.as_str()), "still shown");
    app.stop().await;
}
