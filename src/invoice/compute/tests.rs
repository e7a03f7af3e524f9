//! Hand-computed fixtures: every expected amount below is worked out in the comments.

use chrono::NaiveDate;
use proptest::prelude::*;

use super::*;

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap()
}

fn line(line_no: u32, sku: &str, qty: u32, price: i64, rate: TaxRate) -> ShippedLine {
    ShippedLine {
        line_no,
        item_code: sku.into(),
        name: format!("{sku} の名前"),
        qty,
        unit_price: Some(price),
        tax_rate: rate,
    }
}

fn order(id: &str, shipped: NaiveDate, lines: Vec<ShippedLine>) -> ShippedOrder {
    ShippedOrder {
        order_id: id.into(),
        first_shipped_on: shipped,
        lines,
    }
}

fn parcel(id: &str, shipped: NaiveDate, cost: i64) -> ShippingCharge {
    ShippingCharge {
        order_id: id.into(),
        shipped_on: shipped,
        carrier: "yamato".into(),
        tracking_no: format!("{id}-{cost}"),
        cost,
    }
}

fn first_half() -> Period {
    Period::new(day(11, 1), day(11, 15)).unwrap()
}

/// A: 3 × 5,500 (10%) + 2 × 1,080 (8%), shipped 11/3 with 1,200 shipping.
/// B: 4 of 6 × 2,200 allocated and shipped (the customer accepted the partial allocation),
///    its second line got nothing; shipped 11/15 (the last day) with 800 shipping.
/// C: shipped 11/16, the next period. D: first parcel 10/31 (previous period), a second
///    parcel on 11/2 with 600 shipping, which belongs to this period.
fn fixture() -> (Vec<ShippedOrder>, Vec<ShippingCharge>) {
    let orders = vec![
        order(
            "B",
            day(11, 15),
            vec![
                line(1, "SKU-002", 4, 2200, TaxRate::Standard),
                line(2, "SKU-003", 0, 3300, TaxRate::Standard),
            ],
        ),
        order(
            "A",
            day(11, 3),
            vec![
                line(1, "SKU-001", 3, 5500, TaxRate::Standard),
                line(2, "TEA", 2, 1080, TaxRate::Reduced),
            ],
        ),
        order(
            "C",
            day(11, 16),
            vec![line(1, "SKU-001", 1, 5500, TaxRate::Standard)],
        ),
        order(
            "D",
            day(10, 31),
            vec![line(1, "SKU-001", 1, 5500, TaxRate::Standard)],
        ),
    ];
    let parcels = vec![
        parcel("A", day(11, 3), 1200),
        parcel("B", day(11, 15), 800),
        parcel("C", day(11, 16), 999),
        parcel("D", day(10, 31), 500),
        parcel("D", day(11, 2), 600),
    ];
    (orders, parcels)
}

#[test]
fn totals_and_tax_per_rate_match_the_hand_computed_fixture() {
    let (orders, parcels) = fixture();
    let inv = compute(first_half(), &orders, &parcels).unwrap();
    // 10%: 16,500 (A) + 8,800 (B) + 1,200 + 800 + 600 (shipping) = 27,900;
    //      tax = floor(27,900 × 10 / 110) = floor(2,536.36) = 2,536.
    // 8%:  2,160 (A); tax = floor(2,160 × 8 / 108) = 160.
    assert_eq!(
        inv.by_rate,
        vec![
            RateTotal {
                rate: TaxRate::Standard,
                total: 27_900,
                tax: 2_536,
                tax_excluded: 25_364
            },
            RateTotal {
                rate: TaxRate::Reduced,
                total: 2_160,
                tax: 160,
                tax_excluded: 2_000
            },
        ]
    );
    assert_eq!(inv.grand_total, 30_060);
    assert_eq!(inv.tax_total, 2_696);
    assert_eq!(inv.tax_excluded_total, 27_364);
    // floor(27,364 × 10%) = floor(2,736.4) = 2,736.
    assert_eq!(inv.service_fee, 2_736);
    assert_eq!(inv.expected_transfer, 30_060 - 2_736);
}

#[test]
fn only_orders_first_shipped_in_the_period_are_invoiced_in_date_order() {
    let (orders, parcels) = fixture();
    let inv = compute(first_half(), &orders, &parcels).unwrap();
    let ids: Vec<&str> = inv.orders.iter().map(|o| o.order_id.as_str()).collect();
    assert_eq!(ids, ["A", "B"]);
    let shipping: Vec<(&str, i64)> = inv
        .shipping
        .iter()
        .map(|s| (s.order_id.as_str(), s.cost))
        .collect();
    assert_eq!(shipping, [("D", 600), ("A", 1200), ("B", 800)]);
    // The next period takes C, and D is in neither again.
    let second = Period::new(day(11, 16), day(11, 30)).unwrap();
    let next = compute(second, &orders, &parcels).unwrap();
    let ids: Vec<&str> = next.orders.iter().map(|o| o.order_id.as_str()).collect();
    assert_eq!(ids, ["C"]);
    assert_eq!(next.grand_total, 5_500 + 999);
}

#[test]
fn a_partial_shipment_invoices_the_units_shipped_and_skips_empty_lines() {
    let (orders, parcels) = fixture();
    let inv = compute(first_half(), &orders, &parcels).unwrap();
    let b = &inv.orders[1];
    assert_eq!(
        b.lines.len(),
        1,
        "the line with nothing shipped is left out"
    );
    assert_eq!(
        (b.lines[0].qty, b.lines[0].unit_price, b.lines[0].amount),
        (4, 2200, 8_800)
    );
    assert_eq!(b.total, 8_800);
}

