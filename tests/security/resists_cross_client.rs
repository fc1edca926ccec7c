//! Codes, refresh tokens and revocation across clients (already resisted; kept from
//! regressing).

use crate::common::*;
use crate::web_attack::*;

/// Advisory class: authorization code injection / a code redeemed by another client (RFC 6749
/// §4.1.3: "ensure that the authorization code was issued to the authenticated confidential
/// client"; RFC 9700 §4.5 "Authorization Code Injection"). Client `other` holds `web`'s code
/// and its own valid credentials: `invalid_grant`, no token; nor does a caller without
/// credentials that names itself `web` (401 `invalid_client`).
#[tokio::test]
async fn a_code_cannot_be_redeemed_by_another_client() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    let cb = b
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
    let r = srv
        .token(
            Some(("other", "other-secret")),
            &[
                ("grant_type", "authorization_code"),
                ("code", cb.q("code")),
                ("redirect_uri", WEB_CB),
            ],
        )
        .await;
    r.assert_error(400, "invalid_grant");
    assert!(r.json.get("access_token").is_none());
    // A public client naming itself `web` without credentials is not `web`.
    let r = srv
        .token(
            None,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "web"),
                ("code", cb.q("code")),
                ("redirect_uri", WEB_CB),
            ],
        )
        .await;
    r.assert_error(401, "invalid_client");
}

/// Advisory class: refresh token used by another client (RFC 6749 §6: "the authorization
/// server MUST ... validate that the refresh token was issued to the authenticated client";
/// RFC 9700 §4.14 "Refresh Token Protection"). Refused with `invalid_grant`; the owner's refresh token keeps working.
#[tokio::test]
async fn a_refresh_token_cannot_be_used_by_another_client() {
    let srv = spawn_default().await;
    let tokens = web_tokens(&srv).await;
    let refresh = tokens["refresh_token"].as_str().expect("a refresh token");
    let r = srv
        .token(
            Some(("other", "other-secret")),
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await;
    r.assert_error(400, "invalid_grant");
    assert!(r.json.get("access_token").is_none());
    let r = srv
        .token(
            Some(("web", "web-secret")),
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await;
    assert!(!r.ok("access_token").is_empty());
}

/// Advisory class: revocation of another client's token (RFC 7009 §2.1: the server "first
/// validates the client credentials ... and then verifies whether the token was issued to the
/// client making the revocation request"; a denial-of-service against other apps otherwise).
/// Refused with `invalid_request`; the tokens stay active.
#[tokio::test]
async fn another_clients_tokens_cannot_be_revoked() {
    let srv = spawn_default().await;
    let tokens = web_tokens(&srv).await;
    for kind in ["access_token", "refresh_token"] {
        let token = tokens[kind].as_str().expect("token");
        let r = srv
            .http
            .post(srv.at("/revoke"))
            .header("authorization", basic("other", "other-secret"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("token", token)]))
            .send()
            .await
            .expect("revoke");
        let r = Reply::from(r).await;
        r.assert_error(400, "invalid_request");
        assert!(srv.active(token).await, "{kind} of web was revoked by another client");
    }
}
