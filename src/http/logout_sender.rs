//! The HTTP side of back-channel logout ([`crate::oauth::session::LogoutSender`]): POSTs a
//! logout token with the proxy's pooled client (no redirects followed, no cookies, no
//! credentials), bounded by the timeout from connecting to the response headers, and records
//! the exchange in the request log as an outbound entry.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use futures_util::future::BoxFuture;
use hyper::header;

use crate::admin::Admin;
use crate::admin::log_entry::OutboundMark;
use crate::admin::requests::Captured;
use crate::oauth::session::{LogoutPost, LogoutSender, Posted, judge};

/// How much of a receiver's answer is read (for the request log), bytes.
const MAX_ANSWER: usize = 16 * 1024;

/// Sends back-channel logouts and logs them in the admin's request log.
pub struct HttpLogoutSender {
    /// The admin state holding the request log (weak: the admin holds the provider).
    pub admin: Weak<Admin>,
}

impl LogoutSender for HttpLogoutSender {
    fn post<'a>(&'a self, req: LogoutPost<'a>) -> BoxFuture<'a, Posted> {
        Box::pin(post(self, req))
    }
}

struct Answer {
    status: u16,
    content_type: Option<String>,
    body: Option<Bytes>,
}

async fn send(url: &url::Url, form: String, timeout: Duration) -> Result<Answer, String> {
    let client = super::upstream::client().map_err(str::to_string)?;
    let req = hyper::Request::post(url.as_str())
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::USER_AGENT, concat!("Latchkey/", env!("CARGO_PKG_VERSION")))
        .body(Body::from(form))
        .map_err(|e| format!("the request could not be built: {e}"))?;
    let exchange = async {
        let resp = client.request(req).await.map_err(|e| {
            let mut cause: &dyn std::error::Error = &e;
            while let Some(next) = cause.source() {
                cause = next;
            }
            format!("could not be reached: {cause}")
        })?;
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Ok::<_, String>((status, content_type, resp.into_body()))
    };
    let (status, content_type, body) = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| format!("no answer within {} s", timeout.as_secs()))??;
    // The body only feeds the log: read what comes quickly, never wait past a short bound.
    let body = tokio::time::timeout(
        Duration::from_millis(250),
        axum::body::to_bytes(Body::new(body), MAX_ANSWER),
    )
    .await
    .ok()
    .and_then(Result::ok);
    Ok(Answer {
        status,
        content_type,
        body,
    })
}

async fn post(s: &HttpLogoutSender, req: LogoutPost<'_>) -> Posted {
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("logout_token", req.logout_token)
        .finish();
    let started = Instant::now();
    let at_ms = s.admin.upgrade().map_or(0, |a| a.provider.clock.now_ms());
    let result = send(req.url, form.clone(), req.timeout).await;
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (status, error) = match &result {
        Ok(a) => (Some(a.status), None),
        Err(e) => (None, Some(e.clone())),
    };
    let (outcome, why) = judge(status, error.as_deref());
    let mut request_id = None;
    if let Some(admin) = s.admin.upgrade() {
        let mut path = req.url.clone();
        path.set_query(None);
        let (content_type, body) = match &result {
            Ok(a) => (a.content_type.clone(), a.body.clone()),
            Err(_) => (None, None),
        };
        let json = content_type
            .as_deref()
            .is_some_and(|c| c.starts_with("application/json"));
        let captured = Captured {
            at_ms,
            origin: String::new(),
            method: "POST".into(),
            path: path.to_string(),
            query: req.url.query().map(str::to_string),
            headers: vec![("content-type".into(), "application/x-www-form-urlencoded".into())],
            body: Some(Bytes::from(form)),
            // No answer: 504 when it timed out, 502 when it could not be reached (as the proxy).
            status: status.unwrap_or(if error.as_deref().is_some_and(|e| e.starts_with("no answer")) {
                504
            } else {
                502
            }),
            response_content_type: content_type,
            response_json: if json { body } else { None },
            duration_ms,
            outbound: Some(Arc::new(OutboundMark {
                kind: "backchannel_logout".into(),
                client_id: req.client_id.to_string(),
                sid: req.sid.to_string(),
                jti: req.jti.to_string(),
                outcome,
                error: why,
            })),
            ..Captured::default()
        };
        request_id = admin.requests.record(captured);
    }
    Posted {
        status,
        error,
        duration_ms,
        request_id,
    }
}
