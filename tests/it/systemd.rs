//! Running under systemd: the notify protocol spoken over `NOTIFY_SOCKET`
//! (READY only once the daemon answers, STATUS lines, watchdog pings,
//! RELOADING/READY around a SIGHUP reload, STOPPING on SIGTERM), reloads that
//! apply a good config and keep the old one on a bad config, and the unit
//! file as `systemd-analyze` rates it.

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ordersync_sim::jgoods as sim;
use tokio::io::AsyncBufReadExt;
use tokio::net::{TcpListener, UnixDatagram};
use tokio::process::{Child, Command};

use crate::helpers::*;

/// The daemon's notify messages, as they arrive.
struct NotifySocket {
    socket: UnixDatagram,
    seen: Vec<String>,
}

impl NotifySocket {
    fn bind(path: &Path) -> NotifySocket {
        NotifySocket {
            socket: UnixDatagram::bind(path).unwrap(),
            seen: vec![],
        }
    }

    /// Waits for a message with `field` (e.g. `READY=1`) and returns it.
    async fn next_with(&mut self, field: &str) -> String {
        let mut buf = vec![0u8; 4096];
        let until = tokio::time::Instant::now() + DEADLINE;
        loop {
            let n = tokio::time::timeout_at(until, self.socket.recv(&mut buf))
                .await
                .unwrap_or_else(|_| panic!("no {field} within {DEADLINE:?}; got {:?}", self.seen))
                .unwrap();
            let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
            self.seen.push(msg.clone());
            if msg.lines().any(|l| l == field) {
                return msg;
            }
        }
    }
}

/// Collects a child's stderr lines.
fn capture_stderr(child: &mut Child) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(vec![]));
    let mut reader = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let sink = lines.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = reader.next_line().await {
            sink.lock().unwrap().push(line);
        }
    });
    lines
}

