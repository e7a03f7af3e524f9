//! The two-channel race: buyers on J-goods and at Rakuten buy SKUs with little
//! stock, in real time, against three daemons side by side facing the same
//! demand (one seeded buyer schedule): as built (every push setting at its
//! default), a peer-like 5-minute push, and no push. Units Rakuten sold that
//! the stock could not cover are counted at the end.
//!
//! The peer is modelled on the tools a merchant could pick instead (a push
//! every 5 to 15 minutes): the daemon's own Rakuten push is off, and every 5
//! minutes the bench sends every SKU's availability in the mirror to Rakuten
//! as an `ABSOLUTE` quantity, with no import before it. All three import
//! Rakuten's orders every 2 minutes (the daemon's default poll). Without a
//! push, Rakuten is told the count by hand at the start only.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::bail;

use super::BenchArgs;
use super::channels::Rig;
use super::report::Report;
use ordersync::call::HttpLimits;
use ordersync::providers::rakuten_pay::inventory::wire::{Mode, UpsertEntry};
use ordersync::providers::rakuten_pay::inventory::{self, InventoryClient};
use ordersync_sim::rakuten_pay::{NewItem, NewOrder};

const NAME: &str = "channels";
/// SKUs in the race, each with little stock.
const SKUS: usize = 200;
const STOCK: i64 = 2;
/// Each SKU draws a buyer this often on average, on either channel alike.
const BUYER_EVERY_S: f64 = 60.0;
/// The peer's push period.
const PEER_EVERY: Duration = Duration::from_secs(300);

#[derive(Clone, Copy, PartialEq)]
enum Push {
    Built,
    Peer,
    Nothing,
}

impl Push {
    fn label(self) -> &'static str {
        match self {
            Push::Built => "as built (defaults: 30 s push, import before it, 10 s low-stock watch)",
            Push::Peer => "peer-like 5-minute push",
            Push::Nothing => "no push",
        }
    }
}

#[derive(Default)]
struct Outcome {
    /// Units Rakuten sold.
    sold: i64,
    /// ... that the stock could not cover.
    oversold: i64,
    /// Rakuten sales made while the mirror had no unit left (the push's window).
    stale: i64,
}

pub async fn run(args: &BenchArgs, dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    let seconds = args.race_seconds;
    let dirs = ["race-built", "race-peer", "race-none"].map(|d| dir.join(d));
    let (built, peer, nothing) = tokio::try_join!(
        race(&dirs[0], Push::Built, seconds),
        race(&dirs[1], Push::Peer, seconds),
        race(&dirs[2], Push::Nothing, seconds),
    )?;
    for (push, outcome) in [
        (Push::Built, &built),
        (Push::Peer, &peer),
        (Push::Nothing, &nothing),
    ] {
        println!(
            "race, {}: Rakuten sold {} units, {} beyond stock ({} while the mirror had none left)",
            push.label(),
            outcome.sold,
            outcome.oversold,
            outcome.stale
        );
        report.note(
            NAME,
            format!("race, {}: Rakuten units sold / oversold / of those, sold while the mirror had none left", push.label()),
            format!("{} / {} / {}", outcome.sold, outcome.oversold, outcome.stale),
        );
    }
    let (b, p) = (built.oversold, peer.oversold);
    report.goal(
        NAME,
        format!(
            "units oversold in {seconds} s of buyers at {SKUS} SKUs of {STOCK} units (built / 5-min push / none)"
        ),
        format!("{b} / {p} / {}", nothing.oversold),
        "≥ 20× fewer than the 5-minute push",
        p >= 20 * b.max(1) || (b == 0 && p > 0),
    );
    Ok(())
}

/// The buyers' schedule: (seconds from the start, SKU index, at Rakuten?),
/// a Poisson stream over all SKUs, the same for every daemon.
fn schedule(seconds: u64) -> Vec<(f64, usize, bool)> {
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mean_gap = BUYER_EVERY_S / SKUS as f64;
    let mut at = 0.0;
    let mut buyers = Vec::new();
    loop {
        let u = (next() >> 11) as f64 / (1u64 << 53) as f64;
        at += -(1.0 - u).ln() * mean_gap;
        if at >= seconds as f64 {
            return buyers;
        }
        buyers.push((at, (next() % SKUS as u64) as usize, next() % 2 == 0));
    }
}

