//! A small invoice for the rendering tests: both rates, a partial line, a parcel, and text
//! that must be escaped.

use chrono::NaiveDate;

use super::compute::{ShippedLine, ShippedOrder, ShippingCharge, compute};
use super::{InvoiceDocument, Issue, Issuer, Period, TaxRate};

pub fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

pub fn issuer() -> Issuer {
    Issuer {
        issuer_name: "株式会社サンプル商店 <本店>".into(),
        registration_number: "T1234567890123".into(),
        addressee: "J-goods株式会社 御中 & Co".into(),
        bank_account: "サンプル銀行 本店営業部 普通 1234567".into(),
    }
}

/// 10%: 3 × 5,500 + 1,200 shipping = 17,700, tax floor(17,700 / 11) = 1,609.
/// 8%: 2 × 1,080 = 2,160, tax 160. Total 19,860; excluded 18,091; fee 1,809.
pub fn document(issue: Issue) -> InvoiceDocument {
    let line = |line_no, sku: &str, name: &str, qty, price, rate| ShippedLine {
        line_no,
        item_code: sku.into(),
        name: name.into(),
        qty,
        unit_price: Some(price),
        tax_rate: rate,
    };
    let orders = [ShippedOrder {
        order_id: "JG-1001".into(),
        first_shipped_on: day(3),
        lines: vec![
            line(
                1,
                "SKU-001",
                "南部鉄器 急須 \"大\"",
                3,
                5500,
                TaxRate::Standard,
            ),
            line(2, "TEA-8", "煎茶 <特上>", 2, 1080, TaxRate::Reduced),
        ],
    }];
    let parcels = [ShippingCharge {
        order_id: "JG-1001".into(),
        shipped_on: day(3),
        carrier: "yamato".into(),
        tracking_no: "123456789012".into(),
        cost: 1200,
    }];
    let period = Period::new(day(1), day(15)).unwrap();
    InvoiceDocument {
        issue,
        issuer: issuer(),
        invoice: compute(period, &orders, &parcels).unwrap(),
    }
}

pub fn issued() -> Issue {
    Issue::Issued {
        number: "INV-000007".into(),
        issued_on: day(16),
    }
}
