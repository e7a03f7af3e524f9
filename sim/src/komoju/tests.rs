//! The simulator's HTTP surface and webhook pushes, over loopback, driven by
//! raw requests shaped from the contract and checked with a receiver that
//! verifies every push by the contract's signature rule.

use axum::http::HeaderValue;
use base64::Engine as _;
use serde_json::Value;
use tokio::net::TcpListener;

use super::receiver::WebhookReceiver;
use super::*;

const WAIT: Duration = Duration::from_secs(10);

async fn start_sim(cfg: KomojuSimConfig) -> KomojuSimHandle {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    start(listener, cfg).await.expect("start simulator")
}

fn basic(user_and_password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(user_and_password)
    )
}

/// The merchant's side, as the contract's "Transport" and "Payments" shape it:
/// Basic auth with the key and an empty password, JSON, a key on every POST.
struct Merchant {
    http: reqwest::Client,
    base: String,
    auth: String,
}

impl Merchant {
    fn of(sim: &KomojuSimHandle) -> Merchant {
        Merchant {
            http: reqwest::Client::new(),
            base: sim.api_base_url(),
            auth: basic(&format!("{}:", sim.secret_key())),
        }
    }

    /// `POST /payments/{id}/{action}` with an idempotency key (`None`: without).
    async fn post(
        &self,
        id: &str,
        action: &str,
        key: Option<&str>,
        body: &str,
    ) -> reqwest::Response {
        let mut request = self
            .http
            .post(format!("{}/payments/{id}/{action}", self.base))
            .header("authorization", &self.auth)
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(key) = key {
            request = request.header(wire::IDEMPOTENCY_HEADER, key);
        }
        request.send().await.expect("simulator answers")
    }

    /// A POST that must succeed; its payment.
    async fn ok(&self, id: &str, action: &str, key: &str, body: &str) -> Value {
        let answer = self.post(id, action, Some(key), body).await;
        assert_eq!(answer.status(), 200, "{action} {id}");
        answer.json().await.expect("a payment")
    }

    async fn get(&self, id: &str) -> reqwest::Result<reqwest::Response> {
        self.http
            .get(format!("{}/payments/{id}", self.base))
            .header("authorization", &self.auth)
            .send()
            .await
    }
}

/// A simulator pushing to a fresh receiver that knows its webhook secret.
async fn sim_with_receiver() -> (KomojuSimHandle, WebhookReceiver, Merchant) {
    let cfg = KomojuSimConfig::default();
    let receiver = WebhookReceiver::with_secret(&cfg.webhook_secret)
        .await
        .expect("receiver");
    let sim = start_sim(KomojuSimConfig {
        webhook_url: Some(receiver.url().to_string()),
        ..cfg
    })
    .await;
    let merchant = Merchant::of(&sim);
    (sim, receiver, merchant)
}

#[tokio::test]
async fn basic_auth_with_the_key_and_an_empty_password() {
    let sim = start_sim(KomojuSimConfig::default()).await;
    let id = sim.create_payment(1000, 100, Some("O1"), "credit_card", CaptureMode::Manual);
    let url = format!("{}/payments/{id}", sim.api_base_url());
    let http = reqwest::Client::new();
    let none = http.get(&url).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert!(none.headers().contains_key("www-authenticate"));
    let body: Value = none.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    for wrong in [
        format!("{}:password", sim.secret_key()),
        "sk_other:".to_string(),
        sim.secret_key().to_string(),
    ] {
        let answer = http
            .get(&url)
            .header("authorization", basic(&wrong))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 401, "{wrong}");
    }
    let ok = http
        .get(&url)
        .header("authorization", basic(&format!("{}:", sim.secret_key())))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["resource"], "payment");
    assert_eq!(body["status"], "pending");
    assert_eq!(body["captured_at"], Value::Null);
    assert_eq!(body["payment_deadline"], Value::Null);
    assert_eq!(body["refunds"], Value::Array(vec![]));
    assert_eq!(body["payment_details"]["type"], "credit_card");
    let stats = sim.stats();
    assert_eq!(stats.unauthorized, 4);
    assert_eq!(stats.calls(Endpoint::GetPayment), 5);
    assert_eq!(stats.missing_api_version, 5);
}

