//! The simulator over loopback HTTP with a plain HTTP client and forms
//! written from the contract's key lists (literal keys, not the simulator's
//! constants), so that what the service checks and answers is tested
//! without any client's help.

use std::time::Duration;

use serde::Deserialize;
use tokio::net::TcpListener;

use super::*;

async fn start_sim(cfg: AtobaraiSimConfig) -> AtobaraiSimHandle {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    start(listener, cfg).await.expect("start simulator")
}

fn pairs(v: &[(&str, &str)]) -> Form {
    v.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A registration as the contract's "00 order registration" lists its keys:
/// one line of 3000 × 2 plus 500 carriage, billed 6500.
fn order_form(sim: &AtobaraiSimHandle, ent: &str) -> Form {
    let c = sim.config();
    let today = sim.now().format("%Y/%m/%d").to_string();
    let (enterprise, site, user) = (
        c.enterprise_id.to_string(),
        c.site_id.to_string(),
        c.api_user_id.to_string(),
    );
    pairs(&[
        ("O_ReceiptOrderDate", &today),
        ("O_EnterpriseId", &enterprise),
        ("O_SiteId", &site),
        ("O_ApiUserId", &user),
        ("O_Ent_OrderId", ent),
        ("O_UseAmount", "6500"),
        ("O_AnotherDeliFlg", "0"),
        ("C_PostalCode", "1500001"),
        ("C_UnitingAddress", "東京都渋谷区神宮前一丁目"),
        ("C_NameKj", "山田 太郎"),
        ("C_NameKn", "ヤマダ タロウ"),
        ("C_Phone", "09012345678"),
        ("I_ItemNameKj_1", "鉄瓶"),
        ("I_UnitPrice_1", "3000"),
        ("I_ItemNum_1", "2"),
        ("I_TaxRate_1", "10"),
        ("I_ItemCarriage", "500"),
        ("I_ItemCharge", "0"),
    ])
}

/// `EnterpriseId` and `ApiUserId` (services 01–09), then `extra`.
fn caller(sim: &AtobaraiSimHandle, extra: &[(&str, &str)]) -> Form {
    let c = sim.config();
    let mut form = pairs(&[
        ("EnterpriseId", &c.enterprise_id.to_string()),
        ("ApiUserId", &c.api_user_id.to_string()),
    ]);
    form.extend(pairs(extra));
    form
}

fn with(form: &[(String, String)], key: &str, value: &str) -> Form {
    let mut form = form.to_vec();
    match form.iter_mut().find(|(k, _)| k == key) {
        Some(pair) => pair.1 = value.to_string(),
        None => form.push((key.to_string(), value.to_string())),
    }
    form
}

fn without(form: &[(String, String)], key: &str) -> Form {
    form.iter().filter(|(k, _)| k != key).cloned().collect()
}

// ---- the answer, read as the contract describes it ----

/// `<response>`: each service fills what it has.
#[derive(Debug, Default, Deserialize)]
struct Answer {
    #[serde(default)]
    status: String,
    #[serde(default)]
    messages: Messages,
    #[serde(rename = "orderId", default)]
    order_id: Option<String>,
    #[serde(rename = "systemOrderId", default)]
    system_order_id: Option<String>,
    #[serde(rename = "orderStatus", default)]
    order_status: Option<Coded>,
    #[serde(rename = "delivId", default)]
    deliv_id: Option<Coded>,
    #[serde(rename = "journalNum", default)]
    journal_num: Option<String>,
    #[serde(default)]
    results: Results,
}

#[derive(Debug, Default, Deserialize)]
struct Messages {
    #[serde(rename = "message", default)]
    list: Vec<Coded>,
}

/// An element with its attributes and text.
#[derive(Debug, Default, Deserialize)]
struct Coded {
    #[serde(rename = "@cd", default)]
    cd: Option<String>,
    #[serde(rename = "@name", default)]
    name: Option<String>,
    #[serde(rename = "@orderStatusName", default)]
    order_status_name: Option<String>,
    #[serde(rename = "@deliveryName", default)]
    delivery_name: Option<String>,
    #[serde(rename = "$text", default)]
    text: String,
}

#[derive(Debug, Default, Deserialize)]
struct Results {
    #[serde(rename = "result", default)]
    list: Vec<Row>,
}

/// One `<result>` of 01, 02, 03, 05 or 09.
#[derive(Debug, Default, Deserialize)]
struct Row {
    #[serde(rename = "orderId", default)]
    order_id: Option<String>,
    #[serde(rename = "entOrderId", default)]
    ent_order_id: Option<String>,
    #[serde(rename = "orderStatus", default)]
    order_status: Option<Coded>,
    #[serde(rename = "cancelStatus", default)]
    cancel_status: Option<String>,
    #[serde(default)]
    error: Option<Coded>,
    #[serde(rename = "delivId", default)]
    deliv_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(rename = "shortName", default)]
    short_name: Option<String>,
    #[serde(rename = "isShipped", default)]
    is_shipped: Option<String>,
    #[serde(rename = "deliveryId", default)]
    delivery_id: Option<Coded>,
    #[serde(rename = "journalNumber", default)]
    journal_number: Option<String>,
    #[serde(rename = "isArrivalConfirmed", default)]
    is_arrival_confirmed: Option<String>,
    #[serde(rename = "isReceiptConfirmed", default)]
    is_receipt_confirmed: Option<String>,
    #[serde(rename = "isReimbursed", default)]
    is_reimbursed: Option<String>,
    #[serde(rename = "isClaimed", default)]
    is_claimed: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

/// POSTs a form and reads the answer, which is always HTTP 200 XML.
async fn post(sim: &AtobaraiSimHandle, service: &str, form: &[(String, String)]) -> Answer {
    let response = reqwest::Client::new()
        .post(format!("{}/api/{service}/rest", sim.base_url()))
        .form(form)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/xml; charset=utf-8")
    );
    read(&response.text().await.expect("body"))
}

