//! Wire parsing: datetimes, the tolerant reading of orders, and a property
//! test that no input makes the parsers panic.

use chrono::{NaiveDate, TimeZone, Utc};

use crate::providers::rakuten_pay::Progress;
use proptest::prelude::*;
use serde_json::json;

use super::*;

/// A getOrder order as Rakuten sends it, with fields the adapter does not
/// read, `null` lists and `-9999` amounts.
fn sample_order() -> Value {
    json!({
        "orderNumber": "123456-20261122-00068801",
        "orderProgress": 100,
        "subStatusId": null,
        "orderDatetime": "2026-11-22T10:15:30+0900",
        "shopOrderCfmDatetime": null,
        "orderFixDatetime": null,
        "goodsPrice": 11000,
        "goodsTax": 1000,
        "postagePrice": -9999,
        "deliveryPrice": 0,
        "totalPrice": -9999,
        "requestPrice": -9999,
        "remarks": "[配送日時指定:]\n指定なし",
        "OrdererModel": {
            "zipCode1": "480", "zipCode2": "0305",
            "prefecture": "愛知県", "city": "春日井市", "subAddress": "坂下町1-2-3",
            "familyName": "山田", "firstName": "太郎",
            "familyNameKana": "ヤマダ", "firstNameKana": "タロウ",
            "phoneNumber1": "052", "phoneNumber2": "123", "phoneNumber3": "4567",
            "emailAddress": "0a1b2c@pc.fw.rakuten.ne.jp",
            "sex": "男", "birthYear": 1980
        },
        "SettlementModel": {
            "settlementMethodCode": 1, "settlementMethod": "クレジットカード",
            "rpaySettlementFlag": 1, "cardName": "VISA"
        },
        "DeliveryModel": {"deliveryName": "宅配便"},
        "CouponModelList": null,
        "PackageModelList": [{
            "basketId": 10746402,
            "postagePrice": -9999,
            "SenderModel": {
                "zipCode1": "100", "zipCode2": "0001", "prefecture": "東京都",
                "city": "千代田区", "subAddress": "千代田1-1",
                "familyName": "佐藤", "firstName": "花子",
                "phoneNumber1": "03", "phoneNumber2": "1234", "phoneNumber3": "5678"
            },
            "ItemModelList": [{
                "itemDetailId": 100001, "itemName": "南部鉄器 急須", "itemId": 10000001,
                "itemNumber": "", "manageNumber": "nambu-kyusu", "price": 5500, "units": 2,
                "taxRate": 0.1, "selectedChoice": null,
                "SkuModelList": [{"variantId": "sku-1", "merchantDefinedSkuId": "SKU-001", "skuInfo": "黒"}]
            }, {
                "itemDetailId": 100002, "itemName": "鉄瓶", "itemNumber": "TB-9",
                "manageNumber": "tetsubin", "price": 0, "units": 1, "SkuModelList": null
            }],
            "ShippingModelList": null
        }]
    })
}

#[test]
fn format_jst_writes_the_one_accepted_form() {
    let utc = Utc.with_ymd_and_hms(2026, 11, 21, 15, 0, 0).unwrap();
    assert_eq!(format_jst(&utc), "2026-11-22T00:00:00+0900");
    let with_millis = utc + chrono::TimeDelta::milliseconds(999);
    assert_eq!(format_jst(&with_millis), "2026-11-22T00:00:00+0900");
    let jst_time = jst().with_ymd_and_hms(2026, 11, 23, 23, 59, 59).unwrap();
    let text = format_jst(&jst_time);
    assert_eq!(text, "2026-11-23T23:59:59+0900");
    assert_eq!(parse_jst_strict(&text), Some(jst_time));
}

#[test]
fn strict_parser_refuses_every_other_spelling() {
    assert!(parse_jst_strict("2026-11-22T00:00:00+0900").is_some());
    for bad in [
        "2026-11-22T00:00:00+09:00",
        "2026-11-22T00:00:00Z",
        "2026-11-22T00:00:00.000+0900",
        "2026-11-22 00:00:00+0900",
        "2026-11-22",
        "2026-11-22T00:00:00+0000",
        "2026-13-22T00:00:00+0900",
        "2026-11-22T24:00:00+0900",
        "２026-11-22T00:00:00+0900",
        "",
    ] {
        assert_eq!(parse_jst_strict(bad), None, "{bad}");
    }
    assert!(parse_date_strict("2026-11-23").is_some());
    for bad in [
        "2026/11/23",
        "2026-11-23T00:00:00+0900",
        "26-11-23",
        "2026-02-30",
    ] {
        assert_eq!(parse_date_strict(bad), None, "{bad}");
    }
}

