//! The simulated J-goods back office: orders, tokens, items, faults and counters,
//! with the contract's rules for the merchant's `PUT`. No I/O and no clock
//! other than [`Clock`], so every rule can be tested without HTTP; the HTTP
//! layer and the webhook sender act on the [`Effect`]s it leaves behind.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, SubsecRound, Utc};
use serde_json::Value;
use tokio::time::Instant;

use crate::channels::jgoods::wire::{self, JgoodsItemError, JgoodsItemStockResult};
use crate::channels::jgoods::{OrderSnapshot, Status};

/// Orders per `search.json` page, as in the contract.
pub const SEARCH_PAGE_SIZE: usize = 100;

/// Items per `PUT /item.json`, as in the contract.
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

/// A misbehaviour J-goods shows in real life, injected before normal handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this HTTP status and an error envelope (e.g. 500, 503, 401).
    Status(u16),
    /// 429 with `Retry-After` in seconds.
    TooManyRequests { retry_after_secs: u64 },
    /// Handle the request normally, then hold the answer back this long: the
    /// change is applied even when the caller times out (a lost response).
    Delay(Duration),
    /// 409 `STATUS_CONFLICT` whatever the order's state.
    Conflict,
    /// A fault of the network path (reset, slow body, cut-short body, a
    /// proxy's page): see [`crate::sim::transport::TransportFault`].
    Transport(crate::sim::transport::TransportFault),
}

/// Counters and recordings of everything the simulator saw, for assertions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SimStats {
    /// Calls to the token endpoint, including refused ones.
    pub token_requests: usize,
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
    pub outcome: DeliveryOutcome,
}

pub use crate::sim::pusher::{DeliveryOutcome, WebhookStats};

/// An error answer of the simulated APIs, before it becomes HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub http_status: u16,
    pub code: &'static str,
    pub message: String,
    /// The order's current status, sent with `409 STATUS_CONFLICT`.
    pub current: Option<Status>,
}

impl ApiError {
    pub(crate) fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            http_status: 400,
            code,
            message: message.into(),
            current: None,
        }
    }

    fn order_not_found(order_no: &str) -> Self {
        ApiError {
            http_status: 404,
            code: "ORDER_NOT_FOUND",
            message: format!("no order {order_no:?}"),
            current: None,
        }
    }

    pub(crate) fn conflict(current: Option<Status>) -> Self {
        ApiError {
            http_status: 409,
            code: "STATUS_CONFLICT",
            message: format!(
                "the order is no longer in {}",
                Status::AwaitingApproval.label()
            ),
            current,
        }
    }
}

/// Something the shell must do after a state change, in order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Effect {
    /// Push a webhook carrying this state of the order.
    Webhook(OrderSnapshot),
    /// Let the customer answer after the configured delay, if the order is
    /// then still at this `version` (nothing else happened meanwhile).
    AwaitReply { order_no: String, version: u64 },
}

/// The merchant's `PUT`, normalised so that "identical request" compares
/// meaning (line order, absent vs `null`) rather than bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PutRequest {
    /// `status: 入荷待ち` was sent.
    confirm: bool,
    /// `(line_no, reserved_qty)` sorted by line.
    items: Option<Vec<(u32, u32)>>,
}

/// One order and what J-goods remembers about the merchant's calls on it.
#[derive(Debug, Clone)]
pub(crate) struct SimOrder {
    pub snapshot: OrderSnapshot,
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
        let now = Utc::now().with_timezone(&jst()).trunc_subsecs(3);
        let next = match self.last {
            Some(last) if now <= last => last + chrono::Duration::milliseconds(1),
            _ => now,
        };
        self.last = Some(next);
        next
    }
}

