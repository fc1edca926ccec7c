//! Advisory class: consent (and login) not bound to the browser that started the authorization
//! request ("authorization request / consent hijacking", "login CSRF into someone else's
//! request"; RFC 9700 §4.7, §4.8 and RFC 6749 §10.12 for CSRF against the authorization flow).
//!
//! A third party opens `/authorize` and keeps the pending request's id; the victim signs in with
//! that id; the third party posts the consent decision and exchanges the code with its own PKCE
//! verifier. The login and consent steps must belong to one browser.

use crate::common::*;

fn authorize_params(challenge: &str) -> Vec<(&'static str, String)> {
    vec![
        ("client_id", "consent-app".into()),
        ("response_type", "code".into()),
        ("redirect_uri", CONSENT_CB.into()),
        ("scope", "openid profile".into()),
        ("state", "st".into()),
        ("code_challenge", challenge.to_string()),
        ("code_challenge_method", "S256".into()),
    ]
}

async fn start(b: &mut Browser, challenge: &str) -> Page {
    let params = authorize_params(challenge);
    let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.authorize(&pairs).await
}

#[track_caller]
fn assert_refused_other_browser(page: &Page) {
    assert_eq!(page.status, 400, "{page:?}");
    assert!(page.location().is_none(), "nothing is redirected: {page:?}");
    assert!(
        page.body.contains("Sign-in request from another browser"),
        "{}",
        page.body
    );
    assert!(page.body.contains("No code was issued"), "{}", page.body);
    page.assert_page_headers();
}

#[tokio::test]
async fn a_request_started_by_a_third_party_cannot_be_signed_in_to_or_approved_from_another_browser() {
    let srv = spawn_default().await;
    // The attacker starts the request with their own PKCE challenge and keeps its id.
    let (attacker_verifier, attacker_challenge) = pkce_s256();
    let mut attacker = srv.browser();
    let login = start(&mut attacker, &attacker_challenge).await;
    assert!(login.is_login(), "{login:?}");
    let req = login.req();
    assert!(attacker.flow.is_some(), "the attacker's browser got the binding cookie");

    // The victim is lured to sign in with that id (a link to /login?req=..., or a cross-site form).
    let mut victim = srv.browser();
    assert_refused_other_browser(&victim.get(&format!("/login?req={req}")).await);
    let signed_in = victim
        .post(
            "/login",
            &[("req", &req), ("username", "alice"), ("password", "alice-password")],
        )
        .await;
    assert_refused_other_browser(&signed_in);
    assert!(victim.cookie.is_none(), "no session was started");
    let persona = victim.post("/login", &[("req", &req), ("persona", "alice")]).await;
    assert_refused_other_browser(&persona);

    // The attacker posts the consent decision: with no cookie, and with their own cookie.
    let no_cookie = srv
        .browser()
        .post("/consent", &[("req", &req), ("decision", "approve")])
        .await;
    assert_refused_other_browser(&no_cookie);
    let own = attacker
        .post("/consent", &[("req", &req), ("decision", "approve")])
        .await;
    assert!(own.location().is_none(), "{own:?}");
    assert!(own.body.contains("Not signed in"), "{}", own.body);

    // Nothing was issued: the attacker has no code to exchange.
    for page in [&signed_in, &persona, &no_cookie, &own] {
        assert!(!page.body.contains("code="), "{page:?}");
    }
    let r = srv
        .token(
            Some(("consent-app", "consent-secret")),
            &[
                ("grant_type", "authorization_code"),
                ("code", &req),
                ("redirect_uri", CONSENT_CB),
                ("code_verifier", &attacker_verifier),
            ],
        )
        .await;
    r.assert_error(400, "invalid_grant");
}

