//! Operator tools against a running daemon: Shift_JIS stock import (API and
//! CLI), orders export (API and CLI), and `backup` while the daemon writes.

use std::path::{Path, PathBuf};
use std::process::Command;

use encoding_rs::SHIFT_JIS;
use ordersync_sim::jgoods::{JgoodsOrder, JgoodsOrderItem, Status};
use rusqlite::Connection;
use rusqlite::types::Value as Sql;
use serde_json::Value;

use crate::helpers::*;

/// An ERP's stock export: Japanese header, extra columns, CP932 characters.
const ERP_CSV: &str = "商品コード,商品名,JANコード,在庫数\r\n\
                       SKU-J1,南部鉄器 急須 ①,4900000000011,12\r\n\
                       SKU-J2,㈱髙島屋 手ぬぐい,4900000000028,\"1,200\"\r\n";

/// A paid J-goods order with Japanese item names, placed at the simulator.
fn place_japanese_order(app: &TestApp, order_no: &str, lines: &[(&str, u32)]) {
    app.sim.place_snapshot(JgoodsOrder {
        order_no: order_no.to_string(),
        status: Status::AwaitingApproval,
        status_changed_at: None,
        parent_order_no: None,
        ship_to: None,
        items: lines
            .iter()
            .zip(1..)
            .map(|((sku, qty), line_no)| JgoodsOrderItem {
                line_no,
                item_code: sku.to_string(),
                item_name: "南部鉄器 急須".into(),
                qty: *qty,
                reserved_qty: None,
                unit_price: Some(1100),
            })
            .collect(),
    });
}

fn sjis(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = SHIFT_JIS.encode(text);
    assert!(!unmappable);
    bytes.into_owned()
}

/// A config for the CLI that shares the daemon's data directory.
fn cli_config(app: &TestApp) -> PathBuf {
    let path = app._dir.path().join("cli.toml");
    std::fs::write(
        &path,
        format!(
            "[daemon]\ndata_dir = \"{}\"\nadmin_token = \"ops-admin-token-0123456789abcdefgh\"\n\n[jgoods]\nclient_id = \"id\"\nclient_secret = \"s\"\nwebhook_secret = \"w\"\n",
            app._dir.path().display()
        ),
    )
    .unwrap();
    path
}

