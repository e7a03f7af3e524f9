//! How a payment is split between the sellers and the merchant (the one
//! documented rule; pure, no I/O).
//!
//! - Every amount is in yen, **tax included** (the order's unit prices are;
//!   KOMOJU's `platform_details` are too).
//! - A line with a seller is that seller's sale; a line without one is the
//!   merchant's own. A line of negative price is a coupon: with a seller it
//!   lowers that seller's sales (not below zero), without one it is the
//!   shop's coupon, shared by every line's goods in proportion to them.
//! - Shipping and the order's fee stay with the merchant.
//! - The one rounding: each seller's share is rounded down once
//!   (`goods × (all goods − shop coupons) ÷ all goods`); what rounding
//!   leaves goes to the merchant, who keeps `paid − Σ shares`.
//! - The fee: `share × fee_bps ÷ 10000` rounded down, at least the
//!   minimum per line times the seller's lines, never above the share.
//! - Checked arithmetic throughout; the sellers' shares never exceed
//!   what was paid.

use std::collections::BTreeMap;

/// One order line as the split sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitLine {
    /// The seller's code; `None` for the merchant's own goods.
    pub seller: Option<String>,
    /// `unit_price × qty`, tax included; negative for a coupon.
    pub total: i64,
}

/// A seller's fee rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeRule {
    /// Basis points of the share (1000 = 10%), 0 to 10000.
    pub bps: u32,
    /// The least fee per line of the seller, when set.
    pub min_per_line: Option<i64>,
}

/// What the split divides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitInput {
    /// The order's lines (those of the payment being split).
    pub lines: Vec<SplitLine>,
    /// What the buyer paid and KOMOJU splits, tax included.
    pub paid: i64,
}

/// One seller's part of a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SellerCut {
    /// The seller's code.
    pub seller: String,
    /// What the seller sells of the payment, tax included.
    pub share: i64,
    /// The merchant's platform fee on it.
    pub fee: i64,
}

/// A payment split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// Each seller with lines in the payment, by code.
    pub sellers: Vec<SellerCut>,
    /// What the merchant keeps before fees: `paid − Σ shares`.
    pub merchant: i64,
}

/// Why a payment cannot be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    /// A line names a seller without a fee rule (not in the master).
    #[error("seller {0} is not in the seller master")]
    UnknownSeller(String),
    /// A sum left the range of whole yen.
    #[error("the amounts are too large")]
    Overflow,
    /// The sellers' shares come to more than was paid.
    #[error("the sellers' shares ({shares} yen) exceed what was paid ({paid} yen)")]
    Exceeds {
        /// Σ shares.
        shares: i64,
        /// What was paid.
        paid: i64,
    },
}

/// Splits a payment by the rule above.
pub fn split(input: &SplitInput, rules: &BTreeMap<String, FeeRule>) -> Result<Split, SplitError> {
    let add = |a: i64, b: i64| a.checked_add(b).ok_or(SplitError::Overflow);
    // Goods and seller coupons per seller; lines per seller for the minimum fee.
    let mut goods: BTreeMap<&str, (i64, i64, i64)> = BTreeMap::new();
    let (mut own, mut shop_coupons) = (0i64, 0i64);
    for l in &input.lines {
        match (&l.seller, l.total >= 0) {
            (Some(s), _) => {
                if !rules.contains_key(s) {
                    return Err(SplitError::UnknownSeller(s.clone()));
                }
                let e = goods.entry(s.as_str()).or_default();
                if l.total >= 0 {
                    e.0 = add(e.0, l.total)?;
                    e.2 = add(e.2, 1)?;
                } else {
                    e.1 = add(e.1, l.total.checked_neg().ok_or(SplitError::Overflow)?)?;
                }
            }
            (None, true) => own = add(own, l.total)?,
            (None, false) => {
                shop_coupons = add(
                    shop_coupons,
                    l.total.checked_neg().ok_or(SplitError::Overflow)?,
                )?
            }
        }
    }
    let net: BTreeMap<&str, (i64, i64)> = goods
        .iter()
        .map(|(s, (g, c, n))| (*s, ((g - c).max(0), *n)))
        .collect();
    let mut all = own;
    for (g, _) in net.values() {
        all = add(all, *g)?;
    }
    let after_coupons = all.saturating_sub(shop_coupons).max(0);
    let mut sellers = Vec::with_capacity(net.len());
    let mut shares = 0i64;
    for (seller, (g, lines)) in net {
        let share = if all == 0 {
            0
        } else {
            i64::try_from(i128::from(g) * i128::from(after_coupons) / i128::from(all))
                .map_err(|_| SplitError::Overflow)?
        };
        let rule = rules[seller];
        let by_rate = i64::try_from(i128::from(share) * i128::from(rule.bps) / 10_000)
            .map_err(|_| SplitError::Overflow)?;
        let floor = match rule.min_per_line {
            Some(m) => m.checked_mul(lines).ok_or(SplitError::Overflow)?,
            None => 0,
        };
        let fee = by_rate.max(floor).min(share);
        shares = add(shares, share)?;
        sellers.push(SellerCut {
            seller: seller.to_string(),
            share,
            fee,
        });
    }
    if shares > input.paid {
        return Err(SplitError::Exceeds {
            shares,
            paid: input.paid,
        });
    }
    Ok(Split {
        sellers,
        merchant: input.paid - shares,
    })
}

/// One entry of `platform_details.submerchants` as sent to KOMOJU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireShare {
    /// The seller's code (not sent; for the books).
    pub seller: String,
    /// `amount`: credited to the seller's KOMOJU balance.
    pub amount: i64,
    /// `platform_fee`: moved from the seller to the merchant.
    pub platform_fee: i64,
}

/// The entries KOMOJU takes for a split whose sellers' amounts must add up
/// to `base` (the payment's total, \[guess\] in the contract): the
/// merchant's part rides on the entry of the seller with the largest share,
/// added to both its `amount` and its `platform_fee`, so every seller's net
/// (`amount − platform_fee`) is exactly its share less its fee and the
/// merchant receives its part as fee. `None` when the split has no seller.
pub fn wire_shares(split: &Split, base: i64) -> Result<Option<Vec<WireShare>>, SplitError> {
    let Some(carrier) =
        (0..split.sellers.len()).max_by_key(|i| (split.sellers[*i].share, usize::MAX - i))
    else {
        return Ok(None);
    };
    let shares: i64 = split.sellers.iter().map(|c| c.share).sum();
    let rest = base.checked_sub(shares).ok_or(SplitError::Overflow)?;
    if rest < 0 {
        return Err(SplitError::Exceeds { shares, paid: base });
    }
    let mut out: Vec<WireShare> = split
        .sellers
        .iter()
        .map(|c| WireShare {
            seller: c.seller.clone(),
            amount: c.share,
            platform_fee: c.fee,
        })
        .collect();
    let e = &mut out[carrier];
    e.amount = e.amount.checked_add(rest).ok_or(SplitError::Overflow)?;
    e.platform_fee = e
        .platform_fee
        .checked_add(rest)
        .ok_or(SplitError::Overflow)?;
    Ok(Some(out))
}

#[cfg(test)]
mod tests;
