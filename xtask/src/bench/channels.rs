//! One stock, two channels: how fast Rakuten learns a change made elsewhere,
//! how many units are sold beyond stock when buyers race on J-goods and at
//! Rakuten, and what the push costs in Rakuten calls.
//!
//! The daemon runs in this process (the simulators' counts and quantities are
//! read directly); every call goes over loopback HTTP. The race is in
//! [`super::race`].

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use tokio::net::TcpListener;

use super::BenchArgs;
use super::daemon::{self, SECRET};
use super::race;
use super::report::Report;
use super::stats::{ms, percentile};
use ordersync::app::Daemon;
use ordersync::config_file::Config;
use ordersync::providers::rakuten_pay::skus::SYNCED_AT_KEY;
use ordersync::sim::rakuten_pay::RakutenPaySimSettings;
use ordersync::store::kv;
use ordersync_sim::jgoods::JgoodsSimHandle;
use ordersync_sim::rakuten_pay::{
    self as rakuten_sim, CatalogItem, RakutenSimConfig, RakutenSimHandle,
};

const NAME: &str = "channels";
pub(super) struct Rig {
    pub jgoods: Arc<JgoodsSimHandle>,
    pub rakuten: RakutenSimHandle,
    pub daemon: Daemon,
    pub config: Config,
    http: reqwest::Client,
}

impl Rig {
    /// Both simulators with `skus` listed (one Rakuten item of one variant
    /// `v` each) plus `items`, and the daemon on them, pushing to Rakuten
    /// every `push` (`None`: the default).
    pub(super) async fn start(
        dir: &Path,
        skus: &[String],
        items: Vec<CatalogItem>,
        push: Option<&str>,
        poll: &str,
    ) -> anyhow::Result<Rig> {
        std::fs::create_dir_all(dir)?;
        let (jgoods, cfg) = daemon::start_jgoods_sim().await?;
        let rakuten = rakuten_sim::start(
            TcpListener::bind("127.0.0.1:0").await?,
            RakutenSimConfig::default(),
        )
        .await?;
        for sku in skus {
            jgoods.register_item(sku);
            rakuten.list_item(CatalogItem::new(&sku.to_ascii_lowercase(), &[("v", sku)]));
        }
        for item in items {
            rakuten.list_item(item);
        }
        let text = format!(
            "[daemon]\ndata_dir = \"{}\"\nlisten = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"\nadmin_token = \"{SECRET}\"\n{}stock_push_interval = \"1s\"\n{}poll_interval = \"{poll}\"\nrequest_interval = \"0s\"\n{}",
            dir.join("data").display(),
            daemon::jgoods_section(&jgoods, &cfg, None),
            rakuten.config_section(),
            push.map_or(String::new(), |push| format!(
                "stock_push_interval = \"{push}\"\n"
            )),
        );
        let (config, daemon) = daemon::start_in_process(&text, dir, &jgoods).await?;
        Ok(Rig {
            jgoods,
            rakuten,
            daemon,
            config,
            http: reqwest::Client::new(),
        })
    }

