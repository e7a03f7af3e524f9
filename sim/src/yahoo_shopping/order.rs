//! An order as the store's back office holds it, in Yahoo!'s field names
//! (`yahoo-shopping.md`, "orderInfo"), what a test places
//! ([`NewOrder`]), and the flat view of its fields that orderList,
//! orderInfo and the change history are written from.

use chrono::{DateTime, FixedOffset, NaiveDate};

use super::settings::{FRAUD_HOLD_HELD, FRAUD_HOLD_NONE, OrderTimeFormat};
use super::xml;

/// An order a test places; [`NewOrder::new`] gives a paid card order of
/// one line with a buyer and a destination.
#[derive(Debug, Clone)]
pub struct NewOrder {
    /// The number after `<seller_id>-`; `None` takes the next one.
    pub number: Option<u64>,
    /// When the buyer ordered; `None` is the simulator's "now".
    pub order_time: Option<DateTime<FixedOffset>>,
    /// `OrderStatus`: `2` 処理中 (a 新規注文 while unseen), `1` 予約中.
    pub status: u8,
    /// `PayMethod` (`payment_a1` card, `payment_b1` transfer, `payment_d1` 代引, …).
    pub pay_method: String,
    /// `PayType`: `0` 後払い, `1` 前払い (sits at `ShipStatus 0` until paid).
    pub pay_type: u8,
    /// `PayKind`: `0` card, `3` transfer, `4` 代引, ….
    pub pay_kind: u8,
    /// `PayStatus`: `0` 入金待ち, `1` 入金済み.
    pub pay_status: u8,
    /// Held for fraud review: hidden from orderList without
    /// `FraudHoldDisplayType=1` until released.
    pub fraud_hold: bool,
    /// Flagged as a prank (いたずら): →5, 3→2 and 5→4 are refused.
    pub prank: bool,
    /// A 予約 order's release date (3→1 only before it).
    pub release_date: Option<NaiveDate>,
    /// `ShipCharge` in yen.
    pub ship_charge: i64,
    /// `BuyerComments`.
    pub buyer_comments: String,
    /// The lines.
    pub items: Vec<NewItem>,
}

/// One line of a [`NewOrder`].
#[derive(Debug, Clone)]
pub struct NewItem {
    /// `ItemId`, the store's item code.
    pub item_id: String,
    /// `SubCode`, the variant; empty without variants.
    pub sub_code: String,
    /// `Title`.
    pub title: String,
    /// `Quantity`.
    pub quantity: u32,
    /// `UnitPrice` in yen.
    pub unit_price: i64,
}

impl NewItem {
    /// A line of `quantity` × `item_id[:sub_code]` at `unit_price` yen.
    pub fn new(item_id: &str, sub_code: &str, quantity: u32, unit_price: i64) -> NewItem {
        NewItem {
            item_id: item_id.to_string(),
            sub_code: sub_code.to_string(),
            title: format!("商品 {item_id}"),
            quantity,
            unit_price,
        }
    }
}

impl NewOrder {
    /// A new card order (処理中, unseen, paid) of `items`, now.
    pub fn new(items: Vec<NewItem>) -> NewOrder {
        NewOrder {
            number: None,
            order_time: None,
            status: 2,
            pay_method: "payment_a1".to_string(),
            pay_type: 0,
            pay_kind: 0,
            pay_status: 1,
            fraud_hold: false,
            prank: false,
            release_date: None,
            ship_charge: 0,
            buyer_comments: String::new(),
            items,
        }
    }

    /// The same order paid by bank transfer before shipping (前払い,
    /// 入金待ち): it sits at `ShipStatus 0` until paid.
    pub fn prepaid(mut self) -> NewOrder {
        self.pay_method = "payment_b1".to_string();
        self.pay_type = 1;
        self.pay_kind = 3;
        self.pay_status = 0;
        self
    }
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// `LineId`, from 1.
    pub line_id: u32,
    /// `ItemId`.
    pub item_id: String,
    /// `SubCode`.
    pub sub_code: String,
    /// `Title`.
    pub title: String,
    /// `Quantity`.
    pub quantity: u32,
    /// `UnitPrice` in yen.
    pub unit_price: i64,
}

