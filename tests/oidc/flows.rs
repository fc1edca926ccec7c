//! Complete authorization code flows, driven like a browser and checked by an independent
//! relying party (`openidconnect`).

use openidconnect::core::{CoreAuthenticationFlow, CoreIdTokenClaims};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, CsrfToken, Nonce, OAuth2TokenResponse, PkceCodeChallenge, Scope, TokenResponse,
};
use reqwest::StatusCode;

use crate::common::*;

#[tokio::test]
async fn confidential_client_completes_the_code_flow_with_client_secret_basic() {
    let srv = spawn_default().await;
    let rp = srv.rp("web", Some("web-secret"), WEB_CB).await;
    let (url, csrf, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .url();
    assert!(
        url.as_str().starts_with(&format!("{}/authorize?", srv.issuer())),
        "{url}"
    );

    let mut browser = srv.browser();
    let page = browser.get(url.as_str()).await;
    assert!(page.is_login(), "{page:?}");
    assert!(page.body.contains("Web app"), "the login page names the client");
    let done = browser.login(&page, "alice", "alice-password").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{done:?}");
    let cb = Callback::parse(done.redirect());
    assert_eq!(cb.base, WEB_CB);
    assert_eq!(cb.q("state"), csrf.secret());
    assert_eq!(cb.q("iss"), srv.issuer());

    let http = srv.http.clone();
    let tokens = rp
        .exchange_code(AuthorizationCode::new(cb.q("code").to_string()))
        .expect("token endpoint discovered")
        .request_async(&http)
        .await
        .expect("code exchange");
    let verifier = rp.id_token_verifier();
    let id_token = tokens.id_token().expect("an id_token");
    let claims: &CoreIdTokenClaims = id_token.claims(&verifier, &nonce).expect("id_token verifies");
    assert_eq!(claims.issuer().as_str(), srv.issuer());
    assert_eq!(claims.audiences().len(), 1);
    assert_eq!(claims.audiences()[0].as_str(), "web");
    assert_eq!(
        claims.email().map(|e| e.as_str().to_string()),
        Some("alice@example.com".into())
    );
    let name = claims.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_string());
    assert_eq!(name.as_deref(), Some("Alice Liddell"));
    // at_hash matches the access token, computed by the relying-party crate.
    let expected = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().expect("alg"),
        id_token.signing_key(&verifier).expect("key"),
    )
    .expect("hash");
    assert_eq!(claims.access_token_hash(), Some(&expected));
    assert!(tokens.refresh_token().is_some(), "web has the refresh_token grant");
    let scopes: Vec<String> = tokens
        .scopes()
        .expect("scope stated")
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(scopes, vec!["openid", "profile", "email"]);
    assert!(srv.active(tokens.access_token().secret()).await);

    // UserInfo through the relying party as well.
    let info: openidconnect::core::CoreUserInfoClaims = rp
        .user_info(tokens.access_token().clone(), Some(claims.subject().clone()))
        .expect("userinfo endpoint discovered")
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(info.subject(), claims.subject());
    assert_eq!(info.email().map(|e| e.as_str()), Some("alice@example.com"));
}

#[tokio::test]
async fn public_client_completes_the_code_flow_with_none_and_pkce_s256() {
    let srv = spawn_default().await;
    let rp = srv.rp("spa", None, SPA_CB).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .url();
    assert!(url.as_str().contains("code_challenge_method=S256"));
    let mut browser = srv.browser();
    let page = browser.get(url.as_str()).await;
    let cb = Callback::parse(browser.login(&page, "bob", "bob-password").await.redirect());
    assert_eq!(cb.q("state"), csrf.secret());
    let http = srv.http.clone();
    let tokens = rp
        .exchange_code(AuthorizationCode::new(cb.q("code").to_string()))
        .expect("token endpoint")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("public client exchanges the code with its verifier");
    let claims = tokens
        .id_token()
        .expect("id_token")
        .claims(&rp.id_token_verifier(), &nonce)
        .expect("id_token verifies");
    assert_eq!(claims.audiences()[0].as_str(), "spa");
    assert!(claims.email().is_none(), "no email scope, no email claim");
    assert!(srv.active(tokens.access_token().secret()).await);
    // The public client refreshes with its client_id alone (rotation on).
    let rt = tokens.refresh_token().expect("spa has the refresh_token grant");
    let refreshed = rp
        .exchange_refresh_token(rt)
        .expect("token endpoint")
        .request_async(&http)
        .await
        .expect("public client refreshes");
    let rt2 = refreshed.refresh_token().expect("rotated refresh token");
    assert_ne!(rt2.secret(), rt.secret());
    let id2 = refreshed.id_token().expect("a new id_token on refresh");
    let c2 = id2
        .claims(&rp.id_token_verifier(), |_: Option<&Nonce>| Ok(()))
        .expect("refreshed id_token verifies");
    assert_eq!(c2.subject(), claims.subject());
}

