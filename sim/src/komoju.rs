//! A KOMOJU simulator over real HTTP, written from KOMOJU's wire contract
//! (`providers/komoju.md`): `GET /payments/{id}`, `GET /payments`, capture,
//! cancel, refund and refund request under `/api/v1`, each payment type
//! following its own flow (konbini, bank transfer and Pay-easy wait
//! `authorized` for the customer's cash), what each API version shows, and
//! signed webhook pushes with retries. Where the contract guesses, the
//! account's [`Behaviour`] makes the guess a setting.
//!
//! It exists so that ordersync's tests, `ordersync demo` and `ordersync sim`
//! drive the real KOMOJU client and webhook receiver against the behaviour
//! the contract describes, awkward parts included: HTTP Basic
//! with an empty password, the idempotency store (replays byte for byte, 409
//! while the first request runs, keys that expire after 24 h on a clock the
//! tests drive), 422 on illegal moves, partial and full refunds, throttling,
//! 5xx, lost answers, and webhooks that are retried, duplicated or delivered
//! out of order.
//!
//! A merchant's POST is handled in this order: count it; suffer an injected
//! 429/5xx (nothing processed, key untouched); check Basic auth (401); check
//! the idempotency key (422 if longer than 100 or not ASCII; replay if
//! finished; 409 if in flight); suffer a `Hold`; apply the change and store
//! the answer under the key; suffer a `LoseAnswer`; answer.
//!
//! Layout: [`model`] is the payment resource in KOMOJU's words, [`wire`]
//! its JSON and headers, [`signature`] the webhook HMAC; `state` is the back
//! office without I/O (its module docs, and those of `idempotency`, list what
//! the simulator assumes where KOMOJU documents nothing); `api` is the HTTP
//! surface; `webhooks` pushes events; [`receiver`] is a merchant's webhook
//! endpoint for tests; [`platform`] is the Platform Model (sellers, splits,
//! balances, transfers, payouts), whose \[guess\] points are
//! [`PlatformSettings`].

#![warn(missing_docs)]

mod api;
mod faults;
mod handle_hooks;
mod idempotency;
pub mod model;
pub mod platform;
pub mod receiver;
pub mod settings;
pub mod signature;
mod state;
mod stats;
mod webhooks;
pub mod wire;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use crate::harness::{self, Tasks};

pub use faults::{Endpoint, Fault};
pub use model::{
    Capture, CaptureMode, ExpiryDays, Payment, PaymentStatus, PaymentType, Refund, RefundRequest,
    RefundRequestStatus,
};
pub use platform::PlatformSettings;
pub use settings::{Behaviour, MisPaidTransfer};
pub use state::{DEFAULT_PER_PAGE, MAX_PER_PAGE, SimState};
use state::{Effect, PendingEvent};
pub use stats::{
    DeliveryOutcome, DeliveryRecord, IdempotencyStats, PaymentCounts, SimStats, WebhookStats,
};
use webhooks::Delivery;
pub use wire::MAX_IDEMPOTENCY_KEY_LEN;

/// Where the simulated API lives under the simulator's address.
pub const API_PATH: &str = "/api/v1";

/// How the simulated KOMOJU behaves; [`Default`] suits tests (millisecond
/// retry delays), [`KomojuSimConfig::realistic`] suits a demo against a real daemon.
#[derive(Debug, Clone)]
pub struct KomojuSimConfig {
    /// The secret API key Basic auth accepts (as user name, empty password).
    pub secret_key: String,
    /// HMAC key of `X-Komoju-Signature`, matching the daemon's `webhook_secret`.
    pub webhook_secret: String,
    /// Where webhooks go (the daemon's `/webhooks/komoju`); `None` drops them
    /// until [`KomojuSimHandle::set_webhook_url`] is called.
    pub webhook_url: Option<String>,
    /// First wait before retrying a failed webhook; doubles each time.
    pub webhook_retry_initial: Duration,
    /// Longest wait between webhook retries.
    pub webhook_retry_max: Duration,
    /// How long one event is retried before it is given up.
    pub webhook_retry_budget: Duration,
    /// How long one webhook attempt may take.
    pub webhook_timeout: Duration,
    /// How long an idempotency key is remembered (24 h at KOMOJU).
    pub idempotency_ttl: Duration,
    /// Where the simulator's clock starts; `None` is the real time.
    pub start_at: Option<DateTime<Utc>>,
    /// Days to the `payment_deadline` of the types that wait for the customer's cash.
    pub expiry_days: ExpiryDays,
    /// The account's settings where the contract guesses.
    pub behaviour: Behaviour,
    /// The Platform Model's settings (its \[guess\] points).
    pub platform: PlatformSettings,
}

