//! The simulator's HTTP surface: token endpoint ("Auth for calls to
//! J-goods", "OAuth2 token (2026-12)"), order-info API and the stock part of
//! the item-info API. Every handler runs the same steps: count the call,
//! suffer an injected fault if one is due, check the bearer token, then let
//! [`super::state`] decide.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use base64::Engine as _;
use tokio::time::Instant;

use super::requests::ApiError;
use super::state::{Api, Endpoint, Fault};
use super::wire::{
    JgoodsError, JgoodsErrorBody, JgoodsOrder, JgoodsSearchPage, JgoodsToken, JgoodsTokenError,
    Status,
};
use super::{ClientAuth, Shared};
use crate::transport::WireFormat;

pub(super) type Sim = State<Arc<Shared>>;

/// The simulator's routes: `/oauth/token`, `/order/v2/…`, `/v3/…`,
/// `/category/v1/…`, and the web site's pages a wrong `token_url` may name
/// (`/www/…`, [`super::website`]).
pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/oauth/token", post(token))
        // search.json shares the `{order_no}` route so that a PUT to it is an
        // unknown order (404), as at J-goods, rather than a 405.
        .route("/order/v2/{order_no}", put(put_order).get(get_order))
        .route(
            "/v3/item.json",
            put(put_items)
                .post(super::catalog_api::post_items)
                .delete(super::catalog_api::delete_items),
        )
        .route("/v3/search.json", get(super::catalog_api::search_items))
        .route("/v3/{item_code}", get(super::catalog_api::get_item))
        .route(
            "/category/v1/categories.json",
            get(super::catalog_api::get_categories)
                .put(super::catalog_api::put_categories)
                .delete(super::catalog_api::delete_categories),
        )
        .merge(super::website::router())
        .fallback(|| async { error(StatusCode::NOT_FOUND, "NOT_FOUND", "no such endpoint", None) })
        .with_state(shared)
}

async fn token(
    State(sim): Sim,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    sim.with_state(|s| s.stats.token_requests += 1);
    let late = match gate(&sim, Endpoint::Token, None) {
        Ok(late) => late,
        Err(refusal) => return refusal.into_response(),
    };
    let answer = issue_token(&sim, &headers, form.ok().map(|Form(f)| f));
    answer_after(&sim, late, answer).await
}

fn issue_token(
    sim: &Arc<Shared>,
    headers: &HeaderMap,
    form: Option<HashMap<String, String>>,
) -> Response {
    let presented = match sim.cfg.token_auth {
        ClientAuth::ClientSecretBasic => basic_credentials(headers),
        ClientAuth::ClientSecretPost => form
            .as_ref()
            .and_then(|f| Some((f.get("client_id")?.clone(), f.get("client_secret")?.clone()))),
    };
    let valid = presented
        .as_ref()
        .is_some_and(|(id, secret)| *id == sim.cfg.client_id && *secret == sim.cfg.client_secret);
    if !valid {
        return token_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client id or wrong secret",
        );
    }
    let grant = form.as_ref().and_then(|f| f.get("grant_type"));
    if grant.map(String::as_str) != Some("client_credentials") {
        return token_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        );
    }
    let access_token = super::random_id(32);
    let ttl = sim.cfg.token_ttl;
    sim.with_state(|s| s.issue_token(access_token.clone(), ttl, Instant::now()));
    axum::Json(JgoodsToken {
        access_token,
        token_type: "bearer".to_string(),
        expires_in: ttl.as_secs(),
    })
    .into_response()
}

/// RFC 6749 §5.2's error answer; a 401 names the scheme it wanted (§5.2,
/// "invalid_client": `WWW-Authenticate`).
fn token_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = JgoodsTokenError {
        error: error.to_string(),
        error_description: description.to_string(),
    };
    let mut answer = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        answer
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic"));
    }
    answer
}

/// `Authorization: Basic base64(id:secret)`.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?.trim();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

