//! `POST /webhooks/komoju`: HMAC over the raw body → parse → store and apply
//! (one transaction, deduplicated by event id) → 200. Events KOMOJU sends
//! that concern nothing here (`ping`, other resources, unknown payments) are
//! acknowledged and recorded.

use std::net::SocketAddr;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::channels::komoju::apply::{self as flow, PROVIDER};
use crate::channels::komoju::{signature, wire};
use crate::flows::{Ingested, WebhookDelivery, reject_webhook};
use crate::http::{ApiError, AppState, MAX_WEBHOOK_BODY};

/// `POST /webhooks/komoju`: verify, store, answer.
pub async fn receive(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(secrets) = app.komoju_webhook_secrets.clone() else {
        return ApiError::not_found("KOMOJU is not enabled on this daemon").into_response();
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let bytes = match axum::body::to_bytes(body, MAX_WEBHOOK_BODY).await {
        Ok(b) => b,
        Err(_) => {
            app.metrics.webhook(PROVIDER, "too_large");
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "webhook body too large",
            )
            .into_response();
        }
    };
    let mut kept = serde_json::Map::new();
    for name in [
        "x-komoju-id",
        "x-komoju-event",
        "x-komoju-signature",
        "content-type",
    ] {
        if let Some(v) = header(name) {
            kept.insert(name.into(), Value::String(v.chars().take(256).collect()));
        }
    }
    kept.insert("peer".into(), Value::String(peer.ip().to_string()));
    let delivery = |body: Bytes, id: Option<String>| WebhookDelivery {
        provider: PROVIDER,
        delivery_id: id,
        headers: Value::Object(kept.clone()),
        body: body.to_vec(),
    };
    if let Err(e) = signature::verify(&secrets, header("x-komoju-signature").as_deref(), &bytes) {
        let err = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            format!("signature: {e}"),
        );
        return reject(
            &app,
            delivery(bytes.slice(..bytes.len().min(4096)), header("x-komoju-id")),
            err,
        )
        .await;
    }
    let event = match wire::parse_event(&bytes) {
        Ok(ev) => ev,
        Err(e) => {
            let err =
                ApiError::bad_request("invalid_body", e.to_string()).with_field(e.field.clone());
            return reject(&app, delivery(bytes, header("x-komoju-id")), err).await;
        }
    };
    // The event id identifies the event across KOMOJU's retries.
    let id = Some(event.id.clone());
    match flow::ingest_webhook(&app.store, delivery(bytes, id), event, app.safety_stock).await {
        Ok(Ingested::Processed { events }) => {
            app.metrics.webhook(PROVIDER, "processed");
            app.dispatcher_wake.notify_one();
            (
                StatusCode::OK,
                Json(json!({"status": "processed", "events": events})),
            )
                .into_response()
        }
        Ok(Ingested::Duplicate) => {
            app.metrics.webhook(PROVIDER, "duplicate");
            (StatusCode::OK, Json(json!({"status": "duplicate"}))).into_response()
        }
        Err(e) => ApiError::unavailable(e).into_response(),
    }
}

async fn reject(app: &AppState, delivery: WebhookDelivery, err: ApiError) -> Response {
    app.metrics.webhook(PROVIDER, err.code);
    tracing::warn!(code = err.code, reason = %err.message, "KOMOJU webhook rejected");
    if let Err(e) = reject_webhook(
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
