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
