//! One stock, two channels: how fast Rakuten learns a change made elsewhere,
//! how many units are sold beyond stock when buyers race on J-goods and at
//! Rakuten, and what the push costs in Rakuten calls.
//!
//! The daemon runs in this process (the simulators' counts and quantities are
//! read directly); every call goes over loopback HTTP. Three daemons are raced
//! side by side in one run: as built (`stock_push_interval = "1s"`, the import
//! before each push), a peer-like periodic push, and no push at all. The race
//! is compressed: a run of `--race-seconds` stands for `SCALE` times as many
//! seconds of trading, so the peer's 5-minute push becomes `300 / SCALE`
//! seconds and the buyers' rates are `SCALE` times a shop's. The daemon as
//! built is not compressed (its latencies are real), which favours the peer.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use tokio::net::TcpListener;

use super::BenchArgs;
use super::daemon::{self, SECRET};
use super::report::Report;
use super::stats::{ms, percentile};
use ordersync::app::Daemon;
use ordersync::channels::rakuten_pay::skus::SYNCED_AT_KEY;
use ordersync::config::Config;
use ordersync::sim::jgoods::JgoodsSimHandle;
use ordersync::sim::rakuten_pay::{
    self as rakuten_sim, CatalogItem, NewItem, NewOrder, RakutenSimConfig, RakutenSimHandle,
};
use ordersync::store::kv;

const NAME: &str = "channels";
/// SKUs in the race, each with little stock.
const RACE_SKUS: usize = 20;
const RACE_STOCK: i64 = 3;
/// Simulated seconds per real second in the race.
const SCALE: u64 = 30;

struct Rig {
    jgoods: Arc<JgoodsSimHandle>,
    rakuten: RakutenSimHandle,
    daemon: Daemon,
    http: reqwest::Client,
}