/// One entry of orderChangeHistory.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    /// `HistoryId`, from 1 (the creation).
    pub id: u32,
    /// `UpdateTime`.
    pub time: DateTime<FixedOffset>,
    /// `UpdatePerson`.
    pub person: String,
    /// What changed: `(LineId for a line's field, Field, Value)`.
    pub changes: Vec<(Option<u32>, &'static str, String)>,
}

/// An order as the store holds it.
#[derive(Debug, Clone)]
pub struct Order {
    /// `OrderId`, `<seller_id>-<number>`.
    pub order_id: String,
    /// `Version`: one more on every change.
    pub version: u32,
    /// `OrderTime`.
    pub order_time: DateTime<FixedOffset>,
    /// `LastUpdateTime`: moves on every change.
    pub last_update_time: DateTime<FixedOffset>,
    /// `OrderStatus`.
    pub status: u8,
    /// `IsSeen`.
    pub is_seen: bool,
    /// Under fraud review now.
    pub held: bool,
    /// `PublicationTime`: set when a hold is released (or at creation).
    pub publication_time: Option<DateTime<FixedOffset>>,
    /// `CancelReason`.
    pub cancel_reason: Option<u16>,
    /// `CancelReasonDetail`.
    pub cancel_reason_detail: String,
    /// Flagged as a prank.
    pub prank: bool,
    /// A 予約 order's release date.
    pub release_date: Option<NaiveDate>,
    /// `BuyerComments`.
    pub buyer_comments: String,
    /// `PayStatus`.
    pub pay_status: u8,
    /// `PayType`.
    pub pay_type: u8,
    /// `PayKind`.
    pub pay_kind: u8,
    /// `PayMethod`.
    pub pay_method: String,
    /// `PayDate`.
    pub pay_date: Option<NaiveDate>,
    /// `ShipStatus`.
    pub ship_status: u8,
    /// `ShipMethod`.
    pub ship_method: String,
    /// `ShipCompanyCode`.
    pub ship_company_code: String,
    /// `ShipInvoiceNumber1`.
    pub ship_invoice_number1: String,
    /// `ShipInvoiceNumber2`.
    pub ship_invoice_number2: String,
    /// `ShipInvoiceNumberEmptyReason`.
    pub ship_invoice_empty_reason: String,
    /// `ShipUrl`.
    pub ship_url: String,
    /// `ShipDate`.
    pub ship_date: Option<NaiveDate>,
    /// `ShipCharge` in yen.
    pub ship_charge: i64,
    /// The lines.
    pub items: Vec<Line>,
    /// orderChangeHistory, oldest first.
    pub history: Vec<HistoryEntry>,
    /// A card sale already captured (a second capture warns `od91113`).
    pub captured: bool,
    /// The card's capture period is over (a capture warns `od91115`).
    pub capture_expired: bool,
    /// Points and the sale fixed (売上確定) by 5 完了 with `IsPointFix`.
    pub points_fixed: bool,
    /// Mails sent to the buyer (a cancel sends one).
    pub buyer_mails: u32,
}

/// The groups orderInfo nests its fields in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Group {
    Top,
    Pay,
    Ship,
    Detail,
}

/// Fields whose values are personal: empty in the change history.
const PERSONAL: &[&str] = &[
    "BillLastName",
    "BillFirstName",
    "BillZipCode",
    "BillPrefecture",
    "BillCity",
    "BillAddress1",
    "BillPhoneNumber",
    "BillMailAddress",
    "ShipLastName",
    "ShipFirstName",
    "ShipZipCode",
    "ShipPrefecture",
    "ShipCity",
    "ShipAddress1",
    "ShipPhoneNumber",
    "BuyerComments",
];

/// Whether `field`'s value is personal.
pub(crate) fn is_personal(field: &str) -> bool {
    PERSONAL.contains(&field)
}

/// The fields of a line, in orderInfo's order.
pub(crate) const ITEM_FIELDS: &[&str] = &[
    "LineId",
    "ItemId",
    "SubCode",
    "Title",
    "Quantity",
    "UnitPrice",
];

/// Card payments: a ship status 3 captures the sale; 5→2 is allowed.
pub(crate) fn is_card(pay_method: &str) -> bool {
    matches!(pay_method, "payment_a1" | "payment_a19")
}

