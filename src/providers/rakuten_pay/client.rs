//! Rakuten Pay order API client: ESA authorization, `searchOrder`, `getOrder`,
//! `confirmOrder`, `updateOrderShipping`, and the license key's expiry date.
//!
//! Every outcome is mapped to [`CallError`] so that the poller and the
//! dispatcher can tell "retry later" from "needs a person" without knowing
//! HTTP. Rakuten reports business errors in `MessageModelList` (sometimes with
//! a 200), so answers are judged by `messageType`, and gateway errors by
//! `Results.errorCode`. Neither the service secret nor the license key ever
//! appears in an error or a log line (the key travels in the expiry URL's
//! query: errors drop URLs and logs show paths only).

use std::sync::Arc;

use base64::Engine as _;
use chrono::{DateTime, FixedOffset, NaiveDate};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::Value;
use tokio::time::Instant;

use super::wire::{self, RakutenMessage};
use super::{Progress, RakutenOrder};
use crate::call::{CallError, HttpLimits, retry_after};
use crate::domain::Carrier;
use crate::providers::http_client;
use crate::providers::rakuten_pay::config::RakutenPayConfig;

/// Order numbers accepted by one getOrder or confirmOrder (contract).
pub const MAX_ORDERS_PER_CALL: usize = 100;
/// Order numbers asked per searchOrder page (the contract's maximum).
pub const SEARCH_PAGE_SIZE: u32 = 1000;
/// Results one search can reach; beyond it the window must be narrowed.
pub const MAX_SEARCH_RESULTS: u64 = 15_000;
/// Longest searchOrder window (contract).
pub const MAX_SEARCH_WINDOW: chrono::TimeDelta = chrono::TimeDelta::days(63);
/// Shipping rows per basket in one updateOrderShipping (contract).
pub const MAX_SHIPPING_ROWS_PER_BASKET: usize = 20;
/// getOrder `version`: 7 is the first with SKU data (`SkuModelList`).
pub const GET_ORDER_VERSION: u32 = 7;
/// `code` of the [`CallError::Rejected`] for a getOrder answer with an order
/// that cannot be read; the message starts with `order <number>:`.
pub const MALFORMED_ORDER: &str = "MALFORMED_ORDER";

/// The exact content type Rakuten wants (without the charset some servers answer 415).
const JSON_UTF8: &str = "application/json; charset=utf-8";

/// Where Rakuten is and who the shop is; all of it comes from config.
#[derive(Debug, Clone)]
pub struct RakutenClientSettings {
    /// Order API base, e.g. `https://api.rms.rakuten.co.jp/es/2.0/order`.
    pub api_base_url: String,
    /// License-management base, e.g. `https://api.rms.rakuten.co.jp/es/1.0/license-management`.
    pub license_api_url: String,
    /// `serviceSecret`, first half of the ESA header.
    pub service_secret: SecretString,
    /// `licenseKey`, second half of the ESA header; expires every 90 days.
    pub license_key: SecretString,
    /// What bounds every call: its timeout and the answer caps (`[daemon]`).
    pub http: HttpLimits,
}

impl RakutenClientSettings {
    /// The settings of a `[rakuten_pay]` section.
    pub fn from_config(
        cfg: &RakutenPayConfig,
        http: HttpLimits,
    ) -> Result<Self, crate::config::SecretUnreadable> {
        Ok(RakutenClientSettings {
            api_base_url: cfg.api_base_url.clone(),
            license_api_url: cfg.license_api_url.clone(),
            service_secret: cfg.service_secret.value()?.clone(),
            license_key: cfg.license_key.value()?.clone(),
            http,
        })
    }
}

/// A Rakuten Pay client. Cheap to clone: clones share the connection pool.
/// It does not pace calls: the caller serialises them per shop (about one a
/// second), because only the caller knows what else is being sent.
#[derive(Clone)]
pub struct RakutenClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// Most bytes read of an answer (`[daemon]`).
    limits: HttpLimits,
    order_base: Url,
    license_base: Url,
    /// `ESA base64(serviceSecret:licenseKey)`, marked sensitive.
    authorization: HeaderValue,
    license_key: SecretString,
    service_secret: SecretString,
}

impl std::fmt::Debug for RakutenClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RakutenClient")
            .field("order_base", &self.inner.order_base.as_str())
            .field("license_base", &self.inner.license_base.as_str())
            .finish_non_exhaustive()
    }
}

