//! RFC 7591 registration and RFC 7592 management at `/register`.

use serde_json::{Value, json};

use crate::common::*;

/// Sends JSON to `/register` (or a client configuration URL) with optional extra headers.
async fn send(
    srv: &TestServer,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = srv.http.request(method, url);
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b.to_string());
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    let h = r.headers().clone();
    let text = r.text().await.expect("body");
    (status, h, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn register(srv: &TestServer, body: Value) -> (u16, Value) {
    let (s, _, v) = send(srv, reqwest::Method::POST, &srv.at("/register"), Some(body), &[]).await;
    (s, v)
}

const NATIVE_CB: &str = "http://127.0.0.1:33418/callback";

/// RFC 7591 §3.1-§3.2.1 and RFC 7592 §2: a public client registers, reads its registration
/// (getting a new registration access token, the old one no longer works), updates it
/// (replacing its metadata) and deletes it; a confidential client gets a secret with
/// `client_secret_expires_at: 0`. Discovery advertises the endpoint; the registration access
/// token is stored only hashed.
#[tokio::test]
async fn register_read_update_delete_with_the_registration_access_token() {
    let srv = spawn_default().await;
    let disco: Value = srv
        .http
        .get(srv.at("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let issuer = srv.issuer().trim_end_matches('/').to_string();
    assert_eq!(disco["registration_endpoint"], format!("{issuer}/register"));
    assert_eq!(disco["client_id_metadata_document_supported"], true);

    let (status, h, reg) = send(
        &srv,
        reqwest::Method::POST,
        &srv.at("/register"),
        Some(json!({
            "client_name": "MCP Inspector",
            "redirect_uris": [NATIVE_CB],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "scope": "openid profile",
            "logo_uri": "https://inspector.example/logo.png",
            "software_id": "mcp-inspector",
            "unknown_member": "ignored",
        })),
        &[("user-agent", "inspector/1.0")],
    )
    .await;
    assert_eq!(status, 201, "{reg}");
    assert_eq!(h["cache-control"], "no-store");
    let id = reg["client_id"].as_str().unwrap().to_string();
    assert!(id.starts_with("dyn-"));
    assert!(
        reg.get("client_secret").is_none(),
        "a public client has no secret: {reg}"
    );
    assert_eq!(reg["client_name"], "MCP Inspector");
    assert_eq!(reg["redirect_uris"], json!([NATIVE_CB]));
    assert_eq!(reg["token_endpoint_auth_method"], "none");
    assert_eq!(reg["scope"], "openid profile");
    assert_eq!(reg["logo_uri"], "https://inspector.example/logo.png");
    assert!(reg.get("unknown_member").is_none());
    assert!(reg["client_id_issued_at"].as_i64().unwrap() > 1_700_000_000);
    let token1 = reg["registration_access_token"].as_str().unwrap().to_string();
    let uri = reg["registration_client_uri"].as_str().unwrap().to_string();
    assert_eq!(uri, format!("{issuer}/register/{id}"));
    let uri = srv.at(&format!("/register/{id}"));

    // The admin API shows it as registered dynamically, with where from, and never the token.
    let admin: Value = srv
        .http
        .get(srv.at(&format!("/admin/api/clients/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(admin["registration"]["user_agent"], "inspector/1.0");
    assert_eq!(admin["registration"]["metadata"]["software_id"], "mcp-inspector");
    assert!(
        !admin.to_string().contains(&token1),
        "the registration access token is stored hashed"
    );
    assert_eq!(admin["require_consent"], true);

    // Read: RFC 7592 §2.1, a new token each time.
    let bearer1 = format!("Bearer {token1}");
    let (s, _, read) = send(&srv, reqwest::Method::GET, &uri, None, &[("authorization", &bearer1)]).await;
    assert_eq!(s, 200, "{read}");
    assert_eq!(read["client_id"], id);
    let token2 = read["registration_access_token"].as_str().unwrap().to_string();
    assert_ne!(token1, token2);
    let (s, h, err) = send(&srv, reqwest::Method::GET, &uri, None, &[("authorization", &bearer1)]).await;
    assert_eq!(
        (s, err["error"].as_str()),
        (401, Some("invalid_token")),
        "the old token is retired"
    );
    assert!(h["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    let (s, h, _) = send(&srv, reqwest::Method::GET, &uri, None, &[]).await;
    assert_eq!(s, 401);
    assert_eq!(h["www-authenticate"], "Bearer realm=\"latchkey\"");

    // Update: RFC 7592 §2.2 (replaces the metadata; client_id required and equal).
    let bearer2 = format!("Bearer {token2}");
    let new_meta = json!({
        "client_id": id,
        "client_name": "Inspector (renamed)",
        "redirect_uris": [NATIVE_CB, "com.example.inspector:/cb"],
        "token_endpoint_auth_method": "none",
    });
    let (s, _, upd) = send(
        &srv,
        reqwest::Method::PUT,
        &uri,
        Some(new_meta.clone()),
        &[("authorization", &bearer2)],
    )
    .await;
    assert_eq!(s, 200, "{upd}");
    assert_eq!(upd["client_name"], "Inspector (renamed)");
    assert!(upd.get("logo_uri").is_none(), "members left out are removed");
    assert_eq!(upd["redirect_uris"].as_array().unwrap().len(), 2);
    let token3 = upd["registration_access_token"].as_str().unwrap().to_string();
    let bearer3 = format!("Bearer {token3}");
    for (bad, why) in [
        (
            json!({"client_name": "x", "redirect_uris": [NATIVE_CB]}),
            "no client_id",
        ),
        (
            json!({"client_id": "other", "redirect_uris": [NATIVE_CB]}),
            "another client_id",
        ),
        (
            json!({"client_id": id, "redirect_uris": [NATIVE_CB], "registration_access_token": "x"}),
            "registration_access_token",
        ),
        (
            json!({"client_id": id, "redirect_uris": [NATIVE_CB], "client_secret": "chosen"}),
            "client_secret",
        ),
    ] {
        let (s, _, e) = send(
            &srv,
            reqwest::Method::PUT,
            &uri,
            Some(bad),
            &[("authorization", &bearer3)],
        )
        .await;
        assert_eq!((s, e["error"].as_str()), (400, Some("invalid_request")), "{why}: {e}");
    }

    // Delete: RFC 7592 §2.3; its live tokens are revoked.
    let issued = srv
        .http
        .post(srv.at("/admin/api/tokens"))
        .json(&json!({"client_id": id, "username": "alice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(issued.status().as_u16(), 201);
    let minted: Value = issued.json().await.unwrap();
    let at = minted["access_token"].as_str().unwrap().to_string();
    assert!(srv.active(&at).await);
    let (s, _, _) = send(
        &srv,
        reqwest::Method::DELETE,
        &uri,
        None,
        &[("authorization", &bearer3)],
    )
    .await;
    assert_eq!(s, 204);
    assert!(!srv.active(&at).await, "a deleted client's tokens are revoked");
    let (s, _, _) = send(&srv, reqwest::Method::GET, &uri, None, &[("authorization", &bearer3)]).await;
    assert_eq!(s, 401, "a deleted client's configuration endpoint refuses");
    let gone = srv
        .http
        .get(srv.at(&format!("/admin/api/clients/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status().as_u16(), 404);

    // A confidential client: a secret that never expires (RFC 7591 §3.2.1), usable at once.
    let (s, conf) = register(
        &srv,
        json!({"redirect_uris": [NATIVE_CB], "grant_types": ["authorization_code", "client_credentials"], "scope": "read_books"}),
    )
    .await;
    assert_eq!(s, 201, "{conf}");
    assert_eq!(conf["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(conf["client_secret_expires_at"], 0);
    let (cid, secret) = (
        conf["client_id"].as_str().unwrap(),
        conf["client_secret"].as_str().unwrap(),
    );
    let tok = srv
        .token(Some((cid, secret)), &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(tok.status.as_u16(), 200, "{:?}", tok.json);

    // Another client's token does not manage this one.
    let other = format!("Bearer {}", conf["registration_access_token"].as_str().unwrap());
    let (s, _, _) = send(&srv, reqwest::Method::GET, &uri, None, &[("authorization", &other)]).await;
    assert_eq!(s, 401);
    // A configured client cannot be managed through RFC 7592 at all.
    let (s, _, _) = send(
        &srv,
        reqwest::Method::GET,
        &srv.at("/register/web"),
        None,
        &[("authorization", &other)],
    )
    .await;
    assert_eq!(s, 401);
}

/// RFC 7591 §3.2.2: each kind of bad metadata gets its error code, 400, JSON, `no-store`.
#[tokio::test]
async fn every_metadata_error_has_its_rfc_7591_code() {
    let srv = spawn_default().await;
    let cb = json!([NATIVE_CB]);
    let cases = [
        (json!({}), "invalid_redirect_uri", "redirect_uris missing"),
        (
            json!({"redirect_uris": []}),
            "invalid_redirect_uri",
            "empty redirect_uris",
        ),
        (
            json!({"redirect_uris": "http://127.0.0.1/cb"}),
            "invalid_redirect_uri",
            "not an array",
        ),
        (
            json!({"redirect_uris": ["/relative"]}),
            "invalid_redirect_uri",
            "relative",
        ),
        (
            json!({"redirect_uris": ["javascript:alert(1)"]}),
            "invalid_redirect_uri",
            "script scheme",
        ),
        (
            json!({"redirect_uris": ["http://127.0.0.1/cb#frag"]}),
            "invalid_redirect_uri",
            "fragment",
        ),
        (
            json!({"redirect_uris": ["https://app.example/cb"]}),
            "invalid_redirect_uri",
            "not loopback",
        ),
        (
            json!({"redirect_uris": cb, "post_logout_redirect_uris": ["https://evil.example/"]}),
            "invalid_redirect_uri",
            "post-logout not loopback",
        ),
        (
            json!({"redirect_uris": cb, "grant_types": ["password"]}),
            "invalid_client_metadata",
            "password grant",
        ),
        (
            json!({"redirect_uris": cb, "grant_types": ["made_up"]}),
            "invalid_client_metadata",
            "unknown grant",
        ),
        (
            json!({"redirect_uris": cb, "grant_types": ["urn:ietf:params:oauth:grant-type:token-exchange"]}),
            "invalid_client_metadata",
            "token exchange",
        ),
        (
            json!({"redirect_uris": cb, "response_types": ["token"]}),
            "invalid_client_metadata",
            "token without implicit",
        ),
        (
            json!({"redirect_uris": cb, "response_types": ["code id_token token"], "grant_types": ["authorization_code"]}),
            "invalid_client_metadata",
            "hybrid without implicit",
        ),
        (
            json!({"redirect_uris": cb, "token_endpoint_auth_method": "tls_client_auth"}),
            "invalid_client_metadata",
            "auth method",
        ),
        (
            json!({"redirect_uris": cb, "token_endpoint_auth_method": "none", "grant_types": ["client_credentials"]}),
            "invalid_client_metadata",
            "public client_credentials",
        ),
        (
            json!({"redirect_uris": cb, "token_endpoint_auth_method": "private_key_jwt"}),
            "invalid_client_metadata",
            "no keys",
        ),
        (
            json!({"redirect_uris": cb, "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": []}, "jwks_uri": "https://k.example/jwks"}),
            "invalid_client_metadata",
            "jwks and jwks_uri",
        ),
        (
            json!({"redirect_uris": cb, "jwks": {"nope": 1}}),
            "invalid_client_metadata",
            "jwks not a set",
        ),
        (
            json!({"redirect_uris": cb, "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}),
            "invalid_client_metadata",
            "symmetric key in jwks",
        ),
        (
            json!({"redirect_uris": cb, "jwks_uri": "http://192.168.1.1/jwks"}),
            "invalid_client_metadata",
            "jwks_uri over http off-machine",
        ),
        (
            json!({"redirect_uris": cb, "jwks_uri": "file:///etc/passwd"}),
            "invalid_client_metadata",
            "jwks_uri scheme",
        ),
        (
            json!({"redirect_uris": cb, "scope": "openid nope"}),
            "invalid_client_metadata",
            "unknown scope",
        ),
        (
            json!({"redirect_uris": cb, "scope": 5}),
            "invalid_client_metadata",
            "scope not a string",
        ),
        (
            json!({"redirect_uris": cb, "logo_uri": "javascript:alert(1)"}),
            "invalid_client_metadata",
            "logo_uri",
        ),
        (
            json!({"redirect_uris": cb, "client_name": "a\u{7}b"}),
            "invalid_client_metadata",
            "control char in name",
        ),
        (
            json!({"redirect_uris": cb, "contacts": "me@example.com"}),
            "invalid_client_metadata",
            "contacts not a list",
        ),
        (
            json!({"redirect_uris": cb, "token_endpoint_auth_method": "none", "token_endpoint_auth_signing_alg": "RS256"}),
            "invalid_client_metadata",
            "signing alg without a JWT method",
        ),
        (
            json!({"redirect_uris": cb, "software_statement": "eyJ..."}),
            "unapproved_software_statement",
            "software statement",
        ),
        (json!([1, 2]), "invalid_client_metadata", "not an object"),
    ];
    for (body, code, why) in cases {
        let (status, h, v) = send(&srv, reqwest::Method::POST, &srv.at("/register"), Some(body), &[]).await;
        assert_eq!((status, v["error"].as_str()), (400, Some(code)), "{why}: {v}");
        assert!(v["error_description"].as_str().is_some_and(|d| !d.is_empty()), "{why}");
        assert_eq!(h["cache-control"], "no-store", "{why}");
    }
    // Not JSON at all, and JSON without the content type.
    let r = srv
        .http
        .post(srv.at("/register"))
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = srv
        .http
        .post(srv.at("/register"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "invalid_client_metadata");
    // Nothing was registered by any of them.
    let clients: Value = srv
        .http
        .get(srv.at("/admin/api/clients"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!clients.to_string().contains("dyn-"), "{clients}");
}

/// A browser-based tool (another origin) can register: the preflight is answered for any
/// origin, without credentials, allowing `Authorization` and `Content-Type`, and the answer
/// carries `Access-Control-Allow-Origin: *`; the Origin is recorded on the client.
#[tokio::test]
async fn cors_preflight_and_registration_from_a_browser_origin() {
    let srv = spawn_default().await;
    let origin = "http://localhost:6274";
    let pre = srv
        .http
        .request(reqwest::Method::OPTIONS, srv.at("/register"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type, authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status().as_u16(), 204);
    let h = pre.headers();
    assert_eq!(h["access-control-allow-origin"], "*");
    assert!(h["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    assert!(h["access-control-allow-methods"].to_str().unwrap().contains("DELETE"));
    let allowed = h["access-control-allow-headers"].to_str().unwrap().to_ascii_lowercase();
    assert!(
        allowed.contains("content-type") && allowed.contains("authorization"),
        "{allowed}"
    );
    assert!(h.get("access-control-allow-credentials").is_none());
    // The management endpoint too.
    let pre = srv
        .http
        .request(reqwest::Method::OPTIONS, srv.at("/register/anything"))
        .header("origin", origin)
        .header("access-control-request-method", "PUT")
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status().as_u16(), 204);
    assert_eq!(pre.headers()["access-control-allow-origin"], "*");

    let (s, h, v) = send(
        &srv,
        reqwest::Method::POST,
        &srv.at("/register"),
        Some(json!({"redirect_uris": ["http://localhost:6274/oauth/callback"], "token_endpoint_auth_method": "none"})),
        &[("origin", origin)],
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(h["access-control-allow-origin"], "*");
    assert!(
        h["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .contains("WWW-Authenticate")
    );
    let id = v["client_id"].as_str().unwrap();
    let admin: Value = srv
        .http
        .get(srv.at(&format!("/admin/api/clients/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(admin["registration"]["origin"], origin);
    // An error answer is readable cross-origin too.
    let (s, h, _) = send(
        &srv,
        reqwest::Method::POST,
        &srv.at("/register"),
        Some(json!({})),
        &[("origin", origin)],
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(h["access-control-allow-origin"], "*");
}

/// A public client registered from a web page completes authorization code + PKCE; the consent
/// page is shown (although the user already signed in) and says the client registered itself
/// dynamically, when and from which origin; the approval is not remembered.
#[tokio::test]
async fn a_dynamically_registered_public_client_completes_a_pkce_flow_through_the_consent_page() {
    let srv = spawn_default().await;
    let origin = "http://localhost:6274";
    let (s, _, reg) = send(
        &srv,
        reqwest::Method::POST,
        &srv.at("/register"),
        Some(json!({
            "client_name": "Browser tool",
            "redirect_uris": [NATIVE_CB],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "scope": "openid profile offline_access",
        })),
        &[("origin", origin), ("user-agent", "Mozilla/5.0 test")],
    )
    .await;
    assert_eq!(s, 201, "{reg}");
    let id = reg["client_id"].as_str().unwrap().to_string();
    let (verifier, challenge) = pkce_s256();
    let mut b = srv.browser();
    let params = [
        ("client_id", id.as_str()),
        ("response_type", "code"),
        ("redirect_uri", NATIVE_CB),
        ("scope", "openid profile offline_access"),
        ("state", "s1"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let page = b.authorize(&params).await;
    let consent = b.login(&page, "alice", "alice-password").await;
    assert!(
        consent.is_consent(),
        "a dynamically registered client always gets the consent page: {consent:?}"
    );
    assert!(
        consent.body.contains("data-testid=\"consent-dynamic-notice\""),
        "{}",
        consent.body
    );
    assert!(consent.body.contains("registered itself dynamically"));
    assert!(consent.body.contains(origin), "the origin is named");
    assert!(consent.body.contains("Mozilla/5.0 test"));
    assert!(consent.body.contains("UTC"));
    let done = b.consent(&consent, true).await;
    let cb = Callback::parse(done.redirect());
    assert_eq!(cb.q("state"), "s1");
    let code = cb.q("code").to_string();
    let tok = srv
        .token(
            None,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", NATIVE_CB),
                ("client_id", &id),
                ("code_verifier", &verifier),
            ],
        )
        .await;
    assert_eq!(tok.status.as_u16(), 200, "{:?}", tok.json);
    let at = tok.ok("access_token");
    assert_eq!(jwt_claims(&at)["client_id"], id);
    assert!(!tok.ok("refresh_token").is_empty());
    // Signed in already: the consent page still comes (not remembered).
    let again = b.authorize(&params).await;
    assert!(again.is_consent(), "{again:?}");
    // PKCE is required for it as for every public client.
    let no_pkce = b
        .authorize(&[
            ("client_id", id.as_str()),
            ("response_type", "code"),
            ("redirect_uri", NATIVE_CB),
            ("scope", "openid"),
        ])
        .await;
    assert_eq!(Callback::parse(no_pkce.redirect()).q("error"), "invalid_request");
}

/// By default a dynamically registered client may use only loopback or private-use-scheme
/// redirect URIs; `[registration] allow_non_loopback_redirect_uris` widens that, and `require_consent
/// = false` lets it skip the notice like other public clients.
#[tokio::test]
async fn non_loopback_redirect_uris_are_refused_unless_the_setting_allows_them() {
    let srv = spawn_default().await;
    let body = json!({"redirect_uris": ["https://app.example/cb"], "token_endpoint_auth_method": "none"});
    let (s, v) = register(&srv, body.clone()).await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_redirect_uri")), "{v}");
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("allow_non_loopback_redirect_uris")
    );
    for ok in [
        "http://127.0.0.1/cb",
        "http://[::1]:8080/cb",
        "http://localhost:3000/cb",
        "com.example.app:/oauth2redirect",
    ] {
        let (s, v) = register(
            &srv,
            json!({"redirect_uris": [ok], "token_endpoint_auth_method": "none"}),
        )
        .await;
        assert_eq!(s, 201, "{ok}: {v}");
    }
    let mut settings: Value = srv
        .http
        .get(srv.at("/admin/api/settings"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    settings["registration"]["allow_non_loopback_redirect_uris"] = json!(true);
    let r = srv
        .http
        .put(srv.at("/admin/api/settings"))
        .json(&settings)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (s, v) = register(&srv, body).await;
    assert_eq!(s, 201, "{v}");
    // Registration off: 403, and discovery stops advertising it.
    settings["registration"]["enabled"] = json!(false);
    srv.http
        .put(srv.at("/admin/api/settings"))
        .json(&settings)
        .send()
        .await
        .unwrap();
    let (s, v) = register(&srv, json!({"redirect_uris": [NATIVE_CB]})).await;
    assert_eq!((s, v["error"].as_str()), (403, Some("access_denied")), "{v}");
    let disco: Value = srv
        .http
        .get(srv.at("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(disco.get("registration_endpoint").is_none());
    // Bad settings are refused, naming the field.
    settings["registration"]["initial_access_token"] = json!("x");
    settings["fetch"]["allowed_hosts"] = json!(["https://example.com"]);
    let r = srv
        .http
        .put(srv.at("/admin/api/settings"))
        .json(&settings)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let e = r.text().await.unwrap();
    assert!(
        e.contains("registration.initial_access_token") && e.contains("fetch.allowed_hosts[0]"),
        "{e}"
    );
}

/// With `[registration] initial_access_token`, registration needs it as a Bearer token
/// (RFC 7591 §3): none is 401 with a bare challenge, a wrong one 401 `invalid_token`.
#[tokio::test]
async fn an_initial_access_token_is_required_when_configured() {
    let srv = spawn(&format!(
        "{CONFIG}\n[registration]\ninitial_access_token = \"let-me-register-1\"\n"
    ))
    .await;
    let body = json!({"redirect_uris": [NATIVE_CB], "token_endpoint_auth_method": "none"});
    let (s, h, v) = send(
        &srv,
        reqwest::Method::POST,
        &srv.at("/register"),
        Some(body.clone()),
        &[],
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (401, Some("invalid_token")), "{v}");
    assert_eq!(h["www-authenticate"], "Bearer realm=\"latchkey\"");
    let (s, h, v) = send(
        &srv,
        reqwest::Method::POST,
        &srv.at("/register"),
        Some(body.clone()),
        &[("authorization", "Bearer wrong-token")],
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (401, Some("invalid_token")), "{v}");
    assert!(
        h["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("error=\"invalid_token\"")
    );
    let (s, _, v) = send(
        &srv,
        reqwest::Method::POST,
        &srv.at("/register"),
        Some(body),
        &[("authorization", "Bearer let-me-register-1")],
    )
    .await;
    assert_eq!(s, 201, "{v}");
}

/// Export keeps dynamically registered clients by default and skips them on request; the
/// `[registration]` and `[fetch]` tables round-trip; the bulk clean-up removes exactly the
/// dynamic clients and publishes `client.deleted` for each.
#[tokio::test]
async fn export_keeps_or_skips_dynamic_clients_and_bulk_delete_removes_them() {
    let srv = spawn(&format!(
        "{CONFIG}\n[registration]\nallow_non_loopback_redirect_uris = true\n\n[fetch]\nallowed_hosts = [\"*.example.com\", \"127.0.0.1\"]\ntimeout = 3\n"
    ))
    .await;
    let (_, v) = register(
        &srv,
        json!({"redirect_uris": [NATIVE_CB], "token_endpoint_auth_method": "none", "client_name": "Exported"}),
    )
    .await;
    let id = v["client_id"].as_str().unwrap().to_string();
    let all = srv
        .http
        .get(srv.at("/admin/api/config"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(all.contains(&id), "{all}");
    assert!(all.contains("[clients.registration]"), "{all}");
    assert!(all.contains("allow_non_loopback_redirect_uris = true"), "{all}");
    assert!(all.contains("\"*.example.com\""), "{all}");
    let skipped = srv
        .http
        .get(srv.at("/admin/api/config?dynamic_clients=false"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!skipped.contains(&id));
    assert!(skipped.contains("client_id = \"web\""));

    // The exported file imports into a fresh server and keeps the client dynamic.
    let fresh = spawn(&all).await;
    let c: Value = fresh
        .http
        .get(fresh.at(&format!("/admin/api/clients/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(c["registration"]["metadata"]["client_name"], "Exported");
    let s: Value = fresh
        .http
        .get(fresh.at("/admin/api/settings"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["fetch"]["timeout"], 3);
    assert_eq!(s["registration"]["allow_non_loopback_redirect_uris"], true);

    let r = srv
        .http
        .delete(srv.at("/admin/api/dynamic-clients"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let d: Value = r.json().await.unwrap();
    assert_eq!(d["deleted"], json!([id]));
    let left: Value = srv
        .http
        .get(srv.at("/admin/api/clients"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!left.to_string().contains("dyn-"));
    assert!(left.to_string().contains("\"web\""));
}

/// A config file with bad `[registration]` / `[fetch]` values or unknown keys stops the server
/// with the key named.
#[tokio::test]
async fn bad_registration_settings_in_a_config_file_are_named() {
    for (cfg, key) in [
        (
            "[registration]\ninitial_access_token = \"short\"\n",
            "registration.initial_access_token",
        ),
        ("[registration]\nopen = true\n", "open"),
        ("[fetch]\nallowed_hosts = [\"http://x\"]\n", "fetch.allowed_hosts[0]"),
        ("[fetch]\ntimeout = 0\n", "fetch.timeout"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("latchkey.toml"), cfg).unwrap();
        let e = latchkey::start(latchkey::ServeOptions {
            bind: "127.0.0.1".parse().unwrap(),
            port: 0,
            db: latchkey::DbLocation::Memory,
            config: Some(dir.path().join("latchkey.toml")),
            ..Default::default()
        })
        .await
        .err()
        .unwrap_or_else(|| panic!("{cfg} should be refused"));
        assert!(e.to_string().contains(key), "{cfg}: {e}");
    }
}

/// Beyond loopback (`--bind 0.0.0.0`, which needs an admin token) registration is not open:
/// without `[registration] initial_access_token` the admin token is required as the initial
/// access token.
#[tokio::test]
async fn beyond_loopback_registration_needs_the_admin_token() {
    let token = "a-long-enough-admin-token";
    let s = latchkey::start(latchkey::ServeOptions {
        bind: "0.0.0.0".parse().unwrap(),
        port: 0,
        db: latchkey::DbLocation::Memory,
        admin_token: Some(token.to_string()),
        ..Default::default()
    })
    .await
    .unwrap();
    let url = format!("http://127.0.0.1:{}/register", s.addr().port());
    let body = json!({"redirect_uris": [NATIVE_CB], "token_endpoint_auth_method": "none"}).to_string();
    let http = reqwest::Client::new();
    let r = http
        .post(&url)
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = http
        .post(&url)
        .header("content-type", "application/json")
        .bearer_auth(token)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    s.shutdown().await;
}

/// The other specifications' client metadata registers too: `dpop_bound_access_tokens`
/// (RFC 9449 §5.2), `require_pushed_authorization_requests` (RFC 9126 §6) and
/// `backchannel_logout_uri` / `backchannel_logout_session_required` (Back-Channel Logout 1.0
/// §2.2). The logout URI passes the `[fetch]` policy like a `jwks_uri`: plain http only to this
/// machine, so a registration cannot aim Latchkey's POSTs at the developer's network.
#[tokio::test]
async fn dpop_par_and_backchannel_logout_metadata_register_and_the_logout_uri_follows_the_fetch_policy() {
    let srv = spawn_default().await;
    let (status, reg) = register(
        &srv,
        json!({
            "redirect_uris": [NATIVE_CB], "token_endpoint_auth_method": "none",
            "dpop_bound_access_tokens": true, "require_pushed_authorization_requests": true,
            "backchannel_logout_uri": "http://127.0.0.1:9/logout", "backchannel_logout_session_required": true,
        }),
    )
    .await;
    assert_eq!(status, 201, "{reg}");
    assert_eq!(reg["dpop_bound_access_tokens"], true);
    assert_eq!(reg["require_pushed_authorization_requests"], true);
    assert_eq!(reg["backchannel_logout_uri"], "http://127.0.0.1:9/logout");
    assert_eq!(reg["backchannel_logout_session_required"], true);
    let id = reg["client_id"].as_str().unwrap();
    let client: Value = srv
        .http
        .get(srv.at(&format!("/admin/api/clients/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(client["dpop_bound_access_tokens"], true, "{client}");
    assert_eq!(client["require_pushed_authorization_requests"], true);
    assert_eq!(client["backchannel_logout_uri"], "http://127.0.0.1:9/logout");
    assert_eq!(client["backchannel_logout_session_required"], true);

    for (body, why) in [
        (
            json!({"backchannel_logout_uri": "http://10.0.0.1/logout"}),
            "plain http beyond this machine",
        ),
        (
            json!({"backchannel_logout_uri": "ftp://127.0.0.1/logout"}),
            "not http(s)",
        ),
        (json!({"backchannel_logout_uri": "not a url"}), "not a URL"),
        (json!({"dpop_bound_access_tokens": "yes"}), "not a boolean"),
        (json!({"require_pushed_authorization_requests": 1}), "not a boolean"),
    ] {
        let mut b = body.clone();
        b["redirect_uris"] = json!([NATIVE_CB]);
        let (status, err) = register(&srv, b).await;
        assert_eq!(
            (status, err["error"].as_str()),
            (400, Some("invalid_client_metadata")),
            "{why}: {err}"
        );
    }
    // https to another host is what the policy allows by default.
    let (status, reg) = register(
        &srv,
        json!({"redirect_uris": [NATIVE_CB], "backchannel_logout_uri": "https://rp.example/logout"}),
    )
    .await;
    assert_eq!(status, 201, "{reg}");
}
