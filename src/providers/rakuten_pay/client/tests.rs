//! The client against the simulator (and a capturing server for exact bytes),
//! over loopback HTTP.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use axum::routing::any;
use chrono::{TimeDelta, TimeZone, Timelike, Utc};
use serde_json::json;
use tokio::net::TcpListener;

use ordersync_sim::rakuten_pay::{
    self as sim, Endpoint, Fault, NewItem, NewOrder, OrderModel, OrderProgress, RakutenSimConfig,
    RakutenSimHandle,
};

use super::*;
use crate::providers::rakuten_pay::config::SkuSource;
use crate::providers::rakuten_pay::{RakutenOrder, sku_for, wire::jst};
use crate::sim::rakuten_pay::RakutenPaySimSettings;

async fn start_sim(cfg: RakutenSimConfig) -> RakutenSimHandle {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    sim::start(listener, cfg).await.expect("start simulator")
}

async fn setup() -> (RakutenSimHandle, RakutenClient) {
    let sim = start_sim(RakutenSimConfig::default()).await;
    let client = RakutenClient::new(sim.client_settings()).expect("client");
    (sim, client)
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

fn transient<T: std::fmt::Debug>(result: Result<T, CallError>) -> (String, Option<Duration>) {
    match result {
        Err(CallError::Transient {
            reason,
            retry_after,
        }) => (reason, retry_after),
        other => panic!("expected a transient error, got {other:?}"),
    }
}

/// The last day up to a minute from now, at the simulator's clock.
fn window(sim: &RakutenSimHandle) -> (DateTime<FixedOffset>, DateTime<FixedOffset>) {
    let now = sim.now();
    (now - TimeDelta::days(1), now + TimeDelta::minutes(1))
}

fn order(number: &str) -> NewOrder {
    NewOrder::new(number)
        .item(NewItem::new("NUM-1", "man-1", 5500, 2).sku("SKU-001"))
        .item(NewItem::new("", "man-2", 1200, 1))
}

fn numbers(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The client's reading of an order is, field by field, what the simulator
/// holds (its own model, in Rakuten's names): nothing lost or bent on the way.
fn assert_same_order(theirs: &OrderModel, ours: &RakutenOrder) {
    let amount = |a: Option<i64>| a.filter(|a| *a >= 0);
    assert_eq!(ours.order_number, theirs.order_number);
    assert_eq!(ours.progress.code(), theirs.order_progress.code());
    assert_eq!(ours.ordered_at, theirs.order_datetime);
    assert_eq!(ours.confirmed_at, theirs.shop_order_cfm_datetime);
    assert_eq!(ours.fixed_at, theirs.order_fix_datetime);
    let s = &theirs.settlement;
    assert_eq!(ours.rakuten_settlement, s.rpay_settlement_flag == 1);
    assert_eq!(ours.settlement_method_code, Some(s.settlement_method_code));
    assert_eq!(ours.settlement_method, s.settlement_method);
    let totals = &ours.totals;
    assert_eq!(totals.goods, amount(theirs.goods_price));
    assert_eq!(totals.postage, amount(theirs.postage_price));
    assert_eq!(totals.delivery, amount(theirs.delivery_price));
    assert_eq!(totals.total, amount(theirs.total_price));
    assert_eq!(totals.request, amount(theirs.request_price));
    let same_person = |ours: &crate::providers::rakuten_pay::Person,
                       theirs: &ordersync_sim::rakuten_pay::PersonModel| {
        assert_eq!(ours.family_name, theirs.family_name);
        assert_eq!(ours.first_name, theirs.first_name);
        assert_eq!(ours.family_name_kana, theirs.family_name_kana);
        assert_eq!(ours.first_name_kana, theirs.first_name_kana);
        assert_eq!(
            ours.postal_code,
            format!("{}{}", theirs.zip_code1, theirs.zip_code2)
        );
        assert_eq!(ours.prefecture, theirs.prefecture);
        assert_eq!(ours.city, theirs.city);
        assert_eq!(ours.sub_address, theirs.sub_address);
        let phone = [
            &theirs.phone_number1,
            &theirs.phone_number2,
            &theirs.phone_number3,
        ];
        assert_eq!(ours.phone, phone.map(String::as_str).join("-"));
        assert_eq!(ours.email, theirs.email_address);
    };
    same_person(&ours.customer, &theirs.orderer);
    assert_eq!(ours.packages.len(), theirs.packages.len());
    for (ours, theirs) in ours.packages.iter().zip(&theirs.packages) {
        assert_eq!(ours.basket_id, theirs.basket_id);
        assert_eq!(ours.deleted, theirs.package_delete_flag);
        same_person(&ours.recipient, &theirs.sender);
        assert_eq!(ours.items.len(), theirs.items.len());
        for (line, item) in ours.items.iter().zip(&theirs.items) {
            let sku = item.skus.first();
            assert_eq!(line.item_detail_id, item.item_detail_id);
            assert_eq!(line.name, item.item_name);
            assert_eq!(line.item_number, item.item_number);
            assert_eq!(line.manage_number, item.manage_number);
            assert_eq!(
                line.merchant_defined_sku_id,
                sku.and_then(|s| s.merchant_defined_sku_id.clone())
            );
            assert_eq!(line.variant_id, sku.and_then(|s| s.variant_id.clone()));
            assert_eq!((line.price, line.units), (item.price, item.units));
            assert_eq!(
                line.deleted,
                item.delete_item_flag || theirs.package_delete_flag
            );
        }
        assert_eq!(ours.shipping.len(), theirs.shipping.len());
        for (row, theirs) in ours.shipping.iter().zip(&theirs.shipping) {
            assert_eq!(row.shipping_detail_id, theirs.shipping_detail_id);
            assert_eq!(row.delivery_company, theirs.delivery_company);
            assert_eq!(row.shipping_number, theirs.shipping_number);
            assert_eq!(row.shipping_date, theirs.shipping_date);
        }
    }
}

/// What the capturing server saw.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

/// A server that records every request and answers like an empty Rakuten.
async fn capture() -> (String, Arc<Mutex<Vec<Seen>>>) {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log = seen.clone();
    let app = Router::new().fallback(any(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let log = log.clone();
            async move {
                let is_get = method == Method::GET;
                log.lock().unwrap().push(Seen {
                    method,
                    uri,
                    headers,
                    body,
                });
                if is_get {
                    axum::Json(json!({"expiryDate": "2027-02-20"}))
                } else {
                    axum::Json(json!({
                        "orderNumberList": [],
                        "MessageModelList": [{"messageType": "INFO", "messageCode": wire::SEARCH_ORDER_NO_HITS, "message": "注文検索に成功しました。(検索結果０件)"}],
                        "PaginationResponseModel": {"totalRecordsAmount": null, "totalPages": null, "requestPage": null}
                    }))
                }
            }
        },
    ));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), seen)
}

