//! The client against the simulator over loopback HTTP: every service, every
//! credit result, the fee rules, recovery after lost answers, and how errors
//! are classified.

use std::collections::BTreeSet;
use std::time::Duration;

use tokio::net::TcpListener;

use super::*;
use crate::domain::Carrier;
use crate::providers::credit::atobarai_com::config::{FeeBand, FeeMode};
use crate::providers::credit::atobarai_com::{Line, Party, TestCredit, deliv_id_for};
use crate::sim::atobarai_com::AtobaraiSimSettings;
// The simulator's own service names (faults, counters) shadow the adapter's
// that `super::*` brings in: every use of them here is about the simulator.
use ordersync_sim::atobarai_com::{
    self as sim, AtobaraiService, AtobaraiSimConfig, AtobaraiSimHandle, DataStatus, Fault,
    MARKER_NG, MARKER_REVIEW, MARKER_REVIEW_NG,
};

const WAIT: Duration = Duration::from_secs(10);

async fn start_sim(cfg: AtobaraiSimConfig) -> AtobaraiSimHandle {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    sim::start(listener, cfg).await.expect("start simulator")
}

async fn setup() -> (AtobaraiSimHandle, AtobaraiClient) {
    let sim = start_sim(AtobaraiSimConfig::default()).await;
    let client = AtobaraiClient::new(sim.client_settings()).unwrap();
    (sim, client)
}

fn buyer(name: &str) -> Party {
    Party {
        postal_code: "100-0001".into(),
        address: "東京都千代田区千代田1-1".into(),
        name: name.into(),
        name_kana: "ヤマダ タロウ".into(),
        phone: "03-1234-5678".into(),
        email: Some("taro@example.jp".into()),
    }
}

fn order(ent: &str) -> OrderRegistration {
    OrderRegistration {
        ent_order_id: ent.into(),
        // Today: the service refuses orders older than 60 days on sites that check.
        ordered_on: crate::domain::time::now().date_naive(),
        buyer: buyer("山田 太郎"),
        delivery: None,
        lines: vec![
            Line {
                name: "南部鉄器 急須".into(),
                unit_price: 5500,
                qty: 1,
                tax_rate: Some(10),
            },
            Line {
                name: "湯呑".into(),
                unit_price: 1200,
                qty: 2,
                tax_rate: Some(10),
            },
        ],
        carriage: 800,
        charge: 0,
        outside_tax: None,
        test: None,
    }
}

