//! Resource indicators (RFC 8707): `resource` at the authorization and token endpoints sets the
//! access token's `aud`; `invalid_target` for a malformed or disallowed resource; a grant may be
//! narrowed at the token request and at refresh, never widened; and a token for a registered
//! resource's identifier is accepted by the resource-server simulator, found through its
//! RFC 9728 metadata.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

pub const CONFIG: &str = r#"
[[scopes]]
name = "read_books"
description = "Read the book catalogue"

[[resources]]
name = "books"
audience = "books-api"
required_scopes = ["read_books"]

[[resources]]
name = "notes"

[[clients]]
client_id = "web"
client_secret = "web-secret"
redirect_uris = ["http://localhost:3000/callback"]
grant_types = ["authorization_code", "refresh_token", "client_credentials"]
scopes = ["openid", "profile", "read_books", "offline_access"]

[[clients]]
client_id = "spa"
redirect_uris = ["http://localhost:3000/spa"]
token_endpoint_auth_method = "none"
grant_types = ["authorization_code", "refresh_token"]
scopes = ["openid", "read_books"]

# May target only what it lists (and its own audience), not the registered resources.
[[clients]]
client_id = "partner"
client_secret = "partner-secret"
grant_types = ["client_credentials"]
scopes = ["read_books"]
audiences = ["partner-api"]
allowed_resources = ["https://api.example.com/", "urn:example:ledger"]

[[clients]]
client_id = "asks"
client_secret = "asks-secret"
redirect_uris = ["http://localhost:6000/cb"]
scopes = ["openid", "read_books"]
require_consent = true

# Token exchange follows the same rules (RFC 8693 `resource`).
[[clients]]
client_id = "exchanger"
client_secret = "exchanger-secret"
grant_types = ["client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"]
scopes = ["read_books"]
allowed_resources = ["https://api.example.com/"]

[[users]]
username = "alice"
password = "alice-password"
claims = { name = "Alice Liddell" }
"#;

const CB: &str = "http://localhost:3000/callback";

fn aud(token: &str) -> Value {
    jwt_claims(token)["aud"].clone()
}

async fn client_credentials(s: &TestServer, id: &str, secret: &str, extra: &[(&str, &str)]) -> Reply {
    let mut pairs = vec![("grant_type", "client_credentials")];
    pairs.extend_from_slice(extra);
    s.token(Some((id, secret)), &pairs).await
}

/// Authorize `web` as alice with these extra parameters; returns the code.
async fn code_for(s: &TestServer, extra: &[(&str, &str)]) -> String {
    let mut b = s.browser();
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", "web"),
        ("redirect_uri", CB),
        ("scope", "openid read_books offline_access"),
        ("state", "st"),
    ];
    params.extend_from_slice(extra);
    let cb = b.code_flow(&params, "alice", "alice-password").await;
    cb.q("code").to_string()
}

async fn redeem(s: &TestServer, code: &str, extra: &[(&str, &str)]) -> Reply {
    let mut pairs = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CB),
    ];
    pairs.extend_from_slice(extra);
    s.token(Some(("web", "web-secret")), &pairs).await
}

async fn refresh(s: &TestServer, rt: &str, extra: &[(&str, &str)]) -> Reply {
    let mut pairs = vec![("grant_type", "refresh_token"), ("refresh_token", rt)];
    pairs.extend_from_slice(extra);
    s.token(Some(("web", "web-secret")), &pairs).await
}

