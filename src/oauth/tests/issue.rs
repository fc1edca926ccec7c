//! Expiry math and the recorded token, against the fixed clock.

use super::*;
use crate::ids;
use crate::store::{TokenKind, TokenStatus};

#[tokio::test]
async fn iat_and_exp_come_from_the_clock_and_the_server_ttl() {
    let p = provider().await;
    p.clock.advance(500);
    let r = client_credentials(&p, "svc", None).await.unwrap();
    let rec = p
        .store
        .find_token_by_hash(ids::token_hash(&r.access_token))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec.kind, TokenKind::AccessToken);
    assert_eq!(rec.status, TokenStatus::Active);
    assert_eq!(rec.format, TokenFormat::Jwt);
    assert_eq!(rec.issued_at, T0 + 500);
    assert_eq!(rec.expires_at, T0 + 500 + 3_600);
    assert_eq!(rec.claims["iat"], T0 + 500);
    assert_eq!(rec.claims["exp"], T0 + 500 + 3_600);
    assert_eq!(
        rec.claims["iss"], "http://localhost:8000",
        "the issuer exactly as configured"
    );
    assert_eq!(rec.claims["aud"], "svc");
    assert_eq!(rec.claims["jti"], rec.id.as_str());
    assert!(rec.kid.is_some(), "a JWT records its signing key");
    // The JWT itself carries the same times.
    let payload = r.access_token.split('.').nth(1).unwrap();
    use base64::Engine;
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["exp"], T0 + 500 + 3_600);
}

#[tokio::test]
async fn a_client_ttl_overrides_the_server_ttl() {
    let p = provider().await;
    let r = client_credentials(&p, "opaque", None).await.unwrap();
    assert_eq!(r.expires_in, 120);
    assert_eq!(r.access_token.split('.').count(), 1, "opaque, not a JWT");
    let rec = p
        .store
        .find_token_by_hash(ids::token_hash(&r.access_token))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec.format, TokenFormat::Opaque);
    assert_eq!(rec.expires_at, T0 + 120);
    assert!(rec.kid.is_none());
}

#[tokio::test]
async fn the_server_ttl_setting_is_used() {
    let p = provider_with(Settings {
        access_token_ttl: crate::model::Seconds(42),
        ..Settings::default()
    })
    .await;
    let r = client_credentials(&p, "svc", None).await.unwrap();
    assert_eq!(r.expires_in, 42);
    let rec = p
        .store
        .find_token_by_hash(ids::token_hash(&r.access_token))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec.expires_at - rec.issued_at, 42);
}

#[tokio::test]
async fn extra_claims_cannot_override_registered_ones() {
    let p = provider().await;
    let c = p.client("svc").unwrap();
    let mut extra = serde_json::Map::new();
    extra.insert("sub".into(), "mallory".into());
    extra.insert("exp".into(), serde_json::json!(i64::MAX));
    extra.insert("tenant".into(), "acme".into());
    let issued = crate::oauth::issue::access_token(
        &p,
        crate::oauth::issue::AccessTokenRequest {
            client: &c,
            subject: "svc".into(),
            username: None,
            scopes: vec!["read".into()],
            grant_type: "client_credentials",
            grant_id: None,
            parent_id: None,
            ttl: Some(10),
            extra_claims: extra,
        },
    )
    .await
    .unwrap();
    assert_eq!(issued.expires_in, 10);
    assert_eq!(issued.record.claims["sub"], "svc");
    assert_eq!(issued.record.claims["exp"], T0 + 10);
    assert_eq!(issued.record.claims["tenant"], "acme");
}