#[tokio::test]
async fn esa_header_content_type_path_and_body_are_exact() {
    let (base, seen) = capture().await;
    let client = RakutenClient::new(RakutenClientSettings {
        // A trailing slash in the config changes nothing.
        api_base_url: format!("{base}/es/2.0/order/"),
        license_api_url: format!("{base}/es/1.0/license-management"),
        service_secret: "abc".to_string().into(),
        license_key: "def".to_string().into(),
        http: crate::call::HttpLimits::with_timeout(Duration::from_secs(5)),
    })
    .unwrap();
    // Given in UTC: sent as JST wall clock.
    let start = Utc
        .with_ymd_and_hms(2026, 11, 21, 15, 0, 0)
        .unwrap()
        .fixed_offset();
    let end = start + TimeDelta::days(1);
    let page = client
        .search_order(
            start,
            end,
            &[
                Progress::AwaitingConfirmation,
                Progress::RakutenProcessing,
                Progress::AwaitingShipment,
            ],
            0,
        )
        .await
        .unwrap();
    assert_eq!(page.order_numbers.len(), 0);
    let expiry = client.license_expiry().await.unwrap();
    assert_eq!(wire::format_jst(&expiry), "2027-02-20T23:59:59+0900");

    let seen = seen.lock().unwrap().clone();
    let search = &seen[0];
    assert_eq!(search.method, Method::POST);
    assert_eq!(search.uri.path(), "/es/2.0/order/searchOrder/");
    assert_eq!(esa_authorization("abc", "def"), "ESA YWJjOmRlZg==");
    assert_eq!(
        search.headers.get("authorization").unwrap().as_bytes(),
        b"ESA YWJjOmRlZg=="
    );
    assert_eq!(
        search.headers.get("content-type").unwrap().as_bytes(),
        b"application/json; charset=utf-8"
    );
    let body: Value = serde_json::from_slice(&search.body).unwrap();
    assert_eq!(
        body,
        json!({"dateType": 1,
               "startDatetime": "2026-11-22T00:00:00+0900",
               "endDatetime": "2026-11-23T00:00:00+0900",
               "orderProgressList": [100, 200, 300],
               "PaginationRequestModel": {"requestRecordsAmount": 1000, "requestPage": 1,
                   "SortModelList": [{"sortColumn": 1, "sortDirection": 1}]}})
    );
    let license = &seen[1];
    assert_eq!(license.method, Method::GET);
    assert_eq!(
        license.uri.path(),
        "/es/1.0/license-management/license-key/expiry-date"
    );
    assert_eq!(license.uri.query(), Some("licenseKey=def"));
    assert_eq!(
        license.headers.get("authorization").unwrap().as_bytes(),
        b"ESA YWJjOmRlZg=="
    );
}

