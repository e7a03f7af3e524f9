//! The simulator's HTTP surface over loopback, with a plain HTTP client and
//! requests shaped from the contract (`rakuten-pay.md`,
//! `rakuten-inventory.md`), so that what the gateway checks and what each
//! endpoint answers is tested without any client's help.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::net::TcpListener;

use super::*;
use crate::rakuten_pay::wire::{codes, dates};

const WAIT: Duration = Duration::from_secs(10);
const JSON_UTF8: &str = "application/json; charset=utf-8";

async fn start_sim(cfg: RakutenSimConfig) -> RakutenSimHandle {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    start(listener, cfg).await.expect("start simulator")
}

fn esa(sim: &RakutenSimHandle) -> String {
    sim.authorization()
}

async fn post(
    sim: &RakutenSimHandle,
    endpoint: &str,
    content_type: &str,
    body: &str,
) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/{endpoint}", sim.api_base_url()))
        .header("authorization", esa(sim))
        .header("content-type", content_type)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn first_code(body: &Value) -> &str {
    body["MessageModelList"][0]["messageCode"]
        .as_str()
        .unwrap_or("")
}

#[tokio::test]
async fn the_gateway_checks_key_content_type_path_and_json() {
    let sim = start_sim(RakutenSimConfig::default()).await;
    let http = reqwest::Client::new();
    let url = format!("{}/searchOrder/", sim.api_base_url());
    let body = json!({"dateType": 1, "startDatetime": "x", "endDatetime": "y"}).to_string();

    let no_auth = http
        .post(&url)
        .header("content-type", JSON_UTF8)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(no_auth.status().as_u16(), 401);
    assert_eq!(
        no_auth.json::<Value>().await.unwrap(),
        json!({"Results": {"errorCode": "ES01-01", "message": "Un-Authorised"}})
    );
    let bearer = http
        .post(&url)
        .header("authorization", "Bearer abc")
        .header("content-type", JSON_UTF8)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status().as_u16(), 401);

    let (status, _) = post(&sim, "searchOrder/", "application/json", &body).await;
    assert_eq!(status, 415, "charset=utf-8 is required");
    let (status, _) = post(
        &sim,
        "searchOrder/",
        "application/json;charset=UTF-8",
        &body,
    )
    .await;
    assert_eq!(status, 400, "any case and spacing of the charset is fine");
    let (status, _) = post(&sim, "searchOrder", JSON_UTF8, &body).await;
    assert_eq!(status, 404, "the path must end in /");
    let (status, answer) = post(&sim, "getOrder/", JSON_UTF8, "{not json").await;
    assert_eq!(
        (status, answer),
        (
            400,
            json!({"Results": {"errorCode": "ES04-01", "message": "Bad Request"}})
        )
    );
    let stats = sim.stats();
    assert_eq!(stats.unauthorized, 2);
    assert_eq!(stats.unsupported_media_type, 1);
    assert_eq!(stats.search_order, 4, "refused requests are counted too");
    assert_eq!(stats.get_order, 1);
    assert_eq!(stats.search_bodies.len(), 4);
}

#[tokio::test]
async fn search_refuses_any_other_datetime_spelling_over_http() {
    let sim = start_sim(RakutenSimConfig::default()).await;
    let now = sim.now();
    let start = now - chrono::TimeDelta::days(1);
    let good_start = dates::format_jst(&start);
    let good_end = dates::format_jst(&now);
    let rfc3339 = start.to_rfc3339();
    for (start_text, want) in [
        (good_start.as_str(), 200),
        (rfc3339.as_str(), 400),
        ("2026-11-22", 400),
    ] {
        let body = json!({"dateType": 1, "startDatetime": start_text, "endDatetime": good_end});
        let (status, answer) = post(&sim, "searchOrder/", JSON_UTF8, &body.to_string()).await;
        assert_eq!(status, want, "{start_text}");
        if want == 400 {
            assert_eq!(first_code(&answer), "ORDER_EXT_API_SEARCH_ORDER_ERROR_011");
            assert_eq!(answer["orderNumberList"], Value::Null);
            assert_eq!(answer["PaginationResponseModel"], Value::Null);
        } else {
            assert_eq!(first_code(&answer), codes::SEARCH_ORDER_NO_HITS);
            assert_eq!(answer["orderNumberList"], json!([]));
            assert_eq!(
                answer["PaginationResponseModel"],
                json!({"totalRecordsAmount": null, "totalPages": null, "requestPage": null})
            );
        }
    }
}

