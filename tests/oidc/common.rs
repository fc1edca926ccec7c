//! Shared helpers for the OpenID Connect tests: a server per test on a temporary database, a
//! browser-like HTTP driver (redirects off, the session cookie kept by hand), and a relying
//! party built with the independent `openidconnect` crate.

use std::collections::HashMap;
use std::ops::Deref;

use base64::Engine;
use latchkey::{DbLocation, RunningServer, ServeOptions};
use openidconnect::core::{CoreClient, CoreProviderMetadata};
use openidconnect::{ClientId, ClientSecret, IssuerUrl, RedirectUrl};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;
use tempfile::TempDir;

/// The config most tests use.
pub const CONFIG: &str = r#"
[server]
code_ttl = 60

[[scopes]]
name = "read_books"
description = "Read the book catalogue"

[[scopes]]
name = "team"
description = "Team membership"
claims = ["team", "department"]

# A confidential web app (client_secret_basic), two redirect URIs.
[[clients]]
client_id = "web"
client_secret = "web-secret"
name = "Web app"
redirect_uris = ["http://localhost:3000/callback", "http://localhost:3000/other"]
post_logout_redirect_uris = ["http://localhost:3000/"]
grant_types = ["authorization_code", "refresh_token"]
scopes = ["openid", "profile", "email", "team", "read_books", "offline_access"]

# A public SPA (none + PKCE).
[[clients]]
client_id = "spa"
name = "Single-page app"
redirect_uris = ["http://localhost:3000/spa"]
token_endpoint_auth_method = "none"
grant_types = ["authorization_code", "refresh_token"]
scopes = ["openid", "profile", "email"]

# Another confidential client, to check that codes and refresh tokens are bound to theirs.
[[clients]]
client_id = "other"
client_secret = "other-secret"
redirect_uris = ["http://localhost:4000/cb"]
grant_types = ["authorization_code", "refresh_token"]
scopes = ["openid", "profile"]

# A legacy app allowed implicit and hybrid response types.
[[clients]]
client_id = "legacy"
client_secret = "legacy-secret"
name = "Legacy app"
redirect_uris = ["http://localhost:5000/cb"]
grant_types = ["authorization_code", "implicit"]
scopes = ["openid", "profile", "email"]

# A first-party CLI with the password grant.
[[clients]]
client_id = "cli"
client_secret = "cli-secret"
grant_types = ["password", "refresh_token"]
scopes = ["openid", "profile", "read_books"]

# A third-party app that must ask for consent.
[[clients]]
client_id = "consent-app"
client_secret = "consent-secret"
name = "Consent app"
redirect_uris = ["http://localhost:6000/cb"]
scopes = ["openid", "profile", "email"]
require_consent = true

[[users]]
username = "alice"
password = "alice-password"
claims = { name = "Alice Liddell", email = "alice@example.com", email_verified = true, team = "blue", department = "R&D" }

[[users]]
username = "bob"
password = "bob-password"
claims = { name = "Bob Builder", email = "bob@example.com" }
"#;

pub const WEB_CB: &str = "http://localhost:3000/callback";
pub const SPA_CB: &str = "http://localhost:3000/spa";
pub const LEGACY_CB: &str = "http://localhost:5000/cb";
pub const CONSENT_CB: &str = "http://localhost:6000/cb";

/// A running server with its temporary directory kept alive.
pub struct TestServer {
    server: RunningServer,
    /// A client with redirects off.
    pub http: reqwest::Client,
    _dir: TempDir,
}

impl Deref for TestServer {
    type Target = RunningServer;
    fn deref(&self) -> &RunningServer {
        &self.server
    }
}

/// Starts a server with `config` as its `latchkey.toml`.
pub async fn spawn(config: &str) -> TestServer {
    spawn_in(tempfile::tempdir().expect("temp dir"), config).await
}

/// Starts a server on the database `dir/l.db`, which may already exist (one written by an
/// older Latchkey, say), with `config` as its `latchkey.toml`.
pub async fn spawn_in(dir: TempDir, config: &str) -> TestServer {
    std::fs::write(dir.path().join("latchkey.toml"), config).expect("write config");
    let server = latchkey::start(ServeOptions {
        bind: "127.0.0.1".parse().expect("loopback"),
        port: 0,
        issuer: None,
        db: DbLocation::File(dir.path().join("l.db")),
        config: Some(dir.path().join("latchkey.toml")),
        ..Default::default()
    })
    .await
    .expect("server starts");
    TestServer {
        server,
        http: http_client(),
        _dir: dir,
    }
}

/// Starts a server with [`CONFIG`].
pub async fn spawn_default() -> TestServer {
    spawn(CONFIG).await
}

impl TestServer {
    /// An absolute URL on this server (by its bound address).
    pub fn at(&self, path: &str) -> String {
        format!("{}{}", self.url(), path)
    }

    /// A fresh browser without cookies.
    pub fn browser(&self) -> Browser {
        Browser {
            http: http_client(),
            base: self.url(),
            cookie: None,
            flow: None,
        }
    }

