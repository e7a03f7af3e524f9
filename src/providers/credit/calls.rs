//! The network part of the deferred-payment outbox calls: the credit request,
//! the shipment registration (after a fresh look at the verdict) and the
//! cancel. Each answer is decided by [`crate::engine::credit`] and written by
//! [`super::apply`] together with the row it completes.

use std::time::Duration;

use chrono::NaiveDate;

use super::apply::{finish, merge, now};
use super::{CancelOutcome, CreditProvider, CreditProviders, ShipmentRegistration};
use crate::call;
use crate::call::CallError;
use crate::call::{Attempt, CallContext};
use crate::domain::credit::{CreditCase, CreditVerdict, ShipmentReport};
use crate::domain::{Carrier, Channel, Order, time};
use crate::engine::EventKind;
use crate::engine::credit::{self as rules, CreditPolicy, Source};
use crate::engine::{Call, Decision};
use crate::store::outbox::OutboxRow;
use crate::store::{self, Store, credit as credit_store, orders};

/// The note of a call that waits out the provider's settle pause.
const SETTLE_NOTE: &str = "waiting for the provider's settle pause after the credit request";

/// Makes one credit call of the outbox with the provider it names.
pub async fn run(
    providers: &CreditProviders,
    policy: CreditPolicy,
    ctx: &CallContext<'_>,
) -> store::Result<Attempt> {
    let row = ctx.row;
    let (Call::CreditRequest {
        provider,
        channel,
        order_id,
        ..
    }
    | Call::CreditShip {
        provider,
        channel,
        order_id,
        ..
    }
    | Call::CreditCancel {
        provider,
        channel,
        order_id,
        ..
    }) = &row.call
    else {
        unreachable!("not a credit call: {}", row.call.kind());
    };
    let Some(client) = providers.get(*provider) else {
        return Ok(call::not_configured(provider.as_str()));
    };
    let (what_ja, what) = match &row.call {
        Call::CreditRequest { .. } => ("与信依頼", "the credit request"),
        Call::CreditShip { .. } => ("送り状番号登録", "the shipment registration"),
        _ => ("取消", "the cancel"),
    };
    let (name_ja, name) = (
        crate::wording::provider(crate::config::Language::Ja, (*provider).into()),
        provider.display_name(),
    );
    let failure = match perform(ctx.store, client.as_ref(), row, policy).await? {
        Ok(Step::Done) => return Ok(Attempt::Finished),
        Ok(Step::Wait(pause)) => {
            return Ok(Attempt::Wait {
                pause,
                note: SETTLE_NOTE,
            });
        }
        Err(e @ CallError::Transient { .. }) => match ctx.give_up_or_retry(e) {
            Ok(error) => format!(
                "{name_ja}への{what_ja}が長く失敗しています({error}) / \
                 {name} failed for too long ({what}): {error}"
            ),
            Err(attempt) => return Ok(attempt),
        },
        Err(CallError::Rejected { message, .. }) => format!(
            "{name_ja}が{what_ja}を受け付けませんでした({message}) / {name} refused {what}: {message}"
        ),
        Err(e @ CallError::Configuration { .. }) => return Ok(ctx.failed(e)),
    };
    let order = Some((*channel, order_id.clone()));
    crate::call::outcome::finish(
        ctx.store,
        row.id,
        order,
        crate::call::outcome::CallOutcome::Failed { reason: failure },
    )
    .await?;
    Ok(Attempt::Finished)
}

/// How a credit call went, when the provider did not fail it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// Finished and written.
    Done,
    /// Not made yet: the transaction is in its settle pause for this long.
    Wait(Duration),
}

/// What a call step gives back: a step, or the provider's failure (to
/// retry or to give up), or a store failure (the row stays pending).
type Outcome = store::Result<Result<Step, CallError>>;

/// What a call step knows of its order: who it is and how it stands.
struct Loaded {
    channel: Channel,
    order_id: String,
    order: Order,
    case: CreditCase,
    /// The provider's id of the transaction, once the request was answered.
    reference: Option<String>,
    /// The registration the order came with (the buyer's details).
    detail: Option<serde_json::Value>,
}

