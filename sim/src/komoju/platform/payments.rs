//! Where the split meets the payments: the create of a split payment (the
//! checkout's call), the capture that books it (the merchant's capture of a
//! card, an automatic capture, the customer paying cash), refunds and refund
//! requests that give it back, and a seller's payments.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::ledger::Plan;
use super::wire as pw;
use super::{Booked, PlatformDetails, SplitBase};
use crate::komoju::model::{Capture, CaptureMode, Flow, Payment, PaymentType};
use crate::komoju::state::{ListPage, SimState};
use crate::komoju::wire::{self, ApiError};

/// A capture's checked booking and the split it applies.
pub(crate) type CaptureBooking = (Option<PlatformDetails>, (Plan, Booked));

impl SimState {
    /// The checkout creates a payment with `platform_details` (JSON, as the
    /// create call's field): checked against the payment's own amounts
    /// when the split is applied without a capture call (`capture:true`,
    /// konbini, bank transfer, Pay-easy); on a `capture:false` card it is
    /// refused unless the account takes it there.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn create_split_payment(
        &mut self,
        amount: i64,
        tax: i64,
        payment_method_fee: i64,
        external_order_num: Option<&str>,
        payment_type: PaymentType,
        capture: CaptureMode,
        details: &Value,
        now: DateTime<Utc>,
    ) -> Result<Payment, ApiError> {
        let settings = &self.platform.settings;
        let split = pw::read_details(
            Some(details),
            settings.string_amounts,
            settings.codes.invalid_split,
        )?;
        let manual = capture == CaptureMode::Manual && payment_type.flow() != Flow::CustomerPays;
        if manual && split.is_some() && !settings.manual_split_on_create {
            return Err(self.platform.split_error(
                "With capture:false the split is given on the capture, not the create",
            ));
        }
        if let Some(d) = &split {
            let before_tax = Capture {
                id: String::new(),
                amount,
                tax,
                created_at: now,
            };
            let base = self.split_base(&before_tax, payment_method_fee)?;
            self.platform.check_split(d, base)?;
        }
        let mut payment = self.create_payment(
            amount,
            tax,
            payment_method_fee,
            external_order_num,
            payment_type,
            capture,
            now,
        );
        if let Some(p) = self.payment_slot(&payment.id) {
            p.platform_details = split.clone();
        }
        payment.platform_details = split;
        Ok(payment)
    }

    /// What a split of a capture of `taken` (plus a method fee) adds up to.
    fn split_base(&self, taken: &Capture, method_fee: i64) -> Result<i64, ApiError> {
        let base = match self.platform.settings.split_base {
            SplitBase::TotalWithoutMethodFee => taken.amount.checked_add(taken.tax),
            SplitBase::Amount => Some(taken.amount),
            SplitBase::TotalWithMethodFee => taken
                .amount
                .checked_add(taken.tax)
                .and_then(|t| t.checked_add(method_fee)),
        };
        base.ok_or_else(|| self.platform.split_error("The amounts are too large"))
    }

    /// Checks and plans the booking of the merchant's capture of `taken`:
    /// the capture's `platform_details`, or (when the account takes it
    /// there) the create's.
    pub(crate) fn plan_merchant_capture(
        &self,
        id: &str,
        body: &[u8],
        taken: &Capture,
    ) -> Result<CaptureBooking, ApiError> {
        let fields: Map<String, Value> = wire::read_body(body)?;
        let settings = &self.platform.settings;
        let given = pw::read_details(
            fields.get("platform_details"),
            settings.string_amounts,
            settings.codes.invalid_split,
        )?;
        let p = self.get(id)?;
        let split = given.or_else(|| {
            (settings.manual_split_on_create)
                .then(|| p.platform_details.clone())
                .flatten()
        });
        if let Some(d) = &split {
            self.platform.check_split(d, self.split_base(taken, 0)?)?;
        }
        let plan = self
            .platform
            .plan_capture(id, taken.total(), split.as_ref())?;
        Ok((split, plan))
    }

    /// Books a capture of `gross` yen applying the payment's own split (an
    /// automatic capture, the customer's cash) or none (`with_split`
    /// false: a transfer of the wrong amount, which the split cannot
    /// describe \[guess\]).
    pub(crate) fn book_captured(
        &mut self,
        id: &str,
        gross: i64,
        with_split: bool,
        now: DateTime<Utc>,
    ) {
        let split = (self.payment(id))
            .and_then(|p| p.platform_details.clone())
            .filter(|_| with_split);
        match self.platform.plan_capture(id, gross, split.as_ref()) {
            Ok(plan) => self.platform.book(id, plan, now),
            Err(e) => {
                tracing::warn!(payment = id, error = %e.message, "komoju sim: capture not booked")
            }
        }
    }

    /// Reads and checks the `platform_details` of a refund (or refund
    /// request) of `amount` (+ `platform_extra` the platform returns alone).
    pub(crate) fn plan_refund_split(
        &self,
        id: &str,
        fields: &Map<String, Value>,
        amount: i64,
        platform_extra: i64,
    ) -> Result<(Option<PlatformDetails>, (Plan, Booked)), ApiError> {
        let settings = &self.platform.settings;
        let split = pw::read_details(
            fields.get("platform_details"),
            settings.string_amounts,
            settings.codes.invalid_split,
        )?;
        let plan = self
            .platform
            .plan_refund(id, amount, split.as_ref(), platform_extra)?;
        Ok((split, plan))
    }

    /// `GET /merchants/{id}/payments`: the payments whose split names the
    /// seller, with the payment list's filters (`status` one value).
    pub(crate) fn seller_payments(
        &self,
        seller: &str,
        query: &HashMap<String, String>,
    ) -> Result<ListPage, ApiError> {
        self.platform.known(seller)?;
        if query.get("status").is_some_and(|s| s.contains(',')) {
            return Err(ApiError::invalid("status", "status takes one value here"));
        }
        self.list_where(query, |p| {
            (p.platform_details.as_ref())
                .is_some_and(|d| d.submerchants.iter().any(|e| e.submerchant_id == seller))
        })
    }
}
