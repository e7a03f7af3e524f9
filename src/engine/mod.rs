//! Pure decisions. Each flow gets an input and the stored state and returns a
//! [`Decision`]: the order's new state, the stock movements, the events and the
//! outbound calls. The store writes a decision in one transaction; nothing here
//! does I/O, so every rule is unit-testable.

pub mod credit;
pub mod direct;
pub mod erp;
pub mod events;
pub mod reserve;
pub mod restock;
pub mod sentences;
pub mod sentences_ja;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::Provider;
use crate::domain::credit::{CreditVerdict, DeferredProvider, Transaction};
use chrono::NaiveDate;
pub use events::EventKind;

use crate::domain::{Carrier, Channel, OrderState, PaymentState, Shipment};

/// Everything one input changes, written atomically by the store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    /// Create or update the order; `None` leaves it as it is.
    pub order: Option<OrderWrite>,
    pub stock: Vec<StockMove>,
    /// Calls to providers, appended to the outbox.
    pub calls: Vec<Call>,
    /// Drop calls for this order still waiting in the outbox (they no longer apply).
    pub cancel_pending_calls: bool,
    pub events: Vec<Event>,
}

impl Decision {
    pub fn event(mut self, kind: EventKind, detail: Value) -> Self {
        self.events.push(Event { kind, detail });
        self
    }

    /// The events of a mall order's first reservation, the same for every
    /// mall: imported (or held, while the mall still hides it from the
    /// ERP), allocated or short with `detail`, the attention when there is
    /// one, and paid (`by` the mall) when the mall says it is.
    pub fn first_reservation_events(
        self,
        announced: bool,
        full: bool,
        detail: Value,
        attention: Option<String>,
        paid_by: Option<&str>,
    ) -> Self {
        let seen = match announced {
            true => EventKind::OrderImported,
            false => EventKind::OrderHeld,
        };
        let held = match full {
            true => EventKind::OrderAllocated,
            false => EventKind::OrderShort,
        };
        let mut d = self.event(seen, detail.clone()).event(held, detail);
        if let Some(reason) = attention {
            d = d.event(
                EventKind::OrderAttention,
                serde_json::json!({"reason": reason}),
            );
        }
        if let Some(by) = paid_by {
            d = d.event(EventKind::OrderPaid, serde_json::json!({"by": by}));
        }
        d
    }

    /// Cancels the order `write` describes: its state cancelled, its
    /// reservations released when it holds any (`held` units), its calls not
    /// made yet dropped. Whoever cancels (a provider, the ERP) adds its own
    /// calls and events.
    pub fn cancel(held: u32, write: OrderWrite) -> Decision {
        Decision {
            order: Some(OrderWrite {
                state: Some(crate::domain::OrderState::Cancelled),
                ..write
            }),
            stock: if held > 0 {
                vec![StockMove::ReleaseOrder]
            } else {
                vec![]
            },
            cancel_pending_calls: true,
            ..Default::default()
        }
    }
}

/// The order's new state. Fields left `None` keep their stored value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderWrite {
    pub state: Option<OrderState>,
    pub payment_state: Option<PaymentState>,
    pub attention: Option<Attention>,
    pub provider_status: Option<String>,
    pub status_changed_at: Option<String>,
    /// When the customer ordered at the channel (RFC 3339): Rakuten cancels an
    /// order left unconfirmed 14 days after it.
    pub ordered_at: Option<String>,
    /// Replace the order's lines (quantities, names, prices); reservations are
    /// kept per line number.
    pub lines: Option<Vec<LineWrite>>,
    pub ship_to: Option<Value>,
    /// Record a parcel sent for the order.
    pub add_shipment: Option<Shipment>,
    /// Set how the order is paid (method, provider id, external number).
    pub payment: Option<crate::domain::order::PaymentRef>,
    /// Direct orders: the registration as received and its digest.
    pub registration: Option<(Value, String)>,
    /// Deferred-payment orders: changes to the credit check.
    pub credit: Option<CreditWrite>,
}

