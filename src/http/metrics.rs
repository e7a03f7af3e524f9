//! Prometheus metrics, one registry per daemon instance (several daemons can
//! run in one test process).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

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
struct ResultLabels {
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

pub struct Metrics {
    registry: Registry,
    webhooks: Family<WebhookLabels, Counter>,
    decisions: Family<KindLabels, Counter>,
    outbox_pending: Gauge,
    outbox_dead: Gauge,
    outbox_oldest_age: Gauge,
    attention: Gauge,
    poll_age: Family<ProviderLabels, Gauge>,
    license_days_left: Gauge,
    stock_push_calls: Family<ResultLabels, Counter>,
    stock_push_items: Family<ResultLabels, Counter>,
    stock_push_owed: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("ordersync");
        let webhooks = Family::<WebhookLabels, Counter>::default();
        let decisions = Family::<KindLabels, Counter>::default();
        let outbox_pending = Gauge::default();
        let outbox_dead = Gauge::default();
        let outbox_oldest_age = Gauge::default();
        let attention = Gauge::default();
        let poll_age = Family::<ProviderLabels, Gauge>::default();
        let license_days_left = Gauge::default();
        registry.register(
            "webhooks",
            "Webhooks received, by provider and result",
            webhooks.clone(),
        );
        registry.register(
            "decisions",
            "Decisions written, by event kind",
            decisions.clone(),
        );
        registry.register(
            "outbox_pending",
            "Provider calls waiting in the outbox",
            outbox_pending.clone(),
        );
        registry.register(
            "outbox_dead",
            "Provider calls that gave up and need a person",
            outbox_dead.clone(),
        );
        registry.register(
            "outbox_oldest_pending_seconds",
            "Age of the oldest waiting provider call",
            outbox_oldest_age.clone(),
        );
        registry.register(
            "orders_attention",
            "Orders a person must look at",
            attention.clone(),
        );
        registry.register(
            "poll_last_success_age_seconds",
            "Seconds since each poller last finished a poll",
            poll_age.clone(),
        );
        registry.register(
            "rakuten_license_days_left",
            "Days until the Rakuten licence key expires",
            license_days_left.clone(),
        );
        let stock_push_calls = Family::<ResultLabels, Counter>::default();
        let stock_push_items = Family::<ResultLabels, Counter>::default();
        let stock_push_owed = Gauge::default();
        registry.register(
            "stock_push_calls",
            "PUT /item.json calls to J-goods, by result (ok, error)",
            stock_push_calls.clone(),
        );
        registry.register(
            "stock_push_items",
            "SKUs in stock pushes J-goods answered, by result (updated, unknown_item, refused)",
            stock_push_items.clone(),
        );
        registry.register(
            "stock_push_owed",
            "SKUs whose stock changed since J-goods was last told",
            stock_push_owed.clone(),
        );
        Metrics {
            registry,
            stock_push_calls,
            stock_push_items,
            stock_push_owed,
            webhooks,
            decisions,
            outbox_pending,
            outbox_dead,
            outbox_oldest_age,
            attention,
            poll_age,
            license_days_left,
        }
    }

    pub fn webhook(&self, provider: &str, result: &str) {
        self.webhooks
            .get_or_create(&WebhookLabels {
                provider: provider.into(),
                result: result.into(),
            })
            .inc();
    }

    pub fn decision(&self, kind: &str) {
        self.decisions
            .get_or_create(&KindLabels { kind: kind.into() })
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

    /// Sets the pollers' gauges: seconds since each last success, and the
    /// Rakuten licence's days left when known.
    pub fn set_poll_gauges(&self, ages: &[(String, i64)], license_days_left: Option<i64>) {
        for (provider, age) in ages {
            self.poll_age
                .get_or_create(&ProviderLabels {
                    provider: provider.clone(),
                })
                .set(*age);
        }
        if let Some(days) = license_days_left {
            self.license_days_left.set(days);
        }
    }

    /// One `PUT /item.json` call ended (`ok` or `error`).
    pub fn stock_push_call(&self, result: &str) {
        self.stock_push_calls
            .get_or_create(&ResultLabels {
                result: result.into(),
            })
            .inc();
    }

    /// `n` SKUs of an answered stock push ended with `result`.
    pub fn stock_push_items(&self, result: &str, n: usize) {
        self.stock_push_items
            .get_or_create(&ResultLabels {
                result: result.into(),
            })
            .inc_by(n as u64);
    }

    /// Sets the number of SKUs owed a push (read from the store at scrape time).
    pub fn set_stock_push_owed(&self, owed: i64) {
        self.stock_push_owed.set(owed);
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}
