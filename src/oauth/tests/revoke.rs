//! Revocation (RFC 7009) through `revoke::revoke`.

use super::*;
use crate::ids;
use crate::oauth::revoke::revoke;
use crate::store::TokenStatus;

async fn status(p: &Provider, token: &str) -> TokenStatus {
    p.store
        .find_token_by_hash(ids::token_hash(token))
        .await
        .unwrap()
        .unwrap()
        .status
}

#[tokio::test]
async fn the_owner_revokes_its_token() {
    let p = provider().await;
    let t = client_credentials(&p, "svc", None).await.unwrap().access_token;
    p.clock.advance(7);
    revoke(&p, &basic("svc", "s3cret"), &Form::from_pairs([("token", t.as_str())]))
        .await
        .unwrap();
    let rec = p.store.find_token_by_hash(ids::token_hash(&t)).await.unwrap().unwrap();
    assert_eq!(rec.status, TokenStatus::Revoked);
    assert_eq!(rec.status_at, Some(T0 + 7), "the revocation time comes from the clock");
    // Revoking again is still 200 (RFC 7009 §2.2).
    revoke(&p, &basic("svc", "s3cret"), &Form::from_pairs([("token", t.as_str())]))
        .await
        .unwrap();
}

#[tokio::test]
async fn another_clients_token_is_refused_and_left_active() {
    let p = provider().await;
    let t = client_credentials(&p, "svc", None).await.unwrap().access_token;
    let e = revoke(
        &p,
        &basic("other", "s3cret"),
        &Form::from_pairs([("token", t.as_str())]),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidRequest);
    assert_eq!(status(&p, &t).await, TokenStatus::Active);
    let v =
        crate::oauth::introspect::introspect(&p, &basic("svc", "s3cret"), &Form::from_pairs([("token", t.as_str())]))
            .await
            .unwrap();
    assert_eq!(v["active"], true);
}

#[tokio::test]
async fn an_unknown_token_is_accepted_silently() {
    let p = provider().await;
    revoke(
        &p,
        &basic("svc", "s3cret"),
        &Form::from_pairs([("token", "nothing-like-it")]),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn an_expired_token_is_accepted() {
    let p = provider().await;
    let t = client_credentials(&p, "svc", None).await.unwrap().access_token;
    p.clock.advance(10_000);
    revoke(&p, &basic("svc", "s3cret"), &Form::from_pairs([("token", t.as_str())]))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_caller_must_authenticate_and_send_a_token() {
    let p = provider().await;
    let t = client_credentials(&p, "svc", None).await.unwrap().access_token;
    let e = revoke(&p, &basic("svc", "nope"), &Form::from_pairs([("token", t.as_str())]))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidClient);
    assert_eq!(status(&p, &t).await, TokenStatus::Active);
    let e = revoke(
        &p,
        &basic("svc", "s3cret"),
        &Form::from_pairs(Vec::<(String, String)>::new()),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidRequest);
}
