//! Advisory classes: redirect URI validation bypasses (open redirect / code theft through lax
//! matching: prefix, host-suffix, user-information, path and port tricks; RFC 9700 §4.1.3,
//! RFC 6749 §3.1.2.3) while native apps' loopback redirect URIs accept any port (RFC 8252
//! §7.3); private-use schemes (§7.1) and claimed https URIs (§7.2) work. The code exchange must
//! repeat exactly the redirect URI used at `/authorize` (RFC 6749 §4.1.3).

use crate::common::*;

const CONFIG_NATIVE: &str = r#"
[[clients]]
client_id = "native"
name = "Native app"
redirect_uris = [
  "http://127.0.0.1:8400/cb",
  "http://[::1]/cb",
  "com.example.app:/callback",
  "https://app.example.com/oauth",
  "http://localhost:8400/cb",
]
token_endpoint_auth_method = "none"
scopes = ["openid", "profile"]

[[users]]
username = "alice"
password = "alice-password"
"#;

async fn authorize(b: &mut Browser, redirect: &str, challenge: &str) -> Page {
    b.authorize(&[
        ("client_id", "native"),
        ("response_type", "code"),
        ("redirect_uri", redirect),
        ("scope", "openid"),
        ("state", "st"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ])
    .await
}

async fn exchange(srv: &TestServer, code: &str, redirect: &str, verifier: &str) -> Reply {
    srv.token(
        None,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "native"),
            ("code", code),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
        ],
    )
    .await
}

/// The whole flow with `redirect`: returns the code and the verifier.
async fn code_for(srv: &TestServer, redirect: &str) -> (String, String) {
    let mut b = srv.browser();
    let (verifier, challenge) = pkce_s256();
    let login = authorize(&mut b, redirect, &challenge).await;
    let done = b.persona(&login, "alice").await;
    let location = done.redirect().to_string();
    assert!(
        location.starts_with(&format!("{redirect}?")),
        "the response goes to the requested URI {redirect}: {location}"
    );
    let code = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .expect("a code")
        .1
        .into_owned();
    (code, verifier)
}

#[tokio::test]
async fn a_loopback_ip_redirect_uri_accepts_any_port_and_the_exchange_repeats_it() {
    let srv = spawn(CONFIG_NATIVE).await;
    for redirect in [
        "http://127.0.0.1:51004/cb",
        "http://127.0.0.1/cb",
        "http://127.0.0.1:8400/cb",
        "http://[::1]:61000/cb",
        "http://[::1]/cb",
    ] {
        let (code, verifier) = code_for(&srv, redirect).await;
        // The token request must repeat the URI used at /authorize, port included.
        let other_port = if redirect.contains("[::1]") {
            "http://[::1]:1/cb"
        } else {
            "http://127.0.0.1:1/cb"
        };
        let bad = exchange(&srv, &code, other_port, &verifier).await;
        bad.assert_error(400, "invalid_grant");
        // A failed attempt does not consume the code... but a registered URI is not enough.
        if redirect != "http://127.0.0.1:8400/cb" && redirect.starts_with("http://127") {
            exchange(&srv, &code, "http://127.0.0.1:8400/cb", &verifier)
                .await
                .assert_error(400, "invalid_grant");
        }
        let ok = exchange(&srv, &code, redirect, &verifier).await;
        assert!(!ok.ok("access_token").is_empty(), "{redirect}");
    }
}

#[tokio::test]
async fn private_use_schemes_and_claimed_https_uris_work_exactly() {
    let srv = spawn(CONFIG_NATIVE).await;
    for redirect in ["com.example.app:/callback", "https://app.example.com/oauth"] {
        let (code, verifier) = code_for(&srv, redirect).await;
        assert!(
            !exchange(&srv, &code, redirect, &verifier)
                .await
                .ok("access_token")
                .is_empty()
        );
    }
}

#[tokio::test]
async fn bypass_attempts_get_the_mismatch_page_with_the_rule_and_never_a_redirect() {
    let srv = spawn(CONFIG_NATIVE).await;
    let mut b = srv.browser();
    let (_, challenge) = pkce_s256();
    for bad in [
        // Host confusion and user information.
        "http://127.0.0.1.evil.com/cb",
        "http://127.0.0.1.evil.com:8400/cb",
        "http://127.0.0.1:80@evil.example/cb",
        "http://127.0.0.1@evil.example/cb",
        "http://evil.example@127.0.0.1:8400/cb",
        "http://127.0.0.1:8400\\@evil.example/cb",
        "http://127.1:8400/cb",
        "http://0x7f.0.0.1:8400/cb",
        "http://127.0.0.2:8400/cb",
        // Path, query, fragment, scheme and case.
        "http://127.0.0.1:8400/cb/",
        "http://127.0.0.1:8400/cb/../admin",
        "http://127.0.0.1:8400/cb?next=http://evil.example",
        "http://127.0.0.1:8400/CB",
        "https://127.0.0.1:8400/cb",
        "HTTP://127.0.0.1:8400/cb",
        "http://[::1]:8400/cb2",
        "http://[::1]:8400",
        // Odd ports.
        "http://127.0.0.1:0/cb",
        "http://127.0.0.1:65536/cb",
        "http://127.0.0.1:08400/cb",
        // localhost stays exact (RFC 8252 §8.3).
        "http://localhost:8401/cb",
        "http://localhost/cb",
        // Private-use scheme and claimed https variants.
        "com.example.app:/callback/x",
        "com.example.evil:/callback",
        "COM.EXAMPLE.APP:/callback",
        "https://app.example.com/oauth/",
        "https://app.example.com.evil.example/oauth",
        "https://app.example.com:8443/oauth",
    ] {
        let page = authorize(&mut b, bad, &challenge).await;
        assert!(page.location().is_none(), "{bad} was redirected: {page:?}");
        assert_eq!(page.status, 400, "{bad}");
        assert!(page.body.contains("Redirect URI mismatch"), "{bad}: {}", page.body);
        // The page shows what was asked and what is registered, and the rule.
        assert!(page.body.contains("Requested redirect_uri"), "{}", page.body);
        assert!(page.body.contains("http://127.0.0.1:8400/cb"), "{}", page.body);
        assert!(page.body.contains("RFC 8252 §7.3"), "{}", page.body);
    }
    let page = authorize(&mut b, "http://localhost:8401/cb", &challenge).await;
    assert!(page.body.contains("instead of localhost"), "{}", page.body);
}
