//! Shipping and cancelling from the ERP: stock semantics and refusals.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn shipping_turns_reservations_into_shipped_stock() {
    let app = spawn_app().await;
    app.admin(
        Method::PUT,
        "/api/v1/stock/A",
        Some(json!({"on_hand": 10, "as_of": "2026-11-23T09:00:00+09:00"})),
    )
    .await;
    app.sim.place_order("S1", &[("A", 3, 1000)]);
    app.wait_state("S1", "confirmed", "deferred").await;
    let parcel = json!({"carrier": "yamato", "tracking_no": "123456789012", "shipped_on": "2026-11-24", "shipping_cost": 1200});
    let (status, order) = app
        .post("/api/v1/orders/jgoods/S1/shipment", parcel.clone())
        .await;
    assert_eq!(status, 202, "{order}");
    assert_eq!(order["state"], "shipped");
    assert_eq!(order["shipments"][0], parcel);
    let s = app.stock("A").await;
    assert_eq!(
        (
            s["on_hand"].as_i64(),
            s["reserved"].as_i64(),
            s["available"].as_i64()
        ),
        (Some(7), Some(0), Some(7))
    );
    // The same parcel again changes nothing.
    let (status, again) = app.post("/api/v1/orders/jgoods/S1/shipment", parcel).await;
    assert_eq!(status, 202);
    assert_eq!(again["shipments"].as_array().unwrap().len(), 1);
    assert_eq!(app.stock("A").await["on_hand"], 7);
    // A count taken before the shipment does not count it twice…
    app.admin(
        Method::PUT,
        "/api/v1/stock/A",
        Some(json!({"on_hand": 10, "as_of": "2026-11-23T09:30:00+09:00"})),
    )
    .await;
    assert_eq!(app.stock("A").await["on_hand"], 7);
    // …and one taken after it is taken as it is.
    app.admin(
        Method::PUT,
        "/api/v1/stock/A",
        Some(json!({"on_hand": 6, "as_of": "2099-01-01T00:00:00+09:00"})),
    )
    .await;
    assert_eq!(app.stock("A").await["on_hand"], 6);
    app.stop().await;
}

#[tokio::test]
async fn commands_that_do_not_fit_the_order_are_refused() {
    let app = spawn_app().await;
    app.set_stock("A", 1).await;
    app.sim
        .set_decision("S2", ordersync_sim::jgoods::CustomerDecision::NoReply);
    app.sim.place_order("S2", &[("A", 2, 1000)]);
    app.wait_order("S2", |o| o["state"] == "short").await;
    let parcel =
        json!({"carrier": "yamato", "tracking_no": "123456789012", "shipped_on": "2026-11-24"});
    let (status, body) = app
        .post("/api/v1/orders/jgoods/S2/shipment", parcel.clone())
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("invalid_state"))
    );
    let bad = [
        (
            json!({"carrier": "kuroneko", "tracking_no": "1", "shipped_on": "2026-11-24"}),
            "carrier",
        ),
        (
            json!({"carrier": "yamato", "tracking_no": "", "shipped_on": "2026-11-24"}),
            "tracking_no",
        ),
        (
            json!({"carrier": "yamato", "tracking_no": "1", "shipped_on": "24/11/2026"}),
            "shipped_on",
        ),
        (
            json!({"carrier": "yamato", "tracking_no": "1", "shipped_on": "2026-11-24", "shipping_cost": -5}),
            "shipping_cost",
        ),
    ];
    for (b, field) in bad {
        let (status, body) = app.post("/api/v1/orders/jgoods/S2/shipment", b).await;
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (400, Some(field))
        );
    }
    let (status, _) = app
        .post("/api/v1/orders/jgoods/NOPE/shipment", parcel)
        .await;
    assert_eq!(status, 404);
    // J-goods orders are cancelled by J-goods.
    let (status, body) = app
        .post("/api/v1/orders/jgoods/S2/cancel", json!({"reason": "x"}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("invalid_state"))
    );
    assert_eq!(app.stock("A").await["reserved"], 1);
    app.stop().await;
}
