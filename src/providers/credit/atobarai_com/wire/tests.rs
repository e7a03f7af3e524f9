use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::*;
use crate::providers::credit::atobarai_com::{Line, TestCredit};

const IDS: AtobaraiIds = AtobaraiIds {
    enterprise_id: 12345,
    site_id: 678,
    api_user_id: 90,
};

fn party(name: &str) -> Party {
    Party {
        postal_code: "100-0001".into(),
        address: "東京都千代田区千代田1-1".into(),
        name: name.into(),
        name_kana: "ヤマダ タロウ".into(),
        phone: "03-1234-5678".into(),
        email: Some("taro@example.jp".into()),
    }
}

fn order() -> OrderRegistration {
    OrderRegistration {
        ent_order_id: "SHOP-1001".into(),
        ordered_on: NaiveDate::from_ymd_opt(2026, 11, 3).unwrap(),
        buyer: party("山田 太郎"),
        delivery: None,
        lines: vec![
            Line {
                name: "南部鉄器 急須".into(),
                unit_price: 5500,
                qty: 1,
                tax_rate: Some(10),
            },
            Line {
                name: "値引き".into(),
                unit_price: -500,
                qty: 2,
                tax_rate: None,
            },
        ],
        carriage: 800,
        charge: 330,
        outside_tax: None,
        test: None,
    }
}

fn keys(form: &Form) -> BTreeSet<&str> {
    form.iter().map(|(k, _)| k.as_str()).collect()
}

fn value<'a>(form: &'a Form, key: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

#[test]
fn an_order_form_uses_exactly_the_contracts_keys() {
    let form = order_form(IDS, &order());
    let want: BTreeSet<&str> = [
        "O_ReceiptOrderDate",
        "O_EnterpriseId",
        "O_SiteId",
        "O_ApiUserId",
        "O_Ent_OrderId",
        "O_UseAmount",
        "O_AnotherDeliFlg",
        "C_PostalCode",
        "C_UnitingAddress",
        "C_NameKj",
        "C_NameKn",
        "C_Phone",
        "C_MailAddress",
        "I_ItemNameKj_1",
        "I_UnitPrice_1",
        "I_ItemNum_1",
        "I_TaxRate_1",
        "I_ItemNameKj_2",
        "I_UnitPrice_2",
        "I_ItemNum_2",
        "I_ItemCarriage",
        "I_ItemCharge",
    ]
    .into_iter()
    .collect();
    assert_eq!(keys(&form), want);
    assert_eq!(form.len(), want.len(), "no key is sent twice");
    assert_eq!(value(&form, "O_ReceiptOrderDate"), Some("2026/11/03"));
    assert_eq!(value(&form, "O_EnterpriseId"), Some("12345"));
    assert_eq!(value(&form, "O_SiteId"), Some("678"));
    assert_eq!(value(&form, "O_ApiUserId"), Some("90"));
    // 5500 − 1000 + 800 + 330
    assert_eq!(value(&form, "O_UseAmount"), Some("5630"));
    assert_eq!(value(&form, "O_AnotherDeliFlg"), Some("0"));
    assert_eq!(value(&form, "I_UnitPrice_2"), Some("-500"));
    assert_eq!(value(&form, "I_ItemNum_2"), Some("2"));
    assert_eq!(value(&form, "I_TaxRate_1"), Some("10"));
}

