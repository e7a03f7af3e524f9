//! J-goods' JSON as the contract (`providers/jgoods.md`) writes it, on the
//! provider's side: the order of the webhook body and of the order-info API
//! (one shape for both), the ten status labels, the error envelope, the OAuth2
//! token answers, the search page and the stock push's answer.
//!
//! Written from the contract alone; ordersync's adapter has its own reading
//! of the same text, and the tests make the two meet over HTTP.

use std::fmt;

use chrono::{DateTime, FixedOffset, SecondsFormat};
use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

/// `X-JGoods-Delivery`: an id for a webhook event; retries of one event
/// carry the same id ("Webhook: J-goods → merchant", Headers).
pub const DELIVERY_HEADER: &str = "X-JGoods-Delivery";

/// The ten order statuses (注文状況), with the contract's enum names; on the
/// wire each is its Japanese label ("Statuses (注文状況)").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// 注文受付: quote requested; nothing to do.
    Received,
    /// 決済待ち: the customer is paying (cancelled after 7 days unpaid).
    AwaitingPayment,
    /// 承認待ち: paid; the merchant allocates stock.
    AwaitingApproval,
    /// 入荷待ち: full allocation confirmed; goods travel to the J-goods warehouse.
    AwaitingArrival,
    /// 返答待ち: `reserved_qty < qty` somewhere; J-goods asks the customer.
    AwaitingReply,
    /// 再決済待ち: capture failed, the customer pays again.
    AwaitingRepayment,
    /// 発送待ち: goods arrived at J-goods, export paperwork in progress.
    AwaitingShipment,
    /// 発送済み: finished.
    Shipped,
    /// 注文分割: the original of a split order (only ever from 注文受付).
    Split,
    /// 注文取消: cancelled; stock reserved for it goes back.
    Cancelled,
}

impl Status {
    /// Every status, in the order of the contract's table.
    pub const ALL: [Status; 10] = [
        Status::Received,
        Status::AwaitingPayment,
        Status::AwaitingApproval,
        Status::AwaitingArrival,
        Status::AwaitingReply,
        Status::AwaitingRepayment,
        Status::AwaitingShipment,
        Status::Shipped,
        Status::Split,
        Status::Cancelled,
    ];

    /// The label J-goods writes, from the contract's table "Statuses (注文状況)".
    pub fn label(self) -> &'static str {
        match self {
            Status::Received => "注文受付",
            Status::AwaitingPayment => "決済待ち",
            Status::AwaitingApproval => "承認待ち",
            Status::AwaitingArrival => "入荷待ち",
            Status::AwaitingReply => "返答待ち",
            Status::AwaitingRepayment => "再決済待ち",
            Status::AwaitingShipment => "発送待ち",
            Status::Shipped => "発送済み",
            Status::Split => "注文分割",
            Status::Cancelled => "注文取消",
        }
    }

    /// The status a label names; `None` for a label the contract does not have.
    pub fn from_label(label: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.label() == label)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl Serialize for Status {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.label())
    }
}

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let label = String::deserialize(d)?;
        Status::from_label(&label)
            .ok_or_else(|| de::Error::custom(format!("unknown status label {label:?}")))
    }
}

/// An order as J-goods pushes it in a webhook and answers it from
/// `GET|PUT /order/v2/{order_no}` ("Webhook: J-goods → merchant", Body).
/// The simulator keeps its orders in this shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JgoodsOrder {
    /// `order_no`, e.g. `JG2611220001`.
    pub order_no: String,
    /// `status`: the label of the current status.
    pub status: Status,
    /// `status_changed_at`, RFC 3339 in `+09:00`; the simulator writes
    /// milliseconds so that two changes in one second stay in order.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "rfc3339_millis",
        deserialize_with = "rfc3339"
    )]
    pub status_changed_at: Option<DateTime<FixedOffset>>,
    /// `parent_order_no`: the original of a split order, else `null`.
    #[serde(default)]
    pub parent_order_no: Option<String>,
    /// `ship_to`: where the merchant sends the goods (a J-goods warehouse).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_to: Option<JgoodsShipTo>,
    /// `items`: the order's lines.
    pub items: Vec<JgoodsOrderItem>,
}

/// `ship_to` of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JgoodsShipTo {
    /// `name`, e.g. `J-goods 物流センター`.
    pub name: String,
    /// `postal_code`, seven digits without a hyphen.
    pub postal_code: String,
    /// `address`.
    pub address: String,
    /// `phone`, digits only.
    pub phone: String,
}

/// One line of `items`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JgoodsOrderItem {
    /// `line_no`, from 1.
    pub line_no: u32,
    /// `item_code`: the merchant's own SKU, as registered through the item-info API.
    pub item_code: String,
    /// `item_name`.
    #[serde(default)]
    pub item_name: String,
    /// `qty`: a whole number ≥ 0 (0 once a customer accepted a partial order
    /// for a line that had nothing).
    pub qty: u32,
    /// `reserved_qty`: empty (`null`, `""` or absent) until the merchant
    /// registers an allocation, then a whole number `0..=qty`.
    #[serde(default, deserialize_with = "empty_or_whole")]
    pub reserved_qty: Option<u32>,
    /// `unit_price`: yen, tax included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<i64>,
}

fn rfc3339_millis<S: Serializer>(
    t: &Option<DateTime<FixedOffset>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Millis, false)),
        None => s.serialize_none(),
    }
}

fn rfc3339<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<FixedOffset>>, D::Error> {
    match Option::<String>::deserialize(d)?.as_deref() {
        None | Some("") => Ok(None),
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map(Some)
            .map_err(|_| de::Error::custom("status_changed_at must be RFC 3339")),
    }
}

