//! The simulated Atobarai.com back office: orders and their DataStatus
//! machine, the carrier master, the caller checks, faults and counters. No
//! I/O and no clock of its own: every operation takes `now`, so the rules are
//! testable without HTTP and time moves only when the caller says so. The
//! rules of each service are in [`super::services`], the field checks in
//! [`super::checks`].
//!
//! Every request runs the same checks, in this order (the order is the
//! simulator's guess; the codes are the contract's): caller IP on the
//! allow-list (`EXX101`) → required keys (`EXX201`) → formats (`EXX202`,
//! dates `EXX204`) → the ids (`EXX102`) → the service's own rules. Within one
//! stage every problem is reported, one `<message>` each. Keys the service
//! does not know are ignored, as the real one does: a misspelt key is simply
//! absent.
//!
//! Status machine (a transition "after d" happens lazily, the first time the
//! state is looked at with `now >= due`, stamped with its due time):
//! 与信中 →after `review_delay`→ 伝票番号入力待ち | 与信NG; 伝票番号入力待ち
//! →shipping→ 請求書発行待ち →after `invoice_delay`→ 入金確認待ち (arrival
//! confirmed) →after `payment_delay`→ クローズ (receipt confirmed, unless
//! the buyer's name carries [`MARKER_UNPAID`]: closed with the merchant's
//! advance taken back, no receipt; [`super::AtobaraiSimHandle::close`] closes for
//! any reason); a cancel request → キャンセル申請中 →after `cancel_delay`→
//! キャンセル済.
//!
//! Per-site registration checks (`E00309` duplicate number, `E00306` date
//! window, `E00307`, `E00308`, the phone's `E00202`) run only where
//! [`super::SiteChecks`] turns them on, as 後払い.com does per merchant.
//!
//! The credit decision is deterministic, first match wins: a test order
//! (`O_TestOrderFlg=1`) gets its `O_TestCreditResult` (2 = under review, then
//! OK); a buyer name containing [`MARKER_NG`] is refused, [`MARKER_REVIEW`]
//! goes under review then OK, [`MARKER_REVIEW_NG`] under review then NG; a
//! total above `credit_limit` is refused; otherwise OK (or under review
//! first when `review_everything`).
//!
//! Guesses where the official specification is silent (clients must not
//! depend on them): the check order above and the Japanese message texts;
//! shipping for an unknown order answers `E04301` (the contract's "otherwise");
//! cancel is allowed in 与信中 … 入金確認待ち, after shipping only for carriers
//! marked cancellable; postcodes are known by a small table plus its area
//! prefixes; a street number is a digit or a kanji numeral before 丁目/番;
//! tracking-number shapes per carrier; `detail` answers an unknown system id
//! with `-1` and leaves unknown merchant numbers out (`success` with no
//! result); a request without an API user id reaches the required-key stage.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeDelta, Utc};

use super::AtobaraiSimConfig;
use super::carriers::SimCarrier;
use super::checks::{Fields, Problems, end_field_checks, is_digits};
use super::wire::{
    AtobaraiService, CloseReason, CreditStatus, DataStatus, Form, IP_NOT_ALLOWED, SYSTEM_FAILURE,
    TEXT_IP_NOT_ALLOWED, keys,
};
use crate::transport::TransportFault;

/// A buyer name containing this is refused (与信NG) at once.
pub const MARKER_NG: &str = "与信NG";
/// A buyer name containing this goes under review (与信中), then OK.
pub const MARKER_REVIEW: &str = "審査中";
/// A buyer name containing this goes under review, then NG.
pub const MARKER_REVIEW_NG: &str = "審査NG";
/// A buyer name containing this never pays: the order closes at the payment
/// delay with the merchant's advance taken back (立替精算戻し), not paid.
pub const MARKER_UNPAID: &str = "未入金";

/// Where a fault applies: one service, or whichever is called next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// Only this service.
    Service(AtobaraiService),
    /// Any service.
    Any,
}