/// Makes one credit call of the outbox.
async fn perform(
    store: &Store,
    provider: &dyn CreditProvider,
    row: &OutboxRow,
    policy: CreditPolicy,
) -> Outcome {
    let (channel, order_id) = match &row.call {
        Call::CreditRequest {
            channel, order_id, ..
        }
        | Call::CreditShip {
            channel, order_id, ..
        }
        | Call::CreditCancel {
            channel, order_id, ..
        } => (*channel, order_id.clone()),
        _ => return Ok(Err(not_sent("NOT_A_CREDIT_CALL", "not a credit call"))),
    };
    let loaded = store
        .read({
            let id = order_id.clone();
            move |c| {
                Ok((
                    orders::load(c, channel, &id)?,
                    credit_store::registration_detail(c, channel, &id)?,
                ))
            }
        })
        .await?;
    let (Some(order), detail) = loaded else {
        tracing::warn!(
            outbox_id = row.id,
            order_id,
            "credit call for an unknown order; dropped"
        );
        return done(store, row.id, channel, order_id).await;
    };
    let Some(case) = order.credit.clone() else {
        return done(store, row.id, channel, order_id).await;
    };
    let o = Loaded {
        channel,
        order_id,
        reference: order.payment.as_ref().and_then(|p| p.reference.clone()),
        order,
        case,
        detail,
    };
    match &row.call {
        Call::CreditRequest { attempt, .. } => {
            request(store, provider, row, policy, o, *attempt).await
        }
        Call::CreditShip {
            carrier,
            tracking_no,
            shipped_on,
            ..
        } => {
            let parcel = (*carrier, tracking_no.as_str(), *shipped_on);
            ship(store, provider, row.id, policy, o, parcel).await
        }
        Call::CreditCancel { reason, .. } => cancel(store, provider, row.id, o, reason).await,
        _ => Ok(Err(not_sent("NOT_A_CREDIT_CALL", "not a credit call"))),
    }
}

/// Completes the row with nothing to decide (the call no longer applies).
async fn done(store: &Store, outbox_id: i64, channel: Channel, order_id: String) -> Outcome {
    finish(store, outbox_id, channel, order_id, |_| Decision::default()).await?;
    Ok(Ok(Step::Done))
}

/// The credit request (与信依頼).
async fn request(
    store: &Store,
    provider: &dyn CreditProvider,
    row: &OutboxRow,
    policy: CreditPolicy,
    o: Loaded,
    attempt: u32,
) -> Outcome {
    if o.order.state == crate::domain::OrderState::Cancelled && o.reference.is_none() {
        return done(store, row.id, o.channel, o.order_id).await;
    }
    let detail = o.detail.unwrap_or_default();
    let app = match rules::application(&o.order, &detail, attempt) {
        Ok(app) => app,
        Err(e) => return Ok(Err(not_sent("INVALID_ORDER", &e))),
    };
    let answer = match provider.request_credit(&app, row.attempts > 0).await {
        Ok(a) => a,
        Err(e) => return Ok(Err(e)),
    };
    let at_ms = time::unix_ms(time::now());
    finish(store, row.id, o.channel, o.order_id, move |o| {
        let source = Source::Request {
            reference: answer.reference,
            at_ms,
        };
        let decision = rules::verdict(o, answer.verdict, source, policy, &now());
        if answer.replaced.is_empty() {
            decision
        } else {
            // What was sent differs from the ERP's text: say so.
            decision.event(
                EventKind::CreditCharactersReplaced,
                serde_json::json!({"replaced": answer.replaced}),
            )
        }
    })
    .await?;
    Ok(Ok(Step::Done))
}

