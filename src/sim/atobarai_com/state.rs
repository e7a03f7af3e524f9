//! The simulated Atobarai.com back office: orders and their DataStatus
//! machine, the carrier master, the caller checks, faults and counters, with
//! the contract's rules for every service. No I/O and no clock of its own:
//! every operation takes `now`, so the rules are testable without HTTP and
//! time moves only when the caller says so.
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
//! confirmed) →after `payment_delay`→ クローズ (receipt confirmed); a cancel
//! request → キャンセル申請中 →after `cancel_delay`→ キャンセル済.
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
//! with `cd="-1"` and leaves unknown merchant numbers out.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta};
use ipnet::IpNet;

use crate::channels::credit::atobarai_com::wire::{
    self, AtobaraiService, BAD_DATE, BAD_FORMAT, BAD_IDS, Form, IP_NOT_ALLOWED, REQUIRED,
    SYSTEM_FAILURE,
};
use crate::channels::credit::atobarai_com::{CreditStatus, DetailStatus};

/// A buyer name containing this is refused (与信NG) at once.
pub const MARKER_NG: &str = "与信NG";
/// A buyer name containing this goes under review (与信中), then OK.
pub const MARKER_REVIEW: &str = "審査中";
/// A buyer name containing this goes under review, then NG.
pub const MARKER_REVIEW_NG: &str = "審査NG";
/// Codes written as the service's server source writes them (the contract's
/// Corrections), not taken from the adapter.
/// 05 per order: not found.
pub const CODE_CANCEL_NOT_FOUND: &str = "E05202";
/// 05 per order: not cancellable in its state.
pub const CODE_CANCEL_NOT_CANCELLABLE: &str = "E05301";
/// 01: none of the ids asked is known.
pub const CODE_STATUS_UNKNOWN_IDS: &str = "E01202";
/// 00: the order date is more than 60 days ago.
pub const CODE_ORDER_TOO_OLD: &str = "E00306";
/// Orders per status, idmap, cancel and detail request.
pub const MAX_IDS: usize = 100;
/// Longest merchant order number and address.
pub const MAX_TEXT: usize = 100;

/// Exact postcodes the simulated service knows; any postcode with the same
/// three-digit area prefix is known too.
pub const KNOWN_POSTCODES: [&str; 16] = [
    "0600001", "9800811", "1000001", "1000005", "1040061", "1500001", "1600022", "2310023",
    "3300063", "4600008", "5300001", "6008216", "6500021", "7300011", "8100001", "9000015",
];

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
    /// proxy's page): see [`crate::sim::transport::TransportFault`].
    Transport(crate::sim::transport::TransportFault),
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

/// What tracking numbers a carrier accepts (hyphens and spaces ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackingRule {
    /// Only digits, this many.
    Digits {
        /// Fewest digits.
        min: usize,
        /// Most digits.
        max: usize,
    },
    /// Letters and digits (Japan Post's `AB123456789JP`), this many.
    Alphanumeric {
        /// Fewest characters.
        min: usize,
        /// Most characters.
        max: usize,
    },
}

impl TrackingRule {
    /// Whether a tracking number has the carrier's shape.
    pub fn accepts(self, number: &str) -> bool {
        let cleaned: String = number.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
        let (ok_chars, min, max) = match self {
            TrackingRule::Digits { min, max } => {
                (cleaned.bytes().all(|b| b.is_ascii_digit()), min, max)
            }
            TrackingRule::Alphanumeric { min, max } => {
                (cleaned.bytes().all(|b| b.is_ascii_alphanumeric()), min, max)
            }
        };
        ok_chars && (min..=max).contains(&cleaned.len())
    }
}

/// One carrier of the simulated master (`delivlist`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimCarrier {
    /// The service's id.
    pub deliv_id: u32,
    /// Name as served.
    pub name: String,
    /// Short name as served.
    pub short_name: String,
    /// Which tracking numbers it accepts (`E04202` otherwise).
    pub tracking: TrackingRule,
    /// Whether an order shipped with it can still be cancelled.
    pub cancellable_after_shipping: bool,
}

impl SimCarrier {
    fn new(deliv_id: u32, name: &str, short_name: &str, tracking: TrackingRule) -> Self {
        SimCarrier {
            deliv_id,
            name: name.to_string(),
            short_name: short_name.to_string(),
            tracking,
            cancellable_after_shipping: true,
        }
    }
}

