//! The JSON and headers the simulated KOMOJU speaks, written from the contract
//! (`providers/komoju.md`): the payment object and its list page, the event
//! body of a webhook, the error envelope with the simulator's error codes, and
//! the request bodies of capture and refund. The back office
//! (`state`) works on [`super::model`]; only this module knows the
//! field names.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::{Capture, Payment, PaymentStatus, PaymentType, Refund, RefundRequest};
use super::platform::wire as platform_wire;
use super::settings::View;

/// The API version a request asks for ("Transport" \[auth\]).
pub const API_VERSION_HEADER: &str = "X-KOMOJU-API-VERSION";
/// The idempotency key of a POST ("Transport" \[idem\]).
pub const IDEMPOTENCY_HEADER: &str = "X-KOMOJU-IDEMPOTENCY";
/// Longest idempotency key, in ASCII characters ("Transport" \[idem\]).
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 100;
/// A webhook's delivery id ("Webhooks" \[webhooks\]).
pub const DELIVERY_ID_HEADER: &str = "X-Komoju-ID";
/// A webhook's event type ("Webhooks" \[webhooks\]).
pub const EVENT_HEADER: &str = "X-Komoju-Event";
/// A webhook's signature, see [`super::signature`] ("Webhooks" \[webhooks\]).
pub const SIGNATURE_HEADER: &str = "X-Komoju-Signature";

/// KOMOJU's timestamps: UTC, whole seconds, `Z` ("Payments": `created_at` (UTC, `Z`)).
pub fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The payment object ("Payments", \[node:Models/Payment\]): what
/// `GET /payments/{id}` and the POSTs answer, and a `payment.*` event's `data`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KomojuPayment {
    /// 25 alphanumerics.
    pub id: String,
    /// Always `payment`.
    pub resource: &'static str,
    /// `pending`, `authorized`, `captured`, `refunded`, `cancelled`, `expired`, `failed`.
    pub status: &'static str,
    /// Before tax.
    pub amount: i64,
    /// Tax on `amount`.
    pub tax: i64,
    /// The customer's fee of some types (konbini).
    pub payment_method_fee: i64,
    /// What the customer pays.
    pub total: i64,
    /// ISO 4217.
    pub currency: String,
    /// Set at creation by the checkout; the simulator's payments have none.
    pub description: Option<String>,
    /// The merchant's order id.
    pub external_order_num: Option<String>,
    /// When an unpaid konbini/bank/Pay-easy payment expires ("Deadlines"), else `null`.
    pub payment_deadline: Option<String>,
    /// `null` until captured.
    pub captured_at: Option<String>,
    /// Sum of the refunds.
    pub amount_refunded: i64,
    /// How the customer pays.
    pub payment_details: KomojuPaymentDetails,
    /// Oldest first.
    pub refunds: Vec<KomojuRefund>,
    /// The merchant's captures, from API version 2025-01-28 \[chg-2025\];
    /// absent before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub captures: Option<Vec<KomojuCapture>>,
    /// Bank refunds asked through `/refund_request`, oldest first.
    pub refund_requests: Vec<KomojuRefundRequest>,
    /// The sellers' split (Platform Model); absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform_details: Option<Value>,
    /// UTC, `Z`.
    pub created_at: String,
}

/// One element of `captures[]`: its fields are unpublished, so the simulator
/// shows what the capture asked and their sum (the adapter reads leniently).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KomojuCapture {
    /// 25 alphanumerics.
    pub id: String,
    /// Before tax.
    pub amount: i64,
    /// Tax captured with it.
    pub tax: i64,
    /// `amount + tax`.
    pub total: i64,
    /// UTC, `Z`.
    pub created_at: String,
}

