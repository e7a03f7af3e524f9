//! The file's shape, as serde reads it: one optional table per section.
//! Unknown sections are errors (`deny_unknown_fields`).

use serde::Deserialize;

use crate::config::raw::{RawAlerts, RawDaemon, RawInventory, RawInvoice, RawRetry};
use crate::providers::credit::atobarai_com::config::RawAtobaraiCom;
use crate::providers::credit::kuroneko::config::RawKuroneko;
use crate::providers::jgoods::config::RawJgoods;
use crate::providers::komoju::config::RawKomoju;
use crate::providers::rakuten_pay::config::RawRakutenPay;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub daemon: Option<RawDaemon>,
    pub inventory: Option<RawInventory>,
    pub retry: Option<RawRetry>,
    pub jgoods: Option<RawJgoods>,
    pub rakuten_pay: Option<RawRakutenPay>,
    pub kuroneko: Option<RawKuroneko>,
    pub atobarai_com: Option<RawAtobaraiCom>,
    pub komoju: Option<RawKomoju>,
    pub yahoo_shopping: Option<crate::providers::yahoo_shopping::config::RawYahooShopping>,
    pub invoice: Option<RawInvoice>,
    pub alerts: Option<RawAlerts>,
    pub carrier_files: Option<crate::config::RawCarrierFiles>,
}