fn ids(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[track_caller]
fn rejected<T: std::fmt::Debug>(r: Result<T, CallError>) -> (u16, String, String) {
    match r {
        Err(CallError::Rejected {
            http_status,
            code,
            message,
        }) => (http_status, code, message),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[track_caller]
fn transient<T: std::fmt::Debug>(r: Result<T, CallError>) -> String {
    match r {
        Err(CallError::Transient { reason, .. }) => reason,
        other => panic!("expected a transient error, got {other:?}"),
    }
}

async fn register_ok(client: &AtobaraiClient, ent: &str) -> String {
    let r = client.register_order(&order(ent)).await.unwrap();
    assert_eq!(r.status, CreditStatus::Ok, "{ent}");
    r.system_order_id
}

#[tokio::test]
async fn every_service_works_through_the_client() {
    let (sim, client) = setup().await;

    let master = client.carriers().await.unwrap();
    assert_eq!(master.get(1).unwrap().name, "ヤマト運輸");
    assert_eq!(master.get(2).unwrap().name, "佐川急便");
    assert!(master.carriers.len() >= 10);

    let r = client.register_order(&order("SHOP-1001")).await.unwrap();
    assert_eq!(r.status, CreditStatus::Ok);
    assert_eq!(r.system_order_id, "AK00012345");
    let stored = sim.order(&r.system_order_id).unwrap();
    assert_eq!(stored.use_amount, 5500 + 2400 + 800);
    assert_eq!(stored.ent_order_id, "SHOP-1001");

    let statuses = client
        .status(&ids(&[&r.system_order_id, "AK99999999"]))
        .await
        .unwrap();
    assert_eq!(
        statuses,
        vec![
            (
                r.system_order_id.clone(),
                Some("SHOP-1001".to_string()),
                CreditStatus::Ok
            ),
            ("AK99999999".to_string(), None, CreditStatus::Unknown),
        ]
    );

    let mapped = client
        .idmap(&ids(&["SHOP-1001", "SHOP-404"]))
        .await
        .unwrap();
    assert_eq!(
        mapped,
        vec![
            (
                "SHOP-1001".to_string(),
                IdMapped::Found(r.system_order_id.clone())
            ),
            ("SHOP-404".to_string(), IdMapped::NotFound),
        ]
    );

    let detail = client
        .detail(&ids(&[&r.system_order_id]), &ids(&["SHOP-1001"]))
        .await
        .unwrap();
    assert_eq!(detail.len(), 2);
    assert_eq!(detail[0], detail[1]);
    assert_eq!(detail[0].status, DetailStatus::AwaitingTrackingNumber);
    assert!(!detail[0].is_shipped);

    let yamato = deliv_id_for(Carrier::Yamato, &master).unwrap();
    let shipped = client
        .register_shipping(&r.system_order_id, yamato, "1234-5678-9012")
        .await
        .unwrap();
    assert_eq!(
        shipped,
        ShippingRegistered {
            system_order_id: r.system_order_id.clone(),
            deliv_id: 1,
            carrier_name: Some("ヤマト運輸".to_string()),
            journal_num: "1234-5678-9012".to_string(),
        }
    );
    let d = &client
        .detail(&ids(&[&r.system_order_id]), &[])
        .await
        .unwrap()[0];
    assert_eq!(d.status, DetailStatus::AwaitingInvoice);
    assert!(d.is_shipped);
    assert_eq!(d.deliv_id, Some(1));

    let cancelled = client
        .cancel(&[(r.system_order_id.clone(), "customer asked".to_string())])
        .await
        .unwrap();
    assert_eq!(cancelled, vec![(r.system_order_id.clone(), Ok(()))]);
    assert_eq!(
        sim.order(&r.system_order_id)
            .unwrap()
            .cancel_reason
            .as_deref(),
        Some("customer asked")
    );

    let stats = sim.stats();
    for service in [
        AtobaraiService::Order,
        AtobaraiService::Status,
        AtobaraiService::DelivList,
        AtobaraiService::IdMap,
        AtobaraiService::Shipping,
        AtobaraiService::Cancel,
        AtobaraiService::Detail,
    ] {
        assert!(stats.calls(service) >= 1, "{service}");
    }
    assert_eq!(stats.calls(AtobaraiService::Detail), 2);
}

#[tokio::test]
async fn each_credit_result_and_review_resolving_on_the_clock() {
    let (sim, client) = setup().await;
    let register = |ent: &str, name: &str, test: Option<TestCredit>| {
        let mut o = order(ent);
        o.buyer.name = name.to_string();
        o.test = test;
        o
    };
    let ok = client
        .register_order(&register("OK-1", "山田 太郎", None))
        .await
        .unwrap();
    assert_eq!(ok.status, CreditStatus::Ok);
    let ng = client
        .register_order(&register("NG-1", &format!("{MARKER_NG} 太郎"), None))
        .await
        .unwrap();
    assert_eq!(ng.status, CreditStatus::Ng);
    let mut big = order("NG-LIMIT");
    big.lines[0].unit_price = 60_000;
    let over = client.register_order(&big).await.unwrap();
    assert_eq!(over.status, CreditStatus::Ng);
    let review_ok = client
        .register_order(&register("REV-1", &format!("{MARKER_REVIEW} 花子"), None))
        .await
        .unwrap();
    let review_ng = client
        .register_order(&register(
            "REV-2",
            &format!("{MARKER_REVIEW_NG} 次郎"),
            None,
        ))
        .await
        .unwrap();
    let test_pending = client
        .register_order(&register("TEST-P", "山田 太郎", Some(TestCredit::Pending)))
        .await
        .unwrap();
    let test_ng = client
        .register_order(&register("TEST-NG", "山田 太郎", Some(TestCredit::Ng)))
        .await
        .unwrap();
    let test_ok = client
        .register_order(&register("TEST-OK", MARKER_NG, Some(TestCredit::Ok)))
        .await
        .unwrap();
    assert_eq!(review_ok.status, CreditStatus::UnderReview);
    assert_eq!(review_ng.status, CreditStatus::UnderReview);
    assert_eq!(test_pending.status, CreditStatus::UnderReview);
    assert_eq!(test_ng.status, CreditStatus::Ng);
    assert_eq!(
        test_ok.status,
        CreditStatus::Ok,
        "test flags win over markers"
    );
    assert!(sim.order(&test_ok.system_order_id).unwrap().test);

    let pending = ids(&[
        &review_ok.system_order_id,
        &review_ng.system_order_id,
        &test_pending.system_order_id,
    ]);
    let before: Vec<CreditStatus> = client
        .status(&pending)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, _, s)| s)
        .collect();
    assert!(before.iter().all(|s| s.is_pending()), "{before:?}");
    let d = &client.detail(&pending[..1], &[]).await.unwrap()[0];
    assert_eq!(d.status, DetailStatus::UnderReview);

    sim.advance_clock(sim.config().review_delay - Duration::from_secs(1));
    assert!(
        client
            .status(&pending)
            .await
            .unwrap()
            .iter()
            .all(|(_, _, s)| *s == CreditStatus::UnderReview)
    );
    sim.advance_clock(Duration::from_secs(1));
    let after: Vec<CreditStatus> = client
        .status(&pending)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, _, s)| s)
        .collect();
    assert_eq!(
        after,
        [CreditStatus::Ok, CreditStatus::Ng, CreditStatus::Ok]
    );
    let details = client.detail(&pending, &[]).await.unwrap();
    let states: Vec<DetailStatus> = details.iter().map(|d| d.status).collect();
    assert_eq!(
        states,
        [
            DetailStatus::AwaitingTrackingNumber,
            DetailStatus::CreditNg,
            DetailStatus::AwaitingTrackingNumber
        ]
    );
}

#[tokio::test]
async fn review_also_resolves_in_real_time() {
    let sim = start_sim(AtobaraiSimConfig {
        review_everything: true,
        review_delay: Duration::from_millis(200),
        ..AtobaraiSimConfig::default()
    })
    .await;
    let client = AtobaraiClient::new(sim.client_settings()).unwrap();
    let r = client.register_order(&order("RT-1")).await.unwrap();
    assert_eq!(r.status, CreditStatus::UnderReview);
    let id = r.system_order_id.clone();
    assert!(
        sim.wait_until(WAIT, |v| v
            .order(&id)
            .is_some_and(|o| o.status == DataStatus::AwaitingJournalNumber))
            .await
    );
    assert_eq!(client.status(&[id]).await.unwrap()[0].2, CreditStatus::Ok);
}

