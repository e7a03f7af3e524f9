//! The field rules KAARA and KAAKK share (contract, KAARA0010 fields and
//! Corrections), then their relations (totals, street number, dates): each
//! refusal with the function's own number (see `codes`).

use chrono::{NaiveDate, TimeDelta};

use super::codes::{self, code};
use super::text::{
    self, ADDRESS_PART_MAX, AMOUNT_RANGE, COUNT_MAX, ITEM_NAME_MAX, NAME_MAX, SHIP_AHEAD_DAYS,
    full_width_within, phone_ok,
};
use super::wire::{self, Endpoint, Form, MAX_LINES, field, form_value};

/// Postcodes the simulator knows to exist, besides its rule (see [`postcode_exists`]).
pub const KNOWN_POSTCODES: [&str; 12] = [
    "0600001", "1000001", "1000005", "1500001", "1600023", "2310001", "4600001", "4800305",
    "5300001", "7300011", "8100001", "9000001",
];

/// One `itemName`/`itemCount`/`unitPrice`/`subTotal` line as received.
pub type ItemLine = (String, u32, i64, i64);

/// What KAARA and KAAKK share: ship date, address, lines, total, invoice delivery.
pub(crate) struct Content {
    pub(crate) ship_on: NaiveDate,
    pub(crate) post_code: String,
    pub(crate) address: String,
    pub(crate) total_amount: i64,
    pub(crate) items: Vec<ItemLine>,
    pub(crate) send_div: u8,
}

/// Field rules, then relations, of the fields KAARA and KAAKK share.
pub(crate) fn read_content(
    e: Endpoint,
    form: &Form,
    today: NaiveDate,
    ordered_on: Option<NaiveDate>,
    enclosed_invoice: bool,
) -> Result<Content, String> {
    let nums = codes::content(e);
    let value = |name: &str| form_value(form, name).unwrap_or_default();
    let ship_code = if e == Endpoint::Reduce { 20 } else { 11 };
    let ship_on = wire::parse_ymd(value(field::SHIP_YMD)).ok_or_else(|| code(e, ship_code))?;
    let post_code = check_postcode(e, value(field::POST_CODE), (28, 29))?;
    let address1 = value(field::ADDRESS1);
    let address2 = value(field::ADDRESS2);
    check_address(e, address1, address2, nums.address1, nums.address2)?;
    let total_amount: i64 = value(field::TOTAL_AMOUNT)
        .parse()
        .map_err(|_| code(e, 48))?;
    if !AMOUNT_RANGE.contains(&total_amount) {
        return Err(code(e, 49));
    }
    let send_div = read_send_div(e, value(field::SEND_DIV), enclosed_invoice)?;
    let items = read_items(e, form)?;
    if items.is_empty() {
        return Err(code(e, 60));
    }
    // KAARA's 1 is a gift; KAAKK's 1 is 同梱 and it takes no recipient.
    let gift = e == Endpoint::Credit && send_div == 1;
    if gift {
        check_recipient(e, form)?;
    }
    // Relations.
    if items
        .iter()
        .any(|(_, count, price, sub)| i64::from(*count).checked_mul(*price) != Some(*sub))
    {
        return Err(code(e, 64));
    }
    let sum: i64 = items.iter().map(|(_, _, _, sub)| *sub).sum();
    if sum != total_amount {
        return Err(code(e, 101));
    }
    if !text::has_street_number(&format!("{address1}{address2}")) {
        return Err(code(e, 103));
    }
    if gift
        && !text::has_street_number(&format!(
            "{}{}",
            value(field::SEND_ADDRESS1),
            value(field::SEND_ADDRESS2)
        ))
    {
        return Err(code(e, 105));
    }
    let too_early = ordered_on.is_some_and(|o| ship_on < o);
    if too_early || ship_on > today + TimeDelta::days(SHIP_AHEAD_DAYS) {
        return Err(code(e, 102));
    }
    Ok(Content {
        ship_on,
        post_code,
        address: format!("{address1}{address2}"),
        total_amount,
        items,
        send_div,
    })
}

