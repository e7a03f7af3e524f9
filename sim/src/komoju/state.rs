//! The simulated KOMOJU back office: payments and their status machine, the
//! idempotency store, faults and counters. No I/O and no clock of its own:
//! every operation takes `now`, so every rule can be tested without HTTP; the
//! HTTP layer and the webhook sender act on the [`Effect`]s left behind.
//!
//! The status machine is the same for every payment type today (the type is
//! data on the payment, see [`PaymentType`]); the contract's per-type rules
//! (konbini/bank/Pay-easy `authorized` while waiting for the customer, capture
//! for cards only, `/refund_request`) are not applied yet.
//!
//! Where KOMOJU documents nothing, the simulator assumes (and the adapter
//! must tolerate otherwise):
//! - capture `amount` is before tax (as in KOMOJU's SDKs), at most the
//!   authorized `amount`; the captured payment's `amount` and `total` shrink;
//! - refund `amount` is tax included, at most `total - amount_refunded`;
//! - `GET /payments`: newest first, `per_page` 10 by default, clamped to
//!   1..=100; an unknown status in the filter matches nothing;
//! - automatic capture: `authorize` goes straight to `captured` and only
//!   `payment.captured` is sent; creating a payment sends no webhook.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng as _;
use serde_json::Value;

use super::faults::{Endpoint, Fault, Faults};
use super::idempotency::{Begin, IdempotencyStore, StoredAnswer};
use super::model::{CaptureMode, ExpiryDays, Payment, PaymentStatus, PaymentType, Refund};
use super::stats::SimStats;
use super::wire::{self, ApiError, CaptureBody, EventType, KomojuEvent, KomojuPayment, RefundBody};

/// Largest `per_page` honoured by `GET /payments` (assumed).
pub const MAX_PER_PAGE: u32 = 100;
/// `per_page` when none is asked (assumed).
pub const DEFAULT_PER_PAGE: u32 = 10;

/// Something the shell must do after a state change, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Push this event.
    Webhook(PendingEvent),
}

/// A webhook event, its body already rendered (every attempt sends these bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PendingEvent {
    pub event_id: String,
    pub event_type: String,
    pub payment_id: Option<String>,
    pub body: Arc<[u8]>,
}

/// A payment plus what only the simulator needs.
#[derive(Debug, Clone)]
struct SimPayment {
    payment: Payment,
    /// Creation order, to sort lists newest first among equal timestamps.
    seq: u64,
}

/// One `GET /payments` page, before it becomes JSON.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ListPage {
    pub data: Vec<Payment>,
    pub total: usize,
    pub page: u32,
    pub per_page: u32,
    pub last_page: u32,
}

/// Everything the simulator knows; one lock guards it.
#[derive(Debug)]
pub struct SimState {
    payments: HashMap<String, SimPayment>,
    idempotency: IdempotencyStore,
    expiry: ExpiryDays,
    next_seq: u64,
    faults: Faults,
    pub(crate) stats: SimStats,
    effects: Vec<Effect>,
}

impl SimState {
    pub(crate) fn new(idempotency_ttl: Duration, expiry: ExpiryDays) -> Self {
        SimState {
            payments: HashMap::new(),
            idempotency: IdempotencyStore::new(idempotency_ttl),
            expiry,
            next_seq: 0,
            faults: Faults::default(),
            stats: SimStats::default(),
            effects: Vec::new(),
        }
    }

    /// The effects left by the operations since the last call.
    pub(crate) fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    pub(crate) fn payment(&self, id: &str) -> Option<&Payment> {
        self.payments.get(id).map(|p| &p.payment)
    }

    pub(crate) fn payments(&self) -> impl Iterator<Item = &Payment> {
        self.payments.values().map(|p| &p.payment)
    }

    /// Idempotency keys whose first request is still running.
    pub(crate) fn in_flight(&self) -> usize {
        self.idempotency.in_flight()
    }

    // ---- the customer's and KOMOJU's side (test hooks) ----