    pub(super) async fn set_stock(&self, sku: &str, on_hand: i64) -> anyhow::Result<()> {
        let r = self
            .http
            .put(format!(
                "http://{}/api/v1/stock/{sku}",
                self.daemon.admin_addr
            ))
            .bearer_auth(SECRET)
            .json(&serde_json::json!({"on_hand": on_hand}))
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("cannot set stock: {}", r.status());
        }
        Ok(())
    }

    /// Waits until Rakuten shows `quantity` for `sku`; the time it took.
    async fn until_rakuten_shows(
        &self,
        sku: &str,
        quantity: i64,
        from: Instant,
    ) -> anyhow::Result<Duration> {
        let manage = sku.to_ascii_lowercase();
        let deadline = from + Duration::from_secs(60);
        while self.rakuten.quantity(&manage, "v") != Some(quantity) {
            if Instant::now() > deadline {
                bail!("Rakuten never showed {quantity} for {sku}");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Ok(from.elapsed())
    }

    /// Waits until the daemon learnt the SKU map.
    pub(super) async fn until_synced(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let at = self
                .daemon
                .store
                .read(|c| kv::get(c, SYNCED_AT_KEY))
                .await?;
            if at.is_some() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the daemon did not learn the SKU map");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub(super) async fn stop(self) {
        self.daemon.stop(Duration::from_secs(5)).await;
        self.rakuten.shutdown().await;
    }
}

pub async fn run(args: &BenchArgs, dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    staleness(&dir.join("staleness"), args.staleness_changes, report).await?;
    call_cost(&dir.join("cost"), args.push_changes, report).await?;
    race::run(args, dir, report).await
}

/// Staleness: from an ERP count and from a J-goods order to Rakuten's
/// quantity, one change at a time, each SKU changed once per second at most
/// (the push's debounce).
async fn staleness(dir: &Path, changes: usize, report: &mut Report) -> anyhow::Result<()> {
    let skus: Vec<String> = (0..changes).map(|i| format!("ST-{i:03}")).collect();
    let rig = Rig::start(dir, &skus, vec![], Some("1s"), "1h").await?;
    rig.until_synced().await?;
    for sku in &skus {
        rig.set_stock(sku, 50).await?;
        rig.until_rakuten_shows(sku, 50, Instant::now()).await?;
    }
    let before = rig.rakuten.inventory_stats();
    let mut from_erp = Vec::new();
    let mut from_jgoods = Vec::new();
    for (i, sku) in skus.iter().enumerate() {
        let at = Instant::now();
        rig.set_stock(sku, 40).await?;
        from_erp.push(rig.until_rakuten_shows(sku, 40, at).await?);
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let at = Instant::now();
        rig.jgoods
            .place_order(&format!("ST{i:03}"), &[(sku, 2, 1000)]);
        from_jgoods.push(rig.until_rakuten_shows(sku, 38, at).await?);
    }
    let after = rig.rakuten.inventory_stats();
    rig.stop().await;
    for (source, samples) in [
        ("an ERP count", &from_erp),
        ("a J-goods order (webhook)", &from_jgoods),
    ] {
        let p99 = percentile(samples, 99.0);
        println!(
            "staleness from {source}: p50 {} p99 {} max {}",
            ms(percentile(samples, 50.0)),
            ms(p99),
            ms(percentile(samples, 100.0))
        );
        report.goal(
            NAME,
            format!("staleness from {source} to Rakuten's quantity, p50 / p99 / max"),
            format!(
                "{} / {} / {}",
                ms(percentile(samples, 50.0)),
                ms(p99),
                ms(percentile(samples, 100.0))
            ),
            "p99 ≤ 2 s",
            p99 <= Duration::from_secs(2),
        );
    }
    let calls = after.upserts - before.upserts;
    report.note(
        NAME,
        "bulk-upsert calls when changes come one at a time",
        format!("{calls} calls for {} changes", 2 * changes),
    );
    Ok(())
}

/// Call cost: 10,000 availability changes in one ERP import, against the
/// minimum of changes / 400.
async fn call_cost(dir: &Path, changes: usize, report: &mut Report) -> anyhow::Result<()> {
    let skus: Vec<String> = (0..changes).map(|i| format!("CC-{i:05}")).collect();
    let variants: Vec<(String, String)> = skus
        .iter()
        .map(|s| (s.to_ascii_lowercase(), s.clone()))
        .collect();
    // 20 items of 500 variants: one items.search page.
    let items = variants
        .chunks(500)
        .enumerate()
        .map(|(i, chunk)| {
            let refs: Vec<(&str, &str)> = chunk
                .iter()
                .map(|(v, s)| (v.as_str(), s.as_str()))
                .collect();
            CatalogItem::new(&format!("cc{i:02}"), &refs)
        })
        .collect();
    let rig = Rig::start(dir, &[], items, Some("1s"), "1h").await?;
    for sku in &skus {
        rig.jgoods.register_item(sku);
    }
    rig.until_synced().await?;
    let csv: String = std::iter::once("sku,on_hand\n".to_string())
        .chain(skus.iter().map(|s| format!("{s},5\n")))
        .collect();
    let started = Instant::now();
    let r = rig
        .http
        .post(format!(
            "http://{}/api/v1/stock/import",
            rig.daemon.admin_addr
        ))
        .bearer_auth(SECRET)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("cannot import stock: {}", r.status());
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let done = rig
            .rakuten
            .wait_until(Duration::from_millis(200), |v| {
                variants.iter().all(|(m, _)| {
                    let item = format!("cc{:02}", m[3..].parse::<usize>().unwrap_or(0) / 500);
                    v.quantity(&item, m) == Some(5)
                })
            })
            .await;
        if done {
            break;
        }
        if Instant::now() > deadline {
            bail!("Rakuten was not told all {changes} SKUs within 2 minutes");
        }
    }
    let wall = started.elapsed();
    let stats = rig.rakuten.inventory_stats();
    rig.stop().await;
    let minimum = changes.div_ceil(400);
    println!(
        "call cost: {} bulk-upsert calls for {changes} changes (minimum {minimum}), all at Rakuten after {:.1} s",
        stats.upserts,
        wall.as_secs_f64()
    );
    report.goal(
        NAME,
        format!("bulk-upsert calls for {changes} availability changes"),
        format!("{}", stats.upserts),
        format!("= minimum {minimum} (changes / 400)"),
        stats.upserts == minimum,
    );
    report.note(
        NAME,
        format!("time until Rakuten holds all {changes} values (1 upsert/s)"),
        format!("{:.1} s", wall.as_secs_f64()),
    );
    Ok(())
}
