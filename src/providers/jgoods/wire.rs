//! J-goods wire format: the JSON exactly as J-goods sends and expects it.
//!
//! Everything here is J-goods' vocabulary (Japanese status labels, `item_code`,
//! `reserved_qty`). The rest of the crate sees only [`super::OrderSnapshot`] and
//! [`super::Status`]; the conversion (and all validation of untrusted input)
//! happens in [`parse_order`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{OrderSnapshot, ShipTo, SnapshotLine, Status};
use crate::domain::ident::identifier;

/// Status labels as they travel on the wire, in the order of the contract.
const LABELS: [(Status, &str); 10] = [
    (Status::Received, "注文受付"),
    (Status::AwaitingPayment, "決済待ち"),
    (Status::AwaitingApproval, "承認待ち"),
    (Status::AwaitingArrival, "入荷待ち"),
    (Status::AwaitingReply, "返答待ち"),
    (Status::AwaitingRepayment, "再決済待ち"),
    (Status::AwaitingShipment, "発送待ち"),
    (Status::Shipped, "発送済み"),
    (Status::Split, "注文分割"),
    (Status::Cancelled, "注文取消"),
];

impl Status {
    /// The Japanese label J-goods uses for this status.
    pub fn label(self) -> &'static str {
        LABELS
            .iter()
            .find(|(s, _)| *s == self)
            .map(|(_, l)| *l)
            .unwrap_or("注文受付")
    }

    /// Parses a wire label; `None` for a label the contract does not know.
    pub fn from_label(label: &str) -> Option<Status> {
        LABELS.iter().find(|(_, l)| *l == label).map(|(s, _)| *s)
    }
}

/// An order as J-goods sends it in a webhook and answers it from the order API.
/// Numeric fields are kept as raw JSON values here so that [`parse_order`] can
/// report exactly which field is wrong instead of a generic serde message.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JgoodsOrder {
    pub order_no: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_changed_at: Option<String>,
    #[serde(default)]
    pub parent_order_no: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_to: Option<JgoodsShipTo>,
    pub items: Vec<JgoodsItem>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct JgoodsShipTo {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub postal_code: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub phone: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JgoodsItem {
    pub line_no: Value,
    pub item_code: String,
    #[serde(default)]
    pub item_name: Option<String>,
    pub qty: Value,
    /// `null`, `""` or absent all mean "not allocated yet".
    #[serde(default)]
    pub reserved_qty: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Value>,
}

/// `PUT /{order_no}` body: register allocation and/or move the order to 入荷待ち.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JgoodsPutOrder {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<JgoodsReservedLine>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JgoodsReservedLine {
    pub line_no: u32,
    pub reserved_qty: u32,
}

/// Error envelope of the order and item APIs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JgoodsErrorBody {
    pub error: JgoodsError,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JgoodsError {
    pub code: String,
    #[serde(default)]
    pub message: String,
    /// Present on `409 STATUS_CONFLICT`: the order's current status label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// OAuth2 client-credentials token response.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JgoodsToken {
    pub access_token: String,
    #[serde(default)]
    pub token_type: String,
    #[serde(default = "default_expires_in")]
    pub expires_in: u64,
}

fn default_expires_in() -> u64 {
    3600
}

/// `GET /search.json` page.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JgoodsSearchPage {
    pub orders: Vec<JgoodsOrder>,
    #[serde(default)]
    pub next_page: Option<u32>,
}