#[test]
fn delivery_test_flags_and_outside_tax_add_their_keys() {
    let mut o = order();
    o.delivery = Some(Party {
        email: None,
        ..party("鈴木 花子")
    });
    o.test = Some(TestCredit::Pending);
    o.outside_tax = Some(400);
    let form = order_form(IDS, &o);
    let plain = order_form(IDS, &order());
    let extra: BTreeSet<&str> = keys(&form).difference(&keys(&plain)).copied().collect();
    assert_eq!(
        extra,
        [
            "O_TestOrderFlg",
            "O_TestCreditResult",
            "D_PostalCode",
            "D_UnitingAddress",
            "D_DestNameKj",
            "D_DestNameKn",
            "D_Phone",
            "I_OutsideTax",
        ]
        .into_iter()
        .collect()
    );
    assert_eq!(value(&form, "O_AnotherDeliFlg"), Some("1"));
    assert_eq!(value(&form, "O_TestOrderFlg"), Some("1"));
    assert_eq!(value(&form, "O_TestCreditResult"), Some("2"));
    assert_eq!(value(&form, "D_DestNameKj"), Some("鈴木 花子"));
    assert_eq!(value(&form, "O_UseAmount"), Some("6030"));
}

#[test]
fn the_other_services_use_their_keys() {
    let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let status = status_form(IDS, &ids(&["AK00000001", "AK00000002"]));
    assert_eq!(
        status,
        vec![
            ("EnterpriseId".to_string(), "12345".to_string()),
            ("ApiUserId".to_string(), "90".to_string()),
            ("OrderId[]".to_string(), "AK00000001".to_string()),
            ("OrderId[]".to_string(), "AK00000002".to_string()),
        ]
    );
    assert_eq!(
        keys(&delivlist_form(IDS)),
        ["EnterpriseId", "ApiUserId"].into_iter().collect()
    );
    assert_eq!(
        keys(&idmap_form(IDS, &ids(&["SHOP-1"]))),
        ["EnterpriseId", "ApiUserId", "Ent_OrderId[]"]
            .into_iter()
            .collect()
    );
    let shipping = shipping_form(IDS, "AK00000001", 1, " 1234-5678-9012 ");
    assert_eq!(
        keys(&shipping),
        [
            "EnterpriseId",
            "ApiUserId",
            "OrderId",
            "DelivId",
            "JournalNum"
        ]
        .into_iter()
        .collect()
    );
    assert_eq!(value(&shipping, "JournalNum"), Some("1234-5678-9012"));
    let cancel = cancel_form(
        IDS,
        &[
            ("AK1".to_string(), "customer".to_string()),
            ("AK2".to_string(), "stock".to_string()),
        ],
    );
    assert_eq!(
        cancel[2..].to_vec(),
        vec![
            ("OrderId[]".to_string(), "AK1".to_string()),
            ("Reason[]".to_string(), "customer".to_string()),
            ("OrderId[]".to_string(), "AK2".to_string()),
            ("Reason[]".to_string(), "stock".to_string()),
        ]
    );
    assert_eq!(
        keys(&detail_form(IDS, &ids(&["AK1"]), &ids(&["SHOP-1"]))),
        ["EnterpriseId", "ApiUserId", "OrderId[]", "Ent_OrderId[]"]
            .into_iter()
            .collect()
    );
}

#[test]
fn service_paths_and_codes() {
    assert_eq!(AtobaraiService::Order.path(), "/api/order/rest");
    assert_eq!(AtobaraiService::DelivList.path(), "/api/delivlist/rest");
    assert_eq!(AtobaraiService::Shipping.code(IP_NOT_ALLOWED), "E04101");
    assert_eq!(AtobaraiService::OrderMod.code(REQUIRED), "E11201");
    assert_eq!(split_code("E04301"), Some(("04", "301")));
    assert_eq!(split_code("EXX902"), Some(("XX", "902")));
    assert_eq!(split_code("E002"), None);
    assert_eq!(split_code("E0430"), None);
    assert_eq!(split_code("Eあ301"), None);
    assert!(is_transient_code("E00901"));
    assert!(is_transient_code("E01902"));
    assert!(is_transient_code("EXX901"));
    assert!(!is_transient_code("E00303"));
    assert!(!is_transient_code("E002"));
}

