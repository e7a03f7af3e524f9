//! Security checks: forged, tampered and replayed webhooks are refused with
//! nothing processed; every admin route demands the token; oversize bodies
//! get 413 and trickled bodies 408 without holding up anyone else; secrets
//! never appear in the daemon's logs or in `check-config`.

use std::process::Stdio;
use std::time::{Duration, Instant};

use ordersync::providers::komoju::signature as komoju_signature;
use ordersync_sim::jgoods::{self as jgoods_sim, JgoodsSimConfig, SimWebhookAuth};
use ordersync_sim::komoju::{self as komoju_sim, KomojuSimConfig};
use ordersync_sim::rakuten_pay::{self as rakuten_sim, RakutenSimConfig};
use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::*;

pub(crate) async fn inbox_counts(app: &TestApp, provider: &'static str) -> (i64, i64) {
    app.daemon()
        .store
        .read(move |c| ordersync::store::inbox::counts(c, provider))
        .await
        .unwrap()
}

#[tokio::test]
async fn forged_tampered_and_replayed_jgoods_webhooks_are_refused() {
    let app = spawn_app().await;
    app.set_stock("S-A", 10).await;
    let body = paid_order_body("JGSEC", &[("S-A", 2)]);
    let now = chrono::Utc::now().timestamp();
    let good = signed_headers(&body, "d-ok", WEBHOOK_SECRET, now);
    let signature = good[2].1.clone();
    let with_signature = |sig: &str| {
        let mut h = signed_headers(&body, "d", WEBHOOK_SECRET, now);
        h[2].1 = sig.to_string();
        h
    };
    let mut altered = body.clone();
    let at = altered.len() - 3;
    altered[at] = b' ';
    type Case = (&'static str, Vec<u8>, Vec<(&'static str, String)>);
    let cases: Vec<Case> = vec![
        ("no headers at all", body.clone(), vec![]),
        (
            "no signature",
            body.clone(),
            vec![
                ("x-jgoods-delivery", "d1".into()),
                ("x-jgoods-timestamp", now.to_string()),
            ],
        ),
        (
            "no timestamp",
            body.clone(),
            vec![
                ("x-jgoods-delivery", "d2".into()),
                ("x-jgoods-signature", signature.clone()),
            ],
        ),
        (
            "wrong signature",
            body.clone(),
            with_signature(&format!("v1={}", "0".repeat(64))),
        ),
        (
            "truncated signature",
            body.clone(),
            with_signature(&signature[..signature.len() / 2]),
        ),
        ("empty signature", body.clone(), with_signature("")),
        (
            "signature without its scheme",
            body.clone(),
            with_signature(&signature[3..]),
        ),
        (
            "another scheme (v0=)",
            body.clone(),
            with_signature(&signature.replacen("v1=", "v0=", 1)),
        ),
        (
            "another scheme (sha256=)",
            body.clone(),
            with_signature(&signature.replacen("v1=", "sha256=", 1)),
        ),
        (
            "upper-case hex, not hex",
            body.clone(),
            with_signature("v1=ZZZZ"),
        ),
        (
            "signed with another secret",
            body.clone(),
            signed_headers(&body, "d3", "another-secret", now),
        ),
        (
            "replayed outside the window (past)",
            body.clone(),
            signed_headers(&body, "d4", WEBHOOK_SECRET, now - 301),
        ),
        (
            "replayed outside the window (future)",
            body.clone(),
            signed_headers(&body, "d5", WEBHOOK_SECRET, now + 301),
        ),
        ("timestamp not a number", body.clone(), {
            let mut h = signed_headers(&body, "d6", WEBHOOK_SECRET, now);
            h[1].1 = "yesterday".into();
            h
        }),
        ("timestamp changed after signing", body.clone(), {
            let mut h = signed_headers(&body, "d7", WEBHOOK_SECRET, now);
            h[1].1 = (now - 1).to_string();
            h
        }),
        (
            "body altered after signing",
            altered.clone(),
            signed_headers(&body, "d8", WEBHOOK_SECRET, now),
        ),
        (
            "bearer instead of a signature",
            body.clone(),
            vec![
                ("x-jgoods-delivery", "d9".into()),
                ("authorization", format!("Bearer {WEBHOOK_SECRET}")),
            ],
        ),
    ];
    for (name, b, h) in &cases {
        let (status, resp) = app.post_webhook(b, h).await;
        assert!(
            [400, 401, 403].contains(&status),
            "{name}: answered {status} {resp}"
        );
        assert_eq!(resp["error"]["code"], "unauthorized", "{name}: {resp}");
    }
    assert!(
        app.order("JGSEC").await.is_none(),
        "a forged order was stored"
    );
    assert_eq!(app.stock("S-A").await["reserved"], 0);
    let (processed, rejected) = inbox_counts(&app, "jgoods").await;
    assert_eq!(processed, 0, "nothing forged is processed");
    assert_eq!(
        rejected,
        cases.len() as i64,
        "every refusal is kept for audit"
    );
    // The genuine delivery, then the same bytes replayed inside the window:
    // processed once, the replay acknowledged as a duplicate.
    let (status, resp) = app.post_webhook(&body, &good).await;
    assert_eq!(status, 200, "{resp}");
    let (status, resp) = app.post_webhook(&body, &good).await;
    assert_eq!(status, 200, "{resp}");
    assert_eq!(resp["status"], "duplicate", "{resp}");
    assert_eq!(inbox_counts(&app, "jgoods").await.0, 1);
    assert_eq!(app.stock("S-A").await["reserved"], 2, "reserved once");
    app.stop().await;
}

