//! Fault injection: every provider's simulator misbehaves the ways real ones
//! do (5xx, 429 with `Retry-After`, answers slower than the daemon's
//! `http_timeout`, connections cut, bodies trickled, cut short or replaced by
//! a proxy's page, expired credentials, maintenance). The daemon keeps
//! answering `/healthz`, and once the fault clears everything converges:
//! orders allocated, every outbound call done once with effect (the
//! simulators count), no call left pending or dead.
//!
//! `cargo test --test it faults -- --nocapture` prints the figure per provider.

use std::time::{Duration, Instant};

use ordersync::call::CallError;
use ordersync::sim::kuroneko as kuroneko_sim;
use ordersync_sim::jgoods::{self as jgoods_sim, Status};
use ordersync_sim::komoju::{self as komoju_sim, CaptureMode};
use ordersync_sim::rakuten_pay::{self as rakuten_sim, NewItem, NewOrder, OrderProgress};
use ordersync_sim::transport::TransportFault;
use serde_json::json;

use crate::helpers::*;

/// The daemon's `[daemon] http_timeout` in these tests: short, so that an
/// answer held back times out quickly.
const HTTP_TIMEOUT: Duration = Duration::from_millis(300);
/// An answer held back longer than [`HTTP_TIMEOUT`]: the caller gives up.
const LOST: Duration = Duration::from_millis(700);
/// One piece of a trickled body every this long (8 pieces: longer than [`HTTP_TIMEOUT`]).
const TRICKLE: Duration = Duration::from_millis(100);

const RESET: TransportFault = TransportFault::Reset;
const SLOW_BODY: TransportFault = TransportFault::SlowBody { every: TRICKLE };
const TRUNCATED: TransportFault = TransportFault::Truncated;
const WRONG_TYPE: TransportFault = TransportFault::WrongContentType;

/// Faults injected and recovered from, per provider, for the printed figure.
struct Figures {
    provider: &'static str,
    injected: usize,
    recovered: Vec<(String, Duration)>,
}

impl Figures {
    fn new(provider: &'static str) -> Self {
        Figures {
            provider,
            injected: 0,
            recovered: Vec::new(),
        }
    }

    fn recovered(&mut self, fault: &str, took: Duration) {
        self.recovered.push((fault.to_string(), took));
    }

    fn print(&self) {
        let worst = self.recovered.iter().map(|(_, t)| *t).max();
        let total: Duration = self.recovered.iter().map(|(_, t)| *t).sum();
        let mean = total / u32::try_from(self.recovered.len().max(1)).unwrap_or(1);
        println!(
            "fault injection · {}: {} faults injected, {} recovered, time to recover mean {mean:.0?}, worst {:.0?}",
            self.provider,
            self.injected,
            self.recovered.len(),
            worst.unwrap_or_default(),
        );
        for (fault, took) in &self.recovered {
            println!("    {:<34} recovered in {took:.0?}", fault);
        }
        assert_eq!(self.injected, self.recovered.len(), "{}", self.provider);
    }
}

async fn app_with_short_timeout(o: Options) -> TestApp {
    spawn_app_with(Options {
        daemon_extra: format!("http_timeout = \"{}ms\"", HTTP_TIMEOUT.as_millis()),
        ..o
    })
    .await
}

async fn assert_healthy(app: &TestApp) {
    let resp = app
        .http
        .get(format!("{}/healthz", app.admin_url))
        .send()
        .await
        .expect("the daemon answers");
    assert_eq!(resp.status(), 200, "healthz during a provider fault");
}

