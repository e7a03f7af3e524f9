//! Time as the daemon shows it: Japan Standard Time, RFC 3339.

use chrono::{DateTime, FixedOffset, Utc};

/// UTC+09:00. Japan has no daylight saving time, so a fixed offset is exact.
pub fn jst() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).unwrap_or_else(|| unreachable!("9 h is a valid offset"))
}

/// Now, in JST.
pub fn now() -> DateTime<FixedOffset> {
    Utc::now().with_timezone(&jst())
}

/// A stored RFC 3339 time as operators read it: `2026/12/03 10:15:00` in
/// Japan time; text that is not a time is shown as it is.
pub fn shown(rfc3339: &str) -> String {
    match DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => t
            .with_timezone(&jst())
            .format("%Y/%m/%d %H:%M:%S")
            .to_string(),
        Err(_) => rfc3339.to_string(),
    }
}

/// RFC 3339 with seconds precision, e.g. `2026-11-23T10:00:00+09:00`.
pub fn rfc3339(t: DateTime<FixedOffset>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// Milliseconds since the Unix epoch (how the outbox schedules retries).
pub fn unix_ms(t: DateTime<FixedOffset>) -> i64 {
    t.timestamp_millis()
}
