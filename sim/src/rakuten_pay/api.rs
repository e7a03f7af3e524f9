//! The simulator's HTTP surface. Every request runs the same steps, in the
//! order a gateway applies them: count and record it, suffer a due fault (or
//! the maintenance window), check the ESA header (`401 ES01-01`, or `GA0001`
//! for an expired key) and that the key may use the function (`401 ES01-01`
//! for one not ticked in RMS), check the content type (415 without `charset=utf-8`
//! on the order API, `rakuten-pay.md` Transport), read the JSON body (`400
//! ES04-01` if it is not JSON), then let [`super::state`] decide.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::time::Instant;

use super::Shared;
use super::state::{Answer, Endpoint, Fault};
use super::wire::{GatewayError, codes};
use crate::transport::WireFormat;

type Sim = State<Arc<Shared>>;

/// Paths as at `api.rms.rakuten.co.jp`; the order API's end in `/`.
pub(super) const ORDER_API_PATH: &str = "/es/2.0/order";
pub(super) const LICENSE_API_PATH: &str = "/es/1.0/license-management";
/// Base of ItemAPI 2.0 and Inventory API 2.0.
pub(super) const INVENTORY_API_PATH: &str = "/es/2.0";

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/es/2.0/order/searchOrder/",
            post(|sim: Sim, h: HeaderMap, b: Bytes| order_call(sim, Endpoint::SearchOrder, h, b)),
        )
        .route(
            "/es/2.0/order/getOrder/",
            post(|sim: Sim, h: HeaderMap, b: Bytes| order_call(sim, Endpoint::GetOrder, h, b)),
        )
        .route(
            "/es/2.0/order/confirmOrder/",
            post(|sim: Sim, h: HeaderMap, b: Bytes| order_call(sim, Endpoint::ConfirmOrder, h, b)),
        )
        .route(
            "/es/2.0/order/updateOrderShipping/",
            post(|sim: Sim, h: HeaderMap, b: Bytes| {
                order_call(sim, Endpoint::UpdateOrderShipping, h, b)
            }),
        )
        .route(
            "/es/1.0/license-management/license-key/expiry-date",
            get(license_expiry),
        )
        .route(
            "/es/2.0/inventories/bulk-upsert",
            post(|sim: Sim, h: HeaderMap, b: Bytes| {
                inventory_call(sim, Endpoint::BulkUpsert, h, b)
            }),
        )
        .route(
            "/es/2.0/inventories/bulk-get",
            post(|sim: Sim, h: HeaderMap, b: Bytes| inventory_call(sim, Endpoint::BulkGet, h, b)),
        )
        .route("/es/2.0/items/search", get(items_search))
        .fallback(|| async { (StatusCode::NOT_FOUND, "Not Found").into_response() })
        .with_state(shared)
}

async fn order_call(
    State(sim): Sim,
    endpoint: Endpoint,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed = serde_json::from_slice::<Value>(&body).ok();
    let recorded = parsed
        .clone()
        .unwrap_or_else(|| Value::String(String::from_utf8_lossy(&body).into_owned()));
    let late = match admit(&sim, endpoint, &headers, Some(recorded)) {
        Ok(admitted) => admitted.late,
        Err(refusal) => return *refusal,
    };
    if !json_utf8(&headers) {
        sim.with_state(|s, _| s.stats.unsupported_media_type += 1);
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, "Unsupported Media Type").into_response();
    }
    let Some(body) = parsed else {
        return gateway(
            StatusCode::BAD_REQUEST,
            codes::GATEWAY_BAD_REQUEST,
            "Bad Request",
        );
    };
    let answer = sim.with_state(|s, now| match endpoint {
        Endpoint::SearchOrder => s.search_order(&body, now),
        Endpoint::GetOrder => s.get_order(&body, now),
        Endpoint::ConfirmOrder => s.confirm_order(&body, now),
        Endpoint::UpdateOrderShipping => s.update_order_shipping(&body, now),
        Endpoint::License
        | Endpoint::Any
        | Endpoint::BulkUpsert
        | Endpoint::BulkGet
        | Endpoint::ItemsSearch => Answer {
            status: 404,
            body: Value::Null,
        },
    });
    answer_after(&sim, late, json_answer(answer)).await
}

