//! The command line as an operator uses it: the real binary.

use std::process::Command;

fn ordersync(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ordersync"))
        .args(args)
        .output()
        .unwrap()
}

fn write_config(dir: &std::path::Path, extra: &str) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            "[daemon]\ndata_dir = \"{}\"\nadmin_token = \"cli-admin-secret\"\n\n[jgoods]\nclient_id = \"id\"\nclient_secret = \"cli-client-secret\"\nwebhook_secret = \"cli-webhook-secret\"\n{extra}",
            dir.join("data").display()
        ),
    )
    .unwrap();
    path
}

#[test]
fn check_config_prints_redacted_config_and_exits_78_on_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = write_config(dir.path(), "");
    let out = ordersync(&["check-config", good.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("[jgoods]"));
    for secret in [
        "cli-admin-secret",
        "cli-client-secret",
        "cli-webhook-secret",
    ] {
        assert!(!stdout.contains(secret), "secret leaked: {stdout}");
    }
    let bad = write_config(dir.path(), "webhook_auth = \"hmak\"\n");
    for args in [
        vec!["check-config", bad.to_str().unwrap()],
        vec!["--config", bad.to_str().unwrap(), "run"],
    ] {
        let out = ordersync(&args);
        assert_eq!(out.status.code(), Some(78));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("{}:9: ", bad.display())),
            "{stderr}"
        );
        assert!(stderr.contains("jgoods.webhook_auth"), "{stderr}");
    }
}

#[test]
fn stock_commands_work_on_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "");
    let cfg = cfg.to_str().unwrap();
    let out = ordersync(&["--config", cfg, "stock", "set", "SKU-9", "7"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = dir.path().join("stock.csv");
    std::fs::write(&csv, "sku,on_hand\nSKU-1,3\nSKU-2,bad\n").unwrap();
    let out = ordersync(&["--config", cfg, "stock", "import", csv.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(":3:"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&csv, "sku,on_hand\nSKU-1,3\nSKU-2,4\n").unwrap();
    assert!(
        ordersync(&["--config", cfg, "stock", "import", csv.to_str().unwrap()])
            .status
            .success()
    );
    let out = ordersync(&["--config", cfg, "stock", "list"]);
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(
        list.contains("SKU-1") && list.contains("SKU-2") && list.contains("SKU-9"),
        "{list}"
    );
    let out = ordersync(&["--config", cfg, "status"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let backup = dir.path().join("copy.sqlite");
    assert!(
        ordersync(&["--config", cfg, "backup", backup.to_str().unwrap()])
            .status
            .success()
    );
    let copy = rusqlite::Connection::open(&backup).unwrap();
    let n: i64 = copy
        .query_row("SELECT COUNT(*) FROM stock", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 3);
}

#[test]
fn the_demo_runs_to_the_end() {
    let out = ordersync(&["demo"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for expected in [
        "JG-1001",
        "order.shipment_reported",
        "payment.captured",
        "payment.refunded",
        "payment.expired",
        "Invoice to J-goods",
        "J-goods keeps an expected service fee",
    ] {
        assert!(
            stdout.contains(expected),
            "the demo did not show {expected}:\n{stdout}"
        );
    }
}
