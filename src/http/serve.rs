//! The accept loop of both listeners, with the limits an attacker must not
//! get past: a header-read timeout (which also closes a keep-alive
//! connection left idle that long), a cap on open connections per listener
//! and per source address (the excess is closed as soon as it is accepted,
//! before any byte is read), a bounded header buffer, and accept errors
//! (out of file descriptors) survived instead of ending the listener.
//!
//! A client that sends requests but never reads the answers blocks the
//! connection in a write, where no read timeout applies: a write that makes
//! no progress for `write_timeout` ends the connection, and a connection is
//! closed after `max_requests_per_connection` answers, so pipelining cannot
//! keep one open for ever.
//!
//! Behind a trusted reverse proxy (`[daemon] trusted_proxies`) every
//! connection comes from the proxy, so a per-connection cap per address
//! would put every sender in one bucket: there the proxy's connections have
//! their own, larger cap (`proxy_max_connections`), and the per-source cap
//! counts the *requests in flight* of each forwarded client instead (one
//! HTTP/1 connection carries one request at a time, so the number means the
//! same as for a direct client); the excess is answered 429 at once. The
//! handlers see the forwarded client as the request's `ConnectInfo`.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::time::Sleep;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::forwarded::TrustedProxies;

/// Bytes of a request's head (request line and headers) read at most; a
/// larger head is answered 431.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Headers in one request at most.
pub const MAX_HEADERS: usize = 64;

/// The limits of one listener.
#[derive(Clone, Debug)]
pub struct Limits {
    pub header_read_timeout: Duration,
    /// Longest a write may make no progress (the client stopped reading).
    pub write_timeout: Duration,
    /// Answers on one connection before it is closed.
    pub max_requests_per_connection: usize,
    pub max_connections: usize,
    /// Connections from one address; behind a trusted proxy, requests in
    /// flight from one forwarded client.
    pub max_per_source: usize,
    /// Connections from one trusted proxy.
    pub max_per_proxy: usize,
    /// The reverse proxies whose forwarding headers name the client.
    pub trusted_proxies: TrustedProxies,
}

/// A connection whose writes fail with `TimedOut` once one has waited
/// `timeout` for the client to make room (it read nothing meanwhile).
struct WriteDeadline<S> {
    inner: S,
    timeout: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<S> WriteDeadline<S> {
    fn new(inner: S, timeout: Duration) -> Self {
        WriteDeadline {
            inner,
            timeout,
            stalled: None,
        }
    }

    /// Progress clears the clock; `Pending` starts it (or checks it).
    fn watch<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if polled.is_ready() {
            self.stalled = None;
            return polled;
        }
        let timeout = self.timeout;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client read no answer within write_timeout",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WriteDeadline<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WriteDeadline<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.watch(cx, polled)
    }
}

/// Open connections, in all and per source address.
#[derive(Default)]
struct Open {
    total: usize,
    by_source: HashMap<IpAddr, usize>,
}

/// A slot held by one connection; freed when the connection ends.
struct Slot {
    open: Arc<Mutex<Open>>,
    source: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.open.lock() {
            open.total = open.total.saturating_sub(1);
            if let Some(n) = open.by_source.get_mut(&self.source) {
                *n -= 1;
                if *n == 0 {
                    open.by_source.remove(&self.source);
                }
            }
        }
    }
}

/// Takes a slot for `source`, or `None` when `total` slots are taken in
/// all or `per_source` by `source`.
fn take_slot(
    open: &Arc<Mutex<Open>>,
    source: IpAddr,
    total: usize,
    per_source: usize,
) -> Option<Slot> {
    let mut state = open.lock().ok()?;
    let mine = state.by_source.get(&source).copied().unwrap_or(0);
    if state.total >= total || mine >= per_source {
        return None;
    }
    state.total += 1;
    *state.by_source.entry(source).or_default() += 1;
    Some(Slot {
        open: open.clone(),
        source,
    })
}

