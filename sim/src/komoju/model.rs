//! KOMOJU's payment resource as the simulated back office keeps it, in
//! KOMOJU's own words (contract `providers/komoju.md`, "Payments" and
//! "Payment methods and statuses"): the status, the payment type of
//! `payment_details.type` with what the contract's table says about it, the
//! amounts, the refunds and the timestamps. [`super::wire`] turns it into JSON.

use chrono::{DateTime, Days, NaiveTime, Utc};

use super::platform::PlatformDetails;

/// `status` of a payment (contract "Payment methods and statuses", \[ref-status\]).
///
/// The simulator only ever writes these seven; there is no "unknown".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentStatus {
    /// `pending`: initiated, awaiting the customer's action.
    Pending,
    /// `authorized`: for cards an authorization awaiting the merchant's
    /// capture; for `konbini`, `bank_transfer` and `pay_easy` the contract
    /// reads it as "waiting for the customer to pay".
    Authorized,
    /// `captured`: paid. Partial refunds stay here.
    Captured,
    /// `refunded`: fully refunded.
    Refunded,
    /// `cancelled` by the merchant.
    Cancelled,
    /// `expired`: the deadline passed (or an authorization lapsed).
    Expired,
    /// `failed`: an attempt failed.
    Failed,
}

impl PaymentStatus {
    /// Every status, for tables and tests.
    pub const ALL: [PaymentStatus; 7] = [
        PaymentStatus::Pending,
        PaymentStatus::Authorized,
        PaymentStatus::Captured,
        PaymentStatus::Refunded,
        PaymentStatus::Cancelled,
        PaymentStatus::Expired,
        PaymentStatus::Failed,
    ];

    /// The wire value of `status` (also what `GET /payments?status=` filters on).
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Authorized => "authorized",
            PaymentStatus::Captured => "captured",
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::Cancelled => "cancelled",
            PaymentStatus::Expired => "expired",
            PaymentStatus::Failed => "failed",
        }
    }
}

impl std::fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a payment of one type goes, per the contract's table "Payment methods
/// and statuses". Data for now: the simulator's status machine is still the
/// same for every type (see the module docs of the back office, `state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// `credit_card`: authorized synchronously at creation; with
    /// `capture:false` it waits for the merchant's capture \[details\]\[two-step\].
    Card,
    /// The long-form async types `konbini`, `bank_transfer`, `pay_easy`: a slip
    /// or account is issued with a `payment_deadline`, and the customer pays
    /// by then (`captured`) or the payment `expired` \[ref-status\].
    CustomerPays,
    /// Wallets, carrier billing and Paidy: `pending` until finished offsite,
    /// then `captured` \[ref-status\] (per type: \[guess\]).
    Offsite,
    /// The other Japan types the SDK lists, whose flows are undocumented.
    Undocumented,
}

/// How money goes back to the customer of a captured payment (contract
/// "Payment methods and statuses", column "money back").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundRoute {
    /// `POST /payments/{id}/refund`, full or partial \[h-refund\].
    Refund,
    /// Only `POST /payments/{id}/refund_request` with the customer's bank
    /// account \[refund-req\]: the customer paid cash.
    RefundRequest,
}

/// `payment_details.type` (contract "Payment methods and statuses";
/// \[node:models/payment-type.ts\]). A type the contract does not name is kept
/// as given in [`PaymentType::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PaymentType {
    /// `credit_card`.
    CreditCard,
    /// `konbini`: paid in cash at a convenience store.
    Konbini,
    /// `bank_transfer`: paid into an account issued for the payment.
    BankTransfer,
    /// `pay_easy`: paid at an ATM or by net banking.
    PayEasy,
    /// `paypay`.
    PayPay,
    /// `merpay`.
    Merpay,
    /// `aupay`.
    AuPay,
    /// `rakutenpay`.
    RakutenPay,
    /// `linepay`.
    LinePay,
    /// `docomo` (carrier billing).
    Docomo,
    /// `softbank` (carrier billing).
    Softbank,
    /// `paidy`.
    Paidy,
    /// `au`.
    Au,
    /// `japan_mobile`.
    JapanMobile,
    /// `net_cash`.
    NetCash,
    /// `bit_cash`.
    BitCash,
    /// `web_money`.
    WebMoney,
    /// `nanaco`.
    Nanaco,
    /// `dospara`.
    Dospara,
    /// `epospay`.
    EposPay,
    /// `amazon_pay`.
    AmazonPay,
    /// Any other `type`, kept as given.
    Other(String),
}

