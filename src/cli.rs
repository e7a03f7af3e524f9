//! The `ordersync` command line.

mod invoice;
mod status;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::config::{self, Config, EX_CONFIG, LogFormat};
use crate::domain::{Channel, OrderState, time};
use crate::orders_export::{self, ExportFormat};
use crate::store::orders::OrderFilter;
use crate::store::{Store, events, orders, outbox, restock, stock};
use crate::text_encoding::TextEncoding;

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
    /// Summary: orders per state, outbox depth, dead calls (exit 1 when something needs a person).
    Status,
    /// Online backup of the SQLite store to PATH.
    Backup { path: PathBuf },
}

#[derive(Subcommand, Debug)]
pub enum StockCommand {
    /// Set the absolute on-hand quantity of a SKU.
    Set {
        sku: String,
        qty: i64,
        /// When the ERP counted it (RFC 3339).
        #[arg(long)]
        as_of: Option<String>,
        /// Consumption-tax rate of the SKU on J-goods invoices: 8 (reduced) or 10 (standard,
        /// the default); kept when not given.
        #[arg(long)]
        tax_rate: Option<i64>,
    },
    /// Import a CSV (`sku,on_hand[,as_of]`, or columns named by a header such
    /// as 商品コード,在庫数) or JSON file in one transaction.
    Import {
        file: PathBuf,
        /// Text encoding of a CSV file: utf8 or sjis (Shift_JIS/CP932).
        /// Default: detected (valid UTF-8 is UTF-8, anything else Shift_JIS).
        #[arg(long, value_parser = parse_encoding)]
        encoding: Option<TextEncoding>,
    },
    /// List every SKU with on hand, reserved and available.
    List,
}

#[derive(Subcommand, Debug)]
pub enum JgoodsCommand {
    /// Issue the invoice to J-goods for the orders shipped in a period (the same period
    /// again re-issues it).
    Invoice(invoice::InvoiceArgs),
}

