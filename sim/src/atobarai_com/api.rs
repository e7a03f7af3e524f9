//! The simulator's HTTP surface: `/api/<service>/rest` for the services the
//! daemon uses, always HTTP 200 with `text/xml; charset=utf-8` (as the real
//! service answers), 404 for any other path. Every request runs the same
//! steps: decode the form (a body that is not form-encoded reads as no keys,
//! as PHP's `$_POST` would; a GET has no body, so it reads as no keys too),
//! count and record it, suffer a due fault, then let [`super::state`] decide
//! and render its reply as the service's XML (contract, "Services" and the
//! Corrections).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use chrono::{DateTime, FixedOffset};
use quick_xml::escape::escape;

use super::Shared;
use super::state::{CancelRow, DetailRow, Fault, Message, RecordedRequest, Reply};
use super::wire::{
    AtobaraiService, CreditStatus, DataStatus, E_CANCEL_NONE_CANCELLABLE, E_CANCEL_NONE_FOUND,
    E_CANCEL_NOT_FOUND, E_IDMAP_NONE_MAPPED, E_STATUS_UNKNOWN_IDS, Form, MAINTENANCE,
    SYSTEM_FAILURE, decode_form, keys,
};
use crate::transport::WireFormat;

type Sim = State<Arc<Shared>>;

/// Whether the simulator serves a service (08 and 11 are not modelled: 404).
fn served(service: AtobaraiService) -> bool {
    !matches!(
        service,
        AtobaraiService::JnumMod | AtobaraiService::OrderMod
    )
}

pub(super) fn router(shared: Arc<Shared>) -> Router {
    let mut router = Router::new();
    for service in AtobaraiService::ALL.into_iter().filter(|s| served(*s)) {
        router = router.route(
            &service.path(),
            any(
                move |sim: Sim,
                      ConnectInfo(peer): ConnectInfo<SocketAddr>,
                      uri: Uri,
                      headers: HeaderMap,
                      body: Bytes| call(sim, service, peer, uri, headers, body),
            ),
        );
    }
    router
        .fallback(|State(sim): Sim| async move {
            sim.with_state(|s, _| s.stats.not_found += 1);
            (
                StatusCode::NOT_FOUND,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                "<html><body><h1>404 Not Found</h1></body></html>",
            )
                .into_response()
        })
        .with_state(shared)
}

/// What PHP prints in front of the XML when it warns with `display_errors`
/// on, as the cancel controller forces it (second Corrections).
const PHP_WARNING: &str = "<br />\n<b>Warning</b>:  Undefined array key 1 in <b>/var/www/html/module/api/src/api/classes/Service/ServiceCancel.php</b> on line <b>112</b><br />\n";

/// The caller as the server sees it: the first `X-Forwarded-For` entry when
/// the header is there (second Corrections), else the socket's peer.
fn caller_address(headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
    headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|first| first.trim().parse().ok())
        .unwrap_or(peer.ip())
}

