//! `[yahoo_shopping]`: the Yahoo!ショッピング section of the config file, as
//! read and checked: the store, the YConnect app and its tokens, the store's
//! public key, the poll, the stock push.

use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::config::reader::{MIN_POLL, minutes};
use crate::config::{
    ConfigError, ProviderSection, Secret, SecretSpec, SectionReader, duration_text,
};

// The endpoints of the wire contract.
const API_BASE: &str = "https://circus.shopping.yahooapis.jp/ShoppingWebService/V1";
const AUTH_BASE: &str = "https://auth.login.yahoo.co.jp/yconnect/v2";

/// The contract's least overlap of two order searches (2 days).
const MIN_LOOKBACK: Duration = Duration::from_secs(2 * 24 * 3600);

/// `[yahoo_shopping]`: the Yahoo!ショッピング store API (polled).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct YahooShoppingConfig {
    /// Off switch that keeps the section (and its validation). Default false.
    pub enabled: bool,
    /// The store account (`seller_id`, the prefix of every `OrderId`).
    pub seller_id: String,
    /// The app's Client ID (アプリケーションID).
    pub client_id: String,
    /// The app's secret.
    pub client_secret: Secret,
    /// The refresh token `ordersync yahoo authorize` stores; works 28 days
    /// from the authorization.
    pub refresh_token: Secret,
    /// The callback URL registered for the app (where the login page sends
    /// the browser with the code).
    pub redirect_uri: String,
    /// The store's public key (PEM, from ストアクリエイターPro 暗号鍵管理).
    pub public_key_file: PathBuf,
    /// The key's version, as 暗号鍵管理 shows it.
    pub public_key_version: u32,
    /// The day the key expires (Yahoo! has no API that tells): warned 30 days ahead.
    pub public_key_expires: Option<NaiveDate>,
    /// Store API base, no trailing `/`.
    pub api_base_url: String,
    /// YConnect v2 base (`/authorization`, `/token`), no trailing `/`.
    pub auth_base_url: String,
    /// How often orders are searched. Default 5 min.
    #[serde(serialize_with = "duration_text::serialize")]
    pub poll_interval: Duration,
    /// How far back each search reaches (at least 2 days). Default 3 days.
    #[serde(serialize_with = "duration_text::serialize")]
    pub lookback: Duration,
    /// Least time between two calls to one URL (Yahoo! asks for one a
    /// second). Default 1.1 s.
    #[serde(serialize_with = "duration_text::serialize")]
    pub request_interval: Duration,
    /// Mark each new order seen (処理中) once its stock is held. Default true.
    pub auto_confirm: bool,
    /// Set 完了 after the shipment report (fixes the buyer's points and the
    /// sale). Default false.
    pub complete_orders: bool,
    /// Pushes availability to Yahoo! at most this often. Default 30 s; `0s` off.
    #[serde(serialize_with = "duration_text::serialize")]
    pub stock_push_interval: Duration,
}

/// `[yahoo_shopping]` as the file spells it; checked by [`read`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RawYahooShopping {
    pub enabled: Option<bool>,
    pub seller_id: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretSpec>,
    pub refresh_token: Option<SecretSpec>,
    pub redirect_uri: Option<String>,
    pub public_key_file: Option<PathBuf>,
    pub public_key_version: Option<u32>,
    pub public_key_expires: Option<String>,
    pub api_base_url: Option<String>,
    pub auth_base_url: Option<String>,
    #[serde(default, with = "humantime_serde")]
    pub poll_interval: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub lookback: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub request_interval: Option<Duration>,
    pub auto_confirm: Option<bool>,
    pub complete_orders: Option<bool>,
    #[serde(default, with = "humantime_serde")]
    pub stock_push_interval: Option<Duration>,
}

/// Whether `s` is a seller id as the stock API takes it (lower-case letters,
/// digits, `-`, `_`, at most 128).
fn valid_seller_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Reads and checks the section: defaults, required keys, secrets.
pub fn read(
    r: &SectionReader<'_>,
    raw: RawYahooShopping,
) -> Result<YahooShoppingConfig, ConfigError> {
    let enabled = raw.enabled.unwrap_or(false);
    let seller_id = r.required_text("yahoo_shopping.seller_id", raw.seller_id)?;
    if !valid_seller_id(seller_id.trim()) {
        return Err(r.err(
            "yahoo_shopping.seller_id",
            "lower-case letters, digits, `-` and `_` only (at most 128)",
        ));
    }
    let public_key_expires = match raw.public_key_expires {
        None => None,
        Some(text) => Some(
            NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .map_err(|_| r.err("yahoo_shopping.public_key_expires", "must be YYYY-MM-DD"))?,
        ),
    };
    let poll_interval = r.duration(
        "yahoo_shopping.poll_interval",
        raw.poll_interval,
        minutes(5),
        MIN_POLL,
    )?;
    Ok(YahooShoppingConfig {
        enabled,
        seller_id: seller_id.trim().to_string(),
        client_id: r.required_text("yahoo_shopping.client_id", raw.client_id)?,
        client_secret: r.secret("yahoo_shopping.client_secret", raw.client_secret, enabled)?,
        refresh_token: r.secret("yahoo_shopping.refresh_token", raw.refresh_token, enabled)?,
        redirect_uri: r.url(
            "yahoo_shopping.redirect_uri",
            raw.redirect_uri,
            "https://localhost/callback",
        )?,
        public_key_file: r.required("yahoo_shopping.public_key_file", raw.public_key_file)?,
        public_key_version: r.at_least_one(
            "yahoo_shopping.public_key_version",
            raw.public_key_version,
            1,
        )?,
        public_key_expires,
        api_base_url: r.base_url("yahoo_shopping.api_base_url", raw.api_base_url, API_BASE)?,
        auth_base_url: r.base_url("yahoo_shopping.auth_base_url", raw.auth_base_url, AUTH_BASE)?,
        lookback: r.duration(
            "yahoo_shopping.lookback",
            raw.lookback,
            Duration::from_secs(3 * 24 * 3600),
            MIN_LOOKBACK,
        )?,
        poll_interval,
        request_interval: raw.request_interval.unwrap_or(Duration::from_millis(1100)),
        auto_confirm: raw.auto_confirm.unwrap_or(true),
        complete_orders: raw.complete_orders.unwrap_or(false),
        stock_push_interval: r.push_interval(
            "yahoo_shopping.stock_push_interval",
            raw.stock_push_interval,
            Duration::from_secs(30),
        )?,
    })
}

impl ProviderSection for YahooShoppingConfig {
    fn enabled(&self) -> bool {
        self.enabled
    }

    fn secrets(&self) -> Vec<(&'static str, &Secret)> {
        vec![
            ("yahoo_shopping.client_secret", &self.client_secret),
            ("yahoo_shopping.refresh_token", &self.refresh_token),
        ]
    }

    fn poll_interval(&self) -> Option<Duration> {
        Some(self.poll_interval)
    }
}
