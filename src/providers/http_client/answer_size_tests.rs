//! A provider answering far more than any documented call needs: the call
//! fails as "answered too much" and the daemon's memory does not grow by the
//! size of the answer. Loopback servers stand in for the hostile endpoints.

use std::time::Duration;

use axum::body::{Body, Bytes};
use tokio::net::TcpListener;

use super::redirect_tests::{jgoods_client, kuroneko_client};
use crate::call::CallError;

const MIB: usize = 1024 * 1024;
/// What the hostile endpoint answers: 64 MiB, streamed (no `Content-Length`).
const HOSTILE_BODY: usize = 64 * MIB;
/// How much the peak memory may grow during a call: a few limits' worth.
const GROWTH_ALLOWED: usize = 24 * MIB;

/// A loopback server answering every request with `HOSTILE_BODY` bytes,
/// sent from one static chunk so the server itself allocates nothing.
async fn flooding_server() -> String {
    static CHUNK: [u8; 64 * 1024] = [b'x'; 64 * 1024];
    let app = axum::Router::new().fallback(|| async {
        let chunks = HOSTILE_BODY / CHUNK.len();
        let stream = futures_util::stream::iter(
            (0..chunks).map(|_| Ok::<_, std::io::Error>(Bytes::from_static(&CHUNK))),
        );
        Body::from_stream(stream)
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

/// A `kB` line of `/proc/self/status`, in bytes.
fn status_bytes(field: &str) -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"));
    let kb: usize = line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kb * 1024
}

/// Runs `call` and returns its error and how far the peak resident memory
/// (`VmHWM`, reset first through `clear_refs`) rose above the resident
/// memory before it.
async fn peak_growth<T: std::fmt::Debug>(
    call: impl std::future::Future<Output = Result<T, CallError>>,
) -> (CallError, usize) {
    // "5" resets the peak to the current resident size (Linux ≥ 4.0).
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let before = status_bytes("VmRSS:");
    let error = call.await.expect_err("a 64 MiB answer must fail the call");
    let peak = status_bytes("VmHWM:");
    (error, peak.saturating_sub(before))
}

fn assert_too_much(error: &CallError, growth: usize) {
    match error {
        CallError::Transient { reason, .. } => {
            assert!(reason.contains("answered too much"), "{reason}");
            assert!(reason.contains("応答が大きすぎ"), "{reason}");
        }
        other => panic!("expected 'answered too much', got {other:?}"),
    }
    assert!(
        growth < GROWTH_ALLOWED,
        "memory grew by {} MiB for a {} MiB answer",
        growth / MIB,
        HOSTILE_BODY / MIB
    );
}

#[tokio::test]
async fn a_flooding_jgoods_token_endpoint_fails_the_call_in_bounded_memory() {
    let base = flooding_server().await;
    let client = jgoods_client(
        &base,
        &format!("{base}/oauth/token"),
        Duration::from_secs(60),
    );
    let (error, growth) = peak_growth(client.get_order("JG1")).await;
    assert_too_much(&error, growth);
}

#[tokio::test]
async fn a_flooding_kuroneko_answer_fails_the_call_in_bounded_memory() {
    let base = flooding_server().await;
    let client = kuroneko_client(base, Duration::from_secs(60));
    let (error, growth) = peak_growth(client.credit_result("K-1")).await;
    assert_too_much(&error, growth);
}

#[tokio::test]
async fn the_cap_is_the_one_daemon_sets() {
    let base = flooding_server().await;
    let daemon = crate::config::DaemonConfig {
        max_provider_answer_mib: 1,
        http_timeout: Duration::from_secs(60),
        ..Default::default()
    };
    let client = crate::providers::credit::kuroneko::client::KuronekoClient::new(
        crate::providers::credit::kuroneko::client::KuronekoClientSettings {
            api_base_url: base,
            store_code: "12345678901".into(),
            password: "pw".to_string().into(),
            http: crate::call::HttpLimits::of(&daemon),
        },
    )
    .unwrap();
    match client.credit_result("K-1").await {
        Err(CallError::Transient { reason, .. }) => {
            assert!(reason.contains("more than 1 MiB"), "{reason}");
            assert!(reason.contains("max_provider_answer_mib"), "{reason}");
        }
        other => panic!("expected 'answered too much', got {other:?}"),
    }
}
