//! A flood of forged J-goods webhooks against the daemon process: four
//! attackers post unsigned 4 KB bodies as fast as the daemon answers for
//! `--flood-seconds` (60 by default) while a genuine signed delivery goes
//! every 100 ms. What it shows: the genuine sender's latency during the
//! attack, how the data directory grows and shrinks back (refusals past
//! `refused_webhooks_per_minute` are counted, not written), and the
//! daemon's peak RSS.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::BenchArgs;
use super::daemon;
use super::ingest::{client, load_stock};
use super::load::{self, send_one};
use super::report::Report;
use super::stats::{mb, ms, percentile};

const NAME: &str = "flood";
/// Attackers posting at once.
const ATTACKERS: usize = 4;
/// One genuine delivery every this long.
const GENUINE_EVERY: Duration = Duration::from_millis(100);

pub async fn run(args: &BenchArgs, dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    let (sim, sim_cfg) = daemon::start_jgoods_sim().await?;
    let daemon = daemon::spawn(dir, &daemon::jgoods_section(&sim, &sim_cfg, None)).await?;
    let http = client()?;
    load_stock(&http, &sim, &daemon, (0..10).map(|i| format!("B-{i:03}"))).await?;
    let data = dir.join("data");
    let before = dir_bytes(&data);
    let flood_for = Duration::from_secs(args.flood_seconds);
    let started = Instant::now();
    let forged = Arc::new(AtomicU64::new(0));
    let attackers: Vec<_> = (0..ATTACKERS)
        .map(|i| {
            let (url, forged) = (daemon.webhook_url.clone(), forged.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let body = format!(r#"{{"order_no":"FLOOD","pad":"{}"}}"#, "x".repeat(4000));
                let mut n = 0u64;
                while started.elapsed() < flood_for {
                    let sent = http
                        .post(&url)
                        .header("content-type", "application/json")
                        .header("x-jgoods-delivery", format!("forged-{i}-{n}"))
                        .body(body.clone())
                        .send()
                        .await;
                    if let Ok(r) = sent {
                        let _ = r.bytes().await;
                        forged.fetch_add(1, Ordering::Relaxed);
                    }
                    n += 1;
                }
            })
        })
        .collect();
    let count = (flood_for.as_millis() / GENUINE_EVERY.as_millis()) as usize + 1;
    let orders: Vec<String> = (0..count).map(|i| format!("G{i:07}")).collect();
    let bodies = load::prepare(&sim, &orders, |i| format!("B-{:03}", i % 10));
    let mut genuine = Vec::new();
    let mut largest = before;
    for (order, body) in bodies {
        if started.elapsed() >= flood_for {
            break;
        }
        genuine.push(send_one(&http, &daemon.webhook_url, &order, &body).await?);
        largest = largest.max(dir_bytes(&data));
        tokio::time::sleep(GENUINE_EVERY).await;
    }
    for a in attackers {
        a.await?;
    }
    let at_end = dir_bytes(&data);
    let idle = Instant::now();
    while wal_bytes(&data) > 0 && idle.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after = dir_bytes(&data);
    let forged = forged.load(Ordering::Relaxed);
    let rss = daemon.peak_rss_kib();
    println!(
        "{forged} forged deliveries in {} s from {ATTACKERS} attackers; genuine: {} answered, \
         p50 {} p99 {} max {}; data directory {} before, {} at most, {} at the end, {} {} later \
         (WAL {} bytes); daemon peak RSS {}",
        flood_for.as_secs(),
        genuine.len(),
        ms(percentile(&genuine, 50.0)),
        ms(percentile(&genuine, 99.0)),
        ms(percentile(&genuine, 100.0)),
        bytes(before),
        bytes(largest),
        bytes(at_end),
        bytes(after),
        ms(idle.elapsed()),
        wal_bytes(&data),
        rss.map_or("-".into(), mb),
    );
    let secs = flood_for.as_secs();
    report.note(
        NAME,
        format!("forged deliveries in {secs} s ({ATTACKERS} attackers)"),
        forged.to_string(),
    );
    report.note(
        NAME,
        "genuine deliveries during the flood, p50 / p99 / max",
        format!(
            "{} / {} / {}",
            ms(percentile(&genuine, 50.0)),
            ms(percentile(&genuine, 99.0)),
            ms(percentile(&genuine, 100.0))
        ),
    );
    report.note(
        NAME,
        "data directory before / largest / after the WAL emptied",
        format!("{} / {} / {}", bytes(before), bytes(largest), bytes(after)),
    );
    if let Some(k) = rss {
        report.note(NAME, "daemon peak RSS", mb(k));
    }
    daemon.kill().await;
    sim.shutdown().await;
    Ok(())
}

fn bytes(n: u64) -> String {
    format!("{:.2} MB", n as f64 / 1e6)
}

/// Bytes of the files in `dir` (the database, its WAL and shared memory).
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn wal_bytes(dir: &Path) -> u64 {
    std::fs::metadata(dir.join(format!("{}-wal", ordersync::store::DB_FILE))).map_or(0, |m| m.len())
}
