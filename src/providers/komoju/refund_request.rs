//! Refund requests \[refund-req\]: konbini, bank-transfer and Pay-easy money
//! goes back only to the customer's bank account, which the merchant enters.
//!
//! - [`RawBankAccount`]: the account as the admin API, the CLI and the
//!   console take it (the contract's field names), checked by
//!   [`RawBankAccount::validate`] into the store's [`BankAccount`], each
//!   error naming its field, Japanese first.
//! - [`Body`]: `POST /payments/{id}/refund_request`.
//! - [`Seen`]: an element of a payment's `refund_requests[]`, of which only
//!   the id, status and description are read (never the customer's data).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Payment, WebhookEvent};
use crate::providers::credit::kuroneko::width::to_half_width_kana;
pub use crate::store::komoju_refund_requests::BankAccount;

/// `account_type` values taken: the contract's only documented one is
/// `normal` (普通預金) \[ruby:PaymentsApi\]; others are \[guess\], so refused
/// here rather than filed and rejected.
pub const ACCOUNT_TYPES: &[&str] = &["normal"];

/// Longest name taken (KOMOJU publishes no limit; assumed).
const MAX_TEXT: usize = 100;

/// A bank account as entered: every field optional here so that the check
/// can name what is missing.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBankAccount {
    /// 口座名義 (カナ).
    pub customer_name: Option<String>,
    /// 銀行名.
    pub bank_name: Option<String>,
    /// 銀行コード, 4 digits (optional).
    pub bank_code: Option<Digits>,
    /// 支店名 (optional).
    pub branch_name: Option<String>,
    /// 支店番号, 3 digits.
    pub branch_number: Option<Digits>,
    /// `normal` (普通) unless given.
    pub account_type: Option<String>,
    /// 口座番号, 7 digits.
    pub account_number: Option<Digits>,
    /// Also return the customer's konbini or bank fee.
    pub include_payment_method_fee: Option<bool>,
}

/// Digits as a JSON string or number.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Digits {
    /// `"0123"`.
    Text(String),
    /// `123` (leading zeros lost; padded back).
    Number(u64),
}

/// A field of a bank account that cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AccountError {
    /// The contract's name of the field.
    pub field: &'static str,
    /// What is wrong, Japanese first.
    pub message: String,
}

impl AccountError {
    fn new(field: &'static str, ja: &str, en: &str) -> AccountError {
        AccountError {
            field,
            message: format!("{}({field}){ja} / {field}: {en}", label(field)),
        }
    }
}

/// The merchant's name of a field.
fn label(field: &str) -> &'static str {
    match field {
        "customer_name" => "口座名義カナ",
        "bank_name" => "銀行名",
        "bank_code" => "銀行コード",
        "branch_name" => "支店名",
        "branch_number" => "支店番号",
        "account_type" => "預金種目",
        "account_number" => "口座番号",
        _ => "項目",
    }
}

impl RawBankAccount {
    /// Checks every field: the name as half-width katakana (full-width
    /// katakana and hiragana are converted), 4/3/7 digits left-padded with
    /// zeros, an account type KOMOJU documents.
    pub fn validate(&self) -> Result<BankAccount, AccountError> {
        let name = required(&self.customer_name, "customer_name")?;
        let customer_name = to_half_width_kana(name)
            .map(|s| s.to_ascii_uppercase())
            .ok()
            .filter(|s| s.chars().all(zengin_char) && s.chars().count() <= MAX_TEXT)
            .ok_or_else(|| {
                AccountError::new(
                    "customer_name",
                    "は銀行に登録されたカタカナで入力してください",
                    "the account holder's name in katakana, as registered at the bank",
                )
            })?;
        let account_type = match self.account_type.as_deref().map(str::trim) {
            None | Some("") => ACCOUNT_TYPES[0].to_string(),
            Some(t) if ACCOUNT_TYPES.contains(&t) => t.to_string(),
            Some(_) => {
                return Err(AccountError::new(
                    "account_type",
                    &format!("は {} のみ指定できます", ACCOUNT_TYPES.join(", ")),
                    &format!("one of {}", ACCOUNT_TYPES.join(", ")),
                ));
            }
        };
        Ok(BankAccount {
            customer_name,
            bank_name: required(&self.bank_name, "bank_name")?.to_string(),
            bank_code: digits(self.bank_code.as_ref(), "bank_code", 4)?,
            branch_name: optional(&self.branch_name, "branch_name")?,
            branch_number: digits(self.branch_number.as_ref(), "branch_number", 3)?
                .ok_or_else(|| missing("branch_number"))?,
            account_type,
            account_number: digits(self.account_number.as_ref(), "account_number", 7)?
                .ok_or_else(|| missing("account_number"))?,
            include_fee: self.include_payment_method_fee.unwrap_or(false),
        })
    }
}

