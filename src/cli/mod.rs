//! The `ordersync` command line.

/// `println!` with every control character but newline and tab shown
/// escaped ([`terminal_safe`]): order ids, names and reasons come from
/// outside and must not retitle, clear or rewrite the operator's terminal.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::print_line(&format!($($arg)*))
    };
}

/// `eprintln!` the same way.
macro_rules! errln {
    ($($arg:tt)*) => {
        eprintln!("{}", $crate::cli::terminal_safe(&format!($($arg)*)))
    };
}

mod alerts;
mod catalog;
mod credentials;
mod invoice;
mod order_text;
mod orders;
mod outbox;
mod rakuten;
mod sellers;
mod shipments;
mod status;
mod stock;
mod yahoo;

pub use orders::{OrdersCommand, OrdersExportArgs, OrdersListArgs};
pub use outbox::OutboxCommand;
pub use rakuten::RakutenCommand;
pub use stock::{StockCommand, import_file};

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::{self, Language, LogFormat};

use crate::config_file::{Config, EX_CONFIG};
use crate::store::Store;
use crate::text_encoding::TextEncoding;

/// The language of this command's output: `[daemon] language` once the
/// config is read, the locale's before (a config error).
static LANGUAGE: std::sync::OnceLock<Language> = std::sync::OnceLock::new();

/// The language the command speaks (see [`LANGUAGE`]).
pub(crate) fn lang() -> Language {
    LANGUAGE
        .get()
        .copied()
        .unwrap_or_else(|| Language::from_locale(|v| std::env::var(v).ok()))
}

/// The Japanese or the English text, in the command's language.
pub(crate) fn say<'a>(ja: &'a str, en: &'a str) -> &'a str {
    crate::wording::say(lang(), ja, en)
}

/// "cannot read <file>" (or open, write), in the command's language: the
/// context of a file error the merchant reads.
pub(crate) fn about_file(verb: FileVerb, path: &std::path::Path) -> String {
    let (ja, en) = match verb {
        FileVerb::Read => ("読めません:", "cannot read"),
        FileVerb::Open => ("開けません:", "cannot open"),
        FileVerb::Write => ("書けません:", "cannot write"),
        FileVerb::Create => ("作れません:", "cannot create"),
    };
    format!("{} {}", say(ja, en), path.display())
}

/// What [`about_file`] could not do with a file.
#[derive(Clone, Copy)]
pub(crate) enum FileVerb {
    Read,
    Open,
    Write,
    Create,
}

