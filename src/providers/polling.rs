//! What the pollers share: the providers that do not push (Rakuten Pay and its
//! licence, the credit providers, the J-goods sweep) poll on their interval,
//! can be poked to poll at once, and record their last success here for
//! [`crate::status`].

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::heartbeat::{self, Heartbeat};

/// Key under which a poller records the end of its last successful poll.
pub fn last_success_key(provider: crate::domain::Provider) -> String {
    format!("poll.{provider}.last_success")
}

/// Seconds since each poller's last success, from the `poll.*` keys (as
/// `kv::with_prefix(conn, "poll.")` returns them), by provider. Unreadable
/// timestamps are skipped.
pub fn poll_ages(
    polls: &[(String, String)],
    now: chrono::DateTime<chrono::FixedOffset>,
) -> Vec<(String, i64)> {
    polls
        .iter()
        .filter_map(|(key, at)| {
            let at = chrono::DateTime::parse_from_rfc3339(at).ok()?;
            let provider = key.strip_prefix("poll.")?.strip_suffix(".last_success")?;
            Some((provider.to_string(), (now - at).num_seconds().max(0)))
        })
        .collect()
}

/// Whether a poller whose last success is `age` old, polling every
/// `interval`, has fallen behind: three intervals missed, and at least five
/// minutes (a Rakuten maintenance night or a slow page is not an alarm).
pub fn is_stale(age: std::time::Duration, interval: std::time::Duration) -> bool {
    age > (interval * 3).max(std::time::Duration::from_secs(300))
}

/// The rest between two turns of a poller: `wait`, cut short by a poke,
/// with the watchdog told how long it lasts. `false` once `shutdown` came.
pub async fn rest(
    heartbeat: &Heartbeat,
    poke: &Notify,
    shutdown: &CancellationToken,
    wait: std::time::Duration,
) -> bool {
    heartbeat.beat(wait + heartbeat::TURN_ALLOWANCE);
    tokio::select! {
        _ = shutdown.cancelled() => false,
        _ = poke.notified() => true,
        _ = tokio::time::sleep(wait) => true,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn ages_by_provider_from_the_poll_keys() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-23T10:00:00+09:00").unwrap();
        let polls = vec![
            (
                last_success_key(crate::domain::Provider::RakutenPay),
                "2026-11-23T09:58:00+09:00".to_string(),
            ),
            (
                last_success_key(crate::domain::Provider::Jgoods),
                "not a time".to_string(),
            ),
            (
                "poll.other".to_string(),
                "2026-11-23T09:00:00+09:00".to_string(),
            ),
        ];
        assert_eq!(
            poll_ages(&polls, now),
            vec![("rakuten_pay".to_string(), 120)]
        );
    }

    #[test]
    fn stale_after_three_intervals_and_five_minutes() {
        let m = |s: u64| Duration::from_secs(60 * s);
        assert!(!is_stale(m(5), m(1)));
        assert!(is_stale(m(6), m(1)));
        assert!(!is_stale(m(30), m(10)));
        assert!(is_stale(m(31), m(10)));
    }
}
