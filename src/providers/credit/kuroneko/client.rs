//! Kuroneko Atobarai client: one form POST per function, one `<return>` back.
//!
//! Every outcome is a [`CallError`] or a value the core understands:
//! - a declined credit (`result` 1/2) or a review (3) is an `Ok` result;
//! - `returnCode` 1 is `Rejected { http_status: 200, code: errorCode }` with a
//!   readable message, except Yamato's own failures `err0001`–`err0003`,
//!   which are `Transient` (they also show up right after a credit request,
//!   see the contract's "settle" pause);
//! - anything else that is not a readable `<return>` (connection errors,
//!   timeouts, non-200 answers, maintenance pages) is `Transient`;
//! - a value refused before sending is `Rejected { http_status: 0 }`.
//!
//! There is no idempotency key at Yamato: the caller remembers what it sent
//! (the tracking number registered) and never resends a success. The password
//! travels only in the form body; it never appears in an error or a log line.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;

use super::charset::Replacement;
use super::normalize::{self, NormalizedCredit};
use super::wire::{self, Form, ReturnOutcome, field};
use super::{
    CreditRequest, CreditResult, ShipmentProcess, TransactionStatus, TransactionWarning,
    is_valid_order_no, tracking_digits, yamato_check_digit_ok,
};
use crate::call::{CallError, HttpLimits, retry_after};
use crate::domain::Carrier;
use crate::providers::credit::kuroneko::config::KuronekoConfig;
use crate::providers::http_client;

/// `code` of a refusal made before sending because a field cannot be sent.
pub const INVALID_FIELD: &str = "INVALID_FIELD";
/// What the merchant reads when Yamato refuses the store code or password.
pub const CREDENTIALS_FIX: &str = "クロネコ代金後払いが加盟店コードまたはパスワードを受け付けていません。[kuroneko] store_code と password をヤマトの加盟店管理画面の値と照らしてください / Kuroneko Atobarai refuses the store code or password: compare [kuroneko] store_code and password with Yamato's merchant page";
/// `code` of a refusal of a tracking number with a wrong Yamato check digit.
pub const BAD_TRACKING_NUMBER: &str = "BAD_TRACKING_NUMBER";
/// `code` of an answer that is a `<return>` but says something outside the contract.
pub const UNEXPECTED_ANSWER: &str = "UNEXPECTED_ANSWER";

/// Where Yamato is and who the merchant is; all of it comes from config.
#[derive(Debug, Clone)]
pub struct KuronekoClientSettings {
    /// Host, e.g. `https://atobarai.kuronekoyamato.co.jp` (no path).
    pub api_base_url: String,
    /// 加盟店コード (11 digits).
    pub store_code: String,
    /// The API password, sent in every form.
    pub password: SecretString,
    /// What bounds every call: its timeout and the answer caps (`[daemon]`).
    pub http: HttpLimits,
}

impl KuronekoClientSettings {
    /// The settings of a `[kuroneko]` section.
    pub fn from_config(
        cfg: &KuronekoConfig,
        http: HttpLimits,
    ) -> Result<Self, crate::config::SecretUnreadable> {
        Ok(KuronekoClientSettings {
            api_base_url: cfg.api_base_url.clone(),
            store_code: cfg.store_code.clone(),
            password: cfg.password.value()?.clone(),
            http,
        })
    }
}

/// A Kuroneko Atobarai client. Cheap to clone: clones share the connection
/// pool. It does not wait out the settle pause after a credit request: the
/// caller schedules follow-up calls (it knows when the credit was sent).
#[derive(Clone)]
pub struct KuronekoClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// Most bytes read of an answer (`[daemon]`).
    limits: HttpLimits,
    base: Url,
    store_code: String,
    password: SecretString,
}

impl std::fmt::Debug for KuronekoClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KuronekoClient")
            .field("base", &self.inner.base.as_str())
            .field("store_code", &self.inner.store_code)
            .finish_non_exhaustive()
    }
}

