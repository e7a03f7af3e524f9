//! How Kuroneko Atobarai starts under its `[kuroneko]` section.

use std::sync::Arc;

use super::client::{KuronekoClient, KuronekoClientSettings};
use super::provider::KuronekoCredit;
use crate::domain::Provider;
use crate::providers::credit::kuroneko::config::KuronekoConfig;
use crate::providers::router::{StartError, Started};
use crate::worker::WorkerContext;

/// Starts Kuroneko Atobarai: its provider in the router, its poller beside it.
pub fn start(
    cfg: &KuronekoConfig,
    ctx: &WorkerContext,
    started: &mut Started,
) -> Result<(), StartError> {
    let failed = |e: &dyn std::fmt::Display| StartError::new(Provider::Kuroneko, e);
    let settings = KuronekoClientSettings::from_config(cfg, ctx.http).map_err(|e| failed(&e))?;
    let credit = KuronekoCredit {
        client: KuronekoClient::new(settings).map_err(|e| failed(&e))?,
        settle_delay: cfg.settle_delay,
    };
    let poller = "Kuroneko Atobarai poller";
    crate::providers::credit::wiring::start(
        Arc::new(credit),
        cfg.poll_interval,
        poller,
        ctx,
        started,
    );
    Ok(())
}
