//! The simulated Rakuten back office: orders and their status machine, license
//! keys, faults and counters, with the contract's rules for every endpoint.
//! No I/O and no clock of its own: every operation takes `now`, so the rules
//! can be tested without HTTP and time moves only when the caller says so.
//!
//! Status machine (a transition "after d" happens lazily, the first time the
//! state is looked at with `now >= due`, and is stamped with its due time):
//! 100 →confirmOrder→ 200 →after `processing`→ 300 →shipping rows complete→
//! 500 →after `payment`→ 600 →after `payment`→ 700 (only when `payment` is
//! set); cancel from 100/200/300 → 800 →after `cancel`→ 900; an edit of a 300
//! → 400 →after `edit`→ 300.
//!
//! Message codes come from the contract where it names them (`_009` missing,
//! `_010` empty, `_011` bad format, search `INFO_101/102`, confirm
//! `INFO_101`/`ERROR_102/103/105`, shipping `INFO_101/102/103`/`ERROR_011/102`).
//! The rest are the simulator's guesses, because the official code table is
//! behind the RMS login; clients must not depend on them:
//! - searchOrder `ERROR_012` window over 63 days or ending before it starts,
//!   `ERROR_013` start over 730 days ago, `ERROR_014` more than 15,000 hits;
//! - getOrder / confirmOrder `ERROR_012` more than 100 order numbers;
//!   confirmOrder `ERROR_101` unknown order;
//! - updateOrderShipping `ERROR_101` unknown order, `ERROR_103` order not yet
//!   in 300, `ERROR_104` unknown basketId, `ERROR_105` more than 20 rows per
//!   basket, `ERROR_106` unknown shippingDetailId.
//!
//! getOrder leaves unknown order numbers out without a message (a guess too).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, FixedOffset, SubsecRound, TimeDelta};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::inventory::{Inventory, SoldOut, Take};
use super::order::{NewItem, NewOrder, OrderEdit};
use crate::channels::rakuten_pay::wire::{self, MESSAGE_ERROR, MESSAGE_INFO, RakutenMessage};
use crate::channels::rakuten_pay::{
    Item, Package, Person, Progress, RakutenOrder, ShippingRow, Totals,
};
use problems::{Problems, present};
use shipping::{RowAction, plan_shipping};

/// Longest searchOrder window.
pub const MAX_WINDOW_DAYS: i64 = 63;
/// How far back a search may start.
pub const MAX_LOOKBACK_DAYS: i64 = 730;
/// Largest `requestRecordsAmount`.
pub const MAX_PAGE_SIZE: u64 = 1000;
/// Hits above which a search is refused.
pub const MAX_SEARCH_HITS: usize = 15_000;
/// Order numbers per getOrder / confirmOrder.
pub const MAX_ORDER_NUMBERS: usize = 100;
/// Shipping rows per basket.
pub const MAX_SHIPPING_ROWS: usize = 20;
/// Highest getOrder `version` the simulator knows (the spec lists 3 to 10).
pub const MAX_VERSION: u64 = 10;

/// Which simulated endpoint a fault applies to, and what the stats count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `POST /es/2.0/order/searchOrder/`.
    SearchOrder,
    /// `POST /es/2.0/order/getOrder/`.
    GetOrder,
    /// `POST /es/2.0/order/confirmOrder/`.
    ConfirmOrder,
    /// `POST /es/2.0/order/updateOrderShipping/`.
    UpdateOrderShipping,
    /// `GET /es/1.0/license-management/license-key/expiry-date`.
    License,
    /// `POST /es/2.0/inventories/bulk-upsert`.
    BulkUpsert,
    /// `POST /es/2.0/inventories/bulk-get`.
    BulkGet,
    /// `GET /es/2.0/items/search`.
    ItemsSearch,
    /// Whichever of the above is called next.
    Any,
}

/// A misbehaviour Rakuten shows in real life, suffered before normal handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 503 with an HTML maintenance page (the nightly window), optionally
    /// with `Retry-After` in seconds.
    Maintenance {
        /// `Retry-After` in seconds, when the page sends one.
        retry_after_secs: Option<u64>,
    },
    /// This HTTP status with a plain-text body (e.g. 500, 502).
    Status(u16),
    /// 429 with `Retry-After` in seconds.
    TooManyRequests {
        /// `Retry-After` in seconds.
        retry_after_secs: u64,
    },
    /// A gateway error body `{"Results": {...}}` with this status and code.
    Gateway {
        /// HTTP status of the answer.
        status: u16,
        /// `errorCode`, e.g. `ES04-01`.
        code: &'static str,
    },
    /// 200 with a body that is not JSON (a proxy's page, a cut connection).
    Garbage,
    /// Handle the request normally, then hold the answer back this long: the
    /// change is applied even when the caller times out (a lost response).
    Delay(Duration),
    /// A fault of the network path (reset, slow body, cut-short body, a
    /// proxy's page): see [`crate::sim::transport::TransportFault`].
    Transport(crate::sim::transport::TransportFault),
}

/// Counters and recordings of everything the simulator saw, for assertions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SimStats {
    /// Requests per endpoint, refused and faulted ones included.
    pub search_order: usize,
    /// getOrder requests.
    pub get_order: usize,
    /// confirmOrder requests.
    pub confirm_order: usize,
    /// updateOrderShipping requests.
    pub update_order_shipping: usize,
    /// License-expiry requests.
    pub license: usize,
    /// Answers `401 ES01-01`.
    pub unauthorized: usize,
    /// Answers 415 (no `charset=utf-8`).
    pub unsupported_media_type: usize,
    /// Every searchOrder body (JSON, or a JSON string of the raw text).
    pub search_bodies: Vec<Value>,
    /// How many order numbers each getOrder asked for.
    pub get_order_sizes: Vec<usize>,
    /// Every confirmOrder body.
    pub confirm_bodies: Vec<Value>,
    /// Every updateOrderShipping body, in arrival order.
    pub shipping_bodies: Vec<Value>,
    /// Most requests seen within any one second (Rakuten asks for about one
    /// a second per shop; the simulator records, it does not refuse).
    pub max_requests_per_second: usize,
}

