//! The simulated KOMOJU back office: payments and their status machine, the
//! idempotency store, faults and counters. No I/O and no clock of its own:
//! every operation takes `now`, so every rule can be tested without HTTP; the
//! HTTP layer and the webhook sender act on the [`Effect`]s left behind.
//!
//! Where KOMOJU documents nothing, the simulator assumes (and the adapter
//! must tolerate otherwise):
//! - a finished request's answer is stored under its idempotency key whatever
//!   it was (200, 404, 422), and replayed even when the same key comes back on
//!   another path or with another body (counted as a mismatch); injected
//!   429/5xx and 401s happen before the store, so the key stays free;
//! - error codes: `not_found`, `unauthorized`, `bad_request` (body not JSON),
//!   `unprocessable_entity` (wrong status for the move), `invalid_parameter`
//!   (an amount out of range, a bad idempotency key), `conflict` (409, key in
//!   flight), `too_many_requests` (429);
//! - capture `amount` is before tax (as in KOMOJU's SDKs), at most the
//!   authorized `amount`; the captured payment's `amount` and `total` shrink;
//! - refund `amount` is tax included, at most `total - amount_refunded`;
//! - `GET /payments`: newest first, `per_page` 10 by default, clamped to
//!   1..=100; an unknown status in the filter matches nothing;
//! - automatic capture: `authorize` goes straight to `captured` and only
//!   `payment.captured` is sent; creating a payment sends no webhook.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rand::Rng as _;
use serde::Deserialize;
use serde_json::Value;

use crate::channels::komoju::wire::{self, KomojuEvent};
use crate::channels::komoju::{Payment, PaymentStatus, Refund, WebhookEvent};

/// Largest `per_page` honoured by `GET /payments` (assumed).
pub const MAX_PER_PAGE: u32 = 100;
/// `per_page` when none is asked (assumed).
pub const DEFAULT_PER_PAGE: u32 = 10;
/// Longest idempotency key accepted (contract).
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 100;

/// How a payment is captured, as chosen when it was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureMode {
    /// Captured as soon as it is authorized (one step).
    Auto,
    /// Stays `authorized` until the merchant calls capture (two steps).
    Manual,
}

/// Which simulated endpoint a fault applies to and a counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    /// `GET /payments/{id}`.
    GetPayment,
    /// `GET /payments`.
    ListPayments,
    /// `POST /payments/{id}/capture`.
    Capture,
    /// `POST /payments/{id}/cancel`.
    Cancel,
    /// `POST /payments/{id}/refund`.
    Refund,
    /// Whichever of the above is called next (faults only).
    Any,
}

/// A misbehaviour KOMOJU shows in real life, injected into the next calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer this HTTP status with an error envelope, without processing
    /// (e.g. 500, 502, 503, 504). The idempotency key stays unused.
    Status(u16),
    /// 429 with `Retry-After` in seconds, without processing.
    TooManyRequests {
        /// The `Retry-After` value.
        retry_after_secs: u64,
    },
    /// Process the request (the change is applied and stored under its
    /// idempotency key), then hold the answer this long: the caller times out
    /// and never learns the outcome.
    LoseAnswer(Duration),
    /// Hold the request before processing, its idempotency key in flight,
    /// until [`super::KomojuSimHandle::release_held`]: a retry meanwhile gets 409.
    Hold,
    /// A fault of the network path (reset, slow body, cut-short body, a
    /// proxy's page): see [`crate::sim::transport::TransportFault`].
    Transport(crate::sim::transport::TransportFault),
}

