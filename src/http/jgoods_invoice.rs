//! `GET /api/v1/jgoods/invoice?from=&to=&format=json|html|csv[&encoding=utf8|sjis]`.
//!
//! A GET is safe: it never issues. It previews the period's invoice (no number), or shows the
//! recorded invoice when the period was issued (marked as a re-issue). Issuing is
//! `ordersync jgoods invoice`, which records the number.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::{ApiError, AppState};
use crate::flows::invoice::{self, InvoiceFlowError};
use crate::invoice::csv::{self, Encoding};
use crate::invoice::{InvoiceError, Period, html};

#[derive(Deserialize)]
pub struct InvoiceQuery {
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
    encoding: Option<String>,
}

/// The document formats of the endpoint.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Html,
    Csv,
}

pub async fn get_invoice(
    State(app): State<AppState>,
    query: Result<Query<InvoiceQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let Some(config) = app.invoice.as_ref() else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "invoice_not_configured",
            "the config has no [invoice] section; add issuer_name, registration_number, \
             addressee and bank_account to issue invoices",
        ));
    };
    let format = match q.format.as_deref().unwrap_or("json") {
        "json" => Format::Json,
        "html" => Format::Html,
        "csv" => Format::Csv,
        other => {
            return Err(ApiError::bad_request(
                "invalid_format",
                format!("unknown format {other:?}; use json, html or csv"),
            )
            .with_field("format"));
        }
    };
    let encoding = match q.encoding.as_deref() {
        None => Encoding::default(),
        Some(e) => Encoding::parse(e).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_encoding",
                format!("unknown encoding {e:?}; use utf8 or sjis"),
            )
            .with_field("encoding")
        })?,
    };
    let period = Period::parse(
        q.from.as_deref().unwrap_or(""),
        q.to.as_deref().unwrap_or(""),
    )
    .map_err(invoice_error)?;
    let prepared = invoice::preview(&app.store, config, period)
        .await
        .map_err(|e| match e {
            InvoiceFlowError::Invoice(e) => invoice_error(e),
            InvoiceFlowError::Store(e) => ApiError::unavailable(e),
            // A preview only lists overlaps; kept for completeness of the match.
            InvoiceFlowError::Overlaps(_) => {
                ApiError::new(StatusCode::CONFLICT, "invoice_overlaps", e.to_string())
            }
        })?;
    let doc = &prepared.doc;
    Ok(match format {
        Format::Json => {
            let mut body = json!(doc);
            body["overlaps"] = json!(prepared.overlaps);
            body["changed_since_issue"] = json!(prepared.changed_since_issue);
            Json(body).into_response()
        }
        Format::Html => Html(html::render(doc)).into_response(),
        Format::Csv => {
            let bytes = csv::render(doc, encoding).map_err(invoice_error)?;
            let name = format!("invoice-{}_{}.csv", period.from, period.to);
            (
                [
                    (
                        header::CONTENT_TYPE,
                        format!("text/csv; charset={}", encoding.charset()),
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}\""),
                    ),
                ],
                bytes,
            )
                .into_response()
        }
    })
}

fn invoice_error(e: InvoiceError) -> ApiError {
    let message = e.to_string();
    match e {
        InvoiceError::BadDate { field, .. } => {
            ApiError::bad_request("invalid_date", message).with_field(field)
        }
        InvoiceError::Reversed { .. } | InvoiceError::TooLong => {
            ApiError::bad_request("invalid_period", message).with_field("to")
        }
        InvoiceError::MissingPrice { .. } => {
            ApiError::new(StatusCode::CONFLICT, "missing_price", message)
        }
        InvoiceError::TooLarge { .. } => {
            ApiError::new(StatusCode::CONFLICT, "amount_too_large", message)
        }
        InvoiceError::NotShiftJis(_) => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "not_shift_jis", message)
                .with_field("encoding")
        }
    }
}
