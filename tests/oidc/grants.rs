//! The refresh_token grant (rotation, scope narrowing, reuse detection) and the password grant.

use crate::common::*;

/// A fresh token response for `web` (authorization code, alice) with `scope`.
async fn web_tokens(srv: &TestServer, scope: &str) -> Reply {
    let mut b = srv.browser();
    let cb = b
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
    srv.token(
        Some(("web", "web-secret")),
        &[
            ("grant_type", "authorization_code"),
            ("code", cb.q("code")),
            ("redirect_uri", WEB_CB),
        ],
    )
    .await
}

async fn refresh(srv: &TestServer, token: &str, extra: &[(&str, &str)]) -> Reply {
    let mut pairs = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    pairs.extend_from_slice(extra);
    srv.token(Some(("web", "web-secret")), &pairs).await
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token_and_issues_a_new_id_token() {
    let srv = spawn_default().await;
    let first = web_tokens(&srv, "openid profile read_books").await;
    let rt1 = first.ok("refresh_token");
    let id1 = jwt_claims(&first.ok("id_token"));
    srv.clock().advance(5);
    let second = refresh(&srv, &rt1, &[]).await;
    let rt2 = second.ok("refresh_token");
    assert_ne!(rt1, rt2, "rotated");
    assert_ne!(first.ok("access_token"), second.ok("access_token"));
    assert_eq!(second.json["scope"], "openid profile read_books");
    assert_eq!(second.json["token_type"], "Bearer");
    let id2 = jwt_claims(&second.ok("id_token"));
    assert_eq!(id2["sub"], id1["sub"]);
    assert_eq!(id2["aud"], "web");
    assert_eq!(id2["iss"], srv.issuer());
    assert_eq!(id2["auth_time"], id1["auth_time"], "auth_time is the original login");
    assert!(id2["iat"].as_i64() > id1["iat"].as_i64());
    assert_eq!(id2["name"], "Alice Liddell");
    assert_eq!(
        id2["at_hash"],
        latchkey::oauth::id_token::half_hash(latchkey::model::SigningAlg::RS256, &second.ok("access_token"))
    );
    assert!(!srv.active(&rt1).await, "the rotated token is spent");
    assert!(srv.active(&rt2).await);
    // The new one works in turn.
    assert!(!refresh(&srv, &rt2, &[]).await.ok("refresh_token").is_empty());
}

#[tokio::test]
async fn refresh_may_narrow_the_scope_but_not_widen_it() {
    let srv = spawn_default().await;
    let first = web_tokens(&srv, "openid read_books").await;
    let rt = first.ok("refresh_token");
    let narrow = refresh(&srv, &rt, &[("scope", "read_books")]).await;
    assert_eq!(narrow.json["scope"], "read_books");
    assert!(narrow.json.get("id_token").is_none(), "no openid, no id_token");
    assert_eq!(jwt_claims(&narrow.ok("access_token"))["scope"], "read_books");
    // The rotated token keeps the original scopes: it may ask for openid again.
    let rt2 = narrow.ok("refresh_token");
    let back = refresh(&srv, &rt2, &[("scope", "openid read_books")]).await;
    assert_eq!(back.json["scope"], "openid read_books");
    assert!(back.json.get("id_token").is_some());
    // Widening beyond the original grant is invalid_scope, even to a scope the client has.
    let rt3 = back.ok("refresh_token");
    refresh(&srv, &rt3, &[("scope", "openid read_books email")])
        .await
        .assert_error(400, "invalid_scope");
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_whole_family() {
    let srv = spawn_default().await;
    let first = web_tokens(&srv, "openid").await;
    let rt1 = first.ok("refresh_token");
    let at1 = first.ok("access_token");
    let second = refresh(&srv, &rt1, &[]).await;
    let rt2 = second.ok("refresh_token");
    let at2 = second.ok("access_token");
    assert!(srv.active(&at2).await && srv.active(&rt2).await);
    // An attacker replays the old one.
    refresh(&srv, &rt1, &[]).await.assert_error(400, "invalid_grant");
    assert!(!srv.active(&at2).await, "the new access token is revoked");
    assert!(!srv.active(&rt2).await, "the new refresh token is revoked");
    assert!(!srv.active(&at1).await, "the first access token is revoked");
    refresh(&srv, &rt2, &[]).await.assert_error(400, "invalid_grant");
    // Another login's family is untouched.
    let unrelated = web_tokens(&srv, "openid").await;
    assert!(srv.active(&unrelated.ok("access_token")).await);
}

#[tokio::test]
async fn refresh_tokens_are_bound_to_their_client() {
    let srv = spawn_default().await;
    let rt = web_tokens(&srv, "openid").await.ok("refresh_token");
    srv.token(
        Some(("other", "other-secret")),
        &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
    )
    .await
    .assert_error(400, "invalid_grant");
    refresh(&srv, "not-a-refresh-token", &[])
        .await
        .assert_error(400, "invalid_grant");
}

#[tokio::test]
async fn an_expired_refresh_token_is_invalid_grant() {
    let srv = spawn(&format!(
        "[server]\nrefresh_token_ttl = 100\n{}",
        CONFIG.replace("[server]\n", "")
    ))
    .await;
    let rt = web_tokens(&srv, "openid").await.ok("refresh_token");
    srv.clock().advance(101);
    refresh(&srv, &rt, &[]).await.assert_error(400, "invalid_grant");
}

#[tokio::test]
async fn without_rotation_the_refresh_token_is_kept() {
    let config = CONFIG.replace("[server]\n", "[server]\nrefresh_token_rotation = false\n");
    let srv = spawn(&config).await;
    let rt = web_tokens(&srv, "openid").await.ok("refresh_token");
    let a = refresh(&srv, &rt, &[]).await;
    assert_eq!(a.ok("refresh_token"), rt, "the same token is handed back");
    let b = refresh(&srv, &rt, &[]).await;
    assert_eq!(b.ok("refresh_token"), rt);
    assert_ne!(a.ok("access_token"), b.ok("access_token"));
    assert!(srv.active(&a.ok("access_token")).await, "using it twice is no replay");
    assert!(srv.active(&rt).await);
    assert!(b.json.get("id_token").is_some());
}

#[tokio::test]
async fn password_grant_issues_tokens_for_good_credentials() {
    let srv = spawn_default().await;
    let r = srv
        .token(
            Some(("cli", "cli-secret")),
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "alice-password"),
                ("scope", "openid profile read_books"),
            ],
        )
        .await;
    let at = r.ok("access_token");
    assert_eq!(r.json["scope"], "openid profile read_books");
    assert!(r.json.get("refresh_token").is_some(), "cli has the refresh_token grant");
    let id = jwt_claims(&r.ok("id_token"));
    assert_eq!(id["aud"], "cli");
    assert_eq!(id["name"], "Alice Liddell");
    assert_eq!(jwt_claims(&at)["sub"], id["sub"]);
    assert!(srv.active(&at).await);
}

#[tokio::test]
async fn password_grant_with_bad_credentials_is_invalid_grant() {
    let srv = spawn_default().await;
    for (u, p) in [
        ("alice", "wrong"),
        ("nobody", "alice-password"),
        ("bob", "alice-password"),
    ] {
        srv.token(
            Some(("cli", "cli-secret")),
            &[
                ("grant_type", "password"),
                ("username", u),
                ("password", p),
                ("scope", "openid"),
            ],
        )
        .await
        .assert_error(400, "invalid_grant");
    }
}

#[tokio::test]
async fn a_client_without_the_password_grant_is_unauthorized_client() {
    let srv = spawn_default().await;
    srv.token(
        Some(("web", "web-secret")),
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "alice-password"),
        ],
    )
    .await
    .assert_error(400, "unauthorized_client");
}
