//! The file's shape, as serde reads it: one optional table per section.
//! Unknown sections are errors (`deny_unknown_fields`).

use serde::Deserialize;

use crate::channels::credit::atobarai_com::config::RawAtobaraiCom;
use crate::channels::credit::kuroneko::config::RawKuroneko;
use crate::channels::jgoods::config::RawJgoods;
use crate::channels::komoju::config::RawKomoju;
use crate::channels::rakuten_pay::config::RawRakutenPay;
use crate::config::raw::{RawAlerts, RawDaemon, RawInventory, RawInvoice, RawRetry};

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
    pub invoice: Option<RawInvoice>,
    pub alerts: Option<RawAlerts>,
}