#[tokio::test]
async fn persona_button_signs_in_with_one_click() {
    let srv = spawn_default().await;
    let mut browser = srv.browser();
    let page = browser
        .authorize(&[
            ("client_id", "web"),
            ("response_type", "code"),
            ("redirect_uri", WEB_CB),
            ("scope", "openid"),
            ("state", "s1"),
        ])
        .await;
    assert!(page.body.contains("name=\"persona\" value=\"alice\""));
    assert!(page.body.contains("name=\"persona\" value=\"bob\""));
    let done = browser.persona(&page, "bob").await;
    assert!(browser.cookie.is_some(), "a session cookie is set");
    let set_cookie = done.header("set-cookie");
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    let cb = Callback::parse(done.redirect());
    assert_eq!(cb.q("state"), "s1");
    let r = srv
        .token(
            Some(("web", "web-secret")),
            &[
                ("grant_type", "authorization_code"),
                ("code", cb.q("code")),
                ("redirect_uri", WEB_CB),
            ],
        )
        .await;
    let id = jwt_claims(&r.ok("id_token"));
    assert_eq!(id["sub"], jwt_claims(&r.ok("access_token"))["sub"]);
    let bob_sub = id["sub"].as_str().expect("sub").to_string();
    // The password login of the same user yields the same subject.
    let mut b2 = srv.browser();
    let cb2 = b2
        .code_flow(
            &[
                ("client_id", "web"),
                ("response_type", "code"),
                ("redirect_uri", WEB_CB),
                ("scope", "openid"),
            ],
            "bob",
            "bob-password",
        )
        .await;
    let r2 = srv
        .token(
            Some(("web", "web-secret")),
            &[
                ("grant_type", "authorization_code"),
                ("code", cb2.q("code")),
                ("redirect_uri", WEB_CB),
            ],
        )
        .await;
    assert_eq!(jwt_claims(&r2.ok("id_token"))["sub"], bob_sub.as_str());
}

#[tokio::test]
async fn wrong_password_stays_on_the_login_page_with_a_message() {
    let srv = spawn_default().await;
    let mut browser = srv.browser();
    let page = browser
        .authorize(&[
            ("client_id", "web"),
            ("response_type", "code"),
            ("redirect_uri", WEB_CB),
            ("state", "x"),
        ])
        .await;
    let again = browser.login(&page, "alice", "not-her-password").await;
    assert_eq!(again.status, StatusCode::OK, "{again:?}");
    assert!(again.location().is_none());
    assert!(again.is_login(), "still the login page");
    assert!(again.body.contains("Wrong username or password"), "{}", again.body);
    assert!(!again.body.contains("code="), "no code anywhere");
    assert!(browser.cookie.is_none(), "no session after a failed login");
    // Unknown user too.
    let again = browser.login(&again, "mallory", "x").await;
    assert!(again.is_login() && again.location().is_none());
    // And the same request can still succeed afterwards.
    let done = browser.login(&again, "alice", "alice-password").await;
    let cb = Callback::parse(done.redirect());
    assert_eq!(cb.q("state"), "x");
    assert!(!cb.q("code").is_empty());
}

#[tokio::test]
async fn state_nonce_and_iss_round_trip() {
    let srv = spawn_default().await;
    let mut browser = srv.browser();
    let state = "st &=?#ü/xyz";
    let cb = browser
        .code_flow(
            &[
                ("client_id", "web"),
                ("response_type", "code"),
                ("redirect_uri", WEB_CB),
                ("scope", "openid"),
                ("state", state),
                ("nonce", "n-0S6_WzA2Mj"),
            ],
            "alice",
            "alice-password",
        )
        .await;
    assert_eq!(cb.q("state"), state);
    assert_eq!(cb.q("iss"), srv.issuer(), "RFC 9207 iss");
    let r = srv
        .token(
            Some(("web", "web-secret")),
            &[
                ("grant_type", "authorization_code"),
                ("code", cb.q("code")),
                ("redirect_uri", WEB_CB),
            ],
        )
        .await;
    assert_eq!(jwt_claims(&r.ok("id_token"))["nonce"], "n-0S6_WzA2Mj");
    // Without a nonce in the request there is none in the id_token.
    let mut browser = srv.browser();
    let cb = browser
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
    assert!(!cb.query.contains_key("state"), "no state sent, none returned");
    let r = srv
        .token(
            Some(("web", "web-secret")),
            &[
                ("grant_type", "authorization_code"),
                ("code", cb.q("code")),
                ("redirect_uri", WEB_CB),
            ],
        )
        .await;
    assert!(jwt_claims(&r.ok("id_token")).get("nonce").is_none());
}

