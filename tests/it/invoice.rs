//! The J-goods invoice: real orders through the simulator and the daemon, shipped by the
//! ERP, then invoiced through the admin API (preview) and the CLI (issue, re-issue, overlap).

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;
use ordersync_sim::jgoods::CustomerDecision;

async fn put_stock(app: &TestApp, sku: &str, body: Value) {
    let (status, answer) = app
        .admin(Method::PUT, &format!("/api/v1/stock/{sku}"), Some(body))
        .await;
    assert_eq!(status, 200, "{answer}");
}

async fn ship(app: &TestApp, id: &str, tracking: &str, on: &str, cost: i64) {
    let parcel = json!({"carrier": "yamato", "tracking_no": tracking, "shipped_on": on, "shipping_cost": cost});
    let (status, body) = app
        .post(&format!("/api/v1/orders/jgoods/{id}/shipment"), parcel)
        .await;
    assert_eq!(status, 202, "{body}");
}

/// S1: 3 × A (5,500, 10%) + 2 × TEA (1,080, 8%), shipped 11/3 (1,200 shipping) and a second
///     parcel 11/20 (500 shipping).
/// S2: 6 × B (2,200) with 4 in stock, the customer accepts 4; shipped 11/15 (800 shipping).
/// S3: out of stock, the customer declines: cancelled.
/// S4: confirmed, never shipped.   S5: 1 × A shipped 11/16 (999 shipping).
async fn november(app: &TestApp) {
    put_stock(app, "A", json!({"on_hand": 20})).await;
    put_stock(app, "TEA", json!({"on_hand": 10, "tax_rate": 8})).await;
    put_stock(app, "B", json!({"on_hand": 4})).await;
    app.sim.set_decision("S2", CustomerDecision::Accept);
    app.sim.set_decision("S3", CustomerDecision::Decline);
    app.sim
        .place_order("S1", &[("A", 3, 5500), ("TEA", 2, 1080)]);
    app.sim.place_order("S2", &[("B", 6, 2200)]);
    app.sim.place_order("S3", &[("C", 2, 1800)]);
    app.sim.place_order("S4", &[("A", 1, 5500)]);
    app.sim.place_order("S5", &[("A", 1, 5500)]);
    for id in ["S1", "S2", "S4", "S5"] {
        app.wait_order(id, |o| o["state"] == "confirmed").await;
    }
    app.wait_order("S3", |o| o["state"] == "cancelled").await;
    ship(app, "S1", "1001", "2026-11-03", 1200).await;
    ship(app, "S2", "1002", "2026-11-15", 800).await;
    ship(app, "S5", "1005", "2026-11-16", 999).await;
    ship(app, "S1", "1011", "2026-11-20", 500).await;
}