/// Counters and recordings of everything the simulator saw, for assertions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SimStats {
    /// Calls per endpoint, refused and faulted ones included.
    pub calls: BTreeMap<Endpoint, usize>,
    /// Calls refused for missing or wrong Basic credentials.
    pub unauthorized: usize,
    /// `X-KOMOJU-API-VERSION` values seen, with how often.
    pub api_versions: BTreeMap<String, usize>,
    /// Calls that carried no `X-KOMOJU-API-VERSION`.
    pub missing_api_version: usize,
    /// Idempotency-store counters.
    pub idempotency: IdempotencyStats,
    /// Changes applied through the API, per payment id.
    pub payments: BTreeMap<String, PaymentCounts>,
    /// Webhook counters over all payments.
    pub webhooks: WebhookStats,
    /// One record per webhook push (a resend is a new record), in push order.
    pub deliveries: Vec<DeliveryRecord>,
}

impl SimStats {
    /// Calls to `endpoint` so far.
    pub fn calls(&self, endpoint: Endpoint) -> usize {
        self.calls.get(&endpoint).copied().unwrap_or(0)
    }

    /// Changes applied to one payment through the API.
    pub fn payment(&self, id: &str) -> PaymentCounts {
        self.payments.get(id).copied().unwrap_or_default()
    }

    /// Event types of the acknowledged pushes for one payment, in push order.
    pub fn acked_events(&self, payment_id: &str) -> Vec<String> {
        self.deliveries
            .iter()
            .filter(|d| {
                d.payment_id.as_deref() == Some(payment_id) && d.outcome == DeliveryOutcome::Acked
            })
            .map(|d| d.event_type.clone())
            .collect()
    }
}

/// What the idempotency store did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IdempotencyStats {
    /// Finished requests answered again from the store.
    pub replays: usize,
    /// 409s: the key's first request was still running.
    pub conflicts: usize,
    /// Replays where the method, path or body differed from the first request.
    pub mismatches: usize,
    /// POSTs without `X-KOMOJU-IDEMPOTENCY` (processed anyway, as KOMOJU does).
    pub missing_keys: usize,
    /// POSTs refused for a key longer than 100 characters or not ASCII.
    pub invalid_keys: usize,
    /// Keys dropped after their time to live.
    pub expired: usize,
}

/// Changes the merchant's calls applied to one payment (replays not counted),
/// so a test can prove "captured exactly once".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PaymentCounts {
    /// Successful `capture` calls.
    pub captures: usize,
    /// Successful `cancel` calls.
    pub cancels: usize,
    /// Successful `refund` calls (each adds one refund).
    pub refunds: usize,
}

/// One webhook push and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// `X-Komoju-ID`, shared by the retries of one push and by a duplicate resend.
    pub delivery_id: String,
    /// The event's `id` in the body.
    pub event_id: String,
    /// `X-Komoju-Event`.
    pub event_type: String,
    /// The payment the event is about (`None` for `ping`).
    pub payment_id: Option<String>,
    /// HTTP attempts so far.
    pub attempts: u32,
    /// Whether it got through.
    pub outcome: DeliveryOutcome,
}

pub use crate::sim::pusher::{DeliveryOutcome, WebhookStats};

/// An error answer of the simulated API, before it becomes HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub http_status: u16,
    pub code: &'static str,
    pub message: String,
    pub param: Option<&'static str>,
}

impl ApiError {
    fn not_found(id: &str) -> Self {
        ApiError {
            http_status: 404,
            code: "not_found",
            message: format!("The requested payment {id:?} could not be found"),
            param: None,
        }
    }

    fn wrong_status(action: &str, status: PaymentStatus) -> Self {
        ApiError {
            http_status: 422,
            code: "unprocessable_entity",
            message: format!("A payment in status {status} cannot be {action}"),
            param: None,
        }
    }

    pub(crate) fn invalid(param: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            http_status: 422,
            code: "invalid_parameter",
            message: message.into(),
            param: Some(param),
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            http_status: 400,
            code: "bad_request",
            message: message.into(),
            param: None,
        }
    }
}

/// A finished answer kept under an idempotency key: replayed byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredAnswer {
    pub status: u16,
    pub body: Arc<[u8]>,
}

