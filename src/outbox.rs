//! The outbox dispatcher: makes the calls decisions queued, with exponential
//! backoff and jitter, honouring `Retry-After`, and gives a call up (dead,
//! visible, retryable by hand) once its retry budget is spent.
//!
//! Calls for one order run one at a time, in the order they were decided;
//! calls for different orders run concurrently. Every call is idempotent at
//! the provider (J-goods answers a repeated identical PUT with 200), so a call
//! that was made but not recorded before a crash is simply made again.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::channels::CallError;
use crate::channels::credit::CreditProviders;
use crate::channels::credit::apply::{self as credit_flow, Step};
use crate::channels::credit::rules::CreditPolicy;
use crate::channels::jgoods::Status;
use crate::channels::jgoods::apply as jgoods_flow;
use crate::channels::jgoods::client::JgoodsClient;
use crate::channels::jgoods::rules::PutOutcome;
use crate::channels::jgoods::wire::{JgoodsPutOrder, JgoodsReservedLine};
use crate::channels::komoju::client::KomojuClient;
use crate::channels::rakuten_pay::Progress;
use crate::channels::rakuten_pay::client::ShippingRowInput;
use crate::channels::rakuten_pay::poller::RakutenApi;
use crate::domain::Channel;
use crate::domain::time;
use crate::engine::Call;
use crate::flows::calls::{self, CallOutcome};
use crate::heartbeat::{self, Heartbeat};
use crate::http::metrics::Metrics;
use crate::problems::ProviderProblems;
use crate::store::outbox::OutboxRow;
use crate::store::{self, Store, outbox};

/// When and how often to retry a failed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub initial_delay: Duration,
    pub max_delay: Duration,
    /// After this long since the call was first due, it is dead.
    pub give_up_after: Duration,
}

impl RetryPolicy {
    /// The delay before attempt `attempts + 1` (exponential, with jitter, capped).
    pub fn delay(&self, attempts: u32) -> Duration {
        ExponentialBuilder::default()
            .with_min_delay(self.initial_delay)
            .with_max_delay(self.max_delay)
            .with_factor(2.0)
            .with_jitter()
            .without_max_times()
            .build()
            .nth(attempts as usize)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }
}

/// What the dispatcher needs to run.
#[derive(Clone)]
pub struct Dispatcher {
    pub store: Store,
    pub jgoods: Option<Arc<JgoodsClient>>,
    pub rakuten: Option<Arc<RakutenApi>>,
    pub komoju: Option<Arc<KomojuClient>>,
    /// Deferred-payment providers (Kuroneko Atobarai, Atobarai.com) enabled.
    pub credit: CreditProviders,
    pub credit_policy: CreditPolicy,
    pub retry: RetryPolicy,
    pub safety_stock: u32,
    /// Calls in flight at once (across orders).
    pub concurrency: usize,
    /// Poked after a decision queues a call, so it goes out without waiting.
    pub wake: Arc<Notify>,
    /// Checked in on every turn of the loop; feeds the systemd watchdog.
    pub heartbeat: Heartbeat,
    /// Provider call latency and errors.
    pub metrics: Arc<Metrics>,
    /// Channel-wide problems (refused keys, unregistered addresses).
    pub problems: ProviderProblems,
    /// This installation's random id ([`crate::store::kv::installation_id`]),
    /// the first part of every idempotency key.
    pub installation_id: String,
}

/// The idempotency key of outbox row `row_id`: `os-<installation>-<row>`
/// (at most 56 ASCII characters; KOMOJU takes 100).
pub fn idempotency_key(installation_id: &str, row_id: i64) -> String {
    format!("os-{installation_id}-{row_id}")
}

