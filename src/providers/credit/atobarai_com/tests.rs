use super::*;

fn party() -> Party {
    Party {
        postal_code: "1000001".into(),
        address: "東京都千代田区千代田1-1".into(),
        name: "山田 太郎".into(),
        name_kana: "ヤマダ タロウ".into(),
        phone: "03-1234-5678".into(),
        email: Some("taro@example.jp".into()),
    }
}

fn line(name: &str, unit_price: i64, qty: u32) -> Line {
    Line {
        name: name.into(),
        unit_price,
        qty,
        tax_rate: Some(10),
    }
}

fn order() -> OrderRegistration {
    OrderRegistration {
        ent_order_id: "SHOP-1001".into(),
        ordered_on: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        buyer: party(),
        delivery: None,
        lines: vec![line("急須", 1200, 2), line("湯呑", 980, 1)],
        carriage: 800,
        charge: 200,
        outside_tax: None,
        test: None,
    }
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
            max: 29999,
            fee: 440,
        },
        FeeBand {
            min: 30000,
            max: 55000,
            fee: 660,
        },
    ]
}

#[test]
fn use_amount_is_the_lines_plus_carriage_charge_and_outside_tax() {
    let mut o = order();
    // 1200×2 + 980×1 + 800 + 200 = 4380
    assert_eq!(use_amount(&o), 4380);
    o.lines.push(line("値引き", -500, 1));
    o.outside_tax = Some(300);
    // 2400 + 980 − 500 + 800 + 200 + 300 = 4180
    assert_eq!(o.use_amount(), 4180);
    o.lines = vec![line("a", 3, 7)];
    o.carriage = 0;
    o.charge = 0;
    o.outside_tax = None;
    assert_eq!(o.use_amount(), 21);
    o.lines = vec![line("huge", i64::MAX, 2)];
    assert_eq!(o.use_amount(), i64::MAX);
}

#[test]
fn fee_bands_are_inclusive_and_matched_on_the_billed_amount() {
    let b = bands();
    for (billed, want) in [
        (0, Some(330)),
        (9999, Some(330)),
        (10000, Some(440)),
        (29999, Some(440)),
        (30000, Some(660)),
        (55000, Some(660)),
        (55001, None),
        (-1, None),
    ] {
        assert_eq!(fee_band(&b, billed).map(|b| b.fee), want, "{billed}");
    }
}

#[test]
fn fee_modes_keep_override_and_add() {
    let b = bands();
    assert_eq!(apply_fee(FeeMode::Keep, &b, 200, 4380), 200);
    assert_eq!(apply_fee(FeeMode::Override, &b, 200, 4380), 330);
    assert_eq!(apply_fee(FeeMode::Add, &b, 200, 4380), 530);
    assert_eq!(apply_fee(FeeMode::Override, &b, 0, 12000), 440);
    assert_eq!(apply_fee(FeeMode::Add, &b, 110, 30000), 770);
    // Outside every band the order's own fee stands.
    assert_eq!(apply_fee(FeeMode::Override, &b, 200, 60000), 200);
    assert_eq!(apply_fee(FeeMode::Add, &b, 200, 60000), 200);
    assert_eq!(apply_fee(FeeMode::Override, &[], 200, 4380), 200);
}

#[test]
fn applying_the_fee_keeps_the_amount_rule() {
    let b = bands();
    let mut o = order();
    o.apply_fee(FeeMode::Override, &b);
    assert_eq!(o.charge, 330);
    // 2400 + 980 + 800 + 330
    assert_eq!(o.use_amount(), 4510);
    let mut o = order();
    o.apply_fee(FeeMode::Add, &b);
    assert_eq!((o.charge, o.use_amount()), (530, 4710));
    // Billed 9,980 + 200 fee = 10,180: the band is looked up on that.
    let mut o = order();
    o.lines = vec![line("鉄瓶", 9180, 1)];
    o.apply_fee(FeeMode::Override, &b);
    assert_eq!((o.charge, o.use_amount()), (440, 10420));
    let mut o = order();
    o.apply_fee(FeeMode::Keep, &b);
    assert_eq!((o.charge, o.use_amount()), (200, 4380));
}

