//! The characters Yamato takes in names, addresses and item names.
//!
//! Yamato's error catalogue refuses, field by field, any character "outside
//! the specified code range" (`kaara022E` name, `033E`/`037E` address,
//! `056E` item name, `068E`/`077E`/`081E` the recipient's): the range is JIS
//! X 0208 as Shift_JIS writes it. Machine-dependent characters (NEC row 13
//! such as ①, ㈱, №; the IBM extensions such as 髙, 﨑, 德) and anything
//! Shift_JIS cannot write (emoji, 𠮷) are refused, and a refused credit
//! request uses up its orderNo. So each text is checked here before KAARA:
//! a character with a safe replacement is replaced (髙→高, ①→１, ㈱→（株）)
//! and the replacement is reported; a name or address with any other
//! character is refused with the field and the character, for a person to
//! correct; an item name (text on the invoice, not who or where) gets `〓`,
//! the customary mark of an unwritable character, and it is reported too.

/// What a check replaced in one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    /// The field, as [`super::normalize::FieldError`] names it (`buyer.name`).
    pub field: String,
    /// The character as it was.
    pub from: char,
    /// What was sent instead.
    pub to: String,
}

impl std::fmt::Display for Replacement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}→{}", self.field, self.from, self.to)
    }
}

/// The mark put for an item name's character with no replacement.
pub const GETA: char = '〓';

/// Whether `c` is in Yamato's range: one JIS X 0208 character, i.e. a
/// two-byte Shift_JIS code whose lead byte is in rows 1–8 (0x81–0x84) or
/// the kanji rows 16–84 (0x88–0x9F, 0xE0–0xEA).
pub fn in_range(c: char) -> bool {
    let mut buf = [0u8; 4];
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(c.encode_utf8(&mut buf));
    !unmappable && bytes.len() == 2 && matches!(bytes[0], 0x81..=0x84 | 0x88..=0x9F | 0xE0..=0xEA)
}

/// Circled numbers ①…⑳, written out.
const DIGITS: [&str; 20] = [
    "１", "２", "３", "４", "５", "６", "７", "８", "９", "１０", "１１", "１２", "１３", "１４",
    "１５", "１６", "１７", "１８", "１９", "２０",
];
/// Roman numerals Ⅰ…Ⅹ, written out.
const ROMAN: [&str; 10] = [
    "Ｉ",
    "ＩＩ",
    "ＩＩＩ",
    "ＩＶ",
    "Ｖ",
    "ＶＩ",
    "ＶＩＩ",
    "ＶＩＩＩ",
    "ＩＸ",
    "Ｘ",
];

/// Small roman numerals ⅰ…ⅹ, written out.
const ROMAN_SMALL: [&str; 10] = [
    "ｉ",
    "ｉｉ",
    "ｉｉｉ",
    "ｉｖ",
    "ｖ",
    "ｖｉ",
    "ｖｉｉ",
    "ｖｉｉｉ",
    "ｉｘ",
    "ｘ",
];

/// The safe replacement of a character outside the range, if it has one.
pub fn replacement(c: char) -> Option<String> {
    let index = |first: char| (c as u32 - first as u32) as usize;
    let s = match c {
        '①'..='⑳' => DIGITS[index('①')],
        'Ⅰ'..='Ⅹ' => ROMAN[index('Ⅰ')],
        'ⅰ'..='ⅹ' => ROMAN_SMALL[index('ⅰ')],
        // Old and variant forms of common surname kanji.
        '髙' => "高",
        '﨑' => "崎",
        '德' => "徳",
        '濵' => "濱",
        '栁' => "柳",
        '瀨' => "瀬",
        '𠮷' => "吉",
        '\u{FA10}' => "\u{585A}", // 塚 (compatibility form) → 塚
        // Company marks and units of NEC row 13.
        '㈱' => "（株）",
        '㈲' => "（有）",
        '㈹' => "（代）",
        '㍿' => "株式会社",
        '№' => "Ｎｏ．",
        '℡' => "ＴＥＬ",
        '㏍' => "ＫＫ",
        '㍻' => "平成",
        '㍼' => "昭和",
        '㍽' => "大正",
        '㍾' => "明治",
        '㋿' => "令和",
        '㎜' => "ｍｍ",
        '㎝' => "ｃｍ",
        '㎞' => "ｋｍ",
        '㎎' => "ｍｇ",
        '㎏' => "ｋｇ",
        '㏄' => "ｃｃ",
        '㎡' => "ｍ２",
        '㍉' => "ミリ",
        '㌔' => "キロ",
        '㌢' => "センチ",
        '㍍' => "メートル",
        '㌘' => "グラム",
        // Signs Yamato's range writes another way.
        '＇' => "’",
        '＂' => "”",
        '￤' => "｜",
        '—' => "―",
        '‖' => "∥",
        '¢' => "￠",
        '£' => "￡",
        '¬' => "￢",
        _ => return None,
    };
    Some(s.to_string())
}