async fn race(dir: &Path, push: Push, seconds: u64) -> anyhow::Result<Outcome> {
    let skus: Vec<String> = (0..SKUS).map(|i| format!("R-{i:03}")).collect();
    let own_push = (push != Push::Built).then_some("0s");
    let rig = Rig::start(dir, &skus, vec![], own_push, "2m").await?;
    if push == Push::Built {
        rig.until_synced().await?;
    }
    for sku in &skus {
        rig.set_stock(sku, STOCK).await?;
        rig.rakuten
            .set_quantity(&sku.to_ascii_lowercase(), "v", STOCK);
    }
    until_pushed(&rig).await?;
    let peer = match (push, rig.config.enabled_rakuten_pay()) {
        (Push::Peer, Some(r)) => Some(InventoryClient::from_config(
            r,
            HttpLimits::with_timeout(Duration::from_secs(10)),
        )?),
        _ => None,
    };
    let started = Instant::now();
    let mut peer_at = started + PEER_EVERY;
    let mut outcome = Outcome::default();
    for (n, (at, sku, at_rakuten)) in schedule(seconds).into_iter().enumerate() {
        let when = started + Duration::from_secs_f64(at);
        if let Some(client) = &peer
            && when >= peer_at
        {
            tokio::time::sleep_until(peer_at.into()).await;
            peer_push(&rig, client).await?;
            peer_at += PEER_EVERY;
        }
        tokio::time::sleep_until(when.into()).await;
        let sku = &skus[sku];
        if !at_rakuten {
            rig.jgoods
                .place_order(&format!("RJ{n:05}"), &[(sku, 1, 1000)]);
            continue;
        }
        let number = rig.rakuten.next_order_number();
        let order = NewOrder::new(&number)
            .item(NewItem::new(sku, &sku.to_ascii_lowercase(), 1000, 1).sku(sku));
        if rig.rakuten.try_place_order(order).is_ok() {
            outcome.sold += 1;
            if free(&rig, sku).await? == 0 {
                outcome.stale += 1;
            }
        }
    }
    until_imported(&rig, outcome.sold).await?;
    outcome.oversold = rig
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
    Ok(outcome)
}

/// Units of `sku` the mirror has free.
async fn free(rig: &Rig, sku: &str) -> anyhow::Result<i64> {
    let sku = sku.to_string();
    Ok(rig
        .daemon
        .store
        .read(move |c| {
            Ok(c.query_row(
                "SELECT COALESCE(MAX(on_hand - reserved, 0), 0) FROM stock WHERE sku = ?1",
                [&sku],
                |r| r.get(0),
            )?)
        })
        .await?)
}

/// The peer's push: every SKU's availability, `ABSOLUTE`, 400 a call.
async fn peer_push(rig: &Rig, client: &InventoryClient) -> anyhow::Result<()> {
    let stock: Vec<(String, u32)> = rig
        .daemon
        .store
        .read(|c| {
            let mut stmt = c.prepare("SELECT sku, MAX(on_hand - reserved, 0) FROM stock")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await?;
    let entries: Vec<UpsertEntry> = stock
        .into_iter()
        .map(|(sku, quantity)| UpsertEntry {
            manage_number: sku.to_ascii_lowercase(),
            variant_id: "v".into(),
            mode: Mode::Absolute,
            quantity,
        })
        .collect();
    for (i, chunk) in entries.chunks(inventory::MAX_UPSERT).enumerate() {
        if i > 0 {
            tokio::time::sleep(inventory::UPSERT_INTERVAL).await;
        }
        client.bulk_upsert(chunk).await?;
    }
    Ok(())
}

/// Waits until the daemon owes Rakuten no push (the start's counts told).
async fn until_pushed(rig: &Rig) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let owed: i64 = rig
            .daemon
            .store
            .read(|c| {
                Ok(c.query_row(
                    "SELECT COUNT(*) FROM stock_push WHERE channel = 'rakuten' AND version > pushed_version",
                    [],
                    |r| r.get(0),
                )?)
            })
            .await?;
        if owed == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{owed} SKUs still owed to Rakuten before the race");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Lets the daemon import every order Rakuten accepted.
async fn until_imported(rig: &Rig, sold: i64) -> anyhow::Result<()> {
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
        if stored >= sold {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{stored} of {sold} Rakuten orders imported");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
