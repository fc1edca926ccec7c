//! Advisory class: a public client's consent reused silently (auto-approval of a client whose
//! identity cannot be verified; RFC 8252 §8.6, RFC 9700 §4.1.3's impersonation of native apps).
//! Any app can claim a public client's id, so an approval must not be replayed for it without
//! asking; confidential clients keep remembered consent. The behaviour is the client setting
//! `remember_consent`.

use serde_json::{Value, json};

use crate::common::*;

const NATIVE_CB: &str = "http://127.0.0.1/native-cb";

fn config() -> String {
    format!(
        r#"{CONFIG}
# A public (native) app that asks for consent.
[[clients]]
client_id = "public-consent"
name = "Public consent app"
redirect_uris = ["{NATIVE_CB}"]
token_endpoint_auth_method = "none"
scopes = ["openid", "profile"]
require_consent = true

# The same, remembering consent explicitly.
[[clients]]
client_id = "public-remember"
redirect_uris = ["{NATIVE_CB}"]
token_endpoint_auth_method = "none"
scopes = ["openid", "profile"]
require_consent = true
remember_consent = true

# A confidential app that asks every time.
[[clients]]
client_id = "confidential-ask"
client_secret = "confidential-ask-secret"
redirect_uris = ["http://localhost:6001/cb"]
scopes = ["openid", "profile"]
require_consent = true
remember_consent = false
"#
    )
}

