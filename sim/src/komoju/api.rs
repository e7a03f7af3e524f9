//! The simulator's HTTP surface under `/api/v1`. Every handler runs the same
//! steps: count the call, suffer an injected 429/5xx, check Basic auth, then
//! (POSTs) go through the idempotency store, and let [`super::state`] decide.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde::Serialize;

use super::faults::{Endpoint, Fault};
use super::idempotency::{Begin, StoredAnswer};
use super::model::Payment;
use super::settings::View;
use super::state::{ListPage, SimState};
use super::wire::{
    API_VERSION_HEADER, ApiError, IDEMPOTENCY_HEADER, KomojuPayment, KomojuPaymentList,
    MAX_IDEMPOTENCY_KEY_LEN,
};
use super::{API_PATH, Shared};
use crate::transport::WireFormat;
use chrono::{DateTime, Utc};

type Sim = State<Arc<Shared>>;

/// The simulator's routes: `/api/v1/payments…`.
pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(&format!("{API_PATH}/payments"), get(list_payments))
        .route(&format!("{API_PATH}/payments/{{id}}"), get(get_payment))
        .route(&format!("{API_PATH}/payments/{{id}}/{{action}}"), post(act))
        .merge(super::platform::routes())
        .fallback(|| async {
            render(Err::<(), _>(ApiError::not_found(
                "The requested resource could not be found",
            )))
            .into_response()
        })
        .with_state(shared)
}

async fn get_payment(State(sim): Sim, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Err(refusal) = admit(&sim, Endpoint::GetPayment, &headers) {
        return *refusal;
    }
    let view = view_of(&sim, &headers);
    let answer = render_payment(sim.with_state(|s, _| s.get(&id)), view);
    answer.into_response()
}

/// What the request's `X-KOMOJU-API-VERSION` (or the key's version) shows.
pub(super) fn view_of(sim: &Shared, headers: &HeaderMap) -> View {
    let asked = headers
        .get(API_VERSION_HEADER)
        .and_then(|v| v.to_str().ok());
    sim.lock().state.behaviour.view(asked)
}

async fn list_payments(
    State(sim): Sim,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    if let Err(refusal) = admit(&sim, Endpoint::ListPayments, &headers) {
        return *refusal;
    }
    let Ok(Query(query)) = query else {
        return render(Err::<(), _>(ApiError::invalid(
            "query",
            "unreadable query string",
        )))
        .into_response();
    };
    let view = view_of(&sim, &headers);
    let page = sim
        .with_state(|s, _| s.list(&query))
        .map(|page| payment_list(&page, view));
    render(page).into_response()
}

/// A `GET /payments` page as JSON (also a seller's payments).
pub(super) fn payment_list(page: &ListPage, view: View) -> KomojuPaymentList {
    KomojuPaymentList {
        resource: "payment_list",
        data: (page.data.iter())
            .map(|p| KomojuPayment::from_payment(p, view))
            .collect(),
        total: page.total,
        page: page.page,
        per_page: page.per_page,
        last_page: page.last_page,
    }
}

/// `POST /payments/{id}/{capture|cancel|refund|refund_request}`.
async fn act(
    State(sim): Sim,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let endpoint = match action.as_str() {
        "capture" => Endpoint::Capture,
        "cancel" => Endpoint::Cancel,
        "refund" => Endpoint::Refund,
        "refund_request" => Endpoint::RefundRequest,
        _ => {
            return render(Err::<(), _>(ApiError::not_found(format!(
                "No action {action:?} on payments"
            ))))
            .into_response();
        }
    };
    let scope = format!("{id}/{action}");
    change(
        &sim,
        endpoint,
        &headers,
        &scope,
        body,
        |s, view, body, now| {
            match endpoint {
                Endpoint::Capture => render_payment(s.capture(&id, body, view, now), view),
                Endpoint::Cancel => render_payment(s.cancel(&id, body, now), view),
                Endpoint::Refund => render_payment(s.refund(&id, body, now), view),
                // An empty answer, 200 or 204 as the account is set [guess].
                Endpoint::RefundRequest => match s.refund_request(&id, body, now) {
                    Ok(()) => StoredAnswer {
                        status: s.behaviour.refund_request_status,
                        body: Vec::new().into(),
                    },
                    Err(e) => render(Err::<(), _>(e)),
                },
                _ => render(Err::<(), _>(ApiError::not_found("no such action"))),
            }
        },
    )
    .await
}

/// A change (POST or PATCH): admitted, held to its idempotency key (when
/// given), suffering its faults, and `handle`d under the lock; its answer is
/// stored under the key. `scope` tells keys of different resources apart.
pub(super) async fn change(
    sim: &Arc<Shared>,
    endpoint: Endpoint,
    headers: &HeaderMap,
    scope: &str,
    body: Bytes,
    handle: impl FnOnce(&mut SimState, View, &[u8], DateTime<Utc>) -> StoredAnswer,
) -> Response {
    // Subscribed before the key is marked in flight, so a release in between is not missed.
    let mut release = sim.release.subscribe();
    let fault = match admit(sim, endpoint, headers) {
        Ok(fault) => fault,
        Err(refusal) => return *refusal,
    };
    let mut guard = match idempotency(sim, headers, scope, &body) {
        KeyCheck::Answer(answer) => return answer.into_response(),
        KeyCheck::Proceed(guard) => guard,
    };
    if fault == Some(Fault::Hold) {
        tokio::select! {
            // Dropping `guard` frees the key: nothing was processed.
            _ = sim.tasks.cancel.cancelled() => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
            _ = release.changed() => {}
        }
    }
    let view = view_of(sim, headers);
    let answer = sim.with_state(|s, now| {
        let answer = handle(s, view, &body, now);
        if let Some(g) = guard.as_mut() {
            s.idem_finish(&g.key, g.ticket, answer.clone());
            g.armed = false;
        }
        answer
    });
    match fault {
        Some(Fault::LoseAnswer(delay)) => {
            hold_back(sim, delay).await;
            answer.into_response()
        }
        Some(Fault::Transport(t)) => t.deliver(answer.into_response()).await,
        _ => answer.into_response(),
    }
}