#[tokio::test]
async fn api_versions_are_counted_and_lists_have_the_contract_shape() {
    let sim = start_sim(KomojuSimConfig::default()).await;
    let merchant = Merchant::of(&sim);
    for _ in 0..3 {
        sim.create_payment(500, 0, Some("ORD-7"), "konbini", CaptureMode::Auto);
    }
    let page: Value = merchant
        .http
        .get(format!("{}/payments", merchant.base))
        .query(&[
            ("external_order_num", "ORD-7"),
            ("status", "authorized,failed"),
            ("per_page", "2"),
        ])
        .header("authorization", &merchant.auth)
        .header(wire::API_VERSION_HEADER, "2025-01-28")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["resource"], "payment_list");
    assert_eq!(
        (
            &page["total"],
            &page["page"],
            &page["per_page"],
            &page["last_page"]
        ),
        (
            &Value::from(3),
            &Value::from(1),
            &Value::from(2),
            &Value::from(2)
        )
    );
    let first = &page["data"][0];
    assert_eq!(first["payment_details"]["type"], "konbini");
    assert!(
        first["payment_deadline"]
            .as_str()
            .is_some_and(|d| d.ends_with("T14:59:59Z")),
        "{first}"
    );
    assert_eq!(sim.stats().api_versions.get("2025-01-28"), Some(&1));
    assert_eq!(sim.stats().calls(Endpoint::ListPayments), 1);
}