/// How one attempt ended, as far as the outbox row is concerned.
enum Attempt {
    /// The row was completed (or killed) together with its decision.
    Finished,
    /// Not made: due again after this pause (no attempt counted).
    Wait(Duration),
    /// Try again later.
    Retry {
        error: String,
        retry_after: Option<Duration>,
    },
    /// The provider refuses this installation's configuration: the call waits
    /// (no attempt counted, never given up) while the problem is shown.
    Blocked { provider: &'static str, fix: String },
}

/// How long a call blocked by a configuration problem waits before it is
/// tried again (a reload or a new key fixes it; no tight loop meanwhile),
/// unless `[retry] max_delay` is shorter.
const BLOCKED_WAIT: Duration = Duration::from_secs(300);

impl Dispatcher {
    /// Drains the outbox until `shutdown`; in-flight calls finish first.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut in_flight: JoinSet<(i64, Option<String>)> = JoinSet::new();
        let mut busy_ids: HashSet<i64> = HashSet::new();
        let mut busy_orders: HashSet<String> = HashSet::new();
        loop {
            // Every wait below is at most a second; only a hung store read
            // can keep the loop from coming back within the allowance.
            self.heartbeat.beat(heartbeat::TURN_ALLOWANCE);
            if !shutdown.is_cancelled() && in_flight.len() < self.concurrency {
                // Rows in flight are still pending and, being older, usually
                // come first: this many rows hold a candidate for every free
                // slot. Reading more decoded calls only to skip them (a tenth
                // of the daemon's CPU under a webhook burst); a round that
                // comes up short is made up at the next completion.
                let limit = u32::try_from(self.concurrency).unwrap_or(u32::MAX);
                match self
                    .store
                    .read(move |c| outbox::due(c, time::unix_ms(time::now()), limit))
                    .await
                {
                    Ok(rows) => {
                        for row in rows {
                            if in_flight.len() >= self.concurrency {
                                break;
                            }
                            let order_key = row.order_id.as_ref().map(|o| order_key(&row, o));
                            if busy_ids.contains(&row.id)
                                || order_key.as_ref().is_some_and(|k| busy_orders.contains(k))
                            {
                                continue;
                            }
                            busy_ids.insert(row.id);
                            if let Some(k) = &order_key {
                                busy_orders.insert(k.clone());
                            }
                            let me = self.clone();
                            in_flight.spawn(async move {
                                let id = row.id;
                                me.attempt_logged(row).await;
                                (id, order_key)
                            });
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "cannot read the outbox"),
                }
            }
            if shutdown.is_cancelled() && in_flight.is_empty() {
                return;
            }
            // With calls in flight, their completion wakes the loop; only an
            // idle dispatcher needs to look up when the next retry is due.
            let idle_wait = if in_flight.is_empty() {
                self.idle_wait().await
            } else {
                Duration::from_secs(1)
            };
            tokio::select! {
                Some(done) = in_flight.join_next() => {
                    if let Ok((id, key)) = done {
                        busy_ids.remove(&id);
                        if let Some(k) = key { busy_orders.remove(&k); }
                    }
                }
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(idle_wait) => {}
                _ = shutdown.cancelled(), if !shutdown.is_cancelled() => {}
            }
        }
    }

    /// Makes every call that is due now, one round, and waits for them all.
    /// Returns how many calls were attempted (tests drive the outbox with it).
    pub async fn run_once(&self) -> store::Result<usize> {
        let rows = self
            .store
            .read(|c| outbox::due(c, time::unix_ms(time::now()), 256))
            .await?;
        let n = rows.len();
        let mut set = JoinSet::new();
        for row in rows {
            let me = self.clone();
            set.spawn(async move { me.attempt_logged(row).await });
        }
        while set.join_next().await.is_some() {}
        Ok(n)
    }

    /// How long to sleep when there is nothing to do: until the next retry is
    /// due, but at most a second (other processes may queue calls too).
    async fn idle_wait(&self) -> Duration {
        let next = self.store.read(outbox::next_due_ms).await.ok().flatten();
        let now = time::unix_ms(time::now());
        match next {
            Some(ms) if ms > now => {
                Duration::from_millis((ms - now) as u64).min(Duration::from_secs(1))
            }
            Some(_) => Duration::from_millis(20),
            None => Duration::from_secs(1),
        }
    }

