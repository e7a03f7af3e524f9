//! Attacks on the listeners, each bounded in time and size and on loopback
//! only: while each runs, a genuine signed webhook from another source address
//! (127.0.0.2) must still be answered within 100 ms.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

/// How fast a genuine delivery must be answered while an attack runs.
pub(crate) const GENUINE: Duration = Duration::from_millis(100);

pub(crate) fn webhook_addr(app: &TestApp) -> String {
    app.webhook_url
        .trim_start_matches("http://")
        .replace("/webhooks/jgoods", "")
}

/// Sends one genuine signed delivery from 127.0.0.2; how long it took.
pub(crate) async fn genuine_delivery(app: &TestApp, n: usize) -> Duration {
    let client = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<IpAddr>().unwrap())
        .build()
        .unwrap();
    let body = paid_order_body(&format!("JGOK{n}"), &[("S-A", 1)]);
    let ts = chrono::Utc::now().timestamp();
    let mut req = client
        .post(&app.webhook_url)
        .header("content-type", "application/json")
        .body(body.clone());
    for (k, v) in signed_headers(&body, &format!("ok-{n}"), WEBHOOK_SECRET, ts) {
        req = req.header(k, v);
    }
    let started = Instant::now();
    let resp = req.send().await.unwrap();
    let took = started.elapsed();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    took
}

/// Whether the server closes `stream` within `within` (reads until EOF or error).
pub(crate) async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