impl SimStats {
    /// Requests to the order API (every endpoint but the license one).
    pub fn order_api_calls(&self) -> usize {
        self.search_order + self.get_order + self.confirm_order + self.update_order_shipping
    }
}

/// Delays of the status machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timing {
    pub processing: TimeDelta,
    pub cancel: TimeDelta,
    pub edit: TimeDelta,
    pub payment: Option<TimeDelta>,
}

/// A license key and when it works.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LicenseKey {
    key: String,
    /// A new key takes 10 to 90 minutes to start working.
    active_from: DateTime<FixedOffset>,
    expires_at: DateTime<FixedOffset>,
    /// `license.expiryDate.get`: a permission ticked separately in RMS, which
    /// many shops leave off; without it the expiry call is refused while the
    /// order API works.
    may_read_expiry: bool,
}

/// Why the gateway refuses a request's credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No such secret or key, or a key not active yet: `ES01-01`.
    Unknown,
    /// A key past its expiry: `GA0001`, as teams calling the live API report.
    Expired,
}

/// One order and what the simulator needs beyond what getOrder shows.
#[derive(Debug, Clone)]
pub(crate) struct SimOrder {
    pub order: RakutenOrder,
    delivery_fee: i64,
    /// The due transition, if any.
    next: Option<(Progress, DateTime<FixedOffset>)>,
    /// Render the order in a shape no client can read.
    corrupt: bool,
    /// Last updateOrderShipping that changed it (dateType 5).
    shipping_reported_at: Option<DateTime<FixedOffset>>,
    /// Reached 700 (dateType 6).
    settled_at: Option<DateTime<FixedOffset>>,
    /// Lines deleted in RMS (`itemDetailId`): still listed, `deleteItemFlag = 1`.
    deleted_items: BTreeSet<i64>,
    /// Destinations deleted in RMS (`basketId`): `packageDeleteFlag = 1`.
    deleted_packages: BTreeSet<i64>,
    /// The stock the order took at Rakuten, given back on a cancel.
    took: Vec<Take>,
}

impl SimOrder {
    fn is_deleted(&self, basket_id: i64, item_detail_id: i64) -> bool {
        self.deleted_packages.contains(&basket_id) || self.deleted_items.contains(&item_detail_id)
    }
}

/// Rakuten cancels an order left unconfirmed (100) this long after it was placed.
pub const UNCONFIRMED_CANCEL_DAYS: i64 = 14;
/// Lowest getOrder `version` the simulator still serves (7 adds SKU data;
/// Rakuten says old versions will be retired).
pub const MIN_VERSION: u64 = 7;

/// An answer before it becomes HTTP.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Answer {
    pub status: u16,
    pub body: Value,
}

/// Everything the simulator knows; one lock guards it.
#[derive(Debug)]
pub struct SimState {
    orders: BTreeMap<String, SimOrder>,
    timing: Timing,
    service_secret: String,
    licenses: Vec<LicenseKey>,
    /// `(endpoint, fault, remaining)` in injection order.
    faults: Vec<(Endpoint, Fault, u32)>,
    /// Every request answers 503 until switched off.
    pub maintenance: bool,
    next_basket_id: i64,
    next_item_detail_id: i64,
    next_shipping_detail_id: i64,
    next_sequence: u64,
    /// Request times within the last second, for the rate statistic.
    recent: VecDeque<Instant>,
    pub stats: SimStats,
    /// Items, stock and the inventory endpoints.
    pub(crate) inventory: Inventory,
}

impl SimState {
    pub(crate) fn new(
        timing: Timing,
        service_secret: String,
        license_key: String,
        license_expires_at: DateTime<FixedOffset>,
        now: DateTime<FixedOffset>,
        search_lag: TimeDelta,
    ) -> Self {
        SimState {
            orders: BTreeMap::new(),
            timing,
            service_secret,
            licenses: vec![LicenseKey {
                key: license_key,
                active_from: now - TimeDelta::days(1),
                expires_at: license_expires_at,
                may_read_expiry: true,
            }],
            faults: Vec::new(),
            maintenance: false,
            next_basket_id: 10_746_401,
            next_item_detail_id: 100_001,
            next_shipping_detail_id: 15_401,
            next_sequence: 1,
            recent: VecDeque::new(),
            stats: SimStats::default(),
            inventory: Inventory::new(search_lag),
        }
    }

    pub(crate) fn order(&self, number: &str) -> Option<&RakutenOrder> {
        self.orders.get(number).map(|o| &o.order)
    }

    pub(crate) fn orders(&self) -> impl Iterator<Item = &RakutenOrder> {
        self.orders.values().map(|o| &o.order)
    }

    /// Applies every transition due by `now`.
    pub(crate) fn settle(&mut self, now: DateTime<FixedOffset>) {
        let timing = self.timing;
        for o in self.orders.values_mut() {
            while let Some((to, due)) = o.next {
                if due > now {
                    break;
                }
                enter(o, to, due, &timing);
            }
        }
    }

    // ---- Rakuten-side events (test hooks) ----

