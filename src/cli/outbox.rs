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
}

pub(super) async fn run(command: OutboxCommand, store: &Store) -> anyhow::Result<()> {
    match command {
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
