//! The client against the simulator (and a capturing server for exact
//! bytes), over loopback HTTP. Time moves with `advance_clock`, never sleeps.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Uri};
use axum::routing::any;
use tokio::net::TcpListener;

use super::*;
use crate::providers::credit::kuroneko::testing;
use crate::providers::credit::kuroneko::{InvoiceDelivery, Line, Party};
use crate::sim::kuroneko::KuronekoSimSettings;
use ordersync_sim::kuroneko::{
    self as sim, Endpoint, Fault, FlipRule, KuronekoProcessDiv, KuronekoSimConfig,
    KuronekoSimHandle, KuronekoStatus, KuronekoWarning, form_value,
};

const WAIT: Duration = Duration::from_secs(10);
/// 12345678901 mod 7 = 3.
const TRACKING: &str = "123456789013";
/// 40000000000 mod 7 = 2.
const TRACKING_2: &str = "400000000002";

async fn start_sim(cfg: KuronekoSimConfig) -> KuronekoSimHandle {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    sim::start(listener, cfg).await.expect("start simulator")
}

async fn setup_with(cfg: KuronekoSimConfig) -> (KuronekoSimHandle, KuronekoClient) {
    let sim = start_sim(cfg).await;
    let client = KuronekoClient::new(sim.client_settings()).expect("client");
    (sim, client)
}

async fn setup() -> (KuronekoSimHandle, KuronekoClient) {
    setup_with(KuronekoSimConfig::default()).await
}

fn today() -> NaiveDate {
    Utc::now().with_timezone(&wire::jst()).date_naive()
}

fn request(order_no: &str) -> CreditRequest {
    testing::request(order_no, today())
}

fn named(order_no: &str, name: &str) -> CreditRequest {
    let mut r = request(order_no);
    r.buyer.name = name.to_string();
    r
}

/// Past the simulator's "right after the credit request" window.
fn settle(sim: &KuronekoSimHandle) {
    sim.advance_clock(Duration::from_secs(61));
}

