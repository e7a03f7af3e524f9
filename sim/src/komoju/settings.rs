//! What the contract leaves open (its \[guess\] points) as settings of the
//! simulated account, and what each API version shows (contract "API
//! version", "Payment methods and statuses", "Partial, over- and
//! under-payment"). The defaults are the contract's most likely reading; a
//! test that depends on another reading sets it.

use super::model::PaymentType;

/// The first API version whose partial capture is a `captures[]` entry
/// rather than a capture of the whole amount plus a refund \[chg-2025\].
pub const CAPTURES_FROM: &str = "2025-01-28";

/// What a bank transfer of the wrong amount does at KOMOJU (contract
/// "Partial, over- and under-payment": both readings are \[guess\]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MisPaidTransfer {
    /// Not matched automatically: the payment stays `authorized` (then
    /// `expired` at its deadline) until a person at KOMOJU links it
    /// \[h-bt-check\]; a `payment.updated` is sent \[guess\].
    #[default]
    StaysAuthorized,
    /// The 2026-12 audit's reading: the transfer is taken as a partial
    /// payment, `captured` with a `captures[]` entry of what arrived.
    PartialCapture,
}

/// The account's settings where the contract has no published answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Behaviour {
    /// The version set on the secret key in the dashboard: it applies to a
    /// request without `X-KOMOJU-API-VERSION` (or with one that is not a
    /// date) and to webhook bodies, which carry no request header \[guess\].
    pub key_api_version: String,
    /// The first API version in which a failed payment reads `failed`; below
    /// it (and always when `None`) it reads `pending`, as KOMOJU answers for
    /// declined cards "until a future API version" \[h-failed\].
    pub failed_shown_from: Option<String>,
    /// The types `POST /payments/{id}/capture` accepts: cards \[cap-old\];
    /// \[cap-new\] would add any `capture:false` type.
    pub capture_types: Vec<PaymentType>,
    /// What a bank transfer of the wrong amount does.
    pub mispaid_transfer: MisPaidTransfer,
    /// The status of `refund_request`'s empty answer: 200 or 204 \[guess\].
    pub refund_request_status: u16,
    /// The `account_type` values `refund_request` takes: the official example
    /// is `normal` \[ruby:PaymentsApi\]; others are \[guess\].
    pub account_types: Vec<String>,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            key_api_version: CAPTURES_FROM.to_string(),
            failed_shown_from: None,
            capture_types: vec![PaymentType::CreditCard],
            mispaid_transfer: MisPaidTransfer::default(),
            refund_request_status: 200,
            account_types: vec!["normal".to_string()],
        }
    }
}

/// What one API version shows of a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    /// Partial captures are `captures[]` entries (and the array is shown);
    /// before, a partial capture captures everything and refunds the rest.
    pub captures: bool,
    /// A `failed` payment reads `pending` \[h-failed\].
    pub failed_as_pending: bool,
}

impl Behaviour {
    /// What `requested` (the request's header, if any) shows; the key's
    /// version stands in for a missing or malformed one.
    pub fn view(&self, requested: Option<&str>) -> View {
        let version = requested
            .map(str::trim)
            .filter(|v| is_date(v))
            .unwrap_or(&self.key_api_version);
        View {
            captures: version >= CAPTURES_FROM,
            failed_as_pending: self
                .failed_shown_from
                .as_deref()
                .is_none_or(|from| version < from),
        }
    }

    /// What webhook bodies show: the key's version.
    pub fn webhook_view(&self) -> View {
        self.view(None)
    }
}

/// `YYYY-MM-DD`: API versions are dates, and compare as text.
fn is_date(v: &str) -> bool {
    v.len() == 10
        && v.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_decide_what_a_payment_shows() {
        let b = Behaviour::default();
        assert!(b.view(Some("2025-01-28")).captures);
        assert!(b.view(Some("2026-01-27")).captures);
        assert!(!b.view(Some("2024-10-01")).captures);
        assert!(!b.view(Some("2024-12-31")).captures);
        // No header, or not a date: the key's version.
        assert!(b.view(None).captures);
        assert!(b.view(Some("latest")).captures);
        assert!(b.view(Some("2024-07-15")).failed_as_pending);
        let shown = Behaviour {
            failed_shown_from: Some("2026-01-27".into()),
            ..Behaviour::default()
        };
        assert!(shown.view(Some("2025-01-28")).failed_as_pending);
        assert!(!shown.view(Some("2026-01-27")).failed_as_pending);
    }
}
