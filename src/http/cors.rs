//! CORS (Fetch standard) for the protocol endpoints and the protected resources, in one place:
//! which origins are answered, the preflight, and the headers a browser app may read.

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::provider::Provider;

/// The origin (`scheme://host[:port]`) of a URL.
fn origin_of(uri: &str) -> Option<String> {
    let u = url::Url::parse(uri).ok()?;
    match u.origin() {
        url::Origin::Tuple(..) => Some(u.origin().ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

/// Whether `origin` is that of a registered redirect or post-logout URI.
pub fn registered_origin(p: &Provider, origin: &str) -> bool {
    p.clients().iter().any(|c| {
        c.redirect_uris
            .iter()
            .chain(c.post_logout_redirect_uris.iter())
            .any(|u| origin_of(u).as_deref() == Some(origin))
    })
}

/// What a group of routes allows across origins.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Any origin (`*`, no credentials): discovery, JWKS, resource metadata. Otherwise only the
    /// origins of registered redirect and post-logout URIs ([`registered_origin`]).
    pub public: bool,
    /// `Access-Control-Allow-Methods` of a preflight.
    pub methods: &'static str,
    /// `Access-Control-Expose-Headers`: at least `WWW-Authenticate`, so a browser app can read
    /// why its token was refused (RFC 6750 §3).
    pub expose: &'static str,
}

fn add(resp: &mut Response, origin: &str, policy: Policy) {
    let h = resp.headers_mut();
    if policy.public {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    } else if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        h.append(header::VARY, HeaderValue::from_static("Origin"));
    } else {
        return;
    }
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(policy.expose),
    );
}

/// Applies `policy` to a request: no `Origin`, nothing to do; a preflight (`OPTIONS` with
/// `Access-Control-Request-Method`) is answered here with 204 (with the CORS headers only for
/// an allowed origin); any other request runs and gets the headers when the origin is allowed.
pub async fn apply(p: &Provider, policy: Policy, req: Request, next: Next) -> Response {
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
    else {
        return next.run(req).await;
    };
    let allowed = policy.public || registered_origin(p, &origin);
    if req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
        let mut resp = StatusCode::NO_CONTENT.into_response();
        if allowed {
            add(&mut resp, &origin, policy);
            let h = resp.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static(policy.methods),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("Authorization, Content-Type, DPoP"),
            );
            h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        }
        return resp;
    }
    let mut resp = next.run(req).await;
    if allowed {
        add(&mut resp, &origin, policy);
    }
    resp
}
