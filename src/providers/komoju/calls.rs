//! The network part of the KOMOJU outbox calls: capture, cancel, refund or
//! re-read a payment; the payment KOMOJU answers is applied by
//! [`super::apply::finish_call`].

use super::client::KomojuClient;
use crate::call::CallError;
use crate::call::outcome::{self, CallOutcome};
use crate::call::{Attempt, CallContext};
use crate::domain::Provider;
use crate::engine::Call;
use crate::store::{self, orders};

/// Makes one KOMOJU call of the outbox.
pub async fn run(client: &KomojuClient, ctx: &CallContext<'_>) -> store::Result<Attempt> {
    let row = ctx.row;
    let (Call::KomojuCapture { payment_id }
    | Call::KomojuCancel { payment_id }
    | Call::KomojuRefund { payment_id }
    | Call::KomojuFetch { payment_id }) = &row.call
    else {
        unreachable!("not a KOMOJU call: {}", row.call.kind());
    };
    // Derived from the outbox row: a retry after a crash reuses it, so KOMOJU
    // replays the first answer instead of acting twice. KOMOJU keeps keys per
    // account: the installation id keeps them unique across reset stores and
    // installations.
    let key = ctx.idempotency_key();
    // Cash paid at a konbini, bank or ATM cannot go back by `/refund`: only
    // a refund request with the customer's bank account, which a person
    // must supply. Asked for instead of a call KOMOJU would refuse.
    if matches!(row.call, Call::KomojuRefund { .. })
        && let Ok(p) = client.get_payment(payment_id).await
        && p.refunded_by_request()
    {
        super::apply::needs_bank_account(ctx.store, row.id, p).await?;
        return Ok(Attempt::Finished);
    }
    let answer = ctx
        .metrics
        .timed(Provider::Komoju, async {
            match &row.call {
                Call::KomojuCapture { .. } => client.capture(payment_id, None, &key).await,
                Call::KomojuCancel { .. } => client.cancel(payment_id, &key).await,
                Call::KomojuRefund { .. } => client.refund(payment_id, None, None, &key).await,
                _ => client.get_payment(payment_id).await,
            }
        })
        .await;
    let payment = match answer {
        Ok(payment) => payment,
        Err(e) => {
            let reason = match e {
                e @ CallError::Transient { .. } => ctx
                    .give_up_or_retry(e)
                    .map(|error| format!("KOMOJU {} failed: {error}", row.kind)),
                e => ctx.settle(e, |e| format!("KOMOJU refused {}: {e}", row.kind)),
            };
            match reason {
                Ok(reason) => fail(ctx, payment_id, reason).await?,
                Err(attempt) => return Ok(attempt),
            }
            return Ok(Attempt::Finished);
        }
    };
    super::apply::finish_call(ctx.store, row.id, payment).await?;
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
