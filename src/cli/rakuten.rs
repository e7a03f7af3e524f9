//! `ordersync rakuten …`: Rakuten's SKU map.

use clap::Subcommand;

use super::{Language, lang, say};
use crate::config_file::Config;
use crate::metrics::Metrics;
use crate::providers::rakuten_pay::inventory::InventoryClient;
use crate::providers::rakuten_pay::stock_push::RakutenStock;
use crate::store::{Store, kv, rakuten_skus};
use crate::wording::pick;

/// Rows each list shows at most.
const LIST_LIMIT: u32 = 200;

#[derive(Subcommand, Debug)]
pub enum RakutenCommand {
    /// The SKU map: mirror SKUs not at Rakuten, Rakuten variants the mirror does
    /// not know, pairs Rakuten does not hold (楽天SKU対応表).
    Skus,
    /// Learn the SKU map from items.search now (the daemon does it at start-up and daily).
    SyncSkus,
}

pub async fn run(command: RakutenCommand, store: &Store, config: &Config) -> anyhow::Result<()> {
    match command {
        RakutenCommand::Skus => show(store).await,
        RakutenCommand::SyncSkus => {
            let Some(r) = config.enabled_rakuten_pay() else {
                anyhow::bail!(
                    "{}",
                    say(
                        "[rakuten_pay] が有効ではありません",
                        "[rakuten_pay] is not enabled in the config"
                    )
                );
            };
            let client =
                InventoryClient::from_config(r, crate::call::HttpLimits::of(&config.daemon))?;
            let channel = RakutenStock::new(
                store.clone(),
                client,
                std::sync::Arc::new(Metrics::new()),
                r.sku_preference.clone(),
                r.stock_buffer,
            );
            let report = channel.sync_skus().await?;
            let (items, pairs, skipped, without) = (
                report.items,
                report.pairs,
                report.skipped,
                report.without_sku,
            );
            match lang() {
                Language::Ja => outln!(
                    "楽天の商品 {items} 件から SKU対応 {pairs} 件を取得しました(在庫設定なし・削除済み {skipped} 件、SKUなしのバリエーション {without} 件)"
                ),
                Language::En => outln!(
                    "learnt {pairs} pairs from {items} items ({skipped} skipped, {without} variants without a SKU)"
                ),
            }
            if !report.gained.is_empty() {
                outln!(
                    "{}: {}",
                    say("新たに楽天へ在庫を送る SKU", "SKUs now pushed to Rakuten"),
                    report.gained.len()
                );
            }
            show(store).await
        }
    }
}

async fn show(store: &Store) -> anyhow::Result<()> {
    let (report, synced_at) = store
        .read(|c| {
            Ok((
                rakuten_skus::report(c, LIST_LIMIT)?,
                kv::get(c, crate::providers::rakuten_pay::skus::SYNCED_AT_KEY)?,
            ))
        })
        .await?;
    let synced = synced_at
        .as_deref()
        .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
        .map_or_else(
            || say("まだありません", "never").to_string(),
            |at| {
                at.with_timezone(&crate::domain::time::jst())
                    .format("%Y-%m-%d %H:%M JST")
                    .to_string()
            },
        );
    let since = say("から", "since");
    match lang() {
        Language::Ja => outln!(
            "楽天SKU対応: {} 組(最後の items.search: {synced})",
            report.pairs
        ),
        Language::En => outln!(
            "Rakuten SKU map: {} pairs (items.search: {synced})",
            report.pairs
        ),
    }
    outln!(
        "{}: {}",
        say("楽天にないミラーのSKU", "mirror SKUs not at Rakuten"),
        report.not_at_rakuten_total
    );
    for sku in &report.not_at_rakuten {
        outln!("  {sku}");
    }
    outln!(
        "{}: {}",
        say(
            "ミラーにない楽天のSKU",
            "Rakuten variants the mirror does not know"
        ),
        report.not_in_mirror_total
    );
    for p in &report.not_in_mirror {
        outln!("  {}  ({} / {})", p.sku, p.manage_number, p.variant_id);
    }
    outln!(
        "{}: {}",
        say("楽天が保持していない組", "pairs Rakuten does not hold"),
        report.not_held.len()
    );
    for (p, at) in &report.not_held {
        outln!(
            "  {}  ({} / {}) {since} {at}",
            p.sku,
            p.manage_number,
            p.variant_id
        );
    }
    outln!(
        "{}: {}",
        say(
            "楽天が拒否した組(商品が変わるまで送りません)",
            "entries Rakuten refused (not sent until the item changes)"
        ),
        report.refused.len()
    );
    for r in &report.refused {
        outln!(
            "  {}  ({} / {}) {} {since} {}: {}",
            r.pair.sku,
            r.pair.manage_number,
            r.pair.variant_id,
            r.code,
            r.since,
            pick(lang(), &r.fix)
        );
    }
    outln!(
        "{}: {}",
        say("在庫を送らない商品", "items whose stock is not pushed"),
        report.not_pushed.len()
    );
    for (p, item_type) in &report.not_pushed {
        let why = crate::providers::rakuten_pay::refusals::not_pushed_reason(item_type)
            .unwrap_or(item_type.as_str());
        outln!(
            "  {}  ({} / {}) {}",
            p.sku,
            p.manage_number,
            p.variant_id,
            pick(lang(), why)
        );
    }
    Ok(())
}
