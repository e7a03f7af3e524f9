//! `POST /webhooks/komoju`: KOMOJU's hooks of the shared pipeline
//! (`http::webhook`, with the hooks of [`crate::providers::webhook`]): HMAC over the raw body, the event,
//! deduplicated by event id. Events that concern nothing here (`ping`, other
//! resources, unknown payments) are acknowledged and recorded.

use axum::http::HeaderMap;
use secrecy::SecretString;

use super::{Event, apply, signature, wire};
use crate::domain::Provider;
use crate::providers::webhook::{
    Ingested, WebhookChannel, WebhookDelivery, WebhookRefusal, header,
};
use crate::store::{self, Store};

/// What the KOMOJU webhook route needs: the secrets any of which may sign.
pub struct KomojuWebhook {
    /// Any of these is accepted (several during a rotation).
    pub secrets: Vec<SecretString>,
}

impl WebhookChannel for KomojuWebhook {
    type Event = Event;
    const PROVIDER: Provider = Provider::Komoju;
    const AUDIT_HEADERS: &'static [&'static str] = &[
        "x-komoju-id",
        "x-komoju-event",
        "x-komoju-signature",
        "content-type",
    ];
    const NOT_ENABLED: &'static str = "KOMOJU is not enabled on this daemon";
    const DELIVERY_HEADER: &'static str = "x-komoju-id";

    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), String> {
        signature::verify(&self.secrets, header(headers, "x-komoju-signature"), body)
            .map_err(|e| format!("signature: {e}"))
    }

    fn parse(&self, body: &[u8]) -> Result<Event, WebhookRefusal> {
        wire::parse_event(body)
            .map_err(|e| WebhookRefusal::invalid_body(e.to_string(), Some(e.field.clone())))
    }

    /// The event id identifies the event across KOMOJU's retries.
    fn delivery_id(&self, event: &Event, _from_header: Option<String>) -> Option<String> {
        Some(event.id.clone())
    }

    async fn ingest(
        &self,
        store: &Store,
        delivery: WebhookDelivery,
        event: Event,
    ) -> store::Result<Ingested> {
        apply::ingest_webhook(store, delivery, event).await
    }
}
