//! KOMOJU authorizations watched for their lapse.
//!
//! A two-step (manual capture) authorization lapses at KOMOJU after about 30
//! days; an order still unshipped then has lost its payment. Every hour the
//! watch gives each authorized, uncaptured order older than 25 days an
//! attention with the lapse date (in JST), once: the operator ships or
//! cancels it while the money is still held.

use crate::heartbeat::Heartbeat;
use crate::worker::{Wake, Worker};
use futures_util::future::BoxFuture;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::domain::time;
use crate::providers::komoju::rules::lapse_attention;
use crate::store::{Store, komoju_lapse};

/// How often the watch looks.
const LOOK_EVERY: Duration = Duration::from_secs(3600);

/// The lapse watch of one store.
#[derive(Clone)]
pub struct LapseWatch {
    /// The store whose authorized payments are watched.
    pub store: Store,
    /// Makes it look now (after a reload, in tests).
    pub poke: std::sync::Arc<tokio::sync::Notify>,
}

impl LapseWatch {
    /// Looks now, then hourly (or when poked) until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            match self.look().await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(orders = n, "KOMOJU authorizations close to their lapse"),
                Err(e) => {
                    tracing::warn!(error = %e, "KOMOJU lapse watch failed; tried again later")
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = self.poke.notified() => {}
                _ = tokio::time::sleep(LOOK_EVERY) => {}
            }
        }
    }

    /// One look: the orders flagged now.
    pub async fn look(&self) -> crate::store::Result<usize> {
        self.store
            .write(|tx| {
                let now = time::now();
                let stamp = time::rfc3339(now);
                let mut flagged = 0;
                for w in komoju_lapse::waiting(tx)? {
                    let Ok(at) = chrono::DateTime::parse_from_rfc3339(&w.authorized_at) else {
                        continue;
                    };
                    if let Some(reason) = lapse_attention(at, now)
                        && komoju_lapse::flag(tx, &w, &reason, &stamp)?
                    {
                        flagged += 1;
                    }
                }
                Ok(flagged)
            })
            .await
    }
}

impl Worker for LapseWatch {
    fn name(&self) -> &'static str {
        "KOMOJU lapse watch"
    }

    fn heartbeat(&self) -> Option<Heartbeat> {
        None
    }

    fn wake(&self) -> Wake {
        Wake::Poll(self.poke.clone())
    }

    fn run(self: Box<Self>, stop: CancellationToken) -> BoxFuture<'static, ()> {
        Box::pin(LapseWatch::run(*self, stop))
    }
}
