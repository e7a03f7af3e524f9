//! Keeps J-goods' catalog in step with the product master: every
//! `catalog_sync_interval` (or at once when poked after an import), the
//! categories J-goods is owed (parents first), then the items (new ones
//! registered, changed ones updated with the changed fields only), at most
//! 100 a call. Each answer is recorded in one transaction with what it
//! means: accepted content is not sent again, a refusal is kept on the item
//! with what to fix until the master changes it. A transient error ends the
//! round; the next one starts where it stopped (what is owed is in the store).

use crate::heartbeat::Heartbeat;
use crate::worker::{Wake, Worker};
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::call::CallError;
use crate::catalog::categories::parents_first;
use crate::catalog::plan::{self, Refused, Send};
use crate::domain::{Channel, time};
use crate::providers::jgoods::client::{CatalogAnswer, JgoodsClient, catalog::MAX_PER_CALL};
use crate::store::{catalog, stock, stock_push};
use crate::worker::WorkerContext;

const CHANNEL: &str = "jgoods";
/// Batches in one round at most (100 items each): a round ends even if
/// J-goods keeps answering in a way that leaves items owed.
const MAX_BATCHES: usize = 500;

/// The catalog sync worker.
#[derive(Clone)]
pub struct CatalogSync {
    /// The store, the dispatcher's wake, the metrics and the problems.
    pub ctx: WorkerContext,
    pub client: Arc<JgoodsClient>,
    pub interval: Duration,
    pub poke: Arc<Notify>,
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub categories: usize,
    pub registered: usize,
    pub updated: usize,
    pub refused: usize,
    pub withdrawn: usize,
}

/// What to record of one item's answer.
enum Outcome {
    Accepted {
        sku: String,
        hash: String,
        held: Map<String, Value>,
        registered: bool,
    },
    Refused {
        sku: String,
        hash: String,
        why: String,
    },
    Reset {
        sku: String,
        held: Option<Map<String, Value>>,
    },
}

