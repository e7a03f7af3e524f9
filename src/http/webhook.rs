//! The one webhook pipeline every pushing channel goes through:
//! allow-list → body limit → verify → parse → store and decide (one
//! transaction, deduplicated by delivery id and by what was signed) → answer.
//!
//! Providers retry anything but a 2xx, so a 2xx is sent only after the
//! commit, and a store failure is a 503 (the provider tries again). A refusal
//! is a 4xx with the reason, and the delivery is kept for audit: only the
//! first [`UNAUTHENTICATED_KEEP`] bytes of a body that failed verification
//! (the rest is noise an attacker could fill the disk with).
//!
//! A channel supplies only its hooks ([`WebhookChannel`]); which of them a
//! running config enables is read from the [`AppState`] ([`FromState`]).

use std::net::SocketAddr;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{Map, Value, json};

use super::forwarded::Source;
use super::{ApiError, AppState, MAX_WEBHOOK_BODY};
use crate::domain::Provider;
use crate::domain::ident::identifier;
use crate::providers::jgoods::webhook::JgoodsWebhookSettings;
use crate::providers::komoju::webhook::KomojuWebhook;
use crate::providers::webhook::{
    HEADER_KEEP, Ingested, MAX_DELIVERY_ID, UNAUTHENTICATED_KEEP, WebhookChannel, WebhookDelivery,
    WebhookRefusal, header, reject_webhook,
};

/// A pushing channel's hooks as the running config sets them; `None` when
/// the channel is not enabled.
pub trait FromState: WebhookChannel {
    fn from_state(app: &AppState) -> Option<Self>;
}

impl FromState for JgoodsWebhookSettings {
    fn from_state(app: &AppState) -> Option<Self> {
        app.jgoods_webhook.clone()
    }
}

impl FromState for KomojuWebhook {
    fn from_state(app: &AppState) -> Option<Self> {
        app.komoju_webhook_secrets
            .clone()
            .map(|secrets| KomojuWebhook { secrets })
    }
}

impl From<WebhookRefusal> for ApiError {
    fn from(r: WebhookRefusal) -> ApiError {
        let err = ApiError::bad_request(r.code, r.message);
        match r.field {
            Some(field) => err.with_field(field),
            None => err,
        }
    }
}

/// The route of a pushing channel: `POST /webhooks/<channel>`.
pub async fn handle<C: FromState>(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    source: Option<Extension<Source>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // Served by `serve::serve`, a request carries its source; without it
    // the peer is the client.
    let source = source.map_or(
        Source {
            peer,
            client: peer.ip(),
        },
        |Extension(s)| s,
    );
    match C::from_state(&app) {
        Some(channel) => receive(&channel, &app, source, headers, body).await,
        None => ApiError::not_found(C::NOT_ENABLED).into_response(),
    }
}

/// Runs one delivery through the pipeline; `source` is its client (behind
/// a trusted proxy, the forwarded one) and the peer it came through.
pub async fn receive<C: WebhookChannel>(
    channel: &C,
    app: &AppState,
    source: Source,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let raw_id = header(&headers, C::DELIVERY_HEADER).map(str::trim);
    let checked_id = raw_id.map(|id| identifier(id, MAX_DELIVERY_ID));
    let kept = Kept {
        provider: C::PROVIDER,
        delivery_id: raw_id.map(|id| printable(id, HEADER_KEEP)),
        headers: audit_headers(&headers, C::AUDIT_HEADERS, source),
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
    let client = source.client.to_canonical();
    if !allowed.is_empty() && !allowed.iter().any(|n| n.contains(&client)) {
        let via = match source.via() {
            Some(proxy) => format!(" (via the trusted proxy {proxy})"),
            None => String::new(),
        };
        let reason = format!("source {client}{via} is not in webhook_allow_from");
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
        Err(refusal) => return reject(app, kept, bytes, refusal.into()).await,
    };
    let mut answer = channel.answer(&event);
    let delivery = WebhookDelivery {
        provider: C::PROVIDER,
        delivery_id: channel.delivery_id(&event, kept.delivery_id),
        headers: kept.headers,
        replay_key: channel.replay_key(&headers, &bytes),
        body: bytes.to_vec(),
    };
    let status = match channel.ingest(&app.store, delivery, event).await {
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

/// Refused deliveries written per provider and reason in the current
/// minute: past `[daemon] refused_webhooks_per_minute` a refusal is only
/// counted (the metric) and logged, not written, so a flood of forged
/// deliveries costs no write and cannot grow the database or its WAL.
#[derive(Default)]
pub struct RefusalSample {
    minute: std::sync::Mutex<(i64, RefusedThisMinute)>,
}

/// Refusals per provider and reason code in one minute.
type RefusedThisMinute = std::collections::HashMap<(Provider, &'static str), u32>;

impl RefusalSample {
    /// Whether this refusal is one of the minute's `per_minute` kept, and
    /// how many of its kind came this minute.
    fn keep(&self, provider: Provider, code: &'static str, per_minute: u32) -> (bool, u32) {
        let now = chrono::Utc::now().timestamp() / 60;
        let mut minute = self.minute.lock().unwrap_or_else(|e| e.into_inner());
        if minute.0 != now {
            // A new minute: the counts start again (and the map stays small).
            *minute = (now, Default::default());
        }
        let seen = minute.1.entry((provider, code)).or_default();
        *seen = seen.saturating_add(1);
        (*seen <= per_minute, *seen)
    }
}

async fn reject(app: &AppState, kept: Kept, body: Bytes, err: ApiError) -> Response {
    app.metrics.webhook(kept.provider, err.code);
    let (write, seen) = app
        .refusals
        .keep(kept.provider, err.code, app.refused_webhooks_per_minute);
    if !write {
        if seen.is_power_of_two() {
            tracing::warn!(
                provider = kept.provider.as_str(),
                code = err.code,
                seen,
                "refused webhooks this minute past refused_webhooks_per_minute; counted, not kept"
            );
        }
        return err.into_response();
    }
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
        replay_key: None,
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

/// The headers kept with a delivery (each cut to [`HEADER_KEEP`] characters),
/// the client's address (`peer`) and, behind a trusted proxy, the proxy's
/// (`via`).
fn audit_headers(headers: &HeaderMap, names: &[&str], source: Source) -> Value {
    let mut kept = Map::new();
    for &name in names {
        if let Some(v) = header(headers, name) {
            kept.insert(name.to_string(), Value::String(printable(v, HEADER_KEEP)));
        }
    }
    kept.insert("peer".into(), Value::String(source.client.to_string()));
    if let Some(proxy) = source.via() {
        kept.insert("via".into(), Value::String(proxy.to_string()));
    }
    Value::Object(kept)
}
