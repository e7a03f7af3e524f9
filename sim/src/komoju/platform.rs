//! KOMOJU's Platform Model (marketplace merchant, alpha), simulated from the
//! contract alone (`providers/komoju.md`, "Platform Model" and
//! "Corrections"): sub-merchants (sellers, `platform_role: "payout"`) with
//! their live application and its review \[pm-onboard\]\[node:Apis/PlatformModelApi\];
//! payments split between sellers with `platform_details`, checked as KOMOJU
//! checks them and booked at capture \[pm-ppm\]\[node:Models/PlatformDetails\];
//! refunds and refund requests with and without a split; one JPY balance and
//! ledger per account (the platform and each seller) \[node:Models/BalanceShow\];
//! transfers both ways \[pm-transfer\]; payout settings and settlements on the
//! simulator's clock \[pm-payout\]\[h-payout\]\[h-fee\]; the platform
//! webhooks, signed as the others \[pm-webhooks\].
//!
//! Money: integer yen (`*_cents` in JPY are yen), checked arithmetic; a
//! booking that would overflow is refused whole. At capture a seller's
//! balance gains its `amount` less its `platform_fee`; the platform gains the
//! fees and what no seller takes (a konbini fee), less KOMOJU's processing
//! fee at a set rate. So at every moment: the sum of all balances + KOMOJU's
//! fees + what was paid out = what was captured − what was refunded
//! ([`Platform::conservation`]).
//!
//! Marketplace payments run on the platform's account, so their events stay
//! plain `payment.*` \[pm-ppm\]; `settlement.created`, `payout.created` and
//! `submerchant.application.accepted|declined` are the platform's own
//! events, with the account's `merchant` at the top of the body.
//!
//! Every \[guess\] of the section is a field of [`PlatformSettings`]:
//! the split's sum base ([`SplitBase`]), one entry per seller, payout-enabled
//! sellers only, integer (or string) amounts, where a `capture:false`
//! payment's split goes, the processing-fee rate, what a refund without a
//! split does ([`RefundWithoutSplit`]: non-reverse by default), whether a
//! seller's balance must cover its refund share, the ledger's sign
//! ([`LedgerSign`]), the balance total's name ([`BalanceField`]), the
//! transfer paths ([`TransferPaths`]), every error code ([`PlatformCodes`]),
//! the payout minimum, the bank fee and who pays it, the weekly period's lag,
//! the holiday list, and the `merchant` of a seller's events
//! ([`EventMerchant`]). Further assumptions, not settings: a seller holds a
//! payment's share until refunded, a transfer moves money only between the
//! platform and a seller, ledger lists are newest first with `start_time`
//! inclusive and `end_time` exclusive, a settlement pays everything unsettled
//! up to its period's end, the application's submitted values are not kept
//! (only which fields were given), and the monthly per-seller fee
//! \[pm-gloss\] is not charged (`submerchant_management_fees_cents` is 0).

mod api;
mod hooks;
mod ledger;
mod merchants;
mod payments;
mod payouts;
pub mod settings;
mod split;
pub(crate) mod wire;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

pub(crate) use api::routes;
pub use ledger::Conservation;
pub use settings::{
    BalanceField, BankFee, EventMerchant, LedgerSign, PlatformCodes, PlatformSettings,
    RefundWithoutSplit, SplitBase, TransferPaths,
};

use super::state::{Effect, PendingEvent};
use super::wire::{ApiError, format_time};

/// Most entries a split may have (bounded work; KOMOJU publishes none).
pub const MAX_SPLIT_ENTRIES: usize = 100;

/// One seller's part of a split \[node:Models/Submerchant\].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitEntry {
    /// The seller's merchant id.
    pub submerchant_id: String,
    /// Credited to the seller, tax included.
    pub amount: i64,
    /// Moved from the seller to the platform.
    pub platform_fee: i64,
}

/// `platform_details` of a payment, refund or refund request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlatformDetails {
    /// One entry per seller.
    pub submerchants: Vec<SplitEntry>,
}

/// A live application's (and a sub-merchant's) review state
/// \[node:models/live-application-status.ts\].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApplicationStatus {
    /// Nothing submitted yet.
    NotApplied,
    /// Some requested fields are still missing or wrong.
    Incomplete,
    /// Submitted, KOMOJU reviews it.
    Pending,
    /// Accepted: payouts (or payments) enabled.
    Accepted,
    /// Declined.
    Declined,
}

