//! Every series whose labels are known in advance, at 0 from start-up, so
//! `rate(ordersync_webhooks_total[5m])` and alerts on it work before the
//! first event (a series that appears with its first increment loses it to
//! `rate`, and an alert on an absent series never fires).

use super::*;
use crate::domain::{Channel, Provider};

/// Webhook outcomes every listener can give (the rejection codes it answers).
const WEBHOOK_RESULTS: [&str; 6] = [
    "processed",
    "duplicate",
    "unauthorized",
    "invalid_body",
    "too_large",
    "forbidden_source",
];

const PUSH_CALL_RESULTS: [&str; 2] = ["ok", "error"];
const PUSH_ITEM_RESULTS: [&str; 5] = [
    "updated",
    "unknown_item",
    "refused",
    "not_listed",
    "set_aside",
];

impl Metrics {
    /// Creates the series above. Gauges whose 0 would mean something false
    /// (the poll age, the licence's days left) stay absent until known.
    pub(super) fn prime(&self) {
        for provider in Provider::ALL.into_iter().filter(|p| p.pushes_webhooks()) {
            for result in WEBHOOK_RESULTS {
                drop(self.webhooks.get_or_create(&WebhookLabels {
                    provider: provider.as_str().into(),
                    result: result.into(),
                }));
            }
        }
        for provider in Provider::ALL {
            let labels = ProviderLabels {
                provider: provider.as_str().into(),
            };
            drop(self.provider_problem.get_or_create(&labels));
            drop(self.call_seconds.get_or_create(&labels));
            drop(self.call_errors.get_or_create(&CallErrorLabels {
                provider: provider.as_str().into(),
                code: "transient".into(),
            }));
        }
        for result in ["made", "over_ceiling"] {
            drop(
                self.rakuten_low_stock_searches
                    .get_or_create(&ResultLabels {
                        result: result.into(),
                    }),
            );
        }
        for channel in Channel::ALL.into_iter().filter(|c| c.shows_stock()) {
            let channel = channel.as_str();
            let labelled = |result: &str| ChannelResultLabels {
                channel: channel.into(),
                result: result.into(),
            };
            for result in PUSH_CALL_RESULTS {
                drop(self.stock_push_calls.get_or_create(&labelled(result)));
            }
            for result in PUSH_ITEM_RESULTS {
                drop(self.stock_push_items.get_or_create(&labelled(result)));
            }
            drop(self.stock_push_owed.get_or_create(&ChannelLabels {
                channel: channel.into(),
            }));
        }
    }
}
