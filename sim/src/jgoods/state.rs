//! The simulated J-goods back office: orders, tokens, items, faults and counters,
//! with the contract's rules for the merchant's `PUT`. No I/O and no clock
//! other than [`Clock`], so every rule can be tested without HTTP; the HTTP
//! layer and the webhook sender act on the [`Effect`]s it leaves behind.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, SubsecRound, Utc};
use serde_json::Value;
use tokio::time::Instant;

use super::requests::{self, ApiError, PutRequest};
use super::wire::{JgoodsItemError, JgoodsItemStockResult, JgoodsOrder, Status};

/// Orders per `search.json` page ("Read orders": at most 100 a page).
pub const SEARCH_PAGE_SIZE: usize = 100;

/// Items per `PUT /item.json` ("Item-info API": at most 100 a call).
pub const MAX_STOCK_ITEMS: usize = 100;

/// What the customer answers when J-goods asks about a short allocation (返答待ち).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerDecision {
    /// Continue with what the merchant has: each line's qty becomes its reserved_qty.
    Accept,
    /// Stop: the order is cancelled.
    Decline,
    /// Never answer, so tests can look at an order left in 返答待ち.
    NoReply,
}

/// Which simulated endpoint a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `POST /oauth/token`.
    Token,
    /// `PUT /order/v2/{order_no}`.
    PutOrder,
    /// `GET /order/v2/{order_no}`.
    GetOrder,
    /// `GET /order/v2/search.json`.
    Search,
    /// `PUT /v3/item.json`.
    ItemStock,
    /// The catalog: `POST|PUT|DELETE /v3/item.json` with item fields,
    /// `GET /v3/search.json`, `GET /v3/{item_code}`, `/category/v1/categories.json`.
    Catalog,
    /// Whichever of the above is called next.
    Any,
}

/// One of J-goods' APIs, as a client has rights to it or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Api {
    /// The order-info API (受注情報API, `/order/v2`).
    Order,
    /// The item-info API (商品情報API, `/v3`), the stock push included.
    Item,
    /// The category API (カテゴリAPI, `/category/v1`).
    Category,
}

/// A misbehaviour J-goods shows in real life, injected before normal handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this HTTP status and an error envelope (e.g. 500, 503, 401).
    Status(u16),
    /// 429 with `Retry-After` in seconds.
    TooManyRequests {
        /// The `Retry-After` value.
        retry_after_secs: u64,
    },
    /// Handle the request normally, then hold the answer back this long: the
    /// change is applied even when the caller times out (a lost response).
    Delay(Duration),
    /// 409 `STATUS_CONFLICT` whatever the order's state.
    Conflict,
    /// A fault of the network path (reset, slow body, cut-short body, a
    /// proxy's page): see [`crate::transport::TransportFault`].
    Transport(crate::transport::TransportFault),
}

/// Counters and recordings of everything the simulator saw, for assertions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SimStats {
    /// Calls to the token endpoint, including refused ones.
    pub token_requests: usize,
    /// Requests to the web site's pages a wrong `token_url` points at
    /// ([`super::WrongTokenUrl`]).
    pub wrong_token_url_requests: usize,
    /// Every `PUT /order/v2/{order_no}` body received (as JSON, or a JSON string
    /// holding the raw text when it was not JSON), per order, in arrival order.
    pub put_bodies: BTreeMap<String, Vec<Value>>,
    /// `PUT`s that changed the order, per order: a repeated `PUT` answered
    /// from the last applied one is not counted, so a retry that did harm
    /// twice would show here.
    pub applied_puts: BTreeMap<String, usize>,
    /// Calls to `GET /order/v2/{order_no}`.
    pub get_order: usize,
    /// Calls to `GET /order/v2/search.json`.
    pub search: usize,
    /// Calls to `PUT /v3/item.json`.
    pub item_stock_pushes: usize,
    /// The items (`item_code`, `stock`) of every `PUT /v3/item.json` that
    /// passed validation, one entry per call, in arrival order.
    pub item_stock_calls: Vec<Vec<(String, u64)>>,
    /// The last stock pushed per known item code.
    pub stock: BTreeMap<String, u64>,
    /// Every catalog call (`"POST /v3/item.json"`, …) with its JSON body, in
    /// arrival order (refused ones included).
    pub catalog_calls: Vec<(String, Value)>,
    /// Webhook counters over all orders.
    pub webhooks: WebhookStats,
    /// One record per webhook push (a resend is a new record), in push order.
    pub deliveries: Vec<DeliveryRecord>,
}

