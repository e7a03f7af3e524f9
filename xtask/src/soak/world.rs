//! The outside world of a soak: one simulator per provider, configured so
//! that every flow finishes in seconds, and the daemon's config pointing at
//! them. The simulators outlive every daemon process: they are what
//! remembers, across kills, what the daemon told the outside world.

use std::time::Duration;

use tokio::net::TcpListener;

use crate::bench::daemon::{self, DaemonProcess, SECRET};
use ordersync::sim::atobarai_com::AtobaraiSimSettings;
use ordersync::sim::komoju::KomojuSimSettings as _;
use ordersync::sim::kuroneko::KuronekoSimSettings;
use ordersync::sim::rakuten_pay::RakutenPaySimSettings;
use ordersync_sim::atobarai_com::{self as atobarai_sim, AtobaraiSimConfig, AtobaraiSimHandle};
use ordersync_sim::jgoods::{self as jgoods_sim, JgoodsSimConfig, JgoodsSimHandle, SimWebhookAuth};
use ordersync_sim::komoju::{self as komoju_sim, KomojuSimConfig, KomojuSimHandle};
use ordersync_sim::kuroneko::{self as kuroneko_sim, KuronekoSimConfig, KuronekoSimHandle};
use ordersync_sim::rakuten_pay::{self as rakuten_sim, RakutenSimConfig, RakutenSimHandle};

/// The SKUs every channel sells; few, so that orders compete for them.
pub const SKUS: [&str; 6] = ["SOAK-1", "SOAK-2", "SOAK-3", "SOAK-4", "SOAK-5", "SOAK-6"];

pub struct World {
    pub jgoods: JgoodsSimHandle,
    jgoods_cfg: JgoodsSimConfig,
    pub rakuten: RakutenSimHandle,
    pub komoju: KomojuSimHandle,
    pub kuroneko: KuronekoSimHandle,
    pub atobarai: AtobaraiSimHandle,
}

async fn loopback() -> anyhow::Result<TcpListener> {
    Ok(TcpListener::bind("127.0.0.1:0").await?)
}

impl World {
    pub async fn start() -> anyhow::Result<World> {
        // Webhooks are retried quickly and for long: a push that meets a dead
        // daemon must get through once it is back, as at the real providers
        // (which retry for a day).
        let jgoods_cfg = JgoodsSimConfig {
            webhook_auth: SimWebhookAuth::Hmac {
                secret: SECRET.into(),
            },
            webhook_retry_initial: Duration::from_millis(50),
            webhook_retry_max: Duration::from_millis(200),
            webhook_retry_budget: Duration::from_secs(3600),
            reply_delay: Duration::from_millis(300),
            ..JgoodsSimConfig::default()
        };
        let jgoods = jgoods_sim::start(loopback().await?, jgoods_cfg.clone()).await?;
        for sku in SKUS {
            jgoods.register_item(sku);
        }
        let rakuten = rakuten_sim::start(
            loopback().await?,
            RakutenSimConfig {
                processing_delay: Duration::from_secs(1),
                ..RakutenSimConfig::default()
            },
        )
        .await?;
        let komoju = komoju_sim::start(
            loopback().await?,
            KomojuSimConfig {
                webhook_retry_initial: Duration::from_millis(50),
                webhook_retry_max: Duration::from_millis(200),
                webhook_retry_budget: Duration::from_secs(3600),
                ..KomojuSimConfig::default()
            },
        )
        .await?;
        // No pause after a credit request: the daemon's settle_delay is 0s.
        let kuroneko = kuroneko_sim::start(
            loopback().await?,
            KuronekoSimConfig {
                settle_window: Duration::ZERO,
                ..KuronekoSimConfig::default()
            },
        )
        .await?;
        let atobarai = atobarai_sim::start(
            loopback().await?,
            AtobaraiSimConfig {
                cancel_delay: Duration::from_secs(1),
                ..AtobaraiSimConfig::default()
            },
        )
        .await?;
        Ok(World {
            jgoods,
            jgoods_cfg,
            rakuten,
            komoju,
            kuroneko,
            atobarai,
        })
    }