fn read(xml: &str) -> Answer {
    quick_xml::de::from_str(xml).unwrap_or_else(|e| panic!("{e}: {xml}"))
}

fn codes(answer: &Answer) -> Vec<&str> {
    answer
        .messages
        .list
        .iter()
        .filter_map(|m| m.cd.as_deref())
        .collect()
}

/// `(cd, text)` of an `<orderStatus>` of 00 or 01.
fn credit(coded: Option<&Coded>) -> (&str, &str) {
    let c = coded.expect("an orderStatus");
    (c.cd.as_deref().unwrap_or_default(), c.text.as_str())
}

async fn register(sim: &AtobaraiSimHandle, ent: &str) -> String {
    let answer = post(sim, "order", &order_form(sim, ent)).await;
    assert_eq!(answer.status, "success", "{:?}", answer.messages);
    answer.system_order_id.expect("a system order id")
}

// ---- 00 ----

#[tokio::test]
async fn a_registration_answers_the_contracts_xml_with_ak_ids() {
    let sim = start_sim(AtobaraiSimConfig::default()).await;
    let form = order_form(&sim, "S-1");
    let answer = post(&sim, "order", &form).await;
    assert_eq!(answer.status, "success");
    assert_eq!(answer.order_id.as_deref(), Some("S-1"));
    assert_eq!(answer.system_order_id.as_deref(), Some("AK00012345"));
    assert_eq!(credit(answer.order_status.as_ref()), ("1", "与信OK"));
    let second = post(&sim, "order", &with(&form, "O_Ent_OrderId", "S-2")).await;
    assert_eq!(second.system_order_id.as_deref(), Some("AK00012346"));
    let o = sim.order("AK00012346").expect("stored");
    assert_eq!(
        (o.use_amount, o.status),
        (6500, DataStatus::AwaitingJournalNumber)
    );
}

#[tokio::test]
async fn a_misspelt_key_is_ignored_and_the_required_error_shows() {
    let sim = start_sim(AtobaraiSimConfig::default()).await;
    let good = order_form(&sim, "S-1");
    // `C_Namekj` is not a key the service knows: it is dropped silently.
    let mut typo = without(&good, "C_NameKj");
    typo.extend(pairs(&[
        ("C_Namekj", "山田 太郎"),
        ("X_Whatever", "ignored"),
    ]));
    let answer = post(&sim, "order", &typo).await;
    assert_eq!(answer.status, "error");
    assert_eq!(codes(&answer), ["E00201"]);
    assert!(answer.messages.list[0].text.contains("C_NameKj"));
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
        http.get(&url).send().await.expect("send"),
        http.post(&url)
            .header("content-type", "application/json")
            .body(r#"{"EnterpriseId": 10000}"#)
            .send()
            .await
            .expect("send"),
    ] {
        assert_eq!(response.status().as_u16(), 200);
        let answer = read(&response.text().await.expect("body"));
        assert_eq!(codes(&answer), ["E01201", "E01201", "E01201"]);
    }
    let missing = http
        .post(format!("{}/api/jnummod/rest", sim.base_url()))
        .send()
        .await
        .expect("send");
    assert_eq!(missing.status().as_u16(), 404);
    let stats = sim.stats();
    assert_eq!(stats.calls(AtobaraiService::Status), 2);
    assert_eq!(stats.not_found, 1);
}

