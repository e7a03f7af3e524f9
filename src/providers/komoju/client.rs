//! KOMOJU API client: HTTP Basic with the secret key as user name and an
//! empty password, a pinned `X-KOMOJU-API-VERSION`, and an
//! `X-KOMOJU-IDEMPOTENCY` key on every POST.
//!
//! The idempotency key comes from the caller (the core derives it from its
//! outbox row), so a retry after a crash or a lost answer reuses it and KOMOJU
//! replays the first answer instead of capturing or refunding twice.
//!
//! Every outcome is mapped to [`CallError`] so that the dispatcher can decide
//! between "retry later" and "needs a person" without knowing HTTP. The secret
//! key never appears in an error, a log line or `Debug` output.

use std::sync::Arc;

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Method, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;

use super::wire::{self, KomojuCancelRequest, KomojuCaptureRequest, KomojuRefundRequest};
use super::{Payment, PaymentPage, PaymentStatus};
use crate::call::{CallError, HttpLimits, retry_after};
use crate::providers::http_client;
use crate::providers::http_client::{Answer, read_answer};
use crate::providers::komoju::config::KomojuConfig;

/// Header naming the API version the client speaks.
pub const API_VERSION_HEADER: &str = "X-KOMOJU-API-VERSION";
/// Header carrying the idempotency key of a POST.
pub const IDEMPOTENCY_HEADER: &str = "X-KOMOJU-IDEMPOTENCY";
/// Longest idempotency key KOMOJU accepts (contract).
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 100;
/// Payments asked per `GET /payments` page. KOMOJU publishes no maximum; 50
/// is assumed to be well inside it, and an order has few payments anyway.
pub const LIST_PAGE_SIZE: u32 = 50;
/// Longest refund description sent (KOMOJU publishes no limit; assumed).
pub const MAX_DESCRIPTION_LEN: usize = 255;

/// Where KOMOJU is and which key the merchant uses; all of it comes from config.
#[derive(Debug, Clone)]
pub struct KomojuClientSettings {
    /// API base, e.g. `https://komoju.com/api/v1` (a trailing `/` is fine).
    pub api_base_url: String,
    /// Secret API key: the Basic user name. Decides live or test mode.
    pub secret_key: SecretString,
    /// `X-KOMOJU-API-VERSION`, pinned so an upstream default cannot change the wire.
    pub api_version: String,
    /// What bounds every call: its timeout and the answer caps (`[daemon]`).
    pub http: HttpLimits,
}

impl KomojuClientSettings {
    /// The settings of a `[komoju]` section, with the daemon's HTTP timeout.
    pub fn from_config(
        cfg: &KomojuConfig,
        http: HttpLimits,
    ) -> Result<Self, crate::config::SecretUnreadable> {
        Ok(KomojuClientSettings {
            api_base_url: cfg.api_base_url.clone(),
            secret_key: cfg.secret_key.value()?.clone(),
            api_version: cfg.api_version.clone(),
            http,
        })
    }
}

/// A KOMOJU client. Cheap to clone: clones share the connection pool.
#[derive(Clone)]
pub struct KomojuClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// Most bytes read of an answer (`[daemon]`).
    limits: HttpLimits,
    /// `…/api/v1`, without a trailing `/`.
    base: Url,
    secret_key: SecretString,
    api_version: String,
}

impl std::fmt::Debug for KomojuClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KomojuClient")
            .field("base", &self.inner.base.as_str())
            .field("api_version", &self.inner.api_version)
            .finish_non_exhaustive()
    }
}

/// One request, ready to send.
pub(super) struct ApiRequest {
    pub(super) method: Method,
    pub(super) url: Url,
    pub(super) body: Option<Vec<u8>>,
    pub(super) idempotency_key: Option<String>,
}

impl ApiRequest {
    /// A read: no body, no idempotency key.
    pub(super) fn get(url: Url) -> ApiRequest {
        ApiRequest {
            method: Method::GET,
            url,
            body: None,
            idempotency_key: None,
        }
    }
}