/// `sendDiv`, within its endpoint's codes; 同梱 needs the contract.
fn read_send_div(e: Endpoint, raw: &str, enclosed_invoice: bool) -> Result<u8, String> {
    let nums = codes::content(e);
    let send_div: u8 = raw.parse().map_err(|_| code(e, nums.send_div[0]))?;
    // KAARA: 0 本人送り, 1 gift, 2 同梱, 3 SMS; KAAKK has its own set:
    // 0 別送, 1 同梱, 2 SMS.
    let (codes_max, enclosed) = if e == Endpoint::Reduce {
        (2, 1)
    } else {
        (3, 2)
    };
    if send_div > codes_max {
        return Err(code(e, nums.send_div[1]));
    }
    if send_div == enclosed && !enclosed_invoice {
        return Err(code(e, nums.send_div[2]));
    }
    Ok(send_div)
}

/// The item lines (`itemName1`…), each checked.
fn read_items(e: Endpoint, form: &Form) -> Result<Vec<ItemLine>, String> {
    let nums = codes::content(e);
    let mut items = Vec::new();
    for n in 1..=MAX_LINES {
        let item = |prefix: &str| form_value(form, &wire::item_field(prefix, n));
        let Some(name) = item(field::ITEM_NAME).filter(|s| !s.is_empty()) else {
            continue;
        };
        if !full_width_within(name, ITEM_NAME_MAX, false) {
            return Err(code(e, nums.item_name[0]));
        }
        if !text::in_range(name) {
            return Err(code(e, nums.item_name[1]));
        }
        let count: u32 = item(field::ITEM_COUNT)
            .and_then(|v| v.parse().ok())
            .filter(|c| *c >= 1)
            .ok_or_else(|| code(e, 61))?;
        if count > COUNT_MAX {
            return Err(code(e, nums.item_count_length));
        }
        let price: i64 = item(field::UNIT_PRICE)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| code(e, 62))?;
        let sub_total: i64 = item(field::SUB_TOTAL)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| code(e, 63))?;
        items.push((name.to_string(), count, price, sub_total));
    }
    Ok(items)
}

/// A gift's recipient (`send*` fields).
fn check_recipient(e: Endpoint, form: &Form) -> Result<(), String> {
    let value = |name: &str| form_value(form, name).unwrap_or_default();
    if !full_width_within(value(field::SEND_NAME), NAME_MAX, false) {
        return Err(code(e, 70));
    }
    let [name_range, address1_range, address2_range] = codes::RECIPIENT_OUT_OF_RANGE;
    if !text::in_range(value(field::SEND_NAME)) {
        return Err(code(e, name_range));
    }
    check_postcode(e, value(field::SEND_POST_CODE), (71, 72))?;
    check_address(
        e,
        value(field::SEND_ADDRESS1),
        value(field::SEND_ADDRESS2),
        [73, address1_range, 78],
        [74, address2_range],
    )?;
    let tel = value(field::SEND_TEL_NUM);
    if !tel.is_empty() && !phone_ok(tel) {
        return Err(code(e, 76));
    }
    Ok(())
}

/// 7 digits or `NNN-NNNN` (`shape` code), existing (`exists` code).
fn check_postcode(e: Endpoint, raw: &str, (shape, exists): (u16, u16)) -> Result<String, String> {
    let digits = text::postcode_digits(raw).ok_or_else(|| code(e, shape))?;
    if !postcode_exists(&digits) {
        return Err(code(e, exists));
    }
    Ok(digits)
}

/// Line 1: full-width, 1–25, starts with a prefecture; line 2: full-width, 0–25.
fn check_address(
    e: Endpoint,
    address1: &str,
    address2: &str,
    [width1, range1, prefecture]: [u16; 3],
    [width2, range2]: [u16; 2],
) -> Result<(), String> {
    if !full_width_within(address1, ADDRESS_PART_MAX, false) {
        return Err(code(e, width1));
    }
    if !text::in_range(address1) {
        return Err(code(e, range1));
    }
    if !text::starts_with_prefecture(address1) {
        return Err(code(e, prefecture));
    }
    if !full_width_within(address2, ADDRESS_PART_MAX, true) {
        return Err(code(e, width2));
    }
    if !text::in_range(address2) {
        return Err(code(e, range2));
    }
    Ok(())
}

/// The simulator's postcode directory: [`KNOWN_POSTCODES`], plus a rule that
/// lets tests use any other code: everything exists except `000xxxx` (unused
/// in Japan) and `xxx9999` (the simulator's "no such code").
pub fn postcode_exists(digits: &str) -> bool {
    KNOWN_POSTCODES.contains(&digits) || !(digits.starts_with("000") || digits.ends_with("9999"))
}
