//! Webhook pushes: one queue per order so that one order's events arrive in
//! order, while orders do not wait for each other; each push is retried with
//! growing delays within a budget, like J-goods' 24-hour retries.

use std::sync::Arc;

use chrono::Utc;
use reqwest::header::CONTENT_TYPE;
use tokio_util::sync::CancellationToken;

use super::signature::{self, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use super::wire::DELIVERY_HEADER;
use super::{Shared, SimWebhookAuth};
use crate::pusher::{PushLog, Pusher, Retries};

/// One push of one event: the exact bytes every attempt sends.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Index into `SimStats::deliveries`.
    pub record: usize,
    /// `X-JGoods-Delivery`: one id for every attempt of one event.
    pub delivery_id: String,
    /// The JSON body, signed afresh on each attempt.
    pub body: Arc<[u8]>,
}

impl Pusher for Shared {
    type Delivery = Delivery;

    fn cancelled(&self) -> &CancellationToken {
        &self.tasks.cancel
    }

    fn retries(&self) -> Retries {
        Retries {
            initial: self.cfg.webhook_retry_initial,
            max: self.cfg.webhook_retry_max,
            budget: self.cfg.webhook_retry_budget,
        }
    }

    fn webhook_url(&self) -> Option<String> {
        self.lock().webhook_url.clone()
    }

    fn record_of(delivery: &Delivery) -> usize {
        delivery.record
    }

    fn with_log(&self, f: &mut dyn FnMut(&mut dyn PushLog)) {
        f(&mut self.lock().state.stats)
    }

    /// One HTTP attempt, signed afresh so the timestamp stays inside the
    /// receiver's window however long the retries take.
    async fn post_once(&self, url: &str, delivery: &Delivery) -> bool {
        let shared = self;
        let request = shared
            .http
            .post(url)
            .header(CONTENT_TYPE, "application/json; charset=utf-8")
            .header(DELIVERY_HEADER, &delivery.delivery_id);
        let request = match &shared.cfg.webhook_auth {
            SimWebhookAuth::Hmac { secret } => {
                let timestamp = Utc::now().timestamp();
                request
                    .header(TIMESTAMP_HEADER, timestamp.to_string())
                    .header(
                        SIGNATURE_HEADER,
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
}
