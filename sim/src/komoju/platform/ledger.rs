//! Balances and ledgers (contract "Balances", "Transfers"): bookings are
//! planned (every account's new balance computed with checked arithmetic)
//! and only then applied, so a booking is taken whole or not at all.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::wire::{self as pw, Paging};
use super::{Line, LineKind, Platform, Transaction, TransferPaths, TxKind, uuid};
use crate::komoju::model::{Payment, PaymentStatus};
use crate::komoju::wire::{ApiError, format_time};

/// One account's part of a booking.
#[derive(Debug, Clone)]
pub(crate) struct Posting {
    pub account: String,
    pub kind: TxKind,
    pub payment_id: Option<String>,
    pub counterparty: Option<String>,
    pub lines: Vec<Line>,
}

impl Posting {
    pub(crate) fn new(account: &str, kind: TxKind, payment_id: Option<&str>) -> Posting {
        Posting {
            account: account.to_string(),
            kind,
            payment_id: payment_id.map(str::to_string),
            counterparty: None,
            lines: Vec::new(),
        }
    }

    /// Adds a line unless it is zero.
    pub(crate) fn line(mut self, kind: LineKind, amount: i64) -> Posting {
        if amount != 0 {
            self.lines.push(Line { kind, amount });
        }
        self
    }
}

/// A booking whose arithmetic was checked: applying it cannot fail.
#[derive(Debug)]
pub(crate) struct Plan {
    postings: Vec<Posting>,
    balances: HashMap<String, i64>,
    fees: i64,
    paid_out: i64,
}

/// The conservation check's figures ([`Platform::conservation`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conservation {
    /// The sum of every account's balance.
    pub balances: i64,
    /// KOMOJU's processing and bank fees.
    pub fees: i64,
    /// Paid out to bank accounts.
    pub paid_out: i64,
    /// What payments captured, less what was refunded.
    pub captured_net: i64,
}

impl Conservation {
    /// Balances + fees + payouts = captured − refunded.
    pub fn holds(&self) -> bool {
        self.balances
            .checked_add(self.fees)
            .and_then(|s| s.checked_add(self.paid_out))
            == Some(self.captured_net)
    }
}

impl Platform {
    /// Checks a booking: every account's new balance, and the fee and payout
    /// totals, without overflow. `fees`/`paid_out` are what it adds to them.
    pub(crate) fn plan(
        &self,
        postings: Vec<Posting>,
        fees: i64,
        paid_out: i64,
    ) -> Result<Plan, ApiError> {
        let overflow = || ApiError::new_422("amount_too_large", "The amounts are too large");
        let mut balances: HashMap<String, i64> = HashMap::new();
        for p in &postings {
            let sum = (p.lines.iter())
                .try_fold(0i64, |s, l| s.checked_add(l.amount))
                .ok_or_else(overflow)?;
            let current = match balances.get(&p.account) {
                Some(b) => *b,
                None => self.balance(&p.account),
            };
            balances.insert(
                p.account.clone(),
                current.checked_add(sum).ok_or_else(overflow)?,
            );
        }
        Ok(Plan {
            postings,
            balances,
            fees: self.fees.checked_add(fees).ok_or_else(overflow)?,
            paid_out: self.paid_out.checked_add(paid_out).ok_or_else(overflow)?,
        })
    }

    /// Applies a checked booking; answers the ids of its transactions.
    pub(crate) fn apply(&mut self, plan: Plan, now: DateTime<Utc>) -> Vec<String> {
        let mut ids = Vec::new();
        for p in plan.postings {
            if p.lines.is_empty() {
                continue;
            }
            let id = uuid();
            ids.push(id.clone());
            self.account_mut(&p.account).transactions.push(Transaction {
                id,
                kind: p.kind,
                happened_at: now,
                payment_id: p.payment_id,
                counterparty: p.counterparty,
                lines: p.lines,
                settled_by: None,
            });
        }
        for (account, balance) in plan.balances {
            self.account_mut(&account).balance = balance;
        }
        self.fees = plan.fees;
        self.paid_out = plan.paid_out;
        ids
    }

