//! `cargo xtask soak`: crash safety across every provider.
//!
//! The daemon runs as a child process beside a simulator of each provider.
//! A mixed load runs the whole time: J-goods and Rakuten orders, direct
//! orders paid through Kuroneko Atobarai, Atobarai.com and KOMOJU, stock
//! counts from the ERP, shipments and cancels. Between kills the providers
//! misbehave now and then (a 503, a reset connection, a 429, a maintenance
//! page). At random moments the daemon gets SIGKILL (now and then again
//! while it starts), is started again on the same data directory, and the
//! store is checked against everything acknowledged so far. When the kills
//! are done the load stops, the work left is allowed to finish, and every
//! order is compared with each provider's side of it.
//!
//! ```text
//! cargo xtask soak                      # 20 restarts after SIGKILL (about 20 s)
//! cargo xtask soak --kills 200 --seed 7 # longer; the seed repeats the schedule
//! ```
//!
//! It prints the inputs, kills, faults, lost, doubled and invariant breaks,
//! and exits non-zero when any of the last three is not zero.

mod check;
mod erp;
mod load;
mod world;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use check::Findings;
use load::{SharedLedger, Stop};
use world::World;

#[derive(Args, Debug, Clone)]
pub struct SoakArgs {
    /// Restarts after a SIGKILL, each followed by a check. A quarter of
    /// them, at random, are preceded by a second kill of a daemon still
    /// starting, so there are at least this many kills.
    #[arg(long, default_value_t = 20)]
    pub kills: u32,
    /// Longest stretch of load between two kills, in milliseconds; each
    /// stretch is drawn at random up to this.
    #[arg(long, default_value_t = 1500)]
    pub max_interval_ms: u64,
    /// Seed of the random schedule and load (printed, to repeat a run).
    #[arg(long)]
    pub seed: Option<u64>,
    /// How long the work left at the end may take to finish.
    #[arg(long, default_value = "90s", value_parser = humantime::parse_duration)]
    pub settle: Duration,
    /// Provider faults injected between two kills (a 503, a reset, a 429,
    /// a maintenance page, each for one to three calls); 0 for none.
    #[arg(long, default_value_t = 2)]
    pub faults_per_kill: u32,
    /// Where the data directory goes (default: the system's temporary
    /// directory); it is kept when the soak finds a fault.
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// The figures a soak prints.
#[derive(Debug, Default)]
struct Figures {
    inputs: usize,
    kills: u32,
    /// Kills of a daemon still starting (before READY=1).
    startup_kills: u32,
    refused: usize,
    findings: Findings,
    restart_ms: Vec<u128>,
    /// Provider faults injected, by kind.
    faults: std::collections::BTreeMap<&'static str, u32>,
}

pub async fn run(args: SoakArgs) -> anyhow::Result<()> {
    ordersync::logging::init_with_default("error");
    let seed = args.seed.unwrap_or_else(rand::random);
    println!(
        "cargo xtask soak: {} restarts after SIGKILL, seed {seed}",
        args.kills
    );
    let dir = tempfile::Builder::new()
        .prefix("ordersync-soak-")
        .tempdir_in(args.dir.clone().unwrap_or_else(std::env::temp_dir))?;
    let db = dir.path().join("data").join("ordersync.sqlite");
    let world = Arc::new(World::start().await?);
    let mut daemon = world.spawn_daemon(dir.path()).await?;
    let (erp, switch) = erp::new(&daemon.admin);
    let ledger = SharedLedger::default();
    let stop = Stop::default();
    let load = tokio::spawn(load::run(
        world.clone(),
        erp.clone(),
        ledger.clone(),
        seed,
        stop.clone(),
    ));

    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(seed.rotate_left(17));
    let mut fig = Figures::default();
    for cycle in 1..=args.kills {
        // Faults the providers show in this stretch; the daemon rides them
        // out by retrying, killed or not.
        for _ in 0..args.faults_per_kill {
            let what = world.inject_fault(rng.random(), rng.random_range(1..=3));
            *fig.faults.entry(what).or_default() += 1;
        }
        // Load runs meanwhile; this is the random point of the kill. Short
        // stretches land while the daemon is still catching up after the
        // last restart (draining its outbox, redelivered webhooks).
        let stretch = rng.random_range(0..=args.max_interval_ms);
        tokio::time::sleep(Duration::from_millis(stretch)).await;
        if load.is_finished() {
            break;
        }
        switch.down();
        daemon.kill().await;
        fig.kills += 1;
        daemon = restart(&world, dir.path(), &mut rng, &mut fig).await?;
        switch.up(&daemon.admin);
        let found = check::after_restart(&db, &world, &ledger)?;
        report_progress(cycle, fig.kills, &found);
        fig.findings.add(found);
    }
    stop.stop();
    load.await.context("the load panicked")??;
    println!(
        "load stopped after {:.1} s; letting the daemon finish its work",
        started.elapsed().as_secs_f64()
    );
    if let Some(waiting) = settle(&db, &world, &ledger, args.settle).await? {
        fig.findings
            .broken
            .insert(format!("not settled after {:?}: {waiting}", args.settle));
    }
    end_checks(&erp, &db, &world, &ledger, daemon, &mut fig).await?;
    world.shutdown().await;
    print_figures(&fig, started.elapsed());
    if fig.findings.is_clean() {
        Ok(())
    } else {
        let kept = dir.keep();
        println!(
            "data kept in {} (the store in data/, the daemon's log in daemon.log)",
            kept.display()
        );
        bail!("the soak found faults (seed {seed})")
    }
}

/// The last checks: stock as the ERP reads it, a clean SIGTERM, and the
/// inputs the load made.
async fn end_checks(
    erp: &erp::Erp,
    db: &std::path::Path,
    world: &World,
    ledger: &SharedLedger,
    daemon: crate::bench::daemon::DaemonProcess,
    fig: &mut Figures,
) -> anyhow::Result<()> {
    let stock = erp.get("/api/v1/stock").await?;
    fig.findings.add(check::at_end(db, world, ledger, &stock)?);
    let clean_exit = daemon.terminate(Duration::from_secs(30)).await;
    if !clean_exit {
        fig.findings
            .broken
            .insert("SIGTERM did not stop the daemon cleanly".into());
    }
    {
        let l = ledger.lock();
        fig.inputs = l.inputs();
        fig.refused = l.refused;
        print_inputs(&l);
    }
    Ok(())
}

/// Starts the next daemon after a kill; now and then kills it while it
/// starts too (the recovery itself must be safe to interrupt).
async fn restart(
    world: &World,
    dir: &std::path::Path,
    rng: &mut StdRng,
    fig: &mut Figures,
) -> anyhow::Result<crate::bench::daemon::DaemonProcess> {
    if rng.random_ratio(1, 4) {
        let starting = world.launch_daemon(dir)?;
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..=100))).await;
        starting.kill().await;
        fig.kills += 1;
        fig.startup_kills += 1;
    }
    let restarting = Instant::now();
    let daemon = world
        .spawn_daemon(dir)
        .await
        .with_context(|| format!("restart after kill {}", fig.kills))?;
    fig.restart_ms.push(restarting.elapsed().as_millis());
    Ok(daemon)
}

