//! `ordersync catalog …`: the product master J-goods sells from.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;

use super::{pad, parse_encoding, say};
use crate::flows::catalog::{self as flow, Form};
use crate::store::{Store, catalog};
use crate::text_encoding::TextEncoding;

#[derive(Subcommand, Debug)]
pub enum CatalogCommand {
    /// Import the item master: a CSV as the ERP exports it (商品コード,
    /// 商品名, 販売価格(税込), 税率, JANコード, 重量(g), カテゴリ, 商品説明,
    /// 画像URL, 中古, 販売中) or a JSON array; all or nothing.
    Import {
        file: PathBuf,
        /// Text encoding of a CSV file: utf8 or sjis. Default: detected.
        #[arg(long, value_parser = parse_encoding)]
        encoding: Option<TextEncoding>,
    },
    /// The items of the master, and whether J-goods holds each as it is.
    List,
    /// One item, with J-goods' refusal if it refused it.
    Show { sku: String },
    /// Withdraw items from sale: removed from the master and, at the next
    /// sync, from J-goods (`DELETE /item.json`). An item merely missing from
    /// a later file is never withdrawn.
    Withdraw {
        #[arg(required = true)]
        skus: Vec<String>,
    },
    /// The category master.
    #[command(subcommand)]
    Categories(CategoriesCommand),
}

#[derive(Subcommand, Debug)]
pub enum CategoriesCommand {
    /// Import categories (カテゴリコード, カテゴリ名, 親カテゴリ), checked as a tree.
    Import {
        file: PathBuf,
        #[arg(long, value_parser = parse_encoding)]
        encoding: Option<TextEncoding>,
    },
    /// The categories of the master.
    List,
}

fn read(file: &Path, encoding: Option<TextEncoding>) -> anyhow::Result<(Vec<u8>, Form)> {
    let bytes =
        std::fs::read(file).with_context(|| super::about_file(super::FileVerb::Read, file))?;
    let json = file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let form = Form::guess(&bytes, json, encoding);
    Ok((bytes, form))
}

pub(super) async fn run(command: CatalogCommand, store: &Store) -> anyhow::Result<()> {
    match command {
        CatalogCommand::Import { file, encoding } => {
            let (bytes, form) = read(&file, encoding)?;
            let n = flow::import_items(store, bytes, form).await?;
            let (file, added, changed, same) = (file.display(), n.added, n.changed, n.unchanged);
            match super::lang() {
                crate::config::Language::Ja => outln!(
                    "{file} を取り込みました: 追加 {added} 件、変更 {changed} 件、変更なし {same} 件。J-goods には次の同期で送ります"
                ),
                crate::config::Language::En => outln!(
                    "imported {file}: {added} added, {changed} changed, {same} unchanged; J-goods is told at the next sync"
                ),
            }
        }
        CatalogCommand::Categories(CategoriesCommand::Import { file, encoding }) => {
            let (bytes, form) = read(&file, encoding)?;
            let n = flow::import_categories(store, bytes, form).await?;
            let (file, added, changed, same) = (file.display(), n.added, n.changed, n.unchanged);
            match super::lang() {
                crate::config::Language::Ja => outln!(
                    "{file} を取り込みました: 追加 {added} 件、変更 {changed} 件、変更なし {same} 件"
                ),
                crate::config::Language::En => {
                    outln!("imported {file}: {added} added, {changed} changed, {same} unchanged")
                }
            }
        }
        CatalogCommand::Withdraw { skus } => {
            let now = crate::domain::time::rfc3339(crate::domain::time::now());
            let n = store
                .write(move |tx| catalog::withdraw(tx, &skus, &now))
                .await?;
            match super::lang() {
                crate::config::Language::Ja => outln!(
                    "{n} 件を商品マスタから取り下げました。J-goods では次の同期で販売を止めます"
                ),
                crate::config::Language::En => outln!(
                    "withdrew {n} item(s) from the master; J-goods stops selling them at the next sync"
                ),
            }
        }
        CatalogCommand::Categories(CategoriesCommand::List) => {
            for c in store.read(|c| catalog::categories(c)).await? {
                outln!(
                    "{}",
                    super::one_line(&format!(
                        "{:<32} {:<32} {}",
                        c.code,
                        c.parent_code.as_deref().unwrap_or("-"),
                        c.name
                    ))
                );
            }
        }
        CatalogCommand::List => {
            let mut after = String::new();
            outln!(
                "{:<20} {}{}{} {}",
                "SKU",
                pad(say("   価格", "   PRICE"), 9),
                pad(say("重量(g)", "WEIGHT"), 7),
                pad("J-goods", 10),
                say("商品名", "NAME")
            );
            loop {
                let from = after.clone();
                let page = store
                    .read(move |c| catalog::list(c, "jgoods", &from, 1000))
                    .await?;
                let Some(last) = page.last() else { break };
                after = last.item.sku.clone();
                for v in &page {
                    let state = match (&v.refusal, v.in_step) {
                        (Some(_), _) => say("受付拒否", "refused"),
                        (None, true) => say("同期済み", "ok"),
                        (None, false) => say("未送信", "owed"),
                    };
                    outln!(
                        "{}",
                        super::one_line(&format!(
                            "{:<20} {:>8} {:>6} {} {}",
                            v.item.sku,
                            v.item.price,
                            v.item.weight_g.map_or("-".to_string(), |w| w.to_string()),
                            pad(state, 10),
                            v.item.name
                        ))
                    );
                }
            }
        }
        CatalogCommand::Show { sku } => {
            let key = sku.clone();
            let Some(v) = store.read(move |c| catalog::get(c, "jgoods", &key)).await? else {
                anyhow::bail!(
                    "{}",
                    match super::lang() {
                        crate::config::Language::Ja => format!("{sku} は商品マスタにありません"),
                        crate::config::Language::En => format!("no item {sku} in the master"),
                    }
                );
            };
            outln!("{}", serde_json::to_string_pretty(&v.item)?);
            match (&v.refusal, v.in_step) {
                (Some(why), _) => outln!(
                    "J-goods: {} {why}",
                    say("受け付けられませんでした:", "refused:")
                ),
                (None, true) => outln!("J-goods: {}", say("同期済み", "in step")),
                (None, false) => outln!(
                    "J-goods: {}",
                    say("未送信(次の同期で送ります)", "owed (sent at the next sync)")
                ),
            }
        }
    }
    Ok(())
}