impl CatalogSync {
    pub async fn run(self, stop: CancellationToken) {
        loop {
            match self.round().await {
                Ok(r) if r != Round::default() => tracing::info!(?r, "J-goods catalog sent"),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "J-goods catalog sync stopped; trying again at the next interval")
                }
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = self.poke.notified() => {}
                _ = tokio::time::sleep(self.interval) => {}
            }
        }
    }

    /// One round: categories, then items, until nothing is owed.
    pub async fn round(&self) -> Result<Round, CallError> {
        let mut round = Round {
            categories: self.categories().await?,
            ..Round::default()
        };
        for _ in 0..MAX_BATCHES {
            let owed = self
                .ctx
                .store
                .read(|c| catalog::owed_items(c, CHANNEL, MAX_PER_CALL as u32))
                .await?;
            if owed.is_empty() {
                break;
            }
            let mut register = Vec::new();
            let mut update = Vec::new();
            let mut outcomes = Vec::new();
            for o in owed {
                match plan::send_for(&o.item, o.sent.as_ref()) {
                    Send::Register(fields) => register.push((o, fields)),
                    Send::Update(fields) => update.push((o, fields)),
                    Send::Nothing => outcomes.push(Outcome::Accepted {
                        held: o.item.wire(),
                        sku: o.item.sku,
                        hash: o.hash,
                        registered: false,
                    }),
                }
            }
            self.with_stock(&mut register).await?;
            let mut failed = None;
            for (batch, registering) in [(register, true), (update, false)] {
                if batch.is_empty() {
                    continue;
                }
                let fields: Vec<Map<String, Value>> =
                    batch.iter().map(|(_, f)| f.clone()).collect();
                let answer = self
                    .observed(self.client.write_items(&fields, registering))
                    .await
                    .and_then(|answer| accounts_for(&batch, answer));
                match answer {
                    Ok(answer) => {
                        outcomes.extend(read_answer(batch, &answer, registering, &mut round));
                    }
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            // What J-goods took before a failed call is recorded all the same,
            // so the next round does not send it again.
            self.record(outcomes).await?;
            if let Some(e) = failed {
                return Err(e);
            }
        }
        round.withdrawn = self.withdrawals().await?;
        Ok(round)
    }

    /// Withdraws what the merchant withdrew from the master; J-goods not
    /// holding one (`ITEM_NOT_FOUND`) is as good.
    async fn withdrawals(&self) -> Result<usize, CallError> {
        let mut done = 0;
        for _ in 0..MAX_BATCHES {
            let codes = self
                .ctx
                .store
                .read(|c| catalog::owed_withdrawals(c, CHANNEL, MAX_PER_CALL as u32))
                .await?;
            if codes.is_empty() {
                break;
            }
            let answer = self.observed(self.client.delete_items(&codes)).await?;
            let kept: Vec<&str> = answer
                .errors
                .iter()
                .filter(|e| e.error != "ITEM_NOT_FOUND")
                .filter_map(|e| e.subject.as_deref())
                .collect();
            if !kept.is_empty() {
                tracing::warn!(items = ?kept, "J-goods did not withdraw these items; trying again next round");
            }
            let gone: Vec<String> = codes
                .iter()
                .filter(|c| !kept.contains(&c.as_str()))
                .cloned()
                .collect();
            done += gone.len();
            let stuck = gone.is_empty();
            self.ctx
                .store
                .write(move |tx| catalog::withdrawn(tx, CHANNEL, &gone))
                .await?;
            if stuck {
                break;
            }
        }
        Ok(done)
    }

    /// A call's answer, shown to the provider problems as every J-goods
    /// worker does: a refused credential flags, a normal answer clears.
    async fn observed<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, CallError>>,
    ) -> Result<T, CallError> {
        let answer = call.await;
        self.ctx
            .problems
            .observe(crate::domain::Provider::Jgoods, answer.as_ref().map(|_| ()))
            .await;
        answer
    }

    /// A new item is registered with its available stock, so J-goods sells
    /// it right away (the stock push keeps it up to date from then on).
    async fn with_stock(
        &self,
        register: &mut [(catalog::OwedItem, Map<String, Value>)],
    ) -> Result<(), CallError> {
        let skus: Vec<String> = register.iter().map(|(o, _)| o.item.sku.clone()).collect();
        let available = self
            .ctx
            .store
            .read(move |c| {
                skus.iter()
                    .map(|s| Ok(stock::get(c, s)?.map(|r| r.available)))
                    .collect::<crate::store::Result<Vec<_>>>()
            })
            .await?;
        for ((_, fields), stock) in register.iter_mut().zip(available) {
            fields.insert("stock".into(), json!(stock.unwrap_or(0)));
        }
        Ok(())
    }

    /// Sends the owed categories, parents first; returns how many J-goods took.
    async fn categories(&self) -> Result<usize, CallError> {
        let catalog::OwedCategories { owed, known } = self
            .ctx
            .store
            .read(|c| catalog::owed_categories(c, CHANNEL))
            .await?;
        if owed.is_empty() {
            return Ok(0);
        }
        let hashes: HashMap<String, String> = owed
            .iter()
            .map(|(c, h)| (c.code.clone(), h.clone()))
            .collect();
        let ordered = parents_first(owed.into_iter().map(|(c, _)| c).collect(), &known);
        let mut taken = 0;
        for chunk in ordered.chunks(MAX_PER_CALL) {
            let body: Vec<Map<String, Value>> = chunk
                .iter()
                .map(|c| {
                    let v = json!({"category_code": c.code, "name": c.name, "parent_code": c.parent_code});
                    v.as_object().cloned().unwrap_or_default()
                })
                .collect();
            let answer = self.observed(self.client.put_categories(&body)).await?;
            let refused: HashMap<String, String> = answer
                .errors
                .iter()
                .filter_map(|e| Some((e.subject.clone()?, e.error.clone())))
                .collect();
            let now = time::rfc3339(time::now());
            let mut results = Vec::new();
            for c in chunk {
                let hash = hashes.get(&c.code).cloned().unwrap_or_default();
                match refused.get(&c.code) {
                    Some(code) => results.push((c.code.clone(), hash, Some(category_fix(code)))),
                    None => {
                        taken += 1;
                        results.push((c.code.clone(), hash, None));
                    }
                }
            }
            self.ctx
                .store
                .write(move |tx| {
                    for (code, hash, refusal) in &results {
                        match refusal {
                            Some(why) => {
                                catalog::refused(tx, CHANNEL, "category", code, hash, why, &now)?
                            }
                            None => {
                                catalog::accepted(tx, CHANNEL, "category", code, hash, None, &now)?
                            }
                        }
                    }
                    Ok(())
                })
                .await?;
        }
        Ok(taken)
    }

    async fn record(&self, outcomes: Vec<Outcome>) -> Result<(), CallError> {
        let now = time::rfc3339(time::now());
        self.ctx
            .store
            .write(move |tx| {
                let mut registered = Vec::new();
                for o in &outcomes {
                    match o {
                        Outcome::Accepted {
                            sku,
                            hash,
                            held,
                            registered: new,
                        } => {
                            catalog::accepted(tx, CHANNEL, "item", sku, hash, Some(held), &now)?;
                            if *new && stock::get(tx, sku)?.is_some() {
                                registered.push(sku.clone());
                            }
                        }
                        Outcome::Refused { sku, hash, why } => {
                            catalog::refused(tx, CHANNEL, "item", sku, hash, why, &now)?;
                        }
                        Outcome::Reset { sku, held } => {
                            catalog::reset_sent(tx, CHANNEL, sku, held.as_ref(), &now)?
                        }
                    }
                }
                // A new item's stock is told by the stock push, now that J-goods knows it.
                stock_push::owe(tx, Channel::Jgoods, &registered)
            })
            .await?;
        Ok(())
    }
}

