//! The admin API on `admin_listen`: stock, orders, the change feed, the outbox,
//! plus `/healthz`, `/metrics` and a status page. Everything under `/api/`
//! needs `Authorization: Bearer <admin token>`.

use std::time::Duration;

use axum::body::Bytes;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;

use super::{ApiError, AppState, status_page};
use crate::domain::carrier::Carrier;
use crate::domain::direct::{DirectOrder, DirectPayment};
use crate::domain::{Channel, OrderState, time};
use crate::engine::erp::ShipmentRequest;
use crate::flows::direct::{self, Registered};
use crate::flows::erp::{self, CommandError};
use crate::inventory_import::{self, ImportError};
use crate::orders_export::{self, ExportFormat};
use crate::status::{Detail, Status};
use crate::store::orders::OrderFilter;
use crate::store::stock::StockLevel;
use crate::store::{events, orders, outbox, stock};
use crate::text_encoding::TextEncoding;

mod auth_limit;
mod guard;
pub use auth_limit::AuthLimiter;
mod stock_api;
use stock_api::*;

mod attention_api;
mod catalog_api;
mod order_api;
mod sellers_api;
pub mod shipments_api;
use order_api::*;
pub use order_api::{parse_channel, parse_shipment};

/// Longest a change-feed long poll may wait.
const MAX_WAIT: Duration = Duration::from_secs(60);
/// Most rows a list answers at once.
const MAX_LIMIT: u32 = 1000;

/// The admin router (state attached).
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/stock", get(list_stock))
        .route("/stock/import", post(import_stock))
        .route("/stock/{sku}", get(get_stock).put(put_stock))
        .route("/orders", get(list_orders).post(register_order))
        .route("/orders/export", get(export_orders))
        .route("/orders/{channel}/{id}", get(get_order))
        .route("/orders/{channel}/{id}/shipment", post(ship_order))
        .route("/orders/{channel}/{id}/cancel", post(cancel_order))
        .route(
            "/orders/{channel}/{id}/ack",
            post(attention_api::acknowledge),
        )
        .route("/shipments/export", get(shipments_api::export))
        .route("/shipments/import", post(shipments_api::import))
        .route("/events", get(list_events))
        .route("/outbox", get(list_outbox))
        .route("/outbox/{id}/retry", post(retry_outbox))
        .route("/outbox/{id}/drop", post(attention_api::drop_call))
        .route("/jgoods/invoice", get(super::jgoods_invoice::get_invoice))
        .route("/alerts", get(list_alerts))
        .route("/sellers", get(sellers_api::list).post(sellers_api::add))
        .route("/sellers/{code}", get(sellers_api::get))
        .route("/catalog", get(catalog_api::list_items))
        .route("/catalog/import", post(catalog_api::import_items))
        .route("/catalog/categories", get(catalog_api::list_categories))
        .route(
            "/catalog/categories/import",
            post(catalog_api::import_categories),
        )
        .route("/catalog/{sku}", get(catalog_api::get_item))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token))
        .layer(axum::extract::DefaultBodyLimit::max(
            inventory_import::MAX_IMPORT_BYTES,
        ));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/", get(status))
        .route("/outbox/{id}/retry", post(retry_from_page))
        .merge(super::console::routes(&state))
        .nest("/api/v1", api)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), guard::guard))
        .with_state(state)
}

/// An address the listener does not have: a page with a way home for a
/// browser (it asks for HTML), the API's JSON error for everything else.
async fn not_found(
    State(app): State<AppState>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    let wants_page = !uri.path().starts_with("/api/")
        && headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
    if wants_page {
        let page = status_page::not_found_page(app.language);
        (StatusCode::NOT_FOUND, Html(page)).into_response()
    } else {
        ApiError::not_found("no such endpoint").into_response()
    }
}

/// Fails the reading of a request's body once `timeout` has passed since
/// the request arrived: a client that sends a head and holds its body back
/// (or trickles it) loses its connection instead of keeping it. Only the
/// reading is bounded; a large import may take longer to process.
pub async fn bounded_body(timeout: Duration, req: Request, next: Next) -> Response {
    use futures_util::StreamExt;
    let has_body = req.headers().contains_key(header::TRANSFER_ENCODING)
        || req
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    if !has_body {
        return next.run(req).await;
    }
    let deadline = tokio::time::Instant::now() + timeout;
    let (parts, body) = req.into_parts();
    let chunks =
        futures_util::stream::unfold(Some(body.into_data_stream()), move |left| async move {
            let mut chunks = left?;
            match tokio::time::timeout_at(deadline, chunks.next()).await {
                Ok(Some(chunk)) => Some((chunk, Some(chunks))),
                Ok(None) => None,
                Err(_) => Some((
                    Err(axum::Error::new(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the body did not arrive within daemon.request_timeout",
                    ))),
                    None,
                )),
            }
        });
    let req = Request::from_parts(parts, axum::body::Body::from_stream(chunks));
    next.run(req).await
}

/// `GET /api/v1/alerts`: the causes open, what each destination is owed,
/// the messages sent last.
async fn list_alerts(State(app): State<AppState>) -> Result<Response, ApiError> {
    let report = app
        .store
        .read(|c| crate::store::alerts::report(c))
        .await
        .map_err(ApiError::unavailable)?;
    Ok(Json(report).into_response())
}

async fn require_token(
    State(app): State<AppState>,
    headers: HeaderMap,
    req: Request,
    next: Next,
) -> Response {
    let source = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip());
    if let Some(refused) = bearer_refusal(&app, source, &headers, req.uri().path()) {
        return refused;
    }
    next.run(req).await
}

