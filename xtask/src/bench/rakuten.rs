//! Rakuten Pay import: pending orders read, allocated and confirmed in one
//! poll, with the calls counted by the simulator against the fewest the API
//! allows (searchOrder pages of 1000, getOrder and confirmOrder in batches of
//! 100).
//!
//! The daemon runs in this process here, so the poll can be started at a
//! known moment; calls go over loopback HTTP as always. Rakuten allows about
//! one request a second, so the call count, not the wall time, is what
//! decides how long a real import takes.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::net::TcpListener;

use super::BenchArgs;
use super::daemon::SECRET;
use super::report::Report;
use ordersync::app::Daemon;
use ordersync::config_file::Config;
use ordersync::store::{Store, kv};
use ordersync_sim::rakuten_pay::{
    self as sim, NewItem, NewOrder, OrderProgress, RakutenSimConfig, RakutenSimHandle, SimStats,
};

const NAME: &str = "rakuten";
const LAST_POLL: &str = "poll.rakuten_pay.last_success";

pub async fn run(args: &BenchArgs, dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    let n = args.rakuten_orders;
    let rakuten = sim::start(
        TcpListener::bind("127.0.0.1:0").await?,
        RakutenSimConfig::default(),
    )
    .await?;
    let text = config_text(&rakuten, dir);
    let config = Config::from_toml_str(&text, &dir.join("bench.toml"))?;
    let daemon = Daemon::start(
        &config,
        TcpListener::bind("127.0.0.1:0").await?,
        TcpListener::bind("127.0.0.1:0").await?,
    )
    .await?;
    let store = daemon.store.clone();
    // The start-up poll finds nothing; the measured poll starts after it.
    let first = wait_for_poll(&store, None).await?;
    let http = reqwest::Client::new();
    let r = http
        .put(format!("http://{}/api/v1/stock/BULK", daemon.admin_addr))
        .bearer_auth(SECRET)
        .json(&serde_json::json!({"on_hand": n}))
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("cannot set stock: {}", r.status());
    }
    let numbers: Vec<String> = (0..n)
        .map(|_| {
            let no = rakuten.next_order_number();
            rakuten.place_order(NewOrder::new(&no).item(NewItem::new("BULK", "", 100, 1)));
            no
        })
        .collect();
    let before = rakuten.stats();
    let started = Instant::now();
    daemon.poll_now();
    wait_for_poll(&store, Some(first)).await?;
    let confirmed = rakuten
        .wait_until(Duration::from_secs(60), |v| {
            numbers
                .iter()
                .all(|no| v.progress(no) != Some(OrderProgress::AwaitingConfirmation))
        })
        .await;
    let wall = started.elapsed();
    let after = rakuten.stats();
    let imported: i64 = store
        .read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM orders WHERE channel = 'rakuten' AND state IN ('allocated', 'confirmed')",
                [],
                |r| r.get(0),
            )?)
        })
        .await?;
    daemon.stop(Duration::from_secs(10)).await;
    rakuten.shutdown().await;

    record(report, n, imported, wall, &before, &after);
    if imported as usize != n || !confirmed {
        bail!("{imported} of {n} orders imported; all confirmed: {confirmed}");
    }
    Ok(())
}

/// The daemon's config: Rakuten Pay on the simulator, no pacing.
fn config_text(rakuten: &RakutenSimHandle, dir: &Path) -> String {
    format!(
        r#"[daemon]
data_dir = "{data}"
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
admin_token = "{SECRET}"
[rakuten_pay]
enabled = true
api_base_url = "{api}"
license_api_url = "{license}"
service_secret = "{service}"
license_key = "{key}"
poll_interval = "1h"
request_interval = "0s"
auto_confirm = true
# The import alone is measured: no stock push (`bench channels` measures it).
stock_push_interval = "0s"
"#,
        data = dir.join("data").display(),
        api = rakuten.api_base_url(),
        license = rakuten.license_api_url(),
        service = rakuten.service_secret(),
        key = rakuten.license_key(),
    )
}

/// The run's lines of the report table.
fn record(
    report: &mut Report,
    n: usize,
    imported: i64,
    wall: Duration,
    before: &SimStats,
    after: &SimStats,
) {
    let search = after.search_order - before.search_order;
    let get = after.get_order - before.get_order;
    let confirm = after.confirm_order - before.confirm_order;
    let (min_search, min_batch) = (n.div_ceil(1000), n.div_ceil(100));
    let calls = search + get + confirm;
    let minimum = min_search + 2 * min_batch;
    println!(
        "{n} orders: {imported} imported and allocated in {:.1} s; searchOrder {search} (min {min_search}), getOrder {get} (min {min_batch}), confirmOrder {confirm} (min {min_batch})",
        wall.as_secs_f64()
    );
    report.goal(
        NAME,
        format!("API calls to import and confirm {n} orders"),
        format!("{calls} (search {search}, get {get}, confirm {confirm})"),
        format!("= minimum {minimum}"),
        calls == minimum,
    );
    report.note(
        NAME,
        "time at Rakuten's 1 request/s (calls × 1 s)",
        format!("{} min {} s", calls / 60, calls % 60),
    );
    report.note(
        NAME,
        "wall time with no pacing (daemon + simulator work)",
        format!("{:.1} s", wall.as_secs_f64()),
    );
}

/// Waits until the last successful poll is recorded and differs from `after`.
async fn wait_for_poll(store: &Store, after: Option<String>) -> anyhow::Result<String> {
    let until = Instant::now() + Duration::from_secs(600);
    loop {
        let last = store.read(|c| kv::get(c, LAST_POLL)).await?;
        if let Some(last) = last
            && Some(&last) != after.as_ref()
        {
            return Ok(last);
        }
        if Instant::now() > until {
            return None.context("the Rakuten poll did not finish within 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
