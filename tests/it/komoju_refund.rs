//! Paid konbini, bank-transfer and Pay-easy orders cancelled: the money goes
//! back by a KOMOJU refund request to the customer's bank account, entered
//! with the cancel (admin API, CLI) or later, filed through the outbox,
//! followed to completed or rejected; the account kept only while the
//! request is open, and never in logs or events.

use std::time::Duration;

use ordersync_sim::jgoods::{self as jgoods_sim, JgoodsSimConfig};
use ordersync_sim::komoju::{
    self as komoju_sim, CaptureMode, Endpoint, Fault, KomojuSimConfig, KomojuSimHandle,
    MisPaidTransfer,
};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::helpers::*;
use ordersync::sim::komoju::KomojuSimSettings as _;

/// The account as an ERP sends it: full-width katakana, a short branch number.
fn account() -> Value {
    json!({"customer_name": "ヤマダ タロウ", "bank_name": "みずほ銀行", "bank_code": "0001",
           "branch_number": "12", "account_type": "normal", "account_number": "7654321"})
}

/// What of the account must never show outside its table.
const SECRETS: [&str; 3] = ["7654321", "ﾔﾏﾀﾞ", "ヤマダ"];

fn order_body(id: &str, pid: &str) -> Value {
    json!({"channel": "direct", "id": id, "ordered_at": "2026-11-23T10:00:00+09:00",
        "customer": {"name": "山田 太郎", "name_kana": "ﾔﾏﾀﾞ ﾀﾛｳ", "postal_code": "1000001",
                     "address": "東京都千代田区千代田1-1", "phone": "0312345678", "email": "taro@example.jp"},
        "ship_to": null,
        "lines": [{"line_no": 1, "sku": "K-A", "name": "急須", "qty": 2, "unit_price": 5500}],
        "shipping_fee": 800, "fee": 0, "payment": {"method": "komoju", "payment_id": pid},
        "allocate": true})
}

/// A konbini order the customer has paid.
async fn paid_cash_order(app: &TestApp, id: &str, kind: &str) -> String {
    app.set_stock("K-A", 2).await;
    let pid = app
        .komoju()
        .create_payment(11800, 1080, Some(id), kind, CaptureMode::Auto);
    let (status, body) = app.post("/api/v1/orders", order_body(id, &pid)).await;
    assert_eq!(status, 201, "{body}");
    assert!(app.komoju().capture_by_customer(&pid));
    app.wait_direct(id, |o| o["payment_state"] == "captured")
        .await;
    pid
}

async fn cancel(app: &TestApp, id: &str, body: Value) -> (u16, Value) {
    app.post(&format!("/api/v1/orders/direct/{id}/cancel"), body)
        .await
}

async fn wait_request(app: &TestApp, id: &str, state: &str) -> Value {
    app.wait_direct(id, |o| o["refund_request"]["state"] == state)
        .await
}

/// Bank accounts on file in the daemon's store.
fn accounts_on_file(dir: &std::path::Path) -> i64 {
    let db = rusqlite::Connection::open(dir.join("ordersync.sqlite")).unwrap();
    db.query_row("SELECT COUNT(*) FROM komoju_refund_accounts", [], |r| {
        r.get(0)
    })
    .unwrap()
}

fn assert_no_secrets(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{s:?} leaked into {what}: {text}");
    }
}

