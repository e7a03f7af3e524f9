//! `ordersync sim` as a person uses it: the config it prints, with the
//! credential files it writes, starts a daemon that reaches every simulator
//! (no URL left at a real provider's host, no path missing).

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::helpers::*;

/// Runs `ordersync` with `args`, its output.
fn ordersync(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ordersync"))
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test]
async fn the_config_ordersync_sim_prints_reaches_every_simulator() {
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("creds");
    let any = "127.0.0.1:0";
    let mut sim = tokio::process::Command::new(env!("CARGO_BIN_EXE_ordersync"))
        .args(["sim", "--jgoods-listen", any, "--rakuten-listen", any])
        .args(["--kuroneko-listen", any, "--atobarai-listen", any])
        .args(["--komoju-listen", any, "--control-listen", any])
        .arg("--credentials-out")
        .arg(&creds)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(sim.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    tokio::time::timeout(DEADLINE, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line == "# end of config" {
                return;
            }
            printed.push_str(&line);
            printed.push('\n');
        }
        panic!("ordersync sim ended before its config:\n{printed}");
    })
    .await
    .expect("ordersync sim printed its config");

    // Secrets are files, not text in the config.
    for secret in ["sim-webhook-secret", "client_secret = \""] {
        assert!(!printed.contains(secret), "{secret} inline:\n{printed}");
    }
    assert!(
        printed.contains("client_secret = { credential = \"jgoods-client-secret\" }"),
        "{printed}"
    );
    // Every URL the config gives is the simulators' (loopback).
    for line in printed.lines().filter(|l| l.contains("_url")) {
        assert!(line.contains("\"http://127.0.0.1:"), "{line}");
    }
    for key in [
        "category_api_base_url",
        "inventory_api_url",
        "license_api_url",
    ] {
        assert!(printed.contains(key), "{key} missing:\n{printed}");
    }

    let (listen, admin) = (
        format!("127.0.0.1:{}", free_port().await),
        format!("127.0.0.1:{}", free_port().await),
    );
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[daemon]\ndata_dir = \"{}\"\nlisten = \"{listen}\"\nadmin_listen = \"{admin}\"\nadmin_token = \"sim-command-admin-token-0123456789\"\n{printed}",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let creds = creds.to_str().unwrap();
    let cfg = config.to_str().unwrap();
    let check = ordersync(&["--config", cfg, "--credentials-dir", creds, "check-config"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let _daemon = tokio::process::Command::new(env!("CARGO_BIN_EXE_ordersync"))
        .args(["--config", cfg, "--credentials-dir", creds, "run"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("daemon.log")).unwrap())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // Each poller's first round trip succeeds, the Rakuten SKU map is read
    // from the inventory URL, and J-goods' catalog (items and categories)
    // answers the catalog check.
    eventually(Duration::from_millis(200), || async {
        let status = ordersync(&["--config", cfg, "--credentials-dir", creds, "status"]);
        let text = String::from_utf8_lossy(&status.stdout).to_string();
        let missing: Vec<&str> = ["jgoods", "rakuten_pay", "kuroneko", "atobarai_com"]
            .into_iter()
            .filter(|p| !text.contains(&format!("last successful poll, {p}:")))
            .collect();
        match missing.is_empty() && !text.contains("problem") {
            true => Ok(()),
            false => Err(format!("not reached: {missing:?}\n{text}")),
        }
    })
    .await;
    let skus = ordersync(&[
        "--config",
        cfg,
        "--credentials-dir",
        creds,
        "rakuten",
        "skus",
    ]);
    assert!(
        skus.status.success(),
        "{}",
        String::from_utf8_lossy(&skus.stderr)
    );
    let diff = ordersync(&[
        "--config",
        cfg,
        "--credentials-dir",
        creds,
        "jgoods",
        "catalog",
        "diff",
    ]);
    assert!(
        matches!(diff.status.code(), Some(0 | 1)),
        "the catalog check did not reach J-goods: {}{}",
        String::from_utf8_lossy(&diff.stdout),
        String::from_utf8_lossy(&diff.stderr)
    );
}
