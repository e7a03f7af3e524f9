//! Pure conversion of a [`CreditRequest`] into values Yamato accepts.
//!
//! Yamato refuses a request field by field (`kaara034E` address without a
//! prefecture, `kaara040E` phone digits…), and a refused KAARA costs the
//! attempt's `orderNo`. So every rule the contract names is checked here,
//! before sending, and a failure is a [`FieldError`] naming the field a person
//! must fix in the ERP. Where the public integrations disagree the rule is the
//! stricter one (an address needs an arabic street number; item names are cut
//! to 30 characters, names are refused when longer), so that what passes here
//! also passes at Yamato.
//!
//! Conversions: names, addresses and item names to full-width (ASCII,
//! half-width katakana with their voicing marks combined, `~`/`〜` → `～`);
//! the name's reading to half-width katakana; the address split 25 + 25;
//! phone and postcode to digits; shipping fee and payment fee as their own
//! lines; lines past the tenth folded into one `その他 N点` line.

use chrono::{NaiveDate, TimeDelta};

use super::charset::{self, Replacement};
use super::width::full_width_alnum_to_ascii;
pub use super::width::{
    is_full_width, is_half_width_kana_text, is_half_width_katakana, to_full_width,
    to_half_width_kana,
};
use super::{CreditRequest, InvoiceDelivery, Party};

/// Largest `itemCount` (4 digits, `kaara059E`).
pub const MAX_COUNT: u32 = 9999;
/// Longest `name`/`sendName`, in characters.
pub const NAME_MAX: usize = 30;
/// Longest `address1`/`address2`, in characters.
pub const ADDRESS_PART_MAX: usize = 25;
/// Longest `itemName`, in characters (longer names are cut).
pub const ITEM_NAME_MAX: usize = 30;
/// Item lines one request carries.
pub const MAX_LINES: usize = 10;
/// Longest `email`.
pub const EMAIL_MAX: usize = 64;
/// Smallest `totalAmount`.
pub const AMOUNT_MIN: i64 = 1;
/// Largest `totalAmount`; also the bound of one line's `subTotal` either way.
pub const AMOUNT_MAX: i64 = 999_999;
/// How far after the request `shipYmd` may lie.
pub const SHIP_AHEAD_DAYS: i64 = 90;
/// Name of the shipping fee line.
pub const SHIPPING_FEE_LINE: &str = "送料";
/// Name of the payment fee line.
pub const FEE_LINE: &str = "手数料";

/// The 47 prefectures, one of which `address1` must start with.
pub const PREFECTURES: [&str; 47] = [
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
];

/// A value that cannot be sent, naming the field (`buyer.address`,
/// `lines[3].qty`, `ship_on`…) as the ERP knows it. The reason never quotes
/// the whole value (addresses and phone numbers are personal data).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// The field of [`CreditRequest`], dotted, with line indexes from 0.
    pub field: String,
    /// What is wrong, in English.
    pub reason: String,
}

impl FieldError {
    fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// A [`CreditRequest`] as Yamato wants it; every value within the contract's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedCredit {
    /// `orderNo`, checked for shape.
    pub order_no: String,
    /// `orderYmd`.
    pub ordered_on: NaiveDate,
    /// `shipYmd`.
    pub ship_on: NaiveDate,
    /// `name`, `nameKana`, `postCode`, `address1/2`, `telNum`, `email`.
    pub buyer: NormalizedParty,
    /// `send*`: only for a gift.
    pub ship_to: Option<NormalizedParty>,
    /// `itemName1..`, at most [`MAX_LINES`].
    pub items: Vec<ItemLine>,
    /// `totalAmount` = Σ `subTotal`.
    pub total_amount: i64,
    /// `sendDiv`.
    pub send_div: InvoiceDelivery,
    /// Characters outside Yamato's range that were replaced (see [`charset`]).
    pub replaced: Vec<Replacement>,
}

/// A person in Yamato's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedParty {
    /// Full-width, 1–30 characters.
    pub name: String,
    /// Half-width katakana, ASCII letters and digits, single spaces; may be empty.
    pub name_kana: String,
    /// Seven ASCII digits.
    pub post_code: String,
    /// Full-width, starts with a prefecture, 1–25 characters.
    pub address1: String,
    /// Full-width, 0–25 characters.
    pub address2: String,
    /// 10 or 11 ASCII digits starting with 0; empty only for a recipient without one.
    pub tel_num: String,
    /// At most 64 characters; `None` when not given (and always for a recipient).
    pub email: Option<String>,
}

