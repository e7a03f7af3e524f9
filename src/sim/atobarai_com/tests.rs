//! The simulator's HTTP surface over loopback with a plain HTTP client, so
//! that what the service checks is tested without the adapter's help.

use std::time::Duration;

use chrono::NaiveDate;
use tokio::net::TcpListener;

use super::state::TrackingRule;
use super::*;
use crate::channels::credit::atobarai_com::wire::{self, AtobaraiIds, AtobaraiResponse, Form};
use crate::channels::credit::atobarai_com::{Line, OrderRegistration, Party};

async fn start_sim(cfg: AtobaraiSimConfig) -> AtobaraiSimHandle {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    start(listener, cfg).await.expect("start simulator")
}

fn ids(sim: &AtobaraiSimHandle) -> AtobaraiIds {
    AtobaraiIds {
        enterprise_id: sim.config().enterprise_id,
        site_id: sim.config().site_id,
        api_user_id: sim.config().api_user_id,
    }
}

fn order(ent: &str) -> OrderRegistration {
    OrderRegistration {
        ent_order_id: ent.into(),
        ordered_on: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        buyer: Party {
            postal_code: "1500001".into(),
            address: "東京都渋谷区神宮前一丁目".into(),
            name: "山田 太郎".into(),
            name_kana: "ヤマダ タロウ".into(),
            phone: "09012345678".into(),
            email: None,
        },
        delivery: None,
        lines: vec![Line {
            name: "鉄瓶".into(),
            unit_price: 3000,
            qty: 2,
            tax_rate: Some(10),
        }],
        carriage: 500,
        charge: 0,
        outside_tax: None,
        test: None,
    }
}

/// POSTs a form and parses the answer (which is always HTTP 200 XML).
async fn post(
    sim: &AtobaraiSimHandle,
    service: &str,
    form: &[(String, String)],
) -> AtobaraiResponse {
    let response = reqwest::Client::new()
        .post(format!("{}/api/{service}/rest", sim.base_url()))
        .form(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/xml; charset=utf-8")
    );
    wire::parse_response(&response.text().await.unwrap()).unwrap()
}

fn codes(answer: &AtobaraiResponse) -> Vec<&str> {
    answer
        .messages
        .messages
        .iter()
        .map(|m| m.code.as_str())
        .collect()
}

fn with(form: &[(String, String)], key: &str, value: &str) -> Vec<(String, String)> {
    let mut form = form.to_vec();
    match form.iter_mut().find(|(k, _)| k == key) {
        Some(pair) => pair.1 = value.to_string(),
        None => form.push((key.to_string(), value.to_string())),
    }
    form
}

fn without(form: &[(String, String)], key: &str) -> Vec<(String, String)> {
    form.iter().filter(|(k, _)| k != key).cloned().collect()
}

#[tokio::test]
async fn a_registration_answers_the_contracts_xml_with_ak_ids() {
    let sim = start_sim(AtobaraiSimConfig::default()).await;
    let form = wire::order_form(ids(&sim), &order("S-1"));
    let answer = post(&sim, "order", &form).await;
    assert_eq!(answer.status, "success");
    assert_eq!(answer.order_id.as_deref(), Some("S-1"));
    assert_eq!(answer.system_order_id.as_deref(), Some("AK00012345"));
    let status = answer.order_status.unwrap();
    assert_eq!((status.cd.as_str(), status.label.as_str()), ("1", "与信OK"));
    let second = post(&sim, "order", &with(&form, wire::O_ENT_ORDER_ID, "S-2")).await;
    assert_eq!(second.system_order_id.as_deref(), Some("AK00012346"));
    let o = sim.order("AK00012346").unwrap();
    assert_eq!(
        (o.use_amount, o.status),
        (6500, DetailStatus::AwaitingTrackingNumber)
    );
}

#[tokio::test]
async fn a_misspelt_key_is_ignored_and_the_required_error_shows() {
    let sim = start_sim(AtobaraiSimConfig::default()).await;
    let good = wire::order_form(ids(&sim), &order("S-1"));
    // `C_Namekj` is not a key the service knows: it is dropped silently.
    let name = good
        .iter()
        .find(|(k, _)| k == "C_NameKj")
        .map(|(_, v)| v.clone())
        .unwrap();
    let mut typo = without(&good, "C_NameKj");
    typo.push(("C_Namekj".to_string(), name));
    typo.push(("X_Whatever".to_string(), "ignored".to_string()));
    let answer = post(&sim, "order", &typo).await;
    assert_eq!(answer.status, "error");
    assert_eq!(codes(&answer), ["E00201"]);
    assert!(answer.messages.messages[0].text.contains("C_NameKj"));
    // Unknown keys alone never fail a request.
    let fine = post(&sim, "order", &with(&good, "X_Whatever", "ignored")).await;
    assert_eq!(fine.status, "success");
    assert!(sim.order_by_ent("S-1").is_some());
}

