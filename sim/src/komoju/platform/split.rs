//! The payment split (contract "Payment split"): `platform_details` checked
//! as KOMOJU checks it (sum against the set base, fee ≤ amount, a known,
//! payout-enabled seller once, integers), booked at capture, and given back
//! by refunds with or without a split.

use chrono::{DateTime, Utc};

use super::ledger::{Plan, Posting};
use super::{Booked, LineKind, Platform, PlatformDetails, RefundWithoutSplit, Share, TxKind};
use crate::komoju::wire::ApiError;

impl Platform {
    /// Checks a split whose sellers' amounts must add up to `base`.
    pub(crate) fn check_split(&self, d: &PlatformDetails, base: i64) -> Result<(), ApiError> {
        let mut sum = 0i64;
        for (i, e) in d.submerchants.iter().enumerate() {
            let Some(m) = self.merchants.get(&e.submerchant_id) else {
                return Err(
                    self.split_error(format!("Unknown submerchant_id {:?}", e.submerchant_id))
                );
            };
            if self.settings.payouts_enabled_required && !m.payouts_enabled {
                return Err(self.split_error(format!(
                    "Submerchant {:?} cannot receive payouts",
                    e.submerchant_id
                )));
            }
            if e.platform_fee > e.amount {
                return Err(self.split_error(format!(
                    "platform_fee {} is above the amount {} of {:?}",
                    e.platform_fee, e.amount, e.submerchant_id
                )));
            }
            if self.settings.one_entry_per_seller
                && d.submerchants[..i]
                    .iter()
                    .any(|o| o.submerchant_id == e.submerchant_id)
            {
                return Err(
                    self.split_error(format!("Submerchant {:?} appears twice", e.submerchant_id))
                );
            }
            sum = sum
                .checked_add(e.amount)
                .ok_or_else(|| self.split_error("The amounts are too large"))?;
        }
        if sum != base {
            return Err(self.split_error(format!(
                "The submerchants' amounts add up to {sum}, not the payment's {base}"
            )));
        }
        Ok(())
    }

    /// Plans the booking of a capture of `gross` yen: each seller its
    /// amount less its fee, the platform the fees and the rest, less the
    /// processing fee.
    pub(crate) fn plan_capture(
        &self,
        payment_id: &str,
        gross: i64,
        split: Option<&PlatformDetails>,
    ) -> Result<(Plan, Booked), ApiError> {
        let too_large = || ApiError::new_422("amount_too_large", "The amounts are too large");
        let fee = i64::try_from(
            i128::from(gross) * i128::from(self.settings.processing_fee_bps) / 10_000,
        )
        .map_err(|_| too_large())?;
        let mut postings = Vec::new();
        let mut booked = Booked {
            shares: Vec::new(),
            remaining: gross,
        };
        let (mut shares, mut fees) = (0i64, 0i64);
        for e in split.map(|d| d.submerchants.as_slice()).unwrap_or_default() {
            postings.push(
                Posting::new(&e.submerchant_id, TxKind::Payment, Some(payment_id))
                    .line(LineKind::PaymentShare, e.amount)
                    .line(LineKind::PlatformFee, -e.platform_fee),
            );
            shares = shares.checked_add(e.amount).ok_or_else(too_large)?;
            fees = fees.checked_add(e.platform_fee).ok_or_else(too_large)?;
            booked.shares.push(Share {
                seller: e.submerchant_id.clone(),
                amount_left: e.amount,
                fee_left: e.platform_fee,
            });
        }
        let own = gross.checked_sub(shares).ok_or_else(too_large)?;
        postings.push(
            Posting::new(
                &self.settings.platform_id,
                TxKind::Payment,
                Some(payment_id),
            )
            .line(LineKind::Payment, own)
            .line(LineKind::PlatformFee, fees)
            .line(LineKind::ProcessingFee, -fee),
        );
        Ok((self.plan(postings, fee, 0)?, booked))
    }

    /// Books a capture or refund planned by [`Self::plan_capture`] or
    /// [`Self::plan_refund`].
    pub(crate) fn book(
        &mut self,
        payment_id: &str,
        (plan, booked): (Plan, Booked),
        now: DateTime<Utc>,
    ) {
        self.apply(plan, now);
        self.booked.insert(payment_id.to_string(), booked);
    }

