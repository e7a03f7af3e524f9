use chrono::NaiveDate;

use super::*;
use crate::providers::credit::kuroneko::normalize::normalize_credit;
use crate::providers::credit::kuroneko::testing;

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

#[test]
fn field_names_are_the_contracts() {
    let names = [
        (field::STORE_CODE, "ycfStrCode"),
        (field::PASSWORD, "password"),
        (field::ORDER_NO, "orderNo"),
        (field::REQUEST_DATE, "requestDate"),
        (field::ORDER_YMD, "orderYmd"),
        (field::SHIP_YMD, "shipYmd"),
        (field::NAME, "name"),
        (field::NAME_KANA, "nameKana"),
        (field::POST_CODE, "postCode"),
        (field::ADDRESS1, "address1"),
        (field::ADDRESS2, "address2"),
        (field::TEL_NUM, "telNum"),
        (field::EMAIL, "email"),
        (field::TOTAL_AMOUNT, "totalAmount"),
        (field::SEND_DIV, "sendDiv"),
        (field::ITEM_NAME, "itemName"),
        (field::ITEM_COUNT, "itemCount"),
        (field::UNIT_PRICE, "unitPrice"),
        (field::SUB_TOTAL, "subTotal"),
        (field::SEND_NAME, "sendName"),
        (field::SEND_POST_CODE, "sendPostCode"),
        (field::SEND_ADDRESS1, "sendAddress1"),
        (field::SEND_ADDRESS2, "sendAddress2"),
        (field::SEND_TEL_NUM, "sendTelNum"),
        (field::CART_CODE, "cartCode"),
        (field::PAYMENT_NO, "paymentNo"),
        (field::PROCESS_DIV, "processDiv"),
        (field::BEFORE_PAYMENT_NO, "beforePaymentNo"),
    ];
    for (constant, want) in names {
        assert_eq!(constant, want);
    }
    assert_eq!(item_field(field::ITEM_NAME, 10), "itemName10");
    assert_eq!(
        func_path(FUNC_CREDIT),
        "/kuroneko-atobarai-api/KAARA0010APIAction_execute.action"
    );
    assert_eq!(
        FUNCS,
        [
            "KAARA0010",
            "KAARS0010",
            "KAAST0010",
            "KAASL0010",
            "KAACL0010",
            "KAAKK0010"
        ]
    );
}

#[test]
fn the_credit_form_has_exactly_the_contracts_fields() {
    let credit = normalize_credit(&testing::request("A-1-1", day()), day()).unwrap();
    let form = credit_form(&credit);
    let names: Vec<&str> = form.iter().map(|(k, _)| k.as_str()).collect();
    let mut want = vec![
        "orderYmd",
        "shipYmd",
        "name",
        "nameKana",
        "postCode",
        "address1",
        "address2",
        "telNum",
        "email",
        "totalAmount",
        "sendDiv",
    ];
    let items: Vec<String> = (1..=4)
        .flat_map(|n| ["itemName", "itemCount", "unitPrice", "subTotal"].map(|p| format!("{p}{n}")))
        .collect();
    want.extend(items.iter().map(String::as_str));
    assert_eq!(names, want);
    let value = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(value("orderYmd"), Some("20261123"));
    assert_eq!(value("name"), Some("山田　太郎"));
    assert_eq!(value("nameKana"), Some("ﾔﾏﾀﾞ ﾀﾛｳ"));
    assert_eq!(value("postCode"), Some("4800305"));
    assert_eq!(value("telNum"), Some("09012345678"));
    assert_eq!(value("totalAmount"), Some("5000"));
    assert_eq!(value("sendDiv"), Some("0"));
    assert_eq!(value("itemName1"), Some("Ｔシャツ　ブルー　Ｌ"));
    assert_eq!(value("itemName2"), Some("マグカップ～白～"));
    assert_eq!(value("itemName3"), Some("送料"));
    assert_eq!(value("itemName4"), Some("手数料"));
    assert_eq!(value("subTotal1"), Some("3000"));

    let mut gift = testing::request("A-1-2", day());
    gift.send_div = crate::providers::credit::kuroneko::InvoiceDelivery::Gift;
    gift.ship_to = Some(crate::providers::credit::kuroneko::Party {
        phone: String::new(),
        ..testing::buyer()
    });
    let credit = normalize_credit(&gift, day()).unwrap();
    let form = credit_form(&credit);
    let tail: Vec<&str> = form.iter().rev().take(4).map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        tail,
        ["sendAddress2", "sendAddress1", "sendPostCode", "sendName"],
        "no sendTelNum when the recipient has none"
    );
    let reduce: Vec<String> = reduce_form(&credit).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        reduce[..6],
        [
            "shipYmd",
            "postCode",
            "address1",
            "address2",
            "totalAmount",
            "sendDiv"
        ]
    );
    assert!(!reduce.iter().any(|k| k == "name" || k == "orderYmd"));
    // KAAKK takes no recipient, and its sendDiv codes are its own (a gift's
    // invoice is mailed separately: 0).
    assert!(
        !reduce
            .iter()
            .any(|k| k.starts_with("send") && k != "sendDiv")
    );
    assert_eq!(
        reduce_form(&credit)
            .iter()
            .find(|(k, _)| k == "sendDiv")
            .map(|(_, v)| v.as_str()),
        Some("0")
    );
}