/// `text` with every character in the range, for a name or an address:
/// replaced where safe (each replacement pushed to `replaced`), `Err` with
/// the first character that has no replacement.
pub fn check_identity(
    field: &str,
    text: &str,
    replaced: &mut Vec<Replacement>,
) -> Result<String, char> {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if in_range(c) {
            out.push(c);
            continue;
        }
        let to = replacement(c).ok_or(c)?;
        out.push_str(&to);
        replaced.push(Replacement {
            field: field.to_string(),
            from: c,
            to,
        });
    }
    Ok(out)
}

/// `text` with every character in the range, for an item name: what has no
/// replacement becomes [`GETA`]; everything put in is pushed to `replaced`.
pub fn check_item(field: &str, text: &str, replaced: &mut Vec<Replacement>) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if in_range(c) {
            out.push(c);
            continue;
        }
        let to = replacement(c).unwrap_or_else(|| GETA.to_string());
        out.push_str(&to);
        replaced.push(Replacement {
            field: field.to_string(),
            from: c,
            to,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jis_x_0208_is_in_and_machine_dependent_characters_are_out() {
        for c in "山田高崎徳柳瀬吉東京都１２３ＡＢｃアイウーー－～　（）株―∥￠￡￢’”｜".chars()
        {
            assert!(in_range(c), "{c} must be in range");
        }
        for c in "髙﨑德濵栁瀨𠮷①⑳㈱№℡Ⅰⅰ＇＂￤😀ｱA彅".chars() {
            assert!(!in_range(c), "{c} must be out of range");
        }
    }

    #[test]
    fn every_replacement_is_itself_in_range() {
        for c in "①②⑩⑳ⅠⅣⅩⅰⅹ髙﨑德濵栁瀨𠮷\u{FA10}㈱㈲㈹㍿№℡㏍㍻㍼㍽㍾㋿㎜㎝㎞㎎㎏㏄㎡㍉㌔㌢㍍㌘＇＂￤—‖¢£¬".chars()
        {
            let to = replacement(c).unwrap_or_else(|| panic!("{c} has a replacement"));
            assert!(to.chars().all(in_range), "{c} → {to}");
        }
    }

    #[test]
    fn names_are_replaced_or_refused_and_item_names_never_refused() {
        let mut replaced = Vec::new();
        assert_eq!(
            check_identity("buyer.name", "髙橋　一郎", &mut replaced).unwrap(),
            "高橋　一郎"
        );
        assert_eq!(
            check_identity(
                "buyer.address",
                "東京都千代田区１－１㈱ビル①",
                &mut replaced
            )
            .unwrap(),
            "東京都千代田区１－１（株）ビル１"
        );
        assert_eq!(
            replaced.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [
                "buyer.name: 髙→高",
                "buyer.address: ㈱→（株）",
                "buyer.address: ①→１"
            ]
        );
        assert_eq!(
            check_identity("buyer.name", "草彅　剛", &mut replaced),
            Err('彅')
        );
        assert_eq!(
            check_identity("buyer.name", "山田😀", &mut replaced),
            Err('😀')
        );
        let mut replaced = Vec::new();
        assert_eq!(
            check_item("lines[0].name", "急須★😀", &mut replaced),
            "急須★〓"
        );
        assert_eq!(replaced.len(), 1);
    }
}
