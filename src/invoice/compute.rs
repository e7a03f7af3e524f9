//! The numbers of a J-goods invoice, from what was shipped. Pure: no I/O.
//!
//! Rules (the merchant's statement to J-goods, a qualified invoice, 適格請求書):
//! - Goods: every J-goods order whose **first** shipment falls in the period, with the units
//!   actually shipped per line at the tax-included unit price J-goods bought them at. The first
//!   parcel is when the goods leave the merchant's stock, so an order spread over two parcels
//!   in two periods is invoiced once, in the period of its first parcel.
//! - Shipping: every parcel dated in the period that carries a `shipping_cost` is invoiced in
//!   that period (a later parcel's cost is invoiced when that parcel ships, so no cost is ever
//!   dropped or counted twice). Domestic transport is a standard-rated service: 10%.
//! - Consumption tax is worked out once per rate per invoice, as the qualified-invoice rules
//!   require (never per line): amounts are tax included, so
//!   `tax = floor(total × rate / (100 + rate))`: rounded down (切り捨て, the common choice),
//!   once per rate, so the printed tax matches what the recipient can recompute.
//! - Service fee J-goods keeps: 10% of the invoiced amount tax excluded, rounded down to the
//!   yen. It is an expectation: J-goods' own statement is what it transfers.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{InvoiceError, MAX_AMOUNT, Period};

/// Service fee J-goods keeps, percent of the tax-excluded invoiced amount.
pub const SERVICE_FEE_PERCENT: i64 = 10;

/// The consumption-tax rate of an invoiced amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
pub enum TaxRate {
    /// 8%: the reduced rate (food and drink, newspapers).
    Reduced,
    /// 10%: the standard rate.
    Standard,
}

impl TaxRate {
    /// Both rates, the standard one first (the order invoices list them in).
    pub const ALL: [TaxRate; 2] = [TaxRate::Standard, TaxRate::Reduced];

    pub fn percent(self) -> u8 {
        match self {
            TaxRate::Reduced => 8,
            TaxRate::Standard => 10,
        }
    }

    /// The rate stored on a stock record (`8` or `10`).
    pub fn from_percent(percent: i64) -> Option<TaxRate> {
        match percent {
            8 => Some(TaxRate::Reduced),
            10 => Some(TaxRate::Standard),
            _ => None,
        }
    }

    /// The consumption tax contained in a tax-included `total`, rounded down.
    pub fn included_tax(self, total: i64) -> i64 {
        // In i128, so no total can wrap; the tax is at most the total.
        let rate = i128::from(self.percent());
        let tax = (i128::from(total) * rate).div_euclid(100 + rate);
        i64::try_from(tax).unwrap_or(total)
    }
}

impl From<TaxRate> for u8 {
    fn from(r: TaxRate) -> u8 {
        r.percent()
    }
}

impl TryFrom<u8> for TaxRate {
    type Error = String;
    fn try_from(p: u8) -> Result<TaxRate, String> {
        TaxRate::from_percent(i64::from(p)).ok_or_else(|| format!("tax rate {p} is not 8 or 10"))
    }
}

/// A J-goods order as it was shipped: what the store knows, before any arithmetic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippedOrder {
    pub order_id: String,
    /// Date of the order's first parcel (decides the period it is invoiced in).
    pub first_shipped_on: NaiveDate,
    pub lines: Vec<ShippedLine>,
}

/// One order line and how many of its units left with the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippedLine {
    pub line_no: u32,
    /// The merchant's SKU (J-goods' `item_code`).
    pub item_code: String,
    pub name: String,
    /// Units shipped: what was allocated, which may be less than ordered when the customer
    /// accepted a partial allocation.
    pub qty: u32,
    /// Yen, tax included; `None` when the channel never sent one (the order cannot be
    /// invoiced until it is known).
    pub unit_price: Option<i64>,
    /// From the SKU's stock record; 10% when the mirror has no record of it.
    pub tax_rate: TaxRate,
}

/// A parcel's domestic shipping cost, invoiced in the period of the parcel's date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippingCharge {
    pub order_id: String,
    pub shipped_on: NaiveDate,
    pub carrier: String,
    pub tracking_no: String,
    /// Yen, tax included.
    pub cost: i64,
}

/// The computed invoice: every amount the documents print. Serialised as issued, so a
/// re-issue prints exactly what was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    pub period: Period,
    pub orders: Vec<InvoiceOrder>,
    pub shipping: Vec<ShippingCharge>,
    /// One entry per rate that has an amount, standard rate first.
    pub by_rate: Vec<RateTotal>,
    /// Everything invoiced, tax included.
    pub grand_total: i64,
    /// Sum of the per-rate taxes.
    pub tax_total: i64,
    /// `grand_total − tax_total`: the base of the service fee.
    pub tax_excluded_total: i64,
    /// What J-goods is expected to keep.
    pub service_fee: i64,
    /// `grand_total − service_fee`: what J-goods is expected to transfer.
    pub expected_transfer: i64,
}

