//! The simulated store without I/O: YConnect, the keys, the orders and the
//! stock, and the gate every API call passes in order — maintenance, the
//! daily quota, one query a second per URL, the bearer token, and for the
//! order APIs the source address, the public-key header and the 12-hour
//! rule.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::Instant;

use axum::http::{HeaderName, header};
use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta};
use ipnet::IpNet;

use super::auth::{App, Auth, TokenRefusal};
use super::keys::{KeyError, MAX_ACTIVE_KEYS, StoreKey};
use super::orders::Book;
use super::settings::{self, Settings};
use super::stock::Stock;
use super::xml;
use crate::transport::TransportFault;

/// The store's API calls, each its own URL (the per-second limit is per URL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `GET orderCount`.
    OrderCount,
    /// `POST orderList`.
    OrderList,
    /// `POST orderInfo`.
    OrderInfo,
    /// `GET orderChangeHistory`.
    OrderChangeHistory,
    /// `POST orderChange`.
    OrderChange,
    /// `POST orderStatusChange`.
    OrderStatusChange,
    /// `POST orderShipStatusChange`.
    OrderShipStatusChange,
    /// `POST orderPayStatusChange`.
    OrderPayStatusChange,
    /// `POST getStock`.
    GetStock,
    /// `POST setStock`.
    SetStock,
}

impl Endpoint {
    /// The order APIs: IP allow-list, public-key header, 12-hour rule.
    pub fn is_order_api(self) -> bool {
        !matches!(self, Endpoint::GetStock | Endpoint::SetStock)
    }

    /// The path under `/ShoppingWebService/V1/`.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::OrderCount => "orderCount",
            Endpoint::OrderList => "orderList",
            Endpoint::OrderInfo => "orderInfo",
            Endpoint::OrderChangeHistory => "orderChangeHistory",
            Endpoint::OrderChange => "orderChange",
            Endpoint::OrderStatusChange => "orderStatusChange",
            Endpoint::OrderShipStatusChange => "orderShipStatusChange",
            Endpoint::OrderPayStatusChange => "orderPayStatusChange",
            Endpoint::GetStock => "getStock",
            Endpoint::SetStock => "setStock",
        }
    }
}

/// A fault a test injects into the next calls of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// A fault of the network path.
    Transport(TransportFault),
    /// The provider's system error: `500 od91001` on order APIs, `500
    /// st-02999` on stock.
    SystemError,
    /// setStock applies every row but answers each with `ed-10002`
    /// (updated, read-back failed) and HTTP 207; elsewhere no fault.
    ReadBackFailed,
}

/// Counters tests read.
#[derive(Debug, Clone, Default)]
pub struct SimStats {
    /// Calls per endpoint that reached the gate.
    pub calls: HashMap<Endpoint, u32>,
    /// Order calls whose public-key header was accepted.
    pub signatures_accepted: u32,
    /// Order calls that sent a key header that was not accepted.
    pub signatures_refused: u32,
    /// Token calls (`grant_type=refresh_token`) that carried `X-sws-signature`.
    pub refreshes_with_signature: u32,
    /// Calls refused by the per-URL limit or the daily quota.
    pub throttled: u32,
}

/// The simulated store.
#[derive(Debug)]
pub struct SimState {
    pub(crate) settings: Settings,
    pub(crate) app: App,
    pub(crate) auth: Auth,
    pub(crate) keys: Vec<StoreKey>,
    /// The last key version issued (versions are never reused).
    last_key_version: u32,
    pub(crate) allowed_sources: Vec<IpNet>,
    pub(crate) book: Book,
    pub(crate) stock: Stock,
    /// The app has the store scope (else every call: `401
    /// insufficient_scope`).
    pub(crate) store_scope: bool,
    /// The order-API application is approved for the Client ID (else
    /// order calls: `px-04303`).
    pub(crate) order_api_registered: bool,
    /// The order APIs answer maintenance.
    pub(crate) orders_maintenance: bool,
    /// The stock API answers maintenance (ストアエディタ).
    pub(crate) stock_maintenance: bool,
    day: Option<NaiveDate>,
    calls_today: u32,
    last_call: HashMap<Endpoint, Instant>,
    locked_until: HashMap<Endpoint, Instant>,
    faults: HashMap<Endpoint, VecDeque<Fault>>,
    /// How far tests moved the clock: the per-second limit runs on the wall
    /// clock plus this, so that a lock-out ends when the clock moves.
    pub(crate) pace_offset: std::time::Duration,
    pub(crate) stats: SimStats,
}

