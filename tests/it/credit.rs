//! Deferred-payment direct orders against the Kuroneko Atobarai and
//! Atobarai.com simulators: every credit result, review polled until it
//! settles, the OK→NG flip caught before shipping, shipment registered once
//! across a lost answer, cancel before and after shipment, registration
//! recovered through detail, fee bands.

use std::time::Duration;

use ordersync::providers::credit::kuroneko::order_no_for;
use ordersync_sim::atobarai_com::{
    AtobaraiService, AtobaraiSimConfig, DataStatus, Fault as AtobaraiFault,
};
use ordersync_sim::kuroneko::{Endpoint, Fault, FlipRule, KuronekoSimConfig, KuronekoStatus};
use serde_json::{Value, json};

use crate::helpers::*;

/// A Yamato tracking number with a right check digit (12345678901 mod 7 = 3).
const TRACKING: &str = "123456789013";

pub(crate) fn order(id: &str, method: &str, name: &str, unit_price: i64, allocate: bool) -> Value {
    json!({"channel": "direct", "id": id, "ordered_at": "2026-11-23T10:00:00+09:00",
        "customer": {"name": name, "name_kana": "ﾔﾏﾀﾞ ﾀﾛｳ", "postal_code": "1000001",
                     "address": "東京都千代田区千代田1-1", "phone": "0312345678", "email": "taro@example.jp"},
        "ship_to": null,
        "lines": [{"line_no": 1, "sku": "CR-A", "name": "南部鉄器 急須", "qty": 1, "unit_price": unit_price}],
        "shipping_fee": 800, "fee": 0, "payment": {"method": method}, "allocate": allocate})
}

/// A daemon with Kuroneko Atobarai on `sim`, no settle pause, polled only when poked.
pub(crate) async fn kuroneko_app(sim: KuronekoSimConfig) -> TestApp {
    spawn_app_with(Options {
        kuroneko: Some(sim),
        kuroneko_extra: "settle_delay = \"0s\"\npoll_interval = \"1h\"".into(),
        daemon_extra: "http_timeout = \"1s\"".into(),
        ..Options::default()
    })
    .await
}

async fn register(app: &TestApp, body: Value) -> Value {
    let (status, o) = app.post("/api/v1/orders", body).await;
    assert_eq!(status, 201, "{o}");
    o
}

async fn ship(app: &TestApp, id: &str, carrier: &str, tracking: &str) -> (u16, Value) {
    app.post(
        &format!("/api/v1/orders/direct/{id}/shipment"),
        json!({"carrier": carrier, "tracking_no": tracking, "shipped_on": "2026-11-24"}),
    )
    .await
}

async fn cancel(app: &TestApp, id: &str) -> (u16, Value) {
    app.post(
        &format!("/api/v1/orders/direct/{id}/cancel"),
        json!({"reason": "the customer called"}),
    )
    .await
}

fn credit(o: &Value) -> &str {
    o["credit"]["result"].as_str().unwrap_or("")
}

