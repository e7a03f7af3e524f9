//! When and how often a failed call is tried again.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

/// When and how often to retry a failed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub initial_delay: Duration,
    pub max_delay: Duration,
    /// After this long since the call was first due, it is dead.
    pub give_up_after: Duration,
}

impl RetryPolicy {
    /// The delay before attempt `attempts + 1` (exponential, with jitter, capped).
    pub fn delay(&self, attempts: u32) -> Duration {
        ExponentialBuilder::default()
            .with_min_delay(self.initial_delay)
            .with_max_delay(self.max_delay)
            .with_factor(2.0)
            .with_jitter()
            .without_max_times()
            .build()
            .nth(attempts as usize)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_capped() {
        let p = RetryPolicy {
            initial_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(600),
            give_up_after: Duration::from_secs(86400),
        };
        let first = p.delay(0);
        assert!(
            first >= Duration::from_secs(2) && first <= Duration::from_secs(4),
            "{first:?}"
        );
        let fifth = p.delay(4);
        assert!(
            fifth >= Duration::from_secs(32) && fifth <= Duration::from_secs(64),
            "{fifth:?}"
        );
        assert!(p.delay(40) <= Duration::from_secs(600));
    }
}