impl Default for KomojuSimConfig {
    fn default() -> Self {
        KomojuSimConfig {
            secret_key: "sk_test_simulated0000000000".to_string(),
            webhook_secret: "sim-komoju-webhook-secret".to_string(),
            webhook_url: None,
            webhook_retry_initial: Duration::from_millis(10),
            webhook_retry_max: Duration::from_millis(200),
            webhook_retry_budget: Duration::from_secs(10),
            webhook_timeout: Duration::from_secs(5),
            idempotency_ttl: Duration::from_secs(24 * 3600),
            start_at: None,
            expiry_days: ExpiryDays::default(),
            behaviour: Behaviour::default(),
            platform: PlatformSettings::default(),
        }
    }
}

impl KomojuSimConfig {
    /// Delays of human scale for `ordersync sim`/`demo`: retries from 30 s up
    /// to an hour for a day.
    pub fn realistic() -> Self {
        KomojuSimConfig {
            webhook_retry_initial: Duration::from_secs(30),
            webhook_retry_max: Duration::from_secs(3600),
            webhook_retry_budget: Duration::from_secs(24 * 3600),
            webhook_timeout: Duration::from_secs(10),
            ..KomojuSimConfig::default()
        }
    }
}

/// How webhook pushes are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeliveryOrder {
    /// One queue per payment: an event is retried until acknowledged (or
    /// abandoned) before the payment's next event is sent.
    #[default]
    InOrder,
    /// Every push goes on its own: a retried event is overtaken by later ones,
    /// as KOMOJU may do (the contract assumes out-of-order delivery).
    Independent,
}

