//! `error` at the authorization, login and consent endpoints: delivered to the validated
//! redirect URI in the request's response mode (RFC 6749 §4.1.2.1; OAuth 2.0 Multiple Response
//! Types; Form Post Response Mode).

use serde_json::json;

use crate::common::{Callback, LEGACY_CB, WEB_CB};
use crate::harness::{add, logged, server};

fn params<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut p = vec![
        ("client_id", "web"),
        ("redirect_uri", WEB_CB),
        ("response_type", "code"),
        ("scope", "openid profile"),
        ("state", "st-1"),
    ];
    p.extend_from_slice(extra);
    p
}

#[tokio::test]
async fn authorize_error_goes_to_the_redirect_uri_in_query_fragment_or_form_post() {
    let s = server().await;
    add(&s, json!({"name": "no", "endpoint": "authorize", "client_id": "web", "action": "error", "error": "temporarily_unavailable"})).await;
    let mut b = s.browser();
    let page = b.authorize(&params(&[])).await;
    let cb = Callback::parse(page.redirect());
    assert!(page.redirect().starts_with(&format!("{WEB_CB}?")), "{page:?}");
    assert_eq!(
        cb.query.get("error").map(String::as_str),
        Some("temporarily_unavailable")
    );
    assert_eq!(cb.query.get("state").map(String::as_str), Some("st-1"));
    assert!(cb.query.get("iss").map(String::as_str).is_some());
    let page = b.authorize(&params(&[("response_mode", "fragment")])).await;
    assert!(
        page.redirect()
            .starts_with(&format!("{WEB_CB}#error=temporarily_unavailable")),
        "{page:?}"
    );
    let page = b.authorize(&params(&[("response_mode", "form_post")])).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&format!("action=\"{WEB_CB}\"")), "{}", page.body);
    assert!(
        page.body.contains("name=\"error\" value=\"temporarily_unavailable\""),
        "{}",
        page.body
    );
    let e = logged(&s, "/authorize").await;
    assert_eq!(
        e["fault"]["change"],
        format!("error temporarily_unavailable sent to {WEB_CB} (form_post)")
    );
    // The implicit flow's default mode is the fragment.
    add(&s, json!({"name": "legacy", "endpoint": "authorize", "client_id": "legacy", "action": "error", "error": "access_denied"})).await;
    let page = b
        .authorize(&[
            ("client_id", "legacy"),
            ("redirect_uri", LEGACY_CB),
            ("response_type", "id_token"),
            ("scope", "openid"),
            ("nonce", "n"),
        ])
        .await;
    assert!(
        page.redirect().starts_with(&format!("{LEGACY_CB}#error=access_denied")),
        "{page:?}"
    );
}

#[tokio::test]
async fn deny_the_next_login_of_one_user() {
    let s = server().await;
    add(&s, json!({"name": "deny bob", "endpoint": "login", "username": "bob", "action": "error", "error": "access_denied", "times": 1})).await;
    // Alice is not matched.
    let mut a = s.browser();
    let cb = a.code_flow(&params(&[]), "alice", "alice-password").await;
    assert!(cb.query.get("code").map(String::as_str).is_some());
    let mut b = s.browser();
    let page = b.authorize(&params(&[])).await;
    let done = b.login(&page, "bob", "bob-password").await;
    let cb = Callback::parse(done.redirect());
    assert_eq!(cb.query.get("error").map(String::as_str), Some("access_denied"));
    assert_eq!(cb.query.get("state").map(String::as_str), Some("st-1"));
    // Only once: bob signs in next time.
    let cb = b.code_flow(&params(&[]), "bob", "bob-password").await;
    assert!(cb.query.get("code").map(String::as_str).is_some());
}

#[tokio::test]
async fn consent_errors_go_to_the_client_too() {
    let s = server().await;
    add(&s, json!({"name": "c", "endpoint": "consent", "client_id": "consent-app", "action": "error", "error": "consent_required"})).await;
    let mut b = s.browser();
    let page = b
        .authorize(&[
            ("client_id", "consent-app"),
            ("redirect_uri", crate::common::CONSENT_CB),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "s"),
        ])
        .await;
    let page = b.login(&page, "alice", "alice-password").await;
    // The consent page itself (GET after the login redirect) is where the rule fires.
    let next = if page.is_consent() {
        page
    } else {
        b.get(page.redirect()).await
    };
    let cb = if next.is_consent() {
        b.consent(&next, true).await
    } else {
        next
    };
    let cb = Callback::parse(cb.redirect());
    assert_eq!(cb.query.get("error").map(String::as_str), Some("consent_required"));
}