async fn put_order(
    State(sim): Sim,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(Path(order_no)) = path else {
        return bad_path();
    };
    sim.with_state(|s| {
        let recorded = serde_json::from_slice(&body)
            .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&body).into()));
        s.stats
            .put_bodies
            .entry(order_no.clone())
            .or_default()
            .push(recorded);
    });
    let late = match gate(&sim, Endpoint::PutOrder, Some(&order_no)) {
        Ok(late) => late,
        Err(refusal) => return refusal.into_response(),
    };
    let answer = match authorize(&sim, &headers, Api::Order) {
        Err(refusal) => refusal.into_response(),
        Ok(()) => order_answer(sim.with_state(|s| s.put_order(&order_no, &body))),
    };
    answer_after(&sim, late, answer).await
}

async fn get_order(
    State(sim): Sim,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let Ok(Path(order_no)) = path else {
        return bad_path();
    };
    if order_no == "search.json" {
        return search(sim, query.ok().map(|Query(q)| q), headers).await;
    }
    sim.with_state(|s| s.stats.get_order += 1);
    let late = match gate(&sim, Endpoint::GetOrder, Some(&order_no)) {
        Ok(late) => late,
        Err(refusal) => return refusal.into_response(),
    };
    let answer = match authorize(&sim, &headers, Api::Order) {
        Err(refusal) => refusal.into_response(),
        Ok(()) => order_answer(sim.with_state(|s| s.get_order(&order_no))),
    };
    answer_after(&sim, late, answer).await
}

async fn search(
    sim: Arc<Shared>,
    query: Option<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    sim.with_state(|s| s.stats.search += 1);
    let late = match gate(&sim, Endpoint::Search, None) {
        Ok(late) => late,
        Err(refusal) => return refusal.into_response(),
    };
    let answer = match authorize(&sim, &headers, Api::Order) {
        Err(refusal) => refusal.into_response(),
        Ok(()) => match SearchQuery::parse(query.unwrap_or_default()) {
            Err(e) => api_error(e),
            Ok(q) => {
                let (orders, next_page) =
                    sim.with_state(|s| s.search(q.status, q.updated_from, q.page));
                axum::Json(JgoodsSearchPage { orders, next_page }).into_response()
            }
        },
    };
    answer_after(&sim, late, answer).await
}

/// `status`, `updated_from` and `page`, each optional.
struct SearchQuery {
    status: Option<Status>,
    updated_from: Option<chrono::DateTime<chrono::FixedOffset>>,
    page: u32,
}

impl SearchQuery {
    fn parse(q: HashMap<String, String>) -> Result<Self, ApiError> {
        let invalid = |what: &str| ApiError::bad_request("INVALID_PARAMETER", what.to_string());
        let status = match q.get("status").filter(|s| !s.is_empty()) {
            None => None,
            Some(label) => {
                Some(Status::from_label(label).ok_or_else(|| invalid("unknown status"))?)
            }
        };
        let updated_from = match q.get("updated_from").filter(|s| !s.is_empty()) {
            None => None,
            Some(t) => Some(
                chrono::DateTime::parse_from_rfc3339(t)
                    .map_err(|_| invalid("updated_from must be RFC 3339"))?,
            ),
        };
        let page = match q.get("page") {
            None => 1,
            Some(p) => p
                .parse::<u32>()
                .ok()
                .filter(|p| *p >= 1)
                .ok_or_else(|| invalid("page must be a whole number >= 1"))?,
        };
        Ok(SearchQuery {
            status,
            updated_from,
            page,
        })
    }
}

async fn put_items(State(sim): Sim, headers: HeaderMap, body: Bytes) -> Response {
    // Fields besides the stock: a catalog update (the same call, more fields).
    if super::catalog_api::is_catalog_update(&body) {
        return super::catalog_api::put_items(State(sim), headers, body).await;
    }
    sim.with_state(|s| s.stats.item_stock_pushes += 1);
    let late = match gate(&sim, Endpoint::ItemStock, None) {
        Ok(late) => late,
        Err(refusal) => return refusal.into_response(),
    };
    let answer = match authorize(&sim, &headers, Api::Item) {
        Err(refusal) => refusal.into_response(),
        Ok(()) => match sim.with_state(|s| s.put_stock(&body)) {
            Ok(result) => axum::Json(result).into_response(),
            Err(e) => api_error(e),
        },
    };
    answer_after(&sim, late, answer).await
}

