//! Deferred-payment calls and polls: ask the provider, then decide and write
//! the answer (with the outbox row it completes) in one transaction.

use std::time::Duration;

use chrono::NaiveDate;

use crate::channels::CallError;
use crate::channels::credit::rules::{self as rules, CreditPolicy, Source};
use crate::channels::credit::{CancelOutcome, CreditProvider, ShipmentRegistration};
use crate::domain::credit::{CreditVerdict, ShipmentReport, Transaction};
use crate::domain::{Carrier, Channel, Order, time};
use crate::engine::Call;
use crate::engine::Decision;
use crate::store::outbox::OutboxRow;
use crate::store::{self, Store, credit as credit_store, orders, outbox};

/// How a credit call went, when the provider did not fail it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Finished and written.
    Done,
    /// Not made yet: the transaction is in its settle pause for this long.
    Wait(Duration),
}

/// What the dispatcher gets back: a step, or the provider's failure (to
/// retry or to give up), or a store failure (the row stays pending).
pub type Outcome = store::Result<Result<Step, CallError>>;

/// Makes one credit call of the outbox.
pub async fn perform(
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
        finish(store, row.id, channel, order_id, |_| Decision::default()).await?;
        return Ok(Ok(Step::Done));
    };
    let Some(case) = order.credit.clone() else {
        finish(store, row.id, channel, order_id, |_| Decision::default()).await?;
        return Ok(Ok(Step::Done));
    };
    let reference = order.payment.as_ref().and_then(|p| p.reference.clone());
    match &row.call {
        Call::CreditRequest { attempt, .. } => {
            if order.state == crate::domain::OrderState::Cancelled && reference.is_none() {
                finish(store, row.id, channel, order_id, |_| Decision::default()).await?;
                return Ok(Ok(Step::Done));
            }
            let detail = detail.unwrap_or_default();
            let app = match rules::application(&order, &detail, *attempt) {
                Ok(app) => app,
                Err(e) => return Ok(Err(not_sent("INVALID_ORDER", &e))),
            };
            let answer = match provider.request_credit(&app, row.attempts > 0).await {
                Ok(a) => a,
                Err(e) => return Ok(Err(e)),
            };
            let at_ms = time::unix_ms(time::now());
            finish(store, row.id, channel, order_id, move |o| {
                let decision = rules::verdict(
                    o,
                    answer.verdict,
                    Source::Request {
                        reference: answer.reference,
                        at_ms,
                    },
                    policy,
                    &now(),
                );
                if answer.replaced.is_empty() {
                    decision
                } else {
                    // What was sent differs from the ERP's text: say so.
                    decision.event(
                        "credit.characters_replaced",
                        serde_json::json!({"replaced": answer.replaced}),
                    )
                }
            })
            .await?;
            Ok(Ok(Step::Done))
        }
        Call::CreditShip {
            carrier,
            tracking_no,
            shipped_on,
            ..
        } => {
            if case
                .registered
                .as_ref()
                .is_some_and(|(_, t)| t == tracking_no)
            {
                finish(store, row.id, channel, order_id, |_| Decision::default()).await?;
                return Ok(Ok(Step::Done));
            }
            if let Some(wait) = settle_wait(provider, case.requested_at_ms) {
                return Ok(Ok(Step::Wait(wait)));
            }
            let Some(reference) = reference else {
                return Ok(Err(CallError::transient(
                    "the credit request has not been answered yet",
                )));
            };
            let report = match shipment_report(carrier, tracking_no, shipped_on, &case) {
                Ok(r) => r,
                Err(e) => return Ok(Err(e)),
            };
            // An OK can turn NG: ask again just before registering.
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
                finish(store, row.id, channel, order_id, move |o| {
                    rules::verdict(o, now_verdict, Source::BeforeShipment, policy, &now())
                })
                .await?;
                return Ok(Ok(Step::Done));
            }
            let registration = match provider.register_shipment(&reference, &report).await {
                Ok(r) => r,
                Err(e) => return Ok(Err(e)),
            };
            let (carrier, tracking) = (carrier.clone(), tracking_no.clone());
            finish(store, row.id, channel, order_id, move |o| {
                let mut d =
                    rules::verdict(o, CreditVerdict::Ok, Source::BeforeShipment, policy, &now());
                let registered = rules::shipment_registered(
                    o,
                    &carrier,
                    &tracking,
                    registration == ShipmentRegistration::AlreadyRegistered,
                );
                merge(&mut d, registered);
                d
            })
            .await?;
            Ok(Ok(Step::Done))
        }
        Call::CreditCancel { reason, .. } => {
            let reference = match reference {
                Some(r) => r,
                // The request went unanswered (a crash, a timeout) and the
                // order was cancelled before its retry: the provider may
                // still have created the transaction. Find it to cancel it.
                None => {
                    let detail = detail.unwrap_or_default();
                    let app = match rules::application(&order, &detail, case.attempt) {
                        Ok(app) => app,
                        Err(e) => return Ok(Err(not_sent("INVALID_ORDER", &e))),
                    };
                    match provider.find_request(&app).await {
                        Ok(Some(found)) => found,
                        Ok(None) => {
                            finish(store, row.id, channel, order_id, |_| Decision::default())
                                .await?;
                            return Ok(Ok(Step::Done));
                        }
                        Err(e) => return Ok(Err(e)),
                    }
                }
            };
            if let Some(wait) = settle_wait(provider, case.requested_at_ms) {
                return Ok(Ok(Step::Wait(wait)));
            }
            let outcome = match provider.cancel(&reference, reason).await {
                Ok(o) => o,
                Err(e) => return Ok(Err(e)),
            };
            finish(store, row.id, channel, order_id, move |o| {
                rules::cancelled_at_provider(o, outcome == CancelOutcome::Cancelled)
            })
            .await?;
            Ok(Ok(Step::Done))
        }
        _ => Ok(Err(not_sent("NOT_A_CREDIT_CALL", "not a credit call"))),
    }
}