/// What the idempotency store says about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Begin {
    /// First use (or the old one expired): process it, then [`SimState::idem_finish`].
    Fresh { ticket: u64 },
    /// The first request with this key finished: answer what it answered.
    Replay(StoredAnswer),
    /// The first request with this key is still running: 409.
    InFlight,
}

#[derive(Debug, Clone)]
struct IdemEntry {
    /// Method, path and body of the first request, to count misuse.
    fingerprint: String,
    created_at: DateTime<Utc>,
    outcome: IdemOutcome,
}

#[derive(Debug, Clone)]
enum IdemOutcome {
    InFlight { ticket: u64 },
    Done(StoredAnswer),
}

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

/// A payment plus what the simulator needs that the neutral type does not carry.
#[derive(Debug, Clone)]
struct SimPayment {
    payment: Payment,
    capture: CaptureMode,
    /// Per refund, in `payment.refunds` order: the merchant's description.
    refund_descriptions: Vec<Option<String>>,
    /// Creation order, to sort lists newest first among equal timestamps.
    seq: u64,
}

/// One `GET /payments` page, before it becomes JSON.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ListPage {
    pub data: Vec<wire::KomojuPayment>,
    pub total: usize,
    pub page: u32,
    pub per_page: u32,
    pub last_page: u32,
}

/// Everything the simulator knows; one lock guards it.
#[derive(Debug)]
pub struct SimState {
    payments: HashMap<String, SimPayment>,
    idempotency: HashMap<String, IdemEntry>,
    idempotency_ttl: TimeDelta,
    next_ticket: u64,
    next_seq: u64,
    /// `(endpoint, fault, remaining)` in injection order.
    faults: Vec<(Endpoint, Fault, u32)>,
    pub stats: SimStats,
    effects: Vec<Effect>,
}

impl SimState {
    pub(crate) fn new(idempotency_ttl: Duration) -> Self {
        SimState {
            payments: HashMap::new(),
            idempotency: HashMap::new(),
            idempotency_ttl: TimeDelta::from_std(idempotency_ttl).unwrap_or(TimeDelta::MAX),
            next_ticket: 0,
            next_seq: 0,
            faults: Vec::new(),
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
        self.idempotency
            .values()
            .filter(|e| matches!(e.outcome, IdemOutcome::InFlight { .. }))
            .count()
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
        method: &str,
        capture: CaptureMode,
        now: DateTime<Utc>,
    ) -> Payment {
        let id = self.fresh_payment_id();
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
            captured_at: None,
            amount_refunded: 0,
            method: method.to_string(),
            refunds: Vec::new(),
            created_at: now,
        };
        self.next_seq += 1;
        self.payments.insert(
            id,
            SimPayment {
                payment: payment.clone(),
                capture,
                refund_descriptions: Vec::new(),
                seq: self.next_seq,
            },
        );
        payment
    }

    /// The customer's payment is authorized: `authorized` for manual capture,
    /// straight to `captured` for automatic capture. Only from `pending`.
    pub(crate) fn authorize(&mut self, id: &str, now: DateTime<Utc>) -> Option<Payment> {
        let sim = self.payments.get_mut(id)?;
        if sim.payment.status != PaymentStatus::Pending {
            return None;
        }
        match sim.capture {
            CaptureMode::Manual => {
                sim.payment.status = PaymentStatus::Authorized;
                self.emit(id, WebhookEvent::Authorized, now)
            }
            CaptureMode::Auto => {
                sim.payment.status = PaymentStatus::Captured;
                sim.payment.captured_at = Some(now);
                self.emit(id, WebhookEvent::Captured, now)
            }
        }
    }