/// A misbehaviour the service shows in real life, suffered before (or, for
/// [`Fault::Timeout`] and [`Fault::Delay`], after) normal handling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// `<status>error</status>` with `EXX901` (system failure), not handled.
    SystemFailure,
    /// `<status>error</status>` with `EXX902` (maintenance), not handled.
    Maintenance,
    /// `<status>error</status>` with this code and text, not handled.
    Error(String),
    /// Handle the request (the order is registered, the number recorded…),
    /// then never answer until the simulator stops: the caller times out and
    /// must recover (`idmap`, `detail`).
    Timeout,
    /// Handle the request, then hold the answer this long.
    Delay(Duration),
    /// This HTTP status with a plain-text body, not handled.
    Status(u16),
    /// HTTP 200 with a body that is not XML (a proxy's page).
    Garbage,
    /// 302 to the same path; the request is handled when it comes back.
    Redirect,
    /// A fault of the network path (reset, slow body, cut-short body, a
    /// proxy's page): see [`TransportFault`].
    Transport(TransportFault),
}

/// One request as it arrived, for assertions on exact keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The service called.
    pub service: AtobaraiService,
    /// The caller's address.
    pub peer: IpAddr,
    /// `Content-Type` as sent.
    pub content_type: Option<String>,
    /// The decoded form, keys in order (empty when not a form).
    pub form: Form,
    /// The raw body.
    pub raw: String,
}

impl RecordedRequest {
    /// The distinct keys of the form.
    pub fn keys(&self) -> BTreeSet<&str> {
        self.form.iter().map(|(k, _)| k.as_str()).collect()
    }

    /// The last value of a key (the way PHP reads a repeated scalar key).
    pub fn value(&self, key: &str) -> Option<&str> {
        self.form
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Counters and recordings of everything the simulator saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Requests per service, refused and faulted ones included.
    pub calls: BTreeMap<AtobaraiService, usize>,
    /// Every request, in arrival order.
    pub requests: Vec<RecordedRequest>,
    /// Requests refused with `EXX101`.
    pub refused_ip: usize,
    /// Requests to a path that is not a service (answered 404).
    pub not_found: usize,
}

impl SimStats {
    /// Requests to one service.
    pub fn calls(&self, service: AtobaraiService) -> usize {
        self.calls.get(&service).copied().unwrap_or(0)
    }

    /// The requests to one service, in arrival order.
    pub fn requests_to(&self, service: AtobaraiService) -> Vec<&RecordedRequest> {
        self.requests
            .iter()
            .filter(|r| r.service == service)
            .collect()
    }
}

/// An order as the simulated service holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimOrder {
    /// `AK` + 8 digits.
    pub system_order_id: String,
    /// `O_Ent_OrderId`; empty when none was sent.
    pub ent_order_id: String,
    /// Where the order stands.
    pub status: DataStatus,
    /// `O_UseAmount`.
    pub use_amount: i64,
    /// `C_NameKj`.
    pub buyer_name: String,
    /// Whether it was a test order.
    pub test: bool,
    /// When it was registered (simulator clock).
    pub registered_at: DateTime<FixedOffset>,
    /// The registration form as received (unknown keys included).
    pub form: Form,
    /// The carrier of the registered tracking number.
    pub deliv_id: Option<u32>,
    /// The registered tracking number, as sent.
    pub journal_number: Option<String>,
    /// When the tracking number was registered.
    pub shipped_at: Option<DateTime<FixedOffset>>,
    /// Set on reaching 入金確認待ち.
    pub arrival_confirmed: bool,
    /// When the invoice went out (入金確認待ち): `isClaimed`, `claimDate`.
    pub claimed_at: Option<DateTime<FixedOffset>>,
    /// Set on a paid クローズ only (`isReceiptConfirmed`).
    pub receipt_confirmed: bool,
    /// When the payment was received (`receiptDate`).
    pub receipt_at: Option<DateTime<FixedOffset>>,
    /// When 後払い.com paid the merchant (`isReimbursed`, `reimbursedDate`).
    pub reimbursed_at: Option<DateTime<FixedOffset>>,
    /// Why the order closed (set on reaching クローズ; decided earlier for
    /// an order that will close unpaid).
    pub close_reason: Option<CloseReason>,
    /// `Reason[]` of the cancel request.
    pub cancel_reason: Option<String>,
    /// When the cancel was requested (`isCanceled`, `cancelDate`).
    pub cancelled_at: Option<DateTime<FixedOffset>>,
    /// The due transition and when.
    pub(crate) next: Option<(DataStatus, DateTime<FixedOffset>)>,
}

