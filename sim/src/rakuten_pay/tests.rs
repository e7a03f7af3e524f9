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

/// `getOrder` of one order, version 7.
async fn get_order_v7(sim: &RakutenSimHandle, number: &str) -> (u16, Value) {
    let body = json!({"orderNumberList": [number], "version": 7});
    post(sim, "getOrder/", JSON_UTF8, &body.to_string()).await
}

/// A signed `POST` to the Inventory API.
async fn inventory_post(sim: &RakutenSimHandle, path: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/{path}", sim.inventory_api_url()))
        .header("authorization", esa(sim))
        .json(body)
        .send()
        .await
        .unwrap()
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
    let (status, answer) = get_order_v7(&sim, &number).await;
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

#[test]
fn order_progress_codes_and_labels_are_the_contracts() {
    let table: Vec<(u16, &str)> = [
        OrderProgress::AwaitingConfirmation,
        OrderProgress::RakutenProcessing,
        OrderProgress::AwaitingShipment,
        OrderProgress::AwaitingChangeConfirmation,
        OrderProgress::Shipped,
        OrderProgress::PaymentInProgress,
        OrderProgress::PaymentDone,
        OrderProgress::AwaitingCancellation,
        OrderProgress::Cancelled,
    ]
    .into_iter()
    .map(|p| (p.code(), p.label()))
    .collect();
    assert_eq!(
        table,
        [
            (100, "注文確認待ち"),
            (200, "楽天処理中"),
            (300, "発送待ち"),
            (400, "変更確定待ち"),
            (500, "発送済"),
            (600, "支払手続き中"),
            (700, "支払手続き済"),
            (800, "キャンセル確定待ち"),
            (900, "キャンセル確定"),
        ]
    );
    for (code, _) in &table {
        let p = OrderProgress::from_code(u64::from(*code)).unwrap();
        assert_eq!(p.code(), *code);
        assert_eq!(serde_json::to_value(p).unwrap(), json!(code));
    }
    assert_eq!(OrderProgress::from_code(150), None);
    assert_eq!(codes::DELIVERY_COMPANIES.len(), 32);
    assert!(codes::is_delivery_company("1001") && codes::is_delivery_company("1031"));
    assert!(!codes::is_delivery_company("9999") && !codes::is_delivery_company("ヤマト運輸"));
}

#[tokio::test]
async fn get_order_answers_the_contracts_keys() {
    let sim = start_sim(RakutenSimConfig::default()).await;
    let number = sim.next_order_number();
    sim.place_order(
        NewOrder::new(&number)
            .cash_on_delivery()
            .postage(None)
            .item(NewItem::new("NUM-1", "man-1", 1000, 2).sku("SKU-1")),
    );
    let (status, answer) = get_order_v7(&sim, &number).await;
    assert_eq!(status, 200);
    assert_eq!(answer["MessageModelList"][0]["messageType"], "INFO");
    let order = &answer["OrderModelList"][0];
    assert_eq!(order["orderProgress"], 100);
    assert_eq!(order["shopOrderCfmDatetime"], Value::Null);
    for amount in ["postagePrice", "totalPrice", "requestPrice"] {
        assert_eq!(order[amount], -9999, "{amount} is not determined yet");
    }
    assert_eq!(
        (&order["goodsPrice"], &order["deliveryPrice"]),
        (&json!(2000), &json!(330))
    );
    let orderer = &order["OrdererModel"];
    assert_eq!(
        (&orderer["zipCode1"], &orderer["zipCode2"]),
        (&json!("480"), &json!("0305"))
    );
    assert_eq!(
        [
            &orderer["phoneNumber1"],
            &orderer["phoneNumber2"],
            &orderer["phoneNumber3"]
        ],
        [&json!("052"), &json!("123"), &json!("4567")]
    );
    assert!(orderer["emailAddress"].is_string());
    assert_eq!(
        order["SettlementModel"],
        json!({"settlementMethodCode": 2, "settlementMethod": "代金引換", "rpaySettlementFlag": 0})
    );
    let package = &order["PackageModelList"][0];
    assert!(package["basketId"].is_i64());
    assert!(
        package["SenderModel"].get("emailAddress").is_none(),
        "only the orderer has an email address"
    );
    let item = &package["ItemModelList"][0];
    for key in [
        "itemDetailId",
        "itemName",
        "itemId",
        "itemNumber",
        "manageNumber",
        "price",
        "units",
        "deleteItemFlag",
    ] {
        assert!(item.get(key).is_some(), "{key} in {item}");
    }
    assert_eq!(item["units"], 2);
    let sku = &item["SkuModelList"][0];
    assert_eq!(sku["merchantDefinedSkuId"], "SKU-1");
    assert!(sku.get("variantId").is_some());
}

#[tokio::test]
async fn the_contracts_confirm_and_shipping_requests_move_an_order_to_500() {
    let sim = start_sim(RakutenSimConfig::default()).await;
    let number = sim.next_order_number();
    sim.place_order(
        NewOrder::new(&number)
            .item(NewItem::new("NUM-1", "man-1", 1000, 1))
            .package(vec![NewItem::new("NUM-2", "man-2", 500, 1)]),
    );
    let confirm = json!({"orderNumberList": [number]}).to_string();
    let (status, answer) = post(&sim, "confirmOrder/", JSON_UTF8, &confirm).await;
    assert_eq!(status, 200);
    assert_eq!(
        answer["MessageModelList"],
        json!([{"messageType": "INFO", "messageCode": codes::CONFIRM_ORDER_CONFIRMED,
                "message": "注文確認に成功しました。", "orderNumber": number}])
    );
    sim.advance_clock(Duration::from_secs(5 * 60));
    let baskets: Vec<i64> = sim
        .order(&number)
        .unwrap()
        .packages
        .iter()
        .map(|p| p.basket_id)
        .collect();
    // The contract's example body, one basket per destination.
    let row = json!({"deliveryCompany": "1001", "shippingNumber": "123456789012", "shippingDate": "2026-11-23"});
    let ship = json!({"orderNumber": number, "BasketidModelList": [
        {"basketId": baskets[0], "ShippingModelList": [row]},
        {"basketId": baskets[1], "ShippingModelList": [row]}]});
    let (status, answer) = post(&sim, "updateOrderShipping/", JSON_UTF8, &ship.to_string()).await;
    assert_eq!(status, 200);
    let messages = answer["MessageModelList"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    for (i, m) in messages.iter().enumerate() {
        assert_eq!(m["messageCode"], codes::SHIPPING_ADDED);
        assert_eq!(m["dataNumber"], i + 1, "1-based across the request");
        assert!(m["shippingDetailId"].is_i64());
    }
    let order = sim.order(&number).unwrap();
    assert_eq!(order.order_progress, OrderProgress::Shipped);
    let (_, answer) = get_order_v7(&sim, &number).await;
    let rows = &answer["OrderModelList"][0]["PackageModelList"][0]["ShippingModelList"];
    assert_eq!(
        rows,
        &json!([{"shippingDetailId": messages[0]["shippingDetailId"], "deliveryCompany": "1001",
                 "shippingNumber": "123456789012", "shippingDate": "2026-11-23"}])
    );
    // A bad format is refused with _ERROR_011 and applies nothing.
    let bad = json!({"orderNumber": number, "BasketidModelList": [
        {"basketId": baskets[0], "ShippingModelList": [
            {"deliveryCompany": "1001", "shippingNumber": "1", "shippingDate": "2026-11-23T00:00:00+0900"}]}]});
    let (status, answer) = post(&sim, "updateOrderShipping/", JSON_UTF8, &bad.to_string()).await;
    assert_eq!(
        (status, first_code(&answer)),
        (400, codes::SHIPPING_BAD_FORMAT)
    );
    assert_eq!(sim.order(&number).unwrap().packages[0].shipping.len(), 1);
}

#[tokio::test]
async fn the_licence_expiry_is_a_permission_of_its_own_and_an_expired_key_is_ga0001() {
    let sim = start_sim(RakutenSimConfig::default()).await;
    let http = reqwest::Client::new();
    let expiry = || {
        http.get(format!(
            "{}/license-key/expiry-date?licenseKey={}",
            sim.license_api_url(),
            sim.license_key()
        ))
        .header("authorization", esa(&sim))
        .send()
    };
    let at = dates::parse_jst("2027-02-20T23:59:59+0900").unwrap();
    sim.set_license_expiry(at);
    let answer = expiry().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.json::<Value>().await.unwrap(),
        json!({"expiryDate": "2027-02-20T23:59:59"}),
        "no offset, as the live API writes it"
    );
    // Unticked in RMS: the expiry call is refused, the order API answers.
    sim.set_license_expiry_permission(false);
    let refused = expiry().await.unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(
        refused.json::<Value>().await.unwrap(),
        json!({"Results": {"errorCode": "ES01-01", "message": "Un-Authorised"}})
    );
    let search = json!({"dateType": 1,
        "startDatetime": dates::format_jst(&(sim.now() - chrono::TimeDelta::days(1))),
        "endDatetime": dates::format_jst(&sim.now())});
    let (status, _) = post(&sim, "searchOrder/", JSON_UTF8, &search.to_string()).await;
    assert_eq!(status, 200);
    // Past its expiry the key answers GA0001 everywhere.
    sim.set_license_expiry(sim.now() - chrono::TimeDelta::seconds(1));
    let (status, answer) = post(&sim, "searchOrder/", JSON_UTF8, &search.to_string()).await;
    assert_eq!(
        (status, answer),
        (
            401,
            json!({"Results": {"errorCode": "GA0001", "message": "Un-Authorised"}})
        )
    );
    assert_eq!(sim.stats().unauthorized, 2);
}

#[tokio::test]
async fn the_inventory_api_takes_the_contracts_example_and_names_a_bad_entry() {
    let sim = start_sim(RakutenSimConfig::default()).await;
    sim.list_item(CatalogItem::new("mng1234", &[("sku1", "SKU-001")]));
    sim.list_item(CatalogItem::new("mng5678", &[("sku5", "SKU-005")]));
    sim.set_quantity("mng5678", "sku5", 10);
    // The contract's example: one ABSOLUTE, one RELATIVE entry.
    let upsert = json!({"inventories": [
        {"manageNumber": "mng1234", "variantId": "sku1", "mode": "ABSOLUTE", "quantity": 70},
        {"manageNumber": "mng5678", "variantId": "sku5", "mode": "RELATIVE", "quantity": -2}]});
    let answer = inventory_post(&sim, "inventories/bulk-upsert", &upsert).await;
    assert_eq!(answer.status(), 204);
    assert_eq!(
        (
            sim.quantity("mng1234", "sku1"),
            sim.quantity("mng5678", "sku5")
        ),
        (Some(70), Some(8))
    );
    let pairs = json!({"inventories": [
        {"manageNumber": "mng1234", "variantId": "sku1"},
        {"manageNumber": "mng1234", "variantId": "nothing"}]});
    let read: Value = inventory_post(&sim, "inventories/bulk-get", &pairs)
        .await
        .json()
        .await
        .unwrap();
    let held = read["inventories"].as_array().unwrap();
    assert_eq!(held.len(), 1, "a pair Rakuten does not hold is absent");
    assert_eq!(
        (
            &held[0]["manageNumber"],
            &held[0]["variantId"],
            &held[0]["quantity"]
        ),
        (&json!("mng1234"), &json!("sku1"), &json!(70))
    );
    let created = held[0]["created"].as_str().unwrap();
    assert!(
        created.ends_with("+09:00") && created.len() == 25,
        "{created}"
    );
    // One bad entry fails the whole call, naming it.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let bad = json!({"inventories": [
        {"manageNumber": "mng5678", "variantId": "sku5", "mode": "ABSOLUTE", "quantity": 1},
        {"manageNumber": "mng1234", "variantId": "sku1", "mode": "ABSOLUTE", "quantity": 100000}]});
    let answer = inventory_post(&sim, "inventories/bulk-upsert", &bad).await;
    assert_eq!(answer.status(), 400);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "IE0003");
    assert_eq!(
        body["errors"][0]["metadata"]["propertyPath"],
        "inventories[1].quantity"
    );
    assert_eq!(sim.quantity("mng1234", "sku1"), Some(70));
    assert_eq!(sim.quantity("mng5678", "sku5"), Some(8));
}

