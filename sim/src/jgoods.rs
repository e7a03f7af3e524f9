//! A J-goods simulator over real HTTP, written from J-goods' wire contract
//! (`providers/jgoods.md`): the OAuth2 token endpoint, the order-info API
//! (`/order/v2`), the item-info API (`/v3`), the category API
//! (`/category/v1`) and webhook pushes with J-goods' retries.
//!
//! It exists so that ordersync's tests, `ordersync demo` and `ordersync sim`
//! drive the real client and the real webhook receiver against the
//! behaviour the contract writes, including the awkward parts: the
//! customer's answer to a short allocation, idempotent repeats, 409s,
//! expired tokens, throttling and lost responses. Its wire shapes
//! ([`wire`]) and webhook signature ([`signature`]) are its own.
//!
//! A merchant's `PUT /order/v2/{order_no}` is judged in this order:
//! 1. unknown order → 404 `ORDER_NOT_FOUND`;
//! 2. malformed body → 400 (`INVALID_QTY` for a non-whole `reserved_qty`,
//!    `MISSING_LINE` for a bad `line_no`, `INVALID_STATUS` for any status but
//!    入荷待ち, `INVALID_REQUEST` for a body that is not a JSON object);
//! 3. the same request as the last one applied → 200 with the order as it is now;
//! 4. order not in 承認待ち → 409 `STATUS_CONFLICT` with the current label;
//! 5. checks against the order's lines (`MISSING_LINE`, `INVALID_QTY`,
//!    `INVALID_STATUS`), then the change.
//!
//! Layout: [`wire`] is the contract's JSON; `state` is the back office
//! without I/O and `requests` reads the merchant's bodies; `api` and
//! `catalog_api` are the HTTP surface, `website` the pages a wrong
//! `token_url` meets; `webhooks` pushes events, one queue
//! per order, signed by [`signature`]; [`receiver`] is a webhook receiver
//! for tests.

mod api;
mod catalog;
mod catalog_api;
pub mod receiver;
mod requests;
pub mod signature;
mod state;
mod webhooks;
mod website;
pub mod wire;

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rand::Rng as _;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::harness::{self, Tasks};

pub use state::{
    Api, CustomerDecision, DeliveryOutcome, DeliveryRecord, Endpoint, Fault, MAX_STOCK_ITEMS,
    SEARCH_PAGE_SIZE, SimStats, WebhookStats,
};
use state::{Effect, SimState};
use webhooks::Delivery;
pub use website::WrongTokenUrl;
pub use wire::{JgoodsOrder, JgoodsOrderItem, JgoodsShipTo, Status};

/// How the simulated J-goods behaves; [`Default`] suits tests (millisecond
/// delays), [`JgoodsSimConfig::realistic`] suits a demo against a real daemon.
#[derive(Debug, Clone)]
pub struct JgoodsSimConfig {
    /// The OAuth client id the token endpoint accepts.
    pub client_id: String,
    /// The OAuth client secret the token endpoint accepts.
    pub client_secret: String,
    /// Lifetime of issued access tokens (`expires_in`).
    pub token_ttl: Duration,
    /// How the token endpoint takes the client credentials: a server
    /// accepts one method and answers 401 `invalid_client` to the other.
    pub token_auth: ClientAuth,
    /// Where webhooks go (the daemon's `/webhooks/jgoods`); `None` drops them
    /// until [`JgoodsSimHandle::set_webhook_url`] is called.
    pub webhook_url: Option<String>,
    /// How webhooks authenticate, matching the daemon's `webhook_auth`.
    pub webhook_auth: SimWebhookAuth,
    /// First wait before retrying a failed webhook; doubles each time.
    pub webhook_retry_initial: Duration,
    /// Longest wait between webhook retries.
    pub webhook_retry_max: Duration,
    /// How long one event is retried before it is given up (24 h at J-goods).
    pub webhook_retry_budget: Duration,
    /// How long one webhook attempt may take.
    pub webhook_timeout: Duration,
    /// Time between 返答待ち and the customer's scripted answer.
    pub reply_delay: Duration,
    /// The customer's answer unless [`JgoodsSimHandle::set_decision`] says otherwise.
    pub default_decision: CustomerDecision,
}

