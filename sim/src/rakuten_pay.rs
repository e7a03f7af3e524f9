//! A Rakuten Pay order API simulator over real HTTP: `searchOrder`,
//! `getOrder`, `confirmOrder`, `updateOrderShipping`, the license-key
//! expiry, and the shop's items and stock (`items.search`, the Inventory
//! API's `bulk-upsert` and `bulk-get`), behind an ESA-checking gateway.
//!
//! It is written from the wire contracts (`rakuten-pay.md`,
//! `rakuten-inventory.md`) in Rakuten's own words, so that ordersync's
//! client is driven against what Rakuten does rather than against its own
//! idea of it, awkward parts included: the strict
//! `+0900` datetime format, `null` lists, `-9999` amounts, per-order confirm
//! results judged by `messageType`, expiring license keys (`ES01-01`), the
//! nightly maintenance 503, and orders that move on their own (200 → 300,
//! 800 → 900, 400 → 300) on a clock the tests drive with
//! [`RakutenSimHandle::advance_clock`].
//!
//! Layout: [`wire`] is the order API's JSON in Rakuten's names (the order
//! model, messages, code tables, datetimes); `esa` the authorization header;
//! `state` the back office without I/O (the status machine and every
//! endpoint's rules); `inventory` the items and their stock, which Rakuten's
//! own orders take from; `api` the HTTP surface; `order` what a test places.
//! Where the official spec (behind the RMS login) is not public the
//! simulator guesses, and says so: the message codes marked "[sim guess]" in
//! [`wire::codes`], and the inventory guesses in `inventory`'s docs.

mod api;
pub mod esa;
mod inventory;
mod order;
mod state;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeDelta};
use tokio::net::TcpListener;

use crate::harness::{self, SimClock};

pub use inventory::{
    BUYING_CLUB_CODES, CatalogItem, CatalogVariant, GETS_PER_SECOND, InventoryStats, ItemType,
    MAX_GET, MAX_UPSERT, SoldOut, UPSERTS_PER_SECOND,
};
pub use order::{NewItem, NewOrder, NewPackage, OrderEdit, default_customer};
use state::Timing;
pub use state::{
    Endpoint, Fault, MAX_LOOKBACK_DAYS, MAX_ORDER_NUMBERS, MAX_PAGE_SIZE, MAX_SEARCH_HITS,
    MAX_SHIPPING_ROWS, MAX_VERSION, MAX_WINDOW_DAYS, MIN_VERSION, SimState, SimStats,
    UNCONFIRMED_CANCEL_DAYS,
};
pub use wire::{
    ItemModel, OrderModel, OrderProgress, PackageModel, PersonModel, SettlementModel,
    ShippingModel, SkuModel,
};

/// How the simulated Rakuten behaves; [`Default`] suits tests (delays that
/// only pass when the test advances the clock), [`RakutenSimConfig::realistic`]
/// suits a demo against a real daemon.
#[derive(Debug, Clone)]
pub struct RakutenSimConfig {
    /// The `serviceSecret` the gateway accepts.
    pub service_secret: String,
    /// The `licenseKey` the gateway accepts, valid from the start.
    pub license_key: String,
    /// How long `license_key` works, from the simulator's start (90 days at Rakuten).
    pub license_valid_for: Duration,
    /// 200 → 300 after confirmation (Rakuten's processing: seconds for a
    /// card, up to 14 days for a convenience-store prepayment).
    pub processing_delay: Duration,
    /// 800 → 900.
    pub cancel_delay: Duration,
    /// 400 → 300 (an edit is confirmed).
    pub edit_delay: Duration,
    /// 500 → 600 → 700, each after this long; `None` keeps shipped orders at 500.
    pub payment_delay: Option<Duration>,
    /// Where the simulator's clock starts; `None` is the real time.
    pub start_at: Option<DateTime<FixedOffset>>,
    /// How long a newly registered item takes to reach `items.search` (and a
    /// deleted one to leave it): up to 24 hours at Rakuten.
    pub search_lag: Duration,
    /// The API functions not ticked for `license_key` in RMS (利用機能編集):
    /// each answers `401 ES01-01` while the others work. Default none.
    pub unticked_functions: Vec<Endpoint>,
    /// The code `bulk-upsert` refuses a 頒布会 (`BUYING_CLUB`) entry with:
    /// the contract names both `IE1102` and `IE1105` without their triggers
    /// (\[guess\]). Default `IE1102`.
    pub buying_club_code: &'static str,
}