    /// A payment appears in `pending` (the customer reached the checkout).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn create_payment(
        &mut self,
        amount: i64,
        tax: i64,
        payment_method_fee: i64,
        external_order_num: Option<&str>,
        payment_type: PaymentType,
        capture: CaptureMode,
        now: DateTime<Utc>,
    ) -> Payment {
        let id = self.fresh_id();
        let payment = Payment {
            id: id.clone(),
            status: PaymentStatus::Pending,
            amount,
            tax,
            payment_method_fee,
            total: amount
                .saturating_add(tax)
                .saturating_add(payment_method_fee),
            currency: "JPY".to_string(),
            external_order_num: external_order_num.map(str::to_string),
            payment_deadline: self.expiry.deadline(&payment_type, now),
            captured_at: None,
            amount_refunded: 0,
            payment_type,
            capture,
            refunds: Vec::new(),
            created_at: now,
        };
        self.next_seq += 1;
        self.payments.insert(
            id,
            SimPayment {
                payment: payment.clone(),
                seq: self.next_seq,
            },
        );
        payment
    }

    /// The customer's payment is authorized: `authorized` for manual capture,
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
                EventType::Captured
            }
        };
        self.emit(id, event, now)
    }

    /// The customer paid at the konbini (or by transfer): `pending` →
    /// `captured`. Also takes an `authorized` payment (captured from the dashboard).
    pub(crate) fn capture_by_customer(&mut self, id: &str, now: DateTime<Utc>) -> Option<Payment> {
        let p = &mut self.payments.get_mut(id)?.payment;
        if !matches!(p.status, PaymentStatus::Pending | PaymentStatus::Authorized) {
            return None;
        }
        p.status = PaymentStatus::Captured;
        p.captured_at = Some(now);
        self.emit(id, EventType::Captured, now)
    }

    /// The customer never paid, or the authorization lapsed: from `pending`
    /// or `authorized`.
    pub(crate) fn expire(&mut self, id: &str, now: DateTime<Utc>) -> Option<Payment> {
        use PaymentStatus as S;
        self.hook_move(id, &[S::Pending, S::Authorized], S::Expired, now)
    }

    /// The payment attempt failed: only from `pending`.
    pub(crate) fn fail(&mut self, id: &str, now: DateTime<Utc>) -> Option<Payment> {
        use PaymentStatus as S;
        self.hook_move(id, &[S::Pending], S::Failed, now)
    }

    /// Something other than the status changed: `payment.updated` with the payment as it is.
    pub(crate) fn touch(&mut self, id: &str, now: DateTime<Utc>) -> Option<Payment> {
        self.emit(id, EventType::Updated, now)
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
            _ => EventType::Expired,
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

    // ---- the merchant's calls ----

    /// `GET /payments/{id}`.
    pub(crate) fn get(&self, id: &str) -> Result<Payment, ApiError> {
        self.payment(id)
            .cloned()
            .ok_or_else(|| payment_not_found(id))
    }

    /// `GET /payments` with its query parameters.
    pub(crate) fn list(&self, query: &HashMap<String, String>) -> Result<ListPage, ApiError> {
        let number = |name: &'static str, default: u32| -> Result<u32, ApiError> {
            match query.get(name).map(|s| s.trim()).filter(|s| !s.is_empty()) {
                None => Ok(default),
                Some(s) => s
                    .parse::<u32>()
                    .map_err(|_| ApiError::invalid(name, format!("{name} must be a whole number"))),
            }
        };
        let page = number("page", 1)?.max(1);
        let per_page = number("per_page", DEFAULT_PER_PAGE)?.clamp(1, MAX_PER_PAGE);
        let order = query.get("external_order_num").filter(|s| !s.is_empty());
        let statuses: Option<Vec<&str>> = query
            .get("status")
            .filter(|s| !s.is_empty())
            .map(|s| s.split(',').map(str::trim).collect());
        let mut hits: Vec<&SimPayment> = self
            .payments
            .values()
            .filter(|p| order.is_none_or(|o| p.payment.external_order_num.as_ref() == Some(o)))
            .filter(|p| {
                statuses
                    .as_ref()
                    .is_none_or(|list| list.contains(&p.payment.status.as_str()))
            })
            .collect();
        hits.sort_by_key(|p| std::cmp::Reverse((p.payment.created_at, p.seq)));
        let total = hits.len();
        let per = per_page as usize;
        let last_page = total.div_ceil(per).max(1) as u32;
        let data = hits
            .into_iter()
            .skip((page as usize - 1).saturating_mul(per))
            .take(per)
            .map(|p| p.payment.clone())
            .collect();
        Ok(ListPage {
            data,
            total,
            page,
            per_page,
            last_page,
        })
    }

    /// `POST /payments/{id}/capture`: only from `authorized`.
    pub(crate) fn capture(
        &mut self,
        id: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Payment, ApiError> {
        let request: CaptureBody = wire::read_body(body)?;
        let p = self.payment_mut(id)?;
        if p.status != PaymentStatus::Authorized {
            return Err(ApiError::wrong_status("captured", p.status));
        }
        let amount = match request.amount {
            None => p.amount,
            Some(a) if (0..=p.amount).contains(&a) => a,
            Some(a) => {
                return Err(ApiError::invalid(
                    "amount",
                    format!(
                        "amount {a} must be between 0 and the authorized {}",
                        p.amount
                    ),
                ));
            }
        };
        p.amount = amount;
        p.total = amount
            .saturating_add(p.tax)
            .saturating_add(p.payment_method_fee);
        p.status = PaymentStatus::Captured;
        p.captured_at = Some(now);
        self.stats.payment_mut(id).captures += 1;
        self.emit(id, EventType::Captured, now);
        self.get(id)
    }

    /// `POST /payments/{id}/cancel`: only from `pending` or `authorized`.
    pub(crate) fn cancel(
        &mut self,
        id: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Payment, ApiError> {
        let _: Value = wire::read_body(body)?;
        let p = self.payment_mut(id)?;
        if !matches!(p.status, PaymentStatus::Pending | PaymentStatus::Authorized) {
            return Err(ApiError::wrong_status("cancelled", p.status));
        }
        p.status = PaymentStatus::Cancelled;
        self.stats.payment_mut(id).cancels += 1;
        self.emit(id, EventType::Cancelled, now);
        self.get(id)
    }

    /// `POST /payments/{id}/refund`: only from `captured`, at most what is left;
    /// `payment.refund.created`, plus `payment.refunded` when nothing is left.
    pub(crate) fn refund(
        &mut self,
        id: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Payment, ApiError> {
        let request: RefundBody = wire::read_body(body)?;
        let refund_id = self.fresh_id();
        let p = self.payment_mut(id)?;
        if p.status != PaymentStatus::Captured {
            return Err(ApiError::wrong_status("refunded", p.status));
        }
        let left = p.refundable();
        let amount = match request.amount {
            None => left,
            Some(a) if a >= 1 && a <= left => a,
            Some(a) => {
                return Err(ApiError::invalid(
                    "amount",
                    format!("amount {a} must be between 1 and the refundable {left}"),
                ));
            }
        };
        p.refunds.push(Refund {
            id: refund_id,
            amount,
            description: request.description,
            created_at: now,
            chargeback: false,
        });
        p.amount_refunded = p.amount_refunded.saturating_add(amount);
        let full = p.amount_refunded >= p.total;
        if full {
            p.status = PaymentStatus::Refunded;
        }
        self.stats.payment_mut(id).refunds += 1;
        self.emit(id, EventType::RefundCreated, now);
        if full {
            self.emit(id, EventType::Refunded, now);
        }
        self.get(id)
    }

    // ---- idempotency ----

    /// Looks `key` up in the idempotency store (see [`IdempotencyStore::begin`]).
    pub(crate) fn idem_begin(&mut self, key: &str, fingerprint: &str, now: DateTime<Utc>) -> Begin {
        self.idempotency
            .begin(key, fingerprint, now, &mut self.stats.idempotency)
    }

    /// Stores the finished answer of the request holding `ticket`.
    pub(crate) fn idem_finish(&mut self, key: &str, ticket: u64, answer: StoredAnswer) {
        self.idempotency.finish(key, ticket, answer);
    }

    /// Frees `key` when its request ended without an answer.
    pub(crate) fn idem_abandon(&mut self, key: &str, ticket: u64) {
        self.idempotency.abandon(key, ticket);
    }

    // ---- faults ----

    pub(crate) fn inject(&mut self, endpoint: Endpoint, fault: Fault, times: u32) {
        self.faults.inject(endpoint, fault, times);
    }

    pub(crate) fn clear_faults(&mut self) {
        self.faults.clear();
    }

    /// The first due fault for `endpoint` (or for any endpoint), used up once.
    pub(crate) fn take_fault(&mut self, endpoint: Endpoint) -> Option<Fault> {
        self.faults.take(endpoint)
    }

    // ---- helpers ----

    fn payment_mut(&mut self, id: &str) -> Result<&mut Payment, ApiError> {
        self.payments
            .get_mut(id)
            .map(|p| &mut p.payment)
            .ok_or_else(|| payment_not_found(id))
    }

    /// Queues a webhook carrying the payment as it is now; returns it.
    fn emit(&mut self, id: &str, kind: EventType, now: DateTime<Utc>) -> Option<Payment> {
        let payment = self.payment(id)?.clone();
        let data =
            serde_json::to_value(KomojuPayment::from_payment(&payment)).unwrap_or(Value::Null);
        let event = render_event(kind, Some(id.to_string()), data, now);
        self.effects.push(Effect::Webhook(event));
        Some(payment)
    }

    /// A new id that no payment or refund has.
    fn fresh_id(&self) -> String {
        loop {
            let id = random_id(25);
            let taken = self.payments.contains_key(&id)
                || self
                    .payments
                    .values()
                    .any(|p| p.payment.refunds.iter().any(|r| r.id == id));
            if !taken {
                return id;
            }
        }
    }
}

fn payment_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("The requested payment {id:?} could not be found"))
}

/// Builds an event body as KOMOJU sends it.
fn render_event(
    kind: EventType,
    payment_id: Option<String>,
    data: Value,
    now: DateTime<Utc>,
) -> PendingEvent {
    let event_id = random_id(25);
    let event = KomojuEvent {
        id: event_id.clone(),
        kind: kind.as_str().to_string(),
        resource: "event",
        data,
        created_at: wire::format_time(now),
        reason: None,
    };
    PendingEvent {
        event_id,
        event_type: kind.as_str().to_string(),
        payment_id,
        body: serde_json::to_vec(&event).unwrap_or_default().into(),
    }
}

/// `len` lowercase letters and digits, like KOMOJU's ids.
pub(crate) fn random_id(len: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))
        .collect()
}

#[cfg(test)]
mod tests;