/// The default master: the seed's family of carriers. 1 and 2 are the
/// contract's; the other ids are the simulator's own, on purpose not in the
/// seed's order, so a client that guesses ids fails.
pub fn default_carriers() -> Vec<SimCarrier> {
    let digits = |min, max| TrackingRule::Digits { min, max };
    let mut carriers = vec![
        SimCarrier::new(1, "ヤマト運輸", "ヤマト", digits(12, 12)),
        SimCarrier::new(2, "佐川急便", "佐川", digits(12, 12)),
        SimCarrier::new(3, "ゆうパック", "ゆうパック", digits(11, 12)),
        SimCarrier::new(4, "西濃運輸", "西濃", digits(10, 12)),
        SimCarrier::new(5, "福山通運", "福山", digits(10, 12)),
        SimCarrier::new(
            6,
            "日本郵便",
            "日本郵便",
            TrackingRule::Alphanumeric { min: 11, max: 13 },
        ),
        SimCarrier::new(
            7,
            "エコ配",
            "エコ配",
            TrackingRule::Alphanumeric { min: 8, max: 14 },
        ),
        SimCarrier::new(
            8,
            "郵便書留",
            "書留",
            TrackingRule::Alphanumeric { min: 11, max: 13 },
        ),
        SimCarrier::new(9, "日本通運", "日通", digits(10, 12)),
        SimCarrier::new(
            10,
            "セイノースーパーエクスプレス",
            "セイノーSE",
            digits(10, 12),
        ),
        SimCarrier::new(11, "新潟運輸", "新潟運輸", digits(8, 12)),
        SimCarrier::new(12, "名鉄運輸", "名鉄", digits(10, 12)),
        SimCarrier::new(13, "信州名鉄運輸", "信州名鉄", digits(10, 12)),
        SimCarrier::new(14, "トールエクスプレスジャパン", "トール", digits(10, 12)),
        SimCarrier::new(15, "トナミ運輸", "トナミ", digits(10, 12)),
    ];
    for c in &mut carriers {
        // Guess: the light-parcel carriers hand the parcel over for good.
        if matches!(c.deliv_id, 7 | 8) {
            c.cancellable_after_shipping = false;
        }
    }
    carriers
}

/// Who may call and how credit and time behave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rules {
    pub enterprise_id: u64,
    pub site_id: u64,
    pub api_user_id: u64,
    pub allowed_sources: Vec<IpNet>,
    pub credit_limit: i64,
    pub review_everything: bool,
    pub review_delay: TimeDelta,
    pub cancel_delay: TimeDelta,
    pub invoice_delay: TimeDelta,
    pub payment_delay: Option<TimeDelta>,
}

/// An order as the simulated service holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimOrder {
    /// `AK` + 8 digits.
    pub system_order_id: String,
    /// `O_Ent_OrderId`; empty when none was sent.
    pub ent_order_id: String,
    /// Where the order stands.
    pub status: DetailStatus,
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
    /// Set on reaching クローズ.
    pub receipt_confirmed: bool,
    /// `Reason[]` of the cancel request.
    pub cancel_reason: Option<String>,
    /// The due transition and when.
    pub(crate) next: Option<(DetailStatus, DateTime<FixedOffset>)>,
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
    /// 03: `(merchant number, system id or empty)`.
    IdMap(Vec<(String, String)>),
    /// 04.
    Shipped {
        system_order_id: String,
        deliv_id: u32,
        name: String,
        journal_num: String,
    },
    /// 05: per order, `Ok` or `(code, text)`.
    Cancels(Vec<(String, Result<(), Message>)>),
    /// 09.
    Details(Vec<DetailRow>),
}

/// One `detail` result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DetailRow {
    pub system_order_id: String,
    pub ent_order_id: String,
    pub status: DetailStatus,
    pub is_shipped: bool,
    pub deliv_id: Option<u32>,
    /// The carrier's name (`deliveryName`), from the carrier master.
    pub deliv_name: String,
    pub journal_number: Option<String>,
    pub arrival_confirmed: bool,
    pub receipt_confirmed: bool,
}

/// Everything the simulator knows; one lock guards it.
#[derive(Debug)]
pub struct SimState {
    pub(crate) rules: Rules,
    pub carriers: Vec<SimCarrier>,
    orders: BTreeMap<String, SimOrder>,
    next_number: u32,
    faults: Vec<(Target, Fault, u32)>,
    pub stats: SimStats,
}

/// The form as the service reads it: scalar keys last-wins, `[]` keys as lists.
struct Fields<'a> {
    form: &'a [(String, String)],
}

impl<'a> Fields<'a> {
    fn get(&self, key: &str) -> Option<&'a str> {
        self.form
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    fn list(&self, key: &str) -> Vec<&'a str> {
        self.form
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .collect()
    }
}