/// One `itemName`/`itemCount`/`unitPrice`/`subTotal` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemLine {
    /// Full-width, 1–30 characters.
    pub name: String,
    /// At least 1.
    pub count: u32,
    /// Yen; negative for a discount.
    pub unit_price: i64,
    /// `count × unit_price`, within ±[`AMOUNT_MAX`].
    pub sub_total: i64,
}

/// Converts and checks a whole request. `today` is the JST date of the
/// request (the base of the 90-day limit on `ship_on`).
pub fn normalize_credit(
    req: &CreditRequest,
    today: NaiveDate,
) -> Result<NormalizedCredit, FieldError> {
    if !super::is_valid_order_no(&req.order_no) {
        return Err(FieldError::new(
            "order_no",
            "must be 1-20 of 0-9, A-Z, a-z, '_' and '-'",
        ));
    }
    if req.ship_on < req.ordered_on {
        return Err(FieldError::new("ship_on", "is before ordered_on"));
    }
    if req.ship_on > today + TimeDelta::days(SHIP_AHEAD_DAYS) {
        return Err(FieldError::new(
            "ship_on",
            format!("is more than {SHIP_AHEAD_DAYS} days ahead"),
        ));
    }
    let mut replaced = Vec::new();
    let buyer = normalize_party("buyer", &req.buyer, true, &mut replaced)?;
    let ship_to = match req.send_div {
        InvoiceDelivery::Gift => {
            let party = req.ship_to.as_ref().ok_or_else(|| {
                FieldError::new("ship_to", "is required when the order is a gift")
            })?;
            Some(normalize_party("ship_to", party, false, &mut replaced)?)
        }
        // Yamato reads the send* fields only for a gift; a recipient given
        // otherwise is the buyer's own address and is not sent.
        InvoiceDelivery::MailToBuyer | InvoiceDelivery::InParcel | InvoiceDelivery::Sms => None,
    };
    let items = item_lines(req, &mut replaced)?;
    let total_amount: i64 = items.iter().map(|l| l.sub_total).sum();
    if !(AMOUNT_MIN..=AMOUNT_MAX).contains(&total_amount) {
        return Err(FieldError::new(
            "total",
            format!("{total_amount} yen is outside {AMOUNT_MIN}..={AMOUNT_MAX}"),
        ));
    }
    Ok(NormalizedCredit {
        order_no: req.order_no.clone(),
        ordered_on: req.ordered_on,
        ship_on: req.ship_on,
        buyer,
        ship_to,
        items,
        total_amount,
        send_div: req.send_div,
        replaced,
    })
}

/// One party; `is_buyer` makes the phone required and keeps the email.
/// Characters outside Yamato's range are replaced (pushed to `replaced`)
/// or refused.
pub fn normalize_party(
    role: &str,
    party: &Party,
    is_buyer: bool,
    replaced: &mut Vec<Replacement>,
) -> Result<NormalizedParty, FieldError> {
    let field = |name: &str| format!("{role}.{name}");
    let in_range = |name: &str, text: &str, replaced: &mut Vec<Replacement>| {
        charset::check_identity(&field(name), &to_full_width(text), replaced)
            .map_err(|c| FieldError::new(field(name), out_of_range(c)))
    };
    let name = in_range("name", &party.name, replaced)?;
    if name.is_empty() {
        return Err(FieldError::new(field("name"), "is empty"));
    }
    let len = name.chars().count();
    if len > NAME_MAX {
        return Err(FieldError::new(
            field("name"),
            format!("is {len} characters; Yamato takes at most {NAME_MAX}"),
        ));
    }
    let name_kana = to_half_width_kana(&party.name_kana).map_err(|c| {
        FieldError::new(
            field("name_kana"),
            format!("contains {c:?}, which has no half-width katakana"),
        )
    })?;
    let post_code = normalize_postcode(&party.postal_code).ok_or_else(|| {
        FieldError::new(
            field("postal_code"),
            "must be 7 digits (NNNNNNN or NNN-NNNN)",
        )
    })?;
    let address = in_range("address", &party.address, replaced)?;
    let (address1, address2) =
        split_address(&address).map_err(|reason| FieldError::new(field("address"), reason))?;
    let tel_num = if party.phone.trim().is_empty() && !is_buyer {
        String::new()
    } else {
        normalize_phone(&party.phone).ok_or_else(|| {
            FieldError::new(
                field("phone"),
                "must be 10 digits (landline) or 11 (mobile) starting with 0, hyphens allowed",
            )
        })?
    };
    let email = if is_buyer {
        normalize_email(party.email.as_deref().unwrap_or_default())
            .map_err(|reason| FieldError::new(field("email"), reason))?
    } else {
        None
    };
    Ok(NormalizedParty {
        name,
        name_kana,
        post_code,
        address1,
        address2,
        tel_num,
        email,
    })
}

