//! J-goods API client: OAuth2 client credentials, the order-info API and the
//! stock part of the item-info API.
//!
//! Every outcome is mapped to [`CallError`] so that the dispatcher can decide
//! between "retry later" and "needs a person" without knowing HTTP. Neither the
//! client secret nor an access token ever appears in an error or a log line.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Method, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::wire::{self, JgoodsErrorBody, JgoodsToken};
use super::{OrderSnapshot, Status};
use crate::call::{CallError, HttpLimits, retry_after};
use crate::providers::http_client;
use crate::providers::http_client::{Answer, read_answer};
pub use crate::providers::jgoods::config::TokenAuth;

/// Items accepted by one `PUT /item.json` (contract).
pub const MAX_STOCK_ITEMS: usize = 100;

/// How long before `expires_in` a cached token is renewed, so that a request
/// never leaves with a token about to expire in flight.
const TOKEN_RENEW_MARGIN: Duration = Duration::from_secs(60);

/// Where J-goods is and who the merchant is; all of it comes from config.
#[derive(Debug, Clone)]
pub struct JgoodsClientSettings {
    /// Order-info API base, e.g. `https://api.j-goods.net/order/v2` (a trailing `/` is fine).
    pub order_api_base_url: String,
    /// Item-info API base, e.g. `https://api.j-goods.net/v3`.
    pub item_api_base_url: String,
    /// Category API base, e.g. `https://api.j-goods.net/category/v1`.
    pub category_api_base_url: String,
    /// OAuth2 token endpoint (not public, hence config).
    pub token_url: String,
    /// OAuth2 client id from the J-goods merchant page.
    pub client_id: String,
    /// OAuth2 client secret; only ever sent to `token_url`.
    pub client_secret: SecretString,
    /// How the id and secret are sent to `token_url`.
    pub token_auth: TokenAuth,
    /// What bounds every call: its timeout and the answer caps (`[daemon]`).
    pub http: HttpLimits,
}

/// A J-goods client. Cheap to clone: clones share the connection pool and the
/// cached access token.
#[derive(Clone)]
pub struct JgoodsClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// Most bytes read of an answer (`[daemon]`).
    limits: HttpLimits,
    order_base: Url,
    item_base: Url,
    category_base: Url,
    token_url: Url,
    client_id: String,
    client_secret: SecretString,
    token_auth: TokenAuth,
    /// The cached token; the lock is held while fetching a new one so that
    /// concurrent callers wait for one token request instead of each sending one.
    token: Mutex<Option<CachedToken>>,
    /// The token endpoint's last configuration refusal (a wrong URL or
    /// wrong credentials) and until when it is answered from memory: every
    /// waiting order would otherwise ask the token URL again on its own.
    refusal: std::sync::Mutex<Option<(Instant, CallError)>>,
}

/// How long a configuration refusal of the token endpoint is repeated from
/// memory before the endpoint is asked again. A config reload builds a new
/// client, so a fixed `token_url` is tried at once; a fix made on J-goods'
/// side alone is seen within this time.
const TOKEN_REFUSAL_HOLD: Duration = Duration::from_secs(30);

struct CachedToken {
    access_token: SecretString,
    renew_at: Instant,
}

impl std::fmt::Debug for JgoodsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JgoodsClient")
            .field("order_base", &self.inner.order_base.as_str())
            .field("item_base", &self.inner.item_base.as_str())
            .field("token_url", &self.inner.token_url.as_str())
            .field("client_id", &self.inner.client_id)
            .finish_non_exhaustive()
    }
}

/// One page of `search.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    /// The valid orders of the page (an order J-goods sent in a shape the
    /// contract does not allow is logged and left out).
    pub orders: Vec<OrderSnapshot>,
    /// The page to ask for next; `None` on the last page.
    pub next_page: Option<u32>,
}

/// A request that may be sent twice (once more after a 401).
struct ApiRequest {
    method: Method,
    url: Url,
    body: Option<Vec<u8>>,
}

