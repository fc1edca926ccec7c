//! Token introspection (RFC 7662).

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{CONFIG, basic, spawn, spawn_with};

fn inactive() -> Value {
    json!({"active": false})
}

#[tokio::test]
async fn an_active_jwt_introspects_with_its_claims() {
    let s = spawn(CONFIG).await;
    let t = s
        .token_basic("basic-client", "basic-secret", &[("scope", "read")])
        .await;
    let token = t.token();
    let r = s.introspect(&token).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.header("cache-control"), "no-store");
    assert!(r.header("content-type").starts_with("application/json"));
    let v = &r.json;
    assert_eq!(v["active"], true);
    assert_eq!(v["scope"], "read");
    assert_eq!(v["client_id"], "basic-client");
    assert_eq!(v["sub"], "basic-client");
    assert_eq!(v["aud"], "basic-client");
    assert_eq!(v["iss"], s.issuer());
    assert_eq!(v["token_type"], "Bearer");
    let (iat, exp) = (v["iat"].as_i64().unwrap(), v["exp"].as_i64().unwrap());
    assert_eq!(exp - iat, t.json["expires_in"].as_i64().unwrap());
    // The same jti as in the token itself.
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).unwrap(),
    )
    .unwrap();
    assert_eq!(v["jti"], claims["jti"]);
    assert_eq!(v["exp"], claims["exp"]);
    assert_eq!(v["iat"], claims["iat"]);
    s.shutdown().await;
}

#[tokio::test]
async fn an_active_opaque_token_introspects_with_its_claims() {
    let s = spawn(CONFIG).await;
    let token = s.token_basic("opaque-client", "opaque-secret", &[]).await.token();
    let r = s.introspect(&token).await;
    let v = &r.json;
    assert_eq!(v["active"], true, "{r:?}");
    for key in [
        "scope",
        "client_id",
        "sub",
        "aud",
        "iss",
        "exp",
        "iat",
        "jti",
        "token_type",
    ] {
        assert!(v.get(key).is_some(), "`{key}` missing: {v}");
    }
    assert_eq!(v["scope"], "read");
    assert_eq!(v["client_id"], "opaque-client");
    assert_eq!(v["sub"], "opaque-client");
    assert_eq!(v["iss"], s.issuer());
    assert_eq!(v["token_type"], "Bearer");
    s.shutdown().await;
}

#[tokio::test]
async fn an_expired_token_is_exactly_inactive() {
    // A frozen clock, so the boundary is exact: only `advance` moves time.
    let s = spawn_with(CONFIG, |o| o.clock = latchkey::Clock::fixed(1_700_000_000)).await;
    let jwt = s.token_basic("short", "short-secret", &[]).await.token();
    let opaque = s.token_basic("opaque-client", "opaque-secret", &[]).await.token();
    assert!(s.is_active(&jwt).await);
    s.clock().advance(59);
    assert!(s.is_active(&jwt).await, "still valid one second before exp");
    s.clock().advance(2);
    assert_eq!(s.introspect(&jwt).await.json, inactive());
    assert!(s.is_active(&opaque).await, "the 3600 s token is still live");
    s.clock().advance(3600);
    assert_eq!(s.introspect(&opaque).await.json, inactive());
    s.shutdown().await;
}

