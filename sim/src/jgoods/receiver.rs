//! A small webhook receiver for tests: authenticates each push by the
//! contract's rules ([`super::signature`]), reads the order from the body,
//! records it and answers 2xx, or a scripted failure.
//!
//! It checks what the simulator sends against the contract, not against
//! ordersync's receiver; ordersync's tests check that one separately.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::SimWebhookAuth;
use super::signature::{self, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use super::wire::{DELIVERY_HEADER, JgoodsOrder, Status};
use crate::harness;

/// One authenticated push as it arrived (failed-on-purpose ones included).
#[derive(Debug, Clone)]
pub struct Received {
    /// `X-JGoods-Delivery`.
    pub delivery_id: String,
    /// `X-JGoods-Timestamp`, absent with bearer authentication.
    pub timestamp: Option<String>,
    /// `X-JGoods-Signature`, absent with bearer authentication.
    pub signature: Option<String>,
    /// `Content-Type`.
    pub content_type: String,
    /// The raw body.
    pub body: Vec<u8>,
    /// The body read as an order.
    pub order: JgoodsOrder,
    /// Whether the receiver answered 2xx.
    pub acked: bool,
}

#[derive(Default)]
struct Inbox {
    received: Vec<Received>,
    /// Pushes refused because authentication failed.
    unauthenticated: usize,
    /// Order number → how many more pushes to answer with 503.
    failures: HashMap<String, u32>,
}

/// A running receiver; stops its server when dropped.
pub struct Receiver {
    /// Where to push (a path of its own on a loopback port).
    pub url: String,
    inbox: Arc<Mutex<Inbox>>,
    stop: CancellationToken,
}

impl Receiver {
    /// Listens on a loopback port, taking pushes authenticated by `auth`.
    pub async fn start(auth: SimWebhookAuth) -> std::io::Result<Receiver> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        // A path of its own: another test's simulator still retrying into a
        // port this receiver reused gets a 404 and is not counted here.
        let path = format!("/webhooks/jgoods/{:016x}", rand::random::<u64>());
        let url = format!("http://{}{path}", listener.local_addr()?);
        let inbox = Arc::new(Mutex::new(Inbox::default()));
        let app = Router::new()
            .route(&path, post(receive))
            .with_state((auth, inbox.clone()));
        let stop = CancellationToken::new();
        let signal = stop.clone().cancelled_owned();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(signal)
                .await;
        });
        Ok(Receiver { url, inbox, stop })
    }

    /// Answers the next `times` pushes for `order_no` with 503.
    pub fn fail(&self, order_no: &str, times: u32) {
        harness::lock(&self.inbox)
            .failures
            .insert(order_no.to_string(), times);
    }

    /// Every authenticated push so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        harness::lock(&self.inbox).received.clone()
    }

    /// The statuses acknowledged for one order, in arrival order.
    pub fn acked_statuses(&self, order_no: &str) -> Vec<Status> {
        self.received()
            .iter()
            .filter(|r| r.acked && r.order.order_no == order_no)
            .map(|r| r.order.status)
            .collect()
    }

    /// How many pushes failed authentication.
    pub fn unauthenticated(&self) -> usize {
        harness::lock(&self.inbox).unauthenticated
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn receive(
    State((auth, inbox)): State<(SimWebhookAuth, Arc<Mutex<Inbox>>)>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let authentic = match &auth {
        SimWebhookAuth::Hmac { secret } => signature::verify(
            &[secret.as_bytes()],
            text(TIMESTAMP_HEADER),
            text(SIGNATURE_HEADER),
            &body,
            chrono::Utc::now().timestamp(),
        ),
        SimWebhookAuth::Bearer { secret } => {
            signature::verify_bearer(&[secret.as_bytes()], text(header::AUTHORIZATION.as_str()))
        }
    };
    let mut inbox = harness::lock(&inbox);
    if authentic.is_err() {
        inbox.unauthenticated += 1;
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(order) = serde_json::from_slice::<JgoodsOrder>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let fail = inbox
        .failures
        .get_mut(&order.order_no)
        .filter(|left| **left > 0)
        .map(|left| *left -= 1)
        .is_some();
    inbox.received.push(Received {
        delivery_id: text(DELIVERY_HEADER).unwrap_or_default().to_string(),
        timestamp: text(TIMESTAMP_HEADER).map(str::to_string),
        signature: text(SIGNATURE_HEADER).map(str::to_string),
        content_type: text(header::CONTENT_TYPE.as_str())
            .unwrap_or_default()
            .to_string(),
        body: body.to_vec(),
        order,
        acked: !fail,
    });
    if fail {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::NO_CONTENT
    }
}
