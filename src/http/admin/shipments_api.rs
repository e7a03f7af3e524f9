//! `/api/v1/shipments/…`: the label programs' files (出荷ファイル) for an
//! ERP or a script: `GET export?carrier=` answers the import file of the
//! orders ready to ship, `POST import?carrier=` takes the file the label
//! program wrote after printing (the body, Shift_JIS) and records its
//! shipments, all or nothing.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::{ApiError, AppState};
use crate::carrier_files::{self, CarrierFormat, import, store as files};

#[derive(Deserialize)]
pub(super) struct CarrierQuery {
    #[serde(default)]
    carrier: String,
}

fn format_of(q: &CarrierQuery, app: &AppState) -> Result<CarrierFormat, ApiError> {
    CarrierFormat::parse(&q.carrier).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_carrier",
            carrier_files::unknown_format(app.language, &q.carrier),
        )
        .with_field("carrier")
    })
}

/// The file of the orders ready to ship; `X-Refused-Orders` counts the
/// orders left out (the console and the CLI say why).
pub(super) async fn export(
    State(app): State<AppState>,
    Query(q): Query<CarrierQuery>,
) -> Result<Response, ApiError> {
    let format = format_of(&q, &app)?;
    let file = export_file(&app, format).await?;
    Ok(csv_download(format, file))
}

/// The rendered file for `format`, as the admin API and the console serve it.
pub async fn export_file(
    app: &AppState,
    format: CarrierFormat,
) -> Result<carrier_files::export::Rendered, ApiError> {
    let sender = app.carrier_files.clone().unwrap_or_default();
    files::export(&app.store, format, app.payment_policy, sender, app.language)
        .await
        .map_err(ApiError::unavailable)
}

/// A rendered file as a Shift_JIS CSV download.
pub fn csv_download(format: CarrierFormat, file: carrier_files::export::Rendered) -> Response {
    let name = format.file_name(crate::domain::time::now().date_naive());
    let mut r = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/csv; charset=Shift_JIS")],
        file.bytes,
    )
        .into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert("x-refused-orders", HeaderValue::from(file.refused.len()));
    r
}

/// Records the file's shipments: 200 with what was done, or 400 naming
/// each bad row's line and column, nothing recorded.
pub(super) async fn import(
    State(app): State<AppState>,
    Query(q): Query<CarrierQuery>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let format = format_of(&q, &app)?;
    match import_file(&app, format, &body).await? {
        Ok(done) => {
            app.dispatcher_wake.notify_one();
            Ok(Json(done).into_response())
        }
        Err(problems) => Ok(refused_file(&app, &problems)),
    }
}

/// Reads and records a written-back file, all or nothing.
pub async fn import_file(
    app: &AppState,
    format: CarrierFormat,
    body: &[u8],
) -> Result<Result<files::Imported, Vec<import::Problem>>, ApiError> {
    let lang = app.language;
    let owned = body.to_vec();
    // A day's labels take a moment to read: off the threads that answer webhooks.
    let parsed = tokio::task::spawn_blocking(move || import::parse(format, &owned, lang))
        .await
        .map_err(ApiError::unavailable)?;
    match parsed {
        Ok(labels) => files::import(&app.store, format, labels, app.payment_policy, lang)
            .await
            .map_err(ApiError::unavailable),
        Err(problems) => Ok(Err(problems)),
    }
}

fn refused_file(app: &AppState, problems: &[import::Problem]) -> Response {
    let first = problems
        .first()
        .map(|p| p.describe(app.language))
        .unwrap_or_default();
    let nothing = match app.language {
        crate::config::Language::Ja => "何も記録していません",
        crate::config::Language::En => "nothing was recorded",
    };
    let listed: Vec<_> = problems
        .iter()
        .map(|p| json!({"line": p.line, "column": p.column, "message": p.message}))
        .collect();
    let field = problems
        .first()
        .map(|p| format!("line {}, column {}", p.line, p.column))
        .unwrap_or_default();
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": {
            "code": "invalid_file",
            "message": format!("{first} ({nothing})"),
            "field": field,
            "problems": listed,
        }})),
    )
        .into_response()
}
