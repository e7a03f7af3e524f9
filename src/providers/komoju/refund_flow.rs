//! An order's refund request from cancel to KOMOJU's transfer: the bank
//! account taken (with the cancel or later), the request filed through the
//! outbox, followed to `completed` or `rejected`, and the account deleted in
//! the transaction that records the end. Each step writes in the caller's
//! transaction; each state is told on the order in the merchant's words.

use serde_json::json;

use super::refund_request::{BankAccount, SeenStatus};
use super::{Payment, PaymentStatus};
use crate::domain::Order;
use crate::domain::order::PaymentMethod;
use crate::engine::{Attention, Call, Decision, EventKind, OrderWrite};
use crate::store::komoju_refund_requests::{self as table, RefundRequest, RequestState};
use crate::store::{self, Tx, orders};

/// The attention of an order whose KOMOJU payment goes back only by a
/// refund request and has no bank account on file: what is missing and
/// where to enter it, Japanese first.
pub const BANK_ACCOUNT_NEEDED: &str = "KOMOJU の返金にはお客様の銀行口座が必要です(コンビニ・銀行振込・\
ペイジーは返金申請のみ。口座名義カナ・銀行名・支店番号 3 桁・口座番号 7 桁。手数料がかかります)。\
受注画面の「返金口座」フォーム、管理 API の取消、または ordersync orders cancel --bank-… で入力してください \
/ KOMOJU needs the customer's bank account to refund this payment (konbini, bank transfer and \
Pay-easy are refunded only by a refund request: account name in kana, bank, 3-digit branch number, \
7-digit account number; a fee applies). Enter it in the order page's refund account form, with the \
admin API's cancel (refund_account) or with ordersync orders cancel --bank-…";

/// Why a bank account was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AccountRefused(pub String);

/// The KOMOJU payment id of an order paid through KOMOJU.
fn payment_id(order: &Order) -> Option<&str> {
    (order.payment.as_ref())
        .filter(|p| p.method == PaymentMethod::Komoju)
        .and_then(|p| p.reference.as_deref())
}

/// Takes the bank account the merchant entered for `order` (as it stood
/// before this command; `cancelling` when the command cancels it now): kept
/// for the refund call the cancel queued, or filed at once when a request
/// waits for it. Refused while a request is open or when none can need it.
pub fn take_account(
    tx: &Tx<'_>,
    order: &Order,
    account: &BankAccount,
    cancelling: bool,
    now: &str,
) -> store::Result<Result<(), AccountRefused>> {
    let refuse = |ja: &str, en: &str| Ok(Err(AccountRefused(format!("{ja} / {en}"))));
    let Some(pid) = payment_id(order) else {
        return refuse(
            "この受注は KOMOJU の支払いではないため、返金口座は使いません",
            "this order is not paid through KOMOJU; a refund bank account does not apply",
        );
    };
    let (ch, id) = (order.channel.as_str(), order.id.as_str());
    match table::load(tx, ch, id)?.map(|r| r.state) {
        Some(RequestState::Filing | RequestState::Pending) => refuse(
            "返金申請は KOMOJU で処理中です。却下されたときに入力し直してください",
            "a refund request is already open with KOMOJU; enter the account again if it is rejected",
        ),
        Some(RequestState::Completed) => refuse(
            "この受注の返金申請は完了しています",
            "this order's refund request is completed",
        ),
        Some(RequestState::NeedsAccount | RequestState::Rejected) => {
            table::save_account(tx, ch, id, account, now)?;
            file(tx, order, pid, now)?;
            Ok(Ok(()))
        }
        // The cancel's money call (queued now or still waiting) reads it.
        None if cancelling || order.pending_calls > 0 => {
            table::save_account(tx, ch, id, account, now)?;
            Ok(Ok(()))
        }
        None => refuse(
            "この受注には口座を待っている返金申請がありません",
            "no refund request of this order is waiting for a bank account",
        ),
    }
}

