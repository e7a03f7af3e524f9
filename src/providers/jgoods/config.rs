//! `[jgoods]`: the J-goods section of the config file, as read and checked.
//!
//! The order, item and category APIs, the token, the webhooks and the
//! intervals of the sweep, the stock push and the catalog sync.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::reader::{MIN_POLL, minutes, parse_network};
use crate::config::{
    ConfigError, ProviderSection, Secret, SecretSpec, SectionReader, duration_text,
};

// The endpoints of the wire contract; a merchant overrides them to point at
// a simulator or a test host.
const ORDER_API: &str = "https://api.j-goods.net/order/v2";
const ITEM_API: &str = "https://api.j-goods.net/v3";
const CATEGORY_API: &str = "https://api.j-goods.net/category/v1";
const TOKEN_URL: &str = "https://api.j-goods.net/oauth/token";

/// `[jgoods]`: the J-goods marketplace (webhooks in, order-info and item APIs out).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JgoodsConfig {
    /// Off switch that keeps the section (and its validation). Default true.
    pub enabled: bool,
    /// Order-info API base, no trailing `/`. Default `https://api.j-goods.net/order/v2`.
    pub order_api_base_url: String,
    /// Item (stock push) API base, no trailing `/`. Default `https://api.j-goods.net/v3`.
    pub item_api_base_url: String,
    /// OAuth2 client-credentials token endpoint. Default `https://api.j-goods.net/oauth/token`.
    pub token_url: String,
    /// OAuth2 client id issued by J-goods.
    pub client_id: String,
    /// OAuth2 client secret issued by J-goods.
    pub client_secret: Secret,
    /// How the client id and secret are sent to `token_url`. Default `basic`.
    pub token_auth: TokenAuth,
    /// How J-goods authenticates its webhooks; must match what J-goods actually sends.
    pub webhook_auth: WebhookAuth,
    /// HMAC key or bearer token of the webhooks (per `webhook_auth`).
    pub webhook_secret: Secret,
    /// Source networks allowed to post webhooks; empty means any source. A bare address in
    /// the file is read as a single-host network.
    pub webhook_allow_from: Vec<ipnet::IpNet>,
    /// Safety-net poll for 承認待ち (awaiting approval) orders whose webhook never arrived.
    /// Default 10 min.
    #[serde(serialize_with = "duration_text::serialize")]
    pub sweep_interval: Duration,
    /// How often available stock is pushed to J-goods; zero turns the push off. Default 5 min.
    #[serde(serialize_with = "duration_text::serialize")]
    pub stock_push_interval: Duration,
    /// Category API base, no trailing `/`. Default `https://api.j-goods.net/category/v1`.
    pub category_api_base_url: String,
    /// How often the product master is sent to J-goods (what changed only);
    /// zero turns it off. Default 5 min.
    #[serde(serialize_with = "duration_text::serialize")]
    pub catalog_sync_interval: Duration,
}

/// How the client credentials reach J-goods' token endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenAuth {
    /// `Authorization: Basic` (RFC 6749 §2.3.1, `client_secret_basic`).
    #[default]
    Basic,
    /// `client_id` and `client_secret` in the form body (`client_secret_post`).
    Post,
}

/// How an incoming J-goods webhook proves where it comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookAuth {
    /// `X-JGoods-Signature: v1=<hex HMAC-SHA256>` over `"{timestamp}.{body}"`.
    #[default]
    Hmac,
    /// `Authorization: Bearer <webhook secret>`.
    Bearer,
}

/// `[jgoods]` as the file spells it; checked by [`read`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJgoods {
    pub enabled: Option<bool>,
    pub order_api_base_url: Option<String>,
    pub item_api_base_url: Option<String>,
    pub token_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretSpec>,
    pub token_auth: Option<TokenAuth>,
    pub webhook_auth: Option<WebhookAuth>,
    pub webhook_secret: Option<SecretSpec>,
    /// Strings, parsed in `build` so a bare address can mean a single host.
    pub webhook_allow_from: Option<Vec<String>>,
    #[serde(default, with = "humantime_serde")]
    pub sweep_interval: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub stock_push_interval: Option<Duration>,
    pub category_api_base_url: Option<String>,
    #[serde(default, with = "humantime_serde")]
    pub catalog_sync_interval: Option<Duration>,
}

/// Reads and checks the section: defaults, required keys, secrets.
pub fn read(r: &SectionReader<'_>, raw: RawJgoods) -> Result<JgoodsConfig, ConfigError> {
    let enabled = raw.enabled.unwrap_or(true);
    let mut allow = Vec::new();
    for (i, text) in raw
        .webhook_allow_from
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let net = parse_network(text).ok_or_else(|| {
            r.err(
                &format!("jgoods.webhook_allow_from[{i}]"),
                format!(
                    "`{text}` is not a network in CIDR notation (203.0.113.0/24) \
                     or an IP address"
                ),
            )
        })?;
        allow.push(net);
    }
    let stock_push_interval = r.push_interval(
        "jgoods.stock_push_interval",
        raw.stock_push_interval,
        minutes(5),
    )?;
    let token_url = r.url("jgoods.token_url", raw.token_url, TOKEN_URL)?;
    if enabled && token_url.trim_end_matches('/') == TOKEN_URL {
        // The contract's token URL is this project's guess: J-goods does not
        // publish it, and a wrong one fails every call (see the client).
        r.warn(
            "jgoods.token_url",
            format!(
                "J-goodsはトークン発行URLを公開していないため、既定値 {TOKEN_URL} は推測です。\
                 J-goodsから案内されたURLを確かめて設定してください / J-goods does not publish \
                 its token URL: the default {TOKEN_URL} is a guess; set the URL J-goods gave you"
            ),
        );
    }
    Ok(JgoodsConfig {
        enabled,
        order_api_base_url: r.base_url(
            "jgoods.order_api_base_url",
            raw.order_api_base_url,
            ORDER_API,
        )?,
        item_api_base_url: r.base_url(
            "jgoods.item_api_base_url",
            raw.item_api_base_url,
            ITEM_API,
        )?,
        token_url,
        client_id: r.required_text("jgoods.client_id", raw.client_id)?,
        client_secret: r.secret("jgoods.client_secret", raw.client_secret, enabled)?,
        token_auth: raw.token_auth.unwrap_or_default(),
        webhook_auth: raw.webhook_auth.unwrap_or_default(),
        webhook_secret: r.secret("jgoods.webhook_secret", raw.webhook_secret, enabled)?,
        webhook_allow_from: allow,
        sweep_interval: r.duration(
            "jgoods.sweep_interval",
            raw.sweep_interval,
            minutes(10),
            MIN_POLL,
        )?,
        stock_push_interval,
        category_api_base_url: r.base_url(
            "jgoods.category_api_base_url",
            raw.category_api_base_url,
            CATEGORY_API,
        )?,
        catalog_sync_interval: r.push_interval(
            "jgoods.catalog_sync_interval",
            raw.catalog_sync_interval,
            minutes(5),
        )?,
    })
}

impl ProviderSection for JgoodsConfig {
    fn enabled(&self) -> bool {
        self.enabled
    }

    fn secrets(&self) -> Vec<(&'static str, &Secret)> {
        vec![
            ("jgoods.client_secret", &self.client_secret),
            ("jgoods.webhook_secret", &self.webhook_secret),
        ]
    }

    fn poll_interval(&self) -> Option<Duration> {
        Some(self.sweep_interval)
    }
}
