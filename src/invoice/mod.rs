//! The periodic invoice the merchant sends J-goods (適格請求書, a qualified invoice).
//!
//! J-goods buys the merchant's goods at the tax-included price and pays by bank transfer once
//! invoiced, for a period the merchant chooses, keeping its service fee. The daemon knows every
//! J-goods order, what was allocated and when it shipped, so it can write that invoice.
//!
//! - [`compute`]: the numbers (pure);
//! - [`issue`]: whether a request issues a new invoice, re-issues a recorded one or is refused
//!   because it overlaps one (pure);
//! - [`html`], [`csv`]: the documents.
//!
//! The store side is `store::invoices`; `flows::invoice` ties them together.

pub mod compute;
pub mod csv;
#[cfg(test)]
mod fixture;
pub mod html;
pub mod issue;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use compute::{Invoice, TaxRate};

use crate::config::InvoiceConfig;

/// Longest period one invoice may cover; a typo in a year should not scan the whole store.
pub const MAX_PERIOD_DAYS: i64 = 366;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvoiceError {
    /// A period bound is not a date; `field` is `from` or `to`.
    #[error("{field} must be a date YYYY-MM-DD, got {value:?}")]
    BadDate { field: &'static str, value: String },
    #[error("the period ends ({to}) before it starts ({from})")]
    Reversed { from: NaiveDate, to: NaiveDate },
    #[error("the period is longer than {MAX_PERIOD_DAYS} days")]
    TooLong,
    #[error("J-goods order {order_id} line {line_no} has no unit price; it cannot be invoiced")]
    MissingPrice { order_id: String, line_no: u32 },
    /// An amount beyond [`MAX_AMOUNT`]: no merchant means it, and arithmetic
    /// on it could wrap; the invoice is refused rather than printed wrong.
    #[error(
        "{what} is beyond ¥{MAX_AMOUNT} (1兆円); it cannot be invoiced: check the order / \
         金額が上限を超えているため請求書を作れません。受注を確認してください"
    )]
    TooLarge { what: String },
    /// Text that Shift_JIS cannot represent (the CSV must then be written as UTF-8).
    #[error("{0:?} cannot be written in Shift_JIS; write the CSV as UTF-8 instead")]
    NotShiftJis(String),
}

/// The largest amount in yen an invoice takes, for a line, an order and any
/// sum: ¥1,000,000,000,000 (1兆円), far beyond any J-goods period, and far
/// below where `i64` arithmetic on it could wrap.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// The invoiced period: JST calendar dates, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// Parses `YYYY-MM-DD` bounds and checks the period makes sense.
    pub fn parse(from: &str, to: &str) -> Result<Period, InvoiceError> {
        let date = |field: &'static str, value: &str| {
            NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| InvoiceError::BadDate {
                field,
                value: value.to_string(),
            })
        };
        Period::new(date("from", from)?, date("to", to)?)
    }

    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Period, InvoiceError> {
        if to < from {
            return Err(InvoiceError::Reversed { from, to });
        }
        if (to - from).num_days() >= MAX_PERIOD_DAYS {
            return Err(InvoiceError::TooLong);
        }
        Ok(Period { from, to })
    }

    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from <= day && day <= self.to
    }

    pub fn overlaps(&self, other: &Period) -> bool {
        self.from <= other.to && other.from <= self.to
    }
}

/// Whether a document is an invoice that counts, and which.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Issue {
    /// Computed for a look, not recorded: no number, not to be sent.
    Preview,
    /// Recorded under `number` on `issued_on`.
    Issued {
        number: String,
        issued_on: NaiveDate,
    },
    /// A copy of a recorded invoice (marked 再発行), made on `reissued_on`.
    Reissued {
        number: String,
        issued_on: NaiveDate,
        reissued_on: NaiveDate,
    },
}

impl Issue {
    pub fn number(&self) -> Option<&str> {
        match self {
            Issue::Preview => None,
            Issue::Issued { number, .. } | Issue::Reissued { number, .. } => Some(number),
        }
    }
}

/// Everything a rendered invoice shows: who issues it, to whom, its status and its numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceDocument {
    #[serde(flatten)]
    pub issue: Issue,
    pub issuer: Issuer,
    #[serde(flatten)]
    pub invoice: Invoice,
}

/// The `[invoice]` details printed on the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issuer {
    pub issuer_name: String,
    pub registration_number: String,
    pub addressee: String,
    pub bank_account: String,
}

impl From<&InvoiceConfig> for Issuer {
    fn from(c: &InvoiceConfig) -> Issuer {
        Issuer {
            issuer_name: c.issuer_name.clone(),
            registration_number: c.registration_number.clone(),
            addressee: c.addressee.clone(),
            bank_account: c.bank_account.clone(),
        }
    }
}