#[tokio::test]
async fn a_revoked_token_is_exactly_inactive() {
    let s = spawn(CONFIG).await;
    let token = s.token_basic("basic-client", "basic-secret", &[]).await.token();
    let r = s
        .post_form(
            "/revoke",
            Some(&basic("basic-client", "basic-secret")),
            &[("token", &token)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(s.introspect(&token).await.json, inactive());
    s.shutdown().await;
}

#[tokio::test]
async fn garbage_and_tampered_tokens_are_exactly_inactive() {
    let s = spawn(CONFIG).await;
    let token = s.token_basic("basic-client", "basic-secret", &[]).await.token();
    let mut tampered = token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let (head, _) = token.rsplit_once('.').unwrap();
    let unsigned = format!("{head}.");
    for garbage in [
        "garbage",
        "a.b.c",
        "eyJhbGciOiJub25lIn0.e30.",
        &tampered,
        &unsigned,
        &format!("{token} "),
        &"x".repeat(4000),
        "\u{2713}\u{0}",
    ] {
        let r = s.introspect(garbage).await;
        assert_eq!(r.status, StatusCode::OK, "{garbage}: {r:?}");
        assert_eq!(r.json, inactive(), "{garbage}");
    }
    assert!(s.is_active(&token).await);
    s.shutdown().await;
}

#[tokio::test]
async fn a_jwt_from_another_issuer_is_exactly_inactive() {
    let s = spawn(CONFIG).await;
    let now = s.clock().now();
    // Claims identical in shape to ours, even naming this issuer, but signed elsewhere.
    for iss in ["https://elsewhere.example", s.issuer()] {
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some("at+jwt".into());
        let forged = encode(
            &header,
            &json!({
                "iss": iss, "sub": "basic-client", "aud": "basic-client",
                "client_id": "basic-client", "scope": "read",
                "iat": now, "exp": now + 3600, "jti": "forged-1",
            }),
            &EncodingKey::from_secret(b"some other issuer's secret"),
        )
        .unwrap();
        assert_eq!(s.introspect(&forged).await.json, inactive(), "{iss}");
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_from_another_latchkey_server_is_exactly_inactive() {
    let s = spawn(CONFIG).await;
    let other = spawn(CONFIG).await;
    let theirs = other.token_basic("basic-client", "basic-secret", &[]).await.token();
    assert!(other.is_active(&theirs).await);
    assert_eq!(s.introspect(&theirs).await.json, inactive());

    // Even when both servers claim the same issuer.
    let a = spawn_with(CONFIG, |o| o.issuer = Some("http://shared.test".into())).await;
    let b = spawn_with(CONFIG, |o| o.issuer = Some("http://shared.test".into())).await;
    let from_b = b.token_basic("basic-client", "basic-secret", &[]).await.token();
    assert!(b.is_active(&from_b).await);
    assert_eq!(a.introspect(&from_b).await.json, inactive());
    for srv in [s, other, a, b] {
        srv.shutdown().await;
    }
}

#[tokio::test]
async fn an_unauthenticated_caller_is_invalid_client() {
    let s = spawn(CONFIG).await;
    let token = s.token_basic("basic-client", "basic-secret", &[]).await.token();
    // No credentials.
    let r = s.post_form("/introspect", None, &[("token", &token)]).await;
    r.assert_error(401, "invalid_client");
    assert!(r.header("www-authenticate").starts_with("Basic"), "{r:?}");
    // Wrong secret.
    let r = s.introspect_as("api", "wrong", &token).await;
    r.assert_error(401, "invalid_client");
    assert!(r.header("www-authenticate").starts_with("Basic"), "{r:?}");
    // A public client cannot introspect (RFC 7662 §2.1: the caller must be authorized).
    let r = s
        .post_form("/introspect", None, &[("token", &token), ("client_id", "spa")])
        .await;
    r.assert_error(401, "invalid_client");
    // None of these leaked whether the token is active.
    assert!(r.json.get("active").is_none());
    s.shutdown().await;
}

#[tokio::test]
async fn a_missing_token_is_invalid_request() {
    let s = spawn(CONFIG).await;
    let r = s.post_form("/introspect", Some(&basic("api", "api-secret")), &[]).await;
    r.assert_error(400, "invalid_request");
    let r = s
        .post_form("/introspect", Some(&basic("api", "api-secret")), &[("token", "")])
        .await;
    r.assert_error(400, "invalid_request");
    s.shutdown().await;
}

#[tokio::test]
async fn the_token_owner_and_any_client_may_introspect_by_default() {
    let s = spawn(CONFIG).await;
    let token = s.token_basic("basic-client", "basic-secret", &[]).await.token();
    for (id, secret) in [("basic-client", "basic-secret"), ("api", "api-secret")] {
        let r = s.introspect_as(id, secret, &token).await;
        assert_eq!(r.json["active"], true, "{id}: {r:?}");
    }
    // client_secret_post callers authenticate in the body.
    let r = s
        .post_form(
            "/introspect",
            None,
            &[
                ("token", &token),
                ("client_id", "post-client"),
                ("client_secret", "post-secret"),
            ],
        )
        .await;
    assert_eq!(r.json["active"], true, "{r:?}");
    s.shutdown().await;
}

const REQUIRE_SCOPE: &str = r#"
[introspection]
require_scope = true

[[clients]]
client_id = "issuer-client"
client_secret = "issuer-secret"

[[clients]]
client_id = "plain-rs"
client_secret = "plain-secret"

[[clients]]
client_id = "trusted-rs"
client_secret = "trusted-secret"
scopes = ["token_introspection"]
"#;

#[tokio::test]
async fn require_scope_refuses_callers_without_token_introspection() {
    let s = spawn(REQUIRE_SCOPE).await;
    let token = s.token_basic("issuer-client", "issuer-secret", &[]).await.token();
    let r = s.introspect_as("plain-rs", "plain-secret", &token).await;
    // Authenticated but not allowed: refused, and nothing about the token is disclosed.
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
    assert_eq!(r.error(), "unauthorized_client", "{r:?}");
    assert!(r.json.get("active").is_none());

    let r = s.introspect_as("trusted-rs", "trusted-secret", &token).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.json["active"], true, "{r:?}");
    assert_eq!(r.json["client_id"], "issuer-client");
    s.shutdown().await;
}

const VALIDATE_AUDIENCE: &str = r#"
[introspection]
validate_audience = true

[[scopes]]
name = "orders-api"

[[clients]]
client_id = "books-client"
client_secret = "books-secret"
audiences = ["books-api"]

[[clients]]
client_id = "orders-client"
client_secret = "orders-secret"
audiences = ["orders-api"]

[[clients]]
client_id = "plain-client"
client_secret = "plain-secret"

# A resource server for books-api (by its audiences).
[[clients]]
client_id = "books-rs"
client_secret = "books-rs-secret"
audiences = ["books-api"]

# A resource server for orders-api (by its scopes, django-oidc-provider's model).
[[clients]]
client_id = "orders-rs"
client_secret = "orders-rs-secret"
scopes = ["orders-api"]
"#;

#[tokio::test]
async fn validate_audience_requires_the_tokens_aud_among_the_callers_scopes_or_audiences() {
    let s = spawn(VALIDATE_AUDIENCE).await;
    let books = s.token_basic("books-client", "books-secret", &[]).await.token();
    let orders = s.token_basic("orders-client", "orders-secret", &[]).await.token();
    let plain = s.token_basic("plain-client", "plain-secret", &[]).await.token();

    let r = s.introspect_as("books-rs", "books-rs-secret", &books).await;
    assert_eq!(r.json["active"], true, "{r:?}");
    assert_eq!(r.json["aud"], "books-api");
    let r = s.introspect_as("orders-rs", "orders-rs-secret", &orders).await;
    assert_eq!(r.json["active"], true, "{r:?}");

    for (caller, secret, token) in [
        ("books-rs", "books-rs-secret", &orders),
        ("books-rs", "books-rs-secret", &plain),
        ("orders-rs", "orders-rs-secret", &books),
        ("orders-rs", "orders-rs-secret", &plain),
    ] {
        let r = s.introspect_as(caller, secret, token).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.json, inactive(), "{caller}");
    }
    s.shutdown().await;
}

#[tokio::test]
async fn issued_tokens_survive_a_restart_on_the_same_database() {
    let s = spawn_with(CONFIG, |o| o.issuer = Some("http://latchkey.test".into())).await;
    let jwt = s.token_basic("basic-client", "basic-secret", &[]).await.token();
    let opaque = s.token_basic("opaque-client", "opaque-secret", &[]).await.token();
    let revoked = s.token_basic("basic-client", "basic-secret", &[]).await.token();
    let r = s
        .post_form(
            "/revoke",
            Some(&basic("basic-client", "basic-secret")),
            &[("token", &revoked)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let s = s.restart().await;
    assert!(s.is_active(&jwt).await);
    assert!(s.is_active(&opaque).await);
    assert!(!s.is_active(&revoked).await);
    s.shutdown().await;
}

#[tokio::test]
async fn an_in_memory_database_issues_and_introspects() {
    let s = spawn_with(CONFIG, |o| o.db = latchkey::DbLocation::Memory).await;
    let token = s.token_basic("basic-client", "basic-secret", &[]).await.token();
    assert!(s.is_active(&token).await);
    s.shutdown().await;
}
