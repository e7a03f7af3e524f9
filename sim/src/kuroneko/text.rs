//! What Yamato accepts in a field, from the contract's field list
//! ("Functions", KAARA0010 fields) and its "Corrections": lengths, widths,
//! the character range, prefectures, street numbers, phones, postcodes,
//! order numbers and the Yamato tracking number's check digit. These are the
//! provider's acceptance rules, written here again rather than borrowed from
//! the adapter's conversions: an adapter that converts wrongly is refused.

/// Longest `name` / `sendName`, in characters.
pub(crate) const NAME_MAX: usize = 30;
/// Longest `address1` / `address2` (and the `send*` lines), in characters.
pub(crate) const ADDRESS_PART_MAX: usize = 25;
/// Longest `itemName`, in characters.
pub(crate) const ITEM_NAME_MAX: usize = 30;
/// Longest `email`.
pub(crate) const EMAIL_MAX: usize = 64;
/// `totalAmount` range.
pub(crate) const AMOUNT_RANGE: std::ops::RangeInclusive<i64> = 1..=999_999;
/// Largest `itemCount` (Corrections: `kaara059E`).
pub(crate) const COUNT_MAX: u32 = 9999;
/// `shipYmd` at most this many days after the request.
pub(crate) const SHIP_AHEAD_DAYS: i64 = 90;
/// Longest `orderNo`.
pub(crate) const ORDER_NO_MAX: usize = 20;

/// The 47 prefectures, one of which `address1` must start with (`kaara034E`).
pub(crate) const PREFECTURES: [&str; 47] = [
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

/// Whether `s` starts with a prefecture.
pub(crate) fn starts_with_prefecture(s: &str) -> bool {
    PREFECTURES.iter().any(|p| s.starts_with(p))
}

/// Half-width katakana, U+FF61..=U+FF9F.
fn is_half_width_katakana(c: char) -> bool {
    ('\u{FF61}'..='\u{FF9F}').contains(&c)
}

/// Full-width text as the contract asks for names, addresses and item
/// names: no ASCII, no half-width katakana, no control character, and no
/// `〜` (U+301C), which the contract has clients write as `～`.
pub(crate) fn is_full_width(s: &str) -> bool {
    s.chars()
        .all(|c| !c.is_ascii() && !is_half_width_katakana(c) && !c.is_control() && c != '\u{301C}')
}

/// Full-width, at most `max` characters, and not empty unless `empty_ok`.
pub(crate) fn full_width_within(s: &str, max: usize, empty_ok: bool) -> bool {
    let len = s.chars().count();
    (empty_ok || len > 0) && len <= max && is_full_width(s)
}

/// `nameKana`: half-width katakana, with ASCII letters, digits and spaces
/// (a reading may hold a roman initial); empty is allowed.
pub(crate) fn is_half_width_kana_text(s: &str) -> bool {
    s.chars()
        .all(|c| c == ' ' || c.is_ascii_alphanumeric() || is_half_width_katakana(c))
}

/// Whether every character of `s` is in Yamato's range (Corrections:
/// machine-dependent characters such as 髙, 﨑, ①, ㈱ and emoji are
/// refused): written by Shift_JIS in two bytes and none of the
/// machine-dependent blocks (NEC row 13 at 0x8740–0x879F, the NEC-selected
/// IBM extensions at 0xED40–0xEEFC, the user-defined area 0xF040–0xF9FC,
/// the IBM extensions 0xFA40–0xFC4B).
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

/// Whether `s` holds a street number: a digit of either width (`kaara103E`
/// refuses an address without one). Kanji numerals do not count.
pub(crate) fn has_street_number(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_ascii_digit() || ('０'..='９').contains(&c))
}

/// `telNum`: hyphens allowed, then 10 (landline) or 11 (mobile) ASCII
/// digits starting with 0.
pub(crate) fn phone_ok(tel: &str) -> bool {
    let digits: String = tel.chars().filter(|c| *c != '-').collect();
    matches!(digits.len(), 10 | 11)
        && digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `postCode`: seven ASCII digits or `NNN-NNNN`; the seven digits.
pub(crate) fn postcode_digits(raw: &str) -> Option<String> {
    let digits = match raw.split_once('-') {
        Some((head, tail)) if head.len() == 3 && tail.len() == 4 => format!("{head}{tail}"),
        Some(_) => return None,
        None => raw.to_string(),
    };
    (digits.len() == 7 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// `orderNo`: 1–20 of `[0-9A-Za-z_-]`.
pub(crate) fn is_order_no(s: &str) -> bool {
    (1..=ORDER_NO_MAX).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A Yamato tracking number, hyphens already stripped: 12 digits whose last
/// is the first eleven, read as a number, mod 7 (`kaasl014E` otherwise).
pub(crate) fn yamato_check_digit_ok(digits: &str) -> bool {
    let bytes = digits.as_bytes();
    if bytes.len() != 12 || !bytes.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let body = bytes[..11]
        .iter()
        .fold(0u64, |n, b| n * 10 + u64::from(b - b'0'));
    u64::from(bytes[11] - b'0') == body % 7
}

/// A scoring marker as it arrives in a full-width `name`: printable ASCII
/// to its full-width form, a space to U+3000 (the markers are plain words
/// such as `NG`; other characters are kept).
pub(crate) fn marker_full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            ' ' => '\u{3000}',
            '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_digit_is_the_first_eleven_mod_7() {
        // 12345678901 mod 7 = 3; 40000000000 mod 7 = 2.
        assert!(yamato_check_digit_ok("123456789013"));
        assert!(yamato_check_digit_ok("400000000002"));
        assert!(!yamato_check_digit_ok("123456789014"));
        assert!(!yamato_check_digit_ok("12345678901"));
        assert!(!yamato_check_digit_ok("12345678901a"));
    }

    #[test]
    fn field_shapes() {
        assert_eq!(postcode_digits("480-0305").as_deref(), Some("4800305"));
        assert_eq!(postcode_digits("4800305").as_deref(), Some("4800305"));
        assert_eq!(postcode_digits("48-00305"), None);
        assert_eq!(postcode_digits("４８００３０５"), None);
        assert!(phone_ok("090-1234-5678") && phone_ok("0312345678"));
        assert!(!phone_ok("1312345678") && !phone_ok("031234567"));
        assert!(is_order_no("A-1001_2") && !is_order_no("A.1") && !is_order_no(""));
        assert!(!is_order_no("123456789012345678901"));
        assert!(is_full_width("山田　太郎") && !is_full_width("山田 太郎"));
        assert!(!is_full_width("ﾔﾏﾀﾞ") && !is_full_width("〜"));
        assert!(is_half_width_kana_text("ﾔﾏﾀﾞ ﾀﾛｳ") && !is_half_width_kana_text("やまだ"));
        assert!(in_range("高橋　一郎～") && !in_range("髙") && !in_range("①"));
        assert!(!in_range("㈱") && !in_range("😀") && !in_range("ｱ"));
        assert!(starts_with_prefecture("北海道札幌市") && !starts_with_prefecture("札幌市"));
        assert!(has_street_number("春木台１") && !has_street_number("春木台一丁目"));
        assert_eq!(marker_full_width("NG x"), "ＮＧ　ｘ");
    }
}