/// An approved order, settled.
async fn approved(sim: &KuronekoSimHandle, client: &KuronekoClient, order_no: &str) {
    assert_eq!(
        client.request_credit(&request(order_no)).await.unwrap(),
        CreditResult::Ok
    );
    settle(sim);
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

fn transient<T: std::fmt::Debug>(result: Result<T, CallError>) -> String {
    match result {
        Err(CallError::Transient { reason, .. }) => reason,
        other => panic!("expected a transient error, got {other:?}"),
    }
}

fn code_of<T: std::fmt::Debug>(result: Result<T, CallError>) -> String {
    let (status, code, _) = rejected(result);
    assert_eq!(status, 200, "Yamato's refusals come with HTTP 200");
    code
}

#[tokio::test]
async fn every_credit_result_is_an_answer_not_an_error() {
    let (sim, client) = setup().await;
    assert_eq!(
        client.request_credit(&request("OK-1")).await.unwrap(),
        CreditResult::Ok
    );
    assert_eq!(
        client
            .request_credit(&named("NG-1", "NG 太郎"))
            .await
            .unwrap(),
        CreditResult::Ng
    );
    let mut big = request("LIMIT-1");
    big.lines = vec![Line {
        name: "テレビ".into(),
        qty: 1,
        unit_price: 60_000,
    }];
    assert_eq!(
        client.request_credit(&big).await.unwrap(),
        CreditResult::OverLimit
    );
    assert_eq!(
        client
            .request_credit(&named("REVIEW-1", "審査 花子"))
            .await
            .unwrap(),
        CreditResult::UnderReview
    );
    for (no, want) in [
        ("OK-1", CreditResult::Ok),
        ("NG-1", CreditResult::Ng),
        ("LIMIT-1", CreditResult::OverLimit),
        ("REVIEW-1", CreditResult::UnderReview),
    ] {
        assert_eq!(client.credit_result(no).await.unwrap(), want, "{no}");
        assert_eq!(sim.order(no).unwrap().credit.code(), want.code());
    }
    assert_eq!(
        client.transaction_status("OK-1").await.unwrap(),
        (TransactionStatus::Approved, TransactionWarning::None)
    );
    assert_eq!(
        client.transaction_status("NG-1").await.unwrap().0,
        TransactionStatus::Cancelled
    );
    let stats = sim.stats();
    assert_eq!(stats.calls(Endpoint::Credit), 4);
    assert_eq!(stats.calls(Endpoint::CreditResult), 4);
    assert_eq!(stats.calls(Endpoint::Status), 2);
    let body = stats.last_body(Endpoint::Credit).unwrap();
    assert_eq!(form_value(body, "name"), Some("審査　花子"));
    assert_eq!(form_value(body, "totalAmount"), Some("5000"));
}

#[tokio::test]
async fn a_review_is_polled_until_it_settles() {
    let (sim, client) = setup().await;
    let poll = Duration::from_secs(5 * 60);
    for (no, name) in [("R-OK", "審査 一郎"), ("R-NG", "審査NG 二郎")] {
        assert_eq!(
            client.request_credit(&named(no, name)).await.unwrap(),
            CreditResult::UnderReview
        );
    }
    // No transaction exists while under review (the simulator's guess: kaast010E).
    let (_, code, _) = rejected(client.transaction_status("R-OK").await);
    assert_eq!(code, "kaast010E");
    let mut polls = 0;
    let result = loop {
        let r = client.credit_result("R-OK").await.unwrap();
        if r.is_settled() {
            break r;
        }
        polls += 1;
        assert!(polls < 20, "the review never settled");
        sim.advance_clock(poll);
    };
    assert_eq!(result, CreditResult::Ok);
    assert_eq!(polls, 6, "30 minutes of review at a 5-minute poll");
    assert_eq!(
        client.credit_result("R-NG").await.unwrap(),
        CreditResult::Ng
    );
    assert_eq!(
        client.transaction_status("R-OK").await.unwrap().0,
        TransactionStatus::Approved
    );
    assert_eq!(
        client.transaction_status("R-NG").await.unwrap().0,
        TransactionStatus::Cancelled
    );
}

#[tokio::test]
async fn an_ok_turns_ng_for_repeated_orders_to_one_address() {
    let (sim, client) = setup_with(KuronekoSimConfig {
        flip: Some(FlipRule {
            orders: 2,
            window: Duration::from_secs(3600),
            after: Duration::from_secs(10 * 60),
        }),
        ..KuronekoSimConfig::default()
    })
    .await;
    approved(&sim, &client, "ADDR-1").await;
    let mut elsewhere = request("OTHER-1");
    elsewhere.buyer.address = "大阪府大阪市北区梅田1-1".into();
    assert_eq!(
        client.request_credit(&elsewhere).await.unwrap(),
        CreditResult::Ok
    );
    // The second order to the same address is OK at first…
    assert_eq!(
        client.request_credit(&request("ADDR-2")).await.unwrap(),
        CreditResult::Ok
    );
    assert_eq!(
        client.credit_result("ADDR-2").await.unwrap(),
        CreditResult::Ok
    );
    settle(&sim);
    assert_eq!(
        client.transaction_status("ADDR-2").await.unwrap().0,
        TransactionStatus::Approved
    );
    // …and NG ten minutes later, seen by both KAARS and KAAST.
    sim.advance_clock(Duration::from_secs(10 * 60));
    assert_eq!(
        client.credit_result("ADDR-2").await.unwrap(),
        CreditResult::Ng
    );
    assert_eq!(
        client.transaction_status("ADDR-2").await.unwrap().0,
        TransactionStatus::Cancelled
    );
    assert_eq!(
        client.credit_result("ADDR-1").await.unwrap(),
        CreditResult::Ok
    );
    assert_eq!(
        client.credit_result("OTHER-1").await.unwrap(),
        CreditResult::Ok
    );
    // Hence the re-check before shipping: the shipment is refused now.
    let code = code_of(
        client
            .register_shipment("ADDR-2", Carrier::Yamato, TRACKING, today())
            .await,
    );
    assert_eq!(code, "kaasl020E");
}

#[tokio::test]
async fn yamato_shipments_are_checked_before_sending() {
    let (sim, client) = setup().await;
    approved(&sim, &client, "SHIP-1").await;
    let (status, code, message) = rejected(
        client
            .register_shipment("SHIP-1", Carrier::Yamato, "123456789014", today())
            .await,
    );
    assert_eq!((status, code.as_str()), (0, BAD_TRACKING_NUMBER));
    assert!(message.contains("mod 7"), "{message}");
    assert_eq!(sim.stats().calls(Endpoint::Shipment), 0, "nothing was sent");

    client
        .register_shipment("SHIP-1", Carrier::Yamato, TRACKING, today())
        .await
        .unwrap();
    let body = sim.stats().last_body(Endpoint::Shipment).cloned().unwrap();
    assert_eq!(form_value(&body, "processDiv"), Some("0"));
    assert_eq!(form_value(&body, "paymentNo"), Some(TRACKING));
    // shipYmd goes with processDiv 1 only.
    assert_eq!(form_value(&body, "shipYmd"), None);
    assert_eq!(form_value(&body, "beforePaymentNo"), None);
    let order = sim.order("SHIP-1").unwrap();
    assert_eq!(order.payment_no.as_deref(), Some(TRACKING));
    assert_eq!(order.shipment, Some(KuronekoProcessDiv::RegisterYamato));
    assert_eq!(
        client.transaction_status("SHIP-1").await.unwrap(),
        (
            TransactionStatus::TrackingRegistered,
            TransactionWarning::None
        )
    );
}

#[tokio::test]
async fn other_carriers_register_under_the_order_number() {
    let (sim, client) = setup().await;
    approved(&sim, &client, "SAGAWA-1").await;
    client
        .register_shipment("SAGAWA-1", Carrier::Sagawa, "sagawa-0001", today())
        .await
        .unwrap();
    let body = sim.stats().last_body(Endpoint::Shipment).cloned().unwrap();
    assert_eq!(form_value(&body, "processDiv"), Some("2"));
    assert_eq!(form_value(&body, "paymentNo"), Some("SAGAWA-1"));
    assert_eq!(
        sim.order("SAGAWA-1").unwrap().status,
        Some(KuronekoStatus::TrackingRegistered)
    );
}

#[tokio::test]
async fn one_tracking_number_covers_at_most_three_orders() {
    let (sim, client) = setup().await;
    for no in ["T-1", "T-2", "T-3", "T-4"] {
        assert_eq!(
            client.request_credit(&request(no)).await.unwrap(),
            CreditResult::Ok
        );
    }
    settle(&sim);
    for no in ["T-1", "T-2", "T-3"] {
        client
            .register_shipment(no, Carrier::Yamato, TRACKING, today())
            .await
            .unwrap();
    }
    let code = code_of(
        client
            .register_shipment("T-4", Carrier::Yamato, TRACKING, today())
            .await,
    );
    assert_eq!(code, "kaasl045E");
    client
        .register_shipment("T-4", Carrier::Yamato, TRACKING_2, today())
        .await
        .unwrap();
}

#[tokio::test]
async fn shipment_change_and_cancel_follow_the_state_table() {
    let (sim, client) = setup().await;
    approved(&sim, &client, "CHG-1").await;
    // Nothing registered yet (status 1): change and cancel are refused.
    let code = code_of(
        client
            .change_shipment("CHG-1", TRACKING, TRACKING_2, today())
            .await,
    );
    assert_eq!(code, "kaasl022E");
    assert_eq!(code_of(client.cancel_shipment("CHG-1").await), "kaasl022E");
    // A bad new number never leaves.
    let (status, code, _) = rejected(
        client
            .change_shipment("CHG-1", TRACKING, "400000000003", today())
            .await,
    );
    assert_eq!((status, code.as_str()), (0, BAD_TRACKING_NUMBER));

    client
        .register_shipment("CHG-1", Carrier::Yamato, TRACKING, today())
        .await
        .unwrap();
    client
        .change_shipment("CHG-1", TRACKING, TRACKING_2, today())
        .await
        .unwrap();
    let body = sim.stats().last_body(Endpoint::Shipment).cloned().unwrap();
    assert_eq!(form_value(&body, "processDiv"), Some("1"));
    assert_eq!(form_value(&body, "paymentNo"), Some(TRACKING_2));
    assert_eq!(form_value(&body, "beforePaymentNo"), Some(TRACKING));
    assert_eq!(
        sim.order("CHG-1").unwrap().payment_no.as_deref(),
        Some(TRACKING_2)
    );
    // The old number is no longer the registered one.
    assert!(matches!(
        client
            .change_shipment("CHG-1", TRACKING, TRACKING_2, today())
            .await,
        Err(CallError::Rejected { .. })
    ));

    client.cancel_shipment("CHG-1").await.unwrap();
    let body = sim.stats().last_body(Endpoint::Shipment).cloned().unwrap();
    let names: Vec<&str> = body.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "ycfStrCode",
            "password",
            "orderNo",
            "requestDate",
            "processDiv"
        ]
    );
    assert_eq!(form_value(&body, "processDiv"), Some("9"));
    let order = sim.order("CHG-1").unwrap();
    assert_eq!(order.status, Some(KuronekoStatus::Approved));
    assert_eq!(order.payment_no, None);

    // Once delivered (10) a shipment can be neither registered nor changed.
    client
        .register_shipment("CHG-1", Carrier::Yamato, TRACKING, today())
        .await
        .unwrap();
    sim.advance_clock(Duration::from_secs(2 * 24 * 3600));
    assert_eq!(
        sim.order("CHG-1").unwrap().status,
        Some(KuronekoStatus::SalesConfirmed)
    );
    let code = code_of(
        client
            .register_shipment("CHG-1", Carrier::Yamato, TRACKING_2, today())
            .await,
    );
    assert_eq!(code, "kaasl020E");
    assert_eq!(code_of(client.cancel_shipment("CHG-1").await), "kaasl022E");
    // Status 5 allows both again.
    assert!(sim.set_status("CHG-1", KuronekoStatus::NeedsInvestigation));
    client
        .change_shipment("CHG-1", TRACKING, TRACKING_2, today())
        .await
        .unwrap();
}