#[tokio::test]
async fn zero_hits_come_back_with_null_pagination() {
    let (sim, client) = setup().await;
    let (start, end) = window(&sim);
    let page = client.search_order(start, end, &[], 1).await.unwrap();
    assert_eq!(
        page,
        SearchPage {
            order_numbers: Vec::new(),
            total_records: None,
            total_pages: None,
            page: 1,
        }
    );
    assert_eq!(page.next_page(), None);
    assert!(!page.exceeds_search_limit());
}

#[tokio::test]
async fn fifteen_hundred_orders_take_two_pages_and_fifteen_get_orders() {
    let (sim, client) = setup().await;
    let base = sim.now() - TimeDelta::hours(2);
    for i in 0..1500 {
        let number = sim.next_order_number();
        sim.place_order(order(&number).ordered_at(base + TimeDelta::seconds(i)));
    }
    let (start, end) = window(&sim);
    let wanted = [Progress::AwaitingConfirmation];
    let mut found = Vec::new();
    let mut page = Some(1);
    while let Some(p) = page {
        let result = client.search_order(start, end, &wanted, p).await.unwrap();
        assert_eq!(result.total_records, Some(1500));
        assert_eq!(result.total_pages, Some(2));
        found.extend(result.order_numbers.iter().cloned());
        page = result.next_page();
    }
    assert_eq!(found.len(), 1500);
    let mut orders = Vec::new();
    for chunk in found.chunks(MAX_ORDERS_PER_CALL) {
        orders.extend(client.get_order(chunk).await.unwrap());
    }
    assert_eq!(orders.len(), 1500);
    assert!(
        orders.windows(2).all(|w| w[0].ordered_at < w[1].ordered_at),
        "sorted by order date, ascending"
    );
    let stats = sim.stats();
    assert_eq!(stats.search_order, 2);
    assert_eq!(stats.get_order, 15);
    assert!(stats.get_order_sizes.iter().all(|n| *n == 100));
    assert!(stats.max_requests_per_second >= 1);
    assert_eq!(stats.unauthorized + stats.unsupported_media_type, 0);
}

