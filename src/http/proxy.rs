//! The explaining proxy (issue 10 item 6): a resource with an `upstream` forwards calls to
//! `{issuer}/resources/{name}/...` to the developer's own API, streaming, and explains its
//! refusals with Latchkey's verdict. HTTP-layer code over [`crate::resources`]; the path
//! mapping, the verdict header and the explanation live in [`crate::resources::proxy`].
//!
//! - `mode = "enforce"` (default): the token is checked first; a refusal is answered by
//!   Latchkey itself (the simulator's RFC 6750 response, never forwarded); an accepted call is
//!   forwarded with a `Latchkey-Verdict: allowed; sub=...` request header.
//! - `mode = "observe"`: every call is forwarded; the verdict is still computed for the token
//!   presented (or its absence), sent in `Latchkey-Verdict`, and recorded with the upstream's
//!   status and `WWW-Authenticate`, so a 401/403 from the real API comes with the reason.
//!
//! Forwarding: method, path (see the mapping in [`crate::resources::proxy`]), query, headers
//! and body go through unchanged except for the hop-by-hop headers (RFC 9110 §7.6.1:
//! `Connection` and the headers it names, `Keep-Alive`, `Proxy-Connection`, `TE`, `Trailer`,
//! `Transfer-Encoding`, `Upgrade`, `Proxy-Authenticate`, `Proxy-Authorization`), `Expect`
//! (Latchkey's server already answered `100-continue`) and a client-sent `Latchkey-Verdict`
//! (which could be forged). `Host` becomes the upstream's; `X-Forwarded-For` (the client's
//! address appended), `X-Forwarded-Proto` (the issuer's scheme), `X-Forwarded-Host` (the
//! `Host` the client used) and `Via: 1.1 latchkey` (RFC 9110 §7.6.3) are added. The response's
//! status and headers come back unchanged apart from hop-by-hop headers, plus a
//! `Latchkey-Verdict` link to the recorded call.
//!
//! Streaming: bodies are never buffered whole in either direction (an upload goes to the
//! upstream as it arrives, an SSE response reaches the client event by event). The only
//! exception: an `application/x-www-form-urlencoded` body of at most [`super::MAX_BODY`] is
//! read first, because RFC 6750 §2.2 lets it carry the `access_token`.
//!
//! Limits: request bodies up to [`MAX_PROXY_BODY`] (streamed); a client may pause at most
//! [`super::BODY_TIMEOUT`] between chunks of its body; connecting to the upstream may take
//! [`super::upstream::CONNECT_TIMEOUT`]; the upstream then has `upstream_timeout` ([`DEFAULT_UPSTREAM_TIMEOUT`])
//! of silence before its response headers, counted only while Latchkey is not waiting for the
//! client's body (504 after that). A response body has no time limit (event streams stay
//! open; the connection watchdog counts them as in flight). An unreachable upstream is a 502
//! naming it and the cause.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, Version, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::time::Instant;

use super::cors::registered_origin;
use super::error::no_store;
use super::oauth::AppState;
use super::resources::{bearer_input, fill_challenge, is_form, respond};
use super::upstream::{Failure, MAX_PROXY_BODY, Progress, Upload, send};
use crate::model::ProxyMode;
use crate::provider::Provider;
use crate::resources::proxy::{ProxyRecord, VERDICT_HEADER, explain, has_dot_segment, target_url, verdict_header};
use crate::resources::{self, Compiled, Verdict};

/// How long an upstream may stay silent before its response headers, unless the resource sets
/// `upstream_timeout`.
pub const DEFAULT_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest upstream `WWW-Authenticate` kept in the record, in bytes.
const MAX_CHALLENGE: usize = 1024;

/// Marks a response passed through from an upstream: the outer middleware must not reshape it
/// (an upstream's plain-text 400 stays what it was).
#[derive(Debug, Clone, Copy)]
pub struct Passthrough;

/// The resource with an `upstream` that a request path (as the client sent it, with the
/// issuer's path) is addressed to, if any: its body must stream, not be captured.
pub fn proxied(p: &Provider, full_path: &str) -> Option<Arc<Compiled>> {
    let (name, _) = resources::split_resource_path(full_path.strip_prefix(p.issuer.path.as_str())?)?;
    p.resource_server.get(&name).filter(|c| c.resource.upstream.is_some())
}