#[tokio::test]
async fn cancel_before_and_after_shipment() {
    let (sim, client) = setup().await;
    approved(&sim, &client, "CXL-1").await;
    client.cancel("CXL-1").await.unwrap();
    assert_eq!(
        client.transaction_status("CXL-1").await.unwrap().0,
        TransactionStatus::Cancelled
    );
    assert_eq!(code_of(client.cancel("CXL-1").await), "kaacl009E");
    let code = code_of(
        client
            .register_shipment("CXL-1", Carrier::Yamato, TRACKING, today())
            .await,
    );
    assert_eq!(code, "kaasl020E");

    approved(&sim, &client, "CXL-2").await;
    client
        .register_shipment("CXL-2", Carrier::Yamato, TRACKING, today())
        .await
        .unwrap();
    client.cancel("CXL-2").await.unwrap();
    assert_eq!(
        sim.order("CXL-2").unwrap().status,
        Some(KuronekoStatus::Cancelled)
    );

    // Invoiced (11) can still be cancelled; paid (12) cannot.
    approved(&sim, &client, "CXL-3").await;
    approved(&sim, &client, "CXL-4").await;
    for no in ["CXL-3", "CXL-4"] {
        client
            .register_shipment(no, Carrier::Yamato, TRACKING_2, today())
            .await
            .unwrap();
    }
    sim.advance_clock(Duration::from_secs(3 * 24 * 3600));
    assert_eq!(
        sim.order("CXL-3").unwrap().status,
        Some(KuronekoStatus::InvoiceIssued)
    );
    client.cancel("CXL-3").await.unwrap();
    sim.advance_clock(Duration::from_secs(14 * 24 * 3600));
    assert_eq!(
        sim.order("CXL-4").unwrap().status,
        Some(KuronekoStatus::Paid)
    );
    assert_eq!(code_of(client.cancel("CXL-4").await), "kaacl009E");
}