    /// The customer paid at the konbini (or by transfer): `pending` →
    /// `captured`. Also takes an `authorized` payment (captured from the dashboard).
    pub(crate) fn capture_by_customer(&mut self, id: &str, now: DateTime<Utc>) -> Option<Payment> {
        let sim = self.payments.get_mut(id)?;
        match sim.payment.status {
            PaymentStatus::Pending | PaymentStatus::Authorized => {
                sim.payment.status = PaymentStatus::Captured;
                sim.payment.captured_at = Some(now);
                self.emit(id, WebhookEvent::Captured, now)
            }
            PaymentStatus::Captured
            | PaymentStatus::Refunded
            | PaymentStatus::Cancelled
            | PaymentStatus::Expired
            | PaymentStatus::Failed
            | PaymentStatus::Unknown => None,
        }
    }

    /// The customer never paid, or the authorization lapsed.
    pub(crate) fn expire(&mut self, id: &str, now: DateTime<Utc>) -> Option<Payment> {
        self.hook_move(id, PaymentStatus::Expired, WebhookEvent::Expired, now)
    }

    /// The payment attempt failed (only from `pending`).
    pub(crate) fn fail(&mut self, id: &str, now: DateTime<Utc>) -> Option<Payment> {
        self.hook_move(id, PaymentStatus::Failed, WebhookEvent::Failed, now)
    }

    /// Something other than the status changed: `payment.updated` with the payment as it is.
    pub(crate) fn touch(&mut self, id: &str, now: DateTime<Utc>) -> Option<Payment> {
        if !self.payments.contains_key(id) {
            return None;
        }
        self.emit(id, WebhookEvent::Updated, now)
    }

    fn hook_move(
        &mut self,
        id: &str,
        to: PaymentStatus,
        kind: WebhookEvent,
        now: DateTime<Utc>,
    ) -> Option<Payment> {
        let sim = self.payments.get_mut(id)?;
        if !PaymentStatus::can_move(sim.payment.status, to) {
            return None;
        }
        sim.payment.status = to;
        self.emit(id, kind, now)
    }

