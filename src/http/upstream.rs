//! The explaining proxy's side towards the upstream: the one pooled HTTP client (hyper-util's
//! legacy client; https through rustls on aws-lc-rs), the request body as forwarded (progress
//! and size kept), and sending with the first-byte watchdog. [`super::proxy`] decides what to
//! send and what to answer.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use hyper::body::{Frame, SizeHint};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::time::Instant;

/// Largest request body the proxy forwards, in bytes (1 GiB; streamed, never held in memory).
pub const MAX_PROXY_BODY: u64 = 1 << 30;
/// How long connecting to an upstream (TCP, and TLS for https) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

type UpstreamClient = Client<HttpsConnector<HttpConnector>, Body>;

/// The one HTTP client of the proxy (a pool shared by every resource), or why TLS could not
/// be set up.
pub(super) fn client() -> Result<&'static UpstreamClient, &'static str> {
    static CLIENT: OnceLock<Result<UpstreamClient, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let mut http = HttpConnector::new();
            http.enforce_http(false);
            http.set_connect_timeout(Some(CONNECT_TIMEOUT));
            http.set_nodelay(true);
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let tls = match hyper_rustls::HttpsConnectorBuilder::new().with_provider_and_native_roots(provider.clone())
            {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "no platform root certificates; https upstreams use the Mozilla roots");
                    hyper_rustls::HttpsConnectorBuilder::new()
                        .with_provider_and_webpki_roots(provider)
                        .map_err(|e| format!("TLS set-up failed: {e}"))?
                }
            };
            let connector = tls.https_or_http().enable_http1().wrap_connector(http);
            Ok(Client::builder(TokioExecutor::new())
                .pool_timer(TokioTimer::new())
                .pool_idle_timeout(Duration::from_secs(30))
                .build(connector))
        })
        .as_ref()
        .map_err(String::as_str)
}

/// What forwarding a request body has done so far (shared with the first-byte watchdog).
pub(super) struct Progress {
    /// When a body frame last arrived from the client (or the request was sent).
    pub(super) last: Mutex<Instant>,
    /// The upstream is reading the body and Latchkey is waiting for the client: the upstream's
    /// silence is not its fault.
    pub(super) waiting_on_client: AtomicBool,
    /// Bytes forwarded.
    pub(super) sent: AtomicU64,
    /// The body went over [`MAX_PROXY_BODY`].
    pub(super) too_large: AtomicBool,
}

