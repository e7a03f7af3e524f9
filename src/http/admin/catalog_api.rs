//! `/api/v1/catalog…`: the product master over the admin API.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::stock_api::charset_of;
use crate::flows::catalog::{self as flow, Form, ImportFailure};
use crate::http::{ApiError, AppState};
use crate::store::catalog::{self, ImportCount};

fn form_of(headers: &HeaderMap, body: &[u8]) -> Result<Form, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let json = content_type.starts_with("application/json");
    let charset = if json {
        None
    } else {
        charset_of(content_type)?
    };
    Ok(Form::guess(body, json, charset))
}

fn failure(e: ImportFailure) -> ApiError {
    match e {
        ImportFailure::Bad(m) => {
            ApiError::bad_request("invalid_import", format!("{m}; nothing was imported"))
                .with_field(format!("line {}, column {}", m.line, m.column))
        }
        ImportFailure::Store(e) => ApiError::unavailable(e),
    }
}

/// An import's answer; what it stored wakes the sync.
fn imported(
    app: &AppState,
    result: Result<ImportCount, ImportFailure>,
) -> Result<Response, ApiError> {
    let n = result.map_err(failure)?;
    app.catalog_wake.notify_one();
    Ok(Json(n).into_response())
}

/// `POST /api/v1/catalog/import`: the item master, CSV or JSON, all or nothing.
pub(super) async fn import_items(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = form_of(&headers, &body)?;
    imported(&app, flow::import_items(&app.store, body, form).await)
}

/// `POST /api/v1/catalog/categories/import`.
pub(super) async fn import_categories(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = form_of(&headers, &body)?;
    imported(&app, flow::import_categories(&app.store, body, form).await)
}

#[derive(Deserialize)]
pub(super) struct ListQuery {
    after: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/v1/catalog?after=SKU&limit=N`: items by SKU, with J-goods' view.
pub(super) async fn list_items(
    State(app): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let after = q.after.unwrap_or_default();
    let limit = q.limit.unwrap_or(100).clamp(1, super::MAX_LIMIT);
    let items = app
        .store
        .read(move |c| catalog::list(c, "jgoods", &after, limit))
        .await
        .map_err(ApiError::unavailable)?;
    let next = (items.len() == limit as usize).then(|| items.last().map(|v| v.item.sku.clone()));
    Ok(Json(json!({"items": items, "next_after": next.flatten()})).into_response())
}

/// `GET /api/v1/catalog/{sku}`.
pub(super) async fn get_item(
    State(app): State<AppState>,
    Path(sku): Path<String>,
) -> Result<Response, ApiError> {
    let item = app
        .store
        .read(move |c| catalog::get(c, "jgoods", &sku))
        .await
        .map_err(ApiError::unavailable)?;
    match item {
        Some(v) => Ok(Json(v).into_response()),
        None => Err(ApiError::not_found("no such item in the master")),
    }
}

/// `GET /api/v1/catalog/categories`.
pub(super) async fn list_categories(State(app): State<AppState>) -> Result<Response, ApiError> {
    let all = app
        .store
        .read(|c| catalog::categories(c))
        .await
        .map_err(ApiError::unavailable)?;
    Ok(Json(json!({"categories": all})).into_response())
}
