//! Allocation under contention: the same number of webhooks spread over 100
//! SKUs, then all on one hot SKU that has stock for only half of them.
//!
//! The daemon serialises allocation in its single writer, so the hot SKU
//! should cost no throughput; the figure that matters as much is that the hot
//! SKU ends exactly sold out, never oversold.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};

use super::BenchArgs;
use super::daemon::{self, SECRET};
use super::ingest::{client, load_stock};
use super::load::{self, PostBackTracker};
use super::report::Report;
use super::stats::{ms, percentile};

const NAME: &str = "contention";

pub async fn run(args: &BenchArgs, dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    let (sim, sim_cfg) = daemon::start_jgoods_sim().await?;
    let daemon = daemon::spawn(dir, &daemon::jgoods_section(&sim, &sim_cfg, None)).await?;
    let http = client()?;
    load_stock(&http, &sim, &daemon, (0..100).map(|i| format!("M-{i:03}"))).await?;
    let hot_stock = args.n / 2;
    sim.register_item("HOT");
    let r = http
        .put(daemon.admin_url("/api/v1/stock/HOT"))
        .bearer_auth(SECRET)
        .json(&serde_json::json!({"on_hand": hot_stock}))
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("cannot set the hot SKU's stock: {}", r.status());
    }
    let tracker = PostBackTracker::default();

    let mut rates = Vec::new();
    for (label, prefix) in [("100 SKUs", "M"), ("1 hot SKU", "H")] {
        let orders: Vec<String> = (0..args.n).map(|i| format!("{prefix}{i:07}")).collect();
        let bodies = if prefix == "H" {
            load::prepare(&sim, &orders, |_| "HOT".to_string())
        } else {
            load::prepare(&sim, &orders, |i| format!("M-{:03}", i % 100))
        };
        let started = Instant::now();
        let lat = load::send_closed_loop(
            &http,
            &daemon.webhook_url,
            bodies,
            args.concurrency,
            &tracker,
        )
        .await?;
        let rate = args.n as f64 / started.elapsed().as_secs_f64();
        println!(
            "{label}: {rate:.0} acked/s; ack p50 {} p99 {}",
            ms(percentile(&lat, 50.0)),
            ms(percentile(&lat, 99.0))
        );
        report.note(
            NAME,
            format!("acked webhooks/s, orders over {label}"),
            format!("{rate:.0}/s (p99 ack {})", ms(percentile(&lat, 99.0))),
        );
        rates.push(rate);
    }
    let reserved = reserved_of(&http, &daemon, "HOT").await?;
    println!(
        "hot SKU: {hot_stock} on hand, {reserved} reserved by {} orders",
        args.n
    );
    report.goal(
        NAME,
        format!("hot SKU: units reserved by {} one-unit orders", args.n),
        format!("{reserved} of {hot_stock}"),
        "= stock (sold out, never oversold)",
        reserved == hot_stock,
    );
    if let [spread, hot] = rates[..] {
        report.note(
            NAME,
            "hot SKU throughput / spread throughput",
            format!("{:.2}", hot / spread),
        );
    }
    daemon.kill().await;
    sim.shutdown().await;
    if reserved != hot_stock {
        bail!("the hot SKU has {reserved} reserved for {hot_stock} on hand");
    }
    Ok(())
}

/// Units the daemon holds for `sku`, as its admin API says.
async fn reserved_of(
    http: &reqwest::Client,
    daemon: &daemon::DaemonProcess,
    sku: &str,
) -> anyhow::Result<usize> {
    let row: serde_json::Value = http
        .get(daemon.admin_url(&format!("/api/v1/stock/{sku}")))
        .bearer_auth(SECRET)
        .send()
        .await?
        .json()
        .await?;
    Ok(row["reserved"].as_u64().context("reserved")? as usize)
}
