//! Deferred payment (後払い) in neutral terms: which provider runs the credit
//! check of an order, what it answered, and how far the transaction went.
//! No provider code or Japanese label appears here; the adapters map theirs.

use serde::{Deserialize, Serialize};

stored_names! {
    /// A deferred-payment provider.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
    pub enum DeferredProvider {
        /// Kuroneko Atobarai (Yamato).
        #[default]
        Kuroneko = "kuroneko",
        /// Atobarai.com.
        AtobaraiCom = "atobarai_com",
    }
}

impl DeferredProvider {
    /// How a person knows the provider.
    pub fn display_name(self) -> &'static str {
        match self {
            DeferredProvider::Kuroneko => "Kuroneko Atobarai",
            DeferredProvider::AtobaraiCom => "Atobarai.com",
        }
    }
}

stored_names! {
    /// What the credit check says about an order.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
    pub enum CreditVerdict {
        /// Not asked yet, or under review: never ship meanwhile.
        #[default]
        Pending = "pending",
        /// The buyer may pay later: the order may ship (re-checked just before).
        Ok = "ok",
        /// Refused.
        Ng = "ng",
        /// Refused because the buyer's limit is exceeded.
        OverLimit = "over_limit",
    }
}

impl CreditVerdict {
    /// Whether the provider refused the buyer.
    pub fn is_refusal(self) -> bool {
        match self {
            CreditVerdict::Ng | CreditVerdict::OverLimit => true,
            CreditVerdict::Pending | CreditVerdict::Ok => false,
        }
    }
}

stored_names! {
    /// Where a deferred-payment transaction stands after the credit check.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    pub enum Transaction {
        /// Approved, waiting for the tracking number.
        Approved = "approved",
        /// The tracking number is registered.
        ShipmentRegistered = "shipment_registered",
        /// The provider wants a person to look at the delivery.
        NeedsInvestigation = "needs_investigation",
        /// Delivered: the sale is confirmed.
        SalesConfirmed = "sales_confirmed",
        /// The invoice went to the buyer.
        Invoiced = "invoiced",
        /// The buyer paid: nothing more to follow.
        Paid = "paid",
        /// The provider closed the transaction without the buyer's payment
        /// (a bad debt, the merchant's advance taken back): a person follows
        /// it up; nothing more to poll.
        ClosedUnpaid = "closed_unpaid",
        /// Cancelled (or a cancel was requested) at the provider.
        Cancelled = "cancelled",
        /// A status this daemon does not know: a person decides.
        Unknown = "unknown",
    }
}

impl Transaction {
    /// Whether the transaction has ended (nothing left to poll).
    pub fn is_final(self) -> bool {
        match self {
            Transaction::Paid | Transaction::ClosedUnpaid | Transaction::Cancelled => true,
            Transaction::Approved
            | Transaction::ShipmentRegistered
            | Transaction::NeedsInvestigation
            | Transaction::SalesConfirmed
            | Transaction::Invoiced
            | Transaction::Unknown => false,
        }
    }

    /// Whether the shipment is registered (the status moved past approved).
    pub fn has_shipment(self) -> bool {
        match self {
            Transaction::ShipmentRegistered
            | Transaction::NeedsInvestigation
            | Transaction::SalesConfirmed
            | Transaction::Invoiced
            | Transaction::Paid
            | Transaction::ClosedUnpaid => true,
            Transaction::Approved | Transaction::Cancelled | Transaction::Unknown => false,
        }
    }
}

/// The credit check of one order as stored. The admin API shows `result`,
/// `checked_at` and `transaction`; the rest is the daemon's bookkeeping.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditCase {
    /// Who runs the check.
    #[serde(skip)]
    pub provider: DeferredProvider,
    /// The request's attempt number: Kuroneko never accepts an orderNo twice,
    /// so a new request after a refusal or a raised amount gets a new one.
    #[serde(skip)]
    pub attempt: u32,
    pub result: CreditVerdict,
    /// When the provider last answered about the credit (RFC 3339).
    pub checked_at: Option<String>,
    /// Unix ms of the provider's answer to the credit request: follow-up calls
    /// wait `settle_delay` after it (they may fail right after the request).
    #[serde(skip)]
    pub requested_at_ms: Option<i64>,
    /// The carrier and tracking number registered with the provider, so that
    /// a retry never registers it twice (there is no idempotency key).
    #[serde(skip)]
    pub registered: Option<(String, String)>,
    /// The transaction's last known status.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub transaction: Option<Transaction>,
}

/// One order line as the provider bills it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BilledLine {
    pub name: String,
    pub qty: u32,
    /// Yen, tax included; negative for a discount.
    pub unit_price: i64,
}

/// Everything a provider needs to run a credit check of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditApplication {
    /// The order's id in its channel (Atobarai.com's merchant order number;
    /// Kuroneko's orderNo derives from it and the attempt).
    pub order_id: String,
    /// The attempt number of this request.
    pub attempt: u32,
    pub ordered_on: chrono::NaiveDate,
    /// Who is billed.
    pub buyer: super::direct::Party,
    /// A different recipient, if any.
    pub ship_to: Option<super::direct::Party>,
    pub lines: Vec<BilledLine>,
    pub shipping_fee: i64,
    /// The buyer-facing payment fee.
    pub fee: i64,
}

/// A parcel to register with the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipmentReport {
    pub carrier: super::Carrier,
    pub tracking_no: String,
    pub shipped_on: chrono::NaiveDate,
    /// The tracking number registered before, when this one replaces it.
    pub replaces: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in DeferredProvider::ALL {
            assert_eq!(DeferredProvider::parse(p.as_str()), Some(p));
        }
        for v in CreditVerdict::ALL {
            assert_eq!(CreditVerdict::parse(v.as_str()), Some(v));
        }
        for t in Transaction::ALL {
            assert_eq!(Transaction::parse(t.as_str()), Some(t));
        }
    }

    #[test]
    fn the_resource_shows_result_and_time_only() {
        let case = CreditCase {
            result: CreditVerdict::OverLimit,
            checked_at: Some("2026-11-23T10:00:00+09:00".into()),
            registered: Some(("yamato".into(), "123456789013".into())),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&case).unwrap(),
            serde_json::json!({"result": "over_limit", "checked_at": "2026-11-23T10:00:00+09:00"})
        );
    }
}