#[test]
fn every_named_code_reads_in_english() {
    for (code, words) in [
        ("E00101", "IP address is not allowed"),
        ("E01102", "enterprise id"),
        ("E00201", "required field"),
        ("E00202", "invalid format"),
        ("E00204", "date is invalid"),
        ("E09901", "system failure"),
        ("E00902", "maintenance"),
        ("E00303", "O_UseAmount"),
        ("E00203", "item line"),
        ("E00302", "no item line"),
        ("E00307", "street number"),
        ("E00308", "postcode"),
        ("E00309", "already registered"),
        ("E04301", "not awaiting a tracking number"),
        ("E04202", "tracking number is invalid"),
        ("E05202", "not found"),
        ("E05301", "cannot be cancelled"),
        ("E01202", "none of the orders"),
        ("E00306", "60 days"),
        ("E77777", "does not know"),
    ] {
        assert!(describe(code).contains(words), "{code}: {}", describe(code));
    }
}

#[test]
fn text_before_the_xml_is_skipped() {
    let body = "<br />\n<b>Warning</b>:  Undefined array key 1 in <b>ServiceCancel.php</b><br />\n\
<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response><status>success</status><messages/></response>";
    assert_eq!(parse_response(body).unwrap().status, "success");
    let bare = "Notice: x\n<response><status>error</status><messages/></response>";
    assert_eq!(parse_response(bare).unwrap().status, "error");
}

#[test]
fn registration_answers_parse() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<response><status>success</status><orderId>SHOP-1001</orderId><systemOrderId>AK00012345</systemOrderId>
  <messages/><orderStatus cd="1">与信OK</orderStatus></response>"#;
    let r = parse_response(xml).unwrap();
    assert_eq!(r.status, "success");
    assert_eq!(r.order_id.as_deref(), Some("SHOP-1001"));
    assert_eq!(r.system_order_id.as_deref(), Some("AK00012345"));
    let status = r.order_status.unwrap();
    assert_eq!(
        (status.number(), status.label.as_str()),
        (Some(1), "与信OK")
    );
    assert!(r.messages.messages.is_empty());

    let error = r#"<response><status>error</status><messages><message cd="E00303">利用額が一致しません</message><message cd="E00201">C_NameKj：必須です</message></messages></response>"#;
    let r = parse_response(error).unwrap();
    assert_eq!(r.status, "error");
    let codes: Vec<&str> = r
        .messages
        .messages
        .iter()
        .map(|m| m.code.as_str())
        .collect();
    assert_eq!(codes, ["E00303", "E00201"]);
    assert_eq!(r.messages.messages[0].text, "利用額が一致しません");
}

