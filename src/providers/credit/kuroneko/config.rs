//! `[kuroneko]`: the Kuroneko Atobarai section of the config file, as read
//! and checked.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::reader::{MIN_POLL, minutes};
use crate::config::{
    ConfigError, ProviderSection, Secret, SecretSpec, SectionReader, duration_text,
};

/// The API host of the wire contract.
const API: &str = "https://atobarai.kuronekoyamato.co.jp";

/// `[kuroneko]`: Kuroneko Atobarai (クロネコ代金後払い) credit checks and shipments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KuronekoConfig {
    /// Off switch that keeps the section (and its validation). Default false.
    pub enabled: bool,
    /// API host, no trailing `/`. Default `https://atobarai.kuronekoyamato.co.jp`.
    pub api_base_url: String,
    /// 加盟店コード (store code): exactly 11 digits.
    pub store_code: String,
    /// API password: 1–8 ASCII letters or digits.
    pub password: Secret,
    /// Pause after a credit request before follow-up calls, which may fail meanwhile.
    /// Default 5 min.
    #[serde(serialize_with = "duration_text::serialize")]
    pub settle_delay: Duration,
    /// How often pending (審査中) credit results are polled. Default 5 min.
    #[serde(serialize_with = "duration_text::serialize")]
    pub poll_interval: Duration,
}

/// `[kuroneko]` as the file spells it; checked by [`read`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKuroneko {
    pub enabled: Option<bool>,
    pub api_base_url: Option<String>,
    pub store_code: Option<String>,
    pub password: Option<SecretSpec>,
    #[serde(default, with = "humantime_serde")]
    pub settle_delay: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub poll_interval: Option<Duration>,
}

/// Reads and checks the section: defaults, required keys, secrets.
pub fn read(r: &SectionReader<'_>, raw: RawKuroneko) -> Result<KuronekoConfig, ConfigError> {
    let store_code = r.required("kuroneko.store_code", raw.store_code)?;
    if store_code.len() != 11 || !store_code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(r.err(
            "kuroneko.store_code",
            "must be exactly 11 digits (加盟店コード)",
        ));
    }
    let enabled = raw.enabled.unwrap_or(false);
    let password = r.secret("kuroneko.password", raw.password, enabled)?;
    // Checked when it could be read (an unreadable one is refused where used).
    let shape_ok = password.expose().map_or(true, |p| {
        p.len() <= 8 && p.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    if !shape_ok {
        return Err(r.err(
            "kuroneko.password",
            format!(
                "must be 1 to 8 ASCII letters or digits (read from {})",
                password.source_description()
            ),
        ));
    }
    Ok(KuronekoConfig {
        enabled,
        api_base_url: r.base_url("kuroneko.api_base_url", raw.api_base_url, API)?,
        store_code,
        password,
        settle_delay: raw.settle_delay.unwrap_or(minutes(5)),
        poll_interval: r.duration(
            "kuroneko.poll_interval",
            raw.poll_interval,
            minutes(5),
            MIN_POLL,
        )?,
    })
}

impl ProviderSection for KuronekoConfig {
    fn enabled(&self) -> bool {
        self.enabled
    }

    fn secrets(&self) -> Vec<(&'static str, &Secret)> {
        vec![("kuroneko.password", &self.password)]
    }

    fn poll_interval(&self) -> Option<Duration> {
        Some(self.poll_interval)
    }
}