    /// A fresh order number of the shape `123456-YYYYMMDD-000000NN`.
    pub(crate) fn next_order_number(&mut self, now: DateTime<FixedOffset>) -> String {
        let seq = self.next_sequence;
        self.next_sequence += 1;
        format!("123456-{}-{seq:08}", now.format("%Y%m%d"))
    }

    /// An order appears (or replaces one of the same number); a test hook for
    /// lines without stock management at Rakuten.
    ///
    /// # Panics
    /// When Rakuten would refuse it for want of stock: use [`Self::try_place`].
    pub(crate) fn place(&mut self, new: NewOrder, now: DateTime<FixedOffset>) -> String {
        match self.try_place(new, now) {
            Ok(number) => number,
            Err(e) => panic!("the simulated Rakuten refuses this order ({e}): use try_place_order"),
        }
    }

    /// A buyer orders: lines of items with stock management take their units,
    /// and the order is refused past zero unless the variant takes back orders.
    pub(crate) fn try_place(
        &mut self,
        new: NewOrder,
        now: DateTime<FixedOffset>,
    ) -> Result<String, SoldOut> {
        let took = self.takes(&new);
        self.inventory.take(&took, now)?;
        // Rakuten's timestamps are whole seconds.
        let ordered_at = new.ordered_at.unwrap_or(now).trunc_subsecs(0);
        let mut packages = Vec::with_capacity(new.packages.len().max(1));
        let new_packages = if new.packages.is_empty() {
            vec![super::order::NewPackage {
                recipient: None,
                items: Vec::new(),
            }]
        } else {
            new.packages
        };
        for p in new_packages {
            let basket_id = self.next_basket_id;
            self.next_basket_id += 1;
            let items = p.items.iter().map(|i| self.new_item(i)).collect();
            packages.push(Package {
                basket_id,
                // A recipient (SenderModel) has no email address.
                recipient: p.recipient.unwrap_or_else(|| Person {
                    email: None,
                    ..new.customer.clone()
                }),
                items,
                shipping: Vec::new(),
                // Deletions are the simulator's own (rendered as Rakuten's flags).
                deleted: false,
            });
        }
        let mut o = SimOrder {
            order: RakutenOrder {
                order_number: new.order_number.clone(),
                progress: Progress::AwaitingConfirmation,
                ordered_at,
                confirmed_at: None,
                fixed_at: None,
                rakuten_settlement: new.rpay_settlement_flag == 1,
                settlement_method_code: Some(new.settlement_method_code),
                settlement_method: new.settlement_method,
                customer: new.customer,
                totals: Totals {
                    postage: new.postage,
                    ..Totals::default()
                },
                packages,
            },
            delivery_fee: new.delivery_fee,
            next: None,
            corrupt: false,
            shipping_reported_at: None,
            settled_at: None,
            deleted_items: BTreeSet::new(),
            deleted_packages: BTreeSet::new(),
            took,
        };
        recompute_totals(&mut o);
        enter(&mut o, new.progress, now, &self.timing);
        self.orders.insert(new.order_number.clone(), o);
        Ok(new.order_number)
    }

    /// The stock each line of `new` takes at Rakuten (lines of items Rakuten
    /// keeps no stock for take none).
    fn takes(&self, new: &NewOrder) -> Vec<Take> {
        new.packages
            .iter()
            .flat_map(|p| &p.items)
            .filter_map(|i| {
                let manage = i.manage_number.as_deref()?;
                let variant = self.inventory.resolve(
                    manage,
                    i.variant_id.as_deref(),
                    i.merchant_defined_sku_id.as_deref(),
                )?;
                Some(Take {
                    manage_number: manage.to_ascii_lowercase(),
                    variant_id: variant,
                    units: i.units,
                })
            })
            .collect()
    }

    fn new_item(&mut self, i: &NewItem) -> Item {
        let id = self.next_item_detail_id;
        self.next_item_detail_id += 1;
        Item {
            item_detail_id: id,
            name: i.name.clone(),
            item_number: i.item_number.clone(),
            manage_number: i.manage_number.clone(),
            merchant_defined_sku_id: i.merchant_defined_sku_id.clone(),
            variant_id: i
                .manage_number
                .as_deref()
                .and_then(|m| {
                    self.inventory.resolve(
                        m,
                        i.variant_id.as_deref(),
                        i.merchant_defined_sku_id.as_deref(),
                    )
                })
                .or_else(|| i.variant_id.clone())
                .or_else(|| {
                    i.merchant_defined_sku_id
                        .as_ref()
                        .map(|_| format!("sku-{id}"))
                }),
            price: i.price,
            units: i.units,
            deleted: false,
        }
    }

    /// Forces a status (and schedules its natural continuation).
    pub(crate) fn set_progress(
        &mut self,
        number: &str,
        progress: Progress,
        now: DateTime<FixedOffset>,
    ) -> bool {
        let timing = self.timing;
        match self.orders.get_mut(number) {
            Some(o) => {
                enter(o, progress, now, &timing);
                true
            }
            None => false,
        }
    }

    /// The customer or Rakuten cancels: 100/200/300 → 800 (→ 900 later).
    pub(crate) fn cancel(&mut self, number: &str, now: DateTime<FixedOffset>) -> bool {
        let timing = self.timing;
        let Some(o) = self.orders.get_mut(number) else {
            return false;
        };
        match o.order.progress {
            Progress::AwaitingConfirmation
            | Progress::RakutenProcessing
            | Progress::AwaitingShipment => {
                enter(o, Progress::AwaitingCancellation, now, &timing);
                let took = std::mem::take(&mut o.took);
                self.inventory.give_back(&took, now);
                true
            }
            Progress::AwaitingChangeConfirmation
            | Progress::Shipped
            | Progress::PaymentInProgress
            | Progress::PaymentDone
            | Progress::AwaitingCancellation
            | Progress::Cancelled
            | Progress::Unknown(_) => false,
        }
    }

