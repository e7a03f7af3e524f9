//! `ordersync sellers …`: the KOMOJU Platform Model's seller master (出品者).

use clap::Subcommand;

use super::{Language, lang, one_line, pad, say};
use crate::providers::komoju::platform::apply::{self as platform, NewSeller};
use crate::providers::komoju::platform::statement::{self, Statement};
use crate::store::{Store, sellers};
use crate::wording;

#[derive(Subcommand, Debug)]
pub enum SellersCommand {
    /// Enter a seller; its KOMOJU sub-merchant is created by the daemon
    /// (or the one given with --submerchant-id is followed).
    Add {
        /// 出品者コード (letters, digits, - or _), as in the product master.
        code: String,
        /// The seller's name.
        name: String,
        /// The platform fee in basis points of the seller's sales (1000 = 10%).
        #[arg(long)]
        fee_bps: u32,
        /// The least fee per order line, in yen.
        #[arg(long)]
        fee_min_per_line: Option<i64>,
        /// An existing KOMOJU sub-merchant id.
        #[arg(long)]
        submerchant_id: Option<String>,
    },
    /// Every seller with its KOMOJU review state.
    List,
    /// One seller.
    Show {
        /// 出品者コード.
        code: String,
    },
    /// A seller's statement (精算書) for a period: sales, fees, refunds,
    /// transfers and the net, as a printable page or CSV (Shift_JIS).
    Statement {
        /// 出品者コード.
        code: String,
        /// First day: 2026-11-01 (JST).
        #[arg(long, value_parser = crate::domain::input::parse_date)]
        from: String,
        /// Last day, included: 2026-11-30 (JST).
        #[arg(long, value_parser = crate::domain::input::parse_date)]
        to: String,
        /// `html` (printable) or `csv` (Shift_JIS, CRLF).
        #[arg(long, default_value = "html")]
        format: String,
        /// Write the document here instead of standard output.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
    /// Move money between the shop's KOMOJU balance and a seller's (振替),
    /// to correct a split: to the seller, or back with --back.
    Transfer {
        /// 出品者コード.
        code: String,
        /// Yen.
        #[arg(long)]
        amount: i64,
        /// Why (kept with the transfer and shown on the statement).
        #[arg(long)]
        reason: String,
        /// From the seller back to the shop.
        #[arg(long)]
        back: bool,
    },
    /// Compare a seller's statement with KOMOJU's balance ledger for the
    /// period (exit 1 on a difference).
    Reconcile {
        /// 出品者コード.
        code: String,
        /// First day: 2026-11-01 (JST).
        #[arg(long, value_parser = crate::domain::input::parse_date)]
        from: String,
        /// Last day, included (JST).
        #[arg(long, value_parser = crate::domain::input::parse_date)]
        to: String,
    },
}

pub(super) async fn run(
    command: SellersCommand,
    store: &Store,
    config: &crate::config_file::Config,
) -> anyhow::Result<()> {
    match command {
        SellersCommand::Statement {
            code,
            from,
            to,
            format,
            output,
        } => {
            let s = statement_of(store, &code, &from, &to).await?;
            let bytes = match format.as_str() {
                "csv" => {
                    let text = statement::csv(&s, lang());
                    crate::text_encoding::encode(
                        &text,
                        crate::text_encoding::TextEncoding::ShiftJis,
                    )
                    .0
                }
                "html" => statement::html(&s, lang()).into_bytes(),
                other => anyhow::bail!("--format {other}: html / csv"),
            };
            match output {
                Some(path) => std::fs::write(&path, bytes)?,
                None => {
                    use std::io::Write;
                    std::io::stdout().write_all(&bytes)?;
                }
            }
        }
        SellersCommand::Transfer {
            code,
            amount,
            reason,
            back,
        } => {
            let Some(platform_id) = config.enabled_komoju().and_then(|k| k.platform_id.clone())
            else {
                anyhow::bail!(
                    "{}",
                    say(
                        "[komoju] platform_id(自店の KOMOJU マーチャントID)が設定されていません",
                        "[komoju] platform_id (the shop's KOMOJU merchant id) is not set"
                    )
                );
            };
            let signed = if back { -amount.abs() } else { amount.abs() };
            match platform::transfer(store, code.clone(), platform_id, signed, reason).await? {
                Ok(_) => match lang() {
                    Language::Ja if back => {
                        outln!("出品者 {code} から {}円を振替します", amount.abs())
                    }
                    Language::Ja => outln!("出品者 {code} へ {}円を振替します", amount.abs()),
                    Language::En => outln!("transfer of {signed} yen with seller {code} queued"),
                },
                Err(e) => anyhow::bail!("{}", refused(&e)),
            }
        }
        SellersCommand::Reconcile { code, from, to } => {
            return reconcile(store, config, &code, &from, &to).await;
        }
        SellersCommand::Add {
            code,
            name,
            fee_bps,
            fee_min_per_line,
            submerchant_id,
        } => {
            let new = NewSeller {
                code,
                name,
                fee_bps,
                fee_min_per_line,
                submerchant_id,
            };
            let s = match platform::add_seller(store, new).await? {
                Ok(s) => s,
                Err(e) => anyhow::bail!("{}", refused(&e)),
            };
            match lang() {
                Language::Ja => outln!(
                    "出品者 {} ({}) を登録しました。KOMOJU への登録はデーモンが行います",
                    s.code,
                    s.name
                ),
                Language::En => outln!(
                    "seller {} ({}) entered; the daemon registers it with KOMOJU",
                    s.code,
                    s.name
                ),
            }
        }
        SellersCommand::List => {
            let all = store.read(|c| sellers::list(c)).await?;
            outln!(
                "{} {} {} {} {}",
                pad(say("出品者コード", "CODE"), 14),
                pad(say("名前", "NAME"), 24),
                pad(say("審査", "REVIEW"), 16),
                pad(say("手数料", "FEE"), 16),
                say("KOMOJU 出品者ID", "KOMOJU ID")
            );
            for s in all {
                outln!(
                    "{} {} {} {} {}",
                    pad(&one_line(&s.code), 14),
                    pad(&one_line(&s.name), 24),
                    pad(&review(&s), 16),
                    pad(&fee(&s), 16),
                    s.submerchant_id.as_deref().unwrap_or("-")
                );
            }
        }
        SellersCommand::Show { code } => {
            let c = code.clone();
            let Some(s) = store.read(move |conn| sellers::get(conn, &c)).await? else {
                anyhow::bail!(
                    "{}",
                    match lang() {
                        Language::Ja => format!("出品者 {code} は登録されていません"),
                        Language::En => format!("there is no seller {code}"),
                    }
                );
            };
            outln!("{}: {}", say("出品者コード", "code"), one_line(&s.code));
            outln!("{}: {}", say("名前", "name"), one_line(&s.name));
            outln!(
                "{}: {}",
                say("KOMOJU 出品者ID", "KOMOJU id"),
                s.submerchant_id
                    .as_deref()
                    .unwrap_or(say("登録待ち", "not created yet"))
            );
            outln!("{}: {}", say("審査", "review"), review(&s));
            outln!("{}: {}", say("手数料", "fee"), fee(&s));
            if let Some(at) = &s.checked_at {
                outln!(
                    "{}: {}",
                    say("最終確認", "last checked"),
                    crate::domain::time::shown(at)
                );
            }
        }
    }
    Ok(())
}

fn refused(e: &platform::SellerRefused) -> String {
    match (lang(), e) {
        (Language::Ja, platform::SellerRefused::Exists(code)) => {
            format!("出品者 {code} はすでに登録されています")
        }
        (Language::Ja, platform::SellerRefused::Invalid(field, _)) => {
            format!("{field} の値が正しくありません")
        }
        (Language::En, e) => e.to_string(),
    }
}

/// The review state, and whether payments may be split to the seller.
fn review(s: &sellers::Seller) -> String {
    let state = wording::seller_review(lang(), &s.review_status);
    if s.is_live() {
        format!("{state} ({})", say("分配可", "live"))
    } else {
        state
    }
}

/// `10.00%` and the minimum per line.
fn fee(s: &sellers::Seller) -> String {
    let pct = format!("{}.{:02}%", s.fee_bps / 100, s.fee_bps % 100);
    match s.fee_min_per_line {
        Some(m) => match lang() {
            Language::Ja => format!("{pct} (1行 最低{m}円)"),
            Language::En => format!("{pct} (min {m} yen a line)"),
        },
        None => pct,
    }
}

/// The period's bounds: JST midnight of `from` and of the day after `to`.
fn bounds(
    from: &str,
    to: &str,
) -> anyhow::Result<(
    chrono::DateTime<chrono::FixedOffset>,
    chrono::DateTime<chrono::FixedOffset>,
)> {
    let day = |d: &str| {
        chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .and_then(|t| t.and_local_timezone(crate::domain::time::jst()).single())
    };
    let (Some(start), Some(last)) = (day(from), day(to)) else {
        anyhow::bail!("{from} / {to}");
    };
    anyhow::ensure!(
        start <= last,
        "{}",
        say(
            "期間の終わりが始まりより前です",
            "the period ends before it starts"
        )
    );
    Ok((start, last + chrono::Duration::days(1)))
}

async fn statement_of(
    store: &Store,
    code: &str,
    from: &str,
    to: &str,
) -> anyhow::Result<Statement> {
    let (start, end) = bounds(from, to)?;
    let (c, a, b) = (
        code.to_string(),
        crate::domain::time::rfc3339(start),
        crate::domain::time::rfc3339(end),
    );
    let read = store
        .read(move |conn| {
            Ok((
                sellers::get(conn, &c)?,
                sellers::bookings(conn, &c, &a, &b)?,
            ))
        })
        .await?;
    let (Some(seller), bookings) = read else {
        anyhow::bail!(
            "{}",
            match lang() {
                Language::Ja => format!("出品者 {code} は登録されていません"),
                Language::En => format!("there is no seller {code}"),
            }
        );
    };
    Ok(statement::statement(seller, from, to, bookings))
}

/// `sellers reconcile`: the statement's net against KOMOJU's ledger.
async fn reconcile(
    store: &Store,
    config: &crate::config_file::Config,
    code: &str,
    from: &str,
    to: &str,
) -> anyhow::Result<()> {
    let s = statement_of(store, code, from, to).await?;
    let Some(k) = config.enabled_komoju() else {
        anyhow::bail!(
            "{}",
            say(
                "[komoju] が有効ではありません",
                "[komoju] is not enabled in the config"
            )
        );
    };
    let Some(id) = s.seller.submerchant_id.clone() else {
        anyhow::bail!(
            "{}",
            say(
                "この出品者は KOMOJU にまだ登録されていません",
                "the seller is not at KOMOJU yet"
            )
        );
    };
    let settings = crate::providers::komoju::client::KomojuClientSettings::from_config(
        k,
        crate::call::HttpLimits::of(&config.daemon),
    )?;
    let client = crate::providers::komoju::client::KomojuClient::new(settings)?;
    let (start, end) = bounds(from, to)?;
    let komoju = client
        .ledger_net(
            &id,
            start.with_timezone(&chrono::Utc),
            end.with_timezone(&chrono::Utc),
        )
        .await?;
    let diff = komoju - s.net;
    match lang() {
        Language::Ja => {
            outln!("出品者 {} {} 〜 {}", s.seller.code, s.from, s.to);
            outln!("精算書の差引: {}円", s.net);
            outln!("KOMOJU の残高明細: {komoju}円");
        }
        Language::En => {
            outln!("seller {} {} to {}", s.seller.code, s.from, s.to);
            outln!("statement net: {} yen", s.net);
            outln!("KOMOJU ledger: {komoju} yen");
        }
    }
    if diff == 0 {
        outln!("{}", say("一致しています", "they agree"));
        return Ok(());
    }
    match lang() {
        Language::Ja => outln!("差額: {diff}円。振替や KOMOJU の管理画面で確認してください"),
        Language::En => outln!("difference: {diff} yen; check transfers and KOMOJU's dashboard"),
    }
    Err(super::NeedsAttention.into())
}
