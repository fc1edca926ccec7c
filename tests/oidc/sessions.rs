//! Single sign-on through the session cookie, `prompt`, `max_age`, `login_hint`, and consent.

use reqwest::StatusCode;

use crate::common::*;

fn web_params<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut p = vec![
        ("client_id", "web"),
        ("response_type", "code"),
        ("redirect_uri", WEB_CB),
        ("scope", "openid"),
    ];
    p.extend_from_slice(extra);
    p
}

async fn id_claims(srv: &TestServer, code: &str) -> serde_json::Value {
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
    jwt_claims(&r.ok("id_token"))
}

#[tokio::test]
async fn a_second_authorization_with_the_session_cookie_redirects_at_once() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    let first = b
        .code_flow(&web_params(&[("state", "1")]), "alice", "alice-password")
        .await;
    let first_id = id_claims(&srv, first.q("code")).await;
    srv.clock().advance(30);
    let again = b.authorize(&web_params(&[("state", "2"), ("nonce", "n2")])).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{again:?}");
    let cb = Callback::parse(again.redirect());
    assert_eq!(cb.q("state"), "2");
    assert_eq!(cb.q("iss"), srv.issuer());
    let id = id_claims(&srv, cb.q("code")).await;
    assert_eq!(id["sub"], first_id["sub"]);
    assert_eq!(id["nonce"], "n2");
    assert_eq!(
        id["auth_time"], first_id["auth_time"],
        "SSO keeps the original auth_time"
    );
    // SSO works across clients too (spa with PKCE).
    let (_, challenge) = pkce_s256();
    let spa = b
        .authorize(&[
            ("client_id", "spa"),
            ("response_type", "code"),
            ("redirect_uri", SPA_CB),
            ("scope", "openid"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .await;
    assert!(Callback::parse(spa.redirect()).query.contains_key("code"));
    // A browser without the cookie sees the login page.
    let other = srv.browser().authorize(&web_params(&[])).await;
    assert!(other.is_login());
}

#[tokio::test]
async fn prompt_none_with_a_session_redirects_with_a_code() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    b.code_flow(&web_params(&[]), "alice", "alice-password").await;
    let page = b
        .authorize(&web_params(&[("prompt", "none"), ("state", "silent")]))
        .await;
    let cb = Callback::parse(page.redirect());
    assert!(cb.query.contains_key("code"), "{cb:?}");
    assert_eq!(cb.q("state"), "silent");
}

#[tokio::test]
async fn prompt_login_forces_the_login_page() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    let first = b.code_flow(&web_params(&[]), "alice", "alice-password").await;
    let first_id = id_claims(&srv, first.q("code")).await;
    srv.clock().advance(10);
    let page = b.authorize(&web_params(&[("prompt", "login"), ("state", "pl")])).await;
    assert!(page.is_login(), "{page:?}");
    // Sign in as someone else this time.
    let cb = Callback::parse(b.persona(&page, "bob").await.redirect());
    assert_eq!(cb.q("state"), "pl");
    let id = id_claims(&srv, cb.q("code")).await;
    assert_ne!(id["sub"], first_id["sub"]);
    assert!(id["auth_time"].as_i64() > first_id["auth_time"].as_i64());
    // And the session is now bob's.
    let sso = b.authorize(&web_params(&[])).await;
    let id = id_claims(&srv, Callback::parse(sso.redirect()).q("code")).await;
    assert_eq!(id["sub"], jwt_claims_sub_of(&srv, "bob").await);
}

/// The subject of `username` via the password grant.
async fn jwt_claims_sub_of(srv: &TestServer, username: &str) -> serde_json::Value {
    let r = srv
        .token(
            Some(("cli", "cli-secret")),
            &[
                ("grant_type", "password"),
                ("username", username),
                ("password", &format!("{username}-password")),
                ("scope", "openid"),
            ],
        )
        .await;
    jwt_claims(&r.ok("id_token"))["sub"].clone()
}

#[tokio::test]
async fn max_age_forces_a_new_login_when_the_session_is_older() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    let first = b.code_flow(&web_params(&[]), "alice", "alice-password").await;
    let first_id = id_claims(&srv, first.q("code")).await;
    srv.clock().advance(1);
    let page = b.authorize(&web_params(&[("max_age", "0")])).await;
    assert!(page.is_login(), "max_age=0 asks again: {page:?}");
    let cb = Callback::parse(b.login(&page, "alice", "alice-password").await.redirect());
    let id = id_claims(&srv, cb.q("code")).await;
    assert!(
        id["auth_time"].as_i64() > first_id["auth_time"].as_i64(),
        "a fresh auth_time"
    );
    // A generous max_age is satisfied by the (new) session.
    srv.clock().advance(5);
    let page = b.authorize(&web_params(&[("max_age", "3600")])).await;
    assert!(page.location().is_some(), "{page:?}");
    // prompt=none with a too-old session is login_required.
    srv.clock().advance(100);
    let page = b.authorize(&web_params(&[("max_age", "50"), ("prompt", "none")])).await;
    assert_eq!(Callback::parse(page.redirect()).q("error"), "login_required");
}

