//! Channel-wide problems a person must fix: a key the provider refuses, a
//! server address the provider has not registered, a wrong client secret.
//!
//! Retrying cannot help until the config changes, so the workers neither loop
//! nor give calls up: they record the problem once, under `attention.<provider>`
//! in the store (which `status`, the status page and `/metrics` show, and which
//! makes `ordersync status` exit 1), and wait. The problem is cleared as soon as
//! the provider answers normally again (after a config reload, or once a new key
//! starts working).
//!
//! A part of a provider that fails on its own while the rest works (Rakuten's
//! stock push, when the key lacks the `items.search` or `inventories`
//! function) has a problem of its own, named `<provider>.<part>`
//! ([`ProviderProblems::flag_part`]): the provider's other calls neither
//! clear it nor are cleared by it; only a call of that part that works does.
//!
//! The set of flagged problems is kept in memory as well, so the common case
//! (nothing is wrong) costs no store write per call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::call::CallError;

use crate::domain::Provider;
use crate::domain::time;
use crate::store::{self, Store, kv};

/// The key prefix of channel-wide problems in the kv table.
pub const PREFIX: &str = "attention.";

/// Key under which a channel-wide problem of `provider` is kept.
pub fn key(provider: Provider) -> String {
    format!("{PREFIX}{provider}")
}

/// The problems of every provider, shared by every worker of one daemon.
#[derive(Clone, Default)]
pub struct ProviderProblems {
    store: Option<Store>,
    /// Problem name (`rakuten_pay`, `rakuten_pay.inventories`) → the reason
    /// recorded in the store.
    flagged: Arc<Mutex<HashMap<String, String>>>,
}

impl ProviderProblems {
    /// Reads the problems recorded by an earlier run, so they can be cleared.
    pub async fn load(store: &Store) -> store::Result<ProviderProblems> {
        let rows = store.read(|c| kv::with_prefix(c, PREFIX)).await?;
        let flagged = rows
            .into_iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(PREFIX)?.to_string(), v)))
            .collect();
        Ok(ProviderProblems {
            store: Some(store.clone()),
            flagged: Arc::new(Mutex::new(flagged)),
        })
    }

    /// Records `reason` as `provider`'s problem. Logged and written only when
    /// it is new or different, so a worker that meets it on every turn says it once.
    pub async fn flag(&self, provider: Provider, reason: &str) {
        self.flag_named(provider.as_str(), reason).await;
    }

    /// Records `reason` as the problem of `provider`'s `part` alone.
    pub async fn flag_part(&self, provider: Provider, part: &str, reason: &str) {
        self.flag_named(&format!("{provider}.{part}"), reason).await;
    }

    /// The provider answered normally: its problem, if any, is over.
    pub async fn clear(&self, provider: Provider) {
        self.clear_named(provider.as_str()).await;
    }

    /// A call of `provider`'s `part` worked: that part's problem is over.
    pub async fn clear_part(&self, provider: Provider, part: &str) {
        self.clear_named(&format!("{provider}.{part}")).await;
    }

    async fn flag_named(&self, name: &str, reason: &str) {
        {
            let mut flagged = self.flagged.lock().unwrap_or_else(PoisonError::into_inner);
            if flagged.get(name).map(String::as_str) == Some(reason) {
                return;
            }
            flagged.insert(name.to_string(), reason.to_string());
        }
        tracing::error!(
            problem = name,
            reason,
            "a provider refuses this installation's configuration"
        );
        let Some(store) = &self.store else { return };
        let (key, reason) = (format!("{PREFIX}{name}"), reason.to_string());
        let written = store
            .write(move |tx| kv::set(tx, &key, &reason, &time::rfc3339(time::now())))
            .await;
        if let Err(e) = written {
            tracing::error!(error = %e, problem = name, "cannot record the provider's problem");
            self.forget(name);
        }
    }

    async fn clear_named(&self, name: &str) {
        let was = self
            .flagged
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name);
        if was.is_none() {
            return;
        }
        tracing::info!(
            problem = name,
            "the provider accepts this installation's configuration again"
        );
        let Some(store) = &self.store else { return };
        let key = format!("{PREFIX}{name}");
        if let Err(e) = store.write(move |tx| kv::delete(tx, &key)).await {
            tracing::error!(error = %e, problem = name, "cannot clear the provider's problem");
        }
    }

    /// Records what a worker's turn with `provider` showed: a configuration
    /// refusal flags it, a turn that worked clears it, anything else (an
    /// outage, a timeout) says nothing about the configuration.
    pub async fn observe(&self, provider: Provider, outcome: Result<(), &CallError>) {
        match outcome {
            Ok(()) => self.clear(provider).await,
            Err(CallError::Configuration { fix, .. }) => self.flag(provider, fix).await,
            Err(CallError::Transient { .. } | CallError::Rejected { .. }) => {}
        }
    }

    /// Records what a call of `provider`'s `part` showed: one that worked
    /// clears the part's problem; a configuration refusal flags it, unless
    /// the provider itself is refused (its key: the provider's own problem
    /// says so, and the part's would send the merchant elsewhere).
    pub async fn observe_part(
        &self,
        provider: Provider,
        part: &str,
        outcome: Result<(), &CallError>,
    ) {
        match outcome {
            Ok(()) => self.clear_part(provider, part).await,
            Err(CallError::Configuration { .. }) if self.reason(provider).is_some() => {
                self.clear_part(provider, part).await;
            }
            Err(CallError::Configuration { fix, .. }) => {
                self.flag_part(provider, part, fix).await;
            }
            Err(CallError::Transient { .. } | CallError::Rejected { .. }) => {}
        }
    }

    /// The reason currently recorded for `provider`.
    pub fn reason(&self, provider: Provider) -> Option<String> {
        self.flagged
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(provider.as_str())
            .cloned()
    }

    fn forget(&self, name: &str) {
        self.flagged
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn flagged_once_cleared_once_and_seen_by_a_later_run() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path(), 0).unwrap();
        let problems = ProviderProblems::load(&store).await.unwrap();
        problems.flag(Provider::Jgoods, "wrong secret").await;
        problems.flag(Provider::Jgoods, "wrong secret").await;
        let stored = store.read(|c| kv::with_prefix(c, PREFIX)).await.unwrap();
        assert_eq!(
            stored,
            vec![("attention.jgoods".to_string(), "wrong secret".to_string())]
        );

        // A restart knows the problem, so the first normal answer clears it.
        let later = ProviderProblems::load(&store).await.unwrap();
        assert_eq!(
            later.reason(Provider::Jgoods).as_deref(),
            Some("wrong secret")
        );
        later.clear(Provider::Jgoods).await;
        later.clear(Provider::RakutenPay).await;
        // A part's problem is its own: the provider's answers leave it alone.
        later
            .flag_part(Provider::RakutenPay, "inventories", "tick inventories")
            .await;
        later.clear(Provider::RakutenPay).await;
        let stored = store.read(|c| kv::with_prefix(c, PREFIX)).await.unwrap();
        assert_eq!(stored.len(), 1, "{stored:?}");
        let again = ProviderProblems::load(&store).await.unwrap();
        again.clear_part(Provider::RakutenPay, "inventories").await;
        assert!(
            store
                .read(|c| kv::with_prefix(c, PREFIX))
                .await
                .unwrap()
                .is_empty()
        );
    }
}