/// One searchOrder page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPage {
    /// Order numbers, oldest order first.
    pub order_numbers: Vec<String>,
    /// All hits of the search; `None` when there are none (Rakuten sends `null`).
    pub total_records: Option<u64>,
    /// `None` when there are no hits.
    pub total_pages: Option<u32>,
    /// The page this is (1-based).
    pub page: u32,
}

impl SearchPage {
    /// The page to ask for next; `None` on the last page.
    pub fn next_page(&self) -> Option<u32> {
        self.total_pages
            .filter(|total| self.page < *total)
            .map(|_| self.page + 1)
    }

    /// The search reached Rakuten's cap ([`MAX_SEARCH_RESULTS`]): orders past
    /// it cannot be paged to, so the caller should split the window.
    pub fn exceeds_search_limit(&self) -> bool {
        self.total_records.is_some_and(|n| n >= MAX_SEARCH_RESULTS)
    }
}

/// What confirmOrder said about one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmResult {
    /// `_INFO_101`: 100 → 200.
    Confirmed,
    /// `_ERROR_102`: the order was cancelled meanwhile.
    AlreadyCancelled,
    /// `_ERROR_103`: already past 100 (confirmed by hand or by an earlier call
    /// whose answer was lost): treat as done.
    AlreadyDone,
    /// `_ERROR_105`: the shop must set the postage in RMS first.
    PostageNotSet,
    /// The answer had no message for this order.
    NoAnswer,
    /// Any other per-order code.
    Other(String),
}

/// One shipping row to send: no `shipping_detail_id` adds a row, an id updates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippingRowInput {
    /// The row to update; `None` adds a row.
    pub shipping_detail_id: Option<i64>,
    /// Carrier code (`1001` …); see [`ShippingRowInput::new`].
    pub delivery_company: String,
    /// Tracking number.
    pub shipping_number: String,
    /// The day the parcel left, sent as `YYYY-MM-DD`.
    pub shipping_date: NaiveDate,
}

impl ShippingRowInput {
    /// A new row for a neutral carrier.
    pub fn new(carrier: Carrier, shipping_number: impl Into<String>, date: NaiveDate) -> Self {
        ShippingRowInput {
            shipping_detail_id: None,
            delivery_company: super::delivery_company(carrier).to_string(),
            shipping_number: shipping_number.into(),
            shipping_date: date,
        }
    }
}

/// What updateOrderShipping did with one row of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipResult {
    /// The destination the row belongs to.
    pub basket_id: i64,
    /// Index of the row within its basket's rows in the request.
    pub row: usize,
    /// The row's id at Rakuten (new on add).
    pub shipping_detail_id: Option<i64>,
    /// What Rakuten did with the row.
    pub outcome: ShipOutcome,
}

/// The INFO code of one shipping row, so the caller can store new row ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShipOutcome {
    /// `_INFO_101`.
    Added,
    /// `_INFO_102`.
    Updated,
    /// `_INFO_103`.
    Deleted,
    /// Any other non-error code.
    Other(String),
}

/// Whether an error means the credentials are wrong or expired (`ES01-01`,
/// `GA0001` or a bare 401): alert and retry slowly, never in a tight loop.
pub fn is_credential_error(e: &CallError) -> bool {
    matches!(e, CallError::Configuration { .. })
}

/// What the merchant reads when Rakuten refuses the key.
pub const REFUSED_KEY_FIX: &str = "楽天がライセンスキーを拒否しています(ES01-01/GA0001)。\
RMSで新しいライセンスキーを発行し、rakuten_pay.license_key を更新して設定を再読み込みしてください。\
新しいキーは使えるようになるまで10〜90分かかることがあり、古いキーはすぐに止まることがあります。 \
/ Rakuten refuses the licence key (ES01-01/GA0001): issue a new key in RMS, put it in \
rakuten_pay.license_key and reload. A new key can take 10 to 90 minutes to start working, and \
the old one may stop at once.";

/// A gateway refusal that means the key itself (not this call).
fn is_refused_key(http_status: StatusCode, code: &str) -> bool {
    code == wire::GATEWAY_UNAUTHORISED
        || code == wire::GATEWAY_UNAUTHORISED_KEY
        || http_status == StatusCode::UNAUTHORIZED
}

/// An HTTP answer, read completely and classified: 2xx or a 4xx carrying
/// messages. Transient and gateway failures never get this far.
struct Answer {
    status: StatusCode,
    body: Value,
}

