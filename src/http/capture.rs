//! Captures protocol requests for the request log ([`crate::admin::requests`] redacts and
//! renders them). Request bodies up to 64 KiB and JSON responses are buffered; the admin API's
//! own requests are not logged. Calls through the explaining proxy are logged without their
//! bodies (they stream), with the proxy's record.

use std::time::Instant;

use axum::body::HttpBody as _;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::admin::AdminState;
use super::error::http_error;
use super::guard::is_admin_path;
use crate::admin::requests::{Captured, MAX_CAPTURE, MAX_HEADER_VALUE};

fn is_json(resp: &Response) -> bool {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// A header value cut to [`MAX_HEADER_VALUE`] bytes (at a character boundary).
fn clip(v: &str) -> String {
    if v.len() <= MAX_HEADER_VALUE {
        return v.to_string();
    }
    let mut end = MAX_HEADER_VALUE;
    while !v.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &v[..end])
}

/// Logs every non-admin request with its (redacted) parameters and a response summary.
pub async fn capture(State(a): State<AdminState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if is_admin_path(&a.provider.issuer.path, &path) || is_admin_path("", &path) {
        return next.run(req).await;
    }
    let started = Instant::now();
    let at_ms = a.provider.clock.now_ms();
    let (parts, body) = req.into_parts();
    // The explaining proxy streams bodies both ways: nothing is buffered for the log.
    let streamed = super::proxy::proxied(&a.provider, &path).is_some();
    let (bytes, body) = if streamed {
        (None, body)
    } else {
        match capture_body(body).await {
            Ok(b) => (Some(b.clone()), Body::from(b)),
            Err(resp) => return *resp,
        }
    };
    let mut captured = Captured {
        at_ms,
        origin: a.provider.issuer.origin.clone(),
        method: parts.method.to_string(),
        path,
        query: parts.uri.query().map(str::to_string),
        headers: parts
            .headers
            .iter()
            .filter(|(k, _)| crate::admin::requests::captures_header(k.as_str()))
            .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_string(), clip(v))))
            .collect(),
        body: bytes,
        ..Captured::default()
    };
    let resp = next.run(Request::from_parts(parts, body)).await;
    captured.status = resp.status().as_u16();
    captured.response_content_type = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    captured.verdict = resp
        .extensions()
        .get::<std::sync::Arc<crate::resources::Verdict>>()
        .cloned();
    captured.assertion = resp
        .extensions()
        .get::<std::sync::Arc<crate::oauth::assertion::AssertionReport>>()
        .cloned();
    captured.dpop = resp
        .extensions()
        .get::<std::sync::Arc<crate::oauth::dpop::ProofReport>>()
        .cloned();
    captured.proxy = resp
        .extensions()
        .get::<std::sync::Arc<crate::resources::proxy::ProxyRecord>>()
        .cloned();
    captured.fault = resp
        .extensions()
        .get::<std::sync::Arc<crate::faults::FaultMark>>()
        .cloned();
    captured.push = resp
        .extensions()
        .get::<std::sync::Arc<crate::oauth::authorize::pushed::PushMark>>()
        .cloned();
    captured.location = resp
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let passthrough = resp.extensions().get::<super::proxy::Passthrough>().is_some();
    let small = resp.body().size_hint().exact().is_some_and(|n| n <= MAX_CAPTURE as u64);
    let resp = if is_json(&resp) && small && !passthrough {
        let (rparts, rbody) = resp.into_parts();
        match to_bytes(rbody, MAX_CAPTURE).await {
            Ok(b) => {
                captured.response_json = Some(b.clone());
                Response::from_parts(rparts, Body::from(b))
            }
            Err(_) => Response::from_parts(rparts, Body::empty()),
        }
    } else {
        resp
    };
    captured.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    a.requests.record(captured);
    resp
}

/// Reads a request body for the log: at most [`MAX_CAPTURE`] bytes within
/// [`super::BODY_TIMEOUT`] (413 and 408 otherwise).
async fn capture_body(body: Body) -> Result<axum::body::Bytes, Box<Response>> {
    match tokio::time::timeout(super::BODY_TIMEOUT, to_bytes(body, MAX_CAPTURE)).await {
        Ok(Ok(b)) => Ok(b),
        Ok(Err(_)) => Err(Box::new(http_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            format!("the request body is larger than {} KiB", MAX_CAPTURE / 1024),
        ))),
        Err(_) => Err(Box::new(http_error(
            StatusCode::REQUEST_TIMEOUT,
            "invalid_request",
            "the request took too long to arrive or to answer".into(),
        ))),
    }
}
