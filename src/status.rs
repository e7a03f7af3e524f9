//! The one status summary: what a person must know about a running
//! installation, read in one store snapshot. `ordersync status`, the status
//! page, `/metrics` and systemd's `STATUS=` line all show this summary (each
//! in its own form), so they never disagree about what needs a person.

pub mod scrape;

use std::time::Duration;

use rusqlite::Connection;

use crate::config_file::Config;
use crate::domain::Channel;
use crate::domain::Provider;
use crate::domain::time;
use crate::providers::polling;
use crate::providers::rakuten_pay::licence::Licence;
use crate::store::inbox::{self, RejectedSummary};
use crate::store::orders::RakutenUnconfirmed;
use crate::store::rakuten_skus::{self, MapReport};
use crate::store::stock_push::PushSummary;
use crate::store::{self, Store, kv, orders, outbox, stock, stock_push};

/// How much of the summary to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// What is cheap enough for every scrape and every `STATUS=` refresh:
    /// no orders per state, no stock invariant check, no unknown items.
    Brief,
    /// Everything, with at most this many items J-goods does not know.
    Full { unknown_items: u32 },
}

/// The summary.
#[derive(Debug, Clone, Default)]
pub struct Status {
    /// Orders per state, in the order of the state names (only with
    /// [`Detail::Full`]).
    pub per_state: Vec<(String, i64)>,
    /// Orders not yet allocated in full (`new` or `short`).
    pub orders_waiting: i64,
    /// Orders that need a person.
    pub attention: i64,
    /// Outbox calls waiting (pending) and given up (dead).
    pub calls_pending: i64,
    pub calls_dead: i64,
    /// Seconds the oldest pending call has waited since it was first due.
    pub oldest_call_seconds: Option<i64>,
    /// Each poller's last successful poll.
    pub polls: Vec<Poll>,
    /// The Rakuten licence key's expiry, as far as Rakuten lets it be read.
    pub licence: Licence,
    /// Channel-wide problems: `(provider name, the fix)`.
    pub problems: Vec<(String, String)>,
    /// Stock invariants that do not hold (only with [`Detail::Full`]).
    pub breaches: Vec<String>,
    /// Rakuten orders still at 100 (Rakuten cancels them after 14 days).
    pub rakuten_unconfirmed: RakutenUnconfirmed,
    /// Per pushing channel: stock changes owed (and, with [`Detail::Full`],
    /// items it does not know).
    pub stock_push: Vec<PushSummary>,
    /// Rakuten's SKU map, while stock is pushed to Rakuten (only with
    /// [`Detail::Full`]).
    pub rakuten_skus: Option<MapReport>,
    /// Webhooks refused in the last day, per provider and reason.
    pub rejected: Vec<RejectedSummary>,
    /// The product master, when there is one: items J-goods refused, SKUs
    /// ordered that it lacks (from the newest 10,000 order lines; only with
    /// [`Detail::Full`], so a scrape does not pay for it).
    pub catalog: Option<crate::store::catalog::CatalogStatus>,
}

/// Refused webhooks in an hour that make a person look: a burst of
/// `unauthorized` is most likely a wrong webhook secret, with orders then
/// trickling in only through the sweep.
pub const UNAUTHORIZED_BURST: i64 = 3;

/// What a group of refused webhooks most likely means, and what to check
/// (Japanese first).
pub fn rejected_hint(r: &RejectedSummary) -> &'static str {
    match (r.provider.as_str(), r.code.as_str()) {
        ("jgoods", "unauthorized") => {
            "J-goods の署名が合いません。jgoods-webhook-secret を確認してください / J-goods secret mismatch? \
             Check the webhook secret (and webhook_auth)"
        }
        ("komoju", "unauthorized") => {
            "KOMOJU の署名が合いません。komoju-webhook-secret を確認してください / KOMOJU secret mismatch? \
             Check the webhook secret"
        }
        (_, "forbidden_source") => {
            "送信元が webhook_allow_from にありません / the sender is not in webhook_allow_from"
        }
        (_, "invalid_body") => "本文が契約と合いません / bodies that do not match the contract",
        (_, "too_large") => "本文が大きすぎます / bodies over the limit",
        _ => "",
    }
}

/// One poller's last success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Poll {
    /// The name it records under (`rakuten_pay`, `jgoods`, …).
    pub provider: String,
    /// RFC 3339, as recorded.
    pub at: String,
    /// Seconds since then, when the time is readable.
    pub age_seconds: Option<i64>,
}

