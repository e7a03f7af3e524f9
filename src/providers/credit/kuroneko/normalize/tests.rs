use chrono::NaiveDate;
use proptest::prelude::*;

use super::*;
use crate::providers::credit::kuroneko::{CreditRequest, InvoiceDelivery, Line, Party, testing};

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn field_of(r: Result<NormalizedCredit, FieldError>) -> String {
    match r {
        Err(e) => e.field,
        Ok(c) => panic!("expected a field error, got {c:?}"),
    }
}

#[test]
fn full_width_conversion() {
    assert_eq!(to_full_width("ｶﾞｷﾞ ﾊﾟﾋﾟ ｳﾞｧ"), "ガギ　パピ　ヴァ");
    assert_eq!(to_full_width("ABC-1~2"), "ＡＢＣ－１～２");
    assert_eq!(to_full_width("〜"), "～");
    assert_eq!(
        to_full_width("ﾞｱﾟ"),
        "゛ア゜",
        "marks that combine with nothing stay"
    );
    assert_eq!(to_full_width("  a \t\n b  "), "ａ　ｂ");
    assert_eq!(to_full_width("x\u{0}\u{7}y"), "ｘｙ");
    assert_eq!(to_full_width("ｰ｡｢｣､･"), "ー。「」、・");
    assert_eq!(to_full_width("山田¥"), "山田￥");
    assert!(is_full_width(&to_full_width("Hello ﾜｰﾙﾄﾞ 〜 ~")));
}

#[test]
fn kana_conversion() {
    assert_eq!(to_half_width_kana("やまだ たろう").unwrap(), "ﾔﾏﾀﾞ ﾀﾛｳ");
    assert_eq!(to_half_width_kana("ヤマダ　パン ヴ").unwrap(), "ﾔﾏﾀﾞ ﾊﾟﾝ ｳﾞ");
    assert_eq!(to_half_width_kana(" ｶﾞｯｺｳ  ＡＢＣ１ ").unwrap(), "ｶﾞｯｺｳ ABC1");
    assert_eq!(to_half_width_kana("ジョー・ブラウン").unwrap(), "ｼﾞｮｰ･ﾌﾞﾗｳﾝ");
    assert_eq!(to_half_width_kana(""), Ok(String::new()));
    assert_eq!(to_half_width_kana("山田"), Err('山'));
    assert_eq!(to_half_width_kana("ﾔﾏﾀﾞ-"), Err('-'));
}

#[test]
fn addresses_start_with_a_prefecture_split_and_need_a_number() {
    let (a1, a2) = split_address("東京都千代田区千代田1-1").unwrap();
    assert_eq!(
        (a1.as_str(), a2.as_str()),
        ("東京都千代田区千代田１－１", "")
    );
    // A space inside the first 25 characters is the preferred cut.
    let (a1, a2) =
        split_address("神奈川県横浜市中区山下町123-4 ｸﾞﾗﾝﾄﾞﾒｿﾞﾝ横浜山下公園前 1203号室").unwrap();
    assert_eq!(a1, "神奈川県横浜市中区山下町１２３－４");
    assert_eq!(a2, "グランドメゾン横浜山下公園前　１２０３号室");
    assert!(a1.chars().count() <= 25 && a2.chars().count() <= 25);
    // No space: a hard cut at 25.
    let long = format!("北海道{}1", "あ".repeat(30));
    let (a1, a2) = split_address(&long).unwrap();
    assert_eq!(a1.chars().count(), 25);
    assert_eq!(format!("{a1}{a2}"), to_full_width(&long));
    assert!(
        split_address("千代田区千代田1-1")
            .unwrap_err()
            .contains("prefecture")
    );
    assert!(
        split_address("京都府京都市上京区烏丸通一条上ル")
            .unwrap_err()
            .contains("street number")
    );
    assert!(
        split_address(&format!("大阪府{}", "1".repeat(48)))
            .unwrap_err()
            .contains("at most 50")
    );
    assert_eq!(PREFECTURES.len(), 47);
    let unique: std::collections::BTreeSet<_> = PREFECTURES.iter().collect();
    assert_eq!(unique.len(), 47);
}