    /// An RMS edit of a 300 order: 300 → 400 (→ 300 later).
    pub(crate) fn edit(
        &mut self,
        number: &str,
        edit: OrderEdit,
        now: DateTime<FixedOffset>,
    ) -> bool {
        let timing = self.timing;
        let new_item = match &edit {
            OrderEdit::AddItem { item, .. } => Some(self.new_item(item)),
            OrderEdit::SetUnits { .. }
            | OrderEdit::RemoveItem { .. }
            | OrderEdit::RemovePackage { .. } => None,
        };
        let Some(o) = self.orders.get_mut(number) else {
            return false;
        };
        let deletion = matches!(
            edit,
            OrderEdit::RemoveItem { .. } | OrderEdit::RemovePackage { .. }
        );
        let at_100 = o.order.progress == Progress::AwaitingConfirmation;
        if o.order.progress != Progress::AwaitingShipment && !(deletion && at_100) {
            return false;
        }
        let applied = match edit {
            OrderEdit::SetUnits {
                item_detail_id,
                units,
            } => o
                .order
                .packages
                .iter_mut()
                .flat_map(|p| p.items.iter_mut())
                .find(|i| i.item_detail_id == item_detail_id)
                .map(|i| i.units = units)
                .is_some(),
            OrderEdit::RemoveItem { item_detail_id } => {
                let listed = o
                    .order
                    .packages
                    .iter()
                    .flat_map(|p| &p.items)
                    .any(|i| i.item_detail_id == item_detail_id);
                listed && o.deleted_items.insert(item_detail_id)
            }
            OrderEdit::RemovePackage { basket_id } => {
                let listed = o.order.packages.iter().any(|p| p.basket_id == basket_id);
                listed && o.deleted_packages.insert(basket_id)
            }
            OrderEdit::AddItem { basket_id, .. } => {
                let package = match basket_id {
                    Some(id) => o.order.packages.iter_mut().find(|p| p.basket_id == id),
                    None => o.order.packages.first_mut(),
                };
                match (package, new_item) {
                    (Some(p), Some(item)) => {
                        p.items.push(item);
                        true
                    }
                    _ => false,
                }
            }
        };
        if applied {
            recompute_totals(o);
            if !at_100 {
                enter(o, Progress::AwaitingChangeConfirmation, now, &timing);
            }
        }
        applied
    }

    /// The shop sets the postage in RMS (it was `-9999`).
    pub(crate) fn set_postage(&mut self, number: &str, postage: i64) -> bool {
        match self.orders.get_mut(number) {
            Some(o) => {
                o.order.totals.postage = Some(postage);
                recompute_totals(o);
                true
            }
            None => false,
        }
    }

    /// From now on getOrder renders this order in a shape no client can read.
    pub(crate) fn corrupt(&mut self, number: &str) -> bool {
        match self.orders.get_mut(number) {
            Some(o) => {
                o.corrupt = true;
                true
            }
            None => false,
        }
    }

    // ---- license keys ----

    /// Changes the expiry of the configured (first) key.
    pub(crate) fn set_license_expiry(&mut self, at: DateTime<FixedOffset>) {
        if let Some(first) = self.licenses.first_mut() {
            first.expires_at = at;
        }
    }

    /// Issues another key; the old one keeps working until its own expiry.
    pub(crate) fn add_license_key(
        &mut self,
        key: String,
        active_from: DateTime<FixedOffset>,
        expires_at: DateTime<FixedOffset>,
    ) {
        self.licenses.retain(|l| l.key != key);
        self.licenses.push(LicenseKey {
            key,
            active_from,
            expires_at,
            may_read_expiry: true,
        });
    }

    /// Ticks or unticks `license.expiryDate.get` for the configured (first) key.
    pub(crate) fn set_expiry_permission(&mut self, allowed: bool) {
        if let Some(first) = self.licenses.first_mut() {
            first.may_read_expiry = allowed;
        }
    }

    /// The license key of a valid `ESA base64(serviceSecret:licenseKey)`
    /// header, or why it is refused (`401`).
    pub(crate) fn authorize(
        &self,
        header: Option<&str>,
        now: DateTime<FixedOffset>,
    ) -> Result<String, Refusal> {
        let key = self.presented_key(header).ok_or(Refusal::Unknown)?;
        let l = self
            .licenses
            .iter()
            .find(|l| l.key == key && l.active_from <= now)
            .ok_or(Refusal::Unknown)?;
        if now >= l.expires_at {
            return Err(Refusal::Expired);
        }
        Ok(l.key.clone())
    }

