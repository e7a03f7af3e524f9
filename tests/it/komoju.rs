//! Direct orders paid through KOMOJU: signed webhooks move the payment,
//! shipment captures (once), cancellation cancels or refunds, expiry releases.

use ordersync_sim::komoju::{CaptureMode, KomojuSimConfig, PaymentStatus};
use serde_json::{Value, json};

use crate::helpers::*;

async fn komoju_app() -> TestApp {
    spawn_app_with(Options::komoju()).await
}

fn direct_order(id: &str, payment: Value, allocate: bool) -> Value {
    json!({"channel": "direct", "id": id, "ordered_at": "2026-11-23T10:00:00+09:00",
        "customer": {"name": "山田 太郎", "name_kana": "ﾔﾏﾀﾞ ﾀﾛｳ", "postal_code": "1000001",
                     "address": "東京都千代田区千代田1-1", "phone": "0312345678", "email": "taro@example.jp"},
        "ship_to": null,
        "lines": [{"line_no": 1, "sku": "K-A", "name": "急須", "qty": 2, "unit_price": 5500}],
        "shipping_fee": 800, "fee": 0, "payment": payment, "allocate": allocate})
}

async fn paid_order(app: &TestApp, id: &str) -> String {
    let pid =
        app.komoju()
            .create_payment(11800, 1080, Some(id), "credit_card", CaptureMode::Manual);
    let (status, body) = app
        .post(
            "/api/v1/orders",
            direct_order(id, json!({"method": "komoju", "payment_id": pid}), true),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    pid
}

#[tokio::test]
async fn registration_is_idempotent_and_validated() {
    let app = komoju_app().await;
    app.set_stock("K-A", 5).await;
    let body = direct_order("SHOP-1", json!({"method": "none"}), true);
    let (status, o) = app.post("/api/v1/orders", body.clone()).await;
    assert_eq!(status, 201, "{o}");
    assert_eq!(
        (o["state"].as_str(), o["payment"]["method"].as_str()),
        (Some("confirmed"), Some("none"))
    );
    assert_eq!(o["lines"][0]["reserved_qty"], 2);
    let (status, _) = app.post("/api/v1/orders", body.clone()).await;
    assert_eq!(status, 200);
    let mut changed = body.clone();
    changed["shipping_fee"] = json!(900);
    let (status, e) = app.post("/api/v1/orders", changed).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("conflict"))
    );
    let mut bad = body;
    bad["lines"][0]["qty"] = json!(0);
    let (status, e) = app.post("/api/v1/orders", bad).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (400, Some("lines[0].qty"))
    );
    assert_eq!(
        app.stock("K-A").await["reserved"],
        2,
        "nothing but the first registration reserved"
    );
    app.stop().await;
}

#[tokio::test]
async fn authorization_then_shipment_captures_exactly_once() {
    let app = komoju_app().await;
    app.set_stock("K-A", 5).await;
    let pid = paid_order(&app, "SHOP-2").await;
    // Not shippable while the payment is pending.
    let parcel =
        json!({"carrier": "yamato", "tracking_no": "123456789012", "shipped_on": "2026-11-24"});
    let (status, _) = app
        .post("/api/v1/orders/direct/SHOP-2/shipment", parcel.clone())
        .await;
    assert_eq!(status, 409);
    assert!(app.komoju().authorize(&pid));
    let o = app
        .wait_direct("SHOP-2", |o| o["payment_state"] == "authorized")
        .await;
    assert_eq!(o["state"], "confirmed");
    assert_eq!(o["payment"]["reference"], pid);
    let (status, _) = app
        .post("/api/v1/orders/direct/SHOP-2/shipment", parcel.clone())
        .await;
    assert_eq!(status, 202);
    app.wait_direct("SHOP-2", |o| o["payment_state"] == "captured")
        .await;
    // The same parcel again, and KOMOJU's own webhook for the capture: nothing twice.
    let (status, _) = app
        .post("/api/v1/orders/direct/SHOP-2/shipment", parcel)
        .await;
    assert_eq!(status, 202);
    assert!(app.komoju().wait_webhooks_idle(DEADLINE).await);
    assert_eq!(app.komoju().stats().payment(&pid).captures, 1);
    assert_eq!(
        app.komoju().payment(&pid).unwrap().status,
        PaymentStatus::Captured
    );
    app.stop().await;
}

