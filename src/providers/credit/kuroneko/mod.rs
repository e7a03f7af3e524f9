//! Kuroneko Atobarai (クロネコ代金後払い, Yamato's deferred payment) adapter.
//!
//! - [`normalize`]: pure conversion of a [`CreditRequest`] into the values
//!   Yamato accepts (full-width names and addresses, half-width kana, the
//!   address split 25 + 25, at most ten item lines, totals that add up), with
//!   errors that name the field a person has to fix.
//! - [`wire`]: the form field names, the `<return>` XML and the error codes.
//! - [`client`]: the form-posting client for KAARA (credit), KAARS (credit
//!   result), KAAST (transaction status), KAASL (shipment), KAACL (cancel)
//!   and KAAKK (amount reduction).
//!
//! The rest of the crate sees only the neutral types below: no wire names, no
//! Japanese labels. The wire contract is Kuroneko Atobarai's;
//! no official specification is public, so the adapter is strict where the
//! public integrations disagree (see [`normalize`]).

pub mod charset;
pub mod client;
pub mod config;
pub mod normalize;
pub mod provider;
pub mod width;
pub mod wire;
pub mod wiring;

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use crate::domain::Carrier;

/// Longest `orderNo` Yamato accepts.
pub const ORDER_NO_MAX_LEN: usize = 20;

/// One credit request (KAARA0010), also the new content of an amount
/// reduction (KAAKK0010). Values are as the ERP has them; [`normalize`]
/// converts them to Yamato's rules before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditRequest {
    /// The attempt's `orderNo` ([`order_no_for`]): unique across every
    /// transaction of the merchant, so a declined order is retried under a new one.
    pub order_no: String,
    /// When the customer ordered (`orderYmd`).
    pub ordered_on: NaiveDate,
    /// When the parcel is planned to leave (`shipYmd`): not before
    /// `ordered_on`, at most 90 days ahead.
    pub ship_on: NaiveDate,
    /// Who is billed; Yamato scores this person.
    pub buyer: Party,
    /// A different recipient (a gift); required with [`InvoiceDelivery::Gift`].
    pub ship_to: Option<Party>,
    /// The goods; folded to fit Yamato's ten lines when there are more.
    pub lines: Vec<Line>,
    /// Shipping fee in yen, billed as its own line (送料) when not zero.
    pub shipping_fee: i64,
    /// Payment fee in yen, billed as its own line (手数料) when not zero.
    pub fee: i64,
    /// How the invoice reaches the buyer (`sendDiv`).
    pub send_div: InvoiceDelivery,
}

/// A buyer or a recipient, as the ERP stores it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Party {
    /// Full name; converted to full-width, at most 30 characters.
    pub name: String,
    /// Reading of the name (katakana or hiragana, either width); sent as
    /// half-width katakana. May be empty.
    pub name_kana: String,
    /// Seven digits, with or without the hyphen (`480-0305`).
    pub postal_code: String,
    /// The whole address starting with the prefecture; split 25 + 25 full-width
    /// characters and it must contain a street number.
    pub address: String,
    /// Digits with or without hyphens; 10 digits (landline) or 11 (mobile).
    /// May be empty only for a recipient.
    pub phone: String,
    /// At most 64 characters; only the buyer's is sent.
    pub email: Option<String>,
}

/// One order line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Item name; converted to full-width and cut to 30 characters.
    pub name: String,
    /// Units, at least 1.
    pub qty: u32,
    /// Price of one unit in yen; negative for a discount line.
    pub unit_price: i64,
}

/// How Yamato sends the invoice (`sendDiv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InvoiceDelivery {
    /// 0: mailed to the buyer separately.
    MailToBuyer,
    /// 1: gift: the parcel goes to [`CreditRequest::ship_to`], the invoice to the buyer.
    Gift,
    /// 2: enclosed in the parcel (needs the enclosed-invoice contract).
    InParcel,
    /// 3: sent by SMS.
    Sms,
}