impl JgoodsClient {
    /// Checks the URLs and builds the HTTP client. A bad URL is a
    /// `Rejected { http_status: 0, code: "INVALID_CONFIG" }`: nothing was sent.
    pub fn new(settings: JgoodsClientSettings) -> Result<Self, CallError> {
        // A redirect would mean a wrong base URL; never follow it with a bearer token.
        let http = http_client::build(settings.http)?;
        Ok(JgoodsClient {
            inner: Arc::new(Inner {
                http,
                limits: settings.http,
                order_base: http_client::parse_base(
                    "order_api_base_url",
                    &settings.order_api_base_url,
                )?,
                item_base: http_client::parse_base(
                    "item_api_base_url",
                    &settings.item_api_base_url,
                )?,
                category_base: http_client::parse_base(
                    "category_api_base_url",
                    &settings.category_api_base_url,
                )?,
                token_url: http_client::parse_base("token_url", &settings.token_url)?,
                client_id: settings.client_id,
                client_secret: settings.client_secret,
                token_auth: settings.token_auth,
                token: Mutex::new(None),
                refusal: std::sync::Mutex::new(None),
            }),
        })
    }

    /// `PUT /{order_no}`: registers the allocation and/or moves the order to
    /// 入荷待ち; answers the order as J-goods now has it.
    pub async fn put_order(
        &self,
        order_no: &str,
        body: &wire::JgoodsPutOrder,
    ) -> Result<OrderSnapshot, CallError> {
        let request = ApiRequest {
            method: Method::PUT,
            url: join(&self.inner.order_base, checked_order_no(order_no)?),
            body: Some(to_json(body)?),
        };
        let answer = self.call(&request).await?;
        read_order(order_no, &answer)
    }

    /// `GET /{order_no}`: the authoritative state of one order.
    pub async fn get_order(&self, order_no: &str) -> Result<OrderSnapshot, CallError> {
        let request = ApiRequest {
            method: Method::GET,
            url: join(&self.inner.order_base, checked_order_no(order_no)?),
            body: None,
        };
        let answer = self.call(&request).await?;
        read_order(order_no, &answer)
    }

