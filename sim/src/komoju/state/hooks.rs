//! The customer's side and KOMOJU's own moves (test hooks): finishing a
//! checkout, paying at the konbini or the bank, a declined attempt and its
//! retry, a transfer of the wrong amount, a deadline passing, a capture in
//! the dashboard.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Effect, SimState, render_event};
use crate::komoju::model::{Capture, CaptureMode, Flow, Payment, PaymentStatus};
use crate::komoju::settings::MisPaidTransfer;
use crate::komoju::wire::{ApiError, EventType};

impl SimState {
    /// The customer finished the checkout: `authorized` for manual capture,
    /// straight to `captured` for automatic capture. Only from `pending`.
    pub(crate) fn authorize(&mut self, id: &str, now: DateTime<Utc>) -> Option<Payment> {
        let p = &mut self.payments.get_mut(id)?.payment;
        if p.status != PaymentStatus::Pending {
            return None;
        }
        let event = match p.capture {
            CaptureMode::Manual => {
                p.status = PaymentStatus::Authorized;
                EventType::Authorized
            }
            CaptureMode::Auto => {
                p.status = PaymentStatus::Captured;
                p.captured_at = Some(now);
                let gross = p.total;
                self.book_captured(id, gross, true, now);
                EventType::Captured
            }
        };
        self.emit(id, event, now)
    }

    /// The customer paid the whole amount at the konbini, the bank or the
    /// ATM: `authorized` (or `pending`) → `captured`. Also a payment captured
    /// in full from the dashboard.
    pub(crate) fn capture_by_customer(&mut self, id: &str, now: DateTime<Utc>) -> Option<Payment> {
        let p = &mut self.payments.get_mut(id)?.payment;
        if !matches!(p.status, PaymentStatus::Pending | PaymentStatus::Authorized) {
            return None;
        }
        p.status = PaymentStatus::Captured;
        p.captured_at = Some(now);
        let gross = p.total;
        self.book_captured(id, gross, true, now);
        self.emit(id, EventType::Captured, now)
    }

    /// The customer transferred `paid` yen instead of the amount asked: as
    /// the [`MisPaidTransfer`] setting reads it, the payment stays
    /// `authorized` (a `payment.updated`), or is `captured` with a
    /// `captures[]` entry of what arrived. Only for an `authorized` type paid
    /// in cash.
    pub(crate) fn pay_wrong_amount(
        &mut self,
        id: &str,
        paid: i64,
        now: DateTime<Utc>,
    ) -> Option<Payment> {
        let capture_id = self.fresh_id();
        let reading = self.behaviour.mispaid_transfer;
        let p = &mut self.payments.get_mut(id)?.payment;
        if p.status != PaymentStatus::Authorized || p.payment_type.flow() != Flow::CustomerPays {
            return None;
        }
        match reading {
            MisPaidTransfer::StaysAuthorized => self.emit(id, EventType::Updated, now),
            MisPaidTransfer::PartialCapture => {
                p.status = PaymentStatus::Captured;
                p.captured_at = Some(now);
                p.captures.push(Capture {
                    id: capture_id,
                    amount: paid.max(0),
                    tax: 0,
                    created_at: now,
                });
                self.book_captured(id, paid.max(0), false, now);
                self.emit(id, EventType::Captured, now)
            }
        }
    }

    /// The merchant captures `amount` (before tax; `None`: all) in the
    /// dashboard: the API's capture as the key's version shows it.
    pub(crate) fn capture_in_dashboard(
        &mut self,
        id: &str,
        amount: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Payment, ApiError> {
        let body = match amount {
            Some(a) => serde_json::json!({ "amount": a }),
            None => serde_json::json!({}),
        };
        let view = self.behaviour.webhook_view();
        self.capture(id, body.to_string().as_bytes(), view, now)
    }

    /// The customer never paid, or the authorization lapsed: from `pending`
    /// or `authorized`.
    pub(crate) fn expire(&mut self, id: &str, now: DateTime<Utc>) -> Option<Payment> {
        use PaymentStatus as S;
        self.hook_move(id, &[S::Pending, S::Authorized], S::Expired, now)
    }

    /// Every unpaid payment whose `payment_deadline` is before `now` expires
    /// (the slip is no longer payable); answers how many.
    pub(crate) fn expire_due(&mut self, now: DateTime<Utc>) -> usize {
        let due: Vec<String> = (self.payments.values())
            .map(|p| &p.payment)
            .filter(|p| matches!(p.status, PaymentStatus::Pending | PaymentStatus::Authorized))
            .filter(|p| p.payment_deadline.is_some_and(|d| d < now))
            .map(|p| p.id.clone())
            .collect();
        due.iter()
            .filter(|id| self.expire(id, now).is_some())
            .count()
    }

    /// The payment attempt failed (a declined card): only from `pending`.
    /// The customer may try again ([`Self::retry`]).
    pub(crate) fn fail(&mut self, id: &str, now: DateTime<Utc>) -> Option<Payment> {
        use PaymentStatus as S;
        self.hook_move(id, &[S::Pending], S::Failed, now)
    }

    /// The customer tries again after a failure: `failed` → `pending`
    /// (a `payment.updated`), ready to be authorized or to fail again.
    pub(crate) fn retry(&mut self, id: &str, now: DateTime<Utc>) -> Option<Payment> {
        use PaymentStatus as S;
        self.hook_move(id, &[S::Failed], S::Pending, now)
    }

    /// Something other than the status changed: `payment.updated` with the payment as it is.
    pub(crate) fn touch(&mut self, id: &str, now: DateTime<Utc>) -> Option<Payment> {
        self.emit(id, EventType::Updated, now)
    }

    /// Refunds and refund requests above this are refused, accepted ones
    /// take from it; `None` lifts the limit.
    pub(crate) fn set_unsettled_balance(&mut self, balance: Option<i64>) {
        self.unsettled_balance = balance;
    }

    fn hook_move(
        &mut self,
        id: &str,
        from: &[PaymentStatus],
        to: PaymentStatus,
        now: DateTime<Utc>,
    ) -> Option<Payment> {
        let p = &mut self.payments.get_mut(id)?.payment;
        if !from.contains(&p.status) {
            return None;
        }
        p.status = to;
        let event = match to {
            PaymentStatus::Failed => EventType::Failed,
            PaymentStatus::Expired => EventType::Expired,
            _ => EventType::Updated,
        };
        self.emit(id, event, now)
    }

    /// A `ping` event, as when the webhook is set up; returns its event id.
    pub(crate) fn ping(&mut self, now: DateTime<Utc>) -> String {
        let event = render_event(
            EventType::Ping,
            None,
            Value::Object(Default::default()),
            now,
        );
        let id = event.event_id.clone();
        self.effects.push(Effect::Webhook(event));
        id
    }
}