/// Methods the store collects itself (transfer to the store, `payment_e*`):
/// the only ones orderPayStatusChange may touch.
pub(crate) fn is_store_handled(pay_method: &str) -> bool {
    pay_method.starts_with("payment_e")
}

fn opt_date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

impl Order {
    /// The order `order_id` as `new` places it at `now`.
    pub(crate) fn create(
        order_id: String,
        new: NewOrder,
        now: DateTime<FixedOffset>,
        unheld_publication: bool,
    ) -> Order {
        let order_time = new.order_time.unwrap_or(now);
        let paid_or_deferred = new.pay_type == 0 || new.pay_status == 1;
        let items = new
            .items
            .into_iter()
            .zip(1u32..)
            .map(|(item, line_id)| Line {
                line_id,
                item_id: item.item_id,
                sub_code: item.sub_code,
                title: item.title,
                quantity: item.quantity,
                unit_price: item.unit_price,
            })
            .collect();
        Order {
            order_id,
            version: 1,
            order_time,
            last_update_time: order_time,
            status: new.status,
            is_seen: false,
            held: new.fraud_hold,
            publication_time: (!new.fraud_hold && unheld_publication).then_some(order_time),
            cancel_reason: None,
            cancel_reason_detail: String::new(),
            prank: new.prank,
            release_date: new.release_date,
            buyer_comments: new.buyer_comments,
            pay_status: new.pay_status,
            pay_type: new.pay_type,
            pay_kind: new.pay_kind,
            pay_method: new.pay_method,
            pay_date: None,
            ship_status: u8::from(paid_or_deferred),
            ship_method: "postage1".to_string(),
            ship_company_code: String::new(),
            ship_invoice_number1: String::new(),
            ship_invoice_number2: String::new(),
            ship_invoice_empty_reason: String::new(),
            ship_url: String::new(),
            ship_date: None,
            ship_charge: new.ship_charge,
            items,
            history: Vec::new(),
            captured: false,
            capture_expired: false,
            points_fixed: false,
            buyer_mails: 0,
        }
    }

    /// Inside the buyer's cancel window at `now` (`IsReadOnly=1`).
    pub(crate) fn is_read_only(
        &self,
        now: DateTime<FixedOffset>,
        window: chrono::TimeDelta,
    ) -> bool {
        now < self.order_time + window
    }

    /// `TotalPrice`: the lines and the postage, `None` on overflow.
    pub(crate) fn total_price(&self) -> Option<i64> {
        self.items.iter().try_fold(self.ship_charge, |sum, line| {
            line.unit_price
                .checked_mul(i64::from(line.quantity))
                .and_then(|l| sum.checked_add(l))
        })
    }