/// Serves the simulator on `listener` until the handle is shut down or dropped.
pub async fn start(
    listener: TcpListener,
    cfg: KomojuSimConfig,
) -> std::io::Result<KomojuSimHandle> {
    let mut addr = listener.local_addr()?;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let http = reqwest::Client::builder()
        .timeout(cfg.webhook_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(std::io::Error::other)?;
    let offset = cfg.start_at.map_or(TimeDelta::zero(), |t| t - Utc::now());
    let (release, _) = watch::channel(0u64);
    let shared = Arc::new(Shared {
        core: Mutex::new(Core {
            state: SimState::new(
                cfg.idempotency_ttl,
                cfg.expiry_days,
                cfg.behaviour.clone(),
                cfg.platform.clone(),
            ),
            offset,
            webhook_url: cfg.webhook_url.clone(),
            order: DeliveryOrder::InOrder,
            held: None,
            queues: HashMap::new(),
            pushed: HashMap::new(),
        }),
        cfg,
        http,
        release,
        tasks: Tasks::default(),
        runtime: tokio::runtime::Handle::current(),
    });
    shared
        .tasks
        .serve(listener, api::router(shared.clone()), "komoju");
    Ok(KomojuSimHandle { shared, addr })
}

/// Controls a running simulator. Dropping it stops the server.
pub type KomojuSimHandle = harness::SimHandle<Shared>;

impl KomojuSimHandle {
    /// `{base}/api/v1`: where a client's API base URL points.
    pub fn api_base_url(&self) -> String {
        format!("{}{API_PATH}", self.base_url())
    }

    /// The secret key the simulator accepts.
    pub fn secret_key(&self) -> &str {
        &self.shared.cfg.secret_key
    }

    /// The key webhooks are signed with.
    pub fn webhook_secret(&self) -> &str {
        &self.shared.cfg.webhook_secret
    }

    /// Points webhooks somewhere else (e.g. once the daemon has bound its
    /// port); applies to the next attempt, retries included.
    pub fn set_webhook_url(&self, url: impl Into<String>) {
        self.shared.lock().webhook_url = Some(url.into());
    }

    /// The customer reaches the checkout: a JPY payment of `amount` + `tax`,
    /// of `payment_type` (`"credit_card"`, `"konbini"`… or a [`PaymentType`]).
    /// Konbini, bank transfer and Pay-easy are `authorized` at once with a
    /// `payment_deadline` (sends `payment.authorized`: the slip is issued);
    /// the others are `pending` without a webhook until [`Self::authorize`].
    /// Returns the payment id.
    pub fn create_payment(
        &self,
        amount: i64,
        tax: i64,
        external_order_num: Option<&str>,
        payment_type: impl Into<PaymentType>,
        capture: CaptureMode,
    ) -> String {
        self.create_payment_with_fee(amount, tax, 0, external_order_num, payment_type, capture)
            .id
    }

    /// [`Self::create_payment`] with a payment-method fee (konbini), returning the payment.
    pub fn create_payment_with_fee(
        &self,
        amount: i64,
        tax: i64,
        payment_method_fee: i64,
        external_order_num: Option<&str>,
        payment_type: impl Into<PaymentType>,
        capture: CaptureMode,
    ) -> Payment {
        let payment_type = payment_type.into();
        self.shared.with_state(|s, now| {
            s.create_payment(
                amount,
                tax,
                payment_method_fee,
                external_order_num,
                payment_type,
                capture,
                now,
            )
        })
    }

    /// The customer finished the checkout: `authorized` (manual capture,
    /// sends `payment.authorized`) or `captured` (automatic, sends
    /// `payment.captured`). `false` unless it was `pending`.
    pub fn authorize(&self, id: &str) -> bool {
        self.shared
            .with_state(|s, now| s.authorize(id, now))
            .is_some()
    }

    /// The customer paid in full (konbini, bank transfer, Pay-easy):
    /// `authorized` (or `pending`) → `captured`, sends `payment.captured`.
    pub fn capture_by_customer(&self, id: &str) -> bool {
        self.shared
            .with_state(|s, now| s.capture_by_customer(id, now))
            .is_some()
    }

    /// Never paid / authorization lapsed: `pending` or `authorized` →
    /// `expired`, sends `payment.expired`.
    pub fn expire(&self, id: &str) -> bool {
        self.shared.with_state(|s, now| s.expire(id, now)).is_some()
    }

    /// The attempt failed (a declined card): `pending` → `failed`, sends
    /// `payment.failed` (whose payment reads `pending` below
    /// [`Behaviour::failed_shown_from`]).
    pub fn fail(&self, id: &str) -> bool {
        self.shared.with_state(|s, now| s.fail(id, now)).is_some()
    }

    /// The customer tries again: `failed` → `pending`, sends `payment.updated`.
    pub fn retry(&self, id: &str) -> bool {
        self.shared.with_state(|s, now| s.retry(id, now)).is_some()
    }

    /// A change other than the status: sends `payment.updated`.
    pub fn touch(&self, id: &str) -> bool {
        self.shared.with_state(|s, now| s.touch(id, now)).is_some()
    }

    /// Sends a `ping` event; returns its event id.
    pub fn ping(&self) -> String {
        self.shared.with_state(|s, now| s.ping(now))
    }

    /// The payment as KOMOJU has it now.
    pub fn payment(&self, id: &str) -> Option<Payment> {
        self.shared.lock().state.payment(id).cloned()
    }

    /// The next `times` requests to `endpoint` suffer `fault`.
    pub fn inject(&self, endpoint: Endpoint, fault: Fault, times: u32) {
        self.shared
            .with_state(|s, _| s.inject(endpoint, fault, times));
    }

    /// Drops every injected fault not yet used (KOMOJU is healthy again).
    pub fn clear_faults(&self) {
        self.shared.with_state(|s, _| s.clear_faults());
    }

    /// Lets every request held by [`Fault::Hold`] go on.
    pub fn release_held(&self) {
        self.shared
            .release
            .send_modify(|generation| *generation += 1);
    }

    /// Chooses how later webhook pushes are ordered.
    pub fn set_delivery_order(&self, order: DeliveryOrder) {
        self.shared.lock().order = order;
    }

    /// Keeps later webhook pushes back until [`Self::release_webhooks`].
    pub fn hold_webhooks(&self) {
        let mut core = self.shared.lock();
        if core.held.is_none() {
            core.held = Some(Vec::new());
        }
    }

    /// Sends the pushes kept back, newest first when `newest_first` (a
    /// deterministic out-of-order delivery), and stops holding.
    pub fn release_webhooks(&self, newest_first: bool) {
        let mut core = self.shared.lock();
        let Some(mut held) = core.held.take() else {
            return;
        };
        if newest_first {
            held.reverse();
        }
        for delivery in held {
            self.shared.dispatch(&mut core, delivery);
        }
    }

    /// Pushes an event again with the very same bytes, event id and
    /// `X-Komoju-ID` (a duplicate delivery). `false` for an unknown event id.
    pub fn resend_event(&self, event_id: &str) -> bool {
        self.shared.resend(event_id)
    }

    /// The id of the last event pushed about this payment.
    pub fn last_event_id(&self, payment_id: &str) -> Option<String> {
        let core = self.shared.lock();
        core.state
            .stats
            .deliveries
            .iter()
            .rev()
            .find(|d| d.payment_id.as_deref() == Some(payment_id))
            .map(|d| d.event_id.clone())
    }

    /// A copy of the counters and recordings.
    pub fn stats(&self) -> SimStats {
        self.shared.lock().state.stats.clone()
    }

    /// The simulator's clock (UTC, whole seconds, as KOMOJU's timestamps).
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.lock().now()
    }

    /// Moves the simulator's clock forward (idempotency keys expire on it);
    /// unpaid payments whose `payment_deadline` it passes expire (and send
    /// `payment.expired`).
    pub fn advance_clock(&self, by: Duration) {
        {
            let mut core = self.shared.lock();
            core.offset += TimeDelta::from_std(by).unwrap_or(TimeDelta::zero());
        }
        self.shared.with_state(|s, now| s.expire_due(now));
    }

    /// Waits until no webhook push is pending (all acked, abandoned or skipped).
    pub async fn wait_webhooks_idle(&self, deadline: Duration) -> bool {
        self.wait_until(deadline, |v| {
            v.stats()
                .deliveries
                .iter()
                .all(|d| d.outcome != DeliveryOutcome::Pending)
        })
        .await
    }
}

