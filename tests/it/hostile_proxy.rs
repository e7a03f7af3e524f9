//! Behind a trusted reverse proxy (`[daemon] trusted_proxies`): a small
//! loopback proxy written here (it listens on 127.0.0.1, connects to the
//! daemon from 127.0.0.3 and adds the client's address as `X-Forwarded-For`
//! or `Forwarded: for=`), the genuine sender on 127.0.0.7 and the attacker on
//! 127.0.0.66. The per-source limits, `webhook_allow_from`, the login limiter
//! and the refused webhooks must see the forwarded client, and a forwarding
//! header sent straight to the daemon must count for nothing.
//! The figures are printed: `cargo test --test it hostile_proxy -- --nocapture`.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use crate::helpers::*;
use crate::hostile_network::{app_with, closed_within, webhook_addr};
use crate::hostile_round_two::connect_from;

const PROXY: [u8; 4] = [127, 0, 0, 3];
const GENUINE_SENDER: &str = "127.0.0.7";
const ATTACKER: [u8; 4] = [127, 0, 0, 66];

/// Which header the proxy adds.
#[derive(Clone, Copy)]
enum Style {
    XForwardedFor,
    Forwarded,
}

/// Starts the proxy in front of `upstream`; its address. Each connection
/// carries one request: the proxy reads the head, appends its header line
/// (after any the client sent, as nginx's `$proxy_add_x_forwarded_for`
/// does) and then copies bytes both ways.
async fn start_proxy(upstream: SocketAddr, style: Style) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((client, peer)) = listener.accept().await {
            tokio::spawn(relay(client, peer.ip(), upstream, style));
        }
    });
    addr
}

async fn relay(mut client: TcpStream, peer: IpAddr, upstream: SocketAddr, style: Style) {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind((IpAddr::from(PROXY), 0).into()).unwrap();
    // Connected at once, like a TCP-level proxy: an idle client is an idle
    // connection to the daemon.
    let Ok(mut server) = socket.connect(upstream).await else {
        return;
    };
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 2;
        }
        match client.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.len() > 64 * 1024 {
            return;
        }
    };
    let line = match style {
        Style::XForwardedFor => format!("x-forwarded-for: {peer}\r\n"),
        Style::Forwarded => format!("forwarded: for={peer};proto=https\r\n"),
    };
    let mut sent = head[..end].to_vec();
    sent.extend_from_slice(line.as_bytes());
    sent.extend_from_slice(&head[end..]);
    if server.write_all(&sent).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
}

