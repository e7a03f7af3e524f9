//! Misbehaviours of the network path rather than of a provider's API: a
//! connection cut before the answer, an answer that trickles in, a body cut
//! short, a proxy's page where the API's answer should be. Every simulator
//! offers them through its own `Fault::Transport`, so the daemon's clients
//! meet them exactly as they would on a bad day at a real provider.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream;

/// A transport-level fault, injected like any other simulator fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportFault {
    /// Close the connection without answering; the request is not handled.
    Reset,
    /// Handle the request, then send the real answer in small pieces, one
    /// every `every`: a caller whose timeout is shorter loses the answer
    /// although the change was applied.
    SlowBody {
        /// The pause before each piece.
        every: Duration,
    },
    /// 200 with the provider's content type but a body cut short; the
    /// request is not handled (the provider died mid-answer).
    Truncated,
    /// 200 with an HTML page (a captive proxy, a load balancer's page) where
    /// the provider's JSON or XML should be; the request is not handled.
    WrongContentType,
}

/// What a provider speaks, so a cut-short body looks like its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireFormat {
    /// `application/json`.
    Json,
    /// `text/xml`.
    Xml,
}

/// How many pieces a slow answer is cut into.
const SLOW_PIECES: usize = 8;

impl TransportFault {
    /// The answer to send instead of handling the request, or `None` when the
    /// request is handled and its answer goes through [`TransportFault::deliver`].
    pub fn instead(self, format: WireFormat) -> Option<Response> {
        match self {
            TransportFault::SlowBody { .. } => None,
            TransportFault::Reset => Some(reset()),
            TransportFault::Truncated => Some(match format {
                WireFormat::Json => (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/json")],
                    "{\"result\": {\"items\": [{\"id\": ",
                )
                    .into_response(),
                WireFormat::Xml => (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><return><retu",
                )
                    .into_response(),
            }),
            TransportFault::WrongContentType => Some(
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    "<!DOCTYPE html><html><body><h1>Gateway</h1><p>Please wait.</p></body></html>",
                )
                    .into_response(),
            ),
        }
    }

    /// Sends a handled request's answer the way this fault bends it.
    pub async fn deliver(self, answer: Response) -> Response {
        match self {
            TransportFault::SlowBody { every } => slow(answer, every).await,
            TransportFault::Reset
            | TransportFault::Truncated
            | TransportFault::WrongContentType => answer,
        }
    }
}

/// A response whose body fails before its first byte: hyper then drops the
/// connection without writing the status line, which the caller sees as a
/// connection closed mid-request.
fn reset() -> Response {
    let failing = stream::once(async {
        Err::<Bytes, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "simulated connection reset",
        ))
    });
    Response::new(Body::from_stream(failing))
}

/// The same answer, its body trickled out in pieces.
async fn slow(answer: Response, every: Duration) -> Response {
    let (mut parts, body) = answer.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return reset();
    };
    let piece = bytes.len().div_ceil(SLOW_PIECES).max(1);
    let pieces: Vec<Bytes> = (0..bytes.len())
        .step_by(piece)
        .map(|at| bytes.slice(at..(at + piece).min(bytes.len())))
        .collect();
    let trickle = stream::unfold(pieces.into_iter(), move |mut rest| async move {
        let next = rest.next()?;
        tokio::time::sleep(every).await;
        Some((Ok::<_, std::io::Error>(next), rest))
    });
    // The length stays announced, as a real server would, so the caller
    // waits for every piece rather than stopping at the first.
    parts.headers.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(bytes.len() as u64),
    );
    Response::from_parts(parts, Body::from_stream(trickle))
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::routing::get;

    use super::*;

    /// Serves `fault` over loopback: the answer is `{"ok":true}` unless the
    /// fault answers instead.
    async fn serve(fault: TransportFault) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/", listener.local_addr().expect("addr"));
        let app = Router::new().route(
            "/",
            get(move || async move {
                match fault.instead(WireFormat::Json) {
                    Some(answer) => answer,
                    None => {
                        let answer = axum::Json(serde_json::json!({"ok": true})).into_response();
                        fault.deliver(answer).await
                    }
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    #[tokio::test]
    async fn a_reset_sends_no_status_line() {
        let url = serve(TransportFault::Reset).await;
        let err = reqwest::get(&url).await.expect_err("no answer at all");
        assert!(!err.is_status() && !err.is_timeout(), "{err:?}");
    }

    #[tokio::test]
    async fn a_slow_body_arrives_whole_but_late() {
        let every = Duration::from_millis(20);
        let url = serve(TransportFault::SlowBody { every }).await;
        let started = std::time::Instant::now();
        let body = reqwest::get(&url).await.expect("answer").text().await;
        assert_eq!(body.expect("whole body"), r#"{"ok":true}"#);
        // 11 bytes in pieces of ceil(11 / SLOW_PIECES) = 2: six pieces, each
        // after a pause.
        assert!(started.elapsed() >= every * 6, "{:?}", started.elapsed());
        let client = reqwest::Client::builder()
            .timeout(every * 3)
            .build()
            .expect("client");
        let cut = match client.get(&url).send().await {
            Ok(answer) => answer.text().await.map(|_| ()),
            Err(e) => Err(e),
        };
        assert!(cut.expect_err("slower than the timeout").is_timeout());
    }

    #[tokio::test]
    async fn a_truncated_or_foreign_body_is_not_json() {
        for fault in [TransportFault::Truncated, TransportFault::WrongContentType] {
            let url = serve(fault).await;
            let answer = reqwest::get(&url).await.expect("an answer");
            assert_eq!(answer.status(), 200);
            let text = answer.text().await.expect("body");
            assert!(
                serde_json::from_str::<serde_json::Value>(&text).is_err(),
                "{text}"
            );
        }
    }
}
