//! What arrives at the simulated Rakuten and how it misbehaves: the
//! endpoints, the faults a test injects, and the counters and recordings of
//! every call.

use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::SimState;
use crate::transport::TransportFault;

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
    /// proxy's page): see [`TransportFault`].
    Transport(TransportFault),
}

/// Counters and recordings of everything the simulator saw, for assertions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SimStats {
    /// searchOrder requests, refused and faulted ones included (as are the
    /// other endpoints' counts).
    pub search_order: usize,
    /// getOrder requests.
    pub get_order: usize,
    /// confirmOrder requests.
    pub confirm_order: usize,
    /// updateOrderShipping requests.
    pub update_order_shipping: usize,
    /// License-expiry requests.
    pub license: usize,
    /// Answers `401`.
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

impl SimState {
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
}
