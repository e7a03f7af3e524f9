//! A faithful Atobarai.com (後払い.com) simulator over real HTTP: order
//! registration with its synchronous credit check (00), credit status (01),
//! the carrier master (02), the order-number map (03), tracking-number
//! registration (04), cancel requests (05) and order detail (09).
//!
//! It is written from the service's wire contract
//! (`providers/atobarai-com.md`), in the service's words, awkward parts
//! included: always HTTP 200 with an XML `<status>error</status>`,
//! case-sensitive keys where a misspelt one is silently ignored, a caller-IP
//! allow-list, the amount rule (`E00303`), a credit check that can stay 与信中
//! until a clock the tests drive with [`AtobaraiSimHandle::advance_clock`]
//! passes, and lost answers (the [`Fault::Timeout`] fault registers the order
//! and never answers).
//!
//! Layout: [`wire`] is the contract's vocabulary (services, form keys, codes,
//! the status tables); `state` is the back office without I/O (the DataStatus
//! machine, faults, counters; its module docs list the simulator's guesses
//! where the official specification, which is not public, is silent),
//! `services` each service's rules, `checks` the field checks, [`carriers`]
//! the carrier master; `api` is the HTTP surface and the XML.

mod api;
pub mod carriers;
mod checks;
mod services;
mod state;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use ipnet::IpNet;
use tokio::net::TcpListener;

use crate::harness::{self, SimClock};

pub use carriers::{SimCarrier, TrackingRule, default_carriers};
pub use checks::{KNOWN_POSTCODES, MAX_IDS};
pub use state::{
    Fault, MARKER_NG, MARKER_REVIEW, MARKER_REVIEW_NG, MARKER_UNPAID, RecordedRequest, SimOrder,
    SimState, SimStats, Target,
};
pub use wire::{AtobaraiService, CloseReason, CreditStatus, DataStatus, Form};

/// How the simulated service behaves; [`Default`] suits tests (delays that
/// only pass when the test advances the clock), [`AtobaraiSimConfig::realistic`]
/// suits a demo against a real daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtobaraiSimConfig {
    /// 事業者ID the service accepts.
    pub enterprise_id: u64,
    /// サイトID the service accepts on registration.
    pub site_id: u64,
    /// APIユーザID the service accepts.
    pub api_user_id: u64,
    /// Caller addresses allowed (`EXX101` otherwise); default loopback only.
    pub allowed_sources: Vec<IpNet>,
    /// A billed total above this is refused (与信NG).
    pub credit_limit: i64,
    /// Every order not decided by another hook goes under review first.
    pub review_everything: bool,
    /// How long 与信中 lasts (automatic review takes about 5 minutes).
    pub review_delay: Duration,
    /// キャンセル申請中 → キャンセル済.
    pub cancel_delay: Duration,
    /// 請求書発行待ち → 入金確認待ち after a tracking number.
    pub invoice_delay: Duration,
    /// 入金確認待ち → クローズ; `None` keeps orders waiting for payment.
    pub payment_delay: Option<Duration>,
    /// The number of the first system order id (`AK%08d`).
    pub first_order_number: u32,
    /// The carrier master `delivlist` serves.
    pub carriers: Vec<SimCarrier>,
    /// Where the simulator's clock starts; `None` is the real time.
    pub start_at: Option<DateTime<FixedOffset>>,
    /// The registration checks 後払い.com turns on per site (second
    /// Corrections); a default site has none of them.
    pub site_checks: SiteChecks,
    /// Print a PHP warning in front of `<?xml` on every `cancel` reply, as
    /// the server's cancel controller does with `display_errors` forced on
    /// when PHP warns. How often it warns is not known: a setting.
    pub warning_before_cancel_xml: bool,
}

