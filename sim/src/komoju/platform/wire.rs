//! The JSON of the Platform Model's resources, written from the contract's
//! field lists ("Platform Model" \[node:Models/…\]); fields it leaves open
//! are shown as the module docs of the platform say.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::{
    ApplicationStatus, BalanceField, LedgerSign, LineKind, PlatformDetails, Settlement, SplitEntry,
    SubMerchant, Transaction,
};
use crate::komoju::state::{DEFAULT_PER_PAGE, MAX_PER_PAGE};
use crate::komoju::wire::{ApiError, format_time};

/// `page` and `per_page` of a list query (as `GET /payments` reads them).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paging {
    /// From 1.
    pub page: u32,
    /// Clamped to 1..=[`MAX_PER_PAGE`].
    pub per_page: u32,
}

impl Paging {
    pub(crate) fn read(query: &HashMap<String, String>) -> Result<Paging, ApiError> {
        let number = |name: &'static str, default: u32| -> Result<u32, ApiError> {
            match query.get(name).map(|s| s.trim()).filter(|s| !s.is_empty()) {
                None => Ok(default),
                Some(s) => s
                    .parse::<u32>()
                    .map_err(|_| ApiError::invalid(name, format!("{name} must be a whole number"))),
            }
        };
        Ok(Paging {
            page: number("page", 1)?.max(1),
            per_page: number("per_page", DEFAULT_PER_PAGE)?.clamp(1, MAX_PER_PAGE),
        })
    }

    /// This page of `hits` as JSON, and the paging fields.
    pub(crate) fn page<T>(
        self,
        hits: &[T],
        show: impl Fn(&T) -> Value,
    ) -> (Vec<Value>, Map<String, Value>) {
        let per = self.per_page as usize;
        let data = (hits.iter())
            .skip((self.page as usize - 1).saturating_mul(per))
            .take(per)
            .map(show)
            .collect();
        let mut fields = Map::new();
        fields.insert("total".into(), hits.len().into());
        fields.insert("page".into(), self.page.into());
        fields.insert("per_page".into(), self.per_page.into());
        fields.insert("last_page".into(), hits.len().div_ceil(per).max(1).into());
        (data, fields)
    }
}

/// An RFC 3339 query parameter, if given.
pub(crate) fn time_param(
    query: &HashMap<String, String>,
    name: &'static str,
) -> Result<Option<DateTime<Utc>>, ApiError> {
    match query.get(name).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| ApiError::invalid(name, format!("{name} must be an ISO 8601 time"))),
    }
}

/// A `true`/`false` query parameter, if given.
pub(crate) fn bool_param(
    query: &HashMap<String, String>,
    name: &'static str,
) -> Result<Option<bool>, ApiError> {
    match query.get(name).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(ApiError::invalid(
            name,
            format!("{name} must be true or false"),
        )),
    }
}

/// Reads `platform_details` from a request's field (absent or `null`: none):
/// `{"submerchants": [{"submerchant_id", "amount", "platform_fee"}]}`, the
/// amounts integers (or, when `strings`, strings of digits).
pub(crate) fn read_details(
    value: Option<&Value>,
    strings: bool,
    code: &'static str,
) -> Result<Option<PlatformDetails>, ApiError> {
    let bad = |message: String| ApiError {
        param: Some("platform_details"),
        ..ApiError::new_422(code, message)
    };
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let Some(entries) = value.get("submerchants").and_then(Value::as_array) else {
        return Err(bad(
            "platform_details must be an object with a submerchants array".into(),
        ));
    };
    if entries.is_empty() || entries.len() > super::MAX_SPLIT_ENTRIES {
        return Err(bad(format!(
            "platform_details.submerchants must have 1 to {} entries",
            super::MAX_SPLIT_ENTRIES
        )));
    }
    let yen = |entry: &Value, name: &str| -> Result<i64, ApiError> {
        let v = entry.get(name);
        let n = match v {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) if strings && !s.is_empty() && s.len() <= 15 => s
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| s.parse().ok())
                .flatten(),
            _ => None,
        };
        n.filter(|n| *n >= 0)
            .ok_or_else(|| bad(format!("{name} must be an integer of 0 or more")))
    };
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let id = match entry.get("submerchant_id") {
            Some(Value::String(s)) if !s.is_empty() && s.len() <= 100 => s.clone(),
            _ => return Err(bad("submerchant_id must be a merchant id".into())),
        };
        out.push(SplitEntry {
            submerchant_id: id,
            amount: yen(entry, "amount")?,
            platform_fee: yen(entry, "platform_fee")?,
        });
    }
    Ok(Some(PlatformDetails { submerchants: out }))
}

/// `platform_details` as echoed on a payment, refund or refund request.
pub(crate) fn details(d: &PlatformDetails) -> Value {
    json!({
        "submerchants": d.submerchants.iter().map(|e| json!({
            "submerchant_id": e.submerchant_id,
            "amount": e.amount,
            "platform_fee": e.platform_fee,
        })).collect::<Vec<_>>()
    })
}

