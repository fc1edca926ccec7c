//! Shared helpers: start a server on a temporary database, send OAuth requests.

use std::ops::Deref;

use base64::Engine;
use latchkey::{DbLocation, RunningServer, ServeOptions};
use reqwest::StatusCode;
use serde_json::Value;
use tempfile::TempDir;

/// The config most tests use: a handful of clients covering every registration shape.
pub const CONFIG: &str = r#"
[[scopes]]
name = "read"

[[scopes]]
name = "write"

[[scopes]]
name = "admin"

[[scopes]]
name = "orders-api"

# client_secret_basic (also the default for a client with a secret)
[[clients]]
client_id = "basic-client"
client_secret = "basic-secret"
scopes = ["read", "write"]
token_endpoint_auth_method = "client_secret_basic"

[[clients]]
client_id = "post-client"
client_secret = "post-secret"
scopes = ["read"]
token_endpoint_auth_method = "client_secret_post"

# A resource server that introspects.
[[clients]]
client_id = "api"
client_secret = "api-secret"
scopes = ["read"]

# Confidential, but only allowed the authorization code grant.
[[clients]]
client_id = "web-only"
client_secret = "web-secret"
redirect_uris = ["http://localhost:3000/cb"]
grant_types = ["authorization_code"]
scopes = ["openid"]

# A public client.
[[clients]]
client_id = "spa"
redirect_uris = ["http://localhost:3000/cb"]
token_endpoint_auth_method = "none"
scopes = ["openid", "read"]

# Credentials that need form-urlencoding inside HTTP Basic (RFC 6749 §2.3.1).
[[clients]]
client_id = "my app:1"
client_secret = "p@ss w:rd+/%"
scopes = ["read"]

[[clients]]
client_id = "Bench-Client"
client_secret = "bench-secret"
scopes = ["read"]

[[clients]]
client_id = "short"
client_secret = "short-secret"
access_token_ttl = 60
scopes = ["read"]

[[clients]]
client_id = "opaque-client"
client_secret = "opaque-secret"
access_token_format = "opaque"
scopes = ["read"]

[[clients]]
client_id = "aud-client"
client_secret = "aud-secret"
audiences = ["books-api", "other-api"]
scopes = ["read"]

[[clients]]
client_id = "orders-client"
client_secret = "orders-secret"
audiences = ["orders-api"]
scopes = ["read"]
"#;

/// A running server with its temporary directory (database and config file) kept alive.
pub struct TestServer {
    server: RunningServer,
    opts: ServeOptions,
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
    spawn_with(config, |_| {}).await
}

/// Starts a server with `config`, letting the test adjust the options (issuer, ...).
pub async fn spawn_with(config: &str, adjust: impl FnOnce(&mut ServeOptions)) -> TestServer {
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = dir.path().join("latchkey.toml");
    std::fs::write(&cfg, config).expect("write config");
    let mut opts = ServeOptions {
        bind: "127.0.0.1".parse().expect("loopback"),
        port: 0,
        db: DbLocation::File(dir.path().join("l.db")),
        config: Some(cfg),
        ..Default::default()
    };
    adjust(&mut opts);
    let server = latchkey::start(opts.clone()).await.expect("server starts");
    TestServer {
        server,
        opts,
        http: http_client(),
        _dir: dir,
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

/// A response reduced to what tests look at.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
}

impl Reply {
    /// A header's value as text ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// The `error` member of the JSON body.
    pub fn error(&self) -> &str {
        self.json["error"].as_str().unwrap_or("")
    }

    /// Asserts an RFC 6749 §5.2 error response.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "{self:?}");
        assert_eq!(self.error(), code, "{self:?}");
        assert!(
            self.json["error_description"].as_str().is_some_and(|d| !d.is_empty()),
            "no error_description: {self:?}"
        );
        assert!(self.header("content-type").starts_with("application/json"), "{self:?}");
    }

    /// The access token of a successful token response.
    #[track_caller]
    pub fn token(&self) -> String {
        assert_eq!(self.status, StatusCode::OK, "{self:?}");
        self.json["access_token"].as_str().expect("access_token").to_string()
    }
}

/// Reads a response (an empty or non-JSON body becomes `Value::Null`).
pub async fn reply(resp: reqwest::Response) -> Reply {
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.expect("response body");
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply { status, headers, json }
}

impl TestServer {
    /// The absolute URL of `path` on the listener.
    pub fn at(&self, path: &str) -> String {
        format!("{}{}", self.server.url(), path)
    }

    /// POSTs a form to `path`, with an optional `Authorization` header.
    pub async fn post_form(&self, path: &str, auth: Option<&str>, pairs: &[(&str, &str)]) -> Reply {
        let mut req = self
            .http
            .post(self.at(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(pairs));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        reply(req.send().await.expect("request")).await
    }

    /// POSTs a raw body with a given content type to `path`.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: impl Into<reqwest::Body>) -> Reply {
        let req = self
            .http
            .post(self.at(path))
            .header("content-type", content_type)
            .header("authorization", basic("basic-client", "basic-secret"))
            .body(body);
        reply(req.send().await.expect("request")).await
    }

    /// GETs `path`.
    pub async fn get(&self, path: &str) -> Reply {
        reply(self.http.get(self.at(path)).send().await.expect("request")).await
    }

    /// A client-credentials request authenticated with HTTP Basic.
    pub async fn token_basic(&self, id: &str, secret: &str, extra: &[(&str, &str)]) -> Reply {
        let mut pairs = vec![("grant_type", "client_credentials")];
        pairs.extend_from_slice(extra);
        self.post_form("/token", Some(&basic(id, secret)), &pairs).await
    }

    /// A client-credentials request authenticated with `client_secret_post`.
    pub async fn token_post(&self, id: &str, secret: &str, extra: &[(&str, &str)]) -> Reply {
        let mut pairs = vec![
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ];
        pairs.extend_from_slice(extra);
        self.post_form("/token", None, &pairs).await
    }

    /// Introspects `token` as the `api` client.
    pub async fn introspect(&self, token: &str) -> Reply {
        self.introspect_as("api", "api-secret", token).await
    }

    /// Introspects `token` as the given client (HTTP Basic).
    pub async fn introspect_as(&self, id: &str, secret: &str, token: &str) -> Reply {
        self.post_form("/introspect", Some(&basic(id, secret)), &[("token", token)])
            .await
    }

    /// Whether `token` introspects active (asserting a 200 either way).
    pub async fn is_active(&self, token: &str) -> bool {
        let r = self.introspect(token).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        match r.json["active"] {
            Value::Bool(true) => true,
            Value::Bool(false) => {
                assert_eq!(r.json, serde_json::json!({"active": false}));
                false
            }
            _ => panic!("introspection answered without `active`: {r:?}"),
        }
    }

    /// The config file the server was started with.
    pub fn config_path(&self) -> std::path::PathBuf {
        self.opts.config.clone().expect("a config file")
    }

    /// Stops the server and starts it again with the same database, the options adjusted.
    pub async fn restart_with(mut self, adjust: impl FnOnce(&mut ServeOptions)) -> TestServer {
        adjust(&mut self.opts);
        self.restart().await
    }

    /// Stops the server and starts it again with the same options and database.
    pub async fn restart(self) -> TestServer {
        let TestServer {
            server,
            opts,
            http,
            _dir,
        } = self;
        server.shutdown().await;
        let server = latchkey::start(opts.clone()).await.expect("server restarts");
        TestServer {
            server,
            opts,
            http,
            _dir,
        }
    }

    /// Stops the server.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}