#[tokio::test]
async fn get_order_requires_a_version_and_answers_rakutens_shape() {
    let sim = start_sim(RakutenSimConfig::default()).await;
    let number = sim.next_order_number();
    sim.place_order(
        NewOrder::new(&number)
            .postage(None)
            .item(NewItem::new("NUM-1", "man-1", 1000, 1).sku("SKU-1")),
    );
    let (status, answer) = post(
        &sim,
        "getOrder/",
        JSON_UTF8,
        &json!({"orderNumberList": [number]}).to_string(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(first_code(&answer), "ORDER_EXT_API_GET_ORDER_ERROR_009");
    let (status, answer) = post(
        &sim,
        "getOrder/",
        JSON_UTF8,
        &json!({"orderNumberList": [number], "version": 7}).to_string(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(answer["version"], json!(7));
    let order = &answer["OrderModelList"][0];
    assert_eq!(order["orderNumber"], json!(number));
    assert_eq!(order["postagePrice"], json!(-9999));
    assert_eq!(
        order["PackageModelList"][0]["ShippingModelList"],
        Value::Null
    );
    let ordered_at = order["orderDatetime"].as_str().unwrap();
    assert!(dates::parse_jst(ordered_at).is_some(), "{ordered_at}");
    assert_eq!(
        order["PackageModelList"][0]["ItemModelList"][0]["SkuModelList"][0]["merchantDefinedSkuId"],
        json!("SKU-1")
    );
}

#[tokio::test]
async fn orders_move_on_in_real_time_too() {
    let sim = start_sim(RakutenSimConfig {
        processing_delay: Duration::from_millis(50),
        cancel_delay: Duration::from_millis(50),
        ..RakutenSimConfig::default()
    })
    .await;
    sim.place_order(NewOrder::new("A").item(NewItem::new("N", "m", 100, 1)));
    sim.place_order(NewOrder::new("B").item(NewItem::new("N", "m", 100, 1)));
    let (status, answer) = post(
        &sim,
        "confirmOrder/",
        JSON_UTF8,
        &json!({"orderNumberList": ["A"]}).to_string(),
    )
    .await;
    assert_eq!(
        (status, first_code(&answer)),
        (200, codes::CONFIRM_ORDER_CONFIRMED)
    );
    assert!(sim.cancel("B"));
    assert!(
        sim.wait_for_progress("A", OrderProgress::AwaitingShipment, WAIT)
            .await
    );
    assert!(
        sim.wait_for_progress("B", OrderProgress::Cancelled, WAIT)
            .await
    );
    assert!(
        sim.wait_until(WAIT, |v| v.orders().count() == 2
            && v.stats().confirm_order == 1)
            .await
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_simulated_clock_can_start_anywhere() {
    let start_at = dates::parse_jst("2026-11-22T02:30:00+0900").unwrap();
    let sim = start_sim(RakutenSimConfig {
        start_at: Some(start_at),
        ..RakutenSimConfig::default()
    })
    .await;
    let now = sim.now();
    assert!(now >= start_at && now < start_at + chrono::TimeDelta::minutes(1));
    assert!(sim.next_order_number().starts_with("123456-20261122-"));
    sim.advance_clock(Duration::from_secs(24 * 3600));
    assert!(sim.next_order_number().starts_with("123456-20261123-"));
}

#[tokio::test]
async fn edits_go_through_400_and_back() {
    let sim = start_sim(RakutenSimConfig::default()).await;
    sim.place_order(
        NewOrder::new("A")
            .item(NewItem::new("N", "m", 100, 1))
            .progress(OrderProgress::AwaitingShipment),
    );
    let line = sim.order("A").unwrap().packages[0].items[0].item_detail_id;
    assert!(sim.edit(
        "A",
        OrderEdit::SetUnits {
            item_detail_id: line,
            units: 3
        }
    ));
    assert_eq!(
        sim.order("A").unwrap().order_progress,
        OrderProgress::AwaitingChangeConfirmation
    );
    sim.advance_clock(Duration::from_secs(5 * 60));
    let o = sim.order("A").unwrap();
    assert_eq!(o.order_progress, OrderProgress::AwaitingShipment);
    assert_eq!(o.packages[0].items[0].units, 3);
    assert_eq!(o.goods_price, Some(300));
    assert!(sim.set_progress("A", OrderProgress::Cancelled));
    assert!(!sim.set_progress("ghost", OrderProgress::Cancelled));
}

#[tokio::test]
async fn the_inventory_api_answers_204_checks_the_key_and_limits_upserts_to_one_a_second() {
    let sim = start_sim(RakutenSimConfig::default()).await;
    sim.list_item(CatalogItem::new("mug", &[("m1", "SKU-MUG")]));
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}/{path}", sim.inventory_api_url());
    let body = json!({"inventories": [
        {"manageNumber": "mug", "variantId": "m1", "mode": "ABSOLUTE", "quantity": 4}
    ]});
    let unsigned = http
        .post(url("inventories/bulk-upsert"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    let send = || {
        http.post(url("inventories/bulk-upsert"))
            .header("authorization", esa(&sim))
            .json(&body)
            .send()
    };
    // The 401 did not count: the first signed call within the second is served.
    let first = send().await.unwrap();
    assert_eq!(first.status(), 204);
    assert!(first.bytes().await.unwrap().is_empty());
    let second = send().await.unwrap();
    assert_eq!(second.status(), 429, "a second upsert within the second");
    assert_eq!(sim.quantity("mug", "m1"), Some(4));
    let read = http
        .post(url("inventories/bulk-get"))
        .header("authorization", esa(&sim))
        .json(&json!({"inventories": [{"manageNumber": "MUG", "variantId": "m1"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let read: Value = read.json().await.unwrap();
    assert_eq!(read["inventories"][0]["quantity"], 4);
    let search: Value = http
        .get(url("items/search?hits=100&cursorMark=*"))
        .header("authorization", esa(&sim))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(search["numFound"], 1);
    assert_eq!(
        search["results"][0]["item"]["variants"]["m1"]["merchantDefinedSkuId"],
        "SKU-MUG"
    );
    let stats = sim.inventory_stats();
    assert_eq!(
        (
            stats.upserts,
            stats.rate_limited,
            stats.gets,
            stats.searches
        ),
        (3, 1, 1, 1)
    );
}