#[tokio::test]
async fn login_hint_preselects_the_persona() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    let page = b.authorize(&web_params(&[("login_hint", "bob")])).await;
    assert!(page.is_login());
    assert!(
        page.body
            .contains("class=\"persona hinted\" type=\"submit\" name=\"persona\" value=\"bob\""),
        "{}",
        page.body
    );
    assert!(
        !page
            .body
            .contains("class=\"persona hinted\" type=\"submit\" name=\"persona\" value=\"alice\"")
    );
    assert!(
        page.body
            .contains("name=\"username\" autocomplete=\"username\" value=\"bob\""),
        "{}",
        page.body
    );
    let plain = b.authorize(&web_params(&[])).await;
    assert!(!plain.body.contains("persona hinted"));
}

#[tokio::test]
async fn consent_approve_issues_a_code_and_is_remembered() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    let params = [
        ("client_id", "consent-app"),
        ("response_type", "code"),
        ("redirect_uri", CONSENT_CB),
        ("scope", "openid email"),
        ("state", "c"),
    ];
    let page = b.authorize(&params).await;
    let consent = b.login(&page, "alice", "alice-password").await;
    assert!(consent.is_consent(), "{consent:?}");
    consent.assert_page_headers();
    assert!(consent.body.contains("Consent app"));
    assert!(consent.body.contains("<code>email</code>"));
    let done = b.consent(&consent, true).await;
    let cb = Callback::parse(done.redirect());
    assert_eq!(cb.base, CONSENT_CB);
    assert_eq!(cb.q("state"), "c");
    let r = srv
        .token(
            Some(("consent-app", "consent-secret")),
            &[
                ("grant_type", "authorization_code"),
                ("code", cb.q("code")),
                ("redirect_uri", CONSENT_CB),
            ],
        )
        .await;
    assert_eq!(jwt_claims(&r.ok("id_token"))["email"], "alice@example.com");
    // Remembered: the next authorization goes straight back.
    let again = b.authorize(&params).await;
    assert!(
        Callback::parse(again.redirect()).query.contains_key("code"),
        "{again:?}"
    );
    // A subset of the consented scopes is covered as well.
    let mut fewer = params;
    fewer[3] = ("scope", "openid");
    assert!(b.authorize(&fewer).await.location().is_some());
    // More scopes than consented: asked again.
    let mut more = params;
    more[3] = ("scope", "openid email profile");
    assert!(b.authorize(&more).await.is_consent());
    // prompt=consent asks again even when covered.
    let mut prompt = params.to_vec();
    prompt.push(("prompt", "consent"));
    let page = b.authorize(&prompt).await;
    assert!(page.is_consent(), "{page:?}");
    // prompt=none without consent for new scopes is consent_required.
    let mut silent = more.to_vec();
    silent.push(("prompt", "none"));
    assert_eq!(
        Callback::parse(b.authorize(&silent).await.redirect()).q("error"),
        "consent_required"
    );
    // Consent is per user: bob is asked.
    let mut bob = srv.browser();
    let page = bob.authorize(&params).await;
    assert!(bob.persona(&page, "bob").await.is_consent());
}

#[tokio::test]
async fn consent_deny_redirects_access_denied() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    let page = b
        .authorize(&[
            ("client_id", "consent-app"),
            ("response_type", "code"),
            ("redirect_uri", CONSENT_CB),
            ("scope", "openid"),
            ("state", "d"),
        ])
        .await;
    let consent = b.persona(&page, "alice").await;
    let done = b.consent(&consent, false).await;
    let cb = Callback::parse(done.redirect());
    assert_eq!(cb.q("error"), "access_denied");
    assert_eq!(cb.q("state"), "d");
    assert_eq!(cb.q("iss"), srv.issuer());
    assert!(!cb.query.contains_key("code"));
    // Not remembered: asked again next time.
    let page = b
        .authorize(&[
            ("client_id", "consent-app"),
            ("response_type", "code"),
            ("redirect_uri", CONSENT_CB),
            ("scope", "openid"),
        ])
        .await;
    assert!(page.is_consent(), "{page:?}");
    // A consent form cannot be answered twice.
    let replay = b
        .post("/consent", &[("req", &consent.req()), ("decision", "approve")])
        .await;
    assert!(replay.location().is_none(), "{replay:?}");
}

