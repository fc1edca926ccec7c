//! Step-up authentication: `acr_values` and an essential `acr` in the `claims` parameter
//! (OIDC Core §3.1.2.1, §5.5.1.1) against two personas, one with a second factor.

use openidconnect::core::{CoreAuthenticationFlow, CoreIdTokenClaims};
use openidconnect::{AuthenticationContextClass, AuthorizationCode, CsrfToken, Nonce, TokenResponse};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

const MFA: &str = "urn:example:mfa";

const CONFIG: &str = r#"
[[clients]]
client_id = "web"
client_secret = "web-secret"
name = "Web app"
redirect_uris = ["http://localhost:3000/callback"]
grant_types = ["authorization_code", "refresh_token"]
scopes = ["openid", "profile", "email", "offline_access"]

[[users]]
username = "alice"
password = "alice-password"
acr = "urn:example:mfa"
amr = ["pwd", "otp"]
claims = { name = "Alice Liddell", email = "alice@example.com" }

[[users]]
username = "bob"
password = "bob-password"
claims = { name = "Bob Builder" }
"#;

fn params<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut p = vec![
        ("client_id", "web"),
        ("response_type", "code"),
        ("redirect_uri", WEB_CB),
        ("scope", "openid profile offline_access"),
        ("state", "st"),
        ("nonce", "n"),
    ];
    p.extend_from_slice(extra);
    p
}

async fn exchange(srv: &TestServer, code: &str) -> Reply {
    srv.token(
        Some(("web", "web-secret")),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", WEB_CB),
        ],
    )
    .await
}

fn essential(values: &[&str]) -> String {
    json!({"id_token": {"acr": {"essential": true, "values": values}}}).to_string()
}

#[tokio::test]
async fn acr_values_are_voluntary_and_the_id_token_states_what_was_reached() {
    let srv = spawn(CONFIG).await;
    let p = params(&[("acr_values", "urn:example:mfa urn:example:pwd")]);

    let mut b = srv.browser();
    let page = b.authorize(&p).await;
    assert!(page.body.contains("data-testid=\"login-acr-request\""), "{}", page.body);
    assert!(page.body.contains("with a second factor"), "alice's step-up is offered");
    let done = b.persona(&page, "alice").await;
    let tokens = exchange(&srv, Callback::parse(done.redirect()).q("code")).await;
    let claims = jwt_claims(&tokens.ok("id_token"));
    assert_eq!(claims["acr"], MFA);
    assert_eq!(claims["amr"], json!(["pwd", "otp"]));
    assert!(claims["auth_time"].is_i64(), "{claims}");

    // Refreshing keeps how the user authenticated.
    let refreshed = srv
        .token(
            Some(("web", "web-secret")),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &tokens.ok("refresh_token")),
            ],
        )
        .await;
    let again = jwt_claims(&refreshed.ok("id_token"));
    assert_eq!(
        (&again["acr"], &again["amr"], &again["auth_time"]),
        (&claims["acr"], &claims["amr"], &claims["auth_time"])
    );

    // Bob has no second factor: a voluntary request still completes, at level 0.
    let mut b = srv.browser();
    let page = b.authorize(&p).await;
    let done = b.login(&page, "bob", "bob-password").await;
    let cb = Callback::parse(done.redirect());
    let claims = jwt_claims(&exchange(&srv, cb.q("code")).await.ok("id_token"));
    assert_eq!(claims["acr"], "0");
    assert_eq!(claims["amr"], json!(["pwd"]), "a password sign-in");

    // Without any acr request, a persona without one gets no acr claim.
    let mut b = srv.browser();
    let page = b.authorize(&params(&[])).await;
    assert!(!page.body.contains("login-acr-request"));
    let done = b.persona(&page, "bob").await;
    let claims = jwt_claims(
        &exchange(&srv, Callback::parse(done.redirect()).q("code"))
            .await
            .ok("id_token"),
    );
    assert!(claims.get("acr").is_none() && claims.get("amr").is_none(), "{claims}");
}

