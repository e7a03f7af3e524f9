//! What ordersync needs from the KOMOJU simulator that the simulator cannot
//! know: the adapter's client settings and the daemon's `[komoju]` section
//! pointing at it. The simulator itself is [`ordersync_sim::komoju`].

use std::time::Duration;

use ordersync_sim::komoju::KomojuSimHandle;

use crate::providers::komoju::client::KomojuClientSettings;

/// ordersync's settings for a running KOMOJU simulator.
pub trait KomojuSimSettings {
    /// Client settings that reach this simulator with its key.
    fn client_settings(&self) -> KomojuClientSettings;

    /// The daemon's `[komoju]` section pointing here, enabled; keys appended
    /// after it belong to the section.
    fn config_section(&self) -> String;
}

impl KomojuSimSettings for KomojuSimHandle {
    fn client_settings(&self) -> KomojuClientSettings {
        KomojuClientSettings {
            api_base_url: self.api_base_url(),
            secret_key: self.secret_key().to_string().into(),
            api_version: "2025-01-28".to_string(),
            http: crate::call::HttpLimits::with_timeout(Duration::from_secs(5)),
        }
    }

    fn config_section(&self) -> String {
        format!(
            "\n[komoju]\nenabled = true\napi_base_url = \"{}\"\nsecret_key = \"{}\"\nwebhook_secret = \"{}\"\nplatform_id = \"{}\"\n",
            self.api_base_url(),
            self.secret_key(),
            self.webhook_secret(),
            self.platform_id()
        )
    }
}