impl InvoiceDelivery {
    /// Every value, in wire order.
    pub const ALL: [InvoiceDelivery; 4] = [
        InvoiceDelivery::MailToBuyer,
        InvoiceDelivery::Gift,
        InvoiceDelivery::InParcel,
        InvoiceDelivery::Sms,
    ];

    /// The wire code.
    pub fn code(self) -> u8 {
        match self {
            InvoiceDelivery::MailToBuyer => 0,
            InvoiceDelivery::Gift => 1,
            InvoiceDelivery::InParcel => 2,
            InvoiceDelivery::Sms => 3,
        }
    }

    /// The code KAAKK (amount change) takes, which is not KAARA's set:
    /// `0` 別送 (mailed separately), `1` 同梱 (in the parcel), `2` SMS. A gift
    /// changes nothing here: its invoice is mailed separately too, and KAAKK
    /// carries no recipient (`kaakk054E`/`kaakk055E` refuse other values).
    pub fn reduce_code(self) -> u8 {
        match self {
            InvoiceDelivery::MailToBuyer | InvoiceDelivery::Gift => 0,
            InvoiceDelivery::InParcel => 1,
            InvoiceDelivery::Sms => 2,
        }
    }

    /// The value of a wire code; `None` outside the contract.
    pub fn from_code(code: u8) -> Option<InvoiceDelivery> {
        InvoiceDelivery::ALL.into_iter().find(|d| d.code() == code)
    }
}

/// Yamato's scoring of a credit request (`result` of KAARA and KAARS). A
/// decline is an answer, not an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CreditResult {
    /// 0 ご利用可: the order may ship (re-check before shipping: an OK can
    /// still turn NG).
    Ok,
    /// 1 ご利用不可: declined.
    Ng,
    /// 2 限度額超過: the buyer's limit is exceeded.
    OverLimit,
    /// 3 審査中: under review; poll KAARS until it settles, never ship meanwhile.
    UnderReview,
}

impl CreditResult {
    /// Every result, in wire order.
    pub const ALL: [CreditResult; 4] = [
        CreditResult::Ok,
        CreditResult::Ng,
        CreditResult::OverLimit,
        CreditResult::UnderReview,
    ];

    /// The wire code.
    pub fn code(self) -> u8 {
        match self {
            CreditResult::Ok => 0,
            CreditResult::Ng => 1,
            CreditResult::OverLimit => 2,
            CreditResult::UnderReview => 3,
        }
    }

    /// The result of a wire code; `None` outside the contract (the client
    /// refuses such an answer rather than guessing).
    pub fn from_code(code: u8) -> Option<CreditResult> {
        CreditResult::ALL.into_iter().find(|r| r.code() == code)
    }

    /// A stable ASCII name for storing and logs.
    pub fn name(self) -> &'static str {
        match self {
            CreditResult::Ok => "ok",
            CreditResult::Ng => "ng",
            CreditResult::OverLimit => "over_limit",
            CreditResult::UnderReview => "under_review",
        }
    }

    /// Whether the result is final (everything but under review).
    pub fn is_settled(self) -> bool {
        match self {
            CreditResult::Ok | CreditResult::Ng | CreditResult::OverLimit => true,
            CreditResult::UnderReview => false,
        }
    }
}

/// Where a transaction stands at Yamato (`result` of KAAST0010). Unknown codes
/// are kept so that a new upstream status reaches a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionStatus {
    /// 1 与信済み: approved, no tracking number yet.
    Approved,
    /// 2: cancelled (also what a declined or NG-flipped order shows).
    Cancelled,
    /// 3: the tracking number is registered.
    TrackingRegistered,
    /// 5: the delivery needs investigation.
    NeedsInvestigation,
    /// 6: Yamato sent the merchant a warning mail.
    WarningMailSent,
    /// 10: delivered; the sale is confirmed.
    SalesConfirmed,
    /// 11: the invoice was issued.
    InvoiceIssued,
    /// 12: the buyer paid.
    Paid,
    /// A code this adapter does not know.
    Unrecognised(u8),
}