impl ApplicationStatus {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationStatus::NotApplied => "not_applied",
            ApplicationStatus::Incomplete => "incomplete",
            ApplicationStatus::Pending => "pending",
            ApplicationStatus::Accepted => "accepted",
            ApplicationStatus::Declined => "declined",
        }
    }

    /// Reads a wire value.
    pub fn parse(s: &str) -> Option<ApplicationStatus> {
        [
            ApplicationStatus::NotApplied,
            ApplicationStatus::Incomplete,
            ApplicationStatus::Pending,
            ApplicationStatus::Accepted,
            ApplicationStatus::Declined,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// A sub-merchant \[node:Models/SerializedSubmerchant\].
#[derive(Debug, Clone, PartialEq)]
pub struct SubMerchant {
    /// 25 alphanumerics.
    pub id: String,
    /// As created.
    pub name: String,
    /// `payout` (marketplace) or `seller` (platform case).
    pub platform_role: String,
    /// A live merchant (else a test one, which `simulate_status` moves).
    pub live: bool,
    /// The review state.
    pub status: ApplicationStatus,
    /// May take payments.
    pub payments_enabled: bool,
    /// May receive payouts: required to appear in a split.
    pub payouts_enabled: bool,
    /// `send_payment_*_email` flags.
    pub emails: BTreeMap<String, bool>,
    /// As last patched.
    pub expiry_settings: Value,
    /// Approved payment methods (none for a payout-only seller).
    pub active_payment_methods: Vec<String>,
    /// `pk_test_…`.
    pub publishable_key: String,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
    /// The application's fields given so far (their values are not kept).
    pub submitted: BTreeSet<String>,
    /// Fields given in a form KOMOJU refuses.
    pub errored_fields: Vec<String>,
    /// Creation order.
    seq: u64,
}

/// What a ledger line is (its `type`; names \[guess\]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineKind {
    /// The platform's own part of a captured payment.
    Payment,
    /// A seller's share of a captured payment.
    PaymentShare,
    /// The platform's fee (seller −, platform +).
    PlatformFee,
    /// KOMOJU's processing fee, on the platform.
    ProcessingFee,
    /// A refund the platform bears.
    Refund,
    /// A seller's share given back.
    PaymentShareRefund,
    /// A platform fee returned to the seller (seller +, platform −).
    PlatformFeeRefund,
    /// A balance transfer.
    FundTransfer,
    /// Money paid out to the account's bank.
    Payout,
    /// The bank fee of a payout.
    BankFee,
}

impl LineKind {
    /// The wire `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Payment => "payment",
            LineKind::PaymentShare => "payment_share",
            LineKind::PlatformFee => "platform_fee",
            LineKind::ProcessingFee => "processing_fee",
            LineKind::Refund => "refund",
            LineKind::PaymentShareRefund => "payment_share_refund",
            LineKind::PlatformFeeRefund => "platform_fee_refund",
            LineKind::FundTransfer => "fund_transfer",
            LineKind::Payout => "payout",
            LineKind::BankFee => "bank_fee",
        }
    }
}

/// One line of a ledger transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// What it is.
    pub kind: LineKind,
    /// Yen, credit positive.
    pub amount: i64,
}

/// What a ledger transaction records (its `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxKind {
    /// A capture's booking.
    Payment,
    /// A refund's (or completed refund request's) booking.
    Refund,
    /// "Balance Transfer" \[pm-transfer\].
    BalanceTransfer,
    /// A settlement paid out.
    Settlement,
}

impl TxKind {
    /// The wire `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            TxKind::Payment => "payment",
            TxKind::Refund => "refund",
            TxKind::BalanceTransfer => "balance_transfer",
            TxKind::Settlement => "settlement",
        }
    }

    /// Reads a wire `type` filter.
    pub fn parse(s: &str) -> Option<TxKind> {
        [
            TxKind::Payment,
            TxKind::Refund,
            TxKind::BalanceTransfer,
            TxKind::Settlement,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One ledger transaction of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// A UUID.
    pub id: String,
    /// What it records.
    pub kind: TxKind,
    /// When.
    pub happened_at: DateTime<Utc>,
    /// The payment it books, if any.
    pub payment_id: Option<String>,
    /// The other account of a transfer.
    pub counterparty: Option<String>,
    /// Its lines; the transaction's amount is their sum.
    pub lines: Vec<Line>,
    /// The settlement that paid it out, once paid.
    pub settled_by: Option<String>,
}

impl Transaction {
    /// The sum of its lines (`None` on overflow).
    pub fn amount(&self) -> Option<i64> {
        self.lines
            .iter()
            .try_fold(0i64, |sum, l| sum.checked_add(l.amount))
    }
}

/// How often an account is paid out \[models/settlement-frequency.ts\].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    /// Every Friday (or the next business day).
    Weekly,
    /// At month end (or the next business day).
    Monthly,
}

impl Frequency {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Weekly => "weekly",
            Frequency::Monthly => "monthly",
        }
    }
}

/// An account's payout settings \[node:Models/BalanceSettings\].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutSettings {
    /// The frequency in force.
    pub frequency: Frequency,
    /// A change that takes effect on a later day (monthly → weekly: next
    /// month \[h-payout\]).
    pub pending: Option<(Frequency, NaiveDate)>,
    /// Below this the balance waits \[guess\].
    pub settlement_minimum_amount: i64,
}