/// Counts the call and records its API version, suffers a due 429/5xx, and
/// checks Basic auth. `Ok` carries a fault that applies later (`Hold`,
/// `LoseAnswer`); `Err` is the answer to send instead of handling the request.
pub(super) fn admit(
    sim: &Arc<Shared>,
    endpoint: Endpoint,
    headers: &HeaderMap,
) -> Result<Option<Fault>, Box<Response>> {
    let version = headers
        .get(API_VERSION_HEADER)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let fault = sim.with_state(|s, _| {
        *s.stats.calls.entry(endpoint).or_default() += 1;
        match version {
            Some(v) => *s.stats.api_versions.entry(v).or_default() += 1,
            None => s.stats.missing_api_version += 1,
        }
        s.take_fault(endpoint)
    });
    match fault {
        Some(Fault::Status(code)) => {
            return Err(Box::new(
                render(Err::<(), _>(ApiError::injected(code))).into_response(),
            ));
        }
        Some(Fault::TooManyRequests { retry_after_secs }) => {
            let mut answer = render(Err::<(), _>(ApiError::too_many_requests())).into_response();
            answer
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            return Err(Box::new(answer));
        }
        Some(Fault::Transport(t)) => {
            if let Some(answer) = t.instead(WireFormat::Json) {
                return Err(Box::new(answer));
            }
        }
        Some(Fault::Hold | Fault::LoseAnswer(_)) | None => {}
    }
    if !authorized(sim, headers) {
        sim.with_state(|s, _| s.stats.unauthorized += 1);
        let mut answer = render(Err::<(), _>(ApiError::unauthorized())).into_response();
        answer.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"KOMOJU\""),
        );
        return Err(Box::new(answer));
    }
    Ok(fault)
}

/// `Authorization: Basic base64(secret_key + ":")`: the key as user name and
/// an empty password, exactly.
fn authorized(sim: &Shared, headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(encoded) = value.strip_prefix("Basic ") else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let expected = format!("{}:", sim.cfg.secret_key);
    use subtle::ConstantTimeEq as _;
    bool::from(decoded.ct_eq(expected.as_bytes()))
}

/// The outcome of the idempotency check of a POST.
enum KeyCheck {
    /// Answer this (a replay, a 409, a 422 for a bad key) without processing.
    Answer(StoredAnswer),
    /// Process; the guard (when a key was given) frees the key if the request
    /// is dropped before it finishes.
    Proceed(Option<KeyGuard>),
}

fn idempotency(sim: &Arc<Shared>, headers: &HeaderMap, scope: &str, body: &[u8]) -> KeyCheck {
    let Some(raw) = headers.get(IDEMPOTENCY_HEADER) else {
        sim.with_state(|s, _| s.stats.idempotency.missing_keys += 1);
        return KeyCheck::Proceed(None);
    };
    let key = match raw.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY_LEN && k.is_ascii() => k,
        Ok(_) | Err(_) => {
            sim.with_state(|s, _| s.stats.idempotency.invalid_keys += 1);
            return KeyCheck::Answer(render(Err::<(), _>(ApiError::invalid(
                "X-KOMOJU-IDEMPOTENCY",
                format!(
                    "The idempotency key must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} ASCII characters"
                ),
            ))));
        }
    };
    let fingerprint = format!("POST {scope} {}", String::from_utf8_lossy(body));
    match sim.with_state(|s, now| s.idem_begin(key, &fingerprint, now)) {
        Begin::Replay(answer) => KeyCheck::Answer(answer),
        Begin::InFlight => KeyCheck::Answer(render(Err::<(), _>(ApiError::conflict()))),
        Begin::Fresh { ticket } => KeyCheck::Proceed(Some(KeyGuard {
            sim: sim.clone(),
            key: key.to_string(),
            ticket,
            armed: true,
        })),
    }
}

/// Frees an in-flight key when its request is dropped before finishing.
struct KeyGuard {
    sim: Arc<Shared>,
    key: String,
    ticket: u64,
    armed: bool,
}

impl Drop for KeyGuard {
    fn drop(&mut self) {
        if self.armed {
            self.sim
                .with_state(|s, _| s.idem_abandon(&self.key, self.ticket));
        }
    }
}

/// Holds an answer back (a `LoseAnswer` fault) unless the simulator stops first.
async fn hold_back(sim: &Shared, delay: Duration) {
    tokio::select! {
        _ = sim.tasks.cancel.cancelled() => {}
        _ = tokio::time::sleep(delay) => {}
    }
}

/// A payment, or an error, as the exact bytes KOMOJU would answer.
pub(super) fn render_payment(result: Result<Payment, ApiError>, view: View) -> StoredAnswer {
    render(result.map(|p| KomojuPayment::from_payment(&p, view)))
}

/// A result as the exact bytes KOMOJU would answer: the value, or the error envelope.
pub(super) fn render<T: Serialize>(result: Result<T, ApiError>) -> StoredAnswer {
    let (status, body) = match result {
        Ok(value) => (200, serde_json::to_vec(&value)),
        Err(e) => (e.http_status, serde_json::to_vec(&e.body())),
    };
    StoredAnswer {
        status,
        body: body.unwrap_or_default().into(),
    }
}

impl IntoResponse for StoredAnswer {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            )],
            Bytes::from(self.body.to_vec()),
        )
            .into_response()
    }
}
