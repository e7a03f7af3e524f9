//! `ordersync alerts …`: what the alerts told, what they still owe, and a
//! test message to check the mail and webhook settings.

use clap::Subcommand;

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
            outln!("未解決の問題 / open ({}):", r.open.len());
            for a in &r.open {
                outln!("  {}  {}  {}", time::shown(&a.opened_at), a.cause, a.text);
            }
            for o in &r.owed {
                outln!("未送信 / owed to {}: {}", o.destination, o.notices);
            }
            outln!("送信済み / sent (newest first):");
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
        "[alerts] がありません / the config has no [alerts] section: see README, 通知"
    );
    let mut failed = 0;
    for (name, result) in results {
        match result {
            Ok(()) => outln!("送信しました / sent: {name}"),
            Err(e) => {
                failed += 1;
                errln!("送れませんでした / not sent: {name}: {e}");
            }
        }
    }
    anyhow::ensure!(failed == 0, "{failed} destination(s) failed");
    Ok(())
}