#[tokio::test]
async fn a_leaked_request_id_cannot_be_approved_elsewhere_and_the_owner_still_can() {
    let srv = spawn_default().await;
    let (verifier, challenge) = pkce_s256();
    let mut victim = srv.browser();
    let login = start(&mut victim, &challenge).await;
    let consent = victim.login(&login, "alice", "alice-password").await;
    assert!(consent.is_consent(), "{consent:?}");
    let req = consent.req();

    // Someone who learns the id (a log, a shoulder, a Referer) cannot see or answer the page:
    // not without cookies, not with their own binding cookie, not with the victim's session
    // cookie alone.
    let mut other = srv.browser();
    let (_, other_challenge) = pkce_s256();
    assert!(start(&mut other, &other_challenge).await.is_login());
    assert_refused_other_browser(&srv.browser().get(&format!("/consent?req={req}")).await);
    assert_refused_other_browser(&other.get(&format!("/consent?req={req}")).await);
    assert_refused_other_browser(&other.post("/consent", &[("req", &req), ("decision", "approve")]).await);
    let mut with_session_only = srv.browser();
    with_session_only.cookie = victim.cookie.clone();
    assert_refused_other_browser(
        &with_session_only
            .post("/consent", &[("req", &req), ("decision", "approve")])
            .await,
    );
    // A refused decision leaves the request to its owner, who approves it and gets the code.
    let done = victim.consent(&consent, true).await;
    let cb = Callback::parse(done.redirect());
    assert_eq!(cb.q("state"), "st");
    let tokens = srv
        .token(
            Some(("consent-app", "consent-secret")),
            &[
                ("grant_type", "authorization_code"),
                ("code", cb.q("code")),
                ("redirect_uri", CONSENT_CB),
                ("code_verifier", &verifier),
            ],
        )
        .await;
    assert!(!tokens.ok("access_token").is_empty());
}

#[tokio::test]
async fn the_binding_cookie_is_httponly_samesite_lax_and_scoped_to_the_login_and_consent_pages() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    let (_, challenge) = pkce_s256();
    let page = start(&mut b, &challenge).await;
    let cookies: Vec<&str> = page
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|v| v.starts_with("latchkey_flow="))
        .collect();
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    let mut paths: Vec<&str> = Vec::new();
    for c in &cookies {
        assert!(c.contains("; HttpOnly"), "{c}");
        assert!(c.contains("; SameSite=Lax"), "{c}");
        assert!(c.contains("; Max-Age=600"), "{c}");
        let value = c["latchkey_flow=".len()..].split(';').next().unwrap();
        assert_eq!(value.len(), 43, "256 random bits, base64url: {c}");
        paths.extend(c.split("; ").filter_map(|a| a.strip_prefix("Path=")));
    }
    paths.sort();
    assert_eq!(paths, ["/consent", "/login"]);
    // A redirect straight back to the app (no page) sets no binding cookie.
    let mut spa = srv.browser();
    let (_, challenge) = pkce_s256();
    let page = spa
        .authorize(&[
            ("client_id", "spa"),
            ("response_type", "code"),
            ("redirect_uri", SPA_CB),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("prompt", "none"),
        ])
        .await;
    assert!(page.location().is_some());
    assert!(page.header("set-cookie").is_empty(), "{page:?}");
}

#[tokio::test]
async fn several_tabs_of_one_browser_share_the_binding_and_both_complete() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    let (_, c1) = pkce_s256();
    let (_, c2) = pkce_s256();
    let first = start(&mut b, &c1).await;
    let flow = b.flow.clone();
    let second = start(&mut b, &c2).await;
    assert_eq!(b.flow, flow, "an existing binding cookie is kept");
    let consent = b.login(&second, "alice", "alice-password").await;
    b.consent(&consent, true).await.redirect();
    // The first tab: the browser is signed in now; "continue as" answers it (consent is remembered
    // for this confidential client).
    let done = b.post("/login", &[("req", &first.req()), ("continue", "1")]).await;
    let cb = Callback::parse(done.redirect());
    assert!(!cb.q("code").is_empty());
}

#[tokio::test]
async fn a_forged_binding_cookie_is_refused() {
    let srv = spawn_default().await;
    let mut victim = srv.browser();
    let (_, challenge) = pkce_s256();
    let login = start(&mut victim, &challenge).await;
    let mut forger = srv.browser();
    let real = victim.flow.clone().unwrap();
    // The real value with its last character changed (never to itself).
    let last = if real.ends_with('A') { 'B' } else { 'A' };
    for forged in [
        "x".to_string(),
        "A".repeat(43),
        format!("{}{last}", &real[..42]),
        format!("{}; latchkey_flow=", "A".repeat(43)),
    ] {
        forger.flow = Some(forged);
        assert_refused_other_browser(
            &forger
                .post("/login", &[("req", &login.req()), ("persona", "alice")])
                .await,
        );
    }
    // The victim is unaffected.
    let done = victim.persona(&login, "alice").await;
    assert!(done.is_consent(), "{done:?}");
}
