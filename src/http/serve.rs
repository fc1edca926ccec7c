//! The accept loop: HTTP/1.1 and HTTP/2 over hyper, one task per connection, with timeouts
//! (slow, stalled, silent or idle clients are cut off and never hold up others) and graceful
//! shutdown; optionally HTTPS ([`Tls`]), where a plain-HTTP request gets a clear 400 instead of
//! a TLS alert its client cannot show.
//!
//! Timeouts, per connection:
//! - [`FIRST_REQUEST_TIMEOUT`]: a connection that has not started a request by then (a raw TCP
//!   connect that never sends a byte, an HTTP/2 preface and nothing more, half a request line)
//!   is dropped. hyper's own HTTP/1 header timeout only runs while it is reading a head, and the
//!   protocol sniffing of the auto builder has no timeout at all.
//! - [`HEADER_TIMEOUT`]: HTTP/1 headers must complete in time (hyper answers 408).
//! - [`IDLE_TIMEOUT`]: a connection with no request in flight (a request is in flight until its
//!   response body is finished or dropped, so long event streams count) is shut down gracefully.
//! - HTTP/2 keep-alive pings ([`H2_KEEP_ALIVE_INTERVAL`], [`H2_KEEP_ALIVE_TIMEOUT`]) close
//!   connections whose peer went away.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tower::ServiceExt;

/// How long a client may take to send a request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a new connection may take to start its first request.
pub const FIRST_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection may stay open with no request in flight.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How often an HTTP/2 connection is pinged.
pub const H2_KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(20);
/// How long an HTTP/2 ping may go unanswered before the connection is closed.
pub const H2_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(20);
/// How long open connections get to finish after shutdown starts.
pub const GRACE: Duration = Duration::from_secs(5);

/// What a connection is doing, for its timeouts.
struct State {
    /// Requests started on this connection.
    started: u64,
    /// Requests whose response body is not finished yet.
    in_flight: u64,
    /// When the connection last became idle (or was accepted).
    idle_since: Instant,
}

/// Shared between a connection's task and its requests.
struct Activity {
    state: Mutex<State>,
    changed: Notify,
}

/// Why the connection's watchdog fired.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expired {
    /// No request ever started: drop the connection.
    NoRequest,
    /// Idle after serving requests: shut it down gracefully.
    Idle,
}

impl Activity {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                started: 0,
                in_flight: 0,
                idle_since: Instant::now(),
            }),
            changed: Notify::new(),
        })
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut st)
    }

    /// Marks a request as started; it is in flight until the returned guard drops.
    fn start(self: &Arc<Self>) -> InFlight {
        self.with(|st| {
            st.started += 1;
            st.in_flight += 1;
        });
        self.changed.notify_waiters();
        InFlight(self.clone())
    }

    /// Completes when the connection has been idle too long (or never started a request).
    async fn expired(&self) -> Expired {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let (started, in_flight, idle_since) = self.with(|st| (st.started, st.in_flight, st.idle_since));
            if in_flight > 0 {
                changed.await;
                continue;
            }
            let (deadline, why) = if started == 0 {
                (idle_since + FIRST_REQUEST_TIMEOUT, Expired::NoRequest)
            } else {
                (idle_since + IDLE_TIMEOUT, Expired::Idle)
            };
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => return why,
                () = &mut changed => {}
            }
        }
    }
}

/// A request in flight; dropping it (with the response body) marks it done.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.with(|st| {
            st.in_flight = st.in_flight.saturating_sub(1);
            if st.in_flight == 0 {
                st.idle_since = Instant::now();
            }
        });
        self.0.changed.notify_waiters();
    }
}

/// A response body that keeps its request in flight until it is finished or dropped.
struct Tracked {
    inner: Body,
    guard: Option<InFlight>,
}