fn ids(invoice: &Value) -> Vec<&str> {
    invoice["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["order_id"].as_str().unwrap())
        .collect()
}

async fn get_raw(app: &TestApp, query: &str) -> reqwest::Response {
    app.http
        .get(format!("{}/api/v1/jgoods/invoice?{query}", app.admin_url))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_api_previews_the_period_and_rejects_bad_input() {
    let app = spawn_app_with(Options {
        invoice: true,
        ..Options::default()
    })
    .await;
    november(&app).await;
    let (status, inv) = app
        .get("/api/v1/jgoods/invoice?from=2026-11-01&to=2026-11-15")
        .await;
    assert_eq!(status, 200, "{inv}");
    assert_eq!(inv["status"], "preview");
    assert!(inv.get("number").is_none());
    // Cancelled S3, unshipped S4 and S5 (shipped the day after) are not invoiced.
    assert_eq!(ids(&inv), ["S1", "S2"]);
    // S2: the 4 units shipped, not the 6 ordered.
    assert_eq!(inv["orders"][1]["lines"][0]["qty"], 4);
    assert_eq!(inv["orders"][1]["total"], 8_800);
    assert_eq!(inv["orders"][0]["lines"][1]["tax_rate"], 8);
    // 10%: 16,500 + 8,800 + 1,200 + 800 = 27,300, tax floor(27,300 / 11) = 2,481.
    // 8%: 2,160, tax 160. Excluded 26,819, fee 2,681.
    assert_eq!(
        inv["by_rate"],
        json!([
            {"rate": 10, "total": 27_300, "tax": 2_481, "tax_excluded": 24_819},
            {"rate": 8, "total": 2_160, "tax": 160, "tax_excluded": 2_000},
        ])
    );
    assert_eq!(inv["grand_total"], 29_460);
    assert_eq!(inv["service_fee"], 2_681);
    assert_eq!(inv["expected_transfer"], 26_779);
    // S1's second parcel belongs to the next period, with S5.
    let (_, next) = app
        .get("/api/v1/jgoods/invoice?from=2026-11-16&to=2026-11-30")
        .await;
    assert_eq!(ids(&next), ["S5"]);
    assert_eq!(next["grand_total"], 5_500 + 999 + 500);
    assert_eq!(next["tax_total"], 636);

    let resp = get_raw(&app, "from=2026-11-01&to=2026-11-15&format=html").await;
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = resp.text().await.unwrap();
    for expected in [
        "適格請求書",
        "T1234567890123",
        "&lt;J-goods&gt; &amp; 御中",
        "¥29,460",
        "プレビュー",
    ] {
        assert!(page.contains(expected), "{expected} missing:\n{page}");
    }
    let resp = get_raw(
        &app,
        "from=2026-11-01&to=2026-11-15&format=csv&encoding=sjis",
    )
    .await;
    assert_eq!(
        resp.headers()["content-type"],
        "text/csv; charset=Shift_JIS"
    );
    let bytes = resp.bytes().await.unwrap();
    let (text, _, errors) = encoding_rs::SHIFT_JIS.decode(&bytes);
    assert!(
        !errors && text.contains("税率別合計") && text.contains("29460"),
        "{text}"
    );

    for (query, field) in [
        ("to=2026-11-15", "from"),
        ("from=2026-11-31&to=2026-12-01", "from"),
        ("from=2026-11-01&to=yesterday", "to"),
        ("from=2026-11-15&to=2026-11-01", "to"),
        ("from=2020-01-01&to=2026-11-01", "to"),
        ("from=2026-11-01&to=2026-11-15&format=pdf", "format"),
        (
            "from=2026-11-01&to=2026-11-15&format=csv&encoding=latin1",
            "encoding",
        ),
    ] {
        let (status, body) = app.get(&format!("/api/v1/jgoods/invoice?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }
    let unsigned = app
        .http
        .get(format!(
            "{}/api/v1/jgoods/invoice?from=2026-11-01&to=2026-11-15",
            app.admin_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    app.stop().await;
}

#[tokio::test]
async fn without_an_invoice_section_the_api_says_what_is_missing() {
    let app = spawn_app().await;
    let (status, body) = app
        .get("/api/v1/jgoods/invoice?from=2026-11-01&to=2026-11-15")
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "invoice_not_configured");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("[invoice]")
    );
    app.stop().await;
}

/// Runs `ordersync jgoods invoice ARGS` on the app's data directory.
async fn invoice_cli(app: &TestApp, args: &[&str]) -> (bool, Vec<u8>, String) {
    let mut all = vec!["jgoods", "invoice"];
    all.extend_from_slice(args);
    ordersync_cli(app, &all).await
}

/// Runs `ordersync ARGS` on the app's data directory (beside the running daemon).
async fn ordersync_cli(app: &TestApp, args: &[&str]) -> (bool, Vec<u8>, String) {
    let config = app._dir.path().join("cli.toml");
    std::fs::write(
        &config,
        format!(
            "[daemon]\ndata_dir = \"{}\"\n{INVOICE_SECTION}",
            app._dir.path().display()
        ),
    )
    .unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_ordersync"))
        .arg("--config")
        .arg(&config)
        .args(args)
        .output()
        .await
        .unwrap();
    (
        out.status.success(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_cli_issues_reissues_and_refuses_overlaps_unless_forced() {
    let app = spawn_app_with(Options {
        invoice: true,
        ..Options::default()
    })
    .await;
    november(&app).await;
    let first_half = ["--from", "2026-11-01", "--to", "2026-11-15"];
    let csv_file = app._dir.path().join("invoice.csv");
    let mut args = first_half.to_vec();
    args.extend(["--format", "csv", "--encoding", "sjis", "--output"]);
    args.push(csv_file.to_str().unwrap());
    let (ok, _, stderr) = invoice_cli(&app, &args).await;
    assert!(ok, "{stderr}");
    assert!(stderr.contains("INV-000001 を発行しました"), "{stderr}");
    let written = std::fs::read(&csv_file).unwrap();
    let (text, _, errors) = encoding_rs::SHIFT_JIS.decode(&written);
    assert!(!errors);
    assert!(
        text.starts_with("請求書番号,発行日,発行区分,種別"),
        "{text}"
    );
    assert!(text.contains("INV-000001") && text.contains(",発行,明細,2026-11-03,S1,A,"));

    // The same period again: the same number, marked as a re-issue, same amounts — even
    // after a tax rate changed, which the re-issue warns about.
    let (ok, _, stderr) =
        ordersync_cli(&app, &["stock", "set", "A", "17", "--tax-rate", "8"]).await;
    assert!(ok, "{stderr}");
    assert_eq!(app.stock("A").await["tax_rate"], 8);
    let (ok, html, stderr) = invoice_cli(&app, &first_half).await;
    assert!(ok, "{stderr}");
    assert!(stderr.contains("INV-000001 を再発行しました"), "{stderr}");
    assert!(
        stderr.contains("発行後にこの期間の出荷か税率が変わりました"),
        "{stderr}"
    );
    let html = String::from_utf8(html).unwrap();
    assert!(html.contains("再発行") && html.contains("INV-000001") && html.contains("¥29,460"));
    assert!(html.contains("<td>10%対象</td><td>¥27,300</td>"), "{html}");
    let (ok, _, stderr) =
        ordersync_cli(&app, &["stock", "set", "A", "17", "--tax-rate", "9"]).await;
    assert!(!ok && stderr.contains("must be 8 or 10"), "{stderr}");

    // The API shows the recorded invoice, never a second number.
    let (_, shown) = app
        .get("/api/v1/jgoods/invoice?from=2026-11-01&to=2026-11-15")
        .await;
    assert_eq!(
        (shown["status"].as_str(), shown["number"].as_str()),
        (Some("reissued"), Some("INV-000001"))
    );

    // A period overlapping the issued one is refused, and then forced.
    let overlap = ["--from", "2026-11-10", "--to", "2026-11-30"];
    let (ok, out, stderr) = invoice_cli(&app, &overlap).await;
    assert!(!ok && out.is_empty(), "{stderr}");
    assert!(stderr.contains("overlaps invoice INV-000001"), "{stderr}");
    let (_, preview) = app
        .get("/api/v1/jgoods/invoice?from=2026-11-10&to=2026-11-30")
        .await;
    assert_eq!(preview["overlaps"], json!(["INV-000001"]));
    let mut forced = overlap.to_vec();
    forced.push("--force");
    let (ok, _, stderr) = invoice_cli(&app, &forced).await;
    assert!(ok, "{stderr}");
    assert!(stderr.contains("INV-000002 を発行しました"), "{stderr}");

    // A bad period is refused before anything is recorded.
    let (ok, _, stderr) = invoice_cli(&app, &["--from", "2026-11-30", "--to", "2026-11-01"]).await;
    assert!(!ok && stderr.contains("ends"), "{stderr}");

    // A month still running: --preview prints it and records nothing (written
    // as operators type dates); issuing it needs --force.
    let today = ordersync::domain::time::now().date_naive();
    let (from, to) = (
        today.format("%Y/%m/01").to_string(),
        (today + chrono::Days::new(3))
            .format("%Y/%m/%d")
            .to_string(),
    );
    let (ok, html, stderr) = invoice_cli(&app, &["--from", &from, "--to", &to, "--preview"]).await;
    assert!(ok, "{stderr}");
    assert!(stderr.contains("下書きを表示しました"), "{stderr}");
    assert!(String::from_utf8(html).unwrap().contains("未発行"));
    let (ok, out, stderr) = invoice_cli(&app, &["--from", &from, "--to", &to]).await;
    assert!(!ok && out.is_empty(), "{stderr}");
    assert!(stderr.contains("has not ended yet"), "{stderr}");
    let (_, recorded) = app
        .get(&format!(
            "/api/v1/jgoods/invoice?from={}&to={}",
            today.format("%Y-%m-01"),
            (today + chrono::Days::new(3)).format("%Y-%m-%d")
        ))
        .await;
    assert_ne!(recorded["status"], "issued", "{recorded}");
    let (ok, _, stderr) = invoice_cli(&app, &["--from", &from, "--to", &to, "--force"]).await;
    assert!(
        ok && stderr.contains("INV-000003 を発行しました"),
        "{stderr}"
    );
    app.stop().await;
}
