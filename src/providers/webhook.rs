//! What a pushing channel gives the one webhook pipeline (which lives in
//! `http::webhook`): its hooks ([`WebhookChannel`]: which headers it signs
//! with, how to verify and parse, how to store the event) in terms of
//! headers and bytes, never of HTTP answers; a refusal is a
//! [`WebhookRefusal`] the pipeline answers with a 400.

use std::future::Future;

use axum::http::HeaderMap;
use ipnet::IpNet;
use serde_json::{Map, Value};

use crate::domain::Provider;
use crate::domain::time;
use crate::store::{self, Store, inbox};

/// How much of an unauthenticated body is kept for audit.
pub const UNAUTHENTICATED_KEEP: usize = 4096;

/// How many characters of each kept header are stored and logged.
pub const HEADER_KEEP: usize = 512;
/// Longest delivery id taken; a longer one (or one with control characters)
/// is refused before anything else, and only its first characters are kept.
pub const MAX_DELIVERY_ID: usize = 128;

/// What happened to a webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingested {
    /// Stored and decided; these event kinds were written.
    Processed { events: Vec<String> },
    /// The delivery id was processed before; nothing changed.
    Duplicate,
}

/// A verified webhook delivery, ready to store.
#[derive(Debug, Clone)]
pub struct WebhookDelivery {
    /// The inbox deduplicates per provider.
    pub provider: Provider,
    pub delivery_id: Option<String>,
    pub headers: Value,
    pub body: Vec<u8>,
    /// The channel's [`WebhookChannel::replay_key`] of this delivery.
    pub replay_key: Option<Vec<u8>>,
}

impl WebhookDelivery {
    pub fn receipt<'a>(&'a self, received_at: &'a str) -> inbox::Delivery<'a> {
        inbox::Delivery {
            provider: self.provider.as_str(),
            delivery_id: self.delivery_id.as_deref(),
            headers: self.headers.clone(),
            body: &self.body,
            received_at,
            signed_sha256: self.replay_key.as_deref(),
        }
    }
}

/// Keeps a refused webhook for audit, under the order its body names (an
/// unverified claim, shown as such on that order's page: a wrong secret
/// then shows on the orders it kept out).
pub async fn reject_webhook(
    store: &Store,
    delivery: WebhookDelivery,
    reason: String,
) -> store::Result<()> {
    let claimed = claimed_order(&delivery.body);
    store
        .write(move |tx| {
            let now = time::rfc3339(time::now());
            inbox::record_rejected(tx, &delivery.receipt(&now), &reason, claimed.as_deref())
        })
        .await
}

/// The `order_no` a refused body names, when it is a plausible order id.
fn claimed_order(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let id = v.get("order_no")?.as_str()?;
    crate::domain::ident::identifier(id, 64)
        .ok()
        .map(str::to_string)
}

/// A verified body the channel cannot take: the pipeline answers it 400
/// with this code, message and field, and keeps the delivery for audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRefusal {
    pub code: &'static str,
    pub message: String,
    /// The offending field of the body, when one is to blame.
    pub field: Option<String>,
}

impl WebhookRefusal {
    /// The body is not the event the channel expects (`invalid_body`).
    pub fn invalid_body(message: impl Into<String>, field: Option<String>) -> Self {
        WebhookRefusal {
            code: "invalid_body",
            message: message.into(),
            field,
        }
    }
}

/// The hooks a pushing channel gives the pipeline.
pub trait WebhookChannel: Send + Sync + Sized {
    /// The parsed, verified event.
    type Event: Send + 'static;

    /// Whose webhook this is (inbox, metrics).
    const PROVIDER: Provider;
    /// The headers kept with a delivery for audit. Never `Authorization`:
    /// with bearer auth it is the shared secret itself.
    const AUDIT_HEADERS: &'static [&'static str];
    /// The header carrying the delivery id, if the provider sends one.
    const DELIVERY_HEADER: &'static str;

    /// What the merchant reads when the channel is not enabled (404).
    const NOT_ENABLED: &'static str;

    /// Source networks allowed to call; empty means any.
    fn allow_from(&self) -> &[IpNet] {
        &[]
    }

    /// Checks the signature or token; `Err` is the reason answered with 401.
    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), String>;

    /// Reads the event from the verified body; a refusal is answered 400.
    fn parse(&self, body: &[u8]) -> Result<Self::Event, WebhookRefusal>;

    /// The id the inbox deduplicates by, once the event is read (by default
    /// the delivery header's).
    fn delivery_id(&self, _event: &Self::Event, from_header: Option<String>) -> Option<String> {
        from_header
    }

    /// A digest of what a verified delivery's sender signed, by which the
    /// inbox knows the same signed bytes sent again under another (unsigned)
    /// delivery id; `None` when the delivery id is itself signed.
    fn replay_key(&self, _headers: &HeaderMap, _body: &[u8]) -> Option<Vec<u8>> {
        None
    }

    /// Fields the 200 answer carries besides `status` and `events`.
    fn answer(&self, _event: &Self::Event) -> Map<String, Value> {
        Map::new()
    }

    /// Stores the delivery and applies the event, in one transaction.
    fn ingest(
        &self,
        store: &Store,
        delivery: WebhookDelivery,
        event: Self::Event,
    ) -> impl Future<Output = store::Result<Ingested>> + Send;
}

/// A header's value, when it is text.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}