/// One element of `refund_requests[]`, also the `data` of a
/// `refund_request.updated` event \[node:Models/RefundRequest\]: the fields
/// the contract lists, and no others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KomojuRefundRequest {
    /// 25 alphanumerics.
    pub id: String,
    /// The payment's id.
    pub payment: String,
    /// Half-width katakana.
    pub customer_name: String,
    /// The bank's name.
    pub bank_name: String,
    /// 4 digits, or `null`.
    pub bank_code: Option<String>,
    /// The branch's name, or `null`.
    pub branch_name: Option<String>,
    /// 3 digits.
    pub branch_number: String,
    /// 7 digits, as a string (leading zeros kept).
    pub account_number: String,
    /// The merchant's note, or `null`.
    pub description: Option<String>,
    /// `pending`, `completed` or `rejected`.
    pub status: &'static str,
    /// UTC, `Z`.
    pub created_at: String,
    /// The split it gives back (Platform Model); absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform_details: Option<Value>,
}

impl KomojuRefundRequest {
    /// The JSON of a refund request of `payment`.
    pub fn from_request(r: &RefundRequest, payment: &str) -> KomojuRefundRequest {
        KomojuRefundRequest {
            id: r.id.clone(),
            payment: payment.to_string(),
            customer_name: r.customer_name.clone(),
            bank_name: r.bank_name.clone(),
            bank_code: r.bank_code.clone(),
            branch_name: r.branch_name.clone(),
            branch_number: r.branch_number.clone(),
            account_number: r.account_number.clone(),
            description: r.description.clone(),
            status: r.status.as_str(),
            created_at: format_time(r.created_at),
            platform_details: r.platform_details.as_ref().map(platform_wire::details),
        }
    }
}

impl KomojuCapture {
    fn from_capture(c: &Capture) -> KomojuCapture {
        KomojuCapture {
            id: c.id.clone(),
            amount: c.amount,
            tax: c.tax,
            total: c.total(),
            created_at: format_time(c.created_at),
        }
    }
}

/// `payment_details`: only its `type` is modelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KomojuPaymentDetails {
    /// `credit_card`, `konbini`, `bank_transfer`, `pay_easy`, `paypay`…
    #[serde(rename = "type")]
    pub kind: String,
}

/// One element of `refunds[]` \[node:Models/Refund\].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KomojuRefund {
    /// 25 alphanumerics.
    pub id: String,
    /// Always `refund`.
    pub resource: &'static str,
    /// Tax included.
    pub amount: i64,
    /// As the payment's.
    pub currency: String,
    /// The merchant's note, if any.
    pub description: Option<String>,
    /// UTC, `Z`.
    pub created_at: String,
    /// A chargeback rather than a merchant's refund.
    pub chargeback: bool,
    /// The split it gave back (Platform Model); absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform_details: Option<Value>,
}

impl KomojuPayment {
    /// The JSON of a payment as it is now, as one API version shows it.
    pub fn from_payment(p: &Payment, view: View) -> KomojuPayment {
        let status = match p.status {
            PaymentStatus::Failed if view.failed_as_pending => PaymentStatus::Pending,
            s => s,
        };
        KomojuPayment {
            id: p.id.clone(),
            resource: "payment",
            status: status.as_str(),
            amount: p.amount,
            tax: p.tax,
            payment_method_fee: p.payment_method_fee,
            total: p.total,
            currency: p.currency.clone(),
            description: None,
            external_order_num: p.external_order_num.clone(),
            payment_deadline: p.payment_deadline.map(format_time),
            captured_at: p.captured_at.map(format_time),
            amount_refunded: p.amount_refunded,
            payment_details: KomojuPaymentDetails {
                kind: p.payment_type.as_str().to_string(),
            },
            refunds: p
                .refunds
                .iter()
                .map(|r| KomojuRefund::from_refund(r, &p.currency))
                .collect(),
            captures: view
                .captures
                .then(|| p.captures.iter().map(KomojuCapture::from_capture).collect()),
            refund_requests: (p.refund_requests.iter())
                .map(|r| KomojuRefundRequest::from_request(r, &p.id))
                .collect(),
            platform_details: p.platform_details.as_ref().map(platform_wire::details),
            created_at: format_time(p.created_at),
        }
    }
}