#[tokio::test]
async fn an_account_given_with_the_cancel_is_filed_and_deleted_once_completed() {
    let app = spawn_app_with(Options::komoju()).await;
    let pid = paid_cash_order(&app, "SHOP-RQ1", "konbini").await;
    let (status, o) = cancel(
        &app,
        "SHOP-RQ1",
        json!({"reason": "返品", "refund_account": account()}),
    )
    .await;
    assert_eq!(status, 202, "{o}");
    let o = wait_request(&app, "SHOP-RQ1", "pending").await;
    assert!(o["attention"].is_null(), "{o}");
    assert!(
        o["refund_request"]["message"]
            .as_str()
            .unwrap()
            .starts_with("KOMOJU に返金申請済み"),
        "{o}"
    );
    let p = app.komoju().payment(&pid).unwrap();
    assert_eq!(p.refund_requests.len(), 1);
    let r = &p.refund_requests[0];
    // Converted and padded as KOMOJU wants them; the amount without the customer's fee.
    assert_eq!(
        (
            r.customer_name.as_str(),
            r.branch_number.as_str(),
            r.account_number.as_str()
        ),
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "012", "7654321")
    );
    assert_eq!(r.amount, p.total - p.payment_method_fee);
    assert_eq!(
        accounts_on_file(app._dir.path()),
        1,
        "kept while the request is open"
    );

    assert!(app.komoju().complete_refund_request(&pid).is_some());
    let o = wait_request(&app, "SHOP-RQ1", "completed").await;
    app.wait_direct("SHOP-RQ1", |o| o["payment_state"] == "refunded")
        .await;
    assert_eq!(o["state"], "cancelled");
    assert_eq!(
        accounts_on_file(app._dir.path()),
        0,
        "deleted with the completion"
    );
    assert_eq!(app.komoju().stats().payment(&pid).refund_requests, 1);
    assert_eq!(
        app.komoju().stats().payment(&pid).refunds,
        0,
        "never /refund"
    );
    let (_, events) = app.get("/api/v1/events?limit=1000").await;
    assert_no_secrets("the events", &events.to_string());
    let (_, outbox) = app.get("/api/v1/outbox").await;
    assert_no_secrets("the outbox", &outbox.to_string());
    let db = rusqlite::Connection::open(app._dir.path().join("ordersync.sqlite")).unwrap();
    let kept: String = db
        .query_row(
            "SELECT group_concat(CAST(body AS TEXT), ' ') FROM inbox",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(kept.contains("refund_request.updated"), "{kept}");
    assert_no_secrets("the webhooks kept", &kept);
    app.stop().await;
}

#[tokio::test]
async fn without_an_account_the_order_waits_and_the_api_files_it_later() {
    let app = spawn_app_with(Options::komoju()).await;
    let pid = paid_cash_order(&app, "SHOP-RQ2", "bank_transfer").await;
    let (status, _) = cancel(&app, "SHOP-RQ2", json!({"reason": "在庫切れ"})).await;
    assert_eq!(status, 202);
    let o = wait_request(&app, "SHOP-RQ2", "needs_account").await;
    let attention = o["attention"].as_str().unwrap();
    assert!(
        attention.starts_with("KOMOJU の返金にはお客様の銀行口座が必要です"),
        "{o}"
    );
    assert!(attention.contains("口座番号 7 桁"), "{o}");

    // Checked at the edge, the field named.
    for (field, bad) in [
        ("account_number", json!("12345678")),
        ("branch_number", json!("1a")),
        ("customer_name", json!("山田太郎")),
        ("account_type", json!("savings")),
    ] {
        let mut a = account();
        a[field] = bad;
        let (status, e) = cancel(&app, "SHOP-RQ2", json!({"refund_account": a})).await;
        assert_eq!(status, 400, "{e}");
        assert_eq!(
            e["error"]["field"],
            format!("refund_account.{field}"),
            "{e}"
        );
        assert!(
            !e["error"]["message"].as_str().unwrap().is_ascii(),
            "Japanese first: {e}"
        );
    }
    let mut missing = account();
    missing.as_object_mut().unwrap().remove("bank_name");
    let (status, e) = cancel(&app, "SHOP-RQ2", json!({"refund_account": missing})).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (400, Some("refund_account.bank_name"))
    );
    assert_eq!(accounts_on_file(app._dir.path()), 0);

    let (status, o) = cancel(&app, "SHOP-RQ2", json!({"refund_account": account()})).await;
    assert_eq!(status, 202, "{o}");
    let o = wait_request(&app, "SHOP-RQ2", "pending").await;
    assert!(o["attention"].is_null(), "{o}");
    assert_eq!(app.komoju().stats().payment(&pid).refund_requests, 1);
    // A second account while KOMOJU has the request is refused.
    let (status, e) = cancel(&app, "SHOP-RQ2", json!({"refund_account": account()})).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("refund_account_not_taken"))
    );
    app.stop().await;
}

