//! Outbox drain after an outage: J-goods' order API is unreachable while
//! webhooks arrive, so every post-back waits in the outbox; the daemon is
//! killed, J-goods comes back, and a new daemon process drains the backlog.
//!
//! Before the restart every waiting call is made due at once (as if the
//! outage ended long ago), so the figure is the dispatcher's rate and not the
//! retry policy's delays.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::bail;

use super::BenchArgs;
use super::daemon;
use super::ingest::{client, load_stock};
use super::load::{self, PostBackTracker};
use super::report::Report;
use ordersync_sim::jgoods::Status;

const NAME: &str = "outbox";

pub async fn run(args: &BenchArgs, dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    let n = args.outbox_calls;
    let (sim, sim_cfg) = daemon::start_jgoods_sim().await?;
    // A port nothing listens on: every post-back fails to connect.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?
    };
    let outage = daemon::jgoods_section(&sim, &sim_cfg, Some(&format!("http://{closed}/order/v2")));
    let down = daemon::spawn(dir, &outage).await?;
    let http = client()?;
    load_stock(&http, &sim, &down, (0..100).map(|i| format!("D-{i:03}"))).await?;
    let orders: Vec<String> = (0..n).map(|i| format!("O{i:07}")).collect();
    let bodies = load::prepare(&sim, &orders, |i| format!("D-{:03}", i % 100));
    load::send_closed_loop(
        &http,
        &down.webhook_url,
        bodies,
        args.concurrency,
        &PostBackTracker::default(),
    )
    .await?;
    down.kill().await;

    let waiting = {
        let conn =
            ordersync::store::open_connection(&dir.join("data").join(ordersync::store::DB_FILE))?;
        conn.execute(
            "UPDATE outbox SET next_attempt_ms = 0 WHERE state = 'pending'",
            [],
        )?
    };
    println!("{waiting} calls waiting in the outbox after the outage");

    let started = Instant::now();
    let up = daemon::spawn(dir, &daemon::jgoods_section(&sim, &sim_cfg, None)).await?;
    let ready = started.elapsed();
    let all_done = sim
        .wait_until(Duration::from_secs(600), |v| {
            orders
                .iter()
                .all(|o| v.status(o) == Some(Status::AwaitingArrival))
        })
        .await;
    let drained_in = started.elapsed().saturating_sub(ready);
    let rate = n as f64 / drained_in.as_secs_f64();
    println!(
        "drained {n} post-backs in {:.2} s after READY: {rate:.0} calls/s",
        drained_in.as_secs_f64()
    );
    report.note(NAME, "calls waiting after the outage", waiting.to_string());
    report.note(
        NAME,
        "drain rate (J-goods PUT per order, over loopback)",
        format!("{rate:.0} calls/s"),
    );
    let stats = sim.stats();
    let puts = orders.iter().map(|o| stats.put_count(o)).sum::<usize>();
    report.goal(
        NAME,
        "order updates J-goods applied",
        puts.to_string(),
        format!("= {n} (each once)"),
        puts == n,
    );
    up.kill().await;
    sim.shutdown().await;
    if !all_done || waiting != n {
        bail!("{waiting} calls waited for {n} orders; all delivered: {all_done}");
    }
    Ok(())
}
