//! The status machine and the endpoints' rules, without HTTP.

use std::time::Duration;

use chrono::TimeZone;
use serde_json::json;

use super::*;
use crate::jst;
use crate::rakuten_pay::inventory::CatalogItem;
use crate::rakuten_pay::wire::codes;

fn t0() -> DateTime<FixedOffset> {
    jst().with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap()
}

fn minutes(n: i64) -> TimeDelta {
    TimeDelta::minutes(n)
}

fn timing() -> Timing {
    Timing {
        processing: minutes(5),
        cancel: minutes(10),
        edit: minutes(15),
        payment: Some(minutes(60)),
    }
}

fn state() -> SimState {
    SimState::new(
        timing(),
        "secret".into(),
        "key-1".into(),
        t0() + TimeDelta::days(90),
        t0(),
        TimeDelta::hours(24),
    )
}

fn order(number: &str) -> NewOrder {
    NewOrder::new(number).item(NewItem::new("NUM-1", "man-1", 1000, 2).sku("SKU-1"))
}

fn codes(answer: &Answer) -> Vec<String> {
    answer.body["MessageModelList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["messageCode"].as_str().unwrap().to_string())
        .collect()
}

fn search_body(start: &str, end: &str) -> Value {
    json!({"dateType": 1, "startDatetime": start, "endDatetime": end,
           "PaginationRequestModel": {"requestRecordsAmount": 1000, "requestPage": 1}})
}

#[test]
fn confirm_then_processing_then_awaiting_shipment_on_the_clock() {
    let mut s = state();
    s.place(order("A"), t0());
    let a = s.confirm_order(&json!({"orderNumberList": ["A"]}), t0());
    assert_eq!(a.status, 200);
    assert_eq!(codes(&a), [codes::CONFIRM_ORDER_CONFIRMED]);
    assert_eq!(a.body["MessageModelList"][0]["orderNumber"], json!("A"));
    assert_eq!(
        s.order("A").unwrap().order_progress,
        OrderProgress::RakutenProcessing
    );
    s.settle(t0() + minutes(4));
    assert_eq!(
        s.order("A").unwrap().order_progress,
        OrderProgress::RakutenProcessing
    );
    s.settle(t0() + minutes(50));
    let o = s.order("A").unwrap();
    assert_eq!(o.order_progress, OrderProgress::AwaitingShipment);
    assert_eq!(o.shop_order_cfm_datetime, Some(t0()));
    assert_eq!(
        o.order_fix_datetime,
        Some(t0() + minutes(5)),
        "stamped with the due time"
    );
}

#[test]
fn confirm_answers_per_order() {
    let mut s = state();
    s.place(order("new"), t0());
    s.place(order("cancelled").progress(OrderProgress::Cancelled), t0());
    s.place(
        order("waiting").progress(OrderProgress::AwaitingCancellation),
        t0(),
    );
    s.place(
        order("shipping").progress(OrderProgress::AwaitingShipment),
        t0(),
    );
    s.place(order("no-postage").postage(None), t0());
    let a = s.confirm_order(
        &json!({"orderNumberList": ["new", "cancelled", "waiting", "shipping", "no-postage", "ghost"]}),
        t0(),
    );
    assert_eq!(a.status, 200);
    assert_eq!(
        codes(&a),
        [
            codes::CONFIRM_ORDER_CONFIRMED,
            codes::CONFIRM_ORDER_CANCELLED,
            codes::CONFIRM_ORDER_CANCELLED,
            codes::CONFIRM_ORDER_OTHER_STATUS,
            codes::CONFIRM_ORDER_POSTAGE_NOT_SET,
            "ORDER_EXT_API_CONFIRM_ORDER_ERROR_101",
        ]
    );
    // All refused: 400.
    let again = s.confirm_order(&json!({"orderNumberList": ["new"]}), t0());
    assert_eq!(again.status, 400);
    assert_eq!(codes(&again), [codes::CONFIRM_ORDER_OTHER_STATUS]);
    // Postage set: confirmable.
    assert!(s.set_postage("no-postage", 800));
    let ok = s.confirm_order(&json!({"orderNumberList": ["no-postage"]}), t0());
    assert_eq!(codes(&ok), [codes::CONFIRM_ORDER_CONFIRMED]);
    assert_eq!(s.order("no-postage").unwrap().total_price, Some(2800));
}

#[test]
fn confirm_and_get_order_check_the_request() {
    let mut s = state();
    let many: Vec<String> = (0..=MAX_ORDER_NUMBERS).map(|i| i.to_string()).collect();
    let cases = [
        (json!({}), "ORDER_EXT_API_CONFIRM_ORDER_ERROR_009"),
        (
            json!({"orderNumberList": []}),
            "ORDER_EXT_API_CONFIRM_ORDER_ERROR_010",
        ),
        (
            json!({"orderNumberList": [1]}),
            "ORDER_EXT_API_CONFIRM_ORDER_ERROR_011",
        ),
        (
            json!({"orderNumberList": many}),
            "ORDER_EXT_API_CONFIRM_ORDER_ERROR_012",
        ),
    ];
    for (body, code) in cases {
        let a = s.confirm_order(&body, t0());
        assert_eq!(
            (a.status, codes(&a)),
            (400, vec![code.to_string()]),
            "{body}"
        );
    }
    let no_version = s.get_order(&json!({"orderNumberList": ["A"]}), t0());
    assert_eq!(no_version.status, 400);
    assert_eq!(codes(&no_version), ["ORDER_EXT_API_GET_ORDER_ERROR_009"]);
    assert_eq!(no_version.body["OrderModelList"], Value::Null);
    let bad_version = s.get_order(&json!({"orderNumberList": ["A"], "version": "7"}), t0());
    assert_eq!(codes(&bad_version), ["ORDER_EXT_API_GET_ORDER_ERROR_011"]);
}

#[test]
fn get_order_renders_nulls_minus_9999_and_version_differences() {
    let mut s = state();
    s.place(order("A").postage(None), t0());
    s.place(
        NewOrder::new("B").item(NewItem::new("", "man-2", 500, 1)),
        t0(),
    );
    let a = s.get_order(
        &json!({"orderNumberList": ["A", "B", "ghost"], "version": 7}),
        t0(),
    );
    assert_eq!(a.status, 200);
    let orders = a.body["OrderModelList"].as_array().unwrap();
    assert_eq!(orders.len(), 2, "unknown numbers are left out");
    let o = &orders[0];
    assert_eq!(o["postagePrice"], json!(-9999));
    assert_eq!(o["totalPrice"], json!(-9999));
    assert_eq!(o["goodsPrice"], json!(2000));
    assert_eq!(o["PackageModelList"][0]["ShippingModelList"], Value::Null);
    let item = &o["PackageModelList"][0]["ItemModelList"][0];
    assert_eq!(
        item["SkuModelList"][0]["merchantDefinedSkuId"],
        json!("SKU-1")
    );
    let b_item = &orders[1]["PackageModelList"][0]["ItemModelList"][0];
    assert_eq!(b_item["SkuModelList"], Value::Null);
    assert_eq!(b_item["itemNumber"], json!(""));
    // Versions below 7 are refused (old versions are being retired); each
    // version asked is answered in its own shape.
    let v6 = s.get_order(&json!({"orderNumberList": ["A"], "version": 6}), t0());
    assert_eq!(v6.status, 400);
    assert_eq!(codes(&v6), ["ORDER_EXT_API_GET_ORDER_ERROR_011"]);
    assert!(o.get("goodsTax").is_some() && o.get("reqPriceTax").is_none());
    let v10 = s.get_order(&json!({"orderNumberList": ["A"], "version": 10}), t0());
    let o10 = &v10.body["OrderModelList"][0];
    assert!(o10.get("goodsTax").is_none() && o10.get("reqPriceTax").is_some());
    assert_eq!(
        o10["PackageModelList"][0]["ItemModelList"][0]["deleteItemFlag"],
        json!(0)
    );
    assert_eq!(o10["PackageModelList"][0]["packageDeleteFlag"], json!(0));
}

#[test]
fn deleted_lines_and_packages_stay_listed_with_their_flags() {
    let mut s = state();
    s.place(
        order("D").package(vec![NewItem::new("N2", "m2", 300, 1)]),
        t0(),
    );
    let o = s.order("D").unwrap().clone();
    let (line, second) = (
        o.packages[0].items[0].item_detail_id,
        o.packages[1].basket_id,
    );
    // At 100 a deletion keeps the order at 100; at 300 it goes through 400.
    assert!(s.edit(
        "D",
        OrderEdit::RemoveItem {
            item_detail_id: line
        },
        t0()
    ));
    assert!(
        !s.edit(
            "D",
            OrderEdit::RemoveItem {
                item_detail_id: line
            },
            t0()
        ),
        "once"
    );
    assert_eq!(
        s.order("D").unwrap().order_progress,
        OrderProgress::AwaitingConfirmation
    );
    let read = s.get_order(&json!({"orderNumberList": ["D"], "version": 7}), t0());
    let d = &read.body["OrderModelList"][0];
    assert_eq!(
        d["PackageModelList"][0]["ItemModelList"][0]["deleteItemFlag"],
        json!(1)
    );
    assert_eq!(
        d["goodsPrice"],
        json!(300),
        "deleted lines leave the totals"
    );
    s.set_progress("D", OrderProgress::AwaitingShipment, t0());
    assert!(s.edit("D", OrderEdit::RemovePackage { basket_id: second }, t0()));
    assert_eq!(
        s.order("D").unwrap().order_progress,
        OrderProgress::AwaitingChangeConfirmation
    );
    let read = s.get_order(&json!({"orderNumberList": ["D"], "version": 7}), t0());
    let d = &read.body["OrderModelList"][0];
    assert_eq!(d["PackageModelList"][1]["packageDeleteFlag"], json!(1));
    assert_eq!(
        d["PackageModelList"][1]["ItemModelList"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn an_order_left_unconfirmed_is_cancelled_after_14_days() {
    let mut s = state();
    s.place(order("U"), t0());
    s.place(order("C"), t0());
    s.confirm_order(&json!({"orderNumberList": ["C"]}), t0());
    s.settle(t0() + TimeDelta::days(14) - minutes(1));
    assert_eq!(
        s.order("U").unwrap().order_progress,
        OrderProgress::AwaitingConfirmation
    );
    s.settle(t0() + TimeDelta::days(14));
    assert_eq!(
        s.order("U").unwrap().order_progress,
        OrderProgress::AwaitingCancellation
    );
    s.settle(t0() + TimeDelta::days(14) + minutes(10));
    assert_eq!(
        s.order("U").unwrap().order_progress,
        OrderProgress::Cancelled
    );
    assert_ne!(
        s.order("C").unwrap().order_progress,
        OrderProgress::Cancelled,
        "confirmed in time"
    );
}

#[test]
fn cancel_and_edit_follow_the_machine() {
    let mut s = state();
    for (n, p) in [
        ("100", OrderProgress::AwaitingConfirmation),
        ("200", OrderProgress::RakutenProcessing),
        ("300", OrderProgress::AwaitingShipment),
        ("500", OrderProgress::Shipped),
    ] {
        s.place(order(n).progress(p), t0());
    }
    assert!(s.cancel("100", t0()));
    assert!(s.cancel("200", t0()));
    assert!(s.cancel("300", t0()));
    assert!(
        !s.cancel("500", t0()),
        "shipped orders are not cancelled this way"
    );
    assert!(!s.cancel("ghost", t0()));
    assert_eq!(
        s.order("200").unwrap().order_progress,
        OrderProgress::AwaitingCancellation
    );
    s.settle(t0() + minutes(10));
    assert_eq!(
        s.order("200").unwrap().order_progress,
        OrderProgress::Cancelled
    );

    s.place(order("E").progress(OrderProgress::AwaitingShipment), t0());
    let line = s.order("E").unwrap().packages[0].items[0].item_detail_id;
    assert!(!s.edit(
        "100",
        OrderEdit::RemoveItem {
            item_detail_id: line
        },
        t0()
    ));
    assert!(
        !s.edit("E", OrderEdit::RemoveItem { item_detail_id: 1 }, t0()),
        "no such line"
    );
    assert!(s.edit(
        "E",
        OrderEdit::SetUnits {
            item_detail_id: line,
            units: 5
        },
        t0()
    ));
    let o = s.order("E").unwrap();
    assert_eq!(o.order_progress, OrderProgress::AwaitingChangeConfirmation);
    assert_eq!(o.goods_price, Some(5000));
    s.settle(t0() + minutes(15));
    assert_eq!(
        s.order("E").unwrap().order_progress,
        OrderProgress::AwaitingShipment
    );
    assert!(s.edit(
        "E",
        OrderEdit::AddItem {
            basket_id: None,
            item: NewItem::new("N2", "m2", 300, 1)
        },
        t0() + minutes(20)
    ));
    assert_eq!(s.order("E").unwrap().packages[0].items.len(), 2);
}

#[test]
fn shipping_completes_every_basket_then_pays_out() {
    let mut s = state();
    s.place(
        order("A")
            .package(vec![NewItem::new("N2", "m2", 100, 1)])
            .progress(OrderProgress::AwaitingShipment),
        t0(),
    );
    let baskets: Vec<i64> = s
        .order("A")
        .unwrap()
        .packages
        .iter()
        .map(|p| p.basket_id)
        .collect();
    let row = |company: &str| json!({"deliveryCompany": company, "shippingNumber": "123456789012", "shippingDate": "2026-11-23"});
    let first = s.update_order_shipping(
        &json!({"orderNumber": "A", "BasketidModelList": [{"basketId": baskets[0], "ShippingModelList": [row("1001")]}]}),
        t0(),
    );
    assert_eq!(
        (first.status, codes(&first)),
        (200, vec![codes::SHIPPING_ADDED.to_string()])
    );
    assert_eq!(first.body["MessageModelList"][0]["dataNumber"], json!(1));
    let id = first.body["MessageModelList"][0]["shippingDetailId"]
        .as_i64()
        .unwrap();
    assert_eq!(
        s.order("A").unwrap().order_progress,
        OrderProgress::AwaitingShipment,
        "one basket left"
    );
    let second = s.update_order_shipping(
        &json!({"orderNumber": "A", "BasketidModelList": [
            {"basketId": baskets[0], "ShippingModelList": [{"shippingDetailId": id, "shippingNumber": "999"}]},
            {"basketId": baskets[1], "ShippingModelList": [row("1002")]}]}),
        t0() + minutes(1),
    );
    assert_eq!(
        codes(&second),
        [codes::SHIPPING_UPDATED, codes::SHIPPING_ADDED]
    );
    assert_eq!(second.body["MessageModelList"][1]["dataNumber"], json!(2));
    let o = s.order("A").unwrap();
    assert_eq!(o.order_progress, OrderProgress::Shipped);
    assert_eq!(
        o.packages[0].shipping[0].shipping_number.as_deref(),
        Some("999")
    );
    assert_eq!(
        o.packages[0].shipping[0].delivery_company, "1001",
        "omitted = unchanged"
    );
    s.settle(t0() + minutes(200));
    let o = s.order("A").unwrap();
    assert_eq!(o.order_progress, OrderProgress::PaymentDone);
    // Shipping-report date search (dateType 5) finds it.
    let mut body = search_body("2026-11-22T00:00:00+0900", "2026-11-23T00:00:00+0900");
    body["dateType"] = json!(5);
    assert_eq!(
        s.search_order(&body, t0() + minutes(200)).body["orderNumberList"],
        json!(["A"])
    );
}

#[test]
fn shipping_errors_apply_nothing() {
    let mut s = state();
    s.place(order("A").progress(OrderProgress::AwaitingShipment), t0());
    let basket = s.order("A").unwrap().packages[0].basket_id;
    let good =
        json!({"deliveryCompany": "1001", "shippingNumber": "1", "shippingDate": "2026-11-23"});
    let ship = |s: &mut SimState, rows: Value| {
        s.update_order_shipping(
            &json!({"orderNumber": "A", "BasketidModelList": [{"basketId": basket, "ShippingModelList": rows}]}),
            t0(),
        )
    };
    let bad = ship(
        &mut s,
        json!([good, {"deliveryCompany": "ヤマト運輸", "shippingNumber": "2", "shippingDate": "2026/11/23"}]),
    );
    assert_eq!(bad.status, 400);
    assert_eq!(
        codes(&bad),
        [codes::SHIPPING_BAD_FORMAT, codes::SHIPPING_BAD_FORMAT]
    );
    assert_eq!(bad.body["MessageModelList"][0]["dataNumber"], json!(2));
    assert!(s.order("A").unwrap().packages[0].shipping.is_empty());
    let too_many: Vec<Value> = (0..=MAX_SHIPPING_ROWS).map(|_| good.clone()).collect();
    assert_eq!(
        codes(&ship(&mut s, json!(too_many))),
        ["ORDER_EXT_API_UPDATE_ORDERSHIPPING_ERROR_105"]
    );
    let missing_company = ship(&mut s, json!([{"shippingNumber": "1"}]));
    assert_eq!(
        codes(&missing_company),
        ["ORDER_EXT_API_UPDATE_ORDERSHIPPING_ERROR_009"]
    );
    let unknown_id = ship(
        &mut s,
        json!([{"shippingDetailId": 1, "shippingNumber": "1"}]),
    );
    assert_eq!(
        codes(&unknown_id),
        ["ORDER_EXT_API_UPDATE_ORDERSHIPPING_ERROR_106"]
    );
    let wrong_basket = s.update_order_shipping(
        &json!({"orderNumber": "A", "BasketidModelList": [{"basketId": 1, "ShippingModelList": [good]}]}),
        t0(),
    );
    assert_eq!(
        codes(&wrong_basket),
        ["ORDER_EXT_API_UPDATE_ORDERSHIPPING_ERROR_104"]
    );
    assert!(s.cancel("A", t0()));
    let cancelled = ship(&mut s, json!([good]));
    assert_eq!(codes(&cancelled), [codes::SHIPPING_ORDER_CANCELLED]);
    s.place(order("early"), t0());
    let early = s.update_order_shipping(
        &json!({"orderNumber": "early", "BasketidModelList": []}),
        t0(),
    );
    assert_eq!(
        codes(&early),
        ["ORDER_EXT_API_UPDATE_ORDERSHIPPING_ERROR_103"]
    );
    assert!(
        s.stats.shipping_bodies.is_empty(),
        "recording is the HTTP layer's job"
    );
}

#[test]
fn shipping_rows_can_be_deleted() {
    let mut s = state();
    s.place(order("A").progress(OrderProgress::Shipped), t0());
    let basket = s.order("A").unwrap().packages[0].basket_id;
    let add = s.update_order_shipping(
        &json!({"orderNumber": "A", "BasketidModelList": [{"basketId": basket, "ShippingModelList": [{"deliveryCompany": "1003"}]}]}),
        t0(),
    );
    let id = add.body["MessageModelList"][0]["shippingDetailId"].clone();
    let del = s.update_order_shipping(
        &json!({"orderNumber": "A", "BasketidModelList": [{"basketId": basket, "ShippingModelList": [{"shippingDetailId": id, "shippingDeleteFlag": 1}]}]}),
        t0(),
    );
    assert_eq!(codes(&del), [codes::SHIPPING_DELETED]);
    assert!(s.order("A").unwrap().packages[0].shipping.is_empty());
}

#[test]
fn search_validates_like_the_contract() {
    let mut s = state();
    let now = t0();
    let ok = |start: &str, end: &str| search_body(start, end);
    let cases = [
        (
            json!({"startDatetime": "2026-11-22T00:00:00+0900", "endDatetime": "2026-11-23T00:00:00+0900"}),
            "009",
        ),
        (ok("", "2026-11-23T00:00:00+0900"), "010"),
        (
            ok("2026-11-22T00:00:00+09:00", "2026-11-23T00:00:00+0900"),
            "011",
        ),
        (
            ok("2026-11-22T00:00:00Z", "2026-11-23T00:00:00+0900"),
            "011",
        ),
        (
            ok("2026-11-22T00:00:00.000+0900", "2026-11-23T00:00:00+0900"),
            "011",
        ),
        (
            ok("2026-11-22 00:00:00+0900", "2026-11-23T00:00:00+0900"),
            "011",
        ),
        (ok("2026-11-22", "2026-11-23T00:00:00+0900"), "011"),
        (
            ok("2026-09-01T00:00:00+0900", "2026-11-22T00:00:00+0900"),
            "012",
        ),
        (
            ok("2026-11-23T00:00:00+0900", "2026-11-22T00:00:00+0900"),
            "012",
        ),
        (
            ok("2024-11-01T00:00:00+0900", "2024-11-02T00:00:00+0900"),
            "013",
        ),
    ];
    for (body, code) in cases {
        let a = s.search_order(&body, now);
        assert_eq!(a.status, 400, "{body}");
        assert_eq!(
            codes(&a)[0],
            format!("ORDER_EXT_API_SEARCH_ORDER_ERROR_{code}"),
            "{body}"
        );
        assert_eq!(a.body["orderNumberList"], Value::Null);
        assert_eq!(a.body["PaginationResponseModel"], Value::Null);
    }
    let mut big_page = ok("2026-11-22T00:00:00+0900", "2026-11-23T00:00:00+0900");
    big_page["PaginationRequestModel"]["requestRecordsAmount"] = json!(1001);
    assert_eq!(
        codes(&s.search_order(&big_page, now))[0],
        "ORDER_EXT_API_SEARCH_ORDER_ERROR_011"
    );
    let mut bad_progress = ok("2026-11-22T00:00:00+0900", "2026-11-23T00:00:00+0900");
    bad_progress["orderProgressList"] = json!([100, 150]);
    assert_eq!(
        codes(&s.search_order(&bad_progress, now))[0],
        "ORDER_EXT_API_SEARCH_ORDER_ERROR_011"
    );
}

#[test]
fn search_pages_filters_and_sorts() {
    let mut s = state();
    for i in 0..5 {
        s.place(
            order(&format!("N{i}")).ordered_at(t0() + minutes(5 - i)),
            t0(),
        );
    }
    s.set_progress("N0", OrderProgress::AwaitingShipment, t0());
    let mut body = search_body("2026-11-22T10:00:00+0900", "2026-11-22T10:05:00+0900");
    body["PaginationRequestModel"]["requestRecordsAmount"] = json!(2);
    let page1 = s.search_order(&body, t0());
    assert_eq!(
        page1.body["orderNumberList"],
        json!(["N4", "N3"]),
        "oldest first"
    );
    assert_eq!(
        page1.body["PaginationResponseModel"],
        json!({"totalRecordsAmount": 5, "totalPages": 3, "requestPage": 1})
    );
    body["PaginationRequestModel"]["requestPage"] = json!(3);
    assert_eq!(
        s.search_order(&body, t0()).body["orderNumberList"],
        json!(["N0"])
    );
    body["PaginationRequestModel"]["requestPage"] = json!(1);
    body["PaginationRequestModel"]["SortModelList"] =
        json!([{"sortColumn": 1, "sortDirection": 2}]);
    assert_eq!(
        s.search_order(&body, t0()).body["orderNumberList"],
        json!(["N0", "N1"])
    );
    body["orderProgressList"] = json!([300]);
    assert_eq!(
        s.search_order(&body, t0()).body["orderNumberList"],
        json!(["N0"])
    );
    body["orderProgressList"] = json!([900]);
    let none = s.search_order(&body, t0());
    assert_eq!(none.status, 200);
    assert_eq!(codes(&none), [codes::SEARCH_ORDER_NO_HITS]);
    assert_eq!(
        none.body,
        json!({"orderNumberList": [],
               "MessageModelList": none.body["MessageModelList"].clone(),
               "PaginationResponseModel": {"totalRecordsAmount": null, "totalPages": null, "requestPage": null}})
    );
}

#[test]
fn search_refuses_more_than_15000_hits() {
    let mut s = state();
    for i in 0..=MAX_SEARCH_HITS {
        s.place(NewOrder::new(format!("O{i:05}")), t0());
    }
    let a = s.search_order(
        &search_body("2026-11-22T00:00:00+0900", "2026-11-23T00:00:00+0900"),
        t0(),
    );
    assert_eq!(a.status, 400);
    assert_eq!(codes(&a), ["ORDER_EXT_API_SEARCH_ORDER_ERROR_014"]);
}

#[test]
fn license_keys_expire_and_new_ones_take_a_while() {
    use base64::Engine as _;
    let esa = |secret: &str, key: &str| {
        format!(
            "ESA {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{secret}:{key}"))
        )
    };
    let mut s = state();
    assert_eq!(
        s.authorize(Some(&esa("secret", "key-1")), t0()).as_deref(),
        Ok("key-1")
    );
    let unknown = Err(Refusal::Unknown);
    assert_eq!(s.authorize(Some(&esa("wrong", "key-1")), t0()), unknown);
    assert_eq!(s.authorize(Some(&esa("secret", "key-2")), t0()), unknown);
    assert_eq!(s.authorize(Some("Bearer x"), t0()), unknown);
    assert_eq!(s.authorize(Some("ESA !!!"), t0()), unknown);
    assert_eq!(s.authorize(None, t0()), unknown);
    s.add_license_key(
        "key-2".into(),
        t0() + minutes(20),
        t0() + TimeDelta::days(180),
    );
    assert_eq!(
        s.authorize(Some(&esa("secret", "key-2")), t0() + minutes(19)),
        unknown
    );
    assert!(
        s.authorize(Some(&esa("secret", "key-2")), t0() + minutes(20))
            .is_ok()
    );
    s.set_license_expiry(t0() + TimeDelta::days(1));
    assert_eq!(
        s.authorize(Some(&esa("secret", "key-1")), t0() + TimeDelta::days(1)),
        Err(Refusal::Expired)
    );
    // The live answer has no offset.
    let expiry = s.license_expiry(Some("key-1"));
    assert_eq!(expiry.body, json!({"expiryDate": "2026-11-23T10:00:00"}));
    // Reading the expiry is a permission of its own, as is every function.
    assert!(s.may_use("key-1", Endpoint::License));
    s.set_permission(Endpoint::License, false);
    assert!(!s.may_use("key-1", Endpoint::License) && s.may_use("key-2", Endpoint::License));
    assert!(s.may_use("key-1", Endpoint::SearchOrder));
    s.set_permission(Endpoint::BulkUpsert, false);
    assert!(!s.may_use("key-1", Endpoint::BulkUpsert) && s.may_use("key-1", Endpoint::BulkGet));
    s.set_permission(Endpoint::BulkUpsert, true);
    assert!(s.may_use("key-1", Endpoint::BulkUpsert));
    assert_eq!(s.license_expiry(Some("other")).status, 400);
}

#[test]
fn faults_run_out_any_matches_and_rate_is_recorded() {
    let mut s = state();
    s.inject(Endpoint::GetOrder, Fault::Status(503), 2);
    s.inject(Endpoint::Any, Fault::Garbage, 1);
    assert_eq!(s.take_fault(Endpoint::SearchOrder), Some(Fault::Garbage));
    assert_eq!(s.take_fault(Endpoint::GetOrder), Some(Fault::Status(503)));
    assert_eq!(s.take_fault(Endpoint::GetOrder), Some(Fault::Status(503)));
    assert_eq!(s.take_fault(Endpoint::GetOrder), None);
    s.maintenance = true;
    assert!(matches!(
        s.take_fault(Endpoint::License),
        Some(Fault::Maintenance { .. })
    ));
    s.clear_faults();
    assert_eq!(s.take_fault(Endpoint::License), None);

    let start = Instant::now();
    for ms in [0, 100, 200, 900, 1500, 1600] {
        s.record_call(
            Endpoint::SearchOrder,
            None,
            start + Duration::from_millis(ms),
        );
    }
    assert_eq!(s.stats.max_requests_per_second, 4);
    assert_eq!(s.stats.search_order, 6);
}

#[test]
fn a_buyer_takes_rakuten_stock_is_refused_past_zero_and_a_cancel_restocks() {
    let mut s = state();
    s.inventory
        .list(CatalogItem::new("man-1", &[("v1", "SKU-1")]), true, t0());
    s.inventory.set_quantity("man-1", "v1", 3, t0());
    s.try_place(order("A"), t0()).unwrap();
    assert_eq!(s.inventory.quantity("man-1", "v1"), Some(1));
    let line = &s.order("A").unwrap().packages[0].items[0];
    assert_eq!(
        line.skus[0].variant_id.as_deref(),
        Some("v1"),
        "the variant bought is the catalog's"
    );
    let refused = s.try_place(order("B"), t0()).unwrap_err();
    assert_eq!((refused.available, refused.wanted), (1, 2));
    assert!(s.order("B").is_none(), "a refused order is not placed");
    assert!(s.cancel("A", t0()));
    assert_eq!(s.inventory.quantity("man-1", "v1"), Some(3));
    s.try_place(order("B"), t0()).unwrap();
}
