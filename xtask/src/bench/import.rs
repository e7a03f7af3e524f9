//! A large stock import beside live webhooks: how fast the import goes and
//! how long J-goods webhooks wait meanwhile, for the staged import as built
//! (`POST /api/v1/stock/import`) and, side by side, the one-transaction
//! import it replaced (the same parsed rows in one store write, as the
//! endpoint did before). Each case updates stock that already holds every
//! SKU (the path that was superlinear). The baseline runs at most
//! [`BASELINE_MAX`] rows: at a million it ran for more than 26 minutes.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;

use super::BenchArgs;
use super::daemon::{self, SECRET};
use super::load::send_one;
use super::report::Report;
use super::stats::{mb, ms, peak_rss_kib, percentile};
use ordersync::store::stock::StockLevel;
use ordersync::store::{restock, stock_import};

const NAME: &str = "import";
/// Largest baseline run.
const BASELINE_MAX: usize = 50_000;
/// Webhooks sent during an import, one every this long.
const WEBHOOK_EVERY: Duration = Duration::from_millis(20);

#[derive(Clone, Copy, PartialEq)]
enum Way {
    Staged,
    OneTransaction,
}

struct Outcome {
    wall: Duration,
    acks: Vec<Duration>,
}

pub async fn run(args: &BenchArgs, dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    let rows = args.import_rows;
    let small = rows.min(BASELINE_MAX);
    let mut cases = vec![(Way::OneTransaction, small), (Way::Staged, small)];
    if rows > small {
        cases.push((Way::Staged, rows));
    }
    for (i, (way, n)) in cases.into_iter().enumerate() {
        let label = match way {
            Way::Staged => "staged (as built)",
            Way::OneTransaction => "one transaction (before)",
        };
        let out = case(&dir.join(format!("case-{i}")), way, n).await?;
        let p99 = percentile(&out.acks, 99.0);
        let rate = n as f64 / out.wall.as_secs_f64();
        let rss = peak_rss_kib(std::process::id()).map_or("-".to_string(), mb);
        println!(
            "{label}, {n} rows: {:.1} s ({rate:.0} rows/s); {} webhooks meanwhile, ack p50 {} p99 {} max {}; peak RSS {rss}",
            out.wall.as_secs_f64(),
            out.acks.len(),
            ms(percentile(&out.acks, 50.0)),
            ms(p99),
            ms(percentile(&out.acks, 100.0)),
        );
        report.note(
            NAME,
            format!("{label}, {n} rows: time, rows/s"),
            format!("{:.1} s, {rate:.0} rows/s", out.wall.as_secs_f64()),
        );
        let acks = format!(
            "{} / {} / {} ({} webhooks)",
            ms(percentile(&out.acks, 50.0)),
            ms(p99),
            ms(percentile(&out.acks, 100.0)),
            out.acks.len()
        );
        let figure = format!("{label}, {n} rows: webhook ack p50 / p99 / max during the import");
        match way {
            Way::Staged => report.goal(
                NAME,
                figure,
                acks,
                "p99 ≤ 50 ms",
                p99 <= Duration::from_millis(50),
            ),
            Way::OneTransaction => report.note(NAME, figure, acks),
        }
        report.note(
            NAME,
            format!("{label}, {n} rows: peak RSS of the bench process so far"),
            rss,
        );
    }
    Ok(())
}

/// One import of `rows` over stock that holds them all, with webhooks beside it.
async fn case(dir: &Path, way: Way, rows: usize) -> anyhow::Result<Outcome> {
    std::fs::create_dir_all(dir)?;
    let (jgoods, cfg) = daemon::start_jgoods_sim().await?;
    // The J-goods stock push stays on (every changed SKU is owed to it, as in
    // a merchant's daemon), its item API on a closed port so that the pushes
    // fail fast and wait for their retry instead of loading the machine.
    let section = daemon::jgoods_section(&jgoods, &cfg, None)
        .replace(&jgoods.item_api_base_url(), "http://127.0.0.1:9/item");
    let text = format!(
        "[daemon]\ndata_dir = \"{}\"\nlisten = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"\nadmin_token = \"{SECRET}\"\n{section}",
        dir.join("data").display(),
    );
    let (_, d) = daemon::start_in_process(&text, dir, &jgoods).await?;
    let skus: Vec<String> = (0..rows).map(|i| format!("IMP-{i:07}")).collect();
    let seed = skus
        .iter()
        .map(|sku| StockLevel::counted(sku, 5))
        .chain((0..100).map(|i| StockLevel::counted(&format!("W-{i:03}"), 1_000_000)))
        .collect();
    stock_import::import(&d.store, seed).await?;
    let csv: String = std::iter::once("sku,on_hand\n".to_string())
        .chain(skus.iter().map(|s| format!("{s},7\n")))
        .collect();

    let stop = Arc::new(AtomicBool::new(false));
    let webhooks = tokio::spawn(send_webhooks(
        format!("http://{}/webhooks/jgoods", d.webhook_addr),
        stop.clone(),
    ));
    // Let the webhooks settle into their pace first.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    match way {
        Way::Staged => {
            let r = reqwest::Client::new()
                .post(format!("http://{}/api/v1/stock/import", d.admin_addr))
                .bearer_auth(SECRET)
                .header("content-type", "text/csv")
                .body(csv)
                .send()
                .await?;
            if !r.status().is_success() {
                bail!("the import answered {}: {}", r.status(), r.text().await?);
            }
        }
        Way::OneTransaction => {
            let levels = ordersync::inventory_import::parse_csv(csv.as_bytes())
                .map_err(|e| anyhow::anyhow!("line {}: {}", e.line, e.message))?;
            d.store
                .write(move |tx| {
                    restock::set_levels(
                        tx,
                        &levels,
                        &ordersync::domain::time::rfc3339(ordersync::domain::time::now()),
                    )
                })
                .await?;
        }
    }
    let wall = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    // Only the webhooks sent while the import ran.
    let acks: Vec<Duration> = webhooks
        .await??
        .into_iter()
        .filter(|(sent, _)| *sent >= started)
        .map(|(_, took)| took)
        .collect();
    let last = skus.last().cloned().unwrap_or_default();
    let counted = d
        .store
        .read(move |c| Ok(ordersync::store::stock::get(c, &last)?.map(|r| r.on_hand)))
        .await?;
    if !skus.is_empty() && counted != Some(7) {
        bail!("the import did not take: {counted:?}");
    }
    d.stop(Duration::from_secs(5)).await;
    Ok(Outcome { wall, acks })
}

/// Signed J-goods orders, one every [`WEBHOOK_EVERY`], until `stop`; their ack times.
async fn send_webhooks(
    url: String,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<Vec<(Instant, Duration)>> {
    let http = reqwest::Client::new();
    let mut acks = Vec::new();
    let mut next = Instant::now();
    let mut n = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let order = format!("IMPW{n:06}");
        let body = serde_json::json!({
            "order_no": order, "status": "承認待ち", "status_changed_at": "2026-12-03T10:00:00+09:00",
            "parent_order_no": null,
            "items": [{"line_no": 1, "item_code": format!("W-{:03}", n % 100), "item_name": "品物",
                       "qty": 1, "reserved_qty": null, "unit_price": 1000}]
        });
        let body = serde_json::to_vec(&body)?;
        let sent = Instant::now();
        acks.push((sent, send_one(&http, &url, &order, &body).await?));
        n += 1;
        next += WEBHOOK_EVERY;
        tokio::time::sleep_until(next.into()).await;
    }
    Ok(acks)
}
