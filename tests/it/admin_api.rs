//! The ERP-facing admin API: auth, stock, orders, the change feed, errors.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn api_needs_the_admin_token_but_health_and_metrics_do_not() {
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    for token in [None, Some("wrong")] {
        let mut req = http.get(format!("{}/api/v1/stock", app.admin_url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401);
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
    }
    let health = http
        .get(format!("{}/healthz", app.admin_url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    app.set_stock("A", 1).await;
    app.sim.place_order("M1", &[("A", 1, 100)]);
    app.wait_state("M1", "confirmed", "deferred").await;
    let metrics = http
        .get(format!("{}/metrics", app.admin_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("ordersync_webhooks_total{provider=\"jgoods\",result=\"processed\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("ordersync_outbox_pending"), "{metrics}");
    let page = http
        .get(format!("{}/", app.admin_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<h1>ordersync</h1>"));
    app.stop().await;
}

#[tokio::test]
async fn stock_levels_are_set_read_and_imported_all_or_nothing() {
    let app = spawn_app().await;
    let (status, row) = app
        .admin(
            reqwest::Method::PUT,
            "/api/v1/stock/SKU-001",
            Some(json!({"on_hand": 10, "as_of": "2026-11-23T10:00:00+09:00"})),
        )
        .await;
    assert_eq!(status, 200, "{row}");
    assert_eq!(row["sku"], "SKU-001");
    assert_eq!(row["available"], 10);
    assert_eq!(row["tax_rate"], 10);
    assert_eq!(row["as_of"], "2026-11-23T10:00:00+09:00");
    let (status, body) = app
        .admin(
            reqwest::Method::PUT,
            "/api/v1/stock/SKU-001",
            Some(json!({"on_hand": -1})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_stock"))
    );
    let (status, _) = app.get("/api/v1/stock/NOPE").await;
    assert_eq!(status, 404);

    // A bad row rejects the whole file and names its line.
    let resp = app
        .http
        .post(format!("{}/api/v1/stock/import", app.admin_url))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "text/csv")
        .body("sku,on_hand\nNEW-1,5\nNEW-2,five\n")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 3"),
        "{body}"
    );
    assert_eq!(app.get("/api/v1/stock/NEW-1").await.0, 404);

    let (status, body) = app
        .post(
            "/api/v1/stock/import",
            json!([{"sku": "NEW-1", "on_hand": 5}, {"sku": "NEW-2", "on_hand": 0}]),
        )
        .await;
    assert_eq!((status, body["imported"].as_u64()), (200, Some(2)));
    let (_, list) = app.get("/api/v1/stock").await;
    let skus: Vec<&str> = list["stock"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sku"].as_str().unwrap())
        .collect();
    assert_eq!(skus, ["NEW-1", "NEW-2", "SKU-001"]);
    app.stop().await;
}

#[tokio::test]
async fn orders_are_listed_filtered_and_paged() {
    let app = spawn_app().await;
    app.set_stock("A", 2).await;
    for id in ["O1", "O2", "O3"] {
        app.sim
            .set_decision(id, ordersync_sim::jgoods::CustomerDecision::NoReply);
        app.sim.place_order(id, &[("A", 1, 100)]);
    }
    app.wait_order("O3", |o| o["state"] == "short").await;
    app.wait_state("O2", "confirmed", "deferred").await;
    let (_, confirmed) = app
        .get("/api/v1/orders?state=confirmed&channel=jgoods")
        .await;
    assert_eq!(confirmed["orders"].as_array().unwrap().len(), 2);
    let (_, page1) = app.get("/api/v1/orders?limit=2").await;
    assert_eq!(page1["orders"].as_array().unwrap().len(), 2);
    let after = page1["next_after"].as_str().unwrap().to_string();
    let (_, page2) = app
        .get(&format!("/api/v1/orders?limit=2&after={after}"))
        .await;
    assert_eq!(page2["orders"][0]["id"], "O3");
    let (status, body) = app.get("/api/v1/orders?channel=amazon").await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("channel"))
    );
    let (status, body) = app.get("/api/v1/orders/jgoods/NOPE").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    app.stop().await;
}

#[tokio::test]
async fn the_change_feed_long_polls() {
    let app = spawn_app().await;
    app.set_stock("A", 1).await;
    let (_, empty) = app.get("/api/v1/events?after=0").await;
    assert_eq!(empty["events"].as_array().unwrap().len(), 0);
    let url = format!("{}/api/v1/events?after=0&wait=10", app.admin_url);
    let http = app.http.clone();
    let started = Instant::now();
    let poll = tokio::spawn(async move {
        http.get(url)
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    app.sim.place_order("F1", &[("A", 1, 100)]);
    let page = poll.await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "the long poll did not return on the new event"
    );
    let first = &page["events"][0];
    assert_eq!(first["order_id"], "F1");
    assert_eq!(first["channel"], "jgoods");
    assert_eq!(first["kind"], "order.allocated");
    assert!(page["next_after"].as_i64().unwrap() >= first["id"].as_i64().unwrap());
    app.wait_state("F1", "confirmed", "deferred").await;
    let (_, all) = app.get("/api/v1/events?after=0&limit=100").await;
    let kinds: Vec<&str> = all["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"order.confirmed"), "{kinds:?}");
    app.stop().await;
}