#[tokio::test]
async fn an_essential_acr_the_persona_cannot_meet_ends_with_access_denied() {
    let srv = spawn(CONFIG).await;
    let claims_param = essential(&[MFA]);
    let p = params(&[("claims", &claims_param)]);

    let mut b = srv.browser();
    let page = b.authorize(&p).await;
    assert!(page.body.contains("This app requires"), "{}", page.body);
    assert!(page.body.contains("data-testid=\"persona-acr-bob\""));
    assert!(page.body.contains("below the requested level"));
    let done = b.persona(&page, "bob").await;
    let cb = Callback::parse(done.redirect());
    assert_eq!(cb.base, WEB_CB);
    assert_eq!(cb.q("error"), "access_denied");
    assert!(cb.q("error_description").contains("§5.5.1.1"), "{cb:?}");
    assert_eq!(cb.q("state"), "st");
    assert_eq!(cb.q("iss"), srv.issuer());
    assert!(b.cookie.is_none(), "a failed authentication signs nobody in");
    // The request is over: its page cannot be used again.
    let replay = b.post("/login", &[("req", &page.req()), ("persona", "alice")]).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST, "{replay:?}");

    // Alice meets it, checked by an independent relying party.
    let rp = srv.rp("web", Some("web-secret"), WEB_CB).await;
    let (url, _csrf, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_extra_param("claims", claims_param.clone())
        .url();
    let mut b = srv.browser();
    let page = b.get(url.as_str()).await;
    let done = b.login(&page, "alice", "alice-password").await;
    let cb = Callback::parse(done.redirect());
    let tokens = rp
        .exchange_code(AuthorizationCode::new(cb.q("code").to_string()))
        .expect("token endpoint")
        .request_async(&srv.http)
        .await
        .expect("code exchange");
    let verifier = rp.id_token_verifier();
    let claims: &CoreIdTokenClaims = tokens
        .id_token()
        .expect("id_token")
        .claims(&verifier, &nonce)
        .expect("verifies");
    assert_eq!(
        claims.auth_context_ref(),
        Some(&AuthenticationContextClass::new(MFA.into()))
    );
    let amr: Vec<String> = claims
        .auth_method_refs()
        .expect("amr")
        .iter()
        .map(|m| m.to_string())
        .collect();
    assert_eq!(amr, ["pwd", "otp"]);
    assert!(claims.auth_time().is_some());
}

#[tokio::test]
async fn a_session_below_an_essential_acr_must_sign_in_again() {
    let srv = spawn(CONFIG).await;
    let mut b = srv.browser();
    let page = b.authorize(&params(&[])).await;
    b.persona(&page, "bob").await;
    assert!(b.cookie.is_some());

    let claims_param = essential(&[MFA]);
    // prompt=none cannot step up.
    let none = b
        .authorize(&params(&[("claims", &claims_param), ("prompt", "none")]))
        .await;
    assert_eq!(Callback::parse(none.redirect()).q("error"), "login_required");
    // Interactively: the login page, without "continue as bob".
    let page = b.authorize(&params(&[("claims", &claims_param)])).await;
    assert!(page.is_login(), "{page:?}");
    assert!(
        !page.body.contains("Continue as"),
        "bob's session cannot satisfy the request"
    );
    let done = b.persona(&page, "alice").await;
    let code = Callback::parse(done.redirect()).q("code").to_string();
    assert_eq!(jwt_claims(&exchange(&srv, &code).await.ok("id_token"))["acr"], MFA);
    // Alice's session now answers the essential request at once.
    let again = b.authorize(&params(&[("claims", &claims_param)])).await;
    assert!(
        Callback::parse(again.redirect()).query.contains_key("code"),
        "{again:?}"
    );
}

#[tokio::test]
async fn discovery_lists_the_acr_values_and_bad_claims_are_refused() {
    let srv = spawn(CONFIG).await;
    let doc: Value = srv
        .http
        .get(srv.at("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["acr_values_supported"], json!(["0", MFA]));
    assert_eq!(doc["claims_parameter_supported"], true);
    for c in ["acr", "amr", "auth_time"] {
        assert!(doc["claims_supported"].as_array().unwrap().contains(&json!(c)), "{c}");
    }
    // The independent RP crate reads them too.
    let md = srv.metadata().await;
    assert_eq!(md.acr_values_supported().map(Vec::len), Some(2));

    let mut b = srv.browser();
    for bad in ["not json", r#"{"id_token":{"acr":{"essential":"yes"}}}"#] {
        let page = b.authorize(&params(&[("claims", bad)])).await;
        let cb = Callback::parse(page.redirect());
        assert_eq!(cb.q("error"), "invalid_request", "{bad}");
        assert!(cb.q("error_description").contains("§5.5"), "{cb:?}");
    }

    // A persona's acr must be usable in acr_values.
    let r = srv
        .http
        .post(srv.at("/admin/api/users"))
        .json(&json!({"username": "carol", "acr": "has space", "amr": [""]}))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    let text = body.to_string();
    assert!(text.contains("acr") && text.contains("amr[0]"), "{text}");
}

#[tokio::test]
async fn the_claims_parameter_releases_requested_id_token_claims() {
    let srv = spawn(CONFIG).await;
    let claims_param = json!({"id_token": {"email": {"essential": true}, "acr": null}}).to_string();
    let mut b = srv.browser();
    // `profile` only: email is not released by the scope, but asked for by `claims`.
    let page = b.authorize(&params(&[("claims", &claims_param)])).await;
    let done = b.persona(&page, "alice").await;
    let claims = jwt_claims(
        &exchange(&srv, Callback::parse(done.redirect()).q("code"))
            .await
            .ok("id_token"),
    );
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["acr"], MFA);
}
