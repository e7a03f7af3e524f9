//! `cargo xtask`: ordersync's developer tasks, kept out of the merchant's
//! command line.
//!
//! - `cargo xtask bench [SUITE…]`: the benchmark suite ([`bench`]), whose
//!   table `BENCHMARKS.md` publishes.
//! - `cargo xtask soak [--kills N] …`: SIGKILLs under a mixed load across
//!   every provider ([`soak`]).
//!
//! Both run the real daemon as a child process: this binary starts itself as
//! `xtask ordersync ARGS…`, which is `ordersync ARGS…` (the same library entry
//! point the `ordersync` binary has), so no other binary has to be found.

mod bench;
mod soak;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "cargo xtask",
    about = "ordersync's benchmark suite and crash soak"
)]
struct Xtask {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand, Debug)]
enum Task {
    /// The benchmark suite: ingest, contention, Rakuten import, outbox drain, large store.
    Bench(bench::BenchArgs),
    /// Crash soak: the daemon beside every provider's simulator under a mixed
    /// load, killed with SIGKILL at random and checked after each restart.
    Soak(soak::SoakArgs),
}

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "ordersync") {
        // The daemon (or one of its commands) as a child of a task.
        return ordersync::cli::main_from(&args[1..]);
    }
    let task = Xtask::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("xtask: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match task.task {
        Task::Bench(args) => runtime.block_on(bench::run(args)),
        Task::Soak(args) => runtime.block_on(soak::run(args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}
