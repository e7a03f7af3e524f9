//! The daemon as a child process, configured the way a merchant would, and
//! how long it took to tell its service manager it is ready.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::net::{TcpListener, UnixDatagram};
use tokio::process::{Child, Command};

use ordersync_sim::jgoods::{JgoodsSimConfig, JgoodsSimHandle, SimWebhookAuth};

/// The admin token and the J-goods webhook secret of every benchmark daemon.
pub const SECRET: &str = "bench-webhook-secret-0123456789abcdef";

pub struct DaemonProcess {
    child: Child,
    pub pid: u32,
    pub webhook_url: String,
    pub admin: String,
    /// From spawning the process to `READY=1` on `NOTIFY_SOCKET`.
    pub ready_in: Duration,
    _notify: UnixDatagram,
}

/// The J-goods simulator, signing its webhooks with [`SECRET`].
pub async fn start_jgoods_sim() -> anyhow::Result<(Arc<JgoodsSimHandle>, JgoodsSimConfig)> {
    let cfg = JgoodsSimConfig {
        webhook_auth: SimWebhookAuth::Hmac {
            secret: SECRET.into(),
        },
        ..JgoodsSimConfig::default()
    };
    let sim =
        ordersync_sim::jgoods::start(TcpListener::bind("127.0.0.1:0").await?, cfg.clone()).await?;
    Ok((Arc::new(sim), cfg))
}

/// A `[jgoods]` section pointing at the simulator; `order_api` replaces the
/// order API's address (a closed port makes every post-back fail).
pub fn jgoods_section(
    sim: &JgoodsSimHandle,
    cfg: &JgoodsSimConfig,
    order_api: Option<&str>,
) -> String {
    format!(
        r#"
[jgoods]
order_api_base_url = "{order}"
item_api_base_url = "{item}"
token_url = "{token}"
client_id = "{id}"
client_secret = "{secret}"
webhook_secret = "{SECRET}"
"#,
        order = order_api
            .map(str::to_string)
            .unwrap_or_else(|| sim.order_api_base_url()),
        item = sim.item_api_base_url(),
        token = sim.token_url(),
        id = cfg.client_id,
        secret = cfg.client_secret,
    )
}

/// The daemon in this process on `text` (a config whose listeners are
/// `127.0.0.1:0`), with the J-goods simulator's webhooks pointed at it.
pub async fn start_in_process(
    text: &str,
    dir: &std::path::Path,
    jgoods: &JgoodsSimHandle,
) -> anyhow::Result<(ordersync::config_file::Config, ordersync::app::Daemon)> {
    let config = ordersync::config_file::Config::from_toml_str(text, &dir.join("bench.toml"))?;
    let daemon = ordersync::app::Daemon::start(
        &config,
        TcpListener::bind("127.0.0.1:0").await?,
        TcpListener::bind("127.0.0.1:0").await?,
    )
    .await?;
    jgoods.set_webhook_url(format!("http://{}/webhooks/jgoods", daemon.webhook_addr));
    Ok((config, daemon))
}

fn free_port() -> anyhow::Result<String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(format!("127.0.0.1:{}", l.local_addr()?.port()))
}

/// A daemon process started but not yet known to be ready.
pub struct Launched {
    child: Child,
    started: Instant,
    listen: String,
    admin: String,
    notify: UnixDatagram,
}

/// Starts `ordersync run` with `dir/data` as its data directory and
/// `sections` after the `[daemon]` section, and waits for `READY=1`. Its
/// log goes to `dir/daemon.log`.
pub async fn spawn(dir: &Path, sections: &str) -> anyhow::Result<DaemonProcess> {
    launch(dir, sections)?.ready().await
}

/// Starts the daemon without waiting for it.
pub fn launch(dir: &Path, sections: &str) -> anyhow::Result<Launched> {
    let (listen, admin) = (free_port()?, free_port()?);
    let config = dir.join("bench.toml");
    std::fs::write(
        &config,
        format!(
            r#"[daemon]
data_dir = "{data}"
listen = "{listen}"
admin_listen = "{admin}"
admin_token = "{SECRET}"
log_format = "text"
{sections}"#,
            data = dir.join("data").display(),
        ),
    )?;
    // It holds inline secrets: keep it private, as a merchant's config would be.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600))?;
    }
    let socket_path = dir.join("notify.sock");
    let _ = std::fs::remove_file(&socket_path);
    let notify = UnixDatagram::bind(&socket_path)?;
    // Its warnings go to a file beside the data, not into the figures; a
    // restarted daemon appends to it.
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("daemon.log"))?;
    let started = Instant::now();
    let child = Command::new(std::env::current_exe()?)
        .arg("ordersync")
        .arg("--config")
        .arg(&config)
        .arg("run")
        .env("RUST_LOG", "warn")
        .env("NOTIFY_SOCKET", &socket_path)
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the daemon")?;
    Ok(Launched {
        child,
        started,
        listen,
        admin,
        notify,
    })
}

impl Launched {
    /// Where it takes J-goods webhooks.
    pub fn webhook_url(&self) -> String {
        format!("http://{}/webhooks/jgoods", self.listen)
    }

    /// SIGKILL before it is ready: a crash during start-up (migrations,
    /// catching up).
    pub async fn kill(mut self) {
        self.child.start_kill().ok();
        let _ = self.child.wait().await;
    }

    /// Waits for `READY=1` and a healthy `/healthz`.
    pub async fn ready(self) -> anyhow::Result<DaemonProcess> {
        let webhook_url = self.webhook_url();
        let Launched {
            mut child,
            started,
            admin,
            notify,
            ..
        } = self;
        let pid = child.id().context("daemon pid")?;
        let mut buf = vec![0u8; 4096];
        let ready_in = tokio::time::timeout(Duration::from_secs(300), async {
            loop {
                tokio::select! {
                    got = notify.recv(&mut buf) => {
                        let n = got?;
                        if String::from_utf8_lossy(&buf[..n]).lines().any(|l| l == "READY=1") {
                            return anyhow::Ok(started.elapsed());
                        }
                    }
                    status = child.wait() => bail!("the daemon exited before it was ready: {}", status?),
                }
            }
        })
        .await
        .context("the daemon did not report READY=1 within 5 minutes")??;
        let http = reqwest::Client::new();
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = http.get(format!("http://{admin}/healthz")).send().await
                && r.status().is_success()
            {
                break;
            }
            if Instant::now() > until {
                bail!("the daemon said READY=1 but /healthz never answered 200");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(DaemonProcess {
            child,
            pid,
            webhook_url,
            admin,
            ready_in,
            _notify: notify,
        })
    }
}

impl DaemonProcess {
    pub fn peak_rss_kib(&self) -> Option<u64> {
        super::stats::peak_rss_kib(self.pid)
    }

    /// SIGKILL: what a crash or an OOM kill does. Everything acknowledged
    /// must already be on disk.
    pub async fn kill(mut self) {
        self.child.start_kill().ok();
        let _ = self.child.wait().await;
    }

    /// SIGTERM, as systemd stops the service; whether it exited cleanly
    /// within `grace`.
    pub async fn terminate(mut self, grace: Duration) -> bool {
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .await
            .is_ok_and(|s| s.success());
        if !sent {
            return false;
        }
        match tokio::time::timeout(grace, self.child.wait()).await {
            Ok(Ok(status)) => status.success(),
            _ => {
                self.child.start_kill().ok();
                false
            }
        }
    }

    /// A client for the admin API with the token set.
    pub fn admin_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.admin)
    }
}