/// A `(code, text)` message of an error answer.
pub(crate) type Message = (String, String);

/// A reply before it becomes XML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply {
    /// `<status>error</status>` with these `(code, text)` messages.
    Error(Vec<Message>),
    /// 00.
    Registered {
        ent_order_id: String,
        system_order_id: String,
        status: CreditStatus,
    },
    /// 01: `(system id, merchant number, status)`.
    Statuses(Vec<(String, String, CreditStatus)>),
    /// 02.
    Carriers(Vec<SimCarrier>),
    /// 03: per merchant number, the system id or `(code, text)`.
    IdMap(Vec<(String, Result<String, Message>)>),
    /// 04.
    Shipped {
        system_order_id: String,
        deliv_id: u32,
        name: String,
        journal_num: String,
    },
    /// 05: per order, its `Reason[]` and `Ok` or `(code, text)`.
    Cancels(Vec<CancelRow>),
    /// 09.
    Details(Vec<DetailRow>),
}

/// One `cancel` result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CancelRow {
    pub system_order_id: String,
    /// The `Reason[]` sent with it, echoed.
    pub reason: String,
    pub outcome: Result<(), Message>,
}

/// One `detail` result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DetailRow {
    /// The id asked for.
    pub system_order_id: String,
    /// `None`: the service does not know the id (`-1`).
    pub order: Option<SimOrder>,
    /// The carrier's name (`deliveryName`), from the carrier master.
    pub deliv_name: String,
    /// `siteId`, with the site's name as an attribute.
    pub site_id: u64,
}

/// Everything the simulator knows; one lock guards it.
#[derive(Debug)]
pub struct SimState {
    /// Who may call, the credit hooks, the delays and the carrier master;
    /// the allow-list changes at run time.
    pub(crate) rules: AtobaraiSimConfig,
    pub(crate) orders: BTreeMap<String, SimOrder>,
    pub(crate) next_number: u32,
    faults: Vec<(Target, Fault, u32)>,
    /// Orders whose cancel the service refuses with this per-order code and
    /// text (`E003` from the card processor, `E999`), whatever their state.
    pub(crate) cancel_refusals: BTreeMap<String, Message>,
    /// The counters and recordings.
    pub stats: SimStats,
}

impl SimState {
    pub(crate) fn new(rules: AtobaraiSimConfig) -> Self {
        SimState {
            next_number: rules.first_order_number,
            rules,
            orders: BTreeMap::new(),
            faults: Vec::new(),
            cancel_refusals: BTreeMap::new(),
            stats: SimStats::default(),
        }
    }

    // ---- bookkeeping ----

    /// Counts and records a request (refused ones too).
    pub(crate) fn record(&mut self, request: RecordedRequest) {
        *self.stats.calls.entry(request.service).or_insert(0) += 1;
        self.stats.requests.push(request);
    }

    pub(crate) fn inject(&mut self, target: Target, fault: Fault, times: u32) {
        if times > 0 {
            self.faults.push((target, fault, times));
        }
    }

    pub(crate) fn clear_faults(&mut self) {
        self.faults.clear();
    }

    /// The next due fault for `service`, used up by one.
    pub(crate) fn take_fault(&mut self, service: AtobaraiService) -> Option<Fault> {
        let rule = self.faults.iter_mut().find(|(t, _, left)| {
            *left > 0 && (*t == Target::Any || *t == Target::Service(service))
        })?;
        rule.2 -= 1;
        let fault = rule.1.clone();
        self.faults.retain(|(_, _, left)| *left > 0);
        Some(fault)
    }

    /// Applies every transition that fell due by `now`.
    pub(crate) fn settle(&mut self, now: DateTime<FixedOffset>) {
        for o in self.orders.values_mut() {
            while let Some((to, due)) = o.next {
                if due > now {
                    break;
                }
                enter(o, to, due, &self.rules);
            }
        }
    }

    pub(crate) fn order(&self, system_order_id: &str) -> Option<&SimOrder> {
        self.orders.get(system_order_id)
    }

    pub(crate) fn order_by_ent(&self, ent_order_id: &str) -> Option<&SimOrder> {
        self.orders
            .values()
            .find(|o| !o.ent_order_id.is_empty() && o.ent_order_id == ent_order_id)
    }