/// J-goods' answer when it accounts for every item sent (each taken or
/// refused by code); otherwise an item not named might have been refused
/// for all we know, so the answer is not trusted and the round ends
/// (everything in the batch stays owed).
fn accounts_for(
    batch: &[(catalog::OwedItem, Map<String, Value>)],
    answer: CatalogAnswer,
) -> Result<CatalogAnswer, CallError> {
    let named = answer
        .errors
        .iter()
        .filter(|e| {
            e.subject
                .as_deref()
                .is_some_and(|s| batch.iter().any(|(o, _)| o.item.sku == s))
        })
        .count();
    match answer.updated as usize + named == batch.len() && named == answer.errors.len() {
        true => Ok(answer),
        false => Err(CallError::transient(format!(
            "J-goods answered {} updated and {} errors for {} items; not trusting it",
            answer.updated,
            answer.errors.len(),
            batch.len()
        ))),
    }
}

/// The outcome of each item of a batch from J-goods' answer.
fn read_answer(
    batch: Vec<(catalog::OwedItem, Map<String, Value>)>,
    answer: &CatalogAnswer,
    registering: bool,
    round: &mut Round,
) -> Vec<Outcome> {
    let refused: HashMap<&str, (&str, Option<&str>)> = answer
        .errors
        .iter()
        .filter_map(|e| {
            Some((
                e.subject.as_deref()?,
                (e.error.as_str(), e.field.as_deref()),
            ))
        })
        .collect();
    batch
        .into_iter()
        .map(|(o, _)| {
            let sku = o.item.sku.clone();
            match refused.get(sku.as_str()) {
                None => {
                    if registering {
                        round.registered += 1;
                    } else {
                        round.updated += 1;
                    }
                    Outcome::Accepted {
                        held: o.item.wire(),
                        sku,
                        hash: o.hash,
                        registered: registering,
                    }
                }
                Some((code, field)) => match plan::refused(&o.item, code, *field) {
                    Refused::HeldAlready => Outcome::Reset {
                        sku,
                        held: Some(Map::new()),
                    },
                    Refused::NotHeld => Outcome::Reset { sku, held: None },
                    Refused::Fix(why) => {
                        round.refused += 1;
                        Outcome::Refused {
                            sku,
                            hash: o.hash,
                            why,
                        }
                    }
                },
            }
        })
        .collect()
}

/// What a refused category needs, Japanese first.
fn category_fix(code: &str) -> String {
    match code {
        "PARENT_NOT_FOUND" => "PARENT_NOT_FOUND: 親カテゴリが J-goods にありません / J-goods lacks the parent category".into(),
        "CYCLE" => "CYCLE: 親子関係が循環します / the parents make a loop".into(),
        other => format!("{other}: J-goods がカテゴリを受け付けません / J-goods refuses the category"),
    }
}

impl Worker for CatalogSync {
    fn name(&self) -> &'static str {
        "J-goods catalog sync"
    }

    fn heartbeat(&self) -> Option<Heartbeat> {
        None
    }

    fn wake(&self) -> Wake {
        Wake::Poll(self.poke.clone())
    }

    fn run(self: Box<Self>, stop: CancellationToken) -> BoxFuture<'static, ()> {
        Box::pin(CatalogSync::run(*self, stop))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Item;
    use crate::providers::jgoods::client::CatalogRefusal;

    fn owed(sku: &str) -> (catalog::OwedItem, Map<String, Value>) {
        let item = Item {
            sku: sku.into(),
            name: "急須".into(),
            price: 1,
            tax_rate: 10,
            jan_code: None,
            weight_g: Some(1),
            category_code: None,
            description: None,
            images: vec![],
            used: false,
            on_sale: true,
            seller: None,
        };
        let fields = item.wire();
        (
            catalog::OwedItem {
                hash: item.hash(),
                item,
                sent: None,
            },
            fields,
        )
    }

    fn refusal(subject: Option<&str>) -> CatalogRefusal {
        CatalogRefusal {
            subject: subject.map(str::to_string),
            error: "INVALID_FIELD".into(),
            field: None,
        }
    }

    #[test]
    fn an_answer_that_does_not_account_for_every_item_is_not_trusted() {
        let batch = [owed("A"), owed("B")];
        let answer = |updated, errors| CatalogAnswer { updated, errors };
        assert!(accounts_for(&batch, answer(1, vec![refusal(Some("B"))])).is_ok());
        assert!(accounts_for(&batch, answer(2, vec![])).is_ok());
        // An error naming no item (or another one), or a count short: the
        // items not named may not have been taken.
        assert!(accounts_for(&batch, answer(1, vec![refusal(None)])).is_err());
        assert!(accounts_for(&batch, answer(1, vec![refusal(Some("Z"))])).is_err());
        assert!(accounts_for(&batch, answer(1, vec![])).is_err());
    }
}