impl KuronekoClient {
    /// Checks the URL and credentials and builds the HTTP client. A bad value
    /// is a `Rejected { http_status: 0, code: "INVALID_CONFIG" }`.
    pub fn new(settings: KuronekoClientSettings) -> Result<Self, CallError> {
        let store_code = settings.store_code.trim().to_string();
        if store_code.len() != 11 || !store_code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(http_client::not_sent(
                "INVALID_CONFIG",
                "store_code must be 11 digits".to_string(),
            ));
        }
        if settings.password.expose_secret().is_empty() {
            return Err(http_client::not_sent(
                "INVALID_CONFIG",
                "password must not be empty".to_string(),
            ));
        }
        // A redirect would mean a wrong host; never resend the password elsewhere.
        let http = http_client::build(settings.http)?;
        Ok(KuronekoClient {
            inner: Arc::new(Inner {
                http,
                limits: settings.http,
                base: http_client::parse_base("api_base_url", &settings.api_base_url)?,
                store_code,
                password: settings.password,
            }),
        })
    }

    /// KAARA0010: registers the order and has it scored. A decline (NG,
    /// over limit) and a review are results, not errors. The request is
    /// checked and converted first ([`normalize`]); a field that cannot be
    /// sent is `Rejected { http_status: 0, code: INVALID_FIELD }` naming it,
    /// and nothing was sent (the orderNo is still unused).
    pub async fn request_credit(&self, req: &CreditRequest) -> Result<CreditResult, CallError> {
        self.request_credit_noting(req)
            .await
            .map(|(result, _)| result)
    }

    /// [`request_credit`](Self::request_credit), with the characters that
    /// were replaced to fit Yamato's range (for the order's history).
    pub async fn request_credit_noting(
        &self,
        req: &CreditRequest,
    ) -> Result<(CreditResult, Vec<Replacement>), CallError> {
        let credit = self.normalize(req)?;
        let form = wire::credit_form(&credit);
        let outcome = self.call(wire::FUNC_CREDIT, &credit.order_no, form).await?;
        Ok((credit_result(wire::FUNC_CREDIT, outcome)?, credit.replaced))
    }

    /// KAARS0010: the scoring result now (poll while [`CreditResult::UnderReview`];
    /// re-check before shipping, as an OK can turn NG).
    pub async fn credit_result(&self, order_no: &str) -> Result<CreditResult, CallError> {
        check_order_no(order_no)?;
        let outcome = self
            .call(wire::FUNC_CREDIT_RESULT, order_no, Form::new())
            .await?;
        credit_result(wire::FUNC_CREDIT_RESULT, outcome)
    }

    /// KAAST0010: where the transaction stands and what Yamato is waiting for.
    pub async fn transaction_status(
        &self,
        order_no: &str,
    ) -> Result<(TransactionStatus, TransactionWarning), CallError> {
        check_order_no(order_no)?;
        let outcome = self.call(wire::FUNC_STATUS, order_no, Form::new()).await?;
        let (result, warning) = success(outcome);
        let status = result
            .as_deref()
            .and_then(|r| r.parse::<u8>().ok())
            .map(TransactionStatus::from_code)
            .ok_or_else(|| unexpected(wire::FUNC_STATUS, "result", result.as_deref()))?;
        let warning = match warning.as_deref() {
            None => TransactionWarning::None,
            Some(w) => w
                .parse::<u8>()
                .map(TransactionWarning::from_code)
                .map_err(|_| unexpected(wire::FUNC_STATUS, "warning", Some(w)))?,
        };
        Ok((status, warning))
    }

    /// KAASL0010 processDiv 0 (Yamato: `paymentNo` = the tracking number,
    /// whose check digit is verified before sending) or 2 (another carrier:
    /// `paymentNo` = the orderNo, as the contract says; the carrier's own
    /// number stays with the ERP). Registering again replaces the number.
    pub async fn register_shipment(
        &self,
        order_no: &str,
        carrier: Carrier,
        tracking_no: &str,
        _ship_on: NaiveDate,
    ) -> Result<(), CallError> {
        check_order_no(order_no)?;
        let process = ShipmentProcess::register_for(carrier);
        let payment_no = match process {
            ShipmentProcess::RegisterYamato => {
                check_tracking("tracking_no", tracking_no)?;
                tracking_digits(tracking_no)
            }
            ShipmentProcess::RegisterOtherCarrier
            | ShipmentProcess::Change
            | ShipmentProcess::CancelRegistration => {
                tracing::debug!(
                    order_no,
                    carrier = %carrier,
                    "registering a shipment by another carrier under the orderNo"
                );
                order_no.to_string()
            }
        };
        // `shipYmd` goes with processDiv 1 only, as Yamato's own plugins
        // send it: a registration's date is the one given at KAARA.
        let form = wire::shipment_form(process.code(), Some(&payment_no), None, None);
        self.call(wire::FUNC_SHIPMENT, order_no, form)
            .await
            .map(drop)
    }

    /// KAASL0010 processDiv 1: replaces the registered Yamato tracking number
    /// `old` with `new` (check digit verified before sending).
    pub async fn change_shipment(
        &self,
        order_no: &str,
        old: &str,
        new: &str,
        ship_on: NaiveDate,
    ) -> Result<(), CallError> {
        check_order_no(order_no)?;
        check_tracking("new", new)?;
        if old.trim().is_empty() {
            return Err(http_client::not_sent(
                INVALID_FIELD,
                "old: the registered tracking number is required".to_string(),
            ));
        }
        let form = wire::shipment_form(
            ShipmentProcess::Change.code(),
            Some(&tracking_digits(new)),
            Some(ship_on),
            Some(&tracking_digits(old)),
        );
        self.call(wire::FUNC_SHIPMENT, order_no, form)
            .await
            .map(drop)
    }

    /// KAASL0010 processDiv 9: withdraws the shipment registration (back to approved).
    pub async fn cancel_shipment(&self, order_no: &str) -> Result<(), CallError> {
        check_order_no(order_no)?;
        let form =
            wire::shipment_form(ShipmentProcess::CancelRegistration.code(), None, None, None);
        self.call(wire::FUNC_SHIPMENT, order_no, form)
            .await
            .map(drop)
    }

    /// KAACL0010: cancels the transaction (refused once paid or already cancelled).
    pub async fn cancel(&self, order_no: &str) -> Result<(), CallError> {
        check_order_no(order_no)?;
        self.call(wire::FUNC_CANCEL, order_no, Form::new())
            .await
            .map(drop)
    }

    /// KAAKK0010: replaces the order's lines, address and ship date with
    /// `req`, whose total must be lower than the current one (`kaakk050E`
    /// otherwise; raising an amount means cancel and a new credit request
    /// under a new orderNo). `req.order_no` is the transaction to change.
    pub async fn reduce_amount(&self, req: &CreditRequest) -> Result<(), CallError> {
        let credit = self.normalize(req)?;
        let form = wire::reduce_form(&credit);
        self.call(wire::FUNC_REDUCE, &credit.order_no, form)
            .await
            .map(drop)
    }

    fn normalize(&self, req: &CreditRequest) -> Result<NormalizedCredit, CallError> {
        let today = Utc::now().with_timezone(&wire::jst()).date_naive();
        normalize::normalize_credit(req, today)
            .map_err(|e| http_client::not_sent(INVALID_FIELD, e.to_string()))
    }

    /// POSTs the common fields and `extra`; `Ok` only for `returnCode` 0.
    async fn call(
        &self,
        func: &'static str,
        order_no: &str,
        extra: Form,
    ) -> Result<ReturnOutcome, CallError> {
        let now: DateTime<FixedOffset> = Utc::now().with_timezone(&wire::jst());
        let mut form: Form = Vec::with_capacity(extra.len() + 4);
        form.push((field::STORE_CODE.into(), self.inner.store_code.clone()));
        form.push((
            field::PASSWORD.into(),
            self.inner.password.expose_secret().to_string(),
        ));
        form.push((field::ORDER_NO.into(), order_no.to_string()));
        form.push((field::REQUEST_DATE.into(), wire::format_request_date(&now)));
        form.extend(extra);
        let url = self.url(func);
        let started = Instant::now();
        let result = self.send(&url, &form).await;
        let latency_ms = started.elapsed().as_millis() as u64;
        match &result {
            Ok(_) => tracing::debug!(func, order_no, latency_ms, "kuroneko call"),
            Err(e) => {
                tracing::debug!(func, order_no, error = %e, latency_ms, "kuroneko call failed")
            }
        }
        result
    }

    async fn send(&self, url: &Url, form: &Form) -> Result<ReturnOutcome, CallError> {
        let response = self
            .inner
            .http
            .post(url.clone())
            .header(CONTENT_TYPE, wire::FORM_UTF8)
            .header(ACCEPT, "application/xml, text/xml")
            .body(encode_form(form))
            .send()
            .await
            .map_err(CallError::from_transport)?;
        let status = response.status();
        let headers = response.headers().clone();
        http_client::refuse_redirect("kuroneko.api_base_url", url, status, &headers)?;
        let bytes = http_client::read_body(response, self.inner.limits.answer_bytes).await?;
        if status != StatusCode::OK {
            // Yamato always answers 200; anything else is a proxy, a
            // maintenance page or an outage.
            return Err(CallError::Transient {
                reason: format!("Yamato answered HTTP {status}"),
                retry_after: retry_after(&headers),
            });
        }
        let text = String::from_utf8_lossy(&bytes);
        let parsed = wire::parse_return(&text).map_err(|_| {
            CallError::transient("Yamato answered HTTP 200 with a body that is not a <return>")
        })?;
        match parsed.outcome() {
            Some(ReturnOutcome::Error { code }) => Err(self.error(code)),
            Some(success) => Ok(success),
            None => Err(CallError::transient(format!(
                "Yamato answered an unreadable returnCode {:?}",
                self.redact(parsed.return_code.as_deref().unwrap_or_default())
            ))),
        }
    }

    fn error(&self, code: String) -> CallError {
        let code = self.redact(&code);
        if wire::is_system_error(&code) {
            return CallError::transient(wire::error_message(&code));
        }
        if wire::is_credential_error(&code) {
            return CallError::configuration(code, CREDENTIALS_FIX);
        }
        CallError::Rejected {
            http_status: 200,
            message: wire::error_message(&code),
            code,
        }
    }

    fn url(&self, func: &str) -> Url {
        let mut url = self.inner.base.clone();
        let path = format!(
            "{}{}",
            url.path().trim_end_matches('/'),
            wire::func_path(func)
        );
        url.set_path(&path);
        url
    }

    /// Removes the password from text that came from the network, in case
    /// an answer ever echoes it.
    fn redact(&self, text: &str) -> String {
        let secret = self.inner.password.expose_secret();
        if secret.len() >= 3 {
            text.replace(secret, "<redacted>")
        } else {
            text.to_string()
        }
    }
}

