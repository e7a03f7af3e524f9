//! A tiny webhook receiver for tests: authenticates each push with the real
//! `signature` module, records it and answers 2xx, or a scripted failure.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use secrecy::SecretString;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::SimWebhookAuth;
use crate::channels::jgoods::{OrderSnapshot, Status, signature, wire};

/// One authenticated push as it arrived (failed-on-purpose ones included).
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub delivery_id: String,
    pub timestamp: Option<String>,
    pub content_type: String,
    pub body: Vec<u8>,
    pub order: OrderSnapshot,
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

/// Stops its server when dropped.
pub(crate) struct Receiver {
    pub url: String,
    inbox: Arc<Mutex<Inbox>>,
    stop: CancellationToken,
}

impl Receiver {
    pub(crate) async fn start(auth: SimWebhookAuth) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        // A path of its own: another test's simulator still retrying into a
        // port this receiver reused gets a 404 and is not counted here.
        let path = format!("/webhooks/jgoods/{:016x}", rand::random::<u64>());
        let url = format!("http://{}{path}", listener.local_addr().expect("addr"));
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
        Receiver { url, inbox, stop }
    }

    /// Answers the next `times` pushes for `order_no` with 503.
    pub(crate) fn fail(&self, order_no: &str, times: u32) {
        self.lock().failures.insert(order_no.to_string(), times);
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// The statuses acknowledged for one order, in arrival order.
    pub(crate) fn acked_statuses(&self, order_no: &str) -> Vec<Status> {
        self.received()
            .iter()
            .filter(|r| r.acked && r.order.order_no == order_no)
            .map(|r| r.order.status)
            .collect()
    }

    pub(crate) fn unauthenticated(&self) -> usize {
        self.lock().unauthenticated
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inbox> {
        self.inbox.lock().unwrap_or_else(PoisonError::into_inner)
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
        SimWebhookAuth::Hmac { secret } => signature::verify_hmac(
            &[SecretString::from(secret.clone())],
            text("x-jgoods-timestamp"),
            text("x-jgoods-signature"),
            &body,
            chrono::Utc::now().timestamp(),
        ),
        SimWebhookAuth::Bearer { secret } => {
            signature::verify_bearer(&[SecretString::from(secret.clone())], text("authorization"))
        }
    };
    let mut inbox = inbox.lock().unwrap_or_else(PoisonError::into_inner);
    let Ok(order) = authentic.map(|()| wire::parse_order(&body)) else {
        inbox.unauthenticated += 1;
        return StatusCode::UNAUTHORIZED;
    };
    let Ok(order) = order else {
        return StatusCode::BAD_REQUEST;
    };
    let fail = inbox
        .failures
        .get_mut(&order.order_no)
        .filter(|left| **left > 0)
        .map(|left| *left -= 1)
        .is_some();
    inbox.received.push(Received {
        delivery_id: text("x-jgoods-delivery").unwrap_or_default().to_string(),
        timestamp: text("x-jgoods-timestamp").map(str::to_string),
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
