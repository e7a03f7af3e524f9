//! Orders as the core and the admin API see them, independent of any channel.

use serde::{Deserialize, Serialize};

stored_names! {
    /// Where an order came from.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    pub enum Channel {
        Jgoods = "jgoods",
        Rakuten = "rakuten",
        /// Yahoo!ショッピング (polled like Rakuten).
        Yahoo = "yahoo",
        /// Orders the merchant's own shop registers through the admin API.
        Direct = "direct",
    }
}

impl Channel {
    /// Whether the channel shows buyers the merchant's stock, so it is told
    /// every change (J-goods, Rakuten); the merchant's own shop reads it
    /// from the ERP.
    pub fn shows_stock(self) -> bool {
        match self {
            Channel::Jgoods | Channel::Rakuten | Channel::Yahoo => true,
            Channel::Direct => false,
        }
    }
}

stored_names! {
    /// `new → allocated | short → confirmed → shipped`, and `cancelled` from any
    /// state before shipped.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    pub enum OrderState {
        New = "new",
        Allocated = "allocated",
        Short = "short",
        Confirmed = "confirmed",
        Shipped = "shipped",
        Cancelled = "cancelled",
    }
}

impl OrderState {
    /// Whether stock reserved for the order is still held.
    pub fn holds_stock(self) -> bool {
        matches!(
            self,
            OrderState::Allocated | OrderState::Short | OrderState::Confirmed
        )
    }
}

stored_names! {
    /// Payment state beside the order state; which values occur depends on the channel.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    pub enum PaymentState {
        /// 未決済: J-goods order not yet accepted.
        Unpaid = "unpaid",
        /// 後払い: J-goods accepted the allocation and pays after the merchant invoices.
        Deferred = "deferred",
        Pending = "pending",
        Paid = "paid",
        CreditPending = "credit_pending",
        CreditOk = "credit_ok",
        CreditNg = "credit_ng",
        Authorized = "authorized",
        Captured = "captured",
        Refunded = "refunded",
    }
}

/// An order with its lines, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub channel: Channel,
    pub id: String,
    pub state: OrderState,
    pub payment_state: PaymentState,
    /// A short reason a person must act on, or `None`.
    pub attention: Option<String>,
    pub lines: Vec<OrderLine>,
    pub shipments: Vec<Shipment>,
    /// How the order is paid, for orders whose payment this daemon follows.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub payment: Option<PaymentRef>,
    /// The credit check of a deferred-payment order (Kuroneko Atobarai,
    /// Atobarai.com): shown as `"credit": {"result", "checked_at"}`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub credit: Option<super::credit::CreditCase>,
    /// The channel's own last status, as the adapter encodes it (opaque to the core).
    #[serde(skip)]
    pub provider_status: Option<String>,
    /// When the channel last changed the status (RFC 3339), to spot stale deliveries.
    #[serde(skip)]
    pub status_changed_at: Option<String>,
    /// Outbound calls for this order still waiting in the outbox.
    #[serde(skip)]
    pub pending_calls: u32,
    pub created_at: String,
    pub updated_at: String,
}

stored_names! {
    /// How an order is paid, under the name the store and the admin API use.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    pub enum PaymentMethod {
        /// On the merchant's own terms (bank transfer, cash on delivery, …).
        None = "none",
        Kuroneko = "kuroneko",
        AtobaraiCom = "atobarai_com",
        Komoju = "komoju",
    }
}

impl From<super::credit::DeferredProvider> for PaymentMethod {
    fn from(p: super::credit::DeferredProvider) -> PaymentMethod {
        match p {
            super::credit::DeferredProvider::Kuroneko => PaymentMethod::Kuroneko,
            super::credit::DeferredProvider::AtobaraiCom => PaymentMethod::AtobaraiCom,
        }
    }
}

/// The payment provider of an order and its id there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRef {
    pub method: PaymentMethod,
    /// The provider's id for the payment, once known.
    pub reference: Option<String>,
    /// KOMOJU's `external_order_num`, when the order was registered with one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub external_order_num: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub line_no: u32,
    pub sku: String,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub name: String,
    pub qty: u32,
    /// Units held for this line (reserved or already shipped).
    pub reserved_qty: u32,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub unit_price: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    /// Serialised under its neutral name (`yamato`, …).
    pub carrier: crate::domain::Carrier,
    pub tracking_no: String,
    /// `YYYY-MM-DD`.
    pub shipped_on: chrono::NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub shipping_cost: Option<i64>,
}

impl Order {
    /// Units its lines hold in reservations.
    pub fn reserved_units(&self) -> u32 {
        self.lines.iter().map(|l| l.reserved_qty).sum()
    }

    pub fn line(&self, line_no: u32) -> Option<&OrderLine> {
        self.lines.iter().find(|l| l.line_no == line_no)
    }
}
