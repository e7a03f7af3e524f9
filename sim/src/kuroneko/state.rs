//! The simulated Yamato back office: transactions and their status machine,
//! scoring hooks, faults and counters, with the contract's rules for every
//! function. No I/O and no clock of its own: every operation takes `now`.
//!
//! Each request is checked in the order Yamato's integrators describe:
//! common fields (store code, password, orderNo, requestDate), then each
//! field's rule, then relations (subtotals, total, street number, dates),
//! then the state table. The first failure answers `returnCode` 1.
//!
//! Transaction machine (a transition "after d" happens lazily, the first time
//! the state is looked at with `now >= due`): scoring 3 →after `review`→ 0
//! (status 1) or 1 (status 2); OK → status 1 →KAASL 0/2→ 3 →after `sales`→
//! 10 →after `invoice`→ 11 →after `payment`→ 12; KAASL 9 → back to 1; KAACL
//! → 2; a flipped OK → NG (status 2) after the flip delay while still 1.
//!
//! Error codes come from the contract and from Yamato's own error catalogue
//! (see `codes`): store code and password per function (KAARA `004E`/`002E`/
//! `003E`, `090E`–`092E`; KAARS/KAAST `012E`/`013E`; KAACL `013E`/`014E`;
//! KAASL `036E`/`037E`; KAAKK `001E`–`004E`, `059E`–`061E`), characters
//! outside the range (KAARA `022E`, `033E`, `037E`, `056E`, `068E`, `077E`,
//! `081E`; KAAKK `024E`, `028E`, `033E`), address width and prefecture,
//! `itemCount` over 9999 (`kaara059E`, `kaakk037E`), sendDiv (`kaara051E`–
//! `053E`, `kaakk053E`–`055E`), KAASL `010E`–`012E`, `014E`, `019E`, `023E`,
//! `031E`, `045E`, `008E` of every function (KAARS's also for a cancelled
//! order), `kaara009E`, `029E`, `034E`, `040E`, `049E`, `101E`, `103E`,
//! `err0001`–`err0003`. Still the simulator's guesses, because the catalogue
//! has no number for them: `<f>001E`/`002E`/`003E` orderNo missing or
//! malformed and requestDate malformed; KAARA `010E` orderYmd, `011E` shipYmd,
//! `020E`/`021E` name and kana, `028E` postcode shape, `042E` email, `048E`
//! total not a number, `060E`–`064E` item count/price/subtotal,
//! `070E`–`076E` recipient fields, `102E` ship date out of range, `105E`
//! recipient without street number; KAAKK `020E` shipYmd; KAAST `010E`
//! still under review; KAASL `016E` processDiv 2 with another number than
//! the orderNo, `031E` shipYmd with processDiv 0 or 2 (the catalogue names
//! it for 9 only), `046E` beforePaymentNo missing, `047E` beforePaymentNo is
//! not the registered number; the window right after KAARA answers
//! `err0001` to KAASL, KAACL and KAAKK.
//!
//! Other guesses: KAAST shows a declined (or flipped) order as 2; status 6
//! behaves like 1; warning 1 is raised once the ship date has passed without
//! a tracking number; a refused KAARA does not use up its orderNo.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta};

use super::codes::{
    self, KuronekoCreditResult, KuronekoProcessDiv, KuronekoStatus, KuronekoWarning, code,
};
use super::fields::ItemLine;
use super::text;
use super::wire::{self, Endpoint, Form, field, form_value};
use crate::transport::TransportFault;

/// Orders one tracking number may cover (contract, Functions: `kaasl045E`).
pub const MAX_ORDERS_PER_TRACKING_NUMBER: usize = 3;

/// A misbehaviour suffered before normal handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// This HTTP status with a plain-text body (e.g. 503 during maintenance).
    Status(u16),
    /// `returnCode` 1 with this `errorCode` (e.g. `err0001`), nothing applied.
    SystemError(&'static str),
    /// 200 with a body that is not a `<return>` (a maintenance page).
    Garbage,
    /// Handle the request normally, then hold the answer back this long: the
    /// change is applied even when the caller times out (a lost response).
    Delay(Duration),
    /// A fault of the network path (reset, slow body, cut-short body, a
    /// proxy's page): see [`TransportFault`].
    Transport(TransportFault),
}

