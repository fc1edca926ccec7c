//! The client credentials grant through `token::exchange`.

use super::*;
use crate::oauth::token::exchange;

#[tokio::test]
async fn a_requested_subset_of_the_allowed_scopes_is_granted() {
    let p = provider().await;
    let r = client_credentials(&p, "svc", Some("read")).await.unwrap();
    assert_eq!(r.scope, "read");
    assert_eq!(r.token_type, "Bearer");
    assert_eq!(r.expires_in, 3_600);
    assert!(r.refresh_token.is_none(), "RFC 6749 §4.4.3: no refresh token");
    assert!(r.id_token.is_none());
    let rec = p
        .store
        .find_token_by_hash(crate::ids::token_hash(&r.access_token))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec.scope, "read");
    assert_eq!(rec.subject, "svc");
    assert_eq!(rec.client_id, "svc");
}

#[tokio::test]
async fn no_scope_grants_every_allowed_scope() {
    let p = provider().await;
    let r = client_credentials(&p, "svc", None).await.unwrap();
    assert_eq!(r.scope, "read write");
    // An empty scope parameter is the same as none.
    let r = client_credentials(&p, "svc", Some("")).await.unwrap();
    assert_eq!(r.scope, "read write");
}

#[tokio::test]
async fn a_scope_beyond_the_allowed_ones_is_invalid_scope_naming_it() {
    let p = provider().await;
    let e = client_credentials(&p, "svc", Some("read admin")).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidScope);
    assert!(e.description.contains("`admin`"), "{}", e.description);
    // A scope that does not exist at all is refused the same way.
    assert_eq!(
        code(client_credentials(&p, "svc", Some("nope")).await),
        ErrorCode::InvalidScope
    );
    // A malformed scope token too.
    assert_eq!(
        code(client_credentials(&p, "svc", Some("a\"b")).await),
        ErrorCode::InvalidScope
    );
    // Nothing was issued.
    assert!(p.store.list_tokens(Default::default()).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_client_without_the_grant_is_unauthorized_client() {
    let p = provider().await;
    let e = client_credentials(&p, "web", None).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::UnauthorizedClient);
    assert!(e.description.contains("client_credentials"), "{}", e.description);
}

#[tokio::test]
async fn a_public_client_is_refused_client_credentials() {
    let p = provider().await;
    // A public client cannot even be registered with the grant.
    let e = p
        .upsert_client(client("spa2", None, &[GrantType::ClientCredentials], &["read"]))
        .await
        .unwrap_err();
    assert!(format!("{e:?}").contains("public client"), "{e:?}");
    // Without the grant: unauthorized_client.
    let form = Form::from_pairs([("grant_type", "client_credentials"), ("client_id", "spa")]);
    let e = exchange(&p, &BasicAuth::Absent, &form).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::UnauthorizedClient);
    // With the grant (stored unvalidated): still refused, as public.
    let form = Form::from_pairs([("grant_type", "client_credentials"), ("client_id", "legacy-public")]);
    let e = exchange(&p, &BasicAuth::Absent, &form).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::UnauthorizedClient);
    assert!(e.description.contains("public client"), "{}", e.description);
    assert!(p.store.list_tokens(Default::default()).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_wrong_secret_is_invalid_client_and_issues_nothing() {
    let p = provider().await;
    let form = Form::from_pairs([("grant_type", "client_credentials")]);
    let e = exchange(&p, &basic("svc", "wrong"), &form).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidClient);
    assert!(e.basic_challenge);
    assert!(p.store.list_tokens(Default::default()).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_unknown_or_missing_grant_type_is_refused() {
    let p = provider().await;
    let e = exchange(
        &p,
        &basic("svc", "s3cret"),
        &Form::from_pairs([("grant_type", "magic")]),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::UnsupportedGrantType);
    let e = exchange(
        &p,
        &basic("svc", "s3cret"),
        &Form::from_pairs(Vec::<(String, String)>::new()),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidRequest);
}