impl KomojuRefund {
    fn from_refund(r: &Refund, currency: &str) -> KomojuRefund {
        KomojuRefund {
            id: r.id.clone(),
            resource: "refund",
            amount: r.amount,
            currency: currency.to_string(),
            description: r.description.clone(),
            created_at: format_time(r.created_at),
            chargeback: r.chargeback,
            platform_details: r.platform_details.as_ref().map(platform_wire::details),
        }
    }
}

/// The answer of `GET /payments` ("Payments" \[node:Apis/PaymentsApi\]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KomojuPaymentList {
    /// Always `payment_list`.
    pub resource: &'static str,
    /// This page's payments.
    pub data: Vec<KomojuPayment>,
    /// Matches over all pages.
    pub total: usize,
    /// This page, from 1.
    pub page: u32,
    /// Payments per page.
    pub per_page: u32,
    /// The last page's number.
    pub last_page: u32,
}

/// A webhook body ("Webhooks" \[node:Models/Event\]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KomojuEvent {
    /// The event id, the receiver's dedupe key.
    pub id: String,
    /// `payment.captured`, `ping`… (also in `X-Komoju-Event`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Always `event`.
    pub resource: &'static str,
    /// The payment for `payment.*` events; `{}` for `ping`.
    pub data: Value,
    /// UTC, `Z`.
    pub created_at: String,
    /// Why (e.g. a failure); the simulator sends `null`.
    pub reason: Option<String>,
}

/// The event types the simulator sends ("Webhooks", table of events).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// `ping`: sent when a webhook is set up.
    Ping,
    /// `payment.authorized`.
    Authorized,
    /// `payment.captured`.
    Captured,
    /// `payment.updated`: any other change.
    Updated,
    /// `payment.expired`.
    Expired,
    /// `payment.cancelled`.
    Cancelled,
    /// `payment.refund.created`: each refund, partial or full.
    RefundCreated,
    /// `payment.refunded`: fully refunded.
    Refunded,
    /// `payment.failed`.
    Failed,
    /// `refund_request.updated` \[pm-webhooks\]: a refund request completed
    /// or was rejected; `data` is the refund request.
    RefundRequestUpdated,
}

impl EventType {
    /// The wire `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Ping => "ping",
            EventType::Authorized => "payment.authorized",
            EventType::Captured => "payment.captured",
            EventType::Updated => "payment.updated",
            EventType::Expired => "payment.expired",
            EventType::Cancelled => "payment.cancelled",
            EventType::RefundCreated => "payment.refund.created",
            EventType::Refunded => "payment.refunded",
            EventType::Failed => "payment.failed",
            EventType::RefundRequestUpdated => "refund_request.updated",
        }
    }
}

/// The error envelope ("Errors" \[errors\]\[node:Models/APIErrorBody\]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KomojuErrorBody {
    /// The error itself.
    pub error: KomojuError,
}

/// Inside the error envelope.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KomojuError {
    /// One of the simulator's codes (see [`ApiError`]).
    pub code: String,
    /// English, for people.
    pub message: String,
    /// The parameter at fault, or `null`.
    pub param: Option<String>,
    /// Always `{}` here.
    pub details: Value,
}

/// An error answer before it becomes HTTP. KOMOJU publishes statuses but not
/// codes ("Errors": codes \[guess\]), so the simulator's codes are its own:
/// `not_found`, `unauthorized`, `bad_request` (body not JSON),
/// `unprocessable_entity` (wrong status for the move), `invalid_parameter`
/// (a bad amount, query or idempotency key), `conflict` (409, key in flight),
/// `too_many_requests` (429), and per injected status [`ApiError::injected`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub http_status: u16,
    /// `error.code`.
    pub code: &'static str,
    /// `error.message`.
    pub message: String,
    /// `error.param`.
    pub param: Option<&'static str>,
}

