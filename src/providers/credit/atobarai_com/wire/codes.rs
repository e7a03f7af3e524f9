//! Atobarai.com's error codes: the common suffixes, each service's own codes,
//! and what they mean.

// ---------------------------------------------------------------------------
// Error codes
// ---------------------------------------------------------------------------

/// Common suffix `101`: the caller's IP is not on the account's allow-list.
pub const IP_NOT_ALLOWED: &str = "101";
/// Common suffix `102`: enterprise / site / API user ids invalid or not linked.
pub const BAD_IDS: &str = "102";
/// Common suffix `201`: a required field is empty.
pub const REQUIRED: &str = "201";
/// Common suffix `202`: a field has a bad format.
pub const BAD_FORMAT: &str = "202";
/// Common suffix `204`: a date is invalid.
pub const BAD_DATE: &str = "204";
/// Common suffix `901`: system failure (retry later).
pub const SYSTEM_FAILURE: &str = "901";
/// Common suffix `902`: maintenance (retry later).
pub const MAINTENANCE: &str = "902";

/// 00: an item line is invalid.
pub const ORDER_BAD_LINE: &str = "E00203";
/// 00: the order has no item line.
pub const ORDER_NO_LINES: &str = "E00302";
/// 00: `O_UseAmount` is not the sum of the lines.
pub const ORDER_AMOUNT_MISMATCH: &str = "E00303";
/// 00: the address has no street number.
pub const ORDER_NO_STREET_NUMBER: &str = "E00307";
/// 00: the postcode is unknown.
pub const ORDER_UNKNOWN_POSTCODE: &str = "E00308";
/// 00: the merchant order number is already registered.
pub const ORDER_DUPLICATE: &str = "E00309";
/// 04: carrier not allowed or tracking number invalid.
pub const SHIPPING_BAD_CARRIER_OR_NUMBER: &str = "E04202";
/// 04: the order is not awaiting a tracking number (not credit-OK, cancelled,
/// or already registered).
pub const SHIPPING_NOT_ALLOWED: &str = "E04301";
/// 03 per merchant number: no order at 与信OK under it (対応注文なし); an
/// order under review, NG, shipped or cancelled answers this too.
pub const IDMAP_NOT_FOUND: &str = "E001";
/// 03 per merchant number: several orders under it (複数注文該当).
pub const IDMAP_SEVERAL: &str = "E002";
/// 05 per order (`ServiceCancel.php`): no such order (対応注文なし).
pub const CANCEL_NOT_FOUND: &str = "E001";
/// 05 per order: the order exists but cannot be cancelled in its state.
pub const CANCEL_NOT_CANCELLABLE: &str = "E002";
/// 05 per order: the card processor (SBPS) refused, with its own message.
pub const CANCEL_CARD_PROCESSOR: &str = "E003";
/// 05 per order: any other failure.
pub const CANCEL_OTHER: &str = "E999";
/// 05 top message when nothing was cancelled and at least one order could
/// not be (キャンセル可能な注文がありませんでした); the results say why.
pub const CANCEL_NONE_CANCELLABLE: &str = "E05301";
/// 05 top message when nothing was cancelled because no order was found
/// (有効な注文IDが指定されていません).
pub const CANCEL_NONE_FOUND: &str = "E05202";
/// 09 (by analogy with `E01202` / `E05202`, not seen): no valid id given.
pub const DETAIL_NONE_FOUND: &str = "E09202";
/// 01: none of the ids asked is known (the answer still lists each).
pub const STATUS_UNKNOWN_IDS: &str = "E01202";
/// 00: the order date is more than 60 days ago.
pub const ORDER_TOO_OLD: &str = "E00306";

/// Splits `E04301` into `("04", "301")`; also accepts a literal `EXX101`.
pub fn split_code(code: &str) -> Option<(&str, &str)> {
    let rest = code.strip_prefix('E')?;
    if rest.len() != 5 || !rest.is_char_boundary(2) {
        return None;
    }
    let (service, suffix) = rest.split_at(2);
    let service_ok = service == "XX" || service.bytes().all(|b| b.is_ascii_digit());
    (service_ok && suffix.bytes().all(|b| b.is_ascii_digit())).then_some((service, suffix))
}

/// Whether an error code means "try again later": system failure (`EXX901`)
/// or maintenance (`EXX902`). Everything else is a refusal.
pub fn is_transient_code(code: &str) -> bool {
    matches!(split_code(code), Some((_, SYSTEM_FAILURE | MAINTENANCE)))
}

/// A readable English description of an error code, for logs and the
/// `attention` a person reads.
pub fn describe(code: &str) -> &'static str {
    match code {
        ORDER_BAD_LINE => "an item line is invalid (name, unit price, quantity or tax rate)",
        ORDER_NO_LINES => "the order has no item line",
        ORDER_AMOUNT_MISMATCH => {
            "O_UseAmount is not the sum of unit price x quantity + carriage + charge (+ outside tax)"
        }
        ORDER_NO_STREET_NUMBER => "the address has no street number",
        ORDER_UNKNOWN_POSTCODE => "the postcode is unknown to the service",
        ORDER_DUPLICATE => "the merchant order number is already registered",
        SHIPPING_BAD_CARRIER_OR_NUMBER => {
            "the carrier is not allowed or the tracking number is invalid"
        }
        SHIPPING_NOT_ALLOWED => {
            "the order is not awaiting a tracking number (not credit-OK, cancelled, or already registered)"
        }
        CANCEL_NONE_FOUND => "no valid order id: the orders were not found",
        STATUS_UNKNOWN_IDS => "none of the orders asked is known to the service",
        ORDER_TOO_OLD => {
            "the order date is more than 60 days ago: Atobarai.com no longer registers it"
        }
        CANCEL_NONE_CANCELLABLE => {
            "no order was cancelled: at least one cannot be cancelled in its current state"
        }
        _ => match split_code(code).map(|(_, suffix)| suffix) {
            Some(IP_NOT_ALLOWED) => "the caller's IP address is not allowed for this account",
            Some(BAD_IDS) => "enterprise id, site id or API user id is invalid or not linked",
            Some(REQUIRED) => "a required field is empty",
            Some(BAD_FORMAT) => "a field has an invalid format",
            Some(BAD_DATE) => "a date is invalid",
            Some(SYSTEM_FAILURE) => "the service had a system failure",
            Some(MAINTENANCE) => "the service is under maintenance",
            _ => "an error code this adapter does not know",
        },
    }
}