/// Prints a line of the CLI's output ([`terminal_safe`]); a reader that
/// went away (`ordersync orders list | head -1`) ends the command quietly.
pub fn print_line(text: &str) {
    use std::io::Write;
    let written = writeln!(std::io::stdout().lock(), "{}", terminal_safe(text));
    if let Err(e) = written
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// `text` with control characters (ESC, BEL, CR, the C1 range, ...) shown as
/// `\u{..}` escapes; newlines and tabs stay.
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let shown_escaped = |c: char| {
        (c.is_control() && c != '\n' && c != '\t') || crate::domain::input::is_bidi_control(c)
    };
    if !text.chars().any(shown_escaped) {
        return std::borrow::Cow::Borrowed(text);
    }
    text.chars()
        .map(|c| match c {
            c if shown_escaped(c) => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect()
}

pub use crate::wording::pad;

/// One row of a listing built from outside values: a line feed, carriage
/// return or tab inside them is shown as `\n`, `\r`, `\t`, so a name or a
/// reason cannot forge a row of its own.
pub fn one_line(text: &str) -> String {
    text.replace('\n', "\\n")
        .replace('\r', "\\r")
        .replace('\t', "\\t")
}

#[derive(Parser, Debug)]
#[command(
    name = "ordersync",
    version,
    about = "Keeps a merchant's orders, stock and payments in sync with J-goods and other channels"
)]
pub struct Cli {
    /// Config file (default: $ORDERSYNC_CONFIG, else /etc/ordersync/config.toml).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Where `{ credential = "name" }` is read outside systemd (default:
    /// `credentials/` beside config.toml, `credentials/<name>/` beside `<name>.toml`).
    #[arg(long, global = true, value_name = "DIR")]
    pub credentials_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the daemon (systemd ExecStart).
    Run,
    /// Validate the config and print it with secrets redacted (exit 78 on error).
    CheckConfig {
        /// Config file to check (overrides --config).
        path: Option<PathBuf>,
    },
    /// Play a scripted day of orders against built-in simulators; needs no config.
    Demo(crate::demo::DemoArgs),
    /// Run the provider simulators alone, to try a real config against them.
    Sim(crate::sim::SimArgs),
    /// Inventory mirror.
    #[command(subcommand)]
    Stock(StockCommand),
    /// Orders.
    #[command(subcommand)]
    Orders(OrdersCommand),
    /// Calls waiting for (or given up on by) the dispatcher.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// J-goods settlement.
    #[command(subcommand)]
    Jgoods(JgoodsCommand),
    /// Rakuten's SKU map (which Rakuten variant sells which SKU of the mirror).
    #[command(subcommand)]
    Rakuten(RakutenCommand),
    /// Yahoo!ショッピング: the store login (every 28 days).
    #[command(subcommand)]
    Yahoo(yahoo::YahooCommand),
    /// Summary: orders per state, outbox depth, dead calls (exit 1 when something needs a person).
    Status,
    /// Online backup of the SQLite store to PATH.
    Backup { path: PathBuf },
    /// Put a backup back in place of the store, with the daemon stopped (the
    /// replaced database is kept beside it).
    Restore { path: PathBuf },
    /// The credentials directory the systemd unit reads its secrets from.
    #[command(subcommand)]
    Credentials(CredentialsCommand),
    /// The product master (items and categories) J-goods sells from.
    #[command(subcommand)]
    Catalog(catalog::CatalogCommand),
    /// Mail and webhook alerts: what was told, a test message.
    #[command(subcommand)]
    Alerts(alerts::AlertsCommand),
    /// The label programs' files (出荷ファイル): the orders ready to ship out,
    /// the printed labels back in as shipments.
    #[command(subcommand)]
    Shipments(shipments::ShipmentsCommand),
    /// KOMOJU sellers (出品者): the master, their review state and fee.
    #[command(subcommand)]
    Sellers(sellers::SellersCommand),
}

#[derive(Subcommand, Debug)]
pub enum CredentialsCommand {
    /// Create the directory (0700) and a file (0600) for every credential the
    /// unit loads, empty until a secret is written in it; generate the admin
    /// token. Never overwrites a value.
    Init,
}

#[derive(Subcommand, Debug)]
pub enum JgoodsCommand {
    /// Issue the invoice to J-goods for the orders shipped in a period (the same period
    /// again re-issues it).
    Invoice(invoice::InvoiceArgs),
    /// The product master at J-goods: compare, and send what differs.
    #[command(subcommand)]
    Catalog(catalog::JgoodsCatalogCommand),
}

/// Who runs the command, for the history of a person's action: the user
/// behind sudo, else the login name.
fn operator() -> String {
    ["SUDO_USER", "USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "cli".to_string())
}

fn parse_encoding(s: &str) -> Result<TextEncoding, String> {
    TextEncoding::parse(s).ok_or_else(|| format!("unknown encoding {s:?}; use utf8 or sjis"))
}

/// Runs the command line; returns the process exit code.
pub fn main() -> ExitCode {
    run(Cli::parse())
}

/// Runs the command line on `args` (the first is the program name), as
/// `cargo xtask` does to start the daemon and its commands as children.
pub fn main_from<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    run(Cli::parse_from(args))
}

fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Demo(args) => {
            return exit(runtime().and_then(|rt| rt.block_on(crate::demo::run(args))));
        }
        Command::Sim(args) => {
            crate::logging::init(LogFormat::Auto);
            return exit(runtime().and_then(|rt| rt.block_on(crate::sim::run(args))));
        }
        _ => {}
    }
    let path = match &cli.command {
        Command::CheckConfig { path: Some(p) } => p.clone(),
        _ => config::resolve_path(cli.config.clone()),
    };
    if matches!(cli.command, Command::Run) {
        // Before the config: its errors are logged (to the journal under
        // systemd) like everything after them.
        crate::logging::init_early();
    }
    let options = config::LoadOptions {
        credentials_dir: cli.credentials_dir.clone(),
    };
    let loaded = Config::load_with(&path, &options).and_then(|c| {
        // Only the daemon needs every secret of an enabled section and the
        // admin token; check-config lists what it would refuse, the other
        // commands run without them.
        if matches!(cli.command, Command::Run) {
            c.check_serving()?;
        }
        Ok(c)
    });
    let config = match loaded {
        Ok(c) => c,
        Err(e) => {
            if matches!(cli.command, Command::Run) {
                tracing::error!(path = %path.display(), error = %e, "config error");
            }
            errln!("ordersync: {}: {e}", say("設定の誤り", "config error"));
            return ExitCode::from(EX_CONFIG as u8);
        }
    };
    // The first setting wins; a second `run` in one process (tests) keeps it.
    let _ = LANGUAGE.set(config.daemon.language);
    for warning in config.permission_warnings().iter().chain(&config.warnings) {
        if matches!(cli.command, Command::Run) {
            tracing::warn!(warning = %warning, "config warning");
        }
        errln!("ordersync: {}: {warning}", say("警告", "warning"));
    }
    match cli.command {
        Command::CheckConfig { .. } => check_config(&config, &path),
        Command::Credentials(CredentialsCommand::Init) => {
            exit(credentials::init(&config, &config.credentials_dir))
        }
        // Before the store is opened: the database is about to be replaced.
        Command::Restore { path } => exit(restore(&config, &path)),
        Command::Run => {
            crate::logging::init(config.daemon.log_format);
            exit(runtime().and_then(|rt| rt.block_on(crate::app::run(config))))
        }
        command => exit(runtime().and_then(|rt| rt.block_on(local(command, config)))),
    }
}

/// `check-config`: the effective config, then every reason `ordersync run`
/// would refuse to start (exit 78), or that the file is valid.
fn check_config(config: &Config, path: &std::path::Path) -> ExitCode {
    print!("{}", config.redacted());
    for refusal in &config.refusals {
        errln!("ordersync: {refusal}");
    }
    // What only building them finds: a `ca_file` that cannot be read.
    let alerts = match config.enabled_alerts() {
        Some(a) if config.refusals.is_empty() => {
            crate::alerts::destinations(a, config.daemon.http_timeout).err()
        }
        _ => None,
    };
    if let Some(e) = alerts {
        errln!("ordersync: {}: alerts: {e}", path.display());
        return ExitCode::from(EX_CONFIG as u8);
    }
    if config.refusals.is_empty() {
        match lang() {
            Language::Ja => errln!("ordersync: {} に誤りはありません", path.display()),
            Language::En => errln!("ordersync: {} is valid", path.display()),
        }
        return ExitCode::SUCCESS;
    }
    let n = config.refusals.len();
    match lang() {
        Language::Ja => errln!(
            "ordersync: このままではデーモンを起動できません(上記 {n} 件)。stock, orders, status, backup \
             などのコマンドはこのままでも使えます"
        ),
        Language::En => errln!(
            "ordersync: `ordersync run` would refuse to start: {n} problem(s) above; the other \
             commands (stock, orders, status, backup) work without them"
        ),
    }
    ExitCode::from(EX_CONFIG as u8)
}

