//! Reflected parameters (already resisted; kept from regressing).

use crate::common::*;

const PAYLOADS: &[&str] = &[
    "<script>alert(1)</script>",
    "\"><svg onload=alert(1)>",
    "'><img src=x onerror=alert(1)>",
    "javascript:alert(1)//",
];

#[track_caller]
fn assert_inert(p: &Page, payload: &str, what: &str) {
    if payload.contains(['<', '>', '"', '\'']) {
        assert!(!p.body.contains(payload), "{what}: reflected verbatim: {}", p.body);
    }
    for raw in ["<script>alert", "<svg onload", "<img src=x"] {
        if payload.contains(raw) {
            assert!(!p.body.contains(raw), "{what}: `{raw}` reached the page: {}", p.body);
        }
    }
    // Nothing the attacker sent becomes a link or a form target.
    assert!(!p.body.contains("href=\"javascript"), "{what}");
    assert!(!p.body.contains("action=\"javascript"), "{what}");
    if p.header("content-type").starts_with("text/html") {
        assert!(
            p.header("content-security-policy").contains("script-src 'nonce-"),
            "{what}: {p:?}"
        );
    }
}

/// Advisory class: reflected XSS and open redirects through authorization-request parameters
/// shown on the provider's pages (RFC 9700 §4.11.2 "Authorization Server as Open
/// Redirector"; RFC 6749 §4.1.2.1: errors about the client or redirect URI are shown, never
/// redirected). Markup and quotes in `client_id`, `redirect_uri`, `state`, `login_hint`, a
/// typed username and logout parameters come back escaped, under a nonce-only script policy,
/// and an unknown client or unregistered URI never redirects.
#[tokio::test]
async fn reflected_parameters_are_escaped_and_never_redirected() {
    let srv = spawn_default().await;
    for payload in PAYLOADS {
        let mut b = srv.browser();
        let p = b
            .authorize(&[
                ("client_id", payload),
                ("response_type", "code"),
                ("redirect_uri", payload),
            ])
            .await;
        assert!(p.location().is_none(), "{p:?}");
        assert_inert(&p, payload, "unknown client");
        let p = b
            .authorize(&[
                ("client_id", "web"),
                ("response_type", "code"),
                ("redirect_uri", payload),
            ])
            .await;
        assert!(p.location().is_none(), "{p:?}");
        assert_inert(&p, payload, "unregistered redirect_uri");
        let login = b
            .authorize(&[
                ("client_id", "web"),
                ("response_type", "code"),
                ("redirect_uri", WEB_CB),
                ("scope", "openid"),
                ("login_hint", payload),
                ("state", payload),
                ("response_mode", "form_post"),
            ])
            .await;
        assert!(login.is_login(), "{login:?}");
        assert_inert(&login, payload, "login_hint");
        let wrong = b.login(&login, payload, "wrong").await;
        assert_inert(&wrong, payload, "typed username");
        let done = b.login(&wrong, "alice", "alice-password").await;
        assert!(done.body.contains("name=\"state\""), "{done:?}");
        assert_inert(&done, payload, "state in the form_post page");
        let p = b
            .get(&format!(
                "/end_session?{}",
                form(&[("client_id", payload), ("state", payload)])
            ))
            .await;
        assert_inert(&p, payload, "logout client_id");
        let p = b
            .get(&format!(
                "/end_session?{}",
                form(&[("client_id", "web"), ("post_logout_redirect_uri", payload)])
            ))
            .await;
        assert!(p.location().is_none(), "{p:?}");
        assert_inert(&p, payload, "logout redirect");
    }
}