#[tokio::test]
async fn forged_tampered_and_replayed_komoju_webhooks_are_refused() {
    let app = spawn_app_with(Options::komoju()).await;
    let url = app.webhook_url.replace("/jgoods", "/komoju");
    let secret = app.komoju().webhook_secret().to_string();
    let body = br#"{"id":"evsec","type":"ping","resource":"event","data":{},"created_at":"2026-11-23T01:00:00Z"}"#.to_vec();
    let good = komoju_signature::sign(secret.as_bytes(), &body);
    let mut altered = body.clone();
    altered[8] = b'X';
    let cases: Vec<(&str, Vec<u8>, Option<String>)> = vec![
        ("no signature", body.clone(), None),
        ("empty signature", body.clone(), Some(String::new())),
        ("wrong signature", body.clone(), Some("0".repeat(64))),
        (
            "truncated signature",
            body.clone(),
            Some(good[..32].to_string()),
        ),
        (
            "another scheme (sha256=)",
            body.clone(),
            Some(format!("sha256={good}")),
        ),
        ("not hex", body.clone(), Some("z".repeat(64))),
        (
            "signed with another secret",
            body.clone(),
            Some(komoju_signature::sign(b"another-secret", &body)),
        ),
        ("body altered after signing", altered, Some(good.clone())),
    ];
    let post = |b: Vec<u8>, sig: Option<String>| {
        let mut req = app
            .http
            .post(&url)
            .header("content-type", "application/json")
            .body(b);
        if let Some(s) = sig {
            req = req.header("x-komoju-signature", s);
        }
        req.send()
    };
    for (name, b, sig) in &cases {
        let resp = post(b.clone(), sig.clone()).await.unwrap();
        let status = resp.status().as_u16();
        assert!(
            [400, 401, 403].contains(&status),
            "{name}: answered {status}"
        );
    }
    let (processed, rejected) = inbox_counts(&app, "komoju").await;
    assert_eq!((processed, rejected), (0, cases.len() as i64));
    // KOMOJU signs no timestamp: a replay of a genuine delivery is caught by its event id.
    for want in ["processed", "duplicate"] {
        let resp = post(body.clone(), Some(good.clone())).await.unwrap();
        assert_eq!(resp.status(), 200);
        let v: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(v["status"], want);
    }
    assert_eq!(inbox_counts(&app, "komoju").await.0, 1);
    app.stop().await;
}

