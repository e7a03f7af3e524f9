//! Rakuten's item search (ItemAPI 2.0 `items.search`) and stock (Inventory
//! API 2.0 `bulk-upsert`, `bulk-get`): same host and ESA header as the order
//! API, one base URL for both (`[rakuten_pay] inventory_api_url`).
//!
//! Answers map to [`CallError`] as the order API's do: 429, 408 and 5xx are
//! transient (with `Retry-After`); an expired key (`GA0001`) is the key's
//! problem, but any other `401` (`ES01-01`) or a key without the permission
//! (`GE0011`, 403) is the function's: permissions are ticked per API function
//! in RMS and a function left unticked answers exactly as a bad key does, so
//! the fix names the function ([`Function`]) and never asks for a new key;
//! `{"errors": [...]}` with 400/404 is a refusal naming the code and the
//! `propertyPath`, and a `bulk-upsert` refusal naming one entry is
//! [`Upserted::Refused`], so the caller can send the rest without it. The
//! client does not pace: the caller keeps to 1 upsert and 5 reads a second
//! per shop.

use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::client::{REFUSED_KEY_FIX, esa_authorization};
use crate::call::{CallError, HttpLimits, retry_after};
use crate::providers::http_client;
use crate::providers::rakuten_pay::config::RakutenPayConfig;
use crate::providers::rakuten_pay::wire::{GATEWAY_UNAUTHORISED_KEY, RakutenGatewayError};

pub mod wire;

use wire::{HeldQuantity, PairRef, SearchPage, UpsertEntry};

/// Entries one `bulk-upsert` takes.
pub const MAX_UPSERT: usize = 400;
/// Pairs one `bulk-get` takes.
pub const MAX_GET: usize = 1000;
/// Items a search page asks for (the contract's maximum).
pub const SEARCH_HITS: u32 = 100;
/// The config key of the base URL, as a redirect's problem names it.
const URL_KEY: &str = "rakuten_pay.inventory_api_url";
/// Highest quantity Rakuten takes.
pub const MAX_QUANTITY: u32 = 99_999;
/// Least time between two upserts (1 a second per shop), with a margin:
/// calls spaced by exactly a second can arrive a little closer.
pub const UPSERT_INTERVAL: Duration = Duration::from_millis(1100);
/// Least time between two reads (5 a second per shop), with the same margin.
pub const GET_INTERVAL: Duration = Duration::from_millis(220);

/// An RMS API function the key must have ticked (利用機能編集) for the stock
/// push: each answers `401 ES01-01` on its own while the order API works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// ItemAPI 2.0 `items.search`: learning the SKU map.
    ItemsSearch,
    /// Inventory API 2.0 `inventories.*`: `bulk-upsert` and `bulk-get`.
    Inventories,
}

impl Function {
    /// The part of Rakuten whose problem a refusal is
    /// ([`crate::problems::ProviderProblems::flag_part`]), kept apart from the
    /// order poll's so an order poll that works does not clear it.
    pub const fn part(self) -> &'static str {
        match self {
            Function::ItemsSearch => "items_search",
            Function::Inventories => "inventories",
        }
    }

    /// What the merchant reads while the function is refused.
    pub fn fix(self) -> &'static str {
        match self {
            Function::ItemsSearch => ITEMS_SEARCH_FIX,
            Function::Inventories => INVENTORIES_FIX,
        }
    }
}

/// The fix of a refused `items.search`.
pub const ITEMS_SEARCH_FIX: &str = "楽天の在庫連携: このライセンスキーに商品API 2.0 の items.search \
(itemapi_2.0.items.search)の利用が許可されていません(401 ES01-01)。RMSの「WEB APIサービス」→\
「利用機能編集」でこのキーの itemapi_2.0.items.search にチェックを入れてください。\
受注の取り込みが同じキーで動いているなら、キーの再発行は不要です。それまで楽天に在庫は送られません。 \
/ Rakuten stock push: the licence key may not call ItemAPI 2.0 items.search (401 ES01-01). \
Tick itemapi_2.0.items.search for the key in RMS (WEB API service, 利用機能編集). If the order \
import works with the same key, do not reissue the key. No stock reaches Rakuten until then.";