/// Whether an error means the store code or password was refused: alert and
/// retry slowly, never in a tight loop.
pub fn is_credential_error(e: &CallError) -> bool {
    match e {
        CallError::Rejected {
            http_status: 200,
            code,
            ..
        } => wire::is_credential_error(code),
        CallError::Configuration { .. } => true,
        CallError::Rejected { .. } | CallError::Transient { .. } => false,
    }
}

/// Whether an error says Yamato does not know the orderNo (`…008E`).
pub fn is_unknown_order(e: &CallError) -> bool {
    match e {
        CallError::Rejected {
            http_status: 200,
            code,
            ..
        } => wire::is_unknown_order(code),
        CallError::Rejected { .. }
        | CallError::Transient { .. }
        | CallError::Configuration { .. } => false,
    }
}

/// `result` of KAARA/KAARS as a [`CreditResult`]; a value outside the
/// contract is refused (`UNEXPECTED_ANSWER`) so that a person looks at it.
fn credit_result(func: &str, outcome: ReturnOutcome) -> Result<CreditResult, CallError> {
    let (result, _) = success(outcome);
    result
        .as_deref()
        .and_then(|r| r.parse::<u8>().ok())
        .and_then(CreditResult::from_code)
        .ok_or_else(|| unexpected(func, "result", result.as_deref()))
}