/// Problems of one request, as `(code, text)` messages.
struct Problems {
    service: AtobaraiService,
    messages: Vec<Message>,
}

impl Problems {
    fn new(service: AtobaraiService) -> Self {
        Problems {
            service,
            messages: Vec::new(),
        }
    }

    fn common(&mut self, suffix: &str, text: String) {
        self.messages.push((self.service.code(suffix), text));
    }

    fn required(&mut self, key: &str) {
        self.common(REQUIRED, format!("{key}：必須項目が入力されていません"));
    }

    fn format(&mut self, key: &str) {
        self.common(BAD_FORMAT, format!("{key}：形式が正しくありません"));
    }

    fn code(&mut self, code: &str, text: String) {
        self.messages.push((code.to_string(), text));
    }

    fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// `Err` with the messages when there are any.
    fn stop(&mut self) -> Result<(), Reply> {
        if self.messages.is_empty() {
            Ok(())
        } else {
            Err(Reply::Error(std::mem::take(&mut self.messages)))
        }
    }
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if !is_digits(digits) {
        return None;
    }
    s.parse().ok()
}

/// Seven digits, optionally `NNN-NNNN`.
fn postcode_digits(s: &str) -> Option<String> {
    let ok = match s.len() {
        7 => is_digits(s),
        8 => {
            s.as_bytes().get(3) == Some(&b'-')
                && s.get(..3).is_some_and(is_digits)
                && s.get(4..).is_some_and(is_digits)
        }
        _ => false,
    };
    ok.then(|| s.replace('-', ""))
}

fn postcode_known(digits: &str) -> bool {
    KNOWN_POSTCODES
        .iter()
        .any(|k| *k == digits || (k.get(..3) == digits.get(..3) && !digits.ends_with("9999")))
}

/// Digits and hyphens, 10 or 11 digits.
fn phone_ok(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_digit() || c == '-')
        && (10..=11).contains(&s.chars().filter(char::is_ascii_digit).count())
}

fn mail_ok(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !domain.contains('@') && !s.contains(' ')
        }
        None => false,
    }
}

/// A digit (ASCII or full-width), or a kanji numeral followed by 丁目 or 番.
fn has_street_number(address: &str) -> bool {
    let chars: Vec<char> = address.chars().collect();
    chars.iter().enumerate().any(|(i, c)| {
        c.is_ascii_digit()
            || ('０'..='９').contains(c)
            || ("一二三四五六七八九十〇".contains(*c)
                && chars
                    .get(i + 1)
                    .is_some_and(|next| *next == '丁' || *next == '番'))
    })
}

fn text_len(s: &str) -> usize {
    s.chars().count()
}

/// The label `status` and `order` give a credit code.
pub(crate) fn credit_label(status: CreditStatus) -> &'static str {
    match status {
        CreditStatus::UnderReview => "与信中",
        CreditStatus::Ok => "与信OK",
        CreditStatus::Ng => "与信NG",
        CreditStatus::Cancelled => "キャンセル",
        CreditStatus::Unknown | CreditStatus::Unrecognised(_) => "",
    }
}

/// What a registration's credit check decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Ok,
    Ng,
    ReviewThen(bool),
}