/// Read access to the state inside [`KomojuSimHandle::wait_until`](harness::SimHandle::wait_until).
pub type SimView<'a> = harness::View<'a, SimState>;

impl SimView<'_> {
    /// The payment as KOMOJU has it now.
    pub fn payment(&self, id: &str) -> Option<&Payment> {
        self.state.payment(id)
    }

    /// Every payment, in no particular order.
    pub fn payments(&self) -> impl Iterator<Item = &Payment> {
        self.state.payments()
    }

    /// Requests whose idempotency key is in flight (e.g. held by [`Fault::Hold`]).
    pub fn in_flight(&self) -> usize {
        self.state.in_flight()
    }

    /// The counters and recordings so far.
    pub fn stats(&self) -> &SimStats {
        &self.state.stats
    }
}

/// What the server, the webhook tasks and the handle share.
#[derive(Debug)]
pub struct Shared {
    core: Mutex<Core>,
    cfg: KomojuSimConfig,
    /// Sends webhooks.
    http: reqwest::Client,
    /// Bumped by [`KomojuSimHandle::release_held`]; held requests wait for a change.
    release: watch::Sender<u64>,
    /// The server and every background task.
    tasks: Tasks,
    /// Lets sync handle methods spawn webhook tasks.
    runtime: tokio::runtime::Handle,
}

/// State, clock and webhook routing under one lock, so that events are queued
/// in the order their changes happened.
#[derive(Debug)]
struct Core {
    state: SimState,
    /// Simulated time minus real time.
    offset: TimeDelta,
    webhook_url: Option<String>,
    order: DeliveryOrder,
    /// Pushes kept back by [`KomojuSimHandle::hold_webhooks`].
    held: Option<Vec<Delivery>>,
    /// One queue per payment (or `ping`) in [`DeliveryOrder::InOrder`].
    queues: HashMap<String, mpsc::UnboundedSender<Delivery>>,
    /// Every push by event id, for [`KomojuSimHandle::resend_event`].
    pushed: HashMap<String, Delivery>,
}