/// The shipment registration (出荷報告), after asking the verdict again: an
/// OK can turn NG before the parcel leaves.
async fn ship(
    store: &Store,
    provider: &dyn CreditProvider,
    outbox_id: i64,
    policy: CreditPolicy,
    o: Loaded,
    (carrier, tracking_no, shipped_on): (Carrier, &str, NaiveDate),
) -> Outcome {
    let Loaded {
        channel,
        order_id,
        case,
        reference,
        ..
    } = o;
    if case
        .registered
        .as_ref()
        .is_some_and(|(_, t)| t == tracking_no)
    {
        return done(store, outbox_id, channel, order_id).await;
    }
    if let Some(wait) = settle_wait(provider, case.requested_at_ms) {
        return Ok(Ok(Step::Wait(wait)));
    }
    let Some(reference) = reference else {
        return Ok(Err(CallError::transient(
            "the credit request has not been answered yet",
        )));
    };
    let report = shipment_report(carrier, tracking_no, shipped_on, &case);
    let now_verdict = match provider
        .credit_results(std::slice::from_ref(&reference))
        .await
    {
        Ok(v) => v
            .into_iter()
            .find(|(r, _)| *r == reference)
            .map_or(CreditVerdict::Pending, |(_, v)| v),
        Err(e) => return Ok(Err(e)),
    };
    if now_verdict != CreditVerdict::Ok {
        tracing::warn!(
            order_id,
            verdict = now_verdict.as_str(),
            "credit changed before shipment registration"
        );
        finish(store, outbox_id, channel, order_id, move |o| {
            rules::verdict(o, now_verdict, Source::BeforeShipment, policy, &now())
        })
        .await?;
        return Ok(Ok(Step::Done));
    }
    let registration = match provider.register_shipment(&reference, &report).await {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let (carrier, tracking) = (carrier.to_string(), tracking_no.to_string());
    let again = registration == ShipmentRegistration::AlreadyRegistered;
    finish(store, outbox_id, channel, order_id, move |o| {
        let mut d = rules::verdict(o, CreditVerdict::Ok, Source::BeforeShipment, policy, &now());
        merge(
            &mut d,
            rules::shipment_registered(o, &carrier, &tracking, again),
        );
        d
    })
    .await?;
    Ok(Ok(Step::Done))
}

/// The cancel (取消), finding the transaction first when its request went
/// unanswered.
async fn cancel(
    store: &Store,
    provider: &dyn CreditProvider,
    outbox_id: i64,
    o: Loaded,
    reason: &str,
) -> Outcome {
    let reference = match o.reference {
        Some(r) => r,
        // The request went unanswered (a crash, a timeout) and the order was
        // cancelled before its retry: the provider may still have created the
        // transaction. Find it to cancel it.
        None => {
            let detail = o.detail.unwrap_or_default();
            let app = match rules::application(&o.order, &detail, o.case.attempt) {
                Ok(app) => app,
                Err(e) => return Ok(Err(not_sent("INVALID_ORDER", &e))),
            };
            match provider.find_request(&app).await {
                Ok(Some(found)) => found,
                Ok(None) => return done(store, outbox_id, o.channel, o.order_id).await,
                Err(e) => return Ok(Err(e)),
            }
        }
    };
    if let Some(wait) = settle_wait(provider, o.case.requested_at_ms) {
        return Ok(Ok(Step::Wait(wait)));
    }
    let outcome = match provider.cancel(&reference, reason).await {
        Ok(o) => o,
        Err(e) => return Ok(Err(e)),
    };
    finish(store, outbox_id, o.channel, o.order_id, move |o| {
        rules::cancelled_at_provider(o, outcome == CancelOutcome::Cancelled)
    })
    .await?;
    Ok(Ok(Step::Done))
}

fn not_sent(code: &str, message: &str) -> CallError {
    CallError::Rejected {
        http_status: 0,
        code: code.to_string(),
        message: message.to_string(),
    }
}

/// How long the transaction still needs left alone after its credit request.
fn settle_wait(provider: &dyn CreditProvider, requested_at_ms: Option<i64>) -> Option<Duration> {
    let due = requested_at_ms? + provider.settle_delay().as_millis() as i64;
    let left = due - time::unix_ms(time::now());
    (left > 0).then(|| Duration::from_millis(left as u64))
}

fn shipment_report(
    carrier: Carrier,
    tracking_no: &str,
    shipped_on: NaiveDate,
    case: &CreditCase,
) -> ShipmentReport {
    ShipmentReport {
        carrier,
        tracking_no: tracking_no.to_string(),
        shipped_on,
        replaces: case
            .registered
            .as_ref()
            .map(|(_, t)| t.clone())
            .filter(|t| t != tracking_no),
    }
}