/// What the gate lets through: whether the key header was accepted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Admitted {
    pub(crate) authorized: bool,
    pub(crate) fault: Option<Fault>,
}

/// A refusal at the gate: status, extra headers, body.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(HeaderName, String)>,
    pub(crate) body: String,
}

/// The headers a request brings to the gate.
#[derive(Debug, Default)]
pub(crate) struct Presented<'a> {
    pub(crate) authorization: Option<&'a str>,
    pub(crate) signature: Option<&'a str>,
    pub(crate) key_version: Option<&'a str>,
}

fn delta(d: std::time::Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

impl SimState {
    pub(crate) fn new(
        settings: Settings,
        app: App,
        seller_id: String,
        allowed_sources: Vec<IpNet>,
        now: DateTime<FixedOffset>,
    ) -> Result<SimState, KeyError> {
        let first = StoreKey::issue(1, now, delta(settings.key_lifetime))?;
        Ok(SimState {
            settings,
            app,
            auth: Auth::default(),
            keys: vec![first],
            last_key_version: 1,
            allowed_sources,
            book: Book::new(seller_id),
            stock: Stock::default(),
            store_scope: true,
            order_api_registered: true,
            orders_maintenance: false,
            stock_maintenance: false,
            day: None,
            calls_today: 0,
            last_call: HashMap::new(),
            locked_until: HashMap::new(),
            faults: HashMap::new(),
            pace_offset: std::time::Duration::ZERO,
            stats: SimStats::default(),
        })
    }

    /// Issues the next key version; refused while two are active.
    pub(crate) fn issue_key(&mut self, now: DateTime<FixedOffset>) -> Result<u32, KeyError> {
        if self.keys.len() >= MAX_ACTIVE_KEYS {
            return Err(KeyError::TooMany);
        }
        let version = self.last_key_version.saturating_add(1);
        let key = StoreKey::issue(version, now, delta(self.settings.key_lifetime))?;
        self.last_key_version = version;
        self.keys.push(key);
        Ok(version)
    }

    /// The next `times` calls to `endpoint` suffer `fault`.
    pub(crate) fn inject(&mut self, endpoint: Endpoint, fault: Fault, times: u32) {
        let queue = self.faults.entry(endpoint).or_default();
        queue.extend(std::iter::repeat_n(fault, times as usize));
    }

    fn forbidden(&mut self) -> Refusal {
        self.stats.throttled += 1;
        Refusal {
            status: 403,
            headers: Vec::new(),
            body: xml::error_doc(
                "Your Request was Forbidden",
                None,
                self.settings.error_namespace,
            ),
        }
    }

    fn platform(&self, status: u16, message: &str, code: &str) -> Refusal {
        Refusal {
            status,
            headers: Vec::new(),
            body: xml::error_doc(message, Some(code), self.settings.error_namespace),
        }
    }

    /// The gate, in order. `arrived` is the real time of the request (the
    /// per-second limit runs on the wall clock, as the caller's pacing does,
    /// moved on by the test's clock moves).
    pub(crate) fn admit(
        &mut self,
        endpoint: Endpoint,
        peer: IpAddr,
        presented: &Presented<'_>,
        now: DateTime<FixedOffset>,
        arrived: Instant,
    ) -> Result<Admitted, Refusal> {
        *self.stats.calls.entry(endpoint).or_default() += 1;
        let arrived = arrived + self.pace_offset;
        let order_api = endpoint.is_order_api();
        if (order_api && self.orders_maintenance) || (!order_api && self.stock_maintenance) {
            return Err(self.platform(
                self.settings.maintenance_status,
                "System is under maintenance.",
                "ed-00002",
            ));
        }
        let today = now.with_timezone(&crate::jst()).date_naive();
        if self.day != Some(today) {
            self.day = Some(today);
            self.calls_today = 0;
        }
        if self.calls_today >= self.settings.daily_quota {
            return Err(self.forbidden());
        }
        self.calls_today += 1;
        if self
            .locked_until
            .get(&endpoint)
            .is_some_and(|until| arrived < *until)
        {
            return Err(self.forbidden());
        }
        let interval = self.settings.per_url_interval;
        if !interval.is_zero()
            && self
                .last_call
                .get(&endpoint)
                .is_some_and(|last| arrived < *last + interval)
        {
            self.locked_until
                .insert(endpoint, arrived + self.settings.per_url_lockout);
            return Err(self.forbidden());
        }
        self.last_call.insert(endpoint, arrived);
        let grant = match self.auth.check_bearer(presented.authorization, now) {
            Ok(grant) => grant.clone(),
            Err(TokenRefusal::Missing) => {
                return Err(Refusal {
                    status: 401,
                    headers: vec![(
                        HeaderName::from_static("x-yahooj-autherror"),
                        "invalid_request".to_string(),
                    )],
                    body: xml::error_doc(settings::NO_TOKEN_MESSAGE, None, false),
                });
            }
            Err(TokenRefusal::Invalid) => {
                return Err(Refusal {
                    status: 401,
                    headers: vec![(
                        header::WWW_AUTHENTICATE,
                        r#"Bearer realm="yahooapis.jp", error="invalid_token", error_description="expired token""#
                            .to_string(),
                    )],
                    body: xml::error_doc(settings::INVALID_TOKEN_MESSAGE, None, false),
                });
            }
            Err(TokenRefusal::Revoked) => {
                return Err(self.platform(403, "Use of API is not permitted.", "px-04307"));
            }
        };
        if !self.store_scope {
            return Err(Refusal {
                status: 401,
                headers: vec![(
                    header::WWW_AUTHENTICATE,
                    r#"Bearer realm="yahooapis.jp", error="insufficient_scope""#.to_string(),
                )],
                body: xml::error_doc("insufficient_scope", None, self.settings.error_namespace),
            });
        }
        let fault = self.faults.get_mut(&endpoint).and_then(VecDeque::pop_front);
        if !order_api {
            return Ok(Admitted {
                authorized: false,
                fault,
            });
        }
        if !self.order_api_registered {
            return Err(self.platform(
                self.settings.unregistered_app_status,
                "This application ID is not registered for using order API",
                "px-04303",
            ));
        }
        if !self.allowed_sources.iter().any(|net| net.contains(&peer)) {
            return Err(self.platform(403, settings::IP_REFUSED_MESSAGE, "px-04306"));
        }
        let authorized = self.check_signature(presented, now)?;
        let expired = |lifetime| now - grant.authorized_at >= delta(lifetime);
        if expired(self.settings.refresh_token_lifetime)
            || (!authorized && expired(self.settings.unsigned_session_lifetime))
        {
            return Err(self.platform(
                401,
                "AccessToken has been expired. This API session is shorter than another API.",
                "px-04102",
            ));
        }
        Ok(Admitted { authorized, fault })
    }

    /// Whether the key headers are accepted; a signature without its version
    /// is refused (`px-14303`), anything else not accepted is no error.
    fn check_signature(
        &mut self,
        presented: &Presented<'_>,
        now: DateTime<FixedOffset>,
    ) -> Result<bool, Refusal> {
        let signature = presented.signature.map(str::trim).filter(|s| !s.is_empty());
        let version = presented
            .key_version
            .map(str::trim)
            .filter(|v| !v.is_empty());
        let Some(signature) = signature else {
            return Ok(false);
        };
        let Some(version) = version else {
            return Err(self.platform(
                self.settings.missing_key_version_status,
                "Use of API is not permitted.",
                "px-14303",
            ));
        };
        let skew = delta(self.settings.signature_skew);
        let accepted = version.parse::<u32>().ok().is_some_and(|v| {
            self.keys
                .iter()
                .find(|k| k.version == v)
                .is_some_and(|k| k.accepts(signature, &self.book.seller_id, now, skew))
        });
        if accepted {
            self.stats.signatures_accepted += 1;
        } else {
            self.stats.signatures_refused += 1;
        }
        Ok(accepted)
    }

    /// A buyer's order arrives: Yahoo! takes its lines from its own stock.
    pub(crate) fn place(&mut self, new: super::NewOrder, now: DateTime<FixedOffset>) -> String {
        for item in &new.items {
            let code = if item.sub_code.is_empty() {
                item.item_id.clone()
            } else {
                format!("{}:{}", item.item_id, item.sub_code)
            };
            self.stock.take(&code, item.quantity, now);
        }
        self.book.place(new, &self.settings, now)
    }
}

impl crate::harness::Settle for SimState {
    /// Nothing falls due by itself: the cancel window and the token
    /// lifetimes are read against the clock when asked.
    fn settle(&mut self, _now: DateTime<FixedOffset>) {}
}