impl TransactionStatus {
    /// The statuses of the contract, in order.
    pub const KNOWN: [TransactionStatus; 8] = [
        TransactionStatus::Approved,
        TransactionStatus::Cancelled,
        TransactionStatus::TrackingRegistered,
        TransactionStatus::NeedsInvestigation,
        TransactionStatus::WarningMailSent,
        TransactionStatus::SalesConfirmed,
        TransactionStatus::InvoiceIssued,
        TransactionStatus::Paid,
    ];

    /// The wire code.
    pub fn code(self) -> u8 {
        match self {
            TransactionStatus::Approved => 1,
            TransactionStatus::Cancelled => 2,
            TransactionStatus::TrackingRegistered => 3,
            TransactionStatus::NeedsInvestigation => 5,
            TransactionStatus::WarningMailSent => 6,
            TransactionStatus::SalesConfirmed => 10,
            TransactionStatus::InvoiceIssued => 11,
            TransactionStatus::Paid => 12,
            TransactionStatus::Unrecognised(code) => code,
        }
    }

    /// The status of a wire code; anything outside the contract is `Unknown`.
    pub fn from_code(code: u8) -> TransactionStatus {
        TransactionStatus::KNOWN
            .into_iter()
            .find(|s| s.code() == code)
            .unwrap_or(TransactionStatus::Unrecognised(code))
    }

    /// A stable ASCII name for storing the last status seen and for logs.
    pub fn name(self) -> &'static str {
        match self {
            TransactionStatus::Approved => "approved",
            TransactionStatus::Cancelled => "cancelled",
            TransactionStatus::TrackingRegistered => "tracking_registered",
            TransactionStatus::NeedsInvestigation => "needs_investigation",
            TransactionStatus::WarningMailSent => "warning_mail_sent",
            TransactionStatus::SalesConfirmed => "sales_confirmed",
            TransactionStatus::InvoiceIssued => "invoice_issued",
            TransactionStatus::Paid => "paid",
            TransactionStatus::Unrecognised(_) => "unknown",
        }
    }

    /// Whether the state table lets a shipment be registered (KAASL processDiv
    /// 0/2). Status 6 (warning mail, which is about a missing shipment) is
    /// treated like 1; the contract's table has no column for it.
    pub fn allows_shipment_registration(self) -> bool {
        match self {
            TransactionStatus::Approved
            | TransactionStatus::TrackingRegistered
            | TransactionStatus::NeedsInvestigation
            | TransactionStatus::WarningMailSent => true,
            TransactionStatus::Cancelled
            | TransactionStatus::SalesConfirmed
            | TransactionStatus::InvoiceIssued
            | TransactionStatus::Paid
            | TransactionStatus::Unrecognised(_) => false,
        }
    }

    /// Whether a registered shipment may be changed or withdrawn (processDiv 1/9).
    pub fn allows_shipment_change(self) -> bool {
        match self {
            TransactionStatus::TrackingRegistered | TransactionStatus::NeedsInvestigation => true,
            TransactionStatus::Approved
            | TransactionStatus::Cancelled
            | TransactionStatus::WarningMailSent
            | TransactionStatus::SalesConfirmed
            | TransactionStatus::InvoiceIssued
            | TransactionStatus::Paid
            | TransactionStatus::Unrecognised(_) => false,
        }
    }

    /// Whether KAACL (cancel) and KAAKK (reduce) are allowed: everything but
    /// cancelled and paid (and unknown, which needs a person).
    pub fn allows_cancel_or_reduce(self) -> bool {
        match self {
            TransactionStatus::Approved
            | TransactionStatus::TrackingRegistered
            | TransactionStatus::NeedsInvestigation
            | TransactionStatus::WarningMailSent
            | TransactionStatus::SalesConfirmed
            | TransactionStatus::InvoiceIssued => true,
            TransactionStatus::Cancelled
            | TransactionStatus::Paid
            | TransactionStatus::Unrecognised(_) => false,
        }
    }
}

