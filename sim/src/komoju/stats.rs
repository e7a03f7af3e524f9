//! What the simulator counts and records, for tests to assert on.

use std::collections::BTreeMap;

use super::faults::Endpoint;
pub use crate::pusher::{DeliveryOutcome, WebhookStats};

/// Counters and recordings of everything the simulator saw.
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

    /// The counts of one payment, to bump.
    pub(crate) fn payment_mut(&mut self, id: &str) -> &mut PaymentCounts {
        self.payments.entry(id.to_string()).or_default()
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
    /// Successful `refund_request` calls (each files one request).
    pub refund_requests: usize,
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

impl crate::pusher::PushLog for SimStats {
    fn counters(&mut self) -> &mut WebhookStats {
        &mut self.webhooks
    }

    fn push_mut(&mut self, record: usize) -> Option<(&mut u32, &mut DeliveryOutcome)> {
        self.deliveries
            .get_mut(record)
            .map(|r| (&mut r.attempts, &mut r.outcome))
    }
}
