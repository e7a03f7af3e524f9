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
            "[daemon]\ndata_dir = \"{}\"\nadmin_token = \"cli-admin-secret-0123456789abcdef\"\n\n[jgoods]\nclient_id = \"id\"\nclient_secret = \"cli-client-secret\"\nwebhook_secret = \"cli-webhook-secret\"\n{extra}",
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
        "cli-admin-secret-0123456789abcdef",
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

/// `run` logs before it reads the config, so the error reaches the log
/// (JSON on a pipe, the journal under systemd) and not only stderr's text.
#[test]
fn run_logs_a_config_error_as_a_structured_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write_config(dir.path(), "webhook_auth = \"hmak\"\n");
    let out = Command::new(env!("CARGO_BIN_EXE_ordersync"))
        .args(["--config", bad.to_str().unwrap(), "run"])
        .env_remove("JOURNAL_STREAM")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let logged = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["fields"]["message"] == "config error")
        .unwrap_or_else(|| panic!("no JSON log line for the config error: {stderr}"));
    assert_eq!(logged["level"], "ERROR");
    // Timestamps in Japan time with their offset, as everything else shows times.
    let at = logged["timestamp"].as_str().unwrap_or_default();
    assert!(at.ends_with("+09:00"), "{at}");
    assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{at}");
    let error = logged["fields"]["error"].as_str().unwrap_or_default();
    assert!(error.contains("jgoods.webhook_auth"), "{logged}");
}

