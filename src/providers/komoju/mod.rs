//! KOMOJU payments adapter.
//!
//! - [`wire`]: the JSON of the payment API, its error envelope and the webhook events.
//! - [`signature`]: webhook authentication (`X-Komoju-Signature`, hex HMAC-SHA256 of the body).
//! - [`client`]: HTTP Basic client for `GET /payments…` and the capture, cancel and refund calls.
//!
//! The rest of the crate sees only the neutral types below: [`Payment`],
//! [`PaymentStatus`] (with the legal moves and the "never backwards" rule) and
//! [`Event`]. Nothing outside this folder imports [`wire`].

#![warn(missing_docs)]

pub mod apply;
pub mod calls;
pub mod client;
pub mod config;
pub mod lapse;
pub mod platform;
pub mod refund_flow;
pub mod refund_request;
pub mod rules;
pub mod signature;
pub mod webhook;
pub mod wire;
pub mod wiring;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The status of a KOMOJU payment. Unknown wire values land in
/// [`PaymentStatus::Unknown`], which the core treats as "needs a person / re-read"
/// rather than guessing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Created; the customer has not paid yet (konbini and bank transfer wait here for days).
    Pending,
    /// The money is reserved (two-step capture); the merchant captures when it ships.
    Authorized,
    /// Paid. Partial refunds keep a payment here.
    Captured,
    /// Fully refunded.
    Refunded,
    /// Cancelled by the merchant (from pending or authorized).
    Cancelled,
    /// The customer never paid, or an authorization lapsed (about 30 days).
    Expired,
    /// The payment attempt failed; not final: the customer may try again.
    Failed,
    /// A status this adapter does not know; never acted on without a re-read.
    Unknown,
}

impl PaymentStatus {
    /// Every status, for tables and tests.
    pub const ALL: [PaymentStatus; 8] = [
        PaymentStatus::Pending,
        PaymentStatus::Authorized,
        PaymentStatus::Captured,
        PaymentStatus::Refunded,
        PaymentStatus::Cancelled,
        PaymentStatus::Expired,
        PaymentStatus::Failed,
        PaymentStatus::Unknown,
    ];

    /// The wire spelling (also a stable code to store the last status seen).
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Authorized => "authorized",
            PaymentStatus::Captured => "captured",
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::Cancelled => "cancelled",
            PaymentStatus::Expired => "expired",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Unknown => "unknown",
        }
    }

    /// Reads a wire status; anything unrecognised is [`PaymentStatus::Unknown`]
    /// (a new upstream status must not make a webhook unreadable).
    pub fn parse(s: &str) -> PaymentStatus {
        match s.trim() {
            "pending" => PaymentStatus::Pending,
            "authorized" => PaymentStatus::Authorized,
            "captured" => PaymentStatus::Captured,
            "refunded" => PaymentStatus::Refunded,
            "cancelled" => PaymentStatus::Cancelled,
            "expired" => PaymentStatus::Expired,
            "failed" => PaymentStatus::Failed,
            _ => PaymentStatus::Unknown,
        }
    }

    /// Whether KOMOJU can move a payment from `from` straight to `to` (the
    /// contract's table). Staying put is not a move, and nothing moves from or
    /// to [`PaymentStatus::Unknown`].
    pub fn can_move(from: PaymentStatus, to: PaymentStatus) -> bool {
        use PaymentStatus as S;
        match from {
            S::Pending => matches!(
                to,
                S::Authorized | S::Captured | S::Failed | S::Expired | S::Cancelled
            ),
            S::Authorized => matches!(to, S::Captured | S::Cancelled | S::Expired),
            // The buyer may re-attempt a failed payment [webhooks][h-failed]
            // (its passing back through `pending` is not told apart here).
            S::Failed => matches!(to, S::Authorized | S::Captured | S::Cancelled | S::Expired),
            S::Captured => matches!(to, S::Refunded),
            S::Refunded | S::Cancelled | S::Expired | S::Unknown => false,
        }
    }

    /// How far along the payment's life a status is: strictly increasing along
    /// every legal move, so a stored rank can order statuses that arrive out of
    /// order. `None` for [`PaymentStatus::Unknown`], which has no place.
    pub fn rank(self) -> Option<u8> {
        match self {
            PaymentStatus::Pending => Some(0),
            PaymentStatus::Failed => Some(1),
            PaymentStatus::Authorized => Some(2),
            PaymentStatus::Captured => Some(3),
            PaymentStatus::Cancelled => Some(3),
            PaymentStatus::Expired => Some(3),
            PaymentStatus::Refunded => Some(4),
            PaymentStatus::Unknown => None,
        }
    }

    /// Whether a payment known to be `other` can later be `self` (one or more
    /// legal moves). Webhooks arrive out of order; the core applies a status
    /// only when it supersedes the stored one, so an order never moves
    /// backwards (a late `authorized` after `captured` is ignored). Two
    /// statuses on different branches (`captured` vs `cancelled`) supersede
    /// neither way: that is a conflict to settle with `GET /payments/{id}`.
    pub fn supersedes(self, other: PaymentStatus) -> bool {
        use PaymentStatus as S;
        match other {
            S::Pending => !matches!(self, S::Pending | S::Unknown),
            S::Authorized => matches!(self, S::Captured | S::Refunded | S::Cancelled | S::Expired),
            S::Failed => matches!(
                self,
                S::Authorized | S::Captured | S::Refunded | S::Cancelled | S::Expired
            ),
            S::Captured => matches!(self, S::Refunded),
            S::Refunded | S::Cancelled | S::Expired | S::Unknown => false,
        }
    }

    /// No move leaves this status: the payment's story is over.
    pub fn is_final(self) -> bool {
        match self {
            PaymentStatus::Refunded | PaymentStatus::Cancelled | PaymentStatus::Expired => true,
            PaymentStatus::Pending
            | PaymentStatus::Failed
            | PaymentStatus::Authorized
            | PaymentStatus::Captured
            | PaymentStatus::Unknown => false,
        }
    }
}

