//! Yamato's code tables: the scoring results, transaction statuses,
//! warnings and processDiv values of the contract ("Functions"), with the
//! state table that says which function each status allows ("State rules");
//! and the error numbers of Yamato's own catalogue (the error table of the
//! WooCommerce plugin published for Yamato, "Corrections"), per function, for
//! the checks the simulator makes with them. Numbers not listed here are
//! still the simulator's guesses (see `state`).

use super::wire::Endpoint;

/// Numbers of the store code and password checks of one function.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CommonCodes {
    /// Store code missing.
    pub store_missing: u16,
    /// Store code not 11 characters.
    pub store_length: u16,
    /// Store code not digits.
    pub store_digits: u16,
    /// A well-formed store code Yamato does not know (functions without
    /// such a number answer the password mismatch).
    pub store_unknown: u16,
    /// Password missing.
    pub password_missing: u16,
    /// Password malformed (not alphanumeric, or longer than 8).
    pub password_shape: u16,
    /// Password does not match.
    pub password_mismatch: u16,
}

/// The catalogue's numbers of `endpoint`.
pub(crate) fn common(endpoint: Endpoint) -> CommonCodes {
    let c = |store: [u16; 4], password: [u16; 3]| CommonCodes {
        store_missing: store[0],
        store_length: store[1],
        store_digits: store[2],
        store_unknown: store[3],
        password_missing: password[0],
        password_shape: password[1],
        password_mismatch: password[2],
    };
    match endpoint {
        Endpoint::Credit => c([4, 2, 3, 92], [90, 91, 92]),
        Endpoint::CreditResult => c([4, 2, 3, 12], [13, 12, 12]),
        Endpoint::Status => c([4, 2, 3, 15], [13, 12, 12]),
        Endpoint::Cancel => c([4, 2, 3, 17], [14, 13, 13]),
        Endpoint::Shipment => c([4, 2, 3, 41], [37, 36, 36]),
        Endpoint::Reduce => c([1, 3, 2, 4], [59, 60, 61]),
        Endpoint::Any => c([90, 90, 90, 90], [91, 91, 92]),
    }
}

/// Numbers of the content checks KAARA and KAAKK share.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ContentCodes {
    /// address1: not full-width, out of range, no prefecture.
    pub address1: [u16; 3],
    /// address2: not full-width, out of range.
    pub address2: [u16; 2],
    /// Item name: not full-width, out of range.
    pub item_name: [u16; 2],
    /// Item count longer than 4 digits.
    pub item_count_length: u16,
    /// sendDiv: not a number, not one of the codes, 同梱 without the contract.
    pub send_div: [u16; 3],
}

/// KAARA's or KAAKK's numbers.
pub(crate) fn content(endpoint: Endpoint) -> ContentCodes {
    if endpoint == Endpoint::Reduce {
        ContentCodes {
            address1: [25, 24, 27],
            address2: [29, 28],
            item_name: [34, 33],
            item_count_length: 37,
            send_div: [53, 54, 55],
        }
    } else {
        ContentCodes {
            address1: [31, 33, 34],
            address2: [35, 37],
            item_name: [54, 56],
            item_count_length: 59,
            send_div: [51, 53, 52],
        }
    }
}

/// KAARA's name out of range.
pub(crate) const NAME_OUT_OF_RANGE: u16 = 22;
/// KAARA's recipient fields out of range: sendName, sendAddress1, sendAddress2.
pub(crate) const RECIPIENT_OUT_OF_RANGE: [u16; 3] = [68, 77, 81];

/// `<prefix><nnn>E`: `kaara040E`.
pub(crate) fn code(endpoint: Endpoint, n: u16) -> String {
    format!("{}{n:03}E", endpoint.prefix())
}

/// `result` of KAARA and KAARS: Yamato's scoring (contract, Functions). A
/// decline is an answer with `returnCode` 0, not an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KuronekoCreditResult {
    /// 0 ご利用可.
    Ok,
    /// 1 ご利用不可.
    Ng,
    /// 2 限度額超過.
    OverLimit,
    /// 3 審査中: settles later; KAARS tells.
    UnderReview,
}

impl KuronekoCreditResult {
    /// The wire code.
    pub fn code(self) -> u8 {
        match self {
            KuronekoCreditResult::Ok => 0,
            KuronekoCreditResult::Ng => 1,
            KuronekoCreditResult::OverLimit => 2,
            KuronekoCreditResult::UnderReview => 3,
        }
    }

    /// Yamato's label.
    pub fn label(self) -> &'static str {
        match self {
            KuronekoCreditResult::Ok => "ご利用可",
            KuronekoCreditResult::Ng => "ご利用不可",
            KuronekoCreditResult::OverLimit => "限度額超過",
            KuronekoCreditResult::UnderReview => "審査中",
        }
    }
}

