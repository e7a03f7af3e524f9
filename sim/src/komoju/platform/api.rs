//! The Platform Model's HTTP surface under `/api/v1` (contract "Platform
//! Model"): `/merchants…`, `/live_application/…` and the older transfer path
//! `/balances/{currency}/transfer`, through the same admission, idempotency
//! and faults as the payment calls.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::komoju::api::{admit, change, payment_list, render, view_of};
use crate::komoju::faults::Endpoint;
use crate::komoju::settings::View;
use crate::komoju::state::SimState;
use crate::komoju::wire::{self, ApiError};
use crate::komoju::{API_PATH, Shared};

type Sim = State<Arc<Shared>>;
type Query_ = Result<Query<HashMap<String, String>>, QueryRejection>;

/// The Platform Model's routes.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(&format!("{API_PATH}/merchants"), any(merchants_root))
        .route(&format!("{API_PATH}/merchants/{{*rest}}"), any(merchants))
        .route(
            &format!("{API_PATH}/live_application/{{*rest}}"),
            any(live_application),
        )
        .route(
            &format!("{API_PATH}/balances/{{currency}}/transfer"),
            post(legacy_transfer),
        )
}

/// A call on the Platform Model: `resource` is `merchants` or
/// `live_application`, `segments` the rest of the path.
struct Call {
    method: Method,
    resource: &'static str,
    segments: Vec<String>,
    query: HashMap<String, String>,
}

async fn merchants_root(
    State(sim): Sim,
    method: Method,
    query: Query_,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve(
        sim,
        method,
        "merchants",
        String::new(),
        query,
        headers,
        body,
    )
    .await
}

async fn merchants(
    State(sim): Sim,
    method: Method,
    Path(rest): Path<String>,
    query: Query_,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve(sim, method, "merchants", rest, query, headers, body).await
}

async fn live_application(
    State(sim): Sim,
    method: Method,
    Path(rest): Path<String>,
    query: Query_,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve(sim, method, "live_application", rest, query, headers, body).await
}

/// `POST /balances/{currency}/transfer`: from the authenticated merchant,
/// the platform.
async fn legacy_transfer(
    State(sim): Sim,
    Path(currency): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let scope = format!("balances/{currency}/transfer");
    change(
        &sim,
        Endpoint::Transfer,
        &headers,
        &scope,
        body,
        |s, _, body, now| {
            render((|| {
                let fields: Map<String, Value> = wire::read_body(body)?;
                s.platform.jpy(&currency)?;
                let from = s.platform.settings.platform_id.clone();
                s.platform.transfer(&from, true, &fields, now)
            })())
        },
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn serve(
    sim: Arc<Shared>,
    method: Method,
    resource: &'static str,
    rest: String,
    query: Query_,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let segments: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let endpoint = match (resource, segments.get(1).map(String::as_str)) {
        ("merchants", Some("balances")) if segments.last().is_some_and(|s| s == "transfer") => {
            Endpoint::Transfer
        }
        ("merchants", Some("balances")) => Endpoint::Balances,
        ("merchants", Some("settlements")) => Endpoint::Settlements,
        _ => Endpoint::Merchants,
    };
    let Ok(Query(query)) = query else {
        return render(Err::<(), _>(ApiError::invalid(
            "query",
            "unreadable query string",
        )))
        .into_response();
    };
    let call = Call {
        method,
        resource,
        segments,
        query,
    };
    if call.method == Method::GET {
        if let Err(refusal) = admit(&sim, endpoint, &headers) {
            return *refusal;
        }
        let view = view_of(&sim, &headers);
        let answer = sim.with_state(|s, now| render(dispatch(s, &call, view, &[], now)));
        return answer.into_response();
    }
    let scope = format!("{} {resource}/{}", call.method, call.segments.join("/"));
    change(
        &sim,
        endpoint,
        &headers,
        &scope,
        body,
        |s, view, body, now| render(dispatch(s, &call, view, body, now)),
    )
    .await
}

/// Routes one call to the back office.
fn dispatch(
    s: &mut SimState,
    call: &Call,
    view: View,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Value, ApiError> {
    let seg: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    let read = || wire::read_body::<Map<String, Value>>(body);
    let p = &mut s.platform;
    let m = &call.method;
    match (call.resource, m.as_str(), seg.as_slice()) {
        ("merchants", "GET", []) => p.list_merchants(&call.query),
        ("merchants", "POST", []) => p.create_merchant(&read()?, now),
        ("merchants", "GET", [id]) => p.show_merchant(id),
        ("merchants", "PATCH", [id]) => p.patch_merchant(id, &read()?, now),
        ("merchants", "GET", [id, "payments"]) => {
            let page = s.seller_payments(id, &call.query)?;
            Ok(serde_json::to_value(payment_list(&page, view)).unwrap_or(Value::Null))
        }
        ("merchants", "GET", [id, "balances", c]) => {
            p.known(id)?;
            p.jpy(c)?;
            p.balance_json(id)
        }
        ("merchants", "GET", [id, "balances", c, "transactions"]) => {
            p.known(id)?;
            p.jpy(c)?;
            p.transactions_json(id, &call.query)
        }
        ("merchants", "GET", [id, "balances", c, "transactions", tx]) => {
            p.known(id)?;
            p.jpy(c)?;
            p.transaction_json(id, tx)
        }
        ("merchants", "GET", [id, "balances", c, "settings"]) => {
            p.known(id)?;
            p.jpy(c)?;
            p.payout_settings(id, now)
        }
        ("merchants", "PATCH", [id, "balances", c, "settings"]) => {
            p.known(id)?;
            p.jpy(c)?;
            p.patch_payout_settings(id, &read()?, now)
        }
        ("merchants", "POST", [id, "balances", c, "transfer"]) => {
            p.known(id)?;
            p.jpy(c)?;
            p.transfer(id, false, &read()?, now)
        }
        ("merchants", "GET", [id, "settlements"]) => p.settlements_json(id, &call.query),
        ("merchants", "GET", [id, "settlements", sid]) => p.settlement_json(id, sid),
        ("live_application", "GET", [id]) => p.application(id),
        ("live_application", "PATCH", [id]) => p.patch_application(id, &read()?, now),
        ("live_application", "PATCH", [id, "simulate_status"]) => {
            p.simulate_status(id, &read()?, now)
        }
        _ => Err(ApiError::not_found(
            "The requested resource could not be found",
        )),
    }
}
