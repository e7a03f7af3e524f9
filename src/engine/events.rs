//! The kinds of the change feed's events, under the names stored in the
//! events table and served by `GET /api/v1/events`.

use serde::{Deserialize, Serialize};

use crate::domain::credit::{CreditVerdict, Transaction};
use crate::domain::names::stored_names;

stored_names! {
    /// What an event says happened.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    pub enum EventKind {
        OrderReceived = "order.received",
        OrderRegistered = "order.registered",
        OrderImported = "order.imported",
        OrderHeld = "order.held",
        OrderAllocated = "order.allocated",
        OrderShort = "order.short",
        OrderToppedUp = "order.topped_up",
        OrderConfirmed = "order.confirmed",
        OrderAwaitingReply = "order.awaiting_reply",
        OrderPartialAccepted = "order.partial_accepted",
        OrderChanged = "order.changed",
        OrderLinesDeleted = "order.lines_deleted",
        OrderStatus = "order.status",
        OrderReposted = "order.reposted",
        OrderPaid = "order.paid",
        OrderShipped = "order.shipped",
        OrderShipmentReported = "order.shipment_reported",
        OrderCancelled = "order.cancelled",
        OrderAttention = "order.attention",
        OrderAcknowledged = "order.acknowledged",
        WebhookRepeat = "webhook.repeat",
        WebhookStale = "webhook.stale",
        PaymentAuthorized = "payment.authorized",
        PaymentCaptured = "payment.captured",
        PaymentRefunded = "payment.refunded",
        PaymentRefund = "payment.refund",
        PaymentCancelled = "payment.cancelled",
        PaymentExpired = "payment.expired",
        PaymentFailed = "payment.failed",
        PaymentStale = "payment.stale",
        PaymentAuthorizationLapsing = "payment.authorization_lapsing",
        PaymentRefundRequest = "payment.refund_request",
        PaymentSplit = "payment.split",
        SellerChanged = "seller.changed",
        CreditRequested = "credit.requested",
        CreditCharactersReplaced = "credit.characters_replaced",
        CreditOk = "credit.ok",
        CreditNg = "credit.ng",
        CreditOverLimit = "credit.over_limit",
        CreditApproved = "credit.approved",
        CreditShipmentRegistered = "credit.shipment_registered",
        CreditNeedsInvestigation = "credit.needs_investigation",
        CreditSalesConfirmed = "credit.sales_confirmed",
        CreditInvoiced = "credit.invoiced",
        CreditPaid = "credit.paid",
        CreditClosedUnpaid = "credit.closed_unpaid",
        CreditCancelled = "credit.cancelled",
        CreditUnknown = "credit.unknown",
        CallDead = "call.dead",
        CallRefused = "call.refused",
        CallRetried = "call.retried",
        CallDropped = "call.dropped",
    }
}

impl EventKind {
    /// `credit.ng` or `credit.over_limit` for a refusal; `None` otherwise.
    pub fn credit_refusal(v: CreditVerdict) -> Option<EventKind> {
        match v {
            CreditVerdict::Ng => Some(EventKind::CreditNg),
            CreditVerdict::OverLimit => Some(EventKind::CreditOverLimit),
            CreditVerdict::Pending | CreditVerdict::Ok => None,
        }
    }

    /// `credit.<transaction>`: where the deferred-payment transaction went.
    pub fn credit_progress(t: Transaction) -> EventKind {
        match t {
            Transaction::Approved => EventKind::CreditApproved,
            Transaction::ShipmentRegistered => EventKind::CreditShipmentRegistered,
            Transaction::NeedsInvestigation => EventKind::CreditNeedsInvestigation,
            Transaction::SalesConfirmed => EventKind::CreditSalesConfirmed,
            Transaction::Invoiced => EventKind::CreditInvoiced,
            Transaction::Paid => EventKind::CreditPaid,
            Transaction::ClosedUnpaid => EventKind::CreditClosedUnpaid,
            Transaction::Cancelled => EventKind::CreditCancelled,
            Transaction::Unknown => EventKind::CreditUnknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The families keep the names they were built from before the enum.
    #[test]
    fn family_names_are_the_stored_ones() {
        for t in Transaction::ALL {
            assert_eq!(
                EventKind::credit_progress(t).as_str(),
                format!("credit.{}", t.as_str())
            );
        }
        for v in [CreditVerdict::Ng, CreditVerdict::OverLimit] {
            let kind = EventKind::credit_refusal(v).unwrap();
            assert_eq!(kind.as_str(), format!("credit.{}", v.as_str()));
        }
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
        }
    }
}
