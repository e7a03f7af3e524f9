//! What every simulator does the same way: keep its state under a lock that
//! survives a panic, wait for a condition on that state, and stop its tasks.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

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
    /// Stops serving and every task, and waits until they ended.
    pub async fn shutdown(&self) {
        self.cancel.cancel();
        self.tracker.close();
        self.tracker.wait().await;
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
