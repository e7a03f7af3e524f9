//! Error numbers of Yamato's own catalogue (the error table of the
//! WooCommerce plugin published for Yamato), per function, for the checks
//! the simulator makes with them; and the character range those checks use.
//! Numbers not listed here are still the simulator's guesses (see `state`).

use super::state::Endpoint;

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

/// Whether every character of `s` is one Yamato's range holds: written by
/// Shift_JIS in two bytes and none of the machine-dependent blocks (NEC row
/// 13 at 0x8740–0x879F, the NEC-selected IBM extensions at 0xED40–0xEEFC,
/// the user-defined area 0xF040–0xF9FC, the IBM extensions 0xFA40–0xFC4B).
pub(crate) fn in_range(s: &str) -> bool {
    s.chars().all(|c| {
        let mut buf = [0u8; 4];
        let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(c.encode_utf8(&mut buf));
        if unmappable || bytes.len() != 2 {
            return false;
        }
        let code = u16::from_be_bytes([bytes[0], bytes[1]]);
        !matches!(code, 0x8740..=0x879F | 0xED40..=0xEEFC | 0xF040..=0xF9FC | 0xFA40..=0xFC4B)
    })
}