/// `bulk-upsert` and `bulk-get`: the gateway's steps, `application/json`,
/// then the per-second limit (a refused call does not count towards it).
async fn inventory_call(
    State(sim): Sim,
    endpoint: Endpoint,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Admitted { late, arrived, .. } = match admit(&sim, endpoint, &headers, None) {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    if !is_json(&headers) {
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, "Unsupported Media Type").into_response();
    }
    let upsert = endpoint == Endpoint::BulkUpsert;
    if !sim.with_state(|s, _| s.inventory.admit(upsert, arrived)) {
        return (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests").into_response();
    }
    // A body that is not JSON has no `inventories`: both calls answer that
    // with their 400.
    let body = serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
    let answer = sim.with_state(|s, now| {
        if upsert {
            s.inventory.bulk_upsert(&body, now)
        } else {
            s.inventory.bulk_get(&body)
        }
    });
    answer_after(&sim, late, inventory_answer(answer)).await
}

async fn items_search(
    State(sim): Sim,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    let late = match admit(&sim, Endpoint::ItemsSearch, &headers, None) {
        Ok(admitted) => admitted.late,
        Err(refusal) => return *refusal,
    };
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let answer = sim.with_state(|s, now| s.inventory.search(&query, now));
    answer_after(&sim, late, json_answer(answer)).await
}

/// `application/json`, with or without a charset.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

/// 204 carries no body; the rest are JSON.
fn inventory_answer(answer: Answer) -> Response {
    if answer.status == 204 {
        return StatusCode::NO_CONTENT.into_response();
    }
    json_answer(answer)
}

async fn license_expiry(
    State(sim): Sim,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    let late = match admit(&sim, Endpoint::License, &headers, None) {
        Ok(admitted) => admitted.late,
        Err(refusal) => return *refusal,
    };
    let queried = query.ok().and_then(|Query(q)| q.get("licenseKey").cloned());
    let answer = sim.with_state(|s, _| s.license_expiry(queried.as_deref()));
    answer_after(&sim, late, json_answer(answer)).await
}

/// A request the gateway lets through to its endpoint.
struct Admitted {
    /// A fault to apply to the answer ([`answer_after`]).
    late: Option<Fault>,
    /// When it arrived.
    arrived: Instant,
}

/// The gateway's first steps, the same for every call: count it (and record
/// its `body`), suffer a due fault, check the ESA header, then whether the
/// key may use this function. `Err` is the answer to send instead.
fn admit(
    sim: &Arc<Shared>,
    endpoint: Endpoint,
    headers: &HeaderMap,
    body: Option<Value>,
) -> Result<Admitted, Box<Response>> {
    let arrived = Instant::now();
    sim.with_state(|s, _| s.record_call(endpoint, body, arrived));
    let late = gate(sim, endpoint)?;
    let key = authorize(sim, headers)?;
    if !sim.with_state(|s, _| s.may_use(&key, endpoint)) {
        // A function not ticked for this key in RMS: the gateway refuses it
        // exactly as it refuses a bad key.
        sim.with_state(|s, _| s.stats.unauthorized += 1);
        return Err(Box::new(gateway(
            StatusCode::UNAUTHORIZED,
            codes::GATEWAY_UNAUTHORISED,
            "Un-Authorised",
        )));
    }
    Ok(Admitted { late, arrived })
}

/// Applies a due fault: `Err` is the answer to send instead of handling the
/// request; `Ok(Some(fault))` means handle it, then let the fault bend the
/// answer ([`answer_after`]).
fn gate(sim: &Arc<Shared>, endpoint: Endpoint) -> Result<Option<Fault>, Box<Response>> {
    let Some(fault) = sim.with_state(|s, _| s.take_fault(endpoint)) else {
        return Ok(None);
    };
    match fault {
        late @ Fault::Delay(_) => Ok(Some(late)),
        Fault::Transport(t) => match t.instead(WireFormat::Json) {
            Some(answer) => Err(Box::new(answer)),
            None => Ok(Some(fault)),
        },
        Fault::Maintenance { retry_after_secs } => {
            let mut answer = (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                "<html><body><h1>503 Service Unavailable</h1><p>ただいまメンテナンス中です。</p></body></html>",
            )
                .into_response();
            if let Some(secs) = retry_after_secs {
                answer
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            Err(Box::new(answer))
        }
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Err(Box::new(
                (status, format!("simulated HTTP {code}")).into_response(),
            ))
        }
        Fault::TooManyRequests { retry_after_secs } => {
            let mut answer = (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests").into_response();
            answer
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            Err(Box::new(answer))
        }
        Fault::Gateway { status, code } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            Err(Box::new(gateway(status, code, "simulated gateway error")))
        }
        Fault::Garbage => Err(Box::new(
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                "{\"MessageModelList\": [",
            )
                .into_response(),
        )),
    }
}

/// `Authorization: ESA base64(serviceSecret:licenseKey)` with a key that is
/// active and not expired at the simulator's clock; the key, or the 401.
fn authorize(sim: &Arc<Shared>, headers: &HeaderMap) -> Result<String, Box<Response>> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let refusal = match sim.with_state(|s, now| s.authorize(presented, now)) {
        Ok(key) => return Ok(key),
        Err(refusal) => refusal,
    };
    sim.with_state(|s, _| s.stats.unauthorized += 1);
    Err(Box::new(gateway(
        StatusCode::UNAUTHORIZED,
        refusal.code(),
        "Un-Authorised",
    )))
}

/// `application/json` with `charset=utf-8` (any case, any spacing).
fn json_utf8(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let lower = value.to_ascii_lowercase();
    let mut parts = lower.split(';').map(str::trim);
    parts.next() == Some("application/json") && parts.any(|p| p.replace(' ', "") == "charset=utf-8")
}

/// Holds an answer back (a `Delay` fault) unless the simulator stops first.
async fn answer_after(sim: &Shared, late: Option<Fault>, answer: Response) -> Response {
    match late {
        Some(Fault::Delay(delay)) => {
            tokio::select! {
                _ = sim.tasks.cancel.cancelled() => {}
                _ = tokio::time::sleep(delay) => {}
            }
            answer
        }
        Some(Fault::Transport(t)) => t.deliver(answer).await,
        _ => answer,
    }
}

fn json_answer(answer: Answer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    (status, axum::Json(answer.body)).into_response()
}

/// The gateway's `{"Results": {"errorCode", "message"}}`.
fn gateway(status: StatusCode, code: &str, message: &str) -> Response {
    (status, axum::Json(GatewayError::new(code, message))).into_response()
}