#[test]
fn lenient_parser_reads_what_responses_may_carry() {
    let want = jst().with_ymd_and_hms(2027, 2, 20, 23, 59, 59).unwrap();
    for text in [
        "2027-02-20T23:59:59+0900",
        "2027-02-20T23:59:59+09:00",
        "2027-02-20T14:59:59Z",
        "2027-02-20T23:59:59.000+0900",
        "2027-02-20 23:59:59+0900",
        "2027-02-20T23:59:59",
        "2027/02/20 23:59:59",
        " 2027-02-20T23:59:59+0900 ",
    ] {
        let got = parse_datetime_lenient(text).unwrap_or_else(|| panic!("{text}"));
        assert_eq!(got, want, "{text}");
    }
    let midnight = parse_datetime_lenient("2027-02-20").unwrap();
    assert_eq!(format_jst(&midnight), "2027-02-20T00:00:00+0900");
    assert_eq!(parse_datetime_lenient("tomorrow"), None);
    assert_eq!(
        parse_date_lenient("2026-11-23T10:00:00+0900"),
        NaiveDate::from_ymd_opt(2026, 11, 23)
    );
    assert_eq!(
        parse_date_lenient("2026/11/23"),
        NaiveDate::from_ymd_opt(2026, 11, 23)
    );
}

#[test]
fn order_with_nulls_and_undetermined_amounts_parses() {
    let o = order_from_value(sample_order()).unwrap();
    assert_eq!(o.order_number, "123456-20261122-00068801");
    assert_eq!(o.progress, Progress::AwaitingConfirmation);
    assert_eq!(format_jst(&o.ordered_at), "2026-11-22T10:15:30+0900");
    assert_eq!((o.confirmed_at, o.fixed_at), (None, None));
    assert!(o.rakuten_settlement);
    assert_eq!(o.settlement_method_code, Some(1));
    assert_eq!(o.totals.goods, Some(11000));
    assert_eq!(o.totals.postage, None, "-9999 is not an amount");
    assert_eq!(o.totals.total, None);
    assert_eq!(o.totals.request, None);
    assert_eq!(o.totals.delivery, Some(0));
    assert_eq!(o.customer.postal_code, "4800305");
    assert_eq!(o.customer.phone, "052-123-4567");
    assert_eq!(o.customer.full_name(), "山田 太郎");
    assert_eq!(o.customer.full_name_kana(), "ヤマダ タロウ");
    assert_eq!(o.customer.address(), "愛知県春日井市坂下町1-2-3");
    let p = &o.packages[0];
    assert_eq!(p.basket_id, 10746402);
    assert_eq!(p.recipient.full_name(), "佐藤 花子");
    assert_eq!(p.recipient.email, None);
    assert!(p.shipping.is_empty(), "null list is empty");
    let first = &p.items[0];
    assert_eq!(first.merchant_defined_sku_id.as_deref(), Some("SKU-001"));
    assert_eq!(first.item_number, None, "empty itemNumber is unset");
    assert_eq!(first.manage_number.as_deref(), Some("nambu-kyusu"));
    assert_eq!((first.price, first.units), (5500, 2));
    let second = &p.items[1];
    assert_eq!(second.merchant_defined_sku_id, None);
    assert_eq!(second.item_number.as_deref(), Some("TB-9"));
}

#[test]
fn shipping_rows_and_settlement_flag_zero() {
    let mut v = sample_order();
    v["orderProgress"] = json!(300);
    v["SettlementModel"] =
        json!({"settlementMethodCode": 2, "settlementMethod": "代金引換", "rpaySettlementFlag": 0});
    v["PackageModelList"][0]["ShippingModelList"] = json!([
        {"shippingDetailId": 15419, "shippingNumber": "123456789012", "deliveryCompany": "1001",
         "deliveryCompanyName": "ヤマト運輸", "shippingDate": "2026-11-23"},
        {"shippingDetailId": "15420", "shippingNumber": null, "deliveryCompany": 1002, "shippingDate": null}
    ]);
    let o = order_from_value(v).unwrap();
    assert!(!o.rakuten_settlement);
    let rows = &o.packages[0].shipping;
    assert_eq!(rows[0].delivery_company, "1001");
    assert_eq!(rows[0].shipping_date, NaiveDate::from_ymd_opt(2026, 11, 23));
    assert!(rows[0].is_complete());
    assert_eq!(rows[1].shipping_detail_id, 15420);
    assert_eq!(rows[1].delivery_company, "1002");
    assert!(!rows[1].is_complete());
    assert!(o.fully_shipped());
}