#[tokio::test]
async fn no_form_reads_as_no_keys() {
    let sim = start_sim(AtobaraiSimConfig::default()).await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/status/rest", sim.base_url());
    for response in [
        http.get(&url).send().await.unwrap(),
        http.post(&url)
            .header("content-type", "application/json")
            .body(r#"{"EnterpriseId": 10000}"#)
            .send()
            .await
            .unwrap(),
    ] {
        assert_eq!(response.status().as_u16(), 200);
        let answer = wire::parse_response(&response.text().await.unwrap()).unwrap();
        assert_eq!(codes(&answer), ["E01201", "E01201", "E01201"]);
    }
    let missing = reqwest::Client::new()
        .post(format!("{}/api/jnummod/rest", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    assert_eq!(sim.stats().calls(AtobaraiService::Status), 2);
}

#[tokio::test]
async fn registration_checks_each_rule_with_its_code() {
    let sim = start_sim(AtobaraiSimConfig::default()).await;
    let good = wire::order_form(ids(&sim), &order("R-1"));
    let line = |n: usize, name: &str, price: &str, qty: &str| {
        vec![
            (wire::item_key(wire::I_ITEM_NAME_KJ, n), name.to_string()),
            (wire::item_key(wire::I_UNIT_PRICE, n), price.to_string()),
            (wire::item_key(wire::I_ITEM_NUM, n), qty.to_string()),
        ]
    };
    let no_lines: Vec<(String, String)> = good
        .iter()
        .filter(|(k, _)| !k.starts_with("I_") || k == "I_ItemCarriage" || k == "I_ItemCharge")
        .cloned()
        .collect();
    let mut zero_qty = no_lines.clone();
    zero_qty.extend(line(1, "鉄瓶", "6000", "0"));
    let mut bad_rate = no_lines.clone();
    bad_rate.extend(line(1, "鉄瓶", "6000", "1"));
    bad_rate.push(("I_TaxRate_1".to_string(), "5".to_string()));
    let mut two_lines = with(&no_lines, wire::O_USE_AMOUNT, "6300");
    two_lines.extend(line(1, "鉄瓶", "3000", "2"));
    two_lines.extend(line(2, "割引", "-200", "1"));
    let cases: Vec<(&str, Form, Vec<&str>)> = vec![
        (
            "date",
            with(&good, wire::O_RECEIPT_ORDER_DATE, "2026-11-23"),
            vec!["E00204"],
        ),
        (
            "no such day",
            with(&good, wire::O_RECEIPT_ORDER_DATE, "2026/02/30"),
            vec!["E00204"],
        ),
        (
            "amount",
            with(&good, wire::O_USE_AMOUNT, "6501"),
            vec!["E00303"],
        ),
        (
            "amount format",
            with(&good, wire::O_USE_AMOUNT, "6,500"),
            vec!["E00202"],
        ),
        (
            "postcode format",
            with(&good, wire::C_POSTAL_CODE, "150-01"),
            vec!["E00202"],
        ),
        (
            "unknown postcode",
            with(&good, wire::C_POSTAL_CODE, "0000000"),
            vec!["E00308"],
        ),
        (
            "street number",
            with(&good, wire::C_UNITING_ADDRESS, "東京都渋谷区神宮前"),
            vec!["E00307"],
        ),
        ("phone", with(&good, wire::C_PHONE, "0312"), vec!["E00202"]),
        (
            "mail",
            with(&good, wire::C_MAIL_ADDRESS, "taro.example.jp"),
            vec!["E00202"],
        ),
        ("no lines", no_lines.clone(), vec!["E00302"]),
        ("zero quantity", zero_qty, vec!["E00203"]),
        ("tax rate", bad_rate, vec!["E00203"]),
        (
            "enterprise id",
            with(&good, wire::O_ENTERPRISE_ID, "99999"),
            vec!["E00102"],
        ),
        ("site id", with(&good, wire::O_SITE_ID, "1"), vec!["E00102"]),
        (
            "id format",
            with(&good, wire::O_API_USER_ID, "abc"),
            vec!["E00202"],
        ),
        (
            "two missing",
            without(&without(&good, wire::C_PHONE), wire::O_SITE_ID),
            vec!["E00201", "E00201"],
        ),
        (
            "delivery keys",
            with(&good, wire::O_ANOTHER_DELI_FLG, "1"),
            vec!["E00201", "E00201", "E00201", "E00201"],
        ),
    ];
    for (what, form, want) in cases {
        let answer = post(&sim, "order", &form).await;
        assert_eq!(answer.status, "error", "{what}");
        assert_eq!(codes(&answer), want, "{what}");
    }
    assert!(sim.orders().is_empty(), "nothing refused was stored");
    let answer = post(&sim, "order", &two_lines).await;
    assert_eq!(answer.status, "success", "{:?}", answer.messages);
    let answer = post(&sim, "order", &two_lines).await;
    assert_eq!(codes(&answer), ["E00309"]);
    assert_eq!(sim.orders().len(), 1);
}

#[tokio::test]
async fn other_services_check_their_keys_too() {
    let sim = start_sim(AtobaraiSimConfig::default()).await;
    let caller = |extra: &[(&str, &str)]| -> Vec<(String, String)> {
        let mut form = vec![
            ("EnterpriseId".to_string(), "10000".to_string()),
            ("ApiUserId".to_string(), "100".to_string()),
        ];
        form.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        form
    };
    // `OrderId` without `[]` is not the status service's key.
    let answer = post(&sim, "status", &caller(&[("OrderId", "AK00012345")])).await;
    assert_eq!(codes(&answer), ["E01201"]);
    let answer = post(
        &sim,
        "shipping",
        &caller(&[("OrderId", "AK1"), ("DelivId", "x")]),
    )
    .await;
    assert_eq!(codes(&answer), ["E04201", "E04202"]);
    let too_many: Vec<(&str, &str)> = (0..=MAX_IDS).map(|_| ("OrderId[]", "AK1")).collect();
    let answer = post(&sim, "cancel", &caller(&too_many)).await;
    assert_eq!(codes(&answer), ["E05202"]);
    let answer = post(&sim, "detail", &caller(&[])).await;
    assert_eq!(codes(&answer), ["E09201"]);
    let answer = post(&sim, "delivlist", &caller(&[])).await;
    assert_eq!(answer.status, "success");
    let first = &answer.results.results[0];
    assert_eq!(first.deliv_id.as_ref().and_then(|d| d.number()), Some(1));
    assert_eq!(first.name.as_deref(), Some("ヤマト運輸"));
    let wrong = vec![
        ("EnterpriseId".to_string(), "10000".to_string()),
        ("ApiUserId".to_string(), "101".to_string()),
    ];
    assert_eq!(codes(&post(&sim, "delivlist", &wrong).await), ["E02102"]);
}

#[tokio::test]
async fn a_timeout_fault_registers_the_order_and_never_answers() {
    let sim = start_sim(AtobaraiSimConfig::default()).await;
    sim.inject(AtobaraiService::Order, Fault::Timeout, 1);
    let form = wire::order_form(ids(&sim), &order("TO-1"));
    let url = format!("{}/api/order/rest", sim.base_url());
    let request = reqwest::Client::new().post(url).form(&form).send();
    let lost = tokio::time::timeout(Duration::from_millis(300), request).await;
    assert!(lost.is_err(), "the answer never came");
    assert!(
        sim.wait_until(Duration::from_secs(5), |v| v.order_by_ent("TO-1").is_some())
            .await
    );
    sim.shutdown().await;
}

#[test]
fn tracking_numbers_follow_the_carriers_rule() {
    let rule = TrackingRule::Digits { min: 12, max: 12 };
    for (number, want) in [
        ("1234-5678-9012", true),
        ("123456789012", true),
        ("12345678901", false),
        ("12345678901a", false),
    ] {
        assert_eq!(rule.accepts(number), want, "{number}");
    }
    let post = TrackingRule::Alphanumeric { min: 11, max: 13 };
    assert!(post.accepts("AB123456789JP"));
    assert!(!post.accepts("AB-1234"));
}

#[test]
fn forms_decode_like_php() {
    let form = api::decode_form("a=1&b%5B%5D=x+y&b%5B%5D=%E9%89%84&c&=z&d=%ZZ");
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        pairs,
        [
            ("a", "1"),
            ("b[]", "x y"),
            ("b[]", "鉄"),
            ("c", ""),
            ("", "z"),
            ("d", "%ZZ")
        ]
    );
}

#[test]
fn the_default_master_has_the_contracts_ids_and_others() {
    let master = default_carriers();
    let id = |name: &str| master.iter().find(|c| c.name == name).map(|c| c.deliv_id);
    assert_eq!(id("ヤマト運輸"), Some(1));
    assert_eq!(id("佐川急便"), Some(2));
    let mut ids: Vec<u32> = master.iter().map(|c| c.deliv_id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), master.len(), "ids are unique");
    assert!(master.len() >= 15);
}