/// Counters and recordings of everything the simulator saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Requests per FUNC name, refused and faulted ones included.
    pub calls: BTreeMap<&'static str, usize>,
    /// Every request's form, in arrival order, with its FUNC name.
    pub bodies: Vec<(&'static str, Form)>,
    /// Every request's `Content-Type`, in arrival order.
    pub content_types: Vec<String>,
    /// Answers refusing the store code or password.
    pub credential_refusals: usize,
}

impl SimStats {
    /// Requests to `endpoint`.
    pub fn calls(&self, endpoint: Endpoint) -> usize {
        self.calls.get(endpoint.func()).copied().unwrap_or(0)
    }

    /// Every form sent to `endpoint`, in order.
    pub fn bodies(&self, endpoint: Endpoint) -> Vec<&Form> {
        self.bodies
            .iter()
            .filter(|(f, _)| *f == endpoint.func())
            .map(|(_, b)| b)
            .collect()
    }

    /// The last form sent to `endpoint`.
    pub fn last_body(&self, endpoint: Endpoint) -> Option<&Form> {
        self.bodies(endpoint).last().copied()
    }
}

/// The value of `name` in a form (the first one).
/// Several orders to one address within `window`: the last one is answered
/// OK and turns NG `after` later (the seed's anti-mischief rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlipRule {
    /// How many orders to one address (this one included) trigger the flip.
    pub orders: usize,
    /// How far back earlier orders count.
    pub window: Duration,
    /// How long the OK lasts before it turns NG.
    pub after: Duration,
}

/// The scoring hooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scoring {
    pub over_limit_amount: i64,
    /// Full-width, as names arrive.
    pub ng_marker: String,
    /// Full-width.
    pub review_marker: String,
    pub review_delay: TimeDelta,
    pub flip: Option<(usize, TimeDelta, TimeDelta)>,
}

/// Delays of the transaction machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timing {
    pub settle_window: TimeDelta,
    pub sales: Option<TimeDelta>,
    pub invoice: Option<TimeDelta>,
    pub payment: Option<TimeDelta>,
}

/// One transaction as the simulator shows it to tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSnapshot {
    /// The attempt's orderNo.
    pub order_no: String,
    /// The scoring result now.
    pub credit: KuronekoCreditResult,
    /// The transaction status; `None` while the scoring is under review.
    pub status: Option<KuronekoStatus>,
    /// The warning flag KAAST would show now.
    pub warning: KuronekoWarning,
    /// `orderYmd`.
    pub ordered_on: NaiveDate,
    /// `shipYmd` (updated by KAASL and KAAKK).
    pub ship_on: NaiveDate,
    /// Buyer's name as received.
    pub name: String,
    /// `postCode` as received (7 digits).
    pub post_code: String,
    /// `address1` + `address2`.
    pub address: String,
    /// `totalAmount`.
    pub total_amount: i64,
    /// `(itemName, itemCount, unitPrice, subTotal)` lines.
    pub items: Vec<ItemLine>,
    /// `sendDiv`.
    pub send_div: u8,
    /// The registered `paymentNo` (tracking number, or the orderNo for another carrier).
    pub payment_no: Option<String>,
    /// The processDiv of the registration.
    pub shipment: Option<KuronekoProcessDiv>,
    /// When the credit request arrived (the simulator's clock).
    pub credited_at: DateTime<FixedOffset>,
}

#[derive(Debug, Clone)]
pub(super) struct SimOrder {
    pub(super) snap: OrderSnapshot,
    /// Under review: what it resolves to and when.
    pub(super) review: Option<Review>,
    /// A flipped OK: when it turns NG.
    pub(super) flip_at: Option<DateTime<FixedOffset>>,
    /// The next status and when.
    pub(super) next: Option<(KuronekoStatus, DateTime<FixedOffset>)>,
    /// A warning forced by a test.
    pub(super) warning: Option<KuronekoWarning>,
    /// Cancelled by KAACL (KAARS no longer knows it).
    pub(super) cancelled: bool,
}

/// A review's outcome and when it ends.
pub(super) type Review = (KuronekoCreditResult, DateTime<FixedOffset>);

/// What a function answers, before it becomes XML.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Reply {
    /// `Some(code)` makes `returnCode` 1.
    pub error: Option<String>,
    pub result: Option<u8>,
    pub warning: Option<u8>,
}

impl Reply {
    pub(super) fn error(code: impl Into<String>) -> Reply {
        Reply {
            error: Some(code.into()),
            ..Reply::default()
        }
    }

    pub(super) fn ok() -> Reply {
        Reply::default()
    }

