//! How Atobarai.com starts under its `[atobarai_com]` section.

use std::sync::Arc;

use super::client::{AtobaraiClient, AtobaraiClientSettings};
use super::provider::AtobaraiCredit;
use crate::domain::Provider;
use crate::providers::credit::atobarai_com::config::AtobaraiComConfig;
use crate::providers::router::{StartError, Started};
use crate::worker::WorkerContext;

/// Starts Atobarai.com: its provider in the router, its poller beside it.
pub fn start(
    cfg: &AtobaraiComConfig,
    ctx: &WorkerContext,
    started: &mut Started,
) -> Result<(), StartError> {
    let settings = AtobaraiClientSettings::from_config(cfg, ctx.http);
    let client =
        AtobaraiClient::new(settings).map_err(|e| StartError::new(Provider::AtobaraiCom, e))?;
    let credit = AtobaraiCredit::new(client, cfg.fee_mode, cfg.fee_bands.clone());
    let poller = "Atobarai.com poller";
    crate::providers::credit::wiring::start(
        Arc::new(credit),
        cfg.poll_interval,
        poller,
        ctx,
        started,
    );
    Ok(())
}
