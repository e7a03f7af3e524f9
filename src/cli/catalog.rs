//! `ordersync catalog …`: the product master J-goods sells from.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;

use super::parse_encoding;
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
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
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
            outln!(
                "取り込みました / imported {}: 追加 {} 件, 変更 {} 件, 変更なし {} 件 (added, changed, unchanged); \
                 J-goods には次の同期で送ります / J-goods is told at the next sync",
                file.display(),
                n.added,
                n.changed,
                n.unchanged
            );
        }
        CatalogCommand::Categories(CategoriesCommand::Import { file, encoding }) => {
            let (bytes, form) = read(&file, encoding)?;
            let n = flow::import_categories(store, bytes, form).await?;
            outln!(
                "取り込みました / imported {}: 追加 {} 件, 変更 {} 件, 変更なし {} 件",
                file.display(),
                n.added,
                n.changed,
                n.unchanged
            );
        }
        CatalogCommand::Withdraw { skus } => {
            let now = crate::domain::time::rfc3339(crate::domain::time::now());
            let n = store
                .write(move |tx| catalog::withdraw(tx, &skus, &now))
                .await?;
            outln!(
                "取り下げました / withdrew {n} item(s) from the master; J-goods stops selling them at the next sync"
            );
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
                "{:<20} {:>8} {:>6} {:<8} 商品名 / NAME",
                "SKU",
                "PRICE",
                "WEIGHT",
                "J-GOODS"
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
                        (Some(_), _) => "refused",
                        (None, true) => "ok",
                        (None, false) => "owed",
                    };
                    outln!(
                        "{}",
                        super::one_line(&format!(
                            "{:<20} {:>8} {:>6} {:<8} {}",
                            v.item.sku,
                            v.item.price,
                            v.item.weight_g.map_or("-".to_string(), |w| w.to_string()),
                            state,
                            v.item.name
                        ))
                    );
                }
            }
        }
        CatalogCommand::Show { sku } => {
            let key = sku.clone();
            let Some(v) = store.read(move |c| catalog::get(c, "jgoods", &key)).await? else {
                anyhow::bail!("商品マスタにありません / no item {sku} in the master");
            };
            outln!("{}", serde_json::to_string_pretty(&v.item)?);
            match (&v.refusal, v.in_step) {
                (Some(why), _) => outln!("J-goods: 受け付けられませんでした / refused: {why}"),
                (None, true) => outln!("J-goods: 同期済み / in step"),
                (None, false) => outln!("J-goods: 未送信 / owed (sent at the next sync)"),
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
        outln!("差分はありません / the master and J-goods agree");
        return;
    }
    for sku in &d.missing {
        outln!("未登録 / missing at J-goods: {sku}");
    }
    for (sku, fields) in &d.differing {
        outln!("内容が違う / differs: {sku} ({})", fields.join(", "));
    }
    for code in &d.only_at_jgoods {
        outln!("J-goods だけにある / only at J-goods: {code} (取り下げはしません / not withdrawn)");
    }
    for code in &d.categories {
        outln!("カテゴリが違う / category differs or is missing: {code}");
    }
    for code in &d.categories_only_at_jgoods {
        outln!("J-goods だけにあるカテゴリ / category only at J-goods: {code}");
    }
}

pub(super) async fn run_jgoods(
    command: JgoodsCatalogCommand,
    store: &Store,
    config: &crate::config_file::Config,
) -> anyhow::Result<()> {
    let client = crate::app::workers::jgoods_client(config)?.ok_or_else(|| {
        anyhow::anyhow!("[jgoods] が有効ではありません / [jgoods] is not enabled")
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
    outln!(
        "送りました / sent: カテゴリ {} 件, 登録 {} 件, 更新 {} 件, 断られた {} 件, 取り下げ {} 件 (categories, registered, updated, refused, withdrawn)",
        r.categories,
        r.registered,
        r.updated,
        r.refused,
        r.withdrawn
    );
    Ok(())
}
