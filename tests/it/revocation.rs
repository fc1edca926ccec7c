//! Token revocation (RFC 7009).

use reqwest::StatusCode;

use crate::common::{CONFIG, basic, spawn};

#[tokio::test]
async fn a_revoked_token_introspects_inactive() {
    let s = spawn(CONFIG).await;
    let jwt = s.token_basic("basic-client", "basic-secret", &[]).await.token();
    let other = s.token_basic("basic-client", "basic-secret", &[]).await.token();
    assert!(s.is_active(&jwt).await);
    let r = s
        .post_form(
            "/revoke",
            Some(&basic("basic-client", "basic-secret")),
            &[("token", &jwt), ("token_type_hint", "access_token")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert!(!s.is_active(&jwt).await);
    assert!(s.is_active(&other).await, "only the named token is revoked");
    // Revoking again is still 200 (RFC 7009 §2.2: invalid tokens get 200).
    let r = s
        .post_form(
            "/revoke",
            Some(&basic("basic-client", "basic-secret")),
            &[("token", &jwt)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    s.shutdown().await;
}

#[tokio::test]
async fn an_opaque_token_revoked_with_client_secret_post_introspects_inactive() {
    let s = spawn(CONFIG).await;
    let token = s.token_basic("opaque-client", "opaque-secret", &[]).await.token();
    let post = s.token_post("post-client", "post-secret", &[]).await.token();
    let r = s
        .post_form(
            "/revoke",
            Some(&basic("opaque-client", "opaque-secret")),
            &[("token", &token)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert!(!s.is_active(&token).await);
    let r = s
        .post_form(
            "/revoke",
            None,
            &[
                ("token", &post),
                ("client_id", "post-client"),
                ("client_secret", "post-secret"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert!(!s.is_active(&post).await);
    s.shutdown().await;
}

#[tokio::test]
async fn an_unknown_token_gets_200() {
    let s = spawn(CONFIG).await;
    for token in ["never-issued", "a.b.c"] {
        let r = s
            .post_form(
                "/revoke",
                Some(&basic("basic-client", "basic-secret")),
                &[("token", token)],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
    }
    s.shutdown().await;
}

#[tokio::test]
async fn a_wrong_token_type_hint_still_revokes() {
    let s = spawn(CONFIG).await;
    for hint in ["refresh_token", "something_else"] {
        let token = s.token_basic("basic-client", "basic-secret", &[]).await.token();
        let r = s
            .post_form(
                "/revoke",
                Some(&basic("basic-client", "basic-secret")),
                &[("token", &token), ("token_type_hint", hint)],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{hint}: {r:?}");
        assert!(!s.is_active(&token).await, "{hint}");
    }
    s.shutdown().await;
}

#[tokio::test]
async fn another_clients_token_is_not_revoked() {
    let s = spawn(CONFIG).await;
    let token = s.token_basic("basic-client", "basic-secret", &[]).await.token();
    let r = s
        .post_form("/revoke", Some(&basic("api", "api-secret")), &[("token", &token)])
        .await;
    // RFC 7009 §2.1: the request is refused and the client informed (see src/oauth/revoke.rs).
    r.assert_error(400, "invalid_request");
    assert!(s.is_active(&token).await, "another client's token must survive");
    // A public client cannot revoke it either.
    let r = s
        .post_form("/revoke", None, &[("token", &token), ("client_id", "spa")])
        .await;
    r.assert_error(400, "invalid_request");
    assert!(s.is_active(&token).await);
    s.shutdown().await;
}

#[tokio::test]
async fn an_unauthenticated_revocation_is_invalid_client() {
    let s = spawn(CONFIG).await;
    let token = s.token_basic("basic-client", "basic-secret", &[]).await.token();
    let r = s.post_form("/revoke", None, &[("token", &token)]).await;
    r.assert_error(401, "invalid_client");
    assert!(r.header("www-authenticate").starts_with("Basic"), "{r:?}");
    let r = s
        .post_form("/revoke", Some(&basic("basic-client", "wrong")), &[("token", &token)])
        .await;
    r.assert_error(401, "invalid_client");
    assert!(s.is_active(&token).await);
    s.shutdown().await;
}

#[tokio::test]
async fn a_missing_token_is_invalid_request() {
    let s = spawn(CONFIG).await;
    let r = s
        .post_form("/revoke", Some(&basic("basic-client", "basic-secret")), &[])
        .await;
    r.assert_error(400, "invalid_request");
    s.shutdown().await;
}
