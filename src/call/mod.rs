//! The call contract: what an outbound provider call is to the dispatcher
//! ([`crate::outbox`]) and to the channel that makes it, so that neither
//! knows the other. The dispatcher holds a [`CallRunner`] and gives it one
//! outbox row at a time in a [`CallContext`]; the channel makes the call and
//! answers an [`Attempt`] (finished, wait, retry, blocked), classifying
//! failures as a [`CallError`]; [`outcome::finish`] writes what a finished
//! call changed.

mod error;
mod limits;
pub mod outcome;
mod retry;

use std::time::Duration;

use futures_util::future::BoxFuture;

use crate::domain::time;
use crate::metrics::Metrics;
use crate::store::outbox::OutboxRow;
use crate::store::{self, Store};

pub use error::{CallError, retry_after};
pub use limits::HttpLimits;
pub use outcome::CallOutcome;
pub use retry::RetryPolicy;

/// Makes the call of one outbox row: the channels' router, or a test's stand-in.
pub trait CallRunner: Send + Sync + 'static {
    /// Makes `ctx.row`'s call and records its outcome with the row (or
    /// answers how the row waits).
    fn run<'a>(&'a self, ctx: &'a CallContext<'a>) -> BoxFuture<'a, store::Result<Attempt>>;
}

/// The idempotency key of outbox row `row_id`: `os-<installation>-<row>`
/// (at most 56 ASCII characters, within every provider's limit).
pub fn idempotency_key(installation_id: &str, row_id: i64) -> String {
    format!("os-{installation_id}-{row_id}")
}

/// How one attempt ended, as far as the outbox row is concerned.
#[derive(Debug)]
pub enum Attempt {
    /// The row was completed (or killed) together with its decision.
    Finished,
    /// Not made: due again after `pause` (no attempt counted); `note` says
    /// why, in the row.
    Wait { pause: Duration, note: &'static str },
    /// Try again later.
    Retry {
        error: String,
        retry_after: Option<Duration>,
    },
    /// The provider refuses this installation's configuration: the call waits
    /// (no attempt counted, never given up) while the problem is shown.
    Blocked { fix: String },
}

/// What a channel's call part gets for one outbox row: the store to write its
/// outcome in, the metrics to time it with, and the retry budget.
pub struct CallContext<'a> {
    pub store: &'a Store,
    pub metrics: &'a Metrics,
    pub row: &'a OutboxRow,
    pub retry: RetryPolicy,
    pub installation_id: &'a str,
}

impl CallContext<'_> {
    /// The row's idempotency key (see [`idempotency_key`]): a retry after a
    /// crash reuses it, so the provider replays its first answer.
    pub fn idempotency_key(&self) -> String {
        idempotency_key(self.installation_id, self.row.id)
    }

    /// The attempt for a failure the row cannot finish with: retry later, or
    /// wait for a person to mend the configuration.
    pub fn failed(&self, e: CallError) -> Attempt {
        let row = self.row;
        tracing::warn!(outbox_id = row.id, kind = row.kind, attempt = row.attempts + 1, error = %e, "provider call failed");
        match e {
            CallError::Transient {
                reason,
                retry_after,
            } => Attempt::Retry {
                error: reason,
                retry_after,
            },
            CallError::Rejected {
                http_status,
                code,
                message,
            } => Attempt::Retry {
                error: format!("{http_status} {code}: {message}"),
                retry_after: None,
            },
            CallError::Configuration { fix, .. } => Attempt::Blocked { fix },
        }
    }

    /// A transient failure: `Err` to retry later, or, once the retry budget is
    /// spent, `Ok` with the reason to give the call up.
    pub fn give_up_or_retry(&self, e: CallError) -> Result<String, Attempt> {
        let attempt = self.failed(e);
        match &attempt {
            Attempt::Retry { error, retry_after } if self.budget_spent(*retry_after) => {
                Ok(error.clone())
            }
            _ => Err(attempt),
        }
    }

    /// How a failed call ends: a transient failure is retried until its
    /// budget is spent (then `Ok` with the reason, to give up), a
    /// configuration problem waits, and a refusal is `Ok` with `refused`'s
    /// wording of it.
    pub fn settle(
        &self,
        e: CallError,
        refused: impl FnOnce(&CallError) -> String,
    ) -> Result<String, Attempt> {
        match e {
            CallError::Transient { .. } => self.give_up_or_retry(e),
            CallError::Configuration { .. } => Err(self.failed(e)),
            CallError::Rejected { .. } => Ok(refused(&e)),
        }
    }

    /// Whether the next retry would fall after the call's budget ends.
    fn budget_spent(&self, retry_after: Option<Duration>) -> bool {
        let next = time::unix_ms(time::now())
            + self
                .retry
                .delay(self.row.attempts)
                .max(retry_after.unwrap_or_default())
                .as_millis() as i64;
        next - self.row.budget_from_ms > self.retry.give_up_after.as_millis() as i64
    }
}

/// The attempt for a call whose channel is not enabled: it waits, in case
/// the merchant enables it again.
pub fn not_configured(provider: &str) -> Attempt {
    Attempt::Retry {
        error: format!("{provider} is not enabled in the config; the call waits"),
        retry_after: Some(Duration::from_secs(300)),
    }
}
