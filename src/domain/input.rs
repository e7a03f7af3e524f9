//! Values as Japanese operators and their ERPs write them, read the same way
//! wherever they arrive (a command-line argument, a console form, a CSV
//! column): dates `2026/12/03`, `2026-12-03`, `2026年12月3日`; amounts and
//! counts `1,000`, `１０００`, `1,000円`, `¥1,000`; header names with
//! full-width letters and stray spaces. Pure functions, no I/O.

use chrono::NaiveDate;

/// Full-width ASCII (`Ａ`, `１`, `／`, `，`…, U+FF01–U+FF5E) as ASCII:
/// Japanese spreadsheets and input methods often type it.
fn half_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        c => c,
    }
}

/// Characters that reorder how text is shown (the Unicode bidirectional
/// controls: U+202E shows `gpj.exe` as `exe.jpg`); invisible, never part
/// of a code a merchant means.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Whether `sku` is a product code ordersync takes from any source (a stock
/// file, the catalog, the API): 1 to 128 bytes, no control character (CR,
/// LF, ESC…) and no bidirectional control. Surrounding spaces are the
/// caller's to trim.
pub fn is_sku(sku: &str) -> bool {
    !sku.is_empty()
        && sku.len() <= 128
        && !sku.chars().any(|c| c.is_control() || is_bidi_control(c))
}

/// A header name compared as people mean it: no spaces, full-width letters
/// folded, ASCII case ignored (`ＳＫＵ コード` is `skuコード`).
pub fn header_name(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace())
        .map(half_width)
        .collect::<String>()
        .to_lowercase()
}

/// A whole number as ERPs write it: `12`, `１２` (full-width), `1,234`, `-3`.
/// Thousands separators only where they group by three.
pub fn whole_number(s: &str) -> Option<i64> {
    let ascii: String = s.trim().chars().map(half_width).collect();
    let digits = match ascii.split_once(',') {
        None => ascii,
        Some((head, _)) => {
            let groups: Vec<&str> = ascii.split(',').collect();
            let well_grouped = (1..=3).contains(&head.trim_start_matches('-').len())
                && groups[1..].iter().all(|g| g.len() == 3);
            if !well_grouped {
                return None;
            }
            groups.concat()
        }
    };
    digits.parse().ok()
}

/// A calendar date: `2026-12-03`, `2026/12/03`, `2026/1/5`, `2026年12月3日`.
pub fn date(s: &str) -> Option<NaiveDate> {
    let s: String = s.trim().chars().map(half_width).collect();
    let s = s
        .strip_suffix('日')
        .map(|d| d.replacen('年', "-", 1).replacen('月', "-", 1))
        .unwrap_or(s);
    let mut parts = s.split(['-', '/']);
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// A whole number of yen or units: `1000`, `1,000`, `１，０００`, `1,000円`, `¥1,000`.
pub fn amount(s: &str) -> Option<i64> {
    let s = s.trim();
    let s = s.strip_suffix('円').unwrap_or(s);
    let s = s
        .strip_prefix('¥')
        .or_else(|| s.strip_prefix('￥'))
        .unwrap_or(s);
    whole_number(s)
}

/// A date argument or form field, as `YYYY-MM-DD`; the error says, in both
/// languages, how to write one.
pub fn parse_date(s: &str) -> Result<String, String> {
    date(s)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .ok_or_else(|| {
            format!("{s:?} is not a date; write 2026-12-03 or 2026/12/03 / 日付の形式が違います")
        })
}

/// An amount or a count argument.
pub fn parse_amount(s: &str) -> Result<i64, String> {
    amount(s).ok_or_else(|| {
        format!("{s:?} is not a whole number; write 1000 or 1,000 / 数値の形式が違います")
    })
}

/// A `--since`: a date (midnight in Japan) in any form [`date`] reads, or an
/// RFC 3339 time as it is.
pub fn parse_since(s: &str) -> Result<String, String> {
    if chrono::DateTime::parse_from_rfc3339(s.trim()).is_ok() {
        return Ok(s.trim().to_string());
    }
    parse_date(s).map_err(|_| {
        format!("{s:?} is neither a date (2026/12/03) nor an RFC 3339 time / 日時の形式が違います")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_as_people_write_them() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 3);
        for typed in [
            "2026-12-03",
            "2026/12/03",
            "2026/12/3",
            "２０２６／１２／０３",
            "2026年12月3日",
            " 2026-12-03 ",
        ] {
            assert_eq!(date(typed), day, "{typed}");
        }
        for bad in [
            "2026-13-01",
            "26/12/03",
            "2026-12",
            "2026-12-03-1",
            "12/03/2026",
            "",
        ] {
            assert_eq!(date(bad), None, "{bad}");
        }
    }

    #[test]
    fn amounts_as_people_write_them() {
        for (typed, yen) in [
            ("1000", 1000),
            ("1,000", 1000),
            ("１，０００", 1000),
            ("1,000円", 1000),
            ("¥1,000", 1000),
            ("￥12,345,678", 12_345_678),
        ] {
            assert_eq!(amount(typed), Some(yen), "{typed}");
        }
        for bad in ["1,00", "10,0000", "1.5", "千円", ""] {
            assert_eq!(amount(bad), None, "{bad}");
        }
        assert_eq!(parse_since("2026/12/03").as_deref(), Ok("2026-12-03"));
        assert!(parse_since("2026-12-03T10:00:00+09:00").is_ok());
    }

    #[test]
    fn numbers_as_erps_write_them() {
        assert_eq!(whole_number("１２"), Some(12));
        assert_eq!(whole_number("1,234"), Some(1234));
        assert_eq!(whole_number("-1,234"), Some(-1234));
        assert_eq!(whole_number("1,23"), None);
        assert_eq!(whole_number("12a"), None);
    }

    #[test]
    fn header_names_fold_width_spaces_and_case() {
        assert_eq!(header_name(" ＳＫＵ コード"), "skuコード");
        assert_eq!(header_name("On_Hand"), "on_hand");
    }
}