#[tokio::test]
async fn amounts_only_go_down() {
    let (sim, client) = setup().await;
    approved(&sim, &client, "KK-1").await;
    let mut lower = request("KK-1");
    lower.lines.truncate(1);
    client.reduce_amount(&lower).await.unwrap();
    let order = sim.order("KK-1").unwrap();
    assert_eq!(order.total_amount, 3000 + 500 + 300);
    assert_eq!(order.items.len(), 3);
    let body = sim.stats().last_body(Endpoint::Reduce).cloned().unwrap();
    assert_eq!(form_value(&body, "totalAmount"), Some("3800"));
    assert_eq!(form_value(&body, "itemName2"), Some("送料"));

    let (status, code, message) = rejected(client.reduce_amount(&request("KK-1")).await);
    assert_eq!((status, code.as_str()), (200, "kaakk050E"));
    assert!(message.contains("only go down"), "{message}");
    assert_eq!(
        code_of(client.reduce_amount(&lower).await),
        "kaakk050E",
        "equal is no reduction"
    );
    assert_eq!(sim.order("KK-1").unwrap().total_amount, 3800);

    // Only with an OK result (kaakk009E) and not once paid (kaakk011E).
    client
        .request_credit(&named("KK-2", "審査 三郎"))
        .await
        .unwrap();
    settle(&sim);
    let mut lower2 = named("KK-2", "審査 三郎");
    lower2.lines.truncate(1);
    assert_eq!(code_of(client.reduce_amount(&lower2).await), "kaakk009E");
    client
        .register_shipment("KK-1", Carrier::Yamato, TRACKING, today())
        .await
        .unwrap();
    sim.advance_clock(Duration::from_secs(17 * 24 * 3600));
    lower.lines[0].qty = 1;
    assert_eq!(code_of(client.reduce_amount(&lower).await), "kaakk011E");
}