/// `PUT /item.json` (item-info API) body: stock only.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JgoodsItemStockUpdate {
    pub items: Vec<JgoodsItemStock>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JgoodsItemStock {
    pub item_code: String,
    pub stock: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JgoodsItemStockResult {
    pub updated: u64,
    #[serde(default)]
    pub errors: Vec<JgoodsItemError>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JgoodsItemError {
    pub item_code: String,
    pub code: String,
}

/// Why an order body was refused; `field` is a JSON path such as `items[1].qty`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct WireError {
    pub field: String,
    pub message: String,
}

impl WireError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        WireError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Parses and validates a J-goods order body (webhook or order API answer).
pub fn parse_order(body: &[u8]) -> Result<OrderSnapshot, WireError> {
    // The error is the body's: serde_json's message names the missing or
    // mistyped field, and says where.
    let raw: JgoodsOrder = serde_json::from_slice(body)
        .map_err(|e| WireError::new("body", format!("not a J-goods order: {e}")))?;
    snapshot_from_wire(&raw)
}

/// Converts an already-deserialised wire order into the neutral snapshot.
pub fn snapshot_from_wire(raw: &JgoodsOrder) -> Result<OrderSnapshot, WireError> {
    let order_no =
        identifier(raw.order_no.trim(), 64).map_err(|e| WireError::new("order_no", e))?;
    let parent_order_no = match raw.parent_order_no.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(p) => Some(identifier(p, 64).map_err(|e| WireError::new("parent_order_no", e))?),
    };
    let status = Status::from_label(&raw.status).ok_or_else(|| {
        WireError::new(
            "status",
            format!("unknown status label {:?}", truncate(&raw.status, 40)),
        )
    })?;
    let status_changed_at =
        match raw.status_changed_at.as_deref() {
            None | Some("") => None,
            Some(s) => Some(chrono::DateTime::parse_from_rfc3339(s).map_err(|_| {
                WireError::new("status_changed_at", "must be an RFC 3339 date-time")
            })?),
        };
    if raw.items.is_empty() && status != Status::Split && status != Status::Cancelled {
        return Err(WireError::new("items", "an order needs at least one line"));
    }
    if raw.items.len() > 1000 {
        return Err(WireError::new("items", "more than 1000 lines"));
    }
    let mut lines: Vec<SnapshotLine> = Vec::with_capacity(raw.items.len());
    for (i, item) in raw.items.iter().enumerate() {
        let line = line_from_wire(i, item)?;
        if lines.iter().any(|l| l.line_no == line.line_no) {
            return Err(WireError::new(
                format!("items[{i}].line_no"),
                "appears twice",
            ));
        }
        lines.push(line);
    }
    Ok(OrderSnapshot {
        order_no: order_no.to_string(),
        status,
        status_changed_at,
        parent_order_no: parent_order_no.map(str::to_string),
        ship_to: raw.ship_to.as_ref().map(|s| ShipTo {
            name: s.name.clone(),
            postal_code: s.postal_code.clone(),
            address: s.address.clone(),
            phone: s.phone.clone(),
        }),
        lines,
    })
}

/// One line of the order, its numbers checked.
fn line_from_wire(i: usize, item: &JgoodsItem) -> Result<SnapshotLine, WireError> {
    let at = |f: &str| format!("items[{i}].{f}");
    let line_no = whole_number(&item.line_no)
        .filter(|n| (1..=u32::MAX as u64).contains(n))
        .ok_or_else(|| WireError::new(at("line_no"), "must be a whole number ≥ 1"))?
        as u32;
    let sku =
        identifier(item.item_code.trim(), 128).map_err(|e| WireError::new(at("item_code"), e))?;
    let qty = whole_number(&item.qty)
        .filter(|n| *n <= 1_000_000)
        .ok_or_else(|| WireError::new(at("qty"), "must be a whole number ≥ 0"))?
        as u32;
    let reserved_qty = match &item.reserved_qty {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        v => {
            let n = whole_number(v).ok_or_else(|| {
                WireError::new(at("reserved_qty"), "must be empty or a whole number")
            })?;
            if n > qty as u64 {
                return Err(WireError::new(
                    at("reserved_qty"),
                    format!("{n} is more than qty {qty}"),
                ));
            }
            Some(n as u32)
        }
    };
    let unit_price = match &item.unit_price {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            whole_number(v)
                .filter(|n| *n <= MAX_UNIT_PRICE)
                .ok_or_else(|| {
                    WireError::new(
                        at("unit_price"),
                        format!("must be whole yen from 0 to {MAX_UNIT_PRICE}"),
                    )
                })? as i64,
        ),
    };
    Ok(SnapshotLine {
        line_no,
        sku: sku.to_string(),
        name: item.item_name.clone().unwrap_or_default(),
        qty,
        reserved_qty,
        unit_price,
    })
}

/// The highest unit price a J-goods line may carry: ¥100,000,000 (1億円).
/// No merchant means more, and a bound here keeps every sum of lines (stock
/// value, invoice, export) far from where arithmetic could wrap.
pub const MAX_UNIT_PRICE: u64 = 100_000_000;