/// Why a request is answered without being handled.
pub(super) enum Refusal {
    /// An error envelope (an injected status, a conflict, a bad token).
    Error {
        status: StatusCode,
        code: &'static str,
        message: String,
        current: Option<Status>,
    },
    /// 429 with `Retry-After`.
    Throttled { retry_after_secs: u64 },
    /// A transport fault's own answer (a reset, a proxy's page…).
    Transport(Box<Response>),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Error {
                status,
                code,
                message,
                current,
            } => {
                let mut answer = error(status, code, &message, current);
                if status == StatusCode::UNAUTHORIZED {
                    answer.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static("Bearer error=\"invalid_token\""),
                    );
                }
                answer
            }
            Refusal::Throttled { retry_after_secs } => {
                let mut answer = error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "TOO_MANY_REQUESTS",
                    "rate limit exceeded",
                    None,
                );
                answer
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                answer
            }
            Refusal::Transport(answer) => *answer,
        }
    }
}

/// Applies a due fault: `Err` is the faulty answer to send instead of handling
/// the request; `Ok(Some(fault))` means handle it, then let the fault bend the
/// answer ([`answer_after`]).
pub(super) fn gate(
    sim: &Arc<Shared>,
    endpoint: Endpoint,
    order_no: Option<&str>,
) -> Result<Option<Fault>, Refusal> {
    let (fault, current) = sim.with_state(|s| {
        let fault = s.take_fault(endpoint);
        (fault, order_no.and_then(|n| s.order(n)).map(|o| o.status))
    });
    match fault {
        None => Ok(None),
        Some(late @ Fault::Delay(_)) => Ok(Some(late)),
        Some(Fault::Transport(t)) => match t.instead(WireFormat::Json) {
            Some(answer) => Err(Refusal::Transport(Box::new(answer))),
            None => Ok(Some(Fault::Transport(t))),
        },
        Some(Fault::Conflict) => {
            let conflict = ApiError::conflict(current);
            Err(Refusal::Error {
                status: StatusCode::CONFLICT,
                code: conflict.code,
                message: conflict.message,
                current,
            })
        }
        Some(Fault::TooManyRequests { retry_after_secs }) => {
            Err(Refusal::Throttled { retry_after_secs })
        }
        Some(Fault::Status(code)) => Err(Refusal::Error {
            status: StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code: "SIMULATED_FAULT",
            message: format!("injected HTTP {code}"),
            current: None,
        }),
    }
}

/// A bearer token the token endpoint issued, that has not expired, of a
/// client with rights to `api`. A client without them gets the same 401 as
/// an expired token (the contract names no other answer), so a fresh token
/// is refused too.
pub(super) fn authorize(sim: &Arc<Shared>, headers: &HeaderMap, api: Api) -> Result<(), Refusal> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let now = Instant::now();
    if token.is_some_and(|t| sim.with_state(|s| s.token_allows(t, api, now))) {
        return Ok(());
    }
    Err(Refusal::Error {
        status: StatusCode::UNAUTHORIZED,
        code: "INVALID_TOKEN",
        message: "access token missing, unknown or expired".to_string(),
        current: None,
    })
}

/// Holds an answer back (a `Delay` fault) unless the simulator stops first,
/// or trickles it out (a slow-body fault).
pub(super) async fn answer_after(sim: &Shared, late: Option<Fault>, answer: Response) -> Response {
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

fn order_answer(result: Result<JgoodsOrder, ApiError>) -> Response {
    match result {
        Ok(order) => axum::Json(order).into_response(),
        Err(e) => api_error(e),
    }
}

fn bad_path() -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "INVALID_REQUEST",
        "the order number in the path is not valid UTF-8",
        None,
    )
}

pub(super) fn api_error(e: ApiError) -> Response {
    let status = StatusCode::from_u16(e.http_status).unwrap_or(StatusCode::BAD_REQUEST);
    error(status, e.code, &e.message, e.current)
}

/// The `{"error": {...}}` envelope of every J-goods API.
fn error(status: StatusCode, code: &str, message: &str, current: Option<Status>) -> Response {
    let body = JgoodsErrorBody {
        error: JgoodsError {
            code: code.to_string(),
            message: message.to_string(),
            status: current,
        },
    };
    (status, axum::Json(body)).into_response()
}