/// How a client authenticates at the token endpoint, RFC 6749 §2.3.1 (the
/// contract's "OAuth2 token (2026-12)": HTTP Basic, or the form body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_secret_basic`: `Authorization: Basic base64(client_id:client_secret)`.
    ClientSecretBasic,
    /// `client_secret_post`: `client_id` and `client_secret` in the form body.
    ClientSecretPost,
}

/// Webhook authentication, as in the contract's `webhook_auth`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimWebhookAuth {
    /// `X-JGoods-Timestamp` + `X-JGoods-Signature: v1=<hex>`.
    Hmac {
        /// The webhook secret.
        secret: String,
    },
    /// `Authorization: Bearer <secret>`.
    Bearer {
        /// The webhook secret.
        secret: String,
    },
}

impl Default for JgoodsSimConfig {
    fn default() -> Self {
        JgoodsSimConfig {
            client_id: "sim-client".to_string(),
            client_secret: "sim-client-secret".to_string(),
            token_ttl: Duration::from_secs(3600),
            token_auth: ClientAuth::ClientSecretBasic,
            webhook_url: None,
            webhook_auth: SimWebhookAuth::Hmac {
                secret: "sim-webhook-secret".to_string(),
            },
            webhook_retry_initial: Duration::from_millis(10),
            webhook_retry_max: Duration::from_millis(200),
            webhook_retry_budget: Duration::from_secs(10),
            webhook_timeout: Duration::from_secs(5),
            reply_delay: Duration::from_millis(20),
            default_decision: CustomerDecision::Accept,
        }
    }
}

impl JgoodsSimConfig {
    /// Delays of human scale for `ordersync sim`/`demo`: retries from 30 s up to
    /// an hour for 24 h, and a customer who answers after 10 s.
    pub fn realistic() -> Self {
        JgoodsSimConfig {
            webhook_retry_initial: Duration::from_secs(30),
            webhook_retry_max: Duration::from_secs(3600),
            webhook_retry_budget: Duration::from_secs(24 * 3600),
            webhook_timeout: Duration::from_secs(10),
            reply_delay: Duration::from_secs(10),
            ..JgoodsSimConfig::default()
        }
    }
}

/// Serves the simulator on `listener` until the handle is shut down or dropped.
pub async fn start(
    listener: TcpListener,
    cfg: JgoodsSimConfig,
) -> std::io::Result<JgoodsSimHandle> {
    let mut addr = listener.local_addr()?;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let http = reqwest::Client::builder()
        .timeout(cfg.webhook_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(std::io::Error::other)?;
    let shared = Arc::new(Shared {
        core: Mutex::new(Core {
            state: SimState::new(cfg.default_decision),
            webhook_url: cfg.webhook_url.clone(),
            queues: HashMap::new(),
            last_push: HashMap::new(),
        }),
        cfg,
        http,
        tasks: Tasks::default(),
        runtime: tokio::runtime::Handle::current(),
    });
    shared
        .tasks
        .serve(listener, api::router(shared.clone()), "jgoods");
    Ok(JgoodsSimHandle { shared, addr })
}

/// What J-goods holds of the merchant's catalog.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogView {
    /// `item_code` → the item's fields.
    pub items: BTreeMap<String, serde_json::Value>,
    /// `category_code` → `(name, parent_code)`.
    pub categories: BTreeMap<String, (String, Option<String>)>,
}

/// Controls a running simulator. Dropping it stops the server.
pub type JgoodsSimHandle = harness::SimHandle<Shared>;

impl JgoodsSimHandle {
    /// `{base}/order/v2`, for config `order_api_base_url`.
    pub fn order_api_base_url(&self) -> String {
        format!("{}/order/v2", self.base_url())
    }

