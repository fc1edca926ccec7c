//! Client ID Metadata Documents, served by a second server on 127.0.0.1:0: valid, invalid,
//! slow, too large, redirected, changed (cache); and the defensive fetcher's rules.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::common::*;

/// One path's answer: status, Cache-Control, body, delay in milliseconds.
type Answer = (u16, Option<String>, String, u64);

/// What the document server answers for each path, and how many requests it got.
#[derive(Clone, Default)]
struct Docs(Arc<Mutex<std::collections::HashMap<String, Answer>>>, Arc<Mutex<usize>>);

impl Docs {
    fn set(&self, path: &str, status: u16, cache: Option<&str>, body: String, delay_ms: u64) {
        self.0
            .lock()
            .unwrap()
            .insert(path.to_string(), (status, cache.map(str::to_string), body, delay_ms));
    }
    fn hits(&self) -> usize {
        *self.1.lock().unwrap()
    }
}

async fn serve_doc(State(d): State<Docs>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    *d.1.lock().unwrap() += 1;
    assert!(headers.get(header::COOKIE).is_none() && headers.get(header::AUTHORIZATION).is_none());
    let Some((status, cache, body, delay)) = d.0.lock().unwrap().get(&name).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    // A redirect's body, when given, is its Location.
    let location = if body.is_empty() {
        "/elsewhere.json".to_string()
    } else {
        body.clone()
    };
    let mut r = (StatusCode::from_u16(status).unwrap(), body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(c) = cache {
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_str(&c).unwrap());
    }
    if (300..400).contains(&status) {
        r.headers_mut()
            .insert(header::LOCATION, HeaderValue::from_str(&location).unwrap());
    }
    r
}

