//! The Atobarai.com simulator lives in `ordersync-sim`
//! ([`ordersync_sim::atobarai_com`]), which cannot see the adapter; this is
//! the glue that turns a running simulator into ordersync's own things: the
//! adapter's client settings and the daemon's `[atobarai_com]` section.

use std::time::Duration;

use ordersync_sim::atobarai_com::AtobaraiSimHandle;

use crate::providers::credit::atobarai_com::client::AtobaraiClientSettings;

/// How ordersync reaches a running Atobarai.com simulator; import it to call
/// `sim.client_settings()` and `sim.config_section()`.
pub trait AtobaraiSimSettings {
    /// Client settings that reach this simulator with its ids.
    fn client_settings(&self) -> AtobaraiClientSettings;

    /// The daemon's `[atobarai_com]` section pointing here, enabled; keys
    /// appended after it belong to the section.
    fn config_section(&self) -> String;
}

impl AtobaraiSimSettings for AtobaraiSimHandle {
    fn client_settings(&self) -> AtobaraiClientSettings {
        let c = self.config();
        AtobaraiClientSettings {
            api_base_url: self.base_url(),
            enterprise_id: c.enterprise_id,
            site_id: c.site_id,
            api_user_id: c.api_user_id,
            http: crate::call::HttpLimits::with_timeout(Duration::from_secs(5)),
        }
    }

    fn config_section(&self) -> String {
        let c = self.config();
        format!(
            "\n[atobarai_com]\nenabled = true\napi_base_url = \"{}\"\nenterprise_id = {}\nsite_id = {}\napi_user_id = {}\n",
            self.base_url(),
            c.enterprise_id,
            c.site_id,
            c.api_user_id
        )
    }
}
