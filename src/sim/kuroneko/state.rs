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

use super::codes;
use super::fields::{full_width_within, phone_ok, read_content};
use crate::channels::credit::kuroneko::normalize::{self, EMAIL_MAX, NAME_MAX};
use crate::channels::credit::kuroneko::wire::{self, Form, field};
use crate::channels::credit::kuroneko::{
    CreditResult, ShipmentProcess, TransactionStatus, TransactionWarning, is_valid_order_no,
    yamato_check_digit_ok,
};

/// Orders one tracking number may cover.
pub const MAX_ORDERS_PER_TRACKING_NUMBER: usize = 3;

/// Postcodes the simulator knows to exist, besides its rule (see `postcode_exists`).
pub const KNOWN_POSTCODES: [&str; 12] = [
    "0600001", "1000001", "1000005", "1500001", "1600023", "2310001", "4600001", "4800305",
    "5300001", "7300011", "8100001", "9000001",
];

/// Which function a fault applies to, and what the stats count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    /// KAARA0010, credit request.
    Credit,
    /// KAARS0010, credit result.
    CreditResult,
    /// KAAST0010, transaction status.
    Status,
    /// KAASL0010, shipment.
    Shipment,
    /// KAACL0010, cancel.
    Cancel,
    /// KAAKK0010, amount reduction.
    Reduce,
    /// Whichever of the above is called next (faults only).
    Any,
}

impl Endpoint {
    /// The six functions.
    pub const FUNCS: [Endpoint; 6] = [
        Endpoint::Credit,
        Endpoint::CreditResult,
        Endpoint::Status,
        Endpoint::Shipment,
        Endpoint::Cancel,
        Endpoint::Reduce,
    ];

    /// The FUNC name (`KAARA0010`); empty for `Any`.
    pub fn func(self) -> &'static str {
        match self {
            Endpoint::Credit => wire::FUNC_CREDIT,
            Endpoint::CreditResult => wire::FUNC_CREDIT_RESULT,
            Endpoint::Status => wire::FUNC_STATUS,
            Endpoint::Shipment => wire::FUNC_SHIPMENT,
            Endpoint::Cancel => wire::FUNC_CANCEL,
            Endpoint::Reduce => wire::FUNC_REDUCE,
            Endpoint::Any => "",
        }
    }

    /// The prefix of the function's error codes (`kaara`).
    pub fn prefix(self) -> &'static str {
        match self {
            Endpoint::Credit => "kaara",
            Endpoint::CreditResult => "kaars",
            Endpoint::Status => "kaast",
            Endpoint::Shipment => "kaasl",
            Endpoint::Cancel => "kaacl",
            Endpoint::Reduce => "kaakk",
            Endpoint::Any => "kaa",
        }
    }

    /// Whether the answer carries `requestDate` instead of `returnDate`
    /// (the contract says some functions do; the simulator picks these two
    /// so that clients are tested against both).
    pub fn answers_request_date(self) -> bool {
        match self {
            Endpoint::Status | Endpoint::Shipment => true,
            Endpoint::Credit
            | Endpoint::CreditResult
            | Endpoint::Cancel
            | Endpoint::Reduce
            | Endpoint::Any => false,
        }
    }

    /// Whether calls right after the credit request fail (the seed names
    /// payment changes, shipment registration and cancellation).
    fn settles_after_credit(self) -> bool {
        match self {
            Endpoint::Shipment | Endpoint::Cancel | Endpoint::Reduce => true,
            Endpoint::Credit | Endpoint::CreditResult | Endpoint::Status | Endpoint::Any => false,
        }
    }
}

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
    /// proxy's page): see [`crate::sim::transport::TransportFault`].
    Transport(crate::sim::transport::TransportFault),
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
pub fn form_value<'a>(form: &'a Form, name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

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
    pub credit: CreditResult,
    /// The transaction status; `None` while the scoring is under review.
    pub status: Option<TransactionStatus>,
    /// The warning flag KAAST would show now.
    pub warning: TransactionWarning,
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
    pub items: Vec<(String, u32, i64, i64)>,
    /// `sendDiv`.
    pub send_div: u8,
    /// The registered `paymentNo` (tracking number, or the orderNo for another carrier).
    pub payment_no: Option<String>,
    /// The processDiv of the registration.
    pub shipment: Option<ShipmentProcess>,
    /// When the credit request arrived (the simulator's clock).
    pub credited_at: DateTime<FixedOffset>,
}