/// KAAST's `warning`: why Yamato is waiting on the merchant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionWarning {
    /// 0: nothing.
    None,
    /// 1: the tracking number is not registered yet.
    TrackingNotRegistered,
    /// 2: the delivery is not completed.
    DeliveryNotCompleted,
    /// 3: the delivery needs investigation.
    DeliveryNeedsInvestigation,
    /// 4: the invoice print data was not fetched (enclosed invoices).
    InvoiceDataNotFetched,
    /// A code this adapter does not know.
    Unrecognised(u8),
}

impl TransactionWarning {
    /// The warnings of the contract, in order.
    pub const KNOWN: [TransactionWarning; 5] = [
        TransactionWarning::None,
        TransactionWarning::TrackingNotRegistered,
        TransactionWarning::DeliveryNotCompleted,
        TransactionWarning::DeliveryNeedsInvestigation,
        TransactionWarning::InvoiceDataNotFetched,
    ];

    /// The wire code.
    pub fn code(self) -> u8 {
        match self {
            TransactionWarning::None => 0,
            TransactionWarning::TrackingNotRegistered => 1,
            TransactionWarning::DeliveryNotCompleted => 2,
            TransactionWarning::DeliveryNeedsInvestigation => 3,
            TransactionWarning::InvoiceDataNotFetched => 4,
            TransactionWarning::Unrecognised(code) => code,
        }
    }

    /// The warning of a wire code; anything outside the contract is `Unknown`.
    pub fn from_code(code: u8) -> TransactionWarning {
        TransactionWarning::KNOWN
            .into_iter()
            .find(|w| w.code() == code)
            .unwrap_or(TransactionWarning::Unrecognised(code))
    }
}

/// What a KAASL0010 call does (`processDiv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShipmentProcess {
    /// 0: register (or replace) a Yamato tracking number.
    RegisterYamato,
    /// 1: change the registered tracking number (`beforePaymentNo` is the old one).
    Change,
    /// 2: register a shipment by another carrier (`paymentNo` is the orderNo).
    RegisterOtherCarrier,
    /// 9: withdraw the registration.
    CancelRegistration,
}

impl ShipmentProcess {
    /// Every value, in wire order.
    pub const ALL: [ShipmentProcess; 4] = [
        ShipmentProcess::RegisterYamato,
        ShipmentProcess::Change,
        ShipmentProcess::RegisterOtherCarrier,
        ShipmentProcess::CancelRegistration,
    ];

    /// How a first registration is sent for `carrier`: Yamato numbers are
    /// checked by Yamato (processDiv 0), anyone else's are not (2).
    pub fn register_for(carrier: Carrier) -> ShipmentProcess {
        match carrier {
            Carrier::Yamato => ShipmentProcess::RegisterYamato,
            Carrier::Sagawa
            | Carrier::JapanPost
            | Carrier::Seino
            | Carrier::Fukuyama
            | Carrier::Nittsu
            | Carrier::Meitetsu
            | Carrier::Tonami
            | Carrier::Ecohai
            | Carrier::Other => ShipmentProcess::RegisterOtherCarrier,
        }
    }

    /// The wire code (`processDiv`).
    pub fn code(self) -> u8 {
        match self {
            ShipmentProcess::RegisterYamato => 0,
            ShipmentProcess::Change => 1,
            ShipmentProcess::RegisterOtherCarrier => 2,
            ShipmentProcess::CancelRegistration => 9,
        }
    }

    /// The value of a wire code; `None` outside the contract.
    pub fn from_code(code: u8) -> Option<ShipmentProcess> {
        ShipmentProcess::ALL.into_iter().find(|p| p.code() == code)
    }
}

