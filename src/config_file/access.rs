//! Which sections are on, and what belongs to each provider: its section
//! ([`Config::section`], the one place the file names every provider), its
//! poll interval, its credentials.

use std::time::Duration;

use super::{
    AlertsConfig, AtobaraiComConfig, Config, JgoodsConfig, KomojuConfig, KuronekoConfig,
    RakutenPayConfig,
};
use crate::config::ProviderSection;
use crate::domain::Provider;

/// The credentials `systemd/ordersync.service` (and the template) load, in
/// the unit: the admin token, each provider's
/// ([`credentials_of`]), the alerts'. `config.example.toml` names each.
pub fn unit_credentials() -> Vec<&'static str> {
    let mut names = vec!["admin-token"];
    for provider in Provider::ALL {
        names.extend(credentials_of(provider));
    }
    names.extend(["alerts-smtp-password", "alerts-webhook-url"]);
    names
}

/// The `LoadCredential=` names of `provider`'s secrets in the units (and in
/// `credentials init`), whether the file has its section or not.
pub fn credentials_of(provider: Provider) -> &'static [&'static str] {
    match provider {
        Provider::Jgoods => &["jgoods-client-secret", "jgoods-webhook-secret"],
        Provider::RakutenPay => &["rakuten-service-secret", "rakuten-license-key"],
        Provider::Kuroneko => &["kuroneko-password"],
        Provider::Komoju => &["komoju-secret-key", "komoju-webhook-secret"],
        Provider::AtobaraiCom => &[],
        Provider::YahooShopping => &["yahoo-client-secret", "yahoo-refresh-token"],
    }
}

impl Config {
    /// `provider`'s section, when the file has one (enabled or not). A new
    /// [`Provider`] does not compile until it has its section here.
    pub fn section(&self, provider: Provider) -> Option<&dyn ProviderSection> {
        fn dyn_section<S: ProviderSection>(s: &Option<S>) -> Option<&dyn ProviderSection> {
            s.as_ref().map(|s| s as &dyn ProviderSection)
        }
        match provider {
            Provider::Jgoods => dyn_section(&self.jgoods),
            Provider::RakutenPay => dyn_section(&self.rakuten_pay),
            Provider::Kuroneko => dyn_section(&self.kuroneko),
            Provider::AtobaraiCom => dyn_section(&self.atobarai_com),
            Provider::Komoju => dyn_section(&self.komoju),
            Provider::YahooShopping => dyn_section(&self.yahoo_shopping),
        }
    }

    /// Whether `provider`'s section differs between `self` and `other` (a
    /// reload applies it live).
    pub fn section_differs(&self, other: &Config, provider: Provider) -> bool {
        match provider {
            Provider::Jgoods => self.jgoods != other.jgoods,
            Provider::RakutenPay => self.rakuten_pay != other.rakuten_pay,
            Provider::Kuroneko => self.kuroneko != other.kuroneko,
            Provider::AtobaraiCom => self.atobarai_com != other.atobarai_com,
            Provider::Komoju => self.komoju != other.komoju,
            Provider::YahooShopping => self.yahoo_shopping != other.yahoo_shopping,
        }
    }

    /// Whether any provider is enabled (a fresh install has none).
    pub fn any_provider_enabled(&self) -> bool {
        Provider::ALL
            .into_iter()
            .any(|p| self.section(p).is_some_and(|s| s.enabled()))
    }

    /// Warnings about the file's permissions (see
    /// [`crate::config::permission_warnings`]), with its inline secrets.
    pub fn permission_warnings(&self) -> Vec<String> {
        let inline: Vec<&str> = (self.secrets().into_iter())
            .filter(|(_, secret)| secret.is_inline())
            .map(|(key, _)| key)
            .collect();
        crate::config::permission_warnings(&self.source, &inline)
    }

    /// The J-goods section when it is present and enabled.
    pub fn enabled_jgoods(&self) -> Option<&JgoodsConfig> {
        self.jgoods.as_ref().filter(|c| c.enabled)
    }

    /// The Rakuten Pay section when it is present and enabled.
    pub fn enabled_rakuten_pay(&self) -> Option<&RakutenPayConfig> {
        self.rakuten_pay.as_ref().filter(|c| c.enabled)
    }

    /// The Yahoo!ショッピング section when it is present and enabled.
    pub fn enabled_yahoo_shopping(
        &self,
    ) -> Option<&crate::providers::yahoo_shopping::config::YahooShoppingConfig> {
        self.yahoo_shopping.as_ref().filter(|c| c.enabled)
    }

    /// The Kuroneko Atobarai section when it is present and enabled.
    pub fn enabled_kuroneko(&self) -> Option<&KuronekoConfig> {
        self.kuroneko.as_ref().filter(|c| c.enabled)
    }

    /// The Atobarai.com section when it is present and enabled.
    pub fn enabled_atobarai_com(&self) -> Option<&AtobaraiComConfig> {
        self.atobarai_com.as_ref().filter(|c| c.enabled)
    }

    /// How often `provider` is meant to poll (the J-goods sweep included);
    /// `None` when it is not enabled or does not poll.
    pub fn poll_interval(&self, provider: Provider) -> Option<Duration> {
        self.section(provider)
            .filter(|s| s.enabled())
            .and_then(|s| s.poll_interval())
    }

    /// How often the credit of orders under review with `provider` is
    /// polled; `None` when the provider is not enabled.
    pub fn credit_poll_interval(
        &self,
        provider: crate::domain::credit::DeferredProvider,
    ) -> Option<Duration> {
        self.poll_interval(provider.into())
    }

    /// The deferred-payment providers this config enables.
    pub fn enabled_credit_providers(&self) -> Vec<crate::domain::credit::DeferredProvider> {
        crate::domain::credit::DeferredProvider::ALL
            .into_iter()
            .filter(|p| self.credit_poll_interval(*p).is_some())
            .collect()
    }

    /// The KOMOJU section when it is present and enabled.
    pub fn enabled_komoju(&self) -> Option<&KomojuConfig> {
        self.komoju.as_ref().filter(|c| c.enabled)
    }

    /// The alerts section when it is present and enabled.
    pub fn enabled_alerts(&self) -> Option<&AlertsConfig> {
        self.alerts.as_ref().filter(|c| c.enabled)
    }
}