#[test]
fn unreadable_orders_are_named() {
    let cases: Vec<(Value, &str)> = vec![
        (json!({"orderProgress": "abc"}), "order"),
        (json!({"orderDatetime": "yesterday"}), "orderDatetime"),
        (
            json!({"SettlementModel": {"rpaySettlementFlag": 2}}),
            "SettlementModel.rpaySettlementFlag",
        ),
        (
            json!({"SettlementModel": null}),
            "SettlementModel.rpaySettlementFlag",
        ),
        (json!({"PackageModelList": null}), "PackageModelList"),
    ];
    for (patch, field) in cases {
        let mut v = sample_order();
        for (k, val) in patch.as_object().unwrap() {
            v[k] = val.clone();
        }
        let err = order_from_value(v).unwrap_err();
        assert_eq!(
            err.order_number.as_deref(),
            Some("123456-20261122-00068801")
        );
        assert_eq!(err.field, field, "{patch}");
        assert!(
            err.to_string()
                .starts_with("order 123456-20261122-00068801: ")
        );
    }
    let mut v = sample_order();
    v["PackageModelList"][0]["ItemModelList"][1]["units"] = json!(-1);
    let err = order_from_value(v).unwrap_err();
    assert_eq!(err.field, "PackageModelList[0].ItemModelList[1].units");
    let mut v = sample_order();
    v["PackageModelList"][0]["ItemModelList"][0]["units"] = json!("many");
    assert_eq!(order_from_value(v).unwrap_err().field, "order");
    let no_number = order_from_value(json!({"orderProgress": 100})).unwrap_err();
    assert_eq!(no_number.order_number, None);
    assert!(no_number.to_string().contains("<no orderNumber>"));
}

#[test]
fn wire_round_trip_keeps_the_order() {
    let mut v = sample_order();
    v["orderProgress"] = json!(300);
    v["postagePrice"] = json!(800);
    v["PackageModelList"][0]["ShippingModelList"] = json!([
        {"shippingDetailId": 15419, "shippingNumber": "123456789012", "deliveryCompany": "1001", "shippingDate": "2026-11-23"}
    ]);
    let o = order_from_value(v).unwrap();
    let again = order_from_value(serde_json::to_value(order_to_wire(&o)).unwrap()).unwrap();
    assert_eq!(o, again);
    let wire = serde_json::to_value(order_to_wire(&o)).unwrap();
    assert_eq!(wire["totalPrice"], json!(-9999), "None goes back as -9999");
    assert_eq!(wire["OrdererModel"]["zipCode1"], json!("480"));
    assert_eq!(wire["OrdererModel"]["zipCode2"], json!("0305"));
}

