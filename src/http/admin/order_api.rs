//! The admin API's orders, change feed and outbox: list, read, register, ship,
//! cancel, retry.

use super::*;
use crate::providers::komoju::refund_request::RawBankAccount;
use crate::store::komoju_refund_requests;

#[derive(Deserialize, Default)]
pub(super) struct OrdersQuery {
    channel: Option<String>,
    state: Option<String>,
    attention: Option<bool>,
    limit: Option<u32>,
    after: Option<String>,
}

/// Parses `channel` names, answering 400 for unknown ones.
pub fn parse_channel(s: &str) -> Result<Channel, ApiError> {
    Channel::parse(s).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_channel",
            format!("unknown channel {s:?}; use jgoods, rakuten or direct"),
        )
        .with_field("channel")
    })
}

pub(super) async fn list_orders(
    State(app): State<AppState>,
    Query(q): Query<OrdersQuery>,
) -> Result<Response, ApiError> {
    let channel = q
        .channel
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(parse_channel)
        .transpose()?;
    let state = q
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            OrderState::parse(s).ok_or_else(|| {
                ApiError::bad_request("invalid_state", format!("unknown state {s:?}"))
                    .with_field("state")
            })
        })
        .transpose()?;
    let after = match q.after.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(a) => Some(match (a.split_once(':'), channel) {
            (Some((ch, id)), _) if Channel::parse(ch).is_some() => {
                (parse_channel(ch)?, id.to_string())
            }
            (_, Some(ch)) => (ch, a.to_string()),
            _ => {
                return Err(ApiError::bad_request(
                    "invalid_after",
                    "after is channel:id (or an id with channel=)",
                )
                .with_field("after"));
            }
        }),
    };
    let filter = OrderFilter {
        channel,
        state,
        attention: q.attention.unwrap_or(false),
        limit: q.limit.unwrap_or(100).clamp(1, MAX_LIMIT),
        after,
    };
    let list = app
        .store
        .read(move |c| orders::list(c, &filter))
        .await
        .map_err(|e| match e {
            crate::store::StoreError::Invalid(m) => {
                ApiError::bad_request("invalid_after", m).with_field("after")
            }
            e => ApiError::unavailable(e),
        })?;
    let next_after = list
        .last()
        .map(|o| format!("{}:{}", o.channel.as_str(), o.id));
    Ok(Json(json!({"orders": list, "next_after": next_after})).into_response())
}