    /// A `ping` event, as when the webhook is set up; returns its event id.
    pub(crate) fn ping(&mut self, now: DateTime<Utc>) -> String {
        let event = render_event(
            WebhookEvent::Ping,
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
    pub(crate) fn get(&self, id: &str) -> Result<wire::KomojuPayment, ApiError> {
        self.payments
            .get(id)
            .map(to_wire)
            .ok_or_else(|| ApiError::not_found(id))
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
            .map(to_wire)
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
    ) -> Result<wire::KomojuPayment, ApiError> {
        let request: CaptureBody = read_body(body)?;
        let sim = self
            .payments
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found(id))?;
        if sim.payment.status != PaymentStatus::Authorized {
            return Err(ApiError::wrong_status("captured", sim.payment.status));
        }
        let amount = match request.amount {
            None => sim.payment.amount,
            Some(a) if (0..=sim.payment.amount).contains(&a) => a,
            Some(a) => {
                return Err(ApiError::invalid(
                    "amount",
                    format!(
                        "amount {a} must be between 0 and the authorized {}",
                        sim.payment.amount
                    ),
                ));
            }
        };
        let p = &mut sim.payment;
        p.amount = amount;
        p.total = amount
            .saturating_add(p.tax)
            .saturating_add(p.payment_method_fee);
        p.status = PaymentStatus::Captured;
        p.captured_at = Some(now);
        self.stats
            .payments
            .entry(id.to_string())
            .or_default()
            .captures += 1;
        self.emit(id, WebhookEvent::Captured, now);
        self.get(id)
    }

    /// `POST /payments/{id}/cancel`: only from `pending` or `authorized`.
    pub(crate) fn cancel(
        &mut self,
        id: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<wire::KomojuPayment, ApiError> {
        let _: Value = read_body(body)?;
        let sim = self
            .payments
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found(id))?;
        match sim.payment.status {
            PaymentStatus::Pending | PaymentStatus::Authorized => {}
            other @ (PaymentStatus::Captured
            | PaymentStatus::Refunded
            | PaymentStatus::Cancelled
            | PaymentStatus::Expired
            | PaymentStatus::Failed
            | PaymentStatus::Unknown) => return Err(ApiError::wrong_status("cancelled", other)),
        }
        sim.payment.status = PaymentStatus::Cancelled;
        self.stats
            .payments
            .entry(id.to_string())
            .or_default()
            .cancels += 1;
        self.emit(id, WebhookEvent::Cancelled, now);
        self.get(id)
    }

    /// `POST /payments/{id}/refund`: only from `captured`, at most what is left;
    /// `payment.refund.created`, plus `payment.refunded` when nothing is left.
    pub(crate) fn refund(
        &mut self,
        id: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<wire::KomojuPayment, ApiError> {
        let request: RefundBody = read_body(body)?;
        let refund_id = self.fresh_payment_id();
        let sim = self
            .payments
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found(id))?;
        if sim.payment.status != PaymentStatus::Captured {
            return Err(ApiError::wrong_status("refunded", sim.payment.status));
        }
        let left = sim.payment.refundable();
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
        let p = &mut sim.payment;
        p.refunds.push(Refund {
            id: refund_id,
            amount,
            created_at: now,
            chargeback: false,
        });
        sim.refund_descriptions.push(request.description);
        p.amount_refunded = p.amount_refunded.saturating_add(amount);
        let full = p.amount_refunded >= p.total;
        if full {
            p.status = PaymentStatus::Refunded;
        }
        self.stats
            .payments
            .entry(id.to_string())
            .or_default()
            .refunds += 1;
        self.emit(id, WebhookEvent::RefundCreated, now);
        if full {
            self.emit(id, WebhookEvent::Refunded, now);
        }
        self.get(id)
    }

    // ---- idempotency ----

    /// Looks `key` up for a request identified by `fingerprint`; a fresh key
    /// is marked in flight until [`Self::idem_finish`] or [`Self::idem_abandon`].
    pub(crate) fn idem_begin(&mut self, key: &str, fingerprint: &str, now: DateTime<Utc>) -> Begin {
        self.expire_keys(now);
        if let Some(entry) = self.idempotency.get(key) {
            return match &entry.outcome {
                IdemOutcome::Done(answer) => {
                    self.stats.idempotency.replays += 1;
                    if entry.fingerprint != fingerprint {
                        self.stats.idempotency.mismatches += 1;
                    }
                    Begin::Replay(answer.clone())
                }
                IdemOutcome::InFlight { .. } => {
                    self.stats.idempotency.conflicts += 1;
                    Begin::InFlight
                }
            };
        }
        self.next_ticket += 1;
        let ticket = self.next_ticket;
        self.idempotency.insert(
            key.to_string(),
            IdemEntry {
                fingerprint: fingerprint.to_string(),
                created_at: now,
                outcome: IdemOutcome::InFlight { ticket },
            },
        );
        Begin::Fresh { ticket }
    }

    /// Stores the finished answer of the request holding `ticket`.
    pub(crate) fn idem_finish(&mut self, key: &str, ticket: u64, answer: StoredAnswer) {
        if let Some(entry) = self.idempotency.get_mut(key)
            && matches!(entry.outcome, IdemOutcome::InFlight { ticket: t } if t == ticket)
        {
            entry.outcome = IdemOutcome::Done(answer);
        }
    }

    /// Frees `key` when its request ended without an answer (the caller went
    /// away while it was held): nothing was processed, so a retry starts afresh.
    pub(crate) fn idem_abandon(&mut self, key: &str, ticket: u64) {
        let ours = self.idempotency.get(key).is_some_and(
            |e| matches!(e.outcome, IdemOutcome::InFlight { ticket: t } if t == ticket),
        );
        if ours {
            self.idempotency.remove(key);
        }
    }

    /// Drops finished keys older than the time to live (in-flight ones stay).
    fn expire_keys(&mut self, now: DateTime<Utc>) {
        let ttl = self.idempotency_ttl;
        let before = self.idempotency.len();
        self.idempotency.retain(|_, e| {
            matches!(e.outcome, IdemOutcome::InFlight { .. })
                || e.created_at
                    .checked_add_signed(ttl)
                    .is_none_or(|until| now < until)
        });
        self.stats.idempotency.expired += before - self.idempotency.len();
    }

    // ---- faults ----

    pub(crate) fn inject(&mut self, endpoint: Endpoint, fault: Fault, times: u32) {
        if times > 0 {
            self.faults.push((endpoint, fault, times));
        }
    }

    pub(crate) fn clear_faults(&mut self) {
        self.faults.clear();
    }

    /// The first due fault for `endpoint` (or for any endpoint), used up once.
    pub(crate) fn take_fault(&mut self, endpoint: Endpoint) -> Option<Fault> {
        let i = self
            .faults
            .iter()
            .position(|(e, _, left)| (*e == endpoint || *e == Endpoint::Any) && *left > 0)?;
        let (_, fault, left) = &mut self.faults[i];
        let fault = *fault;
        *left -= 1;
        if *left == 0 {
            self.faults.remove(i);
        }
        Some(fault)
    }

    // ---- helpers ----

    /// Queues a webhook carrying the payment as it is now; returns it.
    fn emit(&mut self, id: &str, kind: WebhookEvent, now: DateTime<Utc>) -> Option<Payment> {
        let sim = self.payments.get(id)?;
        let data = serde_json::to_value(to_wire(sim)).unwrap_or(Value::Null);
        let event = render_event(kind, Some(id.to_string()), data, now);
        self.effects.push(Effect::Webhook(event));
        Some(sim.payment.clone())
    }

    /// A new id that no payment or refund has.
    fn fresh_payment_id(&self) -> String {
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

/// Builds an event body as KOMOJU sends it.
fn render_event(
    kind: WebhookEvent,
    payment_id: Option<String>,
    data: Value,
    now: DateTime<Utc>,
) -> PendingEvent {
    let event_id = random_id(25);
    let event = KomojuEvent {
        id: Some(event_id.clone()),
        kind: Some(kind.as_str().to_string()),
        resource: Some("event".to_string()),
        data: Some(data),
        created_at: Some(wire::format_time(now)),
        reason: Some(Value::Null),
    };
    PendingEvent {
        event_id,
        event_type: kind.as_str().to_string(),
        payment_id,
        body: serde_json::to_vec(&event).unwrap_or_default().into(),
    }
}

fn to_wire(sim: &SimPayment) -> wire::KomojuPayment {
    let mut w = wire::wire_from_payment(&sim.payment);
    if let Some(refunds) = w.refunds.as_mut() {
        for (r, d) in refunds.iter_mut().zip(&sim.refund_descriptions) {
            r.description = d.clone();
        }
    }
    w
}

#[derive(Debug, Default, Deserialize)]
struct CaptureBody {
    #[serde(default)]
    amount: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
struct RefundBody {
    #[serde(default)]
    amount: Option<i64>,
    #[serde(default)]
    description: Option<String>,
}

/// An empty body reads as `{}`; malformed JSON is a 400, a wrong type a 422.
fn read_body<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return serde_json::from_slice(b"{}").map_err(|_| ApiError::bad_request("empty body"));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("The request body is not JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "The request body must be a JSON object",
        ));
    }
    serde_json::from_value(value).map_err(|_| {
        ApiError::invalid(
            "amount",
            "amount must be an integer and description a string",
        )
    })
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
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T01:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap()
    }

