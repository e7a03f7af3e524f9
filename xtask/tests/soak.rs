//! The crash soak across every provider (`cargo xtask soak`): the daemon as a
//! child process beside all five simulators, a mixed load, 20 SIGKILLs at
//! random moments, provider faults between them, and a check after each
//! restart and at the end.

use std::process::Command;

/// The figures row of the soak's table: inputs, kills, lost, doubled,
/// invariant breaks, refused commands, …
fn figures(stdout: &str) -> Vec<String> {
    let row = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with("| ") && !l.starts_with("| inputs"))
        .unwrap_or_else(|| panic!("no figures in:\n{stdout}"));
    row.trim_matches('|')
        .split('|')
        .map(|c| c.trim().to_string())
        .collect()
}

/// Not part of a plain `cargo test` (it builds and kills the daemon twenty
/// times): CI runs it on its own, as `cargo test -p xtask --test soak --
/// --ignored`, and `cargo xtask soak` runs longer ones.
#[test]
#[ignore = "the crash soak: CI runs it with --ignored"]
fn twenty_sigkills_under_mixed_load_lose_and_double_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "soak",
            "--kills",
            "20",
            "--max-interval-ms",
            "1000",
            "--dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The seed is on the first line: a failure here is repeated with
    // `cargo xtask soak --seed N`.
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let f = figures(&stdout);
    let inputs: usize = f[0].parse().unwrap();
    assert!(inputs >= 500, "too little load to mean anything:\n{stdout}");
    let kills: u32 = f[1].parse().unwrap();
    assert!(kills >= 20, "kills:\n{stdout}");
    assert_eq!(
        &f[2..5],
        ["0", "0", "0"],
        "lost, doubled, broken:\n{stdout}"
    );
    // Providers misbehaved between the kills (two faults per kill by default).
    let faults: u32 = stdout
        .lines()
        .find_map(|l| l.split_once(" provider faults injected")?.0.parse().ok())
        .unwrap_or_else(|| panic!("no fault count in:\n{stdout}"));
    assert!(faults >= 40, "faults:\n{stdout}");
    // Every channel and payment method was in the mix.
    let inputs_line = stdout.lines().find(|l| l.starts_with("inputs:")).unwrap();
    for kind in [
        "J-goods orders",
        "Rakuten orders",
        "Kuroneko",
        "Atobarai.com",
        "KOMOJU",
        "stock counts",
        "shipments",
        "cancels",
    ] {
        let n: usize = inputs_line
            .find(kind)
            .and_then(|i| inputs_line[..i].trim_end().rsplit([' ', '(']).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(n > 0, "no {kind} in the load: {inputs_line}");
    }
}
