//! The Platform Model's JSON (contract "Platform Model"): the sub-merchant
//! KOMOJU answers, the split sent with a capture, and the seller events'
//! `data`. Read leniently: the API is alpha and its pages disagree.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `POST /merchants` body: a `payout` seller (the marketplace case).
#[derive(Debug, Clone, Serialize)]
pub struct KomojuCreateMerchant<'a> {
    /// The seller's name.
    pub name: &'a str,
    /// Always `payout`: sellers of a marketplace only receive payouts.
    pub platform_role: &'static str,
}

/// The sub-merchant as `POST /merchants` and `GET /merchants/{id}` answer
/// it; only what the daemon follows.
#[derive(Debug, Clone, Deserialize)]
pub struct KomojuMerchant {
    /// The sub-merchant id (25 alphanumerics).
    pub id: Option<String>,
    /// The live application's state (a free string, \[guess\]: the
    /// application's values).
    #[serde(default)]
    pub status: Option<Value>,
    /// Whether KOMOJU pays the seller out.
    #[serde(default)]
    pub payouts_enabled: Option<Value>,
}

/// `platform_details` of a capture, refund or refund request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KomojuPlatformDetails {
    /// One entry per seller.
    pub submerchants: Vec<KomojuSubmerchantShare>,
}

/// One seller's entry: integers, tax included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KomojuSubmerchantShare {
    /// The seller's sub-merchant id.
    pub submerchant_id: String,
    /// Credited to the seller's balance.
    pub amount: i64,
    /// Moved from the seller to the platform.
    pub platform_fee: i64,
}

/// `POST /payments/{id}/capture` or `/refund` with a split (no amount:
/// all of the payment, or all that is left of it).
#[derive(Debug, Clone, Serialize)]
pub struct KomojuSplit<'a> {
    /// The split, applied at capture; what each seller gives back on a refund.
    pub platform_details: &'a KomojuPlatformDetails,
}

/// One seller's entry of the split KOMOJU recorded on a payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedShare {
    /// The seller's sub-merchant id.
    pub submerchant_id: String,
    /// Credited to the seller.
    pub amount: i64,
    /// Moved from the seller to the platform.
    pub platform_fee: i64,
}

/// The split of a payment's `platform_details`, read leniently (the guide
/// quotes the amounts as strings \[pm-ppm\]); entries that cannot be read
/// are left out.
pub fn recorded_split(details: Option<&Value>) -> Vec<RecordedShare> {
    let int = |v: Option<&Value>| match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    let Some(Value::Array(entries)) = details.and_then(|d| d.get("submerchants")) else {
        return Vec::new();
    };
    entries
        .iter()
        .take(1000)
        .filter_map(|e| {
            Some(RecordedShare {
                submerchant_id: e.get("submerchant_id")?.as_str()?.to_string(),
                amount: int(e.get("amount"))?,
                platform_fee: int(e.get("platform_fee")).unwrap_or(0),
            })
        })
        .collect()
}

/// The state read from a sub-merchant: `(status, payouts_enabled)`; a
/// missing or odd status reads as `unknown`, payouts as off.
pub fn merchant_state(m: &KomojuMerchant) -> (String, bool) {
    let status = m
        .status
        .as_ref()
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 40 && s.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("unknown")
        .to_string();
    let payouts = matches!(m.payouts_enabled, Some(Value::Bool(true)));
    (status, payouts)
}

/// The seller a `submerchant.*` event is about: `data.merchant_id` (the
/// live application) or `data.id` (a merchant). `None` for other events.
pub fn submerchant_of(kind: &str, data: Option<&Value>) -> Option<String> {
    if !kind.starts_with("submerchant.") {
        return None;
    }
    let data = data?;
    let id = data
        .get("merchant_id")
        .or_else(|| data.get("id"))
        .and_then(Value::as_str)?;
    (!id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| id.to_string())
}

/// One page of an account's balance ledger.
#[derive(Debug, Clone, Deserialize)]
pub struct KomojuLedgerPage {
    /// The transactions of the page.
    #[serde(default)]
    pub data: Vec<KomojuLedgerEntry>,
    /// The last page number.
    #[serde(default)]
    pub last_page: Option<i64>,
}

/// One transaction of the ledger.
#[derive(Debug, Clone, Deserialize)]
pub struct KomojuLedgerEntry {
    /// `payment`, `refund`, `balance_transfer`, `settlement`, ….
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// Yen (JPY has no cents), signed \[guess\].
    #[serde(default)]
    pub amount_cents: Option<i64>,
}

/// `POST /merchants/{from}/balances/JPY/transfer` body.
#[derive(Debug, Clone, Serialize)]
pub struct KomojuTransfer<'a> {
    /// The receiving account.
    pub to: &'a str,
    /// Yen.
    pub amount: i64,
}
