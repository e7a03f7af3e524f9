//! J-goods (cross-border sales agency).
//!
//! - [`config`]: the `[jgoods]` section, as read and checked.
//! - [`wire`]: the JSON of the webhook, the order-info API and the item-info API.
//! - [`signature`]: webhook authentication (HMAC `v1=` or bearer).
//! - [`client`]: OAuth2 client-credentials client for the order, item and
//!   category APIs.
//! - [`rules`]: pure decisions on an order snapshot (allocate, post back,
//!   follow the customer's answer).
//! - [`apply`]: load, decide with `rules`, write, in one transaction.
//! - [`calls`]: the network part of its outbox calls (post-back, re-read).
//! - [`webhook`]: its hooks of the one webhook pipeline.
//! - [`sweep`]: the safety-net poll for paid orders no webhook brought.
//! - [`stock_push`]: available stock told to J-goods (`PUT /item.json`).
//! - [`catalog_sync`]: the product master kept in step at J-goods.
//! - [`wiring`]: how J-goods starts under its section (client, workers).
//!
//! The rest of the crate talks to this module through [`OrderSnapshot`] and
//! [`Status`], which carry no Japanese labels.

pub mod apply;
pub mod calls;
pub mod catalog_sync;
pub mod client;
pub mod config;
pub mod rules;
pub mod signature;
pub mod stock_push;
pub mod sweep;
pub mod webhook;
pub mod wire;
pub mod wiring;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// The ten order statuses of J-goods, in English. The wire labels live in [`wire`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 注文受付: a quote was requested; nothing to do.
    Received,
    /// 決済待ち: the customer is paying.
    AwaitingPayment,
    /// 承認待ち: paid; the merchant allocates stock (or confirms a partial answer).
    AwaitingApproval,
    /// 入荷待ち: the merchant confirmed; goods travel to the J-goods warehouse.
    AwaitingArrival,
    /// 返答待ち: a line was short; J-goods asks the customer.
    AwaitingReply,
    /// 再決済待ち: capture failed, the customer pays again.
    AwaitingRepayment,
    /// 発送待ち: goods arrived at J-goods.
    AwaitingShipment,
    /// 発送済み: shipped abroad; finished.
    Shipped,
    /// 注文分割: the original of a split order.
    Split,
    /// 注文取消: cancelled; reserved stock goes back.
    Cancelled,
}

impl Status {
    /// A stable ASCII code for storing the last status seen (never shown to J-goods).
    pub fn code(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::AwaitingPayment => "awaiting_payment",
            Status::AwaitingApproval => "awaiting_approval",
            Status::AwaitingArrival => "awaiting_arrival",
            Status::AwaitingReply => "awaiting_reply",
            Status::AwaitingRepayment => "awaiting_repayment",
            Status::AwaitingShipment => "awaiting_shipment",
            Status::Shipped => "shipped",
            Status::Split => "split",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn from_code(code: &str) -> Option<Status> {
        serde_json::from_value(serde_json::Value::String(code.to_string())).ok()
    }
}

/// One J-goods order as the core sees it, validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderSnapshot {
    pub order_no: String,
    pub status: Status,
    /// When J-goods changed the status; orders deliveries that arrive out of order.
    pub status_changed_at: Option<DateTime<FixedOffset>>,
    pub parent_order_no: Option<String>,
    /// Where the merchant ships to (a J-goods warehouse).
    pub ship_to: Option<ShipTo>,
    pub lines: Vec<SnapshotLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipTo {
    pub name: String,
    pub postal_code: String,
    pub address: String,
    pub phone: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotLine {
    pub line_no: u32,
    /// J-goods' `item_code`: the merchant's own SKU.
    pub sku: String,
    pub name: String,
    pub qty: u32,
    /// `None` while J-goods has no allocation registered for the line.
    pub reserved_qty: Option<u32>,
    /// Yen, tax included.
    pub unit_price: Option<i64>,
}