#[tokio::test]
async fn transactions_advance_to_paid_on_the_clock() {
    let (sim, client) = setup().await;
    approved(&sim, &client, "PAY-1").await;
    client
        .register_shipment("PAY-1", Carrier::Yamato, TRACKING, today())
        .await
        .unwrap();
    let day = Duration::from_secs(24 * 3600);
    let mut seen = vec![client.transaction_status("PAY-1").await.unwrap().0];
    for step in [2 * day, day, 14 * day] {
        sim.advance_clock(step);
        seen.push(client.transaction_status("PAY-1").await.unwrap().0);
    }
    assert_eq!(
        seen,
        [
            TransactionStatus::TrackingRegistered,
            TransactionStatus::SalesConfirmed,
            TransactionStatus::InvoiceIssued,
            TransactionStatus::Paid
        ]
    );
    assert!(
        sim.wait_until(WAIT, |v| v.orders().len() == 1
            && v.stats().calls(Endpoint::Status) == 4)
            .await
    );

    // An approved order whose ship date passed is flagged.
    approved(&sim, &client, "LATE-1").await;
    sim.advance_clock(day);
    assert_eq!(
        client.transaction_status("LATE-1").await.unwrap(),
        (
            TransactionStatus::Approved,
            TransactionWarning::TrackingNotRegistered
        )
    );
    assert!(sim.set_warning("LATE-1", Some(KuronekoWarning::InvoiceDataNotFetched)));
    assert_eq!(
        client.transaction_status("LATE-1").await.unwrap().1,
        TransactionWarning::InvoiceDataNotFetched
    );
}

#[tokio::test]
async fn calls_right_after_the_credit_request_are_retryable() {
    let (sim, client) = setup().await;
    client.request_credit(&request("FAST-1")).await.unwrap();
    let reason = transient(
        client
            .register_shipment("FAST-1", Carrier::Yamato, TRACKING, today())
            .await,
    );
    assert!(
        reason.contains("err0001") && reason.contains("retry later"),
        "{reason}"
    );
    assert!(transient(client.cancel("FAST-1").await).contains("err0001"));
    // Queries are not affected.
    assert_eq!(
        client.credit_result("FAST-1").await.unwrap(),
        CreditResult::Ok
    );
    settle(&sim);
    client
        .register_shipment("FAST-1", Carrier::Yamato, TRACKING, today())
        .await
        .unwrap();
}