#[tokio::test]
async fn a_rejected_request_is_shown_and_the_account_entered_again() {
    let app = spawn_app_with(Options::komoju()).await;
    let pid = paid_cash_order(&app, "SHOP-RQ3", "pay_easy").await;
    let (status, _) = cancel(&app, "SHOP-RQ3", json!({"refund_account": account()})).await;
    assert_eq!(status, 202);
    wait_request(&app, "SHOP-RQ3", "pending").await;
    assert!(app.komoju().reject_refund_request(&pid).is_some());
    let o = wait_request(&app, "SHOP-RQ3", "rejected").await;
    let attention = o["attention"].as_str().unwrap();
    assert!(
        attention.starts_with("KOMOJU が返金申請を却下しました(口座情報の誤りなど)"),
        "{o}"
    );
    assert!(
        o["refund_request"]["message"]
            .as_str()
            .unwrap()
            .starts_with("返金申請が却下されました")
    );
    assert_eq!(
        accounts_on_file(app._dir.path()),
        0,
        "deleted with the rejection"
    );

    let mut fixed = account();
    fixed["account_number"] = json!("7654320");
    let (status, o) = cancel(&app, "SHOP-RQ3", json!({"refund_account": fixed})).await;
    assert_eq!(status, 202, "{o}");
    wait_request(&app, "SHOP-RQ3", "pending").await;
    assert_eq!(app.komoju().stats().payment(&pid).refund_requests, 2);
    assert!(app.komoju().complete_refund_request(&pid).is_some());
    let o = wait_request(&app, "SHOP-RQ3", "completed").await;
    assert!(o["attention"].is_null(), "{o}");
    assert_eq!(accounts_on_file(app._dir.path()), 0);
    app.stop().await;
}

/// `orders cancel` of SHOP-RQ4 with a bank account numbered `number`.
fn cancel_with_bank(number: &str) -> Vec<&str> {
    let mut args = vec![
        "orders",
        "cancel",
        "direct",
        "SHOP-RQ4",
        "--bank-customer-name",
    ];
    args.extend([
        "ﾔﾏﾀﾞ ﾀﾛｳ",
        "--bank-name",
        "みずほ銀行",
        "--bank-branch-number",
        "012",
    ]);
    args.extend(["--bank-account-number", number]);
    args
}

