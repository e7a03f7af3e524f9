//! KOMOJU Platform Model (marketplace): the seller master (出品者) linked
//! to KOMOJU sub-merchants and followed through their review, and each
//! card payment split between the sellers and the merchant at capture,
//! never captured while a seller is not live. Real HTTP against the
//! simulator, written from the contract.

use ordersync_sim::komoju::CaptureMode;
use ordersync_sim::komoju::platform::ApplicationStatus;
use serde_json::{Value, json};

use crate::helpers::*;

/// Two lines of seller A (2 × 3300), one of seller B (1100), 800 shipping:
/// 8500 yen, tax included.
fn split_order(id: &str, pid: &str) -> Value {
    json!({"channel": "direct", "id": id, "ordered_at": "2026-11-23T10:00:00+09:00",
        "customer": {"name": "山田 太郎", "name_kana": "ﾔﾏﾀﾞ ﾀﾛｳ", "postal_code": "1000001",
                     "address": "東京都千代田区千代田1-1", "phone": "0312345678", "email": "taro@example.jp"},
        "ship_to": null,
        "lines": [{"line_no": 1, "sku": "P-A", "name": "南部鉄器 急須", "qty": 2, "unit_price": 3300, "seller": "A"},
                  {"line_no": 2, "sku": "P-B", "name": "煎茶", "qty": 1, "unit_price": 1100}],
        "shipping_fee": 800, "fee": 0, "payment": {"method": "komoju", "payment_id": pid},
        "allocate": true})
}

const PARCEL: &str =
    r#"{"carrier": "yamato", "tracking_no": "123456789012", "shipped_on": "2026-11-24"}"#;

/// Enters seller `code` through the admin API and waits until KOMOJU
/// created its sub-merchant; its id.
async fn add_seller(app: &TestApp, code: &str, body: Value) -> String {
    let (status, s) = app.post("/api/v1/sellers", body).await;
    assert_eq!(status, 201, "{s}");
    let s = wait_seller(app, code, |s| s["submerchant_id"].is_string()).await;
    s["submerchant_id"].as_str().unwrap().to_string()
}

async fn wait_seller(app: &TestApp, code: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let path = format!("/api/v1/sellers/{code}");
    eventually(std::time::Duration::from_millis(10), || {
        let path = path.clone();
        let pred = &pred;
        async move {
            match app.get(&path).await {
                (200, s) if pred(&s) => Ok(s),
                (_, s) => Err(format!("seller {code} never matched; last: {s}")),
            }
        }
    })
    .await
}

/// Sellers A (10%) and B (5%, at least 100 yen a line), both accepted by KOMOJU.
async fn live_sellers(app: &TestApp) -> (String, String) {
    let a = add_seller(
        app,
        "A",
        json!({"code": "A", "name": "岩手鋳造所", "fee_bps": 1000}),
    )
    .await;
    let b = add_seller(
        app,
        "B",
        json!({"code": "B", "name": "静岡茶園", "fee_bps": 500, "fee_min_per_line": 100}),
    )
    .await;
    for (code, id) in [("A", &a), ("B", &b)] {
        assert!(app.komoju().force_review(id, ApplicationStatus::Accepted));
        wait_seller(app, code, |s| s["payouts_enabled"] == true).await;
    }
    (a, b)
}

/// A card order of both sellers, authorized: its payment id.
async fn authorized_order(app: &TestApp, id: &str) -> String {
    app.set_stock("P-A", 5).await;
    app.set_stock("P-B", 5).await;
    let pid = app
        .komoju()
        .create_payment(7728, 772, Some(id), "credit_card", CaptureMode::Manual);
    let (status, body) = app.post("/api/v1/orders", split_order(id, &pid)).await;
    assert_eq!(status, 201, "{body}");
    assert!(app.komoju().authorize(&pid));
    app.wait_direct(id, |o| o["payment_state"] == "authorized")
        .await;
    pid
}

