//! Login CSRF and requests from web pages the developer visits (already resisted; kept from
//! regressing).

use reqwest::Method;
use serde_json::json;

use crate::common::*;
use crate::web_attack::*;

/// Advisory class: login CSRF (a forged cross-site sign-in that logs the victim's browser into
/// the attacker's account; RFC 9700 §4.7 "Cross-Site Request Forgery" for the
/// authorization-server side, RFC 6749 §10.12). A sign-in is accepted only as a step of a
/// pending authorization request, named by an unguessable id: a forged `POST /login` with
/// valid credentials but no or a made-up request id sets no session cookie and signs nobody
/// in, and credentials in a `GET /login` query are ignored.
#[tokio::test]
async fn a_forged_sign_in_sets_no_session() {
    let srv = spawn_default().await;
    for req in [None, Some(""), Some("forged-id"), Some("AAAAAAAAAAAAAAAAAAAAAA")] {
        let mut pairs = vec![("username", "alice"), ("password", "alice-password")];
        if let Some(r) = req {
            pairs.push(("req", r));
        }
        let r = srv
            .http
            .post(srv.at("/login"))
            .header("origin", "http://evil.example")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&pairs))
            .send()
            .await
            .expect("login");
        assert!(r.headers().get("set-cookie").is_none(), "{req:?}: a session was set");
        assert!(r.status().is_client_error(), "{req:?}: {}", r.status());
        assert!(r.headers().get("location").is_none());
    }
    let mut b = srv.browser();
    let page = b
        .get(&format!(
            "/login?{}",
            form(&[("req", "x"), ("username", "alice"), ("password", "alice-password")])
        ))
        .await;
    assert!(b.cookie.is_none(), "{page:?}");
    // With no session, a later authorization request still asks who is signing in.
    let page = b
        .authorize(&[
            ("client_id", "web"),
            ("response_type", "code"),
            ("redirect_uri", WEB_CB),
            ("scope", "openid"),
        ])
        .await;
    assert!(page.is_login(), "{page:?}");
}

/// Advisory class: a web page the developer visits driving the local server (cross-site request
/// forgery against `localhost`, and DNS rebinding: a hostile name resolved to 127.0.0.1). The
/// admin API refuses a foreign `Origin` (also `null`, from sandboxed frames and `data:` pages)
/// and a foreign `Host`, so such a page can neither register a client nor read tokens; the
/// token endpoint gives foreign origins no CORS headers, so a page cannot read its answers.
#[tokio::test]
async fn web_pages_and_rebound_hosts_cannot_drive_the_admin_api() {
    let srv = spawn_default().await;
    let evil = json!({"client_id": "pwned", "client_secret": "s", "redirect_uris": ["http://evil.example/cb"]});
    for (name, header, value) in [
        ("foreign origin", "origin", "http://evil.example"),
        ("null origin", "origin", "null"),
        ("another port on localhost", "origin", "http://localhost:1"),
        ("DNS rebinding", "host", "evil.example"),
        ("DNS rebinding to the right port", "host", "rebind.evil.example:8000"),
    ] {
        let r = srv
            .http
            .post(srv.at("/admin/api/clients"))
            .header(header, value)
            .header("content-type", "application/json")
            .body(evil.to_string())
            .send()
            .await
            .expect("admin");
        assert_eq!(r.status(), 403, "{name}");
        let r = srv
            .http
            .get(srv.at("/admin/api/tokens"))
            .header(header, value)
            .send()
            .await
            .expect("admin");
        assert_eq!(r.status(), 403, "{name}");
        assert!(r.headers().get("access-control-allow-origin").is_none(), "{name}");
    }
    assert_eq!(admin(&srv, Method::GET, "/clients/pwned", None).await.0, 404);
    let r = srv
        .http
        .post(srv.at("/token"))
        .header("origin", "http://evil.example")
        .header("authorization", basic("web", "web-secret"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("token");
    assert!(r.headers().get("access-control-allow-origin").is_none());
}