/// Middleware on the resource routes: a call to a resource with an `upstream` is proxied
/// (outside the protocol routes' 30 s timeout and body limit); any other goes on to the
/// simulator.
pub async fn intercept(State(p): State<AppState>, req: Request, next: Next) -> Response {
    let target = resources::split_resource_path(req.uri().path())
        .and_then(|(name, rest)| p.resource_server.get(&name).map(|c| (c, rest.to_string())))
        .filter(|(c, _)| c.resource.upstream.is_some());
    match target {
        Some((c, rest)) => forward(p, c, rest, req).await,
        None => next.run(req).await,
    }
}

/// Latchkey's own JSON error for a proxied call (`{"error", "error_description", "upstream"}`),
/// not cached.
fn proxy_error(status: StatusCode, error: &str, description: String, upstream: &str) -> Response {
    no_store(
        (
            status,
            Json(json!({
                "error": error,
                "error_description": description,
                "upstream": upstream,
            })),
        )
            .into_response(),
    )
}

/// CORS on Latchkey's own answers to a proxied call (refusals, 502, 504), as the simulator
/// gives them; responses from the upstream keep the upstream's own CORS headers.
fn add_cors(p: &Provider, origin: Option<&str>, resp: &mut Response) {
    let Some(origin) = origin.filter(|o| registered_origin(p, o)) else {
        return;
    };
    if let Ok(v) = HeaderValue::from_str(origin) {
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        h.append(header::VARY, HeaderValue::from_static("Origin"));
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("WWW-Authenticate, Latchkey-Verdict"),
        );
    }
}

/// Removes the hop-by-hop headers (RFC 9110 §7.6.1): those named in `Connection`, then the
/// fixed list.
pub fn strip_hop_by_hop(h: &mut HeaderMap) {
    let named: Vec<HeaderName> = h
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for n in named {
        h.remove(n);
    }
    for n in [
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "proxy-authenticate",
        "proxy-authorization",
    ] {
        h.remove(n);
    }
}

fn content_length(h: &HeaderMap) -> Option<u64> {
    h.get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// Appends `value` to a comma-separated list header.
fn append_list(h: &mut HeaderMap, name: &'static str, value: &str) {
    let joined = match h.get(name).and_then(|v| v.to_str().ok()) {
        Some(prev) if !prev.trim().is_empty() => format!("{prev}, {value}"),
        _ => value.to_string(),
    };
    if let Ok(v) = HeaderValue::from_str(&joined) {
        h.insert(name, v);
    }
}

/// Whether a `Via` header names Latchkey (RFC 9110 §7.6.3): the request is on its second pass,
/// an upstream pointing back at Latchkey (answered 508 Loop Detected, RFC 5842 §7.2, at once
/// instead of looping until a timeout).
fn came_through_latchkey(h: &HeaderMap) -> bool {
    h.get_all("via").iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',').any(|hop| {
                hop.split_whitespace()
                    .nth(1)
                    .is_some_and(|by| by.eq_ignore_ascii_case("latchkey"))
            })
        })
    })
}