pub(crate) async fn app_with(daemon_extra: &str) -> TestApp {
    let app = spawn_app_with(Options {
        daemon_extra: daemon_extra.into(),
        ..Options::default()
    })
    .await;
    app.set_stock("S-A", 1000).await;
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_signature_values_cost_nothing_and_do_not_hold_up_a_genuine_webhook() {
    let app = app_with("").await;
    let url = app.webhook_url.clone();
    let ts = chrono::Utc::now().timestamp();
    let body = vec![b'x'; 1024 * 1000];
    // 10,000 values (40 KB): each would have cost a MAC over the 1 MB body.
    let values = vec!["v1="; 10_000].join(",");
    let attackers: Vec<_> = (0..2)
        .map(|i| {
            let (url, body, values) = (url.clone(), body.clone(), values.clone());
            tokio::spawn(async move {
                let started = Instant::now();
                let resp = reqwest::Client::new()
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("x-jgoods-delivery", format!("attack-{i}"))
                    .header("x-jgoods-timestamp", ts.to_string())
                    .header("x-jgoods-signature", values)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                (resp.status().as_u16(), started.elapsed())
            })
        })
        .collect();
    let took = genuine_delivery(&app, 1).await;
    for attacker in attackers {
        let (status, spent) = attacker.await.unwrap();
        assert_eq!(status, 401, "refused as unauthenticated");
        assert!(spent < Duration::from_secs(1), "the attack took {spent:?}");
    }
    assert!(took < GENUINE, "the genuine delivery waited {took:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_sent_a_byte_at_a_time_are_cut_off_at_the_header_timeout() {
    let app = app_with("header_read_timeout = \"1s\"").await;
    let addr = webhook_addr(&app);
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"POST /webhooks/jgoods HTTP/1.1\r\nx-a: ")
        .await
        .unwrap();
    let started = Instant::now();
    let trickle = tokio::spawn(async move {
        // One byte every 200 ms, for ever unless the server cuts it.
        while started.elapsed() < Duration::from_secs(10) {
            if slow.write_all(b"a").await.is_err() {
                return started.elapsed();
            }
            let mut buf = [0u8; 512];
            match tokio::time::timeout(Duration::from_millis(200), slow.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return started.elapsed(),
                _ => {}
            }
        }
        started.elapsed()
    });
    let took = genuine_delivery(&app, 2).await;
    let cut = trickle.await.unwrap();
    assert!(
        cut >= Duration::from_millis(900) && cut < Duration::from_secs(3),
        "slow headers cut after {cut:?}"
    );
    assert!(took < GENUINE, "the genuine delivery waited {took:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_and_a_flood_from_one_source_leaves_others_served() {
    let app = app_with("header_read_timeout = \"1s\"\nmax_connections_per_source = 64").await;
    let addr = webhook_addr(&app);
    // A keep-alive connection that asked once and then sits idle.
    let mut kept = TcpStream::connect(&addr).await.unwrap();
    kept.write_all(format!("GET /nothing HTTP/1.1\r\nhost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    // 450 connections that never send a byte, from 127.0.0.1.
    let mut idle = Vec::new();
    for _ in 0..450 {
        idle.push(TcpStream::connect(&addr).await.unwrap());
    }
    // Past the 64 per source, each is closed at once.
    assert!(closed_within(&mut idle[449], Duration::from_millis(500)).await);
    let took = genuine_delivery(&app, 3).await;
    assert!(took < GENUINE, "the genuine delivery waited {took:?}");
    // The admin listener has its own budget.
    assert_eq!(app.get("/healthz").await.0, 200);
    // Every idle one is gone after the header timeout (1 s) and a margin.
    let mut open = 0;
    for stream in idle.iter_mut().take(64) {
        if !closed_within(stream, Duration::from_secs(3)).await {
            open += 1;
        }
    }
    assert_eq!(open, 0, "idle connections left open");
    assert!(
        closed_within(&mut kept, Duration::from_secs(3)).await,
        "keep-alive idle"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_connection_cap_closes_the_excess_at_once_and_frees_slots_as_clients_leave() {
    let app = app_with("max_connections = 20\nmax_connections_per_source = 20").await;
    let addr = webhook_addr(&app);
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(TcpStream::connect(&addr).await.unwrap());
    }
    // Let the server accept them all before the one too many.
    let mut extra = loop {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        if closed_within(&mut s, Duration::from_millis(300)).await {
            break s;
        }
        held.push(s);
        assert!(held.len() < 40, "the cap never closed a connection");
    };
    assert!(closed_within(&mut extra, Duration::from_millis(10)).await);
    drop(held);
    // The slots free up: a client is served again.
    eventually(Duration::from_millis(50), || async {
        let r = reqwest::Client::new()
            .get(format!("http://{addr}/nothing"))
            .send()
            .await;
        match r {
            Ok(r) if r.status() == 404 => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn without_a_token_a_web_page_can_neither_write_nor_rebind() {
    let app = spawn_app_with(Options {
        no_admin_token: true,
        ..Options::default()
    })
    .await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/stock/S-X", app.admin_url);
    let put = |ct: &'static str, extra: Option<(&'static str, &'static str)>| {
        let mut req = http
            .put(&url)
            .header("content-type", ct)
            .body(r#"{"on_hand": 7}"#);
        if let Some((k, v)) = extra {
            req = req.header(k, v);
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    // What a page can send without a preflight: a text/plain or form body.
    assert_eq!(put("text/plain", None).await, 415);
    assert_eq!(put("application/x-www-form-urlencoded", None).await, 415);
    // Any request a browser marks as coming from another site.
    assert_eq!(
        put("application/json", Some(("origin", "http://evil.example"))).await,
        403
    );
    assert_eq!(
        put("application/json", Some(("sec-fetch-site", "cross-site"))).await,
        403
    );
    assert_eq!(
        app.get("/api/v1/stock/S-X").await.0,
        404,
        "nothing was written"
    );
    // A DNS-rebinding page reaches the listener under its own name.
    let read = http
        .get(format!("{}/api/v1/stock", app.admin_url))
        .header("host", "rebind.attacker.example")
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 421);
    // The ERP on the machine itself still works.
    assert_eq!(put("application/json", None).await, 200);
    let page = http
        .get(format!("{}/", app.admin_url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    app.stop().await;
}

#[tokio::test]
async fn a_reused_delivery_id_with_another_body_is_processed_not_dropped() {
    let app = app_with("").await;
    let first = paid_order_body("JGR1", &[("S-A", 1)]);
    let second = paid_order_body("JGR2", &[("S-A", 2)]);
    let (status, answer) = app.post_signed(&first, "same-id").await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("processed"))
    );
    let (status, answer) = app.post_signed(&second, "same-id").await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("processed")),
        "{answer}"
    );
    // A true retry (same id, same body) is still a duplicate.
    let (status, answer) = app.post_signed(&second, "same-id").await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("duplicate"))
    );
    assert!(app.order("JGR1").await.is_some() && app.order("JGR2").await.is_some());
    app.stop().await;
}

#[tokio::test]
async fn control_characters_and_oversized_ids_are_refused_at_the_edge() {
    let app = app_with("").await;
    for bad in ["JG\r\n1", "JG\t2", "JG\u{1b}]0;x\u{7}3"] {
        let body = paid_order_body(bad, &[("S-A", 1)]);
        let (status, answer) = app.post_signed(&body, &format!("ctl-{}", bad.len())).await;
        assert_eq!(status, 400, "{bad:?}: {answer}");
        assert_eq!(answer["error"]["field"], "order_no", "{answer}");
    }
    let body = paid_order_body("JGLONG", &[("S-A", 1)]);
    let long_id = "d".repeat(40_000);
    let (status, answer) = app.post_signed(&body, &long_id).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["code"], "invalid_delivery_id");
    // What was kept for audit is cut to a few hundred characters.
    let kept: i64 = app
        .daemon()
        .store
        .read(|c| {
            Ok(c.query_row(
                "SELECT MAX(LENGTH(COALESCE(delivery_id, '')) + LENGTH(headers)) FROM inbox",
                [],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert!(kept < 4096, "{kept} bytes kept");
    app.stop().await;
}

#[tokio::test]
async fn an_array_is_not_a_stock_count_and_a_declared_oversize_body_is_refused_at_once() {
    let app = app_with("").await;
    let r = reqwest::Client::new()
        .put(format!("{}/api/v1/stock/S-A", app.admin_url))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/json")
        .body("[1]")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(app.stock("S-A").await["on_hand"], 1000);
    // Announce 5 MB and send nothing: the answer comes before any body byte.
    let addr = webhook_addr(&app);
    let mut s = TcpStream::connect(&addr).await.unwrap();
    s.write_all(
        format!("POST /webhooks/jgoods HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: 5000000\r\n\r\n")
            .as_bytes(),
    )
    .await
    .unwrap();
    let mut answer = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(1), s.read(&mut answer))
        .await
        .expect("answered within a second")
        .unwrap();
    assert!(
        answer[..n].starts_with(b"HTTP/1.1 413"),
        "{:?}",
        String::from_utf8_lossy(&answer[..n])
    );
    app.stop().await;
}

#[tokio::test]
async fn exported_cells_cannot_be_spreadsheet_formulas() {
    let app = app_with("").await;
    let body = paid_order_body("JGCSV", &[("S-A", 1)]);
    let body = String::from_utf8(body).unwrap().replace(
        "品物",
        "=HYPERLINK(\\\"http://evil.example\\\",\\\"open\\\")",
    );
    let (status, answer) = app.post_signed(body.as_bytes(), "csv-1").await;
    assert_eq!(status, 200, "{answer}");
    let csv = reqwest::Client::new()
        .get(format!("{}/api/v1/orders/export?format=csv", app.admin_url))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.contains("'=HYPERLINK("), "{csv}");
    assert!(!csv.contains(",=HYPERLINK("), "{csv}");
    app.stop().await;
}

#[tokio::test]
async fn the_stock_list_comes_in_pages() {
    let app = app_with("").await;
    for sku in ["S-B", "S-C", "S-D"] {
        app.set_stock(sku, 1).await;
    }
    let (status, first) = app.get("/api/v1/stock?limit=3").await;
    assert_eq!(status, 200);
    let skus = |v: &serde_json::Value| -> Vec<String> {
        v["stock"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["sku"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(skus(&first), ["S-A", "S-B", "S-C"]);
    assert_eq!(first["next_after"], "S-C");
    let (_, rest) = app.get("/api/v1/stock?limit=3&after=S-C").await;
    assert_eq!(skus(&rest), ["S-D"]);
    assert!(rest["next_after"].is_null());
    app.stop().await;
}
