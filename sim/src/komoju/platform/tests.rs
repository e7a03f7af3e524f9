//! The Platform Model over loopback HTTP, with requests shaped from the
//! contract and webhooks checked by the contract's signature rule; and a
//! property test of the back office that money is conserved.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use super::*;
use crate::komoju::receiver::WebhookReceiver;
use crate::komoju::{CaptureMode, KomojuSimConfig, KomojuSimHandle, start, utc};

mod props;

const WAIT: Duration = Duration::from_secs(10);

/// A simulator at 10:00 JST on Monday 7 December 2026, pushing to a receiver.
async fn sim() -> (KomojuSimHandle, WebhookReceiver, Api) {
    sim_with(PlatformSettings::default()).await
}

async fn sim_with(platform: PlatformSettings) -> (KomojuSimHandle, WebhookReceiver, Api) {
    let cfg = KomojuSimConfig::default();
    let receiver = WebhookReceiver::with_secret(&cfg.webhook_secret)
        .await
        .expect("receiver");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let sim = start(
        listener,
        KomojuSimConfig {
            webhook_url: Some(receiver.url().to_string()),
            start_at: Some(utc("2026-12-07T01:00:00Z")),
            platform,
            ..cfg
        },
    )
    .await
    .expect("simulator");
    let api = Api {
        http: reqwest::Client::new(),
        base: sim.api_base_url(),
        auth: format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{}:", sim.secret_key()))
        ),
    };
    (sim, receiver, api)
}

/// The platform's side: Basic auth, JSON, an idempotency key on every change.
struct Api {
    http: reqwest::Client,
    base: String,
    auth: String,
}

impl Api {
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.keyed(method, path, body, &crate::komoju::state::random_id(20))
            .await
    }

    async fn keyed(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        key: &str,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .header("authorization", &self.auth)
            .header("x-komoju-api-version", "2025-01-28");
        if method != reqwest::Method::GET {
            request = request.header("x-komoju-idempotency", key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = request.send().await.expect("simulator answers");
        let status = answer.status().as_u16();
        let text = answer.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, json) = self.call(method, path, body).await;
        assert_eq!(status, 200, "{method} {path}: {json}");
        json
    }

    /// A 422 with `code` in the error envelope.
    async fn refused(&self, method: &str, path: &str, body: Option<Value>, code: &str) -> Value {
        let (status, json) = self.call(method, path, body).await;
        assert_eq!(status, 422, "{method} {path}: {json}");
        assert_eq!(json["error"]["code"], code, "{json}");
        assert!(json["error"]["message"].is_string(), "{json}");
        json
    }

    async fn seller(&self, name: &str) -> String {
        let m = self
            .ok(
                "POST",
                "/merchants",
                Some(json!({"name": name, "platform_role": "payout"})),
            )
            .await;
        m["id"].as_str().expect("an id").to_string()
    }
}

fn split(entries: &[(&str, i64, i64)]) -> Value {
    json!({"submerchants": entries.iter().map(|(id, amount, fee)| json!({
        "submerchant_id": id, "amount": amount, "platform_fee": fee,
    })).collect::<Vec<_>>()})
}

const BAD_SPLIT: &str = "invalid_platform_details";