/// `restore PATH`: refused while the daemon runs.
fn restore(config: &Config, path: &std::path::Path) -> anyhow::Result<()> {
    let stamp = crate::domain::time::now()
        .format("%Y%m%dT%H%M%S")
        .to_string();
    let done = crate::store::restore::restore(&config.daemon.data_dir, path, &stamp)?;
    let orders = crate::wording::orders(lang(), done.orders);
    match lang() {
        Language::Ja => outln!(
            "{} を {} に復元しました(受注 {orders})",
            path.display(),
            config.database_path().display()
        ),
        Language::En => outln!(
            "restored {} ({orders}) into {}",
            path.display(),
            config.database_path().display()
        ),
    }
    if let Some(kept) = done.kept {
        outln!(
            "{}: {}",
            say("置き換えたデータベース", "the database it replaced"),
            kept.display()
        );
    }
    outln!("{}: systemctl start ordersync", say("次に", "next"));
    Ok(())
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn exit(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<NeedsAttention>().is_some() => ExitCode::from(1),
        Err(e) if e.downcast_ref::<DaemonDown>().is_some() => ExitCode::from(2),
        Err(e) => {
            errln!("ordersync: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// `status` found something a person must look at (exit code 1, already printed).
#[derive(Debug, thiserror::Error)]
#[error("something needs attention")]
pub(crate) struct NeedsAttention;

/// `status` found no daemon on the data directory (exit code 2, already printed).
#[derive(Debug, thiserror::Error)]
#[error("the daemon is not running")]
pub(crate) struct DaemonDown;

/// Commands that work on the store directly (the daemon may be running: SQLite
/// serialises the writes).
async fn local(command: Command, config: Config) -> anyhow::Result<()> {
    let safety_stock = config.inventory.safety_stock;
    let store = Store::open_in(&config.daemon.data_dir, safety_stock).with_context(|| {
        format!(
            "{} {}",
            say("データベースを開けません:", "cannot open the store in"),
            config.daemon.data_dir.display()
        )
    })?;
    match command {
        Command::Stock(c) => stock::run(c, &store).await?,
        Command::Orders(c) => orders::run(c, &store, &config).await?,
        Command::Outbox(c) => outbox::run(c, &store).await?,
        Command::Alerts(c) => alerts::run(c, &store, &config).await?,
        Command::Shipments(c) => shipments::run(c, &store, &config).await?,
        Command::Catalog(c) => catalog::run(c, &store).await?,
        Command::Rakuten(c) => rakuten::run(c, &store, &config).await?,
        Command::Yahoo(c) => yahoo::run(c, &store, &config).await?,
        Command::Sellers(c) => return sellers::run(c, &store, &config).await,
        Command::Status => return status::run(&store, &config).await,
        Command::Jgoods(JgoodsCommand::Invoice(args)) => {
            return invoice::run(args, &config, &store).await;
        }
        Command::Jgoods(JgoodsCommand::Catalog(c)) => {
            return catalog::run_jgoods(c, &store, &config).await;
        }
        Command::Backup { path } => {
            anyhow::ensure!(
                !path.exists(),
                "{}: {}",
                path.display(),
                say(
                    "すでにあります。別のファイル名を指定してください",
                    "already exists; choose a new file"
                )
            );
            store.backup_to(&path).await?;
            match lang() {
                Language::Ja => outln!(
                    "{} を {} にバックアップしました",
                    store.path().display(),
                    path.display()
                ),
                Language::En => {
                    outln!("backed up {} to {}", store.path().display(), path.display())
                }
            }
        }
        Command::Run
        | Command::CheckConfig { .. }
        | Command::Credentials(_)
        | Command::Restore { .. }
        | Command::Demo(_)
        | Command::Sim(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::terminal_safe;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        let hostile = "JG1 \u{1b}]0;pwned\u{7} \u{1b}[2J\r\u{9b}31m";
        let shown = terminal_safe(hostile);
        assert!(!shown.chars().any(|c| c.is_control()), "{shown:?}");
        assert!(shown.contains("\\u{1b}]0;pwned\\u{7}"), "{shown}");
        assert_eq!(terminal_safe("受注\t1\n"), "受注\t1\n");
        // A direction control is shown, not obeyed (U+202E reverses what follows).
        assert_eq!(terminal_safe("A\u{202e}gpj"), "A\\u{202e}gpj");
        assert_eq!(super::one_line("急須\n| FAKE | row"), "急須\\n| FAKE | row");
        assert_eq!(super::pad("受注", 6), "受注  ");
        assert_eq!(super::pad("id", 4), "id  ");
        assert_eq!(super::pad("longer", 2), "longer");
    }
}