/// The named types and their wire spellings, in the contract's order.
const NAMED_TYPES: [(PaymentType, &str); 21] = [
    (PaymentType::CreditCard, "credit_card"),
    (PaymentType::Konbini, "konbini"),
    (PaymentType::BankTransfer, "bank_transfer"),
    (PaymentType::PayEasy, "pay_easy"),
    (PaymentType::PayPay, "paypay"),
    (PaymentType::Merpay, "merpay"),
    (PaymentType::AuPay, "aupay"),
    (PaymentType::RakutenPay, "rakutenpay"),
    (PaymentType::LinePay, "linepay"),
    (PaymentType::Docomo, "docomo"),
    (PaymentType::Softbank, "softbank"),
    (PaymentType::Paidy, "paidy"),
    (PaymentType::Au, "au"),
    (PaymentType::JapanMobile, "japan_mobile"),
    (PaymentType::NetCash, "net_cash"),
    (PaymentType::BitCash, "bit_cash"),
    (PaymentType::WebMoney, "web_money"),
    (PaymentType::Nanaco, "nanaco"),
    (PaymentType::Dospara, "dospara"),
    (PaymentType::EposPay, "epospay"),
    (PaymentType::AmazonPay, "amazon_pay"),
];

impl PaymentType {
    /// Reads a wire `type`; anything not named by the contract is [`PaymentType::Other`].
    pub fn parse(name: &str) -> PaymentType {
        NAMED_TYPES
            .iter()
            .find(|(_, wire)| *wire == name)
            .map_or_else(|| PaymentType::Other(name.to_string()), |(t, _)| t.clone())
    }

    /// The wire value of `payment_details.type`.
    pub fn as_str(&self) -> &str {
        match self {
            PaymentType::Other(name) => name,
            named => NAMED_TYPES
                .iter()
                .find(|(t, _)| t == named)
                .map_or("", |(_, wire)| wire),
        }
    }

    /// How a payment of this type goes.
    pub fn flow(&self) -> Flow {
        use PaymentType as T;
        match self {
            T::CreditCard => Flow::Card,
            T::Konbini | T::BankTransfer | T::PayEasy => Flow::CustomerPays,
            T::PayPay
            | T::Merpay
            | T::AuPay
            | T::RakutenPay
            | T::LinePay
            | T::Docomo
            | T::Softbank
            | T::Paidy => Flow::Offsite,
            T::Au
            | T::JapanMobile
            | T::NetCash
            | T::BitCash
            | T::WebMoney
            | T::Nanaco
            | T::Dospara
            | T::EposPay
            | T::AmazonPay
            | T::Other(_) => Flow::Undocumented,
        }
    }

    /// Whether `POST /payments/{id}/capture` is for this type: cards only
    /// \[cap-old\] (the newer page \[cap-new\] allows any `capture:false`
    /// payment; konbini, bank transfer and Pay-easy never).
    pub fn merchant_captures(&self) -> bool {
        self.flow() == Flow::Card
    }

    /// How a captured payment of this type is refunded.
    pub fn refund_route(&self) -> RefundRoute {
        match self.flow() {
            Flow::CustomerPays => RefundRoute::RefundRequest,
            Flow::Card | Flow::Offsite | Flow::Undocumented => RefundRoute::Refund,
        }
    }
}

impl From<&str> for PaymentType {
    fn from(name: &str) -> Self {
        PaymentType::parse(name)
    }
}

impl std::fmt::Display for PaymentType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Days from the order day to a `payment_deadline`, per type (contract
/// "Deadlines"). KOMOJU's are merchant settings; these are the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryDays {
    /// `konbini`: default 3, settable 1–59 \[h-konbini\].
    pub konbini: u32,
    /// `bank_transfer`: default 14, settable 14–59 \[h-bt\].
    pub bank_transfer: u32,
    /// `pay_easy`: has a deadline \[ref-status\], default unpublished: \[guess\].
    pub pay_easy: u32,
}

impl Default for ExpiryDays {
    fn default() -> Self {
        ExpiryDays {
            konbini: 3,
            bank_transfer: 14,
            pay_easy: 14,
        }
    }
}