fn missing(field: &'static str) -> AccountError {
    AccountError::new(field, "を入力してください", "missing")
}

fn required<'a>(v: &'a Option<String>, field: &'static str) -> Result<&'a str, AccountError> {
    let text = v.as_deref().map(str::trim).unwrap_or_default();
    if text.is_empty() {
        return Err(missing(field));
    }
    if text.chars().count() > MAX_TEXT || text.chars().any(char::is_control) {
        return Err(AccountError::new(
            field,
            &format!("は {MAX_TEXT} 文字以内で入力してください"),
            &format!("at most {MAX_TEXT} characters, no control characters"),
        ));
    }
    Ok(text)
}

fn optional(v: &Option<String>, field: &'static str) -> Result<Option<String>, AccountError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(_) => required(v, field).map(|s| Some(s.to_string())),
    }
}

/// Up to `width` digits (full-width ones too), left-padded with zeros.
fn digits(
    v: Option<&Digits>,
    field: &'static str,
    width: usize,
) -> Result<Option<String>, AccountError> {
    let raw: String = match v {
        None => return Ok(None),
        Some(Digits::Number(n)) => n.to_string(),
        Some(Digits::Text(s)) => s
            .trim()
            .chars()
            .map(|c| match c {
                '０'..='９' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                c => c,
            })
            .collect(),
    };
    if raw.is_empty() && matches!(v, Some(Digits::Text(_))) {
        return Ok(None);
    }
    if raw.is_empty() || raw.len() > width || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AccountError::new(
            field,
            &format!("は {width} 桁の数字で入力してください"),
            &format!("{width} digits"),
        ));
    }
    Ok(Some(format!("{raw:0>width$}")))
}

/// What a Zengin account name may hold: half-width katakana (not the
/// half-width punctuation 。「」、・), upper-case letters, digits, space and
/// `( ) . - /`.
fn zengin_char(c: char) -> bool {
    matches!(c, '\u{FF66}'..='\u{FF9F}' | 'A'..='Z' | '0'..='9' | ' ' | '(' | ')' | '.' | '-' | '/')
}

/// `POST /payments/{id}/refund_request` \[node:Models/CreateRefundRequestRequest\].
#[derive(Serialize)]
pub struct Body<'a> {
    /// Yen, without the customer's fee (that is `include_payment_method_fee`).
    pub amount: i64,
    /// Half-width katakana.
    pub customer_name: &'a str,
    /// 銀行名.
    pub bank_name: &'a str,
    /// 4 digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank_code: Option<&'a str>,
    /// 支店名.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch_name: Option<&'a str>,
    /// 3 digits.
    pub branch_number: &'a str,
    /// `normal`.
    pub account_type: &'a str,
    /// 7 digits, sent as a string so that leading zeros survive (the schema
    /// says integer, the answers string \[guess\]).
    pub account_number: &'a str,
    /// Also return the customer's konbini or bank fee \[h-cash-refund\].
    pub include_payment_method_fee: bool,
    /// The merchant's note; carries the call's idempotency key, which is how
    /// the request is found again among the payment's `refund_requests[]`.
    pub description: String,
}

impl<'a> Body<'a> {
    /// The request for `amount` to `a`, marked with `key`.
    pub fn new(a: &'a BankAccount, amount: i64, order_id: &str, key: &str) -> Body<'a> {
        Body {
            amount,
            customer_name: &a.customer_name,
            bank_name: &a.bank_name,
            bank_code: a.bank_code.as_deref(),
            branch_name: a.branch_name.as_deref(),
            branch_number: &a.branch_number,
            account_type: &a.account_type,
            account_number: &a.account_number,
            include_payment_method_fee: a.include_fee,
            description: description(order_id, key),
        }
    }
}

/// The description of the request an outbox call with `key` files.
pub fn description(order_id: &str, key: &str) -> String {
    let order: String = order_id.chars().take(60).collect();
    format!("{order} [{key}]")
}

/// Where KOMOJU says a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SeenStatus {
    /// Waiting for KOMOJU's hand processing.
    Pending,
    /// Money transferred.
    Completed,
    /// Refused (wrong bank data): file again.
    Rejected,
    /// A status this adapter does not know.
    Unknown,
}

