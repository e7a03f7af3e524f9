//! What ordersync needs of the Rakuten Pay simulator
//! ([`ordersync_sim::rakuten_pay`]) that the simulator cannot give: it does
//! not know ordersync, so the client settings and the `[rakuten_pay]` config
//! section that reach it are made here, from the URLs and credentials its
//! handle exposes.
//!
//! ```ignore
//! use ordersync::sim::rakuten_pay::RakutenPaySimSettings;
//! let client = RakutenClient::new(sim.client_settings())?;
//! ```

use std::time::Duration;

use ordersync_sim::rakuten_pay::RakutenSimHandle;

use crate::providers::rakuten_pay::client::RakutenClientSettings;

/// ordersync's settings for a running Rakuten Pay simulator.
pub trait RakutenPaySimSettings {
    /// Client settings that reach the simulator with its credentials.
    fn client_settings(&self) -> RakutenClientSettings;

    /// The daemon's `[rakuten_pay]` section pointing at the simulator,
    /// enabled; keys appended after it (`poll_interval = …`) belong to the
    /// section.
    fn config_section(&self) -> String;
}

impl RakutenPaySimSettings for RakutenSimHandle {
    fn client_settings(&self) -> RakutenClientSettings {
        RakutenClientSettings {
            api_base_url: self.api_base_url(),
            license_api_url: self.license_api_url(),
            service_secret: self.service_secret().to_string().into(),
            license_key: self.license_key().to_string().into(),
            http: crate::call::HttpLimits::with_timeout(Duration::from_secs(5)),
        }
    }

    fn config_section(&self) -> String {
        format!(
            "\n[rakuten_pay]\nenabled = true\napi_base_url = \"{}\"\nlicense_api_url = \"{}\"\ninventory_api_url = \"{}\"\nservice_secret = \"{}\"\nlicense_key = \"{}\"\n",
            self.api_base_url(),
            self.license_api_url(),
            self.inventory_api_url(),
            self.service_secret(),
            self.license_key()
        )
    }
}