    /// Every order registered under a merchant number (a default site takes
    /// one number twice), oldest first.
    pub(crate) fn orders_by_ent<'a>(
        &'a self,
        ent_order_id: &'a str,
    ) -> impl Iterator<Item = &'a SimOrder> + 'a {
        self.orders
            .values()
            .filter(move |o| !o.ent_order_id.is_empty() && o.ent_order_id == ent_order_id)
    }

    pub(crate) fn orders(&self) -> impl Iterator<Item = &SimOrder> {
        self.orders.values()
    }

    /// Forces a status (what the service's staff might do) and schedules
    /// what follows it. `false` when the order does not exist.
    pub(crate) fn set_status(
        &mut self,
        system_order_id: &str,
        status: DataStatus,
        now: DateTime<FixedOffset>,
    ) -> bool {
        match self.orders.get_mut(system_order_id) {
            Some(o) => {
                o.next = None;
                enter(o, status, now, &self.rules);
                true
            }
            None => false,
        }
    }

    /// Closes an order for `reason` (a payment, a bad debt, the merchant's
    /// advance taken back), as the service's staff do. `false` when the
    /// order does not exist.
    pub(crate) fn close(
        &mut self,
        system_order_id: &str,
        reason: CloseReason,
        now: DateTime<FixedOffset>,
    ) -> bool {
        match self.orders.get_mut(system_order_id) {
            Some(o) => {
                o.close_reason = Some(reason);
                o.next = None;
                enter(o, DataStatus::Closed, now, &self.rules);
                true
            }
            None => false,
        }
    }

    // ---- the service ----

    /// Handles one request of `service` from `peer`.
    pub(crate) fn handle(
        &mut self,
        service: AtobaraiService,
        form: &[(String, String)],
        peer: IpAddr,
        now: DateTime<FixedOffset>,
    ) -> Reply {
        self.settle(now);
        let fields = Fields { form };
        let peer = canonical(peer);
        // The server looks up the API user's allow-list first: a user that
        // does not exist has none, so it is refused like an address. (A
        // request without the key reaches the required-key stage: a guess.)
        let user_key = match service {
            AtobaraiService::Order => keys::O_API_USER_ID,
            _ => keys::API_USER_ID,
        };
        let unknown_user = fields
            .get(user_key)
            .is_some_and(|v| v.parse::<u64>().ok() != Some(self.rules.api_user_id));
        if unknown_user || !self.rules.allowed_sources.iter().any(|n| n.contains(&peer)) {
            self.stats.refused_ip += 1;
            return Reply::Error(vec![(
                service.code(IP_NOT_ALLOWED),
                TEXT_IP_NOT_ALLOWED.to_string(),
            )]);
        }
        let mut p = Problems::new(service);
        let wrong_ids = self.check_ids(service, &fields, &mut p);
        let result = match service {
            AtobaraiService::Order => self.register(&fields, p, wrong_ids, now),
            AtobaraiService::Status => self.status(&fields, p, wrong_ids),
            AtobaraiService::DelivList => end_field_checks(&mut p, wrong_ids)
                .map(|()| Reply::Carriers(self.rules.carriers.clone())),
            AtobaraiService::IdMap => self.idmap(&fields, p, wrong_ids),
            AtobaraiService::Shipping => self.shipping(&fields, p, wrong_ids, now),
            AtobaraiService::Cancel => self.cancel(&fields, p, wrong_ids, now),
            AtobaraiService::Detail => self.detail(&fields, p, wrong_ids),
            AtobaraiService::JnumMod | AtobaraiService::OrderMod => Err(Reply::Error(vec![(
                service.code(SYSTEM_FAILURE),
                "このAPIはシミュレータでは提供されていません".to_string(),
            )])),
        };
        match result {
            Ok(reply) | Err(reply) => reply,
        }
    }

    /// Adds missing or malformed id keys to `p`; `true` when they are all
    /// well-formed but do not match the account (`EXX102` after the format
    /// stage).
    fn check_ids(&self, service: AtobaraiService, fields: &Fields<'_>, p: &mut Problems) -> bool {
        let keys: Vec<(&str, u64)> = match service {
            AtobaraiService::Order => vec![
                (keys::O_ENTERPRISE_ID, self.rules.enterprise_id),
                (keys::O_SITE_ID, self.rules.site_id),
                (keys::O_API_USER_ID, self.rules.api_user_id),
            ],
            AtobaraiService::Status
            | AtobaraiService::DelivList
            | AtobaraiService::IdMap
            | AtobaraiService::Shipping
            | AtobaraiService::Cancel
            | AtobaraiService::JnumMod
            | AtobaraiService::Detail
            | AtobaraiService::OrderMod => vec![
                (keys::ENTERPRISE_ID, self.rules.enterprise_id),
                (keys::API_USER_ID, self.rules.api_user_id),
            ],
        };
        let mut wrong = false;
        for (key, want) in keys {
            match fields.get(key) {
                None => p.required(key),
                Some(v) if !is_digits(v) => p.format(key),
                Some(v) => wrong |= v.parse::<u64>().ok() != Some(want),
            }
        }
        wrong
    }
}