    fn presented_key(&self, header: Option<&str>) -> Option<String> {
        let encoded = header?.strip_prefix("ESA ")?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_bytes())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (secret, key) = text.split_once(':')?;
        (secret == self.service_secret).then(|| key.to_string())
    }

    /// Whether the authorized `key` has `license.expiryDate.get`.
    pub(crate) fn may_read_expiry(&self, key: &str) -> bool {
        self.licenses
            .iter()
            .any(|l| l.key == key && l.may_read_expiry)
    }

    /// `GET …/license-key/expiry-date?licenseKey=`. The live answer carries
    /// no offset (`2026-11-28T23:59:59`, JST).
    pub(crate) fn license_expiry(&self, queried: Option<&str>) -> Answer {
        match queried.and_then(|k| self.licenses.iter().find(|l| l.key == k)) {
            Some(l) => Answer {
                status: 200,
                body: json!({ "expiryDate": l.expires_at.format("%Y-%m-%dT%H:%M:%S").to_string() }),
            },
            None => Answer {
                status: 400,
                body: serde_json::to_value(wire::RakutenGatewayError::new(
                    wire::GATEWAY_BAD_REQUEST,
                    "Bad Request",
                ))
                .unwrap_or(Value::Null),
            },
        }
    }

    // ---- calls, faults, statistics ----

    /// Counts a request, records its body where tests want it, and updates
    /// the rate statistic.
    pub(crate) fn record_call(&mut self, endpoint: Endpoint, body: Option<Value>, at: Instant) {
        let stats = &mut self.stats;
        match endpoint {
            Endpoint::SearchOrder => {
                stats.search_order += 1;
                stats.search_bodies.extend(body);
            }
            Endpoint::GetOrder => {
                stats.get_order += 1;
                let size = body
                    .as_ref()
                    .and_then(|b| b.get("orderNumberList"))
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                stats.get_order_sizes.push(size);
            }
            Endpoint::ConfirmOrder => {
                stats.confirm_order += 1;
                stats.confirm_bodies.extend(body);
            }
            Endpoint::UpdateOrderShipping => {
                stats.update_order_shipping += 1;
                stats.shipping_bodies.extend(body);
            }
            Endpoint::License | Endpoint::Any => stats.license += 1,
            Endpoint::BulkUpsert => self.inventory.stats.upserts += 1,
            Endpoint::BulkGet => self.inventory.stats.gets += 1,
            Endpoint::ItemsSearch => self.inventory.stats.searches += 1,
        }
        while self
            .recent
            .front()
            .is_some_and(|t| at.saturating_duration_since(*t) >= Duration::from_secs(1))
        {
            self.recent.pop_front();
        }
        self.recent.push_back(at);
        stats.max_requests_per_second = stats.max_requests_per_second.max(self.recent.len());
    }

    pub(crate) fn inject(&mut self, endpoint: Endpoint, fault: Fault, times: u32) {
        if times > 0 {
            self.faults.push((endpoint, fault, times));
        }
    }

    pub(crate) fn clear_faults(&mut self) {
        self.faults.clear();
        self.maintenance = false;
    }

    /// The fault the next request to `endpoint` suffers, if any is left.
    pub(crate) fn take_fault(&mut self, endpoint: Endpoint) -> Option<Fault> {
        if self.maintenance {
            return Some(Fault::Maintenance {
                retry_after_secs: None,
            });
        }
        let rule = self
            .faults
            .iter_mut()
            .find(|(e, _, left)| *left > 0 && (*e == endpoint || *e == Endpoint::Any))?;
        rule.2 -= 1;
        let fault = rule.1;
        self.faults.retain(|(_, _, left)| *left > 0);
        Some(fault)
    }

    // ---- the shop's calls ----

    /// `searchOrder`.
    pub(crate) fn search_order(&mut self, body: &Value, now: DateTime<FixedOffset>) -> Answer {
        self.settle(now);
        let mut problems = Problems::new("SEARCH_ORDER");
        let Some(req) = body.as_object() else {
            problems.format("request");
            return search_error(problems);
        };
        let date_type = search_date_type(req, &mut problems);
        let start = problems.datetime(req, "startDatetime");
        let end = problems.datetime(req, "endDatetime");
        let progress = search_progress(req, &mut problems);
        let (page_size, page, descending) = problems.pagination(req);
        let (Some(date_type), Some(start), Some(end)) = (date_type, start, end) else {
            return search_error(problems);
        };
        if !problems.is_empty() {
            return search_error(problems);
        }
        if end < start || end - start > TimeDelta::days(MAX_WINDOW_DAYS) {
            problems.error(12, "期間検索の範囲は63日以内で指定して下さい。");
            return search_error(problems);
        }
        if start < now - TimeDelta::days(MAX_LOOKBACK_DAYS) {
            problems.error(13, "期間検索開始日時は730日以内で指定して下さい。");
            return search_error(problems);
        }
        let hits: Vec<(DateTime<FixedOffset>, &str)> = self
            .orders
            .values()
            .filter(|o| {
                progress
                    .as_ref()
                    .is_none_or(|list| list.contains(&o.order.progress))
            })
            .filter_map(|o| {
                let at = date_of(o, date_type)?;
                (start <= at && at <= end)
                    .then_some((o.order.ordered_at, o.order.order_number.as_str()))
            })
            .collect();
        if hits.len() > MAX_SEARCH_HITS {
            problems.error(
                14,
                "検索結果が15000件を超えました。検索条件を絞り込んで下さい。",
            );
            return search_error(problems);
        }
        if hits.is_empty() {
            return Answer {
                status: 200,
                body: json!({
                    "orderNumberList": [],
                    "MessageModelList": [info(wire::SEARCH_ORDER_NO_HITS, "注文検索に成功しました。(検索結果０件)")],
                    "PaginationResponseModel": {
                        "totalRecordsAmount": null,
                        "totalPages": null,
                        "requestPage": null,
                    },
                }),
            };
        }
        search_page(hits, page_size, page, descending)
    }

    /// `getOrder`.
    pub(crate) fn get_order(&mut self, body: &Value, now: DateTime<FixedOffset>) -> Answer {
        self.settle(now);
        let mut problems = Problems::new("GET_ORDER");
        let Some(req) = body.as_object() else {
            problems.format("request");
            return get_order_error(problems);
        };
        let numbers = problems.order_numbers(req);
        let version = match present(req, "version") {
            None => {
                problems.missing("version");
                None
            }
            Some(v) => {
                let version = v
                    .as_u64()
                    .filter(|n| (MIN_VERSION..=MAX_VERSION).contains(n));
                if version.is_none() {
                    problems.format("version");
                }
                version
            }
        };
        let (Some(numbers), Some(version), true) = (numbers, version, problems.is_empty()) else {
            return get_order_error(problems);
        };
        let orders: Vec<Value> = numbers
            .iter()
            .filter_map(|n| self.orders.get(n.as_str()))
            .map(|o| render(o, version))
            .collect();
        Answer {
            status: 200,
            body: json!({
                "MessageModelList": [info(wire::GET_ORDER_OK, "受注情報の取得に成功しました。")],
                "OrderModelList": orders,
                "version": version,
            }),
        }
    }

    /// `confirmOrder`: one message per order.
    pub(crate) fn confirm_order(&mut self, body: &Value, now: DateTime<FixedOffset>) -> Answer {
        self.settle(now);
        let timing = self.timing;
        let mut problems = Problems::new("CONFIRM_ORDER");
        let Some(req) = body.as_object() else {
            problems.format("request");
            return messages_answer(400, problems.list);
        };
        let Some(numbers) = problems.order_numbers(req) else {
            return messages_answer(400, problems.list);
        };
        let mut messages = Vec::with_capacity(numbers.len());
        for number in numbers {
            let (kind, code, text) = match self.orders.get_mut(&number) {
                None => (
                    MESSAGE_ERROR,
                    problems.code(MESSAGE_ERROR, 101),
                    "注文が存在しません。",
                ),
                Some(o) => match o.order.progress {
                    Progress::AwaitingConfirmation if o.order.totals.postage.is_none() => (
                        MESSAGE_ERROR,
                        wire::CONFIRM_ORDER_POSTAGE_NOT_SET.to_string(),
                        "送料が設定されていません。",
                    ),
                    Progress::AwaitingConfirmation => {
                        enter(o, Progress::RakutenProcessing, now, &timing);
                        (
                            MESSAGE_INFO,
                            wire::CONFIRM_ORDER_CONFIRMED.to_string(),
                            "注文確認に成功しました。",
                        )
                    }
                    Progress::AwaitingCancellation | Progress::Cancelled => (
                        MESSAGE_ERROR,
                        wire::CONFIRM_ORDER_CANCELLED.to_string(),
                        "キャンセルされた注文です。",
                    ),
                    Progress::RakutenProcessing
                    | Progress::AwaitingShipment
                    | Progress::AwaitingChangeConfirmation
                    | Progress::Shipped
                    | Progress::PaymentInProgress
                    | Progress::PaymentDone
                    | Progress::Unknown(_) => (
                        MESSAGE_ERROR,
                        wire::CONFIRM_ORDER_OTHER_STATUS.to_string(),
                        "注文確認待ち以外のステータスです。",
                    ),
                },
            };
            let mut m = RakutenMessage::new(kind, &code, text);
            m.order_number = Some(number);
            messages.push(m);
        }
        let any_ok = messages.iter().any(|m| !m.is_error());
        messages_answer(if any_ok { 200 } else { 400 }, messages)
    }

    /// `updateOrderShipping`: all rows are checked first; any error applies nothing.
    pub(crate) fn update_order_shipping(
        &mut self,
        body: &Value,
        now: DateTime<FixedOffset>,
    ) -> Answer {
        self.settle(now);
        let mut problems = Problems::new("UPDATE_ORDERSHIPPING");
        let Some(req) = body.as_object() else {
            problems.format("request");
            return messages_answer(400, problems.list);
        };
        let number = match present(req, "orderNumber") {
            None => {
                problems.missing("orderNumber");
                return messages_answer(400, problems.list);
            }
            Some(Value::String(s)) if s.is_empty() => {
                problems.empty("orderNumber");
                return messages_answer(400, problems.list);
            }
            Some(Value::String(s)) => s.clone(),
            Some(_) => {
                problems.format("orderNumber");
                return messages_answer(400, problems.list);
            }
        };
        let Some(order) = self.orders.get(&number) else {
            problems.error(101, "注文が存在しません。");
            return messages_answer(400, problems.list);
        };
        match order.order.progress {
            Progress::AwaitingCancellation | Progress::Cancelled => {
                problems.push(
                    MESSAGE_ERROR,
                    wire::SHIPPING_ORDER_CANCELLED.to_string(),
                    "キャンセルされた注文です。".to_string(),
                );
                return messages_answer(400, problems.list);
            }
            Progress::AwaitingConfirmation | Progress::RakutenProcessing | Progress::Unknown(_) => {
                problems.error(103, "発送待ち以降のステータスではありません。");
                return messages_answer(400, problems.list);
            }
            Progress::AwaitingShipment
            | Progress::AwaitingChangeConfirmation
            | Progress::Shipped
            | Progress::PaymentInProgress
            | Progress::PaymentDone => {}
        }
        let plan = match plan_shipping(&order.order, req, &mut problems) {
            Some(plan) if problems.is_empty() => plan,
            _ => return messages_answer(400, problems.list),
        };
        let mut next_id = self.next_shipping_detail_id;
        let timing = self.timing;
        let Some(o) = self.orders.get_mut(&number) else {
            return messages_answer(400, problems.list);
        };
        let mut messages = Vec::with_capacity(plan.len());
        for step in plan {
            let Some(package) = o
                .order
                .packages
                .iter_mut()
                .find(|p| p.basket_id == step.basket_id)
            else {
                continue;
            };
            messages.push(apply_row(package, step, &mut next_id));
        }
        self.next_shipping_detail_id = next_id;
        o.shipping_reported_at = Some(now);
        if o.order.progress == Progress::AwaitingShipment && o.order.fully_shipped() {
            enter(o, Progress::Shipped, now, &timing);
        }
        messages_answer(200, messages)
    }
}