/// Counts refusals, warning at each power of two so a flood logs little.
fn note_refused(counter: &AtomicUsize, listener: &str, source: IpAddr, what: &str) {
    let refused = counter.fetch_add(1, Ordering::Relaxed) + 1;
    if refused.is_power_of_two() {
        tracing::warn!(listener, source = %source, refused, "{what}");
    }
}

/// The answer to a forwarded client past its requests in flight.
fn too_many_in_flight() -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut answer = super::ApiError::new(
        hyper::StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        "too many requests in flight from this client; retry later",
    )
    .into_response();
    answer.headers_mut().insert(
        hyper::header::RETRY_AFTER,
        hyper::header::HeaderValue::from_static("1"),
    );
    answer
}

/// Serves `app` on `listener` until `shutdown`, then lets the requests in
/// flight finish (the caller bounds how long it waits).
pub async fn serve(
    name: &'static str,
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let open = Arc::new(Mutex::new(Open::default()));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS);
    // Requests in flight per forwarded client (behind a trusted proxy).
    let in_flight = Arc::new(Mutex::new(Open::default()));
    let refused = Arc::new(AtomicUsize::new(0));
    loop {
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // EMFILE and the like: the listener stays; the caps keep
                    // this from happening under the unit's LimitNOFILE.
                    tracing::warn!(listener = name, error = %e, "accept failed; retrying");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let proxied = limits.trusted_proxies.trusts(peer.ip());
        let per_source = if proxied {
            limits.max_per_proxy
        } else {
            limits.max_per_source
        };
        let Some(slot) = take_slot(&open, peer.ip(), limits.max_connections, per_source) else {
            note_refused(
                &refused,
                name,
                peer.ip(),
                "connection limit reached; closing new connections at once",
            );
            drop(stream);
            continue;
        };
        let app = app.clone();
        let answered = Arc::new(AtomicUsize::new(0));
        let (limits, in_flight, refused) = (limits.clone(), in_flight.clone(), refused.clone());
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            let source = limits.trusted_proxies.source(peer, req.headers());
            // A forwarded client's port is the proxy's business: 0.
            let port = if proxied { 0 } else { peer.port() };
            req.extensions_mut()
                .insert(ConnectInfo(SocketAddr::new(source.client, port)));
            req.extensions_mut().insert(source);
            // The last answer a connection gets says so; hyper then closes it.
            let last =
                answered.fetch_add(1, Ordering::Relaxed) + 1 >= limits.max_requests_per_connection;
            let held = proxied
                .then(|| take_slot(&in_flight, source.client, usize::MAX, limits.max_per_source));
            if held.as_ref().is_some_and(Option::is_none) {
                note_refused(
                    &refused,
                    name,
                    source.client,
                    "requests in flight from one forwarded client past max_connections_per_source; answered 429",
                );
            }
            let answer = match held {
                Some(None) => None,
                _ => Some(app.clone().oneshot(req)),
            };
            async move {
                let Some(answer) = answer else {
                    return Ok(too_many_in_flight());
                };
                let mut answer = answer.await?;
                // The request is answered: its client's slot is free.
                drop(held);
                if last {
                    answer.headers_mut().insert(
                        hyper::header::CONNECTION,
                        hyper::header::HeaderValue::from_static("close"),
                    );
                }
                Ok::<_, std::convert::Infallible>(answer)
            }
        });
        let stream = WriteDeadline::new(stream, limits.write_timeout);
        let conn = builder.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _slot = slot;
            // A closed or timed-out connection is the client's business.
            let _ = conn.await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_in_all_and_per_source_and_freed_on_drop() {
        let open = Arc::new(Mutex::new(Open::default()));
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        let a1 = take_slot(&open, a, 3, 2).unwrap();
        let _a2 = take_slot(&open, a, 3, 2).unwrap();
        assert!(take_slot(&open, a, 3, 2).is_none(), "per source");
        let _b1 = take_slot(&open, b, 3, 2).unwrap();
        assert!(take_slot(&open, b, 3, 2).is_none(), "in all");
        drop(a1);
        assert!(take_slot(&open, b, 3, 2).is_some());
    }
}
