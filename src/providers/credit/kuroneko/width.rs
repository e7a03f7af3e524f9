//! Widths of Japanese text as Yamato wants it: full-width names, addresses
//! and item names, half-width katakana readings. Pure conversions, shared by
//! [`super::normalize`] and the simulator.

/// Full-width text: ASCII to its full-width form (space to U+3000),
/// half-width katakana to full-width with a following ﾞ/ﾟ combined,
/// `〜` (wave dash) to `～`, a few Latin-1 signs to their full-width forms,
/// other whitespace to U+3000 and other control characters dropped; runs of
/// spaces become one, and leading and trailing spaces go.
pub fn to_full_width(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let mapped = if let Some(base) = half_kana_to_full(c) {
            match chars.peek().and_then(|&mark| voiced(base, mark)) {
                Some(combined) => {
                    chars.next();
                    combined
                }
                None => base,
            }
        } else {
            match c {
                '\u{301C}' => '～',
                ' ' => '\u{3000}',
                '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or('\u{3000}'),
                '\u{A2}' => '￠',
                '\u{A3}' => '￡',
                '\u{A5}' => '￥',
                '\u{A6}' => '￤',
                '\u{AC}' => '￢',
                '\u{AF}' => '￣',
                c if c.is_whitespace() => '\u{3000}',
                c if c.is_control() => continue,
                c => c,
            }
        };
        if mapped == '\u{3000}' && (out.is_empty() || out.ends_with('\u{3000}')) {
            continue;
        }
        out.push(mapped);
    }
    while out.ends_with('\u{3000}') {
        out.pop();
    }
    out
}

/// Whether `s` has only characters [`to_full_width`] can produce: no ASCII,
/// no half-width katakana, no control character, no `〜`.
pub fn is_full_width(s: &str) -> bool {
    s.chars()
        .all(|c| !c.is_ascii() && !is_half_width_katakana(c) && !c.is_control() && c != '\u{301C}')
}

/// The reading as half-width katakana: hiragana and full-width katakana
/// converted (voiced kana become the base and ﾞ/ﾟ), full-width letters and
/// digits to ASCII, any whitespace to one space. `Err` is the first
/// character that has no half-width form (a kanji, a symbol).
pub fn to_half_width_kana(s: &str) -> Result<String, char> {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_whitespace() {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
            continue;
        }
        if c.is_ascii_alphanumeric() || is_half_width_katakana(c) {
            out.push(c);
            continue;
        }
        if let Some(ascii) = full_width_alnum_to_ascii(c) {
            out.push(ascii);
            continue;
        }
        // Hiragana ぁ..ゖ sit 0x60 below their katakana.
        let kata = match c {
            '\u{3041}'..='\u{3096}' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
            c => c,
        };
        let (base, mark) = full_kana_to_half(kata).ok_or(c)?;
        out.push(base);
        if let Some(mark) = mark {
            out.push(mark);
        }
    }
    while out.ends_with(' ') {
        out.pop();
    }
    Ok(out)
}

/// Whether `s` is what [`to_half_width_kana`] produces.
pub fn is_half_width_kana_text(s: &str) -> bool {
    s.chars()
        .all(|c| c == ' ' || c.is_ascii_alphanumeric() || is_half_width_katakana(c))
}

/// U+FF61..=U+FF9F.
pub fn is_half_width_katakana(c: char) -> bool {
    ('\u{FF61}'..='\u{FF9F}').contains(&c)
}

/// Full-width forms of U+FF61..=U+FF9F, in order.
const HALF_KANA_TO_FULL: [char; 63] = [
    '。', '「', '」', '、', '・', 'ヲ', 'ァ', 'ィ', 'ゥ', 'ェ', 'ォ', 'ャ', 'ュ', 'ョ', 'ッ', 'ー',
    'ア', 'イ', 'ウ', 'エ', 'オ', 'カ', 'キ', 'ク', 'ケ', 'コ', 'サ', 'シ', 'ス', 'セ', 'ソ', 'タ',
    'チ', 'ツ', 'テ', 'ト', 'ナ', 'ニ', 'ヌ', 'ネ', 'ノ', 'ハ', 'ヒ', 'フ', 'ヘ', 'ホ', 'マ', 'ミ',
    'ム', 'メ', 'モ', 'ヤ', 'ユ', 'ヨ', 'ラ', 'リ', 'ル', 'レ', 'ロ', 'ワ', 'ン', '゛', '゜',
];

