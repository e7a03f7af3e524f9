//! `[atobarai_com]`: the Atobarai.com section of the config file, as read
//! and checked, with the fee bands the merchant charges.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::reader::{MIN_POLL, minutes};
use crate::config::{ConfigError, ProviderSection, Secret, SectionReader, duration_text};

/// The API host of the wire contract.
const API: &str = "https://www.atobarai.jp";

/// `[atobarai_com]`: Atobarai.com (後払い.com) credit checks and shipments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AtobaraiComConfig {
    /// Off switch that keeps the section (and its validation). Default false.
    pub enabled: bool,
    /// API host, no trailing `/`. Default `https://www.atobarai.jp`.
    pub api_base_url: String,
    /// 事業者ID (enterprise id).
    pub enterprise_id: u64,
    /// サイトID (site id), sent on order registration.
    pub site_id: u64,
    /// APIユーザID (API user id).
    pub api_user_id: u64,
    /// How often pending credit results are polled. Default 5 min.
    #[serde(serialize_with = "duration_text::serialize")]
    pub poll_interval: Duration,
    /// What to do with the buyer-facing fee (`I_ItemCharge`). Default keep.
    pub fee_mode: FeeMode,
    /// Fee per band of tax-included billed amount; bands are inclusive, sorted by `min` and do
    /// not overlap. Required (non-empty) when `fee_mode` is not `keep`.
    pub fee_bands: Vec<FeeBand>,
}

/// How the Atobarai.com fee of an order is decided.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeeMode {
    /// Send the order's own fee.
    #[default]
    Keep,
    /// Replace the order's fee by the fee of the matching band.
    Override,
    /// Add the matching band's fee to the order's fee.
    Add,
}

/// One `[[atobarai_com.fee_bands]]` entry: `min..=max` yen (tax included) costs `fee` yen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FeeBand {
    /// Lowest billed amount in the band, yen, inclusive.
    pub min: u64,
    /// Highest billed amount in the band, yen, inclusive.
    pub max: u64,
    /// Fee charged for the band, yen.
    pub fee: u64,
}

/// `[atobarai_com]` as the file spells it; checked by [`read`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAtobaraiCom {
    pub enabled: Option<bool>,
    pub api_base_url: Option<String>,
    pub enterprise_id: Option<u64>,
    pub site_id: Option<u64>,
    pub api_user_id: Option<u64>,
    #[serde(default, with = "humantime_serde")]
    pub poll_interval: Option<Duration>,
    pub fee_mode: Option<FeeMode>,
    pub fee_bands: Option<Vec<RawFeeBand>>,
}

/// All three keys are required in a band; serde reports a missing one with the band's line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFeeBand {
    pub min: u64,
    pub max: u64,
    pub fee: u64,
}

/// Reads and checks the section: defaults, required keys, secrets.
pub fn read(r: &SectionReader<'_>, raw: RawAtobaraiCom) -> Result<AtobaraiComConfig, ConfigError> {
    let id = |key: &str, value: Option<u64>| -> Result<u64, ConfigError> {
        match r.required(key, value)? {
            0 => Err(r.err(key, "must be a positive number")),
            n => Ok(n),
        }
    };
    let fee_mode = raw.fee_mode.unwrap_or_default();
    let fee_bands = fee_bands(r, raw.fee_bands.unwrap_or_default())?;
    if fee_mode != FeeMode::Keep && fee_bands.is_empty() {
        return Err(r.err(
            "atobarai_com.fee_mode",
            "needs at least one [[atobarai_com.fee_bands]] unless it is `keep`",
        ));
    }
    Ok(AtobaraiComConfig {
        enabled: raw.enabled.unwrap_or(false),
        api_base_url: r.base_url("atobarai_com.api_base_url", raw.api_base_url, API)?,
        enterprise_id: id("atobarai_com.enterprise_id", raw.enterprise_id)?,
        site_id: id("atobarai_com.site_id", raw.site_id)?,
        api_user_id: id("atobarai_com.api_user_id", raw.api_user_id)?,
        poll_interval: r.duration(
            "atobarai_com.poll_interval",
            raw.poll_interval,
            minutes(5),
            MIN_POLL,
        )?,
        fee_mode,
        fee_bands,
    })
}

/// Each band must be `min <= max` and no two may overlap, so an amount has at most one
/// fee. Returned sorted by `min`.
fn fee_bands(r: &SectionReader<'_>, raw: Vec<RawFeeBand>) -> Result<Vec<FeeBand>, ConfigError> {
    let key = |i: usize, field: &str| format!("atobarai_com.fee_bands[{i}].{field}");
    let mut bands = Vec::with_capacity(raw.len());
    for (i, b) in raw.iter().enumerate() {
        if b.min > b.max {
            return Err(r.err(
                &key(i, "max"),
                format!("max ({}) is below min ({})", b.max, b.min),
            ));
        }
        bands.push((
            i,
            FeeBand {
                min: b.min,
                max: b.max,
                fee: b.fee,
            },
        ));
    }
    bands.sort_by_key(|(_, b)| b.min);
    for pair in bands.windows(2) {
        let ((i, lower), (j, upper)) = (&pair[0], &pair[1]);
        if upper.min <= lower.max {
            return Err(r.err(
                &key(*j, "min"),
                format!(
                    "band {}..={} overlaps fee_bands[{i}] ({}..={})",
                    upper.min, upper.max, lower.min, lower.max
                ),
            ));
        }
    }
    Ok(bands.into_iter().map(|(_, b)| b).collect())
}

impl ProviderSection for AtobaraiComConfig {
    fn enabled(&self) -> bool {
        self.enabled
    }

    /// Atobarai.com authenticates by ids and the caller's address: no secret.
    fn secrets(&self) -> Vec<(&'static str, &Secret)> {
        Vec::new()
    }

    fn poll_interval(&self) -> Option<Duration> {
        Some(self.poll_interval)
    }
}