/// An invoiced order and its shipped lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceOrder {
    pub order_id: String,
    pub shipped_on: NaiveDate,
    pub lines: Vec<InvoiceLine>,
    /// Sum of the line amounts, tax included.
    pub total: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    pub line_no: u32,
    pub item_code: String,
    pub name: String,
    pub qty: u32,
    /// Yen, tax included.
    pub unit_price: i64,
    /// `qty × unit_price`, tax included.
    pub amount: i64,
    pub tax_rate: TaxRate,
}

/// Totals of one consumption-tax rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateTotal {
    pub rate: TaxRate,
    /// Tax included.
    pub total: i64,
    /// Consumption tax contained in `total`, rounded once.
    pub tax: i64,
    /// `total − tax`.
    pub tax_excluded: i64,
}

/// Works out the invoice of `period` from the shipped orders and parcels the store found.
/// Orders and parcels outside the period are ignored, so the caller may over-fetch.
pub fn compute(
    period: Period,
    orders: &[ShippedOrder],
    parcels: &[ShippingCharge],
) -> Result<Invoice, InvoiceError> {
    let mut invoiced = Vec::new();
    for order in orders
        .iter()
        .filter(|o| period.contains(o.first_shipped_on))
    {
        invoiced.push(invoice_order(order)?);
    }
    invoiced.sort_by(|a, b| (a.shipped_on, &a.order_id).cmp(&(b.shipped_on, &b.order_id)));
    let mut shipping: Vec<ShippingCharge> = parcels
        .iter()
        .filter(|p| period.contains(p.shipped_on))
        .cloned()
        .collect();
    shipping.sort_by(|a, b| (a.shipped_on, &a.order_id).cmp(&(b.shipped_on, &b.order_id)));

    let amounts = invoiced
        .iter()
        .flat_map(|o| o.lines.iter().map(|l| (l.tax_rate, l.amount)))
        .chain(shipping.iter().map(|s| (TaxRate::Standard, s.cost)));
    let mut sums = [0i64; 2];
    for (rate, amount) in amounts {
        let sum = &mut sums[rate_index(rate)];
        *sum = capped(sum.checked_add(amount), || {
            format!("the {}% total", rate.percent())
        })?;
    }
    let by_rate: Vec<RateTotal> = TaxRate::ALL
        .into_iter()
        .filter(|r| sums[rate_index(*r)] != 0)
        .map(|rate| {
            let total = sums[rate_index(rate)];
            let tax = rate.included_tax(total);
            RateTotal {
                rate,
                total,
                tax,
                tax_excluded: total - tax,
            }
        })
        .collect();
    // Each rate's total is within MAX_AMOUNT, so these sums cannot wrap.
    let grand_total = capped(Some(sums[0] + sums[1]), || "the grand total".into())?;
    let tax_total: i64 = by_rate.iter().map(|r| r.tax).sum();
    let tax_excluded_total = grand_total - tax_total;
    let service_fee = (tax_excluded_total * SERVICE_FEE_PERCENT).div_euclid(100);
    Ok(Invoice {
        period,
        orders: invoiced,
        shipping,
        by_rate,
        grand_total,
        tax_total,
        tax_excluded_total,
        service_fee,
        expected_transfer: grand_total - service_fee,
    })
}

/// `amount` when it was computed without wrapping and is within
/// [`MAX_AMOUNT`] (negative amounts are a store error the caller sees
/// elsewhere); otherwise the refusal naming `what`.
fn capped(amount: Option<i64>, what: impl FnOnce() -> String) -> Result<i64, InvoiceError> {
    amount
        .filter(|a| a.abs() <= MAX_AMOUNT)
        .ok_or_else(|| InvoiceError::TooLarge { what: what() })
}

fn rate_index(rate: TaxRate) -> usize {
    match rate {
        TaxRate::Standard => 0,
        TaxRate::Reduced => 1,
    }
}

/// The order's lines that shipped units; a line with nothing shipped is not invoiced.
fn invoice_order(order: &ShippedOrder) -> Result<InvoiceOrder, InvoiceError> {
    let mut lines = Vec::with_capacity(order.lines.len());
    for l in order.lines.iter().filter(|l| l.qty > 0) {
        let unit_price = l.unit_price.ok_or_else(|| InvoiceError::MissingPrice {
            order_id: order.order_id.clone(),
            line_no: l.line_no,
        })?;
        let line_no = l.line_no;
        let amount = capped(i64::from(l.qty).checked_mul(unit_price), || {
            format!("J-goods order {} line {line_no}", order.order_id)
        })?;
        lines.push(InvoiceLine {
            line_no,
            item_code: l.item_code.clone(),
            name: l.name.clone(),
            qty: l.qty,
            unit_price,
            amount,
            tax_rate: l.tax_rate,
        });
    }
    let mut total = 0i64;
    for line in &lines {
        total = capped(total.checked_add(line.amount), || {
            format!("J-goods order {}", order.order_id)
        })?;
    }
    Ok(InvoiceOrder {
        order_id: order.order_id.clone(),
        shipped_on: order.first_shipped_on,
        total,
        lines,
    })
}

#[cfg(test)]
mod tests;