/// Whether a `Content-Type` is a form (parameters such as the charset aside).
fn is_form(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|t| {
            t.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

async fn call(
    State(sim): State<Arc<Shared>>,
    service: AtobaraiService,
    peer: SocketAddr,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let raw = String::from_utf8_lossy(&body).into_owned();
    let caller = caller_address(&headers, peer);
    let form = if is_form(content_type.as_deref()) {
        decode_form(&raw)
    } else {
        Form::new()
    };
    sim.with_state(|s, _| {
        s.record(RecordedRequest {
            service,
            peer: caller,
            content_type: content_type.clone(),
            form: form.clone(),
            raw,
        })
    });
    let fault = sim.with_state(|s, _| s.take_fault(service));
    let mut transport = None;
    // `Some(None)`: never answer; `Some(Some(d))`: answer after `d`.
    let hold = match fault {
        None => None,
        Some(Fault::Transport(t)) => match t.instead(WireFormat::Xml) {
            Some(answer) => return answer,
            None => {
                transport = Some(t);
                None
            }
        },
        Some(Fault::Timeout) => Some(None),
        Some(Fault::Delay(d)) => Some(Some(d)),
        Some(other) => return fault_answer(other, service, &uri),
    };
    let (reply, warn) = sim.with_state(|s, now| {
        let reply = s.handle(service, &form, caller, now);
        (reply, s.rules.warning_before_cancel_xml)
    });
    let mut body = render(&reply);
    if warn && service == AtobaraiService::Cancel {
        body.insert_str(0, PHP_WARNING);
    }
    let answer = xml(body);
    match hold {
        None => match transport {
            Some(t) => t.deliver(answer).await,
            None => answer,
        },
        // The change stands; the answer never comes (until the simulator stops).
        Some(None) => {
            sim.tasks.cancel.cancelled().await;
            answer
        }
        Some(Some(delay)) => {
            tokio::select! {
                _ = sim.tasks.cancel.cancelled() => {}
                _ = tokio::time::sleep(delay) => {}
            }
            answer
        }
    }
}

/// The answer of a fault that replaces the service's own.
fn fault_answer(fault: Fault, service: AtobaraiService, uri: &Uri) -> Response {
    match fault {
        Fault::SystemFailure => xml(error_xml(&[(
            service.code(SYSTEM_FAILURE),
            "システムエラーが発生しました".to_string(),
        )])),
        Fault::Maintenance => xml(error_xml(&[(
            service.code(MAINTENANCE),
            "ただいまメンテナンス中です".to_string(),
        )])),
        Fault::Error(code) => xml(error_xml(&[(
            code,
            "シミュレータが返したエラーです".to_string(),
        )])),
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, format!("simulated HTTP {code}")).into_response()
        }
        Fault::Garbage => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<html><body>ただいま混み合っております</body></html>",
        )
            .into_response(),
        Fault::Redirect => (
            StatusCode::FOUND,
            [(header::LOCATION, uri.path().to_string())],
        )
            .into_response(),
        Fault::Transport(_) | Fault::Timeout | Fault::Delay(_) => {
            unreachable!("handled by the caller")
        }
    }
}

fn xml(body: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

const XML_DECL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// `<messages>` with one `<message cd="…">` each.
fn messages_xml(messages: &[Message]) -> String {
    let mut out = String::from("<messages>");
    for (code, text) in messages {
        out.push_str(&format!(
            r#"<message cd="{}">{}</message>"#,
            escape(code.as_str()),
            escape(text.as_str())
        ));
    }
    out.push_str("</messages>");
    out
}

fn error_xml(messages: &[Message]) -> String {
    format!(
        "{XML_DECL}<response><status>error</status>{}</response>",
        messages_xml(messages)
    )
}

fn element(name: &str, value: &str) -> String {
    if value.is_empty() {
        format!("<{name}/>")
    } else {
        format!("<{name}>{}</{name}>", escape(value))
    }
}

fn flag(on: bool) -> &'static str {
    if on { "1" } else { "0" }
}

/// `<orderStatus cd="1">与信OK</orderStatus>` of 00 and 01.
fn credit_xml(status: CreditStatus) -> String {
    format!(
        r#"<orderStatus cd="{}">{}</orderStatus>"#,
        status.cd(),
        status.label()
    )
}

