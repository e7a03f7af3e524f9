//! The SKU map: which (`manageNumber`, `variantId`) pairs sell each merchant
//! SKU at Rakuten, learnt from `items.search` (at start-up, daily and on
//! `ordersync rakuten sync-skus`) with the same `sku_preference` as order
//! lines. Items without stock management (`unlimitedInventoryFlag`) and
//! deleted items (listed with their `manageNumber` alone) have no pair.

use crate::call::CallError;
use crate::domain::{Channel, time};
use crate::providers::pacer::Pacer;
use crate::providers::rakuten_pay::config::SkuSource;
use crate::providers::rakuten_pay::inventory::InventoryClient;
use crate::providers::rakuten_pay::inventory::wire::SearchItem;
use crate::store::rakuten_skus::{self, SkuPair};
use crate::store::{Store, kv, stock_push};

/// When the map was last learnt (RFC 3339).
pub const SYNCED_AT_KEY: &str = "rakuten.skus.synced_at";
/// Search pages read in one sync at most (100 items each).
const MAX_PAGES: usize = 10_000;

/// What one sync learnt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Items listed by the search.
    pub items: usize,
    /// Items skipped: no stock management, or deleted.
    pub skipped: usize,
    /// Pairs in the map now.
    pub pairs: usize,
    /// Variants without a merchant SKU under `sku_preference`.
    pub without_sku: usize,
    /// SKUs that gained a pair, owed a push.
    pub gained: Vec<String>,
}

/// The pairs of a page of items (pure).
pub fn pairs_of(
    items: &[SearchItem],
    preference: &[SkuSource],
    report: &mut SyncReport,
) -> Vec<SkuPair> {
    let mut pairs = Vec::new();
    for item in items {
        report.items += 1;
        if item.unlimited_inventory || item.variants.is_empty() {
            report.skipped += 1;
            continue;
        }
        for (variant_id, variant) in &item.variants {
            let sku = preference.iter().find_map(|source| {
                let candidate = match source {
                    SkuSource::MerchantDefinedSkuId => variant.merchant_defined_sku_id.as_deref(),
                    SkuSource::ItemNumber => item.item_number.as_deref(),
                    SkuSource::ManageNumber => Some(item.manage_number.as_str()),
                };
                candidate.map(str::trim).filter(|s| !s.is_empty())
            });
            match sku {
                Some(sku) => pairs.push(SkuPair {
                    sku: sku.to_string(),
                    manage_number: item.manage_number.to_ascii_lowercase(),
                    variant_id: variant_id.clone(),
                }),
                None => report.without_sku += 1,
            }
        }
    }
    pairs
}

/// Reads every page of `items.search` and makes the map what it lists; the
/// SKUs that gained a pair are owed to Rakuten in the same transaction.
pub async fn sync(
    store: &Store,
    client: &InventoryClient,
    pacer: &Pacer,
    preference: &[SkuSource],
) -> Result<SyncReport, CallError> {
    let mut report = SyncReport::default();
    let mut pairs = Vec::new();
    let mut cursor = "*".to_string();
    for _ in 0..MAX_PAGES {
        pacer.wait().await;
        let page = client.search_items(&cursor).await?;
        let items: Vec<SearchItem> = page.results.into_iter().map(|r| r.item).collect();
        pairs.extend(pairs_of(&items, preference, &mut report));
        if page.next_cursor_mark == cursor || items.is_empty() {
            break;
        }
        cursor = page.next_cursor_mark;
    }
    report.pairs = pairs.len();
    let gained = store
        .write(move |tx| {
            let gained = rakuten_skus::replace(tx, &pairs)?;
            stock_push::owe(tx, Channel::Rakuten, &gained)?;
            let now = time::rfc3339(time::now());
            kv::set(tx, SYNCED_AT_KEY, &now, &now)?;
            Ok(gained)
        })
        .await?;
    report.gained = gained;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::providers::rakuten_pay::inventory::wire::SearchVariant;

    fn item(manage: &str, variants: &[(&str, Option<&str>)]) -> SearchItem {
        SearchItem {
            manage_number: manage.into(),
            item_number: Some(format!("no-{manage}")),
            unlimited_inventory: false,
            variants: variants
                .iter()
                .map(|(id, sku)| {
                    let v = SearchVariant {
                        merchant_defined_sku_id: sku.map(str::to_string),
                    };
                    (id.to_string(), v)
                })
                .collect::<BTreeMap<_, _>>(),
        }
    }

    #[test]
    fn the_preference_picks_each_variants_sku_and_items_without_stock_are_skipped() {
        let mut unlimited = item("dl", &[("d", Some("SKU-D"))]);
        unlimited.unlimited_inventory = true;
        let deleted = SearchItem {
            manage_number: "gone".into(),
            ..SearchItem::default()
        };
        let items = [
            item("Shirt", &[("red", Some("SKU-R")), ("blue", None)]),
            unlimited,
            deleted,
        ];
        let mut report = SyncReport::default();
        let pref = [SkuSource::MerchantDefinedSkuId];
        let pairs = pairs_of(&items, &pref, &mut report);
        assert_eq!(
            pairs,
            [SkuPair {
                sku: "SKU-R".into(),
                manage_number: "shirt".into(),
                variant_id: "red".into()
            }]
        );
        assert_eq!(
            (report.items, report.skipped, report.without_sku),
            (3, 2, 1)
        );
        let pref = [SkuSource::MerchantDefinedSkuId, SkuSource::ItemNumber];
        let pairs = pairs_of(&items, &pref, &mut SyncReport::default());
        assert_eq!(
            pairs[0].sku, "no-Shirt",
            "blue falls back to the item number"
        );
        assert_eq!(pairs[1].sku, "SKU-R");
    }
}
