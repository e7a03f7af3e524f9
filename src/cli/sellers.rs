//! `ordersync sellers …`: the KOMOJU Platform Model's seller master (出品者).

use clap::Subcommand;

use super::{Language, lang, one_line, pad, say};
use crate::providers::komoju::platform::apply::{self as platform, NewSeller};
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
}

pub(super) async fn run(command: SellersCommand, store: &Store) -> anyhow::Result<()> {
    match command {
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