impl SimStats {
    /// How many `PUT`s arrived for this order (faulted and refused ones included).
    pub fn put_count(&self, order_no: &str) -> usize {
        self.put_bodies.get(order_no).map_or(0, Vec::len)
    }

    /// The statuses of the webhooks pushed for this order that were acknowledged, in order.
    pub fn acked_statuses(&self, order_no: &str) -> Vec<Status> {
        self.deliveries
            .iter()
            .filter(|d| d.order_no == order_no && d.outcome == DeliveryOutcome::Acked)
            .map(|d| d.status)
            .collect()
    }
}

/// One webhook push and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// The `X-JGoods-Delivery` id (shared by retries and by a same-id resend).
    pub delivery_id: String,
    /// The order the event is about.
    pub order_no: String,
    /// The status carried in the body.
    pub status: Status,
    /// HTTP attempts so far.
    pub attempts: u32,
    /// Where the push stands.
    pub outcome: DeliveryOutcome,
}

pub use crate::pusher::{DeliveryOutcome, WebhookStats};

/// Something the shell must do after a state change, in order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Effect {
    /// Push a webhook carrying this state of the order.
    Webhook(JgoodsOrder),
    /// Let the customer answer after the configured delay, if the order is
    /// then still at this `version` (nothing else happened meanwhile).
    AwaitReply { order_no: String, version: u64 },
}

/// One order and what J-goods remembers about the merchant's calls on it.
#[derive(Debug, Clone)]
pub(crate) struct SimOrder {
    /// The order as J-goods answers it now.
    pub current: JgoodsOrder,
    /// Any change, status or not; what `updated_from` filters on.
    updated_at: DateTime<FixedOffset>,
    /// Overrides the configured default decision.
    decision: Option<CustomerDecision>,
    /// The last `PUT` applied, replayed as a 200 when repeated.
    last_applied: Option<PutRequest>,
    /// Bumped on every status change; a scheduled customer reply for an older
    /// version is void.
    version: u64,
}

/// Hands out `+09:00` times in milliseconds that never repeat or go back, so
/// `status_changed_at` is strictly increasing per order.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    last: Option<DateTime<FixedOffset>>,
}

impl Clock {
    pub(crate) fn tick(&mut self) -> DateTime<FixedOffset> {
        let now = Utc::now().with_timezone(&crate::jst()).trunc_subsecs(3);
        let next = match self.last {
            Some(last) if now <= last => last + chrono::Duration::milliseconds(1),
            _ => now,
        };
        self.last = Some(next);
        next
    }
}

/// Everything the simulator knows; one lock guards it.
#[derive(Debug)]
pub struct SimState {
    orders: BTreeMap<String, SimOrder>,
    /// Item codes the item API accepts.
    items: BTreeSet<String>,
    /// The merchant's categories and items as registered through the catalog API.
    pub(crate) catalog: super::catalog::Catalog,
    /// Access token → when it expires.
    tokens: HashMap<String, Instant>,
    /// The APIs the merchant's client has no rights to: a valid token is
    /// refused there with 401, as an expired one is.
    denied_apis: BTreeSet<Api>,
    /// `(endpoint, fault, remaining)` in injection order.
    faults: Vec<(Endpoint, Fault, u32)>,
    pub stats: SimStats,
    default_decision: CustomerDecision,
    /// Decisions scripted before their order was placed.
    preset_decisions: HashMap<String, CustomerDecision>,
    clock: Clock,
    effects: Vec<Effect>,
}

impl SimState {
    pub(crate) fn new(default_decision: CustomerDecision) -> Self {
        SimState {
            orders: BTreeMap::new(),
            items: BTreeSet::new(),
            catalog: Default::default(),
            tokens: HashMap::new(),
            denied_apis: BTreeSet::new(),
            faults: Vec::new(),
            stats: SimStats::default(),
            default_decision,
            preset_decisions: HashMap::new(),
            clock: Clock::default(),
            effects: Vec::new(),
        }
    }

    /// The effects left by the operations since the last call.
    pub(crate) fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    pub(crate) fn order(&self, order_no: &str) -> Option<&JgoodsOrder> {
        self.orders.get(order_no).map(|o| &o.current)
    }

    pub(crate) fn orders(&self) -> impl Iterator<Item = &JgoodsOrder> {
        self.orders.values().map(|o| &o.current)
    }

    // ---- J-goods-side events ----