    /// Every order-level field with its group and value, in orderInfo's
    /// order. `read_only` is `IsReadOnly` at the time of the answer.
    pub(crate) fn fields(
        &self,
        read_only: bool,
        format: OrderTimeFormat,
    ) -> Vec<(Group, &'static str, String)> {
        let time = |t: DateTime<FixedOffset>| xml::order_time(t, format);
        let flag = |b: bool| if b { "true" } else { "false" }.to_string();
        let total = self
            .total_price()
            .map(|t| t.to_string())
            .unwrap_or_default();
        let method_name = match self.pay_method.as_str() {
            "payment_a1" => "クレジットカード決済",
            "payment_b1" => "銀行振込",
            "payment_d1" => "商品代引",
            _ => "その他",
        };
        use Group::*;
        vec![
            (Top, "OrderId", self.order_id.clone()),
            (Top, "Version", self.version.to_string()),
            (Top, "OrderTime", time(self.order_time)),
            (
                Top,
                "LastUpdateTime",
                xml::iso_offset(self.last_update_time),
            ),
            (Top, "OrderStatus", self.status.to_string()),
            (Top, "IsSeen", flag(self.is_seen)),
            (
                Top,
                "IsReadOnly",
                if read_only { "1" } else { "0" }.to_string(),
            ),
            (
                Top,
                "FraudHoldStatus",
                if self.held {
                    FRAUD_HOLD_HELD
                } else {
                    FRAUD_HOLD_NONE
                }
                .to_string(),
            ),
            (
                Top,
                "PublicationTime",
                self.publication_time.map(time).unwrap_or_default(),
            ),
            (
                Top,
                "CancelReason",
                self.cancel_reason
                    .map(|r| r.to_string())
                    .unwrap_or_default(),
            ),
            (Top, "CancelReasonDetail", self.cancel_reason_detail.clone()),
            (Top, "IsSplit", "false".to_string()),
            (Top, "BuyerComments", self.buyer_comments.clone()),
            (Pay, "PayStatus", self.pay_status.to_string()),
            (Pay, "SettleStatus", "1".to_string()),
            (Pay, "PayType", self.pay_type.to_string()),
            (Pay, "PayKind", self.pay_kind.to_string()),
            (Pay, "PayMethod", self.pay_method.clone()),
            (Pay, "PayMethodName", method_name.to_string()),
            (Pay, "PayDate", opt_date(self.pay_date)),
            (Pay, "BillLastName", "山田".to_string()),
            (Pay, "BillFirstName", "花子".to_string()),
            (Pay, "BillZipCode", "1020082".to_string()),
            (Pay, "BillPrefecture", "東京都".to_string()),
            (Pay, "BillCity", "千代田区".to_string()),
            (Pay, "BillAddress1", "一番町1-1".to_string()),
            (Pay, "BillPhoneNumber", "0312345678".to_string()),
            (Pay, "BillMailAddress", "buyer@example.jp".to_string()),
            (Ship, "ShipStatus", self.ship_status.to_string()),
            (Ship, "ShipMethod", self.ship_method.clone()),
            (Ship, "ShipMethodName", "宅配便".to_string()),
            (Ship, "ShipCompanyCode", self.ship_company_code.clone()),
            (
                Ship,
                "ShipInvoiceNumber1",
                self.ship_invoice_number1.clone(),
            ),
            (
                Ship,
                "ShipInvoiceNumber2",
                self.ship_invoice_number2.clone(),
            ),
            (
                Ship,
                "ShipInvoiceNumberEmptyReason",
                self.ship_invoice_empty_reason.clone(),
            ),
            (Ship, "ShipUrl", self.ship_url.clone()),
            (Ship, "ShipDate", opt_date(self.ship_date)),
            (Ship, "ShipLastName", "山田".to_string()),
            (Ship, "ShipFirstName", "花子".to_string()),
            (Ship, "ShipZipCode", "1020082".to_string()),
            (Ship, "ShipPrefecture", "東京都".to_string()),
            (Ship, "ShipCity", "千代田区".to_string()),
            (Ship, "ShipAddress1", "一番町1-1".to_string()),
            (Ship, "ShipPhoneNumber", "0312345678".to_string()),
            (Detail, "ShipCharge", self.ship_charge.to_string()),
            (Detail, "TotalPrice", total.clone()),
            (Detail, "SettleAmount", total),
        ]
    }

    /// A line's fields, in [`ITEM_FIELDS`]' order.
    pub(crate) fn line_fields(line: &Line) -> Vec<(&'static str, String)> {
        vec![
            ("LineId", line.line_id.to_string()),
            ("ItemId", line.item_id.clone()),
            ("SubCode", line.sub_code.clone()),
            ("Title", line.title.clone()),
            ("Quantity", line.quantity.to_string()),
            ("UnitPrice", line.unit_price.to_string()),
        ]
    }

    /// What the change history compares: every field but the ones that move
    /// by themselves (`Version`, `LastUpdateTime`, `IsReadOnly`).
    pub(crate) fn snapshot(&self) -> Vec<(Option<u32>, &'static str, String)> {
        let mut all: Vec<(Option<u32>, &'static str, String)> = self
            .fields(false, OrderTimeFormat::IsoOffset)
            .into_iter()
            .filter(|(_, name, _)| !matches!(*name, "Version" | "LastUpdateTime" | "IsReadOnly"))
            .map(|(_, name, value)| (None, name, value))
            .collect();
        for line in &self.items {
            for (name, value) in Order::line_fields(line) {
                if name != "LineId" {
                    all.push((Some(line.line_id), name, value));
                }
            }
        }
        all
    }
}