#[tokio::test]
async fn the_window_bounds_are_inclusive_and_round_trip() {
    let (sim, client) = setup().await;
    let start = jst().with_ymd_and_hms(2026, 11, 22, 0, 0, 0).unwrap();
    let end = start + TimeDelta::days(1);
    let before = jst().with_ymd_and_hms(2026, 11, 21, 23, 59, 59).unwrap();
    sim.place_order(order("at-start").ordered_at(start));
    sim.place_order(order("at-end").ordered_at(end));
    sim.place_order(order("before").ordered_at(before));
    let page = client.search_order(start, end, &[], 1).await.unwrap();
    assert_eq!(page.order_numbers, numbers(&["at-start", "at-end"]));
    let orders = client.get_order(&page.order_numbers).await.unwrap();
    assert_eq!(orders[0].ordered_at, start);
    assert_eq!(orders[1].ordered_at, end);
}

#[tokio::test]
async fn get_order_reads_null_lists_undetermined_amounts_and_skus() {
    let (sim, client) = setup().await;
    sim.place_order(order("A").postage(None));
    let orders = client.get_order(&numbers(&["A", "ghost"])).await.unwrap();
    assert_eq!(orders.len(), 1, "unknown numbers are absent");
    let o = &orders[0];
    assert_eq!(o.order_number, "A");
    assert_eq!(o.progress, Progress::AwaitingConfirmation);
    assert!(o.rakuten_settlement);
    assert_eq!(o.totals.goods, Some(12200));
    assert_eq!(o.totals.postage, None);
    assert_eq!(o.totals.total, None);
    assert_eq!(o.customer.postal_code, "4800305");
    assert_eq!(o.customer.phone, "052-123-4567");
    let p = &o.packages[0];
    assert!(p.shipping.is_empty());
    let preference = [
        SkuSource::MerchantDefinedSkuId,
        SkuSource::ItemNumber,
        SkuSource::ManageNumber,
    ];
    let skus: Vec<Option<String>> = p.items.iter().map(|i| sku_for(i, &preference)).collect();
    assert_eq!(
        skus,
        vec![Some("SKU-001".to_string()), Some("man-2".to_string())]
    );
    assert_same_order(&sim.order("A").unwrap(), o);

    sim.place_order(order("COD").cash_on_delivery());
    let cod = &client.get_order(&numbers(&["COD"])).await.unwrap()[0];
    assert!(!cod.rakuten_settlement);
    assert_eq!(cod.settlement_method_code, Some(2));
    assert_eq!(cod.totals.delivery, Some(330));
}

#[tokio::test]
async fn a_malformed_order_fails_the_whole_call_naming_it() {
    let (sim, client) = setup().await;
    sim.place_order(order("123456-20261122-00000001"));
    sim.place_order(order("123456-20261122-00000002"));
    assert!(sim.corrupt_order("123456-20261122-00000002"));
    let (status, code, message) = rejected(
        client
            .get_order(&numbers(&[
                "123456-20261122-00000001",
                "123456-20261122-00000002",
            ]))
            .await,
    );
    assert_eq!((status, code.as_str()), (200, MALFORMED_ORDER));
    assert!(
        message.starts_with("order 123456-20261122-00000002:"),
        "{message}"
    );
    let good = client
        .get_order(&numbers(&["123456-20261122-00000001"]))
        .await
        .unwrap();
    assert_eq!(good.len(), 1);
}

