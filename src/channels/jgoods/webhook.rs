//! `POST /webhooks/jgoods`: verify → parse → store and decide (one transaction)
//! → answer. J-goods retries anything but a 2xx, so a 2xx is sent only after
//! the commit; a refusal is a 4xx with the reason, and the body is kept.

use std::net::SocketAddr;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::channels::jgoods::apply::{self as flow, Ingested, WebhookDelivery};
use crate::channels::jgoods::{signature, wire};
use crate::http::{ApiError, AppState, JgoodsWebhookSettings, MAX_WEBHOOK_BODY, WebhookAuthMode};

/// How much of an unauthenticated body is kept for audit (the rest is noise
/// an attacker could use to fill the disk).
const UNAUTHENTICATED_KEEP: usize = 4096;

pub async fn receive(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(settings) = app.jgoods_webhook.clone() else {
        return ApiError::not_found("J-goods is not enabled on this daemon").into_response();
    };
    let delivery_id = header(&headers, "x-jgoods-delivery").map(str::to_string);
    let kept_headers = audit_headers(&headers, peer);

    if !settings.allow_from.is_empty()
        && !settings.allow_from.iter().any(|n| n.contains(&peer.ip()))
    {
        let reason = format!("source {} is not in webhook_allow_from", peer.ip());
        return reject(
            &app,
            delivery_id,
            kept_headers,
            Bytes::new(),
            ApiError::new(StatusCode::FORBIDDEN, "forbidden_source", reason),
        )
        .await;
    }
    let bytes = match axum::body::to_bytes(body, MAX_WEBHOOK_BODY).await {
        Ok(b) => b,
        Err(_) => {
            app.metrics.webhook(flow::PROVIDER, "too_large");
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("webhook bodies are limited to {MAX_WEBHOOK_BODY} bytes"),
            )
            .into_response();
        }
    };
    if let Err(e) = authenticate(&settings, &headers, &bytes) {
        let kept = bytes.slice(..bytes.len().min(UNAUTHENTICATED_KEEP));
        return reject(
            &app,
            delivery_id,
            kept_headers,
            kept,
            ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", e.to_string()),
        )
        .await;
    }
    let snap = match wire::parse_order(&bytes) {
        Ok(s) => s,
        Err(e) => {
            let err =
                ApiError::bad_request("invalid_body", e.to_string()).with_field(e.field.clone());
            return reject(&app, delivery_id, kept_headers, bytes, err).await;
        }
    };
    let order_no = snap.order_no.clone();
    let delivery = WebhookDelivery {
        provider: flow::PROVIDER,
        delivery_id,
        headers: kept_headers,
        body: bytes.to_vec(),
    };
    match flow::ingest_webhook(&app.store, delivery, snap, app.safety_stock).await {
        Ok(Ingested::Processed { events }) => {
            app.metrics.webhook(flow::PROVIDER, "processed");
            app.dispatcher_wake.notify_one();
            tracing::info!(order_no, events = ?events, "J-goods webhook processed");
            (
                StatusCode::OK,
                Json(json!({"status": "processed", "order_no": order_no, "events": events})),
            )
                .into_response()
        }
        Ok(Ingested::Duplicate) => {
            app.metrics.webhook(flow::PROVIDER, "duplicate");
            tracing::info!(
                order_no,
                "J-goods webhook already processed (duplicate delivery)"
            );
            (
                StatusCode::OK,
                Json(json!({"status": "duplicate", "order_no": order_no})),
            )
                .into_response()
        }
        // Not stored: J-goods must retry, so answer 5xx.
        Err(e) => ApiError::unavailable(e).into_response(),
    }
}

fn authenticate(
    s: &JgoodsWebhookSettings,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), signature::AuthError> {
    match s.auth {
        WebhookAuthMode::Hmac => signature::verify_hmac(
            &s.secrets,
            header(headers, "x-jgoods-timestamp"),
            header(headers, "x-jgoods-signature"),
            body,
            chrono::Utc::now().timestamp(),
        ),
        WebhookAuthMode::Bearer => {
            signature::verify_bearer(&s.secrets, header(headers, "authorization"))
        }
    }
}

async fn reject(
    app: &AppState,
    delivery_id: Option<String>,
    headers: Value,
    body: Bytes,
    err: ApiError,
) -> Response {
    app.metrics.webhook(flow::PROVIDER, err.code);
    tracing::warn!(delivery_id = delivery_id.as_deref().unwrap_or("-"), code = err.code, reason = %err.message, "J-goods webhook rejected");
    let delivery = WebhookDelivery {
        provider: flow::PROVIDER,
        delivery_id,
        headers,
        body: body.to_vec(),
    };
    if let Err(e) = flow::reject_webhook(
        &app.store,
        delivery,
        format!("{}: {}", err.code, err.message),
    )
    .await
    {
        tracing::error!(error = %e, "cannot keep a rejected webhook for audit");
    }
    err.into_response()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The headers kept with a delivery for audit. Never `Authorization`: with
/// bearer auth it is the shared secret itself.
fn audit_headers(headers: &HeaderMap, peer: SocketAddr) -> Value {
    let mut kept = serde_json::Map::new();
    for name in [
        "x-jgoods-delivery",
        "x-jgoods-timestamp",
        "x-jgoods-signature",
        "content-type",
        "user-agent",
    ] {
        if let Some(v) = header(headers, name) {
            kept.insert(
                name.to_string(),
                Value::String(v.chars().take(512).collect()),
            );
        }
    }
    kept.insert("peer".into(), Value::String(peer.ip().to_string()));
    Value::Object(kept)
}
