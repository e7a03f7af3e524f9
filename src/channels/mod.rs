//! The channels: one folder per provider, each holding everything about it.
//!
//! A channel folder has the same parts, so a newcomer knows where to look:
//! - `wire`: the provider's JSON or XML, exactly as the contract spells it;
//! - `client`: its HTTP calls (built with [`http_client`]), answering neutral types;
//! - `rules`: pure decisions over neutral types (no I/O, unit-tested);
//! - `apply`: load the stored state, decide with `rules`, write in one transaction;
//! - `calls`: the network part of each outbox [`Call`] of the channel, run by
//!   the dispatcher ([`crate::outbox`]) through [`Channels::run`];
//! - `webhook`, `poller`, `sweep`: how inputs arrive (the shared steps of a
//!   webhook are in [`webhook`]).
//!
//! A new provider is one folder, one config section, one [`Call`] arm in
//! [`Channels::run`], one [`Provider`] and one line of wiring in `app.rs`.

pub mod credit;
pub mod http_client;
pub mod jgoods;
pub mod komoju;
pub mod pacer;
pub mod polling;
pub mod rakuten_pay;
pub mod stock_push;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::domain::credit::DeferredProvider;
use crate::domain::names::stored_names;
use crate::engine::Call;
use crate::outbox::{self, Attempt, CallContext};
use crate::store;

stored_names! {
    /// Every provider ordersync talks to, under the name the store, the metrics
    /// and the config use for it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    pub enum Provider {
        Jgoods = "jgoods",
        RakutenPay = "rakuten_pay",
        Komoju = "komoju",
        Kuroneko = "kuroneko",
        AtobaraiCom = "atobarai_com",
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<DeferredProvider> for Provider {
    fn from(p: DeferredProvider) -> Provider {
        match p {
            DeferredProvider::Kuroneko => Provider::Kuroneko,
            DeferredProvider::AtobaraiCom => Provider::AtobaraiCom,
        }
    }
}

/// The enabled channels' clients: what the dispatcher makes calls with.
#[derive(Clone, Default)]
pub struct Channels {
    pub jgoods: Option<Arc<jgoods::client::JgoodsClient>>,
    pub rakuten: Option<Arc<rakuten_pay::poller::RakutenApi>>,
    pub komoju: Option<Arc<komoju::client::KomojuClient>>,
    /// Deferred-payment providers (Kuroneko Atobarai, Atobarai.com) enabled.
    pub credit: credit::CreditProviders,
    pub credit_policy: credit::rules::CreditPolicy,
}

impl Channels {
    /// Makes the call of one outbox row with the channel it belongs to; a call
    /// of a channel that is not enabled waits.
    pub async fn run(&self, ctx: &CallContext<'_>) -> store::Result<Attempt> {
        let waits = || Ok(outbox::not_configured(ctx.row.call.provider().as_str()));
        match &ctx.row.call {
            Call::JgoodsPutOrder { .. } | Call::JgoodsFetchOrder { .. } => match &self.jgoods {
                Some(client) => jgoods::calls::run(client, ctx).await,
                None => waits(),
            },
            Call::RakutenShip { .. } => match &self.rakuten {
                Some(api) => rakuten_pay::calls::run(api, ctx).await,
                None => waits(),
            },
            Call::KomojuCapture { .. }
            | Call::KomojuCancel { .. }
            | Call::KomojuRefund { .. }
            | Call::KomojuFetch { .. } => match &self.komoju {
                Some(client) => komoju::calls::run(client, ctx).await,
                None => waits(),
            },
            Call::CreditRequest { .. } | Call::CreditShip { .. } | Call::CreditCancel { .. } => {
                credit::calls::run(&self.credit, self.credit_policy, ctx).await
            }
        }
    }
}

/// How an outbound provider call failed, as the dispatcher needs to know it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// Worth retrying later: connection errors, timeouts, 429, 5xx, expired tokens.
    #[error("transient: {reason}")]
    Transient {
        reason: String,
        /// The provider's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
    /// The provider refused the call for good (a 4xx with an error code).
    #[error("rejected ({http_status} {code}): {message}")]
    Rejected {
        http_status: u16,
        code: String,
        message: String,
    },
    /// The provider refuses this installation, not this call: a wrong or
    /// expired key, a server address it has not registered, a bad client
    /// secret. Every call would fail the same way until a person changes the
    /// config, so it is neither retried in a loop nor given up (see
    /// [`crate::problems`]). `fix` is what the merchant reads: Japanese first.
    #[error("configuration refused ({code}): {fix}")]
    Configuration { code: String, fix: String },
}

/// A secret the call needs could not be read: no call can be made until a
/// person sets it, like a refused key.
impl From<crate::config::SecretUnreadable> for CallError {
    fn from(e: crate::config::SecretUnreadable) -> Self {
        CallError::Configuration {
            code: "SECRET_UNREADABLE".to_owned(),
            fix: format!("秘密情報を読めません。設定してください / {e}"),
        }
    }
}

/// The store failing under a provider call: retried like a transient failure
/// (the disk or the writer is busy, not the provider).
impl From<crate::store::StoreError> for CallError {
    fn from(e: crate::store::StoreError) -> Self {
        CallError::transient(format!("store: {e}"))
    }
}

impl CallError {
    pub fn transient(reason: impl Into<String>) -> Self {
        CallError::Transient {
            reason: reason.into(),
            retry_after: None,
        }
    }

    pub fn configuration(code: impl Into<String>, fix: impl Into<String>) -> Self {
        CallError::Configuration {
            code: code.into(),
            fix: fix.into(),
        }
    }

    /// Classifies a reqwest transport error (never carries a secret: URLs only).
    pub fn from_transport(e: reqwest::Error) -> Self {
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "connection failed"
        } else if e.is_decode() || e.is_body() {
            "unreadable response body"
        } else {
            "request failed"
        };
        CallError::transient(format!("{what}: {}", e.without_url()))
    }
}

/// Parses a `Retry-After` header given in seconds (the only form providers here use).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(|s| Duration::from_secs(s.min(24 * 3600)))
}
