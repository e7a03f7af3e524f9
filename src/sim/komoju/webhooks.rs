//! Webhook pushes: signed with the webhook secret, retried with growing delays
//! within a budget on any non-2xx or transport failure. In
//! [`DeliveryOrder::InOrder`](super::DeliveryOrder) one queue per payment keeps
//! a payment's events in order while payments do not wait for each other.

use std::sync::Arc;

use reqwest::header::CONTENT_TYPE;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep};

use super::Shared;
use super::state::DeliveryOutcome;
use crate::channels::komoju::signature;

/// One push of one event: the exact bytes every attempt sends.
#[derive(Debug, Clone)]
pub(super) struct Delivery {
    /// Index into `SimStats::deliveries`.
    pub record: usize,
    /// `X-Komoju-ID`.
    pub delivery_id: String,
    pub event_id: String,
    /// `X-Komoju-Event`.
    pub event_type: String,
    pub payment_id: Option<String>,
    pub body: Arc<[u8]>,
}

/// Drains one payment's queue until the simulator shuts down.
pub(super) async fn run_queue(shared: Arc<Shared>, mut queue: mpsc::UnboundedReceiver<Delivery>) {
    loop {
        let next = tokio::select! {
            _ = shared.tasks.cancel.cancelled() => return,
            next = queue.recv() => next,
        };
        let Some(delivery) = next else { return };
        tokio::select! {
            _ = shared.tasks.cancel.cancelled() => return,
            _ = deliver(&shared, &delivery) => {}
        }
    }
}

/// Attempts one push until a 2xx or until the next wait would pass the budget.
pub(super) async fn deliver(shared: &Shared, delivery: &Delivery) {
    let cfg = &shared.cfg;
    let started = Instant::now();
    let mut delay = cfg.webhook_retry_initial;
    loop {
        let Some(url) = shared.webhook_url() else {
            shared.finish(delivery, DeliveryOutcome::Skipped);
            return;
        };
        let acked = post_once(shared, &url, delivery).await;
        shared.count_attempt(delivery, acked);
        if acked {
            shared.finish(delivery, DeliveryOutcome::Acked);
            return;
        }
        if started.elapsed() + delay > cfg.webhook_retry_budget {
            shared.finish(delivery, DeliveryOutcome::Abandoned);
            return;
        }
        sleep(delay).await;
        delay = delay.saturating_mul(2).min(cfg.webhook_retry_max);
    }
}

/// One HTTP attempt with KOMOJU's three headers.
async fn post_once(shared: &Shared, url: &str, delivery: &Delivery) -> bool {
    let request = shared
        .http
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .header("X-Komoju-ID", &delivery.delivery_id)
        .header("X-Komoju-Event", &delivery.event_type)
        .header(
            "X-Komoju-Signature",
            signature::sign(shared.cfg.webhook_secret.as_bytes(), &delivery.body),
        )
        .body(delivery.body.to_vec());
    match request.send().await {
        Ok(answer) => {
            tracing::debug!(delivery = %delivery.delivery_id, event = %delivery.event_type, status = answer.status().as_u16(), "komoju sim webhook answered");
            answer.status().is_success()
        }
        Err(e) => {
            tracing::debug!(delivery = %delivery.delivery_id, error = %e.without_url(), "komoju sim webhook failed");
            false
        }
    }
}