#[tokio::test]
async fn a_seller_is_created_at_komoju_and_followed_through_its_review() {
    let app = spawn_app_with(Options::komoju()).await;
    let id = add_seller(
        &app,
        "A",
        json!({"code": "A", "name": "岩手鋳造所", "fee_bps": 1000}),
    )
    .await;
    let at_komoju = app.komoju().seller(&id).expect("created at KOMOJU");
    assert_eq!(at_komoju.name, "岩手鋳造所");
    assert_eq!(at_komoju.platform_role, "payout");
    let s = wait_seller(&app, "A", |s| s["review_status"] == "not_applied").await;
    assert_eq!(s["payouts_enabled"], false, "{s}");

    // KOMOJU's review: its webhook makes the daemon re-read the seller.
    assert!(app.komoju().force_review(&id, ApplicationStatus::Accepted));
    let s = wait_seller(&app, "A", |s| s["payouts_enabled"] == true).await;
    assert_eq!(s["review_status"], "accepted", "{s}");

    // The same code again, a bad fee: refused.
    let (status, e) = app
        .post(
            "/api/v1/sellers",
            json!({"code": "A", "name": "x", "fee_bps": 10}),
        )
        .await;
    assert_eq!(status, 409, "{e}");
    let (status, e) = app
        .post(
            "/api/v1/sellers",
            json!({"code": "C", "name": "x", "fee_bps": 10001}),
        )
        .await;
    assert_eq!(status, 400, "{e}");
    assert_eq!(e["error"]["field"], "fee_bps");
    let (status, _) = app.get("/api/v1/sellers/NOPE").await;
    assert_eq!(status, 404);

    // An existing sub-merchant entered by the CLI is read, not created.
    let existing = app.komoju().accepted_seller("静岡茶園").unwrap();
    let out = app.cli(&[
        "sellers",
        "add",
        "B",
        "静岡茶園",
        "--fee-bps",
        "500",
        "--submerchant-id",
        &existing,
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("出品者 B (静岡茶園) を登録しました"));
    wait_seller(&app, "B", |s| s["payouts_enabled"] == true).await;
    let out = app.cli(&["sellers", "list"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("出品者コード"), "{text}");
    assert!(text.contains("審査完了 (分配可)"), "{text}");
    assert!(text.contains("5.00%"), "{text}");
    let out = app.cli(&["sellers", "show", "A"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("KOMOJU 出品者ID: {id}")), "{text}");
    let (_, all) = app.get("/api/v1/sellers").await;
    assert_eq!(all["sellers"].as_array().unwrap().len(), 2, "{all}");

    // The console's 出品者 page, linked from every page's menu.
    let mut b = crate::console::Browser::new(&app);
    b.post("/console/login", &[("token", ADMIN_TOKEN)]).await;
    let (status, page, _) = b.get("/console/sellers").await;
    assert_eq!(status, 200);
    assert!(page.contains("href=\"/console/sellers\""), "{page}");
    assert!(
        page.contains("岩手鋳造所") && page.contains("静岡茶園"),
        "{page}"
    );
    assert!(
        page.contains("審査完了(分配可)") && page.contains("10.00%"),
        "{page}"
    );
}

// Multi-threaded: the simulator answers `sellers reconcile` while the
// test waits for the command.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_payment_is_captured_at_shipment_with_each_sellers_split() {
    let app = spawn_app_with(Options::komoju()).await;
    let (a, b) = live_sellers(&app).await;
    // Line 2's seller comes from the product master.
    let (status, e) = app
        .post(
            "/api/v1/catalog/import",
            json!([{"sku": "P-B", "item_name": "煎茶", "price": 1100, "seller": "B"}]),
        )
        .await;
    assert_eq!(status, 200, "{e}");
    let pid = authorized_order(&app, "SHOP-S1").await;
    let (status, o) = app
        .post(
            "/api/v1/orders/direct/SHOP-S1/shipment",
            serde_json::from_str(PARCEL).unwrap(),
        )
        .await;
    assert_eq!(status, 202, "{o}");
    let o = app
        .wait_direct("SHOP-S1", |o| o["payment_state"] == "captured")
        .await;
    assert!(o["attention"].is_null(), "{o}");

    let p = app.komoju().payment(&pid).unwrap();
    let entries = entries_of(p.platform_details.as_ref());
    // A: 6600, fee 660; B: 1100, fee 100 (its minimum); the merchant's
    // shipping 800 rides on A's entry, so the amounts add up to the total.
    assert_eq!(
        entries,
        vec![(a.clone(), 7400, 1460), (b.clone(), 1100, 100)]
    );
    assert_eq!(app.komoju().balance(&a), 5940);
    assert_eq!(app.komoju().balance(&b), 1000);
    assert!(app.komoju().conservation().holds());
    let feed = app.wait_event("payment.split", false).await;
    let split = feed["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "payment.split")
        .unwrap();
    assert_eq!(split["order_id"], "SHOP-S1");
    assert_eq!(split["detail"]["sellers"][0]["share"], 6600, "{split}");

    // Each seller's statement, as CSV in Shift_JIS with CRLF, and as a page;
    // it agrees with KOMOJU's ledger to the yen.
    let day = today();
    let csv = app._dir.path().join("a.csv");
    let out = app.cli(&[
        "sellers",
        "statement",
        "A",
        "--from",
        &day,
        "--to",
        &day,
        "--format",
        "csv",
        "--output",
        csv.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    let bytes = std::fs::read(&csv).unwrap();
    let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(&bytes);
    assert!(!bad);
    assert!(
        text.starts_with("日時,区分,受注番号,決済ID,金額,手数料,摘要\r\n"),
        "{text}"
    );
    assert!(text.contains(",売上,SHOP-S1,"), "{text}");
    assert!(text.contains(",差引支払額,,,5940,,\r\n"), "{text}");
    let out = app.cli(&["sellers", "statement", "B", "--from", &day, "--to", &day]);
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(
        page.contains("精算書") && page.contains("静岡茶園") && page.contains("¥1,000"),
        "{page}"
    );
    for seller in ["A", "B"] {
        let out = app.cli(&["sellers", "reconcile", seller, "--from", &day, "--to", &day]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text} {out:?}");
        assert!(text.contains("一致しています"), "{text}");
    }
}

/// A split as KOMOJU recorded it: `(seller id, amount, platform_fee)`.
fn entries_of(
    split: Option<&ordersync_sim::komoju::platform::PlatformDetails>,
) -> Vec<(String, i64, i64)> {
    let split = split.expect("recorded with its split");
    (split.submerchants.iter())
        .map(|e| (e.submerchant_id.clone(), e.amount, e.platform_fee))
        .collect()
}

/// Today in Japan, `YYYY-MM-DD`.
fn today() -> String {
    let jst = chrono::FixedOffset::east_opt(9 * 3600).unwrap();
    chrono::Utc::now()
        .with_timezone(&jst)
        .format("%Y-%m-%d")
        .to_string()
}

#[tokio::test]
async fn an_order_with_a_seller_not_live_is_held_then_captured_with_its_split() {
    let app = spawn_app_with(Options::komoju()).await;
    let (a, _) = live_sellers(&app).await;
    let c = add_seller(
        &app,
        "C",
        json!({"code": "C", "name": "信州木工", "fee_bps": 1500}),
    )
    .await;
    app.set_stock("P-C", 5).await;
    let pid = app.komoju().create_payment(
        7728,
        772,
        Some("SHOP-S2"),
        "credit_card",
        CaptureMode::Manual,
    );
    let mut body = split_order("SHOP-S2", &pid);
    body["lines"][1] =
        json!({"line_no": 2, "sku": "P-C", "qty": 1, "unit_price": 1100, "seller": "C"});
    app.set_stock("P-A", 5).await;
    let (status, o) = app.post("/api/v1/orders", body).await;
    assert_eq!(status, 201, "{o}");
    assert!(app.komoju().authorize(&pid));
    app.wait_direct("SHOP-S2", |o| o["payment_state"] == "authorized")
        .await;
    let (status, o) = app
        .post(
            "/api/v1/orders/direct/SHOP-S2/shipment",
            serde_json::from_str(PARCEL).unwrap(),
        )
        .await;
    assert_eq!(status, 202, "{o}");
    let o = app
        .wait_direct("SHOP-S2", |o| o["attention"].is_string())
        .await;
    let reason = o["attention"].as_str().unwrap();
    assert!(
        reason.contains("出品者 C の KOMOJU 審査が完了していない"),
        "{reason}"
    );
    assert_eq!(o["payment_state"], "authorized");
    let p = app.komoju().payment(&pid).unwrap();
    assert_eq!(
        p.status.as_str(),
        "authorized",
        "never captured without its split"
    );

    // KOMOJU accepts C: the held capture goes out, split.
    assert!(app.komoju().force_review(&c, ApplicationStatus::Accepted));
    let o = app
        .wait_direct("SHOP-S2", |o| o["payment_state"] == "captured")
        .await;
    assert!(o["attention"].is_null(), "{o}");
    let p = app.komoju().payment(&pid).unwrap();
    let ids: Vec<&str> = p
        .platform_details
        .as_ref()
        .unwrap()
        .submerchants
        .iter()
        .map(|e| e.submerchant_id.as_str())
        .collect();
    assert_eq!(ids, vec![a.as_str(), c.as_str()]);
    assert_eq!(app.komoju().balance(&c), 1100 - 165);
}

/// The checkout's split of a payment: `a` 6600 − 660, `b` 1100 − 100,
/// the merchant's 800 carried on `a`'s entry.
fn checkout_split(a: &str, b: &str, a_net: i64) -> Value {
    json!({"submerchants": [
        {"submerchant_id": a, "amount": 7400, "platform_fee": 7400 - a_net},
        {"submerchant_id": b, "amount": 1100, "platform_fee": 100}]})
}

/// An order both sellers sell, paid by `kind` with the checkout's split.
async fn checkout_order(app: &TestApp, id: &str, kind: &str, split: &Value) -> String {
    app.set_stock("P-A", 5).await;
    app.set_stock("P-B", 5).await;
    let mode = if kind == "credit_card" {
        CaptureMode::Auto
    } else {
        CaptureMode::Manual
    };
    let p = app
        .komoju()
        .create_split_payment(7728, 772, 0, Some(id), kind, mode, split)
        .unwrap();
    let mut body = split_order(id, &p.id);
    body["lines"][1]["seller"] = json!("B");
    let (status, o) = app.post("/api/v1/orders", body).await;
    assert_eq!(status, 201, "{o}");
    if kind == "credit_card" {
        assert!(app.komoju().authorize(&p.id));
    }
    p.id
}

// Multi-threaded: the simulator answers `sellers reconcile` while the
// test waits for the command.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_split_is_booked_checked_and_given_back_on_cancel() {
    let app = spawn_app_with(Options::komoju()).await;
    let (a, b) = live_sellers(&app).await;
    // A konbini payment whose split the checkout got wrong for A.
    let pid = checkout_order(&app, "SHOP-S4", "konbini", &checkout_split(&a, &b, 5000)).await;
    assert!(app.komoju().capture_by_customer(&pid));
    let o = app
        .wait_direct("SHOP-S4", |o| o["attention"].is_string())
        .await;
    let reason = o["attention"].as_str().unwrap();
    assert!(
        reason.contains("出品者 A 計算 5940円 / KOMOJU 5000円"),
        "{reason}"
    );
    // The books follow what KOMOJU did; a transfer with its reason
    // corrects it, recorded in the seller's statement.
    let out = app.cli(&[
        "sellers",
        "transfer",
        "A",
        "--amount",
        "940",
        "--reason",
        "SHOP-S4 の分配の訂正",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text} {out:?}");
    assert!(text.contains("出品者 A へ 940円を振替します"), "{text}");
    eventually(std::time::Duration::from_millis(10), || async {
        match app.komoju().balance(&a) {
            5940 => Ok(()),
            other => Err(format!("balance {other}")),
        }
    })
    .await;
    let day = today();
    let statement = |code: &str| {
        let out = app.cli(&[
            "sellers",
            "statement",
            code,
            "--from",
            &day,
            "--to",
            &day,
            "--format",
            "csv",
        ]);
        let (text, _, _) = encoding_rs::SHIFT_JIS.decode(&out.stdout);
        text.into_owned()
    };
    let reconcile = |code: &str| {
        let out = app.cli(&["sellers", "reconcile", code, "--from", &day, "--to", &day]);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    eventually(std::time::Duration::from_millis(20), || async {
        let text = statement("A");
        if text.contains(",振替,,,940,0,SHOP-S4 の分配の訂正\r\n") {
            Ok(())
        } else {
            Err(text)
        }
    })
    .await;
    assert!(statement("A").contains(",差引支払額,,,5940,,"));
    let (code, text) = reconcile("A");
    assert_eq!(code, Some(0), "{text}");
    // Money KOMOJU booked for B that ordersync never saw: reconcile shows it.
    let stray = app
        .komoju()
        .create_split_payment(
            1000,
            100,
            0,
            Some("ELSEWHERE-1"),
            "credit_card",
            CaptureMode::Auto,
            &json!({"submerchants": [{"submerchant_id": b, "amount": 1100, "platform_fee": 0}]}),
        )
        .unwrap();
    assert!(app.komoju().authorize(&stray.id));
    let (code, text) = reconcile("B");
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("差額: 1100円"), "{text}");

    // A card the checkout captured with the right split: booked, no attention.
    let pid = checkout_order(
        &app,
        "SHOP-S3",
        "credit_card",
        &checkout_split(&a, &b, 5940),
    )
    .await;
    let o = app
        .wait_direct("SHOP-S3", |o| o["payment_state"] == "captured")
        .await;
    assert!(o["attention"].is_null(), "{o}");
    // Cancelled before shipment: the refund takes each seller's share back
    // and returns its fee.
    let (status, o) = app
        .post(
            "/api/v1/orders/direct/SHOP-S3/cancel",
            json!({"reason": "取消"}),
        )
        .await;
    assert_eq!(status, 202, "{o}");
    app.wait_direct("SHOP-S3", |o| o["payment_state"] == "refunded")
        .await;
    let p = app.komoju().payment(&pid).unwrap();
    assert_eq!(p.refunds.len(), 1);
    let entries = entries_of(p.refunds[0].platform_details.as_ref());
    assert_eq!(
        entries,
        vec![(a.clone(), 7400, 1460), (b.clone(), 1100, 100)]
    );
    // The konbini payment (corrected to 5940 for A) and the stray 1100 for
    // B are left in the sellers' balances.
    assert_eq!(app.komoju().balance(&a), 5940);
    assert_eq!(app.komoju().balance(&b), 1000 + 1100);
    assert!(app.komoju().conservation().holds());
}

/// The daemon as a child process, to be killed.
struct Child {
    http: reqwest::Client,
    admin: String,
}

impl Child {
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = (self.http.post(format!("http://{}{path}", self.admin)))
            .bearer_auth(ADMIN_TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn put(&self, path: &str, body: Value) -> u16 {
        let r = (self.http.put(format!("http://{}{path}", self.admin)))
            .bearer_auth(ADMIN_TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        r.status().as_u16()
    }

    async fn wait(&self, path: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let pred = &pred;
        eventually(std::time::Duration::from_millis(20), || async move {
            let r = (self.http.get(format!("http://{}{path}", self.admin)))
                .bearer_auth(ADMIN_TOKEN)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let v: Value = r.json().await.map_err(|e| e.to_string())?;
            if pred(&v) { Ok(v) } else { Err(v.to_string()) }
        })
        .await
    }
}

#[tokio::test]
async fn sigkill_between_komojus_answer_and_its_record_neither_loses_nor_doubles_a_split() {
    use ordersync::sim::komoju::KomojuSimSettings as _;
    use ordersync_sim::komoju::{Endpoint, Fault, KomojuSimConfig};
    use std::time::Duration;
    use tokio::net::TcpListener;

    let dir = tempfile::tempdir().unwrap();
    let jgoods = ordersync_sim::jgoods::start(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        ordersync_sim::jgoods::JgoodsSimConfig::default(),
    )
    .await
    .unwrap();
    let komoju = ordersync_sim::komoju::start(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        KomojuSimConfig::default(),
    )
    .await
    .unwrap();
    let (config, listen, admin) = child_config(
        dir.path(),
        &jgoods,
        &Options::default(),
        &komoju.config_section(),
    )
    .await;
    komoju.set_webhook_url(format!("http://{listen}/webhooks/komoju"));
    let mut daemon = start_daemon_logging(&config, &admin, "debug").await;
    let d = Child {
        http: reqwest::Client::new(),
        admin: admin.clone(),
    };
    let (status, s) = d
        .post(
            "/api/v1/sellers",
            json!({"code": "A", "name": "岩手鋳造所", "fee_bps": 1000}),
        )
        .await;
    assert_eq!(status, 201, "{s}");
    let s = d
        .wait("/api/v1/sellers/A", |s| s["submerchant_id"].is_string())
        .await;
    let a = s["submerchant_id"].as_str().unwrap().to_string();
    assert!(komoju.force_review(&a, ApplicationStatus::Accepted));
    d.wait("/api/v1/sellers/A", |s| s["payouts_enabled"] == true)
        .await;
    assert_eq!(d.put("/api/v1/stock/P-A", json!({"on_hand": 5})).await, 200);
    assert_eq!(d.put("/api/v1/stock/P-B", json!({"on_hand": 5})).await, 200);
    let pid = komoju.create_payment(
        7728,
        772,
        Some("SHOP-K1"),
        "credit_card",
        CaptureMode::Manual,
    );
    let (status, o) = d.post("/api/v1/orders", split_order("SHOP-K1", &pid)).await;
    assert_eq!(status, 201, "{o}");
    assert!(komoju.authorize(&pid));
    let order = "/api/v1/orders/direct/SHOP-K1";
    d.wait(order, |o| o["payment_state"] == "authorized").await;
    let ledger = |kind: &str| -> i64 {
        let db =
            rusqlite::Connection::open(dir.path().join("data").join("ordersync.sqlite")).unwrap();
        db.query_row(
            "SELECT COUNT(*) FROM seller_ledger WHERE kind = ?1",
            [kind],
            |r| r.get(0),
        )
        .unwrap()
    };

    // KOMOJU captures with the split; its answer never arrives, nor (for
    // now) its webhook; killed.
    komoju.set_webhook_url("http://127.0.0.1:9/webhooks/komoju".to_string());
    komoju.inject(
        Endpoint::Capture,
        Fault::LoseAnswer(Duration::from_secs(120)),
        1,
    );
    let (status, o) = d
        .post(
            &format!("{order}/shipment"),
            serde_json::from_str(PARCEL).unwrap(),
        )
        .await;
    assert_eq!(status, 202, "{o}");
    eventually(Duration::from_millis(5), || async {
        match komoju.stats().payment(&pid).captures {
            0 => Err("not captured yet".to_string()),
            _ => Ok(()),
        }
    })
    .await;
    daemon.start_kill().unwrap();
    daemon.wait().await.unwrap();
    assert_eq!(ledger("sale"), 0, "killed before the record");
    let mut daemon = start_daemon_logging(&config, &admin, "debug").await;
    komoju.set_webhook_url(format!("http://{listen}/webhooks/komoju"));
    d.wait(order, |o| o["payment_state"] == "captured").await;
    eventually(Duration::from_millis(20), || async {
        if ledger("sale") == 1 {
            Ok(())
        } else {
            Err("sale not booked".to_string())
        }
    })
    .await;
    assert_eq!(komoju.stats().payment(&pid).captures, 1, "captured once");
    assert_eq!(komoju.balance(&a), 5940);

    // The same for the refund of an order the checkout captured with its
    // split, cancelled before shipment.
    let split = json!({"submerchants": [
        {"submerchant_id": a, "amount": 8500, "platform_fee": 8500 - 7700 + 770}]});
    let pid = komoju
        .create_split_payment(
            7728,
            772,
            0,
            Some("SHOP-K2"),
            "credit_card",
            CaptureMode::Auto,
            &split,
        )
        .unwrap()
        .id;
    let mut body = split_order("SHOP-K2", &pid);
    body["lines"][1]["seller"] = json!("A");
    let (status, o) = d.post("/api/v1/orders", body).await;
    assert_eq!(status, 201, "{o}");
    assert!(komoju.authorize(&pid));
    let order = "/api/v1/orders/direct/SHOP-K2";
    d.wait(order, |o| o["payment_state"] == "captured").await;
    eventually(Duration::from_millis(20), || async {
        if ledger("sale") == 2 {
            Ok(())
        } else {
            Err("sale not booked".to_string())
        }
    })
    .await;
    assert_eq!(komoju.balance(&a), 5940 + 6930);
    komoju.inject(
        Endpoint::Refund,
        Fault::LoseAnswer(Duration::from_secs(120)),
        1,
    );
    let (status, o) = d
        .post(&format!("{order}/cancel"), json!({"reason": "取消"}))
        .await;
    assert_eq!(status, 202, "{o}");
    eventually(Duration::from_millis(5), || async {
        match komoju.stats().payment(&pid).refunds {
            0 => Err("not refunded yet".to_string()),
            _ => Ok(()),
        }
    })
    .await;
    daemon.start_kill().unwrap();
    daemon.wait().await.unwrap();
    assert_eq!(ledger("refund"), 0, "killed before the record");
    let _daemon = start_daemon_logging(&config, &admin, "debug").await;
    d.wait(order, |o| o["payment_state"] == "refunded").await;
    eventually(Duration::from_millis(20), || async {
        if ledger("refund") == 1 {
            Ok(())
        } else {
            Err("refund not booked".to_string())
        }
    })
    .await;
    assert_eq!(komoju.stats().payment(&pid).refunds, 1, "refunded once");
    assert_eq!(komoju.balance(&a), 5940, "the shipped order's share alone");
    assert!(komoju.conservation().holds());
}