#[derive(Debug, Clone)]
struct SimOrder {
    snap: OrderSnapshot,
    /// Under review: what it resolves to and when.
    review: Option<(CreditResult, DateTime<FixedOffset>)>,
    /// A flipped OK: when it turns NG.
    flip_at: Option<DateTime<FixedOffset>>,
    /// The next status and when.
    next: Option<(TransactionStatus, DateTime<FixedOffset>)>,
    /// A warning forced by a test.
    warning: Option<TransactionWarning>,
    /// Cancelled by KAACL (KAARS no longer knows it).
    cancelled: bool,
}

/// What a function answers, before it becomes XML.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Reply {
    /// `Some(code)` makes `returnCode` 1.
    pub error: Option<String>,
    pub result: Option<u8>,
    pub warning: Option<u8>,
}

impl Reply {
    fn error(code: impl Into<String>) -> Reply {
        Reply {
            error: Some(code.into()),
            ..Reply::default()
        }
    }

    fn ok() -> Reply {
        Reply::default()
    }

    fn result(result: u8) -> Reply {
        Reply {
            result: Some(result),
            ..Reply::default()
        }
    }
}

/// `<prefix><nnn>E`.
pub(crate) fn code(endpoint: Endpoint, n: u16) -> String {
    format!("{}{n:03}E", endpoint.prefix())
}