#[tokio::test]
async fn id_token_carries_every_required_claim() {
    let srv = spawn_default().await;
    let before = srv.clock().now();
    let mut browser = srv.browser();
    let cb = browser
        .code_flow(
            &[
                ("client_id", "web"),
                ("response_type", "code"),
                ("redirect_uri", WEB_CB),
                ("scope", "openid"),
                ("nonce", "abc"),
            ],
            "alice",
            "alice-password",
        )
        .await;
    let r = srv
        .token(
            Some(("web", "web-secret")),
            &[
                ("grant_type", "authorization_code"),
                ("code", cb.q("code")),
                ("redirect_uri", WEB_CB),
            ],
        )
        .await;
    let at = r.ok("access_token");
    let id = jwt_claims(&r.ok("id_token"));
    assert_eq!(id["iss"], srv.issuer());
    assert!(id["sub"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(id["aud"], "web");
    assert_eq!(id["azp"], "web");
    assert_eq!(id["nonce"], "abc");
    let iat = id["iat"].as_i64().expect("iat");
    let exp = id["exp"].as_i64().expect("exp");
    let auth_time = id["auth_time"].as_i64().expect("auth_time");
    assert!(iat >= before && iat <= srv.clock().now());
    assert_eq!(exp - iat, 600, "id_token_ttl default");
    assert!(auth_time >= before && auth_time <= iat);
    assert_eq!(
        id["at_hash"],
        latchkey::oauth::id_token::half_hash(latchkey::model::SigningAlg::RS256, &at)
    );
    assert_eq!(r.json["token_type"], "Bearer");
    assert!(r.json["expires_in"].as_u64().is_some_and(|e| e > 0));
    assert_eq!(r.json["scope"], "openid");
    // Only openid: no profile or email claims.
    for c in ["name", "email", "email_verified", "team", "preferred_username"] {
        assert!(id.get(c).is_none(), "{c} released without its scope: {id}");
    }
}

#[tokio::test]
async fn claims_follow_the_granted_scopes() {
    let srv = spawn_default().await;
    async fn id_claims(srv: &TestServer, scope: &str) -> (serde_json::Value, String) {
        let mut browser = srv.browser();
        let cb = browser
            .code_flow(
                &[
                    ("client_id", "web"),
                    ("response_type", "code"),
                    ("redirect_uri", WEB_CB),
                    ("scope", scope),
                ],
                "alice",
                "alice-password",
            )
            .await;
        let r = srv
            .token(
                Some(("web", "web-secret")),
                &[
                    ("grant_type", "authorization_code"),
                    ("code", cb.q("code")),
                    ("redirect_uri", WEB_CB),
                ],
            )
            .await;
        (jwt_claims(&r.ok("id_token")), r.ok("access_token"))
    }
    let (email, _) = id_claims(&srv, "openid email").await;
    assert_eq!(email["email"], "alice@example.com");
    assert_eq!(email["email_verified"], true);
    assert!(email.get("name").is_none());
    assert!(email.get("team").is_none());

    let (profile, _) = id_claims(&srv, "openid profile").await;
    assert_eq!(profile["name"], "Alice Liddell");
    assert_eq!(profile["preferred_username"], "alice");
    assert!(profile.get("email").is_none());

    let (team, at) = id_claims(&srv, "openid team").await;
    assert_eq!(team["team"], "blue");
    assert_eq!(team["department"], "R&D");
    assert!(team.get("email").is_none() && team.get("name").is_none());

    // UserInfo releases the same claims.
    let info = srv
        .http
        .get(srv.at("/userinfo"))
        .bearer_auth(&at)
        .send()
        .await
        .expect("userinfo");
    let info = Reply::from(info).await;
    assert_eq!(info.status, StatusCode::OK, "{info:?}");
    assert_eq!(info.json["team"], "blue");
    assert_eq!(info.json["sub"], team["sub"]);
    assert!(info.json.get("email").is_none());
}
