//! The network part of the KOMOJU outbox calls: capture, cancel, refund,
//! file a refund request or re-read a payment; the payment KOMOJU answers
//! is applied by [`super::apply`].

use super::Payment;
use super::PaymentStatus;
use super::client::KomojuClient;
use super::refund_request::{Body, SeenStatus};
use crate::call::CallError;
use crate::call::outcome::{self, CallOutcome};
use crate::call::{Attempt, CallContext};
use crate::domain::Provider;
use crate::engine::Call;
use crate::store::komoju_refund_requests as refund_table;
use crate::store::{self, orders};

/// Makes one KOMOJU call of the outbox.
pub async fn run(client: &KomojuClient, ctx: &CallContext<'_>) -> store::Result<Attempt> {
    let row = ctx.row;
    let (Call::KomojuCapture { payment_id }
    | Call::KomojuCancel { payment_id }
    | Call::KomojuRefund { payment_id }
    | Call::KomojuRefundRequest { payment_id }
    | Call::KomojuFetch { payment_id }) = &row.call
    else {
        unreachable!("not a KOMOJU call: {}", row.call.kind());
    };
    // Derived from the outbox row: a retry after a crash reuses it, so KOMOJU
    // replays the first answer instead of acting twice. KOMOJU keeps keys per
    // account: the installation id keeps them unique across reset stores and
    // installations.
    let key = ctx.idempotency_key();
    if matches!(
        row.call,
        Call::KomojuRefund { .. } | Call::KomojuRefundRequest { .. }
    ) {
        return money_back(client, ctx, payment_id, &key).await;
    }
    let answer = ctx
        .metrics
        .timed(Provider::Komoju, async {
            match &row.call {
                Call::KomojuCapture { .. } => client.capture(payment_id, None, &key).await,
                Call::KomojuCancel { .. } => client.cancel(payment_id, &key).await,
                _ => client.get_payment(payment_id).await,
            }
        })
        .await;
    let payment = match answer {
        Ok(payment) => payment,
        // The customer paid (or a mis-matched transfer was booked) before
        // the cancel arrived: KOMOJU refuses to cancel a captured payment,
        // so the money goes back the way the contract says. Its own key: the
        // cancel's key would replay the refusal.
        Err(CallError::Rejected { .. }) if matches!(row.call, Call::KomojuCancel { .. }) => {
            match client.get_payment(payment_id).await {
                Ok(p) if p.status == PaymentStatus::Captured => {
                    return money_back(client, ctx, payment_id, &format!("{key}-back")).await;
                }
                Ok(p) => return finish(ctx, p).await,
                Err(e) => return failed(ctx, payment_id, e).await,
            }
        }
        Err(e) => return failed(ctx, payment_id, e).await,
    };
    finish(ctx, payment).await
}

pub(super) async fn finish(ctx: &CallContext<'_>, payment: Payment) -> store::Result<Attempt> {
    super::apply::finish_call(ctx.store, ctx.row.id, payment).await?;
    Ok(Attempt::Finished)
}

