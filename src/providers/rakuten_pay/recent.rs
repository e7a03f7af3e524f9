//! The import just before a stock push: the Rakuten orders placed since the
//! last poll, so the availability the push sends already counts them. Without
//! it, an `ABSOLUTE` push would overwrite Rakuten's own decrement for an order
//! ordersync had not seen yet and put the unit back on sale.

use std::sync::Arc;

use chrono::TimeDelta;

use super::apply as flow;
use super::client::MAX_ORDERS_PER_CALL;
use super::poller::{RakutenApi, read_chunk, search};
use crate::call::CallError;
use crate::domain::Provider;
use crate::domain::{Channel, time};
use crate::metrics::Metrics;
use crate::providers::polling::last_success_key;
use crate::providers::rakuten_pay::config::SkuSource;
use crate::store::{Store, kv};

/// The window reaches this far before the last poll, for orders Rakuten
/// stamped a little before the poll saw them.
const OVERLAP: TimeDelta = TimeDelta::minutes(2);
/// ... and at least this far back.
const AT_LEAST: TimeDelta = TimeDelta::minutes(5);
/// ... and no further (a poller that is far behind catches up on its own).
const AT_MOST: TimeDelta = TimeDelta::hours(24);

/// Imports the Rakuten orders of the last minutes that the store lacks.
pub struct RecentOrders {
    pub store: Store,
    pub api: Arc<RakutenApi>,
    pub metrics: Arc<Metrics>,
    pub sku_preference: Vec<SkuSource>,
}

impl RecentOrders {
    /// One `searchOrder` from shortly before the last poll to now; the orders
    /// found that are new here are read and allocated. Returns how many.
    pub async fn import(&self) -> Result<usize, CallError> {
        let now = time::now();
        let last_poll = self
            .store
            .read(|c| kv::get(c, &last_success_key(Provider::RakutenPay)))
            .await?
            .and_then(|at| chrono::DateTime::parse_from_rfc3339(&at).ok());
        let from = last_poll.map_or(now - AT_LEAST, |at| (at - OVERLAP).min(now - AT_LEAST));
        let from = from.max(now - AT_MOST);
        let found = search(&self.api, &self.metrics, vec![(from, now)]).await?;
        let new = self
            .store
            .read(move |c| {
                let mut known =
                    c.prepare_cached("SELECT 1 FROM orders WHERE channel = ?1 AND id = ?2")?;
                let mut new = Vec::new();
                for number in found {
                    if !known.exists(rusqlite::params![Channel::Rakuten.as_str(), number])? {
                        new.push(number);
                    }
                }
                Ok(new)
            })
            .await?;
        let mut imported = 0;
        for chunk in new.chunks(MAX_ORDERS_PER_CALL) {
            let orders = read_chunk(&self.api, &self.metrics, chunk).await?;
            imported += orders.len();
            flow::apply_orders(&self.store, orders, self.sku_preference.clone()).await?;
        }
        Ok(imported)
    }
}