/// The registration checks that are per-site options at 後払い.com, off
/// unless the service turned them on for the merchant (second Corrections):
/// without them a site takes a merchant order number twice, any postcode,
/// address, phone and order date.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SiteChecks {
    /// `E00309`: a merchant order number already registered is refused.
    pub duplicate_order_id: bool,
    /// `E00306`: an order date more than 60 days ago is refused.
    pub order_date_window: bool,
    /// `E00307`: an address without a street number is refused.
    pub street_number: bool,
    /// `E00308`: a postcode the service does not know is refused.
    pub postcode: bool,
    /// `E00202` on `C_Phone` / `D_Phone`: a phone number of the wrong shape.
    pub phone: bool,
}

impl SiteChecks {
    /// Every per-site check on.
    pub fn all() -> Self {
        SiteChecks {
            duplicate_order_id: true,
            order_date_window: true,
            street_number: true,
            postcode: true,
            phone: true,
        }
    }
}

impl Default for AtobaraiSimConfig {
    fn default() -> Self {
        AtobaraiSimConfig {
            enterprise_id: 10000,
            site_id: 10001,
            api_user_id: 100,
            allowed_sources: loopback(),
            credit_limit: 55_000,
            review_everything: false,
            review_delay: Duration::from_secs(5 * 60),
            cancel_delay: Duration::from_secs(10 * 60),
            invoice_delay: Duration::from_secs(24 * 3600),
            payment_delay: Some(Duration::from_secs(14 * 24 * 3600)),
            first_order_number: 12345,
            carriers: default_carriers(),
            start_at: None,
            site_checks: SiteChecks::default(),
            warning_before_cancel_xml: false,
        }
    }
}

impl AtobaraiSimConfig {
    /// Delays of human scale for `ordersync sim`/`demo` (the real clock runs).
    pub fn realistic() -> Self {
        AtobaraiSimConfig {
            review_delay: Duration::from_secs(30),
            cancel_delay: Duration::from_secs(60),
            invoice_delay: Duration::from_secs(5 * 60),
            payment_delay: Some(Duration::from_secs(15 * 60)),
            // The daemon must read a cancel reply past the server's warnings.
            warning_before_cancel_xml: true,
            ..AtobaraiSimConfig::default()
        }
    }
}

/// 127.0.0.0/8 and ::1.
fn loopback() -> Vec<IpNet> {
    ["127.0.0.0/8", "::1/128"]
        .into_iter()
        .filter_map(|n| n.parse().ok())
        .collect()
}

/// Serves the simulator on `listener` until the handle is shut down or dropped.
pub async fn start(
    listener: TcpListener,
    cfg: AtobaraiSimConfig,
) -> std::io::Result<AtobaraiSimHandle> {
    let mut addr = listener.local_addr()?;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let clock = SimClock::starting_at(cfg.start_at);
    let shared = Arc::new(Shared::new(SimState::new(cfg.clone()), clock, cfg));
    shared
        .tasks
        .serve(listener, api::router(shared.clone()), "atobarai.com");
    Ok(AtobaraiSimHandle { shared, addr })
}

/// Controls a running simulator. Dropping it stops the server.
pub type AtobaraiSimHandle = harness::SimHandle<Shared>;

impl AtobaraiSimHandle {
    /// The simulator's configuration (the ids it accepts among it).
    pub fn config(&self) -> &AtobaraiSimConfig {
        &self.shared.cfg
    }

    /// The simulator's clock (JST, whole seconds).
    pub fn now(&self) -> DateTime<FixedOffset> {
        self.shared.lock().now()
    }

    /// Moves the simulator's clock forward; transitions that fall due happen
    /// (stamped with their due time) at once.
    pub fn advance_clock(&self, by: Duration) {
        self.shared.advance_clock(by);
    }

    /// The next `times` requests to `service` suffer `fault`.
    pub fn inject(&self, service: AtobaraiService, fault: Fault, times: u32) {
        self.shared
            .with_state(|s, _| s.inject(Target::Service(service), fault, times));
    }

    /// The next `times` requests to any service suffer `fault`.
    pub fn inject_any(&self, fault: Fault, times: u32) {
        self.shared
            .with_state(|s, _| s.inject(Target::Any, fault, times));
    }

    /// Drops every injected fault not yet used.
    pub fn clear_faults(&self) {
        self.shared.with_state(|s, _| s.clear_faults());
    }