#[test]
fn tax_is_rounded_once_per_rate_not_per_line() {
    // Three 8% lines of 100 yen: per line floor(100 × 8 / 108) = 7, three times 21;
    // once for the invoice: floor(300 × 8 / 108) = floor(22.2) = 22.
    let orders: Vec<ShippedOrder> = ["X", "Y", "Z"]
        .iter()
        .map(|id| {
            order(
                id,
                day(11, 5),
                vec![line(1, "TEA", 1, 100, TaxRate::Reduced)],
            )
        })
        .collect();
    let inv = compute(first_half(), &orders, &[]).unwrap();
    assert_eq!(inv.by_rate.len(), 1);
    assert_eq!(inv.by_rate[0].tax, 22);
    assert_eq!(inv.tax_excluded_total, 278);
    // floor(27.8) = 27.
    assert_eq!(inv.service_fee, 27);
    assert_eq!(inv.expected_transfer, 273);
}

#[test]
fn an_empty_period_is_an_invoice_of_zero() {
    let inv = compute(first_half(), &[], &[]).unwrap();
    assert!(inv.by_rate.is_empty() && inv.orders.is_empty());
    assert_eq!((inv.grand_total, inv.service_fee), (0, 0));
}

#[test]
fn a_line_without_price_cannot_be_invoiced() {
    let mut l = line(2, "SKU-9", 1, 0, TaxRate::Standard);
    l.unit_price = None;
    let err = compute(first_half(), &[order("P", day(11, 2), vec![l])], &[]).unwrap_err();
    assert_eq!(
        err,
        InvoiceError::MissingPrice {
            order_id: "P".into(),
            line_no: 2
        }
    );
}

#[test]
fn included_tax_examples() {
    assert_eq!(TaxRate::Standard.included_tax(1_100), 100);
    assert_eq!(TaxRate::Standard.included_tax(1_099), 99); // 99.9 → 99
    assert_eq!(TaxRate::Reduced.included_tax(1_080), 80);
    assert_eq!(TaxRate::Reduced.included_tax(1), 0);
}

proptest! {
    /// Whatever is shipped: the per-rate parts add up, the tax never exceeds what a
    /// per-line computation could claim by more than the rounding, and the transfer is the
    /// total less the fee.
    #[test]
    fn totals_are_consistent(lines in prop::collection::vec((1u32..50, 1i64..200_000, any::<bool>()), 0..30),
                             costs in prop::collection::vec(0i64..5_000, 0..5)) {
        let orders: Vec<ShippedOrder> = lines.iter().enumerate().map(|(i, (q, p, reduced))| {
            let rate = if *reduced { TaxRate::Reduced } else { TaxRate::Standard };
            order(&format!("O{i}"), day(11, 1 + (i as u32 % 15)), vec![line(1, "S", *q, *p, rate)])
        }).collect();
        let parcels: Vec<ShippingCharge> = costs.iter().enumerate()
            .map(|(i, c)| parcel(&format!("O{i}"), day(11, 2), *c)).collect();
        let inv = compute(first_half(), &orders, &parcels).unwrap();
        let goods: i64 = lines.iter().map(|(q, p, _)| i64::from(*q) * p).sum();
        prop_assert_eq!(inv.grand_total, goods + costs.iter().sum::<i64>());
        prop_assert_eq!(inv.tax_total + inv.tax_excluded_total, inv.grand_total);
        for r in &inv.by_rate {
            let exact = r.total as f64 * f64::from(r.rate.percent()) / (100.0 + f64::from(r.rate.percent()));
            prop_assert!(r.tax as f64 <= exact && exact - (r.tax as f64) < 1.0);
        }
        prop_assert_eq!(inv.expected_transfer + inv.service_fee, inv.grand_total);
        prop_assert!(inv.service_fee * 10 <= inv.tax_excluded_total);
    }
}

/// 4 units at 2^62 + 1 yen wrap to 4 yen in unchecked arithmetic: the
/// invoice is refused, naming the line, instead of printed small.
#[test]
fn an_amount_that_would_wrap_is_refused_not_invoiced() {
    let huge = (1i64 << 62) + 1;
    let orders = [order(
        "JG-HUGE",
        day(11, 2),
        vec![line(1, "S", 4, huge, TaxRate::Standard)],
    )];
    let err = compute(first_half(), &orders, &[]).unwrap_err();
    assert!(
        matches!(&err, InvoiceError::TooLarge { what } if what.contains("JG-HUGE line 1")),
        "{err}"
    );
    // Lines each within the maximum whose sum is not.
    let big = super::super::MAX_AMOUNT / 2 + 1;
    let orders: Vec<ShippedOrder> = (0..2)
        .map(|i| {
            order(
                &format!("JG-{i}"),
                day(11, 2),
                vec![line(1, "S", 1, big, TaxRate::Reduced)],
            )
        })
        .collect();
    let err = compute(first_half(), &orders, &[]).unwrap_err();
    assert!(matches!(err, InvoiceError::TooLarge { .. }), "{err}");
    // At the maximum itself: invoiced.
    let orders = [order(
        "JG-MAX",
        day(11, 2),
        vec![line(1, "S", 1, super::super::MAX_AMOUNT, TaxRate::Standard)],
    )];
    assert_eq!(
        compute(first_half(), &orders, &[]).unwrap().grand_total,
        super::super::MAX_AMOUNT
    );
}
