//! Webhook load for the benchmarks: signed J-goods deliveries sent closed-loop
//! (a fixed number in flight) or open-loop (a fixed offered rate), and a
//! tracker of when each order's post-back reached the simulator.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::bail;

use super::daemon::SECRET;
use ordersync_sim::jgoods::{JgoodsSimHandle, Status, signature};

/// Registers the orders at the simulator (so post-backs find them) and
/// builds their webhook bodies.
pub fn prepare(
    sim: &JgoodsSimHandle,
    orders: &[String],
    sku: impl Fn(usize) -> String,
) -> Vec<(String, Vec<u8>)> {
    orders
        .iter()
        .enumerate()
        .map(|(i, no)| {
            let sku = sku(i);
            sim.place_order(no, &[(sku.as_str(), 1, 1000)]);
            let order = sim.order(no).unwrap_or_else(|| unreachable!("just placed"));
            let body = serde_json::to_vec(&order).unwrap_or_default();
            (no.clone(), body)
        })
        .collect()
}

pub async fn send_one(
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

pub async fn send_closed_loop(
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

pub async fn send_open_loop(
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
pub struct PostBackTracker {
    inner: Arc<Mutex<TrackerState>>,
}

#[derive(Default)]
struct TrackerState {
    waiting: HashMap<String, Instant>,
    done: Vec<Duration>,
}

impl PostBackTracker {
    pub fn sent(&self, order: &str) {
        if let Ok(mut s) = self.inner.lock() {
            s.waiting.insert(order.to_string(), Instant::now());
        }
    }

    /// Every 10 ms, reads the pushes J-goods recorded since the last look
    /// and counts an order as posted back once its 入荷待ち push (the effect
    /// of an accepted `PUT`) appears. Only the new records are read, so the
    /// watcher's cost follows the post-back rate, not the number of orders
    /// still waiting: on a 2-core machine a scan of every waiting order took
    /// CPU from the daemon under test.
    pub async fn watch(self, sim: Arc<JgoodsSimHandle>) {
        let mut seen = 0;
        loop {
            let look = Mutex::new((seen, Vec::new()));
            sim.wait_until(Duration::ZERO, |v| {
                let deliveries = &v.stats().deliveries;
                if let (Some(new), Ok(mut look)) = (deliveries.get(seen..), look.lock()) {
                    look.0 = deliveries.len();
                    look.1.extend(
                        new.iter()
                            .filter(|d| d.status == Status::AwaitingArrival)
                            .map(|d| d.order_no.clone()),
                    );
                }
                true
            })
            .await;
            let (next, arrived) = look.into_inner().unwrap_or_default();
            seen = next;
            if let Ok(mut s) = self.inner.lock() {
                for order in arrived {
                    if let Some(t) = s.waiting.remove(&order) {
                        s.done.push(t.elapsed());
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub async fn wait_all(&self, total: usize, deadline: Duration) -> bool {
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

    pub fn latencies(&self) -> Vec<Duration> {
        self.inner
            .lock()
            .map(|s| s.done.clone())
            .unwrap_or_default()
    }
}
