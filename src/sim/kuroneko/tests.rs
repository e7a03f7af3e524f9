//! The simulator's HTTP surface over loopback with a plain HTTP client, so
//! that its rules are tested without the adapter's help.

use chrono::NaiveDate;
use tokio::net::TcpListener;

use super::*;
use crate::channels::credit::kuroneko::client::encode_form;
use crate::channels::credit::kuroneko::normalize::normalize_credit;
use crate::channels::credit::kuroneko::testing;
use crate::channels::credit::kuroneko::wire::{self, Form, field};

async fn start_sim() -> KuronekoSimHandle {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    start(listener, KuronekoSimConfig::default())
        .await
        .expect("start simulator")
}

fn today(sim: &KuronekoSimHandle) -> NaiveDate {
    sim.now().date_naive()
}

/// The common fields with the simulator's credentials.
fn common(sim: &KuronekoSimHandle, order_no: &str) -> Form {
    vec![
        (field::STORE_CODE.into(), sim.store_code().into()),
        (field::PASSWORD.into(), sim.password().into()),
        (field::ORDER_NO.into(), order_no.into()),
        (
            field::REQUEST_DATE.into(),
            wire::format_request_date(&sim.now()),
        ),
    ]
}

/// A complete, valid KAARA form.
fn credit_form(sim: &KuronekoSimHandle, order_no: &str) -> Form {
    let credit = normalize_credit(&testing::request(order_no, today(sim)), today(sim)).unwrap();
    let mut form = common(sim, order_no);
    form.extend(wire::credit_form(&credit));
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

/// Posts `form` to `func`; the status, content type and parsed `<return>`.
async fn post_as(
    sim: &KuronekoSimHandle,
    func: &str,
    content_type: &str,
    form: &Form,
) -> (u16, String, wire::KuronekoReturn, String) {
    let response = reqwest::Client::new()
        .post(format!("{}{}", sim.base_url(), wire::func_path(func)))
        .header("content-type", content_type)
        .body(encode_form(form))
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
    let parsed = wire::parse_return(&text).unwrap_or_default();
    (status, ct, parsed, text)
}

async fn post(sim: &KuronekoSimHandle, func: &str, form: &Form) -> wire::KuronekoReturn {
    let (status, _, parsed, _) = post_as(sim, func, wire::FORM_UTF8, form).await;
    assert_eq!(status, 200, "Yamato always answers 200");
    parsed
}

/// The error code of an answer ("" for a success).
async fn error_of(sim: &KuronekoSimHandle, func: &str, form: &Form) -> String {
    match post(sim, func, form).await.outcome() {
        Some(wire::ReturnOutcome::Error { code }) => code,
        Some(wire::ReturnOutcome::Success { .. }) => String::new(),
        None => panic!("no returnCode"),
    }
}

#[tokio::test]
async fn answers_have_yamatos_xml_shape() {
    let sim = start_sim().await;
    let form = credit_form(&sim, "XML-1");
    let (status, ct, parsed, text) = post_as(&sim, wire::FUNC_CREDIT, wire::FORM_UTF8, &form).await;
    assert_eq!((status, ct.as_str()), (200, "text/xml; charset=UTF-8"));
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<return><ycfStrCode>01234567890</ycfStrCode><orderNo>XML-1</orderNo><returnCode>0</returnCode><result>0</result>"), "{text}");
    assert_eq!(parsed.return_date.as_deref().map(str::len), Some(14));
    assert_eq!(parsed.request_date, None);
    // KAAST answers requestDate instead, and a warning.
    sim.advance_clock(Duration::from_secs(61));
    let status_answer = post(&sim, wire::FUNC_STATUS, &common(&sim, "XML-1")).await;
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
    let cases: Vec<(Form, &str)> = vec![
        (without(&bad_phone, field::STORE_CODE), "kaara004E"),
        (
            {
                let mut f = bad_phone.clone();
                set(&mut f, field::PASSWORD, "too-long-pw");
                f
            },
            "kaara091E",
        ),
        (
            {
                let mut f = bad_phone.clone();
                set(&mut f, field::PASSWORD, "wrong1");
                f
            },
            "kaara092E",
        ),
        (
            {
                let mut f = bad_phone.clone();
                set(&mut f, field::STORE_CODE, "01234567891");
                f
            },
            "kaara092E",
        ),
        (without(&bad_phone, field::ORDER_NO), "kaara001E"),
        (
            {
                let mut f = bad_phone.clone();
                set(&mut f, field::ORDER_NO, "A.1");
                f
            },
            "kaara002E",
        ),
        (
            {
                let mut f = bad_phone.clone();
                set(&mut f, field::REQUEST_DATE, "2026-11-23");
                f
            },
            "kaara003E",
        ),
        (bad_phone.clone(), "kaara040E"),
    ];
    for (form, want) in cases {
        assert_eq!(error_of(&sim, wire::FUNC_CREDIT, &form).await, want);
    }
    // Each function answers with its own prefix.
    let mut wrong = common(&sim, "COMMON-1");
    set(&mut wrong, field::PASSWORD, "wrong1");
    assert_eq!(
        error_of(&sim, wire::FUNC_CREDIT_RESULT, &wrong).await,
        "kaars012E"
    );
    assert_eq!(
        error_of(&sim, wire::FUNC_SHIPMENT, &wrong).await,
        "kaasl036E"
    );
    assert_eq!(error_of(&sim, wire::FUNC_REDUCE, &wrong).await, "kaakk061E");
    // A body that is not a form reads as no fields at all.
    let (status, _, parsed, _) = post_as(&sim, wire::FUNC_CREDIT, "application/json", &good).await;
    assert_eq!(status, 200);
    assert_eq!(
        parsed.outcome(),
        Some(wire::ReturnOutcome::Error {
            code: "kaara004E".into()
        })
    );
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
            error_of(&sim, wire::FUNC_CREDIT, &form).await,
            want,
            "{name}={value}"
        );
    }
    let mut no_number = good.clone();
    set(&mut no_number, field::ADDRESS1, "愛知県愛知郡東郷町春木台");
    set(&mut no_number, field::ADDRESS2, "ハイツ");
    assert_eq!(
        error_of(&sim, wire::FUNC_CREDIT, &no_number).await,
        "kaara103E"
    );
    let mut sub = good.clone();
    set(&mut sub, "subTotal1", "2999");
    assert_eq!(error_of(&sim, wire::FUNC_CREDIT, &sub).await, "kaara064E");
    let mut early = good.clone();
    set(
        &mut early,
        field::SHIP_YMD,
        &wire::format_ymd(today(&sim).pred_opt().unwrap()),
    );
    assert_eq!(error_of(&sim, wire::FUNC_CREDIT, &early).await, "kaara102E");
    let mut gift = good.clone();
    set(&mut gift, field::SEND_DIV, "1");
    assert_eq!(error_of(&sim, wire::FUNC_CREDIT, &gift).await, "kaara070E");
    // The valid form passes; the same orderNo again is not unique.
    assert_eq!(error_of(&sim, wire::FUNC_CREDIT, &good).await, "");
    assert_eq!(error_of(&sim, wire::FUNC_CREDIT, &good).await, "kaara009E");
    // Field rules come before the state table.
    let mut dup_bad = good.clone();
    set(&mut dup_bad, field::TEL_NUM, "12");
    assert_eq!(
        error_of(&sim, wire::FUNC_CREDIT, &dup_bad).await,
        "kaara040E"
    );
    assert!(postcode_exists("4800305") && !postcode_exists("0000000"));
}