/// The goods, then 送料 and 手数料, folded to at most [`MAX_LINES`]: the
/// fee lines stay, and the item lines that do not fit become one `その他 N点`
/// line (N = how many lines were folded) carrying their sum.
fn item_lines(
    req: &CreditRequest,
    replaced: &mut Vec<Replacement>,
) -> Result<Vec<ItemLine>, FieldError> {
    if req.lines.is_empty() {
        return Err(FieldError::new("lines", "at least one line is needed"));
    }
    let mut goods = req
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| goods_line(i, line, replaced))
        .collect::<Result<Vec<_>, _>>()?;
    let fees = fee_lines(req)?;
    let slots = MAX_LINES - fees.len();
    if goods.len() > slots {
        let folded = goods.split_off(slots - 1);
        let sum: i64 = folded.iter().map(|l| l.sub_total).sum();
        if sum.abs() > AMOUNT_MAX {
            return Err(FieldError::new(
                "lines",
                format!(
                    "lines {}.. fold into one line of {sum} yen, outside ±{AMOUNT_MAX}",
                    slots - 1
                ),
            ));
        }
        goods.push(ItemLine {
            name: to_full_width(&format!("その他 {}点", folded.len())),
            count: 1,
            unit_price: sum,
            sub_total: sum,
        });
    }
    goods.extend(fees);
    Ok(goods)
}

/// One goods line, its name made safe for Yamato and its amounts checked.
fn goods_line(
    i: usize,
    line: &super::Line,
    replaced: &mut Vec<Replacement>,
) -> Result<ItemLine, FieldError> {
    let field = |name: &str| format!("lines[{i}].{name}");
    let name = charset::check_item(&field("name"), &to_full_width(&line.name), replaced);
    let name: String = name.chars().take(ITEM_NAME_MAX).collect();
    // Cutting may leave a trailing space.
    let name = name.trim_end_matches('\u{3000}').to_string();
    if name.is_empty() {
        return Err(FieldError::new(field("name"), "is empty"));
    }
    if line.qty == 0 || line.qty > MAX_COUNT {
        return Err(FieldError::new(
            field("qty"),
            format!("must be 1..={MAX_COUNT} (Yamato takes 4 digits)"),
        ));
    }
    let sub_total = i64::from(line.qty)
        .checked_mul(line.unit_price)
        .filter(|s| s.abs() <= AMOUNT_MAX)
        .ok_or_else(|| {
            FieldError::new(
                field("unit_price"),
                format!("qty × unit_price must stay within ±{AMOUNT_MAX} yen"),
            )
        })?;
    Ok(ItemLine {
        name,
        count: line.qty,
        unit_price: line.unit_price,
        sub_total,
    })
}

/// The 送料 and 手数料 lines (none for a zero amount).
fn fee_lines(req: &CreditRequest) -> Result<Vec<ItemLine>, FieldError> {
    let mut fees = Vec::new();
    for (field, label, yen) in [
        ("shipping_fee", SHIPPING_FEE_LINE, req.shipping_fee),
        ("fee", FEE_LINE, req.fee),
    ] {
        if !(0..=AMOUNT_MAX).contains(&yen) {
            return Err(FieldError::new(
                field,
                format!("must be within 0..={AMOUNT_MAX} yen"),
            ));
        }
        if yen > 0 {
            fees.push(ItemLine {
                name: label.to_string(),
                count: 1,
                unit_price: yen,
                sub_total: yen,
            });
        }
    }
    Ok(fees)
}