#[test]
fn shipment_forms_leave_out_what_a_process_does_not_take() {
    let names = |f: Form| f.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
    assert_eq!(
        names(shipment_form(0, Some("123456789013"), Some(day()), None)),
        ["paymentNo", "processDiv", "shipYmd"]
    );
    assert_eq!(
        names(shipment_form(1, Some("a"), Some(day()), Some("b"))),
        ["paymentNo", "processDiv", "shipYmd", "beforePaymentNo"]
    );
    assert_eq!(names(shipment_form(9, None, None, None)), ["processDiv"]);
}

#[test]
fn returns_are_read_with_either_date_and_any_error_shape() {
    let ok = r#"<?xml version="1.0" encoding="UTF-8"?>
<return><ycfStrCode>01234567890</ycfStrCode><orderNo>A-1</orderNo><returnCode>0</returnCode>
  <result>0</result><errorCode></errorCode><returnDate>20261123101500</returnDate></return>"#;
    let r = parse_return(ok).unwrap();
    assert_eq!(r.order_no.as_deref(), Some("A-1"));
    assert_eq!(r.date(), Some("20261123101500"));
    assert_eq!(
        r.outcome(),
        Some(ReturnOutcome::Success {
            result: Some("0".into()),
            warning: None
        })
    );
    let status = "<return><returnCode>0</returnCode><result>12</result><warning>1</warning>\
                  <errorCode/><requestDate>20261123101500</requestDate><extra><x>1</x></extra></return>";
    let r = parse_return(status).unwrap();
    assert_eq!(r.date(), Some("20261123101500"));
    assert_eq!(
        r.outcome(),
        Some(ReturnOutcome::Success {
            result: Some("12".into()),
            warning: Some("1".into())
        })
    );
    let both = "<return><returnCode>1</returnCode><errorCode> </errorCode><errorCode>kaara040E</errorCode>\
                <returnDate>1</returnDate><requestDate>2</requestDate></return>";
    let r = parse_return(both).unwrap();
    assert_eq!(r.date(), Some("1"));
    assert_eq!(
        r.outcome(),
        Some(ReturnOutcome::Error {
            code: "kaara040E".into()
        })
    );
    let odd = parse_return("<return><returnCode>7</returnCode></return>").unwrap();
    assert_eq!(odd.outcome(), None);
    assert_eq!(parse_return("<return></return>").unwrap().outcome(), None);
    assert!(matches!(
        parse_return("<html><body>メンテナンス中</body></html>"),
        Err(ReturnError::NotAReturn)
    ));
    assert!(parse_return("<html><body>メンテナンス中").is_err());
    assert!(parse_return("").is_err());
    assert!(parse_return("<!-- hi --><return><returnCode>0</returnCode></return>").is_ok());
}

#[test]
fn error_codes_get_readable_messages() {
    for code in [
        "kaara009E",
        "kaara029E",
        "kaara034E",
        "kaara040E",
        "kaara049E",
        "kaara101E",
        "kaara103E",
        "kaasl014E",
        "kaasl020E",
        "kaasl022E",
        "kaasl045E",
        "kaacl009E",
        "kaakk009E",
        "kaakk011E",
        "kaakk050E",
    ] {
        let m = error_message(code);
        assert!(m.ends_with(&format!("({code})")), "{m}");
        assert!(!m.starts_with("Yamato refused"), "{m}");
    }
    assert!(error_message("kaara040E").contains("phone"));
    assert!(error_message("kaakk050E").contains("only go down"));
    for code in ["kaars008E", "kaast008E", "kaasl008E", "kaacl008E"] {
        assert!(is_unknown_order(code));
        assert!(error_message(code).contains("does not know"), "{code}");
    }
    // Each function numbers its password and store-code errors its own way.
    for code in [
        "kaara090E",
        "kaara091E",
        "kaara092E",
        "kaara004E",
        "kaars012E",
        "kaars013E",
        "kaast012E",
        "kaast015E",
        "kaacl013E",
        "kaacl014E",
        "kaacl017E",
        "kaasl036E",
        "kaasl037E",
        "kaasl041E",
        "kaakk059E",
        "kaakk061E",
        "kaakk004E",
    ] {
        assert!(is_credential_error(code), "{code}");
        assert!(error_message(code).contains("password"), "{code}");
    }
    assert!(!is_credential_error("kaara093E") && !is_credential_error("err0001"));
    // Not a password: KAASL's 092E does not exist, KAACL's 009E is the state table.
    assert!(!is_credential_error("kaasl092E") && !is_credential_error("kaacl009E"));
    assert!(
        !is_unknown_order("kaara008E"),
        "KAARA's 008E is an orderNo too long"
    );
    assert!(error_message("kaars008E").contains("already cancelled"));
    for code in ["err0001", "err0002", "err0003"] {
        assert!(is_system_error(code));
        assert!(error_message(code).contains("retry later"));
    }
    assert!(!is_system_error("err0004"));
    assert_eq!(
        error_message("kaara777E"),
        "Yamato refused the request with error kaara777E"
    );
    assert!(error_message("").contains("without an error code"));
}

#[test]
fn dates_have_the_wire_shapes() {
    let at = parse_request_date("20261123101500").unwrap();
    assert_eq!(format_request_date(&at), "20261123101500");
    assert_eq!(at.offset().local_minus_utc(), 9 * 3600);
    let utc = at.with_timezone(&chrono::Utc).fixed_offset();
    assert_eq!(
        format_request_date(&utc),
        "20261123101500",
        "always written in JST"
    );
    assert_eq!(parse_ymd("20261123"), Some(day()));
    assert_eq!(format_ymd(day()), "20261123");
    for bad in ["2026-11-23", "2026112", "20261323", "+0261123"] {
        assert_eq!(parse_ymd(bad), None, "{bad}");
    }
    assert!(parse_request_date("2026112310150").is_none());
}
