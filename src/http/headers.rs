//! Security headers on every response, applied once for the whole router so a new page cannot
//! forget them.
//!
//! - Every response: `X-Content-Type-Options: nosniff` (the UI's scripts and styles, JSON, the
//!   JWKS: a browser never guesses another type).
//! - Every HTML response (`Content-Type: text/html...`: the admin UI and its client-side routes,
//!   the login, consent, logout, error and form_post pages, any future page):
//!   `X-Frame-Options: DENY` and CSP `frame-ancestors 'none'` (no site may frame Latchkey, so
//!   no click-jacking of the consent button or the admin UI), and `Referrer-Policy: no-referrer`
//!   (pages carry pending-request ids and the admin UI's URLs name tokens; nothing of that leaves
//!   with a link or a form post). A page that sets its own `Content-Security-Policy` (the
//!   protocol pages, with a per-response nonce) keeps it, with `frame-ancestors 'none'`
//!   appended if it lacks one; any other HTML gets [`HTML_CSP`].
//!
//! Cost: a few header inserts on each response, and a `Content-Type` prefix test.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

/// The Content-Security-Policy of HTML that does not bring its own: the admin UI (a Vite build:
/// module scripts and stylesheets from `/admin/assets/`, `fetch` and `EventSource` to its own
/// origin, inline `style` attributes set by React) and the "UI not built" page.
/// No inline or foreign script, no plugins, no `<base>`, forms only to the same origin, and no
/// framing.
pub const HTML_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; \
base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `Referrer-Policy` of HTML responses: `no-referrer`, the strictest; Latchkey's pages never
/// need a `Referer` from the browser.
pub const REFERRER_POLICY: &str = "no-referrer";

/// Whether a response is HTML.
pub fn is_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.as_bytes().get(..9))
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case(b"text/html"))
}

/// Adds the security headers to one response (see the module documentation).
pub async fn security_headers(mut resp: Response) -> Response {
    let html = is_html(resp.headers());
    let h = resp.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if !html {
        return resp;
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static(REFERRER_POLICY));
    let own = h.get(header::CONTENT_SECURITY_POLICY).map(|v| v.as_bytes().to_vec());
    match own {
        None => {
            h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(HTML_CSP));
        }
        Some(csp) if !contains_frame_ancestors(&csp) => {
            let mut v = csp;
            v.extend_from_slice(b"; frame-ancestors 'none'");
            if let Ok(v) = HeaderValue::from_bytes(&v) {
                h.insert(header::CONTENT_SECURITY_POLICY, v);
            }
        }
        Some(_) => {}
    }
    resp
}

fn contains_frame_ancestors(csp: &[u8]) -> bool {
    csp.split(|b| *b == b';').any(|d| {
        d.trim_ascii_start()
            .to_ascii_lowercase()
            .starts_with(b"frame-ancestors")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::IntoResponse;

    fn html(csp: Option<&'static str>) -> Response {
        let mut r = "<p>x</p>".into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("Text/HTML; charset=utf-8"),
        );
        if let Some(c) = csp {
            r.headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(c));
        }
        r
    }

    #[tokio::test]
    async fn html_gets_every_header_and_the_default_policy() {
        let r = security_headers(html(None)).await;
        let h = r.headers();
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], HTML_CSP);
    }

    #[tokio::test]
    async fn a_pages_own_policy_is_kept_and_completed() {
        let r = security_headers(html(Some("default-src 'none'; frame-ancestors 'none'"))).await;
        assert_eq!(
            r.headers()[header::CONTENT_SECURITY_POLICY],
            "default-src 'none'; frame-ancestors 'none'"
        );
        let r = security_headers(html(Some("default-src 'none'"))).await;
        assert_eq!(
            r.headers()[header::CONTENT_SECURITY_POLICY],
            "default-src 'none'; frame-ancestors 'none'"
        );
    }

    #[tokio::test]
    async fn other_responses_only_get_nosniff() {
        let r = security_headers(axum::Json(1).into_response()).await;
        let h = r.headers();
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(h.get(header::X_FRAME_OPTIONS).is_none());
        assert!(h.get(header::CONTENT_SECURITY_POLICY).is_none());
    }
}