/// One settlement (payout) of one account; its fields are unpublished, the
/// simulator shows what it covers and pays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    /// 25 alphanumerics.
    pub id: String,
    /// The account paid.
    pub merchant_id: String,
    /// First day of the period (JST).
    pub period_start: NaiveDate,
    /// Last day of the period (JST).
    pub period_end: NaiveDate,
    /// The business day it is paid.
    pub payout_date: NaiveDate,
    /// The balance settled.
    pub total: i64,
    /// The bank fee taken from it.
    pub bank_fee: i64,
    /// What reaches the bank account.
    pub payout: i64,
    /// When created.
    pub created_at: DateTime<Utc>,
}

/// One account (the platform or a seller): its ledger and payouts.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    /// The balance: the sum of the ledger.
    pub balance: i64,
    /// Oldest first.
    pub transactions: Vec<Transaction>,
    /// Payout settings.
    pub payout: PayoutSettings,
    /// Oldest first.
    pub settlements: Vec<Settlement>,
}

/// What a seller still holds of one payment, for refunds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Share {
    pub seller: String,
    pub amount_left: i64,
    pub fee_left: i64,
}

/// A captured payment's booking.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Booked {
    pub shares: Vec<Share>,
    /// Captured and not yet refunded.
    pub remaining: i64,
}

/// The Platform Model's state, inside the simulator's one lock.
#[derive(Debug)]
pub struct Platform {
    pub(crate) settings: PlatformSettings,
    merchants: HashMap<String, SubMerchant>,
    accounts: HashMap<String, Account>,
    pub(crate) booked: HashMap<String, Booked>,
    /// KOMOJU's processing and bank fees taken so far.
    fees: i64,
    /// Paid out to bank accounts so far.
    paid_out: i64,
    next_seq: u64,
    effects: Vec<Effect>,
}

impl Platform {
    pub(crate) fn new(settings: PlatformSettings) -> Self {
        Platform {
            settings,
            merchants: HashMap::new(),
            accounts: HashMap::new(),
            booked: HashMap::new(),
            fees: 0,
            paid_out: 0,
            next_seq: 0,
            effects: Vec::new(),
        }
    }

    /// The webhooks left since the last call.
    pub(crate) fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// A sub-merchant by id.
    pub fn merchant(&self, id: &str) -> Option<&SubMerchant> {
        self.merchants.get(id)
    }

    /// An account (the platform's id or a seller's): `None` for an unknown id.
    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.get(id)
    }

    /// Whether `id` is the platform or a seller.
    fn is_account(&self, id: &str) -> bool {
        id == self.settings.platform_id || self.merchants.contains_key(id)
    }

    /// The account of `id`, opened on first use.
    fn account_mut(&mut self, id: &str) -> &mut Account {
        let minimum = self.settings.default_settlement_minimum;
        self.accounts
            .entry(id.to_string())
            .or_insert_with(|| Account {
                balance: 0,
                transactions: Vec::new(),
                payout: PayoutSettings {
                    frequency: Frequency::Weekly,
                    pending: None,
                    settlement_minimum_amount: minimum,
                },
                settlements: Vec::new(),
            })
    }

    /// The balance of `id` (0 for an account without bookings).
    pub fn balance(&self, id: &str) -> i64 {
        self.accounts.get(id).map_or(0, |a| a.balance)
    }

    /// A platform event (not about a payment), signed and pushed as the others.
    fn emit(&mut self, kind: &str, merchant: &str, data: Value, now: DateTime<Utc>) {
        let event_id = super::state::random_id(25);
        let body = serde_json::json!({
            "id": event_id,
            "type": kind,
            "resource": "event",
            "data": data,
            "created_at": format_time(now),
            "reason": null,
            "merchant": merchant,
        });
        self.effects.push(Effect::Webhook(PendingEvent {
            event_id,
            event_type: kind.to_string(),
            payment_id: None,
            body: serde_json::to_vec(&body).unwrap_or_default().into(),
        }));
    }

    /// The `merchant` of an account's events.
    fn event_merchant(&self, id: &str) -> String {
        match self.merchants.get(id) {
            None => self.settings.platform_name.clone(),
            Some(m) => match self.settings.event_merchant {
                EventMerchant::Name => m.name.clone(),
                EventMerchant::Id => m.id.clone(),
            },
        }
    }

    /// A 422 with the account's split code, about `platform_details`.
    fn split_error(&self, message: impl Into<String>) -> ApiError {
        ApiError {
            param: Some("platform_details"),
            ..ApiError::new_422(self.settings.codes.invalid_split, message)
        }
    }

    /// A 422 with the account's insufficient-balance code.
    fn short_error(&self, message: impl Into<String>) -> ApiError {
        ApiError::new_422(self.settings.codes.insufficient_balance, message)
    }
}

/// A random UUID (v4 layout), as ledger transaction ids look.
fn uuid() -> String {
    let hex = super::state::random_hex(32);
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests;