#[tokio::test]
async fn discover_authorize_with_resource_and_call_the_resource() {
    let s = spawn(CONFIG).await;
    // RFC 9728: the resource's metadata names its identifier and points back at the issuer.
    let meta: Value = s
        .http
        .get(s.at("/.well-known/oauth-protected-resource/resources/books"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let books = meta["resource"].as_str().unwrap().to_string();
    assert_eq!(books, format!("{}/resources/books", s.issuer()));
    assert_eq!(meta["authorization_servers"], json!([s.issuer()]));
    // The authorization server's metadata, found from there (RFC 8414 §3).
    let as_meta: Value = s
        .http
        .get(format!("{}/.well-known/oauth-authorization-server", s.issuer()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(as_meta["authorization_endpoint"], format!("{}/authorize", s.issuer()));

    // A public client with PKCE asks for a token for the resource.
    let (verifier, challenge) = pkce_s256();
    let mut b = s.browser();
    let cb = b
        .code_flow(
            &[
                ("response_type", "code"),
                ("client_id", "spa"),
                ("redirect_uri", "http://localhost:3000/spa"),
                ("scope", "read_books"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("resource", &books),
            ],
            "alice",
            "alice-password",
        )
        .await;
    let t = s
        .token(
            None,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "spa"),
                ("code", cb.q("code")),
                ("redirect_uri", "http://localhost:3000/spa"),
                ("code_verifier", &verifier),
            ],
        )
        .await;
    let at = t.ok("access_token");
    assert_eq!(aud(&at), json!(books));
    // The resource-server simulator accepts it: its aud is the resource's identifier.
    let r = s
        .http
        .get(s.at("/resources/books/shelf"))
        .bearer_auth(&at)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    // The same client without `resource` gets its default audience, which the API refuses.
    let (verifier, challenge) = pkce_s256();
    let mut b = s.browser();
    let cb = b
        .code_flow(
            &[
                ("response_type", "code"),
                ("client_id", "spa"),
                ("redirect_uri", "http://localhost:3000/spa"),
                ("scope", "read_books"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
            "alice",
            "alice-password",
        )
        .await;
    let plain = s
        .token(
            None,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "spa"),
                ("code", cb.q("code")),
                ("redirect_uri", "http://localhost:3000/spa"),
                ("code_verifier", &verifier),
            ],
        )
        .await
        .ok("access_token");
    assert_eq!(aud(&plain), json!("spa"));
    let r = s
        .http
        .get(s.at("/resources/books/shelf"))
        .bearer_auth(&plain)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Introspection reports the aud the resource indicator set.
    let i = s
        .http
        .post(s.at("/introspect"))
        .header("authorization", basic("web", "web-secret"))
        .form(&[("token", at.as_str())])
        .send()
        .await
        .unwrap();
    let i: Value = i.json().await.unwrap();
    assert_eq!(i["active"], true);
    assert_eq!(i["aud"], json!(books));
}

#[tokio::test]
async fn client_credentials_aud_is_the_resources_and_bad_ones_are_invalid_target() {
    let s = spawn(CONFIG).await;
    let books = format!("{}/resources/books", s.issuer());
    let notes = format!("{}/resources/notes", s.issuer());
    let one = client_credentials(&s, "web", "web-secret", &[("resource", &books)]).await;
    assert_eq!(aud(&one.ok("access_token")), json!(books));
    // Several resources: aud is an array of them, in order (RFC 8707 §2, RFC 7519 §4.1.3).
    let two = client_credentials(&s, "web", "web-secret", &[("resource", &notes), ("resource", &books)]).await;
    assert_eq!(aud(&two.ok("access_token")), json!([notes, books]));
    // Without resource: the client's default audience.
    let none = client_credentials(&s, "web", "web-secret", &[]).await;
    assert_eq!(aud(&none.ok("access_token")), json!("web"));

    let fragment = format!("{books}#x");
    for (bad, why) in [
        ("books-api", "absolute URI"),
        ("/resources/books", "absolute URI"),
        (fragment.as_str(), "fragment"),
        ("https://elsewhere.example/api", "may not obtain tokens"),
    ] {
        let r = client_credentials(&s, "web", "web-secret", &[("resource", bad)]).await;
        r.assert_error(400, "invalid_target");
        assert!(
            r.json["error_description"].as_str().unwrap().contains(why),
            "{bad}: {:?}",
            r.json
        );
    }
    // One bad value among good ones fails the whole request.
    let mixed = client_credentials(
        &s,
        "web",
        "web-secret",
        &[("resource", &books), ("resource", "https://elsewhere.example/")],
    )
    .await;
    mixed.assert_error(400, "invalid_target");
}

#[tokio::test]
async fn allowed_resources_replace_the_registered_resources_for_a_client() {
    let s = spawn(CONFIG).await;
    let ok = client_credentials(
        &s,
        "partner",
        "partner-secret",
        &[
            ("resource", "https://api.example.com/"),
            ("resource", "urn:example:ledger"),
        ],
    )
    .await;
    assert_eq!(
        aud(&ok.ok("access_token")),
        json!(["https://api.example.com/", "urn:example:ledger"])
    );
    let books = format!("{}/resources/books", s.issuer());
    let refused = client_credentials(&s, "partner", "partner-secret", &[("resource", &books)]).await;
    refused.assert_error(400, "invalid_target");
    assert!(
        refused.json["error_description"]
            .as_str()
            .unwrap()
            .contains("allowed_resources")
    );
}

#[tokio::test]
async fn an_authorization_request_with_a_bad_resource_is_redirected_with_invalid_target() {
    let s = spawn(CONFIG).await;
    let mut b = s.browser();
    for bad in ["not a uri", "https://elsewhere.example/", "https://x.example/#frag"] {
        let page = b
            .authorize(&[
                ("response_type", "code"),
                ("client_id", "web"),
                ("redirect_uri", CB),
                ("scope", "openid"),
                ("state", "s1"),
                ("resource", bad),
            ])
            .await;
        let cb = Callback::parse(page.redirect());
        assert_eq!(cb.q("error"), "invalid_target", "{bad}");
        assert_eq!(cb.q("state"), "s1");
        assert!(!cb.q("error_description").is_empty());
    }
}

#[tokio::test]
async fn the_token_request_and_refresh_narrow_the_resources_and_never_widen_them() {
    let s = spawn(CONFIG).await;
    let books = format!("{}/resources/books", s.issuer());
    let notes = format!("{}/resources/notes", s.issuer());
    let code = code_for(&s, &[("resource", &books), ("resource", &notes)]).await;
    // Widening at the token request is refused, and the code survives for a correct retry.
    let wide = redeem(&s, &code, &[("resource", "https://elsewhere.example/")]).await;
    wide.assert_error(400, "invalid_target");
    let wider = redeem(
        &s,
        &code,
        &[("resource", &books), ("resource", "https://api.example.com/")],
    )
    .await;
    wider.assert_error(400, "invalid_target");
    assert!(wider.json["error_description"].as_str().unwrap().contains("narrow"));
    // Narrowing to one of the two.
    let t = redeem(&s, &code, &[("resource", &books)]).await;
    assert_eq!(aud(&t.ok("access_token")), json!(books));
    let rt = t.ok("refresh_token");
    // Refresh without resource: the whole grant again.
    let r1 = refresh(&s, &rt, &[]).await;
    assert_eq!(aud(&r1.ok("access_token")), json!([books, notes]));
    // Refresh narrowing to the other one (the rotated token keeps the whole grant).
    let rt = r1.ok("refresh_token");
    let r2 = refresh(&s, &rt, &[("resource", &notes)]).await;
    assert_eq!(aud(&r2.ok("access_token")), json!(notes));
    let rt = r2.ok("refresh_token");
    let r3 = refresh(&s, &rt, &[("resource", "https://elsewhere.example/")]).await;
    r3.assert_error(400, "invalid_target");
    let r4 = refresh(&s, &rt, &[("resource", &books)]).await;
    assert_eq!(aud(&r4.ok("access_token")), json!(books));

    // A grant for `books` alone cannot be widened to `notes` at refresh, although the client
    // could have asked for `notes` at the start.
    let code = code_for(&s, &[("resource", &books)]).await;
    let rt = redeem(&s, &code, &[]).await.ok("refresh_token");
    let widened = refresh(&s, &rt, &[("resource", &notes)]).await;
    widened.assert_error(400, "invalid_target");
    assert!(
        widened.json["error_description"]
            .as_str()
            .unwrap()
            .contains("never add")
    );
    assert_eq!(aud(&refresh(&s, &rt, &[]).await.ok("access_token")), json!(books));
}

#[tokio::test]
async fn a_grant_without_resources_may_name_any_allowed_resource_later() {
    let s = spawn(CONFIG).await;
    let books = format!("{}/resources/books", s.issuer());
    let code = code_for(&s, &[]).await;
    let t = redeem(&s, &code, &[("resource", &books)]).await;
    assert_eq!(aud(&t.ok("access_token")), json!(books));
    let rt = t.ok("refresh_token");
    let r = refresh(&s, &rt, &[]).await;
    assert_eq!(aud(&r.ok("access_token")), json!("web"));
    let bad = refresh(
        &s,
        &r.ok("refresh_token"),
        &[("resource", "https://elsewhere.example/")],
    )
    .await;
    bad.assert_error(400, "invalid_target");
}

#[tokio::test]
async fn token_exchange_checks_resource_by_the_same_rules() {
    let s = spawn(CONFIG).await;
    let subject = client_credentials(&s, "exchanger", "exchanger-secret", &[])
        .await
        .ok("access_token");
    let exchange = |resource: String| {
        let subject = subject.clone();
        let s = &s;
        async move {
            s.token(
                Some(("exchanger", "exchanger-secret")),
                &[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
                    ("subject_token", &subject),
                    ("subject_token_type", "urn:ietf:params:oauth:token-type:access_token"),
                    ("resource", &resource),
                ],
            )
            .await
        }
    };
    let ok = exchange("https://api.example.com/".into()).await;
    assert_eq!(aud(&ok.ok("access_token")), json!("https://api.example.com/"));
    // allowed_resources restricts token exchange too: the registered resource is refused.
    let books = format!("{}/resources/books", s.issuer());
    let refused = exchange(books).await;
    refused.assert_error(400, "invalid_target");
    assert!(
        refused.json["error_description"]
            .as_str()
            .unwrap()
            .contains("allowed_resources")
    );
    exchange("https://api.example.com/#f".into())
        .await
        .assert_error(400, "invalid_target");
}

#[tokio::test]
async fn the_consent_page_names_the_resources() {
    let s = spawn(CONFIG).await;
    let books = format!("{}/resources/books", s.issuer());
    let mut b = s.browser();
    let page = b
        .authorize(&[
            ("response_type", "code"),
            ("client_id", "asks"),
            ("redirect_uri", "http://localhost:6000/cb"),
            ("scope", "openid read_books"),
            ("resource", &books),
        ])
        .await;
    let consent = b.login(&page, "alice", "alice-password").await;
    assert!(consent.is_consent(), "{consent:?}");
    assert!(
        consent.body.contains("data-testid=\"consent-resources\""),
        "{}",
        consent.body
    );
    assert!(consent.body.contains(&books));
    let cb = Callback::parse(b.consent(&consent, true).await.redirect());
    let t = s
        .token(
            Some(("asks", "asks-secret")),
            &[
                ("grant_type", "authorization_code"),
                ("code", cb.q("code")),
                ("redirect_uri", "http://localhost:6000/cb"),
            ],
        )
        .await;
    assert_eq!(aud(&t.ok("access_token")), json!(books));
}