async fn wait_for_log(lines: &Mutex<Vec<String>>, needle: &str) -> String {
    let until = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(l) = lines.lock().unwrap().iter().find(|l| l.contains(needle)) {
            return l.clone();
        }
        assert!(
            tokio::time::Instant::now() < until,
            "no log line with {needle:?} in {:?}",
            lines.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn signal(child: &Child, name: &str) {
    let pid = child.id().unwrap().to_string();
    let status = Command::new("kill")
        .args([&format!("-{name}"), &pid])
        .status()
        .await
        .unwrap();
    assert!(status.success());
}

async fn admin_status(admin: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("http://{admin}/api/v1/stock"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_protocol_reload_and_clean_stop() {
    let dir = tempfile::tempdir().unwrap();
    let jgoods = sim::start(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        sim::JgoodsSimConfig::default(),
    )
    .await
    .unwrap();
    let (listen, admin) = (
        format!("127.0.0.1:{}", free_port().await),
        format!("127.0.0.1:{}", free_port().await),
    );
    let config = dir.path().join("config.toml");
    let text = config_text(
        &dir.path().join("data"),
        &jgoods,
        &Options::default(),
        &listen,
        &admin,
    );
    std::fs::write(&config, &text).unwrap();
    let mut notify = NotifySocket::bind(&dir.path().join("notify.sock"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_ordersync"))
        .arg("--config")
        .arg(&config)
        .arg("run")
        .env("NOTIFY_SOCKET", dir.path().join("notify.sock"))
        // 200 ms: pings every 100 ms, so the test sees one at once.
        .env("WATCHDOG_USEC", "200000")
        .env_remove("WATCHDOG_PID")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let log = capture_stderr(&mut child);

    // READY=1 comes with a status line, and only once the daemon answers.
    let ready = notify.next_with("READY=1").await;
    let health = reqwest::get(format!("http://{admin}/healthz"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "READY=1 before the admin API answers");
    assert!(
        ready.contains("STATUS=0 orders waiting, 0 calls queued, 0 dead calls, 0 need attention"),
        "{ready:?}"
    );
    assert!(
        !notify.seen[..notify.seen.len() - 1]
            .iter()
            .any(|m| m.contains("WATCHDOG=1")),
        "a watchdog ping before READY: {:?}",
        notify.seen
    );
    let ping = notify.next_with("WATCHDOG=1").await;
    assert!(ping.contains("STATUS="), "{ping:?}");
    assert_eq!(admin_status(&admin, ADMIN_TOKEN).await, 200);

    // A valid change: the new admin token is enforced at once; a new listen
    // address is reported as needing a restart and the old one kept.
    let rotated = text
        .replace(ADMIN_TOKEN, "rotated-admin-token-0123456789abcdef")
        .replace(&listen, "127.0.0.1:1");
    std::fs::write(&config, &rotated).unwrap();
    signal(&child, "HUP").await;
    let reloading = notify.next_with("RELOADING=1").await;
    assert!(reloading.contains("MONOTONIC_USEC="), "{reloading:?}");
    notify.next_with("READY=1").await;
    assert_eq!(admin_status(&admin, ADMIN_TOKEN).await, 401);
    assert_eq!(
        admin_status(&admin, "rotated-admin-token-0123456789abcdef").await,
        200
    );
    let webhook_health = reqwest::get(format!("http://{listen}/healthz"))
        .await
        .unwrap();
    assert_eq!(webhook_health.status(), 200, "the webhook listener moved");
    let restart_note = wait_for_log(&log, "only after a restart").await;
    assert!(restart_note.contains("daemon.listen"), "{restart_note}");
    wait_for_log(&log, "config reloaded").await;
    notify.next_with("WATCHDOG=1").await;

    // A broken file: logged with file, line and key; the daemon keeps the
    // config it runs.
    let broken = format!("{rotated}webhook_auth = \"sometimes\"\n");
    let line = broken.lines().count();
    std::fs::write(&config, &broken).unwrap();
    signal(&child, "HUP").await;
    notify.next_with("RELOADING=1").await;
    notify.next_with("READY=1").await;
    let refused = wait_for_log(&log, "config reload refused").await;
    let at = format!("{}:{line}: jgoods.webhook_auth", config.display());
    assert!(refused.contains(&at), "{refused:?} should name {at}");
    assert_eq!(
        admin_status(&admin, "rotated-admin-token-0123456789abcdef").await,
        200
    );

    // SIGTERM: STOPPING=1, in-flight work drained, exit 0.
    signal(&child, "TERM").await;
    notify.next_with("STOPPING=1").await;
    let status = tokio::time::timeout(DEADLINE, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0), "{:?}", log.lock().unwrap());
    jgoods.shutdown().await;
}

/// Runs `systemd-analyze` with `args`; `None` (test skipped, reason printed)
/// where it is missing or too old for the arguments.
fn systemd_analyze(args: &[&str]) -> Option<std::process::Output> {
    match std::process::Command::new("systemd-analyze")
        .args(args)
        .output()
    {
        Ok(out) => Some(out),
        Err(e) => {
            eprintln!("skipped: systemd-analyze cannot run here: {e}");
            None
        }
    }
}

/// Highest exposure score `systemd-analyze security` may give the unit
/// (0 = fully locked down, 10 = unprotected; README documents the score).
const MAX_EXPOSURE: f64 = 2.0;

#[test]
fn unit_file_is_hardened_and_valid() {
    check_unit(
        "ordersync.service",
        "ordersync.service",
        "StateDirectory=ordersync\n",
    );
}

#[test]
fn the_instance_template_is_hardened_and_valid() {
    check_unit(
        "ordersync@.service",
        "ordersync@shop-a.service",
        "StateDirectory=ordersync/%i\n",
    );
}

/// The backup timer of the docs is a valid pair of units.
#[test]
fn the_backup_timer_example_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for name in ["ordersync-backup.service", "ordersync-backup.timer"] {
        let text = std::fs::read_to_string(format!(
            "{}/docs/examples/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let copy = dir.path().join(name);
        std::fs::write(
            &copy,
            text.replace("/usr/bin/ordersync", env!("CARGO_BIN_EXE_ordersync")),
        )
        .unwrap();
        paths.push(copy.to_string_lossy().into_owned());
    }
    let args: Vec<&str> = std::iter::once("verify")
        .chain(paths.iter().map(String::as_str))
        .collect();
    let Some(out) = systemd_analyze(&args) else {
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("ordersync-backup"),
        "systemd-analyze verify: {stderr}"
    );
}

/// The unit `file` of `systemd/`, installed as `name`: the settings it must
/// have, its exposure score, and `systemd-analyze verify`.
fn check_unit(file: &str, name: &str, state: &str) {
    let unit = format!("{}/systemd/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&unit).unwrap();
    for needed in [
        "Type=notify",
        "WatchdogSec=",
        "RestartPreventExitStatus=78",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "LoadCredential=",
        "ExecStart=/usr/bin/ordersync ",
        "UMask=0077\n",
        "StateDirectoryMode=0700\n",
        "MemoryHigh=",
        "MemoryMax=",
        state,
    ] {
        assert!(text.contains(needed), "{file} lacks {needed}");
    }
    // Both checks read the unit under its installed name.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join(name);
    // `verify` checks the binary exists: point ExecStart at the one just built.
    std::fs::write(
        &copy,
        text.replace("/usr/bin/ordersync", env!("CARGO_BIN_EXE_ordersync")),
    )
    .unwrap();
    let copy = copy.to_str().unwrap();
    let Some(out) = systemd_analyze(&["security", "--offline=yes", copy]) else {
        return;
    };
    let report = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && stderr.contains("--offline") {
        eprintln!("skipped: this systemd-analyze has no --offline: {stderr}");
        return;
    }
    let score: f64 = report
        .lines()
        .find_map(|l| l.split_once(&format!("Overall exposure level for {name}: ")))
        .and_then(|(_, rest)| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no exposure score in:\n{report}\n{stderr}"));
    eprintln!("systemd-analyze security {name}: exposure {score}");
    assert!(score <= MAX_EXPOSURE, "exposure {score} > {MAX_EXPOSURE}");

    let Some(out) = systemd_analyze(&["verify", copy]) else {
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains(&format!("{name}:")),
        "systemd-analyze verify: {stderr}"
    );
}