    /// `{base}/v3`, for config `item_api_base_url`.
    pub fn item_api_base_url(&self) -> String {
        format!("{}/v3", self.base_url())
    }

    /// `{base}/category/v1`, for config `category_api_base_url`.
    pub fn category_api_base_url(&self) -> String {
        format!("{}/category/v1", self.base_url())
    }

    /// What J-goods holds of the merchant's catalog.
    pub fn catalog(&self) -> CatalogView {
        self.shared.with_state(|s| CatalogView {
            items: s
                .catalog
                .items
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::Object(v.clone())))
                .collect(),
            categories: s
                .catalog
                .categories
                .iter()
                .map(|(k, c)| (k.clone(), (c.name.clone(), c.parent_code.clone())))
                .collect(),
        })
    }

    /// Whether the merchant's 古物 documents are on file, so `used: true`
    /// items are accepted (refused `USED_NOT_ALLOWED` until then).
    pub fn allow_used(&self, allowed: bool) {
        self.shared.with_state(|s| s.catalog.used_allowed = allowed);
    }

    /// `{base}/oauth/token`, for config `token_url`.
    pub fn token_url(&self) -> String {
        format!("{}/oauth/token", self.base_url())
    }

    /// A `token_url` that is wrong the way `kind` says: a page of J-goods'
    /// web site that answers a token request with a 404 page, a 405, a
    /// redirect or a 200 HTML page (the contract's "OAuth2 token (2026-12)").
    pub fn wrong_token_url(&self, kind: WrongTokenUrl) -> String {
        format!("{}{}", self.base_url(), kind.path())
    }

    /// Gives the merchant's client rights to `api` or takes them away: a
    /// client without them is refused there with 401 even with a token
    /// just issued (the contract's "OAuth2 token (2026-12)").
    pub fn set_api_access(&self, api: Api, allowed: bool) {
        self.shared.with_state(|s| s.set_api_access(api, allowed));
    }

    /// The OAuth client id the token endpoint accepts.
    pub fn client_id(&self) -> &str {
        &self.shared.cfg.client_id
    }

    /// The OAuth client secret the token endpoint accepts.
    pub fn client_secret(&self) -> &str {
        &self.shared.cfg.client_secret
    }

    /// How the token endpoint takes the client credentials.
    pub fn client_auth(&self) -> ClientAuth {
        self.shared.cfg.token_auth
    }

    /// Points webhooks somewhere else (e.g. once the daemon has bound its port);
    /// applies to the next attempt, retries included.
    pub fn set_webhook_url(&self, url: impl Into<String>) {
        self.shared.lock().webhook_url = Some(url.into());
    }

    /// A paid order arrives: 承認待ち, `reserved_qty` empty, shipping to the
    /// J-goods warehouse; lines are `(sku, qty, unit price in yen)`. The SKUs
    /// become known items and a webhook is pushed. Replaces an order of the
    /// same number.
    pub fn place_order(&self, order_no: &str, lines: &[(&str, u32, i64)]) {
        self.place_snapshot(new_order(order_no, lines));
    }

    /// Places an order exactly as given (any status, parent order, names);
    /// only `status_changed_at` is set by the simulator. Pushes a webhook.
    pub fn place_snapshot(&self, order: JgoodsOrder) {
        self.shared.with_state(|s| s.place(order));
    }

    /// Makes an item code known to the item API without placing an order.
    pub fn register_item(&self, item_code: &str) {
        self.shared.with_state(|s| s.register_item(item_code));
    }

    /// Scripts this order's customer answer to a short allocation; for an order
    /// not placed yet it applies once placed (and `false` is returned).
    pub fn set_decision(&self, order_no: &str, decision: CustomerDecision) -> bool {
        self.shared
            .with_state(|s| s.set_decision(order_no, decision))
    }

    /// The customer answers now (for an order in 返答待ち), whatever was scripted.
    pub fn customer_replies(&self, order_no: &str, decision: CustomerDecision) -> bool {
        self.shared
            .with_state(|s| s.customer_reply(order_no, None, Some(decision)))
    }

    /// A change made by J-goods itself (cancel, 発送待ち, 発送済み…); pushes a
    /// webhook. `false` when the order does not exist.
    pub fn set_status(&self, order_no: &str, status: Status) -> bool {
        self.shared.with_state(|s| s.set_status(order_no, status))
    }

    /// Pushes the order's last event again: the very same bytes and delivery
    /// id (a duplicate delivery) or, with `same_delivery_id == false`, the
    /// current order as a new event. `false` when nothing was pushed before.
    pub fn resend_webhook(&self, order_no: &str, same_delivery_id: bool) -> bool {
        self.shared.resend(order_no, same_delivery_id)
    }

    /// The order as J-goods has it now.
    pub fn order(&self, order_no: &str) -> Option<JgoodsOrder> {
        self.shared.lock().state.order(order_no).cloned()
    }

    /// The next `times` requests to `endpoint` suffer `fault` before normal handling.
    pub fn inject(&self, endpoint: Endpoint, fault: Fault, times: u32) {
        self.shared.with_state(|s| s.inject(endpoint, fault, times));
    }

    /// Drops every injected fault not yet used (J-goods is healthy again).
    pub fn clear_faults(&self) {
        self.shared.with_state(SimState::clear_faults);
    }

    /// Invalidates every issued token, so the next API call gets a 401.
    pub fn expire_tokens(&self) {
        self.shared.with_state(SimState::expire_tokens);
    }

    /// A copy of the counters and recordings.
    pub fn stats(&self) -> SimStats {
        self.shared.lock().state.stats.clone()
    }

    /// Waits until the order has `status`.
    pub async fn wait_for_status(
        &self,
        order_no: &str,
        status: Status,
        deadline: Duration,
    ) -> bool {
        self.wait_until(deadline, |v| v.status(order_no) == Some(status))
            .await
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

/// Read access to the state inside [`JgoodsSimHandle::wait_until`](harness::SimHandle::wait_until).
pub type SimView<'a> = harness::View<'a, SimState>;

impl SimView<'_> {
    /// The order as J-goods has it now.
    pub fn order(&self, order_no: &str) -> Option<&JgoodsOrder> {
        self.state.order(order_no)
    }

    /// The order's current status.
    pub fn status(&self, order_no: &str) -> Option<Status> {
        self.state.order(order_no).map(|o| o.status)
    }

    /// Every order, by order number.
    pub fn orders(&self) -> impl Iterator<Item = &JgoodsOrder> {
        self.state.orders()
    }

    /// The counters and recordings so far.
    pub fn stats(&self) -> &SimStats {
        &self.state.stats
    }
}

