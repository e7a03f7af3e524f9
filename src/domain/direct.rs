//! Orders taken by the merchant's own shop, registered by the ERP
//! (`POST /api/v1/orders`): parsed and validated here, field by field.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Why a registration was refused; `field` is a JSON path such as `lines[0].qty`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    pub name: String,
    #[serde(default)]
    pub name_kana: String,
    pub postal_code: String,
    pub address: String,
    pub phone: String,
    #[serde(default)]
    pub email: Option<String>,
}

impl Party {
    /// Whether a parcel to `other` reaches this person: the same name,
    /// postcode, address and phone once widths, spaces and hyphens are
    /// folded. The e-mail and the reading are not compared: a recipient
    /// rarely has them (Rakuten's never carry an e-mail), and they say
    /// nothing about where the parcel goes. This is who counts as a gift
    /// (送り先 ≠ 購入者) for a deferred-payment provider.
    pub fn same_destination(&self, other: &Party) -> bool {
        fold(&self.name) == fold(&other.name)
            && fold(&self.postal_code) == fold(&other.postal_code)
            && fold(&self.address) == fold(&other.address)
            && fold(&self.phone) == fold(&other.phone)
    }
}

/// Full-width ASCII as ASCII, without whitespace or hyphen-like signs, lowercased.
fn fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | 'ー' | '‐' | '−' | '―'))
        .flat_map(char::to_lowercase)
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectLine {
    pub line_no: u32,
    pub sku: String,
    #[serde(default)]
    pub name: String,
    pub qty: u32,
    /// Yen, tax included.
    pub unit_price: i64,
    /// 出品者コード: the seller of the line (KOMOJU Platform Model), when
    /// not the product master's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seller: Option<String>,
}

/// How a direct order is paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum DirectPayment {
    None,
    Kuroneko,
    AtobaraiCom,
    Komoju {
        #[serde(default)]
        payment_id: Option<String>,
        #[serde(default)]
        external_order_num: Option<String>,
    },
}

impl DirectPayment {
    pub fn method(&self) -> super::order::PaymentMethod {
        use super::order::PaymentMethod;
        match self {
            DirectPayment::None => PaymentMethod::None,
            DirectPayment::Kuroneko => PaymentMethod::Kuroneko,
            DirectPayment::AtobaraiCom => PaymentMethod::AtobaraiCom,
            DirectPayment::Komoju { .. } => PaymentMethod::Komoju,
        }
    }

    /// The deferred-payment provider that checks the buyer's credit, if any.
    pub fn deferred_provider(&self) -> Option<super::credit::DeferredProvider> {
        match self {
            DirectPayment::Kuroneko => Some(super::credit::DeferredProvider::Kuroneko),
            DirectPayment::AtobaraiCom => Some(super::credit::DeferredProvider::AtobaraiCom),
            DirectPayment::None | DirectPayment::Komoju { .. } => None,
        }
    }
}

/// A validated direct order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectOrder {
    pub channel: String,
    pub id: String,
    pub ordered_at: String,
    pub customer: Party,
    #[serde(default)]
    pub ship_to: Option<Party>,
    pub lines: Vec<DirectLine>,
    #[serde(default)]
    pub shipping_fee: i64,
    #[serde(default)]
    pub fee: i64,
    pub payment: DirectPayment,
    /// Whether the daemon reserves stock for the order.
    #[serde(default)]
    pub allocate: bool,
}