#[test]
fn status_codes_round_trip() {
    for s in CreditStatus::KNOWN {
        assert_eq!(CreditStatus::from_code(s.code()), s);
    }
    assert_eq!(CreditStatus::from_code(7), CreditStatus::Unrecognised(7));
    assert!(CreditStatus::UnderReview.is_pending());
    assert!(!CreditStatus::Ok.is_pending());
    for s in DetailStatus::KNOWN {
        assert_eq!(DetailStatus::from_code(s.code()), s);
    }
    assert_eq!(DetailStatus::from_code(5), DetailStatus::Unrecognised(5));
    assert_eq!(
        DetailStatus::AwaitingPayment.credit_status(),
        CreditStatus::Ok
    );
    assert_eq!(
        DetailStatus::CancelRequested.credit_status(),
        CreditStatus::Cancelled
    );
    assert_eq!(DetailStatus::CreditNg.credit_status(), CreditStatus::Ng);
    assert_eq!(TestCredit::from_code(2), Some(TestCredit::Pending));
    assert_eq!(TestCredit::from_code(3), None);
}

fn master(entries: &[(u32, &str)]) -> CarrierMaster {
    CarrierMaster {
        carriers: entries
            .iter()
            .map(|(id, name)| CarrierEntry {
                deliv_id: *id,
                name: name.to_string(),
                short_name: String::new(),
            })
            .collect(),
    }
}

#[test]
fn carriers_are_matched_by_the_names_delivlist_serves() {
    let m = master(&[
        (1, "ヤマト運輸"),
        (2, "佐川急便"),
        (3, "ゆうパック"),
        (4, "日本郵便"),
        (7, "西濃運輸"),
        (8, "福山通運"),
        (9, "日本通運"),
        (12, "信州名鉄運輸"),
        (13, "名鉄運輸"),
        (15, "トナミ運輸"),
        (16, "株式会社 エコ配"),
    ]);
    assert_eq!(deliv_id_for(Carrier::Yamato, &m), Some(1));
    assert_eq!(deliv_id_for(Carrier::Sagawa, &m), Some(2));
    // 日本郵便 is preferred to ゆうパック when both are served.
    assert_eq!(deliv_id_for(Carrier::JapanPost, &m), Some(4));
    assert_eq!(deliv_id_for(Carrier::Seino, &m), Some(7));
    assert_eq!(deliv_id_for(Carrier::Fukuyama, &m), Some(8));
    assert_eq!(deliv_id_for(Carrier::Nittsu, &m), Some(9));
    assert_eq!(deliv_id_for(Carrier::Meitetsu, &m), Some(13));
    assert_eq!(deliv_id_for(Carrier::Tonami, &m), Some(15));
    assert_eq!(deliv_id_for(Carrier::Ecohai, &m), Some(16));
    assert_eq!(deliv_id_for(Carrier::Other, &m), None);

    let only_yupack = master(&[(21, "ゆうパック"), (22, "ヤマト運輸（宅急便）")]);
    assert_eq!(deliv_id_for(Carrier::JapanPost, &only_yupack), Some(21));
    assert_eq!(deliv_id_for(Carrier::Yamato, &only_yupack), Some(22));
    assert_eq!(deliv_id_for(Carrier::Seino, &only_yupack), None);
}

#[test]
fn only_ids_1_and_2_are_known_without_the_master() {
    let empty = CarrierMaster::default();
    assert_eq!(deliv_id_for(Carrier::Yamato, &empty), Some(1));
    assert_eq!(deliv_id_for(Carrier::Sagawa, &empty), Some(2));
    for c in [
        Carrier::JapanPost,
        Carrier::Seino,
        Carrier::Fukuyama,
        Carrier::Nittsu,
        Carrier::Meitetsu,
        Carrier::Tonami,
        Carrier::Ecohai,
        Carrier::Other,
    ] {
        assert_eq!(deliv_id_for(c, &empty), None, "{c}");
    }
    // A master that gives id 1 to someone else wins over the contract.
    let odd = master(&[(1, "西濃運輸")]);
    assert_eq!(deliv_id_for(Carrier::Yamato, &odd), None);
    assert_eq!(deliv_id_for(Carrier::Seino, &odd), Some(1));
}