/// Queues the refund request of an order whose account is on file.
fn file(tx: &Tx<'_>, order: &Order, pid: &str, now: &str) -> store::Result<()> {
    record(tx, order, pid, RequestState::Filing, None, None, now)?;
    let d = Decision {
        order: Some(OrderWrite {
            attention: Some(Attention::Clear),
            ..Default::default()
        }),
        calls: vec![Call::KomojuRefundRequest {
            payment_id: pid.to_string(),
        }],
        ..Default::default()
    }
    .event(
        EventKind::PaymentRefundRequest,
        json!({"payment_id": pid, "status": RequestState::Filing.as_str()}),
    );
    orders::apply(tx, order.channel, &order.id, &d, now)?;
    Ok(())
}

fn record(
    tx: &Tx<'_>,
    order: &Order,
    pid: &str,
    state: RequestState,
    request_id: Option<String>,
    note: Option<String>,
    now: &str,
) -> store::Result<()> {
    table::record(
        tx,
        &RefundRequest {
            channel: order.channel.as_str().to_string(),
            order_id: order.id.clone(),
            payment_id: pid.to_string(),
            state,
            request_id,
            amount: None,
            note,
            updated_at: now.to_string(),
        },
    )
}

/// The payment goes back only by a refund request and no account is on
/// file: the order says what is missing.
pub fn needs_account(
    tx: &Tx<'_>,
    order: &Order,
    payment: &Payment,
    now: &str,
) -> store::Result<()> {
    let state = RequestState::NeedsAccount;
    record(tx, order, &payment.id, state, None, None, now)?;
    attention(tx, order, payment, state, None, BANK_ACCOUNT_NEEDED, now)
}

/// KOMOJU refused the request itself (a field it would not take): the
/// account goes, and the order asks for it again naming the field.
pub fn refused(
    tx: &Tx<'_>,
    order: &Order,
    payment: &Payment,
    field: Option<&str>,
    now: &str,
) -> store::Result<()> {
    let why = match field {
        Some(f) => format!("KOMOJU が項目 {f} を受け付けませんでした"),
        None => "KOMOJU が申請を受け付けませんでした".to_string(),
    };
    rejected(tx, order, payment, None, why, now)
}

/// KOMOJU has the request: it is `pending` with KOMOJU's id, the account
/// stays on file until it ends.
pub fn filed(
    tx: &Tx<'_>,
    order: &Order,
    payment: &Payment,
    request_id: Option<String>,
    now: &str,
) -> store::Result<()> {
    let state = RequestState::Pending;
    record(tx, order, &payment.id, state, request_id.clone(), None, now)?;
    let d = Decision {
        order: Some(OrderWrite {
            attention: Some(Attention::Clear),
            ..Default::default()
        }),
        ..Default::default()
    }
    .event(
        EventKind::PaymentRefundRequest,
        json!({"payment_id": payment.id, "status": state.as_str(), "request_id": request_id,
               "amount": payment.refund_request_amount()}),
    );
    orders::apply(tx, order.channel, &order.id, &d, now)?;
    Ok(())
}

/// Follows the order's request in a payment KOMOJU showed: `completed` or
/// `rejected` ends it and deletes the account in this transaction; so does
/// a payment settled otherwise (refunded, cancelled, expired) or one whose
/// money never goes back by a request.
pub fn follow(tx: &Tx<'_>, order: &Order, payment: &Payment, now: &str) -> store::Result<()> {
    let (ch, id) = (order.channel.as_str(), order.id.as_str());
    let settled = payment.status.is_final() || !payment.refunded_by_request();
    let Some(r) = table::load(tx, ch, id)? else {
        if settled {
            table::forget_account(tx, ch, id)?;
        }
        return Ok(());
    };
    let theirs = (r.request_id.as_deref())
        .and_then(|rid| payment.refund_requests.iter().find(|s| s.id == rid))
        .map(|s| s.status);
    match (r.state, theirs) {
        (RequestState::Pending, Some(SeenStatus::Completed)) => {
            completed(tx, order, payment, r.request_id, now)
        }
        (RequestState::Pending, Some(SeenStatus::Rejected)) => {
            let why = "口座情報の誤りなど".to_string();
            rejected(tx, order, payment, r.request_id, why, now)
        }
        (RequestState::NeedsAccount | RequestState::Rejected | RequestState::Pending, _)
            if payment.status == PaymentStatus::Refunded =>
        {
            completed(tx, order, payment, r.request_id, now)
        }
        _ if settled => table::forget_account(tx, ch, id).map(|_| ()),
        _ => Ok(()),
    }
}

