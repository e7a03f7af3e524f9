//! The admin API on `admin_listen`: stock, orders, the change feed, the outbox,
//! plus `/healthz`, `/metrics` and a status page. Everything under `/api/`
//! needs `Authorization: Bearer <admin token>`.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
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
        .route("/events", get(list_events))
        .route("/outbox", get(list_outbox))
        .route("/outbox/{id}/retry", post(retry_outbox))
        .route("/jgoods/invoice", get(super::jgoods_invoice::get_invoice))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token))
        .layer(axum::extract::DefaultBodyLimit::max(
            inventory_import::MAX_IMPORT_BYTES,
        ));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/", get(status))
        .route("/outbox/{id}/retry", post(retry_from_page))
        .nest("/api/v1", api)
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .with_state(state)
}

async fn require_token(
    State(app): State<AppState>,
    headers: HeaderMap,
    req: Request,
    next: Next,
) -> Response {
    if app.admin_token.is_some() {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !token_matches(&app, given) {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "send Authorization: Bearer <admin_token>",
            )
            .into_response();
        }
    }
    next.run(req).await
}

/// Whether `given` is the admin token (compared in constant time); true when
/// none is configured (loopback-only listener, checked by the config).
fn token_matches(app: &AppState, given: &str) -> bool {
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
    app.metrics
        .refresh_from_store(&app.store, app.safety_stock)
        .await;
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
    let safety = app.safety_stock;
    let threshold = q.low_stock.unwrap_or(status_page::DEFAULT_LOW_STOCK);
    let token_required = app.admin_token.is_some();
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
            let low_stock = stock::list(c, safety)?
                .into_iter()
                .filter(|s| s.available <= threshold)
                .take(100)
                .collect();
            Ok(status_page::StatusView {
                status: Status::read(c, Detail::Full { unknown_items: 100 })?,
                attention,
                dead: outbox::list(c, Some("dead"), 100)?,
                low_stock,
                low_stock_threshold: threshold,
                token_required,
                notice: q.retried.map(|id| format!("Call {id} is queued again.")),
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
/// token in the form; refuses a cross-origin post outright.
async fn retry_from_page(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<RetryForm>,
) -> Response {
    let page = |status: StatusCode, title: &str, message: &str| {
        (status, Html(status_page::message_page(title, message))).into_response()
    };
    if !same_origin(&headers) {
        return page(
            StatusCode::FORBIDDEN,
            "Refused",
            "This form must be sent from the ordersync status page.",
        );
    }
    if !token_matches(&app, &form.token) {
        return page(
            StatusCode::UNAUTHORIZED,
            "Wrong admin token",
            "The admin token was missing or wrong; nothing was changed.",
        );
    }
    match retry_call(&app, id).await {
        Ok(_) => (
            StatusCode::SEE_OTHER,
            [(header::LOCATION, format!("/?retried={id}"))],
        )
            .into_response(),
        Err(e) => page(e.status, "Not retried", &e.message),
    }
}

/// A browser sends `Origin` with a form POST; when it names another site
/// than the `Host` the request came to, it is a forged cross-site request.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .is_some_and(|o| !host.is_empty() && o == host)
}

async fn list_stock(State(app): State<AppState>) -> Result<Response, ApiError> {
    let safety = app.safety_stock;
    let rows = app
        .store
        .read(move |c| stock::list(c, safety))
        .await
        .map_err(ApiError::unavailable)?;
    Ok(Json(json!({ "stock": rows })).into_response())
}

async fn get_stock(
    State(app): State<AppState>,
    Path(sku): Path<String>,
) -> Result<Response, ApiError> {
    let safety = app.safety_stock;
    let s = sku.clone();
    match app
        .store
        .read(move |c| stock::get(c, &s, safety))
        .await
        .map_err(ApiError::unavailable)?
    {
        Some(row) => Ok(Json(row).into_response()),
        None => Err(ApiError::not_found(format!(
            "no stock record for SKU {sku}"
        ))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutStock {
    on_hand: i64,
    #[serde(default)]
    as_of: Option<String>,
    #[serde(default)]
    tax_rate: Option<i64>,
}

async fn put_stock(
    State(app): State<AppState>,
    Path(sku): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: PutStock = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(
            "invalid_body",
            format!("expected {{\"on_hand\": N, \"as_of\"?: RFC3339}}: {e}"),
        )
    })?;
    let mut level =
        inventory_import::level(1, &sku, req.on_hand, req.as_of.as_deref()).map_err(field_error)?;
    level.tax_rate = inventory_import::validate_tax_rate(1, req.tax_rate).map_err(field_error)?;
    let rows = write_levels(&app, vec![level]).await?;
    Ok(Json(rows.into_iter().next()).into_response())
}

fn field_error(e: ImportError) -> ApiError {
    ApiError::bad_request("invalid_stock", e.message)
}

async fn import_stock(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let parsed = if content_type.starts_with("application/json") || body.first() == Some(&b'[') {
        inventory_import::parse_json(&body)
    } else {
        inventory_import::parse_csv_as(&body, charset_of(content_type)?)
    };
    let levels = parsed.map_err(|e| {
        ApiError::bad_request(
            "invalid_import",
            format!("line {}: {}; nothing was imported", e.line, e.message),
        )
        .with_field(format!("line {}", e.line))
    })?;
    let n = levels.len();
    write_levels(&app, levels).await?;
    Ok(Json(json!({"imported": n})).into_response())
}

/// The `charset=` of a Content-Type: `None` when absent (then detected),
/// 415 when it names an encoding ordersync does not read.
fn charset_of(content_type: &str) -> Result<Option<TextEncoding>, ApiError> {
    let Some(name) = content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("charset").then_some(v)
    }) else {
        return Ok(None);
    };
    TextEncoding::parse(name).map(Some).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_charset",
            format!("charset {:?}: send utf-8 or Shift_JIS", name.trim()),
        )
    })
}

