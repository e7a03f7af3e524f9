//! Rakuten's datetimes and dates, as the contract spells them. The simulator
//! reads requests strictly (a gateway does not guess) and writes each
//! endpoint's own form.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat};

use crate::jst;

/// The order API's one datetime form, in requests and answers alike:
/// `yyyy-MM-ddTHH:mm:ss+0900`, JST wall clock without a colon in the offset
/// (`rakuten-pay.md`, Transport).
pub fn format_jst(t: &DateTime<FixedOffset>) -> String {
    t.with_timezone(&jst())
        .format("%Y-%m-%dT%H:%M:%S+0900")
        .to_string()
}

/// A date-only field (`shippingDate`): `YYYY-MM-DD`.
pub fn format_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The licence-expiry answer's form: JST wall clock with no offset at all
/// (`rakuten-pay.md`, Corrections: `"2026-11-28T23:59:59"`).
pub fn format_jst_without_offset(t: &DateTime<FixedOffset>) -> String {
    t.with_timezone(&jst())
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

/// The Inventory API's `created` / `updated`: RFC 3339 with `+09:00`
/// (`rakuten-inventory.md`, bulk-get: `"2022-01-01T19:00:00+09:00"`).
pub fn format_rfc3339_jst(t: &DateTime<FixedOffset>) -> String {
    t.with_timezone(&jst())
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// A request datetime: exactly `yyyy-MM-ddTHH:mm:ss+0900`. `+09:00`, `Z`,
/// milliseconds, a space for `T` and a date alone are all refused, as Rakuten
/// refuses them with `_ERROR_011` (`rakuten-pay.md`, Transport).
pub fn parse_jst(s: &str) -> Option<DateTime<FixedOffset>> {
    let (wall, offset) = s.split_at_checked(19)?;
    if offset != "+0900" {
        return None;
    }
    let (date, time) = wall.split_at_checked(10)?;
    let time = time.strip_prefix('T')?;
    let [hour, minute, second] = fields(time, ':', 2)?;
    let at: NaiveDateTime = parse_date(date)?.and_hms_opt(hour, minute, second)?;
    at.and_local_timezone(jst()).single()
}

/// A request date: exactly `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let [year, month, day] = fields(s, '-', 4)?;
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

/// Three runs of ASCII digits separated by `sep`, the first `first_width`
/// digits long, the others two: `2026-11-22`, `10:05:00`.
fn fields(s: &str, sep: char, first_width: usize) -> Option<[u32; 3]> {
    let mut parts = s.split(sep);
    let mut out = [0u32; 3];
    for (i, slot) in out.iter_mut().enumerate() {
        let part = parts.next()?;
        let width = if i == 0 { first_width } else { 2 };
        if part.len() != width || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = part.parse().ok()?;
    }
    parts.next().is_none().then_some(out)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Timelike};

    use super::*;

    #[test]
    fn the_contracts_request_datetime_is_the_only_one_read() {
        // The contract's own example.
        let t = parse_jst("2026-11-22T00:00:00+0900").expect("the contract's example");
        assert_eq!(t, jst().with_ymd_and_hms(2026, 11, 22, 0, 0, 0).unwrap());
        assert_eq!(format_jst(&t), "2026-11-22T00:00:00+0900");
        for refused in [
            "2026-11-22T00:00:00+09:00",
            "2026-11-22T00:00:00Z",
            "2026-11-22T00:00:00.000+0900",
            "2026-11-22 00:00:00+0900",
            "2026-11-22",
            "2026-11-22T00:00:00+0000",
            "2026-11-22T24:00:00+0900",
            "2026-02-30T00:00:00+0900",
            "2026-1-22T00:00:00+0900",
            "+2026-11-22T00:00:00+0900",
            "2026-11-22T0０:00:00+0900",
            "",
        ] {
            assert_eq!(parse_jst(refused), None, "{refused}");
        }
    }

    #[test]
    fn dates_are_read_as_yyyy_mm_dd_only() {
        assert_eq!(
            parse_date("2026-11-23"),
            NaiveDate::from_ymd_opt(2026, 11, 23)
        );
        for refused in [
            "2026/11/23",
            "2026-11-23T00:00:00+0900",
            "26-11-23",
            "2026-13-01",
        ] {
            assert_eq!(parse_date(refused), None, "{refused}");
        }
        assert_eq!(
            format_date(NaiveDate::from_ymd_opt(2026, 1, 2).unwrap()),
            "2026-01-02"
        );
    }

    #[test]
    fn answers_are_written_in_each_endpoints_form() {
        // Given in UTC: written as JST wall clock.
        let t = chrono::Utc
            .with_ymd_and_hms(2026, 11, 28, 14, 59, 59)
            .unwrap()
            .fixed_offset();
        assert_eq!(format_jst(&t), "2026-11-28T23:59:59+0900");
        assert_eq!(format_jst_without_offset(&t), "2026-11-28T23:59:59");
        assert_eq!(format_rfc3339_jst(&t), "2026-11-28T23:59:59+09:00");
        assert_eq!(t.with_timezone(&jst()).hour(), 23);
    }
}
