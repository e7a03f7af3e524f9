//! A Yahoo!ショッピング store API simulator over real HTTP: YConnect v2's
//! authorization-code flow, the public-key header (`X-sws-signature`) and
//! its 12-hour rule, the IP allow-list of the order APIs, orderCount,
//! orderList, orderInfo, orderChangeHistory and the order write calls, and
//! getStock/setStock, behind one query a second per URL, a daily quota and
//! maintenance answers.
//!
//! It is written from the wire contract (`yahoo-shopping.md`) alone, in
//! Yahoo!'s own words, so that ordersync's adapter meets the three facts
//! most likely to break a first implementation:
//! - a missing or wrong key header gives **no error**: the answer only lacks
//!   `X-SWS-Authorize-Status: authorized`, and order calls fail with
//!   `401 px-04102` once 12 hours have passed since the authorization;
//! - orderList hides orders inside the buyer's 10-minute cancel window
//!   (`ReadOnlyMode`) and fraud holds (`FraudHoldDisplayType`), a released
//!   hold shows up by `PublicationTime`, and there is no update-time
//!   condition: changes are found by comparing `LastUpdateTime`;
//! - setStock accepts a code Yahoo! does not know with a 200, keeps the
//!   quantity and binds it when the item is registered; only getStock's
//!   `Status 0` tells.
//!
//! Evidence: Yahoo!'s developer pages (order and stock APIs, YConnect v2,
//! FAQ), a transcription of the official field tables, public clients that
//! call the live API, integrators' manuals (the contract's Sources).
//!
//! Where the evidence is thin (\[guess\] in the contract), the behaviour is
//! a field of [`Settings`] or a constant of [`settings`], with the
//! contract's choice as default, so that a correction is one line:
//! - the ±600 s skew of the signature's time;
//! - the 60 s lock-out after a call too soon (and that the limit counts per
//!   path);
//! - `400 od99999` for an illegal transition, and its message for other
//!   operations than `CancelOrder`;
//! - `400` for a refused stock request (`st-021xx`);
//! - `503 ed-00002` for maintenance, stock and order APIs alike;
//! - `403` for `px-14303` (no key version), `px-14304` (another store) and
//!   `px-04303` (no order-API application); the message of `px-04306`;
//! - ship status 0 → 3 refused; writes inside the cancel window refused;
//! - the values of `FraudHoldStatus`; the `PublicationTime` of an order never
//!   held (its `OrderTime`);
//! - the `CancelReason` of a buyer's cancel (100) and the `UpdatePerson` of
//!   an API change;
//! - `od90166` for a missing `orderId` of orderChangeHistory;
//! - unknown `Field`s and conditions, and `Result` over 2000, refused
//!   (`od90101`) rather than ignored or cut.
//!
//! Not named by the contract and chosen here: a relative setStock on
//! unlimited stock leaves it unlimited; a `+` sent unencoded (a space)
//! sets the quantity. The error shape (`<Error>` root, or wrapped in
//! `<Result><Status>NG</Status>`), the `xmlns` on platform errors and the
//! form of `OrderTime` are settings too: the contract says Yahoo! answers
//! each way.
//!
//! Not modelled: the warnings `od91704` (asynchronous cancel), `od91130`
//! (stock link), `od91123`; store-side order splits; the auto-完了 180
//! days after a first 完了; `ed-10001` of setStock (`ed-10002` is
//! [`Fault::ReadBackFailed`]).
//!
//! Layout: `settings` the settings; `auth` YConnect; `keys` the store's RSA
//! keys and the signature check; `order` an order and its fields; `orders`
//! the order book and the read calls; `filter` orderList's conditions;
//! `writes` the write calls; `stock` the stock calls; `state` the store and
//! the gate; `api` the HTTP surface; `xml` the answers' XML.

mod api;
mod auth;
mod filter;
mod keys;
mod order;
mod orders;
pub mod settings;
mod state;
mod stock;
mod writes;
mod xml;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use ipnet::IpNet;
use tokio::net::TcpListener;

use crate::harness::{self, SimClock};

pub use api::MAX_BODY;
pub use auth::App;
pub use keys::{KeyError, MAX_ACTIVE_KEYS, encrypt_signature};
pub use order::{HistoryEntry, Line, NewItem, NewOrder, Order};
pub use orders::MAX_RESULT;
pub use settings::{OrderTimeFormat, Settings};
pub use state::{Endpoint, Fault, SimState, SimStats};
pub use stock::{MAX_CODES, MAX_QUANTITY, StockRow};
pub use writes::SHIP_COMPANY_CODES;