impl SimState {
    pub(crate) fn new(rules: Rules, carriers: Vec<SimCarrier>, first_number: u32) -> Self {
        SimState {
            rules,
            carriers,
            orders: BTreeMap::new(),
            next_number: first_number,
            faults: Vec::new(),
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
        let rules = self.rules.clone();
        for o in self.orders.values_mut() {
            while let Some((to, due)) = o.next {
                if due > now {
                    break;
                }
                enter(o, to, due, &rules);
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

    pub(crate) fn orders(&self) -> impl Iterator<Item = &SimOrder> {
        self.orders.values()
    }

    /// Forces a status (what the service's staff might do) and schedules
    /// what follows it. `false` when the order does not exist.
    pub(crate) fn set_status(
        &mut self,
        system_order_id: &str,
        status: DetailStatus,
        now: DateTime<FixedOffset>,
    ) -> bool {
        let rules = self.rules.clone();
        match self.orders.get_mut(system_order_id) {
            Some(o) => {
                o.next = None;
                enter(o, status, now, &rules);
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
        if !self.rules.allowed_sources.iter().any(|n| n.contains(&peer)) {
            self.stats.refused_ip += 1;
            return Reply::Error(vec![(
                service.code(IP_NOT_ALLOWED),
                format!("接続元IPアドレス({peer})は許可されていません"),
            )]);
        }
        let mut p = Problems::new(service);
        let wrong_ids = self.check_ids(service, &fields, &mut p);
        let result = match service {
            AtobaraiService::Order => self.register(&fields, form, p, wrong_ids, now),
            AtobaraiService::Status => self.status(&fields, p, wrong_ids),
            AtobaraiService::DelivList => {
                end_field_checks(&mut p, wrong_ids).map(|()| Reply::Carriers(self.carriers.clone()))
            }
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
                (wire::O_ENTERPRISE_ID, self.rules.enterprise_id),
                (wire::O_SITE_ID, self.rules.site_id),
                (wire::O_API_USER_ID, self.rules.api_user_id),
            ],
            AtobaraiService::Status
            | AtobaraiService::DelivList
            | AtobaraiService::IdMap
            | AtobaraiService::Shipping
            | AtobaraiService::Cancel
            | AtobaraiService::JnumMod
            | AtobaraiService::Detail
            | AtobaraiService::OrderMod => vec![
                (wire::ENTERPRISE_ID, self.rules.enterprise_id),
                (wire::API_USER_ID, self.rules.api_user_id),
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

    /// 00: validate, decide credit, store.
    fn register(
        &mut self,
        fields: &Fields<'_>,
        form: &[(String, String)],
        mut p: Problems,
        wrong_ids: bool,
        now: DateTime<FixedOffset>,
    ) -> Result<Reply, Reply> {
        let (party_keys, extras) = register_formats(fields, &mut p);
        end_field_checks(&mut p, wrong_ids)?;
        let use_amount = self.register_rules(fields, &mut p, &party_keys, extras, now);
        p.stop()?;
        Ok(self.store_registration(fields, form, use_amount, now))
    }

    /// The order's own rules (lines, amounts, addresses, age, duplicates);
    /// answers the amount to use.
    fn register_rules(
        &self,
        fields: &Fields<'_>,
        p: &mut Problems,
        party_keys: &[PartyKeys],
        extras: i64,
        now: DateTime<FixedOffset>,
    ) -> i64 {
        let lines = line_numbers(fields);
        if lines.is_empty() {
            p.code(wire::ORDER_NO_LINES, "商品明細がありません".to_string());
        }
        let mut sum = 0i64;
        for n in &lines {
            match line_amount(fields, *n) {
                Some(amount) => sum = sum.saturating_add(amount),
                None => p.code(
                    wire::ORDER_BAD_LINE,
                    format!("商品明細{n}が正しくありません"),
                ),
            }
        }
        let use_amount = fields
            .get(wire::O_USE_AMOUNT)
            .and_then(parse_int)
            .unwrap_or(0);
        if !lines.is_empty() && p.is_empty() && sum.saturating_add(extras) != use_amount {
            p.code(
                wire::ORDER_AMOUNT_MISMATCH,
                format!(
                    "利用額({use_amount})が明細の合計({})と一致しません",
                    sum.saturating_add(extras)
                ),
            );
        }
        for (postal, address, _) in party_keys {
            if fields.get(address).is_some_and(|v| !has_street_number(v)) {
                p.code(
                    wire::ORDER_NO_STREET_NUMBER,
                    format!("{address}：番地が入力されていません"),
                );
            }
            if fields
                .get(postal)
                .and_then(postcode_digits)
                .is_some_and(|d| !postcode_known(&d))
            {
                p.code(
                    wire::ORDER_UNKNOWN_POSTCODE,
                    format!("{postal}：郵便番号が存在しません"),
                );
            }
        }
        if let Some(date) = fields
            .get(wire::O_RECEIPT_ORDER_DATE)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y/%m/%d").ok())
            && date < now.date_naive() - TimeDelta::days(60)
        {
            p.code(
                CODE_ORDER_TOO_OLD,
                "注文日から60日を過ぎた注文は登録できません".to_string(),
            );
        }
        let ent_order_id = fields.get(wire::O_ENT_ORDER_ID).unwrap_or("");
        if !ent_order_id.is_empty() && self.order_by_ent(ent_order_id).is_some() {
            p.code(
                wire::ORDER_DUPLICATE,
                format!("任意注文番号({ent_order_id})は既に登録されています"),
            );
        }
        use_amount
    }

    /// Decides the credit and keeps the order.
    fn store_registration(
        &mut self,
        fields: &Fields<'_>,
        form: &[(String, String)],
        use_amount: i64,
        now: DateTime<FixedOffset>,
    ) -> Reply {
        let ent_order_id = fields.get(wire::O_ENT_ORDER_ID).unwrap_or("").to_string();
        let buyer_name = fields.get(wire::C_NAME_KJ).unwrap_or("").to_string();
        let test = fields.get(wire::O_TEST_ORDER_FLG) == Some("1");
        let decision = self.decide(fields, test, &buyer_name, use_amount);
        let system_order_id = format!("AK{:08}", self.next_number);
        self.next_number = self.next_number.saturating_add(1);
        let (status, next) = match decision {
            Decision::Ok => (DetailStatus::AwaitingTrackingNumber, None),
            Decision::Ng => (DetailStatus::CreditNg, None),
            Decision::ReviewThen(ok) => {
                let to = if ok {
                    DetailStatus::AwaitingTrackingNumber
                } else {
                    DetailStatus::CreditNg
                };
                (
                    DetailStatus::UnderReview,
                    Some((to, now + self.rules.review_delay)),
                )
            }
        };
        self.orders.insert(
            system_order_id.clone(),
            SimOrder {
                system_order_id: system_order_id.clone(),
                ent_order_id: ent_order_id.clone(),
                status,
                use_amount,
                buyer_name,
                test,
                registered_at: now,
                form: form.to_vec(),
                deliv_id: None,
                journal_number: None,
                shipped_at: None,
                arrival_confirmed: false,
                receipt_confirmed: false,
                cancel_reason: None,
                next,
            },
        );
        Reply::Registered {
            ent_order_id,
            system_order_id,
            status: status.credit_status(),
        }
    }

    /// The deterministic credit hooks, first match wins.
    fn decide(&self, fields: &Fields<'_>, test: bool, name: &str, amount: i64) -> Decision {
        if test {
            match fields.get(wire::O_TEST_CREDIT_RESULT) {
                Some("1") => return Decision::Ng,
                Some("2") => return Decision::ReviewThen(true),
                _ => return Decision::Ok,
            }
        }
        if name.contains(MARKER_NG) {
            return Decision::Ng;
        }
        if name.contains(MARKER_REVIEW_NG) {
            return Decision::ReviewThen(false);
        }
        if name.contains(MARKER_REVIEW) {
            return Decision::ReviewThen(true);
        }
        if amount > self.rules.credit_limit {
            return Decision::Ng;
        }
        if self.rules.review_everything {
            return Decision::ReviewThen(true);
        }
        Decision::Ok
    }

    /// 01.
    fn status(
        &self,
        fields: &Fields<'_>,
        mut p: Problems,
        wrong_ids: bool,
    ) -> Result<Reply, Reply> {
        let ids = id_list(fields, wire::ORDER_IDS, &mut p, true);
        end_field_checks(&mut p, wrong_ids)?;
        Ok(Reply::Statuses(
            ids.iter()
                .map(|id| match self.orders.get(*id) {
                    Some(o) => (
                        id.to_string(),
                        o.ent_order_id.clone(),
                        o.status.credit_status(),
                    ),
                    None => (id.to_string(), String::new(), CreditStatus::Unknown),
                })
                .collect(),
        ))
    }

    /// 03.
    fn idmap(&self, fields: &Fields<'_>, mut p: Problems, wrong_ids: bool) -> Result<Reply, Reply> {
        let ents = id_list(fields, wire::ENT_ORDER_IDS, &mut p, true);
        end_field_checks(&mut p, wrong_ids)?;
        Ok(Reply::IdMap(
            ents.iter()
                .map(|ent| {
                    let system = self
                        .order_by_ent(ent)
                        .map(|o| o.system_order_id.clone())
                        .unwrap_or_default();
                    (ent.to_string(), system)
                })
                .collect(),
        ))
    }

    /// 04.
    fn shipping(
        &mut self,
        fields: &Fields<'_>,
        mut p: Problems,
        wrong_ids: bool,
        now: DateTime<FixedOffset>,
    ) -> Result<Reply, Reply> {
        for key in [wire::ORDER_ID, wire::DELIV_ID, wire::JOURNAL_NUM] {
            if fields.get(key).is_none() {
                p.required(key);
            }
        }
        if fields.get(wire::DELIV_ID).is_some_and(|v| !is_digits(v)) {
            p.format(wire::DELIV_ID);
        }
        end_field_checks(&mut p, wrong_ids)?;
        let system_order_id = fields.get(wire::ORDER_ID).unwrap_or("");
        let journal = fields.get(wire::JOURNAL_NUM).unwrap_or("");
        let deliv_id: Option<u32> = fields.get(wire::DELIV_ID).and_then(|v| v.parse().ok());
        let carrier = deliv_id.and_then(|id| self.carriers.iter().find(|c| c.deliv_id == id));
        let Some(carrier) = carrier.filter(|c| c.tracking.accepts(journal)).cloned() else {
            p.code(
                wire::SHIPPING_BAD_CARRIER_OR_NUMBER,
                "配送会社または伝票番号が正しくありません".to_string(),
            );
            return Err(Reply::Error(p.messages));
        };
        let rules = self.rules.clone();
        let Some(order) = self
            .orders
            .get_mut(system_order_id)
            .filter(|o| o.status == DetailStatus::AwaitingTrackingNumber)
        else {
            p.code(
                wire::SHIPPING_NOT_ALLOWED,
                "注文が存在しないか、伝票番号を登録できる状態ではありません".to_string(),
            );
            return Err(Reply::Error(p.messages));
        };
        order.deliv_id = Some(carrier.deliv_id);
        order.journal_number = Some(journal.to_string());
        order.shipped_at = Some(now);
        enter(order, DetailStatus::AwaitingInvoice, now, &rules);
        Ok(Reply::Shipped {
            system_order_id: system_order_id.to_string(),
            deliv_id: carrier.deliv_id,
            name: carrier.name,
            journal_num: journal.to_string(),
        })
    }

    /// 05.
    fn cancel(
        &mut self,
        fields: &Fields<'_>,
        mut p: Problems,
        wrong_ids: bool,
        now: DateTime<FixedOffset>,
    ) -> Result<Reply, Reply> {
        let ids = id_list(fields, wire::ORDER_IDS, &mut p, true);
        let reasons = fields.list(wire::REASONS);
        end_field_checks(&mut p, wrong_ids)?;
        let rules = self.rules.clone();
        let mut results = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            let carriers = &self.carriers;
            let outcome = match self.orders.get_mut(*id) {
                None => Err((
                    CODE_CANCEL_NOT_FOUND.to_string(),
                    "注文が存在しません".to_string(),
                )),
                Some(o) if cancellable(o, carriers) => {
                    o.cancel_reason = reasons.get(i).map(|r| r.to_string());
                    enter(o, DetailStatus::CancelRequested, now, &rules);
                    Ok(())
                }
                Some(_) => Err((
                    CODE_CANCEL_NOT_CANCELLABLE.to_string(),
                    "キャンセルできない状態です".to_string(),
                )),
            };
            results.push((id.to_string(), outcome));
        }
        Ok(Reply::Cancels(results))
    }

    /// 09.
    fn detail(
        &self,
        fields: &Fields<'_>,
        mut p: Problems,
        wrong_ids: bool,
    ) -> Result<Reply, Reply> {
        let ids = id_list(fields, wire::ORDER_IDS, &mut p, false);
        let ents = id_list(fields, wire::ENT_ORDER_IDS, &mut p, false);
        if ids.is_empty() && ents.is_empty() {
            p.required(wire::ORDER_IDS);
        }
        if ids.len() + ents.len() > MAX_IDS {
            p.format(wire::ORDER_IDS);
        }
        end_field_checks(&mut p, wrong_ids)?;
        let mut rows = Vec::new();
        for id in ids {
            rows.push(match self.orders.get(id) {
                Some(o) => detail_row(o, &self.carriers),
                None => DetailRow {
                    system_order_id: id.to_string(),
                    ent_order_id: String::new(),
                    status: DetailStatus::Unknown,
                    is_shipped: false,
                    deliv_id: None,
                    deliv_name: String::new(),
                    journal_number: None,
                    arrival_confirmed: false,
                    receipt_confirmed: false,
                },
            });
        }
        for ent in ents {
            if let Some(o) = self.order_by_ent(ent) {
                rows.push(detail_row(o, &self.carriers));
            }
        }
        Ok(Reply::Details(rows))
    }
}

/// After the field checks: stop with the problems so far, or with `EXX102`
/// when only the ids were wrong.
fn end_field_checks(p: &mut Problems, wrong_ids: bool) -> Result<(), Reply> {
    p.stop()?;
    if wrong_ids {
        p.common(
            BAD_IDS,
            "事業者ID、サイトIDまたはAPIユーザIDが正しくありません".to_string(),
        );
    }
    p.stop()
}

/// A `[]` list: required when `required`, at most [`MAX_IDS`], no blanks.
fn id_list<'a>(fields: &Fields<'a>, key: &str, p: &mut Problems, required: bool) -> Vec<&'a str> {
    let ids = fields.list(key);
    if ids.is_empty() && required {
        p.required(key);
    }
    if ids.len() > MAX_IDS || ids.iter().any(|i| i.is_empty()) {
        p.format(key);
    }
    ids
}

/// The line numbers present: every `n` any `I_*_<n>` key names.
fn line_numbers(fields: &Fields<'_>) -> BTreeSet<u32> {
    let prefixes = [
        wire::I_ITEM_NAME_KJ,
        wire::I_UNIT_PRICE,
        wire::I_ITEM_NUM,
        wire::I_TAX_RATE,
    ];
    fields
        .form
        .iter()
        .filter_map(|(k, _)| {
            prefixes
                .iter()
                .find_map(|p| k.strip_prefix(p))
                .and_then(|n| if is_digits(n) { n.parse().ok() } else { None })
        })
        .filter(|n| *n > 0)
        .collect()
}

/// `unit price × quantity` of a valid line; `None` when the line is invalid.
fn line_amount(fields: &Fields<'_>, n: u32) -> Option<i64> {
    let key = |prefix: &str| wire::item_key(prefix, n as usize);
    let name = fields.get(&key(wire::I_ITEM_NAME_KJ))?;
    if text_len(name) > 255 {
        return None;
    }
    let price = fields.get(&key(wire::I_UNIT_PRICE)).and_then(parse_int)?;
    let qty = fields
        .get(&key(wire::I_ITEM_NUM))
        .and_then(parse_int)
        .filter(|q| *q > 0)?;
    if let Some(rate) = fields.get(&key(wire::I_TAX_RATE))
        && !matches!(rate, "0" | "8" | "10")
    {
        return None;
    }
    price.checked_mul(qty)
}

fn cancellable(o: &SimOrder, carriers: &[SimCarrier]) -> bool {
    let after_shipping_ok = || {
        o.deliv_id
            .and_then(|id| carriers.iter().find(|c| c.deliv_id == id))
            .is_none_or(|c| c.cancellable_after_shipping)
    };
    match o.status {
        DetailStatus::UnderReview | DetailStatus::AwaitingTrackingNumber => true,
        DetailStatus::AwaitingInvoice | DetailStatus::AwaitingPayment => after_shipping_ok(),
        DetailStatus::PartiallyPaid
        | DetailStatus::Closed
        | DetailStatus::CancelRequested
        | DetailStatus::Cancelled
        | DetailStatus::CreditNg
        | DetailStatus::Unknown
        | DetailStatus::Unrecognised(_) => false,
    }
}

fn detail_row(o: &SimOrder, carriers: &[SimCarrier]) -> DetailRow {
    DetailRow {
        system_order_id: o.system_order_id.clone(),
        ent_order_id: o.ent_order_id.clone(),
        status: o.status,
        is_shipped: o.journal_number.is_some(),
        deliv_id: o.deliv_id,
        deliv_name: o
            .deliv_id
            .and_then(|id| carriers.iter().find(|c| c.deliv_id == id))
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        journal_number: o.journal_number.clone(),
        arrival_confirmed: o.arrival_confirmed,
        receipt_confirmed: o.receipt_confirmed,
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// Moves an order into `to` at `at` and schedules what follows.
fn enter(o: &mut SimOrder, to: DetailStatus, at: DateTime<FixedOffset>, rules: &Rules) {
    o.status = to;
    o.next = None;
    match to {
        DetailStatus::AwaitingInvoice => {
            o.next = Some((DetailStatus::AwaitingPayment, at + rules.invoice_delay));
        }
        DetailStatus::AwaitingPayment => {
            o.arrival_confirmed = true;
            o.next = rules.payment_delay.map(|d| (DetailStatus::Closed, at + d));
        }
        DetailStatus::Closed => {
            o.arrival_confirmed = true;
            o.receipt_confirmed = true;
        }
        DetailStatus::CancelRequested => {
            o.next = Some((DetailStatus::Cancelled, at + rules.cancel_delay));
        }
        DetailStatus::UnderReview
        | DetailStatus::AwaitingTrackingNumber
        | DetailStatus::PartiallyPaid
        | DetailStatus::Cancelled
        | DetailStatus::CreditNg
        | DetailStatus::Unknown
        | DetailStatus::Unrecognised(_) => {}
    }
}

/// The postcode, address and phone keys of one party (buyer or recipient).
type PartyKeys = (&'static str, &'static str, &'static str);

/// 00's required keys (the recipient's too, with `O_AnotherDeliFlg=1`).
fn check_required(fields: &Fields<'_>, another: bool, p: &mut Problems) {
    let mut required = vec![
        wire::O_RECEIPT_ORDER_DATE,
        wire::O_USE_AMOUNT,
        wire::C_POSTAL_CODE,
        wire::C_UNITING_ADDRESS,
        wire::C_NAME_KJ,
        wire::C_PHONE,
    ];
    if another {
        required.extend([
            wire::D_POSTAL_CODE,
            wire::D_UNITING_ADDRESS,
            wire::D_DEST_NAME_KJ,
            wire::D_PHONE,
        ]);
    }
    for key in required {
        if fields.get(key).is_none() {
            p.required(key);
        }
    }
}

/// 00's required keys and field formats; answers the parties' keys and the
/// extras (carriage, charge, outside tax) to add to the lines.
fn register_formats(fields: &Fields<'_>, p: &mut Problems) -> (Vec<PartyKeys>, i64) {
    let another = fields.get(wire::O_ANOTHER_DELI_FLG) == Some("1");
    check_required(fields, another, p);
    // Formats.
    if let Some(date) = fields.get(wire::O_RECEIPT_ORDER_DATE)
        && (date.len() != 10 || NaiveDate::parse_from_str(date, "%Y/%m/%d").is_err())
    {
        p.common(
            BAD_DATE,
            format!("{}：日付が正しくありません", wire::O_RECEIPT_ORDER_DATE),
        );
    }
    if fields
        .get(wire::O_USE_AMOUNT)
        .is_some_and(|v| parse_int(v).is_none_or(|a| a < 0))
    {
        p.format(wire::O_USE_AMOUNT);
    }
    if fields
        .get(wire::O_ENT_ORDER_ID)
        .is_some_and(|v| text_len(v) > MAX_TEXT)
    {
        p.format(wire::O_ENT_ORDER_ID);
    }
    for (key, allowed) in [
        (wire::O_ANOTHER_DELI_FLG, &["0", "1"][..]),
        (wire::O_TEST_ORDER_FLG, &["0", "1"][..]),
        (wire::O_TEST_CREDIT_RESULT, &["0", "1", "2"][..]),
    ] {
        if fields.get(key).is_some_and(|v| !allowed.contains(&v)) {
            p.format(key);
        }
    }
    let mut party_keys = vec![(wire::C_POSTAL_CODE, wire::C_UNITING_ADDRESS, wire::C_PHONE)];
    if another {
        party_keys.push((wire::D_POSTAL_CODE, wire::D_UNITING_ADDRESS, wire::D_PHONE));
    }
    for (postal, address, phone) in &party_keys {
        if fields
            .get(postal)
            .is_some_and(|v| postcode_digits(v).is_none())
        {
            p.format(postal);
        }
        if fields.get(address).is_some_and(|v| text_len(v) > MAX_TEXT) {
            p.format(address);
        }
        if fields.get(phone).is_some_and(|v| !phone_ok(v)) {
            p.format(phone);
        }
    }
    if fields
        .get(wire::C_MAIL_ADDRESS)
        .is_some_and(|v| !mail_ok(v))
    {
        p.format(wire::C_MAIL_ADDRESS);
    }
    let mut extras = 0i64;
    for key in [
        wire::I_ITEM_CARRIAGE,
        wire::I_ITEM_CHARGE,
        wire::I_OUTSIDE_TAX,
    ] {
        match fields.get(key).map(parse_int) {
            None => {}
            Some(Some(v)) => extras = extras.saturating_add(v),
            Some(None) => p.format(key),
        }
    }
    (party_keys, extras)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn street_numbers_and_postcodes() {
        for (address, want) in [
            ("東京都千代田区千代田1-1", true),
            ("東京都千代田区千代田１－１", true),
            ("東京都渋谷区神宮前一丁目", true),
            ("京都府京都市下京区四条通二番", true),
            ("東京都三鷹市", false),
            ("三重県四日市市", false),
        ] {
            assert_eq!(has_street_number(address), want, "{address}");
        }
        assert_eq!(postcode_digits("100-0001").as_deref(), Some("1000001"));
        assert_eq!(postcode_digits("1000001").as_deref(), Some("1000001"));
        for bad in ["100-001", "10000011", "１０００００１", "100_0001"] {
            assert_eq!(postcode_digits(bad), None, "{bad}");
        }
        assert!(postcode_known("1000001"));
        assert!(postcode_known("1000004"), "same area as a known code");
        assert!(!postcode_known("1009999"));
        assert!(!postcode_known("0000000"));
        assert!(!postcode_known("1230001"));
    }

    #[test]
    fn phones_and_mail() {
        assert!(phone_ok("03-1234-5678"));
        assert!(phone_ok("09012345678"));
        assert!(!phone_ok("0312"));
        assert!(!phone_ok("03(1234)5678"));
        assert!(mail_ok("taro@example.jp"));
        assert!(!mail_ok("taro.example.jp"));
        assert!(!mail_ok("@example.jp"));
    }
}
