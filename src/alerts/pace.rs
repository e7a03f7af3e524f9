//! When a destination may be told next: the first message at once, the
//! next after the digest interval (what arrived meanwhile goes in one
//! digest), never more than the hourly limit, and after a failed send, a
//! growing wait.

use std::time::Duration;

const HOUR_MS: i64 = 3_600_000;

/// The limits of one destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    pub digest_interval: Duration,
    pub max_per_hour: u32,
}

impl Pace {
    /// The earliest time (ms) the next message may go, given when the
    /// messages of the last hour went (oldest first).
    pub fn next_ms(&self, sends_last_hour: &[i64]) -> i64 {
        let Some(last) = sends_last_hour.last() else {
            return i64::MIN;
        };
        let after_last = last.saturating_add(millis(self.digest_interval));
        let max = self.max_per_hour.max(1) as usize;
        let under_limit = match sends_last_hour.len().checked_sub(max) {
            // The oldest send that must leave the hour before one more fits.
            Some(i) => sends_last_hour[i].saturating_add(HOUR_MS),
            None => i64::MIN,
        };
        after_last.max(under_limit)
    }

    /// The hour the hourly limit looks back over, from `now_ms`.
    pub fn hour_before(now_ms: i64) -> i64 {
        now_ms - HOUR_MS
    }
}

/// The wait after `failures` failed sends in a row: `first` (the check
/// interval, 30 s by default), doubling, at most 15 minutes.
pub fn retry_after(failures: u32, first: Duration) -> Duration {
    let wait = first.saturating_mul(1u32 << failures.saturating_sub(1).min(10));
    wait.min(Duration::from_secs(15 * 60))
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn the_first_goes_at_once_the_next_after_the_digest_interval() {
        let pace = Pace {
            digest_interval: Duration::from_secs(300),
            max_per_hour: 6,
        };
        assert!(pace.next_ms(&[]) <= 0);
        assert_eq!(pace.next_ms(&[10 * MIN]), 15 * MIN);
    }

    #[test]
    fn the_hourly_limit_waits_for_the_oldest_to_leave_the_hour() {
        let pace = Pace {
            digest_interval: Duration::ZERO,
            max_per_hour: 3,
        };
        assert_eq!(pace.next_ms(&[MIN, 2 * MIN]), 2 * MIN);
        assert_eq!(pace.next_ms(&[MIN, 2 * MIN, 3 * MIN]), 61 * MIN);
        assert_eq!(pace.next_ms(&[MIN, 2 * MIN, 3 * MIN, 4 * MIN]), 62 * MIN);
    }

    #[test]
    fn failures_wait_longer_up_to_a_quarter_hour() {
        let first = Duration::from_secs(30);
        let waits: Vec<u64> = (1..=8).map(|n| retry_after(n, first).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 900, 900, 900]);
    }
}
