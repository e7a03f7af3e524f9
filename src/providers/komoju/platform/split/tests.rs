use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

fn rules() -> BTreeMap<String, FeeRule> {
    BTreeMap::from([
        (
            "A".to_string(),
            FeeRule {
                bps: 1000,
                min_per_line: None,
            },
        ),
        (
            "B".to_string(),
            FeeRule {
                bps: 500,
                min_per_line: Some(100),
            },
        ),
    ])
}

fn line(seller: Option<&str>, total: i64) -> SplitLine {
    SplitLine {
        seller: seller.map(str::to_string),
        total,
    }
}

#[test]
fn two_sellers_shipping_to_the_merchant() {
    // A sells 6600, B 1100 (one line, fee 55 below the 100 minimum), shipping 800.
    let input = SplitInput {
        lines: vec![line(Some("A"), 6600), line(Some("B"), 1100)],
        paid: 8500,
    };
    let s = split(&input, &rules()).unwrap();
    assert_eq!(
        s.sellers,
        vec![
            SellerCut {
                seller: "A".into(),
                share: 6600,
                fee: 660
            },
            SellerCut {
                seller: "B".into(),
                share: 1100,
                fee: 100
            },
        ]
    );
    assert_eq!(s.merchant, 800);
    let wire = wire_shares(&s, 8500).unwrap().unwrap();
    assert_eq!((wire[0].amount, wire[0].platform_fee), (7400, 1460));
    assert_eq!((wire[1].amount, wire[1].platform_fee), (1100, 100));
    assert_eq!(wire.iter().map(|w| w.amount).sum::<i64>(), 8500);
}

#[test]
fn coupons_round_once_and_the_remainder_goes_to_the_merchant() {
    // A shop coupon of 1000 over 3000 + 3000 + 1000 of goods.
    let input = SplitInput {
        lines: vec![
            line(Some("A"), 3000),
            line(Some("B"), 3000),
            line(None, 1000),
            line(None, -1000),
        ],
        paid: 6000,
    };
    let s = split(&input, &rules()).unwrap();
    // 3000 × 6000 / 7000 = 2571.4 → 2571 each; the merchant 858.
    assert_eq!(s.sellers[0].share, 2571);
    assert_eq!(s.sellers[1].share, 2571);
    assert_eq!(s.merchant, 858);
    // A seller's own coupon lowers only its share.
    let input = SplitInput {
        lines: vec![
            line(Some("A"), 3000),
            line(Some("A"), -500),
            line(Some("B"), 3000),
        ],
        paid: 5500,
    };
    let s = split(&input, &rules()).unwrap();
    assert_eq!(
        (s.sellers[0].share, s.sellers[1].share, s.merchant),
        (2500, 3000, 0)
    );
}

#[test]
fn refusals() {
    let unknown = SplitInput {
        lines: vec![line(Some("Z"), 100)],
        paid: 100,
    };
    assert_eq!(
        split(&unknown, &rules()),
        Err(SplitError::UnknownSeller("Z".into()))
    );
    let short = SplitInput {
        lines: vec![line(Some("A"), 1000)],
        paid: 900,
    };
    assert_eq!(
        split(&short, &rules()),
        Err(SplitError::Exceeds {
            shares: 1000,
            paid: 900
        })
    );
    let huge = SplitInput {
        lines: vec![line(Some("A"), i64::MAX), line(Some("A"), 1)],
        paid: i64::MAX,
    };
    assert_eq!(split(&huge, &rules()), Err(SplitError::Overflow));
    let own = SplitInput {
        lines: vec![line(None, 1000)],
        paid: 1000,
    };
    assert_eq!(wire_shares(&split(&own, &rules()).unwrap(), 1000), Ok(None));
}

proptest! {
    /// For any order: shares + merchant = paid, every fee within its
    /// share, every share ≥ 0, and the wire entries add up to the base
    /// with each seller's net unchanged.
    #[test]
    fn shares_and_merchant_add_up_to_what_was_paid(
        lines in prop::collection::vec((0u8..3, -5_000i64..50_000), 1..12),
        shipping in 0i64..2_000,
    ) {
        let lines: Vec<SplitLine> = lines
            .into_iter()
            .map(|(s, t)| line(match s { 0 => None, 1 => Some("A"), _ => Some("B") }, t))
            .collect();
        let positive: i64 = lines.iter().map(|l| l.total).sum::<i64>().max(0);
        let paid = positive + shipping;
        let input = SplitInput { lines, paid };
        let s = match split(&input, &rules()) {
            // A seller's coupon above its goods: refused, never split.
            Err(SplitError::Exceeds { shares, paid }) => {
                prop_assert!(shares > paid);
                return Ok(());
            }
            other => other.unwrap(),
        };
        let shares: i64 = s.sellers.iter().map(|c| c.share).sum();
        prop_assert_eq!(shares + s.merchant, paid);
        prop_assert!(s.merchant >= 0);
        for c in &s.sellers {
            prop_assert!(c.share >= 0 && c.fee >= 0 && c.fee <= c.share);
        }
        if let Some(wire) = wire_shares(&s, paid).unwrap() {
            prop_assert_eq!(wire.iter().map(|w| w.amount).sum::<i64>(), paid);
            for (w, c) in wire.iter().zip(&s.sellers) {
                prop_assert_eq!(w.amount - w.platform_fee, c.share - c.fee);
                prop_assert!(w.platform_fee <= w.amount);
            }
        }
    }
}
