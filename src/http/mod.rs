//! HTTP: the webhook listener (`listen`) and the admin listener (`admin_listen`).

pub mod admin;
pub mod console;
pub mod forwarded;
mod jgoods_invoice;
pub mod serve;
mod status_page;
pub mod webhook;

use std::sync::Arc;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use secrecy::SecretString;
use serde_json::json;
use tokio::sync::Notify;

use crate::store::Store;

/// Largest webhook body accepted; larger ones get 413 before they are read whole.
pub const MAX_WEBHOOK_BODY: usize = 1024 * 1024;

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub jgoods_webhook: Option<crate::providers::jgoods::webhook::JgoodsWebhookSettings>,
    /// `None` only when the admin listener is loopback-only (checked by config).
    pub admin_token: Option<SecretString>,
    /// `[daemon] admin_hosts`: the `Host` names the admin listener answers to.
    pub admin_hosts: Vec<String>,
    /// Wrong admin tokens per source address.
    pub auth_limiter: Arc<admin::AuthLimiter>,
    /// KOMOJU webhook secrets; `None` when KOMOJU is not enabled.
    pub komoju_webhook_secrets: Option<Vec<SecretString>>,
    /// Deferred-payment providers enabled (direct orders paid by another are refused).
    pub credit_providers: Vec<crate::domain::credit::DeferredProvider>,
    /// How payments are handled around shipment.
    pub payment_policy: crate::engine::erp::PaymentPolicy,
    /// Poked when a decision queued outbound calls.
    pub dispatcher_wake: Arc<Notify>,
    /// Wakes the J-goods catalog sync after an import through the API.
    pub catalog_wake: Arc<Notify>,
    /// How often each enabled poller is meant to poll (to say which is behind).
    pub poll_intervals: Vec<(String, std::time::Duration)>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The merchant's invoice details; `None` when the config has no `[invoice]` section.
    pub invoice: Option<crate::config::InvoiceConfig>,
    /// The sender on the shipping files' labels; `None` without `[carrier_files]`.
    pub carrier_files: Option<crate::config::CarrierFilesConfig>,
    /// The console's sessions (kept over a reload) and its language.
    pub console_sessions: Arc<console::Sessions>,
    pub language: crate::config::Language,
    /// Refused deliveries written this minute (kept over a reload), and
    /// how many may be (`[daemon] refused_webhooks_per_minute`).
    pub refusals: Arc<webhook::RefusalSample>,
    pub refused_webhooks_per_minute: u32,
    /// What the status page tells an operator to do first, while no
    /// provider is enabled (a fresh install).
    pub setup_hint: Option<String>,
}

/// Reads a request body that must be one JSON object of `T`'s shape (serde
/// would also take an array for a struct: `[1]` must not set `on_hand`).
/// `expected` says what was expected in the 400.
pub fn json_object<T: serde::de::DeserializeOwned>(
    body: &[u8],
    expected: &str,
) -> Result<T, ApiError> {
    let bad = |e: &dyn std::fmt::Display| {
        ApiError::bad_request("invalid_body", format!("expected {expected}: {e}"))
    };
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| bad(&e))?;
    if !value.is_object() {
        return Err(bad(&"the body must be a JSON object"));
    }
    serde_json::from_value(value).map_err(|e| bad(&e))
}

/// A JSON error answer: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// For validation errors: the offending field.
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// The store failed: the caller may retry (J-goods does, for webhooks).
    pub fn unavailable(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "store error while answering a request");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            "the order store is unavailable; retry later",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({"code": self.code, "message": self.message});
        if let Some(field) = self.field {
            error["field"] = json!(field);
        }
        (self.status, Json(json!({ "error": error }))).into_response()
    }
}

/// The public webhook router (`listen`). Answers JSON 404 for anything else.
pub fn webhook_router(state: AppState) -> axum::Router {
    use crate::providers::jgoods::webhook::JgoodsWebhookSettings;
    use crate::providers::komoju::webhook::KomojuWebhook;
    use axum::routing::post;
    axum::Router::new()
        .route(
            "/webhooks/jgoods",
            post(webhook::handle::<JgoodsWebhookSettings>),
        )
        .route("/webhooks/komoju", post(webhook::handle::<KomojuWebhook>))
        .route(
            "/healthz",
            axum::routing::get(|| async { Json(json!({"status": "ok"})) }),
        )
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .with_state(state)
}
