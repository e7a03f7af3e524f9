//! The simulated KOMOJU back office: payments and their status machine, the
//! idempotency store, faults and counters. No I/O and no clock of its own:
//! every operation takes `now`, so every rule can be tested without HTTP; the
//! HTTP layer and the webhook sender act on the [`Effect`]s left behind.
//!
//! The status machine follows the payment's type (contract "Payment methods
//! and statuses"): a card waits `pending` until the customer finishes the
//! checkout (`authorize`), then `authorized` for the merchant's capture
//! (`capture:false`) or `captured`; konbini, bank transfer and Pay-easy are
//! created `authorized` with a `payment_deadline` ("waiting for the customer
//! to pay") and end `captured` when the customer pays or `expired` at the
//! deadline; only the [`Behaviour`]'s capture types can be captured, and a
//! type paid in cash is refunded only by a refund request (`refunds`).
//! The customer's side and KOMOJU's own moves are the hooks in `hooks`.
//!
//! Where KOMOJU documents nothing, the simulator assumes (and the adapter
//! must tolerate otherwise):
//! - capture `amount` is before tax (as in KOMOJU's SDKs), at most the
//!   authorized `amount`; `tax` defaults to the payment's;
//! - refund `amount` is tax included, at most `total - amount_refunded`;
//!   a refund request's at most that without the customer's fee, less what
//!   pending requests ask;
//! - `GET /payments`: newest first, `per_page` 10 by default, clamped to
//!   1..=100; an unknown status in the filter matches nothing;
//! - automatic capture: `authorize` goes straight to `captured` and only
//!   `payment.captured` is sent; creating a card payment sends no webhook,
//!   a konbini/bank/Pay-easy one sends `payment.authorized` (slip issued).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng as _;
use serde_json::Value;

use super::faults::{Endpoint, Fault, Faults};
use super::idempotency::{Begin, IdempotencyStore, StoredAnswer};
use super::model::{Capture, CaptureMode, ExpiryDays, Flow, Payment, PaymentStatus, PaymentType};
use super::platform::wire::Paging;
use super::platform::{Platform, PlatformSettings};
use super::settings::{Behaviour, View};
use super::stats::SimStats;
use super::wire::{self, ApiError, CaptureBody, EventType, KomojuEvent, KomojuPayment};

mod hooks;
mod refunds;

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
    pub(crate) behaviour: Behaviour,
    /// What refunds may still take out of the merchant's unsettled balance;
    /// `None` is no limit \[h-refund\].
    unsettled_balance: Option<i64>,
    next_seq: u64,
    faults: Faults,
    pub(crate) stats: SimStats,
    effects: Vec<Effect>,
    /// The Platform Model: sellers, splits, balances, payouts.
    pub(crate) platform: Platform,
}

impl SimState {
    pub(crate) fn new(
        idempotency_ttl: Duration,
        expiry: ExpiryDays,
        behaviour: Behaviour,
        platform: PlatformSettings,
    ) -> Self {
        SimState {
            payments: HashMap::new(),
            idempotency: IdempotencyStore::new(idempotency_ttl),
            expiry,
            behaviour,
            unsettled_balance: None,
            next_seq: 0,
            faults: Faults::default(),
            stats: SimStats::default(),
            effects: Vec::new(),
            platform: Platform::new(platform),
        }
    }

    /// The effects left by the operations since the last call.
    pub(crate) fn take_effects(&mut self) -> Vec<Effect> {
        let mut effects = std::mem::take(&mut self.effects);
        effects.extend(self.platform.take_effects());
        effects
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

    /// A payment appears (the customer reached the checkout): `pending`, or
    /// for the types paid in cash `authorized` with its deadline and a
    /// `payment.authorized` (the slip or account is issued).
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
        let waits_for_cash = payment_type.flow() == Flow::CustomerPays;
        let payment = Payment {
            id: id.clone(),
            status: if waits_for_cash {
                PaymentStatus::Authorized
            } else {
                PaymentStatus::Pending
            },
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
            captures: Vec::new(),
            refund_requests: Vec::new(),
            platform_details: None,
            created_at: now,
        };
        self.next_seq += 1;
        self.payments.insert(
            id.clone(),
            SimPayment {
                payment: payment.clone(),
                seq: self.next_seq,
            },
        );
        if waits_for_cash {
            self.emit(&id, EventType::Authorized, now);
        }
        payment
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
        self.list_where(query, |_| true)
    }

