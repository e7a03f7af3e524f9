//! The client and the webhook reading against the simulator (and a capturing
//! server for exact bytes and odd answers), over loopback HTTP.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode as AxumStatus, Uri};
use axum::response::IntoResponse;
use axum::routing::any;
use base64::Engine as _;
use tokio::net::TcpListener;

use ordersync_sim::komoju::receiver::WebhookReceiver;
use ordersync_sim::komoju::{
    self as sim, CaptureMode, Endpoint, Fault, KomojuSimConfig, KomojuSimHandle,
};

use super::*;
use crate::providers::komoju::{Event, WebhookEvent, signature};
use crate::sim::komoju::KomojuSimSettings as _;

const WAIT: Duration = Duration::from_secs(10);

async fn start_sim() -> KomojuSimHandle {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    sim::start(listener, KomojuSimConfig::default())
        .await
        .expect("start simulator")
}

async fn setup() -> (KomojuSimHandle, KomojuClient) {
    let sim = start_sim().await;
    let client = KomojuClient::new(sim.client_settings()).expect("client");
    (sim, client)
}

fn rejected<T: std::fmt::Debug>(result: Result<T, CallError>) -> (u16, String, String) {
    match result {
        Err(CallError::Rejected {
            http_status,
            code,
            message,
        }) => (http_status, code, message),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn transient<T: std::fmt::Debug>(result: Result<T, CallError>) -> (String, Option<Duration>) {
    match result {
        Err(CallError::Transient {
            reason,
            retry_after,
        }) => (reason, retry_after),
        other => panic!("expected a transient error, got {other:?}"),
    }
}

/// A manual-capture card payment, authorized.
fn authorized(sim: &KomojuSimHandle, order: &str) -> String {
    let id = sim.create_payment(1000, 100, Some(order), "credit_card", CaptureMode::Manual);
    assert!(sim.authorize(&id));
    id
}

/// What the adapter read agrees with what the simulator holds, field by field.
fn assert_same_payment(read: &Payment, held: &sim::Payment) {
    assert_eq!(read.id, held.id);
    assert_eq!(read.status.as_str(), held.status.as_str());
    assert_eq!(
        (read.amount, read.tax, read.payment_method_fee, read.total),
        (held.amount, held.tax, held.payment_method_fee, held.total)
    );
    assert_eq!(read.currency, held.currency);
    assert_eq!(read.external_order_num, held.external_order_num);
    assert_eq!(read.captured_at, held.captured_at);
    assert_eq!(read.amount_refunded, held.amount_refunded);
    assert_eq!(read.method, held.payment_type.as_str());
    assert_eq!(read.created_at, held.created_at);
    let ours: Vec<_> = read
        .refunds
        .iter()
        .map(|r| (r.id.as_str(), r.amount, r.created_at, r.chargeback))
        .collect();
    let theirs: Vec<_> = held
        .refunds
        .iter()
        .map(|r| (r.id.as_str(), r.amount, r.created_at, r.chargeback))
        .collect();
    assert_eq!(ours, theirs);
}

/// A webhook endpoint that takes a push only when the adapter's signature
/// check passes.
async fn adapter_receiver(secret: &str) -> WebhookReceiver {
    let secrets = vec![SecretString::from(secret)];
    WebhookReceiver::start(move |given, body| signature::verify(&secrets, given, body).is_ok())
        .await
        .expect("receiver")
}

/// What the capturing server saw.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

/// A server that records every request and answers `status` + `body` (+ headers).
async fn capture_server(
    status: u16,
    extra_headers: &[(&'static str, &'static str)],
    body: &'static str,
) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let record = seen.clone();
    let extra: Vec<(&'static str, &'static str)> = extra_headers.to_vec();
    let app = Router::new().fallback(any(
        move |method: Method, uri: Uri, headers: HeaderMap, body_in: Bytes| {
            let record = record.clone();
            let extra = extra.clone();
            async move {
                record.lock().unwrap().push(Seen {
                    method,
                    uri,
                    headers,
                    body: body_in,
                });
                let mut answer = (
                    AxumStatus::from_u16(status).unwrap(),
                    [("content-type", "application/json")],
                    body,
                )
                    .into_response();
                for (k, v) in extra {
                    answer.headers_mut().insert(k, v.parse().unwrap());
                }
                answer
            }
        },
    ));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/v1", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, seen)
}

fn settings_for(url: &str, key: &str) -> KomojuClientSettings {
    KomojuClientSettings {
        api_base_url: url.to_string(),
        secret_key: SecretString::from(key),
        api_version: "2025-01-28".to_string(),
        http: crate::call::HttpLimits::with_timeout(Duration::from_secs(5)),
    }
}

const PAYMENT_BODY: &str = r#"{"id":"abcdefghijklmnopqrstuvwxy","resource":"payment","status":"captured","amount":1000,"tax":100,"payment_method_fee":0,"total":1100,"currency":"JPY","external_order_num":"O1","captured_at":"2026-11-22T01:00:00Z","amount_refunded":0,"payment_details":{"type":"credit_card"},"refunds":[],"created_at":"2026-11-22T00:59:00Z"}"#;

#[tokio::test]
async fn get_payment_reads_the_payment() {
    let (sim, client) = setup().await;
    let id = authorized(&sim, "ORD-1");
    let p = client.get_payment(&id).await.unwrap();
    assert_eq!(p.id, id);
    assert_eq!(p.status, PaymentStatus::Authorized);
    assert_eq!((p.amount, p.tax, p.total), (1000, 100, 1100));
    assert_eq!(p.external_order_num.as_deref(), Some("ORD-1"));
    assert_eq!(p.method, "credit_card");
    assert_same_payment(&p, &sim.payment(&id).unwrap());
    let stats = sim.stats();
    assert_eq!(stats.calls(Endpoint::GetPayment), 1);
    assert_eq!(stats.api_versions.get("2025-01-28"), Some(&1));
    assert_eq!(stats.missing_api_version, 0);
}

#[tokio::test]
async fn unknown_payment_is_a_404_rejection() {
    let (_sim, client) = setup().await;
    let (status, code, _) = rejected(client.get_payment("aaaaaaaaaaaaaaaaaaaaaaaaa").await);
    assert_eq!((status, code.as_str()), (404, "not_found"));
}

#[tokio::test]
async fn list_payments_filters_by_order_and_status_and_pages() {
    let (sim, client) = setup().await;
    let mut mine = Vec::new();
    for _ in 0..3 {
        mine.push(authorized(&sim, "ORD-7"));
    }
    sim.create_payment(500, 0, Some("ORD-8"), "konbini", CaptureMode::Auto);
    // A wallet waits `pending` until the customer finishes offsite.
    let pending = sim.create_payment(500, 0, Some("ORD-7"), "paypay", CaptureMode::Auto);

    let page = client.list_payments(Some("ORD-7"), &[], 1).await.unwrap();
    assert_eq!((page.total, page.page, page.last_page), (4, 1, 1));
    assert_eq!(page.per_page, LIST_PAGE_SIZE);
    assert_eq!(page.unreadable, 0);
    assert!(
        page.payments
            .iter()
            .all(|p| p.external_order_num.as_deref() == Some("ORD-7"))
    );

    let only = client
        .list_payments(
            Some("ORD-7"),
            &[PaymentStatus::Pending, PaymentStatus::Failed],
            0,
        )
        .await
        .unwrap();
    assert_eq!(only.payments.len(), 1);
    assert_eq!(only.payments[0].id, pending);

    let all = client.list_payments(None, &[], 1).await.unwrap();
    assert_eq!(all.total, 5);
    let beyond = client.list_payments(Some("ORD-7"), &[], 2).await.unwrap();
    assert!(beyond.payments.is_empty());

    let (status, code, _) = rejected(
        client
            .list_payments(Some("ORD-7"), &[PaymentStatus::Unknown], 1)
            .await,
    );
    assert_eq!((status, code.as_str()), (0, "INVALID_STATUS"));
    assert_eq!(sim.stats().calls(Endpoint::ListPayments), 4);
}

#[tokio::test]
async fn list_skips_unreadable_payments_and_counts_them() {
    let body: &'static str = Box::leak(
        format!(
            r#"{{"resource":"payment_list","data":[{PAYMENT_BODY},{{"id":"x","status":"captured"}}],"total":2,"page":1,"per_page":50,"last_page":1}}"#
        )
        .into_boxed_str(),
    );
    let (url, seen) = capture_server(200, &[], body).await;
    let client = KomojuClient::new(settings_for(&url, "sk_test_x")).unwrap();
    let page = client
        .list_payments(
            Some("O 1&x=y"),
            &[PaymentStatus::Captured, PaymentStatus::Refunded],
            3,
        )
        .await
        .unwrap();
    assert_eq!(page.payments.len(), 1);
    assert_eq!(page.unreadable, 1);
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].uri.path(), "/api/v1/payments");
    assert_eq!(
        seen[0].uri.query(),
        Some("external_order_num=O+1%26x%3Dy&status=captured%2Crefunded&page=3&per_page=50")
    );
}