impl Default for RakutenSimConfig {
    fn default() -> Self {
        RakutenSimConfig {
            service_secret: "SP123456_sim-service-secret".to_string(),
            license_key: "SL123456_sim-license-key".to_string(),
            license_valid_for: Duration::from_secs(90 * 24 * 3600),
            processing_delay: Duration::from_secs(5 * 60),
            cancel_delay: Duration::from_secs(5 * 60),
            edit_delay: Duration::from_secs(5 * 60),
            payment_delay: None,
            start_at: None,
            search_lag: Duration::from_secs(24 * 3600),
            unticked_functions: Vec::new(),
            buying_club_code: BUYING_CLUB_CODES[0],
        }
    }
}

impl RakutenSimConfig {
    /// Delays of human scale for `ordersync sim`/`demo` (the real clock runs).
    pub fn realistic() -> Self {
        RakutenSimConfig {
            processing_delay: Duration::from_secs(30),
            cancel_delay: Duration::from_secs(60),
            edit_delay: Duration::from_secs(60),
            payment_delay: Some(Duration::from_secs(10 * 60)),
            ..RakutenSimConfig::default()
        }
    }
}

/// Serves the simulator on `listener` until the handle is shut down or dropped.
pub async fn start(
    listener: TcpListener,
    cfg: RakutenSimConfig,
) -> std::io::Result<RakutenSimHandle> {
    let mut addr = listener.local_addr()?;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let clock = SimClock::starting_at(cfg.start_at);
    let now = clock.now();
    let delta = |d: Duration| TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX);
    let timing = Timing {
        processing: delta(cfg.processing_delay),
        cancel: delta(cfg.cancel_delay),
        edit: delta(cfg.edit_delay),
        payment: cfg.payment_delay.map(delta),
    };
    let expires = now
        .checked_add_signed(delta(cfg.license_valid_for))
        .unwrap_or(now + TimeDelta::days(3650));
    let mut state = SimState::new(
        timing,
        cfg.service_secret.clone(),
        cfg.license_key.clone(),
        expires,
        now,
        delta(cfg.search_lag),
    );
    for function in &cfg.unticked_functions {
        state.set_permission(*function, false);
    }
    state.inventory.buying_club_code = cfg.buying_club_code;
    let shared = Arc::new(Shared::new(state, clock, cfg));
    shared
        .tasks
        .serve(listener, api::router(shared.clone()), "rakuten");
    Ok(RakutenSimHandle { shared, addr })
}

/// Controls a running simulator. Dropping it stops the server.
pub type RakutenSimHandle = harness::SimHandle<Shared>;

impl RakutenSimHandle {
    /// `{base}/es/2.0/order`, for config `api_base_url`.
    pub fn api_base_url(&self) -> String {
        format!("{}{}", self.base_url(), api::ORDER_API_PATH)
    }

    /// `{base}/es/1.0/license-management`, for config `license_api_url`.
    pub fn license_api_url(&self) -> String {
        format!("{}{}", self.base_url(), api::LICENSE_API_PATH)
    }

    /// The configured `serviceSecret`.
    pub fn service_secret(&self) -> &str {
        &self.shared.cfg.service_secret
    }

    /// The configured `licenseKey`.
    pub fn license_key(&self) -> &str {
        &self.shared.cfg.license_key
    }

    /// The `Authorization` header a shop with the configured credentials
    /// sends ([`esa::authorization`]).
    pub fn authorization(&self) -> String {
        esa::authorization(self.service_secret(), self.license_key())
    }

    /// The simulator's clock (JST).
    pub fn now(&self) -> DateTime<FixedOffset> {
        self.shared.lock().now()
    }

    /// Moves the simulator's clock forward; transitions that fall due happen
    /// (stamped with their due time) the next time the state is looked at.
    pub fn advance_clock(&self, by: Duration) {
        self.shared.advance_clock(by);
    }

    /// A fresh order number (`123456-YYYYMMDD-000000NN`, today at the simulator).
    pub fn next_order_number(&self) -> String {
        self.shared.with_state(|s, now| s.next_order_number(now))
    }