    /// `GET /payments` among the payments `keep` takes.
    pub(crate) fn list_where(
        &self,
        query: &HashMap<String, String>,
        keep: impl Fn(&Payment) -> bool,
    ) -> Result<ListPage, ApiError> {
        let Paging { page, per_page } = Paging::read(query)?;
        let order = query.get("external_order_num").filter(|s| !s.is_empty());
        let statuses: Option<Vec<&str>> = query
            .get("status")
            .filter(|s| !s.is_empty())
            .map(|s| s.split(',').map(str::trim).collect());
        let mut hits: Vec<&SimPayment> = self
            .payments
            .values()
            .filter(|p| keep(&p.payment))
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

    /// `POST /payments/{id}/capture`: only from `authorized`, only for the
    /// capture types (cards). A partial capture is, as `view` shows it, a
    /// `captures[]` entry, or (before 2025-01-28) a capture of everything
    /// plus a refund of the difference \[chg-2025\].
    pub(crate) fn capture(
        &mut self,
        id: &str,
        body: &[u8],
        view: View,
        now: DateTime<Utc>,
    ) -> Result<Payment, ApiError> {
        let request: CaptureBody = wire::read_body(body)?;
        let capture_id = self.fresh_id();
        let refund_id = self.fresh_id();
        let types = self.behaviour.capture_types.clone();
        let p = self.payment_mut(id)?;
        if !types.contains(&p.payment_type) {
            return Err(ApiError::wrong_type("captured", &p.payment_type));
        }
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
        let tax = match request.tax {
            None => p.tax,
            Some(t) if (0..=p.tax).contains(&t) => t,
            Some(t) => {
                return Err(ApiError::invalid(
                    "tax",
                    format!("tax {t} must be between 0 and the authorized {}", p.tax),
                ));
            }
        };
        let taken = Capture {
            id: capture_id,
            amount,
            tax,
            created_at: now,
        };
        let (split, booking) = self.plan_merchant_capture(id, body, &taken)?;
        let p = self.payment_mut(id)?;
        p.platform_details = split.or(p.platform_details.take());
        let left_over = p
            .total
            .saturating_sub(p.payment_method_fee)
            .saturating_sub(taken.total());
        p.status = PaymentStatus::Captured;
        p.captured_at = Some(now);
        let refunded = !view.captures && left_over > 0;
        if view.captures {
            p.captures.push(taken);
        } else if refunded {
            p.refunds.push(super::model::Refund {
                id: refund_id,
                amount: left_over,
                description: None,
                created_at: now,
                chargeback: false,
                platform_details: None,
            });
            p.amount_refunded = p.amount_refunded.saturating_add(left_over);
        }
        self.platform.book(id, booking, now);
        self.stats.payment_mut(id).captures += 1;
        self.emit(id, EventType::Captured, now);
        if refunded {
            self.emit(id, EventType::RefundCreated, now);
        }
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

    /// The payment to change, if any.
    pub(crate) fn payment_slot(&mut self, id: &str) -> Option<&mut Payment> {
        self.payments.get_mut(id).map(|p| &mut p.payment)
    }

    fn payment_mut(&mut self, id: &str) -> Result<&mut Payment, ApiError> {
        self.payments
            .get_mut(id)
            .map(|p| &mut p.payment)
            .ok_or_else(|| payment_not_found(id))
    }

    /// Queues a webhook carrying the payment as it is now (as the key's
    /// version shows it); returns it.
    fn emit(&mut self, id: &str, kind: EventType, now: DateTime<Utc>) -> Option<Payment> {
        let payment = self.payment(id)?.clone();
        let view = self.behaviour.webhook_view();
        let data = serde_json::to_value(KomojuPayment::from_payment(&payment, view))
            .unwrap_or(Value::Null);
        let event = render_event(kind, Some(id.to_string()), data, now);
        self.effects.push(Effect::Webhook(event));
        Some(payment)
    }

    /// A new id that no payment or refund has.
    fn fresh_id(&self) -> String {
        loop {
            let id = random_id(25);
            let taken = self.payments.contains_key(&id)
                || self.payments.values().any(|p| {
                    let p = &p.payment;
                    p.refunds.iter().any(|r| r.id == id)
                        || p.captures.iter().any(|c| c.id == id)
                        || p.refund_requests.iter().any(|r| r.id == id)
                });
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

/// `len` lowercase hexadecimal digits.
pub(crate) fn random_hex(len: usize) -> String {
    const CHARS: &[u8] = b"0123456789abcdef";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))
        .collect()
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
