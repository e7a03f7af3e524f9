//! Reading Rakuten's answers: transient failures, gateway errors, the
//! messages of a JSON body, and the small conversions the calls share.

use super::*;

/// The config key of the URL an endpoint is called under.
pub(super) fn url_key(endpoint: &str) -> &'static str {
    if endpoint.starts_with("license-key") {
        "rakuten_pay.license_api_url"
    } else {
        "rakuten_pay.api_base_url"
    }
}

/// Most bytes read of an endpoint's answer: `getOrder` answers up to 100
/// whole orders, a page; every other answer is small.
pub(super) fn answer_limit(endpoint: &str, limits: HttpLimits) -> usize {
    if endpoint == "getOrder" {
        limits.page_bytes
    } else {
        limits.answer_bytes
    }
}

impl RakutenClient {
    /// Transient failures and gateway errors become `Err`; what is left is a
    /// JSON body to judge by its messages.
    pub(super) fn classify(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        bytes: &[u8],
    ) -> Result<Answer, CallError> {
        let parsed = serde_json::from_slice::<Value>(bytes).ok();
        let gateway = parsed
            .as_ref()
            .and_then(|v| serde_json::from_value::<wire::RakutenGatewayError>(v.clone()).ok());
        if status == StatusCode::TOO_MANY_REQUESTS
            || status == StatusCode::REQUEST_TIMEOUT
            || status.is_server_error()
        {
            let what = gateway.as_ref().map_or_else(String::new, |g| {
                format!(" ({})", self.redact(&g.results.error_code))
            });
            let reason = if status == StatusCode::SERVICE_UNAVAILABLE {
                format!("Rakuten is unavailable (HTTP 503, maintenance or overload){what}")
            } else {
                format!("Rakuten answered HTTP {status}{what}")
            };
            return Err(CallError::Transient {
                reason,
                retry_after: retry_after(headers),
            });
        }
        if let Some(g) = gateway {
            if is_refused_key(status, &g.results.error_code) {
                return Err(CallError::configuration(
                    self.redact(&g.results.error_code),
                    REFUSED_KEY_FIX,
                ));
            }
            let http_status = match g.results.error_code.as_str() {
                wire::GATEWAY_BAD_REQUEST => 400,
                _ if status.is_success() => 400,
                _ => status.as_u16(),
            };
            return Err(CallError::Rejected {
                http_status,
                code: self.redact(&g.results.error_code),
                message: self.redact(&g.results.message),
            });
        }
        match parsed {
            Some(body @ Value::Object(_)) if status.is_success() || status.is_client_error() => {
                Ok(Answer { status, body })
            }
            _ if status.is_success() => Err(CallError::transient(format!(
                "Rakuten answered HTTP {status} with an unreadable body (not a JSON object)"
            ))),
            _ if status == StatusCode::UNAUTHORIZED => {
                Err(CallError::configuration("HTTP_401", REFUSED_KEY_FIX))
            }
            _ if status.is_client_error() => Err(CallError::Rejected {
                http_status: status.as_u16(),
                code: format!("HTTP_{}", status.as_u16()),
                message: self.redact(
                    &String::from_utf8_lossy(bytes)
                        .chars()
                        .take(200)
                        .collect::<String>(),
                ),
            }),
            _ => Err(CallError::transient(format!(
                "Rakuten answered an unexpected HTTP {status}"
            ))),
        }
    }