impl KomojuClient {
    /// Checks the settings and builds the HTTP client. A bad URL, an empty key
    /// or an API version that cannot be a header is a
    /// `Rejected { http_status: 0, code: "INVALID_CONFIG" }`: nothing was sent.
    pub fn new(settings: KomojuClientSettings) -> Result<Self, CallError> {
        let base = parse_base(&settings.api_base_url)?;
        if settings.secret_key.expose_secret().trim().is_empty() {
            return Err(http_client::not_sent(
                "INVALID_CONFIG",
                "secret_key is empty".to_string(),
            ));
        }
        let api_version = settings.api_version.trim().to_string();
        if api_version.is_empty()
            || api_version.len() > 40
            || !api_version.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(http_client::not_sent(
                "INVALID_CONFIG",
                "api_version must be a short ASCII word such as 2024-07-15".to_string(),
            ));
        }
        // A redirect would mean a wrong base URL; never follow it with the key.
        let http = http_client::build(settings.http)?;
        Ok(KomojuClient {
            inner: Arc::new(Inner {
                http,
                limits: settings.http,
                base,
                secret_key: settings.secret_key,
                api_version,
            }),
        })
    }

    /// `GET /payments/{id}`: the authoritative state of one payment (what to
    /// re-read when a webhook is only a hint).
    pub async fn get_payment(&self, id: &str) -> Result<Payment, CallError> {
        let request = ApiRequest::get(self.url(&["payments", checked_id(id)?]));
        let answer = self.call(&request).await?;
        read_payment(id, &answer)
    }

    /// `GET /payments?external_order_num=&status=&page=&per_page=`: the
    /// payments of one merchant order (or all, with `None`), optionally only
    /// in some statuses; pages start at 1 (0 is read as 1).
    pub async fn list_payments(
        &self,
        external_order_num: Option<&str>,
        statuses: &[PaymentStatus],
        page: u32,
    ) -> Result<PaymentPage, CallError> {
        let mut url = self.url(&["payments"]);
        {
            let mut query = url.query_pairs_mut();
            if let Some(order) = external_order_num {
                if order.trim().is_empty() || order.len() > 255 {
                    return Err(http_client::not_sent(
                        "INVALID_EXTERNAL_ORDER_NUM",
                        "external_order_num must be 1 to 255 bytes".to_string(),
                    ));
                }
                query.append_pair("external_order_num", order);
            }
            if !statuses.is_empty() {
                let mut names = Vec::with_capacity(statuses.len());
                for status in statuses {
                    match status {
                        PaymentStatus::Unknown => {
                            return Err(http_client::not_sent(
                                "INVALID_STATUS",
                                "cannot filter on an unknown status".to_string(),
                            ));
                        }
                        PaymentStatus::Pending
                        | PaymentStatus::Authorized
                        | PaymentStatus::Captured
                        | PaymentStatus::Refunded
                        | PaymentStatus::Cancelled
                        | PaymentStatus::Expired
                        | PaymentStatus::Failed => names.push(status.as_str()),
                    }
                }
                query.append_pair("status", &names.join(","));
            }
            query.append_pair("page", &page.max(1).to_string());
            query.append_pair("per_page", &LIST_PAGE_SIZE.to_string());
        }
        let request = ApiRequest::get(url);
        let answer = self.call(&request).await?;
        read_page(&answer, page.max(1))
    }

    /// `POST /payments/{id}/capture`: takes the money of an authorized
    /// payment (two-step capture, at shipment). `amount` (before tax) captures
    /// less; `None` captures all. 422 when the payment is not `authorized`.
    pub async fn capture(
        &self,
        id: &str,
        amount: Option<i64>,
        idempotency_key: &str,
    ) -> Result<Payment, CallError> {
        let amount = checked_amount(amount, 0)?;
        let body = to_json(&KomojuCaptureRequest { amount })?;
        self.post(id, "capture", body, idempotency_key).await
    }

    /// `POST /payments/{id}/cancel`: releases a `pending` or `authorized`
    /// payment (an order cancelled before capture). 422 from any other status.
    pub async fn cancel(&self, id: &str, idempotency_key: &str) -> Result<Payment, CallError> {
        let body = to_json(&KomojuCancelRequest {})?;
        self.post(id, "cancel", body, idempotency_key).await
    }

    /// `POST /payments/{id}/refund`: gives back `amount` of a captured
    /// payment, or everything left with `None` (an order cancelled after
    /// capture). The answer has the new refund last in `refunds`.
    pub async fn refund(
        &self,
        id: &str,
        amount: Option<i64>,
        description: Option<&str>,
        idempotency_key: &str,
    ) -> Result<Payment, CallError> {
        let amount = checked_amount(amount, 1)?;
        let description = description
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|d| d.chars().take(MAX_DESCRIPTION_LEN).collect::<String>());
        let body = to_json(&KomojuRefundRequest {
            amount,
            description,
        })?;
        self.post(id, "refund", body, idempotency_key).await
    }

    /// `POST /payments/{id}/refund_request`: asks KOMOJU to transfer the
    /// money of a captured konbini, bank-transfer or Pay-easy payment to the
    /// customer's bank account. KOMOJU answers nothing: re-read the payment.
    /// The body holds customer data: it is never logged, nor echoed in an error.
    pub async fn refund_request(
        &self,
        id: &str,
        body: &super::refund_request::Body<'_>,
        idempotency_key: &str,
    ) -> Result<(), CallError> {
        let request = ApiRequest {
            method: Method::POST,
            url: self.url(&["payments", checked_id(id)?, "refund_request"]),
            body: Some(to_json(body)?),
            idempotency_key: Some(checked_idempotency_key(idempotency_key)?.to_string()),
        };
        self.call(&request).await.map(|_| ())
    }

    async fn post(
        &self,
        id: &str,
        action: &str,
        body: Vec<u8>,
        idempotency_key: &str,
    ) -> Result<Payment, CallError> {
        let key = checked_idempotency_key(idempotency_key)?;
        let request = ApiRequest {
            method: Method::POST,
            url: self.url(&["payments", checked_id(id)?, action]),
            body: Some(body),
            idempotency_key: Some(key.to_string()),
        };
        let answer = self.call(&request).await?;
        read_payment(id, &answer)
    }

    /// Sends once; non-2xx answers become [`CallError`]s. Retrying is the
    /// dispatcher's job (with the same idempotency key).
    pub(super) async fn call(&self, request: &ApiRequest) -> Result<Answer, CallError> {
        let inner = &self.inner;
        let mut builder = inner
            .http
            .request(request.method.clone(), request.url.clone())
            .basic_auth(inner.secret_key.expose_secret(), Some(""))
            .header(ACCEPT, "application/json")
            .header(API_VERSION_HEADER, &inner.api_version);
        if let Some(key) = &request.idempotency_key {
            builder = builder.header(IDEMPOTENCY_HEADER, key);
        }
        if let Some(body) = &request.body {
            builder = builder
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let started = Instant::now();
        let result = read_answer(builder.send().await, inner.limits.answer_bytes)
            .await
            .and_then(|answer| {
                let (status, headers) = (answer.status, &answer.headers);
                http_client::refuse_redirect("komoju.api_base_url", &request.url, status, headers)?;
                Ok(answer)
            })
            .and_then(classify)
            .map_err(|e| self.redact(e));
        log_call(request, &result, started);
        result
    }

    /// Removes the secret key from an error, should anything ever echo it
    /// (a proxy's error page, a transport message).
    fn redact(&self, error: CallError) -> CallError {
        let key = self.inner.secret_key.expose_secret();
        let clean = |s: String| {
            if key.len() >= 4 && s.contains(key) {
                s.replace(key, "[redacted]")
            } else {
                s
            }
        };
        match error {
            CallError::Transient {
                reason,
                retry_after,
            } => CallError::Transient {
                reason: clean(reason),
                retry_after,
            },
            CallError::Rejected {
                http_status,
                code,
                message,
            } => CallError::Rejected {
                http_status,
                code: clean(code),
                message: clean(message),
            },
            CallError::Configuration { code, fix } => CallError::Configuration {
                code: clean(code),
                fix: clean(fix),
            },
        }
    }

    /// `base` + percent-encoded path segments.
    pub(super) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.base.clone();
        // `parse_base` refused cannot-be-a-base URLs, so this always succeeds.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }
}

