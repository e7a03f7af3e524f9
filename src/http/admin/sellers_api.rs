//! `/api/v1/sellers…`: the KOMOJU Platform Model's seller master (出品者)
//! over the admin API.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::http::{ApiError, AppState, json_object};
use crate::providers::komoju::platform::apply::{self as platform, NewSeller, SellerRefused};
use crate::store::sellers;

/// `POST /api/v1/sellers` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSellerBody {
    code: String,
    name: String,
    fee_bps: u32,
    #[serde(default)]
    fee_min_per_line: Option<i64>,
    #[serde(default)]
    submerchant_id: Option<String>,
}

/// `GET /api/v1/sellers`.
pub(super) async fn list(State(app): State<AppState>) -> Result<Response, ApiError> {
    let all = app
        .store
        .read(|c| sellers::list(c))
        .await
        .map_err(ApiError::unavailable)?;
    Ok(Json(json!({ "sellers": all })).into_response())
}

/// `GET /api/v1/sellers/{code}`.
pub(super) async fn get(
    State(app): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let c = code.clone();
    match app
        .store
        .read(move |conn| sellers::get(conn, &c))
        .await
        .map_err(ApiError::unavailable)?
    {
        Some(s) => Ok(Json(s).into_response()),
        None => Err(ApiError::not_found(format!("no seller {code}"))),
    }
}

/// `POST /api/v1/sellers`: 201 with the seller; its KOMOJU sub-merchant is
/// created (or the one given re-read) through the outbox.
pub(super) async fn add(State(app): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let b: NewSellerBody = json_object(&body, "a seller")?;
    let new = NewSeller {
        code: b.code.trim().to_string(),
        name: b.name,
        fee_bps: b.fee_bps,
        fee_min_per_line: b.fee_min_per_line,
        submerchant_id: b.submerchant_id.map(|s| s.trim().to_string()),
    };
    match platform::add_seller(&app.store, new)
        .await
        .map_err(ApiError::unavailable)?
    {
        Ok(s) => {
            app.dispatcher_wake.notify_one();
            Ok((StatusCode::CREATED, Json(s)).into_response())
        }
        Err(e @ SellerRefused::Invalid(field, _)) => {
            Err(ApiError::bad_request("invalid_seller", e.to_string()).with_field(field))
        }
        Err(e @ SellerRefused::Exists(_)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            e.to_string(),
        )),
    }
}
