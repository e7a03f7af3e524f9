//! The simulator's HTTP surface and webhook pushes, over loopback, checked
//! with a tiny receiver that verifies every push with the real
//! [`signature::verify`] and parses it with the real [`wire::parse_event`].

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine as _;
use secrecy::SecretString;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::channels::komoju::client::KomojuClient;
use crate::channels::komoju::{Event, PaymentStatus, WebhookEvent, signature, wire};

const WAIT: Duration = Duration::from_secs(10);

/// One push as it arrived.
#[derive(Debug, Clone)]
struct Received {
    delivery_id: String,
    event_header: String,
    content_type: String,
    body: Vec<u8>,
    event: Event,
    acked: bool,
}

#[derive(Default)]
struct Inbox {
    received: Vec<Received>,
    /// Pushes refused because the signature did not verify.
    unauthenticated: usize,
    /// Event type → how many more pushes of it to answer with 500.
    fail: HashMap<String, u32>,
    /// `(type, until)`: answer pushes of `type` with 500 until one of `until` was acked.
    fail_until_seen: Option<(String, String)>,
}

/// A webhook receiver that verifies with the real signature module.
struct Receiver {
    url: String,
    inbox: Arc<Mutex<Inbox>>,
    stop: CancellationToken,
}

impl Receiver {
    async fn start(secret: &str) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        // A path of its own: another test's simulator still retrying into a
        // port this receiver reused gets a 404 and is not counted here.
        let path = format!("/webhooks/komoju/{:016x}", rand::random::<u64>());
        let url = format!("http://{}{path}", listener.local_addr().unwrap());
        let inbox = Arc::new(Mutex::new(Inbox::default()));
        let secrets = vec![SecretString::from(secret)];
        let app = Router::new()
            .route(&path, post(receive))
            .with_state((secrets, inbox.clone()));
        let stop = CancellationToken::new();
        let signal = stop.clone().cancelled_owned();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(signal)
                .await;
        });
        Receiver { url, inbox, stop }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inbox> {
        self.inbox.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// Event types acknowledged, in arrival order.
    fn acked(&self) -> Vec<String> {
        self.received()
            .iter()
            .filter(|r| r.acked)
            .map(|r| r.event.kind.as_str().to_string())
            .collect()
    }

    async fn wait_for(&self, what: impl Fn(&[Received]) -> bool) -> bool {
        until(|| {
            let received = self.received();
            let done = what(&received);
            async move { done }
        })
        .await
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Polls `cond` every few milliseconds for up to [`WAIT`].
async fn until<F: Future<Output = bool>>(cond: impl Fn() -> F) -> bool {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if cond().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn receive(
    State((secrets, inbox)): State<(Vec<SecretString>, Arc<Mutex<Inbox>>)>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let mut inbox = inbox.lock().unwrap_or_else(PoisonError::into_inner);
    let signature_header = headers
        .get("x-komoju-signature")
        .and_then(|v| v.to_str().ok());
    if signature::verify(&secrets, signature_header, &body).is_err() {
        inbox.unauthenticated += 1;
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(event) = wire::parse_event(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let kind = event.kind.as_str().to_string();
    let mut fail = inbox
        .fail
        .get_mut(&kind)
        .filter(|left| **left > 0)
        .map(|left| *left -= 1)
        .is_some();
    if let Some((failing, until)) = &inbox.fail_until_seen {
        let seen = inbox
            .received
            .iter()
            .any(|r| r.acked && r.event.kind.as_str() == until);
        fail |= *failing == kind && !seen;
    }
    inbox.received.push(Received {
        delivery_id: text("x-komoju-id"),
        event_header: text("x-komoju-event"),
        content_type: text("content-type"),
        body: body.to_vec(),
        event,
        acked: !fail,
    });
    if fail {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

async fn start_sim(cfg: KomojuSimConfig) -> KomojuSimHandle {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    start(listener, cfg).await.expect("start simulator")
}

/// A simulator pushing to a fresh receiver that knows its webhook secret.
async fn sim_with_receiver() -> (KomojuSimHandle, Receiver, KomojuClient) {
    let cfg = KomojuSimConfig::default();
    let receiver = Receiver::start(&cfg.webhook_secret).await;
    let sim = start_sim(KomojuSimConfig {
        webhook_url: Some(receiver.url.clone()),
        ..cfg
    })
    .await;
    let client = KomojuClient::new(sim.client_settings()).expect("client");
    (sim, receiver, client)
}

fn basic(user_and_password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(user_and_password)
    )
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
    assert_eq!(body["refunds"], Value::Array(vec![]));
    assert_eq!(body["payment_details"]["type"], "credit_card");
    let stats = sim.stats();
    assert_eq!(stats.unauthorized, 4);
    assert_eq!(stats.calls(Endpoint::GetPayment), 5);
    assert_eq!(stats.missing_api_version, 5);
}

#[tokio::test]
async fn replays_are_byte_for_byte_and_errors_are_stored_too() {
    let sim = start_sim(KomojuSimConfig::default()).await;
    let id = sim.create_payment(1000, 100, Some("O1"), "credit_card", CaptureMode::Manual);
    let http = reqwest::Client::new();
    let auth = basic(&format!("{}:", sim.secret_key()));
    let post = |path: String, key: &'static str, body: &'static str| {
        http.post(format!("{}/payments/{path}", sim.api_base_url()))
            .header("authorization", &auth)
            .header("x-komoju-idempotency", key)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    // Capturing a pending payment: 422, stored under the key.
    let refused = post(format!("{id}/capture"), "k-early", "{}")
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let refused_body = refused.bytes().await.unwrap();
    let envelope: Value = serde_json::from_slice(&refused_body).unwrap();
    assert_eq!(envelope["error"]["code"], "unprocessable_entity");
    assert_eq!(envelope["error"]["details"], serde_json::json!({}));
    assert!(sim.authorize(&id));
    let again = post(format!("{id}/capture"), "k-early", "{}")
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        422,
        "the stored answer, not a fresh capture"
    );
    assert_eq!(again.bytes().await.unwrap(), refused_body);

    let first = post(format!("{id}/capture"), "k-cap", r#"{"amount":1000}"#)
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let first = first.bytes().await.unwrap();
    sim.advance_clock(Duration::from_secs(3600));
    // Same key, another body: still the stored answer (counted as a mismatch).
    let second = post(format!("{id}/capture"), "k-cap", r#"{"amount":1}"#)
        .await
        .unwrap();
    assert_eq!(second.status(), 200);
    assert_eq!(second.bytes().await.unwrap(), first);
    let stats = sim.stats();
    assert_eq!(stats.idempotency.replays, 2);
    assert_eq!(stats.idempotency.mismatches, 1);
    assert_eq!(stats.payment(&id).captures, 1);

    // Keys over 100 characters are refused and not stored.
    let long: &'static str = Box::leak("k".repeat(101).into_boxed_str());
    let bad = post(format!("{id}/refund"), long, "{}").await.unwrap();
    assert_eq!(bad.status(), 422);
    assert_eq!(sim.stats().idempotency.invalid_keys, 1);
    assert_eq!(sim.payment(&id).unwrap().status, PaymentStatus::Captured);

    // No key: processed anyway, counted.
    let keyless = http
        .post(format!("{}/payments/{id}/refund", sim.api_base_url()))
        .header("authorization", &auth)
        .body(r#"{"amount":100}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(keyless.status(), 200);
    assert_eq!(sim.stats().idempotency.missing_keys, 1);

    let garbage = post(format!("{id}/refund"), "k-garbage", "{not json")
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);
    let unknown = post(format!("{id}/explode"), "k-x", "{}").await.unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn webhooks_are_signed_with_komoju_headers() {
    let (sim, receiver, client) = sim_with_receiver().await;
    let id = sim.create_payment(1000, 100, Some("ORD-1"), "credit_card", CaptureMode::Manual);
    assert!(sim.authorize(&id));
    client.capture(&id, None, "cap").await.unwrap();
    assert!(receiver.wait_for(|r| r.len() == 2).await);
    let received = receiver.received();
    assert_eq!(receiver.lock().unauthenticated, 0);
    for (r, kind) in received
        .iter()
        .zip([WebhookEvent::Authorized, WebhookEvent::Captured])
    {
        assert_eq!(r.event.kind, kind);
        assert_eq!(r.event_header, kind.as_str());
        assert_eq!(r.content_type, "application/json");
        assert_eq!(r.delivery_id.len(), 25);
        assert_eq!(r.event.id.len(), 25);
        assert_eq!(r.event.payment.as_ref().unwrap().id, id);
        let raw: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(raw["resource"], "event");
        assert_eq!(raw["reason"], Value::Null);
    }
    assert_eq!(
        received[1].event.payment.as_ref().unwrap().status,
        PaymentStatus::Captured
    );
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
    let stranger = Receiver::start("not-the-secret").await;
    sim.set_webhook_url(stranger.url.clone());
    sim.touch(&id);
    assert!(until(|| async { stranger.lock().unauthenticated >= 2 }).await);
}

#[tokio::test]
async fn every_change_is_pushed_and_a_full_refund_sends_both_events() {
    let (sim, receiver, client) = sim_with_receiver().await;
    let card = sim.create_payment(1000, 100, Some("O1"), "credit_card", CaptureMode::Auto);
    sim.authorize(&card);
    client.refund(&card, Some(100), None, "r1").await.unwrap();
    client.refund(&card, None, None, "r2").await.unwrap();
    let konbini = sim.create_payment(2000, 200, Some("O2"), "konbini", CaptureMode::Auto);
    sim.capture_by_customer(&konbini);
    let lapsed = sim.create_payment(10, 0, Some("O3"), "konbini", CaptureMode::Auto);
    sim.expire(&lapsed);
    let failed = sim.create_payment(10, 0, Some("O4"), "credit_card", CaptureMode::Auto);
    sim.fail(&failed);
    let dropped = sim.create_payment(10, 0, Some("O5"), "credit_card", CaptureMode::Manual);
    sim.authorize(&dropped);
    client.cancel(&dropped, "c").await.unwrap();
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
    assert_eq!(stats.acked_events(&konbini), ["payment.captured"]);
    assert_eq!(stats.acked_events(&lapsed), ["payment.expired"]);
    assert_eq!(stats.acked_events(&failed), ["payment.failed"]);
    assert_eq!(
        stats.acked_events(&dropped),
        ["payment.authorized", "payment.cancelled"]
    );
    let received = receiver.received();
    assert!(
        received
            .iter()
            .any(|r| r.event.id == ping && r.event.kind == WebhookEvent::Ping)
    );
    let refunded = received
        .iter()
        .find(|r| r.event.kind == WebhookEvent::Refunded)
        .unwrap();
    let payment = refunded.event.payment.as_ref().unwrap();
    assert_eq!(payment.status, PaymentStatus::Refunded);
    assert_eq!(payment.refunds.len(), 2);
    // Hooks refuse illegal moves and send nothing.
    let before = sim.stats().webhooks.events;
    assert!(!sim.fail(&card));
    assert!(!sim.expire(&konbini));
    assert!(!sim.authorize(&lapsed));
    assert!(!sim.capture_by_customer(&failed));
    assert!(!sim.authorize("no-such-payment"));
    assert_eq!(sim.stats().webhooks.events, before);
}

#[tokio::test]
async fn webhooks_are_retried_on_500_with_the_same_delivery() {
    let (sim, receiver, _client) = sim_with_receiver().await;
    receiver.lock().fail.insert("payment.authorized".into(), 2);
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
    let (sim, receiver, client) = sim_with_receiver().await;
    receiver.lock().fail.insert("payment.authorized".into(), 3);
    let id = sim.create_payment(1000, 0, Some("O"), "credit_card", CaptureMode::Manual);
    sim.authorize(&id);
    client.capture(&id, None, "cap").await.unwrap();
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
    let (sim, receiver, client) = sim_with_receiver().await;
    sim.set_delivery_order(DeliveryOrder::Independent);
    receiver.lock().fail_until_seen =
        Some(("payment.authorized".into(), "payment.captured".into()));
    let id = sim.create_payment(1000, 0, Some("O"), "credit_card", CaptureMode::Manual);
    sim.authorize(&id);
    client.capture(&id, None, "cap").await.unwrap();
    assert!(sim.wait_webhooks_idle(WAIT).await);
    assert_eq!(receiver.acked(), ["payment.captured", "payment.authorized"]);
}

#[tokio::test]
async fn held_webhooks_can_be_released_newest_first() {
    let (sim, receiver, client) = sim_with_receiver().await;
    sim.hold_webhooks();
    let id = sim.create_payment(1000, 100, Some("O"), "credit_card", CaptureMode::Manual);
    sim.authorize(&id);
    client.capture(&id, None, "cap").await.unwrap();
    client.refund(&id, None, None, "ref").await.unwrap();
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
    let (sim, receiver, _client) = sim_with_receiver().await;
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
    assert_eq!(received[1].event.id, event_id);
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
    let receiver = Receiver::start(&cfg.webhook_secret).await;
    receiver
        .lock()
        .fail
        .insert("payment.captured".into(), u32::MAX);
    let sim = start_sim(KomojuSimConfig {
        webhook_url: Some(receiver.url.clone()),
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
    let start_at = DateTime::parse_from_rfc3339("2026-11-22T01:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let sim = start_sim(KomojuSimConfig {
        start_at: Some(start_at),
        ..KomojuSimConfig::default()
    })
    .await;
    let p = sim.create_payment_with_fee(1000, 100, 190, Some("O"), "konbini", CaptureMode::Auto);
    assert!((p.created_at - start_at).num_seconds().abs() < 60);
    assert_eq!(p.total, 1290);
    let client = KomojuClient::new(sim.client_settings()).unwrap();
    sim.shutdown().await;
    assert!(client.get_payment(&p.id).await.is_err());
}
