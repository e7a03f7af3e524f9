//! J-goods' part of the stock push ([`crate::providers::stock_push`]): a batch
//! is one `PUT /item.json` of up to 100 items with `item_code` and `stock`;
//! per-item errors sort its SKUs (`ITEM_NOT_FOUND` is an unknown item, any
//! other code is held back).

use std::collections::HashMap;
use std::sync::Arc;

use crate::call::CallError;
use crate::domain::Channel;
use crate::domain::Provider;
use crate::providers::jgoods::client::{JgoodsClient, MAX_STOCK_ITEMS};
use crate::providers::jgoods::wire::{JgoodsItemStock, JgoodsItemStockResult};
use crate::providers::stock_push::{StockChannel, Verdict};
use crate::store::stock_push::OwedPush;

/// The per-item error J-goods gives for an item code it does not have.
const ITEM_NOT_FOUND: &str = "ITEM_NOT_FOUND";

/// J-goods as a stock channel.
pub struct JgoodsStock {
    pub client: Arc<JgoodsClient>,
}

impl StockChannel for JgoodsStock {
    const CHANNEL: Channel = Channel::Jgoods;
    const PROVIDER: Provider = Provider::Jgoods;
    const BATCH: usize = MAX_STOCK_ITEMS;
    const WORKER: &'static str = "J-goods stock push";

    async fn send(&self, batch: &[OwedPush]) -> Result<Vec<Verdict>, CallError> {
        let items: Vec<JgoodsItemStock> = batch
            .iter()
            .map(|p| JgoodsItemStock {
                item_code: p.sku.clone(),
                stock: u64::from(p.stock),
            })
            .collect();
        let result = self.client.put_item_stock(&items).await?;
        Ok(verdicts(batch, &result))
    }
}

/// The verdict of each SKU of a call from J-goods' per-item errors (pure).
fn verdicts(sent: &[OwedPush], result: &JgoodsItemStockResult) -> Vec<Verdict> {
    let errors: HashMap<&str, &str> = result
        .errors
        .iter()
        .map(|e| (e.item_code.as_str(), e.code.as_str()))
        .collect();
    sent.iter()
        .map(|push| match errors.get(push.sku.as_str()) {
            None => Verdict::Accepted,
            Some(&ITEM_NOT_FOUND) => Verdict::Unknown,
            Some(code) => Verdict::Refused((*code).to_string()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::jgoods::wire::JgoodsItemError;

    fn owed(sku: &str) -> OwedPush {
        OwedPush {
            sku: sku.into(),
            version: 1,
            stock: 3,
        }
    }

    #[test]
    fn per_item_errors_sort_the_skus_of_a_call() {
        let sent = [owed("A"), owed("B"), owed("C")];
        let result = JgoodsItemStockResult {
            updated: 1,
            errors: vec![
                JgoodsItemError {
                    item_code: "B".into(),
                    code: "ITEM_NOT_FOUND".into(),
                },
                JgoodsItemError {
                    item_code: "C".into(),
                    code: "LOCKED".into(),
                },
            ],
        };
        assert_eq!(
            verdicts(&sent, &result),
            [
                Verdict::Accepted,
                Verdict::Unknown,
                Verdict::Refused("LOCKED".into())
            ]
        );
    }
}