#[derive(Deserialize, Default)]
struct ExportQuery {
    format: Option<String>,
    since: Option<String>,
    encoding: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/v1/orders/export?format=csv|json&since=&encoding=utf8|sjis&limit=`.
async fn export_orders(
    State(app): State<AppState>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let format = match q.format.as_deref().filter(|s| !s.is_empty()) {
        None => ExportFormat::Csv,
        Some(f) => ExportFormat::parse(f).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_format",
                format!("unknown format {f:?}; use csv or json"),
            )
            .with_field("format")
        })?,
    };
    let encoding = match q.encoding.as_deref().filter(|s| !s.is_empty()) {
        None => TextEncoding::Utf8,
        Some(e) => TextEncoding::parse(e).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_encoding",
                format!("unknown encoding {e:?}; use utf8 or sjis"),
            )
            .with_field("encoding")
        })?,
    };
    let since = match q.since.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(orders_export::parse_since(s).ok_or_else(|| {
            ApiError::bad_request("invalid_since", "since is RFC 3339 or YYYY-MM-DD")
                .with_field("since")
        })?),
    };
    let limit = q.limit.unwrap_or(orders_export::MAX_EXPORT);
    let list = app
        .store
        .read(move |c| orders_export::load(c, since.as_deref(), limit))
        .await
        .map_err(ApiError::unavailable)?;
    let (bytes, _) = orders_export::render(&list, format, encoding);
    let (content_type, file) = match format {
        ExportFormat::Csv => (
            format!("text/csv; charset={}", encoding.charset()),
            "orders.csv",
        ),
        ExportFormat::Json => ("application/json".to_string(), "orders.json"),
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Writes stock levels in one transaction and answers the rows as stored.
async fn write_levels(
    app: &AppState,
    levels: Vec<StockLevel>,
) -> Result<Vec<stock::StockRow>, ApiError> {
    let safety = app.safety_stock;
    app.store
        .write(move |tx| {
            let now = time::rfc3339(time::now());
            crate::store::restock::set_levels(tx, &levels, safety, &now)?;
            let mut rows = Vec::with_capacity(levels.len().min(1));
            if let Some(first) = levels.first() {
                rows.extend(stock::get(tx, &first.sku, safety)?);
            }
            Ok(rows)
        })
        .await
        .map_err(|e| match e {
            crate::store::StoreError::Invalid(m) => ApiError::bad_request("invalid_stock", m),
            e => ApiError::unavailable(e),
        })
}

#[derive(Deserialize, Default)]
struct OrdersQuery {
    channel: Option<String>,
    state: Option<String>,
    attention: Option<bool>,
    limit: Option<u32>,
    after: Option<String>,
}

/// Parses `channel` names, answering 400 for unknown ones.
pub fn parse_channel(s: &str) -> Result<Channel, ApiError> {
    Channel::parse(s).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_channel",
            format!("unknown channel {s:?}; use jgoods, rakuten or direct"),
        )
        .with_field("channel")
    })
}

async fn list_orders(
    State(app): State<AppState>,
    Query(q): Query<OrdersQuery>,
) -> Result<Response, ApiError> {
    let channel = q
        .channel
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(parse_channel)
        .transpose()?;
    let state = q
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            OrderState::parse(s).ok_or_else(|| {
                ApiError::bad_request("invalid_state", format!("unknown state {s:?}"))
                    .with_field("state")
            })
        })
        .transpose()?;
    let after = match q.after.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(a) => Some(match (a.split_once(':'), channel) {
            (Some((ch, id)), _) if Channel::parse(ch).is_some() => {
                (parse_channel(ch)?, id.to_string())
            }
            (_, Some(ch)) => (ch, a.to_string()),
            _ => {
                return Err(ApiError::bad_request(
                    "invalid_after",
                    "after is channel:id (or an id with channel=)",
                )
                .with_field("after"));
            }
        }),
    };
    let filter = OrderFilter {
        channel,
        state,
        attention: q.attention.unwrap_or(false),
        limit: q.limit.unwrap_or(100).clamp(1, MAX_LIMIT),
        after,
    };
    let list = app
        .store
        .read(move |c| orders::list(c, &filter))
        .await
        .map_err(|e| match e {
            crate::store::StoreError::Invalid(m) => {
                ApiError::bad_request("invalid_after", m).with_field("after")
            }
            e => ApiError::unavailable(e),
        })?;
    let next_after = list
        .last()
        .map(|o| format!("{}:{}", o.channel.as_str(), o.id));
    Ok(Json(json!({"orders": list, "next_after": next_after})).into_response())
}

async fn get_order(
    State(app): State<AppState>,
    Path((channel, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let ch = parse_channel(&channel)?;
    let key = id.clone();
    match app
        .store
        .read(move |c| orders::load(c, ch, &key))
        .await
        .map_err(ApiError::unavailable)?
    {
        Some(o) => Ok(Json(o).into_response()),
        None => Err(ApiError::not_found(format!("no {channel} order {id}"))),
    }
}

#[derive(Deserialize)]
struct EventsQuery {
    after: Option<i64>,
    limit: Option<u32>,
    wait: Option<u64>,
}

async fn list_events(
    State(app): State<AppState>,
    Query(q): Query<EventsQuery>,
) -> Result<Response, ApiError> {
    let after = q.after.unwrap_or(0).max(0);
    let limit = q.limit.unwrap_or(100).clamp(1, MAX_LIMIT);
    let deadline =
        tokio::time::Instant::now() + Duration::from_secs(q.wait.unwrap_or(0)).min(MAX_WAIT);
    loop {
        let rows = app
            .store
            .read(move |c| events::after(c, after, limit))
            .await
            .map_err(ApiError::unavailable)?;
        let now = tokio::time::Instant::now();
        if !rows.is_empty() || now >= deadline {
            let next_after = rows.last().map(|e| e.id).unwrap_or(after);
            return Ok(Json(json!({"events": rows, "next_after": next_after})).into_response());
        }
        // Woken by our own commits at once; writes by other processes (the CLI)
        // are picked up by the periodic re-check.
        app.store
            .wait_for_commit((deadline - now).min(Duration::from_millis(500)))
            .await;
    }
}

#[derive(Deserialize)]
struct OutboxQuery {
    state: Option<String>,
    limit: Option<u32>,
}

async fn list_outbox(
    State(app): State<AppState>,
    Query(q): Query<OutboxQuery>,
) -> Result<Response, ApiError> {
    let state = q.state.filter(|s| !s.is_empty());
    if let Some(s) = &state
        && !["pending", "done", "dead", "cancelled"].contains(&s.as_str())
    {
        return Err(
            ApiError::bad_request("invalid_state", format!("unknown outbox state {s:?}"))
                .with_field("state"),
        );
    }
    let limit = q.limit.unwrap_or(100).clamp(1, MAX_LIMIT);
    let rows = app
        .store
        .read(move |c| outbox::list(c, state.as_deref(), limit))
        .await
        .map_err(ApiError::unavailable)?;
    Ok(Json(json!({ "outbox": rows })).into_response())
}

async fn retry_outbox(
    State(app): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    Ok(Json(retry_call(&app, id).await?).into_response())
}

/// Puts a dead call back in the queue (API and status page alike).
async fn retry_call(app: &AppState, id: i64) -> Result<Option<outbox::OutboxRow>, ApiError> {
    let result = app
        .store
        .write(move |tx| {
            let now = time::rfc3339(time::now());
            Ok(match outbox::retry_by_hand(tx, id, &now)? {
                None => None,
                Some(retried) => Some((retried, outbox::get(tx, id)?)),
            })
        })
        .await
        .map_err(ApiError::unavailable)?;
    match result {
        None => Err(ApiError::not_found(format!("no outbox call {id}"))),
        Some((false, _)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_dead",
            format!("outbox call {id} is not dead"),
        )),
        Some((true, row)) => {
            app.dispatcher_wake.notify_one();
            Ok(row)
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShipmentBody {
    carrier: String,
    tracking_no: String,
    shipped_on: String,
    #[serde(default)]
    shipping_cost: Option<i64>,
}

/// Validates a shipment request field by field.
pub fn parse_shipment(
    carrier: &str,
    tracking_no: &str,
    shipped_on: &str,
    shipping_cost: Option<i64>,
) -> Result<ShipmentRequest, ApiError> {
    let carrier = Carrier::parse(carrier).ok_or_else(|| {
        let names: Vec<&str> = Carrier::ALL.iter().map(|c| c.as_str()).collect();
        ApiError::bad_request(
            "invalid_carrier",
            format!(
                "unknown carrier {carrier:?}; use one of {}",
                names.join(", ")
            ),
        )
        .with_field("carrier")
    })?;
    let tracking_no = tracking_no.trim();
    if tracking_no.is_empty()
        || tracking_no.len() > 64
        || !tracking_no
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(ApiError::bad_request(
            "invalid_tracking_no",
            "tracking_no must be 1 to 64 letters, digits or hyphens",
        )
        .with_field("tracking_no"));
    }
    let shipped_on = chrono::NaiveDate::parse_from_str(shipped_on, "%Y-%m-%d").map_err(|_| {
        ApiError::bad_request("invalid_date", "shipped_on must be YYYY-MM-DD")
            .with_field("shipped_on")
    })?;
    if shipping_cost.is_some_and(|c| !(0..=10_000_000).contains(&c)) {
        return Err(ApiError::bad_request(
            "invalid_amount",
            "shipping_cost must be whole yen from 0 to 10000000",
        )
        .with_field("shipping_cost"));
    }
    Ok(ShipmentRequest {
        carrier,
        tracking_no: tracking_no.to_string(),
        shipped_on,
        shipping_cost,
    })
}

fn command_error(e: CommandError) -> ApiError {
    match e {
        CommandError::NotFound(..) => ApiError::not_found(e.to_string()),
        CommandError::Refused(r) => {
            ApiError::new(StatusCode::CONFLICT, "invalid_state", r.to_string())
        }
        CommandError::Store(s) => ApiError::unavailable(s),
    }
}

async fn ship_order(
    State(app): State<AppState>,
    Path((channel, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let ch = parse_channel(&channel)?;
    let b: ShipmentBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(
            "invalid_body",
            format!(
                "expected {{\"carrier\", \"tracking_no\", \"shipped_on\", \"shipping_cost\"?}}: {e}"
            ),
        )
    })?;
    let req = parse_shipment(&b.carrier, &b.tracking_no, &b.shipped_on, b.shipping_cost)?;
    let order = erp::ship(
        &app.store,
        ch,
        id,
        req,
        app.payment_policy,
        app.safety_stock,
    )
    .await
    .map_err(command_error)?;
    app.dispatcher_wake.notify_one();
    Ok((StatusCode::ACCEPTED, Json(order)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CancelBody {
    #[serde(default)]
    reason: String,
}

async fn cancel_order(
    State(app): State<AppState>,
    Path((channel, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let ch = parse_channel(&channel)?;
    let b: CancelBody = if body.iter().all(u8::is_ascii_whitespace) {
        CancelBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(
                "invalid_body",
                format!("expected {{\"reason\": \"...\"}}: {e}"),
            )
        })?
    };
    let order = erp::cancel(&app.store, ch, id, b.reason, app.safety_stock)
        .await
        .map_err(command_error)?;
    app.dispatcher_wake.notify_one();
    Ok((StatusCode::ACCEPTED, Json(order)).into_response())
}

async fn register_order(State(app): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let order = DirectOrder::parse(&body)
        .map_err(|e| ApiError::bad_request("invalid_order", e.to_string()).with_field(e.field))?;
    if let Some(p) = order.payment.deferred_provider()
        && !app.credit_providers.contains(&p)
    {
        return Err(ApiError::bad_request(
            "provider_disabled",
            format!("[{}] is not enabled in the config", p.as_str()),
        )
        .with_field("payment"));
    }
    if matches!(order.payment, DirectPayment::Komoju { .. }) && app.komoju_webhook_secrets.is_none()
    {
        return Err(ApiError::bad_request(
            "provider_disabled",
            "[komoju] is not enabled in the config",
        )
        .with_field("payment"));
    }
    match direct::register(&app.store, order, app.safety_stock)
        .await
        .map_err(ApiError::unavailable)?
    {
        Registered::Created(o) => {
            // The credit request (if any) is in the outbox.
            app.dispatcher_wake.notify_one();
            Ok((StatusCode::CREATED, Json(o)).into_response())
        }
        Registered::Same(o) => Ok((StatusCode::OK, Json(o)).into_response()),
        Registered::Conflict(_) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "an order with this id was registered with different content",
        )),
    }
}