impl RakutenClient {
    /// Checks the URLs and credentials and builds the HTTP client. A bad value
    /// is a `Rejected { http_status: 0, code: "INVALID_CONFIG" }`: nothing was sent.
    pub fn new(settings: RakutenClientSettings) -> Result<Self, CallError> {
        let secret = settings.service_secret.expose_secret();
        let key = settings.license_key.expose_secret();
        if secret.is_empty() || key.is_empty() {
            return Err(http_client::not_sent(
                "INVALID_CONFIG",
                "service_secret and license_key must not be empty".to_string(),
            ));
        }
        let mut authorization =
            HeaderValue::from_str(&esa_authorization(secret, key)).map_err(|_| {
                http_client::not_sent("INVALID_CONFIG", "unusable credentials".to_string())
            })?;
        authorization.set_sensitive(true);
        // A redirect would mean a wrong base URL; never follow it with the ESA header.
        let http = http_client::build(settings.http)?;
        Ok(RakutenClient {
            inner: Arc::new(Inner {
                http,
                limits: settings.http,
                order_base: http_client::parse_base("api_base_url", &settings.api_base_url)?,
                license_base: http_client::parse_base(
                    "license_api_url",
                    &settings.license_api_url,
                )?,
                authorization,
                license_key: settings.license_key,
                service_secret: settings.service_secret,
            }),
        })
    }

    /// `searchOrder` by order date (dateType 1), `SEARCH_PAGE_SIZE` a page,
    /// oldest first. `progress` empty means every status. Pages start at 1
    /// (0 is read as 1). A window longer than 63 days or ending before it
    /// starts is refused before sending (`http_status` 0).
    pub async fn search_order(
        &self,
        start: DateTime<FixedOffset>,
        end: DateTime<FixedOffset>,
        progress: &[Progress],
        page: u32,
    ) -> Result<SearchPage, CallError> {
        if end < start {
            return Err(http_client::not_sent(
                "INVALID_WINDOW",
                "the search window ends before it starts".to_string(),
            ));
        }
        if end - start > MAX_SEARCH_WINDOW {
            return Err(http_client::not_sent(
                "WINDOW_TOO_LONG",
                "Rakuten searches at most 63 days at a time".to_string(),
            ));
        }
        let page = page.max(1);
        let body = wire::RakutenSearchOrderRequest {
            date_type: 1,
            start_datetime: wire::format_jst(&start),
            end_datetime: wire::format_jst(&end),
            order_progress_list: (!progress.is_empty())
                .then(|| progress.iter().map(|p| p.code()).collect()),
            pagination: Some(wire::RakutenPaginationRequest {
                request_records_amount: SEARCH_PAGE_SIZE,
                request_page: page,
                sort_model_list: vec![wire::RakutenSort {
                    sort_column: 1,
                    sort_direction: 1,
                }],
            }),
        };
        let answer = self.post("searchOrder", &body).await?;
        let response: wire::RakutenSearchOrderResponse = serde_json::from_value(answer.body)
            .map_err(|e| {
                CallError::transient(format!("Rakuten answered an unreadable search page: {e}"))
            })?;
        self.fail_on_errors(answer.status, &response.messages)?;
        let pagination = response.pagination.unwrap_or_default();
        Ok(SearchPage {
            order_numbers: response.order_number_list,
            total_records: pagination.total_records_amount,
            total_pages: pagination.total_pages,
            page: pagination.request_page.unwrap_or(page),
        })
    }

    /// `getOrder` (version 7) for at most [`MAX_ORDERS_PER_CALL`] orders.
    /// All or nothing: an order that cannot be read fails the whole call with
    /// [`MALFORMED_ORDER`] naming it, so that half an order is never imported.
    /// Orders Rakuten does not return (unknown numbers) are simply absent.
    pub async fn get_order(
        &self,
        order_numbers: &[String],
    ) -> Result<Vec<RakutenOrder>, CallError> {
        check_batch(order_numbers)?;
        if order_numbers.is_empty() {
            return Ok(Vec::new());
        }
        let body = wire::RakutenGetOrderRequest {
            order_number_list: order_numbers.to_vec(),
            version: GET_ORDER_VERSION,
        };
        let answer = self.post("getOrder", &body).await?;
        let response: wire::RakutenGetOrderResponse =
            serde_json::from_value(answer.body).map_err(|e| {
                CallError::transient(format!("Rakuten answered an unreadable getOrder body: {e}"))
            })?;
        // An ERROR about one order (it has an orderNumber) leaves that order
        // out; an ERROR about the request fails the call.
        let (per_order, general): (Vec<&RakutenMessage>, Vec<&RakutenMessage>) = response
            .messages
            .iter()
            .partition(|m| m.order_number.is_some());
        // A 400 that only carries per-order errors still answers the request.
        let status = if per_order.is_empty() {
            answer.status
        } else {
            StatusCode::OK
        };
        self.fail_on_errors(status, general)?;
        for m in per_order.iter().filter(|m| m.is_error()) {
            tracing::warn!(
                order_number = m.order_number.as_deref().unwrap_or_default(),
                code = %m.message_code,
                "Rakuten did not return an order"
            );
        }
        let mut orders = Vec::with_capacity(response.orders.len());
        for value in response.orders {
            let order = wire::order_from_value(value).map_err(|e| CallError::Rejected {
                http_status: answer.status.as_u16(),
                code: MALFORMED_ORDER.to_string(),
                message: self.redact(&e.to_string()),
            })?;
            orders.push(order);
        }
        Ok(orders)
    }

