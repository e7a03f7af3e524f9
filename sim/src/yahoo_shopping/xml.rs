//! The XML Yahoo! answers with, written as the contract shows it: UTF-8,
//! values escaped (the contract's clients trim `CDATA` and whitespace, so
//! plain text is what they read), the `<Error>` roots of the platform and the
//! order API, and the store's time formats.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset};
use quick_xml::escape::escape;

use super::settings::OrderTimeFormat;

const XML_DECL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// An XML document written element by element.
#[derive(Debug, Default)]
pub(crate) struct Doc {
    out: String,
}

impl Doc {
    /// A document that starts with the XML declaration.
    pub(crate) fn new() -> Doc {
        Doc {
            out: XML_DECL.to_string(),
        }
    }

    /// Opens `<name attr="value" …>`.
    pub(crate) fn open(&mut self, name: &str, attrs: &[(&str, String)]) -> &mut Doc {
        self.out.push('<');
        self.out.push_str(name);
        for (key, value) in attrs {
            self.out
                .push_str(&format!(" {key}=\"{}\"", escape(value.as_str())));
        }
        self.out.push('>');
        self
    }

    /// Closes `</name>`.
    pub(crate) fn close(&mut self, name: &str) -> &mut Doc {
        self.out.push_str(&format!("</{name}>"));
        self
    }

    /// `<name>value</name>`, the value escaped.
    pub(crate) fn leaf(&mut self, name: &str, value: &str) -> &mut Doc {
        self.out
            .push_str(&format!("<{name}>{}</{name}>", escape(value)));
        self
    }

    /// `<name />`.
    pub(crate) fn empty(&mut self, name: &str) -> &mut Doc {
        self.out.push_str(&format!("<{name} />"));
        self
    }

    /// The document's text.
    pub(crate) fn finish(&mut self) -> String {
        std::mem::take(&mut self.out)
    }
}

/// An XML answer with `status`.
pub(crate) fn answer(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

/// The platform's `<Error><Message/><Code/></Error>` (no `<Code>` when
/// `code` is `None`), with `xmlns="urn:yahoo:api"` when `namespace`.
pub(crate) fn error_doc(message: &str, code: Option<&str>, namespace: bool) -> String {
    let mut doc = Doc::new();
    let attrs = if namespace {
        vec![("xmlns", "urn:yahoo:api".to_string())]
    } else {
        Vec::new()
    };
    doc.open("Error", &attrs).leaf("Message", message);
    if let Some(code) = code {
        doc.leaf("Code", code);
    }
    doc.close("Error").finish()
}

/// An order-API error: the bare `<Error>` root, or wrapped as
/// `<Result><Status>NG</Status><Error>…</Error></Result>`.
pub(crate) fn order_error_doc(message: &str, code: &str, wrapped: bool) -> String {
    if !wrapped {
        return error_doc(message, Some(code), false);
    }
    Doc::new()
        .open("Result", &[])
        .leaf("Status", "NG")
        .open("Error", &[])
        .leaf("Code", code)
        .leaf("Message", message)
        .close("Error")
        .close("Result")
        .finish()
}

/// `2026-12-01T10:20:00+09:00`, as `LastUpdateTime` and stock times come.
pub(crate) fn iso_offset(at: DateTime<FixedOffset>) -> String {
    at.with_timezone(&crate::jst())
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// `OrderTime` and `PublicationTime` in the store's configured form.
pub(crate) fn order_time(at: DateTime<FixedOffset>, format: OrderTimeFormat) -> String {
    let at = at.with_timezone(&crate::jst());
    match format {
        OrderTimeFormat::Iso => at.format("%Y-%m-%dT%H:%M:%S").to_string(),
        OrderTimeFormat::IsoOffset => iso_offset(at),
        OrderTimeFormat::Compact => at.format("%Y%m%d%H%M%S").to_string(),
    }
}

/// A 14-digit `YYYYMMDDHHMMSS` condition, read as JST; `None` for any other
/// shape.
pub(crate) fn parse_compact(text: &str) -> Option<DateTime<FixedOffset>> {
    if text.len() != 14 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let naive = chrono::NaiveDateTime::parse_from_str(text, "%Y%m%d%H%M%S").ok()?;
    naive.and_local_timezone(crate::jst()).single()
}

/// An 8-digit `YYYYMMDD` date (`ShipDate`, `PayDate`).
pub(crate) fn parse_date(text: &str) -> Option<chrono::NaiveDate> {
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    chrono::NaiveDate::parse_from_str(text, "%Y%m%d").ok()
}