impl ApiError {
    fn new(http_status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            http_status,
            code,
            message: message.into(),
            param: None,
        }
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(404, "not_found", message)
    }

    /// 401 `unauthorized`: missing or wrong Basic credentials.
    pub fn unauthorized() -> Self {
        ApiError::new(401, "unauthorized", "User authorization failed")
    }

    /// 409 `conflict`: the first request with this idempotency key still runs.
    pub fn conflict() -> Self {
        ApiError::new(
            409,
            "conflict",
            "A request with this idempotency key is still being processed",
        )
    }

    /// 429 `too_many_requests`.
    pub fn too_many_requests() -> Self {
        ApiError::new(429, "too_many_requests", "Too many requests; retry later")
    }

    /// 422 `unprocessable_entity`: the payment's status does not allow the move.
    pub fn wrong_status(action: &str, status: impl std::fmt::Display) -> Self {
        ApiError::new(
            422,
            "unprocessable_entity",
            format!("A payment in status {status} cannot be {action}"),
        )
    }

    /// 422 `unprocessable_entity`: the move is not for this payment type
    /// (a capture of konbini, `/refund` of a bank transfer…; code \[guess\]).
    pub fn wrong_type(action: &str, kind: &PaymentType) -> Self {
        ApiError::new(
            422,
            "unprocessable_entity",
            format!("A {kind} payment cannot be {action}"),
        )
    }

    /// 422 with the simulator's own `code` (one KOMOJU does not publish).
    pub fn new_422(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(422, code, message)
    }

    /// 422 `missing_parameter` naming the parameter \[errors\].
    pub fn missing(param: &'static str) -> Self {
        ApiError {
            param: Some(param),
            ..ApiError::new(
                422,
                "missing_parameter",
                format!("A required parameter ({param}) is missing"),
            )
        }
    }

    /// 422 `invalid_parameter` naming the parameter.
    pub fn invalid(param: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            param: Some(param),
            ..ApiError::new(422, "invalid_parameter", message)
        }
    }

    /// 400 `bad_request`: the body is not a JSON object.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(400, "bad_request", message)
    }

    /// An injected HTTP status, with the code the simulator gives it.
    pub fn injected(http_status: u16) -> Self {
        let code = match http_status {
            400 => "bad_request",
            401 => "unauthorized",
            403 => "forbidden",
            404 => "not_found",
            422 => "unprocessable_entity",
            500 => "internal_server_error",
            502 => "bad_gateway",
            503 => "service_unavailable",
            504 => "gateway_timeout",
            _ => "simulated_fault",
        };
        ApiError::new(http_status, code, format!("injected HTTP {http_status}"))
    }

    /// The envelope of this error.
    pub fn body(self) -> KomojuErrorBody {
        KomojuErrorBody {
            error: KomojuError {
                code: self.code.to_string(),
                message: self.message,
                param: self.param.map(str::to_string),
                details: Value::Object(Default::default()),
            },
        }
    }
}

/// `POST /payments/{id}/capture` body \[node:Models/CapturePaymentRequest\].
/// `platform_details` is not modelled (ignored, as an unknown field).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CaptureBody {
    /// Before tax; none captures the whole authorized amount.
    pub amount: Option<i64>,
    /// The tax captured with it; none takes the payment's.
    pub tax: Option<i64>,
}

/// `POST /payments/{id}/refund` body \[node:Models/RefundPaymentRequest\].
/// `platform_details` is not modelled.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RefundBody {
    /// Tax included; none refunds everything left.
    pub amount: Option<i64>,
    /// Kept with the refund.
    pub description: Option<String>,
}

/// Reads a POST body: empty reads as `{}`; malformed JSON or anything but an
/// object is a 400, a field of the wrong type a 422.
pub fn read_body<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("The request body is not JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "The request body must be a JSON object",
        ));
    }
    serde_json::from_value(value).map_err(|_| {
        ApiError::invalid(
            "amount",
            "amount must be an integer and description a string",
        )
    })
}

#[cfg(test)]
mod tests;
