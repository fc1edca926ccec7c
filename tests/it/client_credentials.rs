//! The token endpoint's client credentials grant (RFC 6749 §4.4, §2.3.1, §5; RFC 9068).

use std::collections::HashSet;

use jsonwebtoken::decode_header;
use oauth2::basic::{BasicClient, BasicErrorResponseType, BasicTokenType};
use oauth2::{AuthType, ClientId, ClientSecret, RequestTokenError, Scope, TokenResponse, TokenUrl};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::common::{CONFIG, basic, spawn};

/// The claims of a JWT, read without verification (verification is in `discovery_jwks`).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    let bytes =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON payload")
}

fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3 && decode_header(token).is_ok()
}

#[tokio::test]
async fn client_secret_basic_gets_a_bearer_token_with_no_store_headers() {
    let s = spawn(CONFIG).await;
    let r = s.token_basic("basic-client", "basic-secret", &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert!(r.header("content-type").starts_with("application/json"), "{r:?}");
    assert_eq!(r.header("cache-control"), "no-store");
    assert_eq!(r.header("pragma"), "no-cache");
    assert_eq!(r.json["token_type"], "Bearer");
    assert_eq!(r.json["expires_in"], 3600);
    assert_eq!(r.json["scope"], "read write");
    assert!(r.json["access_token"].as_str().is_some_and(|t| !t.is_empty()));
    // RFC 6749 §4.4.3: no refresh token for client credentials.
    assert!(r.json.get("refresh_token").is_none(), "{r:?}");
    s.shutdown().await;
}

#[tokio::test]
async fn client_secret_post_gets_a_token() {
    let s = spawn(CONFIG).await;
    let r = s.token_post("post-client", "post-secret", &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.json["token_type"], "Bearer");
    assert_eq!(r.json["scope"], "read");
    assert_eq!(r.header("cache-control"), "no-store");
    assert_eq!(r.header("pragma"), "no-cache");
    s.shutdown().await;
}

#[tokio::test]
async fn each_client_must_use_its_registered_auth_method() {
    let s = spawn(CONFIG).await;
    // Registered for client_secret_basic, sends the secret in the body.
    let r = s.token_post("basic-client", "basic-secret", &[]).await;
    r.assert_error(401, "invalid_client");
    assert!(r.header("www-authenticate").starts_with("Basic"), "{r:?}");
    // Registered for client_secret_post, sends HTTP Basic.
    let r = s.token_basic("post-client", "post-secret", &[]).await;
    r.assert_error(401, "invalid_client");
    assert!(r.header("www-authenticate").starts_with("Basic"), "{r:?}");
    s.shutdown().await;
}

#[tokio::test]
async fn a_requested_subset_of_scopes_is_granted_as_asked() {
    let s = spawn(CONFIG).await;
    let r = s
        .token_basic("basic-client", "basic-secret", &[("scope", "write")])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.json["scope"], "write");
    assert_eq!(claims(&r.token())["scope"], "write");
    let r = s
        .token_basic("basic-client", "basic-secret", &[("scope", "write read")])
        .await;
    assert_eq!(r.json["scope"], "write read");
    s.shutdown().await;
}

#[tokio::test]
async fn a_scope_beyond_the_allowed_ones_is_invalid_scope() {
    let s = spawn(CONFIG).await;
    let r = s
        .token_basic("basic-client", "basic-secret", &[("scope", "read admin")])
        .await;
    r.assert_error(400, "invalid_scope");
    assert_eq!(r.header("cache-control"), "no-store");
    // A scope that does not exist at all.
    let r = s
        .token_basic("basic-client", "basic-secret", &[("scope", "nope")])
        .await;
    r.assert_error(400, "invalid_scope");
    s.shutdown().await;
}

#[tokio::test]
async fn an_absent_scope_grants_every_allowed_scope() {
    let s = spawn(CONFIG).await;
    let r = s.token_basic("basic-client", "basic-secret", &[]).await;
    assert_eq!(r.json["scope"], "read write", "{r:?}");
    assert_eq!(claims(&r.token())["scope"], "read write");
    s.shutdown().await;
}

