//! The `/admin/` guard as middleware: Host and Origin checks and the admin token
//! ([`crate::admin::guard`] decides; this only reads the headers and answers).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::admin::AdminState;
use crate::admin::guard::{GuardInput, check};

/// Whether `path` is under the issuer's `/admin` (API and UI).
pub fn is_admin_path(issuer_path: &str, path: &str) -> bool {
    path.strip_prefix(issuer_path)
        .and_then(|rest| rest.strip_prefix("/admin"))
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

fn text(h: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// Refuses admin requests from foreign hosts or origins, or without the admin token.
pub async fn guard(State(a): State<AdminState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !is_admin_path(&a.provider.issuer.path, path) && !is_admin_path("", path) {
        return next.run(req).await;
    }
    let h = req.headers();
    let host = text(h, header::HOST).or_else(|| req.uri().authority().map(|a| a.as_str()));
    let input = GuardInput {
        host,
        origin: text(h, header::ORIGIN),
        authorization: text(h, header::AUTHORIZATION),
        cookie: text(h, header::COOKIE),
        query: req.uri().query(),
    };
    if let Err(e) = check(&a, &input) {
        return e.into_response();
    }
    // Opening the UI as `/admin/?access_token=TOKEN` stores the token in a cookie, so the UI's
    // own requests (fetch, EventSource) carry it without the page handling it.
    let remember = a.token.as_deref().filter(|_| {
        input.cookie.is_none_or(|c| !c.contains(crate::admin::guard::COOKIE))
            && input.query.is_some_and(|q| q.contains("access_token="))
    });
    let cookie = remember.and_then(|t| {
        let path = format!("{}/admin", a.provider.issuer.path);
        HeaderValue::from_str(&format!(
            "{}={t}; Path={path}; HttpOnly; SameSite=Strict",
            crate::admin::guard::COOKIE
        ))
        .ok()
    });
    let mut resp = next.run(req).await;
    if let Some(c) = cookie {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_paths_follow_the_issuer_path() {
        assert!(is_admin_path("", "/admin"));
        assert!(is_admin_path("", "/admin/"));
        assert!(is_admin_path("", "/admin/api/clients"));
        assert!(!is_admin_path("", "/administrator"));
        assert!(!is_admin_path("", "/token"));
        assert!(is_admin_path("/realms/dev", "/realms/dev/admin/api/status"));
        assert!(!is_admin_path("/realms/dev", "/admin/api/status"));
    }
}
