//! `ordersync alerts …`: what the alerts told, what they still owe, and a
//! test message to check the mail and webhook settings.

use clap::Subcommand;

use super::{lang, say};
use crate::config_file::Config;
use crate::domain::time;
use crate::store::{Store, alerts};

#[derive(Subcommand, Debug)]
pub enum AlertsCommand {
    /// The causes open now, what each destination is still owed, the
    /// messages sent last.
    List,
    /// Send a test message to every destination of `[alerts]` (enabled or
    /// not yet), and say for each whether it went out.
    Test,
}

pub(super) async fn run(
    command: AlertsCommand,
    store: &Store,
    config: &Config,
) -> anyhow::Result<()> {
    match command {
        AlertsCommand::Test => test(config).await,
        AlertsCommand::List => {
            let r = store.read(|c| alerts::report(c)).await?;
            outln!("{} ({}):", say("未解決の問題", "open"), r.open.len());
            for a in &r.open {
                // The stored text as the alert told it (both languages where
                // it has them): a cut could drop what the merchant must read.
                outln!("  {}  {}  {}", time::shown(&a.opened_at), a.cause, a.text);
            }
            for o in &r.owed {
                outln!(
                    "{} {}: {}",
                    say("未送信の通知", "owed to"),
                    o.destination,
                    o.notices
                );
            }
            outln!("{}", say("送った通知(新しい順):", "sent (newest first):"));
            for m in &r.sent {
                outln!(
                    "  {}  {:<7}  {} ({})",
                    time::shown(&m.sent_at),
                    m.destination,
                    m.subject,
                    m.notices
                );
            }
            Ok(())
        }
    }
}

async fn test(config: &Config) -> anyhow::Result<()> {
    let results = crate::alerts::send_test(config).await;
    anyhow::ensure!(
        !results.is_empty(),
        "{}",
        say(
            "設定に [alerts] がありません。README の「通知」を見てください",
            "the config has no [alerts] section: see the README, Alerts"
        )
    );
    let mut failed = 0;
    for (name, result) in results {
        match result {
            Ok(()) => outln!("{} {name}", say("送信しました:", "sent:")),
            Err(e) => {
                failed += 1;
                errln!("{} {name}: {e}", say("送れませんでした:", "not sent:"));
            }
        }
    }
    anyhow::ensure!(
        failed == 0,
        "{}",
        match lang() {
            crate::config::Language::Ja => format!("{failed} か所に送れませんでした"),
            crate::config::Language::En => format!("{failed} destination(s) failed"),
        }
    );
    Ok(())
}