/// The service's XML for a reply.
fn render(reply: &Reply) -> String {
    match reply {
        Reply::Error(messages) => error_xml(messages),
        Reply::Registered {
            ent_order_id,
            system_order_id,
            status,
        } => success(format!(
            "{}{}<messages/>{}",
            element("orderId", ent_order_id),
            element("systemOrderId", system_order_id),
            credit_xml(*status)
        )),
        Reply::Statuses(rows) => statuses_xml(rows),
        Reply::Carriers(carriers) => success(results(carriers.iter().map(|c| {
            format!(
                "<delivId>{}</delivId>{}{}",
                c.deliv_id,
                element("name", &c.name),
                element("shortName", &c.short_name)
            )
        }))),
        Reply::IdMap(rows) => idmap_xml(rows),
        Reply::Shipped {
            system_order_id,
            deliv_id,
            name,
            journal_num,
        } => success(format!(
            r#"{}<delivId name="{}">{deliv_id}</delivId>{}<messages/>"#,
            element("orderId", system_order_id),
            escape(name.as_str()),
            element("journalNum", journal_num)
        )),
        Reply::Cancels(rows) => cancels_xml(rows),
        Reply::Details(rows) => success(results(rows.iter().map(detail_xml))),
    }
}

/// `<status>success</status>` and `inner`.
fn success(inner: String) -> String {
    format!("{XML_DECL}<response><status>success</status>{inner}</response>")
}

/// The status service's answer.
fn statuses_xml(rows: &[(String, String, CreditStatus)]) -> String {
    let items = rows.iter().map(|(id, ent, status)| {
        format!(
            "{}{}{}",
            element("orderId", id),
            element("entOrderId", ent),
            credit_xml(*status)
        )
    });
    // Only unknown ids: "error" with E01202, the results still listed.
    let none_known = rows.iter().all(|(_, _, s)| *s == CreditStatus::Unknown);
    if none_known && !rows.is_empty() {
        refused_with_results(E_STATUS_UNKNOWN_IDS, "指定された注文が存在しません", items)
    } else {
        success(results(items))
    }
}

/// The idmap service's answer: a result per merchant number, an `<error>`
/// where none (or several) is at 与信OK; `error` / `E03202` when none mapped.
fn idmap_xml(rows: &[(String, Result<String, Message>)]) -> String {
    let items = rows.iter().map(|(ent, mapped)| match mapped {
        Ok(system) => format!(
            "{}{}",
            element("entOrderId", ent),
            element("orderId", system)
        ),
        Err((code, text)) => format!(
            r#"{}<orderId></orderId><error cd="{}">{}</error>"#,
            element("entOrderId", ent),
            escape(code.as_str()),
            escape(text.as_str())
        ),
    });
    if !rows.is_empty() && rows.iter().all(|(_, m)| m.is_err()) {
        refused_with_results(
            E_IDMAP_NONE_MAPPED,
            "有効な注文IDが指定されていません",
            items,
        )
    } else {
        success(results(items))
    }
}

/// The cancel service's answer: each result echoes its reason; the top
/// status is `error` only when no order was cancelled, with `E05202` when
/// none was found and `E05301` otherwise (second Corrections).
fn cancels_xml(rows: &[CancelRow]) -> String {
    let items = rows.iter().map(|row| {
        let head = format!(
            "{}{}",
            element("orderId", &row.system_order_id),
            element("reason", &row.reason)
        );
        match &row.outcome {
            Ok(()) => format!("{head}<cancelStatus>success</cancelStatus>"),
            Err((code, text)) => format!(
                r#"{head}<cancelStatus>error</cancelStatus><error cd="{}">{}</error>"#,
                escape(code.as_str()),
                escape(text.as_str())
            ),
        }
    });
    let none_cancelled = !rows.is_empty() && rows.iter().all(|r| r.outcome.is_err());
    let none_found = rows
        .iter()
        .all(|r| matches!(&r.outcome, Err((code, _)) if code == E_CANCEL_NOT_FOUND));
    match (none_cancelled, none_found) {
        (true, true) => refused_with_results(
            E_CANCEL_NONE_FOUND,
            "有効な注文IDが指定されていません",
            items,
        ),
        (true, false) => refused_with_results(
            E_CANCEL_NONE_CANCELLABLE,
            "キャンセル可能な注文がありませんでした",
            items,
        ),
        (false, _) => success(results(items)),
    }
}