/// Starts the document server; returns its base URL and state.
async fn doc_server() -> (String, Docs) {
    let docs = Docs::default();
    let app = axum::Router::new()
        .route("/{name}", axum::routing::get(serve_doc))
        .with_state(docs.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://127.0.0.1:{}", addr.port()), docs)
}

const CB: &str = "http://127.0.0.1:4545/callback";

fn document(client_id: &str, name: &str) -> String {
    json!({
        "client_id": client_id,
        "client_name": name,
        "redirect_uris": [CB],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
        "scope": "openid profile",
        "logo_uri": format!("{client_id}/logo.png"),
    })
    .to_string()
}

async fn docs_view(srv: &TestServer) -> Value {
    srv.http
        .get(srv.at("/admin/api/client-documents"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn view_of<'a>(all: &'a Value, url: &str) -> &'a Value {
    all.as_array()
        .unwrap()
        .iter()
        .find(|d| d["url"] == url)
        .unwrap_or_else(|| panic!("{url} not in {all}"))
}

/// A valid document: the authorization request with the URL as `client_id` fetches it, shows
/// the consent page naming the document, and the code is exchanged by the same public client
/// with PKCE. `logo_uri` is never fetched. The admin API lists what was fetched.
#[tokio::test]
async fn a_valid_document_is_fetched_and_its_client_completes_a_pkce_flow() {
    let srv = spawn_default().await;
    let (base, docs) = doc_server().await;
    let id = format!("{base}/client.json");
    docs.set("client.json", 200, Some("max-age=600"), document(&id, "Doc Client"), 0);
    let (verifier, challenge) = pkce_s256();
    let mut b = srv.browser();
    let page = b
        .authorize(&[
            ("client_id", &id),
            ("response_type", "code"),
            ("redirect_uri", CB),
            ("scope", "openid profile"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .await;
    assert!(page.is_login(), "{page:?}");
    let consent = b.login(&page, "alice", "alice-password").await;
    assert!(consent.is_consent(), "{consent:?}");
    assert!(consent.body.contains("Doc Client"));
    assert!(consent.body.contains("client ID metadata document"), "{}", consent.body);
    assert!(consent.body.contains(&id));
    let done = b.consent(&consent, true).await;
    let code = Callback::parse(done.redirect()).q("code").to_string();
    let tok = srv
        .token(
            None,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CB),
                ("client_id", &id),
                ("code_verifier", &verifier),
            ],
        )
        .await;
    assert_eq!(tok.status.as_u16(), 200, "{tok:?}");
    assert_eq!(jwt_claims(&tok.ok("access_token"))["client_id"], id);
    assert_eq!(
        docs.hits(),
        1,
        "fetched once, cached for max-age; logo_uri never fetched"
    );

    let all = docs_view(&srv).await;
    let v = view_of(&all, &id);
    assert_eq!(v["outcome"], "valid");
    assert_eq!(v["status"], 200);
    assert_eq!(v["cache_control"], "max-age=600");
    assert_eq!(v["document"]["client_name"], "Doc Client");
    assert_eq!(v["client"]["redirect_uris"], json!([CB]));
    assert_eq!(
        v["expires_at"].as_i64().unwrap() - v["fetched_at"].as_i64().unwrap(),
        600
    );
}

async fn refused(srv: &TestServer, id: &str) -> String {
    let mut b = srv.browser();
    let page = b
        .authorize(&[
            ("client_id", id),
            ("response_type", "code"),
            ("redirect_uri", CB),
            ("scope", "openid"),
        ])
        .await;
    assert_eq!(page.status.as_u16(), 400, "{page:?}");
    assert!(page.location().is_none(), "never redirected: {page:?}");
    page.body
}

/// Invalid documents are refused with the reason, on the error page and in the admin API:
/// a different `client_id`, no `redirect_uris`, a secret-based auth method, a `client_secret`,
/// redirect URIs on another site, not JSON, HTTP 404, a redirect. The token endpoint refuses
/// the URL as `invalid_client` too.
#[tokio::test]
async fn invalid_documents_are_refused_with_the_reason() {
    let srv = spawn_default().await;
    let (base, docs) = doc_server().await;
    let cases: Vec<(&str, u16, String, &str)> = vec![
        ("mismatch.json", 200, document(&format!("{base}/other.json"), "x"), "differs from its URL"),
        (
            "noredirect.json",
            200,
            json!({"client_id": format!("{base}/noredirect.json")}).to_string(),
            "no redirect_uris",
        ),
        (
            "secret.json",
            200,
            json!({"client_id": format!("{base}/secret.json"), "redirect_uris": [CB], "token_endpoint_auth_method": "client_secret_basic"})
                .to_string(),
            "shared secret",
        ),
        (
            "withsecret.json",
            200,
            json!({"client_id": format!("{base}/withsecret.json"), "redirect_uris": [CB], "client_secret": "s"}).to_string(),
            "client_secret",
        ),
        (
            "foreign.json",
            200,
            json!({"client_id": format!("{base}/foreign.json"), "redirect_uris": ["https://evil.example/cb"]}).to_string(),
            "invalid_redirect_uri",
        ),
        ("html.json", 200, "<html>hi</html>".to_string(), "not JSON"),
        ("missing.json", 404, "{}".to_string(), "HTTP 404"),
        ("moved.json", 302, String::new(), "302"),
    ];
    for (name, status, body, why) in &cases {
        docs.set(name, *status, None, body.clone(), 0);
        let id = format!("{base}/{name}");
        let page = refused(&srv, &id).await;
        assert!(page.contains(why), "{name}: {page}");
        let v = docs_view(&srv).await;
        let d = view_of(&v, &id);
        assert_ne!(d["outcome"], "valid", "{name}");
        assert!(d["error"].as_str().unwrap().contains(why), "{name}: {d}");
    }
    let tok = srv
        .token(
            None,
            &[
                ("grant_type", "authorization_code"),
                ("code", "x"),
                ("client_id", &format!("{base}/mismatch.json")),
            ],
        )
        .await;
    tok.assert_error(401, "invalid_client");
    // URL shapes the draft forbids are refused before any fetch.
    let before = docs.hits();
    for bad in [
        format!("{base}/"),
        format!("{base}/a/../client.json"),
        format!("{base}/c.json#frag"),
    ] {
        refused(&srv, &bad).await;
    }
    let page = refused(&srv, "http://example.com/client.json").await;
    assert!(page.contains("must be https"), "{page}");
    assert_eq!(docs.hits(), before);
}

/// A slow server makes the fetch fail after `[fetch] timeout` (1 s here), not hang; a document
/// over 5 KiB is refused; both are shown as `failed` with the reason.
#[tokio::test]
async fn slow_and_too_large_documents_fail_within_bounds() {
    let srv = spawn(&format!("{CONFIG}\n[fetch]\ntimeout = 1\n")).await;
    let (base, docs) = doc_server().await;
    let slow = format!("{base}/slow.json");
    docs.set("slow.json", 200, None, document(&slow, "Slow"), 30_000);
    let started = Instant::now();
    let page = refused(&srv, &slow).await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(4), "took {took:?}");
    assert!(page.contains("did not answer within 1 s"), "{page}");

    let big = format!("{base}/big.json");
    let mut doc: Value = serde_json::from_str(&document(&big, "Big")).unwrap();
    doc["padding"] = json!("x".repeat(6 * 1024));
    docs.set("big.json", 200, None, doc.to_string(), 0);
    let page = refused(&srv, &big).await;
    assert!(page.contains("more than 5120 bytes"), "{page}");
    let v = docs_view(&srv).await;
    assert_eq!(view_of(&v, &slow)["outcome"], "failed");
    assert_eq!(view_of(&v, &big)["outcome"], "failed");
}

/// A changed document: used from the cache while its `max-age` lasts, fetched again after the
/// admin forgets it; a `no-store` document is fetched on every authorization request. Every
/// fetch is published as `client_document.fetched`.
#[tokio::test]
async fn a_changed_document_is_seen_when_the_cache_allows() {
    let srv = spawn_default().await;
    let (base, docs) = doc_server().await;
    let id = format!("{base}/app.json");
    docs.set("app.json", 200, Some("max-age=3600"), document(&id, "First Name"), 0);
    let consent_name = |srv: &TestServer, id: String| {
        let mut b = srv.browser();
        async move {
            let page = b
                .authorize(&[
                    ("client_id", &id),
                    ("response_type", "code"),
                    ("redirect_uri", CB),
                    ("scope", "openid"),
                    ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
                    ("code_challenge_method", "S256"),
                ])
                .await;
            let consent = b.login(&page, "alice", "alice-password").await;
            assert!(consent.is_consent(), "{consent:?}");
            consent.body
        }
    };
    assert!(consent_name(&srv, id.clone()).await.contains("First Name"));
    docs.set("app.json", 200, Some("max-age=3600"), document(&id, "Second Name"), 0);
    assert!(
        consent_name(&srv, id.clone()).await.contains("First Name"),
        "still cached"
    );
    assert_eq!(docs.hits(), 1);
    let r = srv
        .http
        .delete(srv.at(&format!(
            "/admin/api/client-documents?url={}",
            url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    assert!(consent_name(&srv, id.clone()).await.contains("Second Name"));
    assert_eq!(docs.hits(), 2);

    let live = format!("{base}/live.json");
    docs.set("live.json", 200, Some("no-store"), document(&live, "Live One"), 0);
    assert!(consent_name(&srv, live.clone()).await.contains("Live One"));
    docs.set("live.json", 200, Some("no-store"), document(&live, "Live Two"), 0);
    assert!(consent_name(&srv, live.clone()).await.contains("Live Two"));

    let events = srv
        .http
        .get(srv.at("/admin/api/events"))
        .header("last-event-id", "0")
        .send()
        .await
        .unwrap();
    let mut stream = events;
    let mut text = String::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !text.contains("Live Two") && Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(2), stream.chunk()).await {
            Ok(Ok(Some(c))) => text.push_str(&String::from_utf8_lossy(&c)),
            _ => break,
        }
    }
    assert!(text.contains("event: client_document.fetched"), "{text}");
}

/// The defensive fetcher guards `jwks_uri` too: with `[fetch] allowed_hosts` naming another
/// host, a `private_key_jwt` client whose `jwks_uri` is on 127.0.0.1 cannot authenticate, and
/// the keys server is never asked; metadata documents obey the same list.
#[tokio::test]
async fn fetch_allowed_hosts_limit_jwks_uri_and_documents() {
    let (base, docs) = doc_server().await;
    let cfg = format!(
        "{CONFIG}\n[fetch]\nallowed_hosts = [\"keys.example.com\"]\n\n[[clients]]\nclient_id = \"pkj\"\ntoken_endpoint_auth_method = \"private_key_jwt\"\njwks_uri = \"{base}/jwks.json\"\nscopes = [\"openid\"]\ngrant_types = [\"client_credentials\"]\n"
    );
    let srv = spawn(&cfg).await;
    docs.set("jwks.json", 200, None, json!({"keys": []}).to_string(), 0);
    let assertion = unsigned_assertion("pkj", &srv.at("/token"));
    let tok = srv
        .token(
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "pkj"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", &assertion),
            ],
        )
        .await;
    tok.assert_error(401, "invalid_client");
    assert!(
        tok.json["error_description"]
            .as_str()
            .unwrap()
            .contains("allowed_hosts"),
        "{tok:?}"
    );
    let id = format!("{base}/client.json");
    docs.set("client.json", 200, None, document(&id, "Blocked"), 0);
    let page = refused(&srv, &id).await;
    assert!(page.contains("allowed_hosts"), "{page}");
    assert_eq!(docs.hits(), 0, "nothing was fetched");
}

/// An RS256-looking client assertion (its signature is never reached: the keys cannot be
/// fetched).
fn unsigned_assertion(client_id: &str, aud: &str) -> String {
    use base64::Engine;
    let b = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.{}",
        b(json!({"alg": "RS256", "kid": "k1"})),
        b(
            json!({"iss": client_id, "sub": client_id, "aud": aud, "jti": "j1", "exp": 4_000_000_000u64, "iat": 1_700_000_000u64})
        ),
        "c2ln"
    )
}

/// A `jwks_uri` that redirects off the machine over plain http is refused at the redirect: each
/// target is checked like the first URL, and the other host is never contacted.
#[tokio::test]
async fn a_jwks_uri_redirect_is_checked_again() {
    let (base, docs) = doc_server().await;
    let cfg = format!(
        "{CONFIG}\n[[clients]]\nclient_id = \"pkj\"\ntoken_endpoint_auth_method = \"private_key_jwt\"\njwks_uri = \"{base}/hop.json\"\nscopes = [\"openid\"]\ngrant_types = [\"client_credentials\"]\n"
    );
    let srv = spawn(&cfg).await;
    docs.set("hop.json", 302, None, "http://10.255.255.1/jwks.json".into(), 0);
    let assertion = unsigned_assertion("pkj", &srv.at("/token"));
    let tok = srv
        .token(
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "pkj"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", &assertion),
            ],
        )
        .await;
    tok.assert_error(401, "invalid_client");
    let why = tok.json["error_description"].as_str().unwrap();
    assert!(
        why.contains("redirected to") && why.contains("plain http is fetched only from this machine"),
        "{why}"
    );
    assert_eq!(docs.hits(), 1);
}
