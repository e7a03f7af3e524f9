//! `ordersync outbox …`: calls waiting for (or given up on by) the dispatcher.

use clap::Subcommand;

use crate::domain::time;
use crate::store::{Store, outbox};

#[derive(Subcommand, Debug)]
pub enum OutboxCommand {
    /// List calls (newest first).
    List {
        /// Only calls that gave up.
        #[arg(long)]
        dead: bool,
    },
    /// Put a dead call back in the queue with a fresh retry budget.
    Retry { id: i64 },
    /// Drop a dead call for good: it is never made, and its order keeps an
    /// attention saying so (do by hand what it would have done).
    Drop {
        id: i64,
        /// Why (kept with the call and in the order's history).
        #[arg(long)]
        reason: String,
        /// Who drops it (default: the user running the command).
        #[arg(long)]
        by: Option<String>,
    },
}

pub(super) async fn run(command: OutboxCommand, store: &Store) -> anyhow::Result<()> {
    match command {
        OutboxCommand::Drop { id, reason, by } => {
            let by = by.unwrap_or_else(super::operator);
            crate::flows::attention::drop_call(store, id, &by, &reason).await?;
            outln!("取り下げました / dropped outbox call {id}: it will never be made");
        }
        OutboxCommand::List { dead } => {
            let rows = store
                .read(move |c| outbox::list(c, dead.then_some("dead"), 200))
                .await?;
            outln!(
                "{:<6} {:<9} {:<20} {:<24} {:<8} LAST ERROR",
                "ID",
                "STATE",
                "KIND",
                "ORDER",
                "ATTEMPTS"
            );
            for r in rows {
                outln!(
                    "{:<6} {:<9} {:<20} {:<24} {:<8} {}",
                    r.id,
                    r.state,
                    r.kind,
                    r.order_id.as_deref().unwrap_or("-"),
                    r.attempts,
                    r.last_error.as_deref().unwrap_or("")
                );
            }
        }
        OutboxCommand::Retry { id } => {
            let retried = store
                .write(move |tx| outbox::retry_by_hand(tx, id, &time::rfc3339(time::now())))
                .await?;
            anyhow::ensure!(retried.is_some(), "there is no outbox call {id}");
            anyhow::ensure!(retried == Some(true), "outbox call {id} is not dead");
            outln!("call {id} queued again");
        }
    }
    Ok(())
}
