//! `POST /webhooks/jgoods`: J-goods' hooks of the shared pipeline
//! (`http::webhook`, with the hooks of [`crate::providers::webhook`]): an optional source allow-list, HMAC `v1=`
//! over timestamp and body (or a bearer token), the order snapshot.

use axum::http::HeaderMap;
use ipnet::IpNet;
use secrecy::SecretString;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{OrderSnapshot, apply, signature, wire};
use crate::domain::Provider;
use crate::providers::webhook::{
    Ingested, WebhookChannel, WebhookDelivery, WebhookRefusal, header,
};
use crate::store::{self, Store};

/// How J-goods authenticates its webhooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookAuthMode {
    Hmac,
    Bearer,
}

/// What the J-goods webhook route needs to verify a delivery.
#[derive(Clone)]
pub struct JgoodsWebhookSettings {
    pub auth: WebhookAuthMode,
    /// Any of these secrets is accepted (several during a rotation).
    pub secrets: Vec<SecretString>,
    /// Source networks allowed to call; empty means any.
    pub allow_from: Vec<IpNet>,
}

impl WebhookChannel for JgoodsWebhookSettings {
    type Event = OrderSnapshot;
    const PROVIDER: Provider = Provider::Jgoods;
    const AUDIT_HEADERS: &'static [&'static str] = &[
        "x-jgoods-delivery",
        "x-jgoods-timestamp",
        "x-jgoods-signature",
        "content-type",
        "user-agent",
    ];
    const NOT_ENABLED: &'static str = "J-goods is not enabled on this daemon";
    const DELIVERY_HEADER: &'static str = "x-jgoods-delivery";

    fn allow_from(&self) -> &[IpNet] {
        &self.allow_from
    }

    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), String> {
        let checked = match self.auth {
            WebhookAuthMode::Hmac => signature::verify_hmac(
                &self.secrets,
                header(headers, "x-jgoods-timestamp"),
                header(headers, "x-jgoods-signature"),
                body,
                chrono::Utc::now().timestamp(),
            ),
            WebhookAuthMode::Bearer => {
                signature::verify_bearer(&self.secrets, header(headers, "authorization"))
            }
        };
        checked.map_err(|e| e.to_string())
    }

    /// With HMAC the timestamp and body are what is signed (the delivery id
    /// is not); a bearer token signs nothing, so the body alone.
    fn replay_key(&self, headers: &HeaderMap, body: &[u8]) -> Option<Vec<u8>> {
        let mut digest = Sha256::new();
        if self.auth == WebhookAuthMode::Hmac {
            // Verified already, so the timestamp parses; digested as signed.
            let ts: i64 = header(headers, "x-jgoods-timestamp")?.trim().parse().ok()?;
            digest.update(format!("{ts}."));
        }
        digest.update(body);
        Some(digest.finalize().to_vec())
    }

    fn parse(&self, body: &[u8]) -> Result<OrderSnapshot, WebhookRefusal> {
        wire::parse_order(body)
            .map_err(|e| WebhookRefusal::invalid_body(e.to_string(), Some(e.field.clone())))
    }

    fn answer(&self, snap: &OrderSnapshot) -> Map<String, Value> {
        Map::from_iter([("order_no".to_string(), Value::from(snap.order_no.clone()))])
    }

    async fn ingest(
        &self,
        store: &Store,
        delivery: WebhookDelivery,
        snap: OrderSnapshot,
    ) -> store::Result<Ingested> {
        apply::ingest_webhook(store, delivery, snap).await
    }
}
