//! What `/metrics` reads from the store at each scrape: the status summary's
//! gauges, the stock levels, the decisions written since the last scrape and
//! the store writer's counters. The metrics themselves only record
//! ([`crate::metrics`]); reading the store for them is the status summary's job.

use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;

use super::{Detail, Status};
use crate::engine::EventKind;
use crate::metrics::{MAX_STOCK_SERIES, Metrics};
use crate::store::{Store, WriterStats, events, stock};

/// The daemon's metrics: the store writer's counters watched and every
/// decision kind's counter at 0 from the start.
pub fn daemon_metrics(store: &Store) -> Metrics {
    let mut metrics = Metrics::new();
    metrics.register_collector(Box::new(StoreWriterCollector(store.writer_stats())));
    metrics.prime_decisions(EventKind::ALL.iter().map(|k| k.as_str()));
    metrics
}

/// What one scrape reads from the store, in one read transaction.
struct ScrapeReading {
    status: Status,
    stock: Vec<(String, i64)>,
    decisions: Vec<(String, u64)>,
    newest_event: i64,
}

/// Reads the store-derived gauges and the new decisions, for one scrape.
/// A store error leaves the previous values (the scrape still answers).
pub async fn refresh(metrics: &Metrics, store: &Store) {
    let from = metrics.decisions_counted_to();
    let read = store
        .read(move |c| {
            let newest = events::newest_id(c)?;
            Ok(ScrapeReading {
                status: Status::read(c, Detail::Brief)?,
                stock: stock::least_available(c, MAX_STOCK_SERIES)?,
                decisions: events::count_by_kind(c, from, newest)?,
                newest_event: newest,
            })
        })
        .await;
    let r = match read {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "metrics: cannot read the store; serving the last values");
            return;
        }
    };
    let s = &r.status;
    metrics.set_store_gauges(
        s.calls_pending,
        s.calls_dead,
        s.oldest_call_seconds,
        s.attention,
    );
    let ages: Vec<(String, i64)> = s
        .polls
        .iter()
        .filter_map(|p| Some((p.provider.clone(), p.age_seconds?)))
        .collect();
    metrics.set_poll_gauges(
        &ages,
        s.licence.days_left,
        s.licence.check_refused.is_some(),
    );
    metrics.set_problem_gauges(&s.problems);
    metrics.set_rakuten_unconfirmed(
        s.rakuten_unconfirmed.orders,
        s.rakuten_unconfirmed_oldest_seconds(),
    );
    for push in &s.stock_push {
        metrics.set_stock_push_owed(push.channel, push.owed);
    }
    metrics.set_stock_gauges(&r.stock);
    metrics.count_decisions(&r.decisions, from, r.newest_event);
}

/// `ordersync_store_*`: the writer thread's counters, read at scrape time.
#[derive(Debug)]
struct StoreWriterCollector(Arc<WriterStats>);

impl Collector for StoreWriterCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let t = self.0.totals();
        let counts = [
            (
                "store_commits",
                "Write transactions committed by the store writer (each shared by a group of writes)",
                t.commits,
            ),
            ("store_writes", "Writes run by the store writer", t.writes),
        ];
        for (name, help, value) in counts {
            let c = ConstCounter::new(value);
            c.encode(encoder.encode_descriptor(name, help, None, c.metric_type())?)?;
        }
        let seconds = [
            (
                "store_commit_seconds",
                "Time the store writer spent committing (the durable part: fsync)",
                t.commit_seconds,
            ),
            (
                "store_writer_busy_seconds",
                "Time the store writer spent running writes and commits rather than waiting for work",
                t.busy_seconds,
            ),
        ];
        for (name, help, value) in seconds {
            let c = ConstCounter::new(value);
            c.encode(encoder.encode_descriptor(name, help, None, c.metric_type())?)?;
        }
        Ok(())
    }
}