/// Waits until no outbound call is pending, then checks none died.
async fn assert_outbox_settles(app: &TestApp, what: &str) {
    let until = tokio::time::Instant::now() + DEADLINE;
    loop {
        let (_, pending) = app.get("/api/v1/outbox?state=pending").await;
        if pending["outbox"].as_array().is_some_and(Vec::is_empty) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "{what}: calls still pending: {pending}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (_, dead) = app.get("/api/v1/outbox?state=dead").await;
    assert_eq!(dead["outbox"], json!([]), "{what}: a call died");
}

#[tokio::test]
async fn jgoods_post_backs_survive_every_fault() {
    use jgoods_sim::{Endpoint, Fault};
    let app = app_with_short_timeout(Options::default()).await;
    app.set_stock("F-JG", 1000).await;
    // (name, expire the OAuth tokens first, fault, how many times)
    let cases: Vec<(&str, bool, Endpoint, Fault, u32)> = vec![
        ("HTTP 500", false, Endpoint::PutOrder, Fault::Status(500), 2),
        ("HTTP 503", false, Endpoint::PutOrder, Fault::Status(503), 3),
        (
            "429 Retry-After: 1",
            false,
            Endpoint::PutOrder,
            Fault::TooManyRequests {
                retry_after_secs: 1,
            },
            1,
        ),
        ("timeout", false, Endpoint::PutOrder, Fault::Delay(LOST), 1),
        (
            "connection reset",
            false,
            Endpoint::PutOrder,
            Fault::Transport(RESET),
            2,
        ),
        (
            "slow body",
            false,
            Endpoint::PutOrder,
            Fault::Transport(SLOW_BODY),
            1,
        ),
        (
            "malformed JSON",
            false,
            Endpoint::PutOrder,
            Fault::Transport(TRUNCATED),
            1,
        ),
        (
            "wrong content type",
            false,
            Endpoint::PutOrder,
            Fault::Transport(WRONG_TYPE),
            1,
        ),
        (
            "expired OAuth token",
            true,
            Endpoint::Token,
            Fault::Status(503),
            0,
        ),
        (
            "expired token, token endpoint 503",
            true,
            Endpoint::Token,
            Fault::Status(503),
            1,
        ),
        (
            "expired token, token endpoint reset",
            true,
            Endpoint::Token,
            Fault::Transport(RESET),
            1,
        ),
    ];
    let mut figures = Figures::new("J-goods post-back");
    for (i, (name, expire, endpoint, fault, times)) in cases.iter().enumerate() {
        let order_no = format!("JGF{i:02}");
        if *expire {
            app.sim.expire_tokens();
        }
        app.sim.inject(*endpoint, *fault, *times);
        figures.injected += 1;
        let started = Instant::now();
        app.sim.place_order(&order_no, &[("F-JG", 2, 1100)]);
        assert_healthy(&app).await;
        assert!(
            app.sim
                .wait_for_status(&order_no, Status::AwaitingArrival, DEADLINE)
                .await,
            "{name}: the post-back never arrived"
        );
        let o = app.wait_state(&order_no, "confirmed", "deferred").await;
        assert_outbox_settles(&app, name).await;
        figures.recovered(name, started.elapsed());
        assert_eq!(o["lines"][0]["reserved_qty"], 2, "{name}");
        let stats = app.sim.stats();
        assert_eq!(
            stats.applied_puts.get(&order_no),
            Some(&1),
            "{name}: the post-back took effect more than once"
        );
        let sim_order = app.sim.order(&order_no).expect("placed");
        assert_eq!(sim_order.items[0].reserved_qty, Some(2), "{name}");
    }
    assert_eq!(
        app.stock("F-JG").await["reserved"],
        2 * cases.len() as i64,
        "every order holds its stock, once"
    );
    figures.print();
    app.stop().await;
}

fn card_order(r: &rakuten_sim::RakutenSimHandle, sku: &str) -> String {
    let number = r.next_order_number();
    r.place_order(NewOrder::new(&number).item(NewItem::new(sku, "manage-f", 1100, 1)));
    number
}

#[tokio::test]
async fn rakuten_polls_confirmations_and_shipments_survive_every_fault() {
    use rakuten_sim::{Endpoint, Fault};
    let app = app_with_short_timeout(Options::rakuten("")).await;
    app.set_stock("F-RK", 1000).await;
    let r = app.rakuten();
    let mut figures = Figures::new("Rakuten Pay");
    let maintenance = Fault::Maintenance {
        retry_after_secs: Some(1),
    };
    // Import and confirmation: the poll meets the fault, a later poll recovers.
    let import: Vec<(&str, Endpoint, Fault)> = vec![
        ("maintenance window (503 page)", Endpoint::Any, maintenance),
        (
            "HTTP 500 on searchOrder",
            Endpoint::SearchOrder,
            Fault::Status(500),
        ),
        (
            "429 on getOrder",
            Endpoint::GetOrder,
            Fault::TooManyRequests {
                retry_after_secs: 1,
            },
        ),
        (
            "expired licence key (ES01-01)",
            Endpoint::SearchOrder,
            Fault::Gateway {
                status: 401,
                code: "ES01-01",
            },
        ),
        (
            "malformed JSON on getOrder",
            Endpoint::GetOrder,
            Fault::Garbage,
        ),
        (
            "timeout on confirmOrder",
            Endpoint::ConfirmOrder,
            Fault::Delay(LOST),
        ),
        (
            "reset on confirmOrder",
            Endpoint::ConfirmOrder,
            Fault::Transport(RESET),
        ),
        (
            "slow body on getOrder",
            Endpoint::GetOrder,
            Fault::Transport(SLOW_BODY),
        ),
        (
            "cut-short JSON on confirmOrder",
            Endpoint::ConfirmOrder,
            Fault::Transport(TRUNCATED),
        ),
        (
            "HTML page on searchOrder",
            Endpoint::SearchOrder,
            Fault::Transport(WRONG_TYPE),
        ),
    ];
    let mut confirmed = Vec::new();
    for (name, endpoint, fault) in &import {
        let n = card_order(r, "F-RK");
        r.inject(*endpoint, *fault, 1);
        figures.injected += 1;
        let started = Instant::now();
        app.daemon().poll_now();
        assert_healthy(&app).await;
        let o = app.poll_until(&n, |o| o["state"] == "confirmed").await;
        assert!(
            r.wait_for_progress(&n, OrderProgress::RakutenProcessing, DEADLINE)
                .await,
            "{name}: never confirmed at Rakuten"
        );
        figures.recovered(name, started.elapsed());
        assert_eq!(o["lines"][0]["reserved_qty"], 1, "{name}");
        confirmed.push(n);
    }
    // Rakuten finishes processing: every order is paid.
    r.advance_clock(Duration::from_secs(600));
    for n in &confirmed {
        app.poll_until(n, |o| o["payment_state"] == "paid").await;
    }
    // Shipment reports: the dispatcher retries until the row is there, once.
    let ship: Vec<(&str, Fault)> = vec![
        ("maintenance on updateOrderShipping", maintenance),
        ("HTTP 503 on updateOrderShipping", Fault::Status(503)),
        ("timeout on updateOrderShipping", Fault::Delay(LOST)),
        ("reset on updateOrderShipping", Fault::Transport(RESET)),
        (
            "slow body on updateOrderShipping",
            Fault::Transport(SLOW_BODY),
        ),
        (
            "HTML page on updateOrderShipping",
            Fault::Transport(WRONG_TYPE),
        ),
    ];
    for ((name, fault), n) in ship.iter().zip(&confirmed) {
        r.inject(Endpoint::UpdateOrderShipping, *fault, 1);
        figures.injected += 1;
        let started = Instant::now();
        let (status, body) = app.post(&format!("/api/v1/orders/rakuten/{n}/shipment"), json!({"carrier": "yamato", "tracking_no": "123456789012", "shipped_on": "2026-11-24"})).await;
        assert_eq!(status, 202, "{name}: {body}");
        assert_healthy(&app).await;
        assert!(
            r.wait_for_progress(n, OrderProgress::Shipped, DEADLINE)
                .await,
            "{name}: the shipment never reached Rakuten"
        );
        assert_outbox_settles(&app, name).await;
        figures.recovered(name, started.elapsed());
        let order = r.order(n).expect("placed");
        assert_eq!(
            order.packages[0].shipping.len(),
            1,
            "{name}: the shipment was recorded twice"
        );
    }
    assert_eq!(
        app.stock("F-RK").await["available"],
        1000 - import.len() as i64,
        "every import holds its unit, once"
    );
    figures.print();
    app.stop().await;
}

fn direct_komoju_order(id: &str, payment_id: &str) -> serde_json::Value {
    json!({"channel": "direct", "id": id, "ordered_at": "2026-11-23T10:00:00+09:00",
        "customer": {"name": "山田 太郎", "name_kana": "ﾔﾏﾀﾞ ﾀﾛｳ", "postal_code": "1000001",
                     "address": "東京都千代田区千代田1-1", "phone": "0312345678", "email": "taro@example.jp"},
        "ship_to": null,
        "lines": [{"line_no": 1, "sku": "F-KJ", "name": "急須", "qty": 1, "unit_price": 5500}],
        "shipping_fee": 800, "fee": 0,
        "payment": {"method": "komoju", "payment_id": payment_id}, "allocate": true})
}

/// A direct order whose KOMOJU payment is authorized.
async fn authorized_order(app: &TestApp, id: &str) -> String {
    let pid = app
        .komoju()
        .create_payment(6300, 573, Some(id), "credit_card", CaptureMode::Manual);
    let (status, body) = app
        .post("/api/v1/orders", direct_komoju_order(id, &pid))
        .await;
    assert_eq!(status, 201, "{body}");
    assert!(app.komoju().authorize(&pid));
    app.wait_direct(id, |o| o["payment_state"] == "authorized")
        .await;
    pid
}

async fn ship_direct(app: &TestApp, id: &str) {
    let (status, body) = app
        .post(
            &format!("/api/v1/orders/direct/{id}/shipment"),
            json!({"carrier": "sagawa", "tracking_no": "400012345678", "shipped_on": "2026-11-24"}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
}

async fn cancel_direct(app: &TestApp, id: &str) {
    let (status, body) = app
        .post(
            &format!("/api/v1/orders/direct/{id}/cancel"),
            json!({"reason": "customer request"}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
}

#[tokio::test]
async fn komoju_captures_cancels_and_refunds_survive_every_fault() {
    use komoju_sim::{Endpoint, Fault, PaymentStatus};
    let app = app_with_short_timeout(Options::komoju()).await;
    app.set_stock("F-KJ", 1000).await;
    let mut figures = Figures::new("KOMOJU");
    let capture: Vec<(&str, Fault, u32)> = vec![
        ("HTTP 500 on capture", Fault::Status(500), 2),
        ("HTTP 503 on capture", Fault::Status(503), 1),
        (
            "429 on capture",
            Fault::TooManyRequests {
                retry_after_secs: 1,
            },
            1,
        ),
        (
            "timeout on capture (answer lost)",
            Fault::LoseAnswer(LOST),
            1,
        ),
        ("reset on capture", Fault::Transport(RESET), 2),
        ("slow body on capture", Fault::Transport(SLOW_BODY), 1),
        ("cut-short JSON on capture", Fault::Transport(TRUNCATED), 1),
        ("HTML page on capture", Fault::Transport(WRONG_TYPE), 1),
    ];
    for (i, (name, fault, times)) in capture.iter().enumerate() {
        let id = format!("SHOP-FC{i}");
        let pid = authorized_order(&app, &id).await;
        app.komoju().inject(Endpoint::Capture, *fault, *times);
        figures.injected += 1;
        let started = Instant::now();
        ship_direct(&app, &id).await;
        assert_healthy(&app).await;
        app.wait_direct(&id, |o| o["payment_state"] == "captured")
            .await;
        assert_outbox_settles(&app, name).await;
        figures.recovered(name, started.elapsed());
        assert_eq!(
            app.komoju().stats().payment(&pid).captures,
            1,
            "{name}: captured more than once"
        );
        assert_eq!(
            app.komoju().payment(&pid).expect("created").status,
            PaymentStatus::Captured
        );
    }
    // Cancelling an authorized payment cancels it; a captured one is refunded.
    let release: Vec<(&str, bool, Endpoint, Fault)> = vec![
        (
            "reset on cancel",
            false,
            Endpoint::Cancel,
            Fault::Transport(RESET),
        ),
        (
            "timeout on cancel",
            false,
            Endpoint::Cancel,
            Fault::LoseAnswer(LOST),
        ),
        (
            "HTTP 502 on refund",
            true,
            Endpoint::Refund,
            Fault::Status(502),
        ),
        (
            "slow body on refund",
            true,
            Endpoint::Refund,
            Fault::Transport(SLOW_BODY),
        ),
    ];
    for (i, (name, captured, endpoint, fault)) in release.iter().enumerate() {
        let id = format!("SHOP-FR{i}");
        let pid = authorized_order(&app, &id).await;
        if *captured {
            assert!(app.komoju().capture_by_customer(&pid));
            app.wait_direct(&id, |o| o["payment_state"] == "captured")
                .await;
        }
        app.komoju().inject(*endpoint, *fault, 1);
        figures.injected += 1;
        let started = Instant::now();
        cancel_direct(&app, &id).await;
        assert_healthy(&app).await;
        app.wait_direct(&id, |o| o["state"] == "cancelled").await;
        assert_outbox_settles(&app, name).await;
        figures.recovered(name, started.elapsed());
        let counts = app.komoju().stats().payment(&pid);
        let expected = if *captured { (0, 1) } else { (1, 0) };
        assert_eq!(
            (counts.cancels, counts.refunds),
            expected,
            "{name}: released more than once"
        );
    }
    assert_eq!(
        app.stock("F-KJ").await["reserved"],
        0,
        "captured orders shipped their unit, cancelled ones released it"
    );
    figures.print();
    app.stop().await;
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz_jst())
        .date_naive()
}

fn chrono_tz_jst() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(9 * 3600).expect("JST")
}

fn assert_transient(name: &str, result: Result<impl std::fmt::Debug, CallError>) {
    match result {
        Err(CallError::Transient { .. }) => {}
        other => panic!("{name}: expected a transient error, got {other:?}"),
    }
}

fn kuroneko_request(order_no: &str) -> ordersync::providers::credit::kuroneko::CreditRequest {
    use ordersync::providers::credit::kuroneko::{CreditRequest, InvoiceDelivery, Line, Party};
    CreditRequest {
        order_no: order_no.to_string(),
        ordered_on: today(),
        ship_on: today(),
        buyer: Party {
            name: "山田 太郎".to_string(),
            name_kana: "ヤマダ タロウ".to_string(),
            postal_code: "1000001".to_string(),
            address: "東京都千代田区千代田1-1".to_string(),
            phone: "0312345678".to_string(),
            email: Some("taro@example.jp".to_string()),
        },
        ship_to: None,
        lines: vec![Line {
            name: "急須".to_string(),
            qty: 1,
            unit_price: 5500,
        }],
        shipping_fee: 800,
        fee: 0,
        send_div: InvoiceDelivery::MailToBuyer,
    }
}

#[tokio::test]
async fn kuroneko_adapter_classifies_every_fault_and_recovers() {
    // The simulator is in its own crate (with its own transport faults);
    // `kuroneko_sim` here is the product's glue, for the client settings.
    use kuroneko_sim::KuronekoSimSettings;
    use ordersync::providers::credit::kuroneko::client::{
        KuronekoClient, is_credential_error, is_unknown_order,
    };
    use ordersync_sim::kuroneko::{self as yamato_sim, Endpoint, Fault, KuronekoSimConfig};
    let sim = yamato_sim::start(
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        KuronekoSimConfig::default(),
    )
    .await
    .unwrap();
    let mut settings = sim.client_settings();
    settings.http.timeout = HTTP_TIMEOUT;
    let client = KuronekoClient::new(settings.clone()).unwrap();
    let mut figures = Figures::new("Kuroneko Atobarai (adapter)");
    let cases: Vec<(&str, Fault)> = vec![
        ("HTTP 500", Fault::Status(500)),
        ("HTTP 503 (maintenance)", Fault::Status(503)),
        ("system error err0001", Fault::SystemError("err0001")),
        ("maintenance page", Fault::Garbage),
        ("timeout", Fault::Delay(LOST)),
        ("connection reset", Fault::Transport(TransportFault::Reset)),
        (
            "slow body",
            Fault::Transport(TransportFault::SlowBody { every: TRICKLE }),
        ),
        ("cut-short XML", Fault::Transport(TransportFault::Truncated)),
        (
            "HTML page",
            Fault::Transport(TransportFault::WrongContentType),
        ),
    ];
    for (i, (name, fault)) in cases.iter().enumerate() {
        let order_no = format!("KF{i:04}");
        let request = kuroneko_request(&order_no);
        sim.inject(Endpoint::Credit, *fault, 1);
        figures.injected += 1;
        let started = Instant::now();
        assert_transient(name, client.request_credit(&request).await);
        // Recovery as the daemon does it: ask first, register only if unknown.
        match client.credit_result(&order_no).await {
            Ok(_) => {}
            Err(e) if is_unknown_order(&e) => {
                client
                    .request_credit(&request)
                    .await
                    .unwrap_or_else(|e| panic!("{name}: no recovery: {e}"));
            }
            Err(e) => panic!("{name}: no recovery: {e}"),
        }
        figures.recovered(name, started.elapsed());
        assert!(sim.order(&order_no).is_some(), "{name}: the order is lost");
    }
    // Credentials refused (a changed password): rejected for a person, never retried blindly.
    let mut wrong = settings.clone();
    wrong.password = "not-the-password".to_string().into();
    let refused = KuronekoClient::new(wrong)
        .unwrap()
        .request_credit(&kuroneko_request("KFPW"))
        .await;
    figures.injected += 1;
    let started = Instant::now();
    match &refused {
        Err(e) => assert!(is_credential_error(e), "{e:?}"),
        Ok(r) => panic!("a wrong password was accepted: {r:?}"),
    }
    client
        .request_credit(&kuroneko_request("KFPW"))
        .await
        .expect("the right password works again");
    figures.recovered("wrong password (credential error)", started.elapsed());
    figures.print();
    sim.shutdown().await;
}

fn atobarai_order(id: &str) -> ordersync::providers::credit::atobarai_com::OrderRegistration {
    use ordersync::providers::credit::atobarai_com::{Line, OrderRegistration, Party};
    OrderRegistration {
        ent_order_id: id.to_string(),
        ordered_on: today(),
        buyer: Party {
            postal_code: "1000001".into(),
            address: "東京都千代田区千代田1-1".into(),
            name: "山田 太郎".into(),
            name_kana: "ヤマダ タロウ".into(),
            phone: "03-1234-5678".into(),
            email: Some("taro@example.jp".into()),
        },
        delivery: None,
        lines: vec![Line {
            name: "急須".into(),
            unit_price: 5500,
            qty: 1,
            tax_rate: Some(10),
        }],
        carriage: 800,
        charge: 0,
        outside_tax: None,
        test: None,
    }
}

#[tokio::test]
async fn atobarai_com_adapter_classifies_every_fault_and_recovers() {
    use ordersync::providers::credit::atobarai_com::client::AtobaraiClient;
    use ordersync::sim::atobarai_com::AtobaraiSimSettings;
    use ordersync_sim::atobarai_com::{
        self as atobarai_sim, AtobaraiService, AtobaraiSimConfig, Fault,
    };
    let sim = atobarai_sim::start(
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        AtobaraiSimConfig::default(),
    )
    .await
    .unwrap();
    let mut settings = sim.client_settings();
    settings.http.timeout = HTTP_TIMEOUT;
    let client = AtobaraiClient::new(settings.clone()).unwrap();
    let mut figures = Figures::new("Atobarai.com (adapter)");
    let cases: Vec<(&str, Fault)> = vec![
        ("system failure EXX901", Fault::SystemFailure),
        ("maintenance EXX902", Fault::Maintenance),
        ("HTTP 500", Fault::Status(500)),
        ("HTTP 503", Fault::Status(503)),
        ("busy page", Fault::Garbage),
        ("timeout", Fault::Delay(LOST)),
        ("connection reset", Fault::Transport(TransportFault::Reset)),
        (
            "slow body",
            Fault::Transport(TransportFault::SlowBody { every: TRICKLE }),
        ),
        ("cut-short XML", Fault::Transport(TransportFault::Truncated)),
        (
            "HTML page",
            Fault::Transport(TransportFault::WrongContentType),
        ),
    ];
    for (i, (name, fault)) in cases.iter().enumerate() {
        let id = format!("SHOP-AF{i}");
        let order = atobarai_order(&id);
        sim.inject(AtobaraiService::Order, fault.clone(), 1);
        figures.injected += 1;
        let started = Instant::now();
        assert_transient(name, client.register_order(&order).await);
        // Recovery as the contract asks: look the order up before registering again.
        let found = client
            .recover_registration(&id)
            .await
            .unwrap_or_else(|e| panic!("{name}: lookup failed: {e}"));
        if found.is_none() {
            client
                .register_order(&order)
                .await
                .unwrap_or_else(|e| panic!("{name}: no recovery: {e}"));
        }
        figures.recovered(name, started.elapsed());
        let registered = sim.orders().iter().filter(|o| o.ent_order_id == id).count();
        assert_eq!(registered, 1, "{name}: registered {registered} times");
    }
    // The caller's address is its credential: a configuration problem a
    // person must fix, never a retry loop.
    figures.injected += 1;
    let started = Instant::now();
    sim.set_allowed_sources(vec!["192.0.2.0/24".parse().unwrap()]);
    match client.register_order(&atobarai_order("SHOP-AFIP")).await {
        Err(CallError::Configuration { .. }) => {}
        other => panic!("a refused source address must be a configuration problem: {other:?}"),
    }
    sim.set_allowed_sources(vec!["127.0.0.0/8".parse().unwrap()]);
    client
        .register_order(&atobarai_order("SHOP-AFIP"))
        .await
        .expect("accepted again once the address is allowed");
    figures.recovered("source address refused (EXX101)", started.elapsed());
    // Wrong API user id (credentials changed): rejected, never retried blindly.
    figures.injected += 1;
    let started = Instant::now();
    let mut wrong = settings.clone();
    wrong.api_user_id += 1;
    match AtobaraiClient::new(wrong)
        .unwrap()
        .register_order(&atobarai_order("SHOP-AFID"))
        .await
    {
        Err(CallError::Configuration { .. }) => {}
        other => panic!("a wrong API user id must be a configuration problem: {other:?}"),
    }
    client
        .register_order(&atobarai_order("SHOP-AFID"))
        .await
        .expect("the right ids work");
    figures.recovered("wrong API user id", started.elapsed());
    figures.print();
    sim.shutdown().await;
}
