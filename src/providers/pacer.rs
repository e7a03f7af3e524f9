//! Spaces calls to a provider that asks for a request rate (Rakuten: about one
//! request a second per shop). Shared by everything that calls the provider.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Pacer {
    pub fn new(interval: Duration) -> Pacer {
        Pacer {
            interval,
            next: Mutex::new(Instant::now()),
        }
    }

    /// Waits until this caller may make its call.
    pub async fn wait(&self) {
        if self.interval.is_zero() {
            return;
        }
        let mut next = self.next.lock().await;
        let now = Instant::now();
        if *next > now {
            tokio::time::sleep_until(*next).await;
        }
        *next = Instant::now().max(*next) + self.interval;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn calls_are_spaced() {
        let p = Pacer::new(Duration::from_secs(1));
        let start = Instant::now();
        for _ in 0..3 {
            p.wait().await;
        }
        assert_eq!(start.elapsed().as_secs(), 2);
    }
}
