//! A person's answers to what needs one, over the admin API and the CLI:
//! acknowledging an order's attention, dropping a dead call. Each clears
//! what it answers, is refused when there is nothing to answer, and leaves
//! who, what and why in the order's history.

use ordersync_sim::jgoods::{Endpoint, Fault};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

/// An order whose post-back to J-goods is given up (a dead call); the id of
/// that call.
pub async fn order_with_a_dead_call(app: &TestApp, order: &str) -> i64 {
    app.set_stock("A", 10).await;
    app.sim.inject(Endpoint::PutOrder, Fault::Status(503), 1000);
    app.sim.place_order(order, &[("A", 1, 100)]);
    app.wait_order(order, |o| !o["attention"].is_null()).await;
    let (_, dead) = app.get("/api/v1/outbox?state=dead").await;
    dead["outbox"][0]["id"].as_i64().unwrap()
}

fn events_of<'a>(feed: &'a Value, kind: &str) -> Vec<&'a Value> {
    feed["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["kind"] == kind)
        .collect()
}

#[tokio::test]
async fn a_dead_call_dropped_is_never_made_and_its_order_says_so() {
    let app = spawn_app_with(Options::fast_retries()).await;
    let id = order_with_a_dead_call(&app, "JGD1").await;
    let drop_path = format!("/api/v1/outbox/{id}/drop");

    let (status, body) = app.admin(Method::POST, &drop_path, Some(json!({}))).await;
    assert_eq!(status, 400, "a reason is required: {body}");
    let (status, body) = app
        .admin(
            Method::POST,
            &drop_path,
            Some(json!({"reason": "a\u{1b}]0;x\u{7}", "by": "山田"})),
        )
        .await;
    assert_eq!(status, 400, "control characters are refused: {body}");
    let (status, call) = app
        .admin(
            Method::POST,
            &drop_path,
            Some(json!({"reason": "J-goods の管理画面で手入力した", "by": "山田"})),
        )
        .await;
    assert_eq!(status, 200, "{call}");
    assert_eq!(call["state"], "dropped");
    let (status, body) = app
        .admin(Method::POST, &drop_path, Some(json!({"reason": "again"})))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("nothing_to_do"))
    );
    let (status, _) = app
        .admin(
            Method::POST,
            "/api/v1/outbox/999999/drop",
            Some(json!({"reason": "x"})),
        )
        .await;
    assert_eq!(status, 404);

    // Never made: J-goods is healthy again and still gets no post-back.
    app.sim.clear_faults();
    let puts = app.sim.stats().put_count("JGD1");
    let o = app.order("JGD1").await.unwrap();
    let attention = o["attention"].as_str().unwrap_or_default();
    assert!(
        attention.contains("送信していません") && attention.contains("山田"),
        "{o}"
    );
    let (_, dead) = app.get("/api/v1/outbox?state=dead").await;
    assert_eq!(dead["outbox"].as_array().map(Vec::len), Some(0), "{dead}");
    let (_, feed) = app.get("/api/v1/events?after=0&limit=1000").await;
    let dropped = events_of(&feed, "call.dropped");
    assert_eq!(dropped.len(), 1, "{feed}");
    assert_eq!(dropped[0]["detail"]["by"], "山田");
    assert_eq!(dropped[0]["order_id"], "JGD1");

    // The person does it by hand and acknowledges; the flag clears, the history keeps it.
    let out = app.cli(&["orders", "ack", "jgoods", "JGD1", "--note", "手入力済み"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(app.order("JGD1").await.unwrap()["attention"].is_null());
    let out = app.cli(&["orders", "ack", "jgoods", "JGD1"]);
    assert!(!out.status.success(), "nothing left to acknowledge");
    let out = app.cli(&["orders", "show", "jgoods", "JGD1"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("山田 が失敗したJ-goods への引当報告を取り下げました"),
        "{text}"
    );
    assert!(
        text.contains("operator が要対応を確認済みにしました"),
        "{text}"
    );
    assert!(text.contains(": 手入力済み"), "{text}");
    let status = app.cli(&["status"]);
    assert_eq!(
        status.status.code(),
        Some(0),
        "nothing needs a person any more"
    );
    assert_eq!(
        app.sim.stats().put_count("JGD1"),
        puts,
        "the dropped call was never made"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_attention_acknowledged_comes_back_only_with_something_new() {
    let app = spawn_app_with(Options::fast_retries()).await;
    let id = order_with_a_dead_call(&app, "JGA1").await;
    let ack = "/api/v1/orders/jgoods/JGA1/ack";
    let (status, o) = app
        .admin(
            Method::POST,
            ack,
            Some(json!({"note": "見ました", "by": "佐藤"})),
        )
        .await;
    assert_eq!(status, 200, "{o}");
    assert!(o["attention"].is_null(), "{o}");
    let (status, body) = app.admin(Method::POST, ack, None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("nothing_to_do"))
    );
    let (status, _) = app
        .admin(Method::POST, "/api/v1/orders/jgoods/NOPE/ack", None)
        .await;
    assert_eq!(status, 404);
    let (_, feed) = app.get("/api/v1/events?after=0&limit=1000").await;
    let acked = events_of(&feed, "order.acknowledged");
    assert_eq!(acked[0]["detail"]["by"], "佐藤");
    assert!(
        acked[0]["detail"]["attention"]
            .as_str()
            .is_some_and(|a| !a.is_empty())
    );

    // Something new: the retried call fails again and the flag is back.
    let (status, _) = app
        .admin(Method::POST, &format!("/api/v1/outbox/{id}/retry"), None)
        .await;
    assert_eq!(status, 200);
    app.wait_order("JGA1", |o| !o["attention"].is_null()).await;
    app.stop().await;
}

/// A wrong J-goods secret is no longer invisible: refused webhooks are
/// grouped by reason, a burst of `unauthorized` makes `status` exit 1 with
/// the likely cause, and the status page shows it.
#[tokio::test]
async fn refused_webhooks_point_at_a_wrong_secret() {
    let app = spawn_app().await;
    let body = r#"{"order_no":"JGX","status":"承認待ち","items":[]}"#.as_bytes();
    let forged = [
        (
            "X-JGoods-Timestamp",
            chrono::Utc::now().timestamp().to_string(),
        ),
        ("X-JGoods-Signature", format!("v1={}", "0".repeat(64))),
        ("X-JGoods-Delivery", "forged-1".to_string()),
    ];
    let out = app.cli(&["status"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    for _ in 0..3 {
        let (status, _) = app.post_webhook(body, &forged).await;
        assert_eq!(status, 401);
    }
    let out = app.cli(&["status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            "拒否した Webhook(J-goods): 3 件 × unauthorized(24 時間、うち直近 1 時間 3 件"
        ),
        "{text}"
    );
    assert!(text.contains("J-goods の署名が合いません"), "{text}");
    let page = app.status_page().await;
    assert!(
        page.contains("id=\"rejected\"") && page.contains("J-goods の署名が合いません"),
        "{page}"
    );
    app.stop().await;
}
