//! The status page (`GET /` on the admin listener): every section, escaping of
//! hostile text, the retry form (token required, cross-site posts refused),
//! and a headless Chromium screenshot where Chromium is installed.

use std::time::Duration;

use ordersync::store::kv;
use ordersync_sim::jgoods::{Endpoint, Fault};

use crate::helpers::*;

async fn page(app: &TestApp, query: &str) -> String {
    let resp = reqwest::get(format!("{}/{query}", app.admin_url))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    resp.text().await.unwrap()
}

/// An app with one dead J-goods post-back (its order needs attention).
async fn app_with_a_dead_call() -> (TestApp, i64) {
    let app = spawn_app_with(Options {
        retry: ("10ms", "20ms", "150ms"),
        ..Options::default()
    })
    .await;
    app.set_stock("A", 10).await;
    app.sim
        .inject(Endpoint::PutOrder, Fault::Status(503), 10_000);
    app.sim.place_order("JG-SP-1", &[("A", 1, 1100)]);
    app.wait_order("JG-SP-1", |o| o["attention"].is_string())
        .await;
    app.sim.clear_faults();
    let (status, dead) = app.get("/api/v1/outbox?state=dead").await;
    assert_eq!(status, 200);
    let id = dead["outbox"][0]["id"].as_i64().unwrap();
    (app, id)
}

/// Hostile text where a provider or an ERP could put it.
async fn plant_hostile_text(app: &TestApp) {
    app.daemon()
        .store
        .write(|tx| {
            tx.execute(
                "INSERT INTO orders (channel, id, state, payment_state, attention, created_at, updated_at)
                 VALUES ('direct', '<img src=x onerror=alert(1)>', 'new', 'unpaid',
                         '\"><script>alert(2)</script>', 't', 't')",
                [],
            )?;
            kv::set(tx, "attention.rakuten_pay", "<b>licence</b> & co", "t")?;
            kv::set(tx, "poll.rakuten_pay.last_success", "2026-11-23T10:00:00+09:00", "t")?;
            kv::set(tx, "rakuten_pay.license_expiry", "2026-11-30T00:00:00+09:00", "t")
        })
        .await
        .unwrap();
    app.set_stock("<SKU&1>", 1).await;
}

#[tokio::test]
async fn status_page_shows_every_section_and_escapes_what_it_shows() {
    let (app, id) = app_with_a_dead_call().await;
    plant_hostile_text(&app).await;
    let html = page(&app, "").await;
    for section in [
        "id=\"orders\"",
        "id=\"attention\"",
        "id=\"dead\"",
        "id=\"low-stock\"",
        "id=\"providers\"",
    ] {
        assert!(html.contains(section), "no {section}: {html}");
    }
    assert!(html.contains("JG-SP-1"), "attention order listed");
    assert!(html.contains(&format!("action=\"/outbox/{id}/retry\"")));
    assert!(
        html.contains("name=\"token\""),
        "the form asks for the token"
    );
    // Japanese by default, times in Japan time as people write them.
    assert!(html.contains("<html lang=\"ja\">"), "{html}");
    assert!(html.contains("2026/11/23 10:00:00"), "last poll");
    assert!(
        html.contains("楽天のライセンスキーの期限: 2026/11/30 00:00:00"),
        "{html}"
    );
    assert!(
        html.contains("楽天ペイ"),
        "the provider by its name: {html}"
    );
    for raw in ["<img", "<script>", "<b>licence", "<SKU&1>"] {
        assert!(!html.contains(raw), "{raw} was not escaped: {html}");
    }
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"));
    assert!(html.contains("&lt;SKU&amp;1&gt;"), "low stock, escaped");
    // The threshold is a query parameter.
    app.set_stock("PLENTY", 50).await;
    // (Its row in the low-stock table: J-goods' unknown items list it too.)
    let row = "<tr><td>PLENTY</td><td>50</td>";
    assert!(!page(&app, "").await.contains(row));
    assert!(page(&app, "?low_stock=100").await.contains(row));
    app.stop().await;
}

#[tokio::test]
async fn status_page_retry_needs_the_token_and_refuses_cross_site_posts() {
    let (app, id) = app_with_a_dead_call().await;
    let url = format!("{}/outbox/{id}/retry", app.admin_url);
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let post = |form: &'static [(&'static str, &'static str)], origin: Option<String>| {
        let mut req = no_redirect.post(&url).form(form);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.send()
    };
    assert_eq!(post(&[], None).await.unwrap().status(), 401);
    assert_eq!(
        post(&[("token", "wrong")], None).await.unwrap().status(),
        401
    );
    let forged = post(
        &[("token", ADMIN_TOKEN)],
        Some("http://evil.example".into()),
    )
    .await
    .unwrap();
    assert_eq!(forged.status(), 403);
    let (_, dead) = app.get("/api/v1/outbox?state=dead").await;
    assert_eq!(dead["outbox"].as_array().unwrap().len(), 1, "still dead");

    let ok = post(
        &[("token", ADMIN_TOKEN)],
        Some(format!("http://{}", app.daemon().admin_addr)),
    )
    .await
    .unwrap();
    assert_eq!(ok.status(), 303);
    assert_eq!(ok.headers()["location"], format!("/?retried={id}"));
    app.wait_state("JG-SP-1", "confirmed", "deferred").await;
    assert!(
        page(&app, &format!("?retried={id}"))
            .await
            .contains("再送待ちに戻しました")
    );
    // Retrying what is no longer dead is refused, with a page saying so.
    let again = post(&[("token", ADMIN_TOKEN)], None).await.unwrap();
    assert_eq!(again.status(), 409);
    app.stop().await;
}

/// Renders the page in headless Chromium (where installed) and checks the
/// screenshot is a real picture; prints its path so a person can look at it.
#[tokio::test]
async fn status_page_renders_in_headless_chromium() {
    let Some(chromium) = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            std::process::Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
    else {
        println!("skipped: no chromium on this machine (apt-get install chromium)");
        return;
    };
    let (app, _) = app_with_a_dead_call().await;
    plant_hostile_text(&app).await;
    let shot = app._dir.path().join("status-page.png");
    let profile = app._dir.path().join("chromium-profile");
    let url = format!("{}/", app.admin_url);
    let status = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--window-size=1200,1400",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!("--screenshot={}", shot.display()))
            .arg(&url)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("chromium did not finish within 60 s")
    .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(png.len() > 10_000, "a blank page? {} bytes", png.len());
    let keep = std::env::temp_dir().join("ordersync-status-page.png");
    let _ = std::fs::copy(&shot, &keep);
    println!("status page screenshot: {}", keep.display());
    app.stop().await;
}