/// Gives money back: `/refund` for the types that take it; for cash paid at
/// a konbini, bank or ATM a refund request to the customer's bank account,
/// read from its table now (the outbox row holds no customer data), or the
/// order asks for the account. The payment is read first, so a retry after
/// KOMOJU took the request (found by `key` in its description) records it
/// instead of filing it twice.
async fn money_back(
    client: &KomojuClient,
    ctx: &CallContext<'_>,
    payment_id: &str,
    key: &str,
) -> store::Result<Attempt> {
    let p = match client.get_payment(payment_id).await {
        Ok(p) => p,
        Err(e) => return failed(ctx, payment_id, e).await,
    };
    let store = ctx.store;
    let row = ctx.row.id;
    if !p.refunded_by_request() {
        if matches!(ctx.row.call, Call::KomojuRefundRequest { .. }) {
            return finish(ctx, p).await;
        }
        let answer = ctx
            .metrics
            .timed(Provider::Komoju, client.refund(payment_id, None, None, key))
            .await;
        return match answer {
            Ok(p) => finish(ctx, p).await,
            Err(e) => failed(ctx, payment_id, e).await,
        };
    }
    if p.status != PaymentStatus::Captured {
        // Refunded already, or never paid: nothing to ask back.
        return finish(ctx, p).await;
    }
    if let Some(seen) = p.refund_request_filed_with(key) {
        let id = Some(seen.id.clone());
        super::apply::refund_request_filed(store, row, p, id).await?;
        return Ok(Attempt::Finished);
    }
    let pid = payment_id.to_string();
    let order = store
        .read(move |c| orders::find_by_payment(c, Provider::Komoju.as_str(), &pid, None))
        .await?;
    let Some(order) = order else {
        return finish(ctx, p).await;
    };
    let (ch, id) = (order.channel.as_str().to_string(), order.id.clone());
    let account = store
        .read(move |c| refund_table::account(c, &ch, &id))
        .await?;
    let Some(account) = account else {
        super::apply::needs_bank_account(store, row, p).await?;
        return Ok(Attempt::Finished);
    };
    let amount = p.refund_request_amount();
    if amount == 0 {
        return finish(ctx, p).await;
    }
    let body = Body::new(&account, amount, &order.id, key);
    let answer = ctx
        .metrics
        .timed(
            Provider::Komoju,
            client.refund_request(payment_id, &body, key),
        )
        .await;
    match answer {
        Ok(()) => {}
        Err(CallError::Rejected { code, message, .. }) => {
            let field = message
                .split_once("(param: ")
                .and_then(|(_, rest)| rest.split_once(')'))
                .map(|(param, _)| param.to_string())
                .or(Some(code));
            super::apply::refund_request_refused(store, row, p, field).await?;
            return Ok(Attempt::Finished);
        }
        Err(e) => return failed(ctx, payment_id, e).await,
    }
    // KOMOJU answers nothing: the request is found in the payment re-read.
    // Should the read fail, the retry reads again and finds it by `key`.
    let p = match client.get_payment(payment_id).await {
        Ok(p) => p,
        Err(e) => return failed(ctx, payment_id, e).await,
    };
    let id = p
        .refund_request_filed_with(key)
        .or_else(|| {
            // A KOMOJU that drops the description: the new one is last \[guess\].
            (p.refund_requests.iter().rev()).find(|r| r.status == SeenStatus::Pending)
        })
        .map(|r| r.id.clone());
    super::apply::refund_request_filed(store, row, p, id).await?;
    Ok(Attempt::Finished)
}

/// A failed attempt: retried while it may be, else the row is killed and
/// the payment's order (if it is known) put in front of a person.
pub(super) async fn failed(
    ctx: &CallContext<'_>,
    payment_id: &str,
    e: CallError,
) -> store::Result<Attempt> {
    let kind = &ctx.row.kind;
    let reason = match e {
        e @ CallError::Transient { .. } => ctx
            .give_up_or_retry(e)
            .map(|error| format!("KOMOJU {kind} failed: {error}")),
        e => ctx.settle(e, |e| format!("KOMOJU refused {kind}: {e}")),
    };
    match reason {
        Ok(reason) => fail(ctx, payment_id, reason).await?,
        Err(attempt) => return Ok(attempt),
    }
    Ok(Attempt::Finished)
}

/// Kills the row and puts the payment's order (if it is known) in front of a
/// person.
async fn fail(ctx: &CallContext<'_>, payment_id: &str, reason: String) -> store::Result<()> {
    let id = payment_id.to_string();
    let order = ctx
        .store
        .read(move |c| orders::find_by_payment(c, Provider::Komoju.as_str(), &id, None))
        .await?
        .map(|o| (o.channel, o.id));
    outcome::finish(ctx.store, ctx.row.id, order, CallOutcome::Failed { reason }).await
}