fn jst() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).unwrap_or_else(|| unreachable!("+09:00 is a valid offset"))
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

    pub(crate) fn order(&self, order_no: &str) -> Option<&OrderSnapshot> {
        self.orders.get(order_no).map(|o| &o.snapshot)
    }

    pub(crate) fn orders(&self) -> impl Iterator<Item = &OrderSnapshot> {
        self.orders.values().map(|o| &o.snapshot)
    }

    // ---- J-goods-side events ----

    /// An order appears (or is replaced) as given; its lines' SKUs become known
    /// items and a webhook carries it.
    pub(crate) fn place(&mut self, mut snapshot: OrderSnapshot) {
        let now = self.clock.tick();
        snapshot.status_changed_at = Some(now);
        for line in &snapshot.lines {
            self.items.insert(line.sku.clone());
        }
        let decision = self.preset_decisions.remove(&snapshot.order_no);
        let order = SimOrder {
            snapshot,
            updated_at: now,
            decision,
            last_applied: None,
            version: 0,
        };
        self.effects.push(Effect::Webhook(order.snapshot.clone()));
        self.orders.insert(order.snapshot.order_no.clone(), order);
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
        if order.snapshot.status != Status::AwaitingReply
            || version.is_some_and(|v| v != order.version)
        {
            return false;
        }
        let now = self.clock.tick();
        match decision.or(order.decision).unwrap_or(default) {
            CustomerDecision::Accept => {
                for line in &mut order.snapshot.lines {
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
    ) -> Result<OrderSnapshot, ApiError> {
        let order = self
            .orders
            .get_mut(order_no)
            .ok_or_else(|| ApiError::order_not_found(order_no))?;
        let request = parse_put(body)?;
        if order.last_applied.as_ref() == Some(&request) {
            return Ok(order.snapshot.clone());
        }
        if order.snapshot.status != Status::AwaitingApproval {
            return Err(ApiError::conflict(Some(order.snapshot.status)));
        }
        check_put(&order.snapshot, &request)?;
        let now = self.clock.tick();
        apply_put(order, request, now, &mut self.effects);
        *self
            .stats
            .applied_puts
            .entry(order_no.to_string())
            .or_default() += 1;
        Ok(order.snapshot.clone())
    }

    pub(crate) fn get_order(&self, order_no: &str) -> Result<OrderSnapshot, ApiError> {
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
    ) -> (Vec<OrderSnapshot>, Option<u32>) {
        let mut hits: Vec<&SimOrder> = self
            .orders
            .values()
            .filter(|o| status.is_none_or(|s| o.snapshot.status == s))
            .filter(|o| updated_from.is_none_or(|t| o.updated_at >= t))
            .collect();
        hits.sort_by(|a, b| {
            (a.updated_at, &a.snapshot.order_no).cmp(&(b.updated_at, &b.snapshot.order_no))
        });
        let skip = (page.max(1) as usize - 1).saturating_mul(SEARCH_PAGE_SIZE);
        let orders: Vec<OrderSnapshot> = hits
            .iter()
            .skip(skip)
            .take(SEARCH_PAGE_SIZE)
            .map(|o| o.snapshot.clone())
            .collect();
        let more = hits.len() > skip.saturating_add(SEARCH_PAGE_SIZE);
        (orders, more.then(|| page.max(1).saturating_add(1)))
    }

    /// `PUT /v3/item.json`: all-or-nothing validation, then per-item results.
    pub(crate) fn put_stock(&mut self, body: &[u8]) -> Result<JgoodsItemStockResult, ApiError> {
        let updates = parse_stock(body)?;
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
    order.snapshot.status = status;
    order.snapshot.status_changed_at = Some(now);
    order.updated_at = now;
    order.version += 1;
    effects.push(Effect::Webhook(order.snapshot.clone()));
}

fn apply_put(
    order: &mut SimOrder,
    request: PutRequest,
    now: DateTime<FixedOffset>,
    effects: &mut Vec<Effect>,
) {
    for (line_no, reserved) in request.items.iter().flatten() {
        if let Some(line) = order
            .snapshot
            .lines
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
    } else if !all_full(&order.snapshot) {
        change_status(order, Status::AwaitingReply, now, effects);
        effects.push(Effect::AwaitReply {
            order_no: order.snapshot.order_no.clone(),
            version: order.version,
        });
    }
}

fn all_full(order: &OrderSnapshot) -> bool {
    order.lines.iter().all(|l| l.reserved_qty == Some(l.qty))
}

/// Shape checks that need no order: what the body says, not whether it fits.
pub(crate) fn parse_put(body: &[u8]) -> Result<PutRequest, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| ApiError::bad_request("INVALID_REQUEST", "the body is not JSON"))?;
    let Value::Object(fields) = value else {
        return Err(ApiError::bad_request(
            "INVALID_REQUEST",
            "the body must be a JSON object",
        ));
    };
    let confirm = match fields.get("status") {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) if Status::from_label(s) == Some(Status::AwaitingArrival) => true,
        Some(_) => {
            return Err(ApiError::bad_request(
                "INVALID_STATUS",
                format!(
                    "the only status a merchant may set is {}",
                    Status::AwaitingArrival.label()
                ),
            ));
        }
    };
    let items = match fields.get("items") {
        None | Some(Value::Null) => None,
        Some(Value::Array(list)) => Some(parse_lines(list)?),
        Some(_) => {
            return Err(ApiError::bad_request(
                "MISSING_LINE",
                "items must be a list of lines",
            ));
        }
    };
    Ok(PutRequest { confirm, items })
}