#[derive(Subcommand, Debug)]
pub enum JgoodsCatalogCommand {
    /// Compare the master with what J-goods holds (items and categories);
    /// exit 1 when they differ.
    Diff {
        /// Send what differs now: missing items registered, differing ones
        /// updated (items only at J-goods are left alone).
        #[arg(long)]
        apply: bool,
    },
}

fn print_diff(d: &crate::catalog::diff::CatalogDiff) {
    if d.is_empty() {
        outln!(
            "{}",
            say("差分はありません", "the master and J-goods agree")
        );
        return;
    }
    for sku in &d.missing {
        outln!("{} {sku}", say("J-goods に未登録:", "missing at J-goods:"));
    }
    for (sku, fields) in &d.differing {
        outln!(
            "{} {sku} ({})",
            say("内容が違います:", "differs:"),
            fields.join(", ")
        );
    }
    for code in &d.only_at_jgoods {
        outln!(
            "{} {code} {}",
            say("J-goods だけにあります:", "only at J-goods:"),
            say("(取り下げはしません)", "(not withdrawn)")
        );
    }
    for code in &d.categories {
        outln!(
            "{} {code}",
            say(
                "カテゴリが違うか、ありません:",
                "category differs or is missing:"
            )
        );
    }
    for code in &d.categories_only_at_jgoods {
        outln!(
            "{} {code}",
            say("J-goods だけにあるカテゴリ:", "category only at J-goods:")
        );
    }
}

pub(super) async fn run_jgoods(
    command: JgoodsCatalogCommand,
    store: &Store,
    config: &crate::config_file::Config,
) -> anyhow::Result<()> {
    let client = crate::app::workers::jgoods_client(config)?.ok_or_else(|| {
        anyhow::anyhow!(
            "{}",
            say("[jgoods] が有効ではありません", "[jgoods] is not enabled")
        )
    })?;
    let JgoodsCatalogCommand::Diff { apply } = command;
    if !apply {
        let d = flow::diff(store, &client).await?;
        print_diff(&d);
        return match d.is_empty() {
            true => Ok(()),
            false => Err(super::NeedsAttention.into()),
        };
    }
    let d = flow::owe_differences(store, &client).await?;
    print_diff(&d);
    let sync = crate::providers::jgoods::catalog_sync::CatalogSync {
        ctx: crate::worker::WorkerContext::standalone(store.clone()),
        client,
        interval: std::time::Duration::ZERO,
        poke: Default::default(),
    };
    let r = sync.round().await?;
    let (c, reg, upd, refused, gone) = (
        r.categories,
        r.registered,
        r.updated,
        r.refused,
        r.withdrawn,
    );
    match super::lang() {
        crate::config::Language::Ja => outln!(
            "送りました: カテゴリ {c} 件、登録 {reg} 件、更新 {upd} 件、受付拒否 {refused} 件、取り下げ {gone} 件"
        ),
        crate::config::Language::En => outln!(
            "sent: {c} categories, {reg} registered, {upd} updated, {refused} refused, {gone} withdrawn"
        ),
    }
    Ok(())
}