#[test]
fn envelopes_tolerate_nulls_and_unknown_fields() {
    let zero: RakutenSearchOrderResponse = serde_json::from_value(json!({
        "orderNumberList": [],
        "MessageModelList": [{"messageType": "INFO", "messageCode": SEARCH_ORDER_NO_HITS, "message": "注文検索に成功しました。(検索結果０件)"}],
        "PaginationResponseModel": {"totalRecordsAmount": null, "totalPages": null, "requestPage": null}
    }))
    .unwrap();
    assert!(zero.order_number_list.is_empty());
    assert_eq!(zero.pagination.unwrap_or_default().total_pages, None);
    let error: RakutenSearchOrderResponse = serde_json::from_value(json!({
        "orderNumberList": null,
        "MessageModelList": [{"messageType": "ERROR", "messageCode": "ORDER_EXT_API_SEARCH_ORDER_ERROR_011", "message": null}],
        "PaginationResponseModel": null,
        "somethingNew": {"a": 1}
    }))
    .unwrap();
    assert!(error.messages[0].is_error());
    assert_eq!(error.messages[0].message, "");
    let shipping: RakutenEnvelope = serde_json::from_value(json!({
        "MessageModelList": [{"messageType": "INFO", "messageCode": SHIPPING_ADDED, "message": "", "dataNumber": "2", "shippingDetailId": 15420}]
    }))
    .unwrap();
    assert_eq!(shipping.messages[0].data_number, Some(2));
    assert_eq!(shipping.messages[0].shipping_detail_id, Some(15420));
    let gateway: RakutenGatewayError =
        serde_json::from_str(r#"{"Results":{"errorCode":"ES01-01","message":"Un-Authorised"}}"#)
            .unwrap();
    assert_eq!(gateway.results.error_code, GATEWAY_UNAUTHORISED);
}

#[test]
fn requests_use_the_capitalised_keys() {
    let req = RakutenUpdateShippingRequest {
        order_number: "123456-20261122-00001801".into(),
        baskets: vec![RakutenBasketShipping {
            basket_id: 10746402,
            rows: vec![RakutenShippingInput {
                shipping_detail_id: None,
                delivery_company: "1001".into(),
                shipping_number: "123456789012".into(),
                shipping_date: "2026-11-23".into(),
            }],
        }],
    };
    assert_eq!(
        serde_json::to_value(&req).unwrap(),
        json!({"orderNumber": "123456-20261122-00001801",
               "BasketidModelList": [{"basketId": 10746402,
                 "ShippingModelList": [{"deliveryCompany": "1001", "shippingNumber": "123456789012", "shippingDate": "2026-11-23"}]}]})
    );
}

/// Any JSON value, a few levels deep, with keys the parsers look for.
fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::String),
        Just(json!(-9999)),
        Just(json!("2026-11-22T00:00:00+0900")),
    ];
    let keys = prop_oneof![
        Just("orderNumber".to_string()),
        Just("orderProgress".to_string()),
        Just("orderDatetime".to_string()),
        Just("PackageModelList".to_string()),
        Just("ItemModelList".to_string()),
        Just("ShippingModelList".to_string()),
        Just("SkuModelList".to_string()),
        Just("SettlementModel".to_string()),
        Just("rpaySettlementFlag".to_string()),
        Just("basketId".to_string()),
        Just("itemDetailId".to_string()),
        Just("units".to_string()),
        Just("price".to_string()),
        Just("MessageModelList".to_string()),
        Just("OrderModelList".to_string()),
        "[a-zA-Z]{1,8}",
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(keys.clone(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn parsing_never_panics_on_arbitrary_json(v in arbitrary_json()) {
        let _ = order_from_value(v.clone());
        let _ = serde_json::from_value::<RakutenGetOrderResponse>(v.clone());
        let _ = serde_json::from_value::<RakutenSearchOrderResponse>(v.clone());
        let _ = serde_json::from_value::<RakutenEnvelope>(v.clone());
        let _ = serde_json::from_value::<RakutenGatewayError>(v.clone());
        if let Value::String(s) = &v {
            let _ = parse_datetime_lenient(s);
            let _ = parse_date_lenient(s);
            let _ = parse_jst_strict(s);
        }
    }

    #[test]
    fn parsing_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = serde_json::from_slice::<RakutenGetOrderResponse>(&bytes);
        let _ = serde_json::from_slice::<RakutenSearchOrderResponse>(&bytes);
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_datetime_lenient(&text);
        let _ = parse_jst_strict(&text);
    }

    #[test]
    fn mutated_orders_parse_or_fail_cleanly(field in 0usize..6, replacement in arbitrary_json()) {
        let mut v = sample_order();
        // Replace one interesting field with arbitrary JSON.
        match field {
            0 => v["orderProgress"] = replacement,
            1 => v["PackageModelList"] = replacement,
            2 => v["PackageModelList"][0]["ItemModelList"] = replacement,
            3 => v["PackageModelList"][0]["ShippingModelList"] = replacement,
            4 => v["SettlementModel"] = replacement,
            _ => v["OrdererModel"] = replacement,
        }
        match order_from_value(v) {
            Ok(o) => prop_assert!(!o.packages.is_empty()),
            Err(e) => prop_assert_eq!(e.order_number.as_deref(), Some("123456-20261122-00068801")),
        }
    }
}
