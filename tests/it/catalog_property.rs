//! Property: whatever sequence of master imports, after a sync round J-goods
//! holds every item it did not refuse exactly as the master has it (the diff
//! is only what it refused), and a second round sends nothing.

use std::sync::Arc;

use ordersync::catalog::Item;
use ordersync::flows::catalog::{self, Form};
use ordersync::providers::jgoods::catalog_sync::CatalogSync;
use ordersync::providers::jgoods::client::JgoodsClient;
use ordersync::sim::jgoods::JgoodsSimSettings;
use ordersync::store::Store;
use ordersync_sim::jgoods::{self as sim, JgoodsSimConfig};
use proptest::prelude::*;

fn item() -> impl Strategy<Value = Item> {
    (
        0usize..6,
        1u32..20_000,
        prop::option::weighted(0.85, 1u32..5000),
        prop::bool::weighted(0.15),
        0usize..4,
    )
        .prop_map(|(sku, price, weight_g, used, category)| Item {
            sku: format!("S{sku}"),
            name: format!("商品 {sku}"),
            price,
            tax_rate: if price % 2 == 0 { 8 } else { 10 },
            jan_code: None,
            weight_g,
            category_code: match category {
                0 => None,
                1 => Some("tea".into()),
                2 => Some("tea-pot".into()),
                _ => Some("nowhere".into()),
            },
            description: (price % 3 == 0).then(|| "説明".to_string()),
            images: vec![],
            used,
            on_sale: price % 5 != 0,
            seller: None,
        })
}

fn imports() -> impl Strategy<Value = Vec<Vec<Item>>> {
    prop::collection::vec(prop::collection::vec(item(), 1..6), 1..4).prop_map(|files| {
        files
            .into_iter()
            .map(|mut f| {
                // One row per SKU in a file (a duplicate is refused as a whole).
                f.sort_by(|a, b| a.sku.cmp(&b.sku));
                f.dedup_by(|a, b| a.sku == b.sku);
                f
            })
            .collect()
    })
}

/// What J-goods refuses of an item, by the contract.
fn refused(item: &Item) -> bool {
    item.weight_g.is_none() || item.used || item.category_code.as_deref() == Some("nowhere")
}

async fn run_case(files: Vec<Vec<Item>>) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path(), 0).unwrap();
    let jgoods = sim::start(
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        JgoodsSimConfig::default(),
    )
    .await
    .unwrap();
    let client = Arc::new(JgoodsClient::new(jgoods.client_settings()).unwrap());
    let sync = CatalogSync {
        ctx: ordersync::worker::WorkerContext::standalone(store.clone()),
        client: client.clone(),
        interval: std::time::Duration::ZERO,
        poke: Default::default(),
    };
    let categories = "カテゴリコード,カテゴリ名,親カテゴリ\ntea-pot,急須,tea\ntea,お茶,\n";
    catalog::import_categories(&store, categories.as_bytes().to_vec(), Form::Csv(None))
        .await
        .unwrap();
    let mut master = std::collections::BTreeMap::new();
    for file in files {
        let json = serde_json::to_vec(&file).unwrap();
        catalog::import_items(&store, json, Form::Json)
            .await
            .unwrap();
        for i in file {
            master.insert(i.sku.clone(), i);
        }
        sync.round().await.unwrap();
        let d = catalog::diff(&store, &client).await.unwrap();
        let not_in_step: Vec<&String> = d
            .missing
            .iter()
            .chain(d.differing.iter().map(|(s, _)| s))
            .collect();
        for sku in &not_in_step {
            prop_assert!(
                refused(&master[*sku]),
                "{sku} not in step but not refused: {d:?}"
            );
        }
        for (sku, item) in &master {
            if !refused(item) {
                prop_assert!(!not_in_step.contains(&sku), "{sku}: {d:?}");
            }
        }
        prop_assert!(
            d.categories.is_empty() && d.only_at_jgoods.is_empty(),
            "{d:?}"
        );
        let calls = jgoods.stats().catalog_calls.len();
        let again = sync.round().await.unwrap();
        prop_assert_eq!(again, Default::default());
        prop_assert_eq!(
            jgoods.stats().catalog_calls.len(),
            calls,
            "a second round sends nothing"
        );
    }
    jgoods.shutdown().await;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn import_then_sync_leaves_only_refusals_in_the_diff(files in imports()) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(run_case(files))?;
    }
}