#[test]
fn phones_postcodes_and_emails() {
    assert_eq!(
        normalize_phone("03-1234-5678").as_deref(),
        Some("0312345678")
    );
    assert_eq!(
        normalize_phone("090-1234-5678").as_deref(),
        Some("09012345678")
    );
    assert_eq!(
        normalize_phone("０９０ー１２３４ー５６７８").as_deref(),
        Some("09012345678")
    );
    assert_eq!(
        normalize_phone("03(1234)5678").as_deref(),
        Some("0312345678")
    );
    for bad in [
        "1234567890",
        "03-1234-567",
        "090-1234-56789",
        "03-1234-567x",
        "",
    ] {
        assert_eq!(normalize_phone(bad), None, "{bad}");
    }
    assert_eq!(normalize_postcode("480-0305").as_deref(), Some("4800305"));
    assert_eq!(
        normalize_postcode(" ４８００３０５ ").as_deref(),
        Some("4800305")
    );
    for bad in ["48-00305", "480030", "4800305a", "480−03050"] {
        assert_eq!(normalize_postcode(bad), None, "{bad}");
    }
    assert_eq!(normalize_email("  "), Ok(None));
    assert_eq!(normalize_email(" a@b.jp "), Ok(Some("a@b.jp".into())));
    assert!(normalize_email(&format!("{}@example.jp", "a".repeat(60))).is_err());
    assert!(normalize_email("no-at-sign").is_err());
    assert!(normalize_email("a@b@c").is_err());
}

#[test]
fn the_sample_request_converts() {
    let c = normalize_credit(&testing::request("A-1-1", day()), day()).unwrap();
    assert_eq!(c.buyer.name, "山田　太郎");
    assert_eq!(c.buyer.name_kana, "ﾔﾏﾀﾞ ﾀﾛｳ");
    assert_eq!(c.buyer.address1, "愛知県愛知郡東郷町春木台１－２－３");
    assert_eq!(c.buyer.address2, "ハイツ１０１");
    assert_eq!(c.total_amount, 5000);
    let names: Vec<&str> = c.items.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(
        names,
        ["Ｔシャツ　ブルー　Ｌ", "マグカップ～白～", "送料", "手数料"]
    );
    assert_eq!(c.ship_to, None);
}

#[test]
fn lines_past_the_tenth_fold_and_fee_lines_stay() {
    let mut req = testing::request("A-1-1", day());
    req.lines = (1..=12)
        .map(|i| Line {
            name: format!("item {i}"),
            qty: 1,
            unit_price: 100 * i,
        })
        .collect();
    let c = normalize_credit(&req, day()).unwrap();
    assert_eq!(c.items.len(), MAX_LINES);
    assert_eq!(c.items[6].name, "ｉｔｅｍ　７");
    let folded = &c.items[7];
    assert_eq!(folded.name, "その他　５点");
    assert_eq!(
        (folded.count, folded.sub_total),
        (1, 800 + 900 + 1000 + 1100 + 1200)
    );
    assert_eq!(c.items[8].name, "送料");
    assert_eq!(c.items[9].name, "手数料");
    assert_eq!(c.total_amount, (1..=12).map(|i| 100 * i).sum::<i64>() + 800);
    // Without fees ten item lines fit as they are; an eleventh folds two.
    req.shipping_fee = 0;
    req.fee = 0;
    req.lines.truncate(10);
    let c = normalize_credit(&req, day()).unwrap();
    assert_eq!(c.items.len(), 10);
    assert_eq!(c.items[9].name, "ｉｔｅｍ　１０");
    req.lines.push(Line {
        name: "x".into(),
        qty: 1,
        unit_price: 1,
    });
    let c = normalize_credit(&req, day()).unwrap();
    assert_eq!(c.items[9].name, "その他　２点");
    // A long item name is cut, not refused.
    req.lines[0].name = "あ".repeat(40);
    let c = normalize_credit(&req, day()).unwrap();
    assert_eq!(c.items[0].name.chars().count(), ITEM_NAME_MAX);
}

