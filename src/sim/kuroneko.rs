//! Glue between the Kuroneko Atobarai simulator (`ordersync_sim::kuroneko`,
//! which cannot see the adapter) and ordersync: the adapter's client settings
//! and the daemon's `[kuroneko]` section pointing at a running simulator.

use std::time::Duration;

use ordersync_sim::kuroneko::KuronekoSimHandle;

use crate::providers::credit::kuroneko::client::KuronekoClientSettings;

/// What ordersync needs to reach a Kuroneko simulator.
pub trait KuronekoSimSettings {
    /// Client settings that reach this simulator with its credentials.
    fn client_settings(&self) -> KuronekoClientSettings;

    /// The daemon's `[kuroneko]` section pointing here, enabled; keys
    /// appended after it belong to the section.
    fn config_section(&self) -> String;
}

impl KuronekoSimSettings for KuronekoSimHandle {
    fn client_settings(&self) -> KuronekoClientSettings {
        KuronekoClientSettings {
            api_base_url: self.base_url(),
            store_code: self.store_code().to_string(),
            password: self.password().to_string().into(),
            http: crate::call::HttpLimits::with_timeout(Duration::from_secs(5)),
        }
    }

    fn config_section(&self) -> String {
        format!(
            "\n[kuroneko]\nenabled = true\napi_base_url = \"{}\"\nstore_code = \"{}\"\npassword = \"{}\"\n",
            self.base_url(),
            self.store_code(),
            self.password()
        )
    }
}
