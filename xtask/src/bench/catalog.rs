//! The product master to J-goods: a Shift_JIS master of `--catalog-items`
//! items imported (rows/s, peak memory), the first sync (calls, time, call
//! latency), then the re-syncs the content hashes make cheap, side by side
//! with the baseline of sending every item again on every sync (what a
//! periodic full upload does).
//!
//! In this process: the store is a real SQLite file, the sync worker is the
//! daemon's, J-goods is the simulator over loopback HTTP.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Map, Value};
use tokio::net::TcpListener;

use super::BenchArgs;
use super::report::Report;
use super::stats::{mb, ms, peak_rss_kib, percentile};
use ordersync::flows::catalog::{self, Form};
use ordersync::providers::jgoods::catalog_sync::CatalogSync;
use ordersync::providers::jgoods::client::JgoodsClient;
use ordersync::sim::jgoods::JgoodsSimSettings;
use ordersync::store::Store;
use ordersync::text_encoding::{TextEncoding, encode};
use ordersync_sim::jgoods::{self as sim, JgoodsSimConfig};

const NAME: &str = "catalog";

fn master(n: usize, price_bump: usize) -> Vec<u8> {
    let mut text = String::from(
        "商品コード,商品名,販売価格(税込),税率,JANコード,重量(g),カテゴリ,商品説明,画像URL,中古,販売中\n",
    );
    for i in 0..n {
        // The first `price_bump` items cost 100 yen more than before.
        let price = 1000 + (i % 500) * 10 + if i < price_bump { 100 } else { 0 };
        text.push_str(&format!(
            "SKU-{i:06},南部鉄器 急須 {i},{price},10,,{},cat-{:02},岩手県産の南部鉄器,https://shop.example.jp/img/{i}.jpg,いいえ,はい\n",
            500 + i % 1000,
            i % 20
        ));
    }
    encode(&text, TextEncoding::ShiftJis).0
}

fn categories() -> Vec<u8> {
    let mut text = String::from("カテゴリコード,カテゴリ名,親カテゴリ\n");
    for c in 0..20 {
        text.push_str(&format!("cat-{c:02},カテゴリ {c},\n"));
    }
    text.into_bytes()
}

pub async fn run(args: &BenchArgs, dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    let n = args.catalog_items;
    let jgoods = sim::start(
        TcpListener::bind("127.0.0.1:0").await?,
        JgoodsSimConfig::default(),
    )
    .await?;
    let client = Arc::new(JgoodsClient::new(jgoods.client_settings())?);
    let store = Store::open_in(dir, 0)?;
    let sync = CatalogSync {
        ctx: ordersync::worker::WorkerContext::standalone(store.clone()),
        client: client.clone(),
        interval: Duration::ZERO,
        poke: Default::default(),
    };
    catalog::import_categories(&store, categories(), Form::Csv(None)).await?;

    let file = master(n, 0);
    let started = Instant::now();
    let count = catalog::import_items(&store, file, Form::Csv(None)).await?;
    let import = started.elapsed();
    if count.added != n {
        bail!("imported {} of {n}", count.added);
    }
    println!(
        "import of {n} items: {} ({:.0} rows/s)",
        ms(import),
        n as f64 / import.as_secs_f64()
    );
    report.goal(
        NAME,
        format!("`catalog import` of {n} items (Shift_JIS CSV)"),
        format!(
            "{} ({:.0} rows/s)",
            ms(import),
            n as f64 / import.as_secs_f64()
        ),
        "≤ 5 s",
        import <= Duration::from_secs(5),
    );

    let calls = |j: &sim::JgoodsSimHandle| j.stats().catalog_calls.len();
    let started = Instant::now();
    let first = sync.round().await?;
    let first_time = started.elapsed();
    let first_calls = calls(&jgoods);
    if first.registered != n {
        bail!("the first sync registered {} of {n}", first.registered);
    }
    let fewest = n.div_ceil(100) + 1;
    println!("first sync: {first_calls} calls in {}", ms(first_time));
    report.goal(
        NAME,
        format!("first sync of {n} items: calls (categories and items, 100 a call)"),
        format!("{first_calls} in {}", ms(first_time)),
        format!("{fewest} (the fewest the API allows)"),
        first_calls <= fewest,
    );

    // Nothing changed: ordersync sends nothing; the baseline sends it all.
    catalog::import_items(&store, master(n, 0), Form::Csv(None)).await?;
    let before = calls(&jgoods);
    let started = Instant::now();
    sync.round().await?;
    let idle = started.elapsed();
    let idle_calls = calls(&jgoods) - before;
    let (baseline_time, latencies) = full_upload(&store, &client).await?;
    println!(
        "re-sync, nothing changed: {idle_calls} calls in {}; full upload: {} calls in {}",
        ms(idle),
        latencies.len(),
        ms(baseline_time)
    );
    report.goal(
        NAME,
        format!(
            "re-sync of an unchanged master: calls (baseline: every item again, {} calls in {})",
            latencies.len(),
            ms(baseline_time)
        ),
        format!("{idle_calls} in {}", ms(idle)),
        "0",
        idle_calls == 0,
    );
    report.note(
        NAME,
        "one PUT of 100 items: p50 / p99 / max",
        format!(
            "{} / {} / {}",
            ms(percentile(&latencies, 50.0)),
            ms(percentile(&latencies, 99.0)),
            ms(percentile(&latencies, 100.0))
        ),
    );

    // A price list changes 100 items: one call, the price alone.
    catalog::import_items(&store, master(n, 100), Form::Csv(None)).await?;
    let before = calls(&jgoods);
    let started = Instant::now();
    let changed = sync.round().await?;
    let took = started.elapsed();
    let last = jgoods
        .stats()
        .catalog_calls
        .last()
        .cloned()
        .context("no call")?;
    let only_price = last.1["items"].as_array().is_some_and(|items| {
        items.iter().all(|i| {
            i.as_object()
                .is_some_and(|o| o.len() == 2 && o.contains_key("price"))
        })
    });
    let change_calls = calls(&jgoods) - before;
    report.goal(
        NAME,
        "re-sync after 100 prices changed: calls, fields sent",
        format!(
            "{change_calls} call, {} items, {} in {}",
            changed.updated,
            if only_price {
                "item_code and price only"
            } else {
                "**more fields**"
            },
            ms(took)
        ),
        "1 call, the price only",
        change_calls == 1 && only_price,
    );
    if let Some(kib) = peak_rss_kib(std::process::id()) {
        report.note(
            NAME,
            "peak RSS of the bench process (store, simulator and sync)",
            mb(kib),
        );
    }
    jgoods.shutdown().await;
    Ok(())
}

/// The baseline: every item of the master sent again (`PUT`, 100 a call);
/// the whole time and each call's.
async fn full_upload(
    store: &Store,
    client: &JgoodsClient,
) -> anyhow::Result<(Duration, Vec<Duration>)> {
    let items = store
        .read(|c| ordersync::store::catalog::all_items(c))
        .await?;
    let bodies: Vec<Map<String, Value>> = items.iter().map(|i| i.wire()).collect();
    let started = Instant::now();
    let mut latencies = Vec::new();
    for chunk in bodies.chunks(100) {
        let t = Instant::now();
        client.write_items(chunk, false).await?;
        latencies.push(t.elapsed());
    }
    Ok((started.elapsed(), latencies))
}