/// `result` of KAAST: where a transaction stands (contract, Functions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KuronekoStatus {
    /// 1: approved, no tracking number yet.
    Approved,
    /// 2: cancelled (also what a declined or NG-flipped order shows: the
    /// simulator's guess).
    Cancelled,
    /// 3: the tracking number is registered.
    TrackingRegistered,
    /// 5: the delivery needs investigation.
    NeedsInvestigation,
    /// 6: Yamato sent the merchant a warning mail.
    WarningMailSent,
    /// 10: delivered, sales confirmed.
    SalesConfirmed,
    /// 11: invoice issued.
    InvoiceIssued,
    /// 12: paid.
    Paid,
}

impl KuronekoStatus {
    /// The wire code.
    pub fn code(self) -> u8 {
        match self {
            KuronekoStatus::Approved => 1,
            KuronekoStatus::Cancelled => 2,
            KuronekoStatus::TrackingRegistered => 3,
            KuronekoStatus::NeedsInvestigation => 5,
            KuronekoStatus::WarningMailSent => 6,
            KuronekoStatus::SalesConfirmed => 10,
            KuronekoStatus::InvoiceIssued => 11,
            KuronekoStatus::Paid => 12,
        }
    }

    /// The contract's state table, KAASL processDiv 0/2 (`kaasl020E`): 1, 3
    /// and 5. Status 6 (a warning mail about a missing shipment) has no
    /// column; the simulator treats it like 1.
    pub fn allows_shipment_registration(self) -> bool {
        match self {
            KuronekoStatus::Approved
            | KuronekoStatus::TrackingRegistered
            | KuronekoStatus::NeedsInvestigation
            | KuronekoStatus::WarningMailSent => true,
            KuronekoStatus::Cancelled
            | KuronekoStatus::SalesConfirmed
            | KuronekoStatus::InvoiceIssued
            | KuronekoStatus::Paid => false,
        }
    }

    /// The state table, KAASL processDiv 1/9 (`kaasl022E`): 3 and 5.
    pub fn allows_shipment_change(self) -> bool {
        match self {
            KuronekoStatus::TrackingRegistered | KuronekoStatus::NeedsInvestigation => true,
            KuronekoStatus::Approved
            | KuronekoStatus::Cancelled
            | KuronekoStatus::WarningMailSent
            | KuronekoStatus::SalesConfirmed
            | KuronekoStatus::InvoiceIssued
            | KuronekoStatus::Paid => false,
        }
    }

    /// The state table, KAACL (`kaacl009E`) and KAAKK (`kaakk011E`): 1, 3,
    /// 5, 10 and 11 (6 like 1), never 2 or 12.
    pub fn allows_cancel_or_reduce(self) -> bool {
        match self {
            KuronekoStatus::Approved
            | KuronekoStatus::TrackingRegistered
            | KuronekoStatus::NeedsInvestigation
            | KuronekoStatus::WarningMailSent
            | KuronekoStatus::SalesConfirmed
            | KuronekoStatus::InvoiceIssued => true,
            KuronekoStatus::Cancelled | KuronekoStatus::Paid => false,
        }
    }
}

/// `warning` of KAAST: why Yamato waits on the merchant (contract, Functions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KuronekoWarning {
    /// 0: none.
    None,
    /// 1: tracking number not registered.
    TrackingNotRegistered,
    /// 2: delivery not completed.
    DeliveryNotCompleted,
    /// 3: delivery needs investigation.
    DeliveryNeedsInvestigation,
    /// 4: invoice print data not fetched.
    InvoiceDataNotFetched,
}

impl KuronekoWarning {
    /// The wire code.
    pub fn code(self) -> u8 {
        match self {
            KuronekoWarning::None => 0,
            KuronekoWarning::TrackingNotRegistered => 1,
            KuronekoWarning::DeliveryNotCompleted => 2,
            KuronekoWarning::DeliveryNeedsInvestigation => 3,
            KuronekoWarning::InvoiceDataNotFetched => 4,
        }
    }
}

/// `processDiv` of KAASL (contract, Functions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KuronekoProcessDiv {
    /// 0: register (or change) a Yamato tracking number.
    RegisterYamato,
    /// 1: change the number (`beforePaymentNo` the old one, `shipYmd` required).
    Change,
    /// 2: register a shipment by another carrier (`paymentNo` = the orderNo).
    RegisterOtherCarrier,
    /// 9: cancel the registration.
    CancelRegistration,
}

impl KuronekoProcessDiv {
    /// Every value, in wire order.
    pub const ALL: [KuronekoProcessDiv; 4] = [
        KuronekoProcessDiv::RegisterYamato,
        KuronekoProcessDiv::Change,
        KuronekoProcessDiv::RegisterOtherCarrier,
        KuronekoProcessDiv::CancelRegistration,
    ];

    /// The wire code.
    pub fn code(self) -> u8 {
        match self {
            KuronekoProcessDiv::RegisterYamato => 0,
            KuronekoProcessDiv::Change => 1,
            KuronekoProcessDiv::RegisterOtherCarrier => 2,
            KuronekoProcessDiv::CancelRegistration => 9,
        }
    }

    /// The value of a wire code; `None` outside the contract (`kaasl019E`).
    pub fn from_code(code: u8) -> Option<KuronekoProcessDiv> {
        KuronekoProcessDiv::ALL
            .into_iter()
            .find(|p| p.code() == code)
    }
}