    async fn attempt_logged(&self, row: OutboxRow) {
        let id = row.id;
        let kind = row.kind.clone();
        let attempts = row.attempts;
        let budget_from_ms = row.budget_from_ms;
        let provider = row.call.provider();
        let started = std::time::Instant::now();
        let result = match self.attempt(row).await {
            Ok(Attempt::Finished) => {
                // The provider answered (accepted or refused the call itself):
                // its configuration works.
                self.problems.clear(provider).await;
                Ok(())
            }
            Ok(Attempt::Wait(pause)) => {
                crate::channels::credit::apply::defer(&self.store, id, pause).await
            }
            Ok(Attempt::Blocked { provider, fix }) => {
                self.problems.flag(provider, &fix).await;
                let wait = BLOCKED_WAIT.min(self.retry.max_delay);
                let next_ms = time::unix_ms(time::now()) + wait.as_millis() as i64;
                self.store
                    .write(move |tx| {
                        outbox::defer(tx, id, next_ms, &fix, &time::rfc3339(time::now()))
                    })
                    .await
            }
            Ok(Attempt::Retry { error, retry_after }) => {
                self.schedule_retry(id, attempts, budget_from_ms, &error, retry_after)
                    .await
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => tracing::debug!(
                outbox_id = id,
                kind,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "call finished"
            ),
            // The row stays pending; the next round tries again.
            Err(e) => {
                tracing::error!(outbox_id = id, kind, error = %e, "cannot record a call's result")
            }
        }
    }

    async fn attempt(&self, row: OutboxRow) -> store::Result<Attempt> {
        match &row.call {
            Call::JgoodsPutOrder {
                order_no,
                items,
                confirm,
            } => {
                let Some(client) = self.jgoods.clone() else {
                    return Ok(not_configured("jgoods"));
                };
                let body = JgoodsPutOrder {
                    status: confirm.then(|| Status::AwaitingArrival.label().to_string()),
                    items: items.as_ref().map(|lines| {
                        lines
                            .iter()
                            .map(|l| JgoodsReservedLine {
                                line_no: l.line_no,
                                reserved_qty: l.reserved_qty,
                            })
                            .collect()
                    }),
                };
                let outcome = match self
                    .metrics
                    .timed("jgoods", client.put_order(order_no, &body))
                    .await
                {
                    Ok(snap) => PutOutcome::Accepted(snap),
                    Err(CallError::Rejected {
                        http_status: 409, ..
                    }) => {
                        // The order moved on at J-goods (cancelled, or already
                        // past 承認待ち): decide from what it says now.
                        match self
                            .metrics
                            .timed("jgoods", client.get_order(order_no))
                            .await
                        {
                            Ok(snap) => PutOutcome::Accepted(snap),
                            Err(e) => return Ok(self.failed(&row, e)),
                        }
                    }
                    Err(CallError::Rejected { code, message, .. }) => {
                        PutOutcome::Refused { code, message }
                    }
                    Err(e @ CallError::Configuration { .. }) => return Ok(self.failed(&row, e)),
                    Err(e @ CallError::Transient { .. }) => match self.give_up_or_retry(&row, e) {
                        Ok(reason) => PutOutcome::GaveUp { reason },
                        Err(attempt) => return Ok(attempt),
                    },
                };
                jgoods_flow::finish_put(
                    &self.store,
                    row.id,
                    order_no.clone(),
                    outcome,
                    self.safety_stock,
                )
                .await?;
                Ok(Attempt::Finished)
            }
            Call::RakutenShip {
                order_number,
                carrier,
                tracking_no,
                shipped_on,
            } => {
                let Some(api) = self.rakuten.clone() else {
                    return Ok(not_configured("rakuten_pay"));
                };
                let outcome = match report_rakuten_shipment(
                    &api,
                    &self.metrics,
                    order_number,
                    carrier,
                    tracking_no,
                    shipped_on,
                )
                .await
                {
                    Ok(detail) => CallOutcome::Done {
                        kind: "order.shipment_reported",
                        detail,
                    },
                    Err(e @ CallError::Transient { .. }) => match self.give_up_or_retry(&row, e) {
                        Ok(error) => CallOutcome::Failed {
                            reason: format!("could not report the shipment to Rakuten: {error}"),
                        },
                        Err(attempt) => return Ok(attempt),
                    },
                    Err(e @ CallError::Configuration { .. }) => return Ok(self.failed(&row, e)),
                    Err(e) => CallOutcome::Failed {
                        reason: format!("Rakuten refused the shipment report: {e}"),
                    },
                };
                calls::finish(
                    &self.store,
                    row.id,
                    Some((Channel::Rakuten, order_number.clone())),
                    outcome,
                )
                .await?;
                Ok(Attempt::Finished)
            }
            Call::KomojuCapture { payment_id }
            | Call::KomojuCancel { payment_id }
            | Call::KomojuRefund { payment_id }
            | Call::KomojuFetch { payment_id } => {
                let Some(client) = self.komoju.clone() else {
                    return Ok(not_configured("komoju"));
                };
                // Derived from the outbox row: a retry after a crash reuses it,
                // so KOMOJU replays the first answer instead of acting twice.
                // KOMOJU keeps keys per account: the installation id keeps
                // them unique across reset stores and installations.
                let key = idempotency_key(&self.installation_id, row.id);
                let answer = self
                    .metrics
                    .timed("komoju", async {
                        match &row.call {
                            Call::KomojuCapture { .. } => {
                                client.capture(payment_id, None, &key).await
                            }
                            Call::KomojuCancel { .. } => client.cancel(payment_id, &key).await,
                            Call::KomojuRefund { .. } => {
                                client.refund(payment_id, None, None, &key).await
                            }
                            _ => client.get_payment(payment_id).await,
                        }
                    })
                    .await;
                let order = self
                    .store
                    .read({
                        let id = payment_id.clone();
                        move |c| crate::store::orders::find_by_payment(c, "komoju", &id, None)
                    })
                    .await?
                    .map(|o| (o.channel, o.id));
                match answer {
                    Ok(payment) => {
                        crate::channels::komoju::apply::finish_call(
                            &self.store,
                            row.id,
                            payment,
                            self.safety_stock,
                        )
                        .await?;
                    }
                    Err(e @ CallError::Transient { .. }) => match self.give_up_or_retry(&row, e) {
                        Ok(error) => {
                            let reason = format!("KOMOJU {} failed: {error}", row.kind);
                            calls::finish(
                                &self.store,
                                row.id,
                                order,
                                CallOutcome::Failed { reason },
                            )
                            .await?;
                        }
                        Err(attempt) => return Ok(attempt),
                    },
                    Err(e @ CallError::Configuration { .. }) => return Ok(self.failed(&row, e)),
                    Err(e) => {
                        let reason = format!("KOMOJU refused {}: {e}", row.kind);
                        calls::finish(&self.store, row.id, order, CallOutcome::Failed { reason })
                            .await?;
                    }
                }
                Ok(Attempt::Finished)
            }
            Call::CreditRequest {
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
            } => {
                let Some(client) = self.credit.get(*provider).cloned() else {
                    return Ok(not_configured(provider.as_str()));
                };
                let what = match &row.call {
                    Call::CreditRequest { .. } => "the credit request",
                    Call::CreditShip { .. } => "the shipment registration",
                    _ => "the cancel",
                };
                let failure = match credit_flow::perform(
                    &self.store,
                    client.as_ref(),
                    &row,
                    self.credit_policy,
                )
                .await?
                {
                    Ok(Step::Done) => return Ok(Attempt::Finished),
                    Ok(Step::Wait(pause)) => return Ok(Attempt::Wait(pause)),
                    Err(e @ CallError::Transient { .. }) => match self.give_up_or_retry(&row, e) {
                        Ok(error) => format!(
                            "{} failed for too long ({what}): {error}",
                            provider.display_name()
                        ),
                        Err(attempt) => return Ok(attempt),
                    },
                    Err(CallError::Rejected { message, .. }) => {
                        format!("{} refused {what}: {message}", provider.display_name())
                    }
                    Err(e @ CallError::Configuration { .. }) => return Ok(self.failed(&row, e)),
                };
                calls::finish(
                    &self.store,
                    row.id,
                    Some((*channel, order_id.clone())),
                    CallOutcome::Failed { reason: failure },
                )
                .await?;
                Ok(Attempt::Finished)
            }
            Call::JgoodsFetchOrder { order_no } => {
                let Some(client) = self.jgoods.clone() else {
                    return Ok(not_configured("jgoods"));
                };
                let result = match self
                    .metrics
                    .timed("jgoods", client.get_order(order_no))
                    .await
                {
                    Ok(snap) => Ok(snap),
                    Err(e @ CallError::Transient { .. }) => match self.give_up_or_retry(&row, e) {
                        Ok(error) => Err(error),
                        Err(attempt) => return Ok(attempt),
                    },
                    Err(e @ CallError::Configuration { .. }) => return Ok(self.failed(&row, e)),
                    Err(e) => Err(e.to_string()),
                };
                jgoods_flow::finish_fetch(&self.store, row.id, result, self.safety_stock).await?;
                Ok(Attempt::Finished)
            }
        }
    }

    fn failed(&self, row: &OutboxRow, e: CallError) -> Attempt {
        tracing::warn!(outbox_id = row.id, kind = row.kind, attempt = row.attempts + 1, error = %e, "provider call failed");
        match e {
            CallError::Transient {
                reason,
                retry_after,
            } => Attempt::Retry {
                error: reason,
                retry_after,
            },
            CallError::Rejected {
                http_status,
                code,
                message,
            } => Attempt::Retry {
                error: format!("{http_status} {code}: {message}"),
                retry_after: None,
            },
            CallError::Configuration { fix, .. } => Attempt::Blocked {
                provider: row.call.provider(),
                fix,
            },
        }
    }

    /// A transient failure: `Err` to retry later, or, once the retry budget is
    /// spent, `Ok` with the reason to give the call up.
    fn give_up_or_retry(&self, row: &OutboxRow, e: CallError) -> Result<String, Attempt> {
        let attempt = self.failed(row, e);
        match &attempt {
            Attempt::Retry { error, retry_after }
                if self.budget_spent(row.budget_from_ms, *retry_after, row.attempts) =>
            {
                Ok(error.clone())
            }
            _ => Err(attempt),
        }
    }

    /// Whether the next retry would fall after the call's budget ends.
    fn budget_spent(
        &self,
        budget_from_ms: i64,
        retry_after: Option<Duration>,
        attempts: u32,
    ) -> bool {
        let next = time::unix_ms(time::now())
            + self
                .retry
                .delay(attempts)
                .max(retry_after.unwrap_or_default())
                .as_millis() as i64;
        next - budget_from_ms > self.retry.give_up_after.as_millis() as i64
    }

    async fn schedule_retry(
        &self,
        id: i64,
        attempts: u32,
        budget_from_ms: i64,
        error: &str,
        retry_after: Option<Duration>,
    ) -> store::Result<()> {
        let delay = self
            .retry
            .delay(attempts)
            .max(retry_after.unwrap_or_default());
        let next_ms = time::unix_ms(time::now()) + delay.as_millis() as i64;
        let error = error.to_string();
        let dead = next_ms - budget_from_ms > self.retry.give_up_after.as_millis() as i64;
        self.store
            .write(move |tx| {
                let now = time::rfc3339(time::now());
                if dead {
                    outbox::kill(tx, id, &error, &now)
                } else {
                    outbox::reschedule(tx, id, next_ms, &error, &now)
                }
            })
            .await
    }
}

/// 発送完了報告, guarded against duplicates: the order is read first and a
/// basket that already carries the tracking number gets no second row (after
/// a crash between Rakuten's answer and our commit, the retry adds nothing).
async fn report_rakuten_shipment(
    api: &RakutenApi,
    metrics: &Metrics,
    order_number: &str,
    carrier: &str,
    tracking_no: &str,
    shipped_on: &str,
) -> Result<serde_json::Value, CallError> {
    let carrier = crate::domain::Carrier::parse(carrier).ok_or_else(|| CallError::Rejected {
        http_status: 0,
        code: "UNKNOWN_CARRIER".into(),
        message: carrier.into(),
    })?;
    let date = chrono::NaiveDate::parse_from_str(shipped_on, "%Y-%m-%d").map_err(|_| {
        CallError::Rejected {
            http_status: 0,
            code: "BAD_DATE".into(),
            message: shipped_on.into(),
        }
    })?;
    api.pacer.wait().await;
    let orders = metrics
        .timed(
            "rakuten_pay",
            api.client.get_order(&[order_number.to_string()]),
        )
        .await?;
    let order = orders
        .into_iter()
        .find(|o| o.order_number == order_number)
        .ok_or_else(|| CallError::Rejected {
            http_status: 404,
            code: "ORDER_NOT_FOUND".into(),
            message: format!("Rakuten does not know order {order_number}"),
        })?;
    // Rakuten takes shipping rows from 300 on. A parcel the warehouse sent
    // while Rakuten was still processing the payment (200) or a change (400)
    // is reported once it gets there: a wait, not a refusal.
    if matches!(
        order.progress,
        Progress::RakutenProcessing | Progress::AwaitingChangeConfirmation
    ) {
        return Err(CallError::transient(format!(
            "Rakuten order {order_number} is at {}: shipping rows are taken from 300 on",
            order.progress.code()
        )));
    }
    let baskets: Vec<(i64, Vec<ShippingRowInput>)> = order
        .packages
        .iter()
        .filter(|p| {
            !p.shipping
                .iter()
                .any(|r| r.shipping_number.as_deref() == Some(tracking_no))
        })
        .map(|p| {
            (
                p.basket_id,
                vec![ShippingRowInput::new(carrier, tracking_no, date)],
            )
        })
        .collect();
    if baskets.is_empty() {
        return Ok(serde_json::json!({"tracking_no": tracking_no, "already_reported": true}));
    }
    api.pacer.wait().await;
    metrics
        .timed(
            "rakuten_pay",
            api.client.update_order_shipping(order_number, &baskets),
        )
        .await?;
    Ok(serde_json::json!({
        "tracking_no": tracking_no,
        "baskets": baskets.iter().map(|(b, _)| *b).collect::<Vec<_>>(),
        "delivery_company": crate::channels::rakuten_pay::delivery_company(carrier),
    }))
}

fn order_key(row: &OutboxRow, order_id: &str) -> String {
    format!("{}:{order_id}", row.channel.as_deref().unwrap_or(""))
}

fn not_configured(provider: &str) -> Attempt {
    Attempt::Retry {
        error: format!("{provider} is not enabled in the config; the call waits"),
        retry_after: Some(Duration::from_secs(300)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_capped() {
        let p = RetryPolicy {
            initial_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(600),
            give_up_after: Duration::from_secs(86400),
        };
        let first = p.delay(0);
        assert!(
            first >= Duration::from_secs(2) && first <= Duration::from_secs(4),
            "{first:?}"
        );
        let fifth = p.delay(4);
        assert!(
            fifth >= Duration::from_secs(32) && fifth <= Duration::from_secs(64),
            "{fifth:?}"
        );
        assert!(p.delay(40) <= Duration::from_secs(600));
    }
}
