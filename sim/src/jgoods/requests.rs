//! The merchant's request bodies as the contract writes them, read and
//! checked: `PUT /order/v2/{order_no}` ("Register allocation / change
//! status") and the stock push `PUT /v3/item.json` ("Item-info API, stock
//! only"), and the error answers the APIs give ("Responses").
//!
//! A body is read from raw JSON rather than into a struct so that each
//! refusal carries the code the contract gives it (`INVALID_QTY` for a
//! `reserved_qty` that is not a whole number, `MISSING_LINE` for a bad
//! `line_no`…) instead of one generic parse error.

use serde_json::Value;

use super::state::{MAX_STOCK_ITEMS, all_full};
use super::wire::{JgoodsOrder, Status};

/// An error answer of the simulated APIs, before it becomes HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    /// The HTTP status of the answer.
    pub http_status: u16,
    /// `error.code`.
    pub code: &'static str,
    /// `error.message`.
    pub message: String,
    /// The order's current status, sent with `409 STATUS_CONFLICT`.
    pub current: Option<Status>,
}

impl ApiError {
    pub(crate) fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            http_status: 400,
            code,
            message: message.into(),
            current: None,
        }
    }

    pub(crate) fn order_not_found(order_no: &str) -> Self {
        ApiError {
            http_status: 404,
            code: "ORDER_NOT_FOUND",
            message: format!("no order {order_no:?}"),
            current: None,
        }
    }

    pub(crate) fn conflict(current: Option<Status>) -> Self {
        ApiError {
            http_status: 409,
            code: "STATUS_CONFLICT",
            message: format!(
                "the order is no longer in {}",
                Status::AwaitingApproval.label()
            ),
            current,
        }
    }
}

/// The merchant's `PUT`, normalised so that "identical request" compares
/// meaning (line order, absent vs `null`) rather than bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PutRequest {
    /// `status: 入荷待ち` was sent.
    pub confirm: bool,
    /// `(line_no, reserved_qty)` sorted by line.
    pub items: Option<Vec<(u32, u32)>>,
}

/// Shape checks that need no order: what the body says, not whether it fits.
pub(crate) fn parse_put(body: &[u8]) -> Result<PutRequest, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| ApiError::bad_request("INVALID_REQUEST", "the body is not JSON"))?;
    let Value::Object(fields) = value else {
        return Err(ApiError::bad_request(
            "INVALID_REQUEST",
            "the body must be a JSON object",
        ));
    };
    let confirm = match fields.get("status") {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) if Status::from_label(s) == Some(Status::AwaitingArrival) => true,
        Some(_) => {
            return Err(ApiError::bad_request(
                "INVALID_STATUS",
                format!(
                    "the only status a merchant may set is {}",
                    Status::AwaitingArrival.label()
                ),
            ));
        }
    };
    let items = match fields.get("items") {
        None | Some(Value::Null) => None,
        Some(Value::Array(list)) => Some(parse_lines(list)?),
        Some(_) => {
            return Err(ApiError::bad_request(
                "MISSING_LINE",
                "items must be a list of lines",
            ));
        }
    };
    Ok(PutRequest { confirm, items })
}

fn parse_lines(list: &[Value]) -> Result<Vec<(u32, u32)>, ApiError> {
    let mut lines: Vec<(u32, u32)> = Vec::with_capacity(list.len());
    for (i, line) in list.iter().enumerate() {
        let line_no = line
            .get("line_no")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "MISSING_LINE",
                    format!("items[{i}].line_no must be a whole number >= 1"),
                )
            })?;
        let reserved = line
            .get("reserved_qty")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| {
                ApiError::bad_request(
                    "INVALID_QTY",
                    format!("items[{i}].reserved_qty must be a whole number"),
                )
            })?;
        if lines.iter().any(|(l, _)| *l == line_no) {
            return Err(ApiError::bad_request(
                "MISSING_LINE",
                format!("line {line_no} appears twice"),
            ));
        }
        lines.push((line_no, reserved));
    }
    lines.sort_unstable();
    Ok(lines)
}

/// Checks a well-formed request against the order it is meant for.
pub(crate) fn check_put(order: &JgoodsOrder, request: &PutRequest) -> Result<(), ApiError> {
    let Some(items) = &request.items else {
        if !request.confirm {
            return Err(ApiError::bad_request(
                "MISSING_LINE",
                "items must name every line of the order",
            ));
        }
        if !all_full(order) {
            return Err(ApiError::bad_request(
                "INVALID_STATUS",
                "a status alone confirms only an order whose every line has reserved_qty == qty",
            ));
        }
        return Ok(());
    };
    check_lines_named(order, items)?;
    for (line_no, reserved) in items {
        let qty = order
            .items
            .iter()
            .find(|l| l.line_no == *line_no)
            .map_or(0, |l| l.qty);
        if *reserved > qty {
            return Err(ApiError::bad_request(
                "INVALID_QTY",
                format!("line {line_no}: reserved_qty {reserved} is more than qty {qty}"),
            ));
        }
    }
    let short = order
        .items
        .iter()
        .any(|l| items.iter().any(|(n, r)| *n == l.line_no && *r < l.qty));
    if request.confirm && short {
        return Err(ApiError::bad_request(
            "INVALID_STATUS",
            format!(
                "{} needs reserved_qty == qty on every line",
                Status::AwaitingArrival.label()
            ),
        ));
    }
    Ok(())
}

fn check_lines_named(order: &JgoodsOrder, items: &[(u32, u32)]) -> Result<(), ApiError> {
    if let Some((unknown, _)) = items
        .iter()
        .find(|(n, _)| !order.items.iter().any(|l| l.line_no == *n))
    {
        return Err(ApiError::bad_request(
            "MISSING_LINE",
            format!("the order has no line {unknown}"),
        ));
    }
    if let Some(missing) = order
        .items
        .iter()
        .find(|l| !items.iter().any(|(n, _)| *n == l.line_no))
    {
        return Err(ApiError::bad_request(
            "MISSING_LINE",
            format!("line {} is missing from items", missing.line_no),
        ));
    }
    Ok(())
}

/// The stock push's body: `{"items": [{"item_code", "stock"}]}`, at most
/// [`MAX_STOCK_ITEMS`] a call; a bad item refuses the whole call.
pub(crate) fn parse_stock(body: &[u8]) -> Result<Vec<(String, u64)>, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| ApiError::bad_request("INVALID_REQUEST", "the body is not JSON"))?;
    let Some(list) = value.get("items").and_then(Value::as_array) else {
        return Err(ApiError::bad_request(
            "INVALID_REQUEST",
            "items must be a list",
        ));
    };
    if list.len() > MAX_STOCK_ITEMS {
        return Err(ApiError::bad_request(
            "TOO_MANY_ITEMS",
            format!("at most {MAX_STOCK_ITEMS} items a call"),
        ));
    }
    list.iter()
        .enumerate()
        .map(|(i, item)| {
            let code = item
                .get("item_code")
                .and_then(Value::as_str)
                .filter(|c| !c.trim().is_empty());
            let stock = item.get("stock").and_then(Value::as_u64);
            match (code, stock) {
                (Some(code), Some(stock)) => Ok((code.to_string(), stock)),
                _ => Err(ApiError::bad_request(
                    "INVALID_REQUEST",
                    format!("items[{i}] needs an item_code and a whole-number stock"),
                )),
            }
        })
        .collect()
}