/// Changes to an order's credit check. Fields left `None` keep their stored
/// value; `provider` is needed only to start a check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreditWrite {
    pub provider: Option<DeferredProvider>,
    pub attempt: Option<u32>,
    pub result: Option<CreditVerdict>,
    pub checked_at: Option<String>,
    pub requested_at_ms: Option<i64>,
    /// `(carrier, tracking number)` now registered with the provider.
    pub registered: Option<(String, String)>,
    pub transaction: Option<Transaction>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attention {
    Set(String),
    Clear,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineWrite {
    pub line_no: u32,
    pub sku: String,
    pub name: String,
    pub qty: u32,
    pub unit_price: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StockMove {
    /// Hold `qty` units of `sku` for a line.
    Reserve { line_no: u32, sku: String, qty: u32 },
    /// Give back every unit still reserved for the order.
    ReleaseOrder,
    /// Give back up to `qty` units reserved for one line (the order shrank).
    ReleaseLine { line_no: u32, qty: u32 },
    /// The order left the warehouse: its reservations become shipped and
    /// `on_hand` goes down by the same amount.
    ShipOrder,
}

/// A change worth telling the ERP through the change feed.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: EventKind,
    pub detail: Value,
}

/// An outbound provider call, stored in the outbox as JSON and dispatched later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Call {
    /// Register allocated quantities with J-goods and/or move the order to 入荷待ち.
    JgoodsPutOrder {
        order_no: String,
        /// Every line's reserved quantity; `None` to send the status alone.
        items: Option<Vec<ReservedLine>>,
        /// Ask J-goods to move the order to 入荷待ち (only when every line is full).
        confirm: bool,
    },
    /// Re-read the order from J-goods and decide from what it says now.
    JgoodsFetchOrder { order_no: String },
    /// Capture an authorized KOMOJU payment (two-step payments, on shipment).
    KomojuCapture { payment_id: String },
    /// Cancel a pending or authorized KOMOJU payment.
    KomojuCancel { payment_id: String },
    /// Refund a captured KOMOJU payment in full.
    KomojuRefund { payment_id: String },
    /// Re-read a KOMOJU payment (its authoritative state).
    KomojuFetch { payment_id: String },
    /// Ask KOMOJU to refund a paid konbini, bank-transfer or Pay-easy
    /// payment to the customer's bank account. The account is read from its
    /// own table when the call is made: the outbox keeps no customer data.
    KomojuRefundRequest { payment_id: String },
    /// Create the KOMOJU sub-merchant of a seller (Platform Model).
    KomojuCreateSeller { code: String },
    /// Re-read a seller's KOMOJU sub-merchant (its review state).
    KomojuFetchSeller { code: String },
    /// Capture an authorized card payment with each seller's split
    /// (Platform Model), decided when the order shipped.
    KomojuSplitCapture {
        payment_id: String,
        shares: Vec<PlatformShare>,
    },
    /// Move money between the merchant's KOMOJU balance and a seller's
    /// (Platform Model): `amount` > 0 to the seller, < 0 back from it.
    KomojuSellerTransfer {
        code: String,
        /// The merchant's own KOMOJU merchant id (`[komoju] platform_id`).
        platform_id: String,
        amount: i64,
        reason: String,
    },
    /// Refund what is left of a split KOMOJU payment, each seller giving
    /// back what it still holds of it (`shares`) and its fee returned.
    KomojuSplitRefund {
        payment_id: String,
        shares: Vec<PlatformShare>,
    },
    /// Report a parcel to Rakuten (発送完了報告) for every basket of the order
    /// that does not carry it yet.
    RakutenShip {
        order_number: String,
        /// Stored under its neutral name (`yamato`, …); the adapter maps it to its code.
        carrier: Carrier,
        tracking_no: String,
        /// Stored as `YYYY-MM-DD`.
        shipped_on: NaiveDate,
    },
    /// Mark a Yahoo!ショッピング order seen (新規注文 → 処理中) once its
    /// stock is held.
    YahooMarkSeen { order_id: String },
    /// Report a parcel to Yahoo!ショッピング (出荷済み), and set 完了 after it
    /// when the merchant turned `complete_orders` on.
    YahooShip {
        order_id: String,
        /// Stored under its neutral name (`yamato`, …).
        carrier: Carrier,
        tracking_no: String,
        /// Stored as `YYYY-MM-DD`.
        shipped_on: NaiveDate,
    },
    /// Ask the deferred-payment provider for a credit check (attempt
    /// `attempt`; the provider's id of the transaction derives from it).
    CreditRequest {
        provider: DeferredProvider,
        channel: Channel,
        order_id: String,
        attempt: u32,
    },
    /// Re-check the credit, then register the parcel's tracking number with
    /// the deferred-payment provider (once: a retry re-reads the provider first).
    CreditShip {
        provider: DeferredProvider,
        channel: Channel,
        order_id: String,
        /// Stored under its neutral name (`yamato`, …).
        carrier: Carrier,
        tracking_no: String,
        /// Stored as `YYYY-MM-DD`.
        shipped_on: NaiveDate,
    },
    /// Cancel the deferred-payment transaction.
    CreditCancel {
        provider: DeferredProvider,
        channel: Channel,
        order_id: String,
        reason: String,
    },
}