impl ExpiryDays {
    /// The `payment_deadline` of a payment of `kind` created at `created_at`:
    /// 23:59:59 JST of the Nth day after the order day, in UTC
    /// (`…T14:59:59Z`) \[h-konbini\]\[h-bt\]. `None` for the types without one.
    pub fn deadline(&self, kind: &PaymentType, created_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let days = match kind {
            PaymentType::Konbini => self.konbini,
            PaymentType::BankTransfer => self.bank_transfer,
            PaymentType::PayEasy => self.pay_easy,
            _ => return None,
        };
        let order_day = created_at.with_timezone(&crate::jst()).date_naive();
        let last_day = order_day.checked_add_days(Days::new(u64::from(days)))?;
        let end = last_day.and_time(NaiveTime::from_hms_opt(23, 59, 59)?);
        end.and_local_timezone(crate::jst())
            .single()
            .map(|t| t.with_timezone(&Utc))
    }
}

/// Whether the merchant captures, as chosen when the payment was created
/// (the create call's `capture`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureMode {
    /// `capture: true`: captured as soon as it is authorized (one step).
    Auto,
    /// `capture: false`: stays `authorized` until the merchant captures (two steps).
    Manual,
}

/// One element of `refunds[]` \[node:Models/Refund\].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    /// 25 alphanumerics.
    pub id: String,
    /// Tax included.
    pub amount: i64,
    /// The merchant's note given with the refund.
    pub description: Option<String>,
    /// When KOMOJU recorded it.
    pub created_at: DateTime<Utc>,
    /// A chargeback rather than a refund the merchant asked for.
    pub chargeback: bool,
    /// The split it gave back, as asked.
    pub platform_details: Option<PlatformDetails>,
}

/// One element of `captures[]`, shown from API version 2025-01-28
/// \[chg-2025\]. Its fields are unpublished: the simulator records what the
/// capture asked (`amount` before tax, `tax`) and their sum (`total`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// 25 alphanumerics.
    pub id: String,
    /// Before tax.
    pub amount: i64,
    /// The tax captured with it.
    pub tax: i64,
    /// When it was captured.
    pub created_at: DateTime<Utc>,
}

impl Capture {
    /// What the capture took, tax included.
    pub fn total(&self) -> i64 {
        self.amount.saturating_add(self.tax)
    }
}

/// `status` of a refund request \[node:models/refund-request-status.ts\].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefundRequestStatus {
    /// Filed; KOMOJU transfers the money by hand "at a later date".
    Pending,
    /// The money went to the customer's account.
    Completed,
    /// Refused (wrong bank data): the merchant files again \[h-cash-refund\].
    Rejected,
}

impl RefundRequestStatus {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            RefundRequestStatus::Pending => "pending",
            RefundRequestStatus::Completed => "completed",
            RefundRequestStatus::Rejected => "rejected",
        }
    }
}

/// One element of `refund_requests[]` \[node:Models/RefundRequest\]: a refund
/// to the customer's bank account, for the types paid in cash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    /// 25 alphanumerics.
    pub id: String,
    /// Yen to transfer (without the customer's fee unless included).
    pub amount: i64,
    /// Also give back the customer's konbini/bank fee \[h-cash-refund\].
    pub include_payment_method_fee: bool,
    /// Half-width katakana, as registered at the bank.
    pub customer_name: String,
    /// The bank's name.
    pub bank_name: String,
    /// 4-digit Zengin code, when given.
    pub bank_code: Option<String>,
    /// The branch's name, when given.
    pub branch_name: Option<String>,
    /// 3 digits.
    pub branch_number: String,
    /// `normal`…
    pub account_type: String,
    /// 7 digits, leading zeros kept (the request may send an integer).
    pub account_number: String,
    /// The merchant's note.
    pub description: Option<String>,
    /// Where it stands.
    pub status: RefundRequestStatus,
    /// When it was filed.
    pub created_at: DateTime<Utc>,
    /// The split it gives back once completed, as asked.
    pub platform_details: Option<PlatformDetails>,
}