/// Everything the simulator knows; one lock guards it.
#[derive(Debug)]
pub struct SimState {
    orders: BTreeMap<String, SimOrder>,
    store_code: String,
    password: String,
    scoring: Scoring,
    timing: Timing,
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
                    CreditResult::Ok => TransactionStatus::Approved,
                    CreditResult::Ng | CreditResult::OverLimit | CreditResult::UnderReview => {
                        TransactionStatus::Cancelled
                    }
                });
            }
            if o.flip_at.is_some_and(|due| due <= now) {
                o.flip_at = None;
                if o.snap.status == Some(TransactionStatus::Approved)
                    && o.snap.credit == CreditResult::Ok
                {
                    o.snap.credit = CreditResult::Ng;
                    o.snap.status = Some(TransactionStatus::Cancelled);
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
        status: TransactionStatus,
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
    pub(crate) fn set_warning(
        &mut self,
        order_no: &str,
        warning: Option<TransactionWarning>,
    ) -> bool {
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
            Some(no) if !is_valid_order_no(no) => return Err(code(endpoint, 2)),
            Some(_) => {}
        }
        if form_value(form, field::REQUEST_DATE)
            .and_then(wire::parse_request_date)
            .is_none()
        {
            return Err(code(endpoint, 3));
        }
        Ok(())
    }

    /// The deterministic scoring: the result, a review's outcome and end,
    /// and when an OK turns NG (several orders to one address).
    fn score(
        &self,
        name: &str,
        content: &super::fields::Content,
        now: DateTime<FixedOffset>,
    ) -> (CreditResult, Option<Review>, Option<DateTime<FixedOffset>>) {
        let scoring = &self.scoring;
        let address_key = format!("{}{}", content.post_code, content.address);
        let (credit, review) = if name.contains(&scoring.review_marker) {
            let outcome = if name.contains(&scoring.ng_marker) {
                CreditResult::Ng
            } else {
                CreditResult::Ok
            };
            (
                CreditResult::UnderReview,
                Some((outcome, now + scoring.review_delay)),
            )
        } else if name.contains(&scoring.ng_marker) {
            (CreditResult::Ng, None)
        } else if content.total_amount > scoring.over_limit_amount {
            (CreditResult::OverLimit, None)
        } else {
            (CreditResult::Ok, None)
        };
        let flip_at = match credit {
            CreditResult::Ok => scoring.flip.and_then(|(orders, window, after)| {
                let earlier = self
                    .orders
                    .values()
                    .filter(|o| {
                        format!("{}{}", o.snap.post_code, o.snap.address) == address_key
                            && o.snap.credited_at >= now - window
                    })
                    .count();
                (earlier + 1 >= orders).then_some(now + after)
            }),
            CreditResult::Ng | CreditResult::OverLimit | CreditResult::UnderReview => None,
        };
        (credit, review, flip_at)
    }

    fn credit(&mut self, form: &Form, now: DateTime<FixedOffset>) -> Result<Reply, String> {
        let e = Endpoint::Credit;
        let ordered_on = form_value(form, field::ORDER_YMD)
            .and_then(wire::parse_ymd)
            .ok_or_else(|| code(e, 10))?;
        let content = read_content(
            e,
            form,
            now.date_naive(),
            Some(ordered_on),
            self.enclosed_invoice,
        )?;
        let name = check_buyer(form)?;
        // Relations are checked in `read_content`; the state table is one rule here.
        let order_no = form_value(form, field::ORDER_NO).unwrap_or_default();
        if self.orders.contains_key(order_no) {
            return Err(code(e, 9));
        }
        let (credit, review, flip_at) = self.score(name, &content, now);
        let status = match credit {
            CreditResult::Ok => Some(TransactionStatus::Approved),
            CreditResult::Ng | CreditResult::OverLimit => Some(TransactionStatus::Cancelled),
            CreditResult::UnderReview => None,
        };
        let snap = OrderSnapshot {
            order_no: order_no.to_string(),
            credit,
            status,
            warning: TransactionWarning::None,
            ordered_on,
            ship_on: content.ship_on,
            name: name.to_string(),
            post_code: content.post_code,
            address: content.address,
            total_amount: content.total_amount,
            items: content.items,
            send_div: content.send_div,
            payment_no: None,
            shipment: None,
            credited_at: now,
        };
        self.orders.insert(
            order_no.to_string(),
            SimOrder {
                snap,
                review,
                flip_at,
                next: None,
                warning: None,
                cancelled: false,
            },
        );
        Ok(Reply::result(credit.code()))
    }

    fn credit_result(&self, order_no: &str) -> Result<Reply, String> {
        // `008E`: "an existing orderNo not cancelled" (the catalogue).
        let o = self
            .orders
            .get(order_no)
            .filter(|o| !o.cancelled)
            .ok_or_else(|| code(Endpoint::CreditResult, 8))?;
        Ok(Reply::result(o.snap.credit.code()))
    }

    fn status(&self, order_no: &str, now: DateTime<FixedOffset>) -> Result<Reply, String> {
        let e = Endpoint::Status;
        let o = self.orders.get(order_no).ok_or_else(|| code(e, 8))?;
        let status = o.snap.status.ok_or_else(|| code(e, 10))?;
        Ok(Reply {
            error: None,
            result: Some(status.code()),
            warning: Some(warning_of(o, now).code()),
        })
    }

    /// KAASL: register, change or cancel the parcel's number.
    fn shipment(
        &mut self,
        order_no: &str,
        form: &Form,
        now: DateTime<FixedOffset>,
    ) -> Result<Reply, String> {
        let e = Endpoint::Shipment;
        let ShipmentAsk {
            process,
            payment_no,
            ship_on,
            before,
        } = shipment_ask(order_no, form)?;
        let (payment_no, before) = (payment_no.as_str(), before.as_str());

        let shared_by = self
            .orders
            .values()
            .filter(|o| {
                o.snap.order_no != order_no
                    && o.snap.payment_no.as_deref() == Some(payment_no)
                    && o.snap.status != Some(TransactionStatus::Cancelled)
            })
            .count();
        let timing = self.timing;
        let o = self.orders.get_mut(order_no).ok_or_else(|| code(e, 8))?;
        let status = o.snap.status.unwrap_or(TransactionStatus::Cancelled);
        match process {
            ShipmentProcess::RegisterYamato | ShipmentProcess::RegisterOtherCarrier => {
                if !status.allows_shipment_registration() {
                    return Err(code(e, 20));
                }
            }
            ShipmentProcess::Change | ShipmentProcess::CancelRegistration => {
                if !status.allows_shipment_change() {
                    return Err(code(e, 22));
                }
            }
        }
        // The registered number, written with or without its hyphens.
        let unhyphenated: String = before.chars().filter(|c| *c != '-').collect();
        if process == ShipmentProcess::Change
            && o.snap.payment_no.as_deref() != Some(before)
            && o.snap.payment_no.as_deref() != Some(unhyphenated.as_str())
        {
            return Err(code(e, 47));
        }
        let yamato_number = match process {
            ShipmentProcess::RegisterYamato | ShipmentProcess::Change => true,
            ShipmentProcess::RegisterOtherCarrier | ShipmentProcess::CancelRegistration => false,
        };
        if yamato_number && shared_by >= MAX_ORDERS_PER_TRACKING_NUMBER {
            return Err(code(e, 45));
        }
        match process {
            ShipmentProcess::RegisterYamato | ShipmentProcess::RegisterOtherCarrier => {
                o.snap.payment_no = Some(payment_no.to_string());
                o.snap.shipment = Some(process);
                if let Some(date) = ship_on {
                    o.snap.ship_on = date;
                }
                if status != TransactionStatus::NeedsInvestigation {
                    enter(o, TransactionStatus::TrackingRegistered, now, &timing);
                }
            }
            ShipmentProcess::Change => {
                o.snap.payment_no = Some(payment_no.to_string());
                if let Some(date) = ship_on {
                    o.snap.ship_on = date;
                }
            }
            ShipmentProcess::CancelRegistration => {
                o.snap.payment_no = None;
                o.snap.shipment = None;
                enter(o, TransactionStatus::Approved, now, &timing);
            }
        }
        Ok(Reply::ok())
    }

    fn cancel(&mut self, order_no: &str) -> Result<Reply, String> {
        let e = Endpoint::Cancel;
        let o = self.orders.get_mut(order_no).ok_or_else(|| code(e, 8))?;
        let allowed = match o.snap.status {
            // Under review: the buyer may still withdraw the order.
            None => true,
            Some(s) => s.allows_cancel_or_reduce(),
        };
        if !allowed {
            return Err(code(e, 9));
        }
        o.review = None;
        o.flip_at = None;
        o.next = None;
        o.snap.status = Some(TransactionStatus::Cancelled);
        o.cancelled = true;
        Ok(Reply::ok())
    }

    fn reduce(
        &mut self,
        order_no: &str,
        form: &Form,
        now: DateTime<FixedOffset>,
    ) -> Result<Reply, String> {
        let e = Endpoint::Reduce;
        let ordered_on = self.orders.get(order_no).map(|o| o.snap.ordered_on);
        let content = read_content(e, form, now.date_naive(), ordered_on, self.enclosed_invoice)?;
        let o = self.orders.get_mut(order_no).ok_or_else(|| code(e, 8))?;
        if o.snap
            .status
            .is_some_and(|status| !status.allows_cancel_or_reduce())
        {
            return Err(code(e, 11));
        }
        if o.snap.credit != CreditResult::Ok {
            return Err(code(e, 9));
        }
        if content.total_amount >= o.snap.total_amount {
            return Err(code(e, 50));
        }
        o.snap.total_amount = content.total_amount;
        o.snap.items = content.items;
        o.snap.ship_on = content.ship_on;
        o.snap.post_code = content.post_code;
        o.snap.address = content.address;
        o.snap.send_div = content.send_div;
        Ok(Reply::ok())
    }
}