#[tokio::test]
async fn replays_are_byte_for_byte_and_errors_are_stored_too() {
    let sim = start_sim(KomojuSimConfig::default()).await;
    let merchant = Merchant::of(&sim);
    let id = sim.create_payment(1000, 100, Some("O1"), "credit_card", CaptureMode::Manual);
    // Capturing a pending payment: 422, stored under the key.
    let refused = merchant.post(&id, "capture", Some("k-early"), "{}").await;
    assert_eq!(refused.status(), 422);
    let refused_body = refused.bytes().await.unwrap();
    let envelope: Value = serde_json::from_slice(&refused_body).unwrap();
    assert_eq!(envelope["error"]["code"], "unprocessable_entity");
    assert_eq!(envelope["error"]["details"], serde_json::json!({}));
    assert!(sim.authorize(&id));
    let again = merchant.post(&id, "capture", Some("k-early"), "{}").await;
    assert_eq!(
        again.status(),
        422,
        "the stored answer, not a fresh capture"
    );
    assert_eq!(again.bytes().await.unwrap(), refused_body);

    let first = merchant
        .post(&id, "capture", Some("k-cap"), r#"{"amount":1000}"#)
        .await;
    assert_eq!(first.status(), 200);
    let first = first.bytes().await.unwrap();
    sim.advance_clock(Duration::from_secs(3600));
    // Same key, another body: still the stored answer (counted as a mismatch).
    let second = merchant
        .post(&id, "capture", Some("k-cap"), r#"{"amount":1}"#)
        .await;
    assert_eq!(second.status(), 200);
    assert_eq!(second.bytes().await.unwrap(), first);
    let stats = sim.stats();
    assert_eq!(stats.idempotency.replays, 2);
    assert_eq!(stats.idempotency.mismatches, 1);
    assert_eq!(stats.payment(&id).captures, 1);

    // Keys over 100 characters are refused and not stored.
    let long = "k".repeat(MAX_IDEMPOTENCY_KEY_LEN + 1);
    let bad = merchant.post(&id, "refund", Some(&long), "{}").await;
    assert_eq!(bad.status(), 422);
    assert_eq!(sim.stats().idempotency.invalid_keys, 1);
    assert_eq!(sim.payment(&id).unwrap().status, PaymentStatus::Captured);

    // No key: processed anyway, counted.
    let keyless = merchant
        .post(&id, "refund", None, r#"{"amount":100}"#)
        .await;
    assert_eq!(keyless.status(), 200);
    assert_eq!(sim.stats().idempotency.missing_keys, 1);

    let garbage = merchant
        .post(&id, "refund", Some("k-garbage"), "{not json")
        .await;
    assert_eq!(garbage.status(), 400);
    let unknown = merchant.post(&id, "explode", Some("k-x"), "{}").await;
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn a_retry_while_the_first_request_is_held_gets_409() {
    let sim = start_sim(KomojuSimConfig::default()).await;
    let merchant = Arc::new(Merchant::of(&sim));
    let id = sim.create_payment(1000, 0, Some("O"), "credit_card", CaptureMode::Manual);
    assert!(sim.authorize(&id));
    sim.inject(Endpoint::Capture, Fault::Hold, 1);
    let first = {
        let (merchant, id) = (merchant.clone(), id.clone());
        tokio::spawn(async move { merchant.post(&id, "capture", Some("cap-1"), "{}").await })
    };
    assert!(sim.wait_until(WAIT, |v| v.in_flight() == 1).await);
    let retry = merchant.post(&id, "capture", Some("cap-1"), "{}").await;
    assert_eq!(retry.status(), 409);
    let envelope: Value = retry.json().await.unwrap();
    assert_eq!(envelope["error"]["code"], "conflict");
    sim.release_held();
    assert_eq!(first.await.unwrap().status(), 200);
    let stats = sim.stats();
    assert_eq!(stats.idempotency.conflicts, 1);
    assert_eq!(stats.payment(&id).captures, 1);
}

#[tokio::test]
async fn injected_throttling_and_errors_process_nothing() {
    let sim = start_sim(KomojuSimConfig::default()).await;
    let merchant = Merchant::of(&sim);
    let id = sim.create_payment(1000, 0, Some("O"), "credit_card", CaptureMode::Manual);
    assert!(sim.authorize(&id));
    sim.inject(
        Endpoint::Capture,
        Fault::TooManyRequests {
            retry_after_secs: 7,
        },
        1,
    );
    let throttled = merchant.post(&id, "capture", Some("k"), "{}").await;
    assert_eq!(throttled.status(), 429);
    assert_eq!(
        throttled.headers().get("retry-after"),
        Some(&HeaderValue::from(7))
    );
    sim.inject(Endpoint::Any, Fault::Status(503), 1);
    let unavailable = merchant.get(&id).await.unwrap();
    assert_eq!(unavailable.status(), 503);
    let envelope: Value = unavailable.json().await.unwrap();
    assert_eq!(envelope["error"]["code"], "service_unavailable");
    // The key is still free: the capture goes through once.
    merchant.ok(&id, "capture", "k", "{}").await;
    assert_eq!(sim.stats().idempotency.replays, 0);
    assert_eq!(sim.stats().payment(&id).captures, 1);
}

#[tokio::test]
async fn webhooks_are_signed_with_komoju_headers() {
    let (sim, receiver, merchant) = sim_with_receiver().await;
    let id = sim.create_payment(1000, 100, Some("ORD-1"), "credit_card", CaptureMode::Manual);
    assert!(sim.authorize(&id));
    merchant.ok(&id, "capture", "cap", "{}").await;
    assert!(receiver.wait_for(WAIT, |r| r.len() == 2).await);
    let received = receiver.received();
    assert_eq!(receiver.unauthenticated(), 0);
    for (r, kind) in received
        .iter()
        .zip(["payment.authorized", "payment.captured"])
    {
        assert_eq!(r.event_type(), kind);
        assert_eq!(r.event_header, kind);
        assert_eq!(r.content_type, "application/json");
        assert_eq!(r.delivery_id.len(), 25);
        assert_eq!(r.event_id().len(), 25);
        assert_eq!(r.event["data"]["id"], id.as_str());
        assert_eq!(r.event["resource"], "event");
        assert_eq!(r.event["reason"], Value::Null);
        let signature = r.signature.as_deref().unwrap_or_default();
        assert_eq!(
            signature,
            signature::sign(b"sim-komoju-webhook-secret", &r.body)
        );
    }
    assert_eq!(received[1].event["data"]["status"], "captured");
    assert!(sim.wait_webhooks_idle(WAIT).await);
    let stats = sim.stats();
    assert_eq!(
        (
            stats.webhooks.events,
            stats.webhooks.attempts,
            stats.webhooks.acked
        ),
        (2, 2, 2)
    );
    assert_eq!(
        stats.acked_events(&id),
        ["payment.authorized", "payment.captured"]
    );

    // A receiver with another secret refuses every push: retried, never acked.
    let stranger = WebhookReceiver::with_secret("not-the-secret")
        .await
        .unwrap();
    sim.set_webhook_url(stranger.url());
    sim.touch(&id);
    assert!(harness::wait_until(WAIT, || stranger.unauthenticated() >= 2).await);
}

#[tokio::test]
async fn every_change_is_pushed_and_a_full_refund_sends_both_events() {
    let (sim, receiver, merchant) = sim_with_receiver().await;
    let card = sim.create_payment(1000, 100, Some("O1"), "credit_card", CaptureMode::Auto);
    sim.authorize(&card);
    merchant
        .ok(&card, "refund", "r1", r#"{"amount":100}"#)
        .await;
    merchant.ok(&card, "refund", "r2", "{}").await;
    let konbini = sim.create_payment(2000, 200, Some("O2"), "konbini", CaptureMode::Auto);
    sim.capture_by_customer(&konbini);
    let lapsed = sim.create_payment(10, 0, Some("O3"), "konbini", CaptureMode::Auto);
    sim.expire(&lapsed);
    let failed = sim.create_payment(10, 0, Some("O4"), "credit_card", CaptureMode::Auto);
    sim.fail(&failed);
    let dropped = sim.create_payment(10, 0, Some("O5"), "credit_card", CaptureMode::Manual);
    sim.authorize(&dropped);
    merchant.ok(&dropped, "cancel", "c", "{}").await;
    let ping = sim.ping();
    assert!(sim.wait_webhooks_idle(WAIT).await);
    let stats = sim.stats();
    assert_eq!(
        stats.acked_events(&card),
        [
            "payment.captured",
            "payment.refund.created",
            "payment.refund.created",
            "payment.refunded"
        ]
    );
    assert_eq!(
        stats.acked_events(&konbini),
        ["payment.authorized", "payment.captured"]
    );
    assert_eq!(
        stats.acked_events(&lapsed),
        ["payment.authorized", "payment.expired"]
    );
    assert_eq!(stats.acked_events(&failed), ["payment.failed"]);
    assert_eq!(
        stats.acked_events(&dropped),
        ["payment.authorized", "payment.cancelled"]
    );
    let received = receiver.received();
    assert!(
        received
            .iter()
            .any(|r| r.event_id() == ping && r.event_type() == "ping")
    );
    let refunded = received
        .iter()
        .find(|r| r.event_type() == "payment.refunded")
        .unwrap();
    let payment = &refunded.event["data"];
    assert_eq!(payment["status"], "refunded");
    assert_eq!(payment["refunds"].as_array().map(Vec::len), Some(2));
    assert_eq!(payment["amount_refunded"], 1100);
    // Hooks refuse illegal moves and send nothing.
    let before = sim.stats().webhooks.events;
    assert!(!sim.fail(&card));
    assert!(!sim.expire(&konbini));
    assert!(!sim.authorize(&lapsed));
    assert!(!sim.capture_by_customer(&failed));
    assert!(!sim.authorize("no-such-payment"));
    assert!(!sim.touch("no-such-payment"));
    assert_eq!(sim.stats().webhooks.events, before);
}

#[tokio::test]
async fn webhooks_are_retried_on_500_with_the_same_delivery() {
    let (sim, receiver, _merchant) = sim_with_receiver().await;
    receiver.fail("payment.authorized", 2);
    let id = sim.create_payment(1000, 0, Some("O"), "credit_card", CaptureMode::Manual);
    sim.authorize(&id);
    assert!(sim.wait_webhooks_idle(WAIT).await);
    let received = receiver.received();
    assert_eq!(received.len(), 3);
    assert_eq!(received.iter().filter(|r| r.acked).count(), 1);
    assert!(
        received
            .iter()
            .all(|r| r.delivery_id == received[0].delivery_id)
    );
    assert!(received.iter().all(|r| r.body == received[0].body));
    let stats = sim.stats();
    assert_eq!(
        (
            stats.webhooks.attempts,
            stats.webhooks.acked,
            stats.webhooks.failed
        ),
        (3, 1, 2)
    );
    assert_eq!(stats.deliveries[0].attempts, 3);
    assert_eq!(stats.deliveries[0].outcome, DeliveryOutcome::Acked);
}

#[tokio::test]
async fn in_order_by_default_a_failing_event_blocks_its_payment() {
    let (sim, receiver, merchant) = sim_with_receiver().await;
    receiver.fail("payment.authorized", 3);
    let id = sim.create_payment(1000, 0, Some("O"), "credit_card", CaptureMode::Manual);
    sim.authorize(&id);
    merchant.ok(&id, "capture", "cap", "{}").await;
    assert!(sim.wait_webhooks_idle(WAIT).await);
    assert_eq!(receiver.acked(), ["payment.authorized", "payment.captured"]);
    let kinds: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| r.event_header.clone())
        .collect();
    assert_eq!(kinds.last().map(String::as_str), Some("payment.captured"));
    assert_eq!(kinds.iter().filter(|k| *k == "payment.captured").count(), 1);
}

#[tokio::test]
async fn independent_delivery_lets_later_events_overtake() {
    let (sim, receiver, merchant) = sim_with_receiver().await;
    sim.set_delivery_order(DeliveryOrder::Independent);
    receiver.fail_until_acked("payment.authorized", "payment.captured");
    let id = sim.create_payment(1000, 0, Some("O"), "credit_card", CaptureMode::Manual);
    sim.authorize(&id);
    merchant.ok(&id, "capture", "cap", "{}").await;
    assert!(sim.wait_webhooks_idle(WAIT).await);
    assert_eq!(receiver.acked(), ["payment.captured", "payment.authorized"]);
}

#[tokio::test]
async fn held_webhooks_can_be_released_newest_first() {
    let (sim, receiver, merchant) = sim_with_receiver().await;
    sim.hold_webhooks();
    let id = sim.create_payment(1000, 100, Some("O"), "credit_card", CaptureMode::Manual);
    sim.authorize(&id);
    merchant.ok(&id, "capture", "cap", "{}").await;
    merchant.ok(&id, "refund", "ref", "{}").await;
    assert!(
        sim.wait_until(WAIT, |v| v.stats().deliveries.len() == 4)
            .await
    );
    assert!(receiver.received().is_empty(), "nothing sent while held");
    sim.release_webhooks(true);
    assert!(sim.wait_webhooks_idle(WAIT).await);
    assert_eq!(
        receiver.acked(),
        [
            "payment.refunded",
            "payment.refund.created",
            "payment.captured",
            "payment.authorized"
        ]
    );
}

#[tokio::test]
async fn a_resend_is_an_exact_duplicate() {
    let (sim, receiver, _merchant) = sim_with_receiver().await;
    let id = sim.create_payment(1000, 0, Some("O"), "paypay", CaptureMode::Auto);
    sim.authorize(&id);
    let event_id = sim.last_event_id(&id).unwrap();
    assert!(sim.resend_event(&event_id));
    assert!(!sim.resend_event("nope"));
    assert!(sim.wait_webhooks_idle(WAIT).await);
    let received = receiver.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].delivery_id, received[1].delivery_id);
    assert_eq!(received[0].body, received[1].body);
    assert_eq!(received[1].event_id(), event_id);
    assert_eq!(sim.stats().webhooks.events, 2);
}

#[tokio::test]
async fn without_a_url_pushes_are_skipped_and_past_the_budget_abandoned() {
    let sim = start_sim(KomojuSimConfig::default()).await;
    let id = sim.create_payment(1000, 0, Some("O"), "paypay", CaptureMode::Auto);
    sim.authorize(&id);
    assert!(sim.wait_webhooks_idle(WAIT).await);
    assert_eq!(sim.stats().webhooks.skipped, 1);

    let cfg = KomojuSimConfig::default();
    let receiver = WebhookReceiver::with_secret(&cfg.webhook_secret)
        .await
        .unwrap();
    receiver.fail("payment.captured", u32::MAX);
    let sim = start_sim(KomojuSimConfig {
        webhook_url: Some(receiver.url().to_string()),
        webhook_retry_budget: Duration::from_millis(300),
        ..cfg
    })
    .await;
    let id = sim.create_payment(1000, 0, Some("O"), "paypay", CaptureMode::Auto);
    sim.authorize(&id);
    assert!(sim.wait_webhooks_idle(WAIT).await);
    let stats = sim.stats();
    assert_eq!(stats.webhooks.abandoned, 1);
    assert_eq!(stats.deliveries[0].outcome, DeliveryOutcome::Abandoned);
    assert!(stats.webhooks.attempts >= 2, "retried before giving up");
    assert_eq!(stats.webhooks.acked, 0);
}

#[tokio::test]
async fn the_clock_starts_where_asked_and_shutdown_stops_serving() {
    let start_at = utc("2026-11-22T01:00:00Z");
    let sim = start_sim(KomojuSimConfig {
        start_at: Some(start_at),
        ..KomojuSimConfig::default()
    })
    .await;
    let p = sim.create_payment_with_fee(1000, 100, 190, Some("O"), "konbini", CaptureMode::Auto);
    assert!((p.created_at - start_at).num_seconds().abs() < 60);
    assert_eq!(p.total, 1290);
    assert_eq!(p.payment_type, PaymentType::Konbini);
    let merchant = Merchant::of(&sim);
    assert_eq!(merchant.get(&p.id).await.unwrap().status(), 200);
    sim.shutdown().await;
    assert!(merchant.get(&p.id).await.is_err());
}

#[tokio::test]
async fn a_konbini_slip_is_authorized_and_only_cards_are_captured() {
    let sim = start_sim(KomojuSimConfig::default()).await;
    let merchant = Merchant::of(&sim);
    let slip = sim.create_payment(1000, 100, Some("K1"), "konbini", CaptureMode::Auto);
    let read: Value = merchant.get(&slip).await.unwrap().json().await.unwrap();
    assert_eq!(read["status"], "authorized");
    assert!(read["payment_deadline"].is_string(), "{read}");
    let refused = merchant.post(&slip, "capture", Some("k1"), "{}").await;
    assert_eq!(refused.status(), 422);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unprocessable_entity");
    assert_eq!(
        sim.payment(&slip).unwrap().status,
        PaymentStatus::Authorized
    );
    let card = sim.create_payment(1000, 100, Some("C1"), "credit_card", CaptureMode::Manual);
    sim.authorize(&card);
    let captured = merchant.ok(&card, "capture", "k2", "{}").await;
    assert_eq!(captured["status"], "captured");
}