impl std::fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One KOMOJU payment as the core sees it, validated. Amounts are in the
/// currency's smallest unit (yen).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// KOMOJU's payment id (25 alphanumerics); what capture/cancel/refund address.
    pub id: String,
    /// Authoritative only from `GET /payments/{id}`; in a webhook, a hint.
    pub status: PaymentStatus,
    /// Before tax.
    pub amount: i64,
    /// The tax on `amount`, kept apart for invoices.
    pub tax: i64,
    /// A fee some methods (konbini) add on top, paid by the customer.
    pub payment_method_fee: i64,
    /// What the customer pays: amount + tax + fee. Refunds are limited by it.
    pub total: i64,
    /// ISO 4217 code, e.g. `JPY`.
    pub currency: String,
    /// The merchant's order id, which ties the payment to an order.
    pub external_order_num: Option<String>,
    /// Until when the customer can pay (konbini, bank transfer, Pay-easy);
    /// the payment expires after it.
    pub payment_deadline: Option<DateTime<Utc>>,
    /// When the money was captured; `None` until then.
    pub captured_at: Option<DateTime<Utc>>,
    /// Sum of the refunds so far; equal to `total` once `refunded`.
    pub amount_refunded: i64,
    /// `payment_details.type`: `credit_card`, `konbini`, `bank_transfer`, `paypay`…
    /// (`unknown` when KOMOJU sent none). Decides what `authorized` means
    /// ([`Payment::ships_when_authorized`]) and how money goes back.
    pub method: String,
    /// Every refund, oldest first; the core refunds an order once per refund id.
    pub refunds: Vec<Refund>,
    /// What `captures[]` (API version 2025-01-28 on) says was taken, tax
    /// included; `None` when the payment shows no captures.
    pub captured: Option<i64>,
    /// The refund requests KOMOJU shows (`refund_requests[]`), oldest first.
    pub refund_requests: Vec<refund_request::Seen>,
    /// When the customer started paying; orders payments of one order.
    pub created_at: DateTime<Utc>,
    /// The split KOMOJU recorded (`platform_details`, Platform Model);
    /// empty when none.
    #[serde(default)]
    pub split: Vec<platform::wire::RecordedShare>,
}

impl Payment {
    /// Whether `authorized` is a hold the merchant captures at shipment (a
    /// card), rather than a slip or account waiting for the customer's money
    /// (konbini, bank transfer, Pay-easy) or a type whose flow is
    /// undocumented: those ship only once `captured`.
    pub fn ships_when_authorized(&self) -> bool {
        self.method == CARD
    }