/// A shell without the daemon's secrets (no `CREDENTIALS_DIRECTORY`, an
/// empty credentials directory): every command that needs none runs;
/// check-config names each unreadable secret and exits 78, `run` refuses.
#[test]
fn commands_that_need_no_secret_run_without_them() {
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("credentials");
    std::fs::create_dir(&creds).unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[daemon]\ndata_dir = \"{}\"\nadmin_token = {{ credential = \"admin-token\" }}\n\n\
             [jgoods]\nclient_id = \"id\"\nclient_secret = {{ credential = \"jgoods-client-secret\" }}\n\
             webhook_secret = {{ env = \"ORDERSYNC_TEST_UNSET_SECRET\" }}\n\n\
             [komoju]\nenabled = false\nsecret_key = {{ credential = \"komoju-secret-key\" }}\n\
             webhook_secret = {{ credential = \"komoju-webhook-secret\" }}\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let shell = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ordersync"))
            .arg("--config")
            .arg(&config)
            .arg("--credentials-dir")
            .arg(&creds)
            .args(args)
            .env_remove("CREDENTIALS_DIRECTORY")
            .env_remove("ORDERSYNC_TEST_UNSET_SECRET")
            .output()
            .unwrap()
    };
    let backup = dir.path().join("copy.sqlite");
    for args in [
        vec!["stock", "set", "SKU-1", "3"],
        vec!["stock", "list"],
        vec!["orders", "list"],
        vec!["outbox", "list"],
        vec!["backup", backup.to_str().unwrap()],
    ] {
        let out = shell(&args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The daemon has not been started: status says so (exit 2), as monitoring reads it.
    assert_eq!(shell(&["status"]).status.code(), Some(2));
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.path().join("data")), 0o700);
    assert_eq!(mode(&dir.path().join("data/ordersync.sqlite")), 0o600);
    assert_eq!(mode(&backup), 0o600);

    let out = shell(&["check-config"]);
    assert_eq!(out.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for key in [
        "daemon.admin_token",
        "jgoods.client_secret",
        "jgoods.webhook_secret",
    ] {
        assert!(stderr.contains(key), "{key} not named: {stderr}");
    }
    assert!(
        !stderr.contains("komoju."),
        "a disabled section needs no secret: {stderr}"
    );
    assert_eq!(shell(&["run"]).status.code(), Some(78));

    // `credentials init` fills the directory; written secrets make it whole.
    let init = shell(&["credentials", "init"]);
    assert!(init.status.success());
    let said = String::from_utf8_lossy(&init.stdout);
    assert!(
        said.contains("管理トークンを作成しました") && !said.contains(" / "),
        "{said}"
    );
    assert_eq!(mode(&creds), 0o700);
    assert_eq!(mode(&creds.join("admin-token")), 0o600);
    std::fs::write(creds.join("jgoods-client-secret"), "s3cret\n").unwrap();
    let out = shell(&["check-config"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    assert!(
        !stderr.contains("daemon.admin_token"),
        "the token was generated: {stderr}"
    );
    assert!(
        stderr.contains("ORDERSYNC_TEST_UNSET_SECRET is not set"),
        "{stderr}"
    );
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
    // No daemon runs here: status says so.
    let out = ordersync(&["--config", cfg, "status"]);
    assert_eq!(
        out.status.code(),
        Some(2),
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
    // A reader that leaves early (`stock list | head -1`): a quiet exit, no panic.
    let mut child = Command::new(env!("CARGO_BIN_EXE_ordersync"))
        .args(["--config", cfg, "stock", "list"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_demo_runs_to_the_end() {
    // In the locale's language: Japanese here, whatever the machine's.
    let out = Command::new(env!("CARGO_BIN_EXE_ordersync"))
        .arg("demo")
        .env("LC_ALL", "ja_JP.UTF-8")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for expected in [
        "JG-1001",
        "▶ JG-1001: SKU-001 × 3、在庫あり",
        "楽天に出荷報告しました",
        "KOMOJU: 売上を確定しました",
        "KOMOJU: 返金しました",
        "KOMOJU: 支払い期限が切れました",
        "後払い会社に送り状番号",
        "与信NG。",
        "後払いの取引を取り消しました",
        "J-goods への",
        "手数料の見込み",
        "送らずに残したもの: SKU-009(kyusu / k1)IE1101",
        "有効在庫",
        "J-goods: Webhook の送信",
        "楽天ペイ: searchOrder",
        "Yahoo!ショッピングに出荷報告しました(配送会社コード 1001)",
    ] {
        assert!(
            stdout.contains(expected),
            "the demo did not show {expected}:\n{stdout}"
        );
    }
    // Its own lines are said in Japanese alone.
    for english in [
        "imported:",
        "attention:",
        "acknowledged",
        "Invoice to J-goods",
        "set aside:",
        "saw ",
        "on hand",
    ] {
        assert!(
            !stdout.contains(english),
            "{english:?} in the Japanese demo:\n{stdout}"
        );
    }
}

#[test]
fn orders_add_registers_a_direct_order_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        "\n[kuroneko]\nenabled = true\nstore_code = \"01234567890\"\npassword = \"pass1234\"\n",
    );
    let cfg = cfg.to_str().unwrap();
    let order = |id: &str, method: &str| {
        serde_json::json!({"channel": "direct", "id": id, "ordered_at": "2026-11-23T10:00:00+09:00",
            "customer": {"name": "山田 太郎", "postal_code": "1000001",
                         "address": "東京都千代田区千代田1-1", "phone": "0312345678"},
            "lines": [{"line_no": 1, "sku": "SKU-1", "qty": 1, "unit_price": 5500}],
            "payment": {"method": method}})
        .to_string()
    };
    let file = dir.path().join("order.json");
    std::fs::write(&file, order("SHOP-7", "kuroneko")).unwrap();
    let out = ordersync(&["--config", cfg, "orders", "add", file.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("SHOP-7: 登録しました") && stdout.contains("新規(支払い: 与信審査中)"),
        "{stdout}"
    );
    // Again: the same order, nothing new.
    let out = ordersync(&["--config", cfg, "orders", "add", file.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("登録済みです(同じ内容)"));
    let out = ordersync(&["--config", cfg, "outbox", "list"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("後払いの与信依頼"));
    // A provider the config does not enable, and a bad field, are refused.
    std::fs::write(&file, order("SHOP-8", "atobarai_com")).unwrap();
    let out = ordersync(&["--config", cfg, "orders", "add", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("[atobarai_com] が設定で有効になっていません")
    );
    std::fs::write(
        &file,
        order("SHOP-9", "kuroneko").replace("0312345678", "12"),
    )
    .unwrap();
    let out = ordersync(&["--config", cfg, "orders", "add", file.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("customer.phone"));
}

#[test]
fn status_says_at_once_that_the_daemon_is_not_running() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "sweep_interval = \"1m\"\n");
    let cfg = cfg.to_str().unwrap();
    let data = dir.path().join("data");
    // Never started, then started (its lock held), then stopped.
    let out = ordersync(&["--config", cfg, "status"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.starts_with("ordersync のデーモンが停止しています"),
        "{stdout}"
    );
    let daemon = ordersync::store::restore::lock(&data).unwrap();
    let out = ordersync(&["--config", cfg, "status"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains("停止"), "{stdout}");
    drop(daemon);
    // Stopped a moment ago, its last sweep fresh: still down, and said so
    // before any poll could look late.
    let out = ordersync(&["--config", cfg, "status"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(!stdout.contains("behind schedule"), "{stdout}");
}

#[test]
fn status_exits_1_when_a_poller_falls_behind() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "sweep_interval = \"1m\"\n");
    let cfg = cfg.to_str().unwrap();
    // The daemon's lock held, as a running daemon holds it.
    let _daemon = ordersync::store::restore::lock(&dir.path().join("data")).unwrap();
    assert_eq!(
        ordersync(&["--config", cfg, "status"]).status.code(),
        Some(0)
    );
    let db = rusqlite::Connection::open(dir.path().join("data").join("ordersync.sqlite")).unwrap();
    let last_sweep = |at: chrono::DateTime<chrono::Utc>| {
        ordersync::store::kv::set(
            &db,
            &ordersync::providers::polling::last_success_key(ordersync::domain::Provider::Jgoods),
            &at.to_rfc3339(),
            &at.to_rfc3339(),
        )
        .unwrap();
    };
    // Five minutes is the floor: three missed 1-minute sweeps are not yet an alarm.
    last_sweep(chrono::Utc::now() - chrono::TimeDelta::minutes(4));
    assert_eq!(
        ordersync(&["--config", cfg, "status"]).status.code(),
        Some(0)
    );
    last_sweep(chrono::Utc::now() - chrono::TimeDelta::minutes(6));
    let out = ordersync(&["--config", cfg, "status"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("J-goods の最後の取得") && stdout.contains("予定より遅れています"),
        "{stdout}"
    );
}