/// Moves an order into `progress` at `at`, stamping dates and scheduling the
/// natural next step.
fn enter(o: &mut SimOrder, progress: Progress, at: DateTime<FixedOffset>, timing: &Timing) {
    o.order.progress = progress;
    o.next = None;
    let order = &mut o.order;
    match progress {
        Progress::AwaitingConfirmation => {
            // Left unconfirmed, Rakuten cancels it.
            o.next = Some((
                Progress::AwaitingCancellation,
                order.ordered_at + TimeDelta::days(UNCONFIRMED_CANCEL_DAYS),
            ));
        }
        Progress::Cancelled | Progress::Unknown(_) => {}
        Progress::RakutenProcessing => {
            order.confirmed_at.get_or_insert(at);
            o.next = Some((Progress::AwaitingShipment, at + timing.processing));
        }
        Progress::AwaitingShipment => {
            order.confirmed_at.get_or_insert(at);
            order.fixed_at.get_or_insert(at);
        }
        Progress::AwaitingChangeConfirmation => {
            o.next = Some((Progress::AwaitingShipment, at + timing.edit));
        }
        Progress::Shipped => {
            order.confirmed_at.get_or_insert(at);
            order.fixed_at.get_or_insert(at);
            o.next = timing
                .payment
                .map(|d| (Progress::PaymentInProgress, at + d));
        }
        Progress::PaymentInProgress => {
            o.next = timing.payment.map(|d| (Progress::PaymentDone, at + d));
        }
        Progress::PaymentDone => {
            o.settled_at.get_or_insert(at);
        }
        Progress::AwaitingCancellation => {
            o.next = Some((Progress::Cancelled, at + timing.cancel));
        }
    }
}