    /// `GET /search.json`: orders with `status` updated since `updated_from`,
    /// 100 a page; pages start at 1 (0 is read as 1).
    pub async fn search(
        &self,
        status: Status,
        updated_from: Option<DateTime<FixedOffset>>,
        page: u32,
    ) -> Result<SearchPage, CallError> {
        let mut url = join(&self.inner.order_base, "search.json");
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("status", status.label());
            if let Some(t) = updated_from {
                query.append_pair("updated_from", &t.to_rfc3339());
            }
            query.append_pair("page", &page.max(1).to_string());
        }
        let request = ApiRequest {
            method: Method::GET,
            url,
            body: None,
        };
        let answer = self.call(&request).await?;
        read_search_page(&answer)
    }

    /// `PUT /item.json` (item-info API): stock per item code. More than
    /// [`MAX_STOCK_ITEMS`] items is refused before sending
    /// (`Rejected { http_status: 0, code: "TOO_MANY_ITEMS" }`); an empty list
    /// sends nothing.
    pub async fn put_item_stock(
        &self,
        items: &[wire::JgoodsItemStock],
    ) -> Result<wire::JgoodsItemStockResult, CallError> {
        if items.len() > MAX_STOCK_ITEMS {
            return Err(http_client::not_sent(
                "TOO_MANY_ITEMS",
                format!(
                    "{} items; J-goods takes at most {MAX_STOCK_ITEMS} a call",
                    items.len()
                ),
            ));
        }
        if items.is_empty() {
            return Ok(wire::JgoodsItemStockResult {
                updated: 0,
                errors: Vec::new(),
            });
        }
        let body = wire::JgoodsItemStockUpdate {
            items: items.to_vec(),
        };
        let request = ApiRequest {
            method: Method::PUT,
            url: join(&self.inner.item_base, "item.json"),
            body: Some(to_json(&body)?),
        };
        let answer = self.call(&request).await?;
        serde_json::from_slice(&answer.body).map_err(|e| {
            CallError::transient(format!(
                "J-goods answered the stock update with an unreadable body: {e}"
            ))
        })
    }

    /// Sends with a bearer token; on a 401 renews the token once and resends
    /// once. Non-2xx answers become [`CallError`]s.
    async fn call(&self, request: &ApiRequest) -> Result<Answer, CallError> {
        let token = self.access_token().await?;
        let mut answer = self.send(request, &token).await?;
        if let Some(api) = self.api_of(&request.url) {
            http_client::refuse_redirect(api.key(), &request.url, answer.status, &answer.headers)?;
        }
        if answer.status == StatusCode::UNAUTHORIZED {
            self.forget_token(&token).await;
            let token = self.access_token().await?;
            answer = self.send(request, &token).await?;
            if answer.status == StatusCode::UNAUTHORIZED {
                return Err(token::fresh_token_refused(self.api_of(&request.url)));
            }
        }
        classify(answer)
    }

    async fn send(&self, request: &ApiRequest, token: &SecretString) -> Result<Answer, CallError> {
        let mut builder = self
            .inner
            .http
            .request(request.method.clone(), request.url.clone())
            .bearer_auth(token.expose_secret())
            .header(ACCEPT, "application/json");
        if let Some(body) = &request.body {
            builder = builder
                .header(CONTENT_TYPE, "application/json; charset=utf-8")
                .body(body.clone());
        }
        let started = Instant::now();
        let result = read_answer(builder.send().await, self.inner.limits.answer_bytes).await;
        log_call(&request.method, &request.url, &result, started);
        result
    }

    /// Which API `url` is a call of: the base it starts with (the longest,
    /// should one base lie under another).
    fn api_of(&self, url: &Url) -> Option<JgoodsApi> {
        let inner = &self.inner;
        [
            (&inner.order_base, JgoodsApi::Order),
            (&inner.item_base, JgoodsApi::Item),
            (&inner.category_base, JgoodsApi::Category),
        ]
        .into_iter()
        .map(|(base, api)| (base.as_str().trim_end_matches('/'), api))
        .filter(|(base, _)| {
            url.as_str()
                .strip_prefix(base)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']))
        })
        .max_by_key(|(base, _)| base.len())
        .map(|(_, api)| api)
    }

    /// The cached token, or a new one when there is none or it is due for renewal.
    async fn access_token(&self) -> Result<SecretString, CallError> {
        let mut slot = self.inner.token.lock().await;
        if let Some(cached) = slot.as_ref()
            && Instant::now() < cached.renew_at
        {
            return Ok(cached.access_token.clone());
        }
        let now = Instant::now();
        let remembered = self.refusal().clone();
        if let Some((until, error)) = remembered
            && now < until
        {
            return Err(error);
        }
        let fetched = self.fetch_token().await;
        *self.refusal() = match &fetched {
            Err(e @ CallError::Configuration { .. }) => Some((now + TOKEN_REFUSAL_HOLD, e.clone())),
            _ => None,
        };
        let fresh = fetched?;
        let token = fresh.access_token.clone();
        *slot = Some(fresh);
        Ok(token)
    }

    /// The remembered refusal; a panic elsewhere leaves it readable.
    fn refusal(&self) -> std::sync::MutexGuard<'_, Option<(Instant, CallError)>> {
        (self.inner.refusal.lock()).unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Drops the cached token if it is still the one that was refused (another
    /// caller may already have renewed it).
    async fn forget_token(&self, refused: &SecretString) {
        let mut slot = self.inner.token.lock().await;
        if slot
            .as_ref()
            .is_some_and(|c| c.access_token.expose_secret() == refused.expose_secret())
        {
            *slot = None;
        }
    }

    async fn fetch_token(&self) -> Result<CachedToken, CallError> {
        let inner = &self.inner;
        let request = inner
            .http
            .post(inner.token_url.clone())
            .header(ACCEPT, "application/json");
        let builder = match inner.token_auth {
            TokenAuth::Basic => request
                .basic_auth(&inner.client_id, Some(inner.client_secret.expose_secret()))
                .form(&[("grant_type", "client_credentials")]),
            TokenAuth::Post => request.form(&[
                ("grant_type", "client_credentials"),
                ("client_id", inner.client_id.as_str()),
                ("client_secret", inner.client_secret.expose_secret()),
            ]),
        };
        let started = Instant::now();
        let result = read_answer(builder.send().await, self.inner.limits.answer_bytes).await;
        log_call(&Method::POST, &inner.token_url, &result, started);
        let answer = result?;
        if !answer.status.is_success() {
            return Err(token::token_failure(&inner.token_url, &answer));
        }
        // The body holds the token: never quote it or serde's view of it.
        let token = serde_json::from_slice::<JgoodsToken>(&answer.body)
            .ok()
            .filter(|t| !t.access_token.is_empty())
            .ok_or_else(|| token::not_a_token(&inner.token_url, &answer))?;
        Ok(CachedToken {
            access_token: token.access_token.into(),
            renew_at: started + token_lifetime(token.expires_in),
        })
    }
}

/// How long to use a token: until [`TOKEN_RENEW_MARGIN`] before it expires,
/// or half its life when it is shorter than twice the margin.
fn token_lifetime(expires_in: u64) -> Duration {
    let life = Duration::from_secs(expires_in);
    life.saturating_sub(TOKEN_RENEW_MARGIN.min(life / 2))
}

