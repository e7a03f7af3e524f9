//! The client against the simulator, over loopback HTTP.

use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use ordersync_sim::jgoods::receiver::Receiver;
use ordersync_sim::jgoods::{
    self as sim, CustomerDecision, Endpoint, Fault, JgoodsSimConfig, JgoodsSimHandle,
};

use super::*;
use crate::providers::jgoods::signature;
use crate::providers::jgoods::wire::{JgoodsItemStock, JgoodsPutOrder, JgoodsReservedLine};
use crate::sim::jgoods::JgoodsSimSettings;

/// Generous: conditions normally hold within milliseconds.
const WAIT: Duration = Duration::from_secs(10);

async fn start_sim(cfg: JgoodsSimConfig) -> JgoodsSimHandle {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    sim::start(listener, cfg).await.expect("start simulator")
}

async fn setup() -> (JgoodsSimHandle, JgoodsClient) {
    let sim = start_sim(JgoodsSimConfig::default()).await;
    let client = JgoodsClient::new(sim.client_settings()).expect("client");
    (sim, client)
}

/// The simulator's order as the adapter reads it from J-goods' JSON.
fn as_read(order: &sim::JgoodsOrder) -> OrderSnapshot {
    let body = serde_json::to_vec(order).expect("an order serialises");
    wire::parse_order(&body).expect("the adapter reads the simulator's order")
}

fn alloc(lines: &[(u32, u32)], confirm: bool) -> JgoodsPutOrder {
    JgoodsPutOrder {
        status: confirm.then(|| Status::AwaitingArrival.label().to_string()),
        items: Some(
            lines
                .iter()
                .map(|(line_no, reserved_qty)| JgoodsReservedLine {
                    line_no: *line_no,
                    reserved_qty: *reserved_qty,
                })
                .collect(),
        ),
    }
}

fn confirm_only() -> JgoodsPutOrder {
    JgoodsPutOrder {
        status: Some(Status::AwaitingArrival.label().to_string()),
        items: None,
    }
}