    fn state() -> SimState {
        SimState::new(Duration::from_secs(24 * 3600))
    }

    fn kinds(effects: Vec<Effect>) -> Vec<String> {
        effects
            .into_iter()
            .map(|Effect::Webhook(e)| e.event_type)
            .collect()
    }

    #[test]
    fn ids_are_25_lowercase_alphanumerics() {
        let mut s = state();
        let p = s.create_payment(
            1000,
            100,
            0,
            Some("O1"),
            "credit_card",
            CaptureMode::Manual,
            t0(),
        );
        assert_eq!(p.id.len(), 25);
        assert!(
            p.id.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
        assert_eq!(p.total, 1100);
        assert!(s.take_effects().is_empty(), "creation sends nothing");
    }

    #[test]
    fn manual_and_automatic_capture() {
        let mut s = state();
        let manual = s.create_payment(1000, 0, 0, None, "credit_card", CaptureMode::Manual, t0());
        let auto = s.create_payment(1000, 0, 0, None, "credit_card", CaptureMode::Auto, t0());
        assert_eq!(
            s.authorize(&manual.id, t0()).unwrap().status,
            PaymentStatus::Authorized
        );
        assert_eq!(
            s.authorize(&auto.id, t0()).unwrap().status,
            PaymentStatus::Captured
        );
        assert_eq!(
            kinds(s.take_effects()),
            ["payment.authorized", "payment.captured"]
        );
        assert!(s.authorize(&manual.id, t0()).is_none(), "only from pending");
        assert!(
            s.fail(&manual.id, t0()).is_none(),
            "failed only from pending"
        );
        assert_eq!(
            s.expire(&manual.id, t0()).unwrap().status,
            PaymentStatus::Expired
        );
    }

    #[test]
    fn refunds_partial_then_full() {
        let mut s = state();
        let p = s.create_payment(1000, 100, 0, None, "konbini", CaptureMode::Auto, t0());
        s.capture_by_customer(&p.id, t0()).unwrap();
        s.take_effects();
        let w = s.refund(&p.id, br#"{"amount":400}"#, t0()).unwrap();
        assert_eq!(w.status.as_deref(), Some("captured"));
        assert_eq!(w.amount_refunded, Some(400));
        assert_eq!(kinds(s.take_effects()), ["payment.refund.created"]);
        let over = s.refund(&p.id, br#"{"amount":701}"#, t0()).unwrap_err();
        assert_eq!((over.http_status, over.param), (422, Some("amount")));
        let w = s
            .refund(&p.id, br#"{"description":"cancelled"}"#, t0())
            .unwrap();
        assert_eq!(w.status.as_deref(), Some("refunded"));
        let refunds = w.refunds.unwrap();
        assert_eq!(refunds.len(), 2);
        assert_eq!(refunds[1].amount, Some(700));
        assert_eq!(refunds[1].description.as_deref(), Some("cancelled"));
        assert_eq!(
            kinds(s.take_effects()),
            ["payment.refund.created", "payment.refunded"]
        );
        assert_eq!(s.refund(&p.id, b"{}", t0()).unwrap_err().http_status, 422);
        assert_eq!(s.stats.payment(&p.id).refunds, 2);
    }

    #[test]
    fn illegal_moves_are_422_and_change_nothing() {
        let mut s = state();
        let p = s.create_payment(1000, 0, 0, None, "credit_card", CaptureMode::Manual, t0());
        assert_eq!(s.capture(&p.id, b"", t0()).unwrap_err().http_status, 422);
        assert_eq!(s.refund(&p.id, b"", t0()).unwrap_err().http_status, 422);
        s.authorize(&p.id, t0());
        assert_eq!(
            s.capture(&p.id, br#"{"amount":1001}"#, t0())
                .unwrap_err()
                .http_status,
            422
        );
        assert_eq!(s.capture(&p.id, b"[1]", t0()).unwrap_err().http_status, 400);
        assert_eq!(
            s.capture(&p.id, b"{nope", t0()).unwrap_err().http_status,
            400
        );
        assert_eq!(
            s.capture(&p.id, br#"{"amount":"x"}"#, t0())
                .unwrap_err()
                .http_status,
            422
        );
        s.capture(&p.id, br#"{"amount":800}"#, t0()).unwrap();
        assert_eq!(s.payment(&p.id).unwrap().total, 800);
        assert_eq!(
            s.cancel(&p.id, b"{}", t0()).unwrap_err().code,
            "unprocessable_entity"
        );
        assert_eq!(s.capture("nope", b"", t0()).unwrap_err().http_status, 404);
        assert_eq!(s.stats.payment(&p.id).captures, 1);
        assert_eq!(s.stats.payment(&p.id).cancels, 0);
    }

    #[test]
    fn idempotency_keys_replay_conflict_and_expire() {
        let mut s = state();
        let answer = StoredAnswer {
            status: 200,
            body: Arc::from(&b"{}"[..]),
        };
        let Begin::Fresh { ticket } = s.idem_begin("k", "POST a", t0()) else {
            panic!("fresh expected")
        };
        assert_eq!(s.idem_begin("k", "POST a", t0()), Begin::InFlight);
        assert_eq!(s.in_flight(), 1);
        s.idem_finish("k", ticket, answer.clone());
        assert_eq!(
            s.idem_begin("k", "POST b", t0()),
            Begin::Replay(answer.clone())
        );
        assert_eq!(s.stats.idempotency.mismatches, 1);
        let later = t0() + TimeDelta::hours(24);
        assert!(matches!(
            s.idem_begin("k", "POST a", later),
            Begin::Fresh { .. }
        ));
        assert_eq!(s.stats.idempotency.expired, 1);
        // An abandoned request frees its key; a stale ticket does not.
        let Begin::Fresh { ticket: t2 } = s.idem_begin("j", "x", t0()) else {
            panic!("fresh expected")
        };
        s.idem_abandon("j", t2 + 100);
        assert_eq!(s.idem_begin("j", "x", t0()), Begin::InFlight);
        s.idem_abandon("j", t2);
        assert!(matches!(s.idem_begin("j", "x", t0()), Begin::Fresh { .. }));
    }

    #[test]
    fn lists_filter_and_page_newest_first() {
        let mut s = state();
        let mut ids = Vec::new();
        for i in 0..5 {
            let p = s.create_payment(
                100,
                0,
                0,
                Some("O1"),
                "paypay",
                CaptureMode::Auto,
                t0() + TimeDelta::seconds(i),
            );
            ids.push(p.id);
        }
        s.create_payment(100, 0, 0, Some("O2"), "paypay", CaptureMode::Auto, t0());
        s.authorize(&ids[0], t0());
        let q = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<HashMap<_, _>>()
        };
        let page = s
            .list(&q(&[
                ("external_order_num", "O1"),
                ("per_page", "2"),
                ("page", "2"),
            ]))
            .unwrap();
        assert_eq!(
            (page.total, page.last_page, page.page, page.per_page),
            (5, 3, 2, 2)
        );
        assert_eq!(page.data[0].id.as_deref(), Some(ids[2].as_str()));
        let captured = s.list(&q(&[("status", "captured,refunded")])).unwrap();
        assert_eq!(captured.total, 1);
        assert_eq!(s.list(&q(&[])).unwrap().total, 6);
        assert_eq!(s.list(&q(&[("page", "x")])).unwrap_err().http_status, 422);
        assert_eq!(
            s.list(&q(&[("per_page", "1000")])).unwrap().per_page,
            MAX_PER_PAGE
        );
    }

    #[test]
    fn faults_are_used_up_in_order() {
        let mut s = state();
        s.inject(Endpoint::Capture, Fault::Status(503), 2);
        s.inject(
            Endpoint::Any,
            Fault::TooManyRequests {
                retry_after_secs: 3,
            },
            1,
        );
        assert_eq!(
            s.take_fault(Endpoint::GetPayment),
            Some(Fault::TooManyRequests {
                retry_after_secs: 3
            })
        );
        assert_eq!(s.take_fault(Endpoint::Capture), Some(Fault::Status(503)));
        assert_eq!(s.take_fault(Endpoint::Capture), Some(Fault::Status(503)));
        assert_eq!(s.take_fault(Endpoint::Capture), None);
    }
}