const DAKUTEN_HALF: char = 'ﾞ';
const HANDAKUTEN_HALF: char = 'ﾟ';

fn half_kana_to_full(c: char) -> Option<char> {
    let index = (c as u32).checked_sub(0xFF61)? as usize;
    HALF_KANA_TO_FULL.get(index).copied()
}

/// Katakana that take ﾞ as the next code point (カ..ト, ハ..ホ).
fn takes_dakuten(c: char) -> bool {
    matches!(
        c,
        'カ' | 'キ'
            | 'ク'
            | 'ケ'
            | 'コ'
            | 'サ'
            | 'シ'
            | 'ス'
            | 'セ'
            | 'ソ'
            | 'タ'
            | 'チ'
            | 'ツ'
            | 'テ'
            | 'ト'
            | 'ハ'
            | 'ヒ'
            | 'フ'
            | 'ヘ'
            | 'ホ'
    )
}

fn takes_handakuten(c: char) -> bool {
    matches!(c, 'ハ' | 'ヒ' | 'フ' | 'ヘ' | 'ホ')
}

/// `base` + a half-width voicing mark as one full-width katakana.
fn voiced(base: char, mark: char) -> Option<char> {
    match (base, mark) {
        ('ウ', DAKUTEN_HALF) => Some('ヴ'),
        ('ワ', DAKUTEN_HALF) => Some('ヷ'),
        ('ヲ', DAKUTEN_HALF) => Some('ヺ'),
        (b, DAKUTEN_HALF) if takes_dakuten(b) => char::from_u32(b as u32 + 1),
        (b, HANDAKUTEN_HALF) if takes_handakuten(b) => char::from_u32(b as u32 + 2),
        _ => None,
    }
}

/// A full-width katakana (or kana punctuation) as half-width, with its mark.
fn full_kana_to_half(c: char) -> Option<(char, Option<char>)> {
    let half = |full: char| {
        HALF_KANA_TO_FULL
            .iter()
            .position(|&f| f == full)
            .and_then(|i| char::from_u32(0xFF61 + i as u32))
    };
    if let Some(h) = half(c) {
        return Some((h, None));
    }
    match c {
        'ヴ' => return Some(('ｳ', Some(DAKUTEN_HALF))),
        'ヷ' => return Some(('ﾜ', Some(DAKUTEN_HALF))),
        'ヺ' => return Some(('ｦ', Some(DAKUTEN_HALF))),
        'ヵ' => return half('カ').map(|h| (h, None)),
        'ヶ' => return half('ケ').map(|h| (h, None)),
        'ヮ' => return half('ワ').map(|h| (h, None)),
        'ヰ' => return half('イ').map(|h| (h, None)),
        'ヱ' => return half('エ').map(|h| (h, None)),
        _ => {}
    }
    let minus = |n: u32| char::from_u32((c as u32).checked_sub(n)?);
    if let Some(base) = minus(1).filter(|b| takes_dakuten(*b)) {
        return half(base).map(|h| (h, Some(DAKUTEN_HALF)));
    }
    if let Some(base) = minus(2).filter(|b| takes_handakuten(*b)) {
        return half(base).map(|h| (h, Some(HANDAKUTEN_HALF)));
    }
    None
}

/// `０`..`９`, `Ａ`..`Ｚ`, `ａ`..`ｚ` as ASCII.
pub(crate) fn full_width_alnum_to_ascii(c: char) -> Option<char> {
    match c {
        '０'..='９' | 'Ａ'..='Ｚ' | 'ａ'..='ｚ' => char::from_u32(c as u32 - 0xFEE0),
        _ => None,
    }
}