#[tokio::test]
async fn cancelling_cancels_or_refunds_and_releases_stock() {
    let app = komoju_app().await;
    app.set_stock("K-A", 10).await;
    let before = paid_order(&app, "SHOP-3").await;
    assert!(app.komoju().authorize(&before));
    app.wait_direct("SHOP-3", |o| o["payment_state"] == "authorized")
        .await;
    let (status, _) = app
        .post(
            "/api/v1/orders/direct/SHOP-3/cancel",
            json!({"reason": "customer"}),
        )
        .await;
    assert_eq!(status, 202);
    assert!(
        app.komoju()
            .wait_until(DEADLINE, |v| v
                .payment(&before)
                .is_some_and(|p| p.status == PaymentStatus::Cancelled))
            .await
    );

    let captured = app.komoju().create_payment(
        11800,
        1080,
        Some("SHOP-4"),
        "credit_card",
        CaptureMode::Auto,
    );
    app.post(
        "/api/v1/orders",
        direct_order(
            "SHOP-4",
            json!({"method": "komoju", "payment_id": captured}),
            true,
        ),
    )
    .await;
    assert!(app.komoju().authorize(&captured));
    app.wait_direct("SHOP-4", |o| o["payment_state"] == "captured")
        .await;
    app.post(
        "/api/v1/orders/direct/SHOP-4/cancel",
        json!({"reason": "customer"}),
    )
    .await;
    app.wait_direct("SHOP-4", |o| o["payment_state"] == "refunded")
        .await;
    assert_eq!(app.komoju().stats().payment(&captured).refunds, 1);
    assert_eq!(app.stock("K-A").await["reserved"], 0);
    app.stop().await;
}

#[tokio::test]
async fn an_expired_payment_releases_the_stock_and_asks_for_a_person() {
    let app = komoju_app().await;
    app.set_stock("K-A", 2).await;
    let pid = paid_order(&app, "SHOP-5").await;
    assert_eq!(app.stock("K-A").await["available"], 0);
    assert!(app.komoju().expire(&pid));
    let o = app
        .wait_direct("SHOP-5", |o| o["state"] == "cancelled")
        .await;
    assert!(o["attention"].as_str().unwrap().contains("expired"));
    assert_eq!(app.stock("K-A").await["available"], 2);
    app.stop().await;
}

#[tokio::test]
async fn webhooks_are_verified_deduplicated_and_never_move_backwards() {
    let app = komoju_app().await;
    app.set_stock("K-A", 5).await;
    let pid = paid_order(&app, "SHOP-6").await;
    let url = app.webhook_url.replace("/jgoods", "/komoju");
    let body = br#"{"id":"ev1","type":"ping","resource":"event","data":{},"created_at":"2026-11-23T01:00:00Z"}"#;
    let resp = app
        .http
        .post(&url)
        .header("x-komoju-signature", "00")
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let signed = ordersync::providers::komoju::signature::sign(
        app.komoju().webhook_secret().as_bytes(),
        body,
    );
    for want in ["processed", "duplicate"] {
        let resp = app
            .http
            .post(&url)
            .header("x-komoju-signature", &signed)
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["status"], want);
    }
    // Authorized and captured arrive newest first: the order ends captured.
    app.komoju().hold_webhooks();
    assert!(app.komoju().authorize(&pid));
    assert!(app.komoju().capture_by_customer(&pid));
    app.komoju().release_webhooks(true);
    app.wait_direct("SHOP-6", |o| o["payment_state"] == "captured")
        .await;
    assert!(app.komoju().wait_webhooks_idle(DEADLINE).await);
    let o = app
        .wait_direct("SHOP-6", |o| o["payment_state"] == "captured")
        .await;
    assert_eq!(o["state"], "confirmed");
    app.stop().await;
}

