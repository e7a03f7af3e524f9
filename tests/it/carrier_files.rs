//! The shipping files over real loopback HTTP: the admin API's export of a
//! Rakuten order ready to ship, the file e飛伝Ⅱ writes back posted to the
//! import, and Rakuten's 発送完了報告 reaching the simulator.

use std::time::Duration;

use encoding_rs::SHIFT_JIS;
use ordersync_sim::rakuten_pay::OrderProgress;
use serde_json::Value;

use crate::helpers::*;

async fn post_file(app: &TestApp, carrier: &str, body: Vec<u8>) -> (u16, Value) {
    let resp = app
        .http
        .post(format!(
            "{}/api/v1/shipments/import?carrier={carrier}",
            app.admin_url
        ))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "text/csv; charset=Shift_JIS")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn a_written_back_label_file_reports_the_shipment_to_rakuten() {
    let app = spawn_app_with(Options::rakuten("")).await;
    app.set_stock("R-F", 2).await;
    let n = card_order(&app, "R-F", 1);
    app.poll_until(&n, |o| o["state"] == "confirmed").await;
    app.rakuten().advance_clock(Duration::from_secs(600));
    app.poll_until(&n, |o| o["payment_state"] == "paid").await;

    let resp = app
        .http
        .get(format!(
            "{}/api/v1/shipments/export?carrier=sagawa-ehiden",
            app.admin_url
        ))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "text/csv; charset=Shift_JIS"
    );
    assert_eq!(resp.headers()["x-refused-orders"], "0");
    let bytes = resp.bytes().await.unwrap();
    let (text, _, bad) = SHIFT_JIS.decode(&bytes);
    assert!(!bad);
    let lines: Vec<&str> = text.split_terminator("\r\n").collect();
    assert_eq!(lines.len(), 1, "e飛伝Ⅱ has no header line: {text}");
    let cells: Vec<&str> = lines[0].split(',').map(|c| c.trim_matches('"')).collect();
    assert_eq!(cells.len(), 19);
    // Rakuten's order number is longer than お客様管理ナンバー: a short reference.
    let reference = cells[8];
    assert!(reference.starts_with("OS"), "{reference}");
    assert_eq!(cells[1], "052-123-4567", "the recipient's phone");

    // e飛伝Ⅱ's file after printing: お問合せ送り状No, お客様管理ナンバー, 出荷日.
    let back = format!("\"412345678901\",\"{reference}\",\"20261203\"\r\n");
    let (status, done) = post_file(&app, "sagawa-ehiden", back.clone().into_bytes()).await;
    assert_eq!(
        (status, &done),
        (200, &serde_json::json!({"shipped": 1, "unchanged": 0}))
    );
    assert!(
        app.rakuten()
            .wait_for_progress(&n, OrderProgress::Shipped, DEADLINE)
            .await
    );
    app.wait_event("order.shipment_reported", false).await;
    let stats = app.rakuten().stats();
    assert_eq!(
        stats.shipping_bodies.len(),
        1,
        "{:?}",
        stats.shipping_bodies
    );
    let row = &stats.shipping_bodies[0]["BasketidModelList"][0]["ShippingModelList"][0];
    assert_eq!(row["shippingNumber"], "412345678901");
    assert_eq!(row["shippingDate"], "2026-12-03");

    // The same file again: nothing new, nothing sent again.
    let (status, again) = post_file(&app, "sagawa-ehiden", back.into_bytes()).await;
    assert_eq!(
        (status, &again),
        (200, &serde_json::json!({"shipped": 0, "unchanged": 1}))
    );
    // A bad row refuses the file, naming its line and column.
    let bad = format!(
        "\"412345678901\",\"{reference}\",\"20261203\"\n\"4123\",\"{reference}\",\"20261203\"\n"
    );
    let (status, refused) = post_file(&app, "sagawa-ehiden", bad.into_bytes()).await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["error"]["code"], "invalid_file");
    assert_eq!(refused["error"]["problems"][0]["line"], 2);
    assert_eq!(refused["error"]["problems"][0]["column"], 1);
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("2行目 1列: 送り状番号「4123」"),
        "{refused}"
    );
    let (status, unknown) = post_file(&app, "kuroneko", Vec::new()).await;
    assert_eq!(
        (status, unknown["error"]["code"].as_str()),
        (400, Some("invalid_carrier"))
    );
    assert_eq!(app.rakuten().stats().shipping_bodies.len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn the_cli_exports_and_imports_in_japanese() {
    let app = spawn_app().await;
    app.set_stock("A", 10).await;
    app.sim.place_order("JG-CLI-1", &[("A", 1, 1200)]);
    app.wait_state("JG-CLI-1", "confirmed", "deferred").await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("yupri.csv");
    let export = app.cli(&[
        "shipments",
        "export",
        "--carrier",
        "yupack-printr",
        "--output",
        out.to_str().unwrap(),
    ]);
    let said = String::from_utf8_lossy(&export.stderr);
    assert!(export.status.success(), "{said}");
    assert!(said.contains("1 件の受注を"), "{said}");
    let written = std::fs::read(&out).unwrap();
    let (text, _, _) = SHIFT_JIS.decode(&written);
    assert!(text.starts_with("\"お客様側管理番号\""), "{text}");
    assert!(text.contains("\"JG-CLI-1\",\""), "{text}");

    // ゆうプリR's 出力フィルタ: お客様側管理番号, お問い合わせ番号, 発送予定日 (LF this time).
    let back = dir.path().join("printed.csv");
    let (bytes, _, _) = SHIFT_JIS
        .encode("お客様側管理番号,お問い合わせ番号,発送予定日\nJG-CLI-1,1234-5678-9012,20261203\n");
    std::fs::write(&back, &bytes).unwrap();
    let import = |app: &TestApp| {
        app.cli(&[
            "shipments",
            "import",
            "--carrier",
            "yupack-printr",
            back.to_str().unwrap(),
        ])
    };
    let first = import(&app);
    let said = String::from_utf8_lossy(&first.stdout);
    assert!(first.status.success(), "{said}");
    assert_eq!(
        said.trim(),
        "出荷を 1 件記録しました(記録済みで変更なし 0 件)。"
    );
    let again = import(&app);
    assert_eq!(
        String::from_utf8_lossy(&again.stdout).trim(),
        "出荷を 0 件記録しました(記録済みで変更なし 1 件)。"
    );
    let o = app.order("JG-CLI-1").await.unwrap();
    assert_eq!(o["shipments"][0]["carrier"], "japanpost");
    assert_eq!(o["shipments"][0]["tracking_no"], "123456789012");
    app.stop().await;
}