#[test]
fn list_answers_parse() {
    let status = r#"<response><status>success</status><messages></messages><results>
<result><orderId>AK00000001</orderId><entOrderId>S-1</entOrderId><orderStatus cd="0">与信中</orderStatus></result>
<result><orderId>AK99999999</orderId><entOrderId/><orderStatus cd="-1"></orderStatus></result>
</results></response>"#;
    let r = parse_response(status).unwrap();
    assert_eq!(r.results.results.len(), 2);
    assert_eq!(
        r.results.results[1].order_status.as_ref().unwrap().number(),
        Some(-1)
    );
    assert_eq!(text(r.results.results[1].ent_order_id.as_deref()), None);

    let delivlist = r#"<response><status>success</status><messages/><results>
<result><delivId>1</delivId><name>ヤマト運輸</name><shortName>ヤマト</shortName></result>
<result><delivId name="佐川急便">2</delivId></result></results></response>"#;
    let r = parse_response(delivlist).unwrap();
    let first = &r.results.results[0];
    assert_eq!(first.deliv_id.as_ref().unwrap().number(), Some(1));
    assert_eq!(first.name.as_deref(), Some("ヤマト運輸"));
    assert_eq!(
        r.results.results[1]
            .deliv_id
            .as_ref()
            .unwrap()
            .name
            .as_deref(),
        Some("佐川急便")
    );

    let cancel = r#"<response><status>success</status><messages/><results>
<result><orderId>AK1</orderId><cancelStatus>success</cancelStatus></result>
<result><orderId>AK2</orderId><cancelStatus>error</cancelStatus><error cd="E002">キャンセルできません</error></result>
</results></response>"#;
    let r = parse_response(cancel).unwrap();
    assert_eq!(
        r.results.results[0].cancel_status.as_deref(),
        Some("success")
    );
    let e = r.results.results[1].error.as_ref().unwrap();
    assert_eq!(
        (e.cd.as_str(), e.label.as_str()),
        ("E002", "キャンセルできません")
    );

    let detail = r#"<response><status>success</status><messages/><results><result>
<orderId>AK1</orderId><entOrderId>S-1</entOrderId><orderStatus cd="2">請求書発行待ち</orderStatus>
<isShipped>1</isShipped><deliveryId>1</deliveryId><journalNumber>123456789012</journalNumber>
<isArrivalConfirmed>0</isArrivalConfirmed><isReceiptConfirmed>0</isReceiptConfirmed><somethingNew>x</somethingNew>
</result></results></response>"#;
    let r = parse_response(detail).unwrap();
    let d = &r.results.results[0];
    assert!(flag(d.is_shipped.as_deref()));
    assert!(!flag(d.is_arrival_confirmed.as_deref()));
    assert_eq!(d.journal_number.as_deref(), Some("123456789012"));

    let shipping = r#"<response><status>success</status><orderId>AK1</orderId><delivId name="ヤマト運輸">1</delivId><journalNum>123456789012</journalNum><messages/></response>"#;
    let r = parse_response(shipping).unwrap();
    let d = r.deliv_id.unwrap();
    assert_eq!(
        (d.number(), d.name.as_deref()),
        (Some(1), Some("ヤマト運輸"))
    );
    assert_eq!(r.journal_num.as_deref(), Some("123456789012"));
}

#[test]
fn unreadable_answers_are_errors_not_panics() {
    for junk in [
        "",
        "<html><body>メンテナンス中</body></html>",
        "<response><status>success",
        "not xml at all",
        "<response></response>",
    ] {
        assert!(parse_response(junk).is_err(), "{junk}");
    }
}

#[test]
fn detail_has_its_status_as_text_and_status_or_cancel_may_answer_error_with_results() {
    // As the service's server writes detail: the code is the element's text.
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<response><status>success</status><messages/><results><result><orderId>AK00012345</orderId><entOrderId>SHOP-1</entOrderId><orderStatus orderStatusName="請求書発行待ち">2</orderStatus><isShipped>1</isShipped><deliveryId deliveryName="佐川急便">2</deliveryId><journalNumber>400012345678</journalNumber></result></results></response>"#;
    let r = parse_response(xml).unwrap();
    let row = &r.results.results[0];
    assert_eq!(
        row.order_status.as_ref().and_then(AtobaraiCode::number),
        Some(2)
    );
    // The name is the server's label of state 2 (the contract's detail table).
    assert_eq!(
        row.order_status
            .as_ref()
            .and_then(|s| s.status_name.as_deref()),
        Some("請求書発行待ち")
    );
    let deliv = row.delivery_id.as_ref().unwrap();
    assert_eq!(
        (deliv.number(), deliv.name.as_deref()),
        (Some(2), Some("佐川急便"))
    );
    // status keeps its cd attribute.
    let xml = r#"<response><status>error</status><messages><message cd="E01202">注文が存在しません</message></messages><results><result><orderId>AK1</orderId><orderStatus cd="-1">不明</orderStatus></result></results></response>"#;
    let r = parse_response(xml).unwrap();
    assert_eq!(r.status, "error");
    assert_eq!(
        r.results.results[0]
            .order_status
            .as_ref()
            .and_then(AtobaraiCode::number),
        Some(-1)
    );
}