/// One seller's part of a KOMOJU split, as decided: what the seller sold
/// and its fee. The `platform_details` entry sent is made from it when the
/// capture is made, against the payment's total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformShare {
    /// The seller's code.
    pub seller: String,
    /// Its KOMOJU sub-merchant id.
    pub submerchant_id: String,
    /// What the seller sold of the payment, tax included.
    pub share: i64,
    /// The merchant's fee on it.
    pub fee: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservedLine {
    pub line_no: u32,
    pub reserved_qty: u32,
}

impl Call {
    /// The provider the call goes to (for metrics, listing and retry budgets).
    pub fn provider(&self) -> Provider {
        match self {
            Call::JgoodsPutOrder { .. } | Call::JgoodsFetchOrder { .. } => Provider::Jgoods,
            Call::RakutenShip { .. } => Provider::RakutenPay,
            Call::YahooMarkSeen { .. } | Call::YahooShip { .. } => Provider::YahooShopping,
            Call::KomojuCapture { .. }
            | Call::KomojuCancel { .. }
            | Call::KomojuRefund { .. }
            | Call::KomojuFetch { .. }
            | Call::KomojuRefundRequest { .. }
            | Call::KomojuCreateSeller { .. }
            | Call::KomojuFetchSeller { .. }
            | Call::KomojuSplitCapture { .. }
            | Call::KomojuSplitRefund { .. }
            | Call::KomojuSellerTransfer { .. } => Provider::Komoju,
            Call::CreditRequest { provider, .. }
            | Call::CreditShip { provider, .. }
            | Call::CreditCancel { provider, .. } => (*provider).into(),
        }
    }

    /// The call's kind as listed by `outbox list`.
    pub fn kind(&self) -> &'static str {
        match self {
            Call::JgoodsPutOrder { .. } => "jgoods_put_order",
            Call::JgoodsFetchOrder { .. } => "jgoods_fetch_order",
            Call::RakutenShip { .. } => "rakuten_ship",
            Call::YahooMarkSeen { .. } => "yahoo_mark_seen",
            Call::YahooShip { .. } => "yahoo_ship",
            Call::KomojuCapture { .. } => "komoju_capture",
            Call::KomojuCancel { .. } => "komoju_cancel",
            Call::KomojuRefund { .. } => "komoju_refund",
            Call::KomojuFetch { .. } => "komoju_fetch",
            Call::KomojuRefundRequest { .. } => "komoju_refund_request",
            Call::KomojuCreateSeller { .. } => "komoju_create_seller",
            Call::KomojuFetchSeller { .. } => "komoju_fetch_seller",
            Call::KomojuSplitCapture { .. } => "komoju_split_capture",
            Call::KomojuSplitRefund { .. } => "komoju_split_refund",
            Call::KomojuSellerTransfer { .. } => "komoju_seller_transfer",
            Call::CreditRequest { .. } => "credit_request",
            Call::CreditShip { .. } => "credit_ship",
            Call::CreditCancel { .. } => "credit_cancel",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The outbox keeps calls as JSON: rows written before the carrier and
    /// the date were typed (strings) read the same, and are written the same.
    #[test]
    fn stored_calls_keep_their_json() {
        let stored = serde_json::json!({
            "kind": "rakuten_ship", "order_number": "100-1", "carrier": "japanpost",
            "tracking_no": "123", "shipped_on": "2026-11-24",
        });
        let call: Call = serde_json::from_value(stored.clone()).unwrap();
        assert_eq!(
            call,
            Call::RakutenShip {
                order_number: "100-1".into(),
                carrier: Carrier::JapanPost,
                tracking_no: "123".into(),
                shipped_on: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
            }
        );
        assert_eq!(serde_json::to_value(&call).unwrap(), stored);
        let stored = serde_json::json!({
            "kind": "credit_ship", "provider": "kuroneko", "channel": "direct",
            "order_id": "D1", "carrier": "yamato", "tracking_no": "4",
            "shipped_on": "2026-01-02",
        });
        let call: Call = serde_json::from_value(stored.clone()).unwrap();
        assert_eq!(serde_json::to_value(&call).unwrap(), stored);
        assert!(
            serde_json::from_value::<Call>(serde_json::json!({
                "kind": "rakuten_ship", "order_number": "1", "carrier": "yamato",
                "tracking_no": "1", "shipped_on": "24/11/2026",
            }))
            .is_err()
        );
    }
}
