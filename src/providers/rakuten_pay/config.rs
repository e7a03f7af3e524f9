//! `[rakuten_pay]`: the Rakuten Pay section of the config file, as read and
//! checked: the order API and its licence, the poll, the stock push to RMS.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::reader::{MIN_POLL, minutes};
use crate::config::{
    ConfigError, ProviderSection, Secret, SecretSpec, SectionReader, duration_text,
};

// The endpoints of the wire contract.
const ORDER_API: &str = "https://api.rms.rakuten.co.jp/es/2.0/order";
const LICENSE_API: &str = "https://api.rms.rakuten.co.jp/es/1.0/license-management";
const INVENTORY_API: &str = "https://api.rms.rakuten.co.jp/es/2.0";

const DEFAULT_SKU_PREFERENCE: [SkuSource; 3] = [
    SkuSource::MerchantDefinedSkuId,
    SkuSource::ItemNumber,
    SkuSource::ManageNumber,
];

/// Rakuten's searchOrder refuses a `startDatetime` older than this.
const MAX_LOOKBACK: Duration = Duration::from_secs(730 * 24 * 60 * 60);

/// `[rakuten_pay]`: the Rakuten Pay order API (polled).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RakutenPayConfig {
    /// Off switch that keeps the section (and its validation). Default false.
    pub enabled: bool,
    /// Order API base, no trailing `/`. Default `https://api.rms.rakuten.co.jp/es/2.0/order`.
    pub api_base_url: String,
    /// License-management API base (key expiry), no trailing `/`.
    /// Default `https://api.rms.rakuten.co.jp/es/1.0/license-management`.
    pub license_api_url: String,
    /// `serviceSecret` of the ESA authorization header.
    pub service_secret: Secret,
    /// `licenseKey` of the ESA authorization header; expires every 90 days.
    pub license_key: Secret,
    /// How often new and changed orders are searched. Default 2 min.
    #[serde(serialize_with = "duration_text::serialize")]
    pub poll_interval: Duration,
    /// How far back each search reaches, so an outage shorter than this loses nothing.
    /// Default 3 days; at most 730 days (Rakuten refuses searches starting earlier).
    #[serde(serialize_with = "duration_text::serialize")]
    pub lookback: Duration,
    /// Confirm orders automatically once their stock is allocated. Default true.
    pub auto_confirm: bool,
    /// Where the merchant's SKU is read from on an order line, first match wins.
    pub sku_preference: Vec<SkuSource>,
    /// Least time between two calls to Rakuten (it asks for about one request a
    /// second per shop). Default 1 s.
    #[serde(serialize_with = "duration_text::serialize")]
    pub request_interval: Duration,
    /// Base of ItemAPI 2.0 (`items.search`) and Inventory API 2.0
    /// (`inventories/bulk-upsert`, `bulk-get`). Default
    /// `https://api.rms.rakuten.co.jp/es/2.0`.
    pub inventory_api_url: String,
    /// Pushes each SKU's availability to Rakuten at most this often (at once
    /// after a quiet spell). Default 30 s; `0s` turns the push off.
    #[serde(serialize_with = "duration_text::serialize")]
    pub stock_push_interval: Duration,
    /// Units held back from Rakuten only: Rakuten is told `available -
    /// stock_buffer` (never below 0), against the race between a Rakuten
    /// buyer and a push. Default 0.
    pub stock_buffer: u32,
    /// While a SKU sold at Rakuten has between 1 and `low_stock_level` units,
    /// Rakuten's recent orders are searched this often (not only every
    /// `poll_interval`), so a Rakuten sale of a last unit is known before
    /// another channel sells it again. Default 10 s; `0s` turns it off.
    #[serde(serialize_with = "duration_text::serialize")]
    pub low_stock_poll_interval: Duration,
    /// See `low_stock_poll_interval`. Default 3.
    pub low_stock_level: u32,
    /// The most `searchOrder` calls the low-stock watch makes in one JST day
    /// (Rakuten publishes no daily limit: a bound on what the watch adds to
    /// the order poll). Beyond it the watch waits for the next day; the order
    /// poll and the import before each push go on. Default 2000.
    pub low_stock_daily_searches: u32,
}

/// `[rakuten_pay] deferred_payment`, still read but without effect: the shop's own
/// deferred payment left Rakuten's settlements in 2022-11 (getOrder spec v6.7 removed
/// settlement code 3), and Rakuten's 後払い is Rakuten-handled (`rpaySettlementFlag = 1`),
/// so no Rakuten order is a credit check of the shop's provider any more.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeferredPayment {
    #[default]
    None,
    Kuroneko,
    AtobaraiCom,
}

/// A field of a Rakuten order line that can carry the merchant's SKU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkuSource {
    /// `SkuModelList[0].merchantDefinedSkuId`.
    MerchantDefinedSkuId,
    /// `itemNumber`.
    ItemNumber,
    /// `manageNumber`.
    ManageNumber,
}