/// Every `/api/v1` route with a body that would be accepted with the token.
fn admin_routes() -> Vec<(Method, &'static str, Option<serde_json::Value>)> {
    vec![
        (Method::GET, "/api/v1/stock", None),
        (Method::GET, "/api/v1/stock/S-A", None),
        (
            Method::PUT,
            "/api/v1/stock/S-A",
            Some(json!({"on_hand": 99})),
        ),
        (
            Method::POST,
            "/api/v1/stock/import",
            Some(json!([{"sku": "S-B", "on_hand": 99}])),
        ),
        (Method::GET, "/api/v1/orders", None),
        (
            Method::POST,
            "/api/v1/orders",
            Some(json!({"channel": "direct", "id": "X"})),
        ),
        (Method::GET, "/api/v1/orders/jgoods/JGA", None),
        (
            Method::POST,
            "/api/v1/orders/jgoods/JGA/shipment",
            Some(
                json!({"carrier": "yamato", "tracking_no": "123456789012", "shipped_on": "2026-11-24"}),
            ),
        ),
        (
            Method::POST,
            "/api/v1/orders/jgoods/JGA/cancel",
            Some(json!({"reason": "x"})),
        ),
        (Method::GET, "/api/v1/events?after=0", None),
        (Method::GET, "/api/v1/outbox", None),
        (Method::GET, "/api/v1/outbox?state=dead", None),
        (Method::POST, "/api/v1/outbox/1/retry", None),
    ]
}

#[tokio::test]
async fn every_admin_route_demands_the_token() {
    let app = spawn_app().await;
    app.set_stock("S-A", 5).await;
    let wrong: Vec<(&str, Option<String>)> = vec![
        ("no Authorization", None),
        ("wrong token", Some("Bearer not-the-token".into())),
        ("empty bearer", Some("Bearer ".into())),
        (
            "token with a suffix",
            Some(format!("Bearer {ADMIN_TOKEN}x")),
        ),
        (
            "truncated token",
            Some(format!("Bearer {}", &ADMIN_TOKEN[..ADMIN_TOKEN.len() - 1])),
        ),
        ("Basic scheme", Some(format!("Basic {ADMIN_TOKEN}"))),
        ("token without a scheme", Some(ADMIN_TOKEN.to_string())),
    ];
    let mut checked = 0;
    for (method, path, body) in admin_routes() {
        for (name, auth) in &wrong {
            // Each from its own address: ten wrong tokens from one are throttled
            // (see `wrong_tokens_are_throttled_per_source`).
            let source = std::net::Ipv4Addr::new(127, 0, 1, 1 + checked as u8);
            let client = reqwest::Client::builder()
                .local_address(std::net::IpAddr::V4(source))
                .build()
                .unwrap();
            let mut req = client.request(method.clone(), format!("{}{path}", app.admin_url));
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            if let Some(b) = &body {
                req = req.json(b);
            }
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), 401, "{method} {path} with {name}");
            let v: serde_json::Value = resp.json().await.unwrap();
            assert_eq!(v["error"]["code"], "unauthorized", "{method} {path}");
            checked += 1;
        }
    }
    println!("admin API: {checked} unauthenticated requests over 13 routes, all 401");
    // Nothing the refused requests carried took effect.
    assert_eq!(app.stock("S-A").await["on_hand"], 5);
    let (status, _) = app.get("/api/v1/stock/S-B").await;
    let (_, list) = app.get("/api/v1/stock").await;
    assert!(
        status == 404 || !list.to_string().contains("S-B"),
        "an unauthenticated import took effect: {list}"
    );
    app.stop().await;
}