#[tokio::test]
async fn capture_sends_the_contract_request() {
    let (url, seen) = capture_server(200, &[], PAYMENT_BODY).await;
    let client = KomojuClient::new(settings_for(&format!("{url}/"), "sk_test_abc")).unwrap();
    let p = client
        .capture("abcdefghijklmnopqrstuvwxy", Some(900), "outbox-42-capture")
        .await
        .unwrap();
    assert_eq!(p.status, PaymentStatus::Captured);
    client
        .refund(
            "abcdefghijklmnopqrstuvwxy",
            None,
            Some("  order cancelled  "),
            "outbox-43",
        )
        .await
        .unwrap();
    client
        .cancel("abcdefghijklmnopqrstuvwxy", "outbox-44")
        .await
        .unwrap();
    client
        .get_payment("abcdefghijklmnopqrstuvwxy")
        .await
        .unwrap();

    let seen = seen.lock().unwrap();
    let expected_auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("sk_test_abc:")
    );
    for s in seen.iter() {
        assert_eq!(s.headers["authorization"], expected_auth.as_str());
        assert_eq!(s.headers["x-komoju-api-version"], "2025-01-28");
        assert_eq!(s.headers["accept"], "application/json");
    }
    let capture = &seen[0];
    assert_eq!(capture.method, Method::POST);
    assert_eq!(
        capture.uri.path(),
        "/api/v1/payments/abcdefghijklmnopqrstuvwxy/capture"
    );
    assert_eq!(capture.headers["x-komoju-idempotency"], "outbox-42-capture");
    assert_eq!(capture.headers["content-type"], "application/json");
    assert_eq!(&capture.body[..], br#"{"amount":900}"#);
    let refund = &seen[1];
    assert_eq!(
        refund.uri.path(),
        "/api/v1/payments/abcdefghijklmnopqrstuvwxy/refund"
    );
    assert_eq!(&refund.body[..], br#"{"description":"order cancelled"}"#);
    assert_eq!(refund.headers["x-komoju-idempotency"], "outbox-43");
    let cancel = &seen[2];
    assert_eq!(
        cancel.uri.path(),
        "/api/v1/payments/abcdefghijklmnopqrstuvwxy/cancel"
    );
    assert_eq!(&cancel.body[..], b"{}");
    let get = &seen[3];
    assert_eq!(get.method, Method::GET);
    assert!(!get.headers.contains_key("x-komoju-idempotency"));
    assert!(get.body.is_empty());
}

#[tokio::test]
async fn capture_is_idempotent_and_the_replay_is_identical() {
    let (sim, client) = setup().await;
    let id = authorized(&sim, "ORD-1");
    let first = client.capture(&id, None, "cap-ORD-1").await.unwrap();
    let again = client.capture(&id, None, "cap-ORD-1").await.unwrap();
    assert_eq!(first.status, PaymentStatus::Captured);
    assert_eq!(first, again);
    let stats = sim.stats();
    assert_eq!(stats.payment(&id).captures, 1, "captured exactly once");
    assert_eq!(stats.idempotency.replays, 1);
    assert_eq!(stats.calls(Endpoint::Capture), 2);
    // A new key on a captured payment is a real second attempt: 422.
    let (status, code, _) = rejected(client.capture(&id, None, "cap-ORD-1-b").await);
    assert_eq!((status, code.as_str()), (422, "unprocessable_entity"));
    assert_eq!(sim.stats().payment(&id).captures, 1);
}

#[tokio::test]
async fn a_retry_while_the_first_request_runs_is_a_transient_409() {
    let (sim, client) = setup().await;
    let id = authorized(&sim, "ORD-1");
    sim.inject(Endpoint::Capture, Fault::Hold, 1);
    let first = {
        let client = client.clone();
        let id = id.clone();
        tokio::spawn(async move { client.capture(&id, None, "cap-1").await })
    };
    assert!(sim.wait_until(WAIT, |v| v.in_flight() == 1).await);
    let (reason, _) = transient(client.capture(&id, None, "cap-1").await);
    assert!(reason.contains("409"), "{reason}");
    sim.release_held();
    let captured = first.await.unwrap().unwrap();
    assert_eq!(captured.status, PaymentStatus::Captured);
    let replay = client.capture(&id, None, "cap-1").await.unwrap();
    assert_eq!(replay, captured);
    let stats = sim.stats();
    assert_eq!(stats.idempotency.conflicts, 1);
    assert_eq!(stats.idempotency.replays, 1);
    assert_eq!(stats.payment(&id).captures, 1);
}

#[tokio::test]
async fn a_lost_answer_is_transient_and_the_retry_replays_it() {
    let (sim, client) = setup().await;
    let impatient = KomojuClient::new(KomojuClientSettings {
        http: crate::call::HttpLimits::with_timeout(Duration::from_millis(300)),
        ..sim.client_settings()
    })
    .unwrap();
    let id = authorized(&sim, "ORD-1");
    sim.inject(
        Endpoint::Capture,
        Fault::LoseAnswer(Duration::from_secs(30)),
        1,
    );
    let (reason, _) = transient(impatient.capture(&id, None, "cap-lost").await);
    assert!(reason.contains("timed out"), "{reason}");
    assert_eq!(
        sim.payment(&id).unwrap().status,
        sim::PaymentStatus::Captured,
        "applied anyway"
    );
    let retry = client.capture(&id, None, "cap-lost").await.unwrap();
    assert_eq!(retry.status, PaymentStatus::Captured);
    assert_eq!(sim.stats().payment(&id).captures, 1);
    assert_eq!(sim.stats().idempotency.replays, 1);
}

#[tokio::test]
async fn keys_expire_after_24_hours_on_the_simulated_clock() {
    let (sim, client) = setup().await;
    let id = sim.create_payment(1000, 0, Some("O"), "paypay", CaptureMode::Auto);
    sim.authorize(&id);
    let first = client
        .refund(&id, Some(100), None, "refund-key")
        .await
        .unwrap();
    sim.advance_clock(Duration::from_secs(23 * 3600));
    let replay = client
        .refund(&id, Some(100), None, "refund-key")
        .await
        .unwrap();
    assert_eq!(replay, first);
    sim.advance_clock(Duration::from_secs(3600));
    let fresh = client
        .refund(&id, Some(100), None, "refund-key")
        .await
        .unwrap();
    assert_eq!(
        fresh.amount_refunded, 200,
        "the expired key is a new request"
    );
    assert_eq!(sim.stats().payment(&id).refunds, 2);
    assert_eq!(sim.stats().idempotency.expired, 1);
}

#[tokio::test]
async fn illegal_moves_are_422_rejections() {
    let (sim, client) = setup().await;
    let pending = sim.create_payment(1000, 0, Some("O"), "konbini", CaptureMode::Auto);
    let (status, code, _) = rejected(client.capture(&pending, None, "k1").await);
    assert_eq!((status, code.as_str()), (422, "unprocessable_entity"));
    let (status, _, _) = rejected(client.refund(&pending, None, None, "k2").await);
    assert_eq!(status, 422);

    let id = authorized(&sim, "O2");
    let (status, code, message) = rejected(client.capture(&id, Some(1001), "k3").await);
    assert_eq!((status, code.as_str()), (422, "invalid_parameter"));
    assert!(message.contains("(param: amount)"), "{message}");
    client.capture(&id, None, "k4").await.unwrap();
    let (status, _, _) = rejected(client.cancel(&id, "k5").await);
    assert_eq!(status, 422);
    let (status, code, _) = rejected(client.refund(&id, Some(5000), None, "k6").await);
    assert_eq!((status, code.as_str()), (422, "invalid_parameter"));
    assert!(sim.expire(&pending));
    let (status, _, _) = rejected(client.cancel(&pending, "k7").await);
    assert_eq!(status, 422);
    let counts = sim.stats().payment(&id);
    assert_eq!((counts.captures, counts.cancels, counts.refunds), (1, 0, 0));
}

#[tokio::test]
async fn cancel_from_pending_and_from_authorized() {
    let (sim, client) = setup().await;
    let pending = sim.create_payment(800, 80, Some("O1"), "bank_transfer", CaptureMode::Auto);
    let auth = authorized(&sim, "O2");
    assert_eq!(
        client.cancel(&pending, "c1").await.unwrap().status,
        PaymentStatus::Cancelled
    );
    assert_eq!(
        client.cancel(&auth, "c2").await.unwrap().status,
        PaymentStatus::Cancelled
    );
    assert_eq!(sim.stats().payment(&auth).cancels, 1);
}

#[tokio::test]
async fn partial_then_full_refund() {
    let (sim, client) = setup().await;
    let id = authorized(&sim, "ORD-9");
    client.capture(&id, None, "cap").await.unwrap();
    let partial = client
        .refund(&id, Some(300), Some("one item"), "r1")
        .await
        .unwrap();
    assert_eq!(
        partial.status,
        PaymentStatus::Captured,
        "partial stays captured"
    );
    assert_eq!(partial.amount_refunded, 300);
    assert_eq!(partial.refunds.len(), 1);
    assert_eq!(partial.refundable(), 800);
    let full = client.refund(&id, None, None, "r2").await.unwrap();
    assert_eq!(full.status, PaymentStatus::Refunded);
    assert_eq!(full.amount_refunded, 1100);
    assert_eq!(full.refunds.len(), 2);
    assert_eq!(full.refunds[1].amount, 800, "the new refund is last");
    assert_eq!(full.refunds[0], partial.refunds[0]);
    assert_same_payment(&full, &sim.payment(&id).unwrap());
    let (status, _, _) = rejected(client.refund(&id, Some(1), None, "r3").await);
    assert_eq!(status, 422);
}

#[tokio::test]
async fn throttling_and_server_errors_are_transient() {
    let (sim, client) = setup().await;
    let id = authorized(&sim, "O");
    sim.inject(
        Endpoint::Capture,
        Fault::TooManyRequests {
            retry_after_secs: 7,
        },
        1,
    );
    let (reason, retry_after) = transient(client.capture(&id, None, "k").await);
    assert!(reason.contains("429"), "{reason}");
    assert_eq!(retry_after, Some(Duration::from_secs(7)));
    for code in [500, 502, 503, 504] {
        sim.inject(Endpoint::Any, Fault::Status(code), 1);
        let (reason, _) = transient(client.get_payment(&id).await);
        assert!(reason.contains(&code.to_string()), "{reason}");
    }
    // Nothing was processed: the key is still free and the capture goes through once.
    let p = client.capture(&id, None, "k").await.unwrap();
    assert_eq!(p.status, PaymentStatus::Captured);
    assert_eq!(sim.stats().idempotency.replays, 0);
    assert_eq!(sim.stats().payment(&id).captures, 1);
}

#[tokio::test]
async fn odd_error_answers_are_classified() {
    // (status, body, expected rejection code and message; None = transient)
    type Case = (u16, &'static str, Option<(&'static str, &'static str)>);
    let cases: [Case; 7] = [
        (
            422,
            r#"{"error":{"code":"brand_new_code","message":"Something new","param":null,"details":{"x":1}}}"#,
            Some(("brand_new_code", "Something new")),
        ),
        (
            403,
            "<html>Forbidden</html>",
            Some(("HTTP_403", "<html>Forbidden</html>")),
        ),
        (
            401,
            r#"{"error":{"message":"no code"}}"#,
            Some(("HTTP_401", "no code")),
        ),
        (
            404,
            r#"{"error":"Not Found"}"#,
            Some(("HTTP_404", "Not Found")),
        ),
        (409, r#"{"error":{"code":"conflict"}}"#, None),
        (502, "bad gateway", None),
        (408, "", None),
    ];
    for (status, body, expected) in cases {
        let (url, _) = capture_server(status, &[("retry-after", "2")], body).await;
        let client = KomojuClient::new(settings_for(&url, "sk_test_x")).unwrap();
        let result = client.get_payment("abcdefghijklmnopqrstuvwxy").await;
        match expected {
            Some((code, message)) => {
                let got = rejected(result);
                assert_eq!(
                    got,
                    (status, code.to_string(), message.to_string()),
                    "{status}"
                );
            }
            None => {
                let (_, retry_after) = transient(result);
                assert_eq!(retry_after, Some(Duration::from_secs(2)), "{status}");
            }
        }
    }
}

#[tokio::test]
async fn unreadable_or_mismatched_payments_are_transient() {
    let (url, _) = capture_server(200, &[], r#"{"id":"abcdefghijklmnopqrstuvwxy"}"#).await;
    let client = KomojuClient::new(settings_for(&url, "sk_test_x")).unwrap();
    let (reason, _) = transient(client.get_payment("abcdefghijklmnopqrstuvwxy").await);
    assert!(reason.contains("unreadable payment"), "{reason}");
    let (url, _) = capture_server(200, &[], PAYMENT_BODY).await;
    let client = KomojuClient::new(settings_for(&url, "sk_test_x")).unwrap();
    let (reason, _) = transient(client.get_payment("zzzzzzzzzzzzzzzzzzzzzzzzz").await);
    assert!(reason.contains("answered payment"), "{reason}");
}

#[tokio::test]
async fn bad_arguments_are_refused_before_sending() {
    let (sim, client) = setup().await;
    let id = authorized(&sim, "O");
    let long = "k".repeat(MAX_IDEMPOTENCY_KEY_LEN + 1);
    for key in ["", "has space", "キー", long.as_str()] {
        let (status, code, _) = rejected(client.capture(&id, None, key).await);
        assert_eq!(
            (status, code.as_str()),
            (0, "INVALID_IDEMPOTENCY_KEY"),
            "{key:?}"
        );
    }
    assert!(client.capture(&id, None, &"k".repeat(100)).await.is_ok());
    for bad_id in ["", "../x", "a/b", "a b"] {
        let (status, code, _) = rejected(client.get_payment(bad_id).await);
        assert_eq!(
            (status, code.as_str()),
            (0, "INVALID_PAYMENT_ID"),
            "{bad_id:?}"
        );
    }
    let (_, code, _) = rejected(client.refund(&id, Some(0), None, "r").await);
    assert_eq!(code, "INVALID_AMOUNT");
    let (_, code, _) = rejected(client.capture(&id, Some(-1), "c").await);
    assert_eq!(code, "INVALID_AMOUNT");
    assert_eq!(
        sim.stats().calls(Endpoint::Capture),
        1,
        "only the valid call was sent"
    );
}

#[tokio::test]
async fn bad_settings_are_refused() {
    let ok = settings_for("https://komoju.com/api/v1", "sk_live_x");
    assert!(KomojuClient::new(ok.clone()).is_ok());
    for (url, key, version) in [
        ("not a url", "k", "2025-01-28"),
        ("ftp://komoju.com", "k", "2025-01-28"),
        ("https://user:pw@komoju.com/api/v1", "k", "2025-01-28"),
        ("https://komoju.com/api/v1?x=1", "k", "2025-01-28"),
        ("https://komoju.com/api/v1", " ", "2025-01-28"),
        ("https://komoju.com/api/v1", "k", ""),
        ("https://komoju.com/api/v1", "k", "2024 07 15"),
    ] {
        let settings = KomojuClientSettings {
            api_base_url: url.to_string(),
            secret_key: SecretString::from(key),
            api_version: version.to_string(),
            ..ok.clone()
        };
        let (status, code, _) = rejected(KomojuClient::new(settings));
        assert_eq!(
            (status, code.as_str()),
            (0, "INVALID_CONFIG"),
            "{url} {key:?} {version:?}"
        );
    }
}

#[tokio::test]
async fn the_secret_key_never_shows() {
    let sim = start_sim().await;
    let secret = sim.secret_key().to_string();
    let settings = sim.client_settings();
    let client = KomojuClient::new(settings.clone()).unwrap();
    assert!(!format!("{settings:?}").contains(&secret));
    assert!(!format!("{client:?}").contains(&secret));

    // A wrong key: 401, and neither key is in the error.
    let wrong = KomojuClient::new(KomojuClientSettings {
        secret_key: SecretString::from("sk_test_wrong_key_123"),
        ..settings.clone()
    })
    .unwrap();
    let err = wrong
        .get_payment("aaaaaaaaaaaaaaaaaaaaaaaaa")
        .await
        .unwrap_err();
    let (status, code, _) = rejected::<()>(Err(err.clone()));
    assert_eq!((status, code.as_str()), (401, "unauthorized"));
    assert!(!format!("{err:?} {err}").contains("sk_test_wrong_key_123"));
    assert_eq!(sim.stats().unauthorized, 1);

    // A server that echoes the key back: redacted.
    let (url, _) = capture_server(
        422,
        &[],
        r#"{"error":{"code":"bad_key_sk_test_echoed","message":"key sk_test_echoed is odd"}}"#,
    )
    .await;
    let echo = KomojuClient::new(settings_for(&url, "sk_test_echoed")).unwrap();
    let err = echo
        .get_payment("aaaaaaaaaaaaaaaaaaaaaaaaa")
        .await
        .unwrap_err();
    let shown = format!("{err:?} {err}");
    assert!(!shown.contains("sk_test_echoed"), "{shown}");
    assert!(shown.contains("[redacted]"), "{shown}");

    // A connection failure: no key either.
    let down =
        KomojuClient::new(settings_for("http://127.0.0.1:9/api/v1", "sk_test_down")).unwrap();
    let err = down
        .get_payment("aaaaaaaaaaaaaaaaaaaaaaaaa")
        .await
        .unwrap_err();
    assert!(matches!(err, CallError::Transient { .. }));
    assert!(!format!("{err:?}").contains("sk_test_down"));
}

/// Every push the simulator makes passes the adapter's signature check and
/// reads with its event parser as the event it was sent as, carrying the
/// payment the simulator holds; a push signed with another secret is refused.
#[tokio::test]
async fn every_simulated_push_verifies_and_reads_as_the_same_event() {
    let cfg = KomojuSimConfig::default();
    let receiver = adapter_receiver(&cfg.webhook_secret).await;
    let sim = sim::start(
        TcpListener::bind("127.0.0.1:0").await.expect("bind"),
        KomojuSimConfig {
            webhook_url: Some(receiver.url().to_string()),
            ..cfg
        },
    )
    .await
    .expect("start simulator");
    let client = KomojuClient::new(sim.client_settings()).expect("client");
    let card = authorized(&sim, "O1");
    client.capture(&card, None, "cap").await.unwrap();
    client.refund(&card, Some(100), None, "r1").await.unwrap();
    client.refund(&card, None, None, "r2").await.unwrap();
    let konbini = sim.create_payment(2000, 200, Some("O2"), "konbini", CaptureMode::Auto);
    assert!(sim.capture_by_customer(&konbini));
    assert!(sim.touch(&konbini));
    let lapsed = sim.create_payment(10, 0, Some("O3"), "bank_transfer", CaptureMode::Auto);
    assert!(sim.expire(&lapsed));
    let failed = sim.create_payment(10, 0, Some("O4"), "paypay", CaptureMode::Auto);
    assert!(sim.fail(&failed));
    let dropped = authorized(&sim, "O5");
    client.cancel(&dropped, "c").await.unwrap();
    let ping = sim.ping();
    assert!(sim.wait_webhooks_idle(WAIT).await);
    assert_eq!(receiver.unauthenticated(), 0);
    let received = receiver.received();
    assert_eq!(received.len(), sim.stats().webhooks.events);
    let mut events: Vec<Event> = Vec::new();
    for r in &received {
        let event = wire::parse_event(&r.body)
            .unwrap_or_else(|e| panic!("{} unreadable: {e}", r.event_header));
        assert_eq!(event.kind.as_str(), r.event_header);
        assert_eq!(event.id, r.event_id());
        match &event.payment {
            Some(p) => {
                let held = sim.payment(&p.id).expect("a payment the simulator has");
                assert_eq!(p.method, held.payment_type.as_str());
                assert_eq!(p.external_order_num, held.external_order_num);
                assert_eq!(p.created_at, held.created_at);
            }
            None => assert_eq!(
                (&event.kind, event.id.as_str()),
                (&WebhookEvent::Ping, ping.as_str())
            ),
        }
        events.push(event);
    }
    let status_in = |kind: WebhookEvent| {
        events
            .iter()
            .filter(|e| e.kind == kind)
            .map(|e| e.payment.as_ref().map(|p| p.status))
            .collect::<Vec<_>>()
    };
    use PaymentStatus as S;
    // Two cards, and the konbini slip and bank account issued at creation.
    assert_eq!(
        status_in(WebhookEvent::Authorized),
        [Some(S::Authorized); 4]
    );
    assert_eq!(status_in(WebhookEvent::Captured), [Some(S::Captured); 2]);
    assert_eq!(
        status_in(WebhookEvent::RefundCreated),
        [Some(S::Captured), Some(S::Refunded)]
    );
    assert_eq!(status_in(WebhookEvent::Expired), [Some(S::Expired)]);
    assert_eq!(status_in(WebhookEvent::Failed), [Some(S::Failed)]);
    assert_eq!(status_in(WebhookEvent::Cancelled), [Some(S::Cancelled)]);
    assert_eq!(status_in(WebhookEvent::Updated), [Some(S::Captured)]);
    let refunded = events
        .iter()
        .find(|e| e.kind == WebhookEvent::Refunded)
        .and_then(|e| e.payment.as_ref())
        .expect("payment.refunded");
    assert_eq!(refunded.status, S::Refunded);
    assert_eq!(refunded.refunds.len(), 2);
    assert_same_payment(refunded, &sim.payment(&card).unwrap());

    // A receiver with another secret refuses every push: retried, never acked.
    let stranger = adapter_receiver("not-the-secret").await;
    sim.set_webhook_url(stranger.url());
    sim.touch(&card);
    assert!(ordersync_sim::harness::wait_until(WAIT, || stranger.unauthenticated() >= 2).await);
}