#[tokio::test]
async fn confirm_answers_per_order_and_the_clock_moves_them_on() {
    let (sim, client) = setup().await;
    sim.place_order(order("new"));
    sim.place_order(order("shipping").progress(OrderProgress::AwaitingShipment));
    sim.place_order(order("gone").progress(OrderProgress::Cancelled));
    sim.place_order(order("no-postage").postage(None));
    let results = client
        .confirm_order(&numbers(&[
            "new",
            "shipping",
            "gone",
            "no-postage",
            "ghost",
        ]))
        .await
        .unwrap();
    assert_eq!(
        results,
        vec![
            ("new".to_string(), ConfirmResult::Confirmed),
            ("shipping".to_string(), ConfirmResult::AlreadyDone),
            ("gone".to_string(), ConfirmResult::AlreadyCancelled),
            ("no-postage".to_string(), ConfirmResult::PostageNotSet),
            (
                "ghost".to_string(),
                ConfirmResult::Other("ORDER_EXT_API_CONFIRM_ORDER_ERROR_101".to_string())
            ),
        ]
    );
    assert_eq!(
        sim.stats().confirm_bodies[0],
        json!({"orderNumberList": ["new", "shipping", "gone", "no-postage", "ghost"]})
    );
    let o = &client.get_order(&numbers(&["new"])).await.unwrap()[0];
    assert_eq!(o.progress, Progress::RakutenProcessing);
    assert!(o.confirmed_at.is_some());
    assert_eq!(o.fixed_at, None);
    sim.advance_clock(Duration::from_secs(10 * 60));
    let o = &client.get_order(&numbers(&["new"])).await.unwrap()[0];
    assert_eq!(o.progress, Progress::AwaitingShipment);
    assert!(o.fixed_at.is_some());
    // A repeat (say after a lost answer) is "already done", which Rakuten
    // sends as a 400 with only per-order messages: still an answer.
    let again = client.confirm_order(&numbers(&["new"])).await.unwrap();
    assert_eq!(again, vec![("new".to_string(), ConfirmResult::AlreadyDone)]);
}

#[tokio::test]
async fn shipping_rows_are_added_then_updated() {
    let (sim, client) = setup().await;
    sim.place_order(
        order("A")
            .package(vec![NewItem::new("NUM-9", "man-9", 800, 1)])
            .progress(OrderProgress::AwaitingShipment),
    );
    let o = &client.get_order(&numbers(&["A"])).await.unwrap()[0];
    let (b1, b2) = (o.packages[0].basket_id, o.packages[1].basket_id);
    let date = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let results = client
        .update_order_shipping(
            "A",
            &[
                (
                    b1,
                    vec![ShippingRowInput::new(Carrier::Yamato, "123456789012", date)],
                ),
                (
                    b2,
                    vec![
                        ShippingRowInput::new(Carrier::Sagawa, "SG-1", date),
                        ShippingRowInput::new(Carrier::JapanPost, "JP-1", date),
                    ],
                ),
            ],
        )
        .await
        .unwrap();
    let summary: Vec<(i64, usize, ShipOutcome)> = results
        .iter()
        .map(|r| (r.basket_id, r.row, r.outcome.clone()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (b1, 0, ShipOutcome::Added),
            (b2, 0, ShipOutcome::Added),
            (b2, 1, ShipOutcome::Added)
        ]
    );
    let first_id = results[0].shipping_detail_id.unwrap();
    assert_eq!(
        sim.order("A").unwrap().order_progress,
        OrderProgress::Shipped
    );

    let mut fix = ShippingRowInput::new(Carrier::Yamato, "999999999999", date);
    fix.shipping_detail_id = Some(first_id);
    let updated = client
        .update_order_shipping("A", &[(b1, vec![fix])])
        .await
        .unwrap();
    assert_eq!(updated[0].outcome, ShipOutcome::Updated);
    assert_eq!(updated[0].shipping_detail_id, Some(first_id));

    let o = &client.get_order(&numbers(&["A"])).await.unwrap()[0];
    assert_eq!(o.progress, Progress::Shipped);
    let row = &o.packages[0].shipping[0];
    assert_eq!(
        (
            row.delivery_company.as_str(),
            row.shipping_number.as_deref()
        ),
        ("1001", Some("999999999999"))
    );
    assert_eq!(o.packages[1].shipping[1].delivery_company, "1003");
    let bodies = sim.stats().shipping_bodies;
    assert_eq!(bodies.len(), 2);
    assert_eq!(
        bodies[0]["BasketidModelList"][0],
        json!({"basketId": b1, "ShippingModelList": [
            {"deliveryCompany": "1001", "shippingNumber": "123456789012", "shippingDate": "2026-11-23"}]})
    );
    assert_eq!(
        bodies[1]["BasketidModelList"][0]["ShippingModelList"][0]["shippingDetailId"],
        json!(first_id)
    );
}

