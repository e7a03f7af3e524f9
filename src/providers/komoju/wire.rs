//! KOMOJU wire format: the JSON exactly as KOMOJU sends and expects it.
//!
//! Every field is optional at the serde level (unknown fields are ignored and
//! `null` reads as absent), so that deserialising never fails on a field the
//! daemon does not need; what the daemon does need is checked afterwards, in
//! [`payment_from_wire`] and [`parse_event`], which name the offending field.
//! The rest of the crate sees only [`super::Payment`] and [`super::Event`].

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Event, Payment, PaymentStatus, Refund, WebhookEvent};

/// Longest id accepted from KOMOJU (theirs are 25; a little slack for the future).
pub const MAX_ID_LEN: usize = 64;

/// A payment object (`"resource": "payment"`), as KOMOJU answers it and puts
/// it in a webhook's `data`. Fields KOMOJU sends that the daemon does not use
/// (`customer`, `metadata`, `locale`…) are ignored on reading.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KomojuPayment {
    /// 25 alphanumerics; what the merchant's calls address.
    pub id: Option<String>,
    /// Always `payment`; anything else means the wrong object was read.
    pub resource: Option<String>,
    /// `pending`, `authorized`, `captured`, `refunded`, `cancelled`, `expired`, `failed`.
    pub status: Option<String>,
    /// Before tax.
    #[serde(deserialize_with = "lenient_int")]
    pub amount: Option<i64>,
    /// The tax on `amount`.
    #[serde(deserialize_with = "lenient_int")]
    pub tax: Option<i64>,
    /// Fee added by some methods (konbini).
    #[serde(deserialize_with = "lenient_int")]
    pub payment_method_fee: Option<i64>,
    /// What the customer pays; the limit of refunds.
    #[serde(deserialize_with = "lenient_int")]
    pub total: Option<i64>,
    /// ISO 4217 code.
    pub currency: Option<String>,
    /// Free text set at creation; shown to people, never interpreted.
    pub description: Option<String>,
    /// The merchant's order id: how a payment is tied to an order.
    pub external_order_num: Option<String>,
    /// RFC 3339, UTC (`Z`): until when konbini, bank transfer and Pay-easy
    /// can be paid; `null` for most other types.
    pub payment_deadline: Option<String>,
    /// RFC 3339, UTC (`Z`); `null` until captured.
    pub captured_at: Option<String>,
    /// Sum of the refunds so far.
    #[serde(deserialize_with = "lenient_int")]
    pub amount_refunded: Option<i64>,
    /// How the customer pays.
    pub payment_details: Option<KomojuPaymentDetails>,
    /// Refunds, oldest first.
    pub refunds: Option<Vec<KomojuRefund>>,
    /// The captures, from API version 2025-01-28 \[chg-2025\]: element
    /// fields are unpublished, so kept raw and read leniently.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub captures: Option<Vec<Value>>,
    /// Refund requests, oldest first; read leniently (`super::refund_request`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_requests: Option<Vec<Value>>,
    /// RFC 3339, UTC (`Z`).
    pub created_at: Option<String>,
    /// Platform Model (alpha): kept as given, never interpreted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform_details: Option<Value>,
}

/// `payment_details`: only `type` matters here; the rest (card brand, konbini
/// store, instructions URL…) is ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KomojuPaymentDetails {
    /// `credit_card`, `konbini`, `bank_transfer`, `paypay`…
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// One element of `refunds[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KomojuRefund {
    /// 25 alphanumerics; the dedupe key of `payment.refund.created`.
    pub id: Option<String>,
    /// Always `refund`.
    pub resource: Option<String>,
    /// Tax included.
    #[serde(deserialize_with = "lenient_int")]
    pub amount: Option<i64>,
    /// ISO 4217 code, as the payment's.
    pub currency: Option<String>,
    /// The merchant's note given with the refund.
    pub description: Option<String>,
    /// RFC 3339, UTC (`Z`).
    pub created_at: Option<String>,
    /// A chargeback rather than a merchant's refund.
    pub chargeback: Option<bool>,
}

/// `GET /payments` answer. `data` stays raw so that one unreadable payment does
/// not hide the others.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KomojuPaymentList {
    /// Always `payment_list`.
    pub resource: Option<String>,
    /// The page's payment objects, read one by one.
    pub data: Option<Vec<Value>>,
    /// Matches over all pages.
    #[serde(deserialize_with = "lenient_int")]
    pub total: Option<i64>,
    /// This page's number, from 1.
    #[serde(deserialize_with = "lenient_int")]
    pub page: Option<i64>,
    /// Payments per page.
    #[serde(deserialize_with = "lenient_int")]
    pub per_page: Option<i64>,
    /// The last page's number.
    #[serde(deserialize_with = "lenient_int")]
    pub last_page: Option<i64>,
}