    /// Whether money arrived that does not match what was asked (a bank
    /// transfer of another amount booked as a partial capture): the payment
    /// is not paid until KOMOJU matches it by hand. A card's capture may be
    /// smaller (the merchant's own partial capture) but never short of
    /// what is left to ship.
    pub fn mispaid(&self) -> bool {
        let Some(taken) = self.captured else {
            return false;
        };
        let asked = self.total.saturating_sub(self.payment_method_fee);
        if self.method == CARD {
            return taken < asked.saturating_sub(self.amount_refunded);
        }
        // Whether the customer's fee is in `captures[]` is unpublished.
        taken != asked && taken != self.total
    }

    /// Whether money goes back only by a refund request to the customer's
    /// bank account (`/refund` is refused): konbini, bank transfer, Pay-easy.
    pub fn refunded_by_request(&self) -> bool {
        matches!(
            self.method.as_str(),
            "konbini" | "bank_transfer" | "pay_easy"
        )
    }

    /// What can still be refunded.
    pub fn refundable(&self) -> i64 {
        self.total.saturating_sub(self.amount_refunded).max(0)
    }
}

/// `payment_details.type` of a card payment: the only type whose
/// `authorized` the merchant captures.
pub const CARD: &str = "credit_card";

/// One refund of a payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    /// Dedupe key for `payment.refund.created` (delivered at least once).
    pub id: String,
    /// Tax included.
    pub amount: i64,
    /// When KOMOJU recorded the refund.
    pub created_at: DateTime<Utc>,
    /// A chargeback rather than a refund the merchant asked for: needs a person.
    pub chargeback: bool,
}

/// What a KOMOJU webhook says happened (its `type`, as KOMOJU names it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WebhookEvent {
    /// `ping`: sent when the webhook is set up; acknowledge only.
    Ping,
    /// `payment.authorized`.
    Authorized,
    /// `payment.captured`.
    Captured,
    /// `payment.updated`: something changed; the status in `data` is a hint.
    Updated,
    /// `payment.expired`.
    Expired,
    /// `payment.cancelled`.
    Cancelled,
    /// `payment.refund.created`: a (partial or full) refund; the new one is last in `refunds`.
    RefundCreated,
    /// `payment.refunded`: fully refunded.
    Refunded,
    /// `payment.failed`.
    Failed,
    /// Any other type (`customer.*`, `subscription.*`, `settlement.*`, future ones):
    /// acknowledged and ignored, never an error.
    Other(String),
}

impl WebhookEvent {
    /// Reads the event `type`.
    pub fn parse(event_type: &str) -> WebhookEvent {
        match event_type {
            "ping" => WebhookEvent::Ping,
            "payment.authorized" => WebhookEvent::Authorized,
            "payment.captured" => WebhookEvent::Captured,
            "payment.updated" => WebhookEvent::Updated,
            "payment.expired" => WebhookEvent::Expired,
            "payment.cancelled" => WebhookEvent::Cancelled,
            "payment.refund.created" => WebhookEvent::RefundCreated,
            "payment.refunded" => WebhookEvent::Refunded,
            "payment.failed" => WebhookEvent::Failed,
            other => WebhookEvent::Other(other.to_string()),
        }
    }

    /// The wire `type` (and the `X-Komoju-Event` header).
    pub fn as_str(&self) -> &str {
        match self {
            WebhookEvent::Ping => "ping",
            WebhookEvent::Authorized => "payment.authorized",
            WebhookEvent::Captured => "payment.captured",
            WebhookEvent::Updated => "payment.updated",
            WebhookEvent::Expired => "payment.expired",
            WebhookEvent::Cancelled => "payment.cancelled",
            WebhookEvent::RefundCreated => "payment.refund.created",
            WebhookEvent::Refunded => "payment.refunded",
            WebhookEvent::Failed => "payment.failed",
            WebhookEvent::Other(t) => t,
        }
    }

    /// Whether the event's `data` must be a payment (all `payment.*` types
    /// the contract names).
    pub fn carries_payment(&self) -> bool {
        match self {
            WebhookEvent::Authorized
            | WebhookEvent::Captured
            | WebhookEvent::Updated
            | WebhookEvent::Expired
            | WebhookEvent::Cancelled
            | WebhookEvent::RefundCreated
            | WebhookEvent::Refunded
            | WebhookEvent::Failed => true,
            WebhookEvent::Ping | WebhookEvent::Other(_) => false,
        }
    }
}