/// Logs method, path and outcome; never headers (the key) or bodies.
fn log_call(request: &ApiRequest, result: &Result<Answer, CallError>, started: Instant) {
    let latency_ms = started.elapsed().as_millis() as u64;
    let method = &request.method;
    let path = request.url.path();
    match result {
        Ok(answer) => tracing::debug!(
            %method, path, status = answer.status.as_u16(), latency_ms, "komoju call"
        ),
        Err(e) => tracing::debug!(%method, path, error = %e, latency_ms, "komoju call failed"),
    }
}

/// 2xx passes; everything else becomes the [`CallError`] the dispatcher needs.
fn classify(answer: Answer) -> Result<Answer, CallError> {
    let status = answer.status;
    if status.is_success() {
        return Ok(answer);
    }
    let transient = |what: String| CallError::Transient {
        reason: what,
        retry_after: retry_after(&answer.headers),
    };
    match status {
        StatusCode::CONFLICT => Err(transient(format!(
            "KOMOJU is still processing a request with this idempotency key (HTTP 409{})",
            envelope_suffix(&answer.body)
        ))),
        StatusCode::TOO_MANY_REQUESTS => Err(transient(
            "KOMOJU is throttling requests (HTTP 429)".to_string(),
        )),
        StatusCode::REQUEST_TIMEOUT => Err(transient("KOMOJU timed out (HTTP 408)".to_string())),
        s if s.is_server_error() => Err(transient(format!(
            "KOMOJU answered HTTP {}{}",
            s.as_u16(),
            envelope_suffix(&answer.body)
        ))),
        s if s.is_client_error() => Err(rejection(s, &answer.body)),
        s => Err(transient(format!("KOMOJU answered an unexpected HTTP {s}"))),
    }
}

