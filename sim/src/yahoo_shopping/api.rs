//! The HTTP surface: YConnect's authorization page and token endpoint
//! under `/yconnect/v2/`, the store APIs under `/ShoppingWebService/V1/`.
//! Every store call passes [`SimState::admit`](super::state::SimState)
//! first; an order call whose key header was accepted answers with
//! `X-SWS-Authorize-Status: authorized`. Bodies are capped at
//! [`MAX_BODY`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::Shared;
use super::state::{Endpoint, Fault, Presented};
use super::writes::Write;
use super::xml;
use crate::transport::WireFormat;

/// The store APIs' base path, as at `circus.shopping.yahooapis.jp`.
pub(super) const API_PATH: &str = "/ShoppingWebService/V1";
/// YConnect's base path, as at `auth.login.yahoo.co.jp`.
pub(super) const AUTH_PATH: &str = "/yconnect/v2";
/// The largest request body taken: 1000 stock codes of 199 bytes and their
/// quantities fit well inside.
pub const MAX_BODY: usize = 512 * 1024;

type Sim = State<Arc<Shared>>;
type Peer = ConnectInfo<SocketAddr>;

pub(super) fn router(shared: Arc<Shared>) -> Router {
    let mut api = Router::new();
    for endpoint in [
        Endpoint::OrderList,
        Endpoint::OrderInfo,
        Endpoint::OrderChange,
        Endpoint::OrderStatusChange,
        Endpoint::OrderShipStatusChange,
        Endpoint::OrderPayStatusChange,
        Endpoint::GetStock,
        Endpoint::SetStock,
    ] {
        api = api.route(
            &format!("{API_PATH}/{}", endpoint.path()),
            post(
                move |sim: Sim,
                      peer: Peer,
                      h: HeaderMap,
                      q: Query<HashMap<String, String>>,
                      b: Bytes| { call(sim, endpoint, peer, h, q, b) },
            ),
        );
    }
    for endpoint in [Endpoint::OrderCount, Endpoint::OrderChangeHistory] {
        api = api.route(
            &format!("{API_PATH}/{}", endpoint.path()),
            get(
                move |sim: Sim, peer: Peer, h: HeaderMap, q: Query<HashMap<String, String>>| {
                    call(sim, endpoint, peer, h, q, Bytes::new())
                },
            ),
        );
    }
    api.route(&format!("{AUTH_PATH}/authorization"), get(authorize))
        .route(&format!("{AUTH_PATH}/token"), post(token))
        .fallback(|| async { (StatusCode::NOT_FOUND, "Not Found").into_response() })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(shared)
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn call(
    State(sim): Sim,
    endpoint: Endpoint,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let arrived = Instant::now();
    let presented = Presented {
        authorization: header_str(&headers, "authorization"),
        signature: header_str(&headers, "x-sws-signature"),
        key_version: header_str(&headers, "x-sws-signature-version"),
    };
    let admitted = sim.with_state(|s, now| s.admit(endpoint, peer.ip(), &presented, now, arrived));
    let admitted = match admitted {
        Ok(admitted) => admitted,
        Err(refusal) => {
            let mut answer = xml::answer(refusal.status, refusal.body);
            for (name, value) in refusal.headers {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    answer.headers_mut().insert(name, value);
                }
            }
            return answer;
        }
    };
    let transport = match admitted.fault {
        Some(Fault::Transport(fault)) => {
            if let Some(instead) = fault.instead(WireFormat::Xml) {
                return instead;
            }
            Some(fault)
        }
        Some(Fault::SystemError) => {
            let code = if endpoint.is_order_api() {
                "od91001"
            } else {
                "st-02999"
            };
            return xml::answer(500, xml::error_doc("System error.", Some(code), false));
        }
        Some(Fault::ReadBackFailed) | None => None,
    };
    let read_back_fails = admitted.fault == Some(Fault::ReadBackFailed);
    let text = String::from_utf8_lossy(&body);
    let (status, body) = sim.with_state(|s, now| {
        let settings = &s.settings;
        let book = &mut s.book;
        let order = |o: super::orders::Outcome| (o.status, o.body);
        match endpoint {
            Endpoint::OrderCount => {
                match book.seller_check(settings, query.get("sellerId").map(String::as_str)) {
                    Some(refusal) => order(refusal),
                    None => order(book.count(settings, now)),
                }
            }
            Endpoint::OrderList => order(book.list(settings, &text, now)),
            Endpoint::OrderInfo => order(book.info(settings, &text, now)),
            Endpoint::OrderChangeHistory => order(book.history(
                settings,
                query.get("orderId").map(String::as_str),
                query.get("sellerId").map(String::as_str),
            )),
            Endpoint::OrderChange => order(book.write(Write::Change, settings, &text, now)),
            Endpoint::OrderStatusChange => order(book.write(Write::Status, settings, &text, now)),
            Endpoint::OrderShipStatusChange => order(book.write(Write::Ship, settings, &text, now)),
            Endpoint::OrderPayStatusChange => order(book.write(Write::Pay, settings, &text, now)),
            Endpoint::GetStock | Endpoint::SetStock => {
                let form = crate::kuroneko::wire::decode_form(&body);
                let answer = if endpoint == Endpoint::GetStock {
                    s.stock.get(settings, &book.seller_id, &form)
                } else {
                    s.stock
                        .set(settings, &book.seller_id, &form, now, read_back_fails)
                };
                (answer.status, answer.body)
            }
        }
    });
    let mut answer = xml::answer(status, body);
    if admitted.authorized {
        answer.headers_mut().insert(
            HeaderName::from_static("x-sws-authorize-status"),
            HeaderValue::from_static("authorized"),
        );
    }
    match transport {
        Some(fault) => fault.deliver(answer).await,
        None => answer,
    }
}

/// `GET /yconnect/v2/authorization`: the person consents at once; the
/// answer is the redirect to the app's callback.
async fn authorize(State(sim): Sim, Query(query): Query<HashMap<String, String>>) -> Response {
    let result = sim.with_state(|s, now| {
        let app = s.app.clone();
        s.auth.authorize(&app, &query, now)
    });
    match result {
        Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
        Err(message) => (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            format!("<!DOCTYPE html><html><body><p>{message}</p></body></html>"),
        )
            .into_response(),
    }
}

/// `POST /yconnect/v2/token`.
async fn token(State(sim): Sim, headers: HeaderMap, body: Bytes) -> Response {
    let form: HashMap<String, String> = crate::kuroneko::wire::decode_form(&body)
        .into_iter()
        .collect();
    let authorization = header_str(&headers, "authorization");
    let signed = header_str(&headers, "x-sws-signature").is_some();
    let answer = sim.with_state(|s, now| {
        if signed && form.get("grant_type").is_some_and(|g| g == "refresh_token") {
            s.stats.refreshes_with_signature += 1;
        }
        let app = s.app.clone();
        s.auth.token(&app, &s.settings, authorization, &form, now)
    });
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(answer.body),
    )
        .into_response()
}