/// The fix of a refused `bulk-upsert` or `bulk-get`.
pub const INVENTORIES_FIX: &str = "楽天の在庫連携: このライセンスキーに在庫API 2.0 \
(inventories.bulk.upsert / inventories.bulk.get)の利用が許可されていません(401 ES01-01)。\
RMSの「WEB APIサービス」→「利用機能編集」でこのキーの在庫API 2.0(inventories)にチェックを入れてください。\
受注の取り込みが同じキーで動いているなら、キーの再発行は不要です。それまで楽天の在庫は更新されません。 \
/ Rakuten stock push: the licence key may not call the Inventory API 2.0 (inventories.bulk.upsert \
/ bulk.get, 401 ES01-01). Tick 在庫API 2.0 (inventories) for the key in RMS (WEB API service, \
利用機能編集). If the order import works with the same key, do not reissue the key. Rakuten's \
stock is not updated until then.";

/// How `bulk-upsert` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upserted {
    /// 204: every entry taken.
    Accepted,
    /// 400 naming one entry: nothing of the call was applied.
    Refused(EntryRefusal),
}

/// The entry a `bulk-upsert` refused, as its `propertyPath` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRefusal {
    /// Its index in the entries sent.
    pub index: usize,
    pub code: String,
    /// `propertyPath`, e.g. `inventories[17].quantity`.
    pub path: String,
    pub message: String,
}

/// The inventory and item-search client.
#[derive(Clone)]
pub struct InventoryClient {
    http: reqwest::Client,
    /// Most bytes read of an answer and of a search page (`[daemon]`).
    limits: HttpLimits,
    base: Url,
    authorization: HeaderValue,
}