#[test]
fn field_errors_name_the_field() {
    let base = || testing::request("A-1-1", day());
    let mut r = base();
    r.buyer.address = "愛知郡東郷町春木台1-2-3".into();
    assert_eq!(field_of(normalize_credit(&r, day())), "buyer.address");
    let mut r = base();
    r.buyer.phone = "03-1234".into();
    assert_eq!(field_of(normalize_credit(&r, day())), "buyer.phone");
    let mut r = base();
    r.buyer.postal_code = "48003".into();
    assert_eq!(field_of(normalize_credit(&r, day())), "buyer.postal_code");
    let mut r = base();
    r.buyer.name = "あ".repeat(31);
    assert_eq!(field_of(normalize_credit(&r, day())), "buyer.name");
    let mut r = base();
    r.buyer.name_kana = "山田".into();
    assert_eq!(field_of(normalize_credit(&r, day())), "buyer.name_kana");
    let mut r = base();
    r.buyer.email = Some("x".repeat(65));
    assert_eq!(field_of(normalize_credit(&r, day())), "buyer.email");
    let mut r = base();
    r.lines[1].qty = 0;
    assert_eq!(field_of(normalize_credit(&r, day())), "lines[1].qty");
    let mut r = base();
    r.lines[0].name = " \t".into();
    assert_eq!(field_of(normalize_credit(&r, day())), "lines[0].name");
    let mut r = base();
    r.lines[0].unit_price = 600_000;
    assert_eq!(field_of(normalize_credit(&r, day())), "lines[0].unit_price");
    let mut r = base();
    r.lines[0].unit_price = 499_000;
    assert_eq!(field_of(normalize_credit(&r, day())), "total");
    let mut r = base();
    r.lines = vec![Line {
        name: "割引".into(),
        qty: 1,
        unit_price: -800,
    }];
    assert_eq!(
        field_of(normalize_credit(&r, day())),
        "total",
        "0 yen is out of range"
    );
    let mut r = base();
    r.lines.clear();
    assert_eq!(field_of(normalize_credit(&r, day())), "lines");
    let mut r = base();
    r.shipping_fee = -1;
    assert_eq!(field_of(normalize_credit(&r, day())), "shipping_fee");
    let mut r = base();
    r.ship_on = day().pred_opt().unwrap();
    assert_eq!(field_of(normalize_credit(&r, day())), "ship_on");
    let mut r = base();
    r.ship_on = day() + chrono::TimeDelta::days(91);
    assert_eq!(field_of(normalize_credit(&r, day())), "ship_on");
    r.ship_on = day() + chrono::TimeDelta::days(90);
    assert!(normalize_credit(&r, day()).is_ok());
    let mut r = base();
    r.order_no = "A.1".into();
    assert_eq!(field_of(normalize_credit(&r, day())), "order_no");
    let mut r = base();
    r.send_div = InvoiceDelivery::Gift;
    assert_eq!(field_of(normalize_credit(&r, day())), "ship_to");
    r.ship_to = Some(Party {
        address: "沖縄県那覇市".into(),
        ..testing::buyer()
    });
    let e = normalize_credit(&r, day()).unwrap_err();
    assert_eq!(e.field, "ship_to.address");
    assert!(
        e.to_string()
            .starts_with("ship_to.address: has no street number"),
        "{e}"
    );
    // A discount line is fine when the total stays positive.
    let mut r = base();
    r.lines.push(Line {
        name: "クーポン".into(),
        qty: 1,
        unit_price: -1000,
    });
    assert_eq!(normalize_credit(&r, day()).unwrap().total_amount, 4000);
}