/// What the server, the webhook queues and the handle share.
#[derive(Debug)]
pub struct Shared {
    core: Mutex<Core>,
    cfg: JgoodsSimConfig,
    /// Sends webhooks.
    http: reqwest::Client,
    /// The server and every background task.
    tasks: Tasks,
    /// Lets sync handle methods spawn (a webhook queue, a customer answer).
    runtime: tokio::runtime::Handle,
}

/// State plus the webhook queues, under one lock so that events are queued in
/// the order their changes happened.
#[derive(Debug)]
struct Core {
    state: SimState,
    webhook_url: Option<String>,
    queues: HashMap<String, mpsc::UnboundedSender<Delivery>>,
    /// Each order's last push, for [`JgoodsSimHandle::resend_webhook`].
    last_push: HashMap<String, Delivery>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Core> {
        harness::lock(&self.core)
    }

    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.tasks.tracker.spawn_on(task, &self.runtime);
    }

    /// Runs `f` on the state, then carries out the effects it left, under the same lock.
    fn with_state<R>(self: &Arc<Self>, f: impl FnOnce(&mut SimState) -> R) -> R {
        let mut core = self.lock();
        let result = f(&mut core.state);
        for effect in core.state.take_effects() {
            match effect {
                Effect::Webhook(order) => self.push_event(&mut core, &order),
                Effect::AwaitReply { order_no, version } => self.schedule_reply(order_no, version),
            }
        }
        result
    }

    fn push_event(self: &Arc<Self>, core: &mut Core, order: &JgoodsOrder) {
        let body = serde_json::to_vec(order).unwrap_or_default();
        let record = core.state.stats.deliveries.len();
        let delivery = Delivery {
            record,
            delivery_id: random_id(16),
            body: body.into(),
        };
        self.enqueue(core, &order.order_no, order.status, delivery);
    }

    fn resend(self: &Arc<Self>, order_no: &str, same_delivery_id: bool) -> bool {
        let mut core = self.lock();
        let Some(last) = core.last_push.get(order_no).cloned() else {
            return false;
        };
        if !same_delivery_id {
            let Some(order) = core.state.order(order_no).cloned() else {
                return false;
            };
            self.push_event(&mut core, &order);
            return true;
        }
        let status = core.state.stats.deliveries[last.record].status;
        let delivery = Delivery {
            record: core.state.stats.deliveries.len(),
            ..last
        };
        self.enqueue(&mut core, order_no, status, delivery);
        true
    }

    /// Records the push and hands it to the order's queue, starting the queue's
    /// task on first use.
    fn enqueue(
        self: &Arc<Self>,
        core: &mut Core,
        order_no: &str,
        status: Status,
        delivery: Delivery,
    ) {
        core.state.stats.webhooks.events += 1;
        core.state.stats.deliveries.push(DeliveryRecord {
            delivery_id: delivery.delivery_id.clone(),
            order_no: order_no.to_string(),
            status,
            attempts: 0,
            outcome: DeliveryOutcome::Pending,
        });
        core.last_push
            .insert(order_no.to_string(), delivery.clone());
        let queue = core.queues.entry(order_no.to_string()).or_insert_with(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            self.spawn(crate::pusher::run_queue(self.clone(), rx));
            tx
        });
        if queue.send(delivery).is_err() {
            tracing::debug!(order_no, "jgoods simulator is stopping; webhook not queued");
        }
    }

    fn schedule_reply(self: &Arc<Self>, order_no: String, version: u64) {
        let shared = self.clone();
        let delay = self.cfg.reply_delay;
        self.spawn(async move {
            tokio::select! {
                _ = shared.tasks.cancel.cancelled() => {}
                _ = tokio::time::sleep(delay) => {
                    shared.with_state(|s| s.customer_reply(&order_no, Some(version), None));
                }
            }
        });
    }
}

/// A paid order as J-goods hands it over.
fn new_order(order_no: &str, lines: &[(&str, u32, i64)]) -> JgoodsOrder {
    JgoodsOrder {
        order_no: order_no.to_string(),
        status: Status::AwaitingApproval,
        status_changed_at: None,
        parent_order_no: None,
        ship_to: Some(JgoodsShipTo {
            name: "J-goods Logistics Center".to_string(),
            postal_code: "5300001".to_string(),
            address: "1-1-1 Umeda, Kita-ku, Osaka".to_string(),
            phone: "0612345678".to_string(),
        }),
        items: lines
            .iter()
            .zip(1..)
            .map(|((sku, qty, unit_price), line_no)| JgoodsOrderItem {
                line_no,
                item_code: (*sku).to_string(),
                item_name: format!("Item {sku}"),
                qty: *qty,
                reserved_qty: None,
                unit_price: Some(*unit_price),
            })
            .collect(),
    }
}

/// A random lowercase hex string of `bytes` bytes (tokens, delivery ids).
fn random_id(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill(&mut buf[..]);
    hex::encode(buf)
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
            now: chrono::Utc::now().with_timezone(&crate::jst()),
        })
    }
}

#[cfg(test)]
mod tests;
