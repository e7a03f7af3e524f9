//! KOMOJU's idempotency store ("Transport", **Idempotency** \[idem\]): a
//! finished request's answer is kept under its `X-KOMOJU-IDEMPOTENCY` key for
//! 24 hours and replayed byte for byte; a retry while the first request still
//! runs gets 409.
//!
//! Where KOMOJU documents nothing, the simulator assumes: whatever the first
//! request answered (200, 404, 422) is stored and replayed, even when the key
//! comes back on another path or with another body (counted as a mismatch);
//! a request that ends without an answer (its caller went away while it was
//! held) frees its key.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use super::stats::IdempotencyStats;

/// A finished answer kept under an idempotency key: replayed byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredAnswer {
    pub status: u16,
    pub body: Arc<[u8]>,
}

/// What the store says about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Begin {
    /// First use (or the old one expired): process it, then [`IdempotencyStore::finish`].
    Fresh { ticket: u64 },
    /// The first request with this key finished: answer what it answered.
    Replay(StoredAnswer),
    /// The first request with this key is still running: 409.
    InFlight,
}

#[derive(Debug, Clone)]
struct Entry {
    /// Method, path and body of the first request, to count misuse.
    fingerprint: String,
    created_at: DateTime<Utc>,
    outcome: Outcome,
}

#[derive(Debug, Clone)]
enum Outcome {
    InFlight { ticket: u64 },
    Done(StoredAnswer),
}

/// The keys of one KOMOJU account.
#[derive(Debug)]
pub(crate) struct IdempotencyStore {
    entries: HashMap<String, Entry>,
    ttl: TimeDelta,
    next_ticket: u64,
}

impl IdempotencyStore {
    pub(crate) fn new(ttl: Duration) -> Self {
        IdempotencyStore {
            entries: HashMap::new(),
            ttl: TimeDelta::from_std(ttl).unwrap_or(TimeDelta::MAX),
            next_ticket: 0,
        }
    }

    /// Keys whose first request is still running.
    pub(crate) fn in_flight(&self) -> usize {
        self.entries
            .values()
            .filter(|e| matches!(e.outcome, Outcome::InFlight { .. }))
            .count()
    }

    /// Looks `key` up for a request identified by `fingerprint`; a fresh key
    /// is marked in flight until [`Self::finish`] or [`Self::abandon`].
    pub(crate) fn begin(
        &mut self,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        stats: &mut IdempotencyStats,
    ) -> Begin {
        self.expire(now, stats);
        if let Some(entry) = self.entries.get(key) {
            return match &entry.outcome {
                Outcome::Done(answer) => {
                    stats.replays += 1;
                    if entry.fingerprint != fingerprint {
                        stats.mismatches += 1;
                    }
                    Begin::Replay(answer.clone())
                }
                Outcome::InFlight { .. } => {
                    stats.conflicts += 1;
                    Begin::InFlight
                }
            };
        }
        self.next_ticket += 1;
        let ticket = self.next_ticket;
        self.entries.insert(
            key.to_string(),
            Entry {
                fingerprint: fingerprint.to_string(),
                created_at: now,
                outcome: Outcome::InFlight { ticket },
            },
        );
        Begin::Fresh { ticket }
    }

    /// Stores the finished answer of the request holding `ticket`.
    pub(crate) fn finish(&mut self, key: &str, ticket: u64, answer: StoredAnswer) {
        if let Some(entry) = self.entries.get_mut(key)
            && matches!(entry.outcome, Outcome::InFlight { ticket: t } if t == ticket)
        {
            entry.outcome = Outcome::Done(answer);
        }
    }

    /// Frees `key` when its request ended without an answer: nothing was
    /// processed, so a retry starts afresh.
    pub(crate) fn abandon(&mut self, key: &str, ticket: u64) {
        let ours = self
            .entries
            .get(key)
            .is_some_and(|e| matches!(e.outcome, Outcome::InFlight { ticket: t } if t == ticket));
        if ours {
            self.entries.remove(key);
        }
    }

    /// Drops finished keys older than the time to live (in-flight ones stay).
    fn expire(&mut self, now: DateTime<Utc>, stats: &mut IdempotencyStats) {
        let ttl = self.ttl;
        let before = self.entries.len();
        self.entries.retain(|_, e| {
            matches!(e.outcome, Outcome::InFlight { .. })
                || e.created_at
                    .checked_add_signed(ttl)
                    .is_none_or(|until| now < until)
        });
        stats.expired += before - self.entries.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        crate::komoju::utc("2026-11-22T01:00:00Z")
    }

    #[test]
    fn keys_replay_conflict_and_expire() {
        let mut s = IdempotencyStore::new(Duration::from_secs(24 * 3600));
        let mut stats = IdempotencyStats::default();
        let answer = StoredAnswer {
            status: 200,
            body: Arc::from(&b"{}"[..]),
        };
        let Begin::Fresh { ticket } = s.begin("k", "POST a", t0(), &mut stats) else {
            panic!("fresh expected")
        };
        assert_eq!(s.begin("k", "POST a", t0(), &mut stats), Begin::InFlight);
        assert_eq!(s.in_flight(), 1);
        s.finish("k", ticket, answer.clone());
        assert_eq!(
            s.begin("k", "POST b", t0(), &mut stats),
            Begin::Replay(answer.clone())
        );
        assert_eq!(stats.mismatches, 1);
        let later = t0() + TimeDelta::hours(24);
        assert!(matches!(
            s.begin("k", "POST a", later, &mut stats),
            Begin::Fresh { .. }
        ));
        assert_eq!(stats.expired, 1);
        // An abandoned request frees its key; a stale ticket does not.
        let Begin::Fresh { ticket: t2 } = s.begin("j", "x", t0(), &mut stats) else {
            panic!("fresh expected")
        };
        s.abandon("j", t2 + 100);
        assert_eq!(s.begin("j", "x", t0(), &mut stats), Begin::InFlight);
        s.abandon("j", t2);
        assert!(matches!(
            s.begin("j", "x", t0(), &mut stats),
            Begin::Fresh { .. }
        ));
    }
}