/// A client on `source` that opens a new connection for every request (the
/// proxy forwards one request a connection).
fn client_on(source: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(source.parse::<IpAddr>().unwrap())
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

/// A signed delivery of order `order` to `url`, with `extra` headers.
async fn deliver(
    http: &reqwest::Client,
    url: &str,
    order: &str,
    extra: &[(&str, &str)],
) -> (u16, String, Duration) {
    let body = paid_order_body(order, &[("S-A", 1)]);
    let ts = chrono::Utc::now().timestamp();
    let mut req = http
        .post(url)
        .header("content-type", "application/json")
        .body(body.clone());
    for (k, v) in signed_headers(&body, &format!("d-{order}"), WEBHOOK_SECRET, ts) {
        req = req.header(k, v);
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let started = Instant::now();
    let resp = req.send().await.unwrap();
    let took = started.elapsed();
    (resp.status().as_u16(), resp.text().await.unwrap(), took)
}

/// The newest refused delivery's stored headers and reason.
async fn newest_refusal(app: &TestApp) -> (serde_json::Value, String) {
    app.daemon()
        .store
        .read(|c| {
            c.query_row(
                "SELECT headers, reason FROM inbox WHERE state = 'rejected' ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
            )
            .map_err(ordersync::store::StoreError::from)
        })
        .await
        .map(|(h, reason)| (serde_json::from_str(&h).unwrap(), reason))
        .unwrap()
}

/// A daemon trusting the proxy, with at most 4 per source; J-goods
/// webhooks allowed only from `allow_from` when given. The proxies
/// (`X-Forwarded-For`, `Forwarded`) in front of its webhook listener.
async fn proxied_app(allow_from: Option<&str>) -> (TestApp, SocketAddr, SocketAddr) {
    let app = spawn_app_with(Options {
        daemon_extra: "trusted_proxies = [\"127.0.0.3\"]\nmax_connections_per_source = 4\nrequest_timeout = \"20s\""
            .into(),
        jgoods_extra: allow_from
            .map(|a| format!("webhook_allow_from = [\"{a}\"]"))
            .unwrap_or_default(),
        ..Options::default()
    })
    .await;
    app.set_stock("S-A", 1000).await;
    let upstream: SocketAddr = webhook_addr(&app).parse().unwrap();
    let xff = start_proxy(upstream, Style::XForwardedFor).await;
    let fwd = start_proxy(upstream, Style::Forwarded).await;
    (app, xff, fwd)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_allow_list_sees_the_forwarded_client_and_ignores_headers_from_anyone_else() {
    let (app, xff, fwd) = proxied_app(Some(GENUINE_SENDER)).await;
    let genuine = client_on(GENUINE_SENDER);
    let attacker = client_on("127.0.0.66");
    for (n, proxy) in [xff, fwd].into_iter().enumerate() {
        let url = format!("http://{proxy}/webhooks/jgoods");
        let (status, body, _) = deliver(&genuine, &url, &format!("JGPX{n}"), &[]).await;
        assert_eq!(status, 200, "genuine through the proxy: {body}");
        // The attacker names the allowed address; the proxy appends the real one.
        let forged = [
            ("x-forwarded-for", GENUINE_SENDER),
            ("forwarded", "for=127.0.0.7"),
        ];
        let (status, body, _) = deliver(&attacker, &url, &format!("JGPA{n}"), &forged[n..=n]).await;
        assert_eq!(status, 403, "forged header through the proxy: {body}");
        assert!(body.contains("forbidden_source"), "{body}");
        let (headers, reason) = newest_refusal(&app).await;
        assert_eq!(headers["peer"], "127.0.0.66", "{headers}");
        assert_eq!(headers["via"], "127.0.0.3", "{headers}");
        assert!(
            reason.contains("127.0.0.66 (via the trusted proxy 127.0.0.3)"),
            "{reason}"
        );
    }
    // Straight to the daemon, the headers are the attacker's text: ignored.
    let direct = app.webhook_url.clone();
    for forged in [
        ("x-forwarded-for", GENUINE_SENDER),
        ("forwarded", "for=127.0.0.7"),
    ] {
        let (status, body, _) = deliver(&attacker, &direct, "JGPD", &[forged]).await;
        assert_eq!(status, 403, "{forged:?} sent directly: {body}");
        let (headers, _) = newest_refusal(&app).await;
        assert_eq!(headers["peer"], "127.0.0.66", "{headers}");
        assert!(headers.get("via").is_none(), "{headers}");
    }
    // The proxy's own requests (no forwarding header) are the proxy's:
    // not an allowed sender.
    let (status, _, _) = deliver(&client_on("127.0.0.3"), &direct, "JGPP", &[]).await;
    assert_eq!(status, 403);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_forwarded_client_holding_requests_open_leaves_the_others_served() {
    let (app, proxy, _) = proxied_app(None).await;
    let proxy_addr = proxy.to_string();
    // 40 idle connections through the proxy (each one to the daemon), ten
    // times the per-source cap: before, all came from the proxy's address
    // and shut every sender out.
    let mut idle = Vec::new();
    for _ in 0..40 {
        idle.push(connect_from(ATTACKER, &proxy_addr).await);
    }
    // Requests that announce a body and never send it, each held open
    // until request_timeout: four are the attacker's share, the rest are
    // refused at once.
    let mut held = Vec::new();
    let mut refused = 0;
    for _ in 0..8 {
        let mut s = connect_from(ATTACKER, &proxy_addr).await;
        s.write_all(
            b"POST /webhooks/jgoods HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{",
        )
        .await
        .unwrap();
        let mut buf = [0u8; 512];
        match tokio::time::timeout(Duration::from_millis(500), s.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => {
                let answer = String::from_utf8_lossy(&buf[..n]).to_string();
                assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
                assert!(answer.contains("too_many_requests"), "{answer}");
                refused += 1;
            }
            _ => held.push(s),
        }
    }
    assert_eq!(held.len(), 4, "the attacker's requests in flight");
    assert_eq!(refused, 4);
    let genuine = client_on(GENUINE_SENDER);
    let url = format!("http://{proxy}/webhooks/jgoods");
    let mut took = Vec::new();
    for n in 0..20 {
        let (status, body, t) = deliver(&genuine, &url, &format!("JGPH{n}"), &[]).await;
        assert_eq!(status, 200, "{body}");
        took.push(t);
    }
    took.sort();
    println!(
        "behind the proxy, 40 idle connections and 4 held requests from one client: \
         genuine median {:?}, slowest {:?}",
        took[took.len() / 2],
        took[took.len() - 1]
    );
    assert!(
        took[took.len() / 2] < Duration::from_millis(100),
        "{took:?}"
    );
    // A request finished frees its client's slot: one more gets in.
    drop(held.pop());
    let attacker = client_on("127.0.0.66");
    let free = Instant::now();
    loop {
        let (status, _, _) = deliver(&attacker, &url, "JGPF", &[]).await;
        if status == 200 {
            break;
        }
        assert_eq!(status, 429);
        assert!(free.elapsed() < DEADLINE, "the slot was never freed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Directly, the per-connection cap still holds for one address.
    let addr = webhook_addr(&app);
    let mut direct = Vec::new();
    for _ in 0..4 {
        direct.push(connect_from(ATTACKER, &addr).await);
    }
    let mut fifth = connect_from(ATTACKER, &addr).await;
    assert!(closed_within(&mut fifth, Duration::from_secs(1)).await);
    drop((idle, held, direct));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_admin_tokens_through_the_proxy_hold_off_only_their_client() {
    let app = app_with("trusted_proxies = [\"127.0.0.3/32\"]").await;
    let upstream: SocketAddr = app.admin_url.trim_start_matches("http://").parse().unwrap();
    let proxy = start_proxy(upstream, Style::Forwarded).await;
    let url = format!("http://{proxy}/api/v1/stock");
    let guesser = client_on("127.0.0.66");
    for n in 0..10 {
        let r = guesser
            .get(&url)
            .bearer_auth(format!("guess-{n}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    let r = guesser
        .get(&url)
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429, "the guesser is held off");
    // The ERP behind the same proxy is another client.
    let r = client_on(GENUINE_SENDER)
        .get(&url)
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the ERP through the proxy");
    app.stop().await;
}