    /// The conservation figures against `payments`: what each captured (or
    /// refunded) payment took, less its refunds.
    pub fn conservation<'a>(&self, payments: impl Iterator<Item = &'a Payment>) -> Conservation {
        let captured_net = payments
            .filter(|p| matches!(p.status, PaymentStatus::Captured | PaymentStatus::Refunded))
            .map(|p| {
                let gross = if p.captures.is_empty() {
                    p.total
                } else {
                    p.captures.iter().map(|c| c.total()).sum()
                };
                gross - p.amount_refunded
            })
            .sum();
        Conservation {
            balances: self.accounts.values().map(|a| a.balance).sum(),
            fees: self.fees,
            paid_out: self.paid_out,
            captured_net,
        }
    }

    /// Checks the `{currency}` of a balance path: JPY only \[pm-payout\].
    pub(crate) fn jpy(&self, currency: &str) -> Result<(), ApiError> {
        if currency == "JPY" {
            Ok(())
        } else {
            Err(ApiError {
                param: Some("currency"),
                ..ApiError::new_422(
                    self.settings.codes.unsupported_currency,
                    format!("Only JPY balances exist, not {currency:?}"),
                )
            })
        }
    }

    /// The known account `id`, or 404.
    pub(crate) fn known(&self, id: &str) -> Result<(), ApiError> {
        if self.is_account(id) {
            Ok(())
        } else {
            Err(ApiError::not_found(format!(
                "The requested merchant {id:?} could not be found"
            )))
        }
    }

    /// `GET /merchants/{id}/balances/JPY`.
    pub(crate) fn balance_json(&self, id: &str) -> Result<Value, ApiError> {
        self.known(id)?;
        let mut by_kind: HashMap<LineKind, i64> = HashMap::new();
        let mut disbursements = 0i64;
        if let Some(account) = self.accounts.get(id) {
            for tx in account
                .transactions
                .iter()
                .filter(|t| t.settled_by.is_none())
            {
                for l in &tx.lines {
                    let sum = by_kind.entry(l.kind).or_default();
                    *sum = sum.saturating_add(l.amount);
                    if matches!(l.kind, LineKind::Payout | LineKind::BankFee) {
                        disbursements = disbursements.saturating_add(l.amount);
                    }
                }
            }
        }
        Ok(pw::balance(
            self.balance(id),
            &by_kind,
            disbursements,
            self.settings.balance_field,
        ))
    }

    /// `GET /merchants/{id}/balances/JPY/transactions`: newest first, in the
    /// time window, of one `type`, paged.
    pub(crate) fn transactions_json(
        &self,
        id: &str,
        query: &HashMap<String, String>,
    ) -> Result<Value, ApiError> {
        self.known(id)?;
        let start = pw::time_param(query, "start_time")?;
        let end = pw::time_param(query, "end_time")?;
        let kind = match query.get("type").filter(|s| !s.is_empty()) {
            None => None,
            Some(t) => Some(
                TxKind::parse(t)
                    .ok_or_else(|| ApiError::invalid("type", format!("Unknown type {t:?}")))?,
            ),
        };
        let paging = Paging::read(query)?;
        let hits: Vec<&Transaction> = self
            .accounts
            .get(id)
            .map(|a| a.transactions.iter().rev().collect())
            .unwrap_or_default();
        let hits: Vec<&Transaction> = hits
            .into_iter()
            .filter(|t| start.is_none_or(|s| t.happened_at >= s))
            .filter(|t| end.is_none_or(|e| t.happened_at < e))
            .filter(|t| kind.is_none_or(|k| t.kind == k))
            .collect();
        let sign = self.settings.ledger_sign;
        let (data, mut page) = paging.page(&hits, |t| pw::transaction(t, sign, false));
        page.insert("resource".into(), "list".into());
        page.insert("start_time".into(), start.map(format_time).into());
        page.insert("end_time".into(), end.map(format_time).into());
        page.insert("data".into(), Value::Array(data));
        Ok(Value::Object(page))
    }

    /// `GET /merchants/{id}/balances/JPY/transactions/{uuid}`: with its lines.
    pub(crate) fn transaction_json(&self, id: &str, tx: &str) -> Result<Value, ApiError> {
        self.known(id)?;
        self.accounts
            .get(id)
            .and_then(|a| a.transactions.iter().find(|t| t.id == tx))
            .map(|t| pw::transaction(t, self.settings.ledger_sign, true))
            .ok_or_else(|| ApiError::not_found(format!("No transaction {tx:?}")))
    }

    /// A balance transfer from `from` \[pm-transfer\]: `{to, amount, currency?,
    /// merchant_id?}`, between the platform and a seller, covered by the
    /// sender's balance. `legacy`: the older path without a merchant id.
    pub(crate) fn transfer(
        &mut self,
        from: &str,
        legacy: bool,
        body: &Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<Value, ApiError> {
        let allowed = match self.settings.transfer_paths {
            TransferPaths::Both => true,
            TransferPaths::MerchantOnly => !legacy,
            TransferPaths::LegacyOnly => legacy,
        };
        if !allowed {
            return Err(ApiError::not_found(
                "The requested resource could not be found",
            ));
        }
        self.known(from)?;
        if let Some(c) = body.get("currency").filter(|v| !v.is_null()) {
            self.jpy(c.as_str().unwrap_or_default())?;
        }
        if let Some(m) = body.get("merchant_id").filter(|v| !v.is_null())
            && m.as_str() != Some(from)
        {
            return Err(ApiError::invalid(
                "merchant_id",
                "merchant_id must be the sending merchant",
            ));
        }
        let to = match body.get("to") {
            Some(Value::String(to)) => to.clone(),
            None | Some(Value::Null) => return Err(ApiError::missing("to")),
            Some(_) => return Err(ApiError::invalid("to", "to must be a merchant id")),
        };
        if !self.is_account(&to) {
            return Err(ApiError::invalid("to", format!("Unknown merchant {to:?}")));
        }
        let platform = &self.settings.platform_id;
        if to == from || (from != platform && &to != platform) {
            return Err(ApiError::invalid(
                "to",
                "A transfer goes between the platform and one of its sellers",
            ));
        }
        let amount = match body.get("amount").and_then(Value::as_i64) {
            Some(a) if a >= 1 => a,
            None if body.get("amount").is_none_or(Value::is_null) => {
                return Err(ApiError::missing("amount"));
            }
            _ => {
                return Err(ApiError::invalid(
                    "amount",
                    "amount must be a positive integer",
                ));
            }
        };
        let balance = self.balance(from);
        if balance < amount {
            return Err(self.short_error(format!(
                "The balance ({balance}) does not cover the transfer ({amount})"
            )));
        }
        let mut out =
            Posting::new(from, TxKind::BalanceTransfer, None).line(LineKind::FundTransfer, -amount);
        out.counterparty = Some(to.clone());
        let mut inn =
            Posting::new(&to, TxKind::BalanceTransfer, None).line(LineKind::FundTransfer, amount);
        inn.counterparty = Some(from.to_string());
        let plan = self.plan(vec![out, inn], 0, 0)?;
        self.apply(plan, now);
        Ok(serde_json::json!({
            "type": "balance_transfer",
            "recipient": to,
            "remitter": from,
            "amount": amount,
            "currency": "JPY",
            "happened_at": format_time(now),
        }))
    }
}