    /// Replaces the caller-IP allow-list (an empty list refuses everyone).
    pub fn set_allowed_sources(&self, sources: Vec<IpNet>) {
        self.shared
            .with_state(|s, _| s.rules.allowed_sources = sources);
    }

    /// Forces a status, as the service's staff might (a manual review
    /// decision, a payment), and schedules what follows it. `false` when the
    /// order does not exist.
    pub fn set_status(&self, system_order_id: &str, status: DataStatus) -> bool {
        self.shared
            .with_state(|s, now| s.set_status(system_order_id, status, now))
    }

    /// Closes an order for `reason`, as the service's staff do: only
    /// [`CloseReason::Paid`] confirms a receipt. `false` when the order does
    /// not exist.
    pub fn close(&self, system_order_id: &str, reason: CloseReason) -> bool {
        self.shared
            .with_state(|s, now| s.close(system_order_id, reason, now))
    }

    /// Makes every cancel of an order answer this per-order `code` and
    /// `text` (`E003` with the card processor's message, `E999`); `None`
    /// lets the order's state decide again.
    pub fn refuse_cancel(&self, system_order_id: &str, refusal: Option<(&str, &str)>) {
        self.shared.with_state(|s, _| match refusal {
            Some((code, text)) => {
                s.cancel_refusals.insert(
                    system_order_id.to_string(),
                    (code.to_string(), text.to_string()),
                );
            }
            None => {
                s.cancel_refusals.remove(system_order_id);
            }
        });
    }

    /// A copy of the counters and recordings.
    pub fn stats(&self) -> SimStats {
        self.shared.lock().state.stats.clone()
    }

    /// The order as the service has it now (due transitions applied).
    pub fn order(&self, system_order_id: &str) -> Option<SimOrder> {
        self.shared
            .with_state(|s, _| s.order(system_order_id).cloned())
    }

    /// The order registered under a merchant order number.
    pub fn order_by_ent(&self, ent_order_id: &str) -> Option<SimOrder> {
        self.shared
            .with_state(|s, _| s.order_by_ent(ent_order_id).cloned())
    }

    /// Every order registered under a merchant order number (a site without
    /// the duplicate check takes one number twice).
    pub fn orders_by_ent(&self, ent_order_id: &str) -> Vec<SimOrder> {
        self.shared
            .with_state(|s, _| s.orders_by_ent(ent_order_id).cloned().collect())
    }

    /// Every order, by system order id.
    pub fn orders(&self) -> Vec<SimOrder> {
        self.shared.with_state(|s, _| s.orders().cloned().collect())
    }
}

/// Read access to the state inside [`AtobaraiSimHandle::wait_until`](harness::SimHandle::wait_until).
pub type SimView<'a> = harness::View<'a, SimState>;

impl SimView<'_> {
    /// The order as the service has it now.
    pub fn order(&self, system_order_id: &str) -> Option<&SimOrder> {
        self.state.order(system_order_id)
    }

    /// The order registered under a merchant order number.
    pub fn order_by_ent(&self, ent_order_id: &str) -> Option<&SimOrder> {
        self.state.order_by_ent(ent_order_id)
    }

    /// Every order registered under a merchant order number.
    pub fn orders_by_ent<'a>(
        &'a self,
        ent_order_id: &'a str,
    ) -> impl Iterator<Item = &'a SimOrder> {
        self.state.orders_by_ent(ent_order_id)
    }

    /// Every order.
    pub fn orders(&self) -> impl Iterator<Item = &SimOrder> {
        self.state.orders()
    }

    /// The counters and recordings so far.
    pub fn stats(&self) -> &SimStats {
        &self.state.stats
    }
}

/// What the server and the handle share.
pub type Shared = harness::Clocked<SimState, AtobaraiSimConfig>;

impl harness::Settle for SimState {
    fn settle(&mut self, now: DateTime<FixedOffset>) {
        SimState::settle(self, now);
    }
}

#[cfg(test)]
mod tests;