/// Every documented limit, on a request that passed.
fn assert_within_limits(c: &NormalizedCredit, req: &CreditRequest) {
    assert!(crate::providers::credit::kuroneko::is_valid_order_no(
        &c.order_no
    ));
    for p in std::iter::once(&c.buyer).chain(c.ship_to.as_ref()) {
        assert!(is_full_width(&p.name) && (1..=NAME_MAX).contains(&p.name.chars().count()));
        assert!(is_half_width_kana_text(&p.name_kana), "{:?}", p.name_kana);
        assert!(p.post_code.len() == 7 && p.post_code.bytes().all(|b| b.is_ascii_digit()));
        assert!(is_full_width(&p.address1) && is_full_width(&p.address2));
        assert!((1..=ADDRESS_PART_MAX).contains(&p.address1.chars().count()));
        assert!(p.address2.chars().count() <= ADDRESS_PART_MAX);
        assert!(starts_with_prefecture(&p.address1));
        assert!(has_street_number(&format!("{}{}", p.address1, p.address2)));
        assert!(p.tel_num.is_empty() || normalize_phone(&p.tel_num).as_deref() == Some(&p.tel_num));
        assert!(p.email.as_ref().is_none_or(|e| e.len() <= EMAIL_MAX));
    }
    assert!(normalize_phone(&c.buyer.tel_num).is_some());
    assert!((1..=MAX_LINES).contains(&c.items.len()));
    for l in &c.items {
        assert!(is_full_width(&l.name) && (1..=ITEM_NAME_MAX).contains(&l.name.chars().count()));
        assert!(l.count >= 1);
        assert_eq!(i64::from(l.count) * l.unit_price, l.sub_total);
        assert!(l.sub_total.abs() <= AMOUNT_MAX);
    }
    assert_eq!(
        c.total_amount,
        c.items.iter().map(|l| l.sub_total).sum::<i64>()
    );
    let goods: i64 = req
        .lines
        .iter()
        .map(|l| i64::from(l.qty) * l.unit_price)
        .sum();
    assert_eq!(
        c.total_amount,
        goods + req.shipping_fee + req.fee,
        "nothing lost in folding"
    );
    assert!((AMOUNT_MIN..=AMOUNT_MAX).contains(&c.total_amount));
    assert!(
        c.ordered_on <= c.ship_on && c.ship_on <= day() + chrono::TimeDelta::days(SHIP_AHEAD_DAYS)
    );
}

/// Characters that exercise every conversion.
fn text(max: usize) -> impl Strategy<Value = String> {
    let pool: Vec<char> = "山田太郎東京ｱｶﾞｶﾞﾊﾟﾟﾞｳﾞｰ｡ abcXYZ019~〜-\t\u{3000}あいうアイウ／＃ＡＢ１２"
        .chars()
        .collect();
    proptest::collection::vec(proptest::sample::select(pool), 1..=max)
        .prop_map(|cs| cs.into_iter().collect())
}

fn kana() -> impl Strategy<Value = String> {
    let pool: Vec<char> = "やまだたろうヤマダパンヴガｶﾞｯ ー・ＡＢ１　"
        .chars()
        .collect();
    proptest::collection::vec(proptest::sample::select(pool), 0..20)
        .prop_map(|cs| cs.into_iter().collect())
}

fn address() -> impl Strategy<Value = String> {
    (
        proptest::sample::select(PREFECTURES.to_vec()),
        text(20),
        0u32..10_000,
        proptest::option::of(text(10)),
    )
        .prop_map(|(pref, town, number, building)| match building {
            Some(b) => format!("{pref}{town}{number} {b}"),
            None => format!("{pref}{town}{number}"),
        })
}

fn phone() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just(9usize), Just(10usize)],
        any::<u64>(),
        any::<bool>(),
    )
        .prop_map(|(rest, n, hyphens)| {
            let digits = format!("0{:0>width$}", n % 10u64.pow(rest as u32), width = rest);
            if hyphens {
                format!("{}-{}-{}", &digits[..3], &digits[3..6], &digits[6..])
            } else {
                digits
            }
        })
}

fn party() -> impl Strategy<Value = Party> {
    (
        text(29),
        kana(),
        0u32..10_000_000,
        any::<bool>(),
        address(),
        phone(),
    )
        .prop_map(|(name, name_kana, post, hyphen, address, phone)| Party {
            name: format!("x{name}"),
            name_kana,
            postal_code: if hyphen {
                format!("{:03}-{:04}", post / 10_000, post % 10_000)
            } else {
                format!("{post:07}")
            },
            address,
            phone,
            email: Some("buyer@example.jp".into()),
        })
}