#[tokio::test]
async fn shipment_rules_over_raw_http() {
    let sim = start_sim().await;
    assert_eq!(
        error_of(&sim, wire::FUNC_CREDIT, &credit_form(&sim, "S-1")).await,
        ""
    );
    // shipYmd goes with processDiv 1 only.
    let ship = |process: &str, payment: &str| {
        let mut f = common(&sim, "S-1");
        set(&mut f, field::PROCESS_DIV, process);
        set(&mut f, field::PAYMENT_NO, payment);
        if process == "1" {
            set(
                &mut f,
                field::SHIP_YMD,
                &wire::format_ymd(sim.now().date_naive()),
            );
        }
        f
    };
    let with_date = |mut f: Form| {
        set(&mut f, field::SHIP_YMD, "20261124");
        f
    };
    // Right after the credit request: err0001.
    assert_eq!(
        error_of(&sim, wire::FUNC_SHIPMENT, &ship("0", "123456789013")).await,
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
        assert_eq!(error_of(&sim, wire::FUNC_SHIPMENT, &form).await, want);
    }
    let mut unknown = ship("0", "123456789013");
    set(&mut unknown, field::ORDER_NO, "S-404");
    assert_eq!(
        error_of(&sim, wire::FUNC_SHIPMENT, &unknown).await,
        "kaasl008E"
    );
    assert_eq!(
        error_of(&sim, wire::FUNC_SHIPMENT, &ship("2", "S-1")).await,
        ""
    );
    let snap = sim.order("S-1").unwrap();
    assert_eq!(snap.payment_no.as_deref(), Some("S-1"));
    assert_eq!(snap.status, Some(TransactionStatus::TrackingRegistered));
    // Changing an other-carrier registration to a Yamato number.
    let mut change = ship("1", "123456789013");
    set(&mut change, field::BEFORE_PAYMENT_NO, "S-1");
    assert_eq!(error_of(&sim, wire::FUNC_SHIPMENT, &change).await, "");
    assert_eq!(
        sim.order("S-1").unwrap().payment_no.as_deref(),
        Some("123456789013")
    );
}

