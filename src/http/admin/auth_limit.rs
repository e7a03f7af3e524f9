//! Wrong admin tokens, counted per source address: past
//! [`FAILURES_ALLOWED`] in a [`WINDOW`], the source is answered 429 without
//! its token being looked at until the window ends, so guessing goes at a
//! handful of tries a minute instead of thousands a second.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Wrong tokens one source may send per window.
pub const FAILURES_ALLOWED: u32 = 10;
pub const WINDOW: Duration = Duration::from_secs(60);
/// Sources remembered at most (the oldest windows are dropped first).
const MAX_SOURCES: usize = 10_000;

#[derive(Default)]
pub struct AuthLimiter {
    sources: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl AuthLimiter {
    /// How long `source` must wait before its token is checked again, if it must.
    pub fn blocked(&self, source: IpAddr, now: Instant) -> Option<Duration> {
        let sources = self.sources.lock().ok()?;
        let (since, failures) = sources.get(&source)?;
        let ends = *since + WINDOW;
        (*failures >= FAILURES_ALLOWED && now < ends).then(|| ends - now)
    }

    /// Records a wrong token; returns the source's failures in this window.
    pub fn failed(&self, source: IpAddr, now: Instant) -> u32 {
        let Ok(mut sources) = self.sources.lock() else {
            return 0;
        };
        if sources.len() >= MAX_SOURCES && !sources.contains_key(&source) {
            sources.retain(|_, (since, _)| now.duration_since(*since) < WINDOW);
            // Still full (addresses sprayed from a whole IPv6 range): the
            // memory stays bounded, and a new address goes uncounted.
            if sources.len() >= MAX_SOURCES {
                return 1;
            }
        }
        let entry = sources.entry(source).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_is_held_off_after_ten_failures_until_its_window_ends() {
        let limiter = AuthLimiter::default();
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let t0 = Instant::now();
        for n in 1..=FAILURES_ALLOWED {
            assert_eq!(limiter.blocked(a, t0), None);
            assert_eq!(limiter.failed(a, t0), n);
        }
        let wait = limiter.blocked(a, t0 + Duration::from_secs(1)).unwrap();
        assert_eq!(wait, WINDOW - Duration::from_secs(1));
        assert_eq!(
            limiter.blocked(b, t0),
            None,
            "another source is not affected"
        );
        assert_eq!(limiter.blocked(a, t0 + WINDOW), None);
        assert_eq!(limiter.failed(a, t0 + WINDOW), 1, "a new window");
    }
}