/// The warning KAAST shows now.
fn warning_of(o: &SimOrder, now: DateTime<FixedOffset>) -> TransactionWarning {
    if let Some(w) = o.warning {
        return w;
    }
    if o.snap.status == Some(TransactionStatus::Approved) && now.date_naive() > o.snap.ship_on {
        TransactionWarning::TrackingNotRegistered
    } else {
        TransactionWarning::None
    }
}

fn snapshot(o: &SimOrder, now: DateTime<FixedOffset>) -> OrderSnapshot {
    OrderSnapshot {
        warning: warning_of(o, now),
        ..o.snap.clone()
    }
}

/// Enters `status` at `at` and schedules the next step of 3 → 10 → 11 → 12.
fn enter(o: &mut SimOrder, status: TransactionStatus, at: DateTime<FixedOffset>, timing: &Timing) {
    o.snap.status = Some(status);
    o.next = match status {
        TransactionStatus::TrackingRegistered => timing
            .sales
            .map(|d| (TransactionStatus::SalesConfirmed, at + d)),
        TransactionStatus::SalesConfirmed => timing
            .invoice
            .map(|d| (TransactionStatus::InvoiceIssued, at + d)),
        TransactionStatus::InvoiceIssued => {
            timing.payment.map(|d| (TransactionStatus::Paid, at + d))
        }
        TransactionStatus::Approved
        | TransactionStatus::Cancelled
        | TransactionStatus::NeedsInvestigation
        | TransactionStatus::WarningMailSent
        | TransactionStatus::Paid
        | TransactionStatus::Unknown(_) => None,
    };
}
/// A review's outcome and when it ends.
type Review = (CreditResult, DateTime<FixedOffset>);

