//! The SKU map: which (`manageNumber`, `variantId`) pairs sell each merchant
//! SKU at Rakuten, learnt from `items.search` (at start-up, daily and on
//! `ordersync rakuten sync-skus`) with the same `sku_preference` as order
//! lines. Items without stock management (`unlimitedInventoryFlag`), deleted
//! items (listed with their `manageNumber` alone) and results without `item`
//! have no pair; the variants of pre-order (`PRE_ORDER`) and subscription
//! (`BUYING_CLUB`) items, whose stock Rakuten refuses, are not mapped but
//! listed with their type (`rakuten-inventory.md`, Corrections 2026-12-07).

use crate::call::CallError;
use crate::domain::{Channel, time};
use crate::providers::pacer::Pacer;
use crate::providers::rakuten_pay::config::SkuSource;
use crate::providers::rakuten_pay::inventory::InventoryClient;
use crate::providers::rakuten_pay::inventory::wire::SearchItem;
use crate::providers::rakuten_pay::refusals;
use crate::store::rakuten_skus::{self, Listing, SkuPair};
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
    /// Items skipped: no stock management, deleted, or a result without
    /// `item`.
    pub skipped: usize,
    /// Variants of pre-order and subscription items: listed, never pushed.
    pub not_pushed: usize,
    /// Pairs in the map now.
    pub pairs: usize,
    /// Variants without a merchant SKU under `sku_preference`.
    pub without_sku: usize,
    /// SKUs that gained a pair, owed a push.
    pub gained: Vec<String>,
}

/// Adds a page of items to `listing` (pure).
pub fn list_page(
    items: &[SearchItem],
    preference: &[SkuSource],
    listing: &mut Listing,
    report: &mut SyncReport,
) {
    for item in items {
        report.items += 1;
        if item.unlimited_inventory || item.variants.is_empty() {
            report.skipped += 1;
            continue;
        }
        let manage_number = item.manage_number.to_ascii_lowercase();
        let item_type = item.item_type.as_deref().unwrap_or("NORMAL");
        let pushed = refusals::not_pushed_reason(item_type).is_none();
        if let Some(updated) = &item.updated {
            listing
                .item_updated
                .insert(manage_number.clone(), updated.clone());
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
            let Some(sku) = sku else {
                report.without_sku += 1;
                continue;
            };
            let pair = SkuPair {
                sku: sku.to_string(),
                manage_number: manage_number.clone(),
                variant_id: variant_id.clone(),
            };
            if pushed {
                listing.pairs.push(pair);
            } else {
                report.not_pushed += 1;
                listing.unpushed.push((pair, item_type.to_string()));
            }
        }
    }
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
    let mut listing = Listing::default();
    let mut cursor = "*".to_string();
    for _ in 0..MAX_PAGES {
        pacer.wait().await;
        let page = client.search_items(&cursor).await?;
        let results = page.results.len();
        let items: Vec<SearchItem> = page.results.into_iter().filter_map(|r| r.item).collect();
        report.skipped += results - items.len();
        list_page(&items, preference, &mut listing, &mut report);
        if page.next_cursor_mark == cursor || results == 0 {
            break;
        }
        cursor = page.next_cursor_mark;
    }
    report.pairs = listing.pairs.len();
    let gained = store
        .write(move |tx| {
            let gained = rakuten_skus::replace(tx, &listing)?;
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
            item_type: Some("NORMAL".into()),
            updated: Some("2026-12-01T10:00:00+09:00".into()),
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

    fn pairs_of(
        items: &[SearchItem],
        preference: &[SkuSource],
        report: &mut SyncReport,
    ) -> Vec<SkuPair> {
        let mut listing = Listing::default();
        list_page(items, preference, &mut listing, report);
        listing.pairs
    }

    #[test]
    fn pre_order_and_subscription_variants_are_listed_not_mapped() {
        let mut yoyaku = item("Yoyaku", &[("y", Some("SKU-Y"))]);
        yoyaku.item_type = Some("PRE_ORDER".into());
        let mut club = item("club", &[("c", Some("SKU-C"))]);
        club.item_type = Some("BUYING_CLUB".into());
        let mut listing = Listing::default();
        let mut report = SyncReport::default();
        let items = [yoyaku, club, item("mug", &[("m", Some("SKU-M"))])];
        list_page(
            &items,
            &[SkuSource::MerchantDefinedSkuId],
            &mut listing,
            &mut report,
        );
        assert_eq!(listing.pairs.len(), 1);
        let unpushed: Vec<(&str, &str, &str)> = listing
            .unpushed
            .iter()
            .map(|(p, t)| (p.sku.as_str(), p.manage_number.as_str(), t.as_str()))
            .collect();
        assert_eq!(
            unpushed,
            [
                ("SKU-Y", "yoyaku", "PRE_ORDER"),
                ("SKU-C", "club", "BUYING_CLUB")
            ]
        );
        assert_eq!(report.not_pushed, 2);
        assert_eq!(listing.item_updated.len(), 3);
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
