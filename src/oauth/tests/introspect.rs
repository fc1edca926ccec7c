//! Introspection (RFC 7662) through `introspect::introspect`.

use serde_json::Value;

use super::*;
use crate::oauth::introspect::introspect;

async fn ask(p: &Provider, caller: &str, token: &str) -> Value {
    introspect(p, &basic(caller, "s3cret"), &Form::from_pairs([("token", token)]))
        .await
        .unwrap()
}

fn assert_inactive(v: &Value) {
    assert_eq!(
        v,
        &serde_json::json!({ "active": false }),
        "an inactive response says nothing else"
    );
}

#[tokio::test]
async fn an_active_token_reports_its_claims() {
    let p = provider().await;
    let t = client_credentials(&p, "svc", Some("read")).await.unwrap().access_token;
    let v = ask(&p, "other", &t).await;
    assert_eq!(v["active"], true);
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["client_id"], "svc");
    assert_eq!(v["sub"], "svc");
    assert_eq!(v["scope"], "read");
    assert_eq!(v["aud"], "svc");
    assert_eq!(v["iss"], "http://localhost:8000", "the issuer exactly as configured");
    assert_eq!(v["iat"], T0);
    assert_eq!(v["exp"], T0 + 3_600);
    assert!(v["jti"].is_string());
    assert!(v.get("username").is_none(), "no user for client credentials");
}

#[tokio::test]
async fn an_unknown_token_is_inactive() {
    let p = provider().await;
    assert_inactive(&ask(&p, "svc", "not-a-token").await);
}

#[tokio::test]
async fn a_token_is_inactive_once_the_clock_passes_exp() {
    let p = provider().await;
    let t = client_credentials(&p, "svc", None).await.unwrap().access_token;
    p.clock.advance(3_599);
    assert_eq!(ask(&p, "svc", &t).await["active"], true);
    p.clock.advance(1);
    assert_inactive(&ask(&p, "svc", &t).await);
    // Moving the clock back makes it live again: expiry is judged by the clock, not stored.
    p.clock.advance(-10);
    assert_eq!(ask(&p, "svc", &t).await["active"], true);
}

#[tokio::test]
async fn a_revoked_token_is_inactive() {
    let p = provider().await;
    let t = client_credentials(&p, "svc", None).await.unwrap().access_token;
    crate::oauth::revoke::revoke(&p, &basic("svc", "s3cret"), &Form::from_pairs([("token", t.as_str())]))
        .await
        .unwrap();
    assert_inactive(&ask(&p, "svc", &t).await);
}

#[tokio::test]
async fn the_caller_must_authenticate() {
    let p = provider().await;
    let t = client_credentials(&p, "svc", None).await.unwrap().access_token;
    let e = introspect(&p, &basic("svc", "wrong"), &Form::from_pairs([("token", t.as_str())]))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidClient);
    let e = introspect(
        &p,
        &basic("svc", "s3cret"),
        &Form::from_pairs(Vec::<(String, String)>::new()),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidRequest, "token is required");
}

#[tokio::test]
async fn require_scope_refuses_a_caller_without_token_introspection() {
    let p = provider_with(Settings {
        introspection_require_scope: true,
        ..Settings::default()
    })
    .await;
    let t = client_credentials(&p, "svc", None).await.unwrap().access_token;
    let e = introspect(
        &p,
        &basic("other", "s3cret"),
        &Form::from_pairs([("token", t.as_str())]),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::UnauthorizedClient);
    assert!(e.forbidden);
}

#[tokio::test]
async fn validate_audience_hides_tokens_for_other_audiences() {
    let p = provider_with(Settings {
        introspection_validate_audience: true,
        ..Settings::default()
    })
    .await;
    let t = client_credentials(&p, "svc", None).await.unwrap().access_token;
    // aud is `svc`: `other` holds neither that scope nor that audience.
    assert_inactive(&ask(&p, "other", &t).await);
    let mut c = (*p.client("other").unwrap()).clone();
    c.audiences = vec!["svc".into()];
    p.upsert_client(c).await.unwrap();
    assert_eq!(ask(&p, "other", &t).await["active"], true);
}