    /// `confirmOrder` for at most [`MAX_ORDERS_PER_CALL`] orders: one result
    /// per requested order, in request order. Per-order refusals are results,
    /// not errors; only a refusal of the whole request is an `Err`.
    pub async fn confirm_order(
        &self,
        order_numbers: &[String],
    ) -> Result<Vec<(String, ConfirmResult)>, CallError> {
        check_batch(order_numbers)?;
        if order_numbers.is_empty() {
            return Ok(Vec::new());
        }
        let body = wire::RakutenConfirmOrderRequest {
            order_number_list: order_numbers.to_vec(),
        };
        let answer = self.post("confirmOrder", &body).await?;
        let response: wire::RakutenMessagesResponse =
            serde_json::from_value(answer.body).map_err(|e| {
                CallError::transient(format!(
                    "Rakuten answered an unreadable confirmOrder body: {e}"
                ))
            })?;
        let (per_order, general): (Vec<&RakutenMessage>, Vec<&RakutenMessage>) = response
            .messages
            .iter()
            .partition(|m| m.order_number.is_some());
        // Rakuten answers 400 when every order was refused: per-order
        // messages make it an answer all the same.
        let status = if per_order.is_empty() {
            answer.status
        } else {
            StatusCode::OK
        };
        self.fail_on_errors(status, general)?;
        Ok(order_numbers
            .iter()
            .map(|number| {
                let result = per_order
                    .iter()
                    .find(|m| m.order_number.as_deref().map(str::trim) == Some(number.trim()))
                    .map_or(ConfirmResult::NoAnswer, |m| confirm_result(&m.message_code));
                (number.clone(), result)
            })
            .collect())
    }

    /// `updateOrderShipping` for one order: rows per basket (at most
    /// [`MAX_SHIPPING_ROWS_PER_BASKET`] each). Any ERROR (bad format,
    /// cancelled order…) fails the call with its `messageCode`; Rakuten then
    /// applied nothing. Before re-sending after a crash, re-read the order and
    /// skip the rows already present.
    pub async fn update_order_shipping(
        &self,
        order_number: &str,
        baskets: &[(i64, Vec<ShippingRowInput>)],
    ) -> Result<Vec<ShipResult>, CallError> {
        if order_number.trim().is_empty() {
            return Err(http_client::not_sent(
                "INVALID_ORDER_NUMBER",
                "empty order number".to_string(),
            ));
        }
        if baskets.is_empty() || baskets.iter().any(|(_, rows)| rows.is_empty()) {
            return Err(http_client::not_sent(
                "NO_SHIPPING_ROWS",
                "every basket needs at least one shipping row".to_string(),
            ));
        }
        if let Some((basket_id, rows)) = baskets
            .iter()
            .find(|(_, rows)| rows.len() > MAX_SHIPPING_ROWS_PER_BASKET)
        {
            return Err(http_client::not_sent(
                "TOO_MANY_SHIPPING_ROWS",
                format!(
                    "basket {basket_id}: {} rows; Rakuten takes at most {MAX_SHIPPING_ROWS_PER_BASKET}",
                    rows.len()
                ),
            ));
        }
        let body = wire::RakutenUpdateShippingRequest {
            order_number: order_number.to_string(),
            baskets: baskets
                .iter()
                .map(|(basket_id, rows)| wire::RakutenBasketShipping {
                    basket_id: *basket_id,
                    rows: rows
                        .iter()
                        .map(|r| wire::RakutenShippingInput {
                            shipping_detail_id: r.shipping_detail_id,
                            delivery_company: r.delivery_company.clone(),
                            shipping_number: r.shipping_number.clone(),
                            shipping_date: wire::format_date(r.shipping_date),
                        })
                        .collect(),
                })
                .collect(),
        };
        let answer = self.post("updateOrderShipping", &body).await?;
        let response: wire::RakutenMessagesResponse =
            serde_json::from_value(answer.body).map_err(|e| {
                CallError::transient(format!(
                    "Rakuten answered an unreadable updateOrderShipping body: {e}"
                ))
            })?;
        self.fail_on_errors(answer.status, &response.messages)?;
        // dataNumber counts rows from 1 across the whole request.
        let positions: Vec<(i64, usize)> = baskets
            .iter()
            .flat_map(|(basket_id, rows)| (0..rows.len()).map(move |row| (*basket_id, row)))
            .collect();
        let mut results = Vec::with_capacity(positions.len());
        for m in &response.messages {
            let Some((basket_id, row)) = m
                .data_number
                .and_then(|n| positions.get((n as usize).checked_sub(1)?))
                .copied()
            else {
                continue;
            };
            results.push(ShipResult {
                basket_id,
                row,
                shipping_detail_id: m.shipping_detail_id,
                outcome: ship_outcome(&m.message_code),
            });
        }
        Ok(results)
    }

