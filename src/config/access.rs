//! Which sections are on, and the intervals that belong to each provider.

use std::time::Duration;

use super::{
    AlertsConfig, AtobaraiComConfig, Config, JgoodsConfig, KomojuConfig, KuronekoConfig,
    RakutenPayConfig,
};

impl Config {
    /// The J-goods section when it is present and enabled.
    pub fn enabled_jgoods(&self) -> Option<&JgoodsConfig> {
        self.jgoods.as_ref().filter(|c| c.enabled)
    }

    /// The Rakuten Pay section when it is present and enabled.
    pub fn enabled_rakuten_pay(&self) -> Option<&RakutenPayConfig> {
        self.rakuten_pay.as_ref().filter(|c| c.enabled)
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
    /// `None` when it is not enabled or does not poll. The one place that
    /// says which section's interval belongs to which provider.
    pub fn poll_interval(&self, provider: crate::domain::Provider) -> Option<Duration> {
        use crate::domain::Provider;
        match provider {
            Provider::Jgoods => self.enabled_jgoods().map(|j| j.sweep_interval),
            Provider::RakutenPay => self.enabled_rakuten_pay().map(|r| r.poll_interval),
            Provider::Kuroneko => self.enabled_kuroneko().map(|k| k.poll_interval),
            Provider::AtobaraiCom => self.enabled_atobarai_com().map(|a| a.poll_interval),
            Provider::Komoju => None,
        }
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
