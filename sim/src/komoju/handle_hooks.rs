//! The simulator handle's hooks for the money KOMOJU handles by hand or the
//! customer gets wrong: a transfer of the wrong amount, a capture in the
//! dashboard, the unsettled balance, refund requests completed or rejected.

use super::{KomojuSimHandle, MisPaidTransfer, Payment, RefundRequest};

impl KomojuSimHandle {
    /// The customer transferred `paid` yen instead of the amount asked: as
    /// [`KomojuSimHandle::set_mispaid_transfer`] sets the reading. `false` unless the payment
    /// is an `authorized` konbini, bank transfer or Pay-easy one.
    pub fn pay_wrong_amount(&self, id: &str, paid: i64) -> bool {
        self.shared
            .with_state(|s, now| s.pay_wrong_amount(id, paid, now))
            .is_some()
    }

    /// The merchant captures `amount` (before tax; `None`: all) in the
    /// dashboard, as the key's API version shows a capture. The error is
    /// the API's (e.g. 422 for a konbini payment).
    pub fn capture_in_dashboard(&self, id: &str, amount: Option<i64>) -> Result<Payment, String> {
        self.shared
            .with_state(|s, now| s.capture_in_dashboard(id, amount, now))
            .map_err(|e| e.message)
    }

    /// Chooses how a transfer of the wrong amount is read from now on.
    pub fn set_mispaid_transfer(&self, reading: MisPaidTransfer) {
        self.shared
            .with_state(|s, _| s.behaviour.mispaid_transfer = reading);
    }

    /// Refunds and refund requests above `balance` are refused (422
    /// `insufficient_balance`), accepted ones take from it; `None`: no limit.
    pub fn set_unsettled_balance(&self, balance: Option<i64>) {
        self.shared
            .with_state(|s, _| s.set_unsettled_balance(balance));
    }

    /// KOMOJU transferred the money of the payment's oldest pending refund
    /// request: `completed`, sends `refund_request.updated`,
    /// `payment.refund.created` (and `payment.refunded` when nothing is left).
    pub fn complete_refund_request(&self, payment_id: &str) -> Option<RefundRequest> {
        self.shared
            .with_state(|s, now| s.complete_refund_request(payment_id, now))
    }

    /// KOMOJU refused the payment's oldest pending refund request (wrong bank
    /// data): `rejected`, sends `refund_request.updated`.
    pub fn reject_refund_request(&self, payment_id: &str) -> Option<RefundRequest> {
        self.shared
            .with_state(|s, now| s.reject_refund_request(payment_id, now))
    }
}