/// The simulated store and its app.
#[derive(Debug, Clone)]
pub struct YahooSimConfig {
    /// The store account (`seller_id`), the prefix of every `OrderId`.
    pub seller_id: String,
    /// The app registered at Yahoo! JAPAN.
    pub app: App,
    /// Source addresses registered for the order APIs (the order-API
    /// application); the stock API has no allow-list. Default loopback
    /// `127.0.0.1/32` and `::1/128`.
    pub allowed_sources: Vec<IpNet>,
    /// Lifetimes, limits and every \[guess\] of the contract.
    pub settings: Settings,
    /// Where the simulator's clock starts; `None` is the real time.
    pub start_at: Option<DateTime<FixedOffset>>,
}

impl Default for YahooSimConfig {
    fn default() -> Self {
        YahooSimConfig {
            seller_id: "simstore".to_string(),
            app: App {
                client_id: "dj00aiZpPXNpbXN0b3Jl".to_string(),
                client_secret: "sim-client-secret".to_string(),
                redirect_uris: vec!["http://127.0.0.1/callback".to_string()],
            },
            allowed_sources: ["127.0.0.1/32", "::1/128"]
                .iter()
                .filter_map(|n| n.parse().ok())
                .collect(),
            settings: Settings::default(),
            start_at: None,
        }
    }
}

/// What the server and the handle share.
pub type Shared = harness::Clocked<SimState, YahooSimConfig>;

/// Controls a running simulator. Dropping it stops the server.
pub type YahooSimHandle = harness::SimHandle<Shared>;

/// Serves the simulator on `listener` until the handle is shut down or
/// dropped; the store has key version 1 from the start.
pub async fn start(listener: TcpListener, cfg: YahooSimConfig) -> std::io::Result<YahooSimHandle> {
    let mut addr = listener.local_addr()?;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let clock = SimClock::starting_at(cfg.start_at);
    let state = SimState::new(
        cfg.settings.clone(),
        cfg.app.clone(),
        cfg.seller_id.clone(),
        cfg.allowed_sources.clone(),
        clock.now(),
    )
    .map_err(|e| std::io::Error::other(format!("store key: {e:?}")))?;
    let shared = Arc::new(Shared::new(state, clock, cfg));
    shared
        .tasks
        .serve(listener, api::router(shared.clone()), "yahoo-shopping");
    Ok(YahooSimHandle { shared, addr })
}

impl YahooSimHandle {
    /// `{base}/ShoppingWebService/V1/`, for the store API base URL.
    pub fn api_base_url(&self) -> String {
        format!("{}{}/", self.base_url(), api::API_PATH)
    }

    /// `{base}/yconnect/v2/authorization`, the page a person opens.
    pub fn authorization_url(&self) -> String {
        format!("{}{}/authorization", self.base_url(), api::AUTH_PATH)
    }

    /// `{base}/yconnect/v2/token`.
    pub fn token_url(&self) -> String {
        format!("{}{}/token", self.base_url(), api::AUTH_PATH)
    }

    /// The store account.
    pub fn seller_id(&self) -> &str {
        &self.shared.cfg.seller_id
    }

    /// The registered app.
    pub fn app(&self) -> &App {
        &self.shared.cfg.app
    }

    /// The simulator's clock (JST).
    pub fn now(&self) -> DateTime<FixedOffset> {
        self.shared.lock().now()
    }

    /// Moves the simulator's clock forward: tokens, codes, keys, the cancel
    /// window and the per-URL lock-out age with it.
    pub fn advance_clock(&self, by: Duration) {
        self.shared.advance_clock(by);
        self.shared.with_state(|s, _| s.pace_offset += by);
    }

    /// The public key of `version` as 暗号鍵管理 shows it (PEM, BEGIN/END
    /// lines included), or `None` when the store has no such key.
    pub fn public_key_pem(&self, version: u32) -> Option<String> {
        self.shared.with_state(|s, _| {
            s.keys
                .iter()
                .find(|k| k.version == version)
                .map(|k| k.public_pem.clone())
        })
    }