#[tokio::test]
async fn shipping_refusals_carry_rakutens_code() {
    let (sim, client) = setup().await;
    sim.place_order(order("A").progress(OrderProgress::AwaitingShipment));
    let basket = sim.order("A").unwrap().packages[0].basket_id;
    let date = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let mut bad = ShippingRowInput::new(Carrier::Yamato, "1", date);
    bad.delivery_company = "9999".to_string();
    let (status, code, message) = rejected(
        client
            .update_order_shipping("A", &[(basket, vec![bad])])
            .await,
    );
    assert_eq!((status, code.as_str()), (400, wire::SHIPPING_BAD_FORMAT));
    assert!(message.contains("row 1"), "{message}");
    assert!(sim.order("A").unwrap().packages[0].shipping.is_empty());
    assert!(sim.cancel("A"));
    let row = ShippingRowInput::new(Carrier::Yamato, "1", date);
    let (status, code, _) = rejected(
        client
            .update_order_shipping("A", &[(basket, vec![row])])
            .await,
    );
    assert_eq!(
        (status, code.as_str()),
        (400, wire::SHIPPING_ORDER_CANCELLED)
    );
}

#[tokio::test]
async fn maintenance_and_server_errors_are_transient() {
    let (sim, client) = setup().await;
    sim.place_order(order("A"));
    let (start, end) = window(&sim);
    sim.set_maintenance(true);
    let (reason, retry) = transient(client.search_order(start, end, &[], 1).await);
    assert!(reason.contains("503"), "{reason}");
    assert_eq!(retry, None);
    transient(client.get_order(&numbers(&["A"])).await);
    transient(client.confirm_order(&numbers(&["A"])).await);
    transient(client.license_expiry().await);
    sim.set_maintenance(false);
    sim.inject(
        Endpoint::Any,
        Fault::Maintenance {
            retry_after_secs: Some(120),
        },
        1,
    );
    let (_, retry) = transient(client.get_order(&numbers(&["A"])).await);
    assert_eq!(retry, Some(Duration::from_secs(120)));
    sim.inject(
        Endpoint::SearchOrder,
        Fault::TooManyRequests {
            retry_after_secs: 7,
        },
        1,
    );
    let (_, retry) = transient(client.search_order(start, end, &[], 1).await);
    assert_eq!(retry, Some(Duration::from_secs(7)));
    sim.inject(Endpoint::GetOrder, Fault::Status(502), 1);
    transient(client.get_order(&numbers(&["A"])).await);
    sim.inject(Endpoint::GetOrder, Fault::Garbage, 1);
    let (reason, _) = transient(client.get_order(&numbers(&["A"])).await);
    assert!(reason.contains("unreadable"), "{reason}");
    // Healthy again: nothing was changed by the failed calls.
    let page = client.search_order(start, end, &[], 1).await.unwrap();
    assert_eq!(page.order_numbers, numbers(&["A"]));
    assert_eq!(
        sim.order("A").unwrap().order_progress,
        OrderProgress::AwaitingConfirmation
    );
}