/// KAARA's buyer fields (name, kana, phone, e-mail); answers the name.
fn check_buyer(form: &Form) -> Result<&str, String> {
    let e = Endpoint::Credit;
    let name = form_value(form, field::NAME).unwrap_or_default();
    if !full_width_within(name, NAME_MAX, false) {
        return Err(code(e, 20));
    }
    if !codes::in_range(name) {
        return Err(code(e, codes::NAME_OUT_OF_RANGE));
    }
    let kana = form_value(form, field::NAME_KANA).unwrap_or_default();
    if !normalize::is_half_width_kana_text(kana) {
        return Err(code(e, 21));
    }
    let tel = form_value(form, field::TEL_NUM).unwrap_or_default();
    if !phone_ok(tel) {
        return Err(code(e, 40));
    }
    let email = form_value(form, field::EMAIL).unwrap_or_default();
    if email.chars().count() > EMAIL_MAX {
        return Err(code(e, 42));
    }
    Ok(name)
}

/// What a KAASL request asks, its fields checked.
struct ShipmentAsk {
    process: ShipmentProcess,
    /// The number without hyphens (another carrier's: the orderNo).
    payment_no: String,
    /// The new shipment date (processDiv 9 only).
    ship_on: Option<NaiveDate>,
    /// The number a change replaces, as written.
    before: String,
}

/// The parcel's number as KAASL checks it: a Yamato number without its
/// hyphens, or another carrier's registration (the orderNo as written).
fn shipment_number(process: ShipmentProcess, form: &Form) -> Result<String, String> {
    let e = Endpoint::Shipment;
    let written = form_value(form, field::PAYMENT_NO).unwrap_or_default();
    let needs_number = match process {
        ShipmentProcess::RegisterYamato
        | ShipmentProcess::Change
        | ShipmentProcess::RegisterOtherCarrier => true,
        ShipmentProcess::CancelRegistration => false,
    };
    if needs_number && written.is_empty() {
        return Err(code(e, 11));
    }
    // A Yamato number is `[0-9A-Za-z-]`, at most 12 without its
    // hyphens; another carrier's registration carries the orderNo.
    let digits: String = if process == ShipmentProcess::RegisterOtherCarrier {
        written.to_string()
    } else {
        if !written
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(code(e, 12));
        }
        written.chars().filter(|c| *c != '-').collect()
    };
    if process != ShipmentProcess::RegisterOtherCarrier && digits.len() > 12 {
        return Err(code(e, 10));
    }
    Ok(digits)
}

/// Checks KAASL's own fields (before the transaction is looked at).
fn shipment_ask(order_no: &str, form: &Form) -> Result<ShipmentAsk, String> {
    let e = Endpoint::Shipment;
    let process = form_value(form, field::PROCESS_DIV)
        .and_then(|v| v.parse::<u8>().ok())
        .and_then(ShipmentProcess::from_code)
        .ok_or_else(|| code(e, 19))?;
    let digits = shipment_number(process, form)?;
    let payment_no = digits.as_str();
    // shipYmd goes with processDiv 1 only (Yamato's plugins send it so;
    // `031E` is the catalogue's refusal of one with 9, extended to 0
    // and 2 by the simulator).
    let ship_ymd = form_value(form, field::SHIP_YMD).filter(|v| !v.is_empty());
    let ship_on = match process {
        ShipmentProcess::Change => Some(
            ship_ymd
                .and_then(wire::parse_ymd)
                .ok_or_else(|| code(e, 23))?,
        ),
        ShipmentProcess::RegisterYamato
        | ShipmentProcess::RegisterOtherCarrier
        | ShipmentProcess::CancelRegistration => {
            if ship_ymd.is_some() {
                return Err(code(e, 31));
            }
            None
        }
    };
    let before = form_value(form, field::BEFORE_PAYMENT_NO).unwrap_or_default();
    match process {
        ShipmentProcess::RegisterYamato => {
            if !yamato_check_digit_ok(payment_no) {
                return Err(code(e, 14));
            }
        }
        ShipmentProcess::Change => {
            if before.is_empty() {
                return Err(code(e, 46));
            }
            if !yamato_check_digit_ok(payment_no) {
                return Err(code(e, 14));
            }
        }
        ShipmentProcess::RegisterOtherCarrier => {
            if payment_no != order_no {
                return Err(code(e, 16));
            }
        }
        ShipmentProcess::CancelRegistration => {}
    }
    Ok(ShipmentAsk {
        process,
        payment_no: payment_no.to_string(),
        ship_on,
        before: before.to_string(),
    })
}
