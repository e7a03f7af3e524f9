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
//! The set of flagged providers is kept in memory as well, so the common case
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
    /// Provider → the reason recorded in the store.
    flagged: Arc<Mutex<HashMap<Provider, String>>>,
}

impl ProviderProblems {
    /// Reads the problems recorded by an earlier run, so they can be cleared.
    pub async fn load(store: &Store) -> store::Result<ProviderProblems> {
        let rows = store.read(|c| kv::with_prefix(c, PREFIX)).await?;
        let flagged = rows
            .into_iter()
            .filter_map(|(k, v)| Some((Provider::parse(k.strip_prefix(PREFIX)?)?, v)))
            .collect();
        Ok(ProviderProblems {
            store: Some(store.clone()),
            flagged: Arc::new(Mutex::new(flagged)),
        })
    }

    /// Records `reason` as `provider`'s problem. Logged and written only when
    /// it is new or different, so a worker that meets it on every turn says it once.
    pub async fn flag(&self, provider: Provider, reason: &str) {
        {
            let mut flagged = self.flagged.lock().unwrap_or_else(PoisonError::into_inner);
            if flagged.get(&provider).map(String::as_str) == Some(reason) {
                return;
            }
            flagged.insert(provider, reason.to_string());
        }
        tracing::error!(
            provider = provider.as_str(),
            reason,
            "a provider refuses this installation's configuration"
        );
        let Some(store) = &self.store else { return };
        let (key, reason) = (key(provider), reason.to_string());
        let written = store
            .write(move |tx| kv::set(tx, &key, &reason, &time::rfc3339(time::now())))
            .await;
        if let Err(e) = written {
            tracing::error!(error = %e, provider = provider.as_str(), "cannot record the provider's problem");
            self.forget(provider);
        }
    }

    /// The provider answered normally: its problem, if any, is over.
    pub async fn clear(&self, provider: Provider) {
        let was = self
            .flagged
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&provider);
        if was.is_none() {
            return;
        }
        tracing::info!(
            provider = provider.as_str(),
            "the provider accepts this installation's configuration again"
        );
        let Some(store) = &self.store else { return };
        let key = key(provider);
        if let Err(e) = store.write(move |tx| kv::delete(tx, &key)).await {
            tracing::error!(error = %e, provider = provider.as_str(), "cannot clear the provider's problem");
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

    /// The reason currently recorded for `provider`.
    pub fn reason(&self, provider: Provider) -> Option<String> {
        self.flagged
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&provider)
            .cloned()
    }

    fn forget(&self, provider: Provider) {
        self.flagged
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&provider);
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
        assert!(
            store
                .read(|c| kv::with_prefix(c, PREFIX))
                .await
                .unwrap()
                .is_empty()
        );
    }
}