/// Why a request presenting the admin token as `Authorization: Bearer` (or
/// not at all) is refused, if it is: every way a token is presented counts
/// against its source in the one [`AuthLimiter`], so guessing through the
/// console goes no faster than through the API.
pub(crate) fn bearer_refusal(
    app: &AppState,
    source: Option<std::net::IpAddr>,
    headers: &HeaderMap,
    path: &str,
) -> Option<Response> {
    if app.admin_token.is_some() {
        let now = std::time::Instant::now();
        if let Some(wait) = source.and_then(|ip| app.auth_limiter.blocked(ip, now)) {
            app.metrics.admin_auth_failed(true);
            let mut refused = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_failures",
                "too many wrong admin tokens from this address; wait and retry",
            )
            .into_response();
            if let Ok(v) = header::HeaderValue::from_str(&(wait.as_secs() + 1).to_string()) {
                refused.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return Some(refused);
        }
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !token_matches(app, given) {
            app.metrics.admin_auth_failed(false);
            if let Some(ip) = source {
                let failures = app.auth_limiter.failed(ip, now);
                if failures.is_power_of_two() {
                    tracing::warn!(source = %ip, failures, path = %path,
                        "admin request with a missing or wrong token");
                }
            }
            return Some(
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "send Authorization: Bearer <admin_token>",
                )
                .into_response(),
            );
        }
    }
    None
}

/// Whether `given` is the admin token (compared in constant time); true when
/// none is configured (loopback-only listener, checked by the config).
/// Puts a dead call back in the queue for a person (the console's retry).
pub(crate) async fn retry_call_by_hand(app: &AppState, id: i64) -> Result<(), ApiError> {
    retry_call(app, id).await.map(drop)
}

pub(crate) fn token_matches(app: &AppState, given: &str) -> bool {
    match &app.admin_token {
        None => true,
        Some(token) => token
            .expose_secret()
            .as_bytes()
            .ct_eq(given.trim().as_bytes())
            .into(),
    }
}

async fn healthz(State(app): State<AppState>) -> Response {
    match app
        .store
        .read(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
        .await
    {
        Ok(_) => Json(json!({"status": "ok"})).into_response(),
        Err(e) => ApiError::unavailable(e).into_response(),
    }
}

async fn metrics(State(app): State<AppState>) -> Response {
    crate::status::scrape::refresh(&app.metrics, &app.store).await;
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        app.metrics.render(),
    )
        .into_response()
}

#[derive(Deserialize, Default)]
struct StatusQuery {
    low_stock: Option<u32>,
    retried: Option<i64>,
}

async fn status(State(app): State<AppState>, Query(q): Query<StatusQuery>) -> Response {
    let threshold = q.low_stock.unwrap_or(status_page::DEFAULT_LOW_STOCK);
    let token_required = app.admin_token.is_some();
    let setup_hint = app.setup_hint.clone();
    let lang = app.language;
    let view = app
        .store
        .read(move |c| {
            let attention = orders::list(
                c,
                &OrderFilter {
                    attention: true,
                    limit: 100,
                    ..Default::default()
                },
            )?;
            let low_stock = stock::low(c, threshold, 100)?;
            Ok(status_page::StatusView {
                status: Status::read(c, Detail::Full { unknown_items: 100 })?,
                attention,
                dead: outbox::list(c, Some("dead"), 100)?,
                low_stock,
                low_stock_threshold: threshold,
                token_required,
                notice: q.retried.map(|id| match lang {
                    crate::config::Language::Ja => {
                        format!("送信 {id} を再送待ちに戻しました。")
                    }
                    crate::config::Language::En => format!("Call {id} is queued again."),
                }),
                setup_hint,
                lang,
            })
        })
        .await;
    match view {
        Ok(v) => Html(status_page::render(&v)).into_response(),
        Err(e) => ApiError::unavailable(e).into_response(),
    }
}

#[derive(Deserialize)]
struct RetryForm {
    #[serde(default)]
    token: String,
}

/// `POST /outbox/{id}/retry` from the status page's form. Needs the admin
/// token in the form; a cross-site post never gets here ([`guard`]).
async fn retry_from_page(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<RetryForm>,
) -> Response {
    let l = app.language;
    let page = |status: StatusCode, title: &str, message: &str| {
        (status, Html(status_page::message_page(l, title, message))).into_response()
    };
    let say = |ja, en| crate::wording::say(l, ja, en);
    let now = std::time::Instant::now();
    if app.auth_limiter.blocked(peer.ip(), now).is_some() {
        app.metrics.admin_auth_failed(true);
        return page(
            StatusCode::TOO_MANY_REQUESTS,
            say("誤ったトークンが多すぎます", "Too many wrong tokens"),
            say(
                "このアドレスから誤った管理トークンが続きました。1 分待ってからやり直してください。",
                "Too many wrong admin tokens from this address; wait a minute and retry.",
            ),
        );
    }
    if !token_matches(&app, &form.token) {
        app.metrics.admin_auth_failed(false);
        app.auth_limiter.failed(peer.ip(), now);
        return page(
            StatusCode::UNAUTHORIZED,
            say("管理トークンが違います", "Wrong admin token"),
            say(
                "管理トークンがないか、違います。何も変えていません。",
                "The admin token was missing or wrong; nothing was changed.",
            ),
        );
    }
    match retry_call(&app, id).await {
        Ok(_) => (
            StatusCode::SEE_OTHER,
            [(header::LOCATION, format!("/?retried={id}"))],
        )
            .into_response(),
        Err(e) => page(
            e.status,
            say("再送できませんでした", "Not retried"),
            &e.message,
        ),
    }
}
