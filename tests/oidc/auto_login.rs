//! Hands-free login for browser tests: a client's or a persona's `auto_login` signs the persona
//! in without the login page, through a real session and redirect.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

const CONFIG: &str = r#"
[[clients]]
client_id = "e2e"
client_secret = "e2e-secret"
name = "E2E app"
redirect_uris = ["http://localhost:3000/callback"]
scopes = ["openid", "profile", "email"]
auto_login = true

[[clients]]
client_id = "web"
client_secret = "web-secret"
redirect_uris = ["http://localhost:3000/callback"]
scopes = ["openid", "profile", "email"]

[[clients]]
client_id = "third-party"
client_secret = "tp-secret"
redirect_uris = ["http://localhost:3000/callback"]
scopes = ["openid", "profile"]
require_consent = true
auto_login = true

[[users]]
username = "alice"
password = "alice-password"
claims = { name = "Alice Liddell", email = "alice@example.com" }

[[users]]
username = "bob"
auto_login = true
claims = { name = "Bob Builder" }
"#;

fn params<'a>(client: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut p = vec![
        ("client_id", client),
        ("response_type", "code"),
        ("redirect_uri", WEB_CB),
        ("scope", "openid profile"),
        ("state", "st"),
        ("nonce", "n"),
    ];
    p.extend_from_slice(extra);
    p
}

async fn sub_of(srv: &TestServer, client: &str, secret: &str, cb: &Callback) -> String {
    let tokens = srv
        .token(
            Some((client, secret)),
            &[
                ("grant_type", "authorization_code"),
                ("code", cb.q("code")),
                ("redirect_uri", WEB_CB),
            ],
        )
        .await;
    jwt_claims(&tokens.ok("id_token"))["name"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_client_with_auto_login_signs_in_the_hinted_persona_without_a_page() {
    let srv = spawn(CONFIG).await;
    let mut b = srv.browser();
    let done = b.authorize(&params("e2e", &[("login_hint", "alice")])).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{done:?}");
    let cb = Callback::parse(done.redirect());
    assert_eq!(cb.base, WEB_CB);
    assert_eq!(cb.q("state"), "st");
    assert_eq!(sub_of(&srv, "e2e", "e2e-secret", &cb).await, "Alice Liddell");
    assert!(b.cookie.is_some(), "a real session: its cookie is set");

    // The session is real: another client's request is answered by single sign-on.
    let sso = b.authorize(&params("web", &[])).await;
    let cb = Callback::parse(sso.redirect());
    assert_eq!(sub_of(&srv, "web", "web-secret", &cb).await, "Alice Liddell");

    // A hint naming nobody, or no hint with two personas: the login page as usual.
    let mut b = srv.browser();
    assert!(
        b.authorize(&params("e2e", &[("login_hint", "nobody")]))
            .await
            .is_login()
    );
    assert!(b.authorize(&params("e2e", &[])).await.is_login());
    // prompt=select_account asks; prompt=none never signs anyone in.
    assert!(
        b.authorize(&params("e2e", &[("login_hint", "alice"), ("prompt", "select_account")]))
            .await
            .is_login()
    );
    let none = b
        .authorize(&params("e2e", &[("login_hint", "alice"), ("prompt", "none")]))
        .await;
    assert_eq!(Callback::parse(none.redirect()).q("error"), "login_required");
}

#[tokio::test]
async fn a_persona_with_auto_login_is_signed_in_for_any_client_that_hints_it() {
    let srv = spawn(CONFIG).await;
    let mut b = srv.browser();
    let done = b.authorize(&params("web", &[("login_hint", "bob")])).await;
    let cb = Callback::parse(done.redirect());
    assert_eq!(sub_of(&srv, "web", "web-secret", &cb).await, "Bob Builder");
    // Alice has no auto_login, and `web` does not ask for it.
    let mut b = srv.browser();
    assert!(b.authorize(&params("web", &[("login_hint", "alice")])).await.is_login());
}

#[tokio::test]
async fn consent_is_still_asked_and_an_unmet_essential_acr_still_fails() {
    let srv = spawn(CONFIG).await;
    let mut b = srv.browser();
    let page = b.authorize(&params("third-party", &[("login_hint", "alice")])).await;
    assert!(page.is_consent(), "auto-login signs in; it does not consent: {page:?}");
    assert!(page.body.contains("data-testid=\"consent-approve\""));
    let done = b.consent(&page, true).await;
    assert!(Callback::parse(done.redirect()).query.contains_key("code"));

    let claims = json!({"id_token": {"acr": {"essential": true, "value": "urn:example:mfa"}}}).to_string();
    let mut b = srv.browser();
    let done = b
        .authorize(&params("e2e", &[("login_hint", "alice"), ("claims", &claims)]))
        .await;
    assert_eq!(Callback::parse(done.redirect()).q("error"), "access_denied");
    assert!(b.cookie.is_none());
}

#[tokio::test]
async fn the_only_persona_is_signed_in_without_a_hint() {
    let srv = spawn(
        r#"
[[clients]]
client_id = "e2e"
client_secret = "e2e-secret"
redirect_uris = ["http://localhost:3000/callback"]
scopes = ["openid", "profile"]

[[users]]
username = "solo"
auto_login = true
claims = { name = "Solo" }
"#,
    )
    .await;
    let mut b = srv.browser();
    let done = b.authorize(&params("e2e", &[])).await;
    let cb = Callback::parse(done.redirect());
    assert_eq!(sub_of(&srv, "e2e", "e2e-secret", &cb).await, "Solo");
}

#[tokio::test]
async fn the_pages_carry_stable_test_ids() {
    let srv = spawn(CONFIG).await;
    let mut b = srv.browser();
    let page = b.authorize(&params("web", &[])).await;
    for id in [
        "login-title",
        "login-client",
        "login-personas",
        "persona-alice",
        "persona-bob",
        "login-username",
        "login-password",
        "login-submit",
    ] {
        assert!(page.body.contains(&format!("data-testid=\"{id}\"")), "{id}");
    }
    let wrong = b.login(&page, "alice", "nope").await;
    assert!(wrong.body.contains("data-testid=\"login-error\""));
    let page = b.authorize(&params("third-party", &[])).await;
    let consent = b.persona(&page, "alice").await;
    for id in [
        "consent-title",
        "consent-client",
        "consent-user",
        "consent-scopes",
        "consent-scope-openid",
        "consent-approve",
        "consent-deny",
    ] {
        assert!(consent.body.contains(&format!("data-testid=\"{id}\"")), "{id}");
    }
    let err = b.get("/authorize?client_id=nobody").await;
    assert!(err.body.contains("data-testid=\"error-title\""));
}
