//! Prometheus metrics, one registry per daemon instance (several daemons can
//! run in one test process).
//!
//! This module only records: it imports nothing of ordersync but the
//! provider and channel names, so any part may record into it. What reads
//! the store to set the gauges at each scrape is [`crate::status::scrape`].

use std::sync::atomic::{AtomicI64, Ordering};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::domain::{Channel, Provider};

/// Most SKUs `ordersync_stock_available` reports: the ones with the least
/// available stock (what an operator watches), so a catalogue of 100,000 SKUs
/// cannot blow up the scrape.
pub const MAX_STOCK_SERIES: usize = 100;

mod prime;

/// Buckets of the provider call latency, in seconds (10 ms to the 30 s
/// default `http_timeout`).
const CALL_SECONDS_BUCKETS: [f64; 11] =
    [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WebhookLabels {
    provider: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProviderLabels {
    provider: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChannelResultLabels {
    channel: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChannelLabels {
    channel: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallErrorLabels {
    provider: String,
    /// The provider's error code for a refusal, `transient` for timeouts,
    /// connection errors, 429 and 5xx.
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SkuLabels {
    sku: String,
}

/// The daemon's metrics; `render` gives the exposition `/metrics` serves.
pub struct Metrics {
    registry: Registry,
    webhooks: Family<WebhookLabels, Counter>,
    decisions: Family<KindLabels, Counter>,
    outbox_pending: Gauge,
    outbox_dead: Gauge,
    outbox_oldest_age: Gauge,
    attention: Gauge,
    poll_age: Family<ProviderLabels, Gauge>,
    /// No series while the expiry is unknown (never read, or refused): a
    /// made-up 0 would page someone.
    license_days_left: Family<Vec<(String, String)>, Gauge>,
    license_check_refused: Gauge,
    rakuten_unconfirmed: Gauge,
    rakuten_unconfirmed_oldest: Gauge,
    provider_problem: Family<ProviderLabels, Gauge>,
    call_seconds: Family<ProviderLabels, Histogram>,
    call_errors: Family<CallErrorLabels, Counter>,
    stock_available: Family<SkuLabels, Gauge>,
    /// The last events-table id counted into `decisions` (see [`Metrics::count_decisions`]).
    decisions_counted_to: AtomicI64,
    stock_push_calls: Family<ChannelResultLabels, Counter>,
    stock_push_items: Family<ChannelResultLabels, Counter>,
    stock_push_owed: Family<ChannelLabels, Gauge>,
    /// The Rakuten low-stock watch's extra `searchOrder` calls: `made`, or
    /// `over_ceiling` (a turn skipped at the daily ceiling).
    rakuten_low_stock_searches: Family<ResultLabels, Counter>,
    admin_auth_failures: Counter,
    admin_auth_throttled: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut m = Metrics {
            registry: Registry::with_prefix("ordersync"),
            webhooks: Family::default(),
            decisions: Family::default(),
            outbox_pending: Gauge::default(),
            outbox_dead: Gauge::default(),
            outbox_oldest_age: Gauge::default(),
            attention: Gauge::default(),
            poll_age: Family::default(),
            license_days_left: Family::default(),
            license_check_refused: Gauge::default(),
            rakuten_unconfirmed: Gauge::default(),
            rakuten_unconfirmed_oldest: Gauge::default(),
            provider_problem: Family::default(),
            call_seconds: Family::new_with_constructor(call_seconds_histogram as _),
            call_errors: Family::default(),
            stock_available: Family::default(),
            decisions_counted_to: AtomicI64::new(0),
            stock_push_calls: Family::default(),
            stock_push_items: Family::default(),
            stock_push_owed: Family::default(),
            rakuten_low_stock_searches: Family::default(),
            admin_auth_failures: Counter::default(),
            admin_auth_throttled: Counter::default(),
        };
        let mut registry = Registry::with_prefix("ordersync");
        m.register_store_metrics(&mut registry);
        m.register_provider_metrics(&mut registry);
        m.registry = registry;
        m.prime();
        m
    }

    /// The metrics read from the store and the webhooks received.
    fn register_store_metrics(&self, registry: &mut Registry) {
        registry.register(
            "webhooks",
            "Webhooks received, by provider and result",
            self.webhooks.clone(),
        );
        registry.register(
            "decisions",
            "Decisions written, by event kind",
            self.decisions.clone(),
        );
        registry.register(
            "outbox_pending",
            "Provider calls waiting in the outbox",
            self.outbox_pending.clone(),
        );
        registry.register(
            "outbox_dead",
            "Provider calls that gave up and need a person",
            self.outbox_dead.clone(),
        );
        registry.register(
            "outbox_oldest_pending_seconds",
            "Age of the oldest waiting provider call",
            self.outbox_oldest_age.clone(),
        );
        registry.register(
            "orders_attention",
            "Orders a person must look at",
            self.attention.clone(),
        );
        registry.register(
            "poll_last_success_age_seconds",
            "Seconds since each poller last finished a poll",
            self.poll_age.clone(),
        );
        registry.register(
            "stock_available",
            "Available units per SKU (only the SKUs with the least available stock)",
            self.stock_available.clone(),
        );
        registry.register(
            "stock_push_calls",
            "Stock push calls by channel (jgoods: PUT /item.json, rakuten: bulk-upsert) and result (ok, error)",
            self.stock_push_calls.clone(),
        );
        registry.register(
            "stock_push_items",
            "SKUs in answered stock pushes, by channel and result (updated, unknown_item, refused, not_listed, set_aside)",
            self.stock_push_items.clone(),
        );
        registry.register(
            "rakuten_low_stock_searches",
            "searchOrder calls of the Rakuten low-stock watch beyond the order poll, by result (made, over_ceiling: skipped at [rakuten_pay] low_stock_daily_searches)",
            self.rakuten_low_stock_searches.clone(),
        );
        registry.register(
            "stock_push_owed",
            "SKUs whose stock changed since the channel was last told, by channel",
            self.stock_push_owed.clone(),
        );
        registry.register(
            "admin_auth_failures",
            "Admin API requests with a missing or wrong token",
            self.admin_auth_failures.clone(),
        );
        registry.register(
            "admin_auth_throttled",
            "Admin API requests refused with 429 after too many wrong tokens from their source",
            self.admin_auth_throttled.clone(),
        );
    }

    /// The metrics of outbound calls and of each provider's standing.
    fn register_provider_metrics(&self, registry: &mut Registry) {
        registry.register(
            "rakuten_license_days_left",
            "Days until the Rakuten licence key expires",
            self.license_days_left.clone(),
        );
        registry.register(
            "rakuten_unconfirmed_orders",
            "Rakuten orders not yet confirmed (at 100); Rakuten cancels them 14 days after they were placed",
            self.rakuten_unconfirmed.clone(),
        );
        registry.register(
            "rakuten_unconfirmed_oldest_seconds",
            "Age of the oldest Rakuten order not yet confirmed (0 when none); alert well before 14 days",
            self.rakuten_unconfirmed_oldest.clone(),
        );
        registry.register(
            "rakuten_license_check_refused",
            "1 while Rakuten refuses to tell the licence key's expiry (enable license.expiryDate.get for the key in RMS)",
            self.license_check_refused.clone(),
        );
        registry.register(
            "provider_problem",
            "1 while a provider refuses this installation's configuration (key, address, secret); `ordersync status` says what to fix",
            self.provider_problem.clone(),
        );
        registry.register(
            "provider_call_duration_seconds",
            "Duration of outbound provider calls, by provider",
            self.call_seconds.clone(),
        );
        registry.register(
            "provider_call_errors",
            "Failed outbound provider calls, by provider and error code",
            self.call_errors.clone(),
        );
    }

    /// Adds series read live at each scrape (the store writer's counters).
    pub fn register_collector(&mut self, collector: Box<dyn Collector>) {
        self.registry.register_collector(collector);
    }

    /// Creates the decision counters of `kinds` at 0 (see `prime`): the
    /// event kinds are the engine's, which this module does not import.
    pub fn prime_decisions<'a>(&self, kinds: impl IntoIterator<Item = &'a str>) {
        for kind in kinds {
            drop(
                self.decisions
                    .get_or_create(&KindLabels { kind: kind.into() }),
            );
        }
    }

    /// Runs one outbound provider call, recording its duration and, when it
    /// fails, its error code.
    pub async fn timed<T, E: FailureCode>(
        &self,
        provider: Provider,
        call: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let started = std::time::Instant::now();
        let result = call.await;
        self.call_seconds
            .get_or_create(&ProviderLabels {
                provider: provider.as_str().into(),
            })
            .observe(started.elapsed().as_secs_f64());
        if let Err(e) = &result {
            let code = e.failure_code().to_owned();
            self.call_errors
                .get_or_create(&CallErrorLabels {
                    provider: provider.as_str().into(),
                    code,
                })
                .inc();
        }
        result
    }

    /// Replaces the per-SKU stock gauges with `levels` (SKU, available),
    /// which the caller bounds to [`MAX_STOCK_SERIES`]. SKUs that dropped
    /// out of the list disappear from the exposition.
    pub fn set_stock_gauges(&self, levels: &[(String, i64)]) {
        self.stock_available.clear();
        for (sku, available) in levels.iter().take(MAX_STOCK_SERIES) {
            self.stock_available
                .get_or_create(&SkuLabels { sku: sku.clone() })
                .set(*available);
        }
    }

    /// Where the decision count starts: events up to `newest_id` happened
    /// before this daemon and are not counted.
    pub fn start_decision_count(&self, newest_id: i64) {
        self.decisions_counted_to.store(newest_id, Ordering::SeqCst);
    }

    /// The last event id counted into `decisions`.
    pub fn decisions_counted_to(&self) -> i64 {
        self.decisions_counted_to.load(Ordering::SeqCst)
    }

    /// Adds the events by kind with ids in `(from, up_to]` to `decisions`.
    /// Decisions are counted from the events table (rather than in each
    /// handler) so every writer is covered: webhooks, pollers, the
    /// dispatcher, the admin API and the command line. When two scrapes race,
    /// only the one that still sees `from` counts.
    pub fn count_decisions(&self, counts: &[(String, u64)], from: i64, up_to: i64) {
        if self
            .decisions_counted_to
            .compare_exchange(from, up_to, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return;
        }
        for (kind, n) in counts {
            self.decisions
                .get_or_create(&KindLabels { kind: kind.clone() })
                .inc_by(*n);
        }
    }

    /// A webhook arrived from `provider`; `result` is `processed`,
    /// `duplicate` or the reason it was rejected (the error code answered).
    /// An admin request with a wrong token; `throttled` when it was refused
    /// unchecked after too many from its source.
    pub fn admin_auth_failed(&self, throttled: bool) {
        if throttled {
            self.admin_auth_throttled.inc();
        } else {
            self.admin_auth_failures.inc();
        }
    }

    pub fn webhook(&self, provider: Provider, result: &str) {
        self.webhooks
            .get_or_create(&WebhookLabels {
                provider: provider.as_str().into(),
                result: result.into(),
            })
            .inc();
    }

    /// Sets the gauges read from the store at scrape time.
    pub fn set_store_gauges(
        &self,
        pending: i64,
        dead: i64,
        oldest_age_s: Option<i64>,
        attention: i64,
    ) {
        self.outbox_pending.set(pending);
        self.outbox_dead.set(dead);
        self.outbox_oldest_age.set(oldest_age_s.unwrap_or(0));
        self.attention.set(attention);
    }

    /// Sets the pollers' gauges: seconds since each last success, and what
    /// is known of the Rakuten licence (days left, if read; whether Rakuten
    /// refuses to tell).
    pub fn set_poll_gauges(
        &self,
        ages: &[(String, i64)],
        licence_days_left: Option<i64>,
        licence_check_refused: bool,
    ) {
        for (provider, age) in ages {
            self.poll_age
                .get_or_create(&ProviderLabels {
                    provider: provider.clone(),
                })
                .set(*age);
        }
        match licence_days_left {
            Some(days) => {
                self.license_days_left.get_or_create(&vec![]).set(days);
            }
            None => self.license_days_left.clear(),
        }
        self.license_check_refused
            .set(i64::from(licence_check_refused));
    }

    /// Rakuten orders still at 100, and the age of the oldest (0 when none).
    pub fn set_rakuten_unconfirmed(&self, orders: i64, oldest_seconds: i64) {
        self.rakuten_unconfirmed.set(orders);
        self.rakuten_unconfirmed_oldest.set(oldest_seconds);
    }

    /// One series per provider: 1 while it (or a part of it, such as
    /// `rakuten_pay.inventories`) has a channel-wide problem.
    pub fn set_problem_gauges(&self, problems: &[(String, String)]) {
        for provider in Provider::ALL {
            let name = provider.as_str();
            let flagged = problems.iter().any(|(p, _)| {
                p.strip_prefix(name)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
            });
            self.provider_problem
                .get_or_create(&ProviderLabels {
                    provider: provider.as_str().to_string(),
                })
                .set(i64::from(flagged));
        }
    }

    /// The Rakuten low-stock watch made a `searchOrder` (`made`) or skipped
    /// one at its daily ceiling (`over_ceiling`).
    pub fn rakuten_low_stock_search(&self, result: &str) {
        self.rakuten_low_stock_searches
            .get_or_create(&ResultLabels {
                result: result.into(),
            })
            .inc();
    }

    /// One stock push call to `channel` ended (`ok` or `error`).
    pub fn stock_push_call(&self, channel: Channel, result: &str) {
        self.stock_push_calls
            .get_or_create(&ChannelResultLabels {
                channel: channel.as_str().into(),
                result: result.into(),
            })
            .inc();
    }

    /// `n` SKUs of an answered stock push to `channel` ended with `result`.
    pub fn stock_push_items(&self, channel: Channel, result: &str, n: usize) {
        if n == 0 {
            return;
        }
        self.stock_push_items
            .get_or_create(&ChannelResultLabels {
                channel: channel.as_str().into(),
                result: result.into(),
            })
            .inc_by(n as u64);
    }

    /// Sets the number of SKUs owed a push to `channel` (read from the store at scrape time).
    pub fn set_stock_push_owed(&self, channel: Channel, owed: i64) {
        self.stock_push_owed
            .get_or_create(&ChannelLabels {
                channel: channel.as_str().into(),
            })
            .set(owed);
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// What a failed provider call is counted under in
/// `ordersync_provider_call_errors`: the provider's error code for a refusal,
/// `transient` for timeouts, connection errors, 429 and 5xx.
pub trait FailureCode {
    fn failure_code(&self) -> &str;
}

fn call_seconds_histogram() -> Histogram {
    Histogram::new(CALL_SECONDS_BUCKETS)
}