#[tokio::test]
async fn registration_checks_each_rule_with_its_code() {
    // A site with every per-site check turned on.
    let sim = start_sim(AtobaraiSimConfig {
        site_checks: SiteChecks::all(),
        ..AtobaraiSimConfig::default()
    })
    .await;
    let good = order_form(&sim, "R-1");
    let line = |n: u32, name: &str, price: &str, qty: &str| {
        vec![
            (format!("I_ItemNameKj_{n}"), name.to_string()),
            (format!("I_UnitPrice_{n}"), price.to_string()),
            (format!("I_ItemNum_{n}"), qty.to_string()),
        ]
    };
    let no_lines: Form = good
        .iter()
        .filter(|(k, _)| !k.starts_with("I_") || k == "I_ItemCarriage" || k == "I_ItemCharge")
        .cloned()
        .collect();
    let mut zero_qty = no_lines.clone();
    zero_qty.extend(line(1, "鉄瓶", "6000", "0"));
    let mut bad_rate = no_lines.clone();
    bad_rate.extend(line(1, "鉄瓶", "6000", "1"));
    bad_rate.extend(pairs(&[("I_TaxRate_1", "5")]));
    let mut two_lines = with(&no_lines, "O_UseAmount", "6300");
    two_lines.extend(line(1, "鉄瓶", "3000", "2"));
    two_lines.extend(line(2, "割引", "-200", "1"));
    let cases: Vec<(&str, Form, Vec<&str>)> = vec![
        (
            "date",
            with(&good, "O_ReceiptOrderDate", "2026-11-23"),
            vec!["E00204"],
        ),
        (
            "no such day",
            with(&good, "O_ReceiptOrderDate", "2026/02/30"),
            vec!["E00204"],
        ),
        ("amount", with(&good, "O_UseAmount", "6501"), vec!["E00303"]),
        (
            "amount format",
            with(&good, "O_UseAmount", "6,500"),
            vec!["E00202"],
        ),
        (
            "postcode format",
            with(&good, "C_PostalCode", "150-01"),
            vec!["E00202"],
        ),
        (
            "unknown postcode",
            with(&good, "C_PostalCode", "0000000"),
            vec!["E00308"],
        ),
        (
            "street number",
            with(&good, "C_UnitingAddress", "東京都渋谷区神宮前"),
            vec!["E00307"],
        ),
        ("phone", with(&good, "C_Phone", "0312"), vec!["E00202"]),
        (
            "mail",
            with(&good, "C_MailAddress", "taro.example.jp"),
            vec!["E00202"],
        ),
        ("no lines", no_lines.clone(), vec!["E00302"]),
        ("zero quantity", zero_qty, vec!["E00203"]),
        ("tax rate", bad_rate, vec!["E00203"]),
        (
            "enterprise id",
            with(&good, "O_EnterpriseId", "99999"),
            vec!["E00102"],
        ),
        ("site id", with(&good, "O_SiteId", "1"), vec!["E00102"]),
        // An API user that does not exist has no allow-list: E..101.
        (
            "api user",
            with(&good, "O_ApiUserId", "abc"),
            vec!["E00101"],
        ),
        ("id format", with(&good, "O_SiteId", "abc"), vec!["E00202"]),
        (
            "two missing",
            without(&without(&good, "C_Phone"), "O_SiteId"),
            vec!["E00201", "E00201"],
        ),
        (
            "delivery keys",
            with(&good, "O_AnotherDeliFlg", "1"),
            vec!["E00201", "E00201", "E00201", "E00201"],
        ),
        (
            "older than 60 days",
            with(&good, "O_ReceiptOrderDate", "2020/01/01"),
            vec!["E00306"],
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
async fn credit_hooks_decide_and_review_resolves_on_the_clock() {
    let sim = start_sim(AtobaraiSimConfig::default()).await;
    let named = |ent: &str, name: &str| with(&order_form(&sim, ent), "C_NameKj", name);
    let test = |ent: &str, result: &str| {
        let form = with(&named(ent, MARKER_NG), "O_TestOrderFlg", "1");
        with(&form, "O_TestCreditResult", result)
    };
    let over_limit = with(
        &with(&order_form(&sim, "LIMIT"), "I_UnitPrice_1", "30000"),
        "O_UseAmount",
        "60500",
    );
    let mut ids = Vec::new();
    for (form, want) in [
        (named("NG", &format!("{MARKER_NG} 太郎")), ("2", "与信NG")),
        (over_limit, ("2", "与信NG")),
        (
            named("REV", &format!("{MARKER_REVIEW} 花子")),
            ("0", "与信中"),
        ),
        (
            named("REV-NG", &format!("{MARKER_REVIEW_NG} 次郎")),
            ("0", "与信中"),
        ),
        (test("T-OK", "0"), ("1", "与信OK")),
        (test("T-NG", "1"), ("2", "与信NG")),
        (test("T-P", "2"), ("0", "与信中")),
    ] {
        let answer = post(&sim, "order", &form).await;
        assert_eq!(credit(answer.order_status.as_ref()), want, "{form:?}");
        ids.push(answer.system_order_id.expect("an id"));
    }
    assert!(sim.order(&ids[4]).is_some_and(|o| o.test));
    let pending = [&ids[2], &ids[3], &ids[6]];
    let ask = caller(&sim, &pending.map(|id| ("OrderId[]", id.as_str())));
    let cds = |answer: &Answer| -> Vec<String> {
        answer
            .results
            .list
            .iter()
            .map(|r| credit(r.order_status.as_ref()).0.to_string())
            .collect()
    };
    // The clock also runs in real time and the orders were registered over
    // a second or so: a margin well above that keeps the test exact.
    let margin = Duration::from_secs(10);
    sim.advance_clock(sim.config().review_delay - margin);
    assert_eq!(cds(&post(&sim, "status", &ask).await), ["0", "0", "0"]);
    sim.advance_clock(margin);
    assert_eq!(cds(&post(&sim, "status", &ask).await), ["1", "2", "1"]);
}

#[tokio::test]
async fn a_timeout_fault_registers_the_order_and_never_answers() {
    let sim = start_sim(AtobaraiSimConfig::default()).await;
    sim.inject(AtobaraiService::Order, Fault::Timeout, 1);
    let form = order_form(&sim, "TO-1");
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

// ---- 01–09 ----

#[tokio::test]
async fn other_services_check_their_keys_too() {
    let sim = start_sim(AtobaraiSimConfig::default()).await;
    // `OrderId` without `[]` is not the status service's key.
    let answer = post(&sim, "status", &caller(&sim, &[("OrderId", "AK00012345")])).await;
    assert_eq!(codes(&answer), ["E01201"]);
    let answer = post(
        &sim,
        "shipping",
        &caller(&sim, &[("OrderId", "AK1"), ("DelivId", "x")]),
    )
    .await;
    assert_eq!(codes(&answer), ["E04201", "E04202"]);
    let too_many: Vec<(&str, &str)> = (0..=100).map(|_| ("OrderId[]", "AK1")).collect();
    let answer = post(&sim, "cancel", &caller(&sim, &too_many)).await;
    assert_eq!(codes(&answer), ["E05202"]);
    let answer = post(&sim, "detail", &caller(&sim, &[])).await;
    assert_eq!(codes(&answer), ["E09201"]);
    let answer = post(&sim, "delivlist", &caller(&sim, &[])).await;
    assert_eq!(answer.status, "success");
    let first = &answer.results.list[0];
    assert_eq!(first.deliv_id.as_deref(), Some("1"));
    assert_eq!(first.name.as_deref(), Some("ヤマト運輸"));
    assert_eq!(first.short_name.as_deref(), Some("ヤマト"));
    // An API user that does not exist answers E..101 (its allow-list is not
    // found), another enterprise's id E..102; both in the server's words.
    let unknown_user = pairs(&[("EnterpriseId", "10000"), ("ApiUserId", "101")]);
    let answer = post(&sim, "delivlist", &unknown_user).await;
    assert_eq!(codes(&answer), ["E02101"]);
    assert_eq!(
        answer.messages.list[0].text,
        "不正なリクエストと判定されました。サポートセンターまでお問合せください。"
    );
    let wrong = pairs(&[("EnterpriseId", "10001"), ("ApiUserId", "100")]);
    let answer = post(&sim, "delivlist", &wrong).await;
    assert_eq!(codes(&answer), ["E02102"]);
    assert!(answer.messages.list[0].text.ends_with(
        "WEB-APIの利用申請が行なわれていない場合は、サポートセンターまでお問合せください。"
    ));
}

#[tokio::test]
async fn a_caller_outside_the_allow_list_is_refused_with_e_101() {
    let sim = start_sim(AtobaraiSimConfig::default()).await;
    sim.set_allowed_sources(vec!["192.0.2.0/24".parse().expect("a network")]);
    let answer = post(&sim, "order", &order_form(&sim, "IP-1")).await;
    assert_eq!(codes(&answer), ["E00101"]);
    let answer = post(&sim, "status", &caller(&sim, &[("OrderId[]", "AK1")])).await;
    assert_eq!(codes(&answer), ["E01101"]);
    assert!(sim.orders().is_empty());
    assert_eq!(sim.stats().refused_ip, 2);
    // The caller is the first X-Forwarded-For entry when the header is there.
    let forwarded = |chain: &'static str| {
        reqwest::Client::new()
            .post(format!("{}/api/delivlist/rest", sim.base_url()))
            .header("x-forwarded-for", chain)
            .form(&caller(&sim, &[]))
            .send()
    };
    let body = forwarded("192.0.2.7, 127.0.0.1").await.expect("send");
    assert_eq!(read(&body.text().await.expect("body")).status, "success");
    let body = forwarded("198.51.100.1, 192.0.2.7").await.expect("send");
    let answer = read(&body.text().await.expect("body"));
    assert_eq!(codes(&answer), ["E02101"]);
    assert_eq!(sim.stats().requests[3].peer.to_string(), "198.51.100.1");
}

#[tokio::test]
async fn status_and_idmap_answer_per_order() {
    let sim = start_sim(AtobaraiSimConfig::default()).await;
    let id = register(&sim, "SHOP-1").await;
    let answer = post(
        &sim,
        "status",
        &caller(&sim, &[("OrderId[]", &id), ("OrderId[]", "AK99999999")]),
    )
    .await;
    assert_eq!(answer.status, "success");
    let rows = &answer.results.list;
    assert_eq!(rows[0].order_id.as_deref(), Some(id.as_str()));
    assert_eq!(rows[0].ent_order_id.as_deref(), Some("SHOP-1"));
    assert_eq!(credit(rows[0].order_status.as_ref()), ("1", "与信OK"));
    assert_eq!(credit(rows[1].order_status.as_ref()).0, "-1");
    // Only unknown ids: `error` with E01202, the results listed all the same.
    let answer = post(
        &sim,
        "status",
        &caller(&sim, &[("OrderId[]", "AK99999999")]),
    )
    .await;
    assert_eq!(
        (answer.status.as_str(), codes(&answer)),
        ("error", vec!["E01202"])
    );
    assert_eq!(credit(answer.results.list[0].order_status.as_ref()).0, "-1");

    // idmap maps only orders at 与信OK: one under review, or none at all,
    // is E001 対応注文なし; two at 与信OK under one number E002 複数注文該当.
    let review = with(&order_form(&sim, "SHOP-REV"), "C_NameKj", MARKER_REVIEW);
    assert_eq!(post(&sim, "order", &review).await.status, "success");
    register(&sim, "SHOP-2").await;
    register(&sim, "SHOP-2").await;
    let ents = [
        ("Ent_OrderId[]", "SHOP-1"),
        ("Ent_OrderId[]", "SHOP-404"),
        ("Ent_OrderId[]", "SHOP-REV"),
        ("Ent_OrderId[]", "SHOP-2"),
    ];
    let answer = post(&sim, "idmap", &caller(&sim, &ents)).await;
    assert_eq!(answer.status, "success");
    let mapped: Vec<(Option<&str>, Option<&str>, Option<&str>)> = answer
        .results
        .list
        .iter()
        .map(|r| {
            (
                r.ent_order_id.as_deref(),
                r.order_id.as_deref().filter(|s| !s.is_empty()),
                r.error.as_ref().and_then(|e| e.cd.as_deref()),
            )
        })
        .collect();
    assert_eq!(
        mapped,
        [
            (Some("SHOP-1"), Some(id.as_str()), None),
            (Some("SHOP-404"), None, Some("E001")),
            (Some("SHOP-REV"), None, Some("E001")),
            (Some("SHOP-2"), None, Some("E002")),
        ]
    );
    // None mapped: `error` with E03202, the results listed all the same.
    let answer = post(&sim, "idmap", &caller(&sim, &ents[1..3])).await;
    assert_eq!(
        (answer.status.as_str(), codes(&answer)),
        ("error", vec!["E03202"])
    );
    assert_eq!(answer.results.list.len(), 2);
    // Once reviewed OK, idmap finds it.
    sim.advance_clock(sim.config().review_delay + Duration::from_secs(10));
    let answer = post(&sim, "idmap", &caller(&sim, &ents[2..3])).await;
    assert_eq!(answer.status, "success");
}

#[tokio::test]
async fn a_default_site_takes_one_merchant_number_twice_and_detail_finds_both() {
    let sim = start_sim(AtobaraiSimConfig::default()).await;
    let good = order_form(&sim, "DUP-1");
    let first = post(&sim, "order", &good).await;
    // Only a site option refuses a duplicate, an old date, an address without
    // a street number, an unknown postcode or an odd phone.
    let lax = with(
        &with(
            &with(
                &with(&good, "O_ReceiptOrderDate", "2020/01/01"),
                "C_UnitingAddress",
                "東京都渋谷区神宮前",
            ),
            "C_PostalCode",
            "0000000",
        ),
        "C_Phone",
        "0312",
    );
    let second = post(&sim, "order", &lax).await;
    assert_eq!(second.status, "success", "{:?}", second.messages);
    let ids: Vec<String> = [first, second]
        .into_iter()
        .map(|a| a.system_order_id.expect("an id"))
        .collect();
    assert_eq!(sim.orders_by_ent("DUP-1").len(), 2);
    // detail by merchant number answers every order under it, in any state.
    assert!(sim.set_status(&ids[1], DataStatus::UnderReview));
    let answer = post(&sim, "detail", &caller(&sim, &[("Ent_OrderId[]", "DUP-1")])).await;
    let found: Vec<(Option<&str>, &str)> = answer
        .results
        .list
        .iter()
        .map(|r| {
            (
                r.order_id.as_deref(),
                r.order_status.as_ref().map_or("", |s| s.text.as_str()),
            )
        })
        .collect();
    assert_eq!(
        found,
        [(Some(ids[0].as_str()), "1"), (Some(ids[1].as_str()), "0")]
    );
    // A site with the check refuses the second one.
    let strict = start_sim(AtobaraiSimConfig {
        site_checks: SiteChecks {
            duplicate_order_id: true,
            ..SiteChecks::default()
        },
        ..AtobaraiSimConfig::default()
    })
    .await;
    register(&strict, "DUP-1").await;
    let answer = post(&strict, "order", &order_form(&strict, "DUP-1")).await;
    assert_eq!(codes(&answer), ["E00309"]);
}

#[tokio::test]
async fn shipping_and_detail_answer_in_the_servers_shapes() {
    let sim = start_sim(AtobaraiSimConfig::default()).await;
    let id = register(&sim, "SHIP-1").await;
    let shipping = |number: &str| {
        caller(
            &sim,
            &[("OrderId", &id), ("DelivId", "2"), ("JournalNum", number)],
        )
    };
    let answer = post(&sim, "shipping", &shipping("4000-1234-5678")).await;
    assert_eq!(answer.status, "success", "{:?}", answer.messages);
    assert_eq!(answer.order_id.as_deref(), Some(id.as_str()));
    let deliv = answer.deliv_id.expect("delivId");
    assert_eq!(
        (deliv.text.as_str(), deliv.name.as_deref()),
        ("2", Some("佐川急便"))
    );
    assert_eq!(answer.journal_num.as_deref(), Some("4000-1234-5678"));
    // A repeat is E04301 (the order no longer awaits a number).
    assert_eq!(
        codes(&post(&sim, "shipping", &shipping("400012345678")).await),
        ["E04301"]
    );
    let bad_carrier = caller(
        &sim,
        &[
            ("OrderId", &id),
            ("DelivId", "99"),
            ("JournalNum", "400012345678"),
        ],
    );
    assert_eq!(
        codes(&post(&sim, "shipping", &bad_carrier).await),
        ["E04202"]
    );

    // detail: the status code as the element's text, its name an attribute,
    // by system id and by merchant number; an unknown id reads -1.
    let answer = post(
        &sim,
        "detail",
        &caller(
            &sim,
            &[
                ("OrderId[]", &id),
                ("OrderId[]", "AK99999999"),
                ("Ent_OrderId[]", "SHIP-1"),
            ],
        ),
    )
    .await;
    let rows = &answer.results.list;
    assert_eq!(rows.len(), 3);
    for row in [&rows[0], &rows[2]] {
        let status = row.order_status.as_ref().expect("orderStatus");
        assert_eq!(status.text, "2");
        assert_eq!(status.order_status_name.as_deref(), Some("請求書発行待ち"));
        assert!(status.cd.is_none(), "no cd attribute in detail");
        let delivery = row.delivery_id.as_ref().expect("deliveryId");
        assert_eq!(
            (delivery.text.as_str(), delivery.delivery_name.as_deref()),
            ("2", Some("佐川急便"))
        );
        assert_eq!(row.is_shipped.as_deref(), Some("1"));
        assert_eq!(row.journal_number.as_deref(), Some("4000-1234-5678"));
        assert_eq!(row.is_arrival_confirmed.as_deref(), Some("0"));
        assert_eq!(row.is_receipt_confirmed.as_deref(), Some("0"));
    }
    assert_eq!(
        rows[1].order_status.as_ref().map(|s| s.text.as_str()),
        Some("-1")
    );

    // The DataStatus machine on the clock: 入金確認待ち, then クローズ.
    sim.advance_clock(sim.config().invoice_delay);
    assert_eq!(
        sim.order(&id).map(|o| o.status),
        Some(DataStatus::AwaitingPayment)
    );
    sim.advance_clock(sim.config().payment_delay.expect("a payment delay"));
    let answer = post(&sim, "detail", &caller(&sim, &[("OrderId[]", &id)])).await;
    let row = &answer.results.list[0];
    let status = row.order_status.as_ref().expect("orderStatus");
    assert_eq!(
        (status.text.as_str(), status.order_status_name.as_deref()),
        ("9", Some("クローズ"))
    );
    assert_eq!(row.is_receipt_confirmed.as_deref(), Some("1"));
}

#[tokio::test]
async fn a_cancel_is_a_request_answered_per_order() {
    let sim = start_sim(AtobaraiSimConfig::default()).await;
    let live = register(&sim, "CXL-1").await;
    let closed = register(&sim, "CXL-2").await;
    assert!(sim.set_status(&closed, DataStatus::Closed));
    let form = caller(
        &sim,
        &[
            ("OrderId[]", &live),
            ("Reason[]", "out of stock"),
            ("OrderId[]", &closed),
            ("Reason[]", "late"),
            ("OrderId[]", "AK00000001"),
            ("Reason[]", "typo"),
        ],
    );
    let answer = post(&sim, "cancel", &form).await;
    assert_eq!(answer.status, "success", "one order was cancelled");
    let outcome: Vec<_> = answer
        .results
        .list
        .iter()
        .map(|r| {
            (
                r.order_id.as_deref(),
                r.reason.as_deref(),
                r.cancel_status.as_deref(),
                r.error.as_ref().and_then(|e| e.cd.as_deref()),
            )
        })
        .collect();
    assert_eq!(
        outcome,
        [
            (
                Some(live.as_str()),
                Some("out of stock"),
                Some("success"),
                None
            ),
            (
                Some(closed.as_str()),
                Some("late"),
                Some("error"),
                Some("E002")
            ),
            (
                Some("AK00000001"),
                Some("typo"),
                Some("error"),
                Some("E001")
            ),
        ]
    );
    assert_eq!(
        answer.results.list[2]
            .error
            .as_ref()
            .map(|e| e.text.as_str()),
        Some("対応注文なし")
    );
    let o = sim.order(&live).expect("kept");
    assert_eq!(o.status, DataStatus::CancelRequested);
    assert_eq!(o.cancel_reason.as_deref(), Some("out of stock"));
    let status = post(&sim, "status", &caller(&sim, &[("OrderId[]", &live)])).await;
    assert_eq!(credit(status.results.list[0].order_status.as_ref()).0, "3");
    sim.advance_clock(sim.config().cancel_delay);
    assert_eq!(
        sim.order(&live).map(|o| o.status),
        Some(DataStatus::Cancelled)
    );
    // Nothing cancelled, one could not be: `error` / E05301, results listed.
    let again = post(&sim, "cancel", &caller(&sim, &[("OrderId[]", &live)])).await;
    assert_eq!(
        (again.status.as_str(), codes(&again)),
        ("error", vec!["E05301"])
    );
    assert_eq!(
        again.results.list[0]
            .error
            .as_ref()
            .and_then(|e| e.cd.as_deref()),
        Some("E002")
    );
    // Nothing found: `error` / E05202.
    let none = post(
        &sim,
        "cancel",
        &caller(&sim, &[("OrderId[]", "AK00000001")]),
    )
    .await;
    assert_eq!(
        (none.status.as_str(), codes(&none)),
        ("error", vec!["E05202"])
    );
    // No id at all: E05201.
    assert_eq!(
        codes(&post(&sim, "cancel", &caller(&sim, &[])).await),
        ["E05201"]
    );
    // The card processor refuses: E003 with its message.
    let card = register(&sim, "CXL-3").await;
    sim.refuse_cancel(&card, Some(("E003", "SBPS: 取消期限を過ぎています")));
    let refused = post(&sim, "cancel", &caller(&sim, &[("OrderId[]", &card)])).await;
    let error = refused.results.list[0].error.as_ref().expect("an error");
    assert_eq!(
        (error.cd.as_deref(), error.text.as_str()),
        (Some("E003"), "SBPS: 取消期限を過ぎています")
    );
    assert_eq!(codes(&refused), ["E05301"]);
    sim.refuse_cancel(&card, None);
    let done = post(&sim, "cancel", &caller(&sim, &[("OrderId[]", &card)])).await;
    assert_eq!(done.status, "success");
}

#[tokio::test]
async fn a_cancel_reply_may_carry_a_php_warning_before_the_xml() {
    let sim = start_sim(AtobaraiSimConfig {
        warning_before_cancel_xml: true,
        ..AtobaraiSimConfig::default()
    })
    .await;
    let id = register(&sim, "WARN-1").await;
    let body = reqwest::Client::new()
        .post(format!("{}/api/cancel/rest", sim.base_url()))
        .form(&caller(&sim, &[("OrderId[]", &id), ("Reason[]", "r")]))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("body");
    let (warning, xml) = body.split_at(body.find("<?xml").expect("an XML declaration"));
    assert!(warning.contains("<b>Warning</b>"), "{body}");
    assert_eq!(read(xml).status, "success");
    assert_eq!(
        sim.order(&id).map(|o| o.status),
        Some(DataStatus::CancelRequested)
    );
    // Other services answer clean XML.
    let body = reqwest::Client::new()
        .post(format!("{}/api/delivlist/rest", sim.base_url()))
        .form(&caller(&sim, &[]))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("body");
    assert!(body.starts_with("<?xml"), "{body}");
}

#[tokio::test]
async fn orders_close_for_other_reasons_than_payment() {
    let sim = start_sim(AtobaraiSimConfig::default()).await;
    let ship = |id: &str| {
        caller(
            &sim,
            &[
                ("OrderId", id),
                ("DelivId", "1"),
                ("JournalNum", "123456789012"),
            ],
        )
    };
    let paid = register(&sim, "CL-1").await;
    let unpaid_form = with(
        &order_form(&sim, "CL-2"),
        "C_NameKj",
        &format!("{MARKER_UNPAID} 太郎"),
    );
    let unpaid = post(&sim, "order", &unpaid_form)
        .await
        .system_order_id
        .expect("an id");
    let bad_debt = register(&sim, "CL-3").await;
    for id in [&paid, &unpaid, &bad_debt] {
        assert_eq!(post(&sim, "shipping", &ship(id)).await.status, "success");
    }
    sim.advance_clock(sim.config().invoice_delay);
    assert!(sim.close(&bad_debt, CloseReason::BadDebt));
    sim.advance_clock(sim.config().payment_delay.expect("a payment delay"));
    let ask = caller(
        &sim,
        &[
            ("OrderId[]", &paid),
            ("OrderId[]", &unpaid),
            ("OrderId[]", &bad_debt),
        ],
    );
    let answer = post(&sim, "detail", &ask).await;
    let rows: Vec<_> = answer
        .results
        .list
        .iter()
        .map(|r| {
            (
                r.order_status.as_ref().map_or("", |s| s.text.as_str()),
                r.is_receipt_confirmed.as_deref(),
                r.is_reimbursed.as_deref(),
                r.is_claimed.as_deref(),
            )
        })
        .collect();
    // Every one is 9 クローズ; only the paid one has its receipt confirmed.
    assert_eq!(
        rows,
        [
            ("9", Some("1"), Some("1"), Some("1")),
            ("9", Some("0"), Some("0"), Some("1")),
            ("9", Some("0"), Some("0"), Some("1")),
        ]
    );
    assert_eq!(
        sim.order(&unpaid).and_then(|o| o.close_reason),
        Some(CloseReason::AdvanceTakenBack)
    );
    assert_eq!(CloseReason::AdvanceTakenBack.code(), 6);
    // Empty elements are written open and closed, as the server does.
    let raw = reqwest::Client::new()
        .post(format!("{}/api/detail/rest", sim.base_url()))
        .form(&ask)
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("body");
    assert!(raw.contains("<cancelDate></cancelDate>"), "{raw}");
    assert!(raw.contains("<isCanceled>0</isCanceled>"), "{raw}");
}

#[tokio::test]
async fn faults_replace_the_answer() {
    let sim = start_sim(AtobaraiSimConfig::default()).await;
    sim.inject(AtobaraiService::Status, Fault::SystemFailure, 1);
    sim.inject_any(Fault::Maintenance, 1);
    let form = caller(&sim, &[("OrderId[]", "AK1")]);
    assert_eq!(codes(&post(&sim, "status", &form).await), ["E01901"]);
    assert_eq!(
        codes(&post(&sim, "delivlist", &caller(&sim, &[])).await),
        ["E02902"]
    );
    sim.inject(
        AtobaraiService::Order,
        Fault::Error("E00303".to_string()),
        1,
    );
    let answer = post(&sim, "order", &order_form(&sim, "F-1")).await;
    assert_eq!(codes(&answer), ["E00303"]);
    assert!(sim.orders().is_empty(), "a replaced answer changed nothing");
    sim.inject(AtobaraiService::Detail, Fault::Status(503), 1);
    let http = reqwest::Client::new();
    let url = format!("{}/api/detail/rest", sim.base_url());
    let response = http.post(&url).form(&form).send().await.expect("send");
    assert_eq!(response.status().as_u16(), 503);
    // A redirect points at the same path; the form is handled when it comes back.
    sim.inject(AtobaraiService::Detail, Fault::Redirect, 1);
    let manual = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let response = manual.post(&url).form(&form).send().await.expect("send");
    assert_eq!(response.status().as_u16(), 302);
    assert_eq!(
        response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok()),
        Some("/api/detail/rest")
    );
    sim.inject_any(Fault::Garbage, 5);
    sim.clear_faults();
    assert_eq!(post(&sim, "detail", &form).await.status, "success");
}

#[tokio::test]
async fn the_contracts_examples_are_answered_verbatim() {
    let sim = start_sim(AtobaraiSimConfig::default()).await;
    let http = reqwest::Client::new();
    let raw = |service: &str, form: Form| {
        let request = http
            .post(format!("{}/api/{service}/rest", sim.base_url()))
            .form(&form);
        async move {
            let body = request.send().await.expect("send").text().await;
            body.expect("body")
        }
    };
    // "00 order registration", its response example.
    let body = raw("order", order_form(&sim, "SHOP-1001")).await;
    assert!(
        body.ends_with(
            "<response><status>success</status><orderId>SHOP-1001</orderId>\
             <systemOrderId>AK00012345</systemOrderId><messages/>\
             <orderStatus cd=\"1\">与信OK</orderStatus></response>"
        ),
        "{body}"
    );
    // "04 shipping", its response shape.
    let form = caller(
        &sim,
        &[
            ("OrderId", "AK00012345"),
            ("DelivId", "1"),
            ("JournalNum", "123456789012"),
        ],
    );
    let body = raw("shipping", form).await;
    assert!(
        body.ends_with(
            "<response><status>success</status><orderId>AK00012345</orderId>\
             <delivId name=\"ヤマト運輸\">1</delivId><journalNum>123456789012</journalNum>\
             <messages/></response>"
        ),
        "{body}"
    );
}