/// One webhook event, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Dedupe key: delivery is at least once, and the signature has no timestamp.
    pub id: String,
    /// What happened, from the event `type`.
    pub kind: WebhookEvent,
    /// The payment in `data`, for every `payment.*` event; `None` for `ping`
    /// and for other types whose `data` is not a readable payment.
    pub payment: Option<Payment>,
    /// When KOMOJU created the event; `None` when it sent none.
    pub created_at: Option<DateTime<Utc>>,
    /// KOMOJU's `reason` (e.g. why a payment failed), when given.
    pub reason: Option<String>,
    /// For `refund_request.updated`: the payment whose request changed
    /// (its `data` is a refund request, not a payment).
    pub refund_request_of: Option<String>,
    /// For `submerchant.*` (Platform Model): the seller's sub-merchant id.
    pub submerchant_of: Option<String>,
}

/// One page of `GET /payments`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentPage {
    /// The readable payments of the page, in KOMOJU's order.
    pub payments: Vec<Payment>,
    /// Payments of the page that could not be read (logged, not returned), so a
    /// caller can tell "nothing there" from "something unreadable there".
    pub unreadable: usize,
    /// Matches over all pages.
    pub total: u64,
    /// This page's number, from 1.
    pub page: u32,
    /// Payments per page, as KOMOJU applied it.
    pub per_page: u32,
    /// The last page number; the caller stops when `page >= last_page`.
    pub last_page: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_follow_the_contract_table() {
        use PaymentStatus as S;
        let legal = [
            (S::Pending, S::Authorized),
            (S::Pending, S::Captured),
            (S::Pending, S::Failed),
            (S::Pending, S::Expired),
            (S::Pending, S::Cancelled),
            (S::Authorized, S::Captured),
            (S::Authorized, S::Cancelled),
            (S::Authorized, S::Expired),
            (S::Failed, S::Authorized),
            (S::Failed, S::Captured),
            (S::Failed, S::Cancelled),
            (S::Failed, S::Expired),
            (S::Captured, S::Refunded),
        ];
        for from in S::ALL {
            for to in S::ALL {
                assert_eq!(
                    S::can_move(from, to),
                    legal.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn rank_grows_along_every_move_and_supersedes_is_reachability() {
        use PaymentStatus as S;
        // Reachability by breadth-first search over can_move.
        let reachable = |from: S, to: S| {
            let mut seen = vec![from];
            let mut i = 0;
            while i < seen.len() {
                let at = seen[i];
                for next in S::ALL {
                    if S::can_move(at, next) && !seen.contains(&next) {
                        seen.push(next);
                    }
                }
                i += 1;
            }
            from != to && seen.contains(&to)
        };
        for a in S::ALL {
            for b in S::ALL {
                if S::can_move(a, b) {
                    assert!(a.rank() < b.rank(), "{a} -> {b}");
                }
                assert_eq!(b.supersedes(a), reachable(a, b), "{b} supersedes {a}?");
                if b.supersedes(a) {
                    assert!(!a.supersedes(b), "both ways: {a} {b}");
                }
            }
        }
        assert!(S::Captured.supersedes(S::Authorized));
        assert!(!S::Authorized.supersedes(S::Captured));
        assert!(!S::Cancelled.supersedes(S::Captured));
        assert!(!S::Captured.supersedes(S::Cancelled));
    }

    #[test]
    fn final_statuses_have_no_moves() {
        for s in PaymentStatus::ALL {
            let any_move = PaymentStatus::ALL
                .iter()
                .any(|t| PaymentStatus::can_move(s, *t));
            if s.is_final() {
                assert!(!any_move, "{s}");
            }
        }
    }

    #[test]
    fn status_and_event_spellings_round_trip() {
        for s in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(s.as_str()), s);
        }
        assert_eq!(PaymentStatus::parse("chargeback"), PaymentStatus::Unknown);
        for t in [
            "ping",
            "payment.authorized",
            "payment.captured",
            "payment.updated",
            "payment.expired",
            "payment.cancelled",
            "payment.refund.created",
            "payment.refunded",
            "payment.failed",
            "customer.created",
        ] {
            assert_eq!(WebhookEvent::parse(t).as_str(), t);
        }
        assert_eq!(
            WebhookEvent::parse("settlement.created"),
            WebhookEvent::Other("settlement.created".to_string())
        );
    }
}
