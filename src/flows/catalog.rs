//! Importing the product master (items or categories): parse the whole file,
//! then store it in one transaction, which is also what owes J-goods the
//! changes (see `store::catalog`). All or nothing.

use crate::catalog::diff::CatalogDiff;
use crate::catalog::{MasterError, categories, master};
use crate::providers::jgoods::client::JgoodsClient;
use crate::store::catalog::{self, ImportCount};
use crate::store::{self, Store};
use crate::text_encoding::TextEncoding;

/// Why an import stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    #[error("{0}; nothing was imported / 取り込みませんでした")]
    Bad(#[from] MasterError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// The file's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Json,
    Csv(Option<TextEncoding>),
}

impl Form {
    /// JSON when it says so or starts like an array; CSV otherwise.
    pub fn guess(bytes: &[u8], json: bool, encoding: Option<TextEncoding>) -> Form {
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        match json || first == Some(&b'[') {
            true => Form::Json,
            false => Form::Csv(encoding),
        }
    }
}

/// Parsing a file of up to the admin API's 16 MB takes a while: not on the
/// threads that answer webhooks.
async fn off_the_runtime<T: Send + 'static>(
    parse: impl FnOnce() -> T + Send + 'static,
) -> Result<T, store::StoreError> {
    tokio::task::spawn_blocking(parse)
        .await
        .map_err(|e| store::StoreError::Corrupt(format!("the import task failed: {e}")))
}

/// Imports an item master.
pub async fn import_items(
    store: &Store,
    bytes: impl AsRef<[u8]> + Send + 'static,
    form: Form,
) -> Result<ImportCount, ImportFailure> {
    let items = off_the_runtime(move || match form {
        Form::Json => master::parse_json(bytes.as_ref()),
        Form::Csv(encoding) => master::parse_csv(bytes.as_ref(), encoding),
    })
    .await??;
    let now = crate::domain::time::rfc3339(crate::domain::time::now());
    Ok(store
        .write(move |tx| {
            let n = catalog::import_items(tx, &items, &now)?;
            // The seller column (KOMOJU Platform Model): the file says
            // each item's seller, none where it names none.
            for i in &items {
                crate::store::sellers::set_catalog_seller(tx, &i.sku, i.seller.as_deref())?;
            }
            Ok(n)
        })
        .await?)
}

/// Imports a category master, checked as a tree with the categories stored.
pub async fn import_categories(
    store: &Store,
    bytes: impl AsRef<[u8]> + Send + 'static,
    form: Form,
) -> Result<ImportCount, ImportFailure> {
    let rows = off_the_runtime(move || match form {
        Form::Json => categories::parse_json(bytes.as_ref()),
        Form::Csv(encoding) => categories::parse_csv(bytes.as_ref(), encoding),
    })
    .await??;
    let now = crate::domain::time::rfc3339(crate::domain::time::now());
    let checked = store
        .write(move |tx| {
            let existing = catalog::categories(tx)?;
            if let Err(e) = categories::check_tree(&rows, &existing) {
                return Ok(Err(e));
            }
            let all: Vec<_> = rows.into_iter().map(|(_, c)| c).collect();
            catalog::import_categories(tx, &all, &now).map(Ok)
        })
        .await?;
    Ok(checked?)
}

type Held = std::collections::BTreeMap<String, serde_json::Map<String, serde_json::Value>>;

/// Every item J-goods holds, by `item_code` (100 a page).
async fn held_items(client: &JgoodsClient) -> anyhow::Result<Held> {
    let mut held = Held::new();
    let mut page = 1;
    // A catalog of a million items stops here rather than loop for ever.
    while page <= 10_000 {
        let found = client.search_items(page).await?;
        for item in found.items {
            if let Some(code) = item.get("item_code").and_then(|c| c.as_str()) {
                held.insert(code.to_string(), item);
            }
        }
        match found.next_page {
            Some(next) if next > page => page = next,
            _ => break,
        }
    }
    Ok(held)
}

async fn diff_with(store: &Store, client: &JgoodsClient) -> anyhow::Result<(CatalogDiff, Held)> {
    let held = held_items(client).await?;
    let held_categories = client.get_categories().await?;
    let (items, categories) = store
        .read(|c| Ok((catalog::all_items(c)?, catalog::categories(c)?)))
        .await?;
    let d = crate::catalog::diff::diff(&items, &held, &categories, &held_categories);
    Ok((d, held))
}

/// Reads every item and category J-goods holds and compares them with the master.
pub async fn diff(store: &Store, client: &JgoodsClient) -> anyhow::Result<CatalogDiff> {
    Ok(diff_with(store, client).await?.0)
}

/// Makes what [`diff`] finds owed again, from what J-goods holds: a missing
/// item is registered, a differing one updated with the fields that differ,
/// a category sent again. Items only at J-goods are left alone.
pub async fn owe_differences(store: &Store, client: &JgoodsClient) -> anyhow::Result<CatalogDiff> {
    let (d, held) = diff_with(store, client).await?;
    let owed = d.clone();
    let now = crate::domain::time::rfc3339(crate::domain::time::now());
    store
        .write(move |tx| {
            for sku in &owed.missing {
                catalog::reset_sent(tx, "jgoods", sku, None, &now)?;
            }
            for (sku, _) in &owed.differing {
                catalog::reset_sent(tx, "jgoods", sku, held.get(sku), &now)?;
            }
            for code in &owed.categories {
                catalog::forget_category(tx, "jgoods", code)?;
            }
            Ok(())
        })
        .await?;
    Ok(d)
}
