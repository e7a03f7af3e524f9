//! A faithful Kuroneko Atobarai simulator over real HTTP: the six functions
//! (KAARA credit, KAARS credit result, KAAST status, KAASL shipment, KAACL
//! cancel, KAAKK reduce) as form POSTs answering `<return>` XML.
//!
//! It exists so that the daemon's tests, `ordersync demo` and `ordersync sim`
//! drive the real Kuroneko client against the behaviour written in Kuroneko
//! Atobarai's wire contract (`providers/kuroneko-atobarai.md`), awkward parts
//! included: HTTP 200 for every business error, declines that are not
//! errors, reviews (審査中) that settle later, an OK that turns NG when
//! several orders go to one address, failures right after a credit request
//! (the seed's warning), and transactions that move 3 → 10 → 11 → 12 on a
//! clock the tests drive with [`KuronekoSimHandle::advance_clock`].
//!
//! Scoring hooks (deterministic): a name containing the review marker (審査)
//! is under review and resolves after `review_delay` to OK, or to NG when the
//! name also contains the NG marker; a name with the NG marker is NG; a total
//! above `over_limit_amount` is over the limit; otherwise OK.
//!
//! Everything here is written from the contract, not from ordersync's
//! adapter: the form fields and `<return>` XML ([`wire`]), what a field may
//! hold (`text`), the code tables (`codes`: results, statuses, warnings,
//! processDiv, the error numbers of Yamato's catalogue).
//!
//! Layout: `state` holds the transactions and the common checks without I/O,
//! `ops` and `shipment` the functions, `fields` the field checks KAARA and
//! KAAKK share; `api` is the HTTP surface. Where no public source says what
//! Yamato does, `state`'s module docs list the simulator's guesses.

mod api;
mod codes;
mod fields;
mod ops;
mod shipment;
mod state;
mod text;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeDelta};
use tokio::net::TcpListener;

use crate::harness::{self, SimClock};

pub use codes::{KuronekoCreditResult, KuronekoProcessDiv, KuronekoStatus, KuronekoWarning};
pub use fields::{ItemLine, KNOWN_POSTCODES, postcode_exists};
pub use state::{Fault, FlipRule, MAX_ORDERS_PER_TRACKING_NUMBER, OrderSnapshot, SimStats};
use state::{Scoring, SimState, Timing};
pub use wire::{Endpoint, Form, decode_form, form_value};

/// How the simulated Yamato behaves; [`Default`] suits tests (delays that
/// only pass when the test advances the clock), [`KuronekoSimConfig::realistic`]
/// a demo against a real daemon.
#[derive(Debug, Clone)]
pub struct KuronekoSimConfig {
    /// The 加盟店コード the simulator accepts (11 digits).
    pub store_code: String,
    /// The password it accepts (1–8 letters or digits).
    pub password: String,
    /// Totals above this are answered 2 (over limit).
    pub over_limit_amount: i64,
    /// A name containing this is answered 1 (NG); compared in full-width.
    pub ng_marker: String,
    /// A name containing this is answered 3 (under review); compared in full-width.
    pub review_marker: String,
    /// How long a review lasts.
    pub review_delay: Duration,
    /// The OK → NG flip for repeated orders to one address; `None` never flips.
    pub flip: Option<FlipRule>,
    /// KAASL, KAACL and KAAKK within this long of the order's KAARA answer
    /// `err0001` (the seed: "right after the order, the next step may fail").
    pub settle_window: Duration,
    /// 3 → 10 (delivered, sales confirmed); `None` keeps shipped orders at 3.
    pub sales_delay: Option<Duration>,
    /// 10 → 11 (invoice issued).
    pub invoice_delay: Option<Duration>,
    /// 11 → 12 (paid).
    pub payment_delay: Option<Duration>,
    /// Where the simulator's clock starts; `None` is the real time.
    pub start_at: Option<DateTime<FixedOffset>>,
    /// The merchant has the 同梱 contract (invoice in the parcel): KAARA
    /// takes sendDiv 2 and KAAKK sendDiv 1; without it they are refused
    /// (`kaara052E`, `kaakk055E`).
    pub enclosed_invoice_contract: bool,
}

impl Default for KuronekoSimConfig {
    fn default() -> Self {
        KuronekoSimConfig {
            store_code: "01234567890".to_string(),
            password: "pass1234".to_string(),
            over_limit_amount: 55_000,
            ng_marker: "NG".to_string(),
            review_marker: "審査".to_string(),
            review_delay: Duration::from_secs(30 * 60),
            flip: None,
            settle_window: Duration::from_secs(60),
            sales_delay: Some(Duration::from_secs(2 * 24 * 3600)),
            invoice_delay: Some(Duration::from_secs(24 * 3600)),
            payment_delay: Some(Duration::from_secs(14 * 24 * 3600)),
            start_at: None,
            enclosed_invoice_contract: false,
        }
    }
}