fn success(outcome: ReturnOutcome) -> (Option<String>, Option<String>) {
    match outcome {
        ReturnOutcome::Success { result, warning } => (result, warning),
        // `send` turns errors into `Err`; an empty pair is refused by the callers.
        ReturnOutcome::Error { .. } => (None, None),
    }
}

fn unexpected(func: &str, what: &str, value: Option<&str>) -> CallError {
    let shown: String = value.unwrap_or("(none)").chars().take(20).collect();
    CallError::Rejected {
        http_status: 200,
        code: UNEXPECTED_ANSWER.to_string(),
        message: format!("{func} answered {what} {shown:?}, which the contract does not define"),
    }
}

fn check_order_no(order_no: &str) -> Result<(), CallError> {
    if is_valid_order_no(order_no) {
        Ok(())
    } else {
        Err(http_client::not_sent(
            INVALID_FIELD,
            "order_no: must be 1-20 of 0-9, A-Z, a-z, '_' and '-'".to_string(),
        ))
    }
}

fn check_tracking(name: &str, tracking: &str) -> Result<(), CallError> {
    if yamato_check_digit_ok(tracking.trim()) {
        Ok(())
    } else {
        Err(http_client::not_sent(
            BAD_TRACKING_NUMBER,
            format!(
                "{name}: a Yamato tracking number is 12 digits whose last is the first 11 mod 7"
            ),
        ))
    }
}

/// `application/x-www-form-urlencoded` of UTF-8 text: unreserved bytes as
/// they are, space as `+`, everything else `%XX`.
pub fn encode_form(form: &[(String, String)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in form.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_component(&mut out, name);
        out.push('=');
        encode_component(&mut out, value);
    }
    out
}

fn encode_component(out: &mut String, s: &str) {
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
}

/// A refusal made before anything was sent (`http_status` 0).
#[cfg(test)]
mod tests;