impl std::fmt::Debug for InventoryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InventoryClient")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl InventoryClient {
    /// `base` is e.g. `https://api.rms.rakuten.co.jp/es/2.0`.
    pub fn new(
        base: &str,
        service_secret: &SecretString,
        license_key: &SecretString,
        limits: HttpLimits,
    ) -> Result<InventoryClient, CallError> {
        let (secret, key) = (service_secret.expose_secret(), license_key.expose_secret());
        if secret.is_empty() || key.is_empty() {
            return Err(http_client::not_sent(
                "INVALID_CONFIG",
                "service_secret and license_key must not be empty",
            ));
        }
        let mut authorization = HeaderValue::from_str(&esa_authorization(secret, key))
            .map_err(|_| http_client::not_sent("INVALID_CONFIG", "unusable credentials"))?;
        authorization.set_sensitive(true);
        Ok(InventoryClient {
            http: http_client::build(limits)?,
            limits,
            base: http_client::parse_base("inventory_api_url", base)?,
            authorization,
        })
    }

    /// The client of a `[rakuten_pay]` section.
    pub fn from_config(
        cfg: &RakutenPayConfig,
        limits: HttpLimits,
    ) -> Result<InventoryClient, CallError> {
        InventoryClient::new(
            &cfg.inventory_api_url,
            cfg.service_secret.value()?,
            cfg.license_key.value()?,
            limits,
        )
    }

    /// Sets the quantities of up to [`MAX_UPSERT`] pairs. A 204 does not prove
    /// Rakuten holds a pair: read it back with [`Self::bulk_get`].
    pub async fn bulk_upsert(&self, entries: &[UpsertEntry]) -> Result<Upserted, CallError> {
        if entries.is_empty() || entries.len() > MAX_UPSERT {
            return Err(http_client::not_sent(
                "INVALID_BATCH",
                format!("bulk-upsert takes 1 to {MAX_UPSERT} entries"),
            ));
        }
        if let Some(e) = entries.iter().find(|e| e.quantity > MAX_QUANTITY) {
            return Err(http_client::not_sent(
                "INVALID_QUANTITY",
                format!(
                    "{} / {}: quantity over {MAX_QUANTITY}",
                    e.manage_number, e.variant_id
                ),
            ));
        }
        let body = wire::UpsertRequest {
            inventories: entries,
        };
        let answer = self.post_raw("inventories/bulk-upsert", &body).await?;
        if let Some(refusal) = entry_refusal(&answer, entries.len()) {
            return Ok(Upserted::Refused(refusal));
        }
        judge(answer, Function::Inventories)?;
        Ok(Upserted::Accepted)
    }

    /// The quantities of up to [`MAX_GET`] pairs; a pair Rakuten does not hold
    /// is absent from the answer.
    pub async fn bulk_get(&self, pairs: &[PairRef]) -> Result<Vec<HeldQuantity>, CallError> {
        if pairs.is_empty() || pairs.len() > MAX_GET {
            return Err(http_client::not_sent(
                "INVALID_BATCH",
                format!("bulk-get takes 1 to {MAX_GET} pairs"),
            ));
        }
        let bytes = self
            .post(
                "inventories/bulk-get",
                &wire::GetRequest { inventories: pairs },
            )
            .await?;
        let answer: wire::GetResponse = serde_json::from_slice(&bytes).map_err(|e| {
            CallError::transient(format!("Rakuten answered an unreadable bulk-get: {e}"))
        })?;
        Ok(answer.inventories)
    }

    /// One page of `items.search` from `cursor` (`*` for the first).
    pub async fn search_items(&self, cursor: &str) -> Result<SearchPage, CallError> {
        let mut url = self.url("items/search");
        url.query_pairs_mut()
            .append_pair("hits", &SEARCH_HITS.to_string())
            .append_pair("cursorMark", cursor);
        let sent = self
            .http
            .get(url.clone())
            .header(AUTHORIZATION, self.authorization.clone())
            .header(ACCEPT, "application/json")
            .send()
            .await;
        let answer = http_client::read_answer(sent, self.limits.page_bytes).await?;
        http_client::refuse_redirect(URL_KEY, &url, answer.status, &answer.headers)?;
        let bytes = judge(answer, Function::ItemsSearch)?;
        serde_json::from_slice(&bytes).map_err(|e| {
            CallError::transient(format!("Rakuten answered an unreadable search page: {e}"))
        })
    }

    async fn post(&self, path: &str, body: &impl Serialize) -> Result<Vec<u8>, CallError> {
        judge(self.post_raw(path, body).await?, Function::Inventories)
    }

    async fn post_raw(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<http_client::Answer, CallError> {
        let bytes = serde_json::to_vec(body).map_err(|e| {
            http_client::not_sent("INVALID_BODY", format!("cannot encode the request: {e}"))
        })?;
        let url = self.url(path);
        let sent = self
            .http
            .post(url.clone())
            .header(AUTHORIZATION, self.authorization.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json")
            .body(bytes)
            .send()
            .await;
        let answer = http_client::read_answer(sent, self.limits.answer_bytes).await?;
        http_client::refuse_redirect(URL_KEY, &url, answer.status, &answer.headers)?;
        Ok(answer)
    }

    fn url(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        let joined = format!("{}/{path}", url.path().trim_end_matches('/'));
        url.set_path(&joined);
        url
    }
}

/// A `400` whose first error names one of the `sent` entries
/// (`inventories[N]…`): that entry alone is refused.
fn entry_refusal(answer: &http_client::Answer, sent: usize) -> Option<EntryRefusal> {
    if answer.status != StatusCode::BAD_REQUEST {
        return None;
    }
    let body = serde_json::from_slice::<wire::ErrorBody>(&answer.body).ok()?;
    let first = body.errors.into_iter().next()?;
    let path = first.metadata?.property_path?;
    let index = entry_index(&path).filter(|i| *i < sent)?;
    Some(EntryRefusal {
        index,
        code: first.code,
        path,
        message: first.message,
    })
}

/// `N` of a `propertyPath` `inventories[N]` or `inventories[N].field`.
fn entry_index(path: &str) -> Option<usize> {
    let rest = path.strip_prefix("inventories[")?;
    let (n, after) = rest.split_once(']')?;
    if !(after.is_empty() || after.starts_with('.')) {
        return None;
    }
    n.parse().ok()
}

/// The body of a 2xx, or the error the answer means for `function`.
fn judge(answer: http_client::Answer, function: Function) -> Result<Vec<u8>, CallError> {
    let status = answer.status;
    if status.is_success() {
        return Ok(answer.body);
    }
    if status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || status.is_server_error()
    {
        return Err(CallError::Transient {
            reason: format!("Rakuten answered HTTP {status}"),
            retry_after: retry_after(&answer.headers),
        });
    }
    let errors = serde_json::from_slice::<wire::ErrorBody>(&answer.body)
        .map(|b| b.errors)
        .unwrap_or_default();
    let first = errors.first();
    let gateway = serde_json::from_slice::<RakutenGatewayError>(&answer.body)
        .ok()
        .map(|g| g.results.error_code);
    let code = first
        .map(|e| e.code.clone())
        .or(gateway)
        .unwrap_or_else(|| status.as_u16().to_string());
    if status == StatusCode::UNAUTHORIZED && code == GATEWAY_UNAUTHORISED_KEY {
        // GA0001: the key itself has expired, whatever the function.
        return Err(CallError::configuration(code, REFUSED_KEY_FIX));
    }
    if code == "GE0011" || status == StatusCode::FORBIDDEN || status == StatusCode::UNAUTHORIZED {
        return Err(CallError::configuration(code, function.fix()));
    }
    let message = first.map_or_else(
        || format!("Rakuten answered HTTP {status}"),
        |e| match e.metadata.as_ref().and_then(|m| m.property_path.as_deref()) {
            Some(path) => format!("{path}: {}", e.message),
            None => e.message.clone(),
        },
    );
    Err(CallError::Rejected {
        http_status: status.as_u16(),
        code,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> http_client::Answer {
        http_client::Answer {
            status: StatusCode::from_u16(status).unwrap(),
            headers: Default::default(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn a_400_naming_one_entry_is_that_entrys_refusal_and_a_401_names_the_function() {
        let body = r#"{"errors": [{"code": "IE1101", "message": "x",
            "metadata": {"propertyPath": "inventories[17].manageNumber"}}]}"#;
        let refusal = entry_refusal(&answer(400, body), 18).unwrap();
        assert_eq!((refusal.index, refusal.code.as_str()), (17, "IE1101"));
        assert!(
            entry_refusal(&answer(400, body), 17).is_none(),
            "not an entry sent"
        );
        assert_eq!(entry_index("inventories[3]"), Some(3));
        assert_eq!(entry_index("inventories[3]x"), None);
        assert_eq!(entry_index("other[3]"), None);
        let gateway = r#"{"Results": {"errorCode": "ES01-01", "message": "Un-Authorised"}}"#;
        match judge(answer(401, gateway), Function::ItemsSearch) {
            Err(CallError::Configuration { code, fix }) => {
                assert_eq!(code, "ES01-01");
                assert_eq!(fix, ITEMS_SEARCH_FIX);
            }
            other => panic!("{other:?}"),
        }
        let expired = r#"{"Results": {"errorCode": "GA0001", "message": "x"}}"#;
        match judge(answer(401, expired), Function::Inventories) {
            Err(CallError::Configuration { fix, .. }) => assert_eq!(fix, REFUSED_KEY_FIX),
            other => panic!("{other:?}"),
        }
    }
}