    /// Plans a refund of `amount` yen of a booked payment: with a split,
    /// each named seller gives its `amount` back and gets its
    /// `platform_fee` returned by the platform (the amounts add up to the
    /// refund); without, as [`RefundWithoutSplit`] says. `platform_extra`
    /// is given back by the platform alone (a konbini fee returned).
    pub(crate) fn plan_refund(
        &self,
        payment_id: &str,
        amount: i64,
        split: Option<&PlatformDetails>,
        platform_extra: i64,
    ) -> Result<(Plan, Booked), ApiError> {
        let mut booked = self.booked.get(payment_id).cloned().unwrap_or_default();
        let total = amount
            .checked_add(platform_extra)
            .ok_or_else(|| self.split_error("The amounts are too large"))?;
        booked.remaining = booked.remaining.saturating_sub(total);
        let mut postings = Vec::new();
        let mut returned_fees = 0i64;
        let mut from_sellers = 0i64;
        let entries: Vec<(String, i64, i64)> = match split {
            Some(d) => {
                let mut sum = 0i64;
                for e in &d.submerchants {
                    sum = sum
                        .checked_add(e.amount)
                        .ok_or_else(|| self.split_error("The amounts are too large"))?;
                }
                if sum != amount {
                    return Err(self.split_error(format!(
                        "The submerchants' amounts add up to {sum}, not the refund's {amount}"
                    )));
                }
                d.submerchants
                    .iter()
                    .map(|e| (e.submerchant_id.clone(), e.amount, e.platform_fee))
                    .collect()
            }
            None => match self.settings.refund_without_split {
                RefundWithoutSplit::PlatformBears => Vec::new(),
                RefundWithoutSplit::ProRata => pro_rata(&booked, amount),
            },
        };
        for (i, (seller, give, fee_back)) in entries.iter().enumerate() {
            if entries[..i].iter().any(|(s, _, _)| s == seller) {
                return Err(self.split_error(format!("Submerchant {seller:?} appears twice")));
            }
            let Some(share) = booked.shares.iter_mut().find(|s| &s.seller == seller) else {
                return Err(self.split_error(format!(
                    "Submerchant {seller:?} has no share in this payment"
                )));
            };
            if *give > share.amount_left || *fee_back > share.fee_left {
                return Err(self.split_error(format!(
                    "Submerchant {seller:?} holds {} (fee {}) of this payment",
                    share.amount_left, share.fee_left
                )));
            }
            share.amount_left -= give;
            share.fee_left -= fee_back;
            let net = give - fee_back;
            if self.settings.seller_refund_needs_balance && self.balance(seller) < net {
                return Err(self.short_error(format!(
                    "The balance of {seller:?} does not cover its refund share ({net})"
                )));
            }
            postings.push(
                Posting::new(seller, TxKind::Refund, Some(payment_id))
                    .line(LineKind::PaymentShareRefund, -give)
                    .line(LineKind::PlatformFeeRefund, *fee_back),
            );
            returned_fees += fee_back;
            from_sellers += give;
        }
        let platform_part = total - from_sellers;
        postings.push(
            Posting::new(&self.settings.platform_id, TxKind::Refund, Some(payment_id))
                .line(LineKind::Refund, -platform_part)
                .line(LineKind::PlatformFeeRefund, -returned_fees),
        );
        Ok((self.plan(postings, 0, 0)?, booked))
    }
}

/// "Reverse" without a split: each seller gives back its share of `amount`
/// in proportion to what it holds of what is left of the payment, with the
/// fee on it; rounded down per seller (the platform takes the rest).
fn pro_rata(booked: &Booked, amount: i64) -> Vec<(String, i64, i64)> {
    let left = i128::from(booked.remaining) + i128::from(amount);
    if left <= 0 {
        return Vec::new();
    }
    booked
        .shares
        .iter()
        .filter(|s| s.amount_left > 0)
        .map(|s| {
            let give = (i128::from(amount) * i128::from(s.amount_left) / left)
                .min(i128::from(s.amount_left));
            let fee = if s.amount_left == 0 {
                0
            } else {
                i128::from(s.fee_left) * give / i128::from(s.amount_left)
            };
            (
                s.seller.clone(),
                i64::try_from(give).unwrap_or(0),
                i64::try_from(fee).unwrap_or(0),
            )
        })
        .collect()
}
