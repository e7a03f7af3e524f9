//! The product master reaching J-goods over loopback HTTP: categories parents
//! first, items registered, then only their changed fields, refusals kept on
//! the item until the master fixes them, nothing sent twice, and what is owed
//! surviving a restart.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use crate::helpers::*;

const HEADER: &str =
    "商品コード,商品名,販売価格(税込),税率,JANコード,重量(g),カテゴリ,商品説明,画像URL,中古,販売中";

fn master(rows: &[&str]) -> Vec<u8> {
    let text = format!("{HEADER}\n{}\n", rows.join("\n"));
    encoding_rs::SHIFT_JIS.encode(&text).0.into_owned()
}

async fn catalog_app(interval: &str) -> TestApp {
    spawn_app_with(Options {
        jgoods_extra: format!("catalog_sync_interval = \"{interval}\"\n"),
        ..Options::default()
    })
    .await
}

async fn post_file(app: &TestApp, path: &str, body: Vec<u8>) -> (u16, Value) {
    let resp = app
        .http
        .post(format!("{}{path}", app.admin_url))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn calls(app: &TestApp, what: &str) -> Vec<Value> {
    app.sim
        .stats()
        .catalog_calls
        .into_iter()
        .filter(|(w, _)| w == what)
        .map(|(_, body)| body)
        .collect()
}

async fn wait_item(app: &TestApp, sku: &str, pred: impl Fn(&Value) -> bool) -> Value {
    eventually(Duration::from_millis(50), || async {
        app.daemon().poll_now();
        let items = app.sim.catalog().items;
        match items.get(sku) {
            Some(i) if pred(i) => Ok(i.clone()),
            other => Err(format!("{sku} at J-goods: {other:?}")),
        }
    })
    .await
}

async fn wait_refusal(app: &TestApp, sku: &str, code: &str) -> String {
    eventually(Duration::from_millis(50), || async {
        app.daemon().poll_now();
        let (_, item) = app.get(&format!("/api/v1/catalog/{sku}")).await;
        match item["refusal"].as_str() {
            Some(r) if r.starts_with(code) => Ok(r.to_string()),
            _ => Err(format!("{sku} not refused {code}: {item}")),
        }
    })
    .await
}

#[tokio::test]
async fn the_master_reaches_j_goods_and_only_what_changes_is_sent_again() {
    let app = catalog_app("1h").await;
    app.set_stock("A", 7).await;
    let categories = "カテゴリコード,カテゴリ名,親カテゴリ\ntea-pot,急須,tea\ntea,お茶・茶器,\n";
    let (status, body) = post_file(
        &app,
        "/api/v1/catalog/categories/import",
        categories.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post_file(
        &app,
        "/api/v1/catalog/import",
        master(&[
            "A,南部鉄器 急須 0.6L,5500,10,4901234567894,1200,tea-pot,岩手県産,https://shop.example.jp/a.jpg,いいえ,はい",
            "B,煎茶 100g,1080,8,,,tea,,,いいえ,はい",
            "C,古伊万里 皿,32000,10,,800,,,,はい,はい",
        ]),
    )
    .await;
    assert_eq!((status, body["added"].as_u64()), (200, Some(3)), "{body}");

    let a = wait_item(&app, "A", |_| true).await;
    assert_eq!(
        (a["price"].as_u64(), a["category_code"].as_str()),
        (Some(5500), Some("tea-pot"))
    );
    let put = calls(&app, "PUT /category/v1/categories.json");
    let order: Vec<&str> = put[0]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["category_code"].as_str())
        .collect();
    assert_eq!(order, ["tea", "tea-pot"], "parents first");
    let why = wait_refusal(&app, "B", "WEIGHT_REQUIRED").await;
    assert!(why.contains("重量(g)"), "{why}");
    wait_refusal(&app, "C", "USED_NOT_ALLOWED").await;
    // The refusals need a person: status says so, with what to fix, and so
    // does the status page; a SKU ordered on J-goods that the master lacks too.
    app.set_stock("X", 5).await;
    app.sim.place_order("JGX1", &[("X", 1, 100)]);
    app.wait_order("JGX1", |o| o["lines"][0]["reserved_qty"] == 1)
        .await;
    let out = app.cli(&["status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("J-goods が拒否 B: WEIGHT_REQUIRED"), "{text}");
    assert!(
        text.contains("J-goods で注文されたがマスタにない SKU: X"),
        "{text}"
    );
    let page = app.status_page().await;
    assert!(page.contains("J-goods が受け付けなかった商品: 2"), "{page}");
    let (_, problems) = app.admin(Method::GET, "/console/problems", None).await;
    let problems = problems.as_str().unwrap_or_default();
    assert!(
        problems.contains("id=\"catalog\"") && problems.contains("USED_NOT_ALLOWED"),
        "{problems}"
    );
    // A new item is registered with its available stock.
    assert_eq!(a["stock"], 7, "{a}");
    // The merchant fixes B's weight and changes A's price; C stays refused.
    let posts_before = calls(&app, "POST /v3/item.json").len();
    let (status, body) = post_file(
        &app,
        "/api/v1/catalog/import",
        master(&[
            "A,南部鉄器 急須 0.6L,6000,10,4901234567894,1200,tea-pot,岩手県産,https://shop.example.jp/a.jpg,いいえ,はい",
            "B,煎茶 100g,1080,8,,150,tea,,,いいえ,はい",
            "C,古伊万里 皿,32000,10,,800,,,,はい,はい",
        ]),
    )
    .await;
    assert_eq!(
        (status, body["changed"].as_u64(), body["unchanged"].as_u64()),
        (200, Some(2), Some(1)),
        "{body}"
    );
    wait_item(&app, "A", |a| a["price"] == 6000).await;
    wait_item(&app, "B", |b| b["weight_g"] == 150).await;
    let updates = calls(&app, "PUT /v3/item.json");
    let a_update = updates
        .iter()
        .flat_map(|b| b["items"].as_array().cloned().unwrap_or_default())
        .find(|i| i["item_code"] == "A")
        .expect("A updated");
    let mut fields: Vec<&str> = a_update
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort();
    assert_eq!(fields, ["item_code", "price"], "only the changed field");
    let posts = calls(&app, "POST /v3/item.json");
    assert_eq!(
        posts.len(),
        posts_before + 1,
        "B registered once it had a weight"
    );
    let sent_c = posts
        .iter()
        .flat_map(|b| b["items"].as_array().cloned().unwrap_or_default())
        .filter(|i| i["item_code"] == "C")
        .count();
    assert_eq!(sent_c, 1, "the refused C is not sent again unchanged");

    // Unchanged, nothing is sent; a new item goes alone.
    let writes = |app: &TestApp| {
        calls(app, "POST /v3/item.json").len() + calls(app, "PUT /v3/item.json").len()
    };
    let before = writes(&app);
    let (_, body) = post_file(
        &app,
        "/api/v1/catalog/import",
        master(&["D,玉露 50g,2160,8,,80,tea,,,いいえ,はい"]),
    )
    .await;
    assert_eq!(body["added"].as_u64(), Some(1));
    wait_item(&app, "D", |_| true).await;
    assert_eq!(writes(&app), before + 1, "only D went");
    let (_, list) = app.get("/api/v1/catalog").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 4, "{list}");
    app.stop().await;
}

// Several threads: `jgoods catalog diff` waits for the simulator this test serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_an_import_owes_survives_a_restart() {
    // No sync runs: the import is stored and owed, and never sent…
    let mut app = catalog_app("0s").await;
    let file = app._dir.path().join("master.csv");
    std::fs::write(&file, master(&["E,抹茶 30g,1620,8,,60,,,,いいえ,はい"])).unwrap();
    let out = app.cli(&["catalog", "import", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Said once, in the merchant's language (Japanese here).
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("を取り込みました: 追加 1 件、変更 0 件"),
        "{said}"
    );
    assert!(
        !said.contains(" / ") && !said.contains("imported"),
        "{said}"
    );
    let list = app.cli(&["catalog", "list"]);
    let list = String::from_utf8_lossy(&list.stdout);
    let row = list.lines().find(|l| l.starts_with("E ")).unwrap();
    assert!(list.starts_with("SKU") && list.contains("商品名"), "{list}");
    assert!(row.contains("未送信") && row.contains("1620"), "{list}");
    assert!(app.sim.catalog().items.is_empty());
    // … until a daemon that syncs starts on the same store.
    let config = app._dir.path().join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace(
            "catalog_sync_interval = \"0s\"",
            "catalog_sync_interval = \"1h\"",
        ),
    )
    .unwrap();
    app.restart().await;
    wait_item(&app, "E", |e| e["price"] == 1620).await;
    let out = app.cli(&["catalog", "show", "E"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("同期済み"), "{text}");
    let out = app.cli(&["jgoods", "catalog", "diff"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("差分はありません"),
        "{text}"
    );
    // A second item, never sent (the daemon syncs hourly): diff says so, --apply sends it.
    std::fs::write(&file, master(&["F,ほうじ茶,540,8,,100,,,,いいえ,はい"])).unwrap();
    assert!(
        app.cli(&["catalog", "import", file.to_str().unwrap()])
            .status
            .success()
    );
    let out = app.cli(&["jgoods", "catalog", "diff"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("J-goods に未登録: F"), "{text}");
    let out = app.cli(&["jgoods", "catalog", "diff", "--apply"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(app.sim.catalog().items.contains_key("F"));
    assert!(app.cli(&["jgoods", "catalog", "diff"]).status.success());
    // Withdrawn by the merchant: gone from the master, then from J-goods.
    assert!(app.cli(&["catalog", "withdraw", "F"]).status.success());
    let out = app.cli(&["jgoods", "catalog", "diff"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("J-goods だけにあります: F"));
    assert!(
        app.cli(&["jgoods", "catalog", "diff", "--apply"])
            .status
            .success()
    );
    assert!(!app.sim.catalog().items.contains_key("F"));
    assert!(app.sim.catalog().items.contains_key("E"));
    let (status, _) = app.admin(Method::GET, "/api/v1/catalog/NOPE", None).await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test]
async fn a_bad_master_stores_nothing_and_names_line_and_column() {
    let app = catalog_app("1h").await;
    let (status, body) = post_file(
        &app,
        "/api/v1/catalog/import",
        master(&[
            "A,急須,5500,10,,1200,,,,いいえ,はい",
            "B,煎茶,1080,8,,150,,,http://shop.example.jp/b.jpg,いいえ,はい",
        ]),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "line 3, column 画像URL", "{body}");
    let (_, list) = app.get("/api/v1/catalog").await;
    assert!(
        list["items"].as_array().unwrap().is_empty(),
        "nothing stored: {list}"
    );
    let cycle = "カテゴリコード,カテゴリ名,親カテゴリ\na,A,b\nb,B,a\n";
    let (status, body) = post_file(
        &app,
        "/api/v1/catalog/categories/import",
        cycle.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    app.stop().await;
}

// Several threads: the daemon is a child process served by this test's simulator.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_killed_before_j_goods_took_the_master_loses_nothing() {
    use ordersync_sim::jgoods::{self as sim, Endpoint, Fault};
    let dir = tempfile::tempdir().unwrap();
    let jgoods = sim::start(
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        Default::default(),
    )
    .await
    .unwrap();
    let opts = Options {
        jgoods_extra: "catalog_sync_interval = \"1s\"\n".into(),
        ..Options::default()
    };
    let (config, _, admin) = child_config(dir.path(), &jgoods, &opts, "").await;
    // J-goods' catalog is down: every round fails, transiently.
    jgoods.inject(Endpoint::Catalog, Fault::Status(503), 1_000_000);
    let mut daemon = start_daemon(&config, &admin).await;
    let r = reqwest::Client::new()
        .post(format!("http://{admin}/api/v1/catalog/import"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "text/csv")
        .body(master(&[
            "K1,急須,5500,10,,1200,,,,いいえ,はい",
            "K2,湯呑み,2200,10,,250,,,,いいえ,はい",
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    eventually(Duration::from_millis(50), || async {
        match jgoods.stats().catalog_calls.len() {
            0..2 => Err("the sync has not tried twice yet".to_string()),
            _ => Ok(()),
        }
    })
    .await;
    daemon.start_kill().unwrap();
    daemon.wait().await.unwrap();
    assert!(jgoods.catalog().items.is_empty());

    // Back up, with two more 503s to get through: the new daemon sends it all.
    jgoods.clear_faults();
    jgoods.inject(Endpoint::Catalog, Fault::Status(503), 2);
    let mut daemon = start_daemon(&config, &admin).await;
    eventually(Duration::from_millis(50), || async {
        let items = jgoods.catalog().items;
        match (items.contains_key("K1"), items.contains_key("K2")) {
            (true, true) => Ok(()),
            other => Err(format!("at J-goods: {other:?}")),
        }
    })
    .await;
    daemon.start_kill().unwrap();
    jgoods.shutdown().await;
}