    /// The first ERROR becomes the `Err` (its code, every error's text); a
    /// non-2xx answer without any ERROR is refused as such.
    pub(super) fn fail_on_errors<'a>(
        &self,
        status: StatusCode,
        messages: impl IntoIterator<Item = &'a RakutenMessage>,
    ) -> Result<(), CallError> {
        let errors: Vec<&RakutenMessage> = messages.into_iter().filter(|m| m.is_error()).collect();
        if let Some(first) = errors.first() {
            let text = errors
                .iter()
                .map(|m| match m.data_number {
                    Some(n) => format!("[{}] row {n}: {}", m.message_code, m.message),
                    None => format!("[{}] {}", m.message_code, m.message),
                })
                .collect::<Vec<_>>()
                .join("; ");
            let http_status = if status.is_success() {
                400
            } else {
                status.as_u16()
            };
            return Err(CallError::Rejected {
                http_status,
                code: self.redact(&first.message_code),
                message: self.redact(&text),
            });
        }
        if !status.is_success() {
            return Err(self.http_rejection(status, "the request"));
        }
        Ok(())
    }

    pub(super) fn http_rejection(&self, status: StatusCode, what: &str) -> CallError {
        CallError::Rejected {
            http_status: status.as_u16(),
            code: format!("HTTP_{}", status.as_u16()),
            message: format!("Rakuten refused {what} without an error message"),
        }
    }

    /// Removes the credentials from text that came from the network, in case
    /// an answer ever echoes them.
    pub(super) fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in [&self.inner.license_key, &self.inner.service_secret] {
            let s = secret.expose_secret();
            if s.len() >= 4 {
                out = out.replace(s, "<redacted>");
            }
        }
        out
    }
}

/// `ESA base64(serviceSecret:licenseKey)`, standard base64 with padding.
pub fn esa_authorization(service_secret: &str, license_key: &str) -> String {
    let raw = format!("{service_secret}:{license_key}");
    format!(
        "ESA {}",
        base64::engine::general_purpose::STANDARD.encode(raw.as_bytes())
    )
}

pub(super) fn confirm_result(code: &str) -> ConfirmResult {
    match code {
        wire::CONFIRM_ORDER_CONFIRMED => ConfirmResult::Confirmed,
        wire::CONFIRM_ORDER_CANCELLED => ConfirmResult::AlreadyCancelled,
        wire::CONFIRM_ORDER_OTHER_STATUS => ConfirmResult::AlreadyDone,
        wire::CONFIRM_ORDER_POSTAGE_NOT_SET => ConfirmResult::PostageNotSet,
        other => ConfirmResult::Other(other.to_string()),
    }
}

pub(super) fn ship_outcome(code: &str) -> ShipOutcome {
    match code {
        wire::SHIPPING_ADDED => ShipOutcome::Added,
        wire::SHIPPING_UPDATED => ShipOutcome::Updated,
        wire::SHIPPING_DELETED => ShipOutcome::Deleted,
        other => ShipOutcome::Other(other.to_string()),
    }
}

/// The expiry as Rakuten may write it; a date alone is the end of that day.
pub(super) fn parse_expiry(s: &str) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    if s.len() <= 10 {
        let date = wire::parse_date_lenient(s)?;
        return date
            .and_hms_opt(23, 59, 59)?
            .and_local_timezone(wire::jst())
            .single();
    }
    wire::parse_datetime_lenient(s)
}

pub(super) fn check_batch(order_numbers: &[String]) -> Result<(), CallError> {
    if order_numbers.len() > MAX_ORDERS_PER_CALL {
        return Err(http_client::not_sent(
            "TOO_MANY_ORDERS",
            format!(
                "{} orders; Rakuten takes at most {MAX_ORDERS_PER_CALL} a call",
                order_numbers.len()
            ),
        ));
    }
    if order_numbers.iter().any(|n| n.trim().is_empty()) {
        return Err(http_client::not_sent(
            "INVALID_ORDER_NUMBER",
            "an order number is empty".to_string(),
        ));
    }
    Ok(())
}

/// A refusal made before anything was sent (`http_status` 0).
/// `base` + segments, whether or not `base` ends with `/`; with
/// `trailing_slash` the path ends in `/` as the order API requires.
pub(super) fn join(base: &Url, segments: &[&str], trailing_slash: bool) -> Url {
    let mut url = base.clone();
    // `parse_base` refused cannot-be-a-base URLs, so this always succeeds.
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
        if trailing_slash {
            path.push("");
        }
    }
    url
}