    /// An order appears (or is replaced) as given; its lines' SKUs become known
    /// items and a webhook carries it.
    pub(crate) fn place(&mut self, mut placed: JgoodsOrder) {
        let now = self.clock.tick();
        placed.status_changed_at = Some(now);
        for line in &placed.items {
            self.items.insert(line.item_code.clone());
        }
        let decision = self.preset_decisions.remove(&placed.order_no);
        let order = SimOrder {
            current: placed,
            updated_at: now,
            decision,
            last_applied: None,
            version: 0,
        };
        self.effects.push(Effect::Webhook(order.current.clone()));
        self.orders.insert(order.current.order_no.clone(), order);
    }

    pub(crate) fn register_item(&mut self, item_code: &str) {
        self.items.insert(item_code.to_string());
    }

    /// A status change made by J-goods itself (cancel, goods received, shipped…).
    pub(crate) fn set_status(&mut self, order_no: &str, status: Status) -> bool {
        let Some(order) = self.orders.get_mut(order_no) else {
            return false;
        };
        let now = self.clock.tick();
        change_status(order, status, now, &mut self.effects);
        true
    }

    pub(crate) fn set_decision(&mut self, order_no: &str, decision: CustomerDecision) -> bool {
        match self.orders.get_mut(order_no) {
            Some(order) => {
                order.decision = Some(decision);
                true
            }
            None => {
                // Scripted ahead of the order: applies once it is placed.
                self.preset_decisions.insert(order_no.to_string(), decision);
                false
            }
        }
    }

    /// The customer answers J-goods' question about a short allocation.
    /// `version` ties a scheduled answer to the 返答待ち it was scheduled for;
    /// `decision` overrides the order's configured one.
    pub(crate) fn customer_reply(
        &mut self,
        order_no: &str,
        version: Option<u64>,
        decision: Option<CustomerDecision>,
    ) -> bool {
        let default = self.default_decision;
        let Some(order) = self.orders.get_mut(order_no) else {
            return false;
        };
        if order.current.status != Status::AwaitingReply
            || version.is_some_and(|v| v != order.version)
        {
            return false;
        }
        let now = self.clock.tick();
        match decision.or(order.decision).unwrap_or(default) {
            CustomerDecision::Accept => {
                for line in &mut order.current.items {
                    line.qty = line.reserved_qty.unwrap_or(0);
                }
                change_status(order, Status::AwaitingApproval, now, &mut self.effects);
            }
            CustomerDecision::Decline => {
                change_status(order, Status::Cancelled, now, &mut self.effects)
            }
            CustomerDecision::NoReply => return false,
        }
        true
    }

    // ---- the merchant's calls ----

    /// `PUT /order/v2/{order_no}` with the contract's rules; see the module docs
    /// of `sim::jgoods` for the order in which they apply.
    pub(crate) fn put_order(
        &mut self,
        order_no: &str,
        body: &[u8],
    ) -> Result<JgoodsOrder, ApiError> {
        let order = self
            .orders
            .get_mut(order_no)
            .ok_or_else(|| ApiError::order_not_found(order_no))?;
        let request = requests::parse_put(body)?;
        if order.last_applied.as_ref() == Some(&request) {
            return Ok(order.current.clone());
        }
        if order.current.status != Status::AwaitingApproval {
            return Err(ApiError::conflict(Some(order.current.status)));
        }
        requests::check_put(&order.current, &request)?;
        let now = self.clock.tick();
        apply_put(order, request, now, &mut self.effects);
        *self
            .stats
            .applied_puts
            .entry(order_no.to_string())
            .or_default() += 1;
        Ok(order.current.clone())
    }

    pub(crate) fn get_order(&self, order_no: &str) -> Result<JgoodsOrder, ApiError> {
        self.order(order_no)
            .cloned()
            .ok_or_else(|| ApiError::order_not_found(order_no))
    }

    /// One page (1-based) of orders, oldest update first, and the next page number.
    pub(crate) fn search(
        &self,
        status: Option<Status>,
        updated_from: Option<DateTime<FixedOffset>>,
        page: u32,
    ) -> (Vec<JgoodsOrder>, Option<u32>) {
        let mut hits: Vec<&SimOrder> = self
            .orders
            .values()
            .filter(|o| status.is_none_or(|s| o.current.status == s))
            .filter(|o| updated_from.is_none_or(|t| o.updated_at >= t))
            .collect();
        hits.sort_by(|a, b| {
            (a.updated_at, &a.current.order_no).cmp(&(b.updated_at, &b.current.order_no))
        });
        let skip = (page.max(1) as usize - 1).saturating_mul(SEARCH_PAGE_SIZE);
        let orders: Vec<JgoodsOrder> = hits
            .iter()
            .skip(skip)
            .take(SEARCH_PAGE_SIZE)
            .map(|o| o.current.clone())
            .collect();
        let more = hits.len() > skip.saturating_add(SEARCH_PAGE_SIZE);
        (orders, more.then(|| page.max(1).saturating_add(1)))
    }

