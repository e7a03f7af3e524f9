//! `cargo xtask bench`: the benchmark suite.
//!
//! Each benchmark drives real processes over loopback: the daemon runs as a
//! child process (or, for the Rakuten import, in this process so the
//! simulator's call counts can be read), the providers are the project's
//! simulators, and the store is a real SQLite file on the disk the command
//! runs on. Every run ends with one table of figures and their goals, the
//! table `BENCHMARKS.md` publishes.
//!
//! ```text
//! cargo xtask bench                  # everything (a few minutes)
//! cargo xtask bench ingest rakuten   # some of it
//! ```

mod big_store;
mod catalog;
mod channels;
mod contention;
/// The daemon as a child process (the soak starts it the same way).
pub mod daemon;
mod flood;
mod import;
mod ingest;
mod load;
mod outbox;
mod race;
mod rakuten;
mod report;
mod stats;

use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, ValueEnum};

use report::Report;

#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Benchmarks to run; all of them when none is named.
    #[arg(value_enum)]
    pub suites: Vec<Suite>,
    /// Webhooks sent in each throughput phase.
    #[arg(long, default_value_t = 3000)]
    pub n: usize,
    /// Requests in flight at once in the throughput phases.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Offered rate of the latency phase, webhooks per second (0 skips it).
    #[arg(long, default_value_t = 500)]
    pub rate: u32,
    /// Length of the latency phase in seconds.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Commits in the raw SQLite measurement.
    #[arg(long, default_value_t = 3000)]
    pub raw_commits: usize,
    /// Pending Rakuten orders the import benchmark reads.
    #[arg(long, default_value_t = 10_000)]
    pub rakuten_orders: usize,
    /// Calls waiting in the outbox when the drain benchmark starts.
    #[arg(long, default_value_t = 5_000)]
    pub outbox_calls: usize,
    /// Orders already in the store for the memory and start-up benchmark.
    #[arg(long, default_value_t = 1_000_000)]
    pub stored_orders: usize,
    /// Length of the two-channel race of the channels benchmark, in seconds
    /// (the three daemons race side by side, in real time).
    #[arg(long, default_value_t = 600)]
    pub race_seconds: u64,
    /// Changes timed one by one for staleness, per source (ERP, J-goods).
    #[arg(long, default_value_t = 40)]
    pub staleness_changes: usize,
    /// Availability changes in one import for the push's call cost.
    #[arg(long, default_value_t = 10_000)]
    pub push_changes: usize,
    /// Rows of the large stock import (the import benchmark).
    #[arg(long, default_value_t = 1_000_000)]
    pub import_rows: usize,
    /// Items of the product master (the catalog benchmark).
    #[arg(long, default_value_t = 10_000)]
    pub catalog_items: usize,
    /// Length of the forged-webhook flood, in seconds (the flood benchmark).
    #[arg(long, default_value_t = 60)]
    pub flood_seconds: u64,
    /// Where the databases go (default: a temporary directory under the
    /// current directory, so the disk is the one you run on).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suite {
    /// J-goods webhook ingest: throughput, ack latency, post-back latency.
    Ingest,
    /// Allocation: orders spread over many SKUs against one hot SKU.
    Contention,
    /// Rakuten Pay import: calls made against the minimum.
    Rakuten,
    /// Outbox drain after an outage.
    Outbox,
    /// Start-up time to READY, and memory with a large store.
    Store,
    /// Stock push to Rakuten: staleness, oversell in a two-channel race, call cost.
    Channels,
    /// A large stock import beside live webhooks: rows/s, ack latency meanwhile.
    Import,
    /// The product master to J-goods: import, first sync, re-syncs against a full upload.
    Catalog,
    /// Forged webhooks for a minute: a genuine sender's latency, the disk, the memory.
    Flood,
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    ordersync::logging::init_with_default("warn");
    let suites = if args.suites.is_empty() {
        Suite::value_variants().to_vec()
    } else {
        args.suites.clone()
    };
    let base = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let dir = tempfile::Builder::new()
        .prefix("ordersync-bench-")
        .tempdir_in(&base)?;
    let mut report = Report::default();
    let mut failures = Vec::new();
    for suite in suites {
        let work = dir.path().join(format!("{suite:?}").to_lowercase());
        std::fs::create_dir_all(&work)?;
        println!("\n## {suite:?}");
        let outcome = match suite {
            Suite::Ingest => ingest::run(&args, &work, &mut report).await,
            Suite::Contention => contention::run(&args, &work, &mut report).await,
            Suite::Rakuten => rakuten::run(&args, &work, &mut report).await,
            Suite::Outbox => outbox::run(&args, &work, &mut report).await,
            Suite::Store => big_store::run(&args, &work, &mut report).await,
            Suite::Channels => channels::run(&args, &work, &mut report).await,
            Suite::Import => import::run(&args, &work, &mut report).await,
            Suite::Catalog => catalog::run(&args, &work, &mut report).await,
            Suite::Flood => flood::run(&args, &work, &mut report).await,
        };
        if let Err(e) = outcome {
            println!("{suite:?} failed: {e:#}");
            failures.push(format!("{suite:?}"));
        }
        // Each suite's databases can be large; free the disk as we go.
        let _ = std::fs::remove_dir_all(&work);
    }
    println!("\n## Summary\n");
    print!("{}", report.markdown());
    if !failures.is_empty() {
        bail!("benchmarks failed: {}", failures.join(", "));
    }
    Ok(())
}
