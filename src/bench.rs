//! `ordersync bench`: J-goods webhook ingest against a real daemon process
//! backed by the J-goods simulator, beside the raw durable-commit rate of
//! SQLite on the same disk.
//!
//! Reports acknowledged webhooks/s at a fixed concurrency, ack latency
//! percentiles at a fixed offered rate, webhook-to-post-back latency, and the
//! daemon's peak RSS (VmHWM).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use tokio::net::TcpListener;
use tokio::process::{Child, Command};

use crate::providers::jgoods::{Status, signature};
use crate::sim::jgoods::{self as sim, JgoodsSimConfig, JgoodsSimHandle};

#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Webhooks sent in the throughput phase.
    #[arg(long, default_value_t = 3000)]
    pub n: usize,
    /// Requests in flight at once in the throughput phase.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Offered rate of the latency phase, webhooks per second (0 skips it).
    #[arg(long, default_value_t = 200)]
    pub rate: u32,
    /// Length of the latency phase in seconds.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Commits in the raw SQLite measurement.
    #[arg(long, default_value_t = 3000)]
    pub raw_commits: usize,
    /// Where the databases go (default: a temporary directory under the
    /// current directory, so the disk is the one you run on).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

const SECRET: &str = "bench-webhook-secret";

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    crate::logging::init_quiet();
    let base = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let dir = tempfile::Builder::new()
        .prefix("ordersync-bench-")
        .tempdir_in(&base)?;

    let raw_rate = raw_commit_rate(&dir.path().join("raw.sqlite"), args.raw_commits)?;
    println!(
        "raw SQLite durable commits: {raw_rate:.0}/s ({} commits, WAL, synchronous=FULL)",
        args.raw_commits
    );

    let sim_cfg = JgoodsSimConfig {
        webhook_auth: sim::SimWebhookAuth::Hmac {
            secret: SECRET.into(),
        },
        ..JgoodsSimConfig::default()
    };
    let sim = Arc::new(sim::start(TcpListener::bind("127.0.0.1:0").await?, sim_cfg.clone()).await?);
    let (mut daemon, webhook_url, admin) = start_daemon(dir.path(), &sim, &sim_cfg).await?;
    let pid = daemon.id().context("daemon pid")?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    for i in 0..100 {
        let r = http
            .put(format!("http://{admin}/api/v1/stock/B-{i:03}"))
            .bearer_auth(SECRET)
            .json(&serde_json::json!({"on_hand": 1_000_000}))
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("cannot load stock: {}", r.status());
        }
    }

    let tracker = PostBackTracker::default();
    let watcher = tokio::spawn(tracker.clone().watch(sim.clone()));

    // Throughput: a fixed number of requests, `concurrency` in flight.
    let orders: Vec<String> = (0..args.n).map(|i| format!("T{i:07}")).collect();
    let bodies = prepare(&sim, &orders);
    let started = Instant::now();
    let lat = send_closed_loop(&http, &webhook_url, bodies, args.concurrency, &tracker).await?;
    let wall = started.elapsed();
    let ingest_rate = args.n as f64 / wall.as_secs_f64();
    println!(
        "\ningest, {} webhooks at concurrency {}: {:.0} acked/s; ack p50 {} p99 {} max {}",
        args.n,
        args.concurrency,
        ingest_rate,
        ms(percentile(&lat, 50.0)),
        ms(percentile(&lat, 99.0)),
        ms(percentile(&lat, 100.0))
    );

    // Latency: an open-loop schedule at a fixed offered rate.
    let mut paced = Vec::new();
    if args.rate > 0 {
        let count = args.rate as usize * args.seconds as usize;
        let orders: Vec<String> = (0..count).map(|i| format!("L{i:07}")).collect();
        let bodies = prepare(&sim, &orders);
        paced = send_open_loop(&http, &webhook_url, bodies, args.rate, &tracker).await?;
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
    let rss = peak_rss_kib(pid);
    println!(
        "daemon peak RSS: {}",
        rss.map(|k| format!("{:.1} MB", k as f64 / 1024.0))
            .unwrap_or_else(|| "unknown".into())
    );
    let ratio = ingest_rate / raw_rate;
    println!("\nratio ingest / raw durable commits: {ratio:.2} (target ≥ 0.5)");
    if args.rate > 0 {
        let p99 = percentile(&paced, 99.0);
        println!("p99 ack at {}/s: {} (target ≤ 20 ms)", args.rate, ms(p99));
    }
    if let Some(k) = rss {
        println!("peak RSS: {:.1} MB (target ≤ 60 MB)", k as f64 / 1024.0);
    }
    daemon.start_kill().ok();
    let _ = daemon.wait().await;
    sim.shutdown().await;
    if !drained {
        bail!("not every order's post-back reached the simulator");
    }
    Ok(())
}