#[tokio::test]
async fn system_errors_and_http_failures_are_transient() {
    let (sim, client) = setup().await;
    approved(&sim, &client, "SYS-1").await;
    sim.inject(Endpoint::Status, Fault::SystemError("err0002"), 1);
    assert!(transient(client.transaction_status("SYS-1").await).contains("err0002"));
    sim.inject(Endpoint::Any, Fault::Status(503), 1);
    assert!(transient(client.credit_result("SYS-1").await).contains("503"));
    sim.inject(Endpoint::Cancel, Fault::Garbage, 1);
    assert!(transient(client.cancel("SYS-1").await).contains("not a <return>"));
    assert_eq!(
        sim.order("SYS-1").unwrap().status,
        Some(KuronekoStatus::Approved),
        "a faulted call changes nothing"
    );
    // A lost answer: Yamato applied the change, the client timed out.
    let impatient = KuronekoClient::new(KuronekoClientSettings {
        http: crate::call::HttpLimits::with_timeout(Duration::from_millis(300)),
        ..sim.client_settings()
    })
    .unwrap();
    sim.inject(Endpoint::Cancel, Fault::Delay(Duration::from_secs(5)), 1);
    assert!(transient(impatient.cancel("SYS-1").await).contains("timed out"));
    assert_eq!(
        sim.order("SYS-1").unwrap().status,
        Some(KuronekoStatus::Cancelled)
    );
    // Nothing listening.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let offline = KuronekoClient::new(KuronekoClientSettings {
        api_base_url: dead,
        ..sim.client_settings()
    })
    .unwrap();
    assert!(transient(offline.credit_result("SYS-1").await).contains("connection failed"));
}

#[tokio::test]
async fn unknown_orders_duplicates_and_credentials_are_rejected() {
    let (sim, client) = setup().await;
    let unknown = [
        code_of(client.credit_result("NOPE-1").await),
        code_of(client.transaction_status("NOPE-1").await),
        code_of(
            client
                .register_shipment("NOPE-1", Carrier::Yamato, TRACKING, today())
                .await,
        ),
        code_of(client.cancel("NOPE-1").await),
    ];
    assert_eq!(
        unknown,
        ["kaars008E", "kaast008E", "kaasl008E", "kaacl008E"]
    );
    let e = client.cancel("NOPE-1").await.unwrap_err();
    assert!(is_unknown_order(&e) && !is_credential_error(&e));
    assert!(e.to_string().contains("does not know this orderNo"), "{e}");

    approved(&sim, &client, "DUP-1").await;
    let (status, code, message) = rejected(client.request_credit(&request("DUP-1")).await);
    assert_eq!((status, code.as_str()), (200, "kaara009E"));
    assert!(message.contains("new orderNo"), "{message}");

    let wrong = KuronekoClient::new(KuronekoClientSettings {
        password: SecretString::from("wrong999"),
        ..sim.client_settings()
    })
    .unwrap();
    let e = wrong.request_credit(&request("PW-1")).await.unwrap_err();
    assert!(is_credential_error(&e), "{e:?}");
    let CallError::Configuration { code, fix } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(code, "kaara092E");
    assert!(fix.contains("store_code と password"), "{fix}");
    assert!(!format!("{e} {e:?} {wrong:?}").contains("wrong999"));
    assert_eq!(sim.stats().credential_refusals, 1);
}