impl Progress {
    fn touch(&self) {
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    fn last(&self) -> Instant {
        *self.last.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The request body as forwarded: the client's, frame by frame, with [`Progress`] kept.
pub(super) struct Upload {
    pub(super) inner: Body,
    pub(super) progress: Arc<Progress>,
}

impl hyper::body::Body for Upload {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        let progress = self.progress.clone();
        match polled {
            Poll::Pending => {
                progress.waiting_on_client.store(true, Ordering::Relaxed);
                Poll::Pending
            }
            Poll::Ready(frame) => {
                progress.waiting_on_client.store(false, Ordering::Relaxed);
                progress.touch();
                if let Some(Ok(f)) = &frame
                    && let Some(d) = f.data_ref()
                {
                    let sent = progress.sent.fetch_add(d.len() as u64, Ordering::Relaxed) + d.len() as u64;
                    if sent > MAX_PROXY_BODY {
                        progress.too_large.store(true, Ordering::Relaxed);
                        return Poll::Ready(Some(Err(axum::Error::new("request body over the proxy's limit"))));
                    }
                }
                Poll::Ready(frame)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Why no upstream response came.
pub(super) enum Failure {
    /// Connecting failed (refused, DNS, connect timeout, TLS): 502.
    Unreachable(String),
    /// Connected, but the exchange failed (closed early, invalid response): 502.
    Broken(String),
    /// The upstream stayed silent past `upstream_timeout`: 504.
    Silent(Duration),
    /// The client's body stopped or broke: 400.
    ClientBody(String),
    /// The client's body went over [`MAX_PROXY_BODY`]: 413.
    TooLarge,
}

/// The messages of an error and its sources, most specific last, without repeats.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let s = err.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = err.source();
    }
    parts.join(": ")
}

/// A sentence for a connect failure, from the io error underneath when there is one.
fn connect_cause(e: &(dyn std::error::Error + 'static), authority: &str) -> String {
    let text = chain(e);
    if text.contains("dns error") {
        return format!("cannot resolve the host of {authority}: {text}");
    }
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            return match io.kind() {
                K::ConnectionRefused => {
                    format!("connection refused: nothing is listening at {authority}; is your API running?")
                }
                K::TimedOut => format!(
                    "connecting to {authority} took longer than {} s",
                    CONNECT_TIMEOUT.as_secs()
                ),
                _ => format!("cannot connect to {authority}: {text}"),
            };
        }
        cur = err.source();
    }
    format!("cannot connect to {authority}: {text}")
}

/// Sends `req` and waits for the response headers, with the first-byte watchdog.
pub(super) async fn send(
    req: hyper::Request<Body>,
    progress: Arc<Progress>,
    timeout: Duration,
    authority: &str,
) -> Result<hyper::Response<hyper::body::Incoming>, Failure> {
    let fut = client().map_err(|e| Failure::Unreachable(e.to_string()))?.request(req);
    tokio::pin!(fut);
    let mut deadline = Instant::now() + timeout;
    let result = loop {
        match tokio::time::timeout_at(deadline, &mut fut).await {
            Ok(r) => break r,
            Err(_) => {
                if progress.waiting_on_client.load(Ordering::Relaxed) {
                    // The client is slow, not the upstream (the body timeout covers the client).
                    deadline = Instant::now() + timeout;
                    continue;
                }
                let due = progress.last() + timeout;
                if due <= Instant::now() {
                    return Err(Failure::Silent(timeout));
                }
                deadline = due;
            }
        }
    };
    result.map_err(|e| {
        if progress.too_large.load(Ordering::Relaxed) {
            return Failure::TooLarge;
        }
        if e.is_connect() {
            return Failure::Unreachable(connect_cause(&e, authority));
        }
        let user_body = {
            let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(&e);
            let mut found = false;
            while let Some(err) = cur {
                if err.downcast_ref::<hyper::Error>().is_some_and(hyper::Error::is_user) {
                    found = true;
                    break;
                }
                cur = err.source();
            }
            found
        };
        if user_body {
            Failure::ClientBody(chain(&e))
        } else {
            Failure::Broken(chain(&e))
        }
    })
}

/// A small `GET` with the proxy's client (no redirects followed): the status and at most
/// `limit` bytes of body, all within `timeout`, or why not (for people). Used by the admin
/// UI's loopback JWKS tool; URLs that clients name go through [`crate::fetch`] instead.
pub(super) async fn get_small(url: &url::Url, limit: usize, timeout: Duration) -> Result<(u16, Bytes), String> {
    let client = client().map_err(str::to_string)?;
    let req = hyper::Request::get(url.as_str())
        .header(hyper::header::ACCEPT, "application/jwk-set+json, application/json")
        .body(Body::empty())
        .map_err(|e| format!("the request could not be built: {e}"))?;
    let fetch = async {
        let resp = client.request(req).await.map_err(|e| {
            let mut cause: &dyn std::error::Error = &e;
            while let Some(next) = cause.source() {
                cause = next;
            }
            format!("could not be reached: {cause}")
        })?;
        let status = resp.status().as_u16();
        let body = axum::body::to_bytes(Body::new(resp.into_body()), limit)
            .await
            .map_err(|_| format!("answered more than {} KiB", limit / 1024))?;
        Ok((status, body))
    };
    tokio::time::timeout(timeout, fetch)
        .await
        .map_err(|_| format!("did not answer within {} s", timeout.as_secs()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_failures_name_their_cause() {
        use std::io::{Error, ErrorKind};
        let refused = Error::new(ErrorKind::ConnectionRefused, "Connection refused (os error 111)");
        assert_eq!(
            connect_cause(&refused, "127.0.0.1:3000"),
            "connection refused: nothing is listening at 127.0.0.1:3000; is your API running?"
        );
        let slow = Error::new(ErrorKind::TimedOut, "timed out");
        assert_eq!(
            connect_cause(&slow, "10.0.0.1:80"),
            "connecting to 10.0.0.1:80 took longer than 10 s"
        );
        let dns = Error::other("dns error: failed to lookup address information");
        assert!(connect_cause(&dns, "api.invalid").starts_with("cannot resolve the host of api.invalid: dns error"));
    }
}