#[tokio::test]
async fn a_client_without_the_client_credentials_grant_is_unauthorized_client() {
    let s = spawn(CONFIG).await;
    let r = s.token_basic("web-only", "web-secret", &[]).await;
    r.assert_error(400, "unauthorized_client");
    s.shutdown().await;
}

#[tokio::test]
async fn a_public_client_never_gets_client_credentials() {
    let s = spawn(CONFIG).await;
    // RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential
    // clients." The client is identified (public clients authenticate with client_id only),
    // but it is not authorized for this grant: §5.2 unauthorized_client.
    let r = s
        .post_form(
            "/token",
            None,
            &[("grant_type", "client_credentials"), ("client_id", "spa")],
        )
        .await;
    r.assert_error(400, "unauthorized_client");
    assert!(r.json.get("access_token").is_none());
    s.shutdown().await;
}

#[tokio::test]
async fn basic_credentials_are_form_urlencoded_before_base64() {
    let s = spawn(CONFIG).await;
    let r = s.token_basic("my app:1", "p@ss w:rd+/%", &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(claims(&r.token())["client_id"], "my app:1");
    assert_eq!(claims(&r.token())["sub"], "my app:1");

    // The raw (not urlencoded) form is wrong per RFC 6749 §2.3.1: `+` decodes to a space and a
    // lone `%` is malformed, so it must not authenticate.
    let raw = format!(
        "Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "my app:1:p@ss w:rd+/%")
    );
    let r = s
        .post_form("/token", Some(&raw), &[("grant_type", "client_credentials")])
        .await;
    r.assert_error(401, "invalid_client");
    s.shutdown().await;
}

#[tokio::test]
async fn a_wrong_secret_is_invalid_client_with_a_basic_challenge() {
    let s = spawn(CONFIG).await;
    let r = s.token_basic("basic-client", "wrong-secret", &[]).await;
    r.assert_error(401, "invalid_client");
    assert!(r.header("www-authenticate").starts_with("Basic"), "{r:?}");
    assert_eq!(r.header("cache-control"), "no-store");
    // An unknown client, too.
    let r = s.token_basic("nobody", "basic-secret", &[]).await;
    r.assert_error(401, "invalid_client");
    assert!(r.header("www-authenticate").starts_with("Basic"), "{r:?}");
    // client_secret_post with a wrong secret.
    let r = s.token_post("post-client", "wrong", &[]).await;
    r.assert_error(401, "invalid_client");
    // No credentials at all.
    let r = s
        .post_form("/token", None, &[("grant_type", "client_credentials")])
        .await;
    r.assert_error(401, "invalid_client");
    s.shutdown().await;
}

#[tokio::test]
async fn credentials_in_the_query_string_are_not_accepted() {
    let s = spawn(CONFIG).await;
    // RFC 6749 §2.3.1: the credentials MUST NOT be included in the request URI; §3.2: the
    // parameters travel in the body.
    let r = crate::common::reply(
        s.http
            .post(s.at("/token?client_id=post-client&client_secret=post-secret"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .unwrap(),
    )
    .await;
    r.assert_error(401, "invalid_client");
    let r = crate::common::reply(
        s.http
            .post(s.at("/token?grant_type=client_credentials"))
            .header("authorization", basic("basic-client", "basic-secret"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("")
            .send()
            .await
            .unwrap(),
    )
    .await;
    r.assert_error(400, "invalid_request");
    s.shutdown().await;
}

#[tokio::test]
async fn client_ids_and_secrets_match_byte_for_byte() {
    let s = spawn(CONFIG).await;
    assert_eq!(
        s.token_basic("Bench-Client", "bench-secret", &[]).await.status,
        StatusCode::OK
    );
    for (id, secret) in [
        ("bench-client", "bench-secret"),
        ("BENCH-CLIENT", "bench-secret"),
        ("Bench-Client ", "bench-secret"),
        (" Bench-Client", "bench-secret"),
        ("Bench-Client", "bench-secret "),
        ("Bench-Client", "Bench-Secret"),
        ("Bench-Client", "bench-secre"),
    ] {
        let r = s.token_basic(id, secret, &[]).await;
        r.assert_error(401, "invalid_client");
    }
    s.shutdown().await;
}

#[tokio::test]
async fn the_lifetime_comes_from_the_client_override_or_the_server_default() {
    let s = spawn(&format!("[server]\naccess_token_ttl = \"15m\"\n{CONFIG}")).await;
    let r = s.token_basic("short", "short-secret", &[]).await;
    assert_eq!(r.json["expires_in"], 60, "{r:?}");
    let c = claims(&r.token());
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 60);

    let r = s.token_basic("basic-client", "basic-secret", &[]).await;
    assert_eq!(r.json["expires_in"], 900, "{r:?}");
    let c = claims(&r.token());
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 900);
    s.shutdown().await;
}

#[tokio::test]
async fn opaque_tokens_per_client_are_not_jwts_and_introspect_active() {
    let s = spawn(CONFIG).await;
    let r = s.token_basic("opaque-client", "opaque-secret", &[]).await;
    let token = r.token();
    assert!(!looks_like_jwt(&token), "{token}");
    assert_eq!(r.json["token_type"], "Bearer");
    let i = s.introspect(&token).await;
    assert_eq!(i.json["active"], true, "{i:?}");
    assert_eq!(i.json["client_id"], "opaque-client");
    assert_eq!(i.json["scope"], "read");
    // The server default is still JWT for everyone else.
    assert!(looks_like_jwt(
        &s.token_basic("basic-client", "basic-secret", &[]).await.token()
    ));
    s.shutdown().await;
}

#[tokio::test]
async fn opaque_tokens_server_wide_are_not_jwts_and_introspect_active() {
    let s = spawn(&format!("[server]\naccess_token_format = \"opaque\"\n{CONFIG}")).await;
    let mut seen = HashSet::new();
    for (id, secret) in [("basic-client", "basic-secret"), ("short", "short-secret")] {
        let token = s.token_basic(id, secret, &[]).await.token();
        assert!(!looks_like_jwt(&token), "{token}");
        assert!(seen.insert(token.clone()));
        let i = s.introspect(&token).await;
        assert_eq!(i.json["active"], true, "{i:?}");
        assert_eq!(i.json["client_id"], id);
        assert_eq!(i.json["sub"], id);
    }
    s.shutdown().await;
}

#[tokio::test]
async fn the_access_token_is_an_rfc_9068_jwt() {
    let s = spawn(CONFIG).await;
    let r = s
        .token_basic("basic-client", "basic-secret", &[("scope", "read")])
        .await;
    let token = r.token();
    let header = decode_header(&token).expect("JWT header");
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    assert!(header.kid.is_some_and(|k| !k.is_empty()));

    let c = claims(&token);
    assert_eq!(c["iss"], s.issuer());
    assert_eq!(c["sub"], "basic-client");
    assert_eq!(c["aud"], "basic-client");
    assert_eq!(c["client_id"], "basic-client");
    assert_eq!(c["scope"], "read");
    let iat = c["iat"].as_i64().expect("iat");
    let exp = c["exp"].as_i64().expect("exp");
    assert_eq!(exp - iat, 3600);
    assert!((iat - s.clock().now()).abs() <= 5, "iat {iat} is not now");
    assert!(c["jti"].as_str().is_some_and(|j| !j.is_empty()));

    // Registered audiences become `aud` (an array when there are several).
    let c = claims(&s.token_basic("aud-client", "aud-secret", &[]).await.token());
    assert_eq!(c["aud"], json!(["books-api", "other-api"]));
    assert_eq!(c["sub"], "aud-client");
    s.shutdown().await;
}

#[tokio::test]
async fn the_oauth2_crate_completes_a_client_credentials_flow() {
    let s = spawn(CONFIG).await;
    let http = crate::common::http_client();
    let token_url = TokenUrl::new(s.at("/token")).expect("token URL");

    // HTTP Basic (the crate's default), with credentials that need urlencoding.
    let client = BasicClient::new(ClientId::new("my app:1".into()))
        .set_client_secret(ClientSecret::new("p@ss w:rd+/%".into()))
        .set_token_uri(token_url.clone());
    let tok = client
        .exchange_client_credentials()
        .add_scope(Scope::new("read".into()))
        .request_async(&http)
        .await
        .expect("token");
    assert_eq!(*tok.token_type(), BasicTokenType::Bearer);
    assert_eq!(tok.expires_in().map(|d| d.as_secs()), Some(3600));
    assert_eq!(tok.scopes().map(Vec::as_slice), Some(&[Scope::new("read".into())][..]));
    assert!(tok.refresh_token().is_none());
    assert!(s.is_active(tok.access_token().secret()).await);

    // client_secret_post.
    let client = BasicClient::new(ClientId::new("post-client".into()))
        .set_client_secret(ClientSecret::new("post-secret".into()))
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(token_url.clone());
    let tok = client
        .exchange_client_credentials()
        .request_async(&http)
        .await
        .expect("token");
    assert!(s.is_active(tok.access_token().secret()).await);

    // An error response the crate parses as RFC 6749 §5.2.
    let client = BasicClient::new(ClientId::new("basic-client".into()))
        .set_client_secret(ClientSecret::new("basic-secret".into()))
        .set_token_uri(token_url);
    let err = client
        .exchange_client_credentials()
        .add_scope(Scope::new("admin".into()))
        .request_async(&http)
        .await
        .expect_err("admin is not allowed");
    match err {
        RequestTokenError::ServerResponse(e) => {
            assert_eq!(*e.error(), BasicErrorResponseType::InvalidScope);
            assert!(e.error_description().is_some());
        }
        other => panic!("expected an invalid_scope response, got {other:?}"),
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_parallel_token_requests_all_succeed_and_introspect_active() {
    let s = spawn(CONFIG).await;
    let url = s.at("/token");
    let introspect_url = s.at("/introspect");
    let http = s.http.clone();
    let auth = basic("basic-client", "basic-secret");

    let mut set = JoinSet::new();
    for _ in 0..200 {
        let (http, url, auth) = (http.clone(), url.clone(), auth.clone());
        set.spawn(async move {
            let resp = http
                .post(url)
                .header("authorization", auth)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("grant_type=client_credentials&scope=read")
                .send()
                .await
                .expect("token request");
            assert_eq!(resp.status(), StatusCode::OK);
            let v: Value = resp.json().await.expect("JSON");
            v["access_token"].as_str().expect("access_token").to_string()
        });
    }
    let mut tokens = HashSet::new();
    while let Some(t) = set.join_next().await {
        assert!(tokens.insert(t.expect("task")), "a token was issued twice");
    }
    assert_eq!(tokens.len(), 200);
    let jtis: HashSet<String> = tokens
        .iter()
        .map(|t| claims(t)["jti"].as_str().expect("jti").to_string())
        .collect();
    assert_eq!(jtis.len(), 200, "jti values repeat");

    let auth = basic("api", "api-secret");
    let mut set = JoinSet::new();
    for t in tokens {
        let (http, url, auth) = (http.clone(), introspect_url.clone(), auth.clone());
        set.spawn(async move {
            let resp = http
                .post(url)
                .header("authorization", auth)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(crate::common::form(&[("token", &t)]))
                .send()
                .await
                .expect("introspection request");
            assert_eq!(resp.status(), StatusCode::OK);
            let v: Value = resp.json().await.expect("JSON");
            assert_eq!(v["active"], true, "token lost: {v}");
            assert_eq!(v["client_id"], "basic-client");
        });
    }
    let mut done = 0;
    while let Some(r) = set.join_next().await {
        r.expect("introspection task");
        done += 1;
    }
    assert_eq!(done, 200);
    s.shutdown().await;
}