fn parse_lines(list: &[Value]) -> Result<Vec<(u32, u32)>, ApiError> {
    let mut lines: Vec<(u32, u32)> = Vec::with_capacity(list.len());
    for (i, line) in list.iter().enumerate() {
        let line_no = line
            .get("line_no")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "MISSING_LINE",
                    format!("items[{i}].line_no must be a whole number >= 1"),
                )
            })?;
        let reserved = line
            .get("reserved_qty")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| {
                ApiError::bad_request(
                    "INVALID_QTY",
                    format!("items[{i}].reserved_qty must be a whole number"),
                )
            })?;
        if lines.iter().any(|(l, _)| *l == line_no) {
            return Err(ApiError::bad_request(
                "MISSING_LINE",
                format!("line {line_no} appears twice"),
            ));
        }
        lines.push((line_no, reserved));
    }
    lines.sort_unstable();
    Ok(lines)
}

/// Checks a well-formed request against the order it is meant for.
fn check_put(order: &OrderSnapshot, request: &PutRequest) -> Result<(), ApiError> {
    let Some(items) = &request.items else {
        if !request.confirm {
            return Err(ApiError::bad_request(
                "MISSING_LINE",
                "items must name every line of the order",
            ));
        }
        if !all_full(order) {
            return Err(ApiError::bad_request(
                "INVALID_STATUS",
                "a status alone confirms only an order whose every line has reserved_qty == qty",
            ));
        }
        return Ok(());
    };
    check_lines_named(order, items)?;
    for (line_no, reserved) in items {
        let qty = order
            .lines
            .iter()
            .find(|l| l.line_no == *line_no)
            .map_or(0, |l| l.qty);
        if *reserved > qty {
            return Err(ApiError::bad_request(
                "INVALID_QTY",
                format!("line {line_no}: reserved_qty {reserved} is more than qty {qty}"),
            ));
        }
    }
    let short = order
        .lines
        .iter()
        .any(|l| items.iter().any(|(n, r)| *n == l.line_no && *r < l.qty));
    if request.confirm && short {
        return Err(ApiError::bad_request(
            "INVALID_STATUS",
            format!(
                "{} needs reserved_qty == qty on every line",
                Status::AwaitingArrival.label()
            ),
        ));
    }
    Ok(())
}

fn check_lines_named(order: &OrderSnapshot, items: &[(u32, u32)]) -> Result<(), ApiError> {
    if let Some((unknown, _)) = items
        .iter()
        .find(|(n, _)| !order.lines.iter().any(|l| l.line_no == *n))
    {
        return Err(ApiError::bad_request(
            "MISSING_LINE",
            format!("the order has no line {unknown}"),
        ));
    }
    if let Some(missing) = order
        .lines
        .iter()
        .find(|l| !items.iter().any(|(n, _)| *n == l.line_no))
    {
        return Err(ApiError::bad_request(
            "MISSING_LINE",
            format!("line {} is missing from items", missing.line_no),
        ));
    }
    Ok(())
}

