//! The benchmark suite (`cargo xtask bench`) at a small scale.

use std::process::Command;

fn xtask(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .unwrap()
}

/// The benchmark suite at a small scale: it keeps working, and its
/// correctness figures (never oversold, minimum Rakuten calls, each queued
/// call applied once, the fewest stock pushes to Rakuten) hold. The speed goals are for `BENCHMARKS.md` runs.
#[test]
fn the_benchmark_suite_runs_at_a_small_scale() {
    let dir = tempfile::tempdir().unwrap();
    let out = xtask(&[
        "bench",
        "--n",
        "100",
        "--rate",
        "20",
        "--seconds",
        "1",
        "--raw-commits",
        "50",
        "--rakuten-orders",
        "250",
        "--outbox-calls",
        "100",
        "--stored-orders",
        "1000",
        "--race-seconds",
        "3",
        "--staleness-changes",
        "3",
        "--push-changes",
        "800",
        "--import-rows",
        "5000",
        "--flood-seconds",
        "2",
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for row in [
        "| 50 of 50 | = stock (sold out, never oversold) | yes |",
        "| 7 (search 1, get 3, confirm 3) | = minimum 7 | yes |",
        "| 100 | = 100 (each once) | yes |",
        "| 2 | = minimum 2 (changes / 400) | yes |",
    ] {
        assert!(stdout.contains(row), "missing {row}:\n{stdout}");
    }
}
