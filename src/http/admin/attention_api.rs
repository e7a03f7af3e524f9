//! `POST /api/v1/orders/{channel}/{id}/ack` and `POST /api/v1/outbox/{id}/drop`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::parse_channel;
use crate::flows::attention::{self, ActionError};
use crate::http::{ApiError, AppState};
use crate::store::{orders, outbox};

/// Who acted when the caller does not say (the ERP, a script).
const DEFAULT_BY: &str = "admin-api";

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AckBody {
    #[serde(default)]
    note: String,
    #[serde(default)]
    by: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DropBody {
    reason: String,
    #[serde(default)]
    by: Option<String>,
}

fn action_error(e: ActionError) -> ApiError {
    match e {
        ActionError::NotFound(m) => ApiError::not_found(m),
        ActionError::Nothing(m) => ApiError::new(StatusCode::CONFLICT, "nothing_to_do", m),
        ActionError::Invalid(m) => ApiError::bad_request("invalid_body", m),
        ActionError::Store(e) => ApiError::unavailable(e),
    }
}

/// Acknowledges the order's attention; answers the order as it is now.
pub(super) async fn acknowledge(
    State(app): State<AppState>,
    Path((channel, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let ch = parse_channel(&channel)?;
    let b: AckBody = if body.iter().all(u8::is_ascii_whitespace) {
        AckBody::default()
    } else {
        crate::http::json_object(&body, "{\"note\": \"...\", \"by\": \"...\"}")?
    };
    let by = b.by.unwrap_or_else(|| DEFAULT_BY.into());
    attention::acknowledge(&app.store, ch, id.clone(), &by, &b.note)
        .await
        .map_err(action_error)?;
    let order = app
        .store
        .read(move |c| orders::load(c, ch, &id))
        .await
        .map_err(ApiError::unavailable)?;
    Ok(Json(order).into_response())
}

/// Drops a dead call for good; answers the call as it is now.
pub(super) async fn drop_call(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let b: DropBody = crate::http::json_object(&body, "{\"reason\": \"...\", \"by\": \"...\"}")?;
    let by = b.by.unwrap_or_else(|| DEFAULT_BY.into());
    attention::drop_call(&app.store, id, &by, &b.reason)
        .await
        .map_err(action_error)?;
    let row = app
        .store
        .read(move |c| outbox::get(c, id))
        .await
        .map_err(ApiError::unavailable)?;
    Ok(Json(row).into_response())
}
