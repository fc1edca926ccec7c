//! Server-side request forgery through URLs in requests and tokens (already resisted; kept
//! from regressing): Latchkey never fetches a URL it is handed.

use std::sync::atomic::Ordering;

use reqwest::Method;
use serde_json::json;

use crate::common::*;
use crate::web_attack::*;

/// Advisory class: server-side request forgery and key injection through `request_uri` (OIDC
/// Core §6.2, RFC 9101 §5.2: the authorization server would fetch an attacker's URL), and
/// through `jku` / `x5u` JOSE headers (RFC 8725 §3.10 "Do Not Trust Received Claims": blindly
/// following them is SSRF and lets the token name its own key). RFC 9700 has no section on it.
/// A loopback server stands in for the attacker's URL and counts requests: after an
/// authorization request with `request_uri`, a `request` object whose header names `jku`, and
/// tokens with `jku` / `x5u` headers presented to userinfo, introspection, logout and the token
/// inspector, it has received nothing; the authorization request gets
/// `request_uri_not_supported` / `request_not_supported`.
#[tokio::test]
async fn urls_in_requests_and_token_headers_are_never_fetched() {
    let srv = spawn_default().await;
    let (evil, hits) = counting_server().await;
    // The counting server works (so zero below means "never asked").
    reqwest::get(format!("{evil}/probe")).await.expect("probe");
    assert_eq!(hits.swap(0, Ordering::SeqCst), 1);

    let mut b = srv.browser();
    let request_object = hs256(
        &json!({"alg": "HS256", "jku": format!("{evil}/jwks"), "x5u": format!("{evil}/x5u")}),
        &json!({"client_id": "web", "redirect_uri": WEB_CB, "response_type": "code"}),
        b"web-secret",
    );
    for (param, value, error) in [
        (
            "request_uri",
            format!("{evil}/request.jwt"),
            "request_uri_not_supported",
        ),
        ("request", request_object.clone(), "request_not_supported"),
    ] {
        let page = b
            .authorize(&[
                ("client_id", "web"),
                ("response_type", "code"),
                ("redirect_uri", WEB_CB),
                ("scope", "openid"),
                (param, &value),
            ])
            .await;
        let cb = Callback::parse(page.redirect());
        assert_eq!(cb.q("error"), error, "{param}");
    }

    let payload =
        json!({"iss": srv.issuer(), "sub": "admin", "aud": "web", "exp": 4_000_000_000u64, "scope": "openid"});
    let tokens = [
        hs256(
            &json!({"alg": "HS256", "jku": format!("{evil}/jwks"), "kid": "k"}),
            &payload,
            b"k",
        ),
        hs256(
            &json!({"alg": "RS256", "x5u": format!("{evil}/cert.pem")}),
            &payload,
            b"k",
        ),
        es256_embedded_jwk(
            &payload,
            &json!({"jku": format!("{evil}/jwks"), "x5u": format!("{evil}/x5u")}),
        ),
    ];
    for t in &tokens {
        let r = srv
            .http
            .get(srv.at("/userinfo"))
            .bearer_auth(t)
            .send()
            .await
            .expect("userinfo");
        assert_eq!(r.status(), 401);
        assert!(!srv.active(t).await);
        let page = b.get(&format!("/end_session?{}", form(&[("id_token_hint", t)]))).await;
        assert_eq!(page.status.as_u16(), 400);
        let (s, d) = admin(&srv, Method::POST, "/tokens/inspect", Some(json!({"token": t}))).await;
        assert_eq!(s, 200, "{d}");
        assert_eq!(d["signature"]["verified"], false, "{d}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "Latchkey fetched an attacker's URL");
}