fn bands() -> Vec<FeeBand> {
    vec![
        FeeBand {
            min: 0,
            max: 9999,
            fee: 330,
        },
        FeeBand {
            min: 10000,
            max: 55000,
            fee: 440,
        },
    ]
}

#[tokio::test]
async fn fee_rules_reach_the_service_and_keep_the_amount_rule() {
    let (sim, client) = setup().await;
    // Billed as it arrives: 5500 + 2400 + 800 + 110 = 8810 → the 330 band.
    for (ent, mode, fee, total) in [
        ("FEE-KEEP", FeeMode::Keep, 110, 8810),
        ("FEE-OVERRIDE", FeeMode::Override, 330, 9030),
        ("FEE-ADD", FeeMode::Add, 440, 9140),
    ] {
        let mut o = order(ent);
        o.charge = 110;
        o.apply_fee(mode, &bands());
        assert_eq!((o.charge, o.use_amount()), (fee, total), "{ent}");
        let r = client.register_order(&o).await.unwrap();
        assert_eq!(r.status, CreditStatus::Ok, "{ent}");
        let stored = sim.order(&r.system_order_id).unwrap();
        assert_eq!(stored.use_amount, total);
        let stats = sim.stats();
        let sent = stats.requests_to(AtobaraiService::Order).pop().unwrap();
        assert_eq!(sent.value("I_ItemCharge"), Some(fee.to_string().as_str()));
        assert_eq!(sent.value("O_UseAmount"), Some(total.to_string().as_str()));
    }
    // Over 10,000 billed: the second band.
    let mut o = order("FEE-BIG");
    o.lines[0].unit_price = 9000;
    o.apply_fee(FeeMode::Override, &bands());
    assert_eq!((o.charge, o.use_amount()), (440, 9000 + 2400 + 800 + 440));
    register_ok(&client, "FEE-OTHER").await;
    assert_eq!(
        client.register_order(&o).await.unwrap().status,
        CreditStatus::Ok
    );
}