#[derive(Subcommand, Debug)]
pub enum OrdersCommand {
    /// List orders.
    List(OrdersListArgs),
    /// Show one order with its events.
    Show { channel: String, id: String },
    /// Record a shipment (and report it to the channel where it needs one).
    Ship {
        channel: String,
        id: String,
        /// yamato, sagawa, japanpost, seino, fukuyama, nittsu, meitetsu, tonami, ecohai or other.
        #[arg(long)]
        carrier: String,
        #[arg(long)]
        tracking: String,
        /// Ship date, YYYY-MM-DD (default: today in Japan).
        #[arg(long)]
        date: Option<String>,
        /// Domestic shipping cost in yen, tax included (J-goods may be invoiced for it).
        #[arg(long)]
        shipping_cost: Option<i64>,
    },
    /// Register an order of the merchant's own shop from a JSON file (the body
    /// of `POST /api/v1/orders`); deferred payments get their credit requested.
    Add {
        /// The order as JSON.
        file: PathBuf,
    },
    /// Export orders for an ERP that imports files (CSV: one row per order line).
    Export(OrdersExportArgs),
    /// Cancel an order on the merchant's side (stock goes back).
    Cancel {
        channel: String,
        id: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
}

#[derive(Args, Debug)]
pub struct OrdersListArgs {
    #[arg(long)]
    pub state: Option<String>,
    #[arg(long)]
    pub channel: Option<String>,
    /// Only orders that need a person.
    #[arg(long)]
    pub attention: bool,
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
}

#[derive(Args, Debug)]
pub struct OrdersExportArgs {
    /// csv (one row per order line) or json (the order resources).
    #[arg(long, default_value = "csv", value_parser = parse_format)]
    pub format: ExportFormat,
    /// Only orders updated at or after this (RFC 3339, or YYYY-MM-DD in Japan time).
    #[arg(long)]
    pub since: Option<String>,
    /// Write here instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// CSV text encoding: utf8 (with a BOM, the default) or sjis (Shift_JIS/CP932).
    #[arg(long, default_value = "utf8", value_parser = parse_encoding)]
    pub encoding: TextEncoding,
}

fn parse_encoding(s: &str) -> Result<TextEncoding, String> {
    TextEncoding::parse(s).ok_or_else(|| format!("unknown encoding {s:?}; use utf8 or sjis"))
}

fn parse_format(s: &str) -> Result<ExportFormat, String> {
    ExportFormat::parse(s).ok_or_else(|| format!("unknown format {s:?}; use csv or json"))
}

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
    let config = match Config::load(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ordersync: config error: {e}");
            return ExitCode::from(EX_CONFIG as u8);
        }
    };
    for warning in config::permission_warnings(&path)
        .iter()
        .chain(&config.warnings)
    {
        eprintln!("ordersync: warning: {warning}");
    }
    match cli.command {
        Command::CheckConfig { .. } => {
            print!("{}", config.redacted());
            eprintln!("ordersync: {} is valid", path.display());
            ExitCode::SUCCESS
        }
        Command::Run => {
            crate::logging::init(config.daemon.log_format);
            exit(runtime().and_then(|rt| rt.block_on(crate::app::run(config))))
        }
        command => exit(runtime().and_then(|rt| rt.block_on(local(command, config)))),
    }
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
        Err(e) => {
            eprintln!("ordersync: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// `status` found something a person must look at (exit code 1, already printed).
#[derive(Debug, thiserror::Error)]
#[error("something needs attention")]
pub(crate) struct NeedsAttention;

/// Commands that work on the store directly (the daemon may be running: SQLite
/// serialises the writes).
async fn local(command: Command, config: Config) -> anyhow::Result<()> {
    let store = Store::open_in(&config.daemon.data_dir).with_context(|| {
        format!(
            "cannot open the store in {}",
            config.daemon.data_dir.display()
        )
    })?;
    let safety = config.inventory.safety_stock;
    match command {
        Command::Stock(StockCommand::Set {
            sku,
            qty,
            as_of,
            tax_rate,
        }) => {
            let mut level = crate::inventory_import::level(1, &sku, qty, as_of.as_deref())
                .map_err(|e| anyhow::anyhow!(e.message))?;
            level.tax_rate = crate::inventory_import::validate_tax_rate(1, tax_rate)
                .map_err(|e| anyhow::anyhow!(e.message))?;
            let row = store
                .write(move |tx| {
                    let now = time::rfc3339(time::now());
                    restock::set_levels(tx, std::slice::from_ref(&level), safety, &now)?;
                    stock::get(tx, &level.sku, safety)
                })
                .await?;
            if let Some(r) = row {
                print_stock(&[r]);
            }
        }
        Command::Stock(StockCommand::Import { file, encoding }) => {
            let n = import_file(&store, &file, encoding, safety).await?;
            println!("imported {n} SKUs from {}", file.display());
        }
        Command::Stock(StockCommand::List) => {
            print_stock(&store.read(move |c| stock::list(c, safety)).await?)
        }
        Command::Orders(OrdersCommand::List(a)) => {
            let filter = OrderFilter {
                channel: a.channel.as_deref().map(parse_channel).transpose()?,
                state: a
                    .state
                    .as_deref()
                    .map(|s| {
                        OrderState::parse(s).ok_or_else(|| anyhow::anyhow!("unknown state {s:?}"))
                    })
                    .transpose()?,
                attention: a.attention,
                limit: a.limit,
                after: None,
            };
            let list = store.read(move |c| orders::list(c, &filter)).await?;
            println!(
                "{:<8} {:<28} {:<10} {:<15} ATTENTION",
                "CHANNEL", "ID", "STATE", "PAYMENT"
            );
            for o in list {
                println!(
                    "{:<8} {:<28} {:<10} {:<15} {}",
                    o.channel.as_str(),
                    o.id,
                    o.state.as_str(),
                    o.payment_state.as_str(),
                    o.attention.as_deref().unwrap_or("")
                );
            }
        }
        Command::Orders(OrdersCommand::Export(args)) => export_orders(&store, args).await?,
        Command::Orders(OrdersCommand::Show { channel, id }) => {
            let ch = parse_channel(&channel)?;
            let (order, evs) = store
                .read(move |c| {
                    Ok((
                        orders::load(c, ch, &id)?,
                        events::for_order(c, ch.as_str(), &id)?,
                    ))
                })
                .await?;
            let order = order.ok_or_else(|| anyhow::anyhow!("no {channel} order with that id"))?;
            println!("{}", serde_json::to_string_pretty(&order)?);
            println!("\nevents:");
            for e in evs {
                println!("  #{:<6} {}  {:<24} {}", e.id, e.at, e.kind, e.detail);
            }
        }
        Command::Orders(OrdersCommand::Ship {
            channel,
            id,
            carrier,
            tracking,
            date,
            shipping_cost,
        }) => {
            let ch = parse_channel(&channel)?;
            let date = date.unwrap_or_else(|| time::now().format("%Y-%m-%d").to_string());
            let req = crate::http::admin::parse_shipment(&carrier, &tracking, &date, shipping_cost)
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            let policy = crate::app::payment_policy(&config);
            let order = crate::flows::erp::ship(&store, ch, id, req, policy, safety).await?;
            println!(
                "{} {} is {}",
                order.channel.as_str(),
                order.id,
                order.state.as_str()
            );
        }
        Command::Orders(OrdersCommand::Add { file }) => {
            let order =
                crate::flows::direct::register(&store, read_direct_order(&file, &config)?, safety)
                    .await?;
            let (verb, order) = match order {
                crate::flows::direct::Registered::Created(o) => ("registered", o),
                crate::flows::direct::Registered::Same(o) => ("already registered", o),
                crate::flows::direct::Registered::Conflict(_) => {
                    anyhow::bail!("an order with this id was registered with different content")
                }
            };
            println!(
                "direct {} {verb}: {} / {}",
                order.id,
                order.state.as_str(),
                order.payment_state.as_str()
            );
        }
        Command::Orders(OrdersCommand::Cancel {
            channel,
            id,
            reason,
        }) => {
            let ch = parse_channel(&channel)?;
            let order = crate::flows::erp::cancel(&store, ch, id, reason, safety).await?;
            println!(
                "{} {} is {}",
                order.channel.as_str(),
                order.id,
                order.state.as_str()
            );
        }
        Command::Outbox(OutboxCommand::List { dead }) => {
            let rows = store
                .read(move |c| outbox::list(c, dead.then_some("dead"), 200))
                .await?;
            println!(
                "{:<6} {:<9} {:<20} {:<24} {:<8} LAST ERROR",
                "ID", "STATE", "KIND", "ORDER", "ATTEMPTS"
            );
            for r in rows {
                println!(
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
        Command::Outbox(OutboxCommand::Retry { id }) => {
            let retried = store
                .write(move |tx| outbox::retry_by_hand(tx, id, &time::rfc3339(time::now())))
                .await?;
            anyhow::ensure!(retried.is_some(), "there is no outbox call {id}");
            anyhow::ensure!(retried == Some(true), "outbox call {id} is not dead");
            println!("call {id} queued again");
        }
        Command::Status => return status::run(&store, &config).await,
        Command::Jgoods(JgoodsCommand::Invoice(args)) => {
            return invoice::run(args, &config, &store).await;
        }
        Command::Backup { path } => {
            anyhow::ensure!(
                !path.exists(),
                "{} already exists; choose a new file",
                path.display()
            );
            store.backup_to(&path).await?;
            println!("backed up {} to {}", store.path().display(), path.display());
        }
        Command::Run | Command::CheckConfig { .. } | Command::Demo(_) | Command::Sim(_) => {}
    }
    Ok(())
}

fn parse_channel(s: &str) -> anyhow::Result<Channel> {
    Channel::parse(s)
        .ok_or_else(|| anyhow::anyhow!("unknown channel {s:?}; use jgoods, rakuten or direct"))
}

/// Imports a stock file (CSV or JSON by extension/content) in one transaction.
pub async fn import_file(
    store: &Store,
    file: &Path,
    encoding: Option<TextEncoding>,
    safety_stock: u32,
) -> anyhow::Result<usize> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let json = file.extension().is_some_and(|e| e == "json") || bytes.first() == Some(&b'[');
    let levels = if json {
        crate::inventory_import::parse_json(&bytes)
    } else {
        crate::inventory_import::parse_csv_as(&bytes, encoding)
    }
    .map_err(|e| {
        anyhow::anyhow!(
            "{}:{}: {}; nothing was imported",
            file.display(),
            e.line,
            e.message
        )
    })?;
    let n = levels.len();
    store
        .write(move |tx| {
            restock::set_levels(tx, &levels, safety_stock, &time::rfc3339(time::now()))
        })
        .await?;
    Ok(n)
}

/// `orders export`: the file goes to `--output` (written whole, then renamed
/// into place, so an ERP polling the path never reads half a file) or stdout.
async fn export_orders(store: &Store, args: OrdersExportArgs) -> anyhow::Result<()> {
    let since = args
        .since
        .as_deref()
        .map(|s| {
            orders_export::parse_since(s)
                .ok_or_else(|| anyhow::anyhow!("--since {s:?} is neither RFC 3339 nor YYYY-MM-DD"))
        })
        .transpose()?;
    let list = store
        .read(move |c| orders_export::load(c, since.as_deref(), orders_export::MAX_EXPORT))
        .await?;
    let (bytes, replaced) = orders_export::render(&list, args.format, args.encoding);
    if replaced > 0 {
        eprintln!(
            "ordersync: warning: {replaced} characters have no Shift_JIS form and were written as 〓"
        );
    }
    match &args.output {
        Some(path) => {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let mut tmp = tempfile::NamedTempFile::new_in(dir)
                .with_context(|| format!("cannot write in {}", dir.display()))?;
            std::io::Write::write_all(&mut tmp, &bytes)?;
            tmp.persist(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("exported {} orders to {}", list.len(), path.display());
        }
        None => std::io::Write::write_all(&mut std::io::stdout().lock(), &bytes)?,
    }
    Ok(())
}

fn print_stock(rows: &[stock::StockRow]) {
    println!(
        "{:<20} {:>8} {:>8} {:>9}  UPDATED",
        "SKU", "ON HAND", "RESERVED", "AVAILABLE"
    );
    for r in rows {
        println!(
            "{:<20} {:>8} {:>8} {:>9}  {}",
            r.sku, r.on_hand, r.reserved, r.available, r.updated_at
        );
    }
}

/// Largest order file `orders add` reads.
const MAX_ORDER_FILE: u64 = 1 << 20;

/// Reads and validates an order file for `orders add`; its payment provider
/// must be enabled (the running daemon makes the calls it queues).
fn read_direct_order(
    file: &Path,
    config: &Config,
) -> anyhow::Result<crate::domain::direct::DirectOrder> {
    use std::io::Read;
    let mut body = Vec::new();
    std::fs::File::open(file)
        .with_context(|| format!("cannot open {}", file.display()))?
        .take(MAX_ORDER_FILE + 1)
        .read_to_end(&mut body)
        .with_context(|| format!("cannot read {}", file.display()))?;
    anyhow::ensure!(
        body.len() as u64 <= MAX_ORDER_FILE,
        "{}: larger than {MAX_ORDER_FILE} bytes",
        file.display()
    );
    let order = crate::domain::direct::DirectOrder::parse(&body)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let enabled = crate::app::credit_providers(config)?;
    if let Some(p) = order.payment.deferred_provider() {
        anyhow::ensure!(
            enabled.get(p).is_some(),
            "payment: [{}] is not enabled in the config",
            p.as_str()
        );
    }
    if matches!(
        order.payment,
        crate::domain::direct::DirectPayment::Komoju { .. }
    ) {
        anyhow::ensure!(
            config.enabled_komoju().is_some(),
            "payment: [komoju] is not enabled in the config"
        );
    }
    Ok(order)
}
