//! KOMOJU refund requests: where each order's request to refund cash
//! (konbini, bank transfer, Pay-easy) stands, and the customer's bank
//! account, held only while the request is open.
//!
//! The bank account is customer data: it lives in its own table, is read
//! when the request is sent (the outbox row carries only the payment id)
//! and its row is deleted in the transaction that records the request
//! completed, rejected or the order otherwise settled.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, exec};

/// The customer's bank account for a refund request, validated (half-width
/// katakana name, 3- and 7-digit numbers). Its `Debug` shows no field.
#[derive(Clone, PartialEq, Eq)]
pub struct BankAccount {
    /// 口座名義: half-width katakana as registered at the bank.
    pub customer_name: String,
    /// 銀行名.
    pub bank_name: String,
    /// 銀行コード (4-digit Zengin code), when given.
    pub bank_code: Option<String>,
    /// 支店名, when given.
    pub branch_name: Option<String>,
    /// 支店番号, 3 digits.
    pub branch_number: String,
    /// 預金種目 as KOMOJU names it (`normal`).
    pub account_type: String,
    /// 口座番号, 7 digits.
    pub account_number: String,
    /// Also give back the fee the customer paid at the store or bank.
    pub include_fee: bool,
}

impl std::fmt::Debug for BankAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BankAccount([redacted])")
    }
}

/// Where an order's refund request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestState {
    /// The payment goes back only by a refund request and no bank account
    /// is on file: a person must enter it.
    NeedsAccount,
    /// A bank account is on file and the request is in the outbox.
    Filing,
    /// KOMOJU has the request; it processes it by hand.
    Pending,
    /// KOMOJU transferred the money.
    Completed,
    /// KOMOJU refused the request (wrong bank data, or refused the call):
    /// a person enters the account again.
    Rejected,
}

impl RequestState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::NeedsAccount => "needs_account",
            RequestState::Filing => "filing",
            RequestState::Pending => "pending",
            RequestState::Completed => "completed",
            RequestState::Rejected => "rejected",
        }
    }

    /// Reads a stored spelling; anything else is a request waiting for a person.
    pub fn parse(s: &str) -> RequestState {
        match s {
            "filing" => RequestState::Filing,
            "pending" => RequestState::Pending,
            "completed" => RequestState::Completed,
            "rejected" => RequestState::Rejected,
            _ => RequestState::NeedsAccount,
        }
    }

    /// Whether a bank account may be entered now (nothing is open with KOMOJU).
    pub fn takes_account(self) -> bool {
        matches!(self, RequestState::NeedsAccount | RequestState::Rejected)
    }
}

/// One order's refund request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    pub channel: String,
    pub order_id: String,
    pub payment_id: String,
    pub state: RequestState,
    /// KOMOJU's id of the request, once read back.
    pub request_id: Option<String>,
    /// Yen asked back (without the customer's fee).
    pub amount: Option<i64>,
    /// Why KOMOJU refused, in the merchant's words.
    pub note: Option<String>,
    pub updated_at: String,
}

const COLUMNS: &str = "channel, order_id, payment_id, state, request_id, amount, note, updated_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RefundRequest> {
    Ok(RefundRequest {
        channel: r.get(0)?,
        order_id: r.get(1)?,
        payment_id: r.get(2)?,
        state: RequestState::parse(&r.get::<_, String>(3)?),
        request_id: r.get(4)?,
        amount: r.get(5)?,
        note: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

/// The order's refund request, if it ever needed one.
pub fn load(conn: &Connection, channel: &str, order_id: &str) -> Result<Option<RefundRequest>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM komoju_refund_requests WHERE channel = ?1 AND order_id = ?2"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![channel, order_id], row)
        .optional()?)
}

/// Requests KOMOJU has and has not finished, oldest news first.
pub fn pending(conn: &Connection) -> Result<Vec<RefundRequest>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM komoju_refund_requests WHERE state = 'pending' ORDER BY updated_at"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([], row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Records where the request stands (creating its row).
pub fn record(conn: &Connection, r: &RefundRequest) -> Result<()> {
    exec(
        conn,
        "INSERT INTO komoju_refund_requests (channel, order_id, payment_id, state, request_id, amount, note, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (channel, order_id) DO UPDATE SET payment_id = ?3, state = ?4,
             request_id = ?5, amount = ?6, note = ?7, updated_at = ?8",
        params![
            r.channel,
            r.order_id,
            r.payment_id,
            r.state.as_str(),
            r.request_id,
            r.amount,
            r.note,
            r.updated_at
        ],
    )?;
    Ok(())
}

/// Keeps the bank account the merchant entered (replacing an earlier one).
pub fn save_account(
    conn: &Connection,
    channel: &str,
    order_id: &str,
    a: &BankAccount,
    now: &str,
) -> Result<()> {
    exec(
        conn,
        "INSERT INTO komoju_refund_accounts (channel, order_id, customer_name, bank_name, bank_code,
             branch_name, branch_number, account_type, account_number, include_fee, entered_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (channel, order_id) DO UPDATE SET customer_name = ?3, bank_name = ?4,
             bank_code = ?5, branch_name = ?6, branch_number = ?7, account_type = ?8,
             account_number = ?9, include_fee = ?10, entered_at = ?11",
        params![
            channel,
            order_id,
            a.customer_name,
            a.bank_name,
            a.bank_code,
            a.branch_name,
            a.branch_number,
            a.account_type,
            a.account_number,
            a.include_fee,
            now
        ],
    )?;
    Ok(())
}

/// The bank account on file for the order's refund request.
pub fn account(conn: &Connection, channel: &str, order_id: &str) -> Result<Option<BankAccount>> {
    Ok(conn
        .prepare_cached(
            "SELECT customer_name, bank_name, bank_code, branch_name, branch_number, account_type,
                    account_number, include_fee
               FROM komoju_refund_accounts WHERE channel = ?1 AND order_id = ?2",
        )?
        .query_row(params![channel, order_id], |r| {
            Ok(BankAccount {
                customer_name: r.get(0)?,
                bank_name: r.get(1)?,
                bank_code: r.get(2)?,
                branch_name: r.get(3)?,
                branch_number: r.get(4)?,
                account_type: r.get(5)?,
                account_number: r.get(6)?,
                include_fee: r.get(7)?,
            })
        })
        .optional()?)
}

/// Deletes the order's bank account; whether there was one.
pub fn forget_account(conn: &Connection, channel: &str, order_id: &str) -> Result<bool> {
    Ok(exec(
        conn,
        "DELETE FROM komoju_refund_accounts WHERE channel = ?1 AND order_id = ?2",
        params![channel, order_id],
    )? > 0)
}