    /// Every section after `[daemon]`: short retry delays and polls so that
    /// work left by a kill is picked up within the soak's time.
    fn sections(&self) -> String {
        let jgoods = daemon::jgoods_section(&self.jgoods, &self.jgoods_cfg, None);
        format!(
            "\n[retry]\ninitial_delay = \"20ms\"\nmax_delay = \"250ms\"\ngive_up_after = \"1h\"\n\
             {jgoods}stock_push_interval = \"1s\"\n\
             {}poll_interval = \"1s\"\nrequest_interval = \"0s\"\n\
             {}\
             {}settle_delay = \"0s\"\npoll_interval = \"1s\"\n\
             {}poll_interval = \"1s\"\n",
            self.rakuten.config_section(),
            self.komoju.config_section(),
            self.kuroneko.config_section(),
            self.atobarai.config_section(),
        )
    }

    /// Starts a daemon on `dir` (the same data directory every time) and
    /// points the webhook senders at it.
    pub async fn spawn_daemon(&self, dir: &std::path::Path) -> anyhow::Result<DaemonProcess> {
        let d = daemon::spawn(dir, &self.sections()).await?;
        self.point_webhooks(&d.webhook_url);
        Ok(d)
    }

    /// Starts a daemon without waiting for it, webhooks pointed at it: the
    /// soak kills it during start-up.
    pub fn launch_daemon(&self, dir: &std::path::Path) -> anyhow::Result<daemon::Launched> {
        let d = daemon::launch(dir, &self.sections())?;
        self.point_webhooks(&d.webhook_url());
        Ok(d)
    }

    fn point_webhooks(&self, jgoods_url: &str) {
        self.jgoods.set_webhook_url(jgoods_url.to_string());
        self.komoju
            .set_webhook_url(jgoods_url.replace("/webhooks/jgoods", "/webhooks/komoju"));
    }

    /// Makes one provider misbehave for its next `times` calls with a
    /// fault a real one shows now and then (a 503, a reset connection, a
    /// 429 or a maintenance page), all of which the daemon must ride out by
    /// retrying. Returns what it did, for the report.
    pub fn inject_fault(&self, pick: u32, times: u32) -> &'static str {
        match pick % 8 {
            0 => {
                self.jgoods.inject(
                    jgoods_sim::Endpoint::Any,
                    jgoods_sim::Fault::Status(503),
                    times,
                );
                "J-goods 503"
            }
            1 => {
                let fault = jgoods_sim::Fault::TooManyRequests {
                    retry_after_secs: 1,
                };
                self.jgoods.inject(jgoods_sim::Endpoint::Any, fault, times);
                "J-goods 429"
            }
            2 => {
                self.rakuten.inject(
                    rakuten_sim::Endpoint::Any,
                    rakuten_sim::Fault::Status(503),
                    times,
                );
                "Rakuten 503"
            }
            3 => {
                let fault = rakuten_sim::Fault::Maintenance {
                    retry_after_secs: None,
                };
                self.rakuten
                    .inject(rakuten_sim::Endpoint::Any, fault, times);
                "Rakuten maintenance"
            }
            4 => {
                self.komoju.inject(
                    komoju_sim::Endpoint::Any,
                    komoju_sim::Fault::Status(503),
                    times,
                );
                "KOMOJU 503"
            }
            5 => {
                let fault =
                    komoju_sim::Fault::Transport(ordersync_sim::transport::TransportFault::Reset);
                self.komoju.inject(komoju_sim::Endpoint::Any, fault, times);
                "KOMOJU reset"
            }
            6 => {
                let reset = ordersync_sim::transport::TransportFault::Reset;
                let fault = kuroneko_sim::Fault::Transport(reset);
                self.kuroneko
                    .inject(kuroneko_sim::Endpoint::Any, fault, times);
                "Kuroneko reset"
            }
            _ => {
                self.atobarai
                    .inject_any(atobarai_sim::Fault::Status(503), times);
                "Atobarai.com 503"
            }
        }
    }

    pub async fn shutdown(&self) {
        self.jgoods.shutdown().await;
        self.rakuten.shutdown().await;
        self.komoju.shutdown().await;
        self.kuroneko.shutdown().await;
        self.atobarai.shutdown().await;
    }
}