#[tokio::test]
async fn the_amount_rule_is_enforced_and_reported_readably() {
    let (sim, client) = setup().await;
    // The client never states a total by hand, so the rule is shown with a
    // tampered form sent as the service would receive it.
    let ids = wire::AtobaraiIds {
        enterprise_id: sim.config().enterprise_id,
        site_id: sim.config().site_id,
        api_user_id: sim.config().api_user_id,
    };
    let mut form = wire::order_form(ids, &order("AMOUNT-1"));
    for (k, v) in &mut form {
        if k == wire::O_USE_AMOUNT {
            *v = "8701".to_string();
        }
    }
    let body = reqwest::Client::new()
        .post(format!("{}/api/order/rest", sim.base_url()))
        .form(&form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let answer = wire::parse_response(&body).unwrap();
    assert_eq!(answer.status, "error");
    assert_eq!(answer.messages.messages[0].code, "E00303");
    assert!(sim.order_by_ent("AMOUNT-1").is_none());

    // With discounts, carriage, a fee and outside tax the computed total passes.
    let mut o = order("AMOUNT-2");
    o.lines.push(Line {
        name: "クーポン値引き".into(),
        unit_price: -700,
        qty: 1,
        tax_rate: Some(10),
    });
    o.charge = 330;
    o.outside_tax = Some(512);
    let r = client.register_order(&o).await.unwrap();
    assert_eq!(
        sim.order(&r.system_order_id).unwrap().use_amount,
        5500 + 2400 - 700 + 800 + 330 + 512
    );

    // How the client reports the code.
    sim.inject(
        AtobaraiService::Order,
        Fault::Error("E00303".to_string()),
        1,
    );
    let (status, code, message) = rejected(client.register_order(&order("AMOUNT-3")).await);
    assert_eq!((status, code.as_str()), (200, "E00303"));
    assert!(message.contains("O_UseAmount is not the sum"), "{message}");
}

#[tokio::test]
async fn a_lost_registration_under_review_is_found_by_detail_without_a_duplicate() {
    let sim = start_sim(AtobaraiSimConfig::default()).await;
    let mut settings = sim.client_settings();
    settings.http.timeout = Duration::from_millis(300);
    let client = AtobaraiClient::new(settings).unwrap();
    assert_eq!(client.recover_registration("LOST-1").await.unwrap(), None);

    // The answer is lost while the order is still under review (与信中):
    // idmap maps only orders at 与信OK, so it cannot find it.
    sim.inject(AtobaraiService::Order, Fault::Timeout, 1);
    let mut lost = order("LOST-1");
    lost.buyer.name = format!("{MARKER_REVIEW} 太郎");
    let reason = transient(client.register_order(&lost).await);
    assert!(reason.contains("timed out"), "{reason}");
    assert_eq!(sim.orders().len(), 1, "the order was created all the same");

    // The retry path: detail by merchant number finds it in any state.
    let recovered = client
        .recover_registration("LOST-1")
        .await
        .unwrap()
        .unwrap();
    let stored = sim.order_by_ent("LOST-1").unwrap();
    assert_eq!(recovered.system_order_id, stored.system_order_id);
    assert_eq!(recovered.status, CreditStatus::UnderReview);
    assert_eq!(sim.orders().len(), 1);
    assert!(sim.stats().calls(AtobaraiService::Detail) >= 1);

    // A default site takes the number twice: a blind registration would be
    // a second order. Two under one number are a duplicate a person sorts out.
    client.register_order(&order("LOST-1")).await.unwrap();
    let (_, code, message) = rejected(client.recover_registration("LOST-1").await);
    assert_eq!(code, "DUPLICATE_ORDER");
    let held: Vec<String> = sim
        .orders_by_ent("LOST-1")
        .into_iter()
        .map(|o| o.system_order_id)
        .collect();
    assert_eq!(held.len(), 2);
    assert!(
        message.starts_with("後払い.com") && held.iter().all(|id| message.contains(id.as_str())),
        "{message}"
    );
    // Once both are at 与信OK, idmap calls them several (E002), not missing.
    sim.advance_clock(sim.config().review_delay + Duration::from_secs(10));
    assert_eq!(
        client.idmap(&ids(&["LOST-1"])).await.unwrap(),
        vec![("LOST-1".to_string(), IdMapped::Several)]
    );
    sim.shutdown().await;
}

/// The application `order` builds, as the credit layer hands it over.
fn application(ent: &str, buyer_name: &str) -> crate::domain::credit::CreditApplication {
    let o = order(ent);
    crate::domain::credit::CreditApplication {
        order_id: ent.into(),
        attempt: 1,
        ordered_on: o.ordered_on,
        buyer: crate::domain::direct::Party {
            name: buyer_name.into(),
            name_kana: o.buyer.name_kana.clone(),
            postal_code: o.buyer.postal_code.clone(),
            address: o.buyer.address.clone(),
            phone: o.buyer.phone.clone(),
            email: o.buyer.email.clone(),
        },
        ship_to: None,
        lines: vec![crate::domain::credit::BilledLine {
            name: "南部鉄器 急須".into(),
            qty: 1,
            unit_price: 5500,
        }],
        shipping_fee: 800,
        fee: 0,
    }
}

#[tokio::test]
async fn e00309_on_a_checking_site_means_the_order_exists() {
    use crate::providers::credit::CreditProvider;
    use crate::providers::credit::atobarai_com::provider::AtobaraiCredit;
    let sim = start_sim(AtobaraiSimConfig {
        site_checks: sim::SiteChecks {
            duplicate_order_id: true,
            ..sim::SiteChecks::default()
        },
        ..AtobaraiSimConfig::default()
    })
    .await;
    let client = AtobaraiClient::new(sim.client_settings()).unwrap();
    let credit = AtobaraiCredit::new(client, FeeMode::Keep, Vec::new());
    // Registered earlier, its answer lost, still under review.
    let app = application("DUP-9", &format!("{MARKER_REVIEW} 花子"));
    let first = credit.request_credit(&app, false).await.unwrap();
    // Every registration looks the number up first (after a lost answer or
    // a daemon killed mid-call alike): found, never registered blind.
    for after_lost_answer in [false, true] {
        let found = credit
            .request_credit(&app, after_lost_answer)
            .await
            .unwrap();
        assert_eq!(
            (&found.reference, found.recovered),
            (&first.reference, true)
        );
    }
    assert_eq!(sim.stats().calls(AtobaraiService::Order), 1);
    // The order appears between the look-up and the registration (the
    // look-up answers "none"): the site's E00309 means it exists.
    sim.inject(
        AtobaraiService::Detail,
        Fault::Error(crate::providers::credit::atobarai_com::wire::DETAIL_NONE_FOUND.into()),
        1,
    );
    let again = credit.request_credit(&app, false).await.unwrap();
    assert_eq!(
        (&again.reference, again.recovered),
        (&first.reference, true)
    );
    assert_eq!(sim.orders_by_ent("DUP-9").len(), 1);
    assert_eq!(
        sim.stats().calls(AtobaraiService::Order),
        2,
        "the second refused"
    );
}

#[tokio::test]
async fn cancel_refusals_per_order_say_what_a_person_decides() {
    use crate::providers::credit::atobarai_com::provider::AtobaraiCredit;
    use crate::providers::credit::{CancelOutcome, CreditProvider};
    let (sim, client) = setup().await;
    let credit = AtobaraiCredit::new(client.clone(), FeeMode::Keep, Vec::new());
    // E001: the service has no such order, nothing to cancel.
    assert_eq!(
        credit.cancel("AK00000001", "typo").await.unwrap(),
        CancelOutcome::NotFound
    );
    // E003: the card processor's own words reach the merchant.
    let card = register_ok(&client, "CXL-CARD").await;
    sim.refuse_cancel(&card, Some(("E003", "SBPS: 取消期限を過ぎています")));
    let (_, code, message) = rejected(credit.cancel(&card, "r").await);
    assert_eq!(code, "E003");
    assert!(
        message.starts_with("後払い.com") && message.contains("SBPS: 取消期限を過ぎています"),
        "{message}"
    );
    // E999: any other failure, with its text.
    sim.refuse_cancel(&card, Some(("E999", "想定外のエラー")));
    let (_, code, message) = rejected(credit.cancel(&card, "r").await);
    assert_eq!(code, "E999");
    assert!(message.contains("想定外のエラー"), "{message}");
    // E002: the order cannot be cancelled in its state: a person decides,
    // told in Japanese first.
    sim.refuse_cancel(&card, None);
    client
        .register_shipping(&card, 1, "123456789012")
        .await
        .unwrap();
    sim.advance_clock(sim.config().invoice_delay);
    sim.advance_clock(sim.config().payment_delay.unwrap());
    let (_, code, message) = rejected(credit.cancel(&card, "r").await);
    assert_eq!(code, "E002");
    assert!(
        message.starts_with("後払い.comはこの注文をキャンセルできません")
            && message.contains(" / "),
        "{message}"
    );
}

#[tokio::test]
async fn a_cancel_reply_behind_a_php_warning_is_read_from_its_xml() {
    let sim = start_sim(AtobaraiSimConfig {
        warning_before_cancel_xml: true,
        ..AtobaraiSimConfig::default()
    })
    .await;
    let client = AtobaraiClient::new(sim.client_settings()).unwrap();
    let id = register_ok(&client, "WARN-1").await;
    let results = client
        .cancel(&[(id.clone(), "r".to_string())])
        .await
        .unwrap();
    assert_eq!(results, vec![(id.clone(), Ok(()))]);
    assert_eq!(sim.stats().calls(AtobaraiService::Cancel), 1);
}

#[tokio::test]
async fn a_tracking_number_is_registered_once() {
    let (sim, client) = setup().await;
    let id = register_ok(&client, "SHIP-1").await;
    let master = client.carriers().await.unwrap();
    let sagawa = deliv_id_for(Carrier::Sagawa, &master).unwrap();
    assert_eq!(sagawa, 2);

    let first = client
        .register_shipping_once(&id, sagawa, "400012345678")
        .await
        .unwrap();
    assert!(matches!(first, ShippingOutcome::Registered(_)), "{first:?}");

    // A repeat (say after a lost answer) answers E04301; detail confirms it.
    let (_, code, _) = rejected(client.register_shipping(&id, sagawa, "400012345678").await);
    assert_eq!(code, "E04301");
    let again = client
        .register_shipping_once(&id, sagawa, "4000-1234-5678")
        .await
        .unwrap();
    match again {
        ShippingOutcome::AlreadyRegistered(d) => {
            assert_eq!(d.journal_number.as_deref(), Some("400012345678"));
            assert_eq!(d.deliv_id, Some(2));
        }
        other => panic!("expected AlreadyRegistered, got {other:?}"),
    }
    // A different number is not "done": it stays a rejection, explained.
    let (_, code, message) = rejected(
        client
            .register_shipping_once(&id, sagawa, "400099999999")
            .await,
    );
    assert_eq!(code, "E04301");
    assert!(
        message.contains("detail shows status awaiting_invoice"),
        "{message}"
    );
    assert_eq!(
        sim.order(&id).unwrap().journal_number.as_deref(),
        Some("400012345678")
    );
    assert_eq!(sim.stats().calls(AtobaraiService::Shipping), 4);

    // E04202: a carrier not in the master, or a number the carrier never issues.
    let other = register_ok(&client, "SHIP-2").await;
    let (_, code, message) = rejected(client.register_shipping(&other, 99, "400012345678").await);
    assert_eq!(code, "E04202");
    assert!(message.contains("tracking number is invalid"), "{message}");
    let (_, code, _) = rejected(client.register_shipping(&other, 1, "12345").await);
    assert_eq!(code, "E04202");
    // E04301: not awaiting a tracking number (still under review).
    let mut o = order("SHIP-3");
    o.buyer.name = format!("{MARKER_REVIEW} 三郎");
    let review = client.register_order(&o).await.unwrap();
    let (_, code, _) = rejected(
        client
            .register_shipping_once(&review.system_order_id, 1, "123456789012")
            .await,
    );
    assert_eq!(code, "E04301");
    assert_eq!(
        rejected(client.register_shipping("", 1, "1").await).0,
        0,
        "refused before sending"
    );
}

#[tokio::test]
async fn cancel_before_and_after_shipment() {
    let (sim, client) = setup().await;
    let master = client.carriers().await.unwrap();
    let before = register_ok(&client, "CXL-1").await;
    let shipped = register_ok(&client, "CXL-2").await;
    let final_carrier = register_ok(&client, "CXL-3").await;
    client
        .register_shipping(
            &shipped,
            deliv_id_for(Carrier::Yamato, &master).unwrap(),
            "123456789012",
        )
        .await
        .unwrap();
    let ecohai = deliv_id_for(Carrier::Ecohai, &master).unwrap();
    assert_ne!(ecohai, 1);
    client
        .register_shipping(&final_carrier, ecohai, "EC12345678")
        .await
        .unwrap();

    let results = client
        .cancel(&[
            (before.clone(), "out of stock".to_string()),
            (shipped.clone(), "returned".to_string()),
            (final_carrier.clone(), "returned".to_string()),
            ("AK00000001".to_string(), "typo".to_string()),
        ])
        .await
        .unwrap();
    assert_eq!(results[0], (before.clone(), Ok(())));
    assert_eq!(results[1], (shipped.clone(), Ok(())));
    let refusal = results[2].1.clone().unwrap_err();
    assert_eq!(refusal.code, "E002");
    assert!(
        refusal.message.contains("cannot be cancelled"),
        "{}",
        refusal.message
    );
    assert_eq!(results[3].1.clone().unwrap_err().code, "E001");

    // A cancel is a request: status 3 at once, detail 10 then 11.
    let statuses = client
        .status(&ids(&[&before, &shipped, &final_carrier]))
        .await
        .unwrap();
    let codes: Vec<CreditStatus> = statuses.into_iter().map(|(_, _, s)| s).collect();
    assert_eq!(
        codes,
        [
            CreditStatus::Cancelled,
            CreditStatus::Cancelled,
            CreditStatus::Ok
        ]
    );
    let d = client.detail(&ids(&[&before]), &[]).await.unwrap();
    assert_eq!(d[0].status, DetailStatus::CancelRequested);
    sim.advance_clock(sim.config().cancel_delay);
    let d = client
        .detail(&ids(&[&before, &shipped]), &[])
        .await
        .unwrap();
    assert!(
        d.iter().all(|d| d.status == DetailStatus::Cancelled),
        "{d:?}"
    );
    assert_eq!(
        client.status(&ids(&[&before])).await.unwrap()[0].2,
        CreditStatus::Cancelled
    );
    // Cancelling again is refused per order.
    let again = client
        .cancel(&[(before.clone(), String::new())])
        .await
        .unwrap();
    assert_eq!(again[0].1.clone().unwrap_err().code, "E002");
    // Shipping a cancelled order is refused.
    let (_, code, _) = rejected(client.register_shipping(&before, 1, "123456789012").await);
    assert_eq!(code, "E04301");
}

#[tokio::test]
async fn the_data_status_machine_runs_on_the_clock() {
    let (sim, client) = setup().await;
    let id = register_ok(&client, "FLOW-1").await;
    client
        .register_shipping(&id, 1, "123456789012")
        .await
        .unwrap();
    let read = || async { client.detail(&ids(&[&id]), &[]).await.unwrap().remove(0) };
    assert_eq!(read().await.status, DetailStatus::AwaitingInvoice);
    sim.advance_clock(sim.config().invoice_delay);
    let d = read().await;
    assert_eq!(d.status, DetailStatus::AwaitingPayment);
    assert!(d.is_arrival_confirmed && !d.is_receipt_confirmed);
    sim.advance_clock(sim.config().payment_delay.unwrap() - Duration::from_secs(1));
    assert_eq!(read().await.status, DetailStatus::AwaitingPayment);
    sim.advance_clock(Duration::from_secs(1));
    let d = read().await;
    assert_eq!(d.status, DetailStatus::Closed);
    assert!(d.is_receipt_confirmed);
    assert_eq!(
        client.status(&ids(&[&id])).await.unwrap()[0].2,
        CreditStatus::Ok
    );
    // A partial payment the service records by hand.
    let other = register_ok(&client, "FLOW-2").await;
    assert!(sim.set_status(&other, DataStatus::PartlyPaid));
    assert_eq!(
        client.detail(&ids(&[&other]), &[]).await.unwrap()[0].status,
        DetailStatus::PartiallyPaid
    );
}

/// A configuration refusal: its code and the fix the merchant reads.
fn misconfigured<T: std::fmt::Debug>(result: Result<T, CallError>) -> (String, String) {
    match result {
        Err(CallError::Configuration { code, fix }) => (code, fix),
        other => panic!("expected a configuration refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_caller_outside_the_allow_list_is_a_configuration_problem() {
    let (sim, client) = setup().await;
    register_ok(&client, "IP-1").await;
    sim.set_allowed_sources(vec!["192.0.2.0/24".parse().unwrap()]);
    let (code, fix) = misconfigured(client.status(&ids(&["AK00012345"])).await);
    assert_eq!(code, "E01101");
    assert!(
        fix.contains("IPアドレス") && fix.contains("register the server's public IP"),
        "{fix}"
    );
    let (code, _) = misconfigured(client.register_order(&order("IP-2")).await);
    assert_eq!(code, "E00101");
    assert!(sim.order_by_ent("IP-2").is_none());
    assert_eq!(sim.stats().refused_ip, 2);
    sim.set_allowed_sources(vec!["127.0.0.1/32".parse().unwrap()]);
    client.status(&ids(&["AK00012345"])).await.unwrap();
    // An API user that does not exist is refused the same way: the fix
    // names both causes.
    let mut settings = sim.client_settings();
    settings.api_user_id += 1;
    let stranger = AtobaraiClient::new(settings).unwrap();
    let (code, fix) = misconfigured(stranger.carriers().await);
    assert_eq!(code, "E02101");
    assert!(
        fix.contains("IPアドレス") && fix.contains("api_user_id") && fix.contains(" / "),
        "{fix}"
    );
}

#[tokio::test]
async fn wrong_ids_and_wrong_paths_are_rejections_a_person_fixes() {
    let (sim, _) = setup().await;
    let mut settings = sim.client_settings();
    settings.enterprise_id += 1;
    let wrong = AtobaraiClient::new(settings).unwrap();
    let (code, fix) = misconfigured(wrong.carriers().await);
    assert_eq!(code, "E02102");
    assert!(fix.contains("enterprise_id"), "{fix}");
    let (code, _) = misconfigured(wrong.register_order(&order("IDS-1")).await);
    assert_eq!(code, "E00102");

    let mut settings = sim.client_settings();
    settings.api_base_url = format!("{}/shop-a", sim.base_url());
    let misplaced = AtobaraiClient::new(settings).unwrap();
    let (status, code, message) = rejected(misplaced.carriers().await);
    assert_eq!((status, code.as_str()), (404, WRONG_PATH));
    assert!(message.contains("wrong path for the account"), "{message}");
    assert!(message.contains("/shop-a/api/delivlist/rest"), "{message}");
    assert_eq!(sim.stats().not_found, 1);
}

#[tokio::test]
async fn failures_and_maintenance_are_transient_and_redirects_are_followed() {
    let (sim, client) = setup().await;
    sim.inject(AtobaraiService::Status, Fault::SystemFailure, 1);
    let reason = transient(client.status(&ids(&["AK1"])).await);
    assert!(
        reason.contains("E01901") && reason.contains("system failure"),
        "{reason}"
    );
    sim.inject_any(Fault::Maintenance, 1);
    let reason = transient(client.carriers().await);
    assert!(reason.contains("maintenance"), "{reason}");
    sim.inject(AtobaraiService::Detail, Fault::Status(503), 1);
    let reason = transient(client.detail(&ids(&["AK1"]), &[]).await);
    assert!(reason.contains("503"), "{reason}");
    sim.inject(AtobaraiService::IdMap, Fault::Garbage, 1);
    let reason = transient(client.idmap(&ids(&["S"])).await);
    assert!(reason.contains("unreadable"), "{reason}");
    sim.inject(AtobaraiService::Order, Fault::SystemFailure, 1);
    transient(client.register_order(&order("T-1")).await);
    assert!(sim.orders().is_empty(), "a refused call changed nothing");

    // A 302 is followed by POSTing the form again (a GET would lose every key).
    sim.inject(AtobaraiService::Order, Fault::Redirect, 1);
    let r = client.register_order(&order("T-1")).await.unwrap();
    assert_eq!(r.status, CreditStatus::Ok);
    let sent = sim.stats().requests_to(AtobaraiService::Order).len();
    assert_eq!(sent, 3);
    let stats = sim.stats();
    let last = stats.requests_to(AtobaraiService::Order)[2];
    assert_eq!(last.value("O_Ent_OrderId"), Some("T-1"));
    // A redirect loop gives up.
    sim.inject(AtobaraiService::Status, Fault::Redirect, 10);
    let reason = transient(client.status(&ids(&["AK1"])).await);
    assert!(reason.contains("redirected more than"), "{reason}");
}

#[tokio::test]
async fn requests_outside_the_contract_are_refused_before_sending() {
    let (sim, client) = setup().await;
    let many: Vec<String> = (0..=MAX_ORDERS_PER_CALL)
        .map(|i| format!("AK{i:08}"))
        .collect();
    assert_eq!(rejected(client.status(&many).await).1, "TOO_MANY_ORDERS");
    assert_eq!(rejected(client.idmap(&many).await).1, "TOO_MANY_ORDERS");
    assert_eq!(
        rejected(client.detail(&many[..60], &many[..41]).await).1,
        "TOO_MANY_ORDERS"
    );
    let pairs: Vec<(String, String)> = many.iter().map(|m| (m.clone(), String::new())).collect();
    assert_eq!(rejected(client.cancel(&pairs).await).1, "TOO_MANY_ORDERS");
    assert_eq!(
        rejected(client.status(&ids(&[" "])).await).1,
        "INVALID_ORDER_ID"
    );
    assert_eq!(client.status(&[]).await.unwrap(), Vec::new());
    let mut o = order("");
    assert_eq!(rejected(client.register_order(&o).await).1, "INVALID_ORDER");
    o.ent_order_id = "X".repeat(101);
    assert_eq!(rejected(client.register_order(&o).await).1, "INVALID_ORDER");
    let mut o = order("EMPTY");
    o.lines.clear();
    assert_eq!(rejected(client.register_order(&o).await).0, 0);
    let mut o = order("ZERO");
    o.lines[1].qty = 0;
    assert!(
        rejected(client.register_order(&o).await)
            .2
            .contains("line 2")
    );
    assert!(sim.stats().requests.is_empty());
    for bad in [
        "not a url",
        "ftp://example.jp",
        "https://user:pw@example.jp",
    ] {
        let settings = AtobaraiClientSettings {
            api_base_url: bad.to_string(),
            ..sim.client_settings()
        };
        assert_eq!(
            rejected(AtobaraiClient::new(settings)).1,
            "INVALID_CONFIG",
            "{bad}"
        );
    }
    let settings = AtobaraiClientSettings {
        enterprise_id: 0,
        ..sim.client_settings()
    };
    assert_eq!(rejected(AtobaraiClient::new(settings)).1, "INVALID_CONFIG");
}

#[tokio::test]
async fn the_forms_on_the_wire_use_exactly_the_contracts_keys() {
    let (sim, client) = setup().await;
    let mut o = order("KEYS-1");
    o.delivery = Some(Party {
        email: None,
        ..buyer("鈴木 花子")
    });
    o.test = Some(TestCredit::Ok);
    o.outside_tax = Some(100);
    o.lines[1].tax_rate = None;
    let id = client.register_order(&o).await.unwrap().system_order_id;
    client.status(&ids(&[&id])).await.unwrap();
    client.carriers().await.unwrap();
    client.idmap(&ids(&["KEYS-1"])).await.unwrap();
    client
        .register_shipping(&id, 1, "123456789012")
        .await
        .unwrap();
    client
        .detail(&ids(&[&id]), &ids(&["KEYS-1"]))
        .await
        .unwrap();
    client
        .cancel(&[(id.clone(), "r".to_string())])
        .await
        .unwrap();

    let stats = sim.stats();
    let keys_of = |service| -> BTreeSet<String> {
        let requests = stats.requests_to(service);
        assert_eq!(requests.len(), 1, "{service}");
        assert_eq!(
            requests[0].content_type.as_deref(),
            Some("application/x-www-form-urlencoded; charset=UTF-8")
        );
        requests[0].keys().into_iter().map(str::to_string).collect()
    };
    let set = |v: &[&str]| -> BTreeSet<String> { v.iter().map(|s| s.to_string()).collect() };
    assert_eq!(
        keys_of(AtobaraiService::Order),
        set(&[
            "O_ReceiptOrderDate",
            "O_EnterpriseId",
            "O_SiteId",
            "O_ApiUserId",
            "O_Ent_OrderId",
            "O_UseAmount",
            "O_AnotherDeliFlg",
            "O_TestOrderFlg",
            "O_TestCreditResult",
            "C_PostalCode",
            "C_UnitingAddress",
            "C_NameKj",
            "C_NameKn",
            "C_Phone",
            "C_MailAddress",
            "D_PostalCode",
            "D_UnitingAddress",
            "D_DestNameKj",
            "D_DestNameKn",
            "D_Phone",
            "I_ItemNameKj_1",
            "I_UnitPrice_1",
            "I_ItemNum_1",
            "I_TaxRate_1",
            "I_ItemNameKj_2",
            "I_UnitPrice_2",
            "I_ItemNum_2",
            "I_ItemCarriage",
            "I_ItemCharge",
            "I_OutsideTax",
        ])
    );
    let caller = ["EnterpriseId", "ApiUserId"];
    let with = |extra: &[&str]| {
        let mut all = caller.to_vec();
        all.extend_from_slice(extra);
        set(&all)
    };
    assert_eq!(keys_of(AtobaraiService::Status), with(&["OrderId[]"]));
    assert_eq!(keys_of(AtobaraiService::DelivList), with(&[]));
    assert_eq!(keys_of(AtobaraiService::IdMap), with(&["Ent_OrderId[]"]));
    assert_eq!(
        keys_of(AtobaraiService::Shipping),
        with(&["OrderId", "DelivId", "JournalNum"])
    );
    assert_eq!(
        keys_of(AtobaraiService::Detail),
        with(&["OrderId[]", "Ent_OrderId[]"])
    );
    assert_eq!(
        keys_of(AtobaraiService::Cancel),
        with(&["OrderId[]", "Reason[]"])
    );
    // Values travel as UTF-8, Japanese included, and the raw body is form-encoded.
    let order_request = stats.requests_to(AtobaraiService::Order)[0];
    assert_eq!(order_request.value("D_DestNameKj"), Some("鈴木 花子"));
    assert!(order_request.raw.contains("O_Ent_OrderId=KEYS-1"));
    assert!(
        order_request.raw.contains("%E5%8D%97%E9%83%A8"),
        "南部 percent-encoded"
    );
}

#[tokio::test]
async fn status_with_only_unknown_ids_answers_error_with_results_and_reads_unknown() {
    let (_sim, client) = setup().await;
    let answer = client
        .status(&ids(&["AK99999998", "AK99999999"]))
        .await
        .unwrap();
    assert!(
        answer.iter().all(|(_, _, s)| *s == CreditStatus::Unknown),
        "{answer:?}"
    );
}

/// A loopback server counting what reaches it, answering `answer` to all.
async fn counting_server(
    answer: impl Fn() -> axum::response::Response + Clone + Send + Sync + 'static,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let hits = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = axum::Router::new().fallback(move || {
        let counted = counted.clone();
        let answer = answer.clone();
        async move {
            counted.fetch_add(1, Ordering::SeqCst);
            answer()
        }
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, hits)
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_not_followed_and_names_the_key() {
    use axum::response::IntoResponse;
    use std::sync::atomic::Ordering;
    let sim = start_sim(AtobaraiSimConfig::default()).await;
    // The other origin: the same loopback host on another port.
    let (elsewhere, received) =
        counting_server(|| axum::http::StatusCode::OK.into_response()).await;
    let target = format!("{elsewhere}/api/order/rest");
    let (base, redirected) = counting_server(move || {
        (
            axum::http::StatusCode::TEMPORARY_REDIRECT,
            [(axum::http::header::LOCATION, target.clone())],
        )
            .into_response()
    })
    .await;
    let mut settings = sim.client_settings();
    settings.api_base_url = base;
    let client = AtobaraiClient::new(settings).unwrap();

    let (code, fix) = misconfigured(client.register_order(&order("LEAK-1")).await);
    assert_eq!(redirected.load(Ordering::SeqCst), 1);
    assert_eq!(
        received.load(Ordering::SeqCst),
        0,
        "the buyer went elsewhere"
    );
    assert_eq!(code, http_client::REDIRECT_ELSEWHERE);
    assert!(fix.contains("atobarai_com.api_base_url"), "{fix}");
    assert!(fix.contains(&elsewhere), "names where it pointed: {fix}");
    let (ja, en) = fix.split_once(" / ").expect("Japanese / English");
    assert!(ja.contains("転送"), "{ja}");
    assert!(en.contains("another origin"), "{en}");
}
