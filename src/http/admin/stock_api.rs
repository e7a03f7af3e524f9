//! The admin API's stock: list, read, set, import, and the orders export for the ERP.

use super::*;

#[derive(Deserialize, Default)]
pub(super) struct StockPage {
    limit: Option<u32>,
    after: Option<String>,
}

/// `GET /api/v1/stock?limit=&after=`: a page of SKUs in SKU order
/// (default and most 1000); `next_after` is the SKU to ask after, `null`
/// at the end.
pub(super) async fn list_stock(
    State(app): State<AppState>,
    Query(q): Query<StockPage>,
) -> Result<Response, ApiError> {
    let limit = q.limit.unwrap_or(MAX_LIMIT).clamp(1, MAX_LIMIT);
    let after = q.after.filter(|a| !a.is_empty());
    let rows = app
        .store
        .read(move |c| stock::page(c, after.as_deref(), limit))
        .await
        .map_err(ApiError::unavailable)?;
    let next_after = (rows.len() == limit as usize)
        .then(|| rows.last().map(|r| r.sku.clone()))
        .flatten();
    Ok(Json(json!({ "stock": rows, "next_after": next_after })).into_response())
}

pub(super) async fn get_stock(
    State(app): State<AppState>,
    Path(sku): Path<String>,
) -> Result<Response, ApiError> {
    let s = sku.clone();
    match app
        .store
        .read(move |c| stock::get(c, &s))
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
pub(super) struct PutStock {
    on_hand: i64,
    #[serde(default)]
    as_of: Option<String>,
    #[serde(default)]
    tax_rate: Option<i64>,
}

pub(super) async fn put_stock(
    State(app): State<AppState>,
    Path(sku): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: PutStock = crate::http::json_object(&body, "{\"on_hand\": N, \"as_of\"?: RFC3339}")?;
    let mut level =
        inventory_import::level(1, &sku, req.on_hand, req.as_of.as_deref()).map_err(field_error)?;
    level.tax_rate = inventory_import::validate_tax_rate(1, req.tax_rate).map_err(field_error)?;
    let rows = write_levels(&app, vec![level]).await?;
    Ok(Json(rows.into_iter().next()).into_response())
}

pub(super) fn field_error(e: ImportError) -> ApiError {
    ApiError::bad_request("invalid_stock", e.message)
}

pub(super) async fn import_stock(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let json = content_type.starts_with("application/json") || body.first() == Some(&b'[');
    let charset = if json {
        None
    } else {
        charset_of(content_type)?
    };
    // A catalogue takes a second to read: off the threads that answer webhooks.
    let parsed = tokio::task::spawn_blocking(move || {
        if json {
            inventory_import::parse_json(&body)
        } else {
            inventory_import::parse_csv_as(&body, charset)
        }
    })
    .await
    .map_err(ApiError::unavailable)?;
    let levels = parsed.map_err(|e| {
        ApiError::bad_request(
            "invalid_import",
            format!("line {}: {}; nothing was imported", e.line, e.message),
        )
        .with_field(format!("line {}", e.line))
    })?;
    let n = crate::store::stock_import::import(&app.store, levels)
        .await
        .map_err(store_error)?;
    Ok(Json(json!({"imported": n})).into_response())
}

/// The `charset=` of a Content-Type: `None` when absent (then detected),
/// 415 when it names an encoding ordersync does not read.
pub(super) fn charset_of(content_type: &str) -> Result<Option<TextEncoding>, ApiError> {
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
pub(super) struct ExportQuery {
    format: Option<String>,
    since: Option<String>,
    encoding: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/v1/orders/export?format=csv|json&since=&encoding=utf8|sjis&limit=`.
pub(super) async fn export_orders(
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
pub(super) async fn write_levels(
    app: &AppState,
    levels: Vec<StockLevel>,
) -> Result<Vec<stock::StockRow>, ApiError> {
    app.store
        .write(move |tx| {
            let now = time::rfc3339(time::now());
            crate::store::restock::set_levels(tx, &levels, &now)?;
            let mut rows = Vec::with_capacity(levels.len().min(1));
            if let Some(first) = levels.first() {
                rows.extend(stock::get(tx, &first.sku)?);
            }
            Ok(rows)
        })
        .await
        .map_err(store_error)
}

/// A store refusal as the API answers it.
fn store_error(e: crate::store::StoreError) -> ApiError {
    match e {
        crate::store::StoreError::Invalid(m) => ApiError::bad_request("invalid_stock", m),
        crate::store::StoreError::Busy(m) => ApiError::new(StatusCode::CONFLICT, "busy", m),
        e => ApiError::unavailable(e),
    }
}