/// `[rakuten_pay]` as the file spells it; checked by [`read`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRakutenPay {
    pub enabled: Option<bool>,
    pub api_base_url: Option<String>,
    pub license_api_url: Option<String>,
    pub service_secret: Option<SecretSpec>,
    pub license_key: Option<SecretSpec>,
    #[serde(default, with = "humantime_serde")]
    pub poll_interval: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub lookback: Option<Duration>,
    pub auto_confirm: Option<bool>,
    pub deferred_payment: Option<DeferredPayment>,
    pub sku_preference: Option<Vec<SkuSource>>,
    #[serde(default, with = "humantime_serde")]
    pub request_interval: Option<Duration>,
    pub inventory_api_url: Option<String>,
    #[serde(default, with = "humantime_serde")]
    pub stock_push_interval: Option<Duration>,
    pub stock_buffer: Option<u32>,
    #[serde(default, with = "humantime_serde")]
    pub low_stock_poll_interval: Option<Duration>,
    pub low_stock_level: Option<u32>,
    pub low_stock_daily_searches: Option<u32>,
}

/// `low_stock_daily_searches` when the file does not set it: one search every
/// 10 s (the default interval) for five and a half hours of low stock a day.
pub const DEFAULT_LOW_STOCK_DAILY_SEARCHES: u32 = 2000;

/// Reads and checks the section: defaults, required keys, secrets.
pub fn read(r: &SectionReader<'_>, raw: RawRakutenPay) -> Result<RakutenPayConfig, ConfigError> {
    let enabled = raw.enabled.unwrap_or(false);
    let poll_interval = r.duration(
        "rakuten_pay.poll_interval",
        raw.poll_interval,
        minutes(2),
        MIN_POLL,
    )?;
    let mut lookback = r.duration(
        "rakuten_pay.lookback",
        raw.lookback,
        Duration::from_secs(3 * 24 * 60 * 60),
        poll_interval,
    )?;
    if lookback > MAX_LOOKBACK {
        r.warn(
            "rakuten_pay.lookback",
            "楽天は730日より前からの検索を受け付けないため730日として扱います / \
             Rakuten refuses searches starting more than 730 days ago: 730d is used",
        );
        lookback = MAX_LOOKBACK;
    }
    if raw
        .deferred_payment
        .is_some_and(|d| d != DeferredPayment::None)
    {
        r.warn(
            "rakuten_pay.deferred_payment",
            "この設定は廃止されました(効果なし)。楽天の後払いは楽天決済(rpaySettlementFlag=1)で、\
             ショップ独自の後払いは2022年11月に楽天の決済方法から削除されています。キーを削除してください / \
             deprecated, without effect: Rakuten's 後払い is Rakuten-handled and the shop's own \
             deferred payment left Rakuten's settlements in 2022-11; remove the key",
        );
    }
    let sku_preference = raw
        .sku_preference
        .unwrap_or_else(|| DEFAULT_SKU_PREFERENCE.to_vec());
    if sku_preference.is_empty() {
        return Err(r.err(
            "rakuten_pay.sku_preference",
            "must name at least one of merchant_defined_sku_id, item_number, manage_number",
        ));
    }
    for (i, source) in sku_preference.iter().enumerate() {
        if sku_preference[..i].contains(source) {
            return Err(r.err(
                "rakuten_pay.sku_preference",
                format!("lists {source:?} twice"),
            ));
        }
    }
    Ok(RakutenPayConfig {
        enabled,
        api_base_url: r.base_url("rakuten_pay.api_base_url", raw.api_base_url, ORDER_API)?,
        license_api_url: r.base_url(
            "rakuten_pay.license_api_url",
            raw.license_api_url,
            LICENSE_API,
        )?,
        service_secret: r.secret("rakuten_pay.service_secret", raw.service_secret, enabled)?,
        license_key: r.secret("rakuten_pay.license_key", raw.license_key, enabled)?,
        inventory_api_url: r.base_url(
            "rakuten_pay.inventory_api_url",
            raw.inventory_api_url,
            INVENTORY_API,
        )?,
        stock_push_interval: r.push_interval(
            "rakuten_pay.stock_push_interval",
            raw.stock_push_interval,
            Duration::from_secs(30),
        )?,
        stock_buffer: raw.stock_buffer.unwrap_or(0),
        low_stock_poll_interval: r.push_interval(
            "rakuten_pay.low_stock_poll_interval",
            raw.low_stock_poll_interval,
            Duration::from_secs(10),
        )?,
        low_stock_level: r.at_least_one("rakuten_pay.low_stock_level", raw.low_stock_level, 3)?,
        low_stock_daily_searches: r.at_least_one(
            "rakuten_pay.low_stock_daily_searches",
            raw.low_stock_daily_searches,
            DEFAULT_LOW_STOCK_DAILY_SEARCHES,
        )?,
        poll_interval,
        lookback,
        auto_confirm: raw.auto_confirm.unwrap_or(true),
        sku_preference,
        request_interval: raw.request_interval.unwrap_or(Duration::from_secs(1)),
    })
}

impl ProviderSection for RakutenPayConfig {
    fn enabled(&self) -> bool {
        self.enabled
    }

    fn secrets(&self) -> Vec<(&'static str, &Secret)> {
        vec![
            ("rakuten_pay.service_secret", &self.service_secret),
            ("rakuten_pay.license_key", &self.license_key),
        ]
    }

    fn poll_interval(&self) -> Option<Duration> {
        Some(self.poll_interval)
    }
}