#[tokio::test]
async fn wrong_tokens_are_throttled_per_source() {
    let app = spawn_app().await;
    let guesser = reqwest::Client::builder()
        .local_address("127.0.0.9".parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    let url = format!("{}/api/v1/stock", app.admin_url);
    for n in 0..10 {
        let r = guesser
            .get(&url)
            .bearer_auth(format!("guess-{n}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    // The eleventh is not even checked, the right token included.
    let r = guesser
        .get(&url)
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=61).contains(&wait), "{wait}");
    // Another source is served.
    assert_eq!(app.get("/api/v1/stock").await.0, 200);
    let metrics = app.admin_text("/metrics").await;
    assert!(
        metrics.contains("ordersync_admin_auth_failures_total 10"),
        "{metrics}"
    );
    assert!(
        metrics.contains("ordersync_admin_auth_throttled_total 1"),
        "{metrics}"
    );
    app.stop().await;
}

#[tokio::test]
async fn oversize_bodies_get_413_everywhere() {
    let app = spawn_app_with(Options::komoju()).await;
    let big = vec![b' '; ordersync::http::MAX_WEBHOOK_BODY + 1];
    let (status, _) = app.post_signed(&big, "big").await;
    assert_eq!(status, 413, "J-goods webhook");
    let resp = app
        .http
        .post(app.webhook_url.replace("/jgoods", "/komoju"))
        .header("x-komoju-signature", "0".repeat(64))
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413, "KOMOJU webhook");
    let huge = vec![b'a'; ordersync::inventory_import::MAX_IMPORT_BYTES + 1];
    let resp = app
        .http
        .post(format!("{}/api/v1/stock/import", app.admin_url))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "text/csv")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413, "stock import");
    let (_, list) = app.get("/api/v1/stock").await;
    assert_eq!(list["stock"], json!([]), "nothing imported");
    app.stop().await;
}

#[tokio::test]
async fn a_trickled_body_times_out_without_holding_up_others() {
    let app = spawn_app_with(Options {
        daemon_extra: "request_timeout = \"500ms\"".into(),
        ..Options::default()
    })
    .await;
    app.set_stock("S-A", 5).await;
    let addr = app
        .webhook_url
        .trim_start_matches("http://")
        .replace("/webhooks/jgoods", "");
    // A client that announces 2,000 bytes and sends one every 50 ms (100 s in all).
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    slow.write_all(
        format!(
            "POST /webhooks/jgoods HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: 2000\r\n\r\n{{"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let started = Instant::now();
    let trickle = tokio::spawn(async move {
        let mut answer = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            tokio::select! {
                n = slow.read(&mut buf) => match n {
                    Ok(0) | Err(_) => break,
                    Ok(n) => answer.extend_from_slice(&buf[..n]),
                },
                _ = tokio::time::sleep(Duration::from_millis(50)) => {
                    if slow.write_all(b" ").await.is_err() {
                        break;
                    }
                }
            }
            if started.elapsed() > DEADLINE {
                break;
            }
        }
        (
            String::from_utf8_lossy(&answer).into_owned(),
            started.elapsed(),
        )
    });
    // Meanwhile a genuine delivery is answered at once.
    let body = paid_order_body("JGFAST", &[("S-A", 1)]);
    let sent = Instant::now();
    let (status, resp) = app.post_signed(&body, "fast").await;
    let fast = sent.elapsed();
    assert_eq!(status, 200, "{resp}");
    let (answer, cut_after) = trickle.await.unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 408"),
        "the trickling client got: {answer:?}"
    );
    assert!(
        cut_after >= Duration::from_millis(450) && cut_after < Duration::from_secs(5),
        "cut off after {cut_after:?}"
    );
    assert!(
        fast < Duration::from_millis(450),
        "the genuine delivery waited {fast:?}"
    );
    println!(
        "slow body: cut off with 408 after {cut_after:.0?}; a concurrent webhook was answered in {fast:.0?}"
    );
    assert_eq!(inbox_counts(&app, "jgoods").await, (1, 0));
    app.stop().await;
}