#[tokio::test]
async fn sellers_are_created_listed_filtered_shown_and_patched() {
    let (_sim, _rx, api) = sim().await;
    let m = api
        .ok(
            "POST",
            "/merchants",
            Some(json!({"name": "山田商店", "platform_role": "payout"})),
        )
        .await;
    for field in [
        "id",
        "live",
        "created_at",
        "updated_at",
        "account_id",
        "name",
        "platform_role",
        "status",
        "payments_enabled",
        "payouts_enabled",
        "expiry_settings",
        "active_payment_methods",
        "publishable_key",
    ] {
        assert!(m.get(field).is_some(), "{field} missing: {m}");
    }
    assert_eq!(m["status"], "not_applied");
    assert_eq!(m["payouts_enabled"], false);
    assert_eq!(m["live"], false);
    let id = m["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 25);
    let other = api.seller("佐藤工房").await;
    api.refused(
        "POST",
        "/merchants",
        Some(json!({"platform_role": "payout"})),
        "missing_parameter",
    )
    .await;
    api.refused(
        "POST",
        "/merchants",
        Some(json!({"name": "x", "platform_role": "boss"})),
        "invalid_parameter",
    )
    .await;

    let all = api.ok("GET", "/merchants?per_page=1", None).await;
    assert_eq!(
        (all["total"].as_i64(), all["last_page"].as_i64()),
        (Some(2), Some(2))
    );
    assert_eq!(all["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(all["data"][0]["id"], other.as_str(), "newest first");
    let (status, _) = api
        .call("GET", "/merchants?payouts_enabled=maybe", None)
        .await;
    assert_eq!(status, 422);

    // Payouts only once the application is accepted.
    api.refused(
        "PATCH",
        &format!("/merchants/{id}"),
        Some(json!({"payouts_enabled": true})),
        "invalid_status",
    )
    .await;
    api.refused(
        "PATCH",
        &format!("/merchants/{id}"),
        Some(json!({"name": "new"})),
        "invalid_parameter",
    )
    .await;
    let patched = api
        .ok("PATCH", &format!("/merchants/{id}"), Some(json!({
            "send_payment_captured_email": false, "expiry_settings": [{"type": "konbini", "days": 5}]
        })))
        .await;
    assert_eq!(patched["expiry_settings"][0]["days"], 5);
    assert_eq!(
        patched["send_payment_emails"]["send_payment_captured_email"],
        false
    );
    let shown = api.ok("GET", &format!("/merchants/{id}"), None).await;
    assert_eq!(shown["name"], "山田商店");
    let anonymous = reqwest::get(format!("{}/merchants/{id}", api.base))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401, "Basic auth as every call");
    let (status, body) = api
        .call("GET", "/merchants/nosuchmerchant0000000000", None)
        .await;
    assert_eq!((status, &body["error"]["code"]), (404, &json!("not_found")));

    let accepted = api.ok("GET", "/merchants?status=accepted", None).await;
    assert_eq!(accepted["total"], 0);
    let not_applied = api
        .ok(
            "GET",
            "/merchants?status=not_applied&payouts_enabled=false&platform_role=payout&live=false",
            None,
        )
        .await;
    assert_eq!(not_applied["total"], 2);
    let later = api
        .ok("GET", "/merchants?start_time=2026-12-08T00:00:00Z", None)
        .await;
    assert_eq!(later["total"], 0);
}

#[tokio::test]
async fn the_live_application_is_filled_reviewed_and_announced_signed() {
    let (sim, rx, api) = sim().await;
    let id = api.seller("山田商店").await;
    let app = api
        .ok("GET", &format!("/live_application/{id}?locale=ja"), None)
        .await;
    assert_eq!(app["status"], "not_applied");
    assert_eq!(app["merchant_id"], id.as_str());
    let requested: Vec<String> = serde_json::from_value(app["requested_fields"].clone()).unwrap();
    assert!(requested.contains(&"bank_account_information.zengin_bank_code".to_string()));
    // Accepting what was never submitted is refused.
    api.refused(
        "PATCH",
        &format!("/live_application/{id}/simulate_status"),
        Some(json!({"status": "accepted"})),
        "invalid_status",
    )
    .await;
    api.refused(
        "PATCH",
        &format!("/live_application/{id}/simulate_status"),
        Some(json!({"status": "approved"})),
        "invalid_parameter",
    )
    .await;

    let part = api
        .ok(
            "PATCH",
            &format!("/live_application/{id}"),
            Some(json!({
                "company_information.name": "山田商店",
                "bank_account_information.zengin_bank_code": "12",
            })),
        )
        .await;
    assert_eq!(part["status"], "incomplete");
    assert_eq!(
        part["errored_fields"],
        json!(["bank_account_information.zengin_bank_code"])
    );
    let mut rest = serde_json::Map::new();
    for f in &requested {
        let v = match f.as_str() {
            "bank_account_information.zengin_bank_code" => "0001",
            "bank_account_information.zengin_branch_code" => "001",
            "bank_account_information.zengin_account_number" => "1234567",
            _ => "値",
        };
        rest.insert(f.clone(), json!(v));
    }
    let full = api
        .ok(
            "PATCH",
            &format!("/live_application/{id}"),
            Some(Value::Object(rest)),
        )
        .await;
    assert_eq!(full["status"], "pending", "{full}");
    assert_eq!(full["requested_fields"], json!([]));
    assert_eq!(full["errored_fields"], json!([]));

    let accepted = api
        .ok(
            "PATCH",
            &format!("/live_application/{id}/simulate_status"),
            Some(json!({"status": "accepted"})),
        )
        .await;
    assert_eq!(
        (
            accepted["status"].as_str(),
            accepted["payouts_enabled"].as_bool()
        ),
        (Some("accepted"), Some(true))
    );
    let m = api.ok("GET", &format!("/merchants/{id}"), None).await;
    assert_eq!(
        (m["status"].as_str(), m["payouts_enabled"].as_bool()),
        (Some("accepted"), Some(true))
    );
    assert!(
        rx.wait_for(WAIT, |r| r
            .iter()
            .any(|e| e.event_type() == "submerchant.application.accepted"))
            .await
    );
    let event = rx
        .received()
        .into_iter()
        .find(|e| e.event_type() == "submerchant.application.accepted")
        .unwrap();
    assert_eq!(event.event["merchant"], "山田商店", "the seller's name");
    assert_eq!(event.event["data"]["merchant_id"], id.as_str());
    assert_eq!(event.event_header, "submerchant.application.accepted");
    assert_eq!(rx.unauthenticated(), 0, "signed as the other webhooks");

    let other = sim.create_seller("佐藤工房").unwrap();
    assert!(sim.force_review(&other, ApplicationStatus::Declined));
    assert!(
        rx.wait_for(WAIT, |r| r
            .iter()
            .any(|e| e.event_type() == "submerchant.application.declined"))
            .await
    );
    assert_eq!(sim.seller(&other).map(|m| m.payouts_enabled), Some(false));
    let (status, _) = api.call("GET", "/live_application/nosuch", None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn splits_are_checked_as_komoju_checks_them() {
    let (sim, _rx, api) = sim().await;
    let a = sim.accepted_seller("A").unwrap();
    let b = sim.accepted_seller("B").unwrap();
    let waiting = sim.create_seller("C").unwrap();
    let card = |sim: &KomojuSimHandle| {
        let id = sim.create_payment(
            10_000,
            1_000,
            Some("O1"),
            "credit_card",
            CaptureMode::Manual,
        );
        sim.authorize(&id);
        id
    };
    let id = card(&sim);
    let capture = |details: Value| Some(json!({"platform_details": details}));
    let path = format!("/payments/{id}/capture");
    for bad in [
        split(&[(&a, 6_000, 600), (&b, 4_000, 400)]), // 10,000 ≠ total 11,000
        split(&[(&a, 6_600, 6_601), (&b, 4_400, 0)]), // fee above amount
        split(&[(&a, 6_600, 0), ("nosuchseller000000000000", 4_400, 0)]),
        split(&[(&a, 6_600, 0), (&waiting, 4_400, 0)]), // payouts not enabled
        split(&[(&a, 6_600, 0), (&a, 4_400, 0)]),       // twice
        split(&[(&a, -1, 0), (&b, 11_001, 0)]),
        json!({"submerchants": [{"submerchant_id": a, "amount": "11000", "platform_fee": "0"}]}),
        json!({"submerchants": [{"submerchant_id": a, "amount": 11000.5, "platform_fee": 0}]}),
        json!({"submerchants": []}),
        json!([1, 2]),
    ] {
        let refused = api
            .refused("POST", &path, capture(bad.clone()), BAD_SPLIT)
            .await;
        assert_eq!(refused["error"]["param"], "platform_details", "{bad}");
    }
    assert_eq!(
        sim.payment(&id).unwrap().status,
        crate::komoju::PaymentStatus::Authorized
    );
    let good = split(&[(&a, 6_600, 660), (&b, 4_400, 440)]);
    let captured = api.ok("POST", &path, capture(good.clone())).await;
    assert_eq!(captured["platform_details"], good);

    // Strings are taken when the account reads the guide's quoting.
    sim.set_platform_settings(|s| s.string_amounts = true);
    let id2 = card(&sim);
    let quoted =
        json!({"submerchants": [{"submerchant_id": a, "amount": "11000", "platform_fee": "0"}]});
    api.ok("POST", &format!("/payments/{id2}/capture"), capture(quoted))
        .await;
    // The sum base is a setting: amount before tax.
    sim.set_platform_settings(|s| s.split_base = SplitBase::Amount);
    let id3 = card(&sim);
    api.ok(
        "POST",
        &format!("/payments/{id3}/capture"),
        capture(split(&[(&a, 10_000, 0)])),
    )
    .await;

    // On the create: a capture:false card's split belongs on the capture.
    let refused = sim.create_split_payment(
        1_000,
        100,
        0,
        None,
        "credit_card",
        CaptureMode::Manual,
        &split(&[(&a, 1_000, 0)]),
    );
    assert!(refused.is_err());
    let wrong = sim.create_split_payment(
        1_000,
        100,
        190,
        None,
        "konbini",
        CaptureMode::Auto,
        &split(&[(&a, 900, 0)]),
    );
    assert!(wrong.unwrap_err().contains("1000"));
}

#[tokio::test]
async fn a_capture_books_the_split_on_each_balance_and_the_ledger() {
    let (sim, rx, api) = sim().await;
    let (a, b) = (
        sim.accepted_seller("A").unwrap(),
        sim.accepted_seller("B").unwrap(),
    );
    let platform = sim.platform_id();
    let id = sim.create_payment(
        10_000,
        1_000,
        Some("O1"),
        "credit_card",
        CaptureMode::Manual,
    );
    sim.authorize(&id);
    let good = split(&[(&a, 6_600, 660), (&b, 4_400, 440)]);
    api.ok(
        "POST",
        &format!("/payments/{id}/capture"),
        Some(json!({"platform_details": good})),
    )
    .await;
    // Seller + amount − fee; platform + fees − 3.6 % processing fee (396).
    assert_eq!((sim.balance(&a), sim.balance(&b)), (5_940, 3_960));
    assert_eq!(sim.balance(&platform), 1_100 - 396);
    assert!(sim.conservation().holds(), "{:?}", sim.conservation());

    let bal = api
        .ok("GET", &format!("/merchants/{a}/balances/JPY"), None)
        .await;
    assert_eq!(
        (
            bal["total_balance_cents"].as_i64(),
            bal["balance_total"].as_i64()
        ),
        (Some(5_940), Some(5_940))
    );
    assert_eq!(bal["platform_model"]["payment_share_total_cents"], 6_600);
    assert_eq!(bal["platform_model"]["platform_fee_total_cents"], -660);
    assert_eq!(bal["currency"], "JPY");
    let pbal = api
        .ok("GET", &format!("/merchants/{platform}/balances/JPY"), None)
        .await;
    assert_eq!(pbal["platform_model"]["platform_fee_total_cents"], 1_100);
    api.refused(
        "GET",
        &format!("/merchants/{a}/balances/USD"),
        None,
        "unsupported_currency",
    )
    .await;
    api.refused(
        "GET",
        &format!("/merchants/{a}/balances/USD/transactions"),
        None,
        "unsupported_currency",
    )
    .await;

    let ledger = api
        .ok(
            "GET",
            &format!("/merchants/{a}/balances/JPY/transactions"),
            None,
        )
        .await;
    assert_eq!(ledger["resource"], "list");
    assert_eq!(ledger["total"], 1);
    let tx = &ledger["data"][0];
    assert_eq!(
        (tx["type"].as_str(), tx["amount_cents"].as_i64()),
        (Some("payment"), Some(5_940))
    );
    let tid = tx["id"].as_str().unwrap();
    let detail = api
        .ok(
            "GET",
            &format!("/merchants/{a}/balances/JPY/transactions/{tid}"),
            None,
        )
        .await;
    assert_eq!(
        detail["line_items"],
        json!([
            {"type": "payment_share", "amount_cents": 6_600},
            {"type": "platform_fee", "amount_cents": -660},
        ])
    );
    assert_eq!(detail["payment"], id.as_str());
    let (status, _) = api
        .call(
            "GET",
            &format!("/merchants/{a}/balances/JPY/transactions/nosuch"),
            None,
        )
        .await;
    assert_eq!(status, 404);

    // A marketplace payment's events are plain payment.*, carrying the split.
    assert!(
        rx.wait_for(WAIT, |r| r
            .iter()
            .any(|e| e.event_type() == "payment.captured"))
            .await
    );
    let event = rx
        .received()
        .into_iter()
        .find(|e| e.event_type() == "payment.captured")
        .unwrap();
    assert_eq!(
        event.event["data"]["platform_details"]["submerchants"][0]["submerchant_id"],
        a.as_str()
    );

    // Konbini: the split is on the create, booked when the customer pays; the
    // konbini fee stays with the platform.
    let k = sim
        .create_split_payment(
            2_000,
            200,
            190,
            Some("O2"),
            "konbini",
            CaptureMode::Auto,
            &split(&[(&a, 2_200, 220)]),
        )
        .unwrap();
    assert_eq!(sim.balance(&a), 5_940, "not before the customer pays");
    sim.capture_by_customer(&k.id);
    assert_eq!(sim.balance(&a), 5_940 + 1_980);
    // Automatic card capture: booked when authorized.
    let auto = sim
        .create_split_payment(
            1_000,
            100,
            0,
            None,
            "credit_card",
            CaptureMode::Auto,
            &split(&[(&b, 1_100, 0)]),
        )
        .unwrap();
    sim.authorize(&auto.id);
    assert_eq!(sim.balance(&b), 3_960 + 1_100);
    assert!(sim.conservation().holds(), "{:?}", sim.conservation());

    let theirs = api
        .ok(
            "GET",
            &format!("/merchants/{b}/payments?status=captured"),
            None,
        )
        .await;
    assert_eq!(theirs["total"], 2);
    let (status, _) = api
        .call(
            "GET",
            &format!("/merchants/{b}/payments?status=captured,refunded"),
            None,
        )
        .await;
    assert_eq!(status, 422);
    // Windows and paging.
    let window = api.ok("GET", &format!("/merchants/{a}/balances/JPY/transactions?per_page=1&page=2&end_time=2030-01-01T00:00:00Z"), None).await;
    assert_eq!(
        (
            window["total"].as_i64(),
            window["data"].as_array().map(Vec::len)
        ),
        (Some(2), Some(1))
    );
    let none = api
        .ok(
            "GET",
            &format!("/merchants/{a}/balances/JPY/transactions?start_time=2030-01-01T00:00:00Z"),
            None,
        )
        .await;
    assert_eq!(none["total"], 0);
    let (status, _) = api
        .call(
            "GET",
            &format!("/merchants/{a}/balances/JPY/transactions?start_time=yesterday"),
            None,
        )
        .await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn refunds_give_the_split_back_with_or_without_platform_details() {
    let (sim, _rx, api) = sim().await;
    let (a, b) = (
        sim.accepted_seller("A").unwrap(),
        sim.accepted_seller("B").unwrap(),
    );
    let platform = sim.platform_id();
    let id = sim.create_payment(10_000, 1_000, None, "credit_card", CaptureMode::Manual);
    sim.authorize(&id);
    api.ok(
        "POST",
        &format!("/payments/{id}/capture"),
        Some(json!({"platform_details": split(&[(&a, 6_600, 660), (&b, 4_400, 440)])})),
    )
    .await;
    let p0 = sim.balance(&platform);

    // With a split: A gives 3,300 back and gets 330 of its fee returned.
    let path = format!("/payments/{id}/refund");
    api.refused(
        "POST",
        &path,
        Some(json!({"amount": 3_300, "platform_details": split(&[(&a, 3_000, 0)])})),
        BAD_SPLIT,
    )
    .await;
    let stranger = sim.accepted_seller("C").unwrap();
    api.refused(
        "POST",
        &path,
        Some(json!({"amount": 100, "platform_details": split(&[(&stranger, 100, 0)])})),
        BAD_SPLIT,
    )
    .await;
    api.refused(
        "POST",
        &path,
        Some(json!({"amount": 7_000, "platform_details": split(&[(&a, 7_000, 0)])})),
        BAD_SPLIT,
    )
    .await;
    let refunded = api
        .ok(
            "POST",
            &path,
            Some(json!({"amount": 3_300, "platform_details": split(&[(&a, 3_300, 330)])})),
        )
        .await;
    assert_eq!(
        refunded["refunds"][0]["platform_details"]["submerchants"][0]["amount"],
        3_300
    );
    assert_eq!(sim.balance(&a), 5_940 - 3_300 + 330);
    assert_eq!(sim.balance(&platform), p0 - 330);
    // Without: the platform bears it (non-reverse), by default.
    api.ok("POST", &path, Some(json!({"amount": 1_000}))).await;
    assert_eq!(
        (sim.balance(&platform), sim.balance(&b)),
        (p0 - 330 - 1_000, 3_960)
    );
    assert!(sim.conservation().holds(), "{:?}", sim.conservation());

    // "Reverse": the sellers give back in proportion to what they hold.
    sim.set_platform_settings(|s| s.refund_without_split = RefundWithoutSplit::ProRata);
    let id2 = sim.create_payment(10_000, 0, None, "credit_card", CaptureMode::Manual);
    sim.authorize(&id2);
    api.ok(
        "POST",
        &format!("/payments/{id2}/capture"),
        Some(json!({"platform_details": split(&[(&a, 5_000, 500), (&b, 5_000, 500)])})),
    )
    .await;
    let (a0, b0) = (sim.balance(&a), sim.balance(&b));
    api.ok(
        "POST",
        &format!("/payments/{id2}/refund"),
        Some(json!({"amount": 2_000})),
    )
    .await;
    assert_eq!(
        (sim.balance(&a), sim.balance(&b)),
        (a0 - 1_000 + 100, b0 - 1_000 + 100)
    );
    assert!(sim.conservation().holds(), "{:?}", sim.conservation());

    // A seller whose balance no longer covers its share cannot be refunded from.
    let id3 = sim.create_payment(1_000, 0, None, "credit_card", CaptureMode::Manual);
    sim.authorize(&id3);
    api.ok(
        "POST",
        &format!("/payments/{id3}/capture"),
        Some(json!({"platform_details": split(&[(&stranger, 1_000, 0)])})),
    )
    .await;
    api.ok(
        "POST",
        &format!("/merchants/{stranger}/balances/JPY/transfer"),
        Some(json!({"to": platform, "amount": 900})),
    )
    .await;
    api.refused(
        "POST",
        &format!("/payments/{id3}/refund"),
        Some(json!({"amount": 1_000, "platform_details": split(&[(&stranger, 1_000, 0)])})),
        "insufficient_balance",
    )
    .await;
}

#[tokio::test]
async fn refund_requests_book_their_split_when_completed() {
    let (sim, _rx, api) = sim().await;
    let a = sim.accepted_seller("A").unwrap();
    let platform = sim.platform_id();
    let k = sim
        .create_split_payment(
            2_000,
            200,
            190,
            None,
            "konbini",
            CaptureMode::Auto,
            &split(&[(&a, 2_200, 200)]),
        )
        .unwrap();
    sim.capture_by_customer(&k.id);
    let (a0, p0) = (sim.balance(&a), sim.balance(&platform));
    let account = json!({
        "customer_name": "ﾔﾏﾀﾞ ﾀﾛｳ", "bank_name": "みずほ銀行", "bank_code": "0001",
        "branch_number": "001", "account_type": "normal", "account_number": "1234567",
        "include_payment_method_fee": true,
    });
    let mut bad = account.clone();
    bad["amount"] = json!(1_100);
    bad["platform_details"] = split(&[(&a, 1_000, 0)]);
    let path = format!("/payments/{}/refund_request", k.id);
    api.refused("POST", &path, Some(bad), BAD_SPLIT).await;
    let mut good = account.clone();
    good["amount"] = json!(1_100);
    good["platform_details"] = split(&[(&a, 1_100, 100)]);
    let (status, _) = api.call("POST", &path, Some(good)).await;
    assert_eq!(status, 200);
    assert_eq!(sim.balance(&a), a0, "nothing moves while pending");
    let done = sim
        .complete_refund_request(&k.id)
        .expect("a pending request");
    assert_eq!(done.platform_details.map(|d| d.submerchants.len()), Some(1));
    assert_eq!(sim.balance(&a), a0 - 1_100 + 100);
    // The konbini fee given back comes from the platform, with the fee returned.
    assert_eq!(sim.balance(&platform), p0 - 190 - 100);
    assert!(sim.conservation().holds(), "{:?}", sim.conservation());
    let shown = api.ok("GET", &format!("/payments/{}", k.id), None).await;
    assert_eq!(
        shown["refund_requests"][0]["platform_details"]["submerchants"][0]["amount"],
        1_100
    );
}

#[tokio::test]
async fn transfers_go_both_ways_within_the_balance() {
    let (sim, _rx, api) = sim().await;
    let (a, b) = (
        sim.accepted_seller("A").unwrap(),
        sim.accepted_seller("B").unwrap(),
    );
    let platform = sim.platform_id();
    let id = sim.create_payment(10_000, 0, None, "credit_card", CaptureMode::Auto);
    sim.authorize(&id);
    let p0 = sim.balance(&platform);
    assert_eq!(p0, 10_000 - 360);
    let path = format!("/merchants/{platform}/balances/JPY/transfer");
    let sent = api
        .ok("POST", &path, Some(json!({"to": a, "amount": 300})))
        .await;
    assert_eq!(sent["recipient"], a.as_str());
    assert_eq!(sent["remitter"], platform.as_str());
    assert_eq!(
        (sent["amount"].as_i64(), sent["currency"].as_str()),
        (Some(300), Some("JPY"))
    );
    assert!(sent["happened_at"].is_string());
    // The older path, from the authenticated platform.
    api.ok(
        "POST",
        "/balances/JPY/transfer",
        Some(json!({"to": b, "amount": 200})),
    )
    .await;
    // Back from a seller.
    api.ok(
        "POST",
        &format!("/merchants/{a}/balances/JPY/transfer"),
        Some(json!({"to": platform, "amount": 100, "currency": "JPY"})),
    )
    .await;
    assert_eq!(
        (sim.balance(&platform), sim.balance(&a), sim.balance(&b)),
        (p0 - 400, 200, 200)
    );

    api.refused(
        "POST",
        &format!("/merchants/{a}/balances/JPY/transfer"),
        Some(json!({"to": platform, "amount": 201})),
        "insufficient_balance",
    )
    .await;
    api.refused(
        "POST",
        &format!("/merchants/{a}/balances/JPY/transfer"),
        Some(json!({"to": b, "amount": 1})),
        "invalid_parameter",
    )
    .await;
    api.refused(
        "POST",
        &path,
        Some(json!({"to": "nosuchseller000000000000", "amount": 1})),
        "invalid_parameter",
    )
    .await;
    api.refused(
        "POST",
        &path,
        Some(json!({"to": a, "amount": 0})),
        "invalid_parameter",
    )
    .await;
    api.refused(
        "POST",
        &path,
        Some(json!({"amount": 1})),
        "missing_parameter",
    )
    .await;
    api.refused(
        "POST",
        &path,
        Some(json!({"to": a, "amount": 1, "currency": "USD"})),
        "unsupported_currency",
    )
    .await;
    api.refused(
        "POST",
        &format!("/merchants/{platform}/balances/EUR/transfer"),
        Some(json!({"to": a, "amount": 1})),
        "unsupported_currency",
    )
    .await;

    // A retry with the same key replays, and moves no money twice.
    let first = api
        .keyed(
            "POST",
            &path,
            Some(json!({"to": b, "amount": 50})),
            "transfer-1",
        )
        .await;
    let again = api
        .keyed(
            "POST",
            &path,
            Some(json!({"to": b, "amount": 50})),
            "transfer-1",
        )
        .await;
    assert_eq!(first, again);
    assert_eq!(sim.balance(&b), 250);
    let ledger = api
        .ok(
            "GET",
            &format!("/merchants/{b}/balances/JPY/transactions?type=balance_transfer"),
            None,
        )
        .await;
    assert_eq!(ledger["total"], 2);
    assert!(sim.conservation().holds());

    // Only the per-merchant path when the account says so.
    sim.set_platform_settings(|s| s.transfer_paths = TransferPaths::MerchantOnly);
    let (status, _) = api
        .call(
            "POST",
            "/balances/JPY/transfer",
            Some(json!({"to": b, "amount": 1})),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn payouts_run_on_the_clock_and_announce_settlements() {
    let (sim, rx, api) = sim().await;
    let a = sim.accepted_seller("山田商店").unwrap();
    let platform = sim.platform_id();
    // Monday 7 December: a 50,000 yen capture, all but the fee to A.
    let id = sim.create_payment(50_000, 0, None, "credit_card", CaptureMode::Manual);
    sim.authorize(&id);
    api.ok(
        "POST",
        &format!("/payments/{id}/capture"),
        Some(json!({"platform_details": split(&[(&a, 50_000, 5_000)])})),
    )
    .await;
    let settings = api
        .ok(
            "GET",
            &format!("/merchants/{a}/balances/JPY/settings"),
            None,
        )
        .await;
    assert_eq!(
        (
            settings["frequency"].as_str(),
            settings["settlement_minimum_amount"].as_i64()
        ),
        (Some("weekly"), Some(0))
    );
    api.refused(
        "PATCH",
        &format!("/merchants/{a}/balances/JPY/settings"),
        Some(json!({"frequency": "daily"})),
        "invalid_parameter",
    )
    .await;

    // Friday 11 December pays the week that ended the Friday before: nothing.
    sim.advance_clock(Duration::from_secs(4 * 86_400));
    assert!(sim.run_payouts().is_empty());
    // Friday 18 December pays the week of the 5th–11th.
    sim.advance_clock(Duration::from_secs(7 * 86_400));
    let made = sim.run_payouts();
    let mine = made.iter().find(|s| s.merchant_id == a).expect("A is paid");
    assert_eq!(
        (mine.total, mine.bank_fee, mine.payout),
        (45_000, 410, 44_590)
    );
    assert_eq!(mine.period_end.to_string(), "2026-12-11");
    assert!(made.iter().any(|s| s.merchant_id == platform));
    assert!(sim.run_payouts().is_empty(), "once a day");
    assert_eq!(sim.balance(&a), 0);
    assert!(sim.conservation().holds(), "{:?}", sim.conservation());
    assert!(
        rx.wait_for(WAIT, |r| r
            .iter()
            .filter(|e| e.event_type() == "settlement.created")
            .count()
            == 2)
            .await
    );
    assert!(
        rx.received()
            .iter()
            .any(|e| e.event_type() == "payout.created" && e.event["merchant"] == "山田商店")
    );
    let list = api
        .ok("GET", &format!("/merchants/{a}/settlements"), None)
        .await;
    assert_eq!(list["total"], 1);
    let sid = list["data"][0]["id"].as_str().unwrap();
    let one = api
        .ok("GET", &format!("/merchants/{a}/settlements/{sid}"), None)
        .await;
    assert_eq!(one["payout_cents"], 44_590);

    // Below the minimum the balance waits.
    api.ok(
        "PATCH",
        &format!("/merchants/{a}/balances/JPY/settings"),
        Some(json!({"settlement_minimum_amount": 100_000})),
    )
    .await;
    let small = sim.create_payment(1_000, 0, None, "credit_card", CaptureMode::Manual);
    sim.authorize(&small);
    api.ok(
        "POST",
        &format!("/payments/{small}/capture"),
        Some(json!({"platform_details": split(&[(&a, 1_000, 0)])})),
    )
    .await;
    sim.advance_clock(Duration::from_secs(7 * 86_400));
    let later = sim.run_payouts();
    assert!(
        later.iter().all(|s| s.merchant_id != a),
        "below the minimum"
    );
    assert_eq!(sim.balance(&a), 1_000);
    // Monthly → weekly takes effect next month.
    api.ok(
        "PATCH",
        &format!("/merchants/{a}/balances/JPY/settings"),
        Some(json!({"frequency": "monthly"})),
    )
    .await;
    let s = api
        .ok(
            "PATCH",
            &format!("/merchants/{a}/balances/JPY/settings"),
            Some(json!({"frequency": "weekly", "settlement_minimum_amount": 0})),
        )
        .await;
    assert_eq!(s["frequency"], "monthly");
}

#[test]
fn a_payout_on_a_holiday_moves_to_the_next_business_day() {
    let p = Platform::new(PlatformSettings::default());
    let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    // Friday 1 January 2027 is a holiday: the weekly payout is Monday the 4th.
    assert_eq!(p.period_paid_on(Frequency::Weekly, day("2027-01-01")), None);
    assert_eq!(
        p.period_paid_on(Frequency::Weekly, day("2027-01-04")),
        Some((day("2026-12-19"), day("2026-12-25")))
    );
    // Month end on a Thursday holiday (31 December): paid on 4 January, for November.
    assert_eq!(
        p.period_paid_on(Frequency::Monthly, day("2027-01-04")),
        Some((day("2026-11-01"), day("2026-11-30")))
    );
    assert_eq!(
        p.period_paid_on(Frequency::Monthly, day("2026-12-31")),
        None
    );
    assert_eq!(
        p.period_paid_on(Frequency::Monthly, day("2026-11-30")),
        Some((day("2026-10-01"), day("2026-10-31")))
    );
}
