//! J-goods webhook ingest against a daemon process and the J-goods
//! simulator, beside the raw durable-commit rate of SQLite on the same disk.
//!
//! Reports acknowledged webhooks/s at a fixed concurrency, ack latency
//! percentiles at a fixed offered rate, webhook-to-post-back latency, and the
//! daemon's peak RSS (VmHWM).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::bail;

use ordersync_sim::jgoods::JgoodsSimHandle;

use super::BenchArgs;
use super::daemon::{self, SECRET};
use super::load::{self, PostBackTracker};
use super::report::Report;
use super::stats::{mb, ms, percentile};

const NAME: &str = "ingest";

pub async fn run(args: &BenchArgs, dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    // The disk's fsync rate drifts; measure it before and after the daemon's
    // run and compare the daemon with the mean.
    let raw_before = raw_commit_rate(&dir.join("raw-before.sqlite"), args.raw_commits)?;
    println!(
        "raw SQLite durable commits: {raw_before:.0}/s ({} commits, WAL, synchronous=FULL)",
        args.raw_commits
    );

    let (sim, sim_cfg) = daemon::start_jgoods_sim().await?;
    let daemon = daemon::spawn(dir, &daemon::jgoods_section(&sim, &sim_cfg, None)).await?;
    let http = client()?;
    load_stock(&http, &sim, &daemon, (0..100).map(|i| format!("B-{i:03}"))).await?;

    let tracker = PostBackTracker::default();
    let watcher = tokio::spawn(tracker.clone().watch(sim.clone()));

    let burst = burst(args, &http, &sim, &daemon, &tracker).await?;

    // Latency: an open-loop schedule at a fixed offered rate.
    let mut paced = Vec::new();
    if args.rate > 0 {
        let count = args.rate as usize * args.seconds as usize;
        let orders: Vec<String> = (0..count).map(|i| format!("L{i:07}")).collect();
        let bodies = load::prepare(&sim, &orders, |i| format!("B-{:03}", i % 100));
        paced =
            load::send_open_loop(&http, &daemon.webhook_url, bodies, args.rate, &tracker).await?;
        println!(
            "ack latency at {}/s for {} s: p50 {} p90 {} p99 {} max {}",
            args.rate,
            args.seconds,
            ms(percentile(&paced, 50.0)),
            ms(percentile(&paced, 90.0)),
            ms(percentile(&paced, 99.0)),
            ms(percentile(&paced, 100.0))
        );
    }

    let total = args.n + paced.len();
    let drained = tracker.wait_all(total, Duration::from_secs(120)).await;
    watcher.abort();
    let e2e = tracker.latencies();
    println!(
        "webhook → post-back registered at J-goods: p50 {} p99 {} ({} of {} orders)",
        ms(percentile(&e2e, 50.0)),
        ms(percentile(&e2e, 99.0)),
        e2e.len(),
        total
    );
    let rss = daemon.peak_rss_kib();
    let raw_after = raw_commit_rate(&dir.join("raw-after.sqlite"), args.raw_commits)?;
    let raw_rate = (raw_before + raw_after) / 2.0;
    println!("raw SQLite durable commits, again: {raw_after:.0}/s (mean {raw_rate:.0}/s)");
    // What a commit costs when it writes as many pages as a group does: on
    // a disk whose fsync time grows with the bytes, this bounds group commit.
    let big_commits = (args.raw_commits / 10).max(10);
    let big_rate = raw_commit_rate_of(&dir.join("raw-big.sqlite"), big_commits, BIG_COMMIT_PAGES)?;
    println!(
        "raw SQLite durable commits of {BIG_COMMIT_PAGES} pages: {big_rate:.0}/s \
         ({:.2} ms each, against {:.2} ms for one row)",
        1000.0 / big_rate,
        1000.0 / raw_rate
    );
    let figures = Figures {
        raw_rate,
        big_rate,
        burst,
        paced,
        e2e,
        rss,
    };
    record(report, args, &figures);
    daemon.kill().await;
    sim.shutdown().await;
    if !drained {
        bail!("not every order's post-back reached the simulator");
    }
    Ok(())
}

