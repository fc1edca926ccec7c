//! The authorization code at the token endpoint: PKCE, single use, lifetime, and its bindings
//! to the client and the redirect URI.

use crate::common::*;

/// Runs authorize + login for `web` with extra parameters and returns the code.
async fn web_code(srv: &TestServer, extra: &[(&str, &str)]) -> String {
    let mut params = vec![
        ("client_id", "web"),
        ("response_type", "code"),
        ("redirect_uri", WEB_CB),
        ("scope", "openid profile"),
    ];
    params.extend_from_slice(extra);
    let mut b = srv.browser();
    b.code_flow(&params, "alice", "alice-password")
        .await
        .q("code")
        .to_string()
}

async fn exchange_web(srv: &TestServer, code: &str, extra: &[(&str, &str)]) -> Reply {
    let mut pairs = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", WEB_CB),
    ];
    pairs.extend_from_slice(extra);
    srv.token(Some(("web", "web-secret")), &pairs).await
}

#[tokio::test]
async fn pkce_s256_accepts_the_right_verifier() {
    let srv = spawn_default().await;
    let (verifier, challenge) = pkce_s256();
    let code = web_code(
        &srv,
        &[("code_challenge", &challenge), ("code_challenge_method", "S256")],
    )
    .await;
    let r = exchange_web(&srv, &code, &[("code_verifier", &verifier)]).await;
    assert!(!r.ok("access_token").is_empty());
}

#[tokio::test]
async fn pkce_plain_accepts_the_verifier_itself() {
    let srv = spawn_default().await;
    let verifier = "plain-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";
    let code = web_code(
        &srv,
        &[("code_challenge", verifier), ("code_challenge_method", "plain")],
    )
    .await;
    let r = exchange_web(&srv, &code, &[("code_verifier", verifier)]).await;
    assert!(!r.ok("access_token").is_empty());
    // The method defaults to plain (RFC 7636 §4.3) for a public client too.
    let mut b = srv.browser();
    let cb = b
        .code_flow(
            &[
                ("client_id", "spa"),
                ("response_type", "code"),
                ("redirect_uri", SPA_CB),
                ("scope", "openid"),
                ("code_challenge", verifier),
            ],
            "alice",
            "alice-password",
        )
        .await;
    let r = srv
        .token(
            None,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "spa"),
                ("code", cb.q("code")),
                ("redirect_uri", SPA_CB),
                ("code_verifier", verifier),
            ],
        )
        .await;
    assert!(!r.ok("access_token").is_empty());
}

#[tokio::test]
async fn wrong_or_missing_verifier_is_invalid_grant() {
    let srv = spawn_default().await;
    let (verifier, challenge) = pkce_s256();
    let (other, _) = pkce_s256();
    let code = web_code(
        &srv,
        &[("code_challenge", &challenge), ("code_challenge_method", "S256")],
    )
    .await;
    exchange_web(&srv, &code, &[("code_verifier", &other)])
        .await
        .assert_error(400, "invalid_grant");
    exchange_web(&srv, &code, &[]).await.assert_error(400, "invalid_grant");
    // A plain challenge sent as the verifier of an S256 code does not pass.
    exchange_web(&srv, &code, &[("code_verifier", &challenge)])
        .await
        .assert_error(400, "invalid_grant");
    // Public client, missing verifier.
    let (v2, c2) = pkce_s256();
    let mut b = srv.browser();
    let cb = b
        .code_flow(
            &[
                ("client_id", "spa"),
                ("response_type", "code"),
                ("redirect_uri", SPA_CB),
                ("scope", "openid"),
                ("code_challenge", &c2),
                ("code_challenge_method", "S256"),
            ],
            "alice",
            "alice-password",
        )
        .await;
    let base = [
        ("grant_type", "authorization_code"),
        ("client_id", "spa"),
        ("code", cb.q("code")),
        ("redirect_uri", SPA_CB),
    ];
    srv.token(None, &base).await.assert_error(400, "invalid_grant");
    let mut wrong = base.to_vec();
    wrong.push(("code_verifier", &verifier));
    srv.token(None, &wrong).await.assert_error(400, "invalid_grant");
    let _ = v2;
}

#[tokio::test]
async fn a_code_issued_without_a_challenge_refuses_a_verifier() {
    let srv = spawn_default().await;
    let (verifier, _) = pkce_s256();
    let code = web_code(&srv, &[]).await;
    let r = exchange_web(&srv, &code, &[("code_verifier", &verifier)]).await;
    r.assert_error(400, "invalid_grant");
}

#[tokio::test]
async fn a_reused_code_is_invalid_grant_and_revokes_the_first_tokens() {
    let srv = spawn_default().await;
    let code = web_code(&srv, &[]).await;
    let first = exchange_web(&srv, &code, &[]).await;
    let access = first.ok("access_token");
    let refresh = first.ok("refresh_token");
    assert!(srv.active(&access).await);
    assert!(srv.active(&refresh).await);
    exchange_web(&srv, &code, &[]).await.assert_error(400, "invalid_grant");
    assert!(
        !srv.active(&access).await,
        "the access token from the first exchange is revoked"
    );
    assert!(!srv.active(&refresh).await, "and so is its refresh token");
    // The refresh token no longer works either.
    srv.token(
        Some(("web", "web-secret")),
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await
    .assert_error(400, "invalid_grant");
}

#[tokio::test]
async fn an_expired_code_is_invalid_grant() {
    let srv = spawn_default().await;
    let code = web_code(&srv, &[]).await;
    srv.clock().advance(61); // code_ttl = 60 in the test config
    exchange_web(&srv, &code, &[]).await.assert_error(400, "invalid_grant");
    // Inside the lifetime it works. The server's clock runs in real time here, so leave a
    // margin for a slow machine (59 failed when a test took over a second under load).
    let code = web_code(&srv, &[]).await;
    srv.clock().advance(50);
    assert!(!exchange_web(&srv, &code, &[]).await.ok("access_token").is_empty());
}

#[tokio::test]
async fn a_code_is_bound_to_its_client() {
    let srv = spawn_default().await;
    let code = web_code(&srv, &[]).await;
    let r = srv
        .token(
            Some(("other", "other-secret")),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", WEB_CB),
            ],
        )
        .await;
    r.assert_error(400, "invalid_grant");
    // Wrong secret for the right client is invalid_client, not a code leak.
    let r = srv
        .token(
            Some(("web", "nope")),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", WEB_CB),
            ],
        )
        .await;
    r.assert_error(401, "invalid_client");
}

#[tokio::test]
async fn a_code_is_bound_to_its_redirect_uri() {
    let srv = spawn_default().await;
    let code = web_code(&srv, &[]).await;
    let other_registered = "http://localhost:3000/other";
    let r = srv
        .token(
            Some(("web", "web-secret")),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", other_registered),
            ],
        )
        .await;
    r.assert_error(400, "invalid_grant");
    // Omitting it when the authorization request named it is an error too (RFC 6749 §4.1.3).
    let r = srv
        .token(
            Some(("web", "web-secret")),
            &[("grant_type", "authorization_code"), ("code", &code)],
        )
        .await;
    r.assert_error(400, "invalid_grant");
}

#[tokio::test]
async fn unknown_code_is_invalid_grant() {
    let srv = spawn_default().await;
    exchange_web(&srv, "not-a-code", &[])
        .await
        .assert_error(400, "invalid_grant");
}
