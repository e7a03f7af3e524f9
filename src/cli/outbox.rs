//! `ordersync outbox …`: calls waiting for (or given up on by) the dispatcher.

use clap::Subcommand;

use super::{Language, lang, pad, say};
use crate::domain::time;
use crate::store::{Store, outbox};
use crate::wording;

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
            match lang() {
                Language::Ja => outln!("送信 {id} を取り下げました。今後送信しません"),
                Language::En => outln!("dropped outbox call {id}: it will never be made"),
            }
        }
        OutboxCommand::List { dead } => {
            let rows = store
                .read(move |c| outbox::list(c, dead.then_some("dead"), 200))
                .await?;
            let l = lang();
            outln!(
                "{:<6} {} {} {} {} {}",
                "ID",
                pad(say("状態", "STATE"), 9),
                pad(say("内容", "KIND"), 30),
                pad(say("受注番号", "ORDER"), 24),
                pad(say("試行", "ATTEMPTS"), 8),
                say("最後のエラー", "LAST ERROR")
            );
            for r in rows {
                outln!(
                    "{:<6} {} {} {} {:<8} {}",
                    r.id,
                    pad(&wording::call_state(l, &r.state), 9),
                    pad(&wording::call_kind(l, &r.kind), 30),
                    pad(&super::one_line(r.order_id.as_deref().unwrap_or("-")), 24),
                    r.attempts,
                    super::one_line(wording::pick(l, r.last_error.as_deref().unwrap_or("")))
                );
            }
        }
        OutboxCommand::Retry { id } => {
            let retried = store
                .write(move |tx| outbox::retry_by_hand(tx, id, &time::rfc3339(time::now())))
                .await?;
            anyhow::ensure!(
                retried.is_some(),
                "{}",
                match lang() {
                    Language::Ja => format!("送信 {id} はありません"),
                    Language::En => format!("there is no outbox call {id}"),
                }
            );
            anyhow::ensure!(
                retried == Some(true),
                "{}",
                match lang() {
                    Language::Ja => format!("送信 {id} は失敗していません"),
                    Language::En => format!("outbox call {id} is not dead"),
                }
            );
            match lang() {
                Language::Ja => outln!("送信 {id} を再送待ちに戻しました"),
                Language::En => outln!("call {id} queued again"),
            }
        }
    }
    Ok(())
}