/// Forwards one call to resource `c`'s upstream (`rest`: the path after the resource name).
async fn forward(p: AppState, c: Arc<Compiled>, rest: String, req: Request) -> Response {
    let mode = c.resource.mode.unwrap_or_default();
    let (mut parts, body) = req.into_parts();
    let origin = parts
        .headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let upstream = match c.resource.upstream.as_deref().map(crate::validate::upstream_url) {
        Some(Ok(u)) => u,
        Some(Err(why)) => {
            return proxy_error(StatusCode::BAD_GATEWAY, "upstream_invalid", why, "");
        }
        None => return proxy_error(StatusCode::BAD_GATEWAY, "upstream_invalid", "no upstream".into(), ""),
    };
    let url = target_url(&upstream, &rest, parts.uri.query());
    let shown_url = target_url(&upstream, &rest, None);
    let authority = match upstream.port() {
        Some(port) => format!("{}:{port}", upstream.host_str().unwrap_or("")),
        None => upstream.host_str().unwrap_or("").to_string(),
    };
    let own = |status: StatusCode, error: &str, description: String| {
        let mut r = proxy_error(status, error, description, &shown_url);
        add_cors(&p, origin.as_deref(), &mut r);
        r
    };
    if has_dot_segment(&rest) {
        return own(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the path has a `.` or `..` segment, which could leave the upstream's path; send the normalised path"
                .into(),
        );
    }
    if came_through_latchkey(&parts.headers) {
        return own(
            StatusCode::LOOP_DETECTED,
            "upstream_loop",
            format!(
                "this request already came through Latchkey's proxy (Via: 1.1 latchkey), so resource `{}`'s upstream \
                 leads back to Latchkey; point it at your API instead",
                c.resource.name
            ),
        );
    }
    if content_length(&parts.headers).is_some_and(|n| n > MAX_PROXY_BODY) {
        return own(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            format!(
                "the request body is larger than the proxy's {} MiB",
                MAX_PROXY_BODY >> 20
            ),
        );
    }
    // RFC 6750 §2.2: a small form body may carry the token, so it is read first.
    let small_form = is_form(&parts.headers)
        && content_length(&parts.headers).is_some_and(|n| n <= resources::FORM_BODY_READ as u64);
    let (body, form) = if small_form {
        match axum::body::to_bytes(body, resources::FORM_BODY_READ).await {
            Ok(b) => (Body::from(b.clone()), b),
            Err(_) => {
                return own(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "the form body did not arrive as announced".into(),
                );
            }
        }
    } else {
        (body, Bytes::new())
    };
    // A CORS preflight carries no token by design: forwarded unchecked, not a call.
    let preflight =
        parts.method == Method::OPTIONS && parts.headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let verdict: Option<Arc<Verdict>> = if preflight {
        None
    } else {
        let mut input = bearer_input(&parts.headers, parts.uri.query(), &form);
        input.body_unread = is_form(&parts.headers) && !small_form;
        input.request_path = super::resources::issuer_relative(&p, parts.uri.path());
        let relative = if rest.is_empty() { "/" } else { rest.as_str() };
        let mut v = resources::evaluate(&p, &c, &input, parts.method.as_str(), relative).await;
        fill_challenge(&c, &mut v);
        Some(Arc::new(v))
    };
    let record = |status: u16, rec: ProxyRecord| {
        let rec = Arc::new(rec);
        let call = verdict
            .clone()
            .map(|v| p.resource_server.record_with(&p, v, Some((status, rec.clone()))));
        (rec, call)
    };
    let base_record = ProxyRecord {
        mode,
        upstream_url: shown_url.clone(),
        forwarded: true,
        upstream_status: None,
        upstream_challenge: None,
        error: None,
        explanation: None,
    };

    // Enforce: a refusal is Latchkey's own RFC 6750 answer; nothing reaches the upstream.
    if mode == ProxyMode::Enforce
        && let Some(v) = verdict.as_ref().filter(|v| !v.allowed)
    {
        let (rec, call) = record(
            v.status,
            ProxyRecord {
                forwarded: false,
                ..base_record
            },
        );
        let mut resp = respond(&p, &c, v.clone(), call.map_or(0, |c| c.id));
        resp.extensions_mut().insert(rec);
        add_cors(&p, origin.as_deref(), &mut resp);
        return resp;
    }

    // The upstream request.
    let mut headers = std::mem::take(&mut parts.headers);
    let forwarded_host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()));
    strip_hop_by_hop(&mut headers);
    headers.remove(header::HOST);
    headers.remove(header::EXPECT);
    headers.remove(VERDICT_HEADER);
    if let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() {
        append_list(&mut headers, "x-forwarded-for", &peer.ip().to_string());
    }
    let proto = if p.issuer.origin.starts_with("https:") {
        "https"
    } else {
        "http"
    };
    headers.insert("x-forwarded-proto", HeaderValue::from_static(proto));
    if let Some(h) = forwarded_host.and_then(|h| HeaderValue::from_str(&h).ok()) {
        headers.insert("x-forwarded-host", h);
    }
    append_list(&mut headers, "via", "1.1 latchkey");
    if let Ok(h) = HeaderValue::from_str(&authority) {
        headers.insert(header::HOST, h);
    }
    if let Some(v) = &verdict
        && let Ok(h) = HeaderValue::from_str(&verdict_header(v))
    {
        headers.insert(VERDICT_HEADER, h);
    }
    let Ok(uri) = url.parse::<Uri>() else {
        return own(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the path or query cannot be forwarded as a URL".into(),
        );
    };
    let progress = Arc::new(Progress {
        last: Mutex::new(Instant::now()),
        waiting_on_client: AtomicBool::new(false),
        sent: AtomicU64::new(0),
        too_large: AtomicBool::new(false),
    });
    let mut out = hyper::Request::new(Body::new(Upload {
        inner: body,
        progress: progress.clone(),
    }));
    *out.method_mut() = parts.method.clone();
    *out.uri_mut() = uri;
    *out.version_mut() = Version::HTTP_11;
    *out.headers_mut() = headers;
    let timeout = c
        .resource
        .upstream_timeout
        .map_or(DEFAULT_UPSTREAM_TIMEOUT, |s| Duration::from_secs(s.0));

    match send(out, progress, timeout, &authority).await {
        Ok(up) => {
            let status = up.status();
            let challenge = {
                let all: Vec<&str> = up
                    .headers()
                    .get_all(header::WWW_AUTHENTICATE)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .collect();
                let mut s = all.join(", ");
                if s.len() > MAX_CHALLENGE {
                    let mut cut = MAX_CHALLENGE;
                    while !s.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    s.truncate(cut);
                    s.push_str("...");
                }
                (!s.is_empty()).then_some(s)
            };
            let explanation = verdict
                .as_ref()
                .and_then(|v| explain(v, status.as_u16(), challenge.as_deref()));
            let (rec, call) = record(
                status.as_u16(),
                ProxyRecord {
                    upstream_status: Some(status.as_u16()),
                    upstream_challenge: challenge,
                    explanation,
                    ..base_record
                },
            );
            let (mut rparts, rbody) = up.into_parts();
            strip_hop_by_hop(&mut rparts.headers);
            rparts.headers.remove(VERDICT_HEADER);
            if let Some(call) = &call {
                let link = p
                    .issuer
                    .url(&format!("/admin/api/resources/{}/calls/{}", c.resource.name, call.id));
                if let Ok(v) = HeaderValue::from_str(&link) {
                    rparts.headers.insert(VERDICT_HEADER, v);
                }
            }
            rparts.version = Version::HTTP_11;
            rparts.extensions = Default::default();
            rparts.extensions.insert(Passthrough);
            rparts.extensions.insert(rec);
            if let Some(v) = verdict {
                rparts.extensions.insert(v);
            }
            Response::from_parts(rparts, Body::new(rbody))
        }
        Err(failure) => {
            let (status, error, description) = match failure {
                Failure::Unreachable(cause) => (
                    StatusCode::BAD_GATEWAY,
                    "upstream_unreachable",
                    format!("the upstream {shown_url} is unreachable: {cause}"),
                ),
                Failure::Broken(cause) => (
                    StatusCode::BAD_GATEWAY,
                    "upstream_failed",
                    format!("the upstream {shown_url} did not answer with a valid HTTP response: {cause}"),
                ),
                Failure::Silent(t) => (
                    StatusCode::GATEWAY_TIMEOUT,
                    "upstream_timeout",
                    format!(
                        "the upstream {shown_url} sent no response headers within {} s (upstream_timeout)",
                        t.as_secs()
                    ),
                ),
                Failure::ClientBody(cause) => (
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    format!("the request body stopped arriving or could not be read: {cause}"),
                ),
                Failure::TooLarge => (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "invalid_request",
                    format!(
                        "the request body is larger than the proxy's {} MiB",
                        MAX_PROXY_BODY >> 20
                    ),
                ),
            };
            let (rec, call) = record(
                status.as_u16(),
                ProxyRecord {
                    error: Some(description.clone()),
                    ..base_record
                },
            );
            let mut resp = own(status, error, description);
            if let Some(call) = call {
                let link = p
                    .issuer
                    .url(&format!("/admin/api/resources/{}/calls/{}", c.resource.name, call.id));
                if let Ok(v) = HeaderValue::from_str(&link) {
                    resp.headers_mut().insert(VERDICT_HEADER, v);
                }
            }
            resp.extensions_mut().insert(rec);
            if let Some(v) = verdict {
                resp.extensions_mut().insert(v);
            }
            resp
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_go() {
        let mut h = HeaderMap::new();
        h.insert("connection", HeaderValue::from_static("close, x-private"));
        h.insert("x-private", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert("te", HeaderValue::from_static("trailers"));
        h.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        h.insert("upgrade", HeaderValue::from_static("websocket"));
        h.insert("proxy-authorization", HeaderValue::from_static("Basic x"));
        h.insert("authorization", HeaderValue::from_static("Bearer t"));
        h.insert("x-custom", HeaderValue::from_static("kept"));
        strip_hop_by_hop(&mut h);
        let mut left: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        left.sort_unstable();
        assert_eq!(left, ["authorization", "x-custom"]);
    }
}