/// Waits until the store and the simulators agree that every input is
/// worked off; answers what still waits when `limit` passes.
async fn settle(
    db: &std::path::Path,
    world: &World,
    ledger: &SharedLedger,
    limit: Duration,
) -> anyhow::Result<Option<String>> {
    let until = Instant::now() + limit;
    loop {
        match check::settled(db, world, ledger)? {
            None => return Ok(None),
            Some(waiting) if Instant::now() > until => return Ok(Some(waiting)),
            Some(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

fn report_progress(cycle: u32, kills: u32, found: &Findings) {
    if found.is_clean() {
        println!("restart {cycle:>3} ({kills} kills so far): store consistent");
    } else {
        println!(
            "restart {cycle:>3} ({kills} kills so far): {} lost, {} doubled, {} broken",
            found.lost.len(),
            found.doubled.len(),
            found.broken.len()
        );
    }
}

fn print_inputs(l: &load::Ledger) {
    println!(
        "inputs: {} J-goods orders, {} Rakuten orders, {} direct orders ({} Kuroneko, {} Atobarai.com, {} KOMOJU, {} card authorizations), {} stock counts, {} shipments, {} cancels",
        l.jgoods.len(),
        l.rakuten.len(),
        l.direct.len(),
        l.direct.values().filter(|d| d.method == "kuroneko").count(),
        l.direct
            .values()
            .filter(|d| d.method == "atobarai_com")
            .count(),
        l.direct.values().filter(|d| d.method == "komoju").count(),
        l.komoju_authorized,
        l.stock_puts,
        l.shipped.len(),
        l.cancelled.len(),
    );
}

fn print_figures(fig: &Figures, took: Duration) {
    let mut restart = fig.restart_ms.clone();
    restart.sort_unstable();
    let worst = restart.last().copied().unwrap_or(0);
    let median = restart.get(restart.len() / 2).copied().unwrap_or(0);
    let f = &fig.findings;
    for (what, list) in [
        ("LOST", &f.lost),
        ("DOUBLED", &f.doubled),
        ("BROKEN", &f.broken),
    ] {
        for line in list.iter().take(20) {
            println!("{what}: {line}");
        }
        if list.len() > 20 {
            println!("{what}: … and {} more", list.len() - 20);
        }
    }
    println!();
    println!(
        "{} SIGKILLs, {} of them during start-up (before READY=1)",
        fig.kills, fig.startup_kills
    );
    let faults: Vec<String> = fig.faults.iter().map(|(k, n)| format!("{n} {k}")).collect();
    println!(
        "{} provider faults injected: {}",
        fig.faults.values().sum::<u32>(),
        if faults.is_empty() {
            "none".to_string()
        } else {
            faults.join(", ")
        }
    );
    println!(
        "| inputs | kills | lost | doubled | invariant breaks | refused commands | restart median / worst | time |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {} | {} | {} | {} | {} | {median} ms / {worst} ms | {:.0} s |",
        fig.inputs,
        fig.kills,
        f.lost.len(),
        f.doubled.len(),
        f.broken.len(),
        fig.refused,
        took.as_secs_f64()
    );
}
