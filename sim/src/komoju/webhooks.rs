//! Webhook pushes: signed with the webhook secret, retried with growing delays
//! within a budget on any non-2xx or transport failure. In
//! [`DeliveryOrder::InOrder`](super::DeliveryOrder) one queue per payment keeps
//! a payment's events in order while payments do not wait for each other.

use std::sync::Arc;

use reqwest::header::CONTENT_TYPE;
use tokio_util::sync::CancellationToken;

use super::wire::{DELIVERY_ID_HEADER, EVENT_HEADER, SIGNATURE_HEADER};
use super::{Shared, signature};
use crate::pusher::{PushLog, Pusher, Retries};

/// One push of one event: the exact bytes every attempt sends.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Index into `SimStats::deliveries`.
    pub record: usize,
    /// `X-Komoju-ID`.
    pub delivery_id: String,
    /// The event's `id`.
    pub event_id: String,
    /// `X-Komoju-Event`.
    pub event_type: String,
    /// The payment the event is about (`None` for `ping`).
    pub payment_id: Option<String>,
    /// The signed body.
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

    /// One HTTP attempt with KOMOJU's three headers ("Webhooks" \[webhooks\]).
    async fn post_once(&self, url: &str, delivery: &Delivery) -> bool {
        let request = self
            .http
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header(DELIVERY_ID_HEADER, &delivery.delivery_id)
            .header(EVENT_HEADER, &delivery.event_type)
            .header(
                SIGNATURE_HEADER,
                signature::sign(self.cfg.webhook_secret.as_bytes(), &delivery.body),
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
}
