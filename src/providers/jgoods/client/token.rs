//! What the token endpoint's and the APIs' refusals of the credentials mean
//! for the merchant (the contract's "OAuth2 token (2026-12)").
//!
//! J-goods does not publish its token URL, so a wrong `token_url` is as
//! likely as a wrong secret: a 404, a 405, a redirect or an HTML page where a
//! JSON token should be. None of them gets better by retrying each order's
//! call as an outage would be; each is a [`CallError::Configuration`] naming
//! the key to fix, shown once while the calls wait (see [`crate::problems`]).

use reqwest::header::CONTENT_TYPE;
use reqwest::{StatusCode, Url};

use crate::call::{CallError, retry_after};
use crate::providers::http_client::Answer;

/// One of J-goods' APIs, as the merchant's client has rights to it or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JgoodsApi {
    /// 受注情報API (`order_api_base_url`).
    Order,
    /// 商品情報API (`item_api_base_url`), the stock push included.
    Item,
    /// カテゴリAPI (`category_api_base_url`).
    Category,
}

impl JgoodsApi {
    /// The config key of the API's base URL.
    pub(super) fn key(self) -> &'static str {
        match self {
            JgoodsApi::Order => "jgoods.order_api_base_url",
            JgoodsApi::Item => "jgoods.item_api_base_url",
            JgoodsApi::Category => "jgoods.category_api_base_url",
        }
    }

    /// The API's name on J-goods' pages, then in English.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            JgoodsApi::Order => ("受注情報API", "order-info API"),
            JgoodsApi::Item => ("商品情報API", "item-info API"),
            JgoodsApi::Category => ("カテゴリAPI", "category API"),
        }
    }
}

/// What the merchant reads when the token endpoint refuses the credentials.
pub const TOKEN_FIX: &str = "J-goodsのトークン発行がクライアントID・シークレットを受け付けていません(HTTP 400/401)。\
[jgoods] client_id と client_secret をJ-goodsの加盟店画面の値と照らし、送り方が違う場合は token_auth = \"post\" を試してください / \
J-goods' token endpoint refuses the client id or secret (HTTP 400/401): compare [jgoods] client_id and \
client_secret with the J-goods merchant page, and try token_auth = \"post\" if it expects them in the form body";

/// A token endpoint's answer other than 2xx: an outage (429, 408, 5xx) is
/// retried; refused credentials (400, 401) and anything else (a redirect, a
/// 404 or 405 page: not a token endpoint) are configuration problems.
pub(super) fn token_failure(token_url: &Url, answer: &Answer) -> CallError {
    let status = answer.status;
    if status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || status.is_server_error()
    {
        return CallError::Transient {
            reason: format!("the J-goods token endpoint is unavailable (HTTP {status})"),
            retry_after: retry_after(&answer.headers),
        };
    }
    if matches!(status.as_u16(), 400 | 401) {
        // invalid_client / unauthorized_client: every call would fail alike
        // until a person fixes the config; never a retry loop.
        return CallError::configuration(format!("TOKEN_HTTP_{}", status.as_u16()), TOKEN_FIX);
    }
    let (ja, en) = if status.is_redirection() {
        // Not followed (the credentials would go along): a login page or a
        // moved page, either way not the token endpoint J-goods gave.
        (
            format!("転送(HTTP {})を返しました", status.as_u16()),
            format!("a redirect (HTTP {})", status.as_u16()),
        )
    } else {
        (
            format!("HTTP {} を返しました", status.as_u16()),
            format!("HTTP {}", status.as_u16()),
        )
    };
    wrong_token_url(
        token_url,
        &format!("TOKEN_URL_HTTP_{}", status.as_u16()),
        &ja,
        &en,
    )
}

/// A 2xx from the token endpoint whose body is not a JSON token (a web
/// page, typically): the URL names something other than the token endpoint.
/// The body is never quoted: were it a token after all, it would be a secret.
pub(super) fn not_a_token(token_url: &Url, answer: &Answer) -> CallError {
    let media = answer
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .filter(|m| !m.is_empty() && m.len() <= 64 && m.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or("no Content-Type");
    let status = answer.status.as_u16();
    wrong_token_url(
        token_url,
        "TOKEN_URL_NOT_A_TOKEN",
        &format!("HTTP {status} でJSONのトークンではない本文({media})を返しました"),
        &format!("HTTP {status} with a body that is not a JSON token ({media})"),
    )
}

/// The same problem whatever the answer, so that the message names the key
/// and the way out; `ja`/`en` say what came back.
fn wrong_token_url(token_url: &Url, code: &str, ja: &str, en: &str) -> CallError {
    CallError::configuration(
        code,
        format!(
            "J-goodsのトークン発行URL [jgoods] token_url ({token_url}) が誤っているか届きません: {ja}。\
             J-goodsから案内されたトークン発行URLを [jgoods] token_url に設定してください / \
             token_url is wrong or unreachable: {token_url} answered {en} instead of a token; \
             set [jgoods] token_url to the token URL J-goods gave you"
        ),
    )
}

/// An API that answers 401 again at once with a token just issued: the
/// client has no rights to it (or the token comes from another J-goods
/// environment's token URL). Renewing the token again cannot help.
pub(super) fn fresh_token_refused(api: Option<JgoodsApi>) -> CallError {
    let (ja, en) = api.map_or(("API", "API"), JgoodsApi::names);
    CallError::configuration(
        "API_HTTP_401_FRESH_TOKEN",
        format!(
            "J-goodsの{ja}が発行したばかりのアクセストークンを拒否しました(HTTP 401)。\
             [jgoods] client_id のクライアントに{ja}の利用権限がないか、[jgoods] token_url が\
             別の環境のトークン発行URLです。J-goodsの加盟店画面でクライアントの権限とトークン発行URLを\
             確かめてください / J-goods' {en} refuses a freshly issued access token (HTTP 401): \
             the client [jgoods] client_id has no rights to it, or [jgoods] token_url issues tokens \
             of another J-goods environment; check the client's rights and the token URL on the \
             J-goods merchant page"
        ),
    )
}