/// A payment \[node:Models/Payment\], as the simulated KOMOJU has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// 25 lowercase alphanumerics.
    pub id: String,
    /// Where the payment stands.
    pub status: PaymentStatus,
    /// Before tax.
    pub amount: i64,
    /// The tax on `amount`.
    pub tax: i64,
    /// A fee some types (konbini) add, paid by the customer.
    pub payment_method_fee: i64,
    /// `amount + tax + payment_method_fee`.
    pub total: i64,
    /// ISO 4217; always `JPY` here.
    pub currency: String,
    /// The merchant's order id given at creation.
    pub external_order_num: Option<String>,
    /// The types that wait for the customer's cash have one ([`ExpiryDays`]).
    pub payment_deadline: Option<DateTime<Utc>>,
    /// `None` until captured.
    pub captured_at: Option<DateTime<Utc>>,
    /// Sum of `refunds[].amount`.
    pub amount_refunded: i64,
    /// `payment_details.type`.
    pub payment_type: PaymentType,
    /// The create call's `capture`.
    pub capture: CaptureMode,
    /// Oldest first; a new refund is last.
    pub refunds: Vec<Refund>,
    /// The merchant's captures, oldest first (shown from 2025-01-28).
    pub captures: Vec<Capture>,
    /// Bank refunds filed through `/refund_request`, oldest first.
    pub refund_requests: Vec<RefundRequest>,
    /// The sellers' split (Platform Model), from the create or the capture.
    pub platform_details: Option<PlatformDetails>,
    /// When the customer reached the checkout.
    pub created_at: DateTime<Utc>,
}

impl Payment {
    /// What `/refund` can still give back.
    pub fn refundable(&self) -> i64 {
        self.total.saturating_sub(self.amount_refunded).max(0)
    }

    /// What a refund request can still ask for: the rest without the
    /// customer's fee (which `include_payment_method_fee` adds) and without
    /// what pending requests already ask \[assumed\].
    pub fn requestable(&self) -> i64 {
        let asked: i64 = (self.refund_requests.iter())
            .filter(|r| r.status == RefundRequestStatus::Pending)
            .map(|r| r.amount)
            .sum();
        self.total
            .saturating_sub(self.payment_method_fee)
            .saturating_sub(self.amount_refunded)
            .saturating_sub(asked)
            .max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::komoju::utc;

    #[test]
    fn type_names_round_trip_and_others_are_kept() {
        for (kind, wire) in NAMED_TYPES {
            assert_eq!(PaymentType::parse(wire), kind);
            assert_eq!(kind.as_str(), wire);
        }
        let odd = PaymentType::from("crypto_beans");
        assert_eq!(odd, PaymentType::Other("crypto_beans".into()));
        assert_eq!(odd.to_string(), "crypto_beans");
        assert_eq!(odd.flow(), Flow::Undocumented);
    }

    #[test]
    fn the_contract_table_per_type() {
        use PaymentType as T;
        assert!(T::CreditCard.merchant_captures());
        for cash in [T::Konbini, T::BankTransfer, T::PayEasy] {
            assert_eq!(cash.flow(), Flow::CustomerPays);
            assert!(!cash.merchant_captures(), "{cash}");
            assert_eq!(cash.refund_route(), RefundRoute::RefundRequest);
        }
        for other in [T::CreditCard, T::PayPay, T::Paidy, T::AmazonPay] {
            assert_eq!(other.refund_route(), RefundRoute::Refund, "{other}");
        }
        assert_eq!(T::Docomo.flow(), Flow::Offsite);
    }

    #[test]
    fn deadlines_end_at_23_59_59_jst_of_the_nth_day() {
        let days = ExpiryDays::default();
        // 10:00 JST on 22 November: a konbini slip is valid to the 25th.
        let at = utc("2026-11-22T01:00:00Z");
        assert_eq!(
            days.deadline(&PaymentType::Konbini, at),
            Some(utc("2026-11-25T14:59:59Z"))
        );
        // 15:30 UTC on the 22nd is 00:30 JST on the 23rd: the order day is the 23rd.
        let late = utc("2026-11-22T15:30:00Z");
        assert_eq!(
            days.deadline(&PaymentType::Konbini, late),
            Some(utc("2026-11-26T14:59:59Z"))
        );
        assert_eq!(
            days.deadline(&PaymentType::BankTransfer, at),
            Some(utc("2026-12-06T14:59:59Z"))
        );
        assert_eq!(days.deadline(&PaymentType::CreditCard, at), None);
        assert_eq!(days.deadline(&PaymentType::PayPay, at), None);
    }
}
