//! Redirect-URI bypass tricks (already resisted; kept from regressing).

use crate::common::*;

/// Advisory class: redirect URI validation bypass, the root of most authorization-code and
/// token theft reports (RFC 9700 §4.1.1 "Redirect URI Validation Attacks on Authorization Code
/// Grant", §4.1.3: exact string matching; §2.1). Registered:
/// `http://localhost:3000/callback`. Each trick that fooled prefix, suffix, host, path or
/// parser-differential matching elsewhere gets an error page: no redirect, no code, no
/// `Location` header.
#[tokio::test]
async fn redirect_uri_bypass_tricks_get_an_error_page_and_no_code() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    // Signed in first, so a matching URI would be answered with a code at once.
    let login = b
        .authorize(&[
            ("client_id", "web"),
            ("response_type", "code"),
            ("redirect_uri", WEB_CB),
            ("scope", "openid"),
        ])
        .await;
    let ok = b.login(&login, "alice", "alice-password").await;
    assert!(ok.redirect().starts_with(WEB_CB), "{ok:?}");
    for trick in [
        "http://localhost:3000/callback/../evil",
        "http://localhost:3000/callback/evil",
        "http://localhost:3000/callbackevil",
        "http://localhost:3000/callback/",
        "http://localhost:3000/callback?next=http://evil.example",
        "http://localhost:3000/callback#@evil.example",
        "http://localhost:3000/callback%2F..%2Fevil",
        "http://localhost:3000/callback%00",
        "http://localhost:3000/callback;evil",
        "http://localhost:3000/Callback",
        "http://localhost:3000//callback",
        "http://localhost:3000/./callback",
        "http://localhost:3000@evil.example/callback",
        "http://localhost:3000\\@evil.example/callback",
        "http://evil.example@localhost:3000/callback",
        "http://localhost:3000.evil.example/callback",
        "http://evil.example/?http://localhost:3000/callback",
        "http://evil.example/http://localhost:3000/callback",
        "//evil.example/callback",
        "/callback",
        "HTTP://LOCALHOST:3000/callback",
        "https://localhost:3000/callback",
        "http://127.0.0.1:3000/callback",
        "http://[::1]:3000/callback",
        " http://localhost:3000/callback",
        "http://localhost:3000/callback ",
        "http://localhost:3000/callback\t",
        "http://localhost:3000/c%61llback",
        "http://xn--localhost-/callback",
        "http://localhost:4000/cb", // registered, for another client
        "javascript://localhost:3000/callback%0aalert(1)",
    ] {
        let page = b
            .authorize(&[
                ("client_id", "web"),
                ("response_type", "code"),
                ("redirect_uri", trick),
                ("scope", "openid"),
                ("state", "s"),
            ])
            .await;
        assert_eq!(page.status.as_u16(), 400, "{trick:?}: {page:?}");
        assert!(page.headers.get("location").is_none(), "{trick:?} redirected: {page:?}");
        assert!(!page.body.contains("code="), "{trick:?}");
        assert!(page.body.contains("redirect_uri"), "{trick:?}: {}", page.body);
    }
    // Without redirect_uri, a client with several registered gets an error page, not a guess.
    let page = b
        .authorize(&[("client_id", "web"), ("response_type", "code"), ("scope", "profile")])
        .await;
    assert_eq!(page.status.as_u16(), 400, "{page:?}");
    assert!(page.location().is_none());
}

/// Advisory class: redirect URI swapped between the authorization and token requests (RFC 6749
/// §4.1.3; RFC 9700 §4.1.1): a code issued for one registered URI is refused with another
/// registered URI, or without the one it was issued for.
#[tokio::test]
async fn a_code_is_refused_with_another_redirect_uri() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    let cb = b
        .code_flow(
            &[
                ("client_id", "web"),
                ("response_type", "code"),
                ("redirect_uri", WEB_CB),
                ("scope", "openid"),
            ],
            "alice",
            "alice-password",
        )
        .await;
    for uri in [Some("http://localhost:3000/other"), None] {
        let mut pairs = vec![("grant_type", "authorization_code"), ("code", cb.q("code"))];
        if let Some(u) = uri {
            pairs.push(("redirect_uri", u));
        }
        srv.token(Some(("web", "web-secret")), &pairs)
            .await
            .assert_error(400, "invalid_grant");
    }
}