    /// POST /token with optional HTTP Basic client authentication.
    pub async fn token(&self, basic_auth: Option<(&str, &str)>, pairs: &[(&str, &str)]) -> Reply {
        let mut req = self
            .http
            .post(self.at("/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(pairs));
        if let Some((id, secret)) = basic_auth {
            req = req.header("authorization", basic(id, secret));
        }
        Reply::from(req.send().await.expect("token request")).await
    }

    /// Whether `token` introspects active (asked by the `web` client).
    pub async fn active(&self, token: &str) -> bool {
        let r = self
            .http
            .post(self.at("/introspect"))
            .header("authorization", basic("web", "web-secret"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("token", token)]))
            .send()
            .await
            .expect("introspect");
        let r = Reply::from(r).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        r.json["active"].as_bool().expect("active")
    }

    /// The discovered provider metadata, via the `openidconnect` crate.
    pub async fn metadata(&self) -> CoreProviderMetadata {
        CoreProviderMetadata::discover_async(
            IssuerUrl::new(self.issuer().to_string()).expect("issuer URL"),
            &self.http,
        )
        .await
        .expect("discovery")
    }

    /// A relying party for `client_id` built from discovery.
    pub async fn rp(
        &self,
        client_id: &str,
        secret: Option<&str>,
        redirect_uri: &str,
    ) -> openidconnect::core::CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    > {
        CoreClient::from_provider_metadata(
            self.metadata().await,
            ClientId::new(client_id.to_string()),
            secret.map(|s| ClientSecret::new(s.to_string())),
        )
        .set_redirect_uri(RedirectUrl::new(redirect_uri.to_string()).expect("redirect URI"))
    }
}

/// A reqwest client that never follows redirects.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("reqwest client")
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1).
pub fn basic(id: &str, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", enc(id), enc(secret)))
    )
}

/// An `application/x-www-form-urlencoded` body.
pub fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A JSON response.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
}

impl Reply {
    pub async fn from(r: reqwest::Response) -> Reply {
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, headers, json }
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// Asserts an RFC 6749 §5.2 error.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "{self:?}");
        assert_eq!(self.json["error"], code, "{self:?}");
        assert!(
            self.json["error_description"].as_str().is_some_and(|d| !d.is_empty()),
            "no error_description: {self:?}"
        );
    }

    /// A string member of a successful response.
    #[track_caller]
    pub fn ok(&self, member: &str) -> String {
        assert_eq!(self.status, StatusCode::OK, "{self:?}");
        self.json[member]
            .as_str()
            .unwrap_or_else(|| panic!("no {member}: {self:?}"))
            .to_string()
    }
}

/// An HTTP response as a browser sees it.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// The redirect target, if this is a redirect.
    pub fn location(&self) -> Option<&str> {
        self.status
            .is_redirection()
            .then(|| self.headers.get("location").and_then(|v| v.to_str().ok()))
            .flatten()
    }

    /// The redirect target; panics otherwise.
    #[track_caller]
    pub fn redirect(&self) -> &str {
        self.location()
            .unwrap_or_else(|| panic!("expected a redirect, got {self:?}"))
    }

    /// Whether this is the login page.
    pub fn is_login(&self) -> bool {
        self.status == StatusCode::OK
            && self.body.contains("name=\"username\"")
            && self.body.contains("name=\"password\"")
    }

    /// Whether this is the consent page.
    pub fn is_consent(&self) -> bool {
        self.status == StatusCode::OK
            && self.body.contains("name=\"decision\" value=\"approve\"")
            && self.body.contains("name=\"decision\" value=\"deny\"")
    }

    /// The value of the hidden `req` input.
    #[track_caller]
    pub fn req(&self) -> String {
        let marker = "name=\"req\" value=\"";
        let start = self
            .body
            .find(marker)
            .unwrap_or_else(|| panic!("no req input in {}", self.body))
            + marker.len();
        let end = self.body[start..].find('"').expect("closing quote") + start;
        self.body[start..end].to_string()
    }

    /// Asserts the headers every Latchkey page carries.
    #[track_caller]
    pub fn assert_page_headers(&self) {
        assert!(self.header("content-type").starts_with("text/html"), "{self:?}");
        assert!(
            self.header("content-security-policy")
                .contains("frame-ancestors 'none'"),
            "{self:?}"
        );
        assert_eq!(self.header("x-frame-options"), "DENY", "{self:?}");
        assert!(self.header("cache-control").contains("no-store"), "{self:?}");
    }
}

/// A browser: redirects off, the `latchkey_session` and `latchkey_flow` cookies kept by hand.
pub struct Browser {
    http: reqwest::Client,
    base: String,
    /// The session cookie.
    pub cookie: Option<String>,
    /// The cookie binding pending authorization requests to this browser.
    pub flow: Option<String>,
}

