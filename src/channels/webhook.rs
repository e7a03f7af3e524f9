//! The one webhook pipeline every pushing channel goes through:
//! allow-list → body limit → verify → parse → store and decide (one
//! transaction, deduplicated by delivery id) → answer.
//!
//! Providers retry anything but a 2xx, so a 2xx is sent only after the
//! commit, and a store failure is a 503 (the provider tries again). A refusal
//! is a 4xx with the reason, and the delivery is kept for audit: only the
//! first [`UNAUTHENTICATED_KEEP`] bytes of a body that failed verification
//! (the rest is noise an attacker could fill the disk with).
//!
//! A channel supplies only its hooks ([`WebhookChannel`]): which headers it
//! signs with, how to verify and parse, how to store the event.

use std::future::Future;
use std::net::SocketAddr;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;
use serde_json::{Map, Value, json};

use super::Provider;
use crate::domain::ident::identifier;
use crate::domain::time;
use crate::http::{ApiError, AppState, MAX_WEBHOOK_BODY};
use crate::store::{self, Store, inbox};

/// How much of an unauthenticated body is kept for audit.
pub const UNAUTHENTICATED_KEEP: usize = 4096;

/// How many characters of each kept header are stored and logged.
const HEADER_KEEP: usize = 512;
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
}

impl WebhookDelivery {
    pub(crate) fn receipt<'a>(&'a self, received_at: &'a str) -> inbox::Delivery<'a> {
        inbox::Delivery {
            provider: self.provider.as_str(),
            delivery_id: self.delivery_id.as_deref(),
            headers: self.headers.clone(),
            body: &self.body,
            received_at,
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

    /// The channel's settings in the running config; `None` when disabled.
    fn from_app(app: &AppState) -> Option<Self>;

    /// Source networks allowed to call; empty means any.
    fn allow_from(&self) -> &[IpNet] {
        &[]
    }

    /// Checks the signature or token; `Err` is the reason answered with 401.
    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), String>;

    /// Reads the event from the verified body.
    fn parse(&self, body: &[u8]) -> Result<Self::Event, ApiError>;

    /// The id the inbox deduplicates by, once the event is read (by default
    /// the delivery header's).
    fn delivery_id(&self, _event: &Self::Event, from_header: Option<String>) -> Option<String> {
        from_header
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
        safety_stock: u32,
    ) -> impl Future<Output = store::Result<Ingested>> + Send;
}

/// The route of a pushing channel: `POST /webhooks/<channel>`.
pub async fn handle<C: WebhookChannel>(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match C::from_app(&app) {
        Some(channel) => receive(&channel, &app, peer, headers, body).await,
        None => ApiError::not_found(C::NOT_ENABLED).into_response(),
    }
}

/// Runs one delivery through the pipeline.
pub async fn receive<C: WebhookChannel>(
    channel: &C,
    app: &AppState,
    peer: SocketAddr,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let raw_id = header(&headers, C::DELIVERY_HEADER).map(str::trim);
    let checked_id = raw_id.map(|id| identifier(id, MAX_DELIVERY_ID));
    let kept = Kept {
        provider: C::PROVIDER,
        delivery_id: raw_id.map(|id| printable(id, HEADER_KEEP)),
        headers: audit_headers(&headers, C::AUDIT_HEADERS, peer),
    };
    if let Some(Err(e)) = checked_id {
        let err = ApiError::bad_request(
            "invalid_delivery_id",
            format!("{}: {e}", C::DELIVERY_HEADER),
        )
        .with_field(C::DELIVERY_HEADER.to_string());
        return reject(app, kept, Bytes::new(), err).await;
    }
    let allowed = channel.allow_from();
    if !allowed.is_empty() && !allowed.iter().any(|n| n.contains(&peer.ip())) {
        let reason = format!("source {} is not in webhook_allow_from", peer.ip());
        let err = ApiError::new(StatusCode::FORBIDDEN, "forbidden_source", reason);
        return reject(app, kept, Bytes::new(), err).await;
    }
    // A declared length past the limit is answered at once, not after the
    // client has sent (or trickled) it.
    let declared = header(&headers, "content-length").and_then(|v| v.trim().parse::<u64>().ok());
    let too_large = declared.is_some_and(|n| n > MAX_WEBHOOK_BODY as u64);
    let read = if too_large {
        None
    } else {
        axum::body::to_bytes(body, MAX_WEBHOOK_BODY).await.ok()
    };
    let Some(bytes) = read else {
        app.metrics.webhook(C::PROVIDER, "too_large");
        let limit = format!("webhook bodies are limited to {MAX_WEBHOOK_BODY} bytes");
        return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", limit)
            .into_response();
    };
    if let Err(reason) = channel.verify(&headers, &bytes) {
        let body = bytes.slice(..bytes.len().min(UNAUTHENTICATED_KEEP));
        let err = ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", reason);
        return reject(app, kept, body, err).await;
    }
    let event = match channel.parse(&bytes) {
        Ok(event) => event,
        Err(err) => return reject(app, kept, bytes, err).await,
    };
    let mut answer = channel.answer(&event);
    let delivery = WebhookDelivery {
        provider: C::PROVIDER,
        delivery_id: channel.delivery_id(&event, kept.delivery_id),
        headers: kept.headers,
        body: bytes.to_vec(),
    };
    let status = match channel
        .ingest(&app.store, delivery, event, app.safety_stock)
        .await
    {
        Ok(Ingested::Processed { events }) => {
            app.dispatcher_wake.notify_one();
            answer.insert("events".into(), json!(events));
            "processed"
        }
        Ok(Ingested::Duplicate) => "duplicate",
        // Not stored: the provider must retry, so answer 5xx.
        Err(e) => return ApiError::unavailable(e).into_response(),
    };
    app.metrics.webhook(C::PROVIDER, status);
    answer.insert("status".into(), json!(status));
    // Formatted only if the subscriber records it: no copy on the hot path.
    tracing::info!(provider = C::PROVIDER.as_str(), answer = ?answer, "webhook stored");
    (StatusCode::OK, Json(Value::Object(answer))).into_response()
}

/// What is kept of a delivery before it is read.
struct Kept {
    provider: Provider,
    delivery_id: Option<String>,
    headers: Value,
}

async fn reject(app: &AppState, kept: Kept, body: Bytes, err: ApiError) -> Response {
    app.metrics.webhook(kept.provider, err.code);
    tracing::warn!(
        provider = kept.provider.as_str(),
        delivery_id = kept.delivery_id.as_deref().unwrap_or("-"),
        code = err.code,
        reason = %err.message,
        "webhook rejected"
    );
    let delivery = WebhookDelivery {
        provider: kept.provider,
        delivery_id: kept.delivery_id,
        headers: kept.headers,
        body: body.to_vec(),
    };
    let reason = format!("{}: {}", err.code, err.message);
    if let Err(e) = reject_webhook(&app.store, delivery, reason).await {
        tracing::error!(error = %e, "cannot keep a rejected webhook for audit");
    }
    err.into_response()
}

/// At most `max` characters of `v`, control characters dropped: what is
/// stored or logged of a header.
fn printable(v: &str, max: usize) -> String {
    v.chars().filter(|c| !c.is_control()).take(max).collect()
}

/// A header's value, when it is text.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The headers kept with a delivery (each cut to [`HEADER_KEEP`] characters)
/// and the peer's address.
fn audit_headers(headers: &HeaderMap, names: &[&str], peer: SocketAddr) -> Value {
    let mut kept = Map::new();
    for &name in names {
        if let Some(v) = header(headers, name) {
            kept.insert(name.to_string(), Value::String(printable(v, HEADER_KEEP)));
        }
    }
    kept.insert("peer".into(), Value::String(peer.ip().to_string()));
    Value::Object(kept)
}