fn completed(
    tx: &Tx<'_>,
    order: &Order,
    payment: &Payment,
    request_id: Option<String>,
    now: &str,
) -> store::Result<()> {
    table::forget_account(tx, order.channel.as_str(), &order.id)?;
    let state = RequestState::Completed;
    record(tx, order, &payment.id, state, request_id.clone(), None, now)?;
    let waiting_for_us = matches!(
        order.attention.as_deref(),
        Some(a) if a == BANK_ACCOUNT_NEEDED || a.starts_with(REJECTED_PREFIX)
    );
    let d = Decision {
        order: waiting_for_us.then(|| OrderWrite {
            attention: Some(Attention::Clear),
            ..Default::default()
        }),
        ..Default::default()
    }
    .event(
        EventKind::PaymentRefundRequest,
        json!({"payment_id": payment.id, "status": state.as_str(), "request_id": request_id}),
    );
    orders::apply(tx, order.channel, &order.id, &d, now)?;
    Ok(())
}

/// How the attention of a rejected request starts.
const REJECTED_PREFIX: &str = "KOMOJU が返金申請を却下しました";

fn rejected(
    tx: &Tx<'_>,
    order: &Order,
    payment: &Payment,
    request_id: Option<String>,
    why: String,
    now: &str,
) -> store::Result<()> {
    table::forget_account(tx, order.channel.as_str(), &order.id)?;
    let state = RequestState::Rejected;
    let note = Some(why.clone());
    record(tx, order, &payment.id, state, request_id.clone(), note, now)?;
    let reason = format!(
        "{REJECTED_PREFIX}({why})。お客様に口座を確かめ、返金口座を入力し直してください \
         / KOMOJU rejected the refund request ({why}); check the bank account with the customer \
         and enter it again"
    );
    attention(tx, order, payment, state, request_id, &reason, now)
}

fn attention(
    tx: &Tx<'_>,
    order: &Order,
    payment: &Payment,
    state: RequestState,
    request_id: Option<String>,
    reason: &str,
    now: &str,
) -> store::Result<()> {
    let d = Decision {
        order: Some(OrderWrite {
            attention: Some(Attention::Set(reason.to_string())),
            ..Default::default()
        }),
        ..Default::default()
    }
    .event(
        EventKind::PaymentRefundRequest,
        json!({"payment_id": payment.id, "status": state.as_str(), "request_id": request_id}),
    )
    .event(EventKind::OrderAttention, json!({"reason": reason}));
    orders::apply(tx, order.channel, &order.id, &d, now)?;
    Ok(())
}

/// Where the request stands, in the merchant's words (Japanese first).
pub fn describe(r: &RefundRequest) -> String {
    match r.state {
        RequestState::NeedsAccount => {
            "返金口座の入力待ち(KOMOJU の返金申請に必要です) / waiting for the customer's bank account"
                .to_string()
        }
        RequestState::Filing => "KOMOJU へ返金申請を送信中です / sending the refund request to KOMOJU"
            .to_string(),
        RequestState::Pending => "KOMOJU に返金申請済みです。KOMOJU の処理を待っています(通常 1〜2 営業日) \
             / refund request filed; KOMOJU processes it by hand (usually 1-2 business days)"
            .to_string(),
        RequestState::Completed => "返金申請が完了しました(お客様の口座へ振り込まれました) \
             / refund request completed: the money was transferred to the customer"
            .to_string(),
        RequestState::Rejected => format!(
            "返金申請が却下されました({})。返金口座を入力し直してください / refund request rejected; \
             enter the bank account again",
            r.note.as_deref().unwrap_or("理由の記載なし")
        ),
    }
}