    /// An order arrives (replacing one of the same number); returns its number.
    ///
    /// # Panics
    /// When a line's item keeps stock at Rakuten and too little is left:
    /// a buyer's order that may be refused is [`Self::try_place_order`].
    pub fn place_order(&self, order: NewOrder) -> String {
        self.shared.with_state(|s, now| s.place(order, now))
    }

    /// A buyer orders: refused (nothing placed, nothing taken) when a line's
    /// variant has too little stock and takes no back orders.
    pub fn try_place_order(&self, order: NewOrder) -> Result<String, SoldOut> {
        self.shared.with_state(|s, now| s.try_place(order, now))
    }

    /// `{base}/es/2.0`, for config `inventory_api_url` (items.search and the
    /// Inventory API).
    pub fn inventory_api_url(&self) -> String {
        format!("{}{}", self.base_url(), api::INVENTORY_API_PATH)
    }

    /// The shop registers an item in RMS long ago: it is in `items.search`.
    pub fn list_item(&self, item: CatalogItem) {
        self.shared
            .with_state(|s, now| s.inventory.list(item, true, now));
    }

    /// The shop registers a new item now: `items.search` shows it only after
    /// `search_lag`; its stock can be set at once.
    pub fn list_new_item(&self, item: CatalogItem) {
        self.shared
            .with_state(|s, now| s.inventory.list(item, false, now));
    }

    /// The shop deletes an item: its stock is gone, the search forgets it
    /// after `search_lag` (showing its `manageNumber` alone until then).
    pub fn delist_item(&self, manage_number: &str) -> bool {
        self.shared
            .with_state(|s, now| s.inventory.delist(manage_number, now))
    }

    /// The shop changes an item's type in RMS (e.g. makes it a 予約商品):
    /// `items.search` shows the new type and `updated` at once, and
    /// `bulk-upsert` refuses its entries from then on. `false` when no such
    /// item is live.
    pub fn set_item_type(&self, manage_number: &str, item_type: ItemType) -> bool {
        self.shared
            .with_state(|s, now| s.inventory.set_item_type(manage_number, item_type, now))
    }

    /// `items.search` lists a result without `item` at `manage_number`'s
    /// place (\[guess\]: the contract does not say when Rakuten sends one, only
    /// that a client must read the rest of the page).
    pub fn list_result_without_item(&self, manage_number: &str) {
        self.shared
            .with_state(|s, now| s.inventory.list_without_item(manage_number, now));
    }

    /// The shop edits a quantity by hand in RMS.
    pub fn set_quantity(&self, manage_number: &str, variant_id: &str, quantity: i64) {
        self.shared.with_state(|s, now| {
            s.inventory
                .set_quantity(manage_number, variant_id, quantity, now)
        });
    }

    /// The quantity Rakuten shows for a pair (`None`: it holds none).
    pub fn quantity(&self, manage_number: &str, variant_id: &str) -> Option<i64> {
        self.shared
            .with_state(|s, _| s.inventory.quantity(manage_number, variant_id))
    }

    /// The inventory endpoints' counters.
    pub fn inventory_stats(&self) -> InventoryStats {
        self.shared.lock().state.inventory.stats.clone()
    }

    /// Forces a status, as RMS or Rakuten might, and schedules what follows
    /// it (200 → 300, 400 → 300, 800 → 900, 500 → 600 → 700 when payment is
    /// simulated). `false` when the order does not exist.
    pub fn set_progress(&self, order_number: &str, progress: OrderProgress) -> bool {
        self.shared
            .with_state(|s, now| s.set_progress(order_number, progress, now))
    }

    /// The customer or Rakuten cancels: 100/200/300 → 800, then 900 after
    /// `cancel_delay`. `false` in any other status.
    pub fn cancel(&self, order_number: &str) -> bool {
        self.shared.with_state(|s, now| s.cancel(order_number, now))
    }

    /// An edit in RMS of an order in 300: applied, 300 → 400, back to 300
    /// after `edit_delay`. `false` when not in 300 or nothing matched.
    pub fn edit(&self, order_number: &str, edit: OrderEdit) -> bool {
        self.shared
            .with_state(|s, now| s.edit(order_number, edit, now))
    }

    /// The shop sets an undetermined postage (`-9999` until then).
    pub fn set_postage(&self, order_number: &str, yen: i64) -> bool {
        self.shared
            .with_state(|s, _| s.set_postage(order_number, yen))
    }