/// `<status>error</status>` with a message and, as the server writes it,
/// the per-order results all the same.
fn refused_with_results(code: &str, text: &str, items: impl Iterator<Item = String>) -> String {
    format!(
        "{XML_DECL}<response><status>error</status>{}{}</response>",
        messages_xml(&[(code.to_string(), text.to_string())]),
        result_list(items)
    )
}

/// An empty `<messages/>` and the results.
fn results(items: impl Iterator<Item = String>) -> String {
    format!("<messages/>{}", result_list(items))
}

/// `<results>` with one `<result>` per item.
fn result_list(items: impl Iterator<Item = String>) -> String {
    let mut out = String::from("<results>");
    for item in items {
        out.push_str("<result>");
        out.push_str(&item);
        out.push_str("</result>");
    }
    out.push_str("</results>");
    out
}

/// `<name>text</name>`, an empty one as `<name></name>` as `detail`
/// writes it.
fn open_element(name: &str, value: &str) -> String {
    format!("<{name}>{}</{name}>", escape(value))
}

/// A `yyyy-mm-dd` date, or nothing.
fn day(at: Option<DateTime<FixedOffset>>) -> String {
    at.map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// One `detail` result as the server writes it: the status code as the
/// element's text, its name an attribute; the carrier and the site likewise;
/// every element present, the empty ones as `<x></x>` (second Corrections).
fn detail_xml(row: &DetailRow) -> String {
    let Some(o) = &row.order else {
        return format!(
            r#"{}<entOrderId></entOrderId><orderStatus orderStatusName="">-1</orderStatus>"#,
            open_element("orderId", &row.system_order_id)
        );
    };
    let delivery = match o.deliv_id {
        Some(id) => format!(
            r#"<deliveryId deliveryName="{}">{id}</deliveryId>"#,
            escape(row.deliv_name.as_str())
        ),
        None => r#"<deliveryId deliveryName=""></deliveryId>"#.to_string(),
    };
    let ordered = o
        .form
        .iter()
        .rev()
        .find(|(k, _)| k == keys::O_RECEIPT_ORDER_DATE)
        .map(|(_, v)| v.replace('/', "-"))
        .unwrap_or_default();
    let cancelled = matches!(
        o.status,
        DataStatus::CancelRequested | DataStatus::Cancelled
    );
    let mut out = String::new();
    for (name, value) in [
        ("orderId", o.system_order_id.clone()),
        ("entOrderId", o.ent_order_id.clone()),
        ("orderDate", ordered),
        ("payment", String::new()),
    ] {
        out.push_str(&open_element(name, &value));
    }
    out.push_str(&format!(
        r#"<siteId siteName="シミュレータ店">{}</siteId><orderStatus orderStatusName="{}">{}</orderStatus>"#,
        row.site_id,
        escape(o.status.label()),
        o.status.code()
    ));
    for (name, value) in [
        ("useAmount", o.use_amount.to_string()),
        ("isCanceled", flag(cancelled).to_string()),
        ("cancelDate", day(o.cancelled_at)),
        ("isShipped", flag(o.journal_number.is_some()).to_string()),
        ("shippingDate", day(o.shipped_at)),
    ] {
        out.push_str(&open_element(name, &value));
    }
    out.push_str(&delivery);
    for (name, value) in [
        (
            "journalNumber",
            o.journal_number.clone().unwrap_or_default(),
        ),
        ("isArrivalConfirmed", flag(o.arrival_confirmed).to_string()),
        ("isClaimed", flag(o.claimed_at.is_some()).to_string()),
        ("claimDate", day(o.claimed_at)),
        ("isReceiptConfirmed", flag(o.receipt_confirmed).to_string()),
        ("receiptDate", day(o.receipt_at)),
        ("isReimbursed", flag(o.reimbursed_at.is_some()).to_string()),
        ("reimbursedDate", day(o.reimbursed_at)),
    ] {
        out.push_str(&open_element(name, &value));
    }
    out
}
