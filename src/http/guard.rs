//! The `/admin/` guard as middleware: Host and Origin checks and the admin token
//! ([`crate::admin::guard`] decides; this only reads the headers and answers).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
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
    // own requests (fetch, EventSource) carry it without the page handling it, and redirects
    // (303) to the same page without the token, so it leaves the address bar and the history.
    let ui_page = req.method() == Method::GET
        && !is_admin_api_path(&a.provider.issuer.path, path)
        && !is_admin_api_path("", path);
    if ui_page
        && let Some(t) = a.token.as_deref()
        && let Some(q) = input.query
        && has_access_token(q)
    {
        let rest = without_access_token(q);
        let location = if rest.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{rest}")
        };
        let mut resp = StatusCode::SEE_OTHER.into_response();
        let h = resp.headers_mut();
        if let Ok(l) = HeaderValue::from_str(&location) {
            h.insert(header::LOCATION, l);
        }
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(c) = admin_cookie(&a, t) {
            h.append(header::SET_COOKIE, c);
        }
        return resp;
    }
    let remember = a.token.as_deref().filter(|_| {
        input.cookie.is_none_or(|c| !c.contains(crate::admin::guard::COOKIE))
            && input.query.is_some_and(|q| q.contains("access_token="))
    });
    let cookie = remember.and_then(|t| admin_cookie(&a, t));
    let mut resp = next.run(req).await;
    if let Some(c) = cookie {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

fn admin_cookie(a: &AdminState, token: &str) -> Option<HeaderValue> {
    let path = format!("{}/admin", a.provider.issuer.path);
    HeaderValue::from_str(&format!(
        "{}={token}; Path={path}; HttpOnly; SameSite=Strict",
        crate::admin::guard::COOKIE
    ))
    .ok()
}

/// Whether `path` is under the issuer's `/admin/api` (the API, not the UI's pages).
fn is_admin_api_path(issuer_path: &str, path: &str) -> bool {
    path.strip_prefix(issuer_path)
        .and_then(|rest| rest.strip_prefix("/admin/api"))
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

fn is_access_token_pair(pair: &str) -> bool {
    pair.split('=').next() == Some("access_token")
}

fn has_access_token(query: &str) -> bool {
    query.split('&').any(is_access_token_pair)
}

/// The query without its `access_token` parameters, the rest kept as sent.
fn without_access_token(query: &str) -> String {
    query
        .split('&')
        .filter(|p| !p.is_empty() && !is_access_token_pair(p))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_access_token_is_cut_from_the_query_and_the_rest_kept() {
        assert!(has_access_token("access_token=abc"));
        assert!(has_access_token("x=1&access_token="));
        assert!(!has_access_token("my_access_token=1"));
        assert_eq!(without_access_token("access_token=abc"), "");
        assert_eq!(
            without_access_token("tab=keys&access_token=abc&x=%20"),
            "tab=keys&x=%20"
        );
        assert!(is_admin_api_path("", "/admin/api/status"));
        assert!(!is_admin_api_path("", "/admin/apiary"));
        assert!(!is_admin_api_path("", "/admin/"));
    }

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