    /// getOrder renders this order unreadably from now on (a line's `units`
    /// becomes a word), to test that a client refuses the whole answer.
    pub fn corrupt_order(&self, order_number: &str) -> bool {
        self.shared.with_state(|s, _| s.corrupt(order_number))
    }

    /// Ticks (`true`) or unticks `license.expiryDate.get` for the configured
    /// key: without it the expiry call answers `401 ES01-01` while orders work.
    pub fn set_license_expiry_permission(&self, allowed: bool) {
        self.set_function_permission(Endpoint::License, allowed);
    }

    /// Ticks (`true`) or unticks the API function behind `endpoint` for the
    /// configured key in RMS: unticked, it answers `401 ES01-01` (as a bad
    /// key does) while the other functions work.
    pub fn set_function_permission(&self, endpoint: Endpoint, allowed: bool) {
        self.shared
            .with_state(|s, _| s.set_permission(endpoint, allowed));
    }

    /// When the configured license key stops working (`GA0001` from then on).
    pub fn set_license_expiry(&self, at: DateTime<FixedOffset>) {
        self.shared.with_state(|s, _| s.set_license_expiry(at));
    }

    /// Issues another license key that starts working after `active_after`
    /// (15–30 minutes at Rakuten) and expires at `expires_at`; the old key
    /// keeps working until its own expiry.
    pub fn add_license_key(
        &self,
        key: &str,
        active_after: Duration,
        expires_at: DateTime<FixedOffset>,
    ) {
        self.shared.with_state(|s, now| {
            let from = now + TimeDelta::from_std(active_after).unwrap_or(TimeDelta::zero());
            s.add_license_key(key.to_string(), from, expires_at);
        });
    }

    /// The next `times` requests to `endpoint` suffer `fault` before normal handling.
    pub fn inject(&self, endpoint: Endpoint, fault: Fault, times: u32) {
        self.shared
            .with_state(|s, _| s.inject(endpoint, fault, times));
    }

    /// The nightly maintenance window: every request answers 503 until `false`.
    pub fn set_maintenance(&self, on: bool) {
        self.shared.with_state(|s, _| s.maintenance = on);
    }

    /// Drops every injected fault not yet used and ends maintenance.
    pub fn clear_faults(&self) {
        self.shared.with_state(|s, _| s.clear_faults());
    }

    /// A copy of the counters and recordings.
    pub fn stats(&self) -> SimStats {
        self.shared.lock().state.stats.clone()
    }

    /// The order as Rakuten has it now (due transitions applied).
    pub fn order(&self, order_number: &str) -> Option<OrderModel> {
        self.shared
            .with_state(|s, _| s.order(order_number).cloned())
    }

    /// Waits until the order has `progress`.
    pub async fn wait_for_progress(
        &self,
        order_number: &str,
        progress: OrderProgress,
        deadline: Duration,
    ) -> bool {
        self.wait_until(deadline, |v| v.progress(order_number) == Some(progress))
            .await
    }
}

/// Read access to the state inside [`RakutenSimHandle::wait_until`](harness::SimHandle::wait_until).
pub type SimView<'a> = harness::View<'a, SimState>;

impl SimView<'_> {
    /// The order as Rakuten has it now.
    pub fn order(&self, order_number: &str) -> Option<&OrderModel> {
        self.state.order(order_number)
    }

    /// The order's current status.
    pub fn progress(&self, order_number: &str) -> Option<OrderProgress> {
        self.state.order(order_number).map(|o| o.order_progress)
    }

    /// Every order, by order number.
    pub fn orders(&self) -> impl Iterator<Item = &OrderModel> {
        self.state.orders()
    }

    /// The counters and recordings so far.
    pub fn stats(&self) -> &SimStats {
        &self.state.stats
    }

    /// The quantity Rakuten shows for a pair (`None`: it holds none).
    pub fn quantity(&self, manage_number: &str, variant_id: &str) -> Option<i64> {
        self.state.inventory.quantity(manage_number, variant_id)
    }
}

/// What the server and the handle share.
type Shared = harness::Clocked<SimState, RakutenSimConfig>;

impl harness::Settle for SimState {
    fn settle(&mut self, now: DateTime<FixedOffset>) {
        SimState::settle(self, now);
    }
}

#[cfg(test)]
mod tests;
