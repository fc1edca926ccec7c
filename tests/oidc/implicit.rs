//! Implicit and hybrid response types (OIDC Core §3.2, §3.3) and the form_post response mode.

use openidconnect::core::CoreResponseType;
use openidconnect::{
    AccessToken, AccessTokenHash, AuthenticationFlow, AuthorizationCode, AuthorizationCodeHash, CsrfToken, Nonce,
};
use reqwest::StatusCode;

use crate::common::*;

#[tokio::test]
async fn implicit_id_token_token_returns_both_in_the_fragment() {
    let srv = spawn_default().await;
    let rp = srv.rp("legacy", Some("legacy-secret"), LEGACY_CB).await;
    let (url, csrf, nonce) = rp
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::Implicit(true),
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .url();
    assert!(url.as_str().contains("response_type=id_token+token"), "{url}");
    let mut b = srv.browser();
    let page = b.get(url.as_str()).await;
    let cb = Callback::parse(b.login(&page, "alice", "alice-password").await.redirect());
    assert_eq!(cb.base, LEGACY_CB);
    assert!(cb.query.is_empty(), "tokens never travel in the query: {cb:?}");
    assert_eq!(cb.f("state"), csrf.secret());
    assert_eq!(cb.f("iss"), srv.issuer());
    assert_eq!(cb.f("token_type"), "Bearer");
    assert!(cb.f("expires_in").parse::<u64>().is_ok());
    assert!(!cb.fragment.contains_key("code"));
    let access = AccessToken::new(cb.f("access_token").to_string());
    let id_token: openidconnect::core::CoreIdToken = cb.f("id_token").parse().expect("id_token parses");
    let verifier = rp.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &nonce)
        .expect("id_token verifies with the nonce");
    let expected = AccessTokenHash::from_token(
        &access,
        id_token.signing_alg().expect("alg"),
        id_token.signing_key(&verifier).expect("key"),
    )
    .expect("hash");
    assert_eq!(claims.access_token_hash(), Some(&expected));
    assert!(srv.active(access.secret()).await);
}

#[tokio::test]
async fn implicit_requires_a_nonce() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    for rt in ["id_token token", "id_token", "code id_token"] {
        let page = b
            .authorize(&[
                ("client_id", "legacy"),
                ("response_type", rt),
                ("redirect_uri", LEGACY_CB),
                ("scope", "openid"),
                ("state", "s"),
            ])
            .await;
        let cb = Callback::parse(page.redirect());
        assert_eq!(cb.f("error"), "invalid_request", "{rt}");
        assert!(cb.f("error_description").contains("nonce"));
        assert_eq!(cb.f("state"), "s");
    }
}

#[tokio::test]
async fn hybrid_code_id_token_carries_c_hash_and_the_code_exchanges() {
    let srv = spawn_default().await;
    let rp = srv.rp("legacy", Some("legacy-secret"), LEGACY_CB).await;
    let (url, csrf, nonce) = rp
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::Hybrid(vec![CoreResponseType::Code, CoreResponseType::IdToken]),
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .url();
    let mut b = srv.browser();
    let page = b.get(url.as_str()).await;
    let cb = Callback::parse(b.persona(&page, "alice").await.redirect());
    assert_eq!(cb.f("state"), csrf.secret());
    assert!(!cb.fragment.contains_key("access_token"));
    let code = AuthorizationCode::new(cb.f("code").to_string());
    let id_token: openidconnect::core::CoreIdToken = cb.f("id_token").parse().expect("id_token");
    let verifier = rp.id_token_verifier();
    let claims = id_token.claims(&verifier, &nonce).expect("verifies");
    let c_hash = AuthorizationCodeHash::from_code(
        &code,
        id_token.signing_alg().expect("alg"),
        id_token.signing_key(&verifier).expect("key"),
    )
    .expect("hash");
    assert_eq!(claims.code_hash(), Some(&c_hash));
    // The code works at the token endpoint, and its id_token carries the same nonce.
    let r = srv
        .token(
            Some(("legacy", "legacy-secret")),
            &[
                ("grant_type", "authorization_code"),
                ("code", code.secret()),
                ("redirect_uri", LEGACY_CB),
            ],
        )
        .await;
    let id2 = jwt_claims(&r.ok("id_token"));
    assert_eq!(id2["nonce"], nonce.secret().as_str());
    assert_eq!(id2["sub"], claims.subject().as_str());
}

#[tokio::test]
async fn response_mode_form_post_returns_an_auto_submitting_form() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    let page = b
        .authorize(&[
            ("client_id", "web"),
            ("response_type", "code"),
            ("redirect_uri", WEB_CB),
            ("scope", "openid"),
            ("response_mode", "form_post"),
            ("state", "fp\"<script>x</script>"),
        ])
        .await;
    let done = b.login(&page, "alice", "alice-password").await;
    assert_eq!(done.status, StatusCode::OK, "{done:?}");
    assert!(done.location().is_none());
    done.assert_page_headers();
    let body = &done.body;
    assert!(
        body.contains(&format!("<form method=\"post\" action=\"{WEB_CB}\"")),
        "{body}"
    );
    assert!(body.contains("name=\"code\" value=\""));
    assert!(body.contains(&format!("name=\"iss\" value=\"{}\"", srv.issuer())));
    assert!(
        body.contains("name=\"state\" value=\"fp&quot;&lt;script&gt;x&lt;/script&gt;\""),
        "state escaped: {body}"
    );
    assert!(!body.contains("<script>x"));
    assert!(body.contains("document.forms[0].submit()"), "auto-submits");
    // The script is allowed by the page's CSP nonce.
    let csp = done.header("content-security-policy");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .expect("a script nonce in the CSP");
    assert!(body.contains(&format!("<script nonce=\"{nonce}\">")), "{csp} / {body}");
    // The code in the form is a real one.
    let start = body.find("name=\"code\" value=\"").expect("code") + "name=\"code\" value=\"".len();
    let code = &body[start..start + body[start..].find('"').expect("quote")];
    let r = srv
        .token(
            Some(("web", "web-secret")),
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", WEB_CB),
            ],
        )
        .await;
    assert!(!r.ok("access_token").is_empty());
}