/// Goods from the lines not deleted; total and request price only once
/// postage is known.
fn recompute_totals(o: &mut SimOrder) {
    let goods: i64 = o
        .order
        .packages
        .iter()
        .flat_map(|p| p.items.iter().map(move |i| (p.basket_id, i)))
        .filter(|(basket, i)| !o.is_deleted(*basket, i.item_detail_id))
        .map(|(_, i)| i.price.saturating_mul(i64::from(i.units)))
        .sum();
    let totals = &mut o.order.totals;
    totals.goods = Some(goods);
    totals.delivery = Some(o.delivery_fee);
    totals.total = totals.postage.map(|p| goods + p + o.delivery_fee);
    totals.request = totals.total;
}

/// The date a search with this `dateType` looks at.
fn date_of(o: &SimOrder, date_type: u64) -> Option<DateTime<FixedOffset>> {
    match date_type {
        1 => Some(o.order.ordered_at),
        2 => o.order.confirmed_at,
        3 => o.order.fixed_at,
        4 => o
            .order
            .packages
            .iter()
            .flat_map(|p| &p.shipping)
            .filter_map(|r| r.shipping_date)
            .max()
            .and_then(|d| {
                d.and_hms_opt(0, 0, 0)?
                    .and_local_timezone(wire::jst())
                    .single()
            }),
        5 => o.shipping_reported_at,
        6 => o.settled_at,
        _ => None,
    }
}

/// The order as getOrder answers it: the wire model plus what Rakuten adds
/// (fields the daemon ignores, `null` for empty lists), the deletion flags on
/// every package and line, and the shape of the version asked (8 replaced
/// `goodsTax` by `reqPriceTax`).
fn render(o: &SimOrder, version: u64) -> Value {
    let mut v = serde_json::to_value(wire::order_to_wire(&o.order)).unwrap_or(Value::Null);
    let Some(order) = v.as_object_mut() else {
        return v;
    };
    order.insert("orderType".into(), json!(1));
    order.insert("remarks".into(), json!("[配送日時指定:]\n指定なし"));
    order.insert("carrierCode".into(), json!(0));
    order.insert(
        "DeliveryModel".into(),
        json!({"deliveryName": "宅配便", "deliveryClass": null}),
    );
    order.insert("PointModel".into(), json!({"usedPoint": 0}));
    order.insert("WrappingModel1".into(), Value::Null);
    order.insert("CouponModelList".into(), Value::Null);
    let tax = o.order.totals.goods.unwrap_or(0) * 10 / 110;
    if version < 8 {
        order.insert("goodsTax".into(), json!(tax));
    } else {
        order.insert("reqPriceTax".into(), json!(tax));
    }
    if let Some(Value::Array(packages)) = order.get_mut("PackageModelList") {
        for package in packages.iter_mut().filter_map(Value::as_object_mut) {
            package.insert("deliveryCompanyId".into(), json!("1001"));
            let basket = package.get("basketId").and_then(Value::as_i64);
            let package_deleted = basket.is_some_and(|b| o.deleted_packages.contains(&b));
            package.insert(
                "packageDeleteFlag".into(),
                json!(i64::from(package_deleted)),
            );
            if matches!(package.get("ShippingModelList"), Some(Value::Array(rows)) if rows.is_empty())
            {
                package.insert("ShippingModelList".into(), Value::Null);
            }
            if let Some(Value::Array(items)) = package.get_mut("ItemModelList") {
                for item in items.iter_mut().filter_map(Value::as_object_mut) {
                    let line = item.get("itemDetailId").and_then(Value::as_i64);
                    let deleted = line.is_some_and(|l| o.deleted_items.contains(&l));
                    item.insert("deleteItemFlag".into(), json!(i64::from(deleted)));
                    item.insert("taxRate".into(), json!(0.1));
                    item.insert("pointRate".into(), json!(1));
                    item.insert("selectedChoice".into(), Value::Null);
                    if item.get("itemNumber").is_some_and(Value::is_null) {
                        item.insert("itemNumber".into(), json!(""));
                    }
                    if version < 7 {
                        item.remove("SkuModelList");
                    } else if !item.contains_key("SkuModelList") {
                        item.insert("SkuModelList".into(), Value::Null);
                    }
                }
            }
        }
    }
    if o.corrupt {
        // A line whose quantity is not a number: unreadable, yet the order
        // number is intact so the client can name the order.
        if let Some(item) = order
            .get_mut("PackageModelList")
            .and_then(|p| p.get_mut(0))
            .and_then(|p| p.get_mut("ItemModelList"))
            .and_then(|i| i.get_mut(0))
            .and_then(Value::as_object_mut)
        {
            item.insert("units".into(), json!("many"));
        } else {
            order.insert("orderProgress".into(), json!("unknown"));
        }
    }
    v
}