impl hyper::body::Body for Tracked {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            self.guard = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// HTTPS on the listener (`latchkey serve --tls`).
pub struct Tls {
    /// The rustls acceptor (the local CA's server certificate).
    pub acceptor: tokio_rustls::TlsAcceptor,
    /// The issuer URL, named in the answer to a plain-HTTP request.
    pub https_url: String,
}

/// The first byte of a TLS connection: a handshake record (RFC 8446 §5.1, `ContentType` 22).
const TLS_HANDSHAKE: u8 = 0x16;

/// Answers a plain-HTTP request sent to the HTTPS port: reads what the client sent (up to the end
/// of its head, 8 KiB or 2 s) so closing does not reset the connection before the client reads
/// the answer, then writes a 400 `text/plain` saying to use `https://` and closes.
async fn plaintext_answer(mut stream: tokio::net::TcpStream, https_url: &str) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut head = Vec::with_capacity(1024);
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let mut buf = [0u8; 1024];
        while head.len() < 8192 && !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(buf.get(..n).unwrap_or_default()),
            }
        }
    })
    .await;
    let body = format!(
        "This port serves HTTPS only: Latchkey runs with --tls. Use {https_url} (https://, not http://).\n\
         To trust Latchkey's local certificate authority, run `latchkey ca`.\n"
    );
    let answer = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\ncache-control: no-store\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let _ = stream.write_all(answer.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// Serves `app` on `listener` (over TLS when `tls` is given) until `shutdown` completes, then
/// drains connections.
pub async fn serve(listener: TcpListener, app: Router, tls: Option<Arc<Tls>>, shutdown: impl Future<Output = ()>) {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(H2_KEEP_ALIVE_INTERVAL)
        .keep_alive_timeout(H2_KEEP_ALIVE_TIMEOUT);
    let builder = Arc::new(builder);
    // Every connection task holds a receiver: shutdown is signalled through it, and the
    // sender's `closed()` completes once they are all gone.
    let (stop, stopped) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(c) => c,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let (builder, app, stopped) = (builder.clone(), app.clone(), stopped.clone());
                match tls.clone() {
                    None => {
                        tokio::spawn(connection(builder, stream, peer, app, stopped));
                    }
                    Some(tls) => {
                        tokio::spawn(async move {
                            // The client speaks first; silence is bounded like a missing request.
                            let mut first = [0u8; 1];
                            match tokio::time::timeout(FIRST_REQUEST_TIMEOUT, stream.peek(&mut first)).await {
                                Ok(Ok(1..)) => {}
                                _ => return,
                            }
                            if first[0] != TLS_HANDSHAKE {
                                plaintext_answer(stream, &tls.https_url).await;
                                return;
                            }
                            let handshake = tokio::time::timeout(FIRST_REQUEST_TIMEOUT, tls.acceptor.accept(stream));
                            match handshake.await {
                                Ok(Ok(s)) => connection(builder, s, peer, app, stopped).await,
                                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                            }
                        });
                    }
                }
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    drop(stopped);
    let _ = stop.send(true);
    if tokio::time::timeout(GRACE, stop.closed()).await.is_err() {
        tracing::warn!("closed connections still open {} s after shutdown", GRACE.as_secs());
    }
}

/// Serves one connection until it closes, times out, or shutdown is signalled.
async fn connection<S>(
    builder: Arc<Builder<TokioExecutor>>,
    stream: S,
    peer: std::net::SocketAddr,
    app: Router,
    mut stopped: watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let activity = Activity::new();
    let tracker = activity.clone();
    // Set by a response marked `DropConnection` (a fault rule's `drop` or `timeout`): the
    // connection is closed without an answer.
    let close = Arc::new(Notify::new());
    let closer = close.clone();
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        let guard = tracker.start();
        // The client's address (the explaining proxy's X-Forwarded-For).
        req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        let call = app.clone().oneshot(req);
        let closer = closer.clone();
        async move {
            let res = call.await?;
            if res.extensions().get::<super::faults::DropConnection>().is_some() {
                closer.notify_one();
                drop(guard);
                match std::future::pending::<std::convert::Infallible>().await {}
            }
            Ok::<_, std::convert::Infallible>(res.map(|inner| {
                Body::new(Tracked {
                    inner,
                    guard: Some(guard),
                })
            }))
        }
    });
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), svc);
    tokio::pin!(conn);
    // Set once a graceful shutdown of this connection has started: it then has `GRACE` to end.
    let mut closing: Option<Instant> = None;
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            () = close.notified() => return,
            // An error means the sender is gone, which is a shutdown too.
            _ = stopped.wait_for(|s| *s), if closing.is_none() => {
                conn.as_mut().graceful_shutdown();
                closing = Some(Instant::now() + GRACE);
            }
            why = activity.expired(), if closing.is_none() => match why {
                Expired::NoRequest => return,
                Expired::Idle => {
                    conn.as_mut().graceful_shutdown();
                    closing = Some(Instant::now() + GRACE);
                }
            },
            () = tokio::time::sleep_until(closing.unwrap_or_else(Instant::now)), if closing.is_some() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_connection_without_a_request_expires_after_the_first_request_timeout() {
        let a = Activity::new();
        let started = Instant::now();
        assert!(matches!(a.expired().await, Expired::NoRequest));
        assert_eq!(started.elapsed(), FIRST_REQUEST_TIMEOUT);
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_in_flight_is_never_idle_and_idleness_starts_when_it_ends() {
        let a = Activity::new();
        let guard = a.start();
        // A long response (an event stream) keeps the connection busy.
        let waited = tokio::time::timeout(IDLE_TIMEOUT * 3, a.expired()).await;
        assert!(waited.is_err(), "expired while a request was in flight");
        drop(guard);
        let idle_from = Instant::now();
        assert!(matches!(a.expired().await, Expired::Idle));
        assert_eq!(idle_from.elapsed(), IDLE_TIMEOUT);
        // A request that starts while the watchdog waits postpones it.
        let a = Activity::new();
        let watcher = {
            let a = a.clone();
            tokio::spawn(async move { a.expired().await })
        };
        tokio::time::sleep(FIRST_REQUEST_TIMEOUT / 2).await;
        drop(a.start());
        let idle_from = Instant::now();
        assert!(matches!(watcher.await.unwrap(), Expired::Idle));
        assert_eq!(idle_from.elapsed(), IDLE_TIMEOUT);
    }
}
