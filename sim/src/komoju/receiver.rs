//! A merchant's webhook endpoint for tests: it records every push as it
//! arrived (headers, raw body, the body read as JSON), answers 401 when the
//! caller's check of the signature fails, and 500 when told to fail a type,
//! so the simulator's retries and orderings can be watched from outside.
//!
//! The check is the caller's: the simulator's own tests verify with the
//! contract's rule ([`WebhookReceiver::with_secret`]), ordersync's tests with
//! the adapter's verification, so both sides are held to the same pushes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::signature;
use super::wire::{DELIVERY_ID_HEADER, EVENT_HEADER, SIGNATURE_HEADER};
use crate::harness;

/// One push as it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    /// `X-Komoju-ID`.
    pub delivery_id: String,
    /// `X-Komoju-Event`.
    pub event_header: String,
    /// `Content-Type`.
    pub content_type: String,
    /// `X-Komoju-Signature`, when sent.
    pub signature: Option<String>,
    /// The raw body, as signed.
    pub body: Vec<u8>,
    /// The body read as JSON.
    pub event: Value,
    /// Whether it was answered with a 2xx.
    pub acked: bool,
}

impl Received {
    /// The event's `type`.
    pub fn event_type(&self) -> &str {
        self.event["type"].as_str().unwrap_or_default()
    }

    /// The event's `id`.
    pub fn event_id(&self) -> &str {
        self.event["id"].as_str().unwrap_or_default()
    }
}

/// Decides whether a push is authentic: `(X-Komoju-Signature, raw body)`.
type Check = dyn Fn(Option<&str>, &[u8]) -> bool + Send + Sync;

#[derive(Default)]
struct Inbox {
    received: Vec<Received>,
    /// Pushes refused because the check failed.
    unauthenticated: usize,
    /// Event type → how many more pushes of it to answer with 500.
    fail: HashMap<String, u32>,
    /// `(type, until)`: answer pushes of `type` with 500 until one of `until` was acked.
    fail_until_acked: Option<(String, String)>,
}

/// A webhook endpoint on a loopback port of its own; dropping it stops it.
pub struct WebhookReceiver {
    url: String,
    inbox: Arc<Mutex<Inbox>>,
    stop: CancellationToken,
}

impl WebhookReceiver {
    /// Starts a receiver that takes a push when `authentic(signature, body)` holds.
    pub async fn start(
        authentic: impl Fn(Option<&str>, &[u8]) -> bool + Send + Sync + 'static,
    ) -> std::io::Result<WebhookReceiver> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        // A path of its own: another test's simulator still retrying into a
        // port this receiver reused gets a 404 and is not counted here.
        let path = format!("/webhooks/komoju/{:016x}", rand::random::<u64>());
        let url = format!("http://{}{path}", listener.local_addr()?);
        let inbox = Arc::new(Mutex::new(Inbox::default()));
        let check: Arc<Check> = Arc::new(authentic);
        let app = Router::new()
            .route(&path, post(receive))
            .with_state((check, inbox.clone()));
        let stop = CancellationToken::new();
        let signal = stop.clone().cancelled_owned();
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(signal)
                .await
            {
                tracing::debug!(error = %e, "komoju test receiver stopped");
            }
        });
        Ok(WebhookReceiver { url, inbox, stop })
    }

    /// A receiver that checks the signature as the contract states it: the
    /// lowercase hex HMAC-SHA256 of the body under `secret`, exactly.
    pub async fn with_secret(secret: &str) -> std::io::Result<WebhookReceiver> {
        let secret = secret.as_bytes().to_vec();
        WebhookReceiver::start(move |given, body| {
            given.is_some_and(|g| g == signature::sign(&secret, body))
        })
        .await
    }

    /// Where to point the simulator's webhooks.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn lock(&self) -> MutexGuard<'_, Inbox> {
        harness::lock(&self.inbox)
    }

    /// Every push so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// Event types acknowledged, in arrival order.
    pub fn acked(&self) -> Vec<String> {
        self.lock()
            .received
            .iter()
            .filter(|r| r.acked)
            .map(|r| r.event_type().to_string())
            .collect()
    }

    /// Pushes refused with 401.
    pub fn unauthenticated(&self) -> usize {
        self.lock().unauthenticated
    }

    /// Answers the next `times` pushes of `event_type` with 500.
    pub fn fail(&self, event_type: &str, times: u32) {
        self.lock().fail.insert(event_type.to_string(), times);
    }

    /// Answers pushes of `failing` with 500 until one of `until` was acknowledged.
    pub fn fail_until_acked(&self, failing: &str, until: &str) {
        self.lock().fail_until_acked = Some((failing.to_string(), until.to_string()));
    }

    /// Waits until `what` holds of the pushes received (`true`) or `deadline` passes.
    pub async fn wait_for(&self, deadline: Duration, what: impl Fn(&[Received]) -> bool) -> bool {
        harness::wait_until(deadline, || what(&self.lock().received)).await
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn receive(
    State((check, inbox)): State<(Arc<Check>, Arc<Mutex<Inbox>>)>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let signature = text(SIGNATURE_HEADER);
    let mut inbox = harness::lock(&inbox);
    if !check(signature.as_deref(), &body) {
        inbox.unauthenticated += 1;
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(event) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let kind = event["type"].as_str().unwrap_or_default().to_string();
    let mut fail = inbox
        .fail
        .get_mut(&kind)
        .filter(|left| **left > 0)
        .map(|left| *left -= 1)
        .is_some();
    if let Some((failing, until)) = &inbox.fail_until_acked {
        let seen = inbox
            .received
            .iter()
            .any(|r| r.acked && r.event_type() == until);
        fail |= *failing == kind && !seen;
    }
    inbox.received.push(Received {
        delivery_id: text(DELIVERY_ID_HEADER).unwrap_or_default(),
        event_header: text(EVENT_HEADER).unwrap_or_default(),
        content_type: text("content-type").unwrap_or_default(),
        signature,
        body: body.to_vec(),
        event,
        acked: !fail,
    });
    if fail {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}
