//! Pushed authorization requests (RFC 9126): push then authorize, single use and expiry on the
//! virtual clock, required PAR per client and server-wide, pushed parameters authoritative,
//! client authentication and input errors at the endpoint, and the request log's link.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

const CONFIG: &str = r#"
[[scopes]]
name = "read_books"
description = "Read the book catalogue"

[[resources]]
name = "books"
required_scopes = ["read_books"]

[[clients]]
client_id = "web"
client_secret = "web-secret"
redirect_uris = ["http://localhost:3000/callback"]
grant_types = ["authorization_code", "refresh_token"]
scopes = ["openid", "profile", "read_books"]

[[clients]]
client_id = "spa"
redirect_uris = ["http://localhost:3000/spa"]
token_endpoint_auth_method = "none"
grant_types = ["authorization_code"]
scopes = ["openid", "profile", "read_books"]

[[clients]]
client_id = "strict"
client_secret = "strict-secret"
redirect_uris = ["http://localhost:7000/cb"]
grant_types = ["authorization_code"]
scopes = ["openid"]
require_pushed_authorization_requests = true

[[users]]
username = "alice"
password = "alice-password"
claims = { name = "Alice Liddell" }
"#;

const CB: &str = "http://localhost:3000/callback";
const SPA_CB: &str = "http://localhost:3000/spa";
const URN: &str = "urn:ietf:params:oauth:request_uri:";