    pub(super) fn result(result: u8) -> Reply {
        Reply {
            result: Some(result),
            ..Reply::default()
        }
    }
}

/// Everything the simulator knows; one lock guards it.
#[derive(Debug)]
pub struct SimState {
    pub(super) orders: BTreeMap<String, SimOrder>,
    store_code: String,
    password: String,
    pub(super) scoring: Scoring,
    pub(super) timing: Timing,
    /// Whether the merchant has the 同梱 (invoice in the parcel) contract.
    pub(crate) enclosed_invoice: bool,
    /// `(endpoint, fault, remaining)` in injection order.
    faults: Vec<(Endpoint, Fault, u32)>,
    pub stats: SimStats,
}

impl SimState {
    pub(crate) fn new(
        store_code: String,
        password: String,
        scoring: Scoring,
        timing: Timing,
    ) -> Self {
        SimState {
            orders: BTreeMap::new(),
            store_code,
            password,
            scoring,
            timing,
            enclosed_invoice: false,
            faults: Vec::new(),
            stats: SimStats::default(),
        }
    }

    /// A snapshot of one transaction at `now`.
    pub(crate) fn order(
        &self,
        order_no: &str,
        now: DateTime<FixedOffset>,
    ) -> Option<OrderSnapshot> {
        self.orders.get(order_no).map(|o| snapshot(o, now))
    }

    /// Every transaction, by orderNo.
    pub(crate) fn orders(&self, now: DateTime<FixedOffset>) -> Vec<OrderSnapshot> {
        self.orders.values().map(|o| snapshot(o, now)).collect()
    }

    /// Applies every transition due by `now`.
    pub(crate) fn settle(&mut self, now: DateTime<FixedOffset>) {
        let timing = self.timing;
        for o in self.orders.values_mut() {
            if let Some((outcome, _)) = o.review.filter(|(_, due)| *due <= now) {
                o.review = None;
                o.snap.credit = outcome;
                o.snap.status = Some(match outcome {
                    KuronekoCreditResult::Ok => KuronekoStatus::Approved,
                    KuronekoCreditResult::Ng
                    | KuronekoCreditResult::OverLimit
                    | KuronekoCreditResult::UnderReview => KuronekoStatus::Cancelled,
                });
            }
            if o.flip_at.is_some_and(|due| due <= now) {
                o.flip_at = None;
                if o.snap.status == Some(KuronekoStatus::Approved)
                    && o.snap.credit == KuronekoCreditResult::Ok
                {
                    o.snap.credit = KuronekoCreditResult::Ng;
                    o.snap.status = Some(KuronekoStatus::Cancelled);
                }
            }
            while let Some((to, due)) = o.next {
                if due > now {
                    break;
                }
                enter(o, to, due, &timing);
            }
        }
    }

    // ---- test hooks ----

    /// Forces a status and schedules what follows it; `false` for an unknown order.
    pub(crate) fn set_status(
        &mut self,
        order_no: &str,
        status: KuronekoStatus,
        now: DateTime<FixedOffset>,
    ) -> bool {
        let timing = self.timing;
        let Some(o) = self.orders.get_mut(order_no) else {
            return false;
        };
        o.review = None;
        enter(o, status, now, &timing);
        true
    }

    /// Forces the warning flag (`None` returns to the computed one).
    pub(crate) fn set_warning(&mut self, order_no: &str, warning: Option<KuronekoWarning>) -> bool {
        let Some(o) = self.orders.get_mut(order_no) else {
            return false;
        };
        o.warning = warning;
        true
    }

    pub(crate) fn set_password(&mut self, password: String) {
        self.password = password;
    }

    pub(crate) fn inject(&mut self, endpoint: Endpoint, fault: Fault, times: u32) {
        if times > 0 {
            self.faults.push((endpoint, fault, times));
        }
    }

    pub(crate) fn clear_faults(&mut self) {
        self.faults.clear();
    }

    /// The first due fault for `endpoint`, used up by one.
    pub(crate) fn take_fault(&mut self, endpoint: Endpoint) -> Option<Fault> {
        let i = self
            .faults
            .iter()
            .position(|(e, _, n)| *n > 0 && (*e == endpoint || *e == Endpoint::Any))?;
        let entry = &mut self.faults[i];
        entry.2 -= 1;
        let fault = entry.1;
        if entry.2 == 0 {
            self.faults.remove(i);
        }
        Some(fault)
    }

