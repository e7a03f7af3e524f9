//! Misbehaviours injected into the simulated API, and the endpoints they (and
//! the call counters) apply to.

use std::time::Duration;

use crate::transport::TransportFault;

/// Which simulated endpoint a fault applies to and a counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    /// `GET /payments/{id}`.
    GetPayment,
    /// `GET /payments`.
    ListPayments,
    /// `POST /payments/{id}/capture`.
    Capture,
    /// `POST /payments/{id}/cancel`.
    Cancel,
    /// `POST /payments/{id}/refund`.
    Refund,
    /// `POST /payments/{id}/refund_request`.
    RefundRequest,
    /// `/merchants`, `/merchants/{id}`, `/merchants/{id}/payments` and
    /// `/live_application/…` (Platform Model).
    Merchants,
    /// `/merchants/{id}/balances/JPY`, its `transactions` and `settings`.
    Balances,
    /// `POST …/balances/JPY/transfer` (both paths).
    Transfer,
    /// `/merchants/{id}/settlements…`.
    Settlements,
    /// Whichever of the above is called next (faults only).
    Any,
}

/// A misbehaviour KOMOJU shows in real life, injected into the next calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer this HTTP status with an error envelope, without processing
    /// (e.g. 500, 502, 503, 504). The idempotency key stays unused.
    Status(u16),
    /// 429 with `Retry-After` in seconds, without processing.
    TooManyRequests {
        /// The `Retry-After` value.
        retry_after_secs: u64,
    },
    /// Process the request (the change is applied and stored under its
    /// idempotency key), then hold the answer this long: the caller times out
    /// and never learns the outcome.
    LoseAnswer(Duration),
    /// Hold the request before processing, its idempotency key in flight,
    /// until [`super::KomojuSimHandle::release_held`]: a retry meanwhile gets 409.
    Hold,
    /// A fault of the network path (reset, slow body, cut-short body, a
    /// proxy's page): see [`TransportFault`].
    Transport(TransportFault),
}

/// The faults waiting to happen, in injection order.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    /// `(endpoint, fault, remaining)`.
    queue: Vec<(Endpoint, Fault, u32)>,
}

impl Faults {
    pub(crate) fn inject(&mut self, endpoint: Endpoint, fault: Fault, times: u32) {
        if times > 0 {
            self.queue.push((endpoint, fault, times));
        }
    }

    pub(crate) fn clear(&mut self) {
        self.queue.clear();
    }

    /// The first due fault for `endpoint` (or for any endpoint), used up once.
    pub(crate) fn take(&mut self, endpoint: Endpoint) -> Option<Fault> {
        let i = self
            .queue
            .iter()
            .position(|(e, _, left)| (*e == endpoint || *e == Endpoint::Any) && *left > 0)?;
        let (_, fault, left) = &mut self.queue[i];
        let fault = *fault;
        *left -= 1;
        if *left == 0 {
            self.queue.remove(i);
        }
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_used_up_in_order() {
        let mut f = Faults::default();
        f.inject(Endpoint::Capture, Fault::Status(503), 2);
        f.inject(
            Endpoint::Any,
            Fault::TooManyRequests {
                retry_after_secs: 3,
            },
            1,
        );
        f.inject(Endpoint::Cancel, Fault::Hold, 0);
        assert_eq!(
            f.take(Endpoint::GetPayment),
            Some(Fault::TooManyRequests {
                retry_after_secs: 3
            })
        );
        assert_eq!(f.take(Endpoint::Capture), Some(Fault::Status(503)));
        assert_eq!(f.take(Endpoint::Capture), Some(Fault::Status(503)));
        assert_eq!(f.take(Endpoint::Capture), None);
        assert_eq!(f.take(Endpoint::Cancel), None, "zero times is nothing");
        f.inject(Endpoint::Refund, Fault::Status(500), 1);
        f.clear();
        assert_eq!(f.take(Endpoint::Refund), None);
    }
}
