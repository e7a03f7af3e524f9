//! The catalog's HTTP surface (category API, item-info API beyond the stock
//! push), with the same steps as every handler of [`super::api`]: record the
//! call, suffer an injected fault, check the bearer token, then let
//! [`super::catalog`] decide.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::Shared;
use super::api::{Sim, answer_after, api_error, authorize, gate};
use super::catalog::Catalog;
use super::requests::ApiError;
use super::state::{Api, Endpoint};

/// Whether a `PUT /v3/item.json` body carries item fields beyond the stock.
pub(super) fn is_catalog_update(body: &[u8]) -> bool {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return false;
    };
    v.get("items")
        .and_then(Value::as_array)
        .is_some_and(|items| {
            items.iter().any(|i| {
                i.as_object()
                    .is_some_and(|o| o.keys().any(|k| k != "item_code" && k != "stock"))
            })
        })
}

async fn call(
    sim: Arc<Shared>,
    what: &str,
    headers: HeaderMap,
    body: Option<&[u8]>,
    decide: impl FnOnce(&mut Catalog, &Value) -> Result<Value, ApiError>,
) -> Response {
    let parsed = body.map(serde_json::from_slice::<Value>);
    let recorded = match &parsed {
        Some(Ok(v)) => v.clone(),
        Some(Err(_)) => Value::String(String::from_utf8_lossy(body.unwrap_or_default()).into()),
        None => Value::Null,
    };
    sim.with_state(|s| s.stats.catalog_calls.push((what.to_string(), recorded)));
    let late = match gate(&sim, Endpoint::Catalog, None) {
        Ok(late) => late,
        Err(refusal) => return refusal.into_response(),
    };
    // The category API's calls are named by their path; the rest are the item API's.
    let api = if what.contains(" /category/") {
        Api::Category
    } else {
        Api::Item
    };
    let answer = match (authorize(&sim, &headers, api), parsed) {
        (Err(refusal), _) => refusal.into_response(),
        (Ok(()), Some(Err(_))) => api_error(ApiError::bad_request(
            "INVALID_REQUEST",
            "the body is not JSON",
        )),
        (Ok(()), parsed) => {
            let body = parsed.and_then(Result::ok).unwrap_or(Value::Null);
            match sim.with_state(|s| decide(&mut s.catalog, &body)) {
                Ok(v) => axum::Json(v).into_response(),
                Err(e) => api_error(e),
            }
        }
    };
    answer_after(&sim, late, answer).await
}

pub(super) async fn post_items(State(sim): Sim, headers: HeaderMap, body: Bytes) -> Response {
    call(sim, "POST /v3/item.json", headers, Some(&body), |c, b| {
        c.write_items(b, true)
    })
    .await
}

pub(super) async fn put_items(State(sim): Sim, headers: HeaderMap, body: Bytes) -> Response {
    call(sim, "PUT /v3/item.json", headers, Some(&body), |c, b| {
        c.write_items(b, false)
    })
    .await
}

pub(super) async fn delete_items(State(sim): Sim, headers: HeaderMap, body: Bytes) -> Response {
    call(
        sim,
        "DELETE /v3/item.json",
        headers,
        Some(&body),
        Catalog::delete_items_of,
    )
    .await
}

pub(super) async fn search_items(
    State(sim): Sim,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let page = q
        .get("page")
        .map_or(Some(1), |p| p.parse::<usize>().ok().filter(|p| *p >= 1));
    call(
        sim,
        "GET /v3/search.json",
        headers,
        None,
        move |c, _| match page {
            Some(p) => Ok(c.search(p)),
            None => Err(ApiError::bad_request(
                "INVALID_REQUEST",
                "page must be a whole number >= 1",
            )),
        },
    )
    .await
}

pub(super) async fn get_item(
    State(sim): Sim,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Response {
    call(sim, "GET /v3/{item_code}", headers, None, move |c, _| {
        c.items
            .get(&code)
            .map(|i| Value::Object(i.clone()))
            .ok_or_else(|| ApiError {
                http_status: StatusCode::NOT_FOUND.as_u16(),
                ..ApiError::bad_request("ITEM_NOT_FOUND", format!("no item {code}"))
            })
    })
    .await
}

pub(super) async fn get_categories(State(sim): Sim, headers: HeaderMap) -> Response {
    call(
        sim,
        "GET /category/v1/categories.json",
        headers,
        None,
        |c, _| Ok(c.categories_json()),
    )
    .await
}

pub(super) async fn put_categories(State(sim): Sim, headers: HeaderMap, body: Bytes) -> Response {
    call(
        sim,
        "PUT /category/v1/categories.json",
        headers,
        Some(&body),
        Catalog::put_categories,
    )
    .await
}

pub(super) async fn delete_categories(
    State(sim): Sim,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    call(
        sim,
        "DELETE /category/v1/categories.json",
        headers,
        Some(&body),
        Catalog::delete_categories,
    )
    .await
}