/// The `orderNo` of one credit attempt of an order: 1–20 of `[0-9A-Za-z_-]`,
/// deterministic (a retry after a crash sends the same number) and different
/// per attempt (Yamato never accepts a number twice, not even after a decline).
///
/// An id that already fits is kept readable (`A-1001` attempt 2 →
/// `A-1001-2`); any other id is cut and given six hex digits of its SHA-256
/// (`_1a2b3c`) so that ids differing only in dropped characters stay apart.
/// The attempt is always the last `-` part, so no two (id, attempt) pairs
/// meet unless two ids share a hash prefix.
pub fn order_no_for(order_id: &str, attempt: u32) -> String {
    let suffix = format!("-{attempt}");
    let budget = ORDER_NO_MAX_LEN - suffix.len();
    let clean: String = order_id.chars().filter(|c| is_order_no_char(*c)).collect();
    let readable = !clean.is_empty()
        && clean.len() == order_id.len()
        && clean.len() <= budget
        && !looks_hashed(&clean);
    let head = if readable {
        clean
    } else {
        let digest = Sha256::digest(order_id.as_bytes());
        let tag = hex::encode(&digest[..3]);
        // `budget` is at least 9 (20 - 1 - 10 digits of a u32), so 2+ characters remain.
        let keep: String = clean.chars().take(budget - 1 - tag.len()).collect();
        format!("{keep}_{tag}")
    };
    format!("{head}{suffix}")
}

/// Whether `order_no` has Yamato's shape: 1–20 of `[0-9A-Za-z_-]`.
pub fn is_valid_order_no(order_no: &str) -> bool {
    (1..=ORDER_NO_MAX_LEN).contains(&order_no.len()) && order_no.chars().all(is_order_no_char)
}

fn is_order_no_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Ends like a hashed id (`_` and six lowercase hex digits): such ids are
/// hashed too, so a readable id can never equal another id's hashed form.
fn looks_hashed(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes.len() >= 7
        && bytes[bytes.len() - 7] == b'_'
        && bytes[bytes.len() - 6..]
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

/// A Yamato tracking number as it is sent: the digits, without the hyphens
/// a label or an ERP may write (`1234-5678-9013`). Any other character is
/// kept, so the check digit refuses it.
pub fn tracking_digits(tracking: &str) -> String {
    tracking.trim().chars().filter(|c| *c != '-').collect()
}

/// Whether `tracking` is a well-formed Yamato tracking number: 12 ASCII
/// digits, hyphens aside, whose last is the first eleven, read as a number,
/// mod 7. Checked before sending, because Yamato refuses a bad one
/// (`kaasl014E`) only after the parcel has left.
pub fn yamato_check_digit_ok(tracking: &str) -> bool {
    let digits = tracking_digits(tracking);
    let bytes = digits.as_bytes();
    if bytes.len() != 12 || !bytes.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let body = bytes[..11]
        .iter()
        .fold(0u64, |n, b| n * 10 + u64::from(b - b'0'));
    u64::from(bytes[11] - b'0') == body % 7
}

/// Requests for tests of the adapter, the simulator and the core.
#[cfg(test)]
pub(crate) mod testing {
    use chrono::NaiveDate;

    use super::{CreditRequest, InvoiceDelivery, Line, Party};

    /// A buyer whose fields need every conversion (half-width kana, ASCII
    /// digits, a hyphenated postcode and phone).
    pub(crate) fn buyer() -> Party {
        Party {
            name: "山田 太郎".to_string(),
            name_kana: "やまだ たろう".to_string(),
            postal_code: "480-0305".to_string(),
            address: "愛知県愛知郡東郷町春木台1-2-3 ﾊｲﾂ101".to_string(),
            phone: "090-1234-5678".to_string(),
            email: Some("taro@example.jp".to_string()),
        }
    }

    /// A request of 5,000 yen: 2 × 1,500 + 1,200, shipping 500, fee 300,
    /// ordered and shipped on `today`.
    pub(crate) fn request(order_no: &str, today: NaiveDate) -> CreditRequest {
        CreditRequest {
            order_no: order_no.to_string(),
            ordered_on: today,
            ship_on: today,
            buyer: buyer(),
            ship_to: None,
            lines: vec![
                Line {
                    name: "Tシャツ ﾌﾞﾙｰ L".to_string(),
                    qty: 2,
                    unit_price: 1500,
                },
                Line {
                    name: "マグカップ〜白〜".to_string(),
                    qty: 1,
                    unit_price: 1200,
                },
            ],
            shipping_fee: 500,
            fee: 300,
            send_div: InvoiceDelivery::MailToBuyer,
        }
    }
}

#[cfg(test)]
mod tests;