impl Rig {
    /// Both simulators with `skus` listed (one Rakuten item of one variant
    /// `v` each) plus `items`, and the daemon on them.
    async fn start(
        dir: &Path,
        skus: &[String],
        items: Vec<CatalogItem>,
        push: &str,
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
            "[daemon]\ndata_dir = \"{}\"\nlisten = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"\nadmin_token = \"{SECRET}\"\n{}stock_push_interval = \"1s\"\n{}poll_interval = \"{poll}\"\nrequest_interval = \"0s\"\nstock_push_interval = \"{push}\"\n",
            dir.join("data").display(),
            daemon::jgoods_section(&jgoods, &cfg, None),
            rakuten.config_section(),
        );
        let config = Config::from_toml_str(&text, &dir.join("bench.toml"))?;
        let daemon = Daemon::start(
            &config,
            TcpListener::bind("127.0.0.1:0").await?,
            TcpListener::bind("127.0.0.1:0").await?,
        )
        .await?;
        jgoods.set_webhook_url(format!("http://{}/webhooks/jgoods", daemon.webhook_addr));
        Ok(Rig {
            jgoods,
            rakuten,
            daemon,
            http: reqwest::Client::new(),
        })
    }

    async fn set_stock(&self, sku: &str, on_hand: i64) -> anyhow::Result<()> {
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
    async fn until_synced(&self) -> anyhow::Result<()> {
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

    async fn stop(self) {
        self.daemon.stop(Duration::from_secs(5)).await;
        self.rakuten.shutdown().await;
    }
}

pub async fn run(args: &BenchArgs, dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    staleness(&dir.join("staleness"), args.staleness_changes, report).await?;
    call_cost(&dir.join("cost"), args.push_changes, report).await?;
    let mut oversold = Vec::new();
    for (label, push) in [
        (
            "as built (1 s push, import before each push)",
            "1s".to_string(),
        ),
        ("peer-like 5-minute push", format!("{}s", 300 / SCALE)),
        ("no push", "0s".to_string()),
    ] {
        let (units, stale) =
            race(&dir.join(format!("race-{push}")), &push, args.race_seconds).await?;
        println!(
            "race, {label}: {units} units sold beyond stock; {stale} Rakuten sales of a unit the mirror had already given away"
        );
        report.note(
            NAME,
            format!("race, {label}: Rakuten sales of a unit already gone in the mirror (the push's window)"),
            format!("{stale} of {units} oversold"),
        );
        oversold.push((label, units));
    }
    let (built, peer, none) = (oversold[0].1, oversold[1].1, oversold[2].1);
    report.goal(
        NAME,
        format!(
            "units oversold in {} s × {SCALE} of racing buyers (built / 5-min push / none)",
            args.race_seconds
        ),
        format!("{built} / {peer} / {none}"),
        "≥ 20× fewer than the 5-minute push",
        peer >= 20 * built.max(1) || (built == 0 && peer > 0),
    );
    Ok(())
}

/// Staleness: from an ERP count and from a J-goods order to Rakuten's
/// quantity, one change at a time, each SKU changed once per second at most
/// (the push's debounce).
async fn staleness(dir: &Path, changes: usize, report: &mut Report) -> anyhow::Result<()> {
    let skus: Vec<String> = (0..changes).map(|i| format!("ST-{i:03}")).collect();
    let rig = Rig::start(dir, &skus, vec![], "1s", "1h").await?;
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
    let rig = Rig::start(dir, &[], items, "1s", "1h").await?;
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

/// One race: buyers on both channels buy 1 unit of a random SKU; returns the
/// units Rakuten accepted that the stock could not cover.
/// Also returns how many Rakuten sales were of a unit the mirror had already
/// given away when Rakuten took the order (the push's window; the rest of
/// the oversold units come from the import's window).
async fn race(dir: &Path, push: &str, seconds: u64) -> anyhow::Result<(i64, i64)> {
    let skus: Vec<String> = (0..RACE_SKUS).map(|i| format!("R-{i:02}")).collect();
    // Orders are polled every 2 simulated minutes, as the daemon does by default.
    let poll = format!("{}ms", 120_000 / SCALE);
    let rig = Rig::start(dir, &skus, vec![], push, &poll).await?;
    if push != "0s" {
        rig.until_synced().await?;
    }
    for sku in &skus {
        rig.set_stock(sku, RACE_STOCK).await?;
        // Every daemon starts with Rakuten knowing the count (a no-push one from RMS by hand).
        rig.rakuten
            .set_quantity(&sku.to_ascii_lowercase(), "v", RACE_STOCK);
    }
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut n, mut accepted, mut stale) = (0, 0i64, 0i64);
    while Instant::now() < until {
        let sku = &skus[(next() % RACE_SKUS as u64) as usize];
        if next() % 2 == 0 {
            rig.jgoods
                .place_order(&format!("RJ{n:05}"), &[(sku, 1, 1000)]);
        } else {
            let number = rig.rakuten.next_order_number();
            let order = NewOrder::new(&number)
                .item(NewItem::new(sku, &sku.to_ascii_lowercase(), 1000, 1).sku(sku));
            if rig.rakuten.try_place_order(order).is_ok() {
                accepted += 1;
                let sku = sku.clone();
                let free: i64 = rig
                    .daemon
                    .store
                    .read(move |c| {
                        Ok(c.query_row(
                            "SELECT COALESCE(MAX(on_hand - reserved, 0), 0) FROM stock WHERE sku = ?1",
                            [&sku],
                            |r| r.get(0),
                        )?)
                    })
                    .await?;
                if free == 0 {
                    stale += 1;
                }
            }
        }
        n += 1;
        // Two buyers a simulated minute per SKU-set: 60 / SCALE seconds apart / 2.
        tokio::time::sleep(Duration::from_millis(
            60_000 / SCALE / 2 / RACE_SKUS as u64 * 2,
        ))
        .await;
    }
    // Let the daemon import every Rakuten order Rakuten accepted, then count.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        rig.daemon.poll_now();
        let stored: i64 = rig
            .daemon
            .store
            .read(|c| {
                Ok(c.query_row(
                    "SELECT COUNT(*) FROM orders WHERE channel = 'rakuten'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .await?;
        if stored >= accepted {
            break;
        }
        if Instant::now() > deadline {
            bail!("{stored} of {accepted} Rakuten orders imported");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let oversold: i64 = rig
        .daemon
        .store
        .read(|c| {
            Ok(c.query_row(
                "SELECT COALESCE(SUM(l.qty), 0) - COALESCE((SELECT SUM(a.qty) FROM allocations a
                        WHERE a.channel = 'rakuten' AND a.state = 'reserved'), 0)
                 FROM order_lines l WHERE l.channel = 'rakuten'",
                [],
                |r| r.get(0),
            )?)
        })
        .await?;
    rig.stop().await;
    Ok((oversold, stale))
}