    /// When key `version` expires.
    pub fn key_expiry(&self, version: u32) -> Option<DateTime<FixedOffset>> {
        self.shared.with_state(|s, _| {
            s.keys
                .iter()
                .find(|k| k.version == version)
                .map(|k| k.expires_at)
        })
    }

    /// The store issues the next key version (valid for the key lifetime);
    /// refused while [`MAX_ACTIVE_KEYS`] are active.
    pub fn issue_key(&self) -> Result<u32, KeyError> {
        self.shared.with_state(|s, now| s.issue_key(now))
    }

    /// The store deletes key `version`; `false` when it had none.
    pub fn drop_key(&self, version: u32) -> bool {
        self.shared.with_state(|s, _| {
            let before = s.keys.len();
            s.keys.retain(|k| k.version != version);
            s.keys.len() != before
        })
    }

    /// A valid `X-sws-signature` for key `version` at the simulator's now,
    /// as a correct client builds it.
    pub fn signature(&self, version: u32) -> Option<String> {
        let pem = self.public_key_pem(version)?;
        let plain = format!("{}:{}", self.seller_id(), self.now().timestamp());
        encrypt_signature(&pem, &plain).ok()
    }

    /// The person refuses (`true`) or gives (`false`) consent on the
    /// authorization page.
    pub fn set_refuse_consent(&self, refuse: bool) {
        self.shared
            .with_state(|s, _| s.auth.refuse_consent = refuse);
    }

    /// The person revokes the app's consent (or changes the password): every
    /// refresh answers `400 invalid_grant`, every call `403 px-04307`.
    pub fn revoke(&self) {
        self.shared.with_state(|s, _| s.auth.revoke());
    }

    /// Gives (`true`) or takes away (`false`) the app's store scope
    /// (ストア向け操作関連の機能): without it every call answers `401
    /// insufficient_scope`.
    pub fn set_store_scope(&self, granted: bool) {
        self.shared.with_state(|s, _| s.store_scope = granted);
    }

    /// Whether the order-API application of the Client ID is approved:
    /// without it order calls answer `px-04303`, stock calls work.
    pub fn set_order_api_registered(&self, registered: bool) {
        self.shared
            .with_state(|s, _| s.order_api_registered = registered);
    }

    /// Replaces the order-API source allow-list.
    pub fn set_allowed_sources(&self, nets: Vec<IpNet>) {
        self.shared.with_state(|s, _| s.allowed_sources = nets);
    }

    /// A buyer's order arrives; returns its `OrderId`. Yahoo! takes its
    /// lines from the registered items' stock.
    pub fn place_order(&self, order: NewOrder) -> String {
        self.shared.with_state(|s, now| s.place(order, now))
    }

    /// The buyer cancels inside the 10-minute window (`4`, a buyer's
    /// `CancelReason`; the stock taken comes back). `false` outside the
    /// window, for a cancelled or unknown order.
    pub fn buyer_cancel(&self, order_id: &str) -> bool {
        self.shared.with_state(|s, now| {
            let window = chrono::TimeDelta::from_std(s.settings.cancel_window).unwrap_or_default();
            let Some(order) = s.book.orders.get(order_id) else {
                return false;
            };
            if order.status == 4 || !order.is_read_only(now, window) {
                return false;
            }
            let lines = order.items.clone();
            for line in &lines {
                let code = if line.sub_code.is_empty() {
                    line.item_id.clone()
                } else {
                    format!("{}:{}", line.item_id, line.sub_code)
                };
                if let Some(row) = s.stock.items.get_mut(&code) {
                    row.quantity = row
                        .quantity
                        .map(|q| q.saturating_add(i64::from(line.quantity)));
                }
            }
            s.book
                .change(order_id, "buyer", now, |o| {
                    o.status = 4;
                    o.cancel_reason = Some(settings::BUYER_CANCEL_REASON);
                })
                .unwrap_or(false)
        })
    }

    /// Fraud review releases a held order: it gets `PublicationTime` now
    /// and shows in orderList. `false` when it was not held.
    pub fn release_hold(&self, order_id: &str) -> bool {
        self.shared.with_state(|s, now| {
            if !s.book.orders.get(order_id).is_some_and(|o| o.held) {
                return false;
            }
            s.book
                .change(order_id, "system", now, |o| {
                    o.held = false;
                    o.publication_time = Some(now);
                })
                .unwrap_or(false)
        })
    }