fn rejected(result: Result<impl std::fmt::Debug, CallError>) -> (u16, String) {
    match result {
        Err(CallError::Rejected {
            http_status, code, ..
        }) => (http_status, code),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn transient_reason(result: Result<impl std::fmt::Debug, CallError>) -> String {
    match result {
        Err(CallError::Transient { reason, .. }) => reason,
        other => panic!("expected a transient error, got {other:?}"),
    }
}

#[tokio::test]
async fn token_is_cached_across_calls() {
    let (sim, client) = setup().await;
    sim.place_order("JG1", &[("SKU-1", 1, 1000)]);
    for _ in 0..3 {
        client.get_order("JG1").await.unwrap();
    }
    client
        .search(Status::AwaitingApproval, None, 1)
        .await
        .unwrap();
    let stats = sim.stats();
    assert_eq!(stats.token_requests, 1);
    assert_eq!((stats.get_order, stats.search), (3, 1));
}

#[tokio::test]
async fn concurrent_callers_fetch_one_token() {
    let (sim, client) = setup().await;
    sim.place_order("JG1", &[("SKU-1", 1, 1000)]);
    let mut calls = JoinSet::new();
    for _ in 0..8 {
        let client = client.clone();
        calls.spawn(async move { client.get_order("JG1").await });
    }
    while let Some(done) = calls.join_next().await {
        done.unwrap().unwrap();
    }
    assert_eq!(sim.stats().token_requests, 1);
}

#[tokio::test]
async fn expired_token_is_renewed_once_and_the_call_retried() {
    let (sim, client) = setup().await;
    sim.place_order("JG1", &[("SKU-1", 1, 1000)]);
    client.get_order("JG1").await.unwrap();
    sim.expire_tokens();
    let order = client.get_order("JG1").await.unwrap();
    assert_eq!(order.status, Status::AwaitingApproval);
    let stats = sim.stats();
    assert_eq!(stats.token_requests, 2);
    assert_eq!(stats.get_order, 3, "first call, the 401, the retry");
}

#[tokio::test]
async fn persistent_401_gives_up_after_one_renewal() {
    let (sim, client) = setup().await;
    sim.place_order("JG1", &[("SKU-1", 1, 1000)]);
    sim.inject(Endpoint::GetOrder, Fault::Status(401), 5);
    // A 401 again with a token just issued: the client lacks rights to the
    // API, a configuration problem naming it, not an outage.
    match client.get_order("JG1").await {
        Err(CallError::Configuration { code, fix }) => {
            assert_eq!(code, "API_HTTP_401_FRESH_TOKEN");
            assert!(
                fix.contains("受注情報API") && fix.contains("order-info API"),
                "{fix}"
            );
        }
        other => panic!("{other:?}"),
    }
    let stats = sim.stats();
    assert_eq!((stats.token_requests, stats.get_order), (2, 2));
}

#[tokio::test]
async fn wrong_credentials_are_a_configuration_problem_and_never_leak() {
    let sim = start_sim(JgoodsSimConfig::default()).await;
    let mut settings = sim.client_settings();
    settings.client_secret = "wrong-secret-Z9".to_string().into();
    let client = JgoodsClient::new(settings).unwrap();
    let err = client.get_order("JG1").await.unwrap_err();
    let shown = format!("{err} {err:?} {client:?}");
    // 401 from the token endpoint: a person must fix the config, no retry loop.
    assert!(
        matches!(&err, CallError::Configuration { code, .. } if code == "TOKEN_HTTP_401"),
        "{shown}"
    );
    assert!(shown.contains("client_secret"), "{shown}");
    assert!(!shown.contains("wrong-secret-Z9"), "{shown}");
    assert_eq!(sim.stats().get_order, 0, "nothing sent without a token");
}

#[tokio::test]
async fn token_endpoint_outage_is_transient_with_retry_after() {
    let (sim, client) = setup().await;
    sim.inject(
        Endpoint::Token,
        Fault::TooManyRequests {
            retry_after_secs: 3,
        },
        1,
    );
    match client.get_order("JG1").await {
        Err(CallError::Transient { retry_after, .. }) => {
            assert_eq!(retry_after, Some(Duration::from_secs(3)))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn token_lifetime_keeps_a_margin() {
    assert_eq!(token_lifetime(3600), Duration::from_secs(3540));
    assert_eq!(token_lifetime(60), Duration::from_secs(30));
    assert_eq!(token_lifetime(0), Duration::ZERO);
}

#[tokio::test]
async fn full_allocation_reaches_awaiting_arrival() {
    let (sim, client) = setup().await;
    sim.place_order("JG1", &[("SKU-1", 3, 5500), ("SKU-2", 1, 800)]);
    let order = client
        .put_order("JG1", &alloc(&[(1, 3), (2, 1)], true))
        .await
        .unwrap();
    assert_eq!(order.status, Status::AwaitingArrival);
    let reserved: Vec<_> = order.lines.iter().map(|l| l.reserved_qty).collect();
    assert_eq!(reserved, vec![Some(3), Some(1)]);
    assert_eq!(sim.order("JG1").as_ref().map(as_read), Some(order));
}

#[tokio::test]
async fn short_allocation_accepted_by_the_customer_with_signed_webhooks() {
    let secret = "whsec-test".to_string();
    let receiver = Receiver::start(sim::SimWebhookAuth::Hmac {
        secret: secret.clone(),
    })
    .await
    .expect("receiver");
    let sim = start_sim(JgoodsSimConfig {
        webhook_url: Some(receiver.url.clone()),
        webhook_auth: sim::SimWebhookAuth::Hmac {
            secret: secret.clone(),
        },
        ..JgoodsSimConfig::default()
    })
    .await;
    let client = JgoodsClient::new(sim.client_settings()).unwrap();
    sim.place_order("JG1", &[("SKU-1", 3, 5500), ("SKU-2", 2, 800)]);

    let order = client
        .put_order("JG1", &alloc(&[(1, 1), (2, 2)], false))
        .await
        .unwrap();
    assert_eq!(order.status, Status::AwaitingReply);
    let expected = [
        sim::Status::AwaitingApproval,
        sim::Status::AwaitingReply,
        sim::Status::AwaitingApproval,
    ];
    assert!(
        sim.wait_until(WAIT, |v| v.stats().acked_statuses("JG1") == expected)
            .await
    );
    let pushes = receiver.received();
    assert_eq!(receiver.unauthenticated(), 0);
    assert_eq!(receiver.acked_statuses("JG1"), expected);
    // What the simulator pushed, read and authenticated as the adapter does.
    let read: Vec<OrderSnapshot> = pushes
        .iter()
        .map(|p| wire::parse_order(&p.body).expect("the adapter reads every push"))
        .collect();
    let statuses: Vec<Status> = read.iter().map(|o| o.status).collect();
    assert_eq!(
        statuses,
        [
            Status::AwaitingApproval,
            Status::AwaitingReply,
            Status::AwaitingApproval
        ]
    );
    for push in &pushes {
        let verified = signature::verify_hmac(
            &[secret.clone().into()],
            push.timestamp.as_deref(),
            push.signature.as_deref(),
            &push.body,
            chrono::Utc::now().timestamp(),
        );
        assert_eq!(
            verified,
            Ok(()),
            "the adapter verifies what the simulator signs"
        );
    }
    let accepted = &read[2];
    assert!(accepted.lines.iter().all(|l| l.reserved_qty == Some(l.qty)));
    assert_eq!(accepted.lines[0].qty, 1);
    assert!(
        pushes
            .iter()
            .all(|p| p.content_type == "application/json; charset=utf-8")
    );
    let ids: std::collections::BTreeSet<_> = pushes.iter().map(|p| &p.delivery_id).collect();
    assert_eq!(ids.len(), 3, "one delivery id per event");

    let order = client.put_order("JG1", &confirm_only()).await.unwrap();
    assert_eq!(order.status, Status::AwaitingArrival);
    assert!(
        sim.wait_until(WAIT, |v| v.stats().acked_statuses("JG1").len() == 4)
            .await
    );
    assert_eq!(
        receiver.acked_statuses("JG1").last(),
        Some(&sim::Status::AwaitingArrival)
    );
}

#[tokio::test]
async fn short_allocation_declined_cancels() {
    let (sim, client) = setup().await;
    sim.place_order("JG1", &[("SKU-1", 3, 5500)]);
    sim.set_decision("JG1", CustomerDecision::Decline);
    client
        .put_order("JG1", &alloc(&[(1, 0)], false))
        .await
        .unwrap();
    assert!(
        sim.wait_for_status("JG1", sim::Status::Cancelled, WAIT)
            .await
    );
    let conflict = rejected(client.put_order("JG1", &confirm_only()).await);
    assert_eq!(conflict, (409, "STATUS_CONFLICT".to_string()));
}

#[tokio::test]
async fn server_errors_are_transient_until_they_stop() {
    let (sim, client) = setup().await;
    sim.place_order("JG1", &[("SKU-1", 1, 1000)]);
    sim.inject(Endpoint::PutOrder, Fault::Status(503), 2);
    let body = alloc(&[(1, 1)], true);
    for _ in 0..2 {
        let reason = transient_reason(client.put_order("JG1", &body).await);
        assert!(reason.contains("503"), "{reason}");
    }
    let order = client.put_order("JG1", &body).await.unwrap();
    assert_eq!(order.status, Status::AwaitingArrival);
    assert_eq!(sim.stats().put_count("JG1"), 3);
}

#[tokio::test]
async fn throttling_carries_retry_after() {
    let (sim, client) = setup().await;
    sim.place_order("JG1", &[("SKU-1", 1, 1000)]);
    sim.inject(
        Endpoint::Any,
        Fault::TooManyRequests {
            retry_after_secs: 7,
        },
        1,
    );
    // `Any` hits the token request first; the next call reaches the order API.
    assert!(client.get_order("JG1").await.is_err());
    sim.inject(
        Endpoint::GetOrder,
        Fault::TooManyRequests {
            retry_after_secs: 7,
        },
        1,
    );
    match client.get_order("JG1").await {
        Err(CallError::Transient { retry_after, .. }) => {
            assert_eq!(retry_after, Some(Duration::from_secs(7)))
        }
        other => panic!("{other:?}"),
    }
    assert!(client.get_order("JG1").await.is_ok());
}

#[tokio::test]
async fn cancelled_order_conflicts() {
    let (sim, client) = setup().await;
    sim.place_order("JG1", &[("SKU-1", 1, 1000)]);
    sim.set_status("JG1", sim::Status::Cancelled);
    let conflict = rejected(client.put_order("JG1", &alloc(&[(1, 1)], true)).await);
    assert_eq!(conflict, (409, "STATUS_CONFLICT".to_string()));
    sim.place_order("JG2", &[("SKU-1", 1, 1000)]);
    sim.inject(Endpoint::PutOrder, Fault::Conflict, 1);
    let injected = rejected(client.put_order("JG2", &alloc(&[(1, 1)], true)).await);
    assert_eq!(injected, (409, "STATUS_CONFLICT".to_string()));
}

#[tokio::test]
async fn identical_put_is_idempotent() {
    let (sim, client) = setup().await;
    sim.place_order("JG1", &[("SKU-1", 2, 1000)]);
    let body = alloc(&[(1, 2)], true);
    let first = client.put_order("JG1", &body).await.unwrap();
    let again = client.put_order("JG1", &body).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(again.status, Status::AwaitingArrival);
    let arrivals = sim
        .stats()
        .deliveries
        .iter()
        .filter(|d| d.status == sim::Status::AwaitingArrival)
        .count();
    assert_eq!(arrivals, 1, "a replay changes nothing");
    let other = rejected(client.put_order("JG1", &alloc(&[(1, 1)], false)).await);
    assert_eq!(other, (409, "STATUS_CONFLICT".to_string()));
}

#[tokio::test]
async fn invalid_allocations_are_rejected_with_contract_codes() {
    let (sim, client) = setup().await;
    sim.place_order("JG1", &[("SKU-1", 2, 1000), ("SKU-2", 1, 500)]);
    let other_status = JgoodsPutOrder {
        status: Some(Status::Shipped.label().to_string()),
        ..alloc(&[(1, 2), (2, 1)], false)
    };
    let cases = [
        (alloc(&[(1, 3), (2, 1)], false), "INVALID_QTY"),
        (alloc(&[(1, 2)], false), "MISSING_LINE"),
        (alloc(&[(1, 2), (2, 1), (9, 1)], false), "MISSING_LINE"),
        (alloc(&[(1, 1), (2, 1)], true), "INVALID_STATUS"),
        (confirm_only(), "INVALID_STATUS"),
        (other_status, "INVALID_STATUS"),
    ];
    for (body, code) in cases {
        let got = rejected(client.put_order("JG1", &body).await);
        assert_eq!(got, (400, code.to_string()), "{body:?}");
    }
    let missing = rejected(client.get_order("JG404").await);
    assert_eq!(missing, (404, "ORDER_NOT_FOUND".to_string()));
    assert_eq!(
        sim.order("JG1").map(|o| o.status),
        Some(sim::Status::AwaitingApproval)
    );
}

#[tokio::test]
async fn odd_order_numbers_are_percent_encoded() {
    let (sim, client) = setup().await;
    for order_no in ["JG 1/2?x=1#frag%41", "注文-1", "a/../b", "+&;"] {
        sim.place_order(order_no, &[("SKU-1", 1, 1000)]);
        let order = client.get_order(order_no).await.unwrap();
        assert_eq!(order.order_no, order_no);
        let order = client
            .put_order(order_no, &alloc(&[(1, 1)], true))
            .await
            .unwrap();
        assert_eq!(order.status, Status::AwaitingArrival, "{order_no}");
    }
    for bad in ["", ".", "..", " "] {
        let got = rejected(client.get_order(bad).await);
        assert_eq!(got, (0, "INVALID_ORDER_NO".to_string()), "{bad:?}");
    }
}

#[tokio::test]
async fn base_urls_may_end_with_a_slash() {
    let sim = start_sim(JgoodsSimConfig::default()).await;
    sim.place_order("JG1", &[("SKU-1", 1, 1000)]);
    let mut settings = sim.client_settings();
    settings.order_api_base_url.push('/');
    settings.item_api_base_url.push('/');
    let client = JgoodsClient::new(settings).unwrap();
    assert!(client.get_order("JG1").await.is_ok());
    let stock = [JgoodsItemStock {
        item_code: "SKU-1".into(),
        stock: 1,
    }];
    assert_eq!(client.put_item_stock(&stock).await.unwrap().updated, 1);
    let mut settings = sim.client_settings();
    settings.order_api_base_url = "ftp://example.com/".into();
    assert_eq!(
        rejected(JgoodsClient::new(settings)),
        (0, "INVALID_CONFIG".to_string())
    );
}

#[tokio::test]
async fn search_walks_every_page() {
    let (sim, client) = setup().await;
    for i in 0..150 {
        sim.place_order(&format!("JG{i:04}"), &[("SKU-1", 1, 1000)]);
    }
    let first = client
        .search(Status::AwaitingApproval, None, 1)
        .await
        .unwrap();
    assert_eq!((first.orders.len(), first.next_page), (100, Some(2)));
    let second = client
        .search(Status::AwaitingApproval, None, 2)
        .await
        .unwrap();
    assert_eq!((second.orders.len(), second.next_page), (50, None));
    let mut all: Vec<_> = first.orders.iter().chain(&second.orders).collect();
    all.dedup_by_key(|o| o.order_no.clone());
    assert_eq!(all.len(), 150);

    sim.set_status("JG0007", sim::Status::Cancelled);
    let since = sim.order("JG0007").and_then(|o| o.status_changed_at);
    let cancelled = client.search(Status::Cancelled, since, 1).await.unwrap();
    assert_eq!(cancelled.orders.len(), 1);
    assert_eq!(cancelled.orders[0].order_no, "JG0007");
    let none_new = client
        .search(Status::AwaitingApproval, since, 1)
        .await
        .unwrap();
    assert!(none_new.orders.is_empty());
}

#[tokio::test]
async fn item_stock_reports_unknown_items() {
    let (sim, client) = setup().await;
    sim.place_order("JG1", &[("SKU-1", 1, 1000)]);
    sim.register_item("SKU-2");
    let stock = |code: &str, stock: u64| JgoodsItemStock {
        item_code: code.to_string(),
        stock,
    };
    let result = client
        .put_item_stock(&[stock("SKU-1", 5), stock("SKU-2", 0), stock("SKU-9", 1)])
        .await
        .unwrap();
    assert_eq!(result.updated, 2);
    assert_eq!(result.errors.len(), 1);
    assert_eq!(
        (
            result.errors[0].item_code.as_str(),
            result.errors[0].code.as_str()
        ),
        ("SKU-9", "ITEM_NOT_FOUND")
    );
    let stats = sim.stats();
    assert_eq!(stats.stock.get("SKU-1"), Some(&5));
    assert_eq!(stats.stock.get("SKU-2"), Some(&0));

    let too_many: Vec<_> = (0..=MAX_STOCK_ITEMS).map(|_| stock("SKU-1", 1)).collect();
    assert_eq!(
        rejected(client.put_item_stock(&too_many).await),
        (0, "TOO_MANY_ITEMS".to_string())
    );
    assert_eq!(client.put_item_stock(&[]).await.unwrap().updated, 0);
    assert_eq!(sim.stats().item_stock_pushes, 1, "nothing else was sent");
}

#[tokio::test]
async fn slow_answer_times_out_but_the_change_was_applied() {
    let sim = start_sim(JgoodsSimConfig::default()).await;
    let mut settings = sim.client_settings();
    settings.http.timeout = Duration::from_millis(300);
    let client = JgoodsClient::new(settings).unwrap();
    sim.place_order("JG1", &[("SKU-1", 1, 1000)]);
    client.get_order("JG1").await.unwrap();
    sim.inject(Endpoint::PutOrder, Fault::Delay(Duration::from_secs(3)), 1);
    let body = alloc(&[(1, 1)], true);
    let reason = transient_reason(client.put_order("JG1", &body).await);
    assert!(reason.contains("timed out"), "{reason}");
    assert!(
        sim.wait_for_status("JG1", sim::Status::AwaitingArrival, WAIT)
            .await
    );
    let retried = client.put_order("JG1", &body).await.unwrap();
    assert_eq!(retried.status, Status::AwaitingArrival);
}

#[tokio::test]
async fn unreachable_j_goods_is_transient() {
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let client = JgoodsClient::new(JgoodsClientSettings {
        order_api_base_url: format!("{base}/order/v2"),
        item_api_base_url: format!("{base}/v3"),
        category_api_base_url: format!("{base}/category/v1"),
        token_url: format!("{base}/oauth/token"),
        client_id: "id".into(),
        client_secret: "secret".to_string().into(),
        token_auth: TokenAuth::Basic,
        http: crate::call::HttpLimits::with_timeout(Duration::from_secs(2)),
    })
    .unwrap();
    let reason = transient_reason(client.get_order("JG1").await);
    assert!(reason.contains("connection failed"), "{reason}");
}

/// A J-goods that answers 200 with HTML and 400 without the error envelope.
async fn broken_j_goods() -> JgoodsClient {
    let app = Router::new()
        .route(
            "/oauth/token",
            post(|| async { r#"{"access_token":"t","token_type":"bearer","expires_in":3600}"# }),
        )
        .route(
            "/order/v2/{order_no}",
            get(|| async { "<html>maintenance</html>" }),
        )
        .route(
            "/v3/item.json",
            axum::routing::put(|| async { (axum::http::StatusCode::BAD_REQUEST, "nope") }),
        );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    JgoodsClient::new(JgoodsClientSettings {
        order_api_base_url: format!("{base}/order/v2"),
        item_api_base_url: format!("{base}/v3"),
        category_api_base_url: format!("{base}/category/v1"),
        token_url: format!("{base}/oauth/token"),
        client_id: "id".into(),
        client_secret: "secret".to_string().into(),
        token_auth: TokenAuth::Basic,
        http: crate::call::HttpLimits::with_timeout(Duration::from_secs(5)),
    })
    .unwrap()
}

#[tokio::test]
async fn unreadable_answers_are_handled() {
    let client = broken_j_goods().await;
    let reason = transient_reason(client.get_order("JG1").await);
    assert!(reason.contains("unreadable order"), "{reason}");
    let reason = transient_reason(client.search(Status::AwaitingApproval, None, 1).await);
    assert!(reason.contains("unreadable search page"), "{reason}");
    let stock = [JgoodsItemStock {
        item_code: "A".into(),
        stock: 1,
    }];
    match client.put_item_stock(&stock).await {
        Err(CallError::Rejected {
            http_status,
            code,
            message,
        }) => assert_eq!(
            (http_status, code.as_str(), message.as_str()),
            (400, "HTTP_400", "nope")
        ),
        other => panic!("{other:?}"),
    }
}