/// A sub-merchant in full \[node:Models/SerializedSubmerchant\].
pub(crate) fn merchant(m: &SubMerchant, account_id: &str) -> Value {
    json!({
        "id": m.id,
        "resource": "merchant",
        "live": m.live,
        "created_at": format_time(m.created_at),
        "updated_at": format_time(m.updated_at),
        "account_id": account_id,
        "name": m.name,
        "platform_role": m.platform_role,
        "status": m.status.as_str(),
        "payments_enabled": m.payments_enabled,
        "payouts_enabled": m.payouts_enabled,
        "expiry_settings": m.expiry_settings,
        "active_payment_methods": m.active_payment_methods,
        "publishable_key": m.publishable_key,
        "send_payment_emails": m.emails,
    })
}

/// A sub-merchant in a list \[node:Models/SubmerchantListItem\].
pub(crate) fn merchant_item(m: &SubMerchant) -> Value {
    json!({
        "id": m.id,
        "name": m.name,
        "live": m.live,
        "platform_role": m.platform_role,
        "status": m.status.as_str(),
        "payments_enabled": m.payments_enabled,
        "payouts_enabled": m.payouts_enabled,
        "created_at": format_time(m.created_at),
    })
}

/// A live application \[node:Models/LiveApplication\].
pub(crate) fn application(m: &SubMerchant, requested: &[String], newly: &[String]) -> Value {
    json!({
        "merchant_id": m.id,
        "status": m.status.as_str(),
        "payments_enabled": m.payments_enabled,
        "payouts_enabled": m.payouts_enabled,
        "requested_fields": requested,
        "newly_requested_fields": newly,
        "errored_fields": m.errored_fields,
    })
}

/// The unsettled balance \[node:Models/BalanceShow, SharedDetails_platform_model\].
pub(crate) fn balance(
    total: i64,
    by_kind: &HashMap<LineKind, i64>,
    disbursements: i64,
    field: BalanceField,
) -> Value {
    let of = |k: LineKind| by_kind.get(&k).copied().unwrap_or(0);
    let parts = [
        LineKind::FundTransfer,
        LineKind::PaymentShare,
        LineKind::PaymentShareRefund,
        LineKind::PlatformFee,
        LineKind::PlatformFeeRefund,
    ];
    let model_total = parts.iter().fold(0i64, |s, k| s.saturating_add(of(*k)));
    let mut out = json!({
        "currency": "JPY",
        "payments": of(LineKind::Payment),
        "refunds": of(LineKind::Refund),
        "platform_model": {
            "fund_transfer_total_cents": of(LineKind::FundTransfer),
            "payment_share_total_cents": of(LineKind::PaymentShare),
            "payment_share_refund_total_cents": of(LineKind::PaymentShareRefund),
            "platform_fee_total_cents": of(LineKind::PlatformFee),
            "platform_fee_refund_total_cents": of(LineKind::PlatformFeeRefund),
            "submerchant_management_fees_cents": 0,
            "total_cents": model_total,
        },
        "corrections": 0,
        "komoju_card_charges": 0,
        "disbursements": disbursements,
        "misc": of(LineKind::ProcessingFee),
    });
    if let Some(map) = out.as_object_mut() {
        if field != BalanceField::BalanceTotal {
            map.insert("total_balance_cents".into(), total.into());
        }
        if field != BalanceField::TotalBalanceCents {
            map.insert("balance_total".into(), total.into());
        }
    }
    out
}

/// A ledger transaction; `lines`: with its line items.
pub(crate) fn transaction(t: &Transaction, sign: LedgerSign, lines: bool) -> Value {
    let shown = |a: i64| match sign {
        LedgerSign::Signed => a,
        LedgerSign::Unsigned => a.saturating_abs(),
    };
    let mut out = json!({
        "id": t.id,
        "type": t.kind.as_str(),
        "amount_cents": shown(t.amount().unwrap_or(0)),
        "happened_at": format_time(t.happened_at),
    });
    if lines && let Some(map) = out.as_object_mut() {
        map.insert("payment".into(), t.payment_id.clone().into());
        map.insert("counterparty".into(), t.counterparty.clone().into());
        map.insert(
            "line_items".into(),
            (t.lines.iter())
                .map(|l| json!({"type": l.kind.as_str(), "amount_cents": shown(l.amount)}))
                .collect(),
        );
    }
    out
}

/// A settlement (fields unpublished: what it covers and pays).
pub(crate) fn settlement(s: &Settlement) -> Value {
    json!({
        "id": s.id,
        "resource": "settlement",
        "merchant_id": s.merchant_id,
        "currency": "JPY",
        "start_date": s.period_start.to_string(),
        "end_date": s.period_end.to_string(),
        "payout_date": s.payout_date.to_string(),
        "total_cents": s.total,
        "bank_fee_cents": s.bank_fee,
        "payout_cents": s.payout,
        "created_at": format_time(s.created_at),
    })
}

/// The application status a review moves to, from `{status}`.
pub(crate) fn status_field(body: &Map<String, Value>) -> Result<ApplicationStatus, ApiError> {
    match body.get("status") {
        None | Some(Value::Null) => Err(ApiError::missing("status")),
        Some(v) => v
            .as_str()
            .and_then(ApplicationStatus::parse)
            .ok_or_else(|| ApiError::invalid("status", "Unknown application status")),
    }
}