#[tokio::test]
async fn invalid_fields_are_refused_before_sending() {
    let (sim, client) = setup().await;
    let mut r = request("FIELD-1");
    r.buyer.address = "千代田区千代田1-1".into();
    let (status, code, message) = rejected(client.request_credit(&r).await);
    assert_eq!((status, code.as_str()), (0, INVALID_FIELD));
    assert!(message.starts_with("buyer.address: "), "{message}");
    let mut r = request("FIELD-1");
    r.send_div = InvoiceDelivery::Gift;
    r.ship_to = Some(Party {
        phone: "12".into(),
        ..testing::buyer()
    });
    let (_, _, message) = rejected(client.request_credit(&r).await);
    assert!(message.starts_with("ship_to.phone: "), "{message}");
    let (status, _, _) = rejected(client.credit_result("bad order no").await);
    assert_eq!(status, 0);
    assert_eq!(sim.stats().bodies.len(), 0, "nothing reached Yamato");
    // The settings are checked too.
    for (base, store) in [
        ("ftp://x", "01234567890"),
        ("https://u:p@x", "01234567890"),
        ("http://x", "0123"),
    ] {
        let e = KuronekoClient::new(KuronekoClientSettings {
            api_base_url: base.into(),
            store_code: store.into(),
            ..sim.client_settings()
        })
        .unwrap_err();
        assert_eq!(rejected::<()>(Err(e)).1, "INVALID_CONFIG");
    }
}

#[tokio::test]
async fn a_gift_sends_the_recipient() {
    let (sim, client) = setup().await;
    let mut r = request("GIFT-1");
    r.send_div = InvoiceDelivery::Gift;
    r.ship_to = Some(Party {
        name: "佐藤 花子".into(),
        name_kana: String::new(),
        postal_code: "100-0001".into(),
        address: "東京都千代田区千代田1-1".into(),
        phone: "03-1234-5678".into(),
        email: None,
    });
    assert_eq!(client.request_credit(&r).await.unwrap(), CreditResult::Ok);
    let body = sim.stats().last_body(Endpoint::Credit).cloned().unwrap();
    assert_eq!(form_value(&body, "sendDiv"), Some("1"));
    assert_eq!(form_value(&body, "sendName"), Some("佐藤　花子"));
    assert_eq!(form_value(&body, "sendPostCode"), Some("1000001"));
    assert_eq!(
        form_value(&body, "sendAddress1"),
        Some("東京都千代田区千代田１－１")
    );
    assert_eq!(form_value(&body, "sendTelNum"), Some("0312345678"));
    assert_eq!(sim.order("GIFT-1").unwrap().send_div, 1);

    // Lowering a gift's amount: KAAKK's sendDiv 1 would be 同梱, which a
    // merchant without that contract is refused (kaakk055E).
    sim.advance_clock(Duration::from_secs(120));
    let mut lower = r.clone();
    lower.lines.truncate(1);
    client.reduce_amount(&lower).await.unwrap();
    assert_eq!(sim.order("GIFT-1").unwrap().send_div, 0);
    let body = sim.stats().last_body(Endpoint::Reduce).cloned().unwrap();
    assert!(
        !body
            .iter()
            .any(|(k, _)| k.starts_with("send") && k != "sendDiv")
    );
}

/// What the capturing server saw.
#[derive(Debug, Clone)]
struct Seen {
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

/// A server that records every request and answers `answer`.
async fn capture(answer: &str) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let recorded = seen.clone();
    let answer = answer.to_string();
    let app = Router::new().fallback(any(move |uri: Uri, headers: HeaderMap, body: Bytes| {
        let recorded = recorded.clone();
        let answer = answer.clone();
        async move {
            recorded.lock().unwrap().push(Seen { uri, headers, body });
            answer
        }
    }));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, seen)
}

fn capture_client(base: &str) -> KuronekoClient {
    KuronekoClient::new(KuronekoClientSettings {
        api_base_url: base.to_string(),
        store_code: "01234567890".into(),
        password: SecretString::from("s3cretPw"),
        http: crate::call::HttpLimits::with_timeout(Duration::from_secs(5)),
    })
    .unwrap()
}

const OK_RETURN: &str = "<return><returnCode>0</returnCode><result>0</result><errorCode/></return>";

