//! Rakuten Pay orders applied to the store: imports and re-reads, answers to
//! confirmation, and the lists the poller works from.

use crate::domain::{Channel, Order, time};
use crate::providers::rakuten_pay::RakutenOrder;
use crate::providers::rakuten_pay::client::ConfirmResult;
use crate::providers::rakuten_pay::config::SkuSource;
use crate::providers::rakuten_pay::rules;
use crate::store::{self, Store, orders, stock};

/// Applies each order read from Rakuten (one transaction each; group commit
/// shares the fsync). Returns the kinds of the events written.
pub async fn apply_orders(
    store: &Store,
    list: Vec<RakutenOrder>,
    preference: Vec<SkuSource>,
) -> store::Result<Vec<String>> {
    let mut handles = Vec::with_capacity(list.len());
    for order in list {
        let preference = preference.clone();
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            store
                .write(move |tx| {
                    let now = time::rfc3339(time::now());
                    let stored = orders::load(tx, Channel::Rakuten, &order.order_number)?;
                    let lines = rules::lines_of(&order, &preference);
                    let available =
                        stock::available_map(tx, lines.iter().map(|(l, _)| l.sku.as_str()))?;
                    let d = rules::decide(&order, stored.as_ref(), &available, &preference);
                    orders::apply(tx, Channel::Rakuten, &order.order_number, &d, &now)?;
                    Ok(d.events
                        .into_iter()
                        .map(|e| e.kind.as_str().to_string())
                        .collect::<Vec<_>>())
                })
                .await
        }));
    }
    let mut kinds = vec![];
    for h in handles {
        kinds.extend(h.await.map_err(|_| store::StoreError::Closed)??);
    }
    Ok(kinds)
}

/// Rakuten orders that can still change at Rakuten (not shipped, not cancelled there).
pub async fn open_order_numbers(store: &Store) -> store::Result<Vec<String>> {
    store
        .read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id FROM orders WHERE channel = 'rakuten'
                 AND COALESCE(provider_status, '') IN ('100', '200', '300', '400', '800')
                 ORDER BY rowid",
            )?;
            let ids = stmt
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(ids)
        })
        .await
}

/// Orders at 100 whose stock is all held: ready to be confirmed.
pub async fn to_confirm(store: &Store) -> store::Result<Vec<String>> {
    store
        .read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id FROM orders WHERE channel = 'rakuten' AND provider_status = '100'
                 AND state = 'allocated' ORDER BY rowid",
            )?;
            let ids: Vec<String> = stmt
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut ready = vec![];
            for id in ids {
                if orders::load(c, Channel::Rakuten, &id)?
                    .is_some_and(|o: Order| rules::should_confirm(&o))
                {
                    ready.push(id);
                }
            }
            Ok(ready)
        })
        .await
}

/// Records Rakuten's answers to a confirmation batch.
pub async fn apply_confirmations(
    store: &Store,
    results: Vec<(String, ConfirmResult)>,
) -> store::Result<()> {
    store
        .write(move |tx| {
            let now = time::rfc3339(time::now());
            for (number, result) in &results {
                if let Some(o) = orders::load(tx, Channel::Rakuten, number)? {
                    let d = rules::decide_confirm(&o, result);
                    orders::apply(tx, Channel::Rakuten, number, &d, &now)?;
                }
            }
            Ok(())
        })
        .await
}