/// A webhook body (`"resource": "event"`). `data` stays raw: its shape depends on `type`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KomojuEvent {
    /// The event id: the dedupe key (delivery is at least once).
    pub id: Option<String>,
    /// `payment.captured`, `ping`… (also sent as `X-Komoju-Event`).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Always `event`.
    pub resource: Option<String>,
    /// The payment for `payment.*` types; something else for other types.
    pub data: Option<Value>,
    /// RFC 3339, UTC (`Z`).
    pub created_at: Option<String>,
    /// A string or `null` in practice; kept raw so any other shape is tolerated.
    pub reason: Option<Value>,
}

/// The error envelope `{"error": {"code", "message", "param", "details"}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KomojuErrorBody {
    /// The error itself.
    pub error: Option<KomojuError>,
}

/// The inside of the error envelope. `code` is an open set: unknown codes are
/// passed on as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KomojuError {
    /// Machine-readable (`not_found`, `missing_parameter`…); what the dispatcher reports.
    pub code: Option<String>,
    /// English text for people.
    pub message: Option<String>,
    /// The request parameter at fault, if any.
    pub param: Option<String>,
    /// More detail, any shape.
    pub details: Option<Value>,
}

/// `POST /payments/{id}/capture` body; no amount captures everything authorized.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KomojuCaptureRequest {
    /// Before tax (as in KOMOJU's SDKs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
}

/// `POST /payments/{id}/refund` body; no amount refunds what is left.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KomojuRefundRequest {
    /// How much to give back; `None` for everything left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    /// A note kept with the refund (e.g. the order's cancellation reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `POST /payments/{id}/cancel` body: an empty object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KomojuCancelRequest {}

/// Why a KOMOJU body was refused; `field` is a JSON path such as `data.refunds[1].amount`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct WireError {
    /// Where in the body, so a refused webhook can be diagnosed from the log.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl WireError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        WireError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Parses and validates a webhook body. Never panics, whatever the bytes.
///
/// `payment.*` types the contract names must carry a readable payment in
/// `data`; `ping` carries none; any other type is accepted with its `data`
/// read as a payment only when it happens to be one.
pub fn parse_event(body: &[u8]) -> Result<Event, WireError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| WireError::new("body", format!("not JSON: {e}")))?;
    let Value::Object(object) = &value else {
        return Err(WireError::new("body", "not a JSON object"));
    };
    let raw: KomojuEvent = typed(&value, object, "")?;
    let id = checked_id(raw.id.as_deref(), "id")?;
    let kind = match raw.kind.as_deref().map(str::trim) {
        None | Some("") => return Err(WireError::new("type", "missing")),
        Some(t) if t.len() > 200 => return Err(WireError::new("type", "longer than 200 bytes")),
        Some(t) => WebhookEvent::parse(t),
    };
    let created_at = optional_time(raw.created_at.as_deref(), "created_at")?;
    let payment = match raw.data.as_ref() {
        Some(data) if kind.carries_payment() => {
            let mut payment = payment_from_value(data, "data")?;
            // A declined card reads `pending` "until a future API version"
            // [h-failed]: the event's type is what says it failed.
            if kind == WebhookEvent::Failed && payment.status == PaymentStatus::Pending {
                payment.status = PaymentStatus::Failed;
            }
            Some(payment)
        }
        None if kind.carries_payment() => {
            return Err(WireError::new("data", "a payment event needs its payment"));
        }
        Some(data) => other_payment(&kind, data),
        None => None,
    };
    let reason = match raw.reason {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s).filter(|s| !s.is_empty()),
        Some(other) => Some(other.to_string()),
    };
    let refund_request_of = super::refund_request::payment_of_update(&kind, raw.data.as_ref());
    let submerchant_of = super::platform::wire::submerchant_of(kind.as_str(), raw.data.as_ref());
    Ok(Event {
        id,
        kind,
        payment,
        created_at,
        reason,
        refund_request_of,
        submerchant_of,
    })
}