impl Core {
    fn now(&self) -> DateTime<Utc> {
        (Utc::now() + self.offset).trunc_subsecs(0)
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Core> {
        harness::lock(&self.core)
    }

    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.tasks.tracker.spawn_on(task, &self.runtime);
    }

    /// Runs `f` on the state at the simulator's "now", then carries out the
    /// effects it left, under the same lock.
    fn with_state<R>(self: &Arc<Self>, f: impl FnOnce(&mut SimState, DateTime<Utc>) -> R) -> R {
        let mut core = self.lock();
        let now = core.now();
        let result = f(&mut core.state, now);
        for effect in core.state.take_effects() {
            match effect {
                Effect::Webhook(event) => self.push_event(&mut core, event),
            }
        }
        result
    }

    /// Records a new push and sends it (or keeps it back).
    fn push_event(self: &Arc<Self>, core: &mut Core, event: PendingEvent) {
        let delivery = Delivery {
            record: 0,
            delivery_id: state::random_id(25),
            event_id: event.event_id,
            event_type: event.event_type,
            payment_id: event.payment_id,
            body: event.body,
        };
        core.pushed
            .insert(delivery.event_id.clone(), delivery.clone());
        self.record_and_route(core, delivery);
    }

    fn resend(self: &Arc<Self>, event_id: &str) -> bool {
        let mut core = self.lock();
        let Some(delivery) = core.pushed.get(event_id).cloned() else {
            return false;
        };
        self.record_and_route(&mut core, delivery);
        true
    }

    /// Adds a delivery record, then holds or dispatches the push.
    fn record_and_route(self: &Arc<Self>, core: &mut Core, mut delivery: Delivery) {
        let stats = &mut core.state.stats;
        delivery.record = stats.deliveries.len();
        stats.webhooks.events += 1;
        stats.deliveries.push(DeliveryRecord {
            delivery_id: delivery.delivery_id.clone(),
            event_id: delivery.event_id.clone(),
            event_type: delivery.event_type.clone(),
            payment_id: delivery.payment_id.clone(),
            attempts: 0,
            outcome: DeliveryOutcome::Pending,
        });
        match core.held.as_mut() {
            Some(held) => held.push(delivery),
            None => self.dispatch(core, delivery),
        }
    }

    /// Sends a push: through its payment's queue, or on its own.
    fn dispatch(self: &Arc<Self>, core: &mut Core, delivery: Delivery) {
        match core.order {
            DeliveryOrder::Independent => {
                let shared = self.clone();
                self.spawn(async move {
                    tokio::select! {
                        _ = shared.tasks.cancel.cancelled() => {}
                        _ = crate::pusher::deliver(shared.as_ref(), &delivery) => {}
                    }
                });
            }
            DeliveryOrder::InOrder => {
                let key = delivery
                    .payment_id
                    .clone()
                    .unwrap_or_else(|| "ping".to_string());
                let queue = core.queues.entry(key).or_insert_with(|| {
                    let (tx, rx) = mpsc::unbounded_channel();
                    self.spawn(crate::pusher::run_queue(self.clone(), rx));
                    tx
                });
                if queue.send(delivery).is_err() {
                    tracing::debug!("komoju simulator is stopping; webhook not queued");
                }
            }
        }
    }
}

impl harness::SimCore for Shared {
    type State = SimState;

    fn tasks(&self) -> &Tasks {
        &self.tasks
    }

    fn view<R>(&self, f: impl FnOnce(&SimView<'_>) -> R) -> R {
        let core = self.lock();
        f(&harness::View {
            state: &core.state,
            now: core.now().with_timezone(&crate::jst()),
        })
    }
}

#[cfg(test)]
mod tests;

/// An RFC 3339 time in UTC, for the unit tests.
#[cfg(test)]
pub(crate) fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .expect("a test's own time")
}
