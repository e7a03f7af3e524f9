//! The field checks of the simulated service: how a form is read (PHP's
//! `$_POST`: a scalar key last-wins, a `[]` key a list), the problems of one
//! request as `<message>`s, and the value formats. The formats the contract
//! does not spell out (postcodes known by a small table, what counts as a
//! street number, phone and mail shapes) are the simulator's guesses.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::state::{Message, Reply};
use super::wire::{AtobaraiService, BAD_DATE, BAD_FORMAT, BAD_IDS, REQUIRED, TEXT_BAD_IDS, keys};

/// Orders per status, idmap, cancel and detail request.
pub const MAX_IDS: usize = 100;
/// Longest merchant order number and address.
pub const MAX_TEXT: usize = 100;
/// Longest item name the simulator takes.
const MAX_ITEM_NAME: usize = 255;

/// Exact postcodes the simulated service knows; any postcode with the same
/// three-digit area prefix is known too.
pub const KNOWN_POSTCODES: [&str; 16] = [
    "0600001", "9800811", "1000001", "1000005", "1040061", "1500001", "1600022", "2310023",
    "3300063", "4600008", "5300001", "6008216", "6500021", "7300011", "8100001", "9000015",
];

/// The form as the service reads it: scalar keys last-wins (blank reads as
/// absent), `[]` keys as lists.
pub(crate) struct Fields<'a> {
    pub(crate) form: &'a [(String, String)],
}

impl<'a> Fields<'a> {
    pub(crate) fn get(&self, key: &str) -> Option<&'a str> {
        self.form
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    pub(crate) fn list(&self, key: &str) -> Vec<&'a str> {
        self.form
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .collect()
    }
}

/// Problems of one request, as `(code, text)` messages.
pub(crate) struct Problems {
    service: AtobaraiService,
    pub(crate) messages: Vec<Message>,
}

impl Problems {
    pub(crate) fn new(service: AtobaraiService) -> Self {
        Problems {
            service,
            messages: Vec::new(),
        }
    }

    /// A common code (`E` + this service + `suffix`).
    pub(crate) fn common(&mut self, suffix: &str, text: String) {
        self.messages.push((self.service.code(suffix), text));
    }

    pub(crate) fn required(&mut self, key: &str) {
        self.common(REQUIRED, format!("{key}：必須項目が入力されていません"));
    }

    pub(crate) fn format(&mut self, key: &str) {
        self.common(BAD_FORMAT, format!("{key}：形式が正しくありません"));
    }

    /// A service's own code.
    pub(crate) fn code(&mut self, code: &str, text: String) {
        self.messages.push((code.to_string(), text));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// `Err` with the messages when there are any.
    pub(crate) fn stop(&mut self) -> Result<(), Reply> {
        if self.messages.is_empty() {
            Ok(())
        } else {
            Err(Reply::Error(std::mem::take(&mut self.messages)))
        }
    }
}

/// After the field checks: stop with the problems so far, or with `EXX102`
/// when only the ids were wrong.
pub(crate) fn end_field_checks(p: &mut Problems, wrong_ids: bool) -> Result<(), Reply> {
    p.stop()?;
    if wrong_ids {
        p.common(BAD_IDS, TEXT_BAD_IDS.to_string());
    }
    p.stop()
}

/// A `[]` list: required when `required`, at most [`MAX_IDS`], no blanks.
pub(crate) fn id_list<'a>(
    fields: &Fields<'a>,
    key: &str,
    p: &mut Problems,
    required: bool,
) -> Vec<&'a str> {
    let ids = fields.list(key);
    if ids.is_empty() && required {
        p.required(key);
    }
    if ids.len() > MAX_IDS || ids.iter().any(|i| i.is_empty()) {
        p.format(key);
    }
    ids
}

pub(crate) fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// An integer in yen as the form carries it: ASCII digits, an optional `-`.
pub(crate) fn parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if !is_digits(digits) {
        return None;
    }
    s.parse().ok()
}

/// `O_ReceiptOrderDate`: exactly `yyyy/mm/dd`, a real day.
pub(crate) fn parse_order_date(s: &str) -> Option<NaiveDate> {
    if s.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y/%m/%d").ok()
}