/// Splits an address into `address1` (starting with a prefecture) and
/// `address2`, each at most [`ADDRESS_PART_MAX`] full-width characters,
/// preferring a space as the cut. `Err` is the reason, for [`FieldError`].
pub fn split_address(address: &str) -> Result<(String, String), String> {
    let full = to_full_width(address);
    if !starts_with_prefecture(&full) {
        return Err("must start with the prefecture (都道府県)".to_string());
    }
    let chars: Vec<char> = full.chars().collect();
    let max = 2 * ADDRESS_PART_MAX;
    if chars.len() > max {
        return Err(format!(
            "is {} characters; Yamato takes at most {max} (two lines of {ADDRESS_PART_MAX})",
            chars.len()
        ));
    }
    let at_space = (1..=ADDRESS_PART_MAX.min(chars.len().saturating_sub(1)))
        .rev()
        .find(|&i| chars[i] == '\u{3000}' && chars.len() - i - 1 <= ADDRESS_PART_MAX);
    let (first, rest) = match at_space {
        Some(i) => (&chars[..i], &chars[i + 1..]),
        None => chars.split_at(ADDRESS_PART_MAX.min(chars.len())),
    };
    let address1: String = first.iter().collect();
    let address2: String = rest.iter().collect();
    let address2 = address2.trim_start_matches('\u{3000}').to_string();
    if !has_street_number(&format!("{address1}{address2}")) {
        return Err("has no street number (番地)".to_string());
    }
    Ok((address1, address2))
}

/// Whether `s` starts with one of the 47 prefectures.
pub fn starts_with_prefecture(s: &str) -> bool {
    PREFECTURES.iter().any(|p| s.starts_with(p))
}

/// Whether `s` contains a digit (ASCII or full-width): Yamato's test for a
/// street number. Kanji numerals are not counted (the stricter reading).
pub fn has_street_number(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_ascii_digit() || ('０'..='９').contains(&c))
}

/// 10 (landline) or 11 (mobile) ASCII digits starting with 0, from digits of
/// either width separated by hyphens, spaces or parentheses.
pub fn normalize_phone(s: &str) -> Option<String> {
    let digits: String = s
        .chars()
        .filter(|c| !is_phone_separator(*c))
        .map(|c| full_width_alnum_to_ascii(c).unwrap_or(c))
        .collect();
    let ok = matches!(digits.len(), 10 | 11)
        && digits.starts_with('0')
        && digits.chars().all(|c| c.is_ascii_digit());
    ok.then_some(digits)
}

fn is_phone_separator(c: char) -> bool {
    matches!(
        c,
        '-' | '－' | '‐' | '‑' | '−' | 'ー' | 'ｰ' | '(' | ')' | '（' | '）'
    ) || c.is_whitespace()
}

/// Seven ASCII digits from `NNNNNNN` or `NNN-NNNN` (either width, trimmed).
pub fn normalize_postcode(s: &str) -> Option<String> {
    let ascii: String = s
        .trim()
        .chars()
        .map(|c| match c {
            '－' | 'ー' | '‐' | '−' => '-',
            c => full_width_alnum_to_ascii(c).unwrap_or(c),
        })
        .collect();
    let digits = match ascii.split_once('-') {
        Some((a, b)) if a.len() == 3 && b.len() == 4 => format!("{a}{b}"),
        Some(_) => return None,
        None => ascii,
    };
    (digits.len() == 7 && digits.chars().all(|c| c.is_ascii_digit())).then_some(digits)
}

/// The email trimmed: `None` when empty; otherwise printable ASCII with one
/// `@` between two non-empty parts, at most [`EMAIL_MAX`] characters.
pub fn normalize_email(s: &str) -> Result<Option<String>, String> {
    let email = s.trim();
    if email.is_empty() {
        return Ok(None);
    }
    if email.len() > EMAIL_MAX {
        return Err(format!("is longer than {EMAIL_MAX} characters"));
    }
    let shaped = email.chars().all(|c| c.is_ascii_graphic())
        && matches!(email.split_once('@'), Some((a, b)) if !a.is_empty() && !b.is_empty() && !b.contains('@'));
    if !shaped {
        return Err("is not an email address".to_string());
    }
    Ok(Some(email.to_string()))
}

#[cfg(test)]
mod tests;

/// Why a name or address is refused for character `c`: Japanese first, for the order's attention.
fn out_of_range(c: char) -> String {
    format!(
        "「{c}」(U+{:04X}) はクロネコ代金後払いで使えない文字です。ERPで常用の字に直してください / {c:?} is outside the characters Yamato takes (machine-dependent or not in JIS X 0208): correct it in the ERP",
        c as u32
    )
}