impl Browser {
    /// The `Cookie` header this browser sends (it ignores cookie paths: Latchkey scopes the flow
    /// cookie to /login and /consent, which a real browser honours).
    pub fn cookie_header(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(c) = &self.cookie {
            parts.push(format!("latchkey_session={c}"));
        }
        if let Some(f) = &self.flow {
            parts.push(format!("latchkey_flow={f}"));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }

    fn absolute(&self, url: &str) -> String {
        if url.starts_with("http") {
            url.to_string()
        } else {
            format!("{}{}", self.base, url)
        }
    }

    async fn finish(&mut self, r: reqwest::Response) -> Page {
        for v in r.headers().get_all("set-cookie") {
            let v = v.to_str().expect("ascii cookie");
            let (slot, rest) = if let Some(rest) = v.strip_prefix("latchkey_session=") {
                (&mut self.cookie, rest)
            } else if let Some(rest) = v.strip_prefix("latchkey_flow=") {
                (&mut self.flow, rest)
            } else {
                continue;
            };
            let value = rest.split(';').next().unwrap_or("");
            if value.is_empty() || v.contains("Max-Age=0") {
                *slot = None;
            } else {
                *slot = Some(value.to_string());
            }
        }
        Page {
            status: r.status(),
            headers: r.headers().clone(),
            body: r.text().await.expect("body"),
        }
    }

    /// GET a path or absolute URL.
    pub async fn get(&mut self, url: &str) -> Page {
        let mut req = self.http.get(self.absolute(url));
        if let Some(c) = self.cookie_header() {
            req = req.header("cookie", c);
        }
        let r = req.send().await.expect("GET");
        self.finish(r).await
    }

    /// POST a form to a path or absolute URL.
    pub async fn post(&mut self, url: &str, pairs: &[(&str, &str)]) -> Page {
        let mut req = self
            .http
            .post(self.absolute(url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(pairs));
        if let Some(c) = self.cookie_header() {
            req = req.header("cookie", c);
        }
        let r = req.send().await.expect("POST");
        self.finish(r).await
    }

    /// GET /authorize with these parameters.
    pub async fn authorize(&mut self, params: &[(&str, &str)]) -> Page {
        self.get(&format!("/authorize?{}", form(params))).await
    }

    /// Fills the login form with a username and password.
    pub async fn login(&mut self, page: &Page, username: &str, password: &str) -> Page {
        assert!(page.is_login(), "expected the login page, got {page:?}");
        let req = page.req();
        self.post(
            "/login",
            &[("req", &req), ("username", username), ("password", password)],
        )
        .await
    }

    /// Clicks a persona button.
    pub async fn persona(&mut self, page: &Page, username: &str) -> Page {
        assert!(page.is_login(), "expected the login page, got {page:?}");
        assert!(
            page.body.contains(&format!("name=\"persona\" value=\"{username}\"")),
            "no persona button for {username}"
        );
        let req = page.req();
        self.post("/login", &[("req", &req), ("persona", username)]).await
    }

    /// Answers the consent page.
    pub async fn consent(&mut self, page: &Page, approve: bool) -> Page {
        assert!(page.is_consent(), "expected the consent page, got {page:?}");
        let req = page.req();
        let decision = if approve { "approve" } else { "deny" };
        self.post("/consent", &[("req", &req), ("decision", decision)]).await
    }

    /// The whole code flow up to the redirect: authorize, password login, capture the
    /// callback's parameters.
    pub async fn code_flow(&mut self, params: &[(&str, &str)], user: &str, password: &str) -> Callback {
        let page = self.authorize(params).await;
        let done = self.login(&page, user, password).await;
        Callback::parse(done.redirect())
    }
}

/// The parameters an authorization response carried to the redirect URI.
#[derive(Debug, Clone)]
pub struct Callback {
    /// The URI without query and fragment.
    pub base: String,
    /// From the query.
    pub query: HashMap<String, String>,
    /// From the fragment.
    pub fragment: HashMap<String, String>,
}

impl Callback {
    pub fn parse(location: &str) -> Callback {
        let u = url::Url::parse(location).unwrap_or_else(|e| panic!("bad Location {location}: {e}"));
        let query = u.query_pairs().into_owned().collect();
        let fragment = u
            .fragment()
            .map(|f| url::form_urlencoded::parse(f.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let mut b = u.clone();
        b.set_query(None);
        b.set_fragment(None);
        Callback {
            base: b.to_string(),
            query,
            fragment,
        }
    }

    /// A query parameter; panics if absent.
    #[track_caller]
    pub fn q(&self, name: &str) -> &str {
        self.query
            .get(name)
            .unwrap_or_else(|| panic!("no {name} in the query: {self:?}"))
    }

    /// A fragment parameter; panics if absent.
    #[track_caller]
    pub fn f(&self, name: &str) -> &str {
        self.fragment
            .get(name)
            .unwrap_or_else(|| panic!("no {name} in the fragment: {self:?}"))
    }
}

/// The payload of a JWT, unverified (tests verify signatures with `openidconnect`).
pub fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON payload")
}

/// A valid PKCE verifier and its S256 challenge.
pub fn pkce_s256() -> (String, String) {
    let (challenge, verifier) = openidconnect::PkceCodeChallenge::new_random_sha256();
    (verifier.secret().to_string(), challenge.as_str().to_string())
}