/// `reserved_qty`: `null` or `""` is empty; otherwise a whole number.
fn empty_or_whole<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    struct Reserved;
    impl<'de> Visitor<'de> for Reserved {
        type Value = Option<u32>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("null, \"\" or a whole number")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(Reserved)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            if v.trim().is_empty() {
                Ok(None)
            } else {
                Err(E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            u32::try_from(v)
                .map(Some)
                .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            u64::try_from(v)
                .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
                .and_then(|v| self.visit_u64(v))
        }
    }
    d.deserialize_option(Reserved)
}

/// The error envelope of every J-goods API ("Register allocation", Responses):
/// `{"error": {"code": "...", "message": "...", "status": "注文取消"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JgoodsErrorBody {
    /// `error`.
    pub error: JgoodsError,
}

/// The inside of [`JgoodsErrorBody`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JgoodsError {
    /// `code`: `INVALID_QTY`, `INVALID_STATUS`, `MISSING_LINE`,
    /// `ORDER_NOT_FOUND`, `STATUS_CONFLICT`…
    pub code: String,
    /// `message`: for a person.
    pub message: String,
    /// `status`: with `409 STATUS_CONFLICT`, the order's current label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

/// The token endpoint's answer ("Auth for calls to J-goods"):
/// `{"access_token": "...", "token_type": "bearer", "expires_in": 3600}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JgoodsToken {
    /// `access_token`, sent back as `Authorization: Bearer`.
    pub access_token: String,
    /// `token_type`: `bearer`.
    pub token_type: String,
    /// `expires_in`: seconds.
    pub expires_in: u64,
}

/// The token endpoint's refusal: the contract names the RFC 6749 error codes
/// ("OAuth2 token (2026-12)": `invalid_client`, `unauthorized_client`), so
/// the body is RFC 6749 §5.2's `{"error": "...", "error_description": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JgoodsTokenError {
    /// `error`: `invalid_client`, `unsupported_grant_type`…
    pub error: String,
    /// `error_description`: for a person.
    pub error_description: String,
}

/// `GET /order/v2/search.json`'s page ("Read orders"):
/// `{"orders": [...], "next_page": N | null}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JgoodsSearchPage {
    /// `orders`: at most 100.
    pub orders: Vec<JgoodsOrder>,
    /// `next_page`: `null` on the last page.
    pub next_page: Option<u32>,
}

/// The answer to the stock push `PUT /v3/item.json` ("Item-info API, stock
/// only"): `{"updated": 1, "errors": [{"item_code": "...", "code": "ITEM_NOT_FOUND"}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JgoodsItemStockResult {
    /// `updated`: items whose stock was set.
    pub updated: u64,
    /// `errors`: one per item refused.
    pub errors: Vec<JgoodsItemError>,
}

/// One refused item of [`JgoodsItemStockResult`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JgoodsItemError {
    /// `item_code`, as sent.
    pub item_code: String,
    /// `code`: `ITEM_NOT_FOUND`.
    pub code: String,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_contract_example_body_reads_and_writes_back() {
        let example = json!({
          "order_no": "JG2611220001",
          "status": "承認待ち",
          "status_changed_at": "2026-11-22T10:15:00+09:00",
          "parent_order_no": null,
          "ship_to": {"name": "J-goods 物流センター", "postal_code": "5300001", "address": "大阪府大阪市北区梅田1-1-1", "phone": "0612345678"},
          "items": [
            {"line_no": 1, "item_code": "SKU-001", "item_name": "南部鉄器 急須", "qty": 3, "reserved_qty": null, "unit_price": 5500}
          ]
        });
        let order: JgoodsOrder = serde_json::from_value(example.clone()).unwrap();
        assert_eq!(order.status, Status::AwaitingApproval);
        assert_eq!(order.items[0].qty, 3);
        assert_eq!(order.items[0].reserved_qty, None);
        assert_eq!(order.items[0].unit_price, Some(5500));
        let mut back = serde_json::to_value(&order).unwrap();
        assert_eq!(back["status_changed_at"], "2026-11-22T10:15:00.000+09:00");
        back["status_changed_at"] = example["status_changed_at"].clone();
        assert_eq!(back, example);
    }

    #[test]
    fn reserved_qty_is_empty_three_ways() {
        for spelling in [json!(null), json!(""), json!(" ")] {
            let line = json!({"line_no": 1, "item_code": "A", "qty": 2, "reserved_qty": spelling});
            let line: JgoodsOrderItem = serde_json::from_value(line).unwrap();
            assert_eq!(line.reserved_qty, None);
        }
        let absent: JgoodsOrderItem =
            serde_json::from_value(json!({"line_no": 1, "item_code": "A", "qty": 2})).unwrap();
        assert_eq!(absent.reserved_qty, None);
        let two: JgoodsOrderItem = serde_json::from_value(
            json!({"line_no": 1, "item_code": "A", "qty": 2, "reserved_qty": 2}),
        )
        .unwrap();
        assert_eq!(two.reserved_qty, Some(2));
        for bad in [json!(-1), json!(1.5), json!("x")] {
            let line = json!({"line_no": 1, "item_code": "A", "qty": 2, "reserved_qty": bad});
            assert!(serde_json::from_value::<JgoodsOrderItem>(line).is_err());
        }
    }

    #[test]
    fn every_label_round_trips_and_unknown_ones_are_refused() {
        for status in Status::ALL {
            assert_eq!(Status::from_label(status.label()), Some(status));
            let text = serde_json::to_string(&status).unwrap();
            assert_eq!(serde_json::from_str::<Status>(&text).unwrap(), status);
        }
        assert_eq!(Status::Cancelled.label(), "注文取消");
        assert!(serde_json::from_str::<Status>("\"arrived\"").is_err());
    }
}