/// Builds the wire form of a snapshot (the round trip of the tests below).
pub fn wire_from_snapshot(s: &OrderSnapshot) -> JgoodsOrder {
    JgoodsOrder {
        order_no: s.order_no.clone(),
        status: s.status.label().to_string(),
        status_changed_at: s.status_changed_at.map(|t| t.to_rfc3339()),
        parent_order_no: s.parent_order_no.clone(),
        ship_to: s.ship_to.as_ref().map(|t| JgoodsShipTo {
            name: t.name.clone(),
            postal_code: t.postal_code.clone(),
            address: t.address.clone(),
            phone: t.phone.clone(),
        }),
        items: s
            .lines
            .iter()
            .map(|l| JgoodsItem {
                line_no: Value::from(l.line_no),
                item_code: l.sku.clone(),
                item_name: Some(l.name.clone()),
                qty: Value::from(l.qty),
                reserved_qty: l.reserved_qty.map(Value::from).unwrap_or(Value::Null),
                unit_price: l.unit_price.map(Value::from),
            })
            .collect(),
    }
}

/// A non-negative whole number given as a JSON integer (or a digit string,
/// which some senders produce for form-originated values).
fn whole_number(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s)
            if !s.is_empty() && s.len() <= 19 && s.bytes().all(|b| b.is_ascii_digit()) =>
        {
            s.parse().ok()
        }
        _ => None,
    }
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(items: &str) -> Vec<u8> {
        format!(
            r#"{{"order_no":"JG1","status":"承認待ち","status_changed_at":"2026-11-22T10:15:00+09:00","parent_order_no":null,"items":{items}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn parses_the_contract_example() {
        let s = parse_order(&body(
            r#"[{"line_no":1,"item_code":"SKU-001","item_name":"南部鉄器 急須","qty":3,"reserved_qty":null,"unit_price":5500}]"#,
        ))
        .unwrap();
        assert_eq!(s.status, Status::AwaitingApproval);
        assert_eq!(s.lines[0].qty, 3);
        assert_eq!(s.lines[0].reserved_qty, None);
        assert_eq!(s.lines[0].unit_price, Some(5500));
        // 2^62 + 1 yen is refused at the edge, naming the field.
        let huge = format!(
            r#"[{{"line_no":1,"item_code":"SKU-001","qty":4,"unit_price":{}}}]"#,
            (1u64 << 62) + 1
        );
        let e = parse_order(&body(&huge)).unwrap_err();
        assert!(e.to_string().contains("unit_price"), "{e}");
    }

    #[test]
    fn empty_reserved_qty_has_three_spellings() {
        for rq in [r#""reserved_qty":null,"#, r#""reserved_qty":"","#, ""] {
            let s = parse_order(&body(&format!(
                r#"[{{"line_no":1,"item_code":"A",{rq}"qty":2}}]"#
            )))
            .unwrap();
            assert_eq!(s.lines[0].reserved_qty, None, "{rq}");
        }
    }

    #[test]
    fn rejects_bad_numbers_naming_the_field() {
        let cases = [
            (
                r#"[{"line_no":1,"item_code":"A","qty":-1}]"#,
                "items[0].qty",
            ),
            (
                r#"[{"line_no":1,"item_code":"A","qty":1.5}]"#,
                "items[0].qty",
            ),
            (
                r#"[{"line_no":1,"item_code":"A","qty":2,"reserved_qty":3}]"#,
                "items[0].reserved_qty",
            ),
            (
                r#"[{"line_no":1,"item_code":"A","qty":2,"reserved_qty":"x"}]"#,
                "items[0].reserved_qty",
            ),
            (
                r#"[{"line_no":0,"item_code":"A","qty":2}]"#,
                "items[0].line_no",
            ),
            (
                r#"[{"line_no":1,"item_code":"","qty":2}]"#,
                "items[0].item_code",
            ),
            (r#"[]"#, "items"),
        ];
        for (items, field) in cases {
            let err = parse_order(&body(items)).unwrap_err();
            assert_eq!(err.field, field, "{items}");
        }
    }

    #[test]
    fn rejects_unknown_status_labels() {
        let b = br#"{"order_no":"JG1","status":"unknown","items":[{"line_no":1,"item_code":"A","qty":1}]}"#;
        assert_eq!(parse_order(b).unwrap_err().field, "status");
    }

    #[test]
    fn every_label_round_trips() {
        for (s, l) in LABELS {
            assert_eq!(Status::from_label(l), Some(s));
            assert_eq!(s.label(), l);
        }
    }

    #[test]
    fn wire_round_trip_keeps_the_snapshot() {
        let s = parse_order(&body(
            r#"[{"line_no":1,"item_code":"A","qty":2,"reserved_qty":1},{"line_no":2,"item_code":"B","qty":0,"reserved_qty":0}]"#,
        ))
        .unwrap();
        let again = snapshot_from_wire(&wire_from_snapshot(&s)).unwrap();
        assert_eq!(s, again);
    }
}
