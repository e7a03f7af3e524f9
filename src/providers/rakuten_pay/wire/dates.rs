//! Rakuten's datetimes and dates: written strictly (`yyyy-MM-ddTHH:mm:ss+0900`),
//! read leniently (Rakuten's own answers vary).

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};

// ---------------------------------------------------------------------------
// Datetimes
// ---------------------------------------------------------------------------

/// UTC+09:00. Japan has no daylight saving time.
pub fn jst() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).unwrap_or_else(|| unreachable!("9 h is a valid offset"))
}

/// The one datetime form Rakuten accepts in requests:
/// `2026-11-22T00:00:00+0900` (JST wall clock, whole seconds, no colon).
pub fn format_jst<Tz: TimeZone>(t: &DateTime<Tz>) -> String {
    t.with_timezone(&jst())
        .format("%Y-%m-%dT%H:%M:%S+0900")
        .to_string()
}

/// A date as `YYYY-MM-DD` (shippingDate).
pub fn format_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Exactly `yyyy-MM-ddTHH:mm:ss+0900` and nothing else: how Rakuten judges
/// request datetimes (the wire tests check the client's own output with it).
pub fn parse_jst_strict(s: &str) -> Option<DateTime<FixedOffset>> {
    let b = s.as_bytes();
    let shape_ok = b.len() == 24
        && s.ends_with("+0900")
        && b.iter().take(19).enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    NaiveDateTime::parse_from_str(s.get(..19)?, "%Y-%m-%dT%H:%M:%S")
        .ok()?
        .and_local_timezone(jst())
        .single()
}

/// Exactly `YYYY-MM-DD` (request dates).
pub fn parse_date_strict(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shape_ok = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// Reads a datetime from a response, accepting what Rakuten has been seen to
/// send and what a change might bring: `+0900`, `+09:00`, `Z`, fractions, a
/// space instead of `T`, no offset (read as JST), or a date alone (midnight JST).
pub fn parse_datetime_lenient(s: &str) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t);
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(t);
        }
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y/%m/%d %H:%M:%S",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return t.and_local_timezone(jst()).single();
        }
    }
    parse_date_lenient_only(s)
        .and_then(|d| d.and_hms_opt(0, 0, 0)?.and_local_timezone(jst()).single())
}

/// Reads a date from a response: `YYYY-MM-DD`, `YYYY/MM/DD`, or any datetime
/// [`parse_datetime_lenient`] accepts (its JST date).
pub fn parse_date_lenient(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    parse_date_lenient_only(s)
        .or_else(|| parse_datetime_lenient(s).map(|t| t.with_timezone(&jst()).date_naive()))
}

fn parse_date_lenient_only(s: &str) -> Option<NaiveDate> {
    ["%Y-%m-%d", "%Y/%m/%d"]
        .into_iter()
        .find_map(|fmt| NaiveDate::parse_from_str(s, fmt).ok())
}