async fn authorize(b: &mut Browser, client: &str, redirect: &str, prompt: Option<&str>) -> Page {
    let (_, challenge) = pkce_s256();
    let mut params = vec![
        ("client_id", client),
        ("response_type", "code"),
        ("redirect_uri", redirect),
        ("scope", "openid profile"),
        ("state", "st"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];
    if let Some(p) = prompt {
        params.push(("prompt", p));
    }
    b.authorize(&params).await
}

/// Signs in and approves once; returns the browser (signed in).
async fn approve_once(srv: &TestServer, client: &str, redirect: &str) -> Browser {
    let mut b = srv.browser();
    let login = authorize(&mut b, client, redirect, None).await;
    let consent = b.login(&login, "alice", "alice-password").await;
    assert!(consent.is_consent(), "{consent:?}");
    let done = b.consent(&consent, true).await;
    assert!(!Callback::parse(done.redirect()).q("code").is_empty());
    b
}

#[tokio::test]
async fn a_public_clients_consent_is_asked_every_time_and_prompt_none_is_consent_required() {
    let srv = spawn(&config()).await;
    let mut b = approve_once(&srv, "public-consent", NATIVE_CB).await;
    // Signed in, same scopes: the consent page again, saying it is not remembered.
    let again = authorize(&mut b, "public-consent", NATIVE_CB, None).await;
    assert!(again.is_consent(), "{again:?}");
    assert!(again.body.contains("not remembered"), "{}", again.body);
    // prompt=none cannot show it: consent_required at the redirect URI, no code.
    let none = authorize(&mut b, "public-consent", NATIVE_CB, Some("none")).await;
    let cb = Callback::parse(none.redirect());
    assert_eq!(cb.q("error"), "consent_required");
    assert!(cb.q("error_description").contains("RFC 8252"), "{cb:?}");
    assert!(!cb.query.contains_key("code"));
}

#[tokio::test]
async fn a_confidential_clients_consent_is_remembered() {
    let srv = spawn(&config()).await;
    let mut b = approve_once(&srv, "consent-app", CONSENT_CB).await;
    let again = authorize(&mut b, "consent-app", CONSENT_CB, None).await;
    assert!(!Callback::parse(again.redirect()).q("code").is_empty());
    let none = authorize(&mut b, "consent-app", CONSENT_CB, Some("none")).await;
    assert!(!Callback::parse(none.redirect()).q("code").is_empty());
}

#[tokio::test]
async fn remember_consent_overrides_the_default_either_way() {
    let srv = spawn(&config()).await;
    let mut b = approve_once(&srv, "public-remember", NATIVE_CB).await;
    let again = authorize(&mut b, "public-remember", NATIVE_CB, Some("none")).await;
    assert!(!Callback::parse(again.redirect()).q("code").is_empty(), "{again:?}");

    let mut b = approve_once(&srv, "confidential-ask", "http://localhost:6001/cb").await;
    let again = authorize(&mut b, "confidential-ask", "http://localhost:6001/cb", None).await;
    assert!(again.is_consent(), "{again:?}");
    let none = authorize(&mut b, "confidential-ask", "http://localhost:6001/cb", Some("none")).await;
    assert_eq!(Callback::parse(none.redirect()).q("error"), "consent_required");
}

async fn admin(srv: &TestServer, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = srv.http.request(method, srv.at(&format!("/admin/api{path}")));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.expect("admin request");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

#[tokio::test]
async fn remember_consent_round_trips_through_the_admin_api_and_the_config_export() {
    let srv = spawn(&config()).await;
    let (s, c) = admin(&srv, reqwest::Method::GET, "/clients/public-remember", None).await;
    assert_eq!((s, &c["remember_consent"]), (200, &json!(true)), "{c}");
    let (_, c) = admin(&srv, reqwest::Method::GET, "/clients/public-consent", None).await;
    assert!(c.get("remember_consent").is_none(), "the default is not written: {c}");

    // Create and change it over the API.
    let mut body = json!({
        "client_id": "api-native",
        "redirect_uris": [NATIVE_CB],
        "token_endpoint_auth_method": "none",
        "scopes": ["openid"],
        "require_consent": true,
        "remember_consent": false
    });
    let (s, c) = admin(&srv, reqwest::Method::POST, "/clients", Some(body.clone())).await;
    assert_eq!((s, &c["remember_consent"]), (201, &json!(false)), "{c}");
    body["remember_consent"] = json!(true);
    let (s, c) = admin(&srv, reqwest::Method::PUT, "/clients/api-native", Some(body.clone())).await;
    assert_eq!((s, &c["remember_consent"]), (200, &json!(true)), "{c}");
    body["remember_consent"] = json!("yes");
    let (s, e) = admin(&srv, reqwest::Method::PUT, "/clients/api-native", Some(body)).await;
    assert!((400..500).contains(&s), "{s} {e}");

    // The export writes it, and importing the export into a fresh server keeps it.
    let text = srv
        .http
        .get(srv.at("/admin/api/config"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let table = text
        .split("[[clients]]")
        .find(|t| t.contains("client_id = \"api-native\""))
        .unwrap();
    assert!(table.contains("remember_consent = true"), "{table}");
    let fresh = spawn(CONFIG).await;
    let r = fresh
        .http
        .put(fresh.at("/admin/api/config"))
        .body(text)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let (_, c) = admin(&fresh, reqwest::Method::GET, "/clients/api-native", None).await;
    assert_eq!(c["remember_consent"], json!(true), "{c}");
    let (_, c) = admin(&fresh, reqwest::Method::GET, "/clients/public-consent", None).await;
    assert!(c.get("remember_consent").is_none(), "{c}");
}

#[tokio::test]
async fn deleting_a_client_forgets_the_consents_it_was_given() {
    let srv = spawn(&config()).await;
    let mut b = approve_once(&srv, "consent-app", CONSENT_CB).await;
    let (_, client) = admin(&srv, reqwest::Method::GET, "/clients/consent-app", None).await;
    let (s, _) = admin(&srv, reqwest::Method::DELETE, "/clients/consent-app", None).await;
    assert_eq!(s, 204);
    // Someone registers a client under the same id: it must ask again.
    let (s, c) = admin(&srv, reqwest::Method::POST, "/clients", Some(client)).await;
    assert_eq!(s, 201, "{c}");
    let again = authorize(&mut b, "consent-app", CONSENT_CB, None).await;
    assert!(again.is_consent(), "{again:?}");
}