/// The CLI takes the account with `--bank-…` and names a bad option.
#[tokio::test]
async fn the_cli_takes_the_account_and_checks_it() {
    let app = spawn_app_with(Options::komoju()).await;
    let pid = paid_cash_order(&app, "SHOP-RQ4", "konbini").await;
    let out = app.cli(&cancel_with_bank("123456789"));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--bank-account-number") && err.contains("口座番号"),
        "{err}"
    );
    let out = app.cli(&["orders", "cancel", "direct", "SHOP-RQ4"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    app.daemon().poll_now();
    wait_request(&app, "SHOP-RQ4", "needs_account").await;
    let out = app.cli(&cancel_with_bank("7654321"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("返金申請"), "{said}");
    eventually(Duration::from_millis(20), || async {
        match app.komoju().stats().payment(&pid).refund_requests {
            1 => Ok(()),
            n => Err(format!("{n} refund requests")),
        }
    })
    .await;
    wait_request(&app, "SHOP-RQ4", "pending").await;
    app.stop().await;
}

/// A bank transfer of the wrong amount booked as captured: the cancel KOMOJU
/// refuses turns into a refund request of what arrived, not a dead call.
#[tokio::test]
async fn cancelling_a_mispaid_transfer_requests_back_what_arrived() {
    let app = spawn_app_with(Options::komoju()).await;
    app.set_stock("K-A", 2).await;
    app.komoju()
        .set_mispaid_transfer(MisPaidTransfer::PartialCapture);
    let pid = app.komoju().create_payment(
        11800,
        1080,
        Some("SHOP-RQ5"),
        "bank_transfer",
        CaptureMode::Auto,
    );
    let (status, _) = app
        .post("/api/v1/orders", order_body("SHOP-RQ5", &pid))
        .await;
    assert_eq!(status, 201);
    assert!(app.komoju().pay_wrong_amount(&pid, 10000));
    app.wait_direct("SHOP-RQ5", |o| {
        o["attention"]
            .as_str()
            .is_some_and(|a| a.contains("一致しません"))
    })
    .await;
    let (status, _) = cancel(&app, "SHOP-RQ5", json!({"refund_account": account()})).await;
    assert_eq!(status, 202);
    let o = wait_request(&app, "SHOP-RQ5", "pending").await;
    assert_eq!(o["state"], "cancelled");
    let p = app.komoju().payment(&pid).unwrap();
    assert_eq!(p.refund_requests.len(), 1);
    assert_eq!(
        p.refund_requests[0].amount, 10000,
        "what arrived, not what was asked"
    );
    let (_, calls) = app.get("/api/v1/outbox?state=dead").await;
    assert_eq!(calls["outbox"].as_array().map(Vec::len), Some(0), "{calls}");
    app.stop().await;
}

/// The daemon is killed after KOMOJU took the request and before the
/// daemon recorded it: after the restart the request is recorded once,
/// never filed twice; the account never reaches the daemon's log.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_after_komoju_took_the_request_neither_loses_nor_doubles_it() {
    let dir = tempfile::tempdir().unwrap();
    let jgoods = jgoods_sim::start(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        JgoodsSimConfig::default(),
    )
    .await
    .unwrap();
    let komoju: KomojuSimHandle = komoju_sim::start(
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
    jgoods.set_webhook_url(format!("http://{listen}/webhooks/jgoods"));
    komoju.set_webhook_url(format!("http://{listen}/webhooks/komoju"));
    let mut daemon = start_daemon_logging(&config, &admin, "debug").await;
    let http = reqwest::Client::new();
    let api = |path: &str| format!("http://{admin}{path}");
    let send = |path: String, body: Value| {
        let http = http.clone();
        async move {
            let r = http
                .post(path)
                .bearer_auth(ADMIN_TOKEN)
                .json(&body)
                .send()
                .await
                .unwrap();
            r.status().as_u16()
        }
    };
    let r = http
        .put(api("/api/v1/stock/K-A"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"on_hand": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let pid = komoju.create_payment(11800, 1080, Some("SHOP-RQ6"), "konbini", CaptureMode::Auto);
    assert_eq!(
        send(api("/api/v1/orders"), order_body("SHOP-RQ6", &pid)).await,
        201
    );
    assert!(komoju.capture_by_customer(&pid));
    let order = |want: &'static str| {
        let http = http.clone();
        let url = api("/api/v1/orders/direct/SHOP-RQ6");
        async move {
            eventually(Duration::from_millis(20), || {
                let (http, url) = (http.clone(), url.clone());
                async move {
                    let o: Value = http
                        .get(&url)
                        .bearer_auth(ADMIN_TOKEN)
                        .send()
                        .await
                        .map_err(|e| e.to_string())?
                        .json()
                        .await
                        .map_err(|e| e.to_string())?;
                    let now = [&o["payment_state"], &o["refund_request"]["state"]];
                    if now.iter().any(|v| *v == want) {
                        Ok(o)
                    } else {
                        Err(o.to_string())
                    }
                }
            })
            .await
        }
    };
    order("captured").await;
    // KOMOJU processes the request and its answer never arrives.
    komoju.inject(
        Endpoint::RefundRequest,
        Fault::LoseAnswer(Duration::from_secs(120)),
        1,
    );
    let cancel_body = json!({"refund_account": account()});
    assert_eq!(
        send(api("/api/v1/orders/direct/SHOP-RQ6/cancel"), cancel_body).await,
        202
    );
    eventually(Duration::from_millis(5), || async {
        match komoju.stats().payment(&pid).refund_requests {
            0 => Err("not filed yet".to_string()),
            _ => Ok(()),
        }
    })
    .await;
    daemon.start_kill().unwrap();
    daemon.wait().await.unwrap();
    let db = rusqlite::Connection::open(dir.path().join("data").join("ordersync.sqlite")).unwrap();
    let recorded: String = db
        .query_row("SELECT state FROM komoju_refund_requests", [], |r| r.get(0))
        .unwrap_or_default();
    assert_ne!(recorded, "pending", "killed before the record");

    let mut daemon = start_daemon_logging(&config, &admin, "debug").await;
    order("pending").await;
    assert_eq!(
        komoju.stats().payment(&pid).refund_requests,
        1,
        "filed once"
    );
    assert!(komoju.complete_refund_request(&pid).is_some());
    order("completed").await;
    let left: i64 = db
        .query_row("SELECT COUNT(*) FROM komoju_refund_accounts", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(left, 0);
    let events: String = db
        .query_row("SELECT group_concat(detail, ' ') FROM events", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_no_secrets("the events", &events);
    let outbox: String = db
        .query_row(
            "SELECT group_concat(payload || coalesce(last_error, ''), ' ') FROM outbox",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_no_secrets("the outbox", &outbox);
    daemon.start_kill().unwrap();
    daemon.wait().await.unwrap();
    let log = std::fs::read_to_string(dir.path().join("daemon.log")).unwrap();
    assert!(
        log.contains("komoju"),
        "the log was written at debug: {log}"
    );
    assert_no_secrets("the daemon's log", &log);
    komoju.shutdown().await;
    jgoods.shutdown().await;
}

/// The order page shows the request and, only while it waits for the
/// account, the 返金口座 form, which files it; a bad field is refused by name.
#[tokio::test]
async fn the_console_form_files_the_request_when_the_order_waits_for_it() {
    use crate::console::{Browser, form_token};
    use reqwest::StatusCode;
    let app = spawn_app_with(Options::komoju()).await;
    let pid = paid_cash_order(&app, "SHOP-RQ7", "konbini").await;
    let mut b = Browser::new(&app);
    let (status, _, _) = b
        .post(
            "/console/login",
            &[("token", ADMIN_TOKEN), ("next", "/console/orders")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let page_path = "/console/orders/direct/SHOP-RQ7";
    let (_, page, _) = b.get(page_path).await;
    assert!(
        !page.contains("id=\"refund-account\""),
        "no form before: {page}"
    );
    let (status, _) = cancel(&app, "SHOP-RQ7", json!({})).await;
    assert_eq!(status, 202);
    wait_request(&app, "SHOP-RQ7", "needs_account").await;
    let (_, page, _) = b.get(page_path).await;
    assert!(
        page.contains("返金口座の入力待ち") && page.contains("id=\"refund-account\""),
        "{page}"
    );
    let token = form_token(&page);
    let action = "/console/orders/direct/SHOP-RQ7/refund_account";
    let mut form = vec![
        ("form_token", token.as_str()),
        ("customer_name", "ヤマダ タロウ"),
        ("bank_name", "みずほ銀行"),
        ("bank_code", ""),
        ("branch_number", "012"),
        ("account_type", "normal"),
        ("account_number", "76543"),
    ];
    let mut bad = form.clone();
    bad[4] = ("branch_number", "01x");
    let (status, body, _) = b.post(action, &bad).await;
    assert!(status.is_client_error(), "{status} {body}");
    assert!(body.contains("支店番号"), "the field named: {body}");
    form[6] = ("account_number", "7654321");
    let (status, body, _) = b.post(action, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    wait_request(&app, "SHOP-RQ7", "pending").await;
    let r = &app.komoju().payment(&pid).unwrap().refund_requests;
    assert_eq!((r.len(), r[0].account_number.as_str()), (1, "7654321"));
    let (_, page, _) = b.get(page_path).await;
    assert!(
        page.contains("KOMOJU に返金申請済み") && !page.contains("id=\"refund-account\""),
        "{page}"
    );
    app.stop().await;
}
