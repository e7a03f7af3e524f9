//! The simulator's HTTP surface over loopback with a plain HTTP client and
//! forms written by hand from the contract, so that its rules are tested
//! without any client's help.

use chrono::NaiveDate;
use serde::Deserialize;
use tokio::net::TcpListener;

use super::wire::{self, field};
use super::*;

async fn start_sim() -> KuronekoSimHandle {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    start(listener, KuronekoSimConfig::default())
        .await
        .expect("start simulator")
}

fn today(sim: &KuronekoSimHandle) -> NaiveDate {
    sim.now().date_naive()
}

fn pairs(fields: &[(&str, &str)]) -> Form {
    fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The common fields with the simulator's credentials.
fn common(sim: &KuronekoSimHandle, order_no: &str) -> Form {
    pairs(&[
        (field::STORE_CODE, sim.store_code()),
        (field::PASSWORD, sim.password()),
        (field::ORDER_NO, order_no),
        (field::REQUEST_DATE, &wire::format_datetime(&sim.now())),
    ])
}

/// The address, lines and total of a 5,000 yen order (2 × 1,500 + 1,200,
/// shipping 500, fee 300) as the contract wants them: full-width, the
/// address split 25 + 25, `～` for a wave dash.
fn content(sim: &KuronekoSimHandle, send_div: &str) -> Form {
    let mut form = pairs(&[
        (field::SHIP_YMD, &wire::format_ymd(today(sim))),
        (field::POST_CODE, "4800305"),
        (field::ADDRESS1, "愛知県愛知郡東郷町春木台１－２－３"),
        (field::ADDRESS2, "ハイツ１０１"),
        (field::TOTAL_AMOUNT, "5000"),
        (field::SEND_DIV, send_div),
    ]);
    let lines = [
        ("Ｔシャツ　ブルー　Ｌ", "2", "1500", "3000"),
        ("マグカップ～白～", "1", "1200", "1200"),
        ("送料", "1", "500", "500"),
        ("手数料", "1", "300", "300"),
    ];
    for (i, (name, count, price, sub)) in lines.into_iter().enumerate() {
        let n = i + 1;
        form.push((wire::item_field(field::ITEM_NAME, n), name.into()));
        form.push((wire::item_field(field::ITEM_COUNT, n), count.into()));
        form.push((wire::item_field(field::UNIT_PRICE, n), price.into()));
        form.push((wire::item_field(field::SUB_TOTAL, n), sub.into()));
    }
    form
}

/// A complete, valid KAARA form.
fn credit_form(sim: &KuronekoSimHandle, order_no: &str) -> Form {
    let mut form = common(sim, order_no);
    form.extend(pairs(&[
        (field::ORDER_YMD, &wire::format_ymd(today(sim))),
        (field::NAME, "山田　太郎"),
        (field::NAME_KANA, "ﾔﾏﾀﾞ ﾀﾛｳ"),
        (field::TEL_NUM, "09012345678"),
        (field::EMAIL, "taro@example.jp"),
    ]));
    form.extend(content(sim, "0"));
    form
}

fn set(form: &mut Form, name: &str, value: &str) {
    match form.iter_mut().find(|(k, _)| k == name) {
        Some(pair) => pair.1 = value.to_string(),
        None => form.push((name.to_string(), value.to_string())),
    }
}

fn without(form: &Form, name: &str) -> Form {
    form.iter().filter(|(k, _)| k != name).cloned().collect()
}

/// `<return>` as a client reads it, every child optional.
#[derive(Debug, Default, Deserialize)]
struct Answer {
    #[serde(rename = "returnCode", default)]
    return_code: Option<String>,
    #[serde(default)]
    result: Option<String>,
    #[serde(default)]
    warning: Option<String>,
    #[serde(rename = "errorCode", default)]
    error_code: Option<String>,
    #[serde(rename = "returnDate", default)]
    return_date: Option<String>,
    #[serde(rename = "requestDate", default)]
    request_date: Option<String>,
}

impl Answer {
    /// The error code ("" for a success); panics without a `returnCode`.
    fn error(&self) -> String {
        match self.return_code.as_deref() {
            Some(wire::RETURN_OK) => String::new(),
            Some(wire::RETURN_ERROR) => self.error_code.clone().unwrap_or_default(),
            other => panic!("returnCode {other:?}"),
        }
    }
}

/// Posts `form` to `endpoint`; the status, content type, parsed `<return>` and text.
async fn post_as(
    sim: &KuronekoSimHandle,
    endpoint: Endpoint,
    content_type: &str,
    form: &Form,
) -> (u16, String, Answer, String) {
    let response = reqwest::Client::new()
        .post(format!("{}{}", sim.base_url(), endpoint.path()))
        .header("content-type", content_type)
        .body(wire::encode_form(form))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let ct = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    let parsed = quick_xml::de::from_str(&text).unwrap_or_default();
    (status, ct, parsed, text)
}

async fn post(sim: &KuronekoSimHandle, endpoint: Endpoint, form: &Form) -> Answer {
    let (status, _, parsed, _) = post_as(sim, endpoint, wire::FORM_UTF8, form).await;
    assert_eq!(status, 200, "Yamato always answers 200");
    parsed
}

/// The error code of an answer ("" for a success).
async fn error_of(sim: &KuronekoSimHandle, endpoint: Endpoint, form: &Form) -> String {
    post(sim, endpoint, form).await.error()
}

#[test]
fn forms_decode_as_clients_encode_them() {
    let form = pairs(&[("name", "山田　太郎"), ("a b", "x+y&z=%"), ("empty", "")]);
    assert_eq!(decode_form(wire::encode_form(&form).as_bytes()), form);
    let raw = decode_form(b"name=%E5%B1%B1+x&broken=%ZZ&bare&&");
    assert_eq!(form_value(&raw, "name"), Some("山 x"));
    assert_eq!(form_value(&raw, "broken"), Some("%ZZ"));
    assert_eq!(form_value(&raw, "bare"), Some(""));
    assert_eq!(raw.len(), 3);
}

#[tokio::test]
async fn answers_have_yamatos_xml_shape() {
    let sim = start_sim().await;
    let form = credit_form(&sim, "XML-1");
    let (status, ct, parsed, text) = post_as(&sim, Endpoint::Credit, wire::FORM_UTF8, &form).await;
    assert_eq!((status, ct.as_str()), (200, "text/xml; charset=UTF-8"));
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<return><ycfStrCode>01234567890</ycfStrCode><orderNo>XML-1</orderNo><returnCode>0</returnCode><result>0</result>"), "{text}");
    assert_eq!(parsed.return_date.as_deref().map(str::len), Some(14));
    assert_eq!(parsed.request_date, None);
    // KAAST answers requestDate instead, and a warning.
    sim.advance_clock(Duration::from_secs(61));
    let status_answer = post(&sim, Endpoint::Status, &common(&sim, "XML-1")).await;
    assert_eq!(status_answer.return_date, None);
    assert!(status_answer.request_date.is_some());
    assert_eq!(status_answer.result.as_deref(), Some("1"));
    assert_eq!(status_answer.warning.as_deref(), Some("0"));
    // An unknown path is a plain 404.
    let response = reqwest::Client::new()
        .post(format!(
            "{}/kuroneko-atobarai-api/KAAXX0010APIAction_execute.action",
            sim.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
}

#[tokio::test]
async fn common_fields_are_checked_first() {
    let sim = start_sim().await;
    let good = credit_form(&sim, "COMMON-1");
    let mut bad_phone = good.clone();
    set(&mut bad_phone, field::TEL_NUM, "12");
    let changed = |name: &str, value: &str| {
        let mut f = bad_phone.clone();
        set(&mut f, name, value);
        f
    };
    let cases: Vec<(Form, &str)> = vec![
        (without(&bad_phone, field::STORE_CODE), "kaara004E"),
        (changed(field::PASSWORD, "too-long-pw"), "kaara091E"),
        (changed(field::PASSWORD, "wrong1"), "kaara092E"),
        (changed(field::STORE_CODE, "01234567891"), "kaara092E"),
        (without(&bad_phone, field::ORDER_NO), "kaara001E"),
        (changed(field::ORDER_NO, "A.1"), "kaara002E"),
        (changed(field::REQUEST_DATE, "2026-11-23"), "kaara003E"),
        (bad_phone.clone(), "kaara040E"),
    ];
    for (form, want) in cases {
        assert_eq!(error_of(&sim, Endpoint::Credit, &form).await, want);
    }
    // Each function answers with its own prefix.
    let mut wrong = common(&sim, "COMMON-1");
    set(&mut wrong, field::PASSWORD, "wrong1");
    assert_eq!(
        error_of(&sim, Endpoint::CreditResult, &wrong).await,
        "kaars012E"
    );
    assert_eq!(
        error_of(&sim, Endpoint::Shipment, &wrong).await,
        "kaasl036E"
    );
    assert_eq!(error_of(&sim, Endpoint::Reduce, &wrong).await, "kaakk061E");
    // A body that is not a form reads as no fields at all.
    let (status, _, parsed, _) = post_as(&sim, Endpoint::Credit, "application/json", &good).await;
    assert_eq!(status, 200);
    assert_eq!(parsed.error(), "kaara004E");
    let stats = sim.stats();
    assert_eq!(stats.calls(Endpoint::Credit), 9);
    assert_eq!(stats.credential_refusals, 8);
    assert_eq!(
        stats.content_types.last().map(String::as_str),
        Some("application/json")
    );
    assert!(
        sim.order("COMMON-1").is_none(),
        "refused requests register nothing"
    );
}

#[tokio::test]
async fn field_rules_use_the_contracts_codes() {
    let sim = start_sim().await;
    let good = credit_form(&sim, "F-1");
    let cases: [(&str, &str, &str); 16] = [
        (field::POST_CODE, "0001234", "kaara029E"),
        (field::POST_CODE, "123-9999", "kaara029E"),
        (field::POST_CODE, "12-34567", "kaara028E"),
        (field::ADDRESS1, "千代田区千代田１－１", "kaara034E"),
        (field::ADDRESS1, "東京都千代田区千代田1-1", "kaara031E"),
        // Machine-dependent characters are outside Yamato's range.
        (field::ADDRESS1, "東京都千代田区千代田①", "kaara033E"),
        (field::ADDRESS2, "㈱ビル", "kaara037E"),
        (field::NAME, "髙橋　一郎", "kaara022E"),
        ("itemName1", "急須😀", "kaara056E"),
        (field::TEL_NUM, "0312345", "kaara040E"),
        (field::TEL_NUM, "1312345678", "kaara040E"),
        (field::TOTAL_AMOUNT, "0", "kaara049E"),
        (field::TOTAL_AMOUNT, "1000000", "kaara049E"),
        (field::TOTAL_AMOUNT, "4999", "kaara101E"),
        (field::NAME, "Yamada", "kaara020E"),
        (field::NAME_KANA, "やまだ", "kaara021E"),
    ];
    for (name, value, want) in cases {
        let mut form = good.clone();
        set(&mut form, name, value);
        assert_eq!(
            error_of(&sim, Endpoint::Credit, &form).await,
            want,
            "{name}={value}"
        );
    }
    let mut no_number = good.clone();
    set(&mut no_number, field::ADDRESS1, "愛知県愛知郡東郷町春木台");
    set(&mut no_number, field::ADDRESS2, "ハイツ");
    assert_eq!(
        error_of(&sim, Endpoint::Credit, &no_number).await,
        "kaara103E"
    );
    let mut sub = good.clone();
    set(&mut sub, "subTotal1", "2999");
    assert_eq!(error_of(&sim, Endpoint::Credit, &sub).await, "kaara064E");
    let mut early = good.clone();
    set(
        &mut early,
        field::SHIP_YMD,
        &wire::format_ymd(today(&sim).pred_opt().unwrap()),
    );
    assert_eq!(error_of(&sim, Endpoint::Credit, &early).await, "kaara102E");
    let mut gift = good.clone();
    set(&mut gift, field::SEND_DIV, "1");
    assert_eq!(error_of(&sim, Endpoint::Credit, &gift).await, "kaara070E");
    // The valid form passes; the same orderNo again is not unique.
    assert_eq!(error_of(&sim, Endpoint::Credit, &good).await, "");
    assert_eq!(error_of(&sim, Endpoint::Credit, &good).await, "kaara009E");
    // Field rules come before the state table.
    let mut dup_bad = good.clone();
    set(&mut dup_bad, field::TEL_NUM, "12");
    assert_eq!(
        error_of(&sim, Endpoint::Credit, &dup_bad).await,
        "kaara040E"
    );
    assert!(postcode_exists("4800305") && !postcode_exists("0000000"));
    // What was accepted is what the snapshot shows.
    let snap = sim.order("F-1").unwrap();
    assert_eq!(snap.credit, KuronekoCreditResult::Ok);
    assert_eq!(snap.credit.label(), "ご利用可");
    assert_eq!(
        snap.address,
        "愛知県愛知郡東郷町春木台１－２－３ハイツ１０１"
    );
    assert_eq!(
        snap.items[1],
        ("マグカップ～白～".to_string(), 1, 1200, 1200)
    );
}

#[tokio::test]
async fn shipment_rules_over_raw_http() {
    let sim = start_sim().await;
    assert_eq!(
        error_of(&sim, Endpoint::Credit, &credit_form(&sim, "S-1")).await,
        ""
    );
    // shipYmd goes with processDiv 1 only.
    let ship = |process: &str, payment: &str| {
        let mut f = common(&sim, "S-1");
        set(&mut f, field::PROCESS_DIV, process);
        set(&mut f, field::PAYMENT_NO, payment);
        if process == "1" {
            set(&mut f, field::SHIP_YMD, &wire::format_ymd(today(&sim)));
        }
        f
    };
    let with_date = |mut f: Form| {
        set(&mut f, field::SHIP_YMD, "20261124");
        f
    };
    // Right after the credit request: err0001.
    assert_eq!(
        error_of(&sim, Endpoint::Shipment, &ship("0", "123456789013")).await,
        "err0001"
    );
    sim.advance_clock(Duration::from_secs(61));
    let cases = [
        (ship("0", "123456789014"), "kaasl014E"),
        (ship("2", "other-number"), "kaasl016E"),
        (ship("4", "123456789013"), "kaasl019E"),
        (
            without(&ship("0", "123456789013"), field::PAYMENT_NO),
            "kaasl011E",
        ),
        (with_date(ship("0", "123456789013")), "kaasl031E"),
        (with_date(ship("2", "S-1")), "kaasl031E"),
        (ship("0", "1234_5678_9013"), "kaasl012E"),
        (ship("0", "1234567890133"), "kaasl010E"),
        (
            without(&ship("1", "123456789013"), field::SHIP_YMD),
            "kaasl023E",
        ),
        (ship("1", "123456789013"), "kaasl046E"),
    ];
    for (form, want) in cases {
        assert_eq!(error_of(&sim, Endpoint::Shipment, &form).await, want);
    }
    let mut unknown = ship("0", "123456789013");
    set(&mut unknown, field::ORDER_NO, "S-404");
    assert_eq!(
        error_of(&sim, Endpoint::Shipment, &unknown).await,
        "kaasl008E"
    );
    assert_eq!(
        error_of(&sim, Endpoint::Shipment, &ship("2", "S-1")).await,
        ""
    );
    let snap = sim.order("S-1").unwrap();
    assert_eq!(snap.payment_no.as_deref(), Some("S-1"));
    assert_eq!(snap.status, Some(KuronekoStatus::TrackingRegistered));
    assert_eq!(
        snap.shipment,
        Some(KuronekoProcessDiv::RegisterOtherCarrier)
    );
    // Changing an other-carrier registration to a Yamato number, written
    // with the hyphens of a label.
    let mut change = ship("1", "1234-5678-9013");
    set(&mut change, field::BEFORE_PAYMENT_NO, "S-1");
    assert_eq!(error_of(&sim, Endpoint::Shipment, &change).await, "");
    assert_eq!(
        sim.order("S-1").unwrap().payment_no.as_deref(),
        Some("123456789013")
    );
}

#[tokio::test]
async fn reductions_check_fields_and_relations_before_the_state() {
    let sim = start_sim().await;
    let mut form = common(&sim, "K-404");
    form.extend(content(&sim, "0"));
    assert_eq!(error_of(&sim, Endpoint::Reduce, &form).await, "kaakk008E");
    set(&mut form, field::TOTAL_AMOUNT, "1");
    assert_eq!(error_of(&sim, Endpoint::Reduce, &form).await, "kaakk101E");
    set(&mut form, field::SHIP_YMD, "x");
    assert_eq!(error_of(&sim, Endpoint::Reduce, &form).await, "kaakk020E");
    // KAAKK's own sendDiv codes: 3 is none of them, 1 (同梱) needs the contract.
    let mut send_div = common(&sim, "K-404");
    send_div.extend(content(&sim, "3"));
    assert_eq!(
        error_of(&sim, Endpoint::Reduce, &send_div).await,
        "kaakk054E"
    );
    set(&mut send_div, field::SEND_DIV, "1");
    assert_eq!(
        error_of(&sim, Endpoint::Reduce, &send_div).await,
        "kaakk055E"
    );
}

#[tokio::test]
async fn faults_and_waiting() {
    let sim = start_sim().await;
    sim.inject(Endpoint::Credit, Fault::SystemError("err0003"), 2);
    let form = credit_form(&sim, "W-1");
    assert_eq!(error_of(&sim, Endpoint::Credit, &form).await, "err0003");
    sim.clear_faults();
    assert_eq!(error_of(&sim, Endpoint::Credit, &form).await, "");
    assert!(
        sim.wait_until(Duration::from_secs(5), |v| v
            .order("W-1")
            .is_some_and(|o| o.status == Some(KuronekoStatus::Approved))
            && v.stats().calls(Endpoint::Credit) == 2)
            .await
    );
    assert!(
        !sim.wait_until(Duration::from_millis(20), |v| v.orders().is_empty())
            .await
    );
    assert!(sim.set_status("W-1", KuronekoStatus::TrackingRegistered));
    assert!(!sim.set_status("W-404", KuronekoStatus::Paid));
    sim.advance_clock(Duration::from_secs(17 * 24 * 3600));
    assert_eq!(sim.order("W-1").unwrap().status, Some(KuronekoStatus::Paid));
    sim.shutdown().await;
}