fn log_call(method: &Method, url: &Url, result: &Result<Answer, CallError>, started: Instant) {
    let latency_ms = started.elapsed().as_millis() as u64;
    match result {
        Ok(answer) => tracing::debug!(
            %method, path = url.path(), status = answer.status.as_u16(), latency_ms, "jgoods call"
        ),
        Err(e) => {
            tracing::debug!(%method, path = url.path(), error = %e, latency_ms, "jgoods call failed")
        }
    }
}

/// 2xx passes; everything else becomes the [`CallError`] the dispatcher needs.
fn classify(answer: Answer) -> Result<Answer, CallError> {
    let status = answer.status;
    if status.is_success() {
        return Ok(answer);
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Err(CallError::Transient {
            reason: "J-goods is throttling requests (HTTP 429)".to_string(),
            retry_after: retry_after(&answer.headers),
        });
    }
    if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
        return Err(CallError::Transient {
            reason: format!("J-goods answered HTTP {status}"),
            retry_after: retry_after(&answer.headers),
        });
    }
    if status.is_client_error() {
        return Err(rejection(status, &answer.body));
    }
    Err(CallError::transient(format!(
        "J-goods answered an unexpected HTTP {status}"
    )))
}

/// A 4xx with the `{"error": {...}}` envelope, or as much as can be said without it.
fn rejection(status: StatusCode, body: &[u8]) -> CallError {
    match serde_json::from_slice::<JgoodsErrorBody>(body) {
        Ok(envelope) => CallError::Rejected {
            http_status: status.as_u16(),
            code: envelope.error.code,
            message: envelope.error.message,
        },
        Err(_) => CallError::Rejected {
            http_status: status.as_u16(),
            code: format!("HTTP_{}", status.as_u16()),
            message: String::from_utf8_lossy(body).chars().take(200).collect(),
        },
    }
}

fn read_order(order_no: &str, answer: &Answer) -> Result<OrderSnapshot, CallError> {
    let order = wire::parse_order(&answer.body)
        .map_err(|e| CallError::transient(format!("J-goods answered an unreadable order: {e}")))?;
    if order.order_no != order_no.trim() {
        return Err(CallError::transient(format!(
            "asked for order {order_no:?}, J-goods answered order {:?}",
            order.order_no
        )));
    }
    Ok(order)
}

/// Parses orders one by one so that one malformed order does not hide the others.
fn read_search_page(answer: &Answer) -> Result<SearchPage, CallError> {
    #[derive(Deserialize)]
    struct RawPage {
        orders: Vec<serde_json::Value>,
        #[serde(default)]
        next_page: Option<u32>,
    }
    let raw: RawPage = serde_json::from_slice(&answer.body).map_err(|e| {
        CallError::transient(format!("J-goods answered an unreadable search page: {e}"))
    })?;
    let mut orders = Vec::with_capacity(raw.orders.len());
    for value in raw.orders {
        let parsed = serde_json::from_value::<wire::JgoodsOrder>(value)
            .map_err(|e| e.to_string())
            .and_then(|o| wire::snapshot_from_wire(&o).map_err(|e| e.to_string()));
        match parsed {
            Ok(order) => orders.push(order),
            Err(e) => {
                tracing::warn!(error = %e, "skipping a malformed order in a J-goods search page")
            }
        }
    }
    Ok(SearchPage {
        orders,
        next_page: raw.next_page,
    })
}

fn to_json(body: &impl serde::Serialize) -> Result<Vec<u8>, CallError> {
    serde_json::to_vec(body).map_err(|e| {
        http_client::not_sent("INVALID_BODY", format!("cannot encode the request: {e}"))
    })
}

/// An order number fit to be one path segment. `.` and `..` would be dropped
/// by URL normalisation and hit another resource, so they are refused.
fn checked_order_no(order_no: &str) -> Result<&str, CallError> {
    let trimmed = order_no.trim();
    if trimmed.is_empty() || trimmed == "." || trimmed == ".." || order_no.len() > 64 {
        return Err(http_client::not_sent(
            "INVALID_ORDER_NO",
            format!("{order_no:?} cannot be a J-goods order number"),
        ));
    }
    Ok(order_no)
}

/// A refusal made before anything was sent (`http_status` 0).
/// `base` + one percent-encoded path segment, whether or not `base` ends with `/`.
fn join(base: &Url, segment: &str) -> Url {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    // `parse_base` refused cannot-be-a-base URLs, so this always succeeds.
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().push(segment);
    }
    url
}

pub mod catalog;
pub use catalog::{CatalogAnswer, CatalogRefusal};
mod token;
pub use token::{JgoodsApi, TOKEN_FIX};

#[cfg(test)]
mod tests;
