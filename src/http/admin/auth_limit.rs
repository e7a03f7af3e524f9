//! Wrong admin tokens, counted per source address: past
//! [`FAILURES_ALLOWED`] in a [`WINDOW`], the source is answered 429 without
//! its token being looked at until the window ends, so guessing goes at a
//! handful of tries a minute instead of thousands a second. Past
//! [`MAX_SOURCES`] remembered sources, the sources not remembered share one
//! count (and are held off together): memory stays bounded and a spray of
//! new addresses is still counted.

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
    sources: Mutex<Sources>,
}

#[derive(Default)]
struct Sources {
    each: HashMap<IpAddr, (Instant, u32)>,
    /// The window and failures of every source not remembered.
    others: Option<(Instant, u32)>,
}

/// How long a window of `failures` since `since` still holds its source off.
fn wait(window: Option<&(Instant, u32)>, now: Instant) -> Option<Duration> {
    let (since, failures) = window?;
    let ends = *since + WINDOW;
    (*failures >= FAILURES_ALLOWED && now < ends).then(|| ends - now)
}

/// Counts one failure in `window`, opening a new one when it ended.
fn count(window: &mut (Instant, u32), now: Instant) -> u32 {
    if now.duration_since(window.0) >= WINDOW {
        *window = (now, 0);
    }
    window.1 += 1;
    window.1
}

impl AuthLimiter {
    /// How long `source` must wait before its token is checked again, if it must.
    pub fn blocked(&self, source: IpAddr, now: Instant) -> Option<Duration> {
        let sources = self.sources.lock().ok()?;
        match sources.each.get(&source) {
            Some(window) => wait(Some(window), now),
            None if sources.each.len() >= MAX_SOURCES => wait(sources.others.as_ref(), now),
            None => None,
        }
    }

    /// Records a wrong token; returns the source's failures in this window.
    pub fn failed(&self, source: IpAddr, now: Instant) -> u32 {
        let Ok(mut sources) = self.sources.lock() else {
            return 0;
        };
        if sources.each.len() >= MAX_SOURCES && !sources.each.contains_key(&source) {
            sources
                .each
                .retain(|_, (since, _)| now.duration_since(*since) < WINDOW);
            // Still full (addresses sprayed from a whole IPv6 range): the
            // memory stays bounded, and the new address counts with the
            // other unremembered ones.
            if sources.each.len() >= MAX_SOURCES {
                return count(sources.others.get_or_insert((now, 0)), now);
            }
        }
        count(sources.each.entry(source).or_insert((now, 0)), now)
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

    #[test]
    fn past_the_sources_remembered_new_ones_are_counted_together() {
        let limiter = AuthLimiter::default();
        let t0 = Instant::now();
        let ip = |n: u32| IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + n));
        for n in 0..MAX_SOURCES as u32 {
            limiter.failed(ip(n), t0);
        }
        let sprayed = MAX_SOURCES as u32..MAX_SOURCES as u32 + FAILURES_ALLOWED;
        for n in sprayed.clone() {
            assert_eq!(limiter.blocked(ip(n), t0), None);
            limiter.failed(ip(n), t0);
        }
        assert!(
            limiter.blocked(ip(sprayed.end + 1), t0).is_some(),
            "counted"
        );
        assert_eq!(limiter.sources.lock().unwrap().each.len(), MAX_SOURCES);
        assert_eq!(
            limiter.blocked(ip(0), t0),
            None,
            "a remembered source keeps its own"
        );
    }
}