/// What the closed-loop burst measured.
struct Burst {
    /// Acknowledged webhooks per second.
    ingest_rate: f64,
    /// Share of the burst the store writer was busy (at most 1).
    busy_share: f64,
    writes_per_commit: f64,
    /// Share of the writer's busy time spent committing.
    commit_share: f64,
}

/// Throughput: a fixed number of requests, `concurrency` in flight.
async fn burst(
    args: &BenchArgs,
    http: &reqwest::Client,
    sim: &JgoodsSimHandle,
    daemon: &daemon::DaemonProcess,
    tracker: &PostBackTracker,
) -> anyhow::Result<Burst> {
    let orders: Vec<String> = (0..args.n).map(|i| format!("T{i:07}")).collect();
    let bodies = load::prepare(sim, &orders, |i| format!("B-{:03}", i % 100));
    let writer_before = WriterReading::scrape(http, daemon).await?;
    let started = Instant::now();
    let lat = load::send_closed_loop(http, &daemon.webhook_url, bodies, args.concurrency, tracker)
        .await?;
    let burst = started.elapsed();
    let ingest_rate = args.n as f64 / burst.as_secs_f64();
    let writer = WriterReading::scrape(http, daemon)
        .await?
        .since(&writer_before);
    println!(
        "ingest, {} webhooks at concurrency {}: {:.0} acked/s; ack p50 {} p99 {} max {}",
        args.n,
        args.concurrency,
        ingest_rate,
        ms(percentile(&lat, 50.0)),
        ms(percentile(&lat, 99.0)),
        ms(percentile(&lat, 100.0))
    );
    // The second reading comes just after the last acknowledgement and can
    // include a few writes that finished after it, so a saturated writer
    // can read a little over 100%; it is shown as 100%.
    let busy_share = (writer.busy_seconds / burst.as_secs_f64()).min(1.0);
    let writes_per_commit = writer.writes / writer.commits.max(1.0);
    let commit_share = writer.commit_seconds / writer.busy_seconds.max(f64::EPSILON);
    println!(
        "store writer during the burst: busy {:.0}% of the time, {:.1} writes per commit, \
         commits {:.0}% of its busy time",
        busy_share * 100.0,
        writes_per_commit,
        commit_share * 100.0
    );
    Ok(Burst {
        ingest_rate,
        busy_share,
        writes_per_commit,
        commit_share,
    })
}

/// Everything the run measured, for the report.
struct Figures {
    raw_rate: f64,
    big_rate: f64,
    burst: Burst,
    paced: Vec<Duration>,
    e2e: Vec<Duration>,
    rss: Option<u64>,
}

/// The run's lines of the report table.
fn record(report: &mut Report, args: &BenchArgs, f: &Figures) {
    let Figures {
        raw_rate,
        big_rate,
        burst,
        paced,
        e2e,
        rss,
    } = f;
    let (raw_rate, big_rate) = (*raw_rate, *big_rate);
    let Burst {
        ingest_rate,
        busy_share,
        writes_per_commit,
        commit_share,
    } = *burst;
    let ratio = ingest_rate / raw_rate;
    report.note(
        NAME,
        "raw SQLite durable commits (mean of before/after)",
        format!("{raw_rate:.0}/s"),
    );
    report.note(
        NAME,
        format!("acked webhooks/s at concurrency {}", args.concurrency),
        format!("{ingest_rate:.0}/s"),
    );
    report.note(
        NAME,
        "store writer busy during the burst (commit share of it)",
        format!("{:.0}% ({:.0}%)", busy_share * 100.0, commit_share * 100.0),
    );
    report.note(
        NAME,
        format!("raw durable commit time, one row / {BIG_COMMIT_PAGES} pages"),
        format!("{:.2} ms / {:.2} ms", 1000.0 / raw_rate, 1000.0 / big_rate),
    );
    report.note(
        NAME,
        "writes per commit during the burst",
        format!("{writes_per_commit:.1}"),
    );
    report.goal(
        NAME,
        "ingest / raw durable commits",
        format!("{ratio:.2}"),
        "≥ 1.0",
        ratio >= 1.0,
    );
    if args.rate > 0 {
        let p99 = percentile(paced, 99.0);
        report.goal(
            NAME,
            format!("p99 ack at {}/s", args.rate),
            ms(p99),
            "≤ 10 ms",
            p99 <= Duration::from_millis(10),
        );
        report.note(
            NAME,
            format!("p50 ack at {}/s", args.rate),
            ms(percentile(paced, 50.0)),
        );
    }
    report.note(NAME, "webhook → post-back p50", ms(percentile(e2e, 50.0)));
    report.note(NAME, "webhook → post-back p99", ms(percentile(e2e, 99.0)));
    if let Some(k) = *rss {
        report.note(NAME, "daemon peak RSS", mb(k));
    }
}

