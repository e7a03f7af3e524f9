//! What ordersync needs from the J-goods simulator (`ordersync_sim::jgoods`)
//! that the simulator cannot know: the adapter's client settings that reach
//! it. The simulator itself lives in the `ordersync-sim` crate, which does
//! not see the adapter.

use std::time::Duration;

use ordersync_sim::jgoods::{ClientAuth, JgoodsSimHandle};

use crate::providers::jgoods::client::JgoodsClientSettings;
use crate::providers::jgoods::config::TokenAuth;

/// ordersync's settings for a running J-goods simulator.
pub trait JgoodsSimSettings {
    /// Client settings that reach this simulator with its credentials.
    fn client_settings(&self) -> JgoodsClientSettings;
}

impl JgoodsSimSettings for JgoodsSimHandle {
    fn client_settings(&self) -> JgoodsClientSettings {
        JgoodsClientSettings {
            order_api_base_url: self.order_api_base_url(),
            item_api_base_url: self.item_api_base_url(),
            category_api_base_url: self.category_api_base_url(),
            token_url: self.token_url(),
            client_id: self.client_id().to_string(),
            client_secret: self.client_secret().to_string().into(),
            token_auth: token_auth(self.client_auth()),
            http: crate::call::HttpLimits::with_timeout(Duration::from_secs(5)),
        }
    }
}

/// ordersync's `token_auth` for the simulator's RFC 6749 §2.3.1 method.
fn token_auth(method: ClientAuth) -> TokenAuth {
    match method {
        ClientAuth::ClientSecretBasic => TokenAuth::Basic,
        ClientAuth::ClientSecretPost => TokenAuth::Post,
    }
}
