//! What every simulator does the same way: keep its state under a lock that
//! survives a panic, hand tests a handle ([`SimHandle`]) that waits for a
//! condition on that state and stops the simulator's tasks, and, for the
//! simulators whose state changes with time (Rakuten Pay, Kuroneko,
//! Atobarai.com), a clock of their own beside that state. The webhook pushes
//! of J-goods and KOMOJU are in [`crate::pusher`].

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, SubsecRound, TimeDelta, Utc};
use tokio::net::TcpListener;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How often [`wait_until`] looks again.
const POLL: Duration = Duration::from_millis(5);

/// Locks a simulator's state. A panic elsewhere (a failed assertion in a
/// test's own task) must not hide the state from the test that looks at it.
pub fn lock<T>(state: &Mutex<T>) -> MutexGuard<'_, T> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Looks at `check` every few milliseconds until it holds (`true`) or
/// `deadline` passes (`false`): tests wait on conditions, not on sleeps.
pub async fn wait_until(deadline: Duration, mut check: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + deadline;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// A simulator's server and background tasks (webhook queues, held
/// answers): stopped together and waited for together.
#[derive(Debug, Default)]
pub struct Tasks {
    /// Stops the server and every task.
    pub cancel: CancellationToken,
    /// Every task, so that shutdown can wait for them.
    pub tracker: TaskTracker,
}

impl Tasks {
    /// Serves a simulator's API on `listener` until shutdown. Handlers can
    /// see the caller's address (`ConnectInfo`), as a source allow-list needs.
    pub fn serve(&self, listener: TcpListener, app: axum::Router, name: &'static str) {
        let stop = self.cancel.clone().cancelled_owned();
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        self.tracker.spawn(async move {
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await
            {
                tracing::error!(error = %e, "{name} simulator stopped serving");
            }
        });
    }

    /// Stops serving and every task, and waits until they ended.
    pub async fn shutdown(&self) {
        self.cancel.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }
}

/// What a simulator's server and its handle share, as the handle needs it.
pub trait SimCore: Send + Sync + 'static {
    /// The simulator's state.
    type State;
    /// The server and background tasks.
    fn tasks(&self) -> &Tasks;
    /// Runs `f` on a view of the state at the simulator's "now" (due
    /// transitions applied first).
    fn view<R>(&self, f: impl FnOnce(&View<'_, Self::State>) -> R) -> R;
}

/// Read access to a simulator's state inside [`SimHandle::wait_until`]; each
/// simulator adds what its tests may look at.
pub struct View<'a, S> {
    pub(crate) state: &'a S,
    /// The simulator's "now".
    pub now: DateTime<FixedOffset>,
}

/// Controls a running simulator. Dropping it stops the server.
pub struct SimHandle<C: SimCore> {
    pub(crate) shared: Arc<C>,
    pub(crate) addr: SocketAddr,
}

impl<C: SimCore> std::fmt::Debug for SimHandle<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("addr", &self.addr)
            .finish()
    }
}

impl<C: SimCore> SimHandle<C> {
    /// The address the simulator listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://{addr}`, the base URL of its API.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Polls the state every few milliseconds until `pred` holds (`true`) or
    /// `deadline` passes (`false`); tests wait on conditions, not sleeps.
    pub async fn wait_until(
        &self,
        deadline: Duration,
        pred: impl Fn(&View<'_, C::State>) -> bool,
    ) -> bool {
        wait_until(deadline, || self.shared.view(&pred)).await
    }

    /// Stops serving and every background task, and waits until they ended.
    pub async fn shutdown(&self) {
        self.shared.tasks().shutdown().await;
    }
}

impl<C: SimCore> Drop for SimHandle<C> {
    fn drop(&mut self) {
        self.shared.tasks().cancel.cancel();
    }
}

/// A simulator's state whose transitions fall due with time (a payment that
/// completes, a review that ends).
pub trait Settle {
    /// Applies every transition due by `now`, each stamped with its due time.
    fn settle(&mut self, now: DateTime<FixedOffset>);
}

/// A simulator's clock: real time moved by an offset (a test starts it at a
/// chosen moment and moves it forward), in JST and whole seconds, as these
/// providers write their times.
#[derive(Debug, Clone, Copy)]
pub struct SimClock {
    offset: TimeDelta,
}

impl SimClock {
    /// Real time, or `start_at` from now on.
    pub fn starting_at(start_at: Option<DateTime<FixedOffset>>) -> SimClock {
        let real_now = Utc::now().with_timezone(&crate::jst());
        SimClock {
            offset: start_at.map_or(TimeDelta::zero(), |t| t - real_now),
        }
    }

    pub fn now(&self) -> DateTime<FixedOffset> {
        (Utc::now().with_timezone(&crate::jst()) + self.offset).trunc_subsecs(0)
    }
}

/// What a clocked simulator's server and handle share: the state and the
/// clock under one lock (so that every rule sees one "now"), the config,
/// and the tasks.
#[derive(Debug)]
pub struct Clocked<S, C> {
    core: Mutex<Core<S>>,
    pub cfg: C,
    pub tasks: Tasks,
}

/// The state and its clock, as one lock holds them.
#[derive(Debug)]
pub struct Core<S> {
    pub state: S,
    clock: SimClock,
}

impl<S> Core<S> {
    /// The simulator's "now".
    pub fn now(&self) -> DateTime<FixedOffset> {
        self.clock.now()
    }
}

impl<S: Settle, C> Clocked<S, C> {
    pub fn new(state: S, clock: SimClock, cfg: C) -> Self {
        Clocked {
            core: Mutex::new(Core { state, clock }),
            cfg,
            tasks: Tasks::default(),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, Core<S>> {
        lock(&self.core)
    }

    /// Runs `f` on the state at the simulator's "now", due transitions
    /// applied first.
    pub fn with_state<R>(&self, f: impl FnOnce(&mut S, DateTime<FixedOffset>) -> R) -> R {
        let mut core = self.lock();
        let now = core.now();
        core.state.settle(now);
        f(&mut core.state, now)
    }

    /// Moves the clock forward; transitions that fall due happen (stamped
    /// with their due time) before anything else looks at the state.
    pub fn advance_clock(&self, by: Duration) {
        let mut core = self.lock();
        core.clock.offset += TimeDelta::from_std(by).unwrap_or(TimeDelta::zero());
        let now = core.now();
        core.state.settle(now);
    }
}

impl<S: Settle + Send + 'static, C: Send + Sync + 'static> SimCore for Clocked<S, C> {
    type State = S;

    fn tasks(&self) -> &Tasks {
        &self.tasks
    }

    fn view<R>(&self, f: impl FnOnce(&View<'_, S>) -> R) -> R {
        self.with_state(|state, now| f(&View { state, now }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wait_until_answers_as_soon_as_the_condition_holds_or_at_the_deadline() {
        let mut looks = 0;
        assert!(
            wait_until(Duration::from_secs(5), || {
                looks += 1;
                looks == 3
            })
            .await
        );
        assert_eq!(looks, 3);
        let started = Instant::now();
        assert!(!wait_until(Duration::from_millis(30), || false).await);
        assert!(started.elapsed() >= Duration::from_millis(30));
    }

    #[tokio::test]
    async fn shutdown_waits_for_every_task() {
        let tasks = Tasks::default();
        let cancel = tasks.cancel.clone();
        let ended = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = ended.clone();
        tasks.tracker.spawn(async move {
            cancel.cancelled().await;
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        tasks.shutdown().await;
        assert!(ended.load(std::sync::atomic::Ordering::SeqCst));
    }
}