#[tokio::test]
async fn kuroneko_every_credit_result() {
    let app = kuroneko_app(KuronekoSimConfig::default()).await;
    app.set_stock("CR-A", 10).await;
    let o = register(&app, order("K-OK", "kuroneko", "山田 太郎", 5500, true)).await;
    assert_eq!(o["payment_state"], "credit_pending");
    assert_eq!(o["credit"]["result"], "pending");
    register(&app, order("K-NG", "kuroneko", "NG 花子", 5500, true)).await;
    register(&app, order("K-LIMIT", "kuroneko", "山田 太郎", 60000, true)).await;
    register(&app, order("K-REVIEW", "kuroneko", "審査 次郎", 5500, true)).await;

    let ok = app.wait_direct("K-OK", |o| credit(o) == "ok").await;
    assert_eq!(
        (&ok["state"], &ok["payment_state"], &ok["attention"]),
        (&json!("confirmed"), &json!("credit_ok"), &Value::Null)
    );
    assert_eq!(ok["payment"]["method"], "kuroneko");
    assert_eq!(ok["payment"]["reference"], order_no_for("K-OK", 1));
    assert!(ok["credit"]["checked_at"].is_string(), "{ok}");

    let ng = app.wait_direct("K-NG", |o| credit(o) == "ng").await;
    assert_eq!(ng["payment_state"], "credit_ng");
    assert!(
        ng["attention"].as_str().unwrap().contains("credit NG"),
        "{ng}"
    );
    // release_on_credit_ng (default true) gave its unit back.
    assert_eq!(ng["lines"][0]["reserved_qty"], 0);
    let limit = app
        .wait_direct("K-LIMIT", |o| credit(o) == "over_limit")
        .await;
    assert!(
        limit["attention"].as_str().unwrap().contains("limit"),
        "{limit}"
    );
    // Two units held: K-OK and K-REVIEW.
    assert_eq!(app.stock("CR-A").await["reserved"], 2);

    // Under review: polled until it settles, never shippable meanwhile.
    let review = app
        .wait_direct("K-REVIEW", |o| o["payment"]["reference"].is_string())
        .await;
    assert_eq!(credit(&review), "pending");
    let (status, body) = ship(&app, "K-REVIEW", "yamato", TRACKING).await;
    assert_eq!(status, 409, "{body}");
    app.kuroneko
        .as_ref()
        .unwrap()
        .advance_clock(Duration::from_secs(31 * 60));
    let settled = app.poll_direct("K-REVIEW", |o| credit(o) == "ok").await;
    assert_eq!(settled["state"], "confirmed");
    // Shipment of a refused order is refused too.
    let (status, _) = ship(&app, "K-NG", "yamato", TRACKING).await;
    assert_eq!(status, 409);
    app.stop().await;
}