fn parse_stock(body: &[u8]) -> Result<Vec<(String, u64)>, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| ApiError::bad_request("INVALID_REQUEST", "the body is not JSON"))?;
    let Some(list) = value.get("items").and_then(Value::as_array) else {
        return Err(ApiError::bad_request(
            "INVALID_REQUEST",
            "items must be a list",
        ));
    };
    if list.len() > MAX_STOCK_ITEMS {
        return Err(ApiError::bad_request(
            "TOO_MANY_ITEMS",
            format!("at most {MAX_STOCK_ITEMS} items a call"),
        ));
    }
    list.iter()
        .enumerate()
        .map(|(i, item)| {
            let code = item
                .get("item_code")
                .and_then(Value::as_str)
                .filter(|c| !c.trim().is_empty());
            let stock = item.get("stock").and_then(Value::as_u64);
            match (code, stock) {
                (Some(code), Some(stock)) => Ok((code.to_string(), stock)),
                _ => Err(ApiError::bad_request(
                    "INVALID_REQUEST",
                    format!("items[{i}] needs an item_code and a whole-number stock"),
                )),
            }
        })
        .collect()
}

/// The wire form the simulator sends, with `status_changed_at` always in
/// milliseconds so that consecutive changes stay distinguishable.
pub(crate) fn to_wire(order: &OrderSnapshot) -> wire::JgoodsOrder {
    let mut out = wire::wire_from_snapshot(order);
    out.status_changed_at = order
        .status_changed_at
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, false));
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::channels::jgoods::{ShipTo, SnapshotLine};

    fn arrival() -> &'static str {
        Status::AwaitingArrival.label()
    }

    fn order(no: &str, qtys: &[u32]) -> OrderSnapshot {
        OrderSnapshot {
            order_no: no.to_string(),
            status: Status::AwaitingApproval,
            status_changed_at: None,
            parent_order_no: None,
            ship_to: Some(ShipTo {
                name: "warehouse".into(),
                postal_code: "5300001".into(),
                address: "Osaka".into(),
                phone: "0612345678".into(),
            }),
            lines: qtys
                .iter()
                .zip(1..)
                .map(|(q, line_no)| SnapshotLine {
                    line_no,
                    sku: format!("SKU-{line_no}"),
                    name: String::new(),
                    qty: *q,
                    reserved_qty: None,
                    unit_price: Some(100),
                })
                .collect(),
        }
    }

    fn state_with(no: &str, qtys: &[u32]) -> SimState {
        let mut s = SimState::new(CustomerDecision::Accept);
        s.place(order(no, qtys));
        s.take_effects();
        s
    }

    fn put(s: &mut SimState, no: &str, body: Value) -> Result<OrderSnapshot, ApiError> {
        s.put_order(no, body.to_string().as_bytes())
    }

    /// `{"items": [...]}` with `(line_no, reserved_qty)` pairs, plus 入荷待ち when `confirm`.
    fn alloc(lines: &[(u32, u32)], confirm: bool) -> Value {
        let items: Vec<Value> = lines
            .iter()
            .map(|(l, r)| json!({"line_no": l, "reserved_qty": r}))
            .collect();
        if confirm {
            json!({"status": arrival(), "items": items})
        } else {
            json!({ "items": items })
        }
    }

    #[test]
    fn full_allocation_with_status_moves_to_awaiting_arrival() {
        let mut s = state_with("A", &[2, 1]);
        let o = put(&mut s, "A", alloc(&[(2, 1), (1, 2)], true)).unwrap();
        assert_eq!(o.status, Status::AwaitingArrival);
        assert!(
            matches!(&s.take_effects()[..], [Effect::Webhook(w)] if w.status == Status::AwaitingArrival)
        );
    }

    #[test]
    fn full_allocation_without_status_only_records() {
        let mut s = state_with("A", &[2]);
        let o = put(&mut s, "A", alloc(&[(1, 2)], false)).unwrap();
        assert_eq!(o.status, Status::AwaitingApproval);
        assert_eq!(o.lines[0].reserved_qty, Some(2));
        assert!(s.take_effects().is_empty());
        let o = put(&mut s, "A", json!({"status": arrival()})).unwrap();
        assert_eq!(o.status, Status::AwaitingArrival);
    }

    #[test]
    fn short_allocation_asks_the_customer_and_accept_shrinks_qty() {
        let mut s = state_with("A", &[3, 2]);
        let short = alloc(&[(1, 1), (2, 2)], false);
        assert_eq!(
            put(&mut s, "A", short.clone()).unwrap().status,
            Status::AwaitingReply
        );
        let effects = s.take_effects();
        let Some(Effect::AwaitReply { version, .. }) = effects.last().cloned() else {
            panic!("no reply scheduled: {effects:?}");
        };
        assert!(
            !s.customer_reply("A", Some(version + 1), None),
            "stale reply"
        );
        assert!(s.customer_reply("A", Some(version), None));
        let o = s.order("A").unwrap();
        assert_eq!(o.status, Status::AwaitingApproval);
        let lines: Vec<_> = o.lines.iter().map(|l| (l.qty, l.reserved_qty)).collect();
        assert_eq!(lines, vec![(1, Some(1)), (2, Some(2))]);
        // A retry of the short request is answered from memory.
        assert_eq!(
            put(&mut s, "A", short).unwrap().status,
            Status::AwaitingApproval
        );
        let confirm = json!({"status": arrival()});
        assert_eq!(
            put(&mut s, "A", confirm).unwrap().status,
            Status::AwaitingArrival
        );
    }

    #[test]
    fn decline_cancels_and_no_reply_waits() {
        let mut s = state_with("A", &[3]);
        s.set_decision("A", CustomerDecision::NoReply);
        put(&mut s, "A", alloc(&[(1, 0)], false)).unwrap();
        assert!(!s.customer_reply("A", None, None));
        assert!(s.customer_reply("A", None, Some(CustomerDecision::Decline)));
        assert_eq!(s.order("A").unwrap().status, Status::Cancelled);
    }

    #[test]
    fn invalid_bodies_get_the_contract_codes() {
        let mut s = state_with("A", &[2, 1]);
        let line = |l: u32, r: Value| json!({"line_no": l, "reserved_qty": r});
        let cases = [
            (alloc(&[(1, 3), (2, 1)], false), "INVALID_QTY"),
            (
                json!({"items": [line(1, json!(1.5)), line(2, json!(1))]}),
                "INVALID_QTY",
            ),
            (
                json!({"items": [line(1, json!(-1)), line(2, json!(1))]}),
                "INVALID_QTY",
            ),
            (
                json!({"items": [line(1, json!("1")), line(2, json!(1))]}),
                "INVALID_QTY",
            ),
            (
                json!({"items": [{"line_no": 1}, line(2, json!(1))]}),
                "INVALID_QTY",
            ),
            (alloc(&[(1, 2)], false), "MISSING_LINE"),
            (alloc(&[(1, 2), (2, 1), (3, 0)], false), "MISSING_LINE"),
            (alloc(&[(1, 2), (1, 2)], false), "MISSING_LINE"),
            (
                json!({"items": [line(0, json!(1)), line(2, json!(1))]}),
                "MISSING_LINE",
            ),
            (json!({}), "MISSING_LINE"),
            (alloc(&[(1, 1), (2, 1)], true), "INVALID_STATUS"),
            (json!({"status": arrival()}), "INVALID_STATUS"),
            (json!({"status": Status::Shipped.label()}), "INVALID_STATUS"),
            (json!({"status": "arrived"}), "INVALID_STATUS"),
            (json!([1, 2]), "INVALID_REQUEST"),
        ];
        for (body, want) in cases {
            let got = put(&mut s, "A", body.clone()).expect_err("should be refused");
            assert_eq!((got.http_status, got.code), (400, want), "{body}");
        }
        assert_eq!(
            s.put_order("A", b"not json").unwrap_err().code,
            "INVALID_REQUEST"
        );
        let missing = s.put_order("B", b"{}").unwrap_err();
        assert_eq!(
            (missing.http_status, missing.code),
            (404, "ORDER_NOT_FOUND")
        );
        assert_eq!(s.order("A").unwrap().status, Status::AwaitingApproval);
        assert!(s.take_effects().is_empty());
    }

    #[test]
    fn only_the_last_applied_request_is_replayed_after_approval() {
        let mut s = state_with("A", &[1]);
        let confirm = alloc(&[(1, 1)], true);
        put(&mut s, "A", confirm.clone()).unwrap();
        let reordered = format!(
            r#"{{ "items":[{{"reserved_qty":1,"line_no":1}}], "status":"{}" }}"#,
            arrival()
        );
        let again = s.put_order("A", reordered.as_bytes()).unwrap();
        assert_eq!(again.status, Status::AwaitingArrival);
        let err = put(&mut s, "A", json!({"status": arrival()})).unwrap_err();
        assert_eq!((err.http_status, err.code), (409, "STATUS_CONFLICT"));
        assert_eq!(err.current, Some(Status::AwaitingArrival));
        s.set_status("A", Status::Cancelled);
        // Identical again: 200 with the order as it now is.
        assert_eq!(put(&mut s, "A", confirm).unwrap().status, Status::Cancelled);
    }

    #[test]
    fn status_changed_at_strictly_increases() {
        let mut s = state_with("A", &[1]);
        let mut seen = vec![s.order("A").unwrap().status_changed_at.unwrap()];
        for status in [Status::AwaitingShipment, Status::Shipped, Status::Cancelled] {
            s.set_status("A", status);
            seen.push(s.order("A").unwrap().status_changed_at.unwrap());
        }
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
        assert!(
            seen.iter()
                .all(|t| t.offset().local_minus_utc() == 9 * 3600)
        );
        let text = to_wire(s.order("A").unwrap()).status_changed_at.unwrap();
        assert!(text.ends_with("+09:00"), "{text}");
    }

    #[test]
    fn search_pages_by_hundred_and_filters() {
        let mut s = SimState::new(CustomerDecision::Accept);
        for i in 0..150 {
            s.place(order(&format!("JG{i:04}"), &[1]));
        }
        s.set_status("JG0000", Status::Cancelled);
        let (first, next) = s.search(Some(Status::AwaitingApproval), None, 1);
        assert_eq!((first.len(), next), (100, Some(2)));
        let (second, next) = s.search(Some(Status::AwaitingApproval), None, 2);
        assert_eq!((second.len(), next), (49, None));
        let (cancelled, _) = s.search(Some(Status::Cancelled), None, 1);
        assert_eq!(cancelled[0].order_no, "JG0000");
        let (recent, _) = s.search(None, cancelled[0].status_changed_at, 1);
        assert_eq!(recent.len(), 1);
        assert_eq!(s.search(None, None, 9).0.len(), 0);
    }

    #[test]
    fn faults_run_out_and_any_matches_everything() {
        let mut s = SimState::new(CustomerDecision::Accept);
        s.inject(Endpoint::GetOrder, Fault::Status(503), 2);
        s.inject(Endpoint::Any, Fault::Conflict, 1);
        assert_eq!(s.take_fault(Endpoint::Search), Some(Fault::Conflict));
        assert_eq!(s.take_fault(Endpoint::GetOrder), Some(Fault::Status(503)));
        assert_eq!(s.take_fault(Endpoint::GetOrder), Some(Fault::Status(503)));
        assert_eq!(s.take_fault(Endpoint::GetOrder), None);
    }

    #[test]
    fn stock_updates_known_items_and_reports_the_rest() {
        let mut s = state_with("A", &[1]);
        let body = json!({"items": [{"item_code": "SKU-1", "stock": 4}, {"item_code": "NOPE", "stock": 1}]});
        let r = s.put_stock(body.to_string().as_bytes()).unwrap();
        assert_eq!(r.updated, 1);
        assert_eq!(r.errors[0].item_code, "NOPE");
        assert_eq!(r.errors[0].code, "ITEM_NOT_FOUND");
        assert_eq!(s.stats.stock.get("SKU-1"), Some(&4));
        let negative = json!({"items": [{"item_code": "SKU-1", "stock": -1}]});
        let err = s.put_stock(negative.to_string().as_bytes()).unwrap_err();
        assert_eq!(err.code, "INVALID_REQUEST");
        let many: Vec<Value> = (0..=MAX_STOCK_ITEMS)
            .map(|_| json!({"item_code": "SKU-1", "stock": 1}))
            .collect();
        let err = s
            .put_stock(json!({ "items": many }).to_string().as_bytes())
            .unwrap_err();
        assert_eq!(err.code, "TOO_MANY_ITEMS");
    }
}
