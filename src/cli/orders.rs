//! `ordersync orders …`: list, show, ship, register, export and cancel orders.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};

use super::{Language, lang, order_text, pad, parse_encoding, say};
use crate::config_file::Config;
use crate::domain::{Channel, OrderState, time};
use crate::orders_export::{self, ExportFormat};
use crate::providers::komoju::refund_request::BankAccount;
use crate::store::orders::OrderFilter;
use crate::store::{Store, events, orders};
use crate::text_encoding::TextEncoding;
use crate::wording;

#[derive(Subcommand, Debug)]
pub enum OrdersCommand {
    /// List orders.
    List(OrdersListArgs),
    /// Show one order: its lines, payment and shipments, then its history
    /// as sentences (`--json`: the order resource and its raw events).
    Show {
        channel: String,
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Record a shipment (and report it to the channel where it needs one).
    Ship {
        channel: String,
        id: String,
        /// yamato, sagawa, japanpost, seino, fukuyama, nittsu, meitetsu, tonami, ecohai or other.
        #[arg(long)]
        carrier: String,
        #[arg(long)]
        tracking: String,
        /// Ship date: 2026-12-03 or 2026/12/03 (default: today in Japan).
        #[arg(long, value_parser = crate::domain::input::parse_date)]
        date: Option<String>,
        /// Domestic shipping cost in yen, tax included (J-goods may be invoiced
        /// for it): 800, 1,200 or 1,200円.
        #[arg(long, value_parser = crate::domain::input::parse_amount)]
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
    /// Acknowledge an order's attention: the flag is cleared until something
    /// new needs a person, and the history keeps who, what and the note.
    Ack {
        channel: String,
        id: String,
        /// What was done about it.
        #[arg(long, default_value = "")]
        note: String,
        /// Who acknowledges (default: the user running the command).
        #[arg(long)]
        by: Option<String>,
    },
    /// Cancel an order on the merchant's side (stock goes back). A paid
    /// KOMOJU konbini, bank-transfer or Pay-easy order is refunded by a
    /// refund request: give the customer's bank account with `--bank-…`
    /// (again later, once the order waits for it).
    Cancel {
        channel: String,
        id: String,
        #[arg(long, default_value = "")]
        reason: String,
        #[command(flatten)]
        bank: BankAccountArgs,
    },
}

/// The customer's bank account for a KOMOJU refund request (返金口座).
#[derive(Args, Debug, Default)]
pub struct BankAccountArgs {
    /// 口座名義 in katakana, as registered at the bank.
    #[arg(long)]
    pub bank_customer_name: Option<String>,
    /// 銀行名.
    #[arg(long)]
    pub bank_name: Option<String>,
    /// 銀行コード (4 digits).
    #[arg(long)]
    pub bank_code: Option<String>,
    /// 支店名.
    #[arg(long)]
    pub bank_branch_name: Option<String>,
    /// 支店番号 (3 digits).
    #[arg(long)]
    pub bank_branch_number: Option<String>,
    /// 預金種目 as KOMOJU names it (normal = 普通).
    #[arg(long)]
    pub bank_account_type: Option<String>,
    /// 口座番号 (7 digits).
    #[arg(long)]
    pub bank_account_number: Option<String>,
    /// Also return the customer's konbini or bank fee.
    #[arg(long)]
    pub bank_include_fee: bool,
}

impl BankAccountArgs {
    /// The account, when any `--bank-…` option was given; the error names the option.
    fn account(self) -> anyhow::Result<Option<BankAccount>> {
        use crate::providers::komoju::refund_request::{Digits, RawBankAccount};
        let given = self.bank_customer_name.is_some()
            || self.bank_name.is_some()
            || self.bank_code.is_some()
            || self.bank_branch_name.is_some()
            || self.bank_branch_number.is_some()
            || self.bank_account_type.is_some()
            || self.bank_account_number.is_some()
            || self.bank_include_fee;
        if !given {
            return Ok(None);
        }
        let raw = RawBankAccount {
            customer_name: self.bank_customer_name,
            bank_name: self.bank_name,
            bank_code: self.bank_code.map(Digits::Text),
            branch_name: self.bank_branch_name,
            branch_number: self.bank_branch_number.map(Digits::Text),
            account_type: self.bank_account_type,
            account_number: self.bank_account_number.map(Digits::Text),
            include_payment_method_fee: Some(self.bank_include_fee),
        };
        raw.validate().map(Some).map_err(|e| {
            let option = match e.field {
                "customer_name" => "--bank-customer-name",
                "bank_name" => "--bank-name",
                "bank_code" => "--bank-code",
                "branch_name" => "--bank-branch-name",
                "branch_number" => "--bank-branch-number",
                "account_type" => "--bank-account-type",
                _ => "--bank-account-number",
            };
            anyhow::anyhow!("{option}: {}", e.message)
        })
    }
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
    /// Only orders updated at or after this: RFC 3339, or a date (2026-12-01,
    /// 2026/12/01) meaning midnight in Japan.
    #[arg(long, value_parser = crate::domain::input::parse_since)]
    pub since: Option<String>,
    /// Write here instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// CSV text encoding: utf8 (with a BOM, the default) or sjis (Shift_JIS/CP932).
    #[arg(long, default_value = "utf8", value_parser = parse_encoding)]
    pub encoding: TextEncoding,
}

fn parse_format(s: &str) -> Result<ExportFormat, String> {
    ExportFormat::parse(s).ok_or_else(|| format!("unknown format {s:?}; use csv or json"))
}

pub(super) async fn run(
    command: OrdersCommand,
    store: &Store,
    config: &Config,
) -> anyhow::Result<()> {
    match command {
        OrdersCommand::List(a) => list_orders(store, a).await?,
        OrdersCommand::Export(args) => export_orders(store, args).await?,
        OrdersCommand::Show { channel, id, json } => {
            show_order(store, &channel, id, json, config.daemon.language).await?
        }
        OrdersCommand::Ship {
            channel,
            id,
            carrier,
            tracking,
            date,
            shipping_cost,
        } => {
            let ch = parse_channel(&channel)?;
            let date = date.unwrap_or_else(|| time::now().format("%Y-%m-%d").to_string());
            let req = crate::http::admin::parse_shipment(&carrier, &tracking, &date, shipping_cost)
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            let policy = crate::app::payment_policy(config);
            let order = crate::flows::erp::ship(store, ch, id, req, policy).await?;
            print_result(&order);
        }
        OrdersCommand::Add { file } => add_order(store, config, &file).await?,
        OrdersCommand::Ack {
            channel,
            id,
            note,
            by,
        } => {
            let ch = parse_channel(&channel)?;
            let by = by.unwrap_or_else(super::operator);
            crate::flows::attention::acknowledge(store, ch, id.clone(), &by, &note).await?;
            let name = wording::channel(lang(), ch);
            match lang() {
                Language::Ja => outln!("{name} {id} を確認済みにしました"),
                Language::En => outln!("acknowledged {name} {id}"),
            }
        }
        OrdersCommand::Cancel {
            channel,
            id,
            reason,
            bank,
        } => {
            let ch = parse_channel(&channel)?;
            let account = bank.account()?;
            let order =
                crate::flows::erp::cancel_with_account(store, ch, id, reason, account).await?;
            print_result(&order);
            if let Some(r) = refund_request_of(store, &order).await? {
                outln!(
                    "{}: {}",
                    say("返金申請", "refund request"),
                    wording::pick(lang(), &r)
                );
            }
        }
    }
    Ok(())
}

/// The order's state after a command, and what it still waits for.
fn print_result(order: &crate::domain::Order) {
    let l = lang();
    let (name, state) = (
        wording::channel(l, order.channel),
        wording::order_state_of(l, order),
    );
    let payment = wording::payment_state(l, order.payment_state);
    match l {
        Language::Ja => outln!("{name} {}: {state}(支払い: {payment})", order.id),
        Language::En => outln!("{name} {} is {state} (payment: {payment})", order.id),
    }
    if let Some(why) = &order.attention {
        outln!("{}: {}", say("要対応", "attention"), wording::pick(l, why));
    }
}

/// Where the order's KOMOJU refund request stands, in the merchant's words.
async fn refund_request_of(
    store: &Store,
    order: &crate::domain::Order,
) -> anyhow::Result<Option<String>> {
    let (ch, id) = (order.channel.as_str().to_string(), order.id.clone());
    let r = store
        .read(move |c| crate::store::komoju_refund_requests::load(c, &ch, &id))
        .await?;
    Ok(r.as_ref()
        .map(crate::providers::komoju::refund_flow::describe))
}

/// `orders list`: one line per order.
async fn list_orders(store: &Store, a: OrdersListArgs) -> anyhow::Result<()> {
    let filter = OrderFilter {
        channel: a.channel.as_deref().map(parse_channel).transpose()?,
        state: a
            .state
            .as_deref()
            .map(|s| {
                OrderState::parse(s).ok_or_else(|| {
                    anyhow::anyhow!(
                        "{} {s:?}: new, allocated, short, confirmed, shipped, cancelled",
                        say("受注状態が違います", "unknown state")
                    )
                })
            })
            .transpose()?,
        attention: a.attention,
        limit: a.limit,
        after: None,
    };
    let list = store.read(move |c| orders::list(c, &filter)).await?;
    let l = lang();
    outln!(
        "{} {} {} {} {}",
        pad(say("販売先", "CHANNEL"), 10),
        pad(say("受注番号", "ID"), 28),
        pad(say("状態", "STATE"), 10),
        pad(say("支払い", "PAYMENT"), 18),
        say("要対応", "ATTENTION")
    );
    for o in list {
        outln!(
            "{} {} {} {} {}",
            pad(wording::channel(l, o.channel), 10),
            pad(&super::one_line(&o.id), 28),
            pad(wording::order_state_of(l, &o), 10),
            pad(wording::payment_state(l, o.payment_state), 18),
            super::one_line(wording::pick(l, o.attention.as_deref().unwrap_or("")))
        );
    }
    Ok(())
}

/// Newest events `orders show` prints; the older ones are counted.
const SHOWN_EVENTS: u32 = 200;

/// `orders show`: the order as stored and its newest events.
async fn show_order(
    store: &Store,
    channel: &str,
    id: String,
    json: bool,
    lang: crate::config::Language,
) -> anyhow::Result<()> {
    let ch = parse_channel(channel)?;
    let (order, history) = store
        .read(move |c| {
            Ok((
                orders::load(c, ch, &id)?,
                events::recent_for_order(c, ch.as_str(), &id, SHOWN_EVENTS)?,
            ))
        })
        .await?;
    let order = order.ok_or_else(|| match lang {
        Language::Ja => anyhow::anyhow!(
            "{} にその受注番号の受注はありません",
            wording::channel(lang, ch)
        ),
        Language::En => anyhow::anyhow!("no {channel} order with that id"),
    })?;
    let evs = &history.events;
    if json {
        let events: Vec<_> = evs
            .iter()
            .map(
                |e| serde_json::json!({"id": e.id, "at": e.at, "kind": e.kind, "detail": e.detail}),
            )
            .collect();
        let both = serde_json::json!({"order": order, "events": events, "earlier_events": history.earlier});
        outln!("{}", serde_json::to_string_pretty(&both)?);
        return Ok(());
    }
    for line in order_text::summary(lang, &order) {
        outln!("{}", super::one_line(&line));
    }
    if let Some(r) = refund_request_of(store, &order).await? {
        outln!(
            "{}: {}",
            say("返金申請", "refund request"),
            wording::pick(lang, &r)
        );
    }
    outln!("\n{}:", say("経緯", "history"));
    if history.earlier > 0 {
        let n = history.earlier;
        match lang {
            Language::Ja => outln!("  (これより前の経緯 {n} 件は省略)"),
            Language::En => outln!("  ({n} earlier events not shown)"),
        }
    }
    for e in evs {
        let event = serde_json::json!({"kind": e.kind, "channel": e.channel, "detail": e.detail});
        outln!(
            "  {}  {}",
            time::shown(&e.at),
            super::one_line(&crate::engine::sentences::describe_in(lang, &event))
        );
    }
    Ok(())
}

/// `orders add`: registers a direct order from a JSON file.
async fn add_order(store: &Store, config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    let order = crate::flows::direct::register(store, read_direct_order(file, config)?).await?;
    let (verb, order) = match order {
        crate::flows::direct::Registered::Created(o) => (say("登録しました", "registered"), o),
        crate::flows::direct::Registered::Same(o) => {
            (say("登録済みです(同じ内容)", "already registered"), o)
        }
        crate::flows::direct::Registered::Conflict(_) => anyhow::bail!(
            "{}",
            say(
                "この受注番号は別の内容で登録済みです",
                "an order with this id was registered with different content"
            )
        ),
    };
    outln!(
        "{} {}: {verb}",
        wording::channel(lang(), order.channel),
        order.id
    );
    print_result(&order);
    Ok(())
}

fn parse_channel(s: &str) -> anyhow::Result<Channel> {
    Channel::parse(s).ok_or_else(|| {
        anyhow::anyhow!(
            "{} {s:?}: jgoods, rakuten, direct",
            say("販売先が違います", "unknown channel")
        )
    })
}

/// `orders export`: the file goes to `--output` (written whole, then renamed
/// into place, so an ERP polling the path never reads half a file) or stdout.
async fn export_orders(store: &Store, args: OrdersExportArgs) -> anyhow::Result<()> {
    let since = args
        .since
        .as_deref()
        .map(|s| {
            orders_export::parse_since(s).ok_or_else(|| {
                anyhow::anyhow!(
                    "--since {s:?}: {}",
                    say(
                        "RFC 3339 か YYYY-MM-DD で指定してください",
                        "is neither RFC 3339 nor YYYY-MM-DD"
                    )
                )
            })
        })
        .transpose()?;
    let list = store
        .read(move |c| orders_export::load(c, since.as_deref(), orders_export::MAX_EXPORT))
        .await?;
    let (bytes, replaced) = orders_export::render(&list, args.format, args.encoding);
    if replaced > 0 {
        errln!(
            "ordersync: {}",
            match lang() {
                Language::Ja =>
                    format!("警告: Shift_JIS にない文字 {replaced} 文字を 〓 で書き出しました"),
                Language::En => format!(
                    "warning: {replaced} characters have no Shift_JIS form and were written as 〓"
                ),
            }
        );
    }
    match &args.output {
        Some(path) => {
            crate::private_files::write_atomic(path, &bytes)
                .with_context(|| super::about_file(super::FileVerb::Write, path))?;
            let n = wording::orders(lang(), list.len() as i64);
            match lang() {
                Language::Ja => errln!("{} に受注 {n} を書き出しました", path.display()),
                Language::En => errln!("exported {n} to {}", path.display()),
            }
        }
        None => std::io::Write::write_all(&mut std::io::stdout().lock(), &bytes)?,
    }
    Ok(())
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
        .with_context(|| super::about_file(super::FileVerb::Open, file))?
        .take(MAX_ORDER_FILE + 1)
        .read_to_end(&mut body)
        .with_context(|| super::about_file(super::FileVerb::Read, file))?;
    anyhow::ensure!(
        body.len() as u64 <= MAX_ORDER_FILE,
        "{}: larger than {MAX_ORDER_FILE} bytes",
        file.display()
    );
    let order = crate::domain::direct::DirectOrder::parse(&body)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let enabled = config.enabled_credit_providers();
    if let Some(p) = order.payment.deferred_provider() {
        anyhow::ensure!(
            enabled.contains(&p),
            "{}: [{}] {}",
            say("支払い", "payment"),
            p.as_str(),
            say(
                "が設定で有効になっていません",
                "is not enabled in the config"
            )
        );
    }
    if matches!(
        order.payment,
        crate::domain::direct::DirectPayment::Komoju { .. }
    ) {
        anyhow::ensure!(
            config.enabled_komoju().is_some(),
            "{}: [komoju] {}",
            say("支払い", "payment"),
            say(
                "が設定で有効になっていません",
                "is not enabled in the config"
            )
        );
    }
    Ok(order)
}