#[tokio::test]
async fn a_lost_capture_answer_is_retried_with_the_same_key_and_captures_once() {
    let app = spawn_app_with(Options::komoju().daemon("http_timeout = \"1s\"")).await;
    app.set_stock("K-A", 5).await;
    let pid = paid_order(&app, "SHOP-7").await;
    assert!(app.komoju().authorize(&pid));
    app.wait_direct("SHOP-7", |o| o["payment_state"] == "authorized")
        .await;
    // KOMOJU captures but its answer never arrives: to the daemon this looks
    // exactly like a crash between the call and recording its result.
    app.komoju().inject(
        ordersync_sim::komoju::Endpoint::Capture,
        ordersync_sim::komoju::Fault::LoseAnswer(std::time::Duration::from_secs(3)),
        1,
    );
    let parcel =
        json!({"carrier": "sagawa", "tracking_no": "400012345678", "shipped_on": "2026-11-24"});
    let (status, _) = app
        .post("/api/v1/orders/direct/SHOP-7/shipment", parcel)
        .await;
    assert_eq!(status, 202);
    app.wait_direct("SHOP-7", |o| o["payment_state"] == "captured")
        .await;
    // KOMOJU's webhook may report the capture first; wait for our call itself.
    let until = tokio::time::Instant::now() + DEADLINE;
    loop {
        let (_, rows) = app.get("/api/v1/outbox?state=done").await;
        if rows["outbox"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "komoju_capture")
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "the capture call never finished"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let stats = app.komoju().stats();
    assert_eq!(stats.payment(&pid).captures, 1, "captured twice");
    assert!(
        stats.calls(ordersync_sim::komoju::Endpoint::Capture) >= 2,
        "the capture was not retried"
    );
    assert!(
        stats.idempotency.replays >= 1 || stats.idempotency.conflicts >= 1,
        "{:?}",
        stats.idempotency
    );
    app.stop().await;
}

/// KOMOJU keeps idempotency keys per account: two installations (or one
/// whose store was reset) both at outbox row 1 must not share a key, or
/// the second capture is answered with the first one's payment.
#[tokio::test]
async fn idempotency_keys_are_unique_per_installation() {
    use ordersync::call::idempotency_key;
    use ordersync::providers::komoju::client::KomojuClient;
    use ordersync::sim::komoju::KomojuSimSettings as _;
    use ordersync::store::{Store, kv};
    use ordersync_sim::komoju::KomojuSimConfig;

    let install = |dir: &std::path::Path| {
        let store = Store::open_in(dir, 0).unwrap();
        async move {
            let id = store
                .write(|tx| kv::installation_id(tx, "2026-12-03T10:00:00+09:00"))
                .await
                .unwrap();
            // Kept: asked again, the same id.
            let again = store
                .write(|tx| kv::installation_id(tx, "2026-12-03T11:00:00+09:00"))
                .await
                .unwrap();
            assert_eq!(id, again);
            id
        }
    };
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (first, second) = (install(a.path()).await, install(b.path()).await);
    assert_ne!(first, second);
    assert_eq!(first.len(), 32);

    let sim = ordersync_sim::komoju::start(
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        KomojuSimConfig::default(),
    )
    .await
    .unwrap();
    let client = KomojuClient::new(sim.client_settings()).unwrap();
    let mut captured = Vec::new();
    for installation in [&first, &second] {
        let pid = sim.create_payment(5000, 0, None, "credit_card", CaptureMode::Manual);
        assert!(sim.authorize(&pid));
        let key = idempotency_key(installation, 1);
        assert!(key.len() <= 100 && key.is_ascii(), "{key}");
        let answer = client.capture(&pid, None, &key).await.unwrap();
        assert_eq!(answer.id, pid, "answered for this payment, not a replay");
        captured.push(pid);
    }
    let stats = sim.stats();
    assert_eq!(stats.idempotency.replays, 0);
    for pid in &captured {
        assert_eq!(stats.payment(pid).captures, 1, "{pid}");
    }
    sim.shutdown().await;
}

/// A two-step authorization lapses at KOMOJU about 30 days after KOMOJU
/// authorized it: a card authorized 26 days ago (the payment's own time,
/// however late the daemon heard of it) gets the order's attention with the
/// lapse date in JST; a konbini slip as old does not (it ends at its deadline).
#[tokio::test]
async fn an_authorization_unshipped_for_25_days_gets_attention() {
    let long_ago = chrono::Utc::now() - chrono::TimeDelta::days(26);
    let app = spawn_app_with(Options {
        komoju: Some(KomojuSimConfig {
            start_at: Some(long_ago),
            ..KomojuSimConfig::default()
        }),
        ..Options::default()
    })
    .await;
    app.set_stock("K-A", 5).await;
    let pid = paid_order(&app, "SHOP-LAPSE").await;
    order_paid_by(&app, "SHOP-SLIP", "konbini").await;
    // Heard of only now, authorized by KOMOJU 26 days ago.
    assert!(app.komoju().authorize(&pid));
    app.wait_direct("SHOP-LAPSE", |o| o["payment_state"] == "authorized")
        .await;
    assert!(app.komoju().wait_webhooks_idle(DEADLINE).await);
    let until = tokio::time::Instant::now() + DEADLINE;
    let o = loop {
        app.daemon().poll_now();
        let (_, o) = app.get("/api/v1/orders/direct/SHOP-LAPSE").await;
        if o["attention"].is_string() {
            break o;
        }
        assert!(tokio::time::Instant::now() < until, "no attention: {o}");
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    };
    let reason = o["attention"].as_str().unwrap();
    assert!(
        reason.starts_with("KOMOJUの与信") && reason.contains("(JST)"),
        "{reason}"
    );
    let (_, slip) = app.get("/api/v1/orders/direct/SHOP-SLIP").await;
    assert!(slip["attention"].is_null(), "{slip}");
    app.stop().await;
}

/// Registers `id` paid by a KOMOJU payment of `kind` (2 × K-A).
async fn order_paid_by(app: &TestApp, id: &str, kind: &str) -> String {
    let pid = app
        .komoju()
        .create_payment(11800, 1080, Some(id), kind, CaptureMode::Auto);
    let (status, body) = app
        .post(
            "/api/v1/orders",
            direct_order(id, json!({"method": "komoju", "payment_id": pid}), true),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    pid
}

/// The events of order `id` so far, oldest first.
async fn events_of(app: &TestApp, id: &str) -> Vec<Value> {
    let (_, page) = app.get("/api/v1/events?limit=1000").await;
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["order_id"] == id)
        .cloned()
        .collect()
}

/// A konbini slip is `authorized` at KOMOJU while the customer has not paid:
/// the order waits (not shippable, no capture ever), its deadline on record,
/// and ships once the customer paid.
#[tokio::test]
async fn a_konbini_order_waits_for_the_customer_and_ships_once_paid() {
    let app = komoju_app().await;
    app.set_stock("K-A", 5).await;
    let pid = order_paid_by(&app, "SHOP-KONBINI", "konbini").await;
    let deadline = app
        .komoju()
        .payment(&pid)
        .unwrap()
        .payment_deadline
        .unwrap();
    let until = tokio::time::Instant::now() + DEADLINE;
    let awaiting = loop {
        let found = events_of(&app, "SHOP-KONBINI")
            .await
            .into_iter()
            .find(|e| e["kind"] == "payment.authorized");
        if let Some(e) = found {
            break e;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "never heard of the slip"
        );
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    };
    assert_eq!(
        awaiting["detail"]["payment_deadline"],
        deadline.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "{awaiting}"
    );
    assert!(app.komoju().wait_webhooks_idle(DEADLINE).await);
    let (_, o) = app.get("/api/v1/orders/direct/SHOP-KONBINI").await;
    assert_eq!(
        (&o["state"], &o["payment_state"]),
        (&json!("allocated"), &json!("pending")),
        "{o}"
    );
    let parcel =
        json!({"carrier": "yamato", "tracking_no": "123456789013", "shipped_on": "2026-11-24"});
    let (status, _) = app
        .post(
            "/api/v1/orders/direct/SHOP-KONBINI/shipment",
            parcel.clone(),
        )
        .await;
    assert_eq!(status, 409, "an unpaid konbini order must not ship");
    assert!(app.komoju().capture_by_customer(&pid));
    let o = app
        .wait_direct("SHOP-KONBINI", |o| o["payment_state"] == "captured")
        .await;
    assert_eq!(o["state"], "confirmed");
    let (status, _) = app
        .post("/api/v1/orders/direct/SHOP-KONBINI/shipment", parcel)
        .await;
    assert_eq!(status, 202);
    app.wait_direct("SHOP-KONBINI", |o| o["state"] == "shipped")
        .await;
    assert_eq!(app.komoju().stats().payment(&pid).captures, 0);
    app.stop().await;
}

/// A bank transfer never paid expires at its deadline: the order is
/// cancelled and its stock released; it was never shippable.
#[tokio::test]
async fn an_unpaid_bank_transfer_expires_at_its_deadline_and_releases_the_stock() {
    let app = komoju_app().await;
    app.set_stock("K-A", 2).await;
    let pid = order_paid_by(&app, "SHOP-BANK", "bank_transfer").await;
    assert!(app.komoju().wait_webhooks_idle(DEADLINE).await);
    let (_, o) = app.get("/api/v1/orders/direct/SHOP-BANK").await;
    assert_eq!(o["state"], "allocated", "{o}");
    assert_eq!(app.stock("K-A").await["available"], 0);
    app.komoju()
        .advance_clock(std::time::Duration::from_secs(15 * 24 * 3600));
    assert_eq!(
        app.komoju().payment(&pid).unwrap().status,
        PaymentStatus::Expired
    );
    let o = app
        .wait_direct("SHOP-BANK", |o| o["state"] == "cancelled")
        .await;
    assert!(o["attention"].as_str().unwrap().contains("expired"), "{o}");
    assert_eq!(app.stock("K-A").await["available"], 2);
    app.stop().await;
}

/// `failed` is not final: a declined card (whose payment KOMOJU still shows
/// `pending`) puts the order in front of a person with its stock kept; the
/// customer tries again and the order goes on.
#[tokio::test]
async fn a_failed_payment_keeps_the_stock_and_the_customer_may_retry() {
    let app = komoju_app().await;
    app.set_stock("K-A", 2).await;
    let pid = paid_order(&app, "SHOP-FAIL").await;
    assert!(app.komoju().fail(&pid));
    let o = app
        .wait_direct("SHOP-FAIL", |o| o["attention"].is_string())
        .await;
    assert_eq!(o["state"], "allocated", "{o}");
    assert!(
        o["attention"].as_str().unwrap().starts_with("KOMOJU"),
        "{o}"
    );
    assert_eq!(app.stock("K-A").await["available"], 0);
    assert!(app.komoju().retry(&pid));
    assert!(app.komoju().authorize(&pid));
    let o = app
        .wait_direct("SHOP-FAIL", |o| o["payment_state"] == "authorized")
        .await;
    assert_eq!(o["state"], "confirmed");
    app.stop().await;
}

/// The daemon pins API version 2025-01-28, and a bank transfer of the wrong
/// amount stays unpaid even where KOMOJU books it as a partial capture
/// (`captures[]`): never released for shipping, a person checks it.
#[tokio::test]
async fn a_mispaid_bank_transfer_is_never_released_and_the_version_is_pinned() {
    let app = komoju_app().await;
    app.set_stock("K-A", 2).await;
    app.komoju()
        .set_mispaid_transfer(ordersync_sim::komoju::MisPaidTransfer::PartialCapture);
    let pid = order_paid_by(&app, "SHOP-SHORT", "bank_transfer").await;
    assert!(app.komoju().pay_wrong_amount(&pid, 10_000));
    let o = app
        .wait_direct("SHOP-SHORT", |o| o["attention"].is_string())
        .await;
    assert_eq!(o["state"], "allocated", "{o}");
    assert_ne!(o["payment_state"], "captured", "{o}");
    let (status, _) = app
        .post(
            "/api/v1/orders/direct/SHOP-SHORT/shipment",
            json!({"carrier": "yamato", "tracking_no": "123456789014", "shipped_on": "2026-11-24"}),
        )
        .await;
    assert_eq!(status, 409);
    let versions = app.komoju().stats().api_versions;
    assert!(versions.contains_key("2025-01-28"), "{versions:?}");
    assert_eq!(versions.len(), 1, "{versions:?}");
    app.stop().await;
}

/// A paid konbini order cannot be refunded with `/refund`: its cancel ends
/// in no dead call but in the order saying, Japanese first, that KOMOJU
/// needs the customer's bank account; the stock is back.
#[tokio::test]
async fn cancelling_a_paid_konbini_order_asks_for_the_bank_account() {
    let app = komoju_app().await;
    app.set_stock("K-A", 2).await;
    let pid = order_paid_by(&app, "SHOP-CASH", "konbini").await;
    assert!(app.komoju().capture_by_customer(&pid));
    app.wait_direct("SHOP-CASH", |o| o["payment_state"] == "captured")
        .await;
    let (status, _) = app
        .post(
            "/api/v1/orders/direct/SHOP-CASH/cancel",
            json!({"reason": "customer changed their mind"}),
        )
        .await;
    assert_eq!(status, 202);
    let o = app
        .wait_direct("SHOP-CASH", |o| {
            o["attention"].as_str().is_some_and(|a| a.contains("口座"))
        })
        .await;
    assert!(
        o["attention"].as_str().unwrap().starts_with("KOMOJU"),
        "{o}"
    );
    assert_eq!(o["state"], "cancelled");
    assert_eq!(app.stock("K-A").await["available"], 2);
    assert_eq!(app.komoju().stats().payment(&pid).refunds, 0);
    let (_, calls) = app.get("/api/v1/outbox").await;
    let rows = calls["outbox"].as_array().unwrap();
    assert!(rows.iter().all(|r| r["state"] != "dead"), "{calls}");
    app.stop().await;
}
