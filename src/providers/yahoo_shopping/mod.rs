//! Yahoo!ショッピング store API adapter (`yahoo-shopping.md`).
//!
//! - [`auth`]: YConnect v2 (the login URL, the code exchange, the refresh)
//!   and the store's key header (`X-sws-signature`).
//! - [`wire`]: the XML answers read into a small tree, and the requests.
//! - [`client`]: the calls, each URL paced on its own, every order answer's
//!   `X-SWS-Authorize-Status` checked.
//! - [`rules`] and [`apply`]: what an order read from Yahoo! means for the
//!   stored order, written in one transaction.
//! - [`poller`]: `orderList` over an overlapping window of `OrderTime` and of
//!   `PublicationTime`, `orderInfo` for new orders and those whose
//!   `LastUpdateTime` moved.
//! - [`calls`]: the outbox calls (mark seen = 処理中, the shipment report).
//! - [`stock_push`]: `setStock` through the one stock push, `getStock` read-back.
//! - [`renewal`]: the warnings before the login's 28 days and the key's year.
//!
//! The rest of the crate sees only the neutral types below.

pub mod api;
pub mod apply;
pub mod auth;
pub mod calls;
pub mod client;
pub mod config;
pub mod poller;
pub mod renewal;
pub mod rules;
pub mod stock_push;
pub mod wire;
pub mod wiring;

use chrono::{DateTime, FixedOffset};

use crate::domain::Carrier;

/// `OrderStatus` 4: cancelled, final.
pub const STATUS_CANCELLED: u8 = 4;
/// `OrderStatus` 5: 完了.
pub const STATUS_COMPLETED: u8 = 5;
/// `ShipStatus` 3: 出荷済み.
pub const SHIP_SHIPPED: u8 = 3;

/// One order as the core sees it (from `orderInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YahooOrder {
    /// `<seller_id>-<number>`.
    pub order_id: String,
    /// `OrderStatus`: 1 予約中, 2 処理中, 3 保留, 4 キャンセル, 5 完了.
    pub status: u8,
    /// `IsSeen`: false for 新規注文 / 新規予約.
    pub is_seen: bool,
    /// `IsReadOnly=1`: inside the buyer's 10-minute cancel window.
    pub read_only: bool,
    /// When the buyer ordered.
    pub ordered_at: DateTime<FixedOffset>,
    /// What orderList shows of it, compared to find a change
    /// ([`fingerprint`]).
    pub listed: String,
    /// `PayStatus`: 1 入金済み.
    pub pay_status: u8,
    /// `PayType`: 1 前払い (prepaid: not shippable before it is paid).
    pub pay_type: u8,
    /// `ShipStatus`: 0 出荷不可 … 3 出荷済み.
    pub ship_status: u8,
    /// The lines.
    pub lines: Vec<Line>,
    /// Where it goes (name, postal code, address, phone).
    pub ship_to: ShipTo,
}

impl YahooOrder {
    /// Whether the ERP may ship it: out of the cancel window, and a prepaid
    /// order only once Yahoo! says it can ship (`ShipStatus ≥ 1`).
    pub fn shippable(&self) -> bool {
        !self.read_only && (self.pay_type != 1 || self.ship_status >= 1)
    }
}

/// What orderList shows of an order that a change moves: `Version`,
/// `LastUpdateTime` (to the second: two changes in one second look alike),
/// `IsReadOnly` (its end moves neither) and the statuses.
pub fn fingerprint(node: &wire::Node) -> String {
    [
        "Version",
        "LastUpdateTime",
        "IsReadOnly",
        "OrderStatus",
        "PayStatus",
        "ShipStatus",
    ]
    .iter()
    .map(|f| node.text_of(f))
    .collect::<Vec<_>>()
    .join("|")
}

/// One `<Item>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// `LineId`, stable across edits.
    pub line_id: u32,
    /// `ItemId`.
    pub item_id: String,
    /// `SubCode` (empty without variants).
    pub sub_code: String,
    /// `Title`.
    pub title: String,
    /// `Quantity`.
    pub quantity: u32,
    /// `UnitPrice` in yen.
    pub unit_price: i64,
}

impl Line {
    /// The line's stock key, `ItemId` or `ItemId:SubCode`: the merchant's SKU.
    pub fn sku(&self) -> String {
        stock_code(&self.item_id, &self.sub_code)
    }
}

/// The recipient, for the label files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShipTo {
    /// 姓 名.
    pub name: String,
    /// `ShipZipCode`.
    pub postal_code: String,
    /// Prefecture, city, address lines.
    pub address: String,
    /// `ShipPhoneNumber`.
    pub phone: String,
}

/// A stock code: `item` alone, or `item:sub`.
pub fn stock_code(item_id: &str, sub_code: &str) -> String {
    if sub_code.is_empty() {
        item_id.to_string()
    } else {
        format!("{item_id}:{sub_code}")
    }
}

/// Whether a mirror SKU can be a stock code: `code` or `code:subcode`,
/// letters, digits and `-`, each part at most 99 bytes.
pub fn valid_stock_code(sku: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty() && p.len() <= 99 && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    match sku.split_once(':') {
        Some((item, sub)) => part(item) && part(sub),
        None => part(sku),
    }
}

/// Yahoo!'s `ShipCompanyCode` for a neutral carrier.
pub fn ship_company_code(carrier: Carrier) -> &'static str {
    match carrier {
        Carrier::Other => "1000",
        Carrier::Yamato => "1001",
        Carrier::Sagawa => "1002",
        Carrier::JapanPost => "1003",
        Carrier::Seino => "1004",
        Carrier::Fukuyama => "1006",
        Carrier::Meitetsu => "1007",
        Carrier::Tonami => "1008",
        Carrier::Ecohai => "1016",
        Carrier::Nittsu => "1021",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_codes_follow_the_contract() {
        assert_eq!(stock_code("tshirt", ""), "tshirt");
        assert_eq!(stock_code("tshirt", "red-M"), "tshirt:red-M");
        assert!(valid_stock_code("tshirt:red-M"));
        assert!(valid_stock_code("A-1"));
        for bad in ["", "a:", ":b", "a:b:c", "a_b", "品番", &"x".repeat(100)] {
            assert!(!valid_stock_code(bad), "{bad}");
        }
    }

    #[test]
    fn carriers_map_to_the_contract_codes() {
        assert_eq!(ship_company_code(Carrier::Yamato), "1001");
        assert_eq!(ship_company_code(Carrier::JapanPost), "1003");
        assert_eq!(ship_company_code(Carrier::Nittsu), "1021");
        assert_eq!(ship_company_code(Carrier::Ecohai), "1016");
    }
}