    /// Yahoo! records the payment of a Yahoo!-handled method (`PayStatus
    /// 1`; a prepaid order moves to `ShipStatus 1`).
    pub fn pay(&self, order_id: &str) -> bool {
        self.shared.with_state(|s, now| {
            s.book
                .change(order_id, "system", now, |o| {
                    o.pay_status = 1;
                    o.pay_date = Some(now.date_naive());
                    if o.ship_status == 0 {
                        o.ship_status = 1;
                    }
                })
                .unwrap_or(false)
        })
    }

    /// The store changes a line's quantity in ストアクリエイターPro.
    pub fn set_line_quantity(&self, order_id: &str, line_id: u32, quantity: u32) -> bool {
        self.shared.with_state(|s, now| {
            s.book
                .change(order_id, "store-staff", now, |o| {
                    if let Some(line) = o.items.iter_mut().find(|l| l.line_id == line_id) {
                        line.quantity = quantity;
                    }
                })
                .unwrap_or(false)
        })
    }

    /// The card's capture period of an order is over (a ship status 3
    /// then warns `od91115`).
    pub fn expire_capture(&self, order_id: &str) -> bool {
        self.shared.with_state(|s, _| {
            s.book
                .orders
                .get_mut(order_id)
                .map(|o| o.capture_expired = true)
                .is_some()
        })
    }

    /// The order as Yahoo! has it now.
    pub fn order(&self, order_id: &str) -> Option<Order> {
        self.shared
            .with_state(|s, _| s.book.orders.get(order_id).cloned())
    }

    /// The store registers an item (`code` or `code:subcode`) with
    /// `quantity` (`None`: unlimited); a quantity setStock stored for the
    /// code before binds to it.
    pub fn register_item(&self, code: &str, quantity: Option<i64>) {
        self.shared
            .with_state(|s, now| s.stock.register(code, quantity, now));
    }

    /// A registered code's stock (`None`: no such item).
    pub fn stock(&self, code: &str) -> Option<StockRow> {
        self.shared
            .with_state(|s, _| s.stock.items.get(code).cloned())
    }

    /// What setStock stored for a code no item has.
    pub fn unbound_stock(&self, code: &str) -> Option<StockRow> {
        self.shared
            .with_state(|s, _| s.stock.unbound.get(code).cloned())
    }

    /// Maintenance of the order APIs (`ed-00002`) on or off.
    pub fn set_orders_maintenance(&self, on: bool) {
        self.shared.with_state(|s, _| s.orders_maintenance = on);
    }

    /// Maintenance of the stock API (ストアエディタ) on or off; the order
    /// APIs keep running.
    pub fn set_stock_maintenance(&self, on: bool) {
        self.shared.with_state(|s, _| s.stock_maintenance = on);
    }

    /// The next `times` calls to `endpoint` suffer `fault`.
    pub fn inject(&self, endpoint: Endpoint, fault: Fault, times: u32) {
        self.shared
            .with_state(|s, _| s.inject(endpoint, fault, times));
    }

    /// Waits until the order has `OrderStatus` `status`.
    pub async fn wait_for_status(&self, order_id: &str, status: u8, deadline: Duration) -> bool {
        self.wait_until(deadline, |v| {
            v.order(order_id).is_some_and(|o| o.status == status)
        })
        .await
    }

    /// A copy of the counters.
    pub fn stats(&self) -> SimStats {
        self.shared.lock().state.stats.clone()
    }
}

/// Read access to the state inside [`YahooSimHandle::wait_until`](harness::SimHandle::wait_until).
pub type SimView<'a> = harness::View<'a, SimState>;

impl SimView<'_> {
    /// The order as Yahoo! has it now.
    pub fn order(&self, order_id: &str) -> Option<&Order> {
        self.state.book.orders.get(order_id)
    }

    /// Every order, by `OrderId`.
    pub fn orders(&self) -> impl Iterator<Item = &Order> {
        self.state.book.orders.values()
    }

    /// A registered code's stock.
    pub fn stock(&self, code: &str) -> Option<&StockRow> {
        self.state.stock.items.get(code)
    }

    /// The counters so far.
    pub fn stats(&self) -> &SimStats {
        &self.state.stats
    }
}

#[cfg(test)]
mod tests;