impl DirectOrder {
    /// Parses and validates a registration body.
    pub fn parse(body: &[u8]) -> Result<DirectOrder, FieldError> {
        // serde takes an array for a struct too; only the documented object is an order.
        if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(err("body", "must be a JSON object"));
        }
        let mut o: DirectOrder = serde_json::from_slice(body)
            .map_err(|e| err("body", format!("not a direct order: {e}")))?;
        if o.channel != "direct" {
            return Err(err("channel", "must be \"direct\""));
        }
        o.id = o.id.trim().to_string();
        // `.` and `..` would be path steps in the console's and the API's
        // order addresses.
        if o.id.is_empty()
            || o.id.len() > 64
            || matches!(o.id.as_str(), "." | "..")
            || o.id
                .chars()
                .any(|c| c.is_control() || c == '/' || super::input::is_bidi_control(c))
        {
            return Err(err(
                "id",
                "must be 1 to 64 printable characters without '/', and not . or ..",
            ));
        }
        let at = chrono::DateTime::parse_from_rfc3339(&o.ordered_at)
            .map_err(|_| err("ordered_at", "must be an RFC 3339 date-time"))?;
        o.ordered_at = super::time::rfc3339(at.with_timezone(&super::time::jst()));
        check_party("customer", &o.customer)?;
        if let Some(p) = &o.ship_to {
            check_party("ship_to", p)?;
        }
        if o.lines.is_empty() || o.lines.len() > 200 {
            return Err(err("lines", "an order has 1 to 200 lines"));
        }
        for (i, l) in o.lines.iter().enumerate() {
            let at = |f: &str| format!("lines[{i}].{f}");
            if l.line_no == 0 || o.lines[..i].iter().any(|x| x.line_no == l.line_no) {
                return Err(err(at("line_no"), "must be unique and ≥ 1"));
            }
            if l.sku.trim().is_empty() || l.sku.len() > 128 {
                return Err(err(at("sku"), "must be 1 to 128 characters"));
            }
            if l.qty == 0 || l.qty > 1_000_000 {
                return Err(err(at("qty"), "must be 1 to 1000000"));
            }
            if l.seller.as_ref().is_some_and(|s| {
                s.is_empty()
                    || s.len() > 32
                    || !s
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            }) {
                return Err(err(
                    at("seller"),
                    "must be a seller code (1 to 32 letters, digits, - or _)",
                ));
            }
            if !(-10_000_000..=10_000_000).contains(&l.unit_price) {
                return Err(err(at("unit_price"), "must be whole yen within ±10000000"));
            }
        }
        for (field, v) in [("shipping_fee", o.shipping_fee), ("fee", o.fee)] {
            if !(0..=10_000_000).contains(&v) {
                return Err(err(field, "must be whole yen from 0 to 10000000"));
            }
        }
        if let DirectPayment::Komoju {
            payment_id,
            external_order_num,
        } = &o.payment
        {
            let ok =
                |s: &Option<String>| s.as_deref().is_some_and(|v| !v.is_empty() && v.len() <= 64);
            if !ok(payment_id) && !ok(external_order_num) {
                return Err(err(
                    "payment",
                    "a KOMOJU payment needs payment_id or external_order_num",
                ));
            }
        }
        Ok(o)
    }

    /// A digest of the validated content: the same registration sent again
    /// has the same digest; a conflicting one does not.
    pub fn digest(&self) -> String {
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(Sha256::digest(bytes))
    }

    /// The billed total: lines, shipping and fee, in yen.
    pub fn total(&self) -> i64 {
        self.lines
            .iter()
            .map(|l| l.unit_price * i64::from(l.qty))
            .sum::<i64>()
            + self.shipping_fee
            + self.fee
    }
}