pub(super) async fn get_order(
    State(app): State<AppState>,
    Path((channel, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let ch = parse_channel(&channel)?;
    let key = id.clone();
    let refund_key = id.clone();
    match app
        .store
        .read(move |c| {
            let o = orders::load(c, ch, &key)?;
            let r = komoju_refund_requests::load(c, ch.as_str(), &refund_key)?;
            Ok(o.map(|o| (o, r)))
        })
        .await
        .map_err(ApiError::unavailable)?
    {
        Some((o, None)) => Ok(Json(o).into_response()),
        // A KOMOJU refund request (cash refunded to the customer's bank
        // account): where it stands, in the merchant's words.
        Some((o, Some(r))) => {
            let mut v = serde_json::to_value(&o).map_err(ApiError::unavailable)?;
            v["refund_request"] = serde_json::json!({
                "state": r.state.as_str(),
                "request_id": r.request_id,
                "message": crate::providers::komoju::refund_flow::describe(&r),
                "updated_at": r.updated_at,
            });
            Ok(Json(v).into_response())
        }
        None => Err(ApiError::not_found(format!("no {channel} order {id}"))),
    }
}

#[derive(Deserialize)]
pub(super) struct EventsQuery {
    after: Option<i64>,
    limit: Option<u32>,
    wait: Option<u64>,
}

pub(super) async fn list_events(
    State(app): State<AppState>,
    Query(q): Query<EventsQuery>,
) -> Result<Response, ApiError> {
    let after = q.after.unwrap_or(0).max(0);
    let limit = q.limit.unwrap_or(100).clamp(1, MAX_LIMIT);
    let deadline =
        tokio::time::Instant::now() + Duration::from_secs(q.wait.unwrap_or(0)).min(MAX_WAIT);
    loop {
        let rows = app
            .store
            .read(move |c| events::after(c, after, limit))
            .await
            .map_err(ApiError::unavailable)?;
        let now = tokio::time::Instant::now();
        if !rows.is_empty() || now >= deadline {
            let next_after = rows.last().map(|e| e.id).unwrap_or(after);
            return Ok(Json(json!({"events": rows, "next_after": next_after})).into_response());
        }
        // Woken by our own commits at once; writes by other processes (the CLI)
        // are picked up by the periodic re-check.
        app.store
            .wait_for_commit((deadline - now).min(Duration::from_millis(500)))
            .await;
    }
}

#[derive(Deserialize)]
pub(super) struct OutboxQuery {
    state: Option<String>,
    limit: Option<u32>,
}

pub(super) async fn list_outbox(
    State(app): State<AppState>,
    Query(q): Query<OutboxQuery>,
) -> Result<Response, ApiError> {
    let state = q.state.filter(|s| !s.is_empty());
    if let Some(s) = &state
        && !["pending", "done", "dead", "cancelled"].contains(&s.as_str())
    {
        return Err(
            ApiError::bad_request("invalid_state", format!("unknown outbox state {s:?}"))
                .with_field("state"),
        );
    }
    let limit = q.limit.unwrap_or(100).clamp(1, MAX_LIMIT);
    let rows = app
        .store
        .read(move |c| outbox::list(c, state.as_deref(), limit))
        .await
        .map_err(ApiError::unavailable)?;
    Ok(Json(json!({ "outbox": rows })).into_response())
}

pub(super) async fn retry_outbox(
    State(app): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    Ok(Json(retry_call(&app, id).await?).into_response())
}

/// Puts a dead call back in the queue (API and status page alike).
pub(super) async fn retry_call(
    app: &AppState,
    id: i64,
) -> Result<Option<outbox::OutboxRow>, ApiError> {
    let result = app
        .store
        .write(move |tx| {
            let now = time::rfc3339(time::now());
            Ok(match outbox::retry_by_hand(tx, id, &now)? {
                None => None,
                Some(retried) => Some((retried, outbox::get(tx, id)?)),
            })
        })
        .await
        .map_err(ApiError::unavailable)?;
    match result {
        None => Err(ApiError::not_found(format!("no outbox call {id}"))),
        Some((false, _)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_dead",
            format!("outbox call {id} is not dead"),
        )),
        Some((true, row)) => {
            app.dispatcher_wake.notify_one();
            Ok(row)
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ShipmentBody {
    carrier: String,
    tracking_no: String,
    shipped_on: String,
    #[serde(default)]
    shipping_cost: Option<i64>,
}

/// Validates a shipment request field by field.
pub fn parse_shipment(
    carrier: &str,
    tracking_no: &str,
    shipped_on: &str,
    shipping_cost: Option<i64>,
) -> Result<ShipmentRequest, ApiError> {
    let carrier = carrier.parse::<Carrier>().map_err(|e| {
        ApiError::bad_request("invalid_carrier", e.to_string()).with_field("carrier")
    })?;
    let tracking_no = tracking_no.trim();
    if tracking_no.is_empty()
        || tracking_no.len() > 64
        || !tracking_no
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(ApiError::bad_request(
            "invalid_tracking_no",
            "tracking_no must be 1 to 64 letters, digits or hyphens",
        )
        .with_field("tracking_no"));
    }
    let shipped_on = chrono::NaiveDate::parse_from_str(shipped_on, "%Y-%m-%d").map_err(|_| {
        ApiError::bad_request("invalid_date", "shipped_on must be YYYY-MM-DD")
            .with_field("shipped_on")
    })?;
    if shipping_cost.is_some_and(|c| !(0..=10_000_000).contains(&c)) {
        return Err(ApiError::bad_request(
            "invalid_amount",
            "shipping_cost must be whole yen from 0 to 10000000",
        )
        .with_field("shipping_cost"));
    }
    Ok(ShipmentRequest {
        carrier,
        tracking_no: tracking_no.to_string(),
        shipped_on,
        shipping_cost,
    })
}

pub(super) fn command_error(e: CommandError) -> ApiError {
    match e {
        CommandError::NotFound(..) => ApiError::not_found(e.to_string()),
        CommandError::Refused(r) => {
            ApiError::new(StatusCode::CONFLICT, "invalid_state", r.to_string())
        }
        CommandError::RefundAccount(r) => ApiError::new(
            StatusCode::CONFLICT,
            "refund_account_not_taken",
            r.to_string(),
        )
        .with_field("refund_account"),
        CommandError::Store(s) => ApiError::unavailable(s),
    }
}

pub(super) async fn ship_order(
    State(app): State<AppState>,
    Path((channel, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let ch = parse_channel(&channel)?;
    let b: ShipmentBody = crate::http::json_object(
        &body,
        "{\"carrier\", \"tracking_no\", \"shipped_on\", \"shipping_cost\"?}",
    )?;
    let req = parse_shipment(&b.carrier, &b.tracking_no, &b.shipped_on, b.shipping_cost)?;
    let order = erp::ship(&app.store, ch, id, req, app.payment_policy)
        .await
        .map_err(command_error)?;
    app.dispatcher_wake.notify_one();
    Ok((StatusCode::ACCEPTED, Json(order)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct CancelBody {
    #[serde(default)]
    reason: String,
    /// The customer's bank account for a KOMOJU refund request (the
    /// contract's `refund_account`, with KOMOJU's field names).
    #[serde(default, alias = "refund_bank_account")]
    refund_account: Option<RawBankAccount>,
}

pub(super) async fn cancel_order(
    State(app): State<AppState>,
    Path((channel, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let ch = parse_channel(&channel)?;
    let b: CancelBody = if body.iter().all(u8::is_ascii_whitespace) {
        CancelBody::default()
    } else {
        crate::http::json_object(&body, "{\"reason\": \"...\", \"refund_account\"?: {...}}")?
    };
    let account = b
        .refund_account
        .map(|raw| raw.validate())
        .transpose()
        .map_err(|e| {
            ApiError::bad_request("invalid_refund_account", e.message)
                .with_field(format!("refund_account.{}", e.field))
        })?;
    let order = erp::cancel_with_account(&app.store, ch, id, b.reason, account)
        .await
        .map_err(command_error)?;
    app.dispatcher_wake.notify_one();
    Ok((StatusCode::ACCEPTED, Json(order)).into_response())
}

pub(super) async fn register_order(
    State(app): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let order = DirectOrder::parse(&body)
        .map_err(|e| ApiError::bad_request("invalid_order", e.to_string()).with_field(e.field))?;
    if let Some(p) = order.payment.deferred_provider()
        && !app.credit_providers.contains(&p)
    {
        return Err(ApiError::bad_request(
            "provider_disabled",
            format!("[{}] is not enabled in the config", p.as_str()),
        )
        .with_field("payment"));
    }
    if matches!(order.payment, DirectPayment::Komoju { .. }) && app.komoju_webhook_secrets.is_none()
    {
        return Err(ApiError::bad_request(
            "provider_disabled",
            "[komoju] is not enabled in the config",
        )
        .with_field("payment"));
    }
    match direct::register(&app.store, order)
        .await
        .map_err(ApiError::unavailable)?
    {
        Registered::Created(o) => {
            // The credit request (if any) is in the outbox.
            app.dispatcher_wake.notify_one();
            Ok((StatusCode::CREATED, Json(o)).into_response())
        }
        Registered::Same(o) => Ok((StatusCode::OK, Json(o)).into_response()),
        Registered::Conflict(_) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "an order with this id was registered with different content",
        )),
    }
}