    /// `PUT /v3/item.json`: all-or-nothing validation, then per-item results.
    pub(crate) fn put_stock(&mut self, body: &[u8]) -> Result<JgoodsItemStockResult, ApiError> {
        let updates = requests::parse_stock(body)?;
        self.stats.item_stock_calls.push(updates.clone());
        let mut result = JgoodsItemStockResult {
            updated: 0,
            errors: Vec::new(),
        };
        for (item_code, stock) in updates {
            if let Some(item) = self.catalog.items.get_mut(&item_code) {
                item.insert("stock".into(), stock.into());
            }
            if self.items.contains(&item_code) || self.catalog.items.contains_key(&item_code) {
                self.stats.stock.insert(item_code, stock);
                result.updated += 1;
            } else {
                result.errors.push(JgoodsItemError {
                    item_code,
                    code: "ITEM_NOT_FOUND".to_string(),
                });
            }
        }
        Ok(result)
    }

    // ---- tokens and faults ----

    pub(crate) fn issue_token(&mut self, token: String, ttl: Duration, now: Instant) {
        self.tokens.retain(|_, expiry| *expiry > now);
        self.tokens.insert(token, now + ttl);
    }

    pub(crate) fn token_valid(&self, token: &str, now: Instant) -> bool {
        self.tokens.get(token).is_some_and(|expiry| *expiry > now)
    }

    pub(crate) fn expire_tokens(&mut self) {
        self.tokens.clear();
    }

    /// Gives the client rights to `api` or takes them away.
    pub(crate) fn set_api_access(&mut self, api: Api, allowed: bool) {
        if allowed {
            self.denied_apis.remove(&api);
        } else {
            self.denied_apis.insert(api);
        }
    }

    /// Whether `token` may call `api` now.
    pub(crate) fn token_allows(&self, token: &str, api: Api, now: Instant) -> bool {
        self.token_valid(token, now) && !self.denied_apis.contains(&api)
    }

    /// Drops every injected fault not yet used.
    pub(crate) fn clear_faults(&mut self) {
        self.faults.clear();
    }

    pub(crate) fn inject(&mut self, endpoint: Endpoint, fault: Fault, times: u32) {
        if times > 0 {
            self.faults.push((endpoint, fault, times));
        }
    }

    /// The fault that the next request to `endpoint` suffers, if any is left.
    pub(crate) fn take_fault(&mut self, endpoint: Endpoint) -> Option<Fault> {
        let rule = self
            .faults
            .iter_mut()
            .find(|(e, _, left)| *left > 0 && (*e == endpoint || *e == Endpoint::Any))?;
        rule.2 -= 1;
        let fault = rule.1;
        self.faults.retain(|(_, _, left)| *left > 0);
        Some(fault)
    }
}

fn change_status(
    order: &mut SimOrder,
    status: Status,
    now: DateTime<FixedOffset>,
    effects: &mut Vec<Effect>,
) {
    order.current.status = status;
    order.current.status_changed_at = Some(now);
    order.updated_at = now;
    order.version += 1;
    effects.push(Effect::Webhook(order.current.clone()));
}

fn apply_put(
    order: &mut SimOrder,
    request: PutRequest,
    now: DateTime<FixedOffset>,
    effects: &mut Vec<Effect>,
) {
    for (line_no, reserved) in request.items.iter().flatten() {
        if let Some(line) = order
            .current
            .items
            .iter_mut()
            .find(|l| l.line_no == *line_no)
        {
            line.reserved_qty = Some(*reserved);
        }
    }
    order.updated_at = now;
    let confirm = request.confirm;
    order.last_applied = Some(request);
    if confirm {
        change_status(order, Status::AwaitingArrival, now, effects);
    } else if !all_full(&order.current) {
        change_status(order, Status::AwaitingReply, now, effects);
        effects.push(Effect::AwaitReply {
            order_no: order.current.order_no.clone(),
            version: order.version,
        });
    }
}

pub(crate) fn all_full(order: &JgoodsOrder) -> bool {
    order.items.iter().all(|l| l.reserved_qty == Some(l.qty))
}

#[cfg(test)]
mod tests;

impl crate::pusher::PushLog for SimStats {
    fn counters(&mut self) -> &mut WebhookStats {
        &mut self.webhooks
    }

    fn push_mut(&mut self, record: usize) -> Option<(&mut u32, &mut DeliveryOutcome)> {
        self.deliveries
            .get_mut(record)
            .map(|r| (&mut r.attempts, &mut r.outcome))
    }
}