#[tokio::test]
async fn a_function_not_ticked_for_the_key_answers_401_like_a_bad_key_while_the_rest_works() {
    let sim = start_sim(RakutenSimConfig {
        unticked_functions: vec![Endpoint::ItemsSearch],
        ..RakutenSimConfig::default()
    })
    .await;
    sim.list_item(CatalogItem::new("mng1234", &[("sku1", "SKU-001")]));
    let search = || {
        reqwest::Client::new()
            .get(format!("{}/items/search?hits=10", sim.inventory_api_url()))
            .header("authorization", esa(&sim))
            .send()
    };
    let refused = search().await.unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(
        refused.json::<Value>().await.unwrap(),
        json!({"Results": {"errorCode": "ES01-01", "message": "Un-Authorised"}}),
        "the same answer as a bad key"
    );
    let upsert = json!({"inventories": [
        {"manageNumber": "mng1234", "variantId": "sku1", "mode": "ABSOLUTE", "quantity": 3}]});
    assert_eq!(
        inventory_post(&sim, "inventories/bulk-upsert", &upsert)
            .await
            .status(),
        204
    );
    sim.set_function_permission(Endpoint::ItemsSearch, true);
    sim.set_function_permission(Endpoint::BulkUpsert, false);
    assert_eq!(search().await.unwrap().status(), 200);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let refused = inventory_post(&sim, "inventories/bulk-upsert", &upsert).await;
    assert_eq!(refused.status(), 401);
    let pairs = json!({"inventories": [{"manageNumber": "mng1234", "variantId": "sku1"}]});
    assert_eq!(
        inventory_post(&sim, "inventories/bulk-get", &pairs)
            .await
            .status(),
        200,
        "bulk-get is a function of its own"
    );
    let (status, _) = post(
        &sim,
        "searchOrder/",
        JSON_UTF8,
        &json!({"dateType": 1,
            "startDatetime": dates::format_jst(&(sim.now() - chrono::TimeDelta::days(1))),
            "endDatetime": dates::format_jst(&sim.now())})
        .to_string(),
    )
    .await;
    assert_eq!(status, 200, "the order API works with the same key");
    assert_eq!(sim.stats().unauthorized, 2);
}