    /// The license key's expiry (`GET …/license-key/expiry-date`), read
    /// leniently; a date alone means the end of that day in JST.
    pub async fn license_expiry(&self) -> Result<DateTime<FixedOffset>, CallError> {
        let mut url = join(
            &self.inner.license_base,
            &["license-key", "expiry-date"],
            false,
        );
        url.query_pairs_mut()
            .append_pair("licenseKey", self.inner.license_key.expose_secret());
        let builder = self
            .inner
            .http
            .get(url.clone())
            .header(AUTHORIZATION, self.inner.authorization.clone())
            .header(ACCEPT, "application/json");
        let answer = self.send(builder, "license-key/expiry-date", &url).await?;
        let expiry: wire::RakutenLicenseExpiry =
            serde_json::from_value(answer.body).map_err(|_| {
                CallError::transient("Rakuten answered an unreadable license expiry body")
            })?;
        parse_expiry(&expiry.expiry_date).ok_or_else(|| {
            CallError::transient(format!(
                "Rakuten answered an unreadable expiryDate {:?}",
                expiry.expiry_date.chars().take(40).collect::<String>()
            ))
        })
    }

    /// POSTs JSON to `{api_base_url}/{endpoint}/`.
    async fn post(
        &self,
        endpoint: &'static str,
        body: &impl Serialize,
    ) -> Result<Answer, CallError> {
        let bytes = serde_json::to_vec(body).map_err(|e| {
            http_client::not_sent("INVALID_BODY", format!("cannot encode the request: {e}"))
        })?;
        let url = join(&self.inner.order_base, &[endpoint], true);
        let builder = self
            .inner
            .http
            .post(url.clone())
            .header(AUTHORIZATION, self.inner.authorization.clone())
            .header(CONTENT_TYPE, JSON_UTF8)
            .header(ACCEPT, "application/json")
            .body(bytes);
        self.send(builder, endpoint, &url).await
    }

    async fn send(
        &self,
        builder: reqwest::RequestBuilder,
        endpoint: &str,
        url: &Url,
    ) -> Result<Answer, CallError> {
        let started = Instant::now();
        let result = self.read(builder, endpoint, url).await;
        let latency_ms = started.elapsed().as_millis() as u64;
        match &result {
            Ok(answer) => tracing::debug!(
                endpoint,
                path = url.path(),
                status = answer.status.as_u16(),
                latency_ms,
                "rakuten call"
            ),
            Err(e) => tracing::debug!(
                endpoint, path = url.path(), error = %e, latency_ms, "rakuten call failed"
            ),
        }
        result
    }

    async fn read(
        &self,
        builder: reqwest::RequestBuilder,
        endpoint: &str,
        url: &Url,
    ) -> Result<Answer, CallError> {
        let response = builder.send().await.map_err(CallError::from_transport)?;
        let status = response.status();
        let headers = response.headers().clone();
        http_client::refuse_redirect(url_key(endpoint), url, status, &headers)?;
        let bytes =
            http_client::read_body(response, answer_limit(endpoint, self.inner.limits)).await?;
        self.classify(status, &headers, &bytes)
    }
}

mod answers;
pub use answers::esa_authorization;
use answers::*;

#[cfg(test)]
mod tests;