#[tokio::test]
async fn the_wire_form_is_exact() {
    let (base, seen) = capture(OK_RETURN).await;
    let client = capture_client(&base);
    let before = Utc::now().with_timezone(&wire::jst());
    client.request_credit(&request("WIRE-1")).await.unwrap();
    client
        .register_shipment("WIRE-1", Carrier::Yamato, TRACKING, today())
        .await
        .unwrap();
    client.cancel("WIRE-1").await.unwrap();
    let seen = seen.lock().unwrap().clone();
    let paths: Vec<&str> = seen.iter().map(|s| s.uri.path()).collect();
    assert_eq!(
        paths,
        [
            "/kuroneko-atobarai-api/KAARA0010APIAction_execute.action",
            "/kuroneko-atobarai-api/KAASL0010APIAction_execute.action",
            "/kuroneko-atobarai-api/KAACL0010APIAction_execute.action",
        ]
    );
    let credit = &seen[0];
    assert_eq!(
        credit.headers["content-type"],
        "application/x-www-form-urlencoded; charset=UTF-8"
    );
    let raw = std::str::from_utf8(&credit.body).unwrap();
    assert!(
        raw.starts_with("ycfStrCode=01234567890&password=s3cretPw&orderNo=WIRE-1&requestDate=")
    );
    assert!(
        raw.contains("&name=%E5%B1%B1%E7%94%B0%E3%80%80%E5%A4%AA%E9%83%8E&"),
        "{raw}"
    );
    let form = sim::decode_form(&credit.body);
    let names: Vec<&str> = form.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names[..15],
        [
            "ycfStrCode",
            "password",
            "orderNo",
            "requestDate",
            "orderYmd",
            "shipYmd",
            "name",
            "nameKana",
            "postCode",
            "address1",
            "address2",
            "telNum",
            "email",
            "totalAmount",
            "sendDiv"
        ]
    );
    assert_eq!(names.len(), 15 + 4 * 4);
    let date = form_value(&form, "requestDate").unwrap();
    let sent = wire::parse_request_date(date).expect("yyyyMMddHHmmss");
    let after = Utc::now().fixed_offset();
    assert!(
        sent >= chrono::SubsecRound::trunc_subsecs(before, 0) && sent <= after,
        "{date}"
    );
    let ship = sim::decode_form(&seen[1].body);
    let names: Vec<&str> = ship.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "ycfStrCode",
            "password",
            "orderNo",
            "requestDate",
            "paymentNo",
            "processDiv"
        ]
    );
    let cancel = sim::decode_form(&seen[2].body);
    assert_eq!(cancel.len(), 4);
}

#[tokio::test]
async fn answers_outside_the_contract_need_a_person() {
    let (base, _) = capture("<return><returnCode>0</returnCode><result>7</result></return>").await;
    let client = capture_client(&base);
    let (status, code, message) = rejected(client.request_credit(&request("ODD-1")).await);
    assert_eq!((status, code.as_str()), (200, UNEXPECTED_ANSWER));
    assert!(
        message.contains("KAARA0010") && message.contains("\"7\""),
        "{message}"
    );
    // An unknown status is kept, not refused.
    let (base, _) = capture(
        "<return><returnCode>0</returnCode><result>8</result><warning>9</warning></return>",
    )
    .await;
    let client = capture_client(&base);
    assert_eq!(
        client.transaction_status("ODD-1").await.unwrap(),
        (
            TransactionStatus::Unrecognised(8),
            TransactionWarning::Unrecognised(9)
        )
    );
    let (base, _) = capture("<return><returnCode>2</returnCode></return>").await;
    let client = capture_client(&base);
    assert!(transient(client.cancel("ODD-1").await).contains("returnCode"));
}

#[tokio::test]
async fn the_password_never_appears_in_errors() {
    let echo = "<return><returnCode>1</returnCode><errorCode>s3cretPw</errorCode></return>";
    let (base, _) = capture(echo).await;
    let client = capture_client(&base);
    let e = client.cancel("PW-1").await.unwrap_err();
    let text = format!("{e} {e:?} {client:?}");
    assert!(!text.contains("s3cretPw"), "{text}");
    assert!(text.contains("<redacted>"), "{text}");
    let odd = "<return><returnCode>s3cretPw</returnCode></return>";
    let (base, _) = capture(odd).await;
    let e = capture_client(&base).cancel("PW-1").await.unwrap_err();
    assert!(!format!("{e:?}").contains("s3cretPw"), "{e:?}");
}