impl Status {
    /// Reads the summary inside one read transaction.
    pub fn read(c: &Connection, detail: Detail) -> store::Result<Status> {
        let now = time::now();
        let (per_state, attention) = match detail {
            Detail::Brief => (Vec::new(), orders::attention_count(c)?),
            Detail::Full { .. } => orders::counts(c)?,
        };
        let (calls_pending, calls_dead, oldest_call_seconds) = outbox::depth(c)?;
        let recorded = kv::with_prefix(c, "poll.")?;
        let ages = polling::poll_ages(&recorded, now);
        let polls = recorded
            .into_iter()
            .filter_map(|(key, at)| {
                let provider = key.strip_prefix("poll.")?.strip_suffix(".last_success")?;
                let age_seconds = ages.iter().find(|(p, _)| p == provider).map(|(_, a)| *a);
                Some(Poll {
                    provider: provider.to_string(),
                    at,
                    age_seconds,
                })
            })
            .collect();
        let problems = kv::with_prefix(c, crate::problems::PREFIX)?
            .into_iter()
            .map(|(k, reason)| {
                let what = k.trim_start_matches(crate::problems::PREFIX).to_string();
                (what, reason)
            })
            .collect();
        let (breaches, unknown_items) = match detail {
            Detail::Brief => (Vec::new(), 0),
            Detail::Full { unknown_items } => (stock::invariant_breaches(c)?, unknown_items),
        };
        let stock_push = stock_push::summary(c, unknown_items)?;
        let rakuten_skus = match detail {
            Detail::Full { unknown_items }
                if stock_push.iter().any(|p| p.channel == Channel::Rakuten) =>
            {
                Some(rakuten_skus::report(c, unknown_items)?)
            }
            _ => None,
        };
        Ok(Status {
            per_state,
            orders_waiting: orders::waiting_count(c)?,
            attention,
            calls_pending,
            calls_dead,
            oldest_call_seconds,
            polls,
            licence: Licence::read(c, now)?,
            problems,
            breaches,
            rakuten_unconfirmed: orders::rakuten_unconfirmed(c)?,
            stock_push,
            rakuten_skus,
            catalog: match detail {
                Detail::Brief => None,
                Detail::Full { .. } => crate::store::catalog::summary(c)?,
            },
            rejected: inbox::rejected_since(
                c,
                &time::rfc3339(now - chrono::Duration::days(1)),
                &time::rfc3339(now - chrono::Duration::hours(1)),
            )?,
        })
    }

    /// Reads the summary from `store`.
    pub async fn load(store: &Store, detail: Detail) -> store::Result<Status> {
        store.read(move |c| Status::read(c, detail)).await
    }

    /// Whether a poller has fallen behind its schedule (an enabled one only:
    /// a disabled provider's old timestamp is not an alarm).
    pub fn is_behind(poll: &Poll, config: &Config) -> bool {
        let interval = Provider::parse(&poll.provider).and_then(|p| config.poll_interval(p));
        Status::is_behind_by(poll, interval)
    }

    /// Whether `poll` is behind a poller meant to poll every `interval`
    /// (`None`: not enabled, never behind).
    pub fn is_behind_by(poll: &Poll, interval: Option<Duration>) -> bool {
        match (poll.age_seconds, interval) {
            (Some(age), Some(interval)) => {
                polling::is_stale(Duration::from_secs(age.unsigned_abs()), interval)
            }
            _ => false,
        }
    }

    /// Whether a person must act: `ordersync status` exits 1.
    pub fn needs_attention(&self, config: &Config) -> bool {
        self.attention > 0
            || self.calls_dead > 0
            || !self.breaches.is_empty()
            || !self.problems.is_empty()
            || self.licence.expiring()
            || self.polls.iter().any(|p| Status::is_behind(p, config))
            || self.rejected_burst()
            || self.catalog.as_ref().is_some_and(|c| c.refused_count > 0)
    }

    /// A burst of unauthorized webhooks in the last hour.
    pub fn rejected_burst(&self) -> bool {
        self.rejected
            .iter()
            .any(|r| r.code == "unauthorized" && r.last_hour >= UNAUTHORIZED_BURST)
    }

    /// Seconds since the oldest unconfirmed Rakuten order was placed (0 when none).
    pub fn rakuten_unconfirmed_oldest_seconds(&self) -> i64 {
        self.rakuten_unconfirmed
            .oldest_ordered_at
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map_or(0, |t| (time::now() - t).num_seconds().max(0))
    }
}