fn check_party(role: &str, p: &Party) -> Result<(), FieldError> {
    let f = |name: &str| format!("{role}.{name}");
    if p.name.trim().is_empty() || p.name.chars().count() > 60 {
        return Err(err(f("name"), "must be 1 to 60 characters"));
    }
    let postal: String = p.postal_code.chars().filter(|c| *c != '-').collect();
    if postal.len() != 7 || !postal.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(f("postal_code"), "must be 7 digits"));
    }
    if p.address.trim().is_empty() || p.address.chars().count() > 200 {
        return Err(err(f("address"), "must be 1 to 200 characters"));
    }
    let digits: String = p.phone.chars().filter(|c| *c != '-').collect();
    if !(10..=11).contains(&digits.len())
        || !digits.starts_with('0')
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(err(f("phone"), "must be 10 or 11 digits starting with 0"));
    }
    if p.email
        .as_deref()
        .is_some_and(|e| !e.contains('@') || e.len() > 254)
    {
        return Err(err(f("email"), "is not an e-mail address"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_same_destination_ignores_email_widths_spaces_and_hyphens() {
        let buyer = super::Party {
            name: "山田 太郎".into(),
            name_kana: "ﾔﾏﾀﾞ ﾀﾛｳ".into(),
            postal_code: "100-0001".into(),
            address: "東京都千代田区千代田1-1".into(),
            phone: "03-1234-5678".into(),
            email: Some("taro@example.jp".into()),
        };
        let recipient = super::Party {
            name: "山田　太郎".into(),
            name_kana: String::new(),
            postal_code: "1000001".into(),
            address: "東京都千代田区千代田１－１".into(),
            phone: "0312345678".into(),
            email: None,
        };
        assert!(buyer.same_destination(&recipient));
        let elsewhere = super::Party {
            address: "東京都千代田区千代田2-1".into(),
            ..recipient.clone()
        };
        assert!(!buyer.same_destination(&elsewhere));
        let someone_else = super::Party {
            name: "山田 花子".into(),
            ..recipient
        };
        assert!(!buyer.same_destination(&someone_else));
    }

    use super::*;

    const ORDER: &str = r#"{"channel": "direct", "id": "SHOP-1001", "ordered_at": "2026-11-23T10:00:00+09:00",
       "customer": {"name": "山田 太郎", "name_kana": "ﾔﾏﾀﾞ ﾀﾛｳ", "postal_code": "1000001",
                    "address": "東京都千代田区千代田1-1", "phone": "0312345678", "email": "taro@example.jp"},
       "ship_to": null,
       "lines": [{"line_no": 1, "sku": "SKU-001", "name": "南部鉄器 急須", "qty": 1, "unit_price": 5500}],
       "shipping_fee": 800, "fee": 0,
       "payment": {"method": "kuroneko"},
       "allocate": false}"#;

    #[test]
    fn parses_the_documented_example() {
        let o = DirectOrder::parse(ORDER.as_bytes()).unwrap();
        assert_eq!(o.payment, DirectPayment::Kuroneko);
        assert_eq!(o.total(), 6300);
        assert_eq!(
            o.digest(),
            DirectOrder::parse(ORDER.as_bytes()).unwrap().digest()
        );
    }

    #[test]
    fn names_the_bad_field() {
        let cases = [
            (
                r#""channel": "direct""#,
                r#""channel": "rakuten""#,
                "channel",
            ),
            (
                r#""phone": "0312345678""#,
                r#""phone": "12345""#,
                "customer.phone",
            ),
            (r#""qty": 1"#, r#""qty": 0"#, "lines[0].qty"),
            (r#""id": "SHOP-1001""#, r#""id": "..""#, "id"),
            (r#""id": "SHOP-1001""#, r#""id": ".""#, "id"),
            (r#""id": "SHOP-1001""#, r#""id": "A\u202e1""#, "id"),
            (
                r#""postal_code": "1000001""#,
                r#""postal_code": "10001""#,
                "customer.postal_code",
            ),
            (
                r#"{"method": "kuroneko"}"#,
                r#"{"method": "komoju"}"#,
                "payment",
            ),
            (
                r#""ordered_at": "2026-11-23T10:00:00+09:00""#,
                r#""ordered_at": "today""#,
                "ordered_at",
            ),
        ];
        for (from, to, field) in cases {
            let e = DirectOrder::parse(ORDER.replace(from, to).as_bytes()).unwrap_err();
            assert_eq!(e.field, field, "{to}");
        }
        assert_eq!(DirectOrder::parse(b"{").unwrap_err().field, "body");
    }
}
