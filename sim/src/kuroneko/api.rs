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

use super::Shared;
use super::state::{Fault, Reply};
use super::wire::{self, Endpoint, Form, XmlReturn, decode_form, field, form_value};
use crate::transport::WireFormat;

type Sim = State<Arc<Shared>>;

pub(super) fn router(shared: Arc<Shared>) -> Router {
    let mut router = Router::new();
    for endpoint in Endpoint::FUNCS {
        router = router.route(
            &endpoint.path(),
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

fn xml(
    endpoint: Endpoint,
    form: &Form,
    reply: &Reply,
    now: chrono::DateTime<chrono::FixedOffset>,
) -> Response {
    let date = wire::format_datetime(&now);
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
    let body = match doc.to_xml() {
        Ok(body) => body,
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
        [(header::CONTENT_TYPE, wire::XML_UTF8)],
        body,
    )
        .into_response()
}