/// `data` of an event type the contract does not name: a payment if it reads
/// as one, otherwise nothing (never an error).
fn other_payment(kind: &WebhookEvent, data: &Value) -> Option<Payment> {
    match kind {
        WebhookEvent::Other(_) => {
            let is_payment = data.get("resource").and_then(Value::as_str) == Some("payment");
            is_payment
                .then(|| payment_from_value(data, "data").ok())
                .flatten()
        }
        WebhookEvent::Ping
        | WebhookEvent::Authorized
        | WebhookEvent::Captured
        | WebhookEvent::Updated
        | WebhookEvent::Expired
        | WebhookEvent::Cancelled
        | WebhookEvent::RefundCreated
        | WebhookEvent::Refunded
        | WebhookEvent::Failed => None,
    }
}

/// Parses and validates a payment body (`GET /payments/{id}` and the POST answers).
pub fn parse_payment(body: &[u8]) -> Result<Payment, WireError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| WireError::new("body", format!("not JSON: {e}")))?;
    payment_from_value(&value, "")
}

/// Validates one payment given as a JSON value; `path` prefixes field names.
pub fn payment_from_value(value: &Value, path: &str) -> Result<Payment, WireError> {
    let Value::Object(object) = value else {
        return Err(WireError::new(or_body(path), "not a payment object"));
    };
    let raw: KomojuPayment = typed(value, object, path)?;
    payment_from_wire(&raw, path)
}

/// Converts an already-deserialised wire payment into the neutral [`Payment`].
pub fn payment_from_wire(raw: &KomojuPayment, path: &str) -> Result<Payment, WireError> {
    let at = |f: &str| join(path, f);
    if let Some(resource) = raw.resource.as_deref()
        && resource != "payment"
    {
        return Err(WireError::new(
            at("resource"),
            format!("expected \"payment\", got {:?}", truncate(resource, 40)),
        ));
    }
    let id = checked_id(raw.id.as_deref(), &at("id"))?;
    let status = match raw.status.as_deref() {
        None => return Err(WireError::new(at("status"), "missing")),
        Some(s) => PaymentStatus::parse(s),
    };
    let amount = required_amount(raw.amount, &at("amount"))?;
    let tax = optional_amount(raw.tax, &at("tax"))?;
    let payment_method_fee = optional_amount(raw.payment_method_fee, &at("payment_method_fee"))?;
    let total = match raw.total {
        Some(_) => required_amount(raw.total, &at("total"))?,
        None => amount
            .checked_add(tax)
            .and_then(|s| s.checked_add(payment_method_fee))
            .ok_or_else(|| WireError::new(at("total"), "amount + tax + fee overflows"))?,
    };
    let currency = match raw.currency.as_deref().map(str::trim) {
        Some(c) if (3..=8).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_alphabetic()) => {
            c.to_ascii_uppercase()
        }
        Some(c) => {
            return Err(WireError::new(
                at("currency"),
                format!("not a currency code: {:?}", truncate(c, 16)),
            ));
        }
        None => return Err(WireError::new(at("currency"), "missing")),
    };
    let external_order_num = raw
        .external_order_num
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let captured_at = optional_time(raw.captured_at.as_deref(), &at("captured_at"))?;
    let payment_deadline = optional_time(raw.payment_deadline.as_deref(), &at("payment_deadline"))?;
    let amount_refunded = optional_amount(raw.amount_refunded, &at("amount_refunded"))?;
    let method = raw
        .payment_details
        .as_ref()
        .and_then(|d| d.kind.as_deref())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map_or_else(|| "unknown".to_string(), |s| truncate(s, 64));
    let mut refunds = Vec::new();
    for (i, r) in raw.refunds.iter().flatten().enumerate() {
        let rat = |f: &str| format!("{}[{i}].{f}", at("refunds"));
        refunds.push(Refund {
            id: checked_id(r.id.as_deref(), &rat("id"))?,
            amount: required_amount(r.amount, &rat("amount"))?,
            created_at: required_time(r.created_at.as_deref(), &rat("created_at"))?,
            chargeback: r.chargeback.unwrap_or(false),
        });
    }
    let created_at = required_time(raw.created_at.as_deref(), &at("created_at"))?;
    let captured = raw.captures.as_deref().and_then(captured_sum);
    let refund_requests = super::refund_request::seen(raw.refund_requests.as_deref());
    Ok(Payment {
        id,
        status,
        amount,
        tax,
        payment_method_fee,
        total,
        currency,
        external_order_num,
        payment_deadline,
        captured_at,
        amount_refunded,
        method,
        refunds,
        captured,
        refund_requests,
        created_at,
        split: super::platform::wire::recorded_split(raw.platform_details.as_ref()),
    })
}