fn info(code: &str, text: &str) -> RakutenMessage {
    RakutenMessage::new(MESSAGE_INFO, code, text)
}

fn messages_answer(status: u16, messages: Vec<RakutenMessage>) -> Answer {
    Answer {
        status,
        body: json!({ "MessageModelList": messages }),
    }
}

fn search_error(problems: Problems) -> Answer {
    Answer {
        status: 400,
        body: json!({
            "orderNumberList": null,
            "MessageModelList": problems.list,
            "PaginationResponseModel": null,
        }),
    }
}

fn get_order_error(problems: Problems) -> Answer {
    Answer {
        status: 400,
        body: json!({
            "MessageModelList": problems.list,
            "OrderModelList": null,
            "version": null,
        }),
    }
}

mod problems;
mod shipping;
/// searchOrder's `dateType` (1 to 6).
fn search_date_type(req: &serde_json::Map<String, Value>, problems: &mut Problems) -> Option<u64> {
    match present(req, "dateType") {
        None => {
            problems.missing("dateType");
            None
        }
        Some(v) => match v.as_u64().filter(|t| (1..=6).contains(t)) {
            Some(t) => Some(t),
            None => {
                problems.format("dateType");
                None
            }
        },
    }
}

/// searchOrder's `orderProgressList`, when given.
fn search_progress(
    req: &serde_json::Map<String, Value>,
    problems: &mut Problems,
) -> Option<Vec<Progress>> {
    match present(req, "orderProgressList") {
        None => None,
        Some(v) => {
            let codes: Option<Vec<Progress>> = v.as_array().and_then(|list| {
                list.iter()
                    .map(|c| {
                        let code = u16::try_from(c.as_u64()?).ok()?;
                        match Progress::from_code(code) {
                            Progress::Unknown(_) => None,
                            known => Some(known),
                        }
                    })
                    .collect()
            });
            if codes.is_none() {
                problems.format("orderProgressList");
            }
            codes
        }
    }
}

/// One page of the hits, oldest first (or newest first).
fn search_page(
    mut hits: Vec<(DateTime<FixedOffset>, &str)>,
    page_size: u64,
    page: u64,
    descending: bool,
) -> Answer {
    hits.sort();
    if descending {
        hits.reverse();
    }
    let total = hits.len() as u64;
    let total_pages = total.div_ceil(page_size);
    let skip = (page - 1).saturating_mul(page_size);
    let numbers: Vec<&str> = hits
        .iter()
        .skip(usize::try_from(skip).unwrap_or(usize::MAX))
        .take(usize::try_from(page_size).unwrap_or(usize::MAX))
        .map(|(_, n)| *n)
        .collect();
    Answer {
        status: 200,
        body: json!({
            "orderNumberList": numbers,
            "MessageModelList": [info(wire::SEARCH_ORDER_FOUND, "注文検索に成功しました。")],
            "PaginationResponseModel": {
                "totalRecordsAmount": total,
                "totalPages": total_pages,
                "requestPage": page,
            },
        }),
    }
}

/// Applies one planned row to its basket; answers the row's message.
fn apply_row(package: &mut Package, step: shipping::RowStep, next_id: &mut i64) -> RakutenMessage {
    let (code, text, id) = match step.action {
        RowAction::Add => {
            let id = *next_id;
            *next_id += 1;
            let mut row = ShippingRow {
                shipping_detail_id: id,
                delivery_company: String::new(),
                shipping_number: None,
                shipping_date: None,
            };
            step.change.apply(&mut row);
            package.shipping.push(row);
            (
                wire::SHIPPING_ADDED,
                "発送情報の追加設定が完了しました。",
                id,
            )
        }
        RowAction::Update(id) => {
            if let Some(row) = package
                .shipping
                .iter_mut()
                .find(|r| r.shipping_detail_id == id)
            {
                step.change.apply(row);
            }
            (
                wire::SHIPPING_UPDATED,
                "発送情報の更新設定が完了しました。",
                id,
            )
        }
        RowAction::Delete(id) => {
            package.shipping.retain(|r| r.shipping_detail_id != id);
            (
                wire::SHIPPING_DELETED,
                "発送情報の削除設定が完了しました。",
                id,
            )
        }
    };
    let mut m = RakutenMessage::new(MESSAGE_INFO, code, text);
    m.data_number = Some(step.data_number);
    m.shipping_detail_id = Some(id);
    m
}

#[cfg(test)]
mod tests;