const SECRETS: [&str; 7] = [
    "Adm1n-T0ken-9c41e7-0123456789abcdef",
    "JG-Cl1ent-S3cret-52d0",
    "JG-W3bhook-S3cret-a8f3",
    "RK-Serv1ce-S3cret-11b7",
    "RK-L1cense-Key-e06c",
    "KJ-sk_live-S3cret-4d29",
    "KJ-W3bhook-S3cret-7e5a",
];

fn assert_no_secret(what: &str, output: &str) {
    for secret in SECRETS {
        assert!(
            !output.contains(secret),
            "{what} shows the secret {secret}:\n{output}"
        );
    }
}

async fn free_addr() -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_the_logs_or_check_config() {
    let [
        admin_token,
        client_secret,
        webhook_secret,
        service_secret,
        license_key,
        komoju_key,
        komoju_hook,
    ] = SECRETS;
    let jgoods = jgoods_sim::start(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        JgoodsSimConfig {
            client_secret: client_secret.into(),
            webhook_auth: SimWebhookAuth::Hmac {
                secret: webhook_secret.into(),
            },
            ..JgoodsSimConfig::default()
        },
    )
    .await
    .unwrap();
    let rakuten = rakuten_sim::start(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        RakutenSimConfig {
            service_secret: service_secret.into(),
            license_key: license_key.into(),
            ..RakutenSimConfig::default()
        },
    )
    .await
    .unwrap();
    let komoju = komoju_sim::start(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        KomojuSimConfig {
            secret_key: komoju_key.into(),
            webhook_secret: komoju_hook.into(),
            ..KomojuSimConfig::default()
        },
    )
    .await
    .unwrap();
    // The start-up poll is refused: the daemon logs the licence-key problem.
    rakuten.inject(
        rakuten_sim::Endpoint::SearchOrder,
        rakuten_sim::Fault::Gateway {
            status: 401,
            code: "ES01-01",
        },
        1,
    );
    let dir = tempfile::tempdir().unwrap();
    let (listen, admin) = (free_addr().await, free_addr().await);
    // Secrets from every source: inline, the environment and a file.
    std::fs::write(dir.path().join("komoju.key"), komoju_key).unwrap();
    let config = format!(
        r#"
[daemon]
data_dir = "{data}"
listen = "{listen}"
admin_listen = "{admin}"
admin_token = "{admin_token}"
log_format = "json"

[retry]
initial_delay = "20ms"
max_delay = "200ms"

[jgoods]
enabled = true
order_api_base_url = "{order}"
item_api_base_url = "{item}"
token_url = "{token}"
client_id = "{client_id}"
client_secret = {{ env = "SEC_JGOODS_CLIENT_SECRET" }}
webhook_secret = "{webhook_secret}"

[rakuten_pay]
enabled = true
api_base_url = "{rk_api}"
license_api_url = "{rk_license}"
service_secret = {{ env = "SEC_RAKUTEN_SERVICE_SECRET" }}
license_key = "{license_key}"
poll_interval = "1h"
request_interval = "0s"

[komoju]
enabled = true
api_base_url = "{kj_api}"
secret_key = {{ file = "{kj_file}" }}
webhook_secret = "{komoju_hook}"
"#,
        data = dir.path().display(),
        order = jgoods.order_api_base_url(),
        item = jgoods.item_api_base_url(),
        token = jgoods.token_url(),
        client_id = JgoodsSimConfig::default().client_id,
        rk_api = rakuten.api_base_url(),
        rk_license = rakuten.license_api_url(),
        kj_api = komoju.api_base_url(),
        kj_file = dir.path().join("komoju.key").display(),
    );
    let config_path = dir.path().join("config.toml");
    std::fs::write(&config_path, config).unwrap();
    let envs = [
        ("SEC_JGOODS_CLIENT_SECRET", client_secret),
        ("SEC_RAKUTEN_SERVICE_SECRET", service_secret),
        ("RUST_LOG", "debug"),
    ];

    let checked = tokio::process::Command::new(env!("CARGO_BIN_EXE_ordersync"))
        .arg("--config")
        .arg(&config_path)
        .arg("check-config")
        .envs(envs)
        .output()
        .await
        .unwrap();
    assert!(checked.status.success(), "{checked:?}");
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(
        shown.contains("client_secret"),
        "check-config prints the config: {shown}"
    );
    assert_no_secret("check-config", &shown);

    let mut daemon = tokio::process::Command::new(env!("CARGO_BIN_EXE_ordersync"))
        .arg("--config")
        .arg(&config_path)
        .arg("run")
        .envs(envs)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    let until = tokio::time::Instant::now() + DEADLINE;
    while !http
        .get(format!("http://{admin}/healthz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(
            tokio::time::Instant::now() < until,
            "the daemon never became healthy"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    jgoods.set_webhook_url(format!("http://{listen}/webhooks/jgoods"));
    komoju.set_webhook_url(format!("http://{listen}/webhooks/komoju"));
    // Traffic that makes the daemon use every secret, succeed and fail.
    let put = http
        .put(format!("http://{admin}/api/v1/stock/S-A"))
        .bearer_auth(admin_token)
        .json(&json!({"on_hand": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let refused = http
        .get(format!("http://{admin}/api/v1/stock"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    jgoods.expire_tokens();
    jgoods.place_order("JGLOG", &[("S-A", 1, 1100)]);
    assert!(
        jgoods
            .wait_for_status(
                "JGLOG",
                ordersync_sim::jgoods::Status::AwaitingArrival,
                DEADLINE
            )
            .await
    );
    let body = paid_order_body("JGBAD", &[("S-A", 1)]);
    let forged = http
        .post(format!("http://{listen}/webhooks/jgoods"))
        .headers(
            signed_headers(&body, "bad", "wrong-secret", chrono::Utc::now().timestamp())
                .into_iter()
                .map(|(k, v)| (k.parse().unwrap(), v.parse().unwrap()))
                .collect(),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    let ping = br#"{"id":"evlog","type":"ping","resource":"event","data":{},"created_at":"2026-11-23T01:00:00Z"}"#;
    let komoju_forged = http
        .post(format!("http://{listen}/webhooks/komoju"))
        .header("x-komoju-signature", komoju_signature::sign(b"wrong", ping))
        .body(ping.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(komoju_forged.status(), 401);
    // The start-up Rakuten poll met the refused licence key.
    assert!(
        rakuten
            .wait_until(DEADLINE, |v| v.stats().search_order >= 1)
            .await
    );
    // SIGTERM, then read everything it wrote.
    let pid = daemon.id().expect("running");
    let _ = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
    let output = tokio::time::timeout(DEADLINE, async {
        let mut out = String::new();
        let mut err = String::new();
        let mut stdout = daemon.stdout.take().unwrap();
        let mut stderr = daemon.stderr.take().unwrap();
        let _ = tokio::join!(
            stdout.read_to_string(&mut out),
            stderr.read_to_string(&mut err)
        );
        let _ = daemon.wait().await;
        format!("{out}{err}")
    })
    .await
    .expect("the daemon stops on SIGTERM");
    assert!(
        output.contains("JGLOG") || output.lines().count() > 10,
        "the logs were captured: {output}"
    );
    assert!(
        output.contains("ES01-01"),
        "the refused key was logged: {output}"
    );
    assert_no_secret("the daemon's logs", &output);
    println!(
        "secrets: {} log lines and check-config output scanned for {} secret values: none found",
        output.lines().count(),
        SECRETS.len()
    );
    jgoods.shutdown().await;
    rakuten.shutdown().await;
    komoju.shutdown().await;
}