/// ` : code: message` from an error envelope, for transient reasons.
fn envelope_suffix(body: &[u8]) -> String {
    match wire::parse_error(body) {
        Some(e) => format!(
            ": {}{}",
            e.code.as_deref().unwrap_or("no code"),
            e.message
                .as_deref()
                .map(|m| format!(": {}", clip(m)))
                .unwrap_or_default()
        ),
        None => String::new(),
    }
}

/// A 4xx with the `{"error": {...}}` envelope, or as much as can be said
/// without it. Any code is passed on; `param` is folded into the message.
fn rejection(status: StatusCode, body: &[u8]) -> CallError {
    let fallback_code = format!("HTTP_{}", status.as_u16());
    match wire::parse_error(body) {
        Some(e) => {
            let mut message = e.message.as_deref().map(clip).unwrap_or_default();
            if let Some(param) = e.param.filter(|p| !p.is_empty()) {
                message = format!("{message} (param: {})", clip(&param));
            }
            CallError::Rejected {
                http_status: status.as_u16(),
                code: e
                    .code
                    .filter(|c| !c.trim().is_empty())
                    .map(|c| clip(&c))
                    .unwrap_or(fallback_code),
                message,
            }
        }
        None => CallError::Rejected {
            http_status: status.as_u16(),
            code: fallback_code,
            message: clip(&String::from_utf8_lossy(body)),
        },
    }
}