impl KuronekoSimConfig {
    /// Delays of human scale for `ordersync sim`/`demo` (the real clock runs).
    pub fn realistic() -> Self {
        KuronekoSimConfig {
            review_delay: Duration::from_secs(60),
            settle_window: Duration::from_secs(10),
            sales_delay: Some(Duration::from_secs(5 * 60)),
            invoice_delay: Some(Duration::from_secs(5 * 60)),
            payment_delay: Some(Duration::from_secs(10 * 60)),
            ..KuronekoSimConfig::default()
        }
    }
}

/// Serves the simulator on `listener` until the handle is shut down or dropped.
pub async fn start(
    listener: TcpListener,
    cfg: KuronekoSimConfig,
) -> std::io::Result<KuronekoSimHandle> {
    let mut addr = listener.local_addr()?;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let clock = SimClock::starting_at(cfg.start_at);
    let scoring = Scoring {
        over_limit_amount: cfg.over_limit_amount,
        ng_marker: text::marker_full_width(&cfg.ng_marker),
        review_marker: text::marker_full_width(&cfg.review_marker),
        review_delay: delta(cfg.review_delay),
        flip: cfg
            .flip
            .map(|f| (f.orders, delta(f.window), delta(f.after))),
    };
    let timing = Timing {
        settle_window: delta(cfg.settle_window),
        sales: cfg.sales_delay.map(delta),
        invoice: cfg.invoice_delay.map(delta),
        payment: cfg.payment_delay.map(delta),
    };
    let mut state = SimState::new(
        cfg.store_code.clone(),
        cfg.password.clone(),
        scoring,
        timing,
    );
    state.enclosed_invoice = cfg.enclosed_invoice_contract;
    let shared = Arc::new(Shared::new(state, clock, cfg));
    shared
        .tasks
        .serve(listener, api::router(shared.clone()), "kuroneko");
    Ok(KuronekoSimHandle { shared, addr })
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

/// Controls a running simulator. Dropping it stops the server.
pub type KuronekoSimHandle = harness::SimHandle<Shared>;

impl KuronekoSimHandle {
    /// The store code the simulator accepts.
    pub fn store_code(&self) -> &str {
        &self.shared.cfg.store_code
    }

    /// The password the simulator accepts.
    pub fn password(&self) -> &str {
        &self.shared.cfg.password
    }

    /// The simulator's clock (JST, whole seconds).
    pub fn now(&self) -> DateTime<FixedOffset> {
        self.shared.lock().now()
    }

    /// Moves the simulator's clock forward; transitions that fall due happen
    /// (stamped with their due time) before anything else looks at the state.
    pub fn advance_clock(&self, by: Duration) {
        self.shared.advance_clock(by);
    }

    /// The transaction as Yamato has it now (due transitions applied).
    pub fn order(&self, order_no: &str) -> Option<OrderSnapshot> {
        self.shared.with_state(|s, now| s.order(order_no, now))
    }

    /// Forces a status, as Yamato's staff or the delivery might (e.g. 5
    /// needs investigation), and schedules what follows it. `false` when the
    /// order does not exist.
    pub fn set_status(&self, order_no: &str, status: KuronekoStatus) -> bool {
        self.shared
            .with_state(|s, now| s.set_status(order_no, status, now))
    }

    /// Changes the password Yamato accepts, as a merchant who changes it
    /// on Yamato's merchant page without telling the daemon.
    pub fn set_password(&self, password: &str) {
        let password = password.to_string();
        self.shared.with_state(move |s, _| s.set_password(password));
    }

    /// Forces the warning flag; `None` goes back to the computed one.
    pub fn set_warning(&self, order_no: &str, warning: Option<KuronekoWarning>) -> bool {
        self.shared
            .with_state(|s, _| s.set_warning(order_no, warning))
    }

    /// The next `times` requests to `endpoint` suffer `fault` before normal handling.
    pub fn inject(&self, endpoint: Endpoint, fault: Fault, times: u32) {
        self.shared
            .with_state(|s, _| s.inject(endpoint, fault, times));
    }

    /// Drops every injected fault not yet used.
    pub fn clear_faults(&self) {
        self.shared.with_state(|s, _| s.clear_faults());
    }

    /// A copy of the counters and recordings.
    pub fn stats(&self) -> SimStats {
        self.shared.lock().state.stats.clone()
    }
}

/// Read access to the state inside [`KuronekoSimHandle::wait_until`](harness::SimHandle::wait_until).
pub type SimView<'a> = harness::View<'a, SimState>;

impl SimView<'_> {
    /// The transaction as Yamato has it now.
    pub fn order(&self, order_no: &str) -> Option<OrderSnapshot> {
        self.state.order(order_no, self.now)
    }

    /// Every transaction, by orderNo.
    pub fn orders(&self) -> Vec<OrderSnapshot> {
        self.state.orders(self.now)
    }

    /// The counters and recordings so far.
    pub fn stats(&self) -> &SimStats {
        &self.state.stats
    }
}

/// What the server and the handle share.
type Shared = harness::Clocked<SimState, KuronekoSimConfig>;

impl harness::Settle for SimState {
    fn settle(&mut self, now: DateTime<FixedOffset>) {
        SimState::settle(self, now);
    }
}

#[cfg(test)]
mod tests;
