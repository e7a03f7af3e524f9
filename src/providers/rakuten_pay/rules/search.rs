//! Which order dates a poll searches: the sliding window of `lookback`, and
//! once, on a first start, the orders still open from before it.

use chrono::{DateTime, Duration, FixedOffset};

/// How far back Rakuten lets a search start.
pub const MAX_SEARCH_AGE: Duration = Duration::days(730);
/// Kept off Rakuten's limit, so a window computed now is still inside it
/// when the request arrives.
const LIMIT_MARGIN: Duration = Duration::hours(1);

/// The search windows for one poll: `lookback` ending `now`, cut so that no
/// window is longer than `max_window` (Rakuten allows 63 days).
pub fn windows(
    now: DateTime<FixedOffset>,
    lookback: std::time::Duration,
    max_window: Duration,
) -> Vec<(DateTime<FixedOffset>, DateTime<FixedOffset>)> {
    let lookback = Duration::from_std(lookback).unwrap_or(Duration::days(3));
    let step = max_window.max(Duration::seconds(1));
    let mut out = vec![];
    let mut start = now - lookback;
    while start < now {
        let end = (start + step).min(now);
        out.push((start, end));
        start = end;
    }
    out
}

/// Halves a window (used when a search hits Rakuten's result cap).
pub fn halve(
    window: (DateTime<FixedOffset>, DateTime<FixedOffset>),
) -> Option<[(DateTime<FixedOffset>, DateTime<FixedOffset>); 2]> {
    let (start, end) = window;
    let mid = start + (end - start) / 2;
    (mid > start && mid < end).then_some([(start, mid), (mid, end)])
}

/// The windows of a first start's backfill: from Rakuten's 730-day limit up
/// to where the poll's own `lookback` window starts, each at most
/// `max_window` long. Empty when `lookback` already reaches the limit.
pub fn backfill_windows(
    now: DateTime<FixedOffset>,
    lookback: std::time::Duration,
    max_window: Duration,
) -> Vec<(DateTime<FixedOffset>, DateTime<FixedOffset>)> {
    let lookback = Duration::from_std(lookback).unwrap_or(Duration::days(3));
    let from = now - MAX_SEARCH_AGE + LIMIT_MARGIN;
    let to = now - lookback;
    let step = max_window.max(Duration::seconds(1));
    let mut out = vec![];
    let mut start = from;
    while start < to {
        let end = (start + step).min(to);
        out.push((start, end));
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backfill_reaches_back_to_rakutens_limit_and_stops_at_the_lookback() {
        let now = DateTime::parse_from_rfc3339("2026-12-01T10:00:00+09:00").unwrap();
        let w = backfill_windows(
            now,
            std::time::Duration::from_secs(3 * 86_400),
            Duration::days(63),
        );
        assert_eq!(w.len(), 12);
        assert!(w[0].0 > now - MAX_SEARCH_AGE && w[0].0 < now - MAX_SEARCH_AGE + Duration::days(1));
        assert_eq!(w.last().unwrap().1, now - Duration::days(3));
        assert!(w.iter().all(|(a, b)| *b - *a <= Duration::days(63)));
        assert!(w.windows(2).all(|p| p[0].1 == p[1].0), "no gap, no overlap");
        let all = backfill_windows(
            now,
            std::time::Duration::from_secs(730 * 86_400),
            Duration::days(63),
        );
        assert!(all.is_empty());
    }
}