    pub(crate) fn record(&mut self, endpoint: Endpoint, content_type: String, form: Form) {
        *self.stats.calls.entry(endpoint.func()).or_default() += 1;
        self.stats.content_types.push(content_type);
        self.stats.bodies.push((endpoint.func(), form));
    }

    // ---- the functions ----

    /// Handles one request of `endpoint` at `now`.
    pub(crate) fn handle(
        &mut self,
        endpoint: Endpoint,
        form: &Form,
        now: DateTime<FixedOffset>,
    ) -> Reply {
        if let Err(e) = self.check_common(endpoint, form) {
            return Reply::error(e);
        }
        let order_no = form_value(form, field::ORDER_NO).unwrap_or_default();
        let settling = self
            .orders
            .get(order_no)
            .is_some_and(|o| now < o.snap.credited_at + self.timing.settle_window);
        if endpoint.settles_after_credit() && settling {
            return Reply::error("err0001");
        }
        let result = match endpoint {
            Endpoint::Credit => self.credit(form, now),
            Endpoint::CreditResult => self.credit_result(order_no),
            Endpoint::Status => self.status(order_no, now),
            Endpoint::Shipment => self.shipment(order_no, form, now),
            Endpoint::Cancel => self.cancel(order_no),
            Endpoint::Reduce => self.reduce(order_no, form, now),
            Endpoint::Any => Err(code(endpoint, 0)),
        };
        result.unwrap_or_else(Reply::error)
    }

    fn check_common(&mut self, endpoint: Endpoint, form: &Form) -> Result<(), String> {
        let n = codes::common(endpoint);
        let store = form_value(form, field::STORE_CODE).unwrap_or_default();
        let password = form_value(form, field::PASSWORD).unwrap_or_default();
        let refused = if store.is_empty() {
            Some(n.store_missing)
        } else if store.len() != 11 {
            Some(n.store_length)
        } else if !store.bytes().all(|b| b.is_ascii_digit()) {
            Some(n.store_digits)
        } else if store != self.store_code {
            Some(n.store_unknown)
        } else if password.is_empty() {
            Some(n.password_missing)
        } else if password.len() > 8 || !password.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Some(n.password_shape)
        } else if password != self.password {
            Some(n.password_mismatch)
        } else {
            None
        };
        if let Some(number) = refused {
            self.stats.credential_refusals += 1;
            return Err(code(endpoint, number));
        }
        match form_value(form, field::ORDER_NO) {
            None | Some("") => return Err(code(endpoint, 1)),
            Some(no) if !text::is_order_no(no) => return Err(code(endpoint, 2)),
            Some(_) => {}
        }
        if form_value(form, field::REQUEST_DATE)
            .and_then(wire::parse_datetime)
            .is_none()
        {
            return Err(code(endpoint, 3));
        }
        Ok(())
    }
}

/// The warning KAAST shows now.
pub(super) fn warning_of(o: &SimOrder, now: DateTime<FixedOffset>) -> KuronekoWarning {
    if let Some(w) = o.warning {
        return w;
    }
    if o.snap.status == Some(KuronekoStatus::Approved) && now.date_naive() > o.snap.ship_on {
        KuronekoWarning::TrackingNotRegistered
    } else {
        KuronekoWarning::None
    }
}

fn snapshot(o: &SimOrder, now: DateTime<FixedOffset>) -> OrderSnapshot {
    OrderSnapshot {
        warning: warning_of(o, now),
        ..o.snap.clone()
    }
}

/// Enters `status` at `at` and schedules the next step of 3 → 10 → 11 → 12.
pub(super) fn enter(
    o: &mut SimOrder,
    status: KuronekoStatus,
    at: DateTime<FixedOffset>,
    timing: &Timing,
) {
    o.snap.status = Some(status);
    o.next = match status {
        KuronekoStatus::TrackingRegistered => timing
            .sales
            .map(|d| (KuronekoStatus::SalesConfirmed, at + d)),
        KuronekoStatus::SalesConfirmed => timing
            .invoice
            .map(|d| (KuronekoStatus::InvoiceIssued, at + d)),
        KuronekoStatus::InvoiceIssued => timing.payment.map(|d| (KuronekoStatus::Paid, at + d)),
        KuronekoStatus::Approved
        | KuronekoStatus::Cancelled
        | KuronekoStatus::NeedsInvestigation
        | KuronekoStatus::WarningMailSent
        | KuronekoStatus::Paid => None,
    };
}
