//! The providers ordersync talks to, by the one name each has in the store,
//! the metrics, the config (its section) and the logs.

use serde::{Deserialize, Serialize};

use super::credit::DeferredProvider;

stored_names! {
    /// Every provider ordersync talks to, under the name the store, the metrics
    /// and the config use for it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    pub enum Provider {
        Jgoods = "jgoods",
        RakutenPay = "rakuten_pay",
        Komoju = "komoju",
        Kuroneko = "kuroneko",
        AtobaraiCom = "atobarai_com",
        YahooShopping = "yahoo_shopping",
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Provider {
    /// Whether it pushes webhooks to the daemon (J-goods, KOMOJU) rather
    /// than being polled or only called.
    pub fn pushes_webhooks(self) -> bool {
        match self {
            Provider::Jgoods | Provider::Komoju => true,
            Provider::RakutenPay
            | Provider::Kuroneko
            | Provider::AtobaraiCom
            | Provider::YahooShopping => false,
        }
    }
}

impl From<DeferredProvider> for Provider {
    fn from(p: DeferredProvider) -> Provider {
        match p {
            DeferredProvider::Kuroneko => Provider::Kuroneko,
            DeferredProvider::AtobaraiCom => Provider::AtobaraiCom,
        }
    }
}