async fn push(s: &TestServer, auth: Option<(&str, &str)>, pairs: &[(&str, &str)]) -> Reply {
    let mut req = s
        .http
        .post(s.at("/par"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(pairs));
    if let Some((id, secret)) = auth {
        req = req.header("authorization", basic(id, secret));
    }
    Reply::from(req.send().await.unwrap()).await
}

/// A successful push's `request_uri`.
#[track_caller]
fn request_uri(r: &Reply) -> String {
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    r.json["request_uri"].as_str().expect("request_uri").to_string()
}

async fn push_web(s: &TestServer, state: &str) -> String {
    let r = push(
        s,
        Some(("web", "web-secret")),
        &[
            ("response_type", "code"),
            ("redirect_uri", CB),
            ("scope", "openid profile"),
            ("state", state),
        ],
    )
    .await;
    request_uri(&r)
}

async fn advance_clock(s: &TestServer, secs: i64) {
    let r = s
        .http
        .post(s.at("/admin/api/clock"))
        .json(&json!({ "advance": secs }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn push_then_authorize_completes_the_code_flow_with_pkce() {
    let s = spawn(CONFIG).await;
    let meta: Value = s
        .http
        .get(s.at("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        meta["pushed_authorization_request_endpoint"],
        format!("{}/par", s.issuer())
    );
    assert_eq!(meta["require_pushed_authorization_requests"], false);

    // A public client pushes with its client_id alone, PKCE and a resource.
    let (verifier, challenge) = pkce_s256();
    let books = format!("{}/resources/books", s.issuer());
    let r = push(
        &s,
        None,
        &[
            ("client_id", "spa"),
            ("response_type", "code"),
            ("redirect_uri", SPA_CB),
            ("scope", "openid read_books"),
            ("state", "pushed-state"),
            ("nonce", "n-1"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("resource", &books),
        ],
    )
    .await;
    let uri = request_uri(&r);
    assert!(uri.starts_with(URN) && uri.len() > URN.len() + 30, "{uri}");
    assert_eq!(r.json["expires_in"], 60);
    assert!(r.header("cache-control").contains("no-store"));

    // The pushed parameters are the request: the query's scope and state are ignored.
    let mut b = s.browser();
    let cb = b
        .code_flow(
            &[
                ("client_id", "spa"),
                ("request_uri", &uri),
                ("response_type", "code"),
                ("scope", "openid profile"),
                ("state", "query-state"),
            ],
            "alice",
            "alice-password",
        )
        .await;
    assert_eq!(cb.base, SPA_CB);
    assert_eq!(cb.q("state"), "pushed-state");
    let t = s
        .token(
            None,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "spa"),
                ("code", cb.q("code")),
                ("redirect_uri", SPA_CB),
                ("code_verifier", &verifier),
            ],
        )
        .await;
    assert_eq!(t.json["scope"], "openid read_books", "{t:?}");
    let at = jwt_claims(&t.ok("access_token"));
    assert_eq!(at["aud"], json!(books));
    assert_eq!(jwt_claims(&t.ok("id_token"))["nonce"], "n-1");
    let r = s
        .http
        .get(s.at("/resources/books/x"))
        .bearer_auth(t.ok("access_token"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // A confidential client pushes with HTTP Basic, the method it registered.
    let uri = push_web(&s, "w").await;
    let mut b = s.browser();
    let cb = b
        .code_flow(
            &[("client_id", "web"), ("request_uri", &uri)],
            "alice",
            "alice-password",
        )
        .await;
    let t = s
        .token(
            Some(("web", "web-secret")),
            &[
                ("grant_type", "authorization_code"),
                ("code", cb.q("code")),
                ("redirect_uri", CB),
            ],
        )
        .await;
    assert_eq!(t.json["scope"], "openid profile", "{t:?}");
    let post = push(
        &s,
        None,
        &[
            ("client_id", "web"),
            ("client_secret", "web-secret"),
            ("response_type", "code"),
            ("redirect_uri", CB),
            ("scope", "openid"),
        ],
    )
    .await;
    // client_secret_post is another method than `web` registered.
    post.assert_error(401, "invalid_client");
}

#[tokio::test]
async fn a_request_uri_is_single_use_expires_on_the_virtual_clock_and_belongs_to_its_client() {
    let s = spawn(CONFIG).await;
    let mut b = s.browser();
    let uri = push_web(&s, "once").await;
    // Another client cannot use it (and it stays usable for its own).
    let page = b.authorize(&[("client_id", "spa"), ("request_uri", &uri)]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body.contains("invalid_request_uri") && page.body.contains("pushed by client"),
        "{}",
        page.body
    );
    let page = b.authorize(&[("client_id", "web"), ("request_uri", &uri)]).await;
    assert!(page.is_login(), "{page:?}");
    // Used once: the second use is invalid_request_uri, sent to the pushed redirect URI.
    let again = b.authorize(&[("client_id", "web"), ("request_uri", &uri)]).await;
    let cb = Callback::parse(again.redirect());
    assert_eq!(cb.base, CB);
    assert_eq!(cb.q("error"), "invalid_request_uri");
    assert_eq!(cb.q("state"), "once");
    assert!(cb.q("error_description").contains("single use"));

    // Expired after request_uri_ttl (60 s) on the virtual clock.
    let uri = push_web(&s, "late").await;
    advance_clock(&s, 61).await;
    let late = b.authorize(&[("client_id", "web"), ("request_uri", &uri)]).await;
    let cb = Callback::parse(late.redirect());
    assert_eq!(cb.q("error"), "invalid_request_uri");
    assert!(cb.q("error_description").contains("expired"));
    // Within its lifetime it works.
    let uri = push_web(&s, "soon").await;
    advance_clock(&s, 50).await;
    assert!(
        b.authorize(&[("client_id", "web"), ("request_uri", &uri)])
            .await
            .is_login()
    );

    // Unknown, not ours, or without client_id.
    let unknown = b
        .authorize(&[("client_id", "web"), ("request_uri", &format!("{URN}nope"))])
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(unknown.body.contains("invalid_request_uri"));
    let foreign = b
        .authorize(&[
            ("client_id", "web"),
            ("redirect_uri", CB),
            ("response_type", "code"),
            ("request_uri", "https://client.example/request.jwt"),
        ])
        .await;
    assert_eq!(
        Callback::parse(foreign.redirect()).q("error"),
        "request_uri_not_supported"
    );
    let anonymous = b.authorize(&[("request_uri", &push_web(&s, "x").await)]).await;
    assert_eq!(anonymous.status, StatusCode::BAD_REQUEST);
    assert!(anonymous.body.contains("client_id is required"));

    // The lifetime follows the setting.
    let mut settings: Value = s
        .http
        .get(s.at("/admin/api/settings"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    settings["request_uri_ttl"] = json!(5);
    let r = s
        .http
        .put(s.at("/admin/api/settings"))
        .json(&settings)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = push(
        &s,
        Some(("web", "web-secret")),
        &[("response_type", "code"), ("redirect_uri", CB)],
    )
    .await;
    assert_eq!(r.json["expires_in"], 5, "{r:?}");
}

#[tokio::test]
async fn clients_that_require_par_and_the_server_setting_refuse_plain_requests() {
    let s = spawn(CONFIG).await;
    let mut b = s.browser();
    let plain = b
        .authorize(&[
            ("response_type", "code"),
            ("client_id", "strict"),
            ("redirect_uri", "http://localhost:7000/cb"),
            ("scope", "openid"),
            ("state", "s"),
        ])
        .await;
    let cb = Callback::parse(plain.redirect());
    assert_eq!(cb.q("error"), "invalid_request");
    assert!(cb.q("error_description").contains("must push"));
    let r = push(
        &s,
        Some(("strict", "strict-secret")),
        &[
            ("response_type", "code"),
            ("redirect_uri", "http://localhost:7000/cb"),
            ("scope", "openid"),
        ],
    )
    .await;
    let uri = request_uri(&r);
    assert!(
        b.authorize(&[("client_id", "strict"), ("request_uri", &uri)])
            .await
            .is_login()
    );

    // Server-wide: every client, advertised in discovery.
    let mut settings: Value = s
        .http
        .get(s.at("/admin/api/settings"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    settings["require_pushed_authorization_requests"] = json!(true);
    let r = s
        .http
        .put(s.at("/admin/api/settings"))
        .json(&settings)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let meta: Value = s
        .http
        .get(s.at("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["require_pushed_authorization_requests"], true);
    let plain = b
        .authorize(&[
            ("response_type", "code"),
            ("client_id", "web"),
            ("redirect_uri", CB),
            ("scope", "openid"),
        ])
        .await;
    let cb = Callback::parse(plain.redirect());
    assert_eq!(cb.q("error"), "invalid_request");
    assert!(
        cb.q("error_description")
            .contains("[server] require_pushed_authorization_requests")
    );
    let uri = push_web(&s, "ok").await;
    assert!(
        b.authorize(&[("client_id", "web"), ("request_uri", &uri)])
            .await
            .is_login()
    );
}

#[tokio::test]
async fn client_authentication_failures_at_the_par_endpoint_are_401_invalid_client() {
    let s = spawn(CONFIG).await;
    let req = [("response_type", "code"), ("redirect_uri", CB), ("scope", "openid")];
    // Wrong secret over Basic: 401 with a Basic challenge (RFC 6749 §5.2).
    let r = push(&s, Some(("web", "wrong")), &req).await;
    r.assert_error(401, "invalid_client");
    assert!(r.header("www-authenticate").starts_with("Basic"), "{r:?}");
    // A confidential client that does not authenticate.
    let mut pairs = req.to_vec();
    pairs.push(("client_id", "web"));
    let r = push(&s, None, &pairs).await;
    r.assert_error(401, "invalid_client");
    assert!(!r.header("www-authenticate").is_empty());
    // An unknown client, and no client at all.
    let mut pairs = req.to_vec();
    pairs.push(("client_id", "ghost"));
    push(&s, None, &pairs).await.assert_error(401, "invalid_client");
    push(&s, None, &req).await.assert_error(401, "invalid_client");
    // client_id in the body naming another client than Basic.
    let mut pairs = req.to_vec();
    pairs.push(("client_id", "spa"));
    push(&s, Some(("web", "web-secret")), &pairs)
        .await
        .assert_error(400, "invalid_request");
}

/// A pushed request, the error it gets, and a phrase of its description.
type BadPush<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);

#[tokio::test]
async fn bad_pushes_get_rfc6749_json_errors() {
    let s = spawn(CONFIG).await;
    let web = Some(("web", "web-secret"));
    let cases: &[BadPush] = &[
        (
            &[
                ("response_type", "code"),
                ("redirect_uri", CB),
                ("request_uri", "urn:x"),
            ],
            "invalid_request",
            "must not be pushed",
        ),
        (
            &[("response_type", "code"), ("redirect_uri", CB), ("request", "eyJ.x.y")],
            "request_not_supported",
            "request objects",
        ),
        (
            &[("response_type", "code"), ("redirect_uri", "http://evil.example/cb")],
            "invalid_request",
            "Redirect URI mismatch",
        ),
        (&[("redirect_uri", CB)], "invalid_request", "response_type"),
        (
            &[("response_type", "code"), ("redirect_uri", CB), ("scope", "admin")],
            "invalid_scope",
            "admin",
        ),
        (
            &[("response_type", "code token"), ("redirect_uri", CB), ("nonce", "n")],
            "unauthorized_client",
            "implicit",
        ),
        (
            &[("response_type", "code"), ("redirect_uri", CB), ("resource", "books")],
            "invalid_target",
            "absolute URI",
        ),
        (
            &[
                ("response_type", "code"),
                ("redirect_uri", CB),
                ("scope", "openid"),
                ("scope", "profile"),
            ],
            "invalid_request",
            "more than once",
        ),
    ];
    for (pairs, code, says) in cases {
        let r = push(&s, web, pairs).await;
        r.assert_error(400, code);
        assert!(
            r.json["error_description"].as_str().unwrap().contains(says),
            "{pairs:?}: {:?}",
            r.json
        );
    }
    // A public client must use PKCE at the PAR endpoint too.
    push(
        &s,
        None,
        &[
            ("client_id", "spa"),
            ("response_type", "code"),
            ("redirect_uri", SPA_CB),
        ],
    )
    .await
    .assert_error(400, "invalid_request");
    // Not a form, a malformed form, a GET: JSON errors, never a 500.
    let r = s
        .http
        .post(s.at("/par"))
        .header("authorization", basic("web", "web-secret"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    let r = Reply::from(r).await;
    r.assert_error(400, "invalid_request");
    let r = s
        .http
        .post(s.at("/par"))
        .header("authorization", basic("web", "web-secret"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("response_type=%zz")
        .send()
        .await
        .unwrap();
    Reply::from(r).await.assert_error(400, "invalid_request");
    let r = Reply::from(s.http.get(s.at("/par")).send().await.unwrap()).await;
    r.assert_error(405, "invalid_request");
}

#[tokio::test]
async fn the_request_log_links_a_push_to_its_authorization_requests() {
    let s = spawn(CONFIG).await;
    let uri = push_web(&s, "logged").await;
    let mut b = s.browser();
    assert!(
        b.authorize(&[("client_id", "web"), ("request_uri", &uri)])
            .await
            .is_login()
    );
    let reuse = b.authorize(&[("client_id", "web"), ("request_uri", &uri)]).await;
    assert!(reuse.status.is_redirection());
    let log: Value = s
        .http
        .get(s.at("/admin/api/requests?limit=20"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = log["items"].as_array().unwrap();
    let par = items.iter().find(|e| e["path"] == "/par").expect("the push is logged");
    let authorizes: Vec<&Value> = items.iter().filter(|e| e["path"] == "/authorize").collect();
    assert_eq!(authorizes.len(), 2);
    let mut ids: Vec<i64> = authorizes.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    ids.sort_unstable();
    assert_eq!(par["pushed"]["request_uri"], json!(uri));
    assert_eq!(par["pushed"]["authorize_ids"], json!(ids));
    for a in authorizes {
        assert_eq!(a["pushed"]["push_id"], par["id"]);
        assert_eq!(a["pushed"]["request_uri"], json!(uri));
    }
    // The single entry says the same.
    let one: Value = s
        .http
        .get(s.at(&format!("/admin/api/requests/{}", ids[0])))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["pushed"]["push_id"], par["id"]);
}