fn lines() -> impl Strategy<Value = Vec<Line>> {
    proptest::collection::vec(
        (text(40), 1u32..5, -500i64..20_000).prop_map(|(name, qty, unit_price)| Line {
            name: format!("品{name}"),
            qty,
            unit_price,
        }),
        1..25,
    )
}

fn plausible() -> impl Strategy<Value = CreditRequest> {
    (
        party(),
        proptest::option::of(party()),
        lines(),
        0i64..2000,
        0i64..500,
        0i64..=90,
        proptest::sample::select(InvoiceDelivery::ALL.to_vec()),
    )
        .prop_map(
            |(buyer, ship_to, lines, shipping_fee, fee, ahead, send_div)| {
                let send_div = if ship_to.is_none() && send_div == InvoiceDelivery::Gift {
                    InvoiceDelivery::MailToBuyer
                } else {
                    send_div
                };
                CreditRequest {
                    order_no: "P-1".into(),
                    ordered_on: day(),
                    ship_on: day() + chrono::TimeDelta::days(ahead),
                    buyer,
                    ship_to,
                    lines,
                    shipping_fee,
                    fee,
                    send_div,
                }
            },
        )
}

fn arbitrary_party() -> impl Strategy<Value = Party> {
    (
        any::<String>(),
        any::<String>(),
        any::<String>(),
        any::<String>(),
        any::<String>(),
        proptest::option::of(any::<String>()),
    )
        .prop_map(
            |(name, name_kana, postal_code, address, phone, email)| Party {
                name,
                name_kana,
                postal_code,
                address,
                phone,
                email,
            },
        )
}

proptest! {
    #[test]
    fn plausible_requests_pass_within_the_limits(req in plausible()) {
        // Only the total may legitimately be out of range (discounts, many lines).
        match normalize_credit(&req, day()) {
            Ok(c) => assert_within_limits(&c, &req),
            Err(e) => prop_assert!(
                e.field == "total" || e.field == "lines",
                "{e}"
            ),
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(
        buyer in arbitrary_party(),
        ship_to in proptest::option::of(arbitrary_party()),
        names in proptest::collection::vec(any::<String>(), 0..14),
        price in any::<i64>(),
        qty in any::<u32>(),
        order_no in any::<String>(),
        shipping_fee in any::<i64>(),
    ) {
        let req = CreditRequest {
            order_no: crate::providers::credit::kuroneko::order_no_for(&order_no, qty),
            ordered_on: day(),
            ship_on: day(),
            buyer,
            ship_to,
            lines: names.into_iter().map(|name| Line { name, qty, unit_price: price }).collect(),
            shipping_fee,
            fee: 0,
            send_div: InvoiceDelivery::Gift,
        };
        if let Ok(c) = normalize_credit(&req, day()) {
            assert_within_limits(&c, &req);
        }
    }

    #[test]
    fn conversions_stay_in_their_charsets(s in any::<String>()) {
        let full = to_full_width(&s);
        prop_assert!(is_full_width(&full), "{full:?}");
        let edges_trimmed = !full.starts_with('\u{3000}') && !full.ends_with('\u{3000}');
        prop_assert!(edges_trimmed, "{:?}", full);
        if let Ok(kana) = to_half_width_kana(&s) {
            prop_assert!(is_half_width_kana_text(&kana), "{kana:?}");
        }
        let _ = split_address(&s);
        let _ = normalize_phone(&s);
        let _ = normalize_postcode(&s);
        let _ = normalize_email(&s);
    }

    #[test]
    fn order_numbers_always_have_yamatos_shape(id in any::<String>(), attempt in any::<u32>()) {
        let no = crate::providers::credit::kuroneko::order_no_for(&id, attempt);
        prop_assert!(crate::providers::credit::kuroneko::is_valid_order_no(&no), "{no}");
        let suffix = format!("-{attempt}");
        prop_assert!(no.ends_with(&suffix));
        prop_assert_ne!(no, crate::providers::credit::kuroneko::order_no_for(&id, attempt.wrapping_add(1)));
    }
}