fn ordersync(config: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_ordersync"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ordersync {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

async fn import(app: &TestApp, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let resp = app
        .http
        .post(format!("{}/api/v1/stock/import", app.admin_url))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn shift_jis_stock_import_is_detected_or_named_by_charset() {
    let app = spawn_app().await;
    let (status, body) = import(&app, "text/csv", sjis(ERP_CSV)).await;
    assert_eq!(
        (status, &body["imported"]),
        (200, &Value::from(2)),
        "{body}"
    );
    assert_eq!(app.stock("SKU-J1").await["on_hand"], 12);
    assert_eq!(app.stock("SKU-J2").await["on_hand"], 1200);

    let named = sjis(&ERP_CSV.replace(",12\r\n", ",13\r\n"));
    let (status, body) = import(&app, "text/csv; charset=Shift_JIS", named.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.stock("SKU-J1").await["on_hand"], 13);

    // Shift_JIS bytes announced as UTF-8: refused, naming the line, nothing changed.
    let (status, body) = import(&app, "text/csv; charset=utf-8", named.clone()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "invalid_import");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 1"),
        "{body}"
    );
    let (status, body) = import(&app, "text/csv; charset=EUC-JP", named).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (415, &Value::from("unsupported_charset"))
    );
    // A net-of-orders column is refused rather than counted twice.
    let (status, body) = import(
        &app,
        "text/csv",
        sjis("商品コード,有効在庫数\r\nSKU-J1,3\r\n"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(app.stock("SKU-J1").await["on_hand"], 13);
    app.stop().await;
}

#[tokio::test]
async fn cli_imports_shift_jis_and_exports_orders_for_the_erp() {
    let app = spawn_app().await;
    let config = cli_config(&app);
    let file = app._dir.path().join("zaiko.csv");
    std::fs::write(&file, sjis(ERP_CSV)).unwrap();
    let out = ordersync(
        &config,
        &[
            "stock",
            "import",
            file.to_str().unwrap(),
            "--encoding",
            "sjis",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 SKU の在庫を取り込みました"));
    assert_eq!(app.stock("SKU-J2").await["on_hand"], 1200);

    place_japanese_order(&app, "JG-EXP-1", &[("SKU-J1", 2), ("SKU-J2", 1)]);
    app.wait_state("JG-EXP-1", "confirmed", "deferred").await;

    let output = app._dir.path().join("orders.csv");
    ordersync(
        &config,
        &[
            "orders",
            "export",
            "--encoding",
            "sjis",
            "--since",
            "2020-01-01",
            "--output",
            output.to_str().unwrap(),
        ],
    );
    let bytes = std::fs::read(&output).unwrap();
    let (text, _, malformed) = SHIFT_JIS.decode(&bytes);
    assert!(!malformed);
    let rows: Vec<&str> = text.lines().collect();
    assert!(
        rows[0].starts_with("channel,order_id,state,payment_state,"),
        "{text}"
    );
    assert_eq!(rows.len(), 3, "one row per line: {text}");
    assert!(
        rows[1].starts_with("jgoods,JG-EXP-1,confirmed,deferred,"),
        "{text}"
    );
    assert!(
        rows[1].contains(",1,SKU-J1,南部鉄器 急須,2,2,1100,"),
        "{text}"
    );

    let out = ordersync(&config, &["orders", "export", "--format", "json"]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["orders"][0]["id"], "JG-EXP-1");
    assert_eq!(json["orders"][0]["lines"][1]["reserved_qty"], 1);

    // `orders show` tells the story in sentences; --json gives the resource.
    let out = ordersync(&config, &["orders", "show", "jgoods", "JG-EXP-1"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("受注状態: 確定"), "{text}");
    assert!(
        text.contains("SKU-J1  南部鉄器 急須  数量 2  引当 2  単価 1,100円"),
        "{text}"
    );
    assert!(
        text.contains("全数を在庫引当しました(SKU-J1 2/2, SKU-J2 1/1)。J-goods に報告します"),
        "{text}"
    );
    assert!(
        text.contains("J-goods が承認しました。確定です(代金は J-goods 精算)"),
        "{text}"
    );
    let when = regex_like_jst(&text);
    assert!(when, "times are shown as 2026/12/03 10:15:00: {text}");
    let out = ordersync(&config, &["orders", "show", "jgoods", "JG-EXP-1", "--json"]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["order"]["state"], "confirmed");
    assert!(
        json["events"].as_array().is_some_and(|e| e.len() >= 2),
        "{json}"
    );
    app.stop().await;
}

#[tokio::test]
async fn orders_export_endpoint_answers_csv_with_bom_shift_jis_and_json() {
    let app = spawn_app().await;
    app.set_stock("A", 5).await;
    place_japanese_order(&app, "JG-EXP-2", &[("A", 1)]);
    app.wait_state("JG-EXP-2", "confirmed", "deferred").await;
    let get = |query: &'static str| {
        let req = app
            .http
            .get(format!("{}/api/v1/orders/export{query}", app.admin_url))
            .bearer_auth(ADMIN_TOKEN);
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
            (status, ct, resp.bytes().await.unwrap().to_vec())
        }
    };
    let (status, ct, utf8) = get("?format=csv").await;
    assert_eq!((status, ct.as_str()), (200, "text/csv; charset=utf-8"));
    assert!(utf8.starts_with(b"\xEF\xBB\xBFchannel,order_id,"));
    let utf8_text = std::str::from_utf8(&utf8[3..]).unwrap();
    assert!(
        utf8_text.contains("JG-EXP-2,confirmed,deferred,"),
        "{utf8_text}"
    );
    assert!(utf8_text.contains(",南部鉄器 急須,"), "{utf8_text}");

    let (status, ct, sjis_bytes) = get("?encoding=sjis").await;
    assert_eq!((status, ct.as_str()), (200, "text/csv; charset=Shift_JIS"));
    assert_eq!(SHIFT_JIS.decode(&sjis_bytes).0, utf8_text, "same rows");

    let (status, _, json) = get("?format=json").await;
    assert_eq!(status, 200);
    let json: Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(json["orders"].as_array().unwrap().len(), 1);
    let (_, _, future) = get("?since=2999-01-01").await;
    assert_eq!(
        std::str::from_utf8(&future[3..]).unwrap().lines().count(),
        1,
        "header only"
    );
    for bad in ["?format=xml", "?encoding=euc-jp", "?since=yesterday"] {
        assert_eq!(get(bad).await.0, 400, "{bad}");
    }
    let anonymous = reqwest::get(format!("{}/api/v1/orders/export", app.admin_url))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    app.stop().await;
}

/// Every row of every table, in a stable order.
fn dump(path: &Path) -> Vec<(String, Vec<Vec<Sql>>)> {
    let conn = Connection::open(path).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables
        .into_iter()
        .map(|t| {
            let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
            let n = stmt.column_count();
            let mut rows: Vec<Vec<Sql>> = stmt
                .query_map([], |r| (0..n).map(|i| r.get::<_, Sql>(i)).collect())
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            rows.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
            (t, rows)
        })
        .collect()
}

#[tokio::test]
async fn backup_while_the_daemon_writes_is_consistent_and_restores_identically() {
    let app = spawn_app_with(Options {
        // Nothing may write behind the test's back while it compares.
        jgoods_extra: "stock_push_interval = \"0s\"\n".into(),
        ..Options::default()
    })
    .await;
    let config = cli_config(&app);
    app.set_stock("A", 100).await;
    for i in 0..5 {
        place_japanese_order(&app, &format!("JG-BK-{i}"), &[("A", 2)]);
    }
    // Backup while stock writes keep coming.
    let writer = {
        let (http, url) = (app.http.clone(), app.admin_url.clone());
        tokio::spawn(async move {
            for n in 0..200 {
                let resp = http
                    .put(format!("{url}/api/v1/stock/B-{}", n % 20))
                    .bearer_auth(ADMIN_TOKEN)
                    .json(&serde_json::json!({"on_hand": n}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 200);
            }
        })
    };
    let during = app._dir.path().join("during.sqlite");
    ordersync(&config, &["backup", during.to_str().unwrap()]);
    writer.await.unwrap();
    let conn = Connection::open(&during).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    assert!(
        ordersync::store::stock::invariant_breaches(&conn)
            .unwrap()
            .is_empty()
    );
    drop(conn);

    for i in 0..5 {
        app.wait_state(&format!("JG-BK-{i}"), "confirmed", "deferred")
            .await;
    }
    assert!(app.sim.wait_webhooks_idle(DEADLINE).await);
    let quiet = app._dir.path().join("quiet.sqlite");
    ordersync(&config, &["backup", quiet.to_str().unwrap()]);
    let live = app.daemon().store.path().to_path_buf();
    let dir = app._dir.path().to_path_buf();
    let original = dump(&live);
    assert!(
        original
            .iter()
            .any(|(t, rows)| t == "orders" && rows.len() == 5)
    );
    assert_eq!(dump(&quiet), original, "the backup holds the same rows");

    // Restored as a data directory, the daemon's store reads the same orders.
    let restored_dir = dir.join("restored");
    std::fs::create_dir(&restored_dir).unwrap();
    std::fs::copy(&quiet, restored_dir.join(ordersync::store::DB_FILE)).unwrap();
    let restored = ordersync::store::Store::open_in(&restored_dir, 0).unwrap();
    let order = restored
        .read(|c| ordersync::store::orders::load(c, ordersync::domain::Channel::Jgoods, "JG-BK-4"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.state.as_str(), "confirmed");
    restored.close();
    app.stop().await;
}

/// Whether `text` has a history line starting with a `YYYY/MM/DD HH:MM:SS` time.
fn regex_like_jst(text: &str) -> bool {
    text.lines().any(|l| {
        l.trim_start()
            .get(..19)
            .is_some_and(|t| chrono::NaiveDateTime::parse_from_str(t, "%Y/%m/%d %H:%M:%S").is_ok())
    })
}

/// `ordersync sim` as a newcomer uses it: every simulator starts, the
/// printed sections make a config check-config accepts and a daemon runs on,
/// and the printed curl examples (a form-typed body, as `curl -d` sends)
/// place orders the daemon then has.
#[tokio::test]
async fn sim_prints_a_working_config_and_curl_examples() {
    let dir = tempfile::tempdir().unwrap();
    let mut ports = Vec::new();
    for _ in 0..8 {
        ports.push(free_port().await);
    }
    let addr = |i: usize| format!("127.0.0.1:{}", ports[i]);
    let mut sim = tokio::process::Command::new(env!("CARGO_BIN_EXE_ordersync"))
        .args([
            "sim",
            "--jgoods-listen",
            &addr(0),
            "--rakuten-listen",
            &addr(1),
        ])
        .args(["--kuroneko-listen", &addr(2), "--atobarai-listen", &addr(3)])
        .args(["--komoju-listen", &addr(4), "--control-listen", &addr(5)])
        .arg("--jgoods-webhook-url")
        .arg(format!("http://{}/webhooks/jgoods", addr(6)))
        .arg("--komoju-webhook-url")
        .arg(format!("http://{}/webhooks/komoju", addr(6)))
        // Where the daemon looks for sim.toml's credentials by default.
        .arg("--credentials-out")
        .arg(dir.path().join("credentials/sim"))
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines =
        tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(sim.stdout.take().unwrap()));
    let mut printed = Vec::new();
    while let Some(line) = tokio::time::timeout(DEADLINE, lines.next_line())
        .await
        .expect("the simulators print their config")
        .unwrap()
    {
        let last = line.contains("/_sim/komoju/authorize");
        printed.push(line);
        if last {
            break;
        }
    }
    let sections: String = printed
        .iter()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(sections.contains("poll_interval = \"5s\""), "{sections}");
    for section in [
        "[jgoods]",
        "[rakuten_pay]",
        "[kuroneko]",
        "[atobarai_com]",
        "[komoju]",
    ] {
        assert!(sections.contains(section), "{section} missing: {sections}");
    }
    // The Inventory API's base, where the stock push's client appends its paths.
    let inventory = format!("inventory_api_url = \"http://{}/es/2.0\"", addr(1));
    assert!(sections.contains(&inventory), "{sections}");
    // Every URL is a simulator's, J-goods' category API included; secrets
    // are credential files, not text in the config.
    for line in sections.lines().filter(|l| l.contains("_url")) {
        assert!(line.contains("\"http://127.0.0.1:"), "{line}");
    }
    assert!(sections.contains("category_api_base_url"), "{sections}");
    assert!(!sections.contains("sim-webhook-secret"), "{sections}");
    assert!(
        sections.contains("client_secret = { credential = \"jgoods-client-secret\" }"),
        "{sections}"
    );
    let config = dir.path().join("sim.toml");
    std::fs::write(
        &config,
        format!(
            "[daemon]\ndata_dir = \"{}\"\nlisten = \"{}\"\nadmin_listen = \"{}\"\n\
             admin_token = \"sim-admin-token-0123456789abcdef0123\"\n\n{sections}",
            dir.path().join("data").display(),
            addr(6),
            addr(7)
        ),
    )
    .unwrap();
    let checked = ordersync(&config, &["check-config"]);
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let _daemon = start_daemon(&config, &addr(7)).await;
    let http = reqwest::Client::new();
    let admin = format!("http://{}", addr(7));

    // The printed examples, as curl -d sends them.
    let curl = |path: &str, body: &str| {
        http.post(format!("http://{}{path}", addr(5)))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_string())
            .send()
    };
    let placed = curl(
        "/_sim/jgoods/orders",
        r#"{"order_no":"JG1","lines":[["SKU-001",3,5500]],"decision":"accept"}"#,
    )
    .await
    .unwrap();
    assert_eq!(placed.status(), 200);
    let paid = curl("/_sim/komoju/payments", r#"{"amount":5000,"tax":500}"#)
        .await
        .unwrap();
    assert_eq!(paid.status(), 200);
    let rakuten = curl(
        "/_sim/rakuten/orders",
        r#"{"sku":"SKU-001","units":2,"price":5500}"#,
    )
    .await
    .unwrap();
    assert_eq!(rakuten.status(), 200);
    let refused = curl("/_sim/jgoods/orders", "order_no=JG2").await.unwrap();
    assert_eq!(
        refused.status(),
        400,
        "a body that is not JSON is named as such"
    );

    eventually(std::time::Duration::from_millis(100), || async {
        let r = http
            .get(format!("{admin}/api/v1/orders/jgoods/JG1"))
            .bearer_auth("sim-admin-token-0123456789abcdef0123")
            .send()
            .await
            .map_err(|e| e.to_string())?;
        match r.status().is_success() {
            true => Ok(()),
            false => Err(format!("the daemon does not have JG1: {}", r.status())),
        }
    })
    .await;
    // Each poller's round trip reached its simulator.
    eventually(std::time::Duration::from_millis(200), || async {
        let status = Command::new(env!("CARGO_BIN_EXE_ordersync"))
            .arg("--config")
            .arg(&config)
            .arg("status")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&status.stdout).to_string();
        // The config `ordersync sim` prints speaks Japanese, the default.
        let missing: Vec<&str> = ["J-goods", "楽天ペイ", "クロネコ代金後払い", "後払い.com"]
            .into_iter()
            .filter(|p| !text.contains(&format!("{p} の最後の取得:")))
            .collect();
        match missing.is_empty() {
            true => Ok(()),
            false => Err(format!("not reached: {missing:?}\n{text}")),
        }
    })
    .await;
    // And J-goods' catalog (items and categories) answers the catalog check.
    let diff = Command::new(env!("CARGO_BIN_EXE_ordersync"))
        .arg("--config")
        .arg(&config)
        .args(["jgoods", "catalog", "diff"])
        .output()
        .unwrap();
    assert!(
        matches!(diff.status.code(), Some(0 | 1)),
        "the catalog check did not reach J-goods: {}",
        String::from_utf8_lossy(&diff.stderr)
    );
}