/// Records a credit call's pause without counting an attempt.
pub async fn defer(store: &Store, outbox_id: i64, wait: Duration) -> store::Result<()> {
    let next_ms = time::unix_ms(time::now()) + wait.as_millis() as i64;
    store
        .write(move |tx| {
            outbox::defer(
                tx,
                outbox_id,
                next_ms,
                "waiting for the provider's settle pause after the credit request",
                &now(),
            )
        })
        .await
}

/// Polls the credit of every order under review with `provider`, and the
/// transaction of every shipped one, and writes what changed. Returns how
/// many orders were looked at.
pub async fn poll(
    store: &Store,
    provider: &dyn CreditProvider,
    policy: CreditPolicy,
    safety_stock: u32,
) -> Result<usize, PollError> {
    let p = provider.provider();
    let now_ms = time::unix_ms(time::now());
    let (pending, shipped) = store
        .read(move |c| {
            Ok((
                credit_store::under_review(c, p, now_ms)?,
                credit_store::awaiting_payment(c, p)?,
            ))
        })
        .await?;
    let refs: Vec<String> = pending.iter().map(|f| f.reference.clone()).collect();
    let verdicts = if refs.is_empty() {
        vec![]
    } else {
        provider.credit_results(&refs).await?
    };
    for (f, (_, v)) in pending.iter().zip(verdicts) {
        write(
            store,
            None,
            f.channel,
            f.order_id.clone(),
            safety_stock,
            move |o| rules::verdict(o, v, Source::Poll, policy, &now()),
        )
        .await?;
    }
    if !pending.is_empty() {
        let polled: Vec<(Channel, String)> = pending
            .iter()
            .map(|f| (f.channel, f.order_id.clone()))
            .collect();
        store
            .write(move |tx| {
                polled
                    .iter()
                    .try_for_each(|(ch, id)| credit_store::mark_polled(tx, *ch, id, now_ms))
            })
            .await?;
    }
    for f in &shipped {
        let t: Transaction = provider.transaction_status(&f.reference).await?;
        write(
            store,
            None,
            f.channel,
            f.order_id.clone(),
            safety_stock,
            move |o| rules::progress(o, t),
        )
        .await?;
    }
    Ok(pending.len() + shipped.len())
}

/// Why a poll round stopped.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error(transparent)]
    Provider(#[from] CallError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

fn now() -> String {
    time::rfc3339(time::now())
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
    carrier: &str,
    tracking_no: &str,
    shipped_on: &str,
    case: &crate::domain::credit::CreditCase,
) -> Result<ShipmentReport, CallError> {
    let carrier = Carrier::parse(carrier)
        .ok_or_else(|| not_sent("UNKNOWN_CARRIER", &format!("unknown carrier {carrier:?}")))?;
    let shipped_on = NaiveDate::parse_from_str(shipped_on, "%Y-%m-%d")
        .map_err(|_| not_sent("BAD_DATE", &format!("bad shipment date {shipped_on:?}")))?;
    Ok(ShipmentReport {
        carrier,
        tracking_no: tracking_no.to_string(),
        shipped_on,
        replaces: case
            .registered
            .as_ref()
            .map(|(_, t)| t.clone())
            .filter(|t| t != tracking_no),
    })
}

/// Adds `more` to `d` (the order writes of both, fields of `more` winning).
fn merge(d: &mut Decision, more: Decision) {
    if let Some(w) = more.order {
        let base = d.order.get_or_insert_with(Default::default);
        if let Some(c) = w.credit {
            let into = base.credit.get_or_insert_with(Default::default);
            into.registered = c.registered.or(into.registered.take());
            into.transaction = c.transaction.or(into.transaction);
        }
    }
    d.events.extend(more.events);
}

/// Completes the outbox row and writes the decision about the order as it
/// stands inside the transaction.
async fn finish(
    store: &Store,
    outbox_id: i64,
    channel: Channel,
    order_id: String,
    decide: impl FnOnce(&Order) -> Decision + Send + 'static,
) -> store::Result<()> {
    write(store, Some(outbox_id), channel, order_id, 0, decide).await
}

/// Writes a decision about an order as it stands inside the transaction (and
/// completes the outbox row that led to it, if any).
async fn write(
    store: &Store,
    outbox_id: Option<i64>,
    channel: Channel,
    order_id: String,
    safety_stock: u32,
    decide: impl FnOnce(&Order) -> Decision + Send + 'static,
) -> store::Result<()> {
    store
        .write(move |tx| {
            let now = now();
            if let Some(id) = outbox_id {
                outbox::complete(tx, id, &now)?;
            }
            if let Some(order) = orders::load(tx, channel, &order_id)? {
                let d = decide(&order);
                orders::apply(tx, channel, &order_id, &d, safety_stock, &now)?;
            }
            Ok(())
        })
        .await
}