/// Seven digits, optionally `NNN-NNNN`; the digits without the hyphen.
pub(crate) fn postcode_digits(s: &str) -> Option<String> {
    let ok = match s.len() {
        7 => is_digits(s),
        8 => {
            s.as_bytes().get(3) == Some(&b'-')
                && s.get(..3).is_some_and(is_digits)
                && s.get(4..).is_some_and(is_digits)
        }
        _ => false,
    };
    ok.then(|| s.replace('-', ""))
}

/// Whether the simulated service knows a postcode (`E00308` otherwise).
pub(crate) fn postcode_known(digits: &str) -> bool {
    KNOWN_POSTCODES
        .iter()
        .any(|k| *k == digits || (k.get(..3) == digits.get(..3) && !digits.ends_with("9999")))
}

/// Digits and hyphens, 10 or 11 digits.
pub(crate) fn phone_ok(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_digit() || c == '-')
        && (10..=11).contains(&s.chars().filter(char::is_ascii_digit).count())
}

pub(crate) fn mail_ok(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !domain.contains('@') && !s.contains(' ')
        }
        None => false,
    }
}

/// A digit (ASCII or full-width), or a kanji numeral followed by 丁目 or 番
/// (`E00307` otherwise).
pub(crate) fn has_street_number(address: &str) -> bool {
    let chars: Vec<char> = address.chars().collect();
    chars.iter().enumerate().any(|(i, c)| {
        c.is_ascii_digit()
            || ('０'..='９').contains(c)
            || ("一二三四五六七八九十〇".contains(*c)
                && chars
                    .get(i + 1)
                    .is_some_and(|next| *next == '丁' || *next == '番'))
    })
}

/// Length in characters, as the service counts its limits.
pub(crate) fn text_len(s: &str) -> usize {
    s.chars().count()
}

/// The line numbers present: every `n` any `I_*_<n>` key names.
pub(crate) fn line_numbers(fields: &Fields<'_>) -> BTreeSet<u32> {
    fields
        .form
        .iter()
        .filter_map(|(k, _)| {
            keys::LINE_PREFIXES
                .iter()
                .find_map(|p| k.strip_prefix(p))
                .and_then(|n| if is_digits(n) { n.parse().ok() } else { None })
        })
        .filter(|n| *n > 0)
        .collect()
}

/// `unit price × quantity` of a valid line; `None` when the line is invalid
/// (`E00203`): no name, a price that is not an integer, a quantity not above
/// zero, a tax rate other than blank, 0, 8 or 10.
pub(crate) fn line_amount(fields: &Fields<'_>, n: u32) -> Option<i64> {
    let key = |prefix: &str| keys::line(prefix, n);
    let name = fields.get(&key(keys::I_ITEM_NAME_KJ))?;
    if text_len(name) > MAX_ITEM_NAME {
        return None;
    }
    let price = fields.get(&key(keys::I_UNIT_PRICE)).and_then(parse_int)?;
    let qty = fields
        .get(&key(keys::I_ITEM_NUM))
        .and_then(parse_int)
        .filter(|q| *q > 0)?;
    if let Some(rate) = fields.get(&key(keys::I_TAX_RATE))
        && !matches!(rate, "0" | "8" | "10")
    {
        return None;
    }
    price.checked_mul(qty)
}

