//! Glue between inputs, the pure engine and the store: load the stored state,
//! decide, and write the decision — all inside one transaction.

pub mod calls;
pub mod direct;
pub mod erp;
pub mod invoice;

use serde_json::Value;

use crate::domain::time;
use crate::store::{self, Store, inbox};

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
    pub provider: crate::channels::Provider,
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

/// Keeps a refused webhook for audit.
pub async fn reject_webhook(
    store: &Store,
    delivery: WebhookDelivery,
    reason: String,
) -> store::Result<()> {
    store
        .write(move |tx| {
            let now = time::rfc3339(time::now());
            inbox::record_rejected(tx, &delivery.receipt(&now), &reason)
        })
        .await
}