/// One element of `refund_requests[]`, without the customer's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// KOMOJU's id.
    pub id: String,
    /// `pending | completed | rejected`.
    pub status: SeenStatus,
    /// The merchant's note (carries the idempotency key of the call that filed it).
    pub description: Option<String>,
}

/// Reads `refund_requests[]` leniently: an element without an id is skipped.
pub fn seen(raw: Option<&[Value]>) -> Vec<Seen> {
    raw.unwrap_or_default()
        .iter()
        .filter_map(|r| {
            let id = r.get("id")?.as_str()?.trim();
            let id_ok = !id.is_empty() && id.len() <= super::wire::MAX_ID_LEN;
            id_ok.then(|| Seen {
                id: id.to_string(),
                status: match r.get("status").and_then(Value::as_str) {
                    Some("pending") => SeenStatus::Pending,
                    Some("completed") => SeenStatus::Completed,
                    Some("rejected") => SeenStatus::Rejected,
                    _ => SeenStatus::Unknown,
                },
                description: r
                    .get("description")
                    .and_then(Value::as_str)
                    .map(|d| d.chars().take(200).collect()),
            })
        })
        .collect()
}

/// The payment of a `refund_request.updated` event (its `data` is the
/// request, whose `payment` is the payment's id) \[pm-webhooks\].
pub fn payment_of_update(kind: &WebhookEvent, data: Option<&Value>) -> Option<String> {
    let WebhookEvent::Other(t) = kind else {
        return None;
    };
    if !t.ends_with("refund_request.updated") {
        return None;
    }
    let id = data?.get("payment")?.as_str()?.trim();
    let ok = !id.is_empty()
        && id.len() <= super::wire::MAX_ID_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric());
    ok.then(|| id.to_string())
}

/// The customer's data a refund request carries back in KOMOJU's JSON.
const CUSTOMER_FIELDS: [&str; 6] = [
    "customer_name",
    "bank_name",
    "bank_code",
    "branch_name",
    "branch_number",
    "account_number",
];

/// A webhook body without the customer's bank account: KOMOJU echoes it in
/// every payment's `refund_requests[]` and in `refund_request.updated`, and
/// the inbox keeps bodies. `None` when there is nothing to take out (the
/// body is kept byte for byte).
pub fn redact_bank_data(body: &[u8]) -> Option<Vec<u8>> {
    let mut event: Value = serde_json::from_slice(body).ok()?;
    let data = event.get_mut("data")?;
    let mut changed = false;
    if data.get("payment").is_some_and(Value::is_string) {
        changed |= blank(data);
    }
    if let Some(Value::Array(list)) = data.get_mut("refund_requests") {
        for r in list {
            changed |= blank(r);
        }
    }
    if !changed {
        return None;
    }
    serde_json::to_vec(&event).ok()
}

/// Blanks the customer's fields of one refund request; whether any was there.
fn blank(r: &mut Value) -> bool {
    let Some(fields) = r.as_object_mut() else {
        return false;
    };
    let mut changed = false;
    for f in CUSTOMER_FIELDS {
        if let Some(v) = fields.get_mut(f).filter(|v| !v.is_null()) {
            *v = Value::String("[redacted]".to_string());
            changed = true;
        }
    }
    changed
}

impl Payment {
    /// The request an outbox call with idempotency `key` filed, if KOMOJU shows it.
    pub fn refund_request_filed_with(&self, key: &str) -> Option<&Seen> {
        let mark = format!("[{key}]");
        (self.refund_requests.iter())
            .find(|r| r.description.as_deref().is_some_and(|d| d.contains(&mark)))
    }

    /// What a refund request asks back: what arrived (a mis-paid transfer:
    /// the captured sum; the customer's fee aside, which the request returns
    /// by its own flag), less what was refunded already.
    pub fn refund_request_amount(&self) -> i64 {
        let asked = self.total.saturating_sub(self.payment_method_fee);
        let taken = match self.captured {
            Some(c) if c == self.total => asked,
            Some(c) => c.min(asked),
            None => asked,
        };
        taken.saturating_sub(self.amount_refunded).max(0)
    }
}

#[cfg(test)]
mod tests;