#[tokio::test]
async fn gateway_errors_are_rejections_with_their_code() {
    let (sim, client) = setup().await;
    sim.inject(
        Endpoint::GetOrder,
        Fault::Gateway {
            status: 400,
            code: "ES04-01",
        },
        1,
    );
    let (status, code, _) = rejected(client.get_order(&numbers(&["A"])).await);
    assert_eq!((status, code.as_str()), (400, "ES04-01"));
    sim.inject(
        Endpoint::SearchOrder,
        Fault::Gateway {
            status: 403,
            code: "ES01-01",
        },
        1,
    );
    let (start, end) = window(&sim);
    let err = client.search_order(start, end, &[], 1).await.unwrap_err();
    assert!(is_credential_error(&err));
    assert!(
        matches!(&err, CallError::Configuration { code, fix } if code == "ES01-01" && fix.contains("license_key")),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_expired_or_wrong_key_is_es01_01() {
    let (sim, client) = setup().await;
    let (start, end) = window(&sim);
    client.search_order(start, end, &[], 1).await.unwrap();
    let expiry = client.license_expiry().await.unwrap();
    assert!(expiry > sim.now() + TimeDelta::days(89));
    sim.advance_clock(Duration::from_secs(91 * 24 * 3600));
    let (start, end) = window(&sim);
    let err = client.search_order(start, end, &[], 1).await.unwrap_err();
    // An expired key answers GA0001, as the live API does; a credential problem like ES01-01.
    assert!(is_credential_error(&err));
    assert!(
        matches!(&err, CallError::Configuration { code, .. } if code == "GA0001"),
        "{err:?}"
    );
    assert!(is_credential_error(
        &client.license_expiry().await.unwrap_err()
    ));

    let mut settings = sim.client_settings();
    settings.service_secret = "SP-wrong".to_string().into();
    let wrong = RakutenClient::new(settings).unwrap();
    assert!(is_credential_error(
        &wrong.get_order(&numbers(&["A"])).await.unwrap_err()
    ));
    assert_eq!(sim.stats().unauthorized, 3);
}

#[tokio::test]
async fn a_new_license_key_works_after_its_activation_delay() {
    let (sim, client) = setup().await;
    let old_expiry = sim.now() + TimeDelta::days(10);
    sim.set_license_expiry(old_expiry);
    assert_eq!(
        client.license_expiry().await.unwrap(),
        old_expiry.with_nanosecond(0).unwrap()
    );
    let new_expiry = sim.now() + TimeDelta::days(100);
    sim.add_license_key("SL-new-key", Duration::from_secs(20 * 60), new_expiry);
    let mut settings = sim.client_settings();
    settings.license_key = "SL-new-key".to_string().into();
    let renewed = RakutenClient::new(settings).unwrap();
    assert!(is_credential_error(
        &renewed.license_expiry().await.unwrap_err()
    ));
    sim.advance_clock(Duration::from_secs(20 * 60));
    assert_eq!(
        renewed.license_expiry().await.unwrap(),
        new_expiry.with_nanosecond(0).unwrap()
    );
    // The old key keeps working until its own expiry.
    client.license_expiry().await.unwrap();
    assert_eq!(sim.stats().license, 4);
}

#[tokio::test]
async fn a_lost_answer_is_transient_and_the_change_stands() {
    let sim = start_sim(RakutenSimConfig::default()).await;
    let mut settings = sim.client_settings();
    settings.http.timeout = Duration::from_millis(300);
    let client = RakutenClient::new(settings).unwrap();
    sim.place_order(order("A"));
    sim.inject(
        Endpoint::ConfirmOrder,
        Fault::Delay(Duration::from_secs(30)),
        1,
    );
    let (reason, _) = transient(client.confirm_order(&numbers(&["A"])).await);
    assert!(reason.contains("timed out"), "{reason}");
    assert_eq!(
        sim.order("A").unwrap().order_progress,
        OrderProgress::RakutenProcessing
    );
    let again = client.confirm_order(&numbers(&["A"])).await.unwrap();
    assert_eq!(again[0].1, ConfirmResult::AlreadyDone);
    sim.shutdown().await;
}

#[tokio::test]
async fn errors_and_debug_output_never_show_the_credentials() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let key = "SL-very-secret-license-key";
    let secret = "SP-very-secret-service-secret";
    let client = RakutenClient::new(RakutenClientSettings {
        api_base_url: format!("http://{addr}/es/2.0/order"),
        license_api_url: format!("http://{addr}/es/1.0/license-management"),
        service_secret: secret.to_string().into(),
        license_key: key.to_string().into(),
        http: crate::call::HttpLimits::with_timeout(Duration::from_secs(2)),
    })
    .unwrap();
    let (reason, _) = transient(client.license_expiry().await);
    assert!(
        !reason.contains(key) && !reason.contains(secret),
        "{reason}"
    );
    let (reason, _) = transient(client.get_order(&numbers(&["A"])).await);
    assert!(
        !reason.contains(key) && !reason.contains(secret),
        "{reason}"
    );
    let debug = format!("{client:?}");
    assert!(!debug.contains(key) && !debug.contains(secret), "{debug}");
    let settings = format!(
        "{:?}",
        RakutenClientSettings {
            api_base_url: String::new(),
            license_api_url: String::new(),
            service_secret: secret.to_string().into(),
            license_key: key.to_string().into(),
            http: crate::call::HttpLimits::with_timeout(Duration::from_secs(1)),
        }
    );
    assert!(!settings.contains(key) && !settings.contains(secret));
}

#[tokio::test]
async fn requests_outside_the_contract_are_refused_before_sending() {
    let (sim, client) = setup().await;
    let many: Vec<String> = (0..=MAX_ORDERS_PER_CALL).map(|i| format!("N{i}")).collect();
    assert_eq!(rejected(client.get_order(&many).await).0, 0);
    assert_eq!(rejected(client.confirm_order(&many).await).0, 0);
    assert_eq!(client.get_order(&[]).await.unwrap(), Vec::new());
    let now = sim.now();
    let (status, code, _) = rejected(
        client
            .search_order(now - TimeDelta::days(64), now, &[], 1)
            .await,
    );
    assert_eq!((status, code.as_str()), (0, "WINDOW_TOO_LONG"));
    let (status, code, _) = rejected(
        client
            .search_order(now, now - TimeDelta::days(1), &[], 1)
            .await,
    );
    assert_eq!((status, code.as_str()), (0, "INVALID_WINDOW"));
    let date = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let rows: Vec<ShippingRowInput> = (0..=MAX_SHIPPING_ROWS_PER_BASKET)
        .map(|i| ShippingRowInput::new(Carrier::Other, format!("T{i}"), date))
        .collect();
    let (status, code, _) = rejected(client.update_order_shipping("A", &[(1, rows)]).await);
    assert_eq!((status, code.as_str()), (0, "TOO_MANY_SHIPPING_ROWS"));
    assert_eq!(
        rejected(client.update_order_shipping("A", &[]).await).1,
        "NO_SHIPPING_ROWS"
    );
    assert_eq!(sim.stats().order_api_calls(), 0);
    let bad = RakutenClient::new(RakutenClientSettings {
        api_base_url: "not a url".into(),
        ..sim.client_settings()
    });
    assert_eq!(rejected(bad).1, "INVALID_CONFIG");
}

#[tokio::test]
async fn a_search_over_the_cap_is_flagged() {
    let page = SearchPage {
        order_numbers: Vec::new(),
        total_records: Some(MAX_SEARCH_RESULTS),
        total_pages: Some(15),
        page: 15,
    };
    assert!(page.exceeds_search_limit());
    assert_eq!(page.next_page(), None);
    let (sim, client) = setup().await;
    sim.inject(
        Endpoint::SearchOrder,
        Fault::Gateway {
            status: 500,
            code: "ES99-99",
        },
        1,
    );
    let (start, end) = window(&sim);
    let (reason, _) = transient(client.search_order(start, end, &[], 1).await);
    assert!(reason.contains("ES99-99"), "{reason}");
}