pub fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?)
}

/// Gives every SKU more stock than any benchmark orders, and registers it
/// at J-goods (so the daemon's stock push finds the item).
pub async fn load_stock(
    http: &reqwest::Client,
    sim: &ordersync_sim::jgoods::JgoodsSimHandle,
    daemon: &daemon::DaemonProcess,
    skus: impl Iterator<Item = String>,
) -> anyhow::Result<()> {
    for sku in skus {
        sim.register_item(&sku);
        let r = http
            .put(daemon.admin_url(&format!("/api/v1/stock/{sku}")))
            .bearer_auth(SECRET)
            .json(&serde_json::json!({"on_hand": 100_000_000}))
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("cannot load stock: {}", r.status());
        }
    }
    Ok(())
}

/// The daemon's `ordersync_store_*` counters, read from its `/metrics`.
#[derive(Debug, Default)]
struct WriterReading {
    commits: f64,
    writes: f64,
    commit_seconds: f64,
    busy_seconds: f64,
}

impl WriterReading {
    async fn scrape(
        http: &reqwest::Client,
        daemon: &daemon::DaemonProcess,
    ) -> anyhow::Result<WriterReading> {
        let text = http
            .get(daemon.admin_url("/metrics"))
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        let value = |name: &str| -> anyhow::Result<f64> {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| anyhow::anyhow!("the daemon's /metrics has no {name}"))
        };
        Ok(WriterReading {
            commits: value("ordersync_store_commits_total")?,
            writes: value("ordersync_store_writes_total")?,
            commit_seconds: value("ordersync_store_commit_seconds_total")?,
            busy_seconds: value("ordersync_store_writer_busy_seconds_total")?,
        })
    }

    fn since(&self, before: &WriterReading) -> WriterReading {
        WriterReading {
            commits: self.commits - before.commits,
            writes: self.writes - before.writes,
            commit_seconds: self.commit_seconds - before.commit_seconds,
            busy_seconds: self.busy_seconds - before.busy_seconds,
        }
    }
}

/// Pages written by the large raw commit: about what a group of 20
/// decisions writes to the WAL.
const BIG_COMMIT_PAGES: usize = 32;

/// One small `BEGIN IMMEDIATE … COMMIT` per row, with the daemon's pragmas.
pub fn raw_commit_rate(path: &Path, n: usize) -> anyhow::Result<f64> {
    commit_rate(path, n, 1, b"row")
}

/// Commits per second when each commit writes `pages` new pages (one row
/// that nearly fills a 4 KiB page each).
fn raw_commit_rate_of(path: &Path, n: usize, pages: usize) -> anyhow::Result<f64> {
    commit_rate(path, n, pages, &[0x5a; 3900])
}

/// `n` durable commits of `rows` rows holding `row` each, per second.
fn commit_rate(path: &Path, n: usize, rows: usize, row: &[u8]) -> anyhow::Result<f64> {
    let mut conn = ordersync::store::open_connection(path)?;
    conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL) STRICT")?;
    let started = Instant::now();
    for _ in 0..n {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for _ in 0..rows {
            tx.execute("INSERT INTO t (v) VALUES (?1)", [row])?;
        }
        tx.commit()?;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}