#[tokio::test]
async fn reductions_check_fields_and_relations_before_the_state() {
    let sim = start_sim().await;
    let credit = normalize_credit(&testing::request("K-404", today(&sim)), today(&sim)).unwrap();
    let mut form = common(&sim, "K-404");
    form.extend(wire::reduce_form(&credit));
    assert_eq!(error_of(&sim, wire::FUNC_REDUCE, &form).await, "kaakk008E");
    set(&mut form, field::TOTAL_AMOUNT, "1");
    assert_eq!(error_of(&sim, wire::FUNC_REDUCE, &form).await, "kaakk101E");
    set(&mut form, field::SHIP_YMD, "x");
    assert_eq!(error_of(&sim, wire::FUNC_REDUCE, &form).await, "kaakk020E");
}

#[tokio::test]
async fn faults_and_waiting() {
    let sim = start_sim().await;
    sim.inject(Endpoint::Credit, Fault::SystemError("err0003"), 2);
    let form = credit_form(&sim, "W-1");
    assert_eq!(error_of(&sim, wire::FUNC_CREDIT, &form).await, "err0003");
    sim.clear_faults();
    assert_eq!(error_of(&sim, wire::FUNC_CREDIT, &form).await, "");
    assert!(
        sim.wait_until(Duration::from_secs(5), |v| v
            .order("W-1")
            .is_some_and(|o| o.status == Some(TransactionStatus::Approved))
            && v.stats().calls(Endpoint::Credit) == 2)
            .await
    );
    assert!(
        !sim.wait_until(Duration::from_millis(20), |v| v.orders().is_empty())
            .await
    );
    assert!(sim.set_status("W-1", TransactionStatus::TrackingRegistered));
    assert!(!sim.set_status("W-404", TransactionStatus::Paid));
    sim.advance_clock(Duration::from_secs(17 * 24 * 3600));
    assert_eq!(
        sim.order("W-1").unwrap().status,
        Some(TransactionStatus::Paid)
    );
    sim.shutdown().await;
}