/// Whether a cancel request is taken in the order's state.
pub(crate) fn cancellable(o: &SimOrder, carriers: &[SimCarrier]) -> bool {
    let after_shipping_ok = || {
        o.deliv_id
            .and_then(|id| carriers.iter().find(|c| c.deliv_id == id))
            .is_none_or(|c| c.cancellable_after_shipping)
    };
    match o.status {
        DataStatus::UnderReview | DataStatus::AwaitingJournalNumber => true,
        DataStatus::AwaitingInvoice | DataStatus::AwaitingPayment => after_shipping_ok(),
        DataStatus::PartlyPaid
        | DataStatus::Closed
        | DataStatus::CancelRequested
        | DataStatus::Cancelled
        | DataStatus::CreditNg => false,
    }
}

/// An IPv4 caller seen through an IPv6 socket as the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// Moves an order into `to` at `at` and schedules what follows.
pub(crate) fn enter(
    o: &mut SimOrder,
    to: DataStatus,
    at: DateTime<FixedOffset>,
    rules: &AtobaraiSimConfig,
) {
    o.status = to;
    o.next = None;
    match to {
        DataStatus::AwaitingInvoice => {
            o.next = Some((DataStatus::AwaitingPayment, after(at, rules.invoice_delay)));
        }
        DataStatus::AwaitingPayment => {
            o.arrival_confirmed = true;
            o.claimed_at.get_or_insert(at);
            // A buyer who never pays: the merchant's advance is taken back.
            if o.buyer_name.contains(MARKER_UNPAID) {
                o.close_reason = Some(CloseReason::AdvanceTakenBack);
            }
            o.next = rules
                .payment_delay
                .map(|d| (DataStatus::Closed, after(at, d)));
        }
        DataStatus::Closed => {
            o.arrival_confirmed = true;
            let reason = *o.close_reason.get_or_insert(CloseReason::Paid);
            // Only a paid close has a receipt; the merchant is paid then too.
            if reason == CloseReason::Paid {
                o.receipt_confirmed = true;
                o.receipt_at.get_or_insert(at);
                o.reimbursed_at.get_or_insert(at);
            }
        }
        DataStatus::CancelRequested => {
            o.cancelled_at.get_or_insert(at);
            o.next = Some((DataStatus::Cancelled, after(at, rules.cancel_delay)));
        }
        DataStatus::UnderReview
        | DataStatus::AwaitingJournalNumber
        | DataStatus::PartlyPaid
        | DataStatus::Cancelled
        | DataStatus::CreditNg => {}
    }
}

/// `at + d`; a delay too long for the calendar falls due never.
pub(crate) fn after(at: DateTime<FixedOffset>, d: Duration) -> DateTime<FixedOffset> {
    TimeDelta::from_std(d)
        .ok()
        .and_then(|d| at.checked_add_signed(d))
        .unwrap_or_else(|| DateTime::<Utc>::MAX_UTC.fixed_offset())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delay_too_long_for_the_calendar_falls_due_never() {
        let now = Utc::now().fixed_offset();
        assert_eq!(
            after(now, Duration::from_secs(60)),
            now + TimeDelta::seconds(60)
        );
        assert!(after(now, Duration::MAX) > now + TimeDelta::days(365 * 1000));
    }
}