/// The postcode, address and phone keys of one party (buyer or recipient).
pub(crate) type PartyKeys = (&'static str, &'static str, &'static str);

/// 00's required keys (the recipient's too, with `O_AnotherDeliFlg=1`).
fn check_required(fields: &Fields<'_>, another: bool, p: &mut Problems) {
    let mut required = vec![
        keys::O_RECEIPT_ORDER_DATE,
        keys::O_USE_AMOUNT,
        keys::C_POSTAL_CODE,
        keys::C_UNITING_ADDRESS,
        keys::C_NAME_KJ,
        keys::C_PHONE,
    ];
    if another {
        required.extend([
            keys::D_POSTAL_CODE,
            keys::D_UNITING_ADDRESS,
            keys::D_DEST_NAME_KJ,
            keys::D_PHONE,
        ]);
    }
    for key in required {
        if fields.get(key).is_none() {
            p.required(key);
        }
    }
}

/// 00's required keys and field formats (the phone's only where the site
/// checks it); answers the parties' keys and the extras (carriage, charge,
/// outside tax) to add to the lines.
pub(crate) fn register_formats(
    fields: &Fields<'_>,
    p: &mut Problems,
    check_phone: bool,
) -> (Vec<PartyKeys>, i64) {
    let another = fields.get(keys::O_ANOTHER_DELI_FLG) == Some("1");
    check_required(fields, another, p);
    if fields
        .get(keys::O_RECEIPT_ORDER_DATE)
        .is_some_and(|d| parse_order_date(d).is_none())
    {
        p.common(
            BAD_DATE,
            format!("{}：日付が正しくありません", keys::O_RECEIPT_ORDER_DATE),
        );
    }
    if fields
        .get(keys::O_USE_AMOUNT)
        .is_some_and(|v| parse_int(v).is_none_or(|a| a < 0))
    {
        p.format(keys::O_USE_AMOUNT);
    }
    if fields
        .get(keys::O_ENT_ORDER_ID)
        .is_some_and(|v| text_len(v) > MAX_TEXT)
    {
        p.format(keys::O_ENT_ORDER_ID);
    }
    for (key, allowed) in [
        (keys::O_ANOTHER_DELI_FLG, &["0", "1"][..]),
        (keys::O_TEST_ORDER_FLG, &["0", "1"][..]),
        (keys::O_TEST_CREDIT_RESULT, &["0", "1", "2"][..]),
    ] {
        if fields.get(key).is_some_and(|v| !allowed.contains(&v)) {
            p.format(key);
        }
    }
    let mut party_keys = vec![(keys::C_POSTAL_CODE, keys::C_UNITING_ADDRESS, keys::C_PHONE)];
    if another {
        party_keys.push((keys::D_POSTAL_CODE, keys::D_UNITING_ADDRESS, keys::D_PHONE));
    }
    for (postal, address, phone) in &party_keys {
        if fields
            .get(postal)
            .is_some_and(|v| postcode_digits(v).is_none())
        {
            p.format(postal);
        }
        if fields.get(address).is_some_and(|v| text_len(v) > MAX_TEXT) {
            p.format(address);
        }
        if check_phone && fields.get(phone).is_some_and(|v| !phone_ok(v)) {
            p.format(phone);
        }
    }
    if fields
        .get(keys::C_MAIL_ADDRESS)
        .is_some_and(|v| !mail_ok(v))
    {
        p.format(keys::C_MAIL_ADDRESS);
    }
    let mut extras = 0i64;
    for key in [
        keys::I_ITEM_CARRIAGE,
        keys::I_ITEM_CHARGE,
        keys::I_OUTSIDE_TAX,
    ] {
        match fields.get(key).map(parse_int) {
            None => {}
            Some(Some(v)) => extras = extras.saturating_add(v),
            Some(None) => p.format(key),
        }
    }
    (party_keys, extras)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn street_numbers_and_postcodes() {
        for (address, want) in [
            ("東京都千代田区千代田1-1", true),
            ("東京都千代田区千代田１－１", true),
            ("東京都渋谷区神宮前一丁目", true),
            ("京都府京都市下京区四条通二番", true),
            ("東京都三鷹市", false),
            ("三重県四日市市", false),
        ] {
            assert_eq!(has_street_number(address), want, "{address}");
        }
        assert_eq!(postcode_digits("100-0001").as_deref(), Some("1000001"));
        assert_eq!(postcode_digits("1000001").as_deref(), Some("1000001"));
        for bad in ["100-001", "10000011", "１０００００１", "100_0001"] {
            assert_eq!(postcode_digits(bad), None, "{bad}");
        }
        assert!(postcode_known("1000001"));
        assert!(postcode_known("1000004"), "same area as a known code");
        assert!(!postcode_known("1009999"));
        assert!(!postcode_known("0000000"));
        assert!(!postcode_known("1230001"));
    }

    #[test]
    fn phones_and_mail() {
        assert!(phone_ok("03-1234-5678"));
        assert!(phone_ok("09012345678"));
        assert!(!phone_ok("0312"));
        assert!(!phone_ok("03(1234)5678"));
        assert!(mail_ok("taro@example.jp"));
        assert!(!mail_ok("taro.example.jp"));
        assert!(!mail_ok("@example.jp"));
    }

    #[test]
    fn order_dates_are_slashed_real_days() {
        assert!(parse_order_date("2026/11/23").is_some());
        for bad in ["2026-11-23", "2026/02/30", "2026/1/23", "26/11/23"] {
            assert!(parse_order_date(bad).is_none(), "{bad}");
        }
    }
}
