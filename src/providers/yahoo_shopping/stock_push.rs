//! Yahoo!'s part of the stock push ([`crate::providers::stock_push`]): a
//! batch is one `setStock` of up to 1000 absolute quantities. A mirror SKU
//! is the stock code itself (`ItemId` or `ItemId:SubCode`, as order lines
//! name them); a SKU that cannot be one is not sent (`NotListed`).
//!
//! setStock answers a code Yahoo! does not know like any other, so a code's
//! first accepted push is read back with `getStock`: `Status 0` (no stock
//! data) is an unknown item, reported once like J-goods' `ITEM_NOT_FOUND`;
//! a code found is remembered (`yahoo_stock_checked`) and not read again.
//! A 207 row error holds that code back with its code; `ed-10002` (updated,
//! read-back failed) counts as taken.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::valid_stock_code;
use super::wire::Node;
use super::wiring::YahooApi;
use crate::call::CallError;
use crate::domain::{Channel, Provider};
use crate::providers::stock_push::{StockChannel, Verdict};
use crate::store::Store;
use crate::store::stock_push::OwedPush;

/// Codes one setStock or getStock call takes at most (contract).
pub const MAX_CODES: usize = 1000;
/// Updated, but Yahoo!'s own read-back failed: the value was taken.
const UPDATED_UNREAD: &str = "ed-10002";

/// Yahoo!ショッピング as a stock channel.
pub struct YahooStock {
    /// The client (its setStock and getStock URLs are paced apart).
    pub api: Arc<YahooApi>,
    /// Where the codes read back are remembered.
    pub store: Store,
}

impl StockChannel for YahooStock {
    const CHANNEL: Channel = Channel::Yahoo;
    const PROVIDER: Provider = Provider::YahooShopping;
    const BATCH: usize = MAX_CODES;
    const WORKER: &'static str = "Yahoo! stock push";

    async fn send(&self, batch: &[OwedPush]) -> Result<Vec<Verdict>, CallError> {
        let sent: Vec<&OwedPush> = batch.iter().filter(|p| valid_stock_code(&p.sku)).collect();
        let mut verdicts: HashMap<&str, Verdict> = HashMap::new();
        if !sent.is_empty() {
            let form = [
                ("seller_id", self.api.client.seller_id().to_string()),
                ("item_code", join(sent.iter().map(|p| p.sku.as_str()))),
                ("quantity", join(sent.iter().map(|p| p.stock.to_string()))),
            ];
            let reply = self.api.client.stock_call("setStock", &form).await?;
            let errors = row_errors(&reply.root);
            let mut taken = vec![];
            for p in &sent {
                match errors.get(p.sku.as_str()) {
                    Some(code) if code != UPDATED_UNREAD => {
                        verdicts.insert(&p.sku, Verdict::Refused(code.clone()));
                    }
                    _ => taken.push(p.sku.as_str()),
                }
            }
            let unknown = self.read_back(&taken).await?;
            for p in &sent {
                if unknown.contains(&p.sku) {
                    verdicts.insert(&p.sku, Verdict::Unknown);
                }
            }
        }
        Ok(batch
            .iter()
            .map(|p| match verdicts.remove(p.sku.as_str()) {
                Some(v) => v,
                None if valid_stock_code(&p.sku) => Verdict::Accepted,
                None => Verdict::NotListed,
            })
            .collect())
    }
}

impl YahooStock {
    /// Reads back with getStock the codes never checked; answers the ones
    /// Yahoo! has no stock data for as unknown, remembers the others.
    async fn read_back(&self, taken: &[&str]) -> Result<HashSet<String>, CallError> {
        let asked: Vec<String> = taken.iter().map(|s| s.to_string()).collect();
        let unchecked: Vec<String> = self
            .store
            .read(move |c| {
                let mut stmt =
                    c.prepare_cached("SELECT 1 FROM yahoo_stock_checked WHERE code = ?1")?;
                let mut out = vec![];
                for code in asked {
                    if !stmt.exists([&code])? {
                        out.push(code);
                    }
                }
                Ok(out)
            })
            .await?;
        if unchecked.is_empty() {
            return Ok(HashSet::new());
        }
        let form = [
            ("seller_id", self.api.client.seller_id().to_string()),
            ("item_code", join(unchecked.iter().map(String::as_str))),
        ];
        let reply = self.api.client.stock_call("getStock", &form).await?;
        let known = known_codes(&reply.root);
        let found: Vec<String> = unchecked
            .iter()
            .filter(|c| known.contains(c.as_str()))
            .cloned()
            .collect();
        self.store
            .write(move |tx| {
                let mut stmt = tx.prepare_cached(
                    "INSERT OR IGNORE INTO yahoo_stock_checked (code) VALUES (?1)",
                )?;
                for code in &found {
                    stmt.execute([code])?;
                }
                Ok(())
            })
            .await?;
        Ok(unchecked
            .into_iter()
            .filter(|c| !known.contains(c.as_str()))
            .collect())
    }
}

fn join<S: AsRef<str>>(parts: impl Iterator<Item = S>) -> String {
    parts
        .map(|s| s.as_ref().to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// The code of a `<Result>` row: `ItemCode[:SubCode]`.
fn row_code(row: &Node) -> String {
    super::stock_code(row.text_of("ItemCode"), row.text_of("SubCode"))
}

/// setStock's row errors by code (the first of a comma list).
fn row_errors(root: &Node) -> HashMap<String, String> {
    root.all("Result")
        .filter_map(|row| {
            let code = row.text_of("ErrorCode");
            let first = code.split(',').next()?.trim();
            (!first.is_empty()).then(|| (row_code(row), first.to_string()))
        })
        .collect()
}

/// getStock's codes with stock data (`Status 1`).
fn known_codes(root: &Node) -> HashSet<String> {
    root.all("Result")
        .filter(|row| row.text_of("Status") == "1")
        .map(row_code)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::yahoo_shopping::wire::parse;

    #[test]
    fn rows_are_read_by_code_and_sub_code() {
        let set = parse(
            b"<ResultSet><Result><ItemCode>a</ItemCode><SubCode>b</SubCode><Quantity>7</Quantity></Result>\
              <Result><ItemCode>c</ItemCode><SubCode/><Quantity/><ErrorCode>st-02104,st-02106</ErrorCode></Result></ResultSet>",
        )
        .unwrap();
        assert_eq!(
            row_errors(&set),
            HashMap::from([("c".to_string(), "st-02104".to_string())])
        );
        let get = parse(
            b"<ResultSet ok=\"1\" ng=\"1\"><Result><ItemCode>a</ItemCode><SubCode>b</SubCode><Status>1</Status></Result>\
              <Result><ItemCode>x</ItemCode><SubCode/><Status>0</Status></Result></ResultSet>",
        )
        .unwrap();
        assert_eq!(known_codes(&get), HashSet::from(["a:b".to_string()]));
    }
}
