//! Worker heartbeats: each supervised worker loop (dispatcher, pollers,
//! sweep) checks in on every turn and promises when it will check in next.
//! The systemd watchdog is only fed while every promise is kept, so a worker
//! stuck in a loop or on a hung store gets the daemon restarted instead of
//! leaving a process that answers `/healthz` but does no work.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long one turn of a worker loop that never waits on the network (the
/// dispatcher: its calls run in their own tasks) may take: only a hung store
/// read can exceed it. Also the slack added to a poller's sleep.
pub const TURN_ALLOWANCE: Duration = Duration::from_secs(60);

/// How long one poll or sweep may take (many pages, paced requests, each
/// bounded by `http_timeout`) before its worker counts as stuck.
pub const POLL_ALLOWANCE: Duration = Duration::from_secs(15 * 60);

/// The heartbeats of the workers currently running (one registry per daemon).
#[derive(Clone, Default)]
pub struct Heartbeats {
    workers: Arc<Mutex<Vec<Heartbeat>>>,
}

/// One worker's handle: it calls [`Heartbeat::beat`] on every turn of its loop.
#[derive(Clone)]
pub struct Heartbeat {
    name: &'static str,
    /// `None` until the first beat: a worker that never ran is not "fresh".
    due_by: Arc<Mutex<Option<Instant>>>,
}

impl Heartbeat {
    /// A handle no registry watches, for a worker run on its own (tests, tools).
    pub fn unwatched(name: &'static str) -> Heartbeat {
        Heartbeat {
            name,
            due_by: Arc::new(Mutex::new(None)),
        }
    }

    /// Checks in, promising to check in again within `next_within`.
    pub fn beat(&self, next_within: Duration) {
        self.beat_at(Instant::now(), next_within);
    }

    fn beat_at(&self, now: Instant, next_within: Duration) {
        *self.due_by.lock().unwrap_or_else(PoisonError::into_inner) = Some(now + next_within);
    }

    fn due_by(&self) -> Option<Instant> {
        *self.due_by.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// What the registry says about its workers at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Every worker checked in within its promise.
    Fresh,
    /// These workers have not started yet (no first beat).
    Starting(Vec<&'static str>),
    /// These workers missed their promised check-in.
    Stale(Vec<&'static str>),
}

impl Heartbeats {
    /// Registers a worker and returns its handle.
    pub fn register(&self, name: &'static str) -> Heartbeat {
        let heartbeat = Heartbeat::unwatched(name);
        self.watch(heartbeat.clone());
        heartbeat
    }

    /// Watches a worker's existing handle.
    pub fn watch(&self, heartbeat: Heartbeat) {
        self.lock().push(heartbeat);
    }

    /// Forgets every worker (their generation was stopped, e.g. on reload).
    pub fn clear(&self) {
        self.lock().clear();
    }

    pub fn health(&self) -> Health {
        self.health_at(Instant::now())
    }

    fn health_at(&self, now: Instant) -> Health {
        let workers = self.lock();
        let mut starting = vec![];
        let mut stale = vec![];
        for w in workers.iter() {
            match w.due_by() {
                None => starting.push(w.name),
                Some(due) if due < now => stale.push(w.name),
                Some(_) => {}
            }
        }
        // A stalled worker matters more than one still starting.
        if !stale.is_empty() {
            Health::Stale(stale)
        } else if !starting.is_empty() {
            Health::Starting(starting)
        } else {
            Health::Fresh
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Heartbeat>> {
        // A panic elsewhere aborts the process (release), so poison is moot.
        self.workers.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_only_while_every_worker_keeps_its_promise() {
        let beats = Heartbeats::default();
        let t0 = Instant::now();
        assert_eq!(
            beats.health_at(t0),
            Health::Fresh,
            "no workers: nothing stale"
        );
        let dispatcher = beats.register("dispatcher");
        let poller = beats.register("Rakuten poller");
        assert_eq!(
            beats.health_at(t0),
            Health::Starting(vec!["dispatcher", "Rakuten poller"])
        );
        dispatcher.beat_at(t0, Duration::from_secs(5));
        poller.beat_at(t0, Duration::from_secs(600));
        assert_eq!(beats.health_at(t0 + Duration::from_secs(4)), Health::Fresh);
        assert_eq!(
            beats.health_at(t0 + Duration::from_secs(6)),
            Health::Stale(vec!["dispatcher"])
        );
        dispatcher.beat_at(t0 + Duration::from_secs(6), Duration::from_secs(5));
        assert_eq!(beats.health_at(t0 + Duration::from_secs(7)), Health::Fresh);
        beats.clear();
        assert_eq!(
            beats.health_at(t0 + Duration::from_secs(3600)),
            Health::Fresh
        );
    }

    #[test]
    fn an_unwatched_heartbeat_is_not_reported() {
        let beats = Heartbeats::default();
        let lone = Heartbeat::unwatched("tool");
        lone.beat(Duration::ZERO);
        assert_eq!(beats.health(), Health::Fresh);
        assert_eq!(lone.name(), "tool");
    }
}