fn clip(s: &str) -> String {
    s.chars().take(300).collect()
}

pub(super) fn read_payment(id: &str, answer: &Answer) -> Result<Payment, CallError> {
    let payment = wire::parse_payment(&answer.body)
        .map_err(|e| CallError::transient(format!("KOMOJU answered an unreadable payment: {e}")))?;
    if payment.id != id {
        return Err(CallError::transient(format!(
            "asked for payment {id:?}, KOMOJU answered payment {:?}",
            payment.id
        )));
    }
    Ok(payment)
}

/// Reads payments one by one so that one malformed payment does not hide the others.
fn read_page(answer: &Answer, asked_page: u32) -> Result<PaymentPage, CallError> {
    let raw: wire::KomojuPaymentList = serde_json::from_slice(&answer.body).map_err(|e| {
        CallError::transient(format!("KOMOJU answered an unreadable payment list: {e}"))
    })?;
    let data = raw.data.unwrap_or_default();
    let mut payments = Vec::with_capacity(data.len());
    let mut unreadable = 0;
    for (i, value) in data.iter().enumerate() {
        match wire::payment_from_value(value, &format!("data[{i}]")) {
            Ok(p) => payments.push(p),
            Err(e) => {
                unreadable += 1;
                tracing::warn!(error = %e, "skipping an unreadable payment in a KOMOJU list");
            }
        }
    }
    let count =
        |v: Option<i64>, default: u64| v.and_then(|n| u64::try_from(n).ok()).unwrap_or(default);
    let small =
        |v: Option<i64>, default: u32| v.and_then(|n| u32::try_from(n).ok()).unwrap_or(default);
    let page = small(raw.page, asked_page);
    Ok(PaymentPage {
        total: count(raw.total, (payments.len() + unreadable) as u64),
        page,
        per_page: small(raw.per_page, LIST_PAGE_SIZE),
        last_page: small(raw.last_page, page),
        payments,
        unreadable,
    })
}

pub(super) fn to_json(body: &impl serde::Serialize) -> Result<Vec<u8>, CallError> {
    serde_json::to_vec(body).map_err(|e| {
        http_client::not_sent("INVALID_BODY", format!("cannot encode the request: {e}"))
    })
}

/// A payment id fit to be one path segment: KOMOJU's are 25 alphanumerics;
/// anything else alphanumeric up to 64 is let through for KOMOJU to judge.
pub(super) fn checked_id(id: &str) -> Result<&str, CallError> {
    if id.is_empty()
        || id.len() > wire::MAX_ID_LEN
        || !id.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(http_client::not_sent(
            "INVALID_PAYMENT_ID",
            format!("{:?} cannot be a KOMOJU payment id", clip(id)),
        ));
    }
    Ok(id)
}

/// 1 to 100 visible ASCII characters (no spaces: a header value would lose
/// them at the edges, and the key must arrive exactly as it was derived).
pub(super) fn checked_idempotency_key(key: &str) -> Result<&str, CallError> {
    if key.is_empty()
        || key.len() > MAX_IDEMPOTENCY_KEY_LEN
        || !key.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(http_client::not_sent(
            "INVALID_IDEMPOTENCY_KEY",
            format!(
                "an idempotency key must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} visible ASCII characters (got {} bytes)",
                key.len()
            ),
        ));
    }
    Ok(key)
}

fn checked_amount(amount: Option<i64>, min: i64) -> Result<Option<i64>, CallError> {
    match amount {
        Some(a) if a < min => Err(http_client::not_sent(
            "INVALID_AMOUNT",
            format!("amount {a} is below {min}"),
        )),
        other => Ok(other),
    }
}

/// A refusal made before anything was sent (`http_status` 0).
fn parse_base(raw: &str) -> Result<Url, CallError> {
    let mut url = http_client::parse_base("api_base_url", raw)?;
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty();
    }
    Ok(url)
}

#[cfg(test)]
mod tests;