#[tokio::test]
async fn continue_as_cannot_bypass_max_age_or_prompt_login() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    let first = b.code_flow(&web_params(&[]), "alice", "alice-password").await;
    let first_id = id_claims(&srv, first.q("code")).await;
    srv.clock().advance(120);
    // The session is older than max_age: the user must authenticate again (OIDC Core
    // §3.1.2.1), so "continue as alice" must not reuse the old authentication.
    let page = b.authorize(&web_params(&[("max_age", "60")])).await;
    assert!(page.is_login(), "{page:?}");
    let cont = b.post("/login", &[("req", &page.req()), ("continue", "1")]).await;
    if let Some(loc) = cont.location() {
        let id = id_claims(&srv, Callback::parse(loc).q("code")).await;
        let auth_time = id["auth_time"].as_i64().expect("auth_time");
        assert!(
            auth_time + 60 >= srv.clock().now(),
            "id_token auth_time {auth_time} violates max_age=60 (first login {})",
            first_id["auth_time"]
        );
    } else {
        assert!(cont.is_login(), "{cont:?}");
    }
    // prompt=login: a hand-made "continue" does not skip the login either.
    let page = b.authorize(&web_params(&[("prompt", "login")])).await;
    assert!(page.is_login());
    assert!(
        !page.body.contains("name=\"continue\""),
        "no continue-as offered under prompt=login"
    );
    let cont = b.post("/login", &[("req", &page.req()), ("continue", "1")]).await;
    assert!(cont.location().is_none(), "prompt=login requires a new login: {cont:?}");
    assert!(cont.is_login());
}

#[tokio::test]
async fn prompt_consent_asks_even_clients_that_do_not_require_consent() {
    // OIDC Core §3.1.2.1: prompt=consent — the server SHOULD prompt for consent.
    let srv = spawn_default().await;
    let mut b = srv.browser();
    // Without a session: login, then the consent page (web has no require_consent).
    let page = b
        .authorize(&web_params(&[("prompt", "consent"), ("state", "pc1")]))
        .await;
    let consent = b.login(&page, "alice", "alice-password").await;
    assert!(consent.is_consent(), "{consent:?}");
    consent.assert_page_headers();
    assert!(consent.body.contains("Web app"), "{}", consent.body);
    let cb = Callback::parse(b.consent(&consent, true).await.redirect());
    assert_eq!(cb.base, WEB_CB);
    assert_eq!(cb.q("state"), "pc1");
    let id = id_claims(&srv, cb.q("code")).await;
    assert_eq!(id["sub"], jwt_claims_sub_of(&srv, "alice").await);
    // Without prompt=consent the signed-in user goes straight back.
    let plain = b.authorize(&web_params(&[])).await;
    assert!(Callback::parse(plain.redirect()).query.contains_key("code"));
    // With a session and a remembered approval, prompt=consent still asks; denying is
    // access_denied and issues no code.
    let consent = b
        .authorize(&web_params(&[("prompt", "consent"), ("state", "pc2")]))
        .await;
    assert!(consent.is_consent(), "{consent:?}");
    let cb = Callback::parse(b.consent(&consent, false).await.redirect());
    assert_eq!(cb.base, WEB_CB);
    assert_eq!(cb.q("error"), "access_denied");
    assert_eq!(cb.q("state"), "pc2");
    assert_eq!(cb.q("iss"), srv.issuer());
    assert!(!cb.query.contains_key("code"));
    // And approving with a session yields a code.
    let consent = b
        .authorize(&web_params(&[("prompt", "consent"), ("state", "pc3")]))
        .await;
    let cb = Callback::parse(b.consent(&consent, true).await.redirect());
    assert_eq!(cb.q("state"), "pc3");
    assert!(cb.query.contains_key("code"), "{cb:?}");
}

#[tokio::test]
async fn prompt_select_account_shows_the_personas_despite_a_session() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    b.code_flow(&web_params(&[]), "alice", "alice-password").await;
    assert!(b.cookie.is_some());
    let page = b
        .authorize(&web_params(&[("prompt", "select_account"), ("state", "sa")]))
        .await;
    assert!(page.is_login(), "{page:?}");
    for who in ["alice", "bob"] {
        assert!(
            page.body.contains(&format!("name=\"persona\" value=\"{who}\"")),
            "no persona {who}: {}",
            page.body
        );
    }
    // Choosing another account signs in as that account.
    let cb = Callback::parse(b.persona(&page, "bob").await.redirect());
    assert_eq!(cb.q("state"), "sa");
    let id = id_claims(&srv, cb.q("code")).await;
    assert_eq!(id["sub"], jwt_claims_sub_of(&srv, "bob").await);
}
