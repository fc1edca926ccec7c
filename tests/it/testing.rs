//! `latchkey::testing`: what an app's own `#[tokio::test]`s get (issue 12). Each test drives
//! the provider over real HTTP, as the app under test would, and through the helpers.

use latchkey::testing::TestProvider;
use serde_json::Value;

const CONFIG: &str = r#"
[server]
access_token_ttl = 300

[[scopes]]
name = "read_books"

[[clients]]
client_id = "books-backend"
client_secret = "books-backend-secret"
scopes = ["read_books"]
audiences = ["books-api"]

[[users]]
username = "alice"
password = "alice-password"
claims = { email = "alice@example.com" }
"#;

async fn introspect(idp: &TestProvider, token: &str) -> Value {
    reqwest::Client::new()
        .post(idp.url("/introspect"))
        .basic_auth("books-backend", Some("books-backend-secret"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn client_credentials(idp: &TestProvider) -> String {
    let body: Value = reqwest::Client::new()
        .post(idp.url("/token"))
        .basic_auth("books-backend", Some("books-backend-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_test_provider_serves_discovery_for_its_issuer() {
    let idp = TestProvider::with_config(CONFIG).await.unwrap();
    assert!(idp.issuer().starts_with("http://localhost:"), "{}", idp.issuer());

    let doc: Value = reqwest::get(idp.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    assert_eq!(doc["issuer"], idp.issuer());
    assert_eq!(doc["token_endpoint"], idp.url("/token"));
    idp.shutdown().await;
}

#[tokio::test]
async fn a_minted_token_carries_the_user_scopes_and_claims() {
    let idp = TestProvider::with_config(CONFIG).await.unwrap();

    let minted = idp
        .mint_token("books-backend")
        .user("alice")
        .scopes(["read_books"])
        .ttl(60)
        .claim("tenant", "acme")
        .send()
        .await
        .unwrap();

    assert_eq!(minted.expires_in, 60);
    let answer = introspect(&idp, &minted.access_token).await;
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["scope"], "read_books");
    assert_eq!(answer["aud"], "books-api");
    assert_eq!(answer["username"], "alice");
}

#[tokio::test]
async fn minting_for_an_unknown_client_names_the_field() {
    let idp = TestProvider::with_config(CONFIG).await.unwrap();

    let e = idp.mint_token("nobody").send().await.unwrap_err();

    assert_eq!(e.fields[0].field, "client_id", "{e:?}");
}

#[tokio::test]
async fn introspection_follows_the_moved_clock() {
    let idp = TestProvider::with_config(CONFIG).await.unwrap();
    let token = client_credentials(&idp).await;
    let before = idp.now();

    idp.advance_clock(301);

    assert!(idp.now() >= before + 301);
    assert_eq!(introspect(&idp, &token).await, serde_json::json!({"active": false}));
    idp.set_clock_offset(0);
    assert_eq!(introspect(&idp, &token).await["active"], true);
}

#[tokio::test]
async fn the_request_log_lists_what_the_app_sent_oldest_first() {
    let idp = TestProvider::with_config(CONFIG).await.unwrap();
    let token = client_credentials(&idp).await;
    introspect(&idp, &token).await;

    let log = idp.requests();

    let paths: Vec<&str> = log.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/token", "/introspect"]);
    assert_eq!(log[0].client_id.as_deref(), Some("books-backend"));
    assert!(!serde_json::to_string(&log).unwrap().contains("books-backend-secret"));
}

#[tokio::test]
async fn reset_goes_back_to_the_config() {
    let idp = TestProvider::with_config(CONFIG).await.unwrap();
    let token = client_credentials(&idp).await;
    idp.provider().delete_client("books-backend").await.unwrap();
    idp.advance_clock(60);

    idp.reset().await.unwrap();

    assert!(idp.requests().is_empty());
    assert!(
        idp.provider().client("books-backend").is_some(),
        "the config's client is back"
    );
    assert_eq!(idp.provider().clock.offset_secs(), 0);
    assert_eq!(introspect(&idp, &token).await, serde_json::json!({"active": false}));
    let fresh = client_credentials(&idp).await;
    assert_eq!(introspect(&idp, &fresh).await["active"], true);
}

#[tokio::test]
async fn providers_are_independent() {
    let (a, b) = (
        TestProvider::with_config(CONFIG).await.unwrap(),
        TestProvider::with_config(CONFIG).await.unwrap(),
    );
    assert_ne!(a.issuer(), b.issuer());

    a.advance_clock(3600);
    client_credentials(&a).await;

    assert_eq!(b.provider().clock.offset_secs(), 0);
    assert!(b.requests().is_empty());
}

#[tokio::test]
async fn a_broken_config_is_an_error_naming_the_key() {
    let e = TestProvider::with_config("[server]\naccess_token_ttl = \"soon\"\n")
        .await
        .err()
        .expect("a broken config must not start");

    let text = e.to_string();
    assert!(text.contains(":2:") && text.contains("access_token_ttl"), "{text}");
}

#[tokio::test]
async fn from_file_loads_a_committed_config() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latchkey.toml");
    std::fs::write(&path, CONFIG).unwrap();

    let idp = TestProvider::from_file(&path).await.unwrap();

    assert!(idp.provider().client("books-backend").is_some());
}

#[tokio::test]
async fn reset_with_new_keys_replaces_the_signing_key() {
    let idp = TestProvider::with_config(CONFIG).await.unwrap();
    let kid = |jwks: &Value| jwks["keys"][0]["kid"].as_str().unwrap().to_string();
    let before: Value = reqwest::get(idp.url("/jwks")).await.unwrap().json().await.unwrap();
    client_credentials(&idp).await;

    let summary = idp.reset_with_new_keys().await.unwrap();

    assert!(summary.keys);
    assert_eq!(summary.tokens, 1);
    let after: Value = reqwest::get(idp.url("/jwks")).await.unwrap().json().await.unwrap();
    assert_ne!(kid(&before), kid(&after));
    assert_eq!(after["keys"].as_array().unwrap().len(), 1, "{after}");
}