/// One small `BEGIN IMMEDIATE … COMMIT` per row, with the daemon's pragmas.
fn raw_commit_rate(path: &Path, n: usize) -> anyhow::Result<f64> {
    let mut conn = crate::store::open_connection(path)?;
    conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL) STRICT")?;
    let started = Instant::now();
    for i in 0..n {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute("INSERT INTO t (v) VALUES (?1)", [format!("row {i}")])?;
        tx.commit()?;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

async fn start_daemon(
    dir: &Path,
    sim: &JgoodsSimHandle,
    cfg: &JgoodsSimConfig,
) -> anyhow::Result<(Child, String, String)> {
    let port = |l: std::net::TcpListener| l.local_addr().map(|a| a.port());
    let listen = format!(
        "127.0.0.1:{}",
        port(std::net::TcpListener::bind("127.0.0.1:0")?)?
    );
    let admin = format!(
        "127.0.0.1:{}",
        port(std::net::TcpListener::bind("127.0.0.1:0")?)?
    );
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
[jgoods]
order_api_base_url = "{order}"
item_api_base_url = "{item}"
token_url = "{token}"
client_id = "{id}"
client_secret = "{secret}"
webhook_secret = "{SECRET}"
"#,
            data = dir.join("data").display(),
            order = sim.order_api_base_url(),
            item = sim.item_api_base_url(),
            token = sim.token_url(),
            id = cfg.client_id,
            secret = cfg.client_secret,
        ),
    )?;
    let child = Command::new(std::env::current_exe()?)
        .arg("--config")
        .arg(&config)
        .arg("run")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the daemon")?;
    let http = reqwest::Client::new();
    let until = Instant::now() + Duration::from_secs(30);
    while Instant::now() < until {
        if let Ok(r) = http.get(format!("http://{admin}/healthz")).send().await
            && r.status().is_success()
        {
            return Ok((child, format!("http://{listen}/webhooks/jgoods"), admin));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bail!("the daemon did not become healthy")
}

/// Registers the orders at the simulator (so post-backs find them) and
/// builds their webhook bodies.
fn prepare(sim: &JgoodsSimHandle, orders: &[String]) -> Vec<(String, Vec<u8>)> {
    orders
        .iter()
        .enumerate()
        .map(|(i, no)| {
            let sku = format!("B-{:03}", i % 100);
            sim.place_order(no, &[(sku.as_str(), 1, 1000)]);
            let snap = sim.order(no).unwrap_or_else(|| unreachable!("just placed"));
            let body =
                serde_json::to_vec(&crate::providers::jgoods::wire::wire_from_snapshot(&snap))
                    .unwrap_or_default();
            (no.clone(), body)
        })
        .collect()
}

async fn send_one(
    http: &reqwest::Client,
    url: &str,
    order: &str,
    body: &[u8],
) -> anyhow::Result<Duration> {
    let ts = chrono::Utc::now().timestamp();
    let started = Instant::now();
    let resp = http
        .post(url)
        .header("content-type", "application/json; charset=utf-8")
        .header("x-jgoods-delivery", format!("bench-{order}"))
        .header("x-jgoods-timestamp", ts.to_string())
        .header(
            "x-jgoods-signature",
            signature::sign(SECRET.as_bytes(), ts, body),
        )
        .body(body.to_vec())
        .send()
        .await?;
    let status = resp.status();
    let _ = resp.bytes().await;
    if !status.is_success() {
        bail!("webhook for {order} answered {status}");
    }
    Ok(started.elapsed())
}

async fn send_closed_loop(
    http: &reqwest::Client,
    url: &str,
    bodies: Vec<(String, Vec<u8>)>,
    concurrency: usize,
    tracker: &PostBackTracker,
) -> anyhow::Result<Vec<Duration>> {
    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (http, url, bodies, next, tracker) = (
            http.clone(),
            url.to_string(),
            bodies.clone(),
            next.clone(),
            tracker.clone(),
        );
        workers.spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((order, body)) = bodies.get(i) else {
                    break;
                };
                tracker.sent(order);
                lat.push(send_one(&http, &url, order, body).await?);
            }
            anyhow::Ok(lat)
        });
    }
    let mut all = Vec::new();
    while let Some(r) = workers.join_next().await {
        all.extend(r??);
    }
    Ok(all)
}

async fn send_open_loop(
    http: &reqwest::Client,
    url: &str,
    bodies: Vec<(String, Vec<u8>)>,
    rate: u32,
    tracker: &PostBackTracker,
) -> anyhow::Result<Vec<Duration>> {
    let start = tokio::time::Instant::now();
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (order, body)) in bodies.into_iter().enumerate() {
        tokio::time::sleep_until(start + interval * i as u32).await;
        tracker.sent(&order);
        let (http, url) = (http.clone(), url.to_string());
        tasks.spawn(async move { send_one(&http, &url, &order, &body).await });
    }
    let mut all = Vec::new();
    while let Some(r) = tasks.join_next().await {
        all.push(r??);
    }
    Ok(all)
}

/// Notes when each webhook was sent and when its post-back reached J-goods.
#[derive(Clone, Default)]
struct PostBackTracker {
    inner: Arc<Mutex<TrackerState>>,
}

#[derive(Default)]
struct TrackerState {
    waiting: HashMap<String, Instant>,
    done: Vec<Duration>,
}

impl PostBackTracker {
    fn sent(&self, order: &str) {
        if let Ok(mut s) = self.inner.lock() {
            s.waiting.insert(order.to_string(), Instant::now());
        }
    }

    async fn watch(self, sim: Arc<JgoodsSimHandle>) {
        loop {
            let waiting: Vec<String> = self
                .inner
                .lock()
                .map(|s| s.waiting.keys().cloned().collect())
                .unwrap_or_default();
            for order in waiting {
                if sim
                    .order(&order)
                    .is_some_and(|o| o.status == Status::AwaitingArrival)
                    && let Ok(mut s) = self.inner.lock()
                    && let Some(t) = s.waiting.remove(&order)
                {
                    s.done.push(t.elapsed());
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    async fn wait_all(&self, total: usize, deadline: Duration) -> bool {
        let until = Instant::now() + deadline;
        while Instant::now() < until {
            if self
                .inner
                .lock()
                .map(|s| s.done.len() >= total)
                .unwrap_or(false)
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    fn latencies(&self) -> Vec<Duration> {
        self.inner
            .lock()
            .map(|s| s.done.clone())
            .unwrap_or_default()
    }
}

fn percentile(samples: &[Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let mut v = samples.to_vec();
    v.sort();
    let rank = ((p / 100.0) * (v.len() - 1) as f64).round() as usize;
    v[rank.min(v.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Peak resident set size of a process, from `/proc/PID/status` (Linux).
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}
