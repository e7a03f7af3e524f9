//! Webhook pushes: one queue per order so that one order's events arrive in
//! order, while orders do not wait for each other; each push is retried with
//! growing delays within a budget, like J-goods' 24-hour retries.

use std::sync::Arc;

use chrono::Utc;
use reqwest::header::CONTENT_TYPE;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep};

use super::state::DeliveryOutcome;
use super::{Shared, SimWebhookAuth};
use crate::channels::jgoods::signature;

/// One push of one event: the exact bytes every attempt sends.
#[derive(Debug, Clone)]
pub(super) struct Delivery {
    /// Index into `SimStats::deliveries`.
    pub record: usize,
    pub delivery_id: String,
    pub body: Arc<[u8]>,
}

/// Drains one order's queue until the simulator shuts down.
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
async fn deliver(shared: &Shared, delivery: &Delivery) {
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

/// One HTTP attempt, signed afresh so the timestamp stays inside the
/// receiver's window however long the retries take.
async fn post_once(shared: &Shared, url: &str, delivery: &Delivery) -> bool {
    let request = shared
        .http
        .post(url)
        .header(CONTENT_TYPE, "application/json; charset=utf-8")
        .header("X-JGoods-Delivery", &delivery.delivery_id);
    let request = match &shared.cfg.webhook_auth {
        SimWebhookAuth::Hmac { secret } => {
            let timestamp = Utc::now().timestamp();
            request
                .header("X-JGoods-Timestamp", timestamp.to_string())
                .header(
                    "X-JGoods-Signature",
                    signature::sign(secret.as_bytes(), timestamp, &delivery.body),
                )
        }
        SimWebhookAuth::Bearer { secret } => request.bearer_auth(secret),
    };
    match request.body(delivery.body.to_vec()).send().await {
        Ok(answer) => {
            tracing::debug!(delivery = %delivery.delivery_id, status = answer.status().as_u16(), "jgoods sim webhook answered");
            answer.status().is_success()
        }
        Err(e) => {
            tracing::debug!(delivery = %delivery.delivery_id, error = %e.without_url(), "jgoods sim webhook failed");
            false
        }
    }
}