#[tokio::test]
async fn kuroneko_shipment_registered_once_across_a_lost_answer_then_followed_to_paid() {
    let app = kuroneko_app(KuronekoSimConfig::default()).await;
    let sim = app.kuroneko.as_ref().unwrap();
    register(&app, order("K-SHIP", "kuroneko", "山田 太郎", 5500, false)).await;
    app.wait_direct("K-SHIP", |o| credit(o) == "ok").await;
    // Past Yamato's pause after the credit request.
    sim.advance_clock(Duration::from_secs(120));
    // The registration goes through but its answer is lost (client timeout).
    sim.inject(Endpoint::Shipment, Fault::Delay(Duration::from_secs(3)), 1);
    let (status, body) = ship(&app, "K-SHIP", "yamato", TRACKING).await;
    assert_eq!(status, 202, "{body}");
    let order_no = order_no_for("K-SHIP", 1);
    app.wait_direct("K-SHIP", |o| {
        o["credit"]["transaction"] == "shipment_registered"
    })
    .await;
    let stats = sim.stats();
    assert_eq!(
        stats.calls(Endpoint::Shipment),
        1,
        "registered exactly once"
    );
    let snap = sim.order(&order_no).unwrap();
    assert_eq!(snap.payment_no.as_deref(), Some(TRACKING));
    // The retry found Yamato already had it (status 3) and sent nothing.
    let (_, feed) = app.get("/api/v1/events?limit=1000").await;
    let registered = feed["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["order_id"] == "K-SHIP" && e["kind"] == "credit.shipment_registered")
        .cloned()
        .unwrap();
    assert_eq!(
        registered["detail"]["already_registered"], true,
        "{registered}"
    );
    // The same parcel again is nothing new.
    let (status, _) = ship(&app, "K-SHIP", "yamato", TRACKING).await;
    assert_eq!(status, 202);

    // KAAST followed: delivered (10), invoiced (11), paid (12).
    sim.advance_clock(Duration::from_secs(3 * 24 * 3600 + 3600));
    app.poll_direct("K-SHIP", |o| o["credit"]["transaction"] == "invoiced")
        .await;
    sim.advance_clock(Duration::from_secs(15 * 24 * 3600));
    let paid = app
        .poll_direct("K-SHIP", |o| o["credit"]["transaction"] == "paid")
        .await;
    assert_eq!(paid["payment_state"], "paid");
    assert_eq!(sim.stats().calls(Endpoint::Shipment), 1);
    app.stop().await;
}

#[tokio::test]
async fn kuroneko_ok_turned_ng_is_caught_before_shipment_registration() {
    let app = kuroneko_app(KuronekoSimConfig {
        flip: Some(FlipRule {
            orders: 2,
            window: Duration::from_secs(3600),
            after: Duration::from_secs(60),
        }),
        ..KuronekoSimConfig::default()
    })
    .await;
    let sim = app.kuroneko.as_ref().unwrap();
    register(&app, order("K-F1", "kuroneko", "山田 太郎", 5500, false)).await;
    app.wait_direct("K-F1", |o| credit(o) == "ok").await;
    register(&app, order("K-F2", "kuroneko", "山田 太郎", 3300, false)).await;
    app.wait_direct("K-F2", |o| credit(o) == "ok").await;
    sim.advance_clock(Duration::from_secs(120));
    let (status, body) = ship(&app, "K-F2", "sagawa", "400012345678").await;
    assert_eq!(status, 202, "{body}");
    let flipped = app.wait_direct("K-F2", |o| credit(o) == "ng").await;
    let reason = flipped["attention"].as_str().unwrap();
    assert!(reason.contains("after an earlier OK"), "{reason}");
    assert!(reason.contains("parcel has already left"), "{reason}");
    assert_eq!(sim.stats().calls(Endpoint::Shipment), 0, "no registration");
    // The other order still registers, by the orderNo (another carrier: processDiv 2).
    ship(&app, "K-F1", "sagawa", "400012345679").await;
    app.wait_direct("K-F1", |o| {
        o["credit"]["transaction"] == "shipment_registered"
    })
    .await;
    let snap = sim.order(&order_no_for("K-F1", 1)).unwrap();
    assert_eq!(snap.payment_no, Some(order_no_for("K-F1", 1)));
    app.stop().await;
}

#[tokio::test]
async fn kuroneko_cancel_before_and_after_shipment_per_the_state_table() {
    let app = kuroneko_app(KuronekoSimConfig::default()).await;
    let sim = app.kuroneko.as_ref().unwrap();
    for id in ["K-C1", "K-C2", "K-C3"] {
        register(&app, order(id, "kuroneko", "山田 太郎", 5500, false)).await;
        app.wait_direct(id, |o| credit(o) == "ok").await;
    }
    sim.advance_clock(Duration::from_secs(120));
    // Before shipment (status 1): cancelled at Yamato.
    let (status, body) = cancel(&app, "K-C1").await;
    assert_eq!(status, 202, "{body}");
    app.wait_direct("K-C1", |o| o["credit"]["transaction"] == "cancelled")
        .await;
    assert_eq!(
        sim.order(&order_no_for("K-C1", 1))
            .unwrap()
            .status
            .map(|s| s.code()),
        Some(2)
    );
    // After shipment (status 3): still cancellable (returned goods).
    ship(&app, "K-C2", "yamato", TRACKING).await;
    app.wait_direct("K-C2", |o| {
        o["credit"]["transaction"] == "shipment_registered"
    })
    .await;
    let (status, body) = cancel(&app, "K-C2").await;
    assert_eq!(status, 202, "{body}");
    let c2 = app
        .wait_direct("K-C2", |o| o["credit"]["transaction"] == "cancelled")
        .await;
    assert_eq!(c2["state"], "cancelled");
    // Paid (12): Yamato refuses; the order says why.
    ship(&app, "K-C3", "yamato", TRACKING).await;
    app.wait_direct("K-C3", |o| {
        o["credit"]["transaction"] == "shipment_registered"
    })
    .await;
    sim.set_status(&order_no_for("K-C3", 1), KuronekoStatus::Paid);
    cancel(&app, "K-C3").await;
    let c3 = app
        .wait_direct("K-C3", |o| o["attention"].is_string())
        .await;
    let reason = c3["attention"].as_str().unwrap();
    assert!(
        reason.contains("Kuroneko Atobarai refused the cancel") && reason.contains("kaacl009E"),
        "{reason}"
    );
    app.stop().await;
}

#[tokio::test]
async fn kuroneko_follow_up_calls_wait_for_the_settle_pause() {
    let app = spawn_app_with(Options::kuroneko(
        "settle_delay = \"1500ms\"\npoll_interval = \"1h\"",
    ))
    .await;
    let sim = app.kuroneko.as_ref().unwrap();
    // The simulator itself answers err0001 within its window; move past it
    // so that only the daemon's own pause holds the call back.
    register(&app, order("K-S", "kuroneko", "山田 太郎", 5500, false)).await;
    app.wait_direct("K-S", |o| credit(o) == "ok").await;
    sim.advance_clock(Duration::from_secs(120));
    ship(&app, "K-S", "yamato", TRACKING).await;
    // The call is put off (no attempt counted) while the pause lasts.
    let store = app.daemon().store.clone();
    let until = tokio::time::Instant::now() + DEADLINE;
    loop {
        let rows = store
            .read(|c| ordersync::store::outbox::list(c, Some("pending"), 10))
            .await
            .unwrap();
        if let Some(r) = rows.iter().find(|r| r.kind == "credit_ship")
            && r.last_error
                .as_deref()
                .is_some_and(|e| e.contains("settle"))
        {
            assert_eq!(r.attempts, 0);
            break;
        }
        assert!(tokio::time::Instant::now() < until, "never put off");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(sim.stats().calls(Endpoint::Shipment), 0);
    app.wait_direct("K-S", |o| {
        o["credit"]["transaction"] == "shipment_registered"
    })
    .await;
    assert_eq!(sim.stats().calls(Endpoint::Shipment), 1);
    app.stop().await;
}

async fn atobarai_app(sim: AtobaraiSimConfig, extra: &str) -> TestApp {
    spawn_app_with(Options {
        atobarai: Some(sim),
        atobarai_extra: format!("poll_interval = \"1h\"\n{extra}"),
        daemon_extra: "http_timeout = \"1s\"".into(),
        ..Options::default()
    })
    .await
}

#[tokio::test]
async fn atobarai_credit_results_shipment_and_cancel() {
    let app = atobarai_app(AtobaraiSimConfig::default(), "").await;
    let sim = app.atobarai.as_ref().unwrap();
    register(
        &app,
        order("A-OK", "atobarai_com", "山田 太郎", 5500, false),
    )
    .await;
    register(
        &app,
        order("A-NG", "atobarai_com", "与信NG 花子", 5500, false),
    )
    .await;
    register(
        &app,
        order("A-REV", "atobarai_com", "審査中 次郎", 5500, false),
    )
    .await;
    register(&app, order("A-C", "atobarai_com", "山田 太郎", 2200, false)).await;
    let ok = app.wait_direct("A-OK", |o| credit(o) == "ok").await;
    assert!(
        ok["payment"]["reference"]
            .as_str()
            .unwrap()
            .starts_with("AK")
    );
    let ng = app.wait_direct("A-NG", |o| credit(o) == "ng").await;
    assert!(ng["attention"].as_str().unwrap().contains("Atobarai.com"));
    app.wait_direct("A-REV", |o| o["payment"]["reference"].is_string())
        .await;
    sim.advance_clock(Duration::from_secs(10 * 60));
    app.poll_direct("A-REV", |o| credit(o) == "ok").await;

    // Shipment: the carrier id comes from delivlist.
    ship(&app, "A-OK", "yamato", TRACKING).await;
    app.wait_direct("A-OK", |o| {
        o["credit"]["transaction"] == "shipment_registered"
    })
    .await;
    let reference = ok["payment"]["reference"].as_str().unwrap().to_string();
    let held = sim.order(&reference).unwrap();
    assert_eq!(held.journal_number.as_deref(), Some(TRACKING));
    assert!(sim.stats().calls(AtobaraiService::DelivList) >= 1);

    // Cancel before shipment: a request, then cancelled.
    app.wait_direct("A-C", |o| credit(o) == "ok").await;
    cancel(&app, "A-C").await;
    let c = app
        .wait_direct("A-C", |o| o["credit"]["transaction"] == "cancelled")
        .await;
    let c_ref = c["payment"]["reference"].as_str().unwrap();
    assert!(matches!(
        sim.order(c_ref).unwrap().status,
        DataStatus::CancelRequested | DataStatus::Cancelled
    ));
    app.stop().await;
}

#[tokio::test]
async fn atobarai_lost_registration_answer_is_recovered_through_detail_without_a_duplicate() {
    let app = atobarai_app(AtobaraiSimConfig::default(), "").await;
    let sim = app.atobarai.as_ref().unwrap();
    sim.inject(
        AtobaraiService::Order,
        AtobaraiFault::Delay(Duration::from_secs(3)),
        1,
    );
    register(
        &app,
        order("A-LOST", "atobarai_com", "山田 太郎", 5500, false),
    )
    .await;
    let o = app.wait_direct("A-LOST", |o| credit(o) == "ok").await;
    let stats = sim.stats();
    assert_eq!(stats.calls(AtobaraiService::Order), 1, "registered once");
    assert!(stats.calls(AtobaraiService::Detail) >= 1);
    assert_eq!(
        sim.orders()
            .iter()
            .filter(|s| s.ent_order_id == "A-LOST")
            .count(),
        1
    );
    assert_eq!(
        o["payment"]["reference"].as_str(),
        Some(sim.order_by_ent("A-LOST").unwrap().system_order_id.as_str())
    );
    app.stop().await;
}

#[tokio::test]
async fn atobarai_fee_bands_set_the_fee_sent() {
    let app = atobarai_app(
        AtobaraiSimConfig::default(),
        "fee_mode = \"override\"\n[[atobarai_com.fee_bands]]\nmin = 0\nmax = 9999\nfee = 330\n[[atobarai_com.fee_bands]]\nmin = 10000\nmax = 29999\nfee = 440\n",
    )
    .await;
    let sim = app.atobarai.as_ref().unwrap();
    register(
        &app,
        order("A-FEE1", "atobarai_com", "山田 太郎", 5500, false),
    )
    .await;
    register(
        &app,
        order("A-FEE2", "atobarai_com", "山田 太郎", 15000, false),
    )
    .await;
    app.wait_direct("A-FEE1", |o| credit(o) == "ok").await;
    app.wait_direct("A-FEE2", |o| credit(o) == "ok").await;
    let fee = |ent: &str| {
        let o = sim.order_by_ent(ent).unwrap();
        let charge = o
            .form
            .iter()
            .find(|(k, _)| k == "I_ItemCharge")
            .map(|(_, v)| v.clone());
        (charge, o.use_amount)
    };
    // 5,500 + 800 shipping = 6,300 → band 1; 15,800 → band 2.
    assert_eq!(fee("A-FEE1"), (Some("330".to_string()), 6300 + 330));
    assert_eq!(fee("A-FEE2"), (Some("440".to_string()), 15800 + 440));
    app.stop().await;
}

#[tokio::test]
async fn deferred_orders_need_their_provider_enabled() {
    let app = spawn_app().await;
    let (status, body) = app
        .post(
            "/api/v1/orders",
            order("X-1", "kuroneko", "山田 太郎", 5500, false),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "provider_disabled");
    assert_eq!(body["error"]["field"], "payment");
    app.stop().await;
}

#[tokio::test]
async fn a_provider_refusal_becomes_a_readable_reason_on_the_order() {
    let app = kuroneko_app(KuronekoSimConfig::default()).await;
    let mut body = order("K-BAD", "kuroneko", "山田 太郎", 5500, false);
    // A postcode that looks right but does not exist at Yamato.
    body["customer"]["postal_code"] = json!("0009999");
    register(&app, body).await;
    let o = app
        .wait_direct("K-BAD", |o| o["attention"].is_string())
        .await;
    let reason = o["attention"].as_str().unwrap();
    assert!(
        reason.contains("Kuroneko Atobarai refused the credit request")
            && reason.contains("postcode does not exist (kaara029E)"),
        "{reason}"
    );
    assert_eq!(credit(&o), "pending");
    let (_, dead) = app.get("/api/v1/outbox?state=dead").await;
    assert_eq!(dead["outbox"][0]["kind"], "credit_request", "{dead}");
    app.stop().await;
}

/// Waits until the order's credit request has been tried once without an
/// answer (the client timed out) and waits for its retry.
async fn wait_unanswered_request(app: &TestApp, id: &str) {
    let until = tokio::time::Instant::now() + DEADLINE;
    loop {
        let (_, list) = app.get("/api/v1/outbox?state=pending").await;
        let tried = list["outbox"].as_array().unwrap().iter().any(|c| {
            c["order_id"] == id
                && c["kind"] == "credit_request"
                && c["attempts"].as_u64() >= Some(1)
        });
        if tried {
            return;
        }
        assert!(tokio::time::Instant::now() < until, "{list}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Retries far apart, so that the cancel comes before the request's retry.
fn slow_retry(o: Options) -> Options {
    Options {
        retry: ("30s", "30s", "1h"),
        daemon_extra: "http_timeout = \"1s\"".into(),
        ..o
    }
}

#[tokio::test]
async fn kuroneko_cancel_after_an_unanswered_request_cancels_what_arrived() {
    let app = spawn_app_with(slow_retry(Options {
        kuroneko: Some(KuronekoSimConfig {
            settle_window: Duration::ZERO,
            ..KuronekoSimConfig::default()
        }),
        kuroneko_extra: "settle_delay = \"0s\"\npoll_interval = \"1h\"".into(),
        ..Options::default()
    }))
    .await;
    let sim = app.kuroneko.as_ref().unwrap();
    // Yamato takes the request, but its answer comes after the client gave up.
    sim.inject(Endpoint::Credit, Fault::Delay(Duration::from_secs(3)), 1);
    register(&app, order("K-LOST", "kuroneko", "山田 太郎", 5500, false)).await;
    wait_unanswered_request(&app, "K-LOST").await;
    let order_no = order_no_for("K-LOST", 1);
    assert!(sim.order(&order_no).is_some(), "the request reached Yamato");
    let (status, body) = cancel(&app, "K-LOST").await;
    assert_eq!(status, 202, "{body}");
    let ok = sim
        .wait_until(DEADLINE, |s| {
            s.order(&order_no)
                .is_some_and(|o| o.status == Some(KuronekoStatus::Cancelled))
        })
        .await;
    assert!(
        ok,
        "Yamato still has a live transaction for a cancelled order"
    );
    assert_eq!(
        sim.stats().calls(Endpoint::Credit),
        1,
        "never requested again"
    );
    app.stop().await;
}

#[tokio::test]
async fn atobarai_cancel_after_an_unanswered_registration_cancels_what_arrived() {
    let app = spawn_app_with(slow_retry(Options::atobarai("poll_interval = \"1h\""))).await;
    let sim = app.atobarai.as_ref().unwrap();
    sim.inject(
        AtobaraiService::Order,
        AtobaraiFault::Delay(Duration::from_secs(3)),
        1,
    );
    register(
        &app,
        order("A-GONE", "atobarai_com", "山田 太郎", 5500, false),
    )
    .await;
    wait_unanswered_request(&app, "A-GONE").await;
    assert!(
        sim.order_by_ent("A-GONE").is_some(),
        "the registration arrived"
    );
    let (status, body) = cancel(&app, "A-GONE").await;
    assert_eq!(status, 202, "{body}");
    let ok = sim
        .wait_until(DEADLINE, |s| {
            s.order_by_ent("A-GONE").is_some_and(|o| {
                matches!(
                    o.status,
                    DataStatus::CancelRequested | DataStatus::Cancelled
                )
            })
        })
        .await;
    assert!(
        ok,
        "Atobarai.com still has a live order for a cancelled one"
    );
    assert_eq!(
        sim.stats().calls(AtobaraiService::Order),
        1,
        "registered once"
    );
    app.stop().await;
}
