//! The simulator's HTTP surface. Every request runs the same steps: record
//! it, suffer a due fault, read the form (a body that is not
//! `application/x-www-form-urlencoded` reads as no fields at all, as a
//! servlet would), let [`super::state`] decide, and answer `<return>` XML
//! with HTTP 200, business errors included.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Serialize;

use super::Shared;
use super::state::{Endpoint, Fault, Reply, form_value};
use crate::channels::credit::kuroneko::wire::{self, Form, field};
use crate::sim::transport::WireFormat;

type Sim = State<Arc<Shared>>;

pub(super) fn router(shared: Arc<Shared>) -> Router {
    let mut router = Router::new();
    for endpoint in Endpoint::FUNCS {
        router = router.route(
            &wire::func_path(endpoint.func()),
            post(move |sim: Sim, headers: HeaderMap, body: Bytes| {
                call(sim, endpoint, headers, body)
            }),
        );
    }
    router
        .fallback(|| async { (StatusCode::NOT_FOUND, "Not Found").into_response() })
        .with_state(shared)
}

async fn call(State(sim): Sim, endpoint: Endpoint, headers: HeaderMap, body: Bytes) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let form = if is_form(&content_type) {
        decode_form(&body)
    } else {
        Form::new()
    };
    let fault = sim.with_state(|s, _| {
        s.record(endpoint, content_type, form.clone());
        s.take_fault(endpoint)
    });
    let mut delay = None;
    let mut transport = None;
    match fault {
        None => {}
        Some(Fault::Delay(d)) => delay = Some(d),
        Some(Fault::Transport(t)) => match t.instead(WireFormat::Xml) {
            Some(answer) => return answer,
            None => transport = Some(t),
        },
        Some(Fault::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (status, format!("simulated HTTP {code}")).into_response();
        }
        Some(Fault::Garbage) => {
            return (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/html; charset=UTF-8")],
                "<html><body>ただいまメンテナンス中です。</body></html>",
            )
                .into_response();
        }
        Some(Fault::SystemError(code)) => {
            let now = sim.lock().now();
            return xml(
                endpoint,
                &form,
                &Reply {
                    error: Some(code.to_string()),
                    ..Reply::default()
                },
                now,
            );
        }
    }
    let (reply, now) = sim.with_state(|s, now| (s.handle(endpoint, &form, now), now));
    let answer = xml(endpoint, &form, &reply, now);
    if let Some(delay) = delay {
        hold(&sim, delay).await;
    }
    match transport {
        Some(t) => t.deliver(answer).await,
        None => answer,
    }
}

/// Holds an answer back (a `Delay` fault) unless the simulator stops first.
async fn hold(sim: &Shared, delay: Duration) {
    tokio::select! {
        _ = sim.tasks.cancel.cancelled() => {}
        _ = tokio::time::sleep(delay) => {}
    }
}

fn is_form(content_type: &str) -> bool {
    content_type.split(';').next().is_some_and(|t| {
        t.trim()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    })
}

/// `<return>` as Yamato writes it.
#[derive(Serialize)]
#[serde(rename = "return")]
struct XmlReturn<'a> {
    #[serde(rename = "ycfStrCode")]
    store_code: &'a str,
    #[serde(rename = "orderNo")]
    order_no: &'a str,
    #[serde(rename = "returnCode")]
    return_code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    warning: Option<String>,
    #[serde(rename = "errorCode")]
    error_code: &'a str,
    #[serde(rename = "returnDate", skip_serializing_if = "Option::is_none")]
    return_date: Option<String>,
    #[serde(rename = "requestDate", skip_serializing_if = "Option::is_none")]
    request_date: Option<String>,
}

fn xml(
    endpoint: Endpoint,
    form: &Form,
    reply: &Reply,
    now: chrono::DateTime<chrono::FixedOffset>,
) -> Response {
    let date = wire::format_request_date(&now);
    let (return_date, request_date) = if endpoint.answers_request_date() {
        (None, Some(date))
    } else {
        (Some(date), None)
    };
    let doc = XmlReturn {
        store_code: form_value(form, field::STORE_CODE).unwrap_or_default(),
        order_no: form_value(form, field::ORDER_NO).unwrap_or_default(),
        return_code: if reply.error.is_some() {
            wire::RETURN_ERROR
        } else {
            wire::RETURN_OK
        },
        result: reply.result.map(|r| r.to_string()),
        warning: reply.warning.map(|w| w.to_string()),
        error_code: reply.error.as_deref().unwrap_or_default(),
        return_date,
        request_date,
    };
    let body = match quick_xml::se::to_string(&doc) {
        Ok(body) => format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}"),
        Err(e) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("simulator cannot write XML: {e}"),
            )
                .into_response();
        }
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/xml; charset=UTF-8")],
        body,
    )
        .into_response()
}

/// Decodes `application/x-www-form-urlencoded` UTF-8 (`+` is a space,
/// `%XX` a byte; a broken escape is kept as it is; invalid UTF-8 is replaced).
pub fn decode_form(body: &[u8]) -> Form {
    body.split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let mut parts = pair.splitn(2, |b| *b == b'=');
            let name = parts.next().unwrap_or_default();
            let value = parts.next().unwrap_or_default();
            (decode_component(name), decode_component(value))
        })
        .collect()
}

fn decode_component(s: &[u8]) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3).and_then(|h| {
                    std::str::from_utf8(h)
                        .ok()
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                });
                if let Some(byte) = hex {
                    out.push(byte);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