/// What `captures[]` took in all, tax included: each element's `total`, else
/// its `amount` plus `tax`. `None` when empty or when any element cannot be
/// read that way (an unknown shape tells nothing).
fn captured_sum(captures: &[Value]) -> Option<i64> {
    if captures.is_empty() {
        return None;
    }
    captures.iter().try_fold(0i64, |sum, c| {
        let one = match c.get("total").and_then(Value::as_i64) {
            Some(t) => t,
            None => c
                .get("amount")
                .and_then(Value::as_i64)?
                .checked_add(c.get("tax").and_then(Value::as_i64).unwrap_or(0))?,
        };
        sum.checked_add(one)
    })
}

/// KOMOJU's timestamp format: UTC, whole seconds, `Z`.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The error envelope of a non-2xx answer, tolerating any shape: `None` when
/// the body is not an envelope at all.
pub fn parse_error(body: &[u8]) -> Option<KomojuError> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let error = value.get("error")?;
    match error {
        Value::Object(_) => Some(KomojuError {
            code: error.get("code").and_then(scalar_text),
            message: error.get("message").and_then(scalar_text),
            param: error.get("param").and_then(scalar_text),
            details: error.get("details").filter(|d| !d.is_null()).cloned(),
        }),
        // Some gateways answer `{"error": "text"}`.
        Value::String(s) => Some(KomojuError {
            message: Some(s.clone()),
            ..KomojuError::default()
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::Array(_) => None,
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// Deserialises `value` into `T` (whose fields are all optional); on failure,
/// finds the first field whose value alone fails, so the error names it.
fn typed<T: DeserializeOwned>(
    value: &Value,
    object: &Map<String, Value>,
    path: &str,
) -> Result<T, WireError> {
    T::deserialize(value).map_err(|e| {
        let field = object
            .iter()
            .find(|(k, v)| {
                let mut alone = Map::new();
                alone.insert((*k).clone(), (*v).clone());
                T::deserialize(&Value::Object(alone)).is_err()
            })
            .map_or_else(|| or_body(path), |(k, _)| join(path, &truncate(k, 40)));
        WireError::new(field, format!("wrong type: {e}"))
    })
}

/// An integer, a whole-number float (`1000.0`) or a digit string; `null` is absent.
fn lenient_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    use serde::de::Error;
    let value = Option::<Value>::deserialize(d)?;
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                return Ok(Some(i));
            }
            match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(f as i64)),
                Some(_) | None => Err(D::Error::custom("not a whole number in range")),
            }
        }
        Some(Value::String(s)) => {
            let t = s.trim();
            let digits = t.strip_prefix('-').unwrap_or(t);
            if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(D::Error::custom("not a whole number"));
            }
            t.parse()
                .map(Some)
                .map_err(|_| D::Error::custom("not a whole number"))
        }
        Some(Value::Bool(_) | Value::Array(_) | Value::Object(_)) => {
            Err(D::Error::custom("not a number"))
        }
    }
}

fn checked_id(id: Option<&str>, field: &str) -> Result<String, WireError> {
    let id = id.map(str::trim).unwrap_or("");
    if id.is_empty() {
        return Err(WireError::new(field, "missing"));
    }
    if id.len() > MAX_ID_LEN
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(WireError::new(
            field,
            format!("not a KOMOJU id: {:?}", truncate(id, 40)),
        ));
    }
    Ok(id.to_string())
}

fn required_amount(v: Option<i64>, field: &str) -> Result<i64, WireError> {
    match v {
        None => Err(WireError::new(field, "missing")),
        Some(n) if n < 0 => Err(WireError::new(field, format!("negative: {n}"))),
        Some(n) => Ok(n),
    }
}

fn optional_amount(v: Option<i64>, field: &str) -> Result<i64, WireError> {
    match v {
        None => Ok(0),
        Some(_) => required_amount(v, field),
    }
}

fn required_time(v: Option<&str>, field: &str) -> Result<DateTime<Utc>, WireError> {
    optional_time(v, field)?.ok_or_else(|| WireError::new(field, "missing"))
}

/// RFC 3339 with any offset (KOMOJU sends `Z`), or absent/empty.
fn optional_time(v: Option<&str>, field: &str) -> Result<Option<DateTime<Utc>>, WireError> {
    match v.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| {
                WireError::new(
                    field,
                    format!("not an RFC 3339 date-time: {:?}", truncate(s, 40)),
                )
            }),
    }
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

fn or_body(path: &str) -> String {
    if path.is_empty() {
        "body".to_string()
    } else {
        path.to_string()
    }
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests;
