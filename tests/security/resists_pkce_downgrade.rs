//! PKCE downgrade (already resisted; kept from regressing).

use crate::common::*;

async fn code(srv: &TestServer, client: &str, cb: &str, extra: &[(&str, &str)]) -> Result<String, Callback> {
    let mut params = vec![
        ("client_id", client),
        ("response_type", "code"),
        ("redirect_uri", cb),
        ("scope", "openid"),
    ];
    params.extend_from_slice(extra);
    let mut b = srv.browser();
    let page = b.authorize(&params).await;
    if let Some(l) = page.location() {
        return Err(Callback::parse(l));
    }
    let cb = b.code_flow(&params, "alice", "alice-password").await;
    Ok(cb.q("code").to_string())
}

/// Advisory class: PKCE downgrade (RFC 9700 §4.8.2: the authorization server MUST reject a
/// token request carrying a `code_verifier` for a code issued without a `code_challenge`, and
/// public clients MUST use PKCE, §2.1.1). An attacker who strips the challenge from the front
/// channel gets nothing: the code cannot be redeemed with a verifier, a public client cannot
/// even start without a challenge, and a code issued with S256 needs exactly its verifier
/// (not none, not the challenge itself as a `plain` verifier).
#[tokio::test]
async fn pkce_cannot_be_downgraded_or_stripped() {
    let srv = spawn_default().await;
    let (verifier, challenge) = pkce_s256();

    // 1. Challenge stripped: the code exists, but a verifier is then refused.
    let stripped = code(&srv, "web", WEB_CB, &[]).await.expect("a code");
    srv.token(
        Some(("web", "web-secret")),
        &[
            ("grant_type", "authorization_code"),
            ("code", &stripped),
            ("redirect_uri", WEB_CB),
            ("code_verifier", &verifier),
        ],
    )
    .await
    .assert_error(400, "invalid_grant");

    // 2. A public client without a challenge: refused at the authorization endpoint.
    let refused = code(&srv, "spa", SPA_CB, &[]).await.expect_err("no code without PKCE");
    assert_eq!(refused.q("error"), "invalid_request", "{refused:?}");

    // 3. A code bound to an S256 challenge: no verifier, a wrong one, or the challenge itself
    // (a fresh code each time, so a refusal is not just a consumed code); the right verifier
    // works.
    for attempt in [
        None,
        Some("x".repeat(43)),
        Some(challenge.clone()),
        Some(verifier.clone()),
    ] {
        let bound = code(
            &srv,
            "spa",
            SPA_CB,
            &[("code_challenge", &challenge), ("code_challenge_method", "S256")],
        )
        .await
        .expect("a code");
        let mut pairs = vec![
            ("grant_type", "authorization_code"),
            ("client_id", "spa"),
            ("code", bound.as_str()),
            ("redirect_uri", SPA_CB),
        ];
        if let Some(v) = &attempt {
            pairs.push(("code_verifier", v));
        }
        let r = srv.token(None, &pairs).await;
        if attempt.as_deref() == Some(verifier.as_str()) {
            assert!(!r.ok("access_token").is_empty());
        } else {
            r.assert_error(400, "invalid_grant");
        }
    }

    // 4. An unknown method is refused, not treated as plain.
    let refused = code(
        &srv,
        "spa",
        SPA_CB,
        &[("code_challenge", &challenge), ("code_challenge_method", "none")],
    )
    .await
    .expect_err("an unknown method");
    assert_eq!(refused.q("error"), "invalid_request");
}
