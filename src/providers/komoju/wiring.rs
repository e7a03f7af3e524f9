//! How KOMOJU starts under its `[komoju]` section: the client the router
//! captures, cancels and refunds with, and the watch of card
//! authorizations close to their lapse.

use std::sync::Arc;

use tokio::sync::Notify;

use super::client::{KomojuClient, KomojuClientSettings};
use super::lapse::LapseWatch;
use crate::domain::Provider;
use crate::providers::komoju::config::KomojuConfig;
use crate::providers::router::{StartError, Started};
use crate::worker::WorkerContext;

/// Starts KOMOJU: its client in the router, the lapse watch beside it.
pub fn start(
    cfg: &KomojuConfig,
    ctx: &WorkerContext,
    started: &mut Started,
) -> Result<(), StartError> {
    let failed = |e: &dyn std::fmt::Display| StartError::new(Provider::Komoju, e);
    let settings = KomojuClientSettings::from_config(cfg, ctx.http).map_err(|e| failed(&e))?;
    let client = KomojuClient::new(settings).map_err(|e| failed(&e))?;
    started.router.komoju = Some(Arc::new(client));
    started.run(LapseWatch {
        store: ctx.store.clone(),
        poke: Arc::new(Notify::new()),
    });
    Ok(())
}
