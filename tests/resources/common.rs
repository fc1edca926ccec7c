//! A running server with resources, clients and a user, plus helpers to get tokens and call
//! resources.

use latchkey::{DbLocation, RunningServer, ServeOptions};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub const CONFIG: &str = r#"
[[scopes]]
name = "read_books"

[[scopes]]
name = "add_books"

[[clients]]
client_id = "books-app"
client_secret = "books-secret"
grant_types = ["client_credentials"]
scopes = ["read_books", "add_books"]
audiences = ["books-api"]

[[clients]]
client_id = "other-app"
client_secret = "other-secret"
grant_types = ["client_credentials"]
scopes = ["read_books"]

[[clients]]
client_id = "legacy-app"
client_secret = "legacy-secret"
grant_types = ["client_credentials"]
scopes = ["read_books"]
audiences = ["books-api"]
access_token_typ = "JWT"

[[clients]]
client_id = "opaque-app"
client_secret = "opaque-secret"
grant_types = ["client_credentials"]
scopes = ["read_books"]
audiences = ["books-api"]
access_token_format = "opaque"

[[clients]]
client_id = "web-app"
client_secret = "web-secret"
grant_types = ["password", "refresh_token"]
scopes = ["openid", "read_books"]
audiences = ["books-api"]

[[clients]]
client_id = "books-api-introspector"
client_secret = "introspector-secret"
grant_types = ["client_credentials"]
scopes = ["token_introspection"]
audiences = ["books-api"]

[[clients]]
client_id = "spa"
redirect_uris = ["http://localhost:3000/cb"]
token_endpoint_auth_method = "none"
scopes = ["openid", "read_books"]

[[users]]
username = "alice"
password = "alice-password"

[[resources]]
name = "books"
audience = "books-api"
required_scopes = ["read_books"]
rules = [{ method = "POST", path = "/books/**", scopes = ["add_books"] }]

[[resources]]
name = "books-introspect"
audience = ["books-api"]
required_scopes = ["read_books"]
validation = "introspection"
introspection_client = "books-api-introspector"
"#;

pub struct Lk {
    pub server: RunningServer,
    pub http: reqwest::Client,
    pub url: String,
    pub _dir: tempfile::TempDir,
}

pub async fn start() -> Lk {
    start_with(CONFIG, None).await
}

pub async fn start_with(config: &str, issuer: Option<&str>) -> Lk {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("latchkey.toml");
    std::fs::write(&cfg, config).unwrap();
    let server = latchkey::start(ServeOptions {
        bind: "127.0.0.1".parse().unwrap(),
        port: 0,
        issuer: issuer.map(str::to_string),
        db: DbLocation::File(dir.path().join("l.db")),
        config: Some(cfg),
        ..Default::default()
    })
    .await
    .unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = server.url();
    Lk {
        server,
        http,
        url,
        _dir: dir,
    }
}

/// A response: status, headers, JSON body.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub json: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// The result of one check row.
    pub fn row(&self, check: &str) -> &Value {
        verdict_row(&self.json, check)
    }
}

pub fn verdict_row<'a>(verdict: &'a Value, check: &str) -> &'a Value {
    verdict["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["check"] == check)
        .unwrap_or_else(|| panic!("no row {check} in {verdict}"))
}

/// The names of the failed rows.
pub fn failed(verdict: &Value) -> Vec<String> {
    verdict["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["result"] == "failed")
        .map(|r| r["check"].as_str().unwrap().to_string())
        .collect()
}

pub async fn resp(r: reqwest::Response) -> Resp {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    let json = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Resp { status, headers, json }
}

impl Lk {
    pub fn api(&self, path: &str) -> String {
        format!("{}/admin/api{path}", self.url)
    }

    pub fn issuer(&self) -> String {
        self.server.issuer().to_string()
    }

    pub async fn get(&self, path: &str) -> Resp {
        resp(self.http.get(self.api(path)).send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        resp(self.http.post(self.api(path)).json(&body).send().await.unwrap()).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Resp {
        resp(self.http.put(self.api(path)).json(&body).send().await.unwrap()).await
    }

    /// Creates (or replaces) a resource through the admin API.
    pub async fn resource(&self, body: Value) {
        let name = body["name"].as_str().unwrap().to_string();
        let r = self.post("/resources", body.clone()).await;
        let r = if r.status == 409 {
            self.put(&format!("/resources/{name}"), body).await
        } else {
            r
        };
        assert!(r.status == 201 || r.status == 200, "{r:?}");
    }

    /// A client-credentials access token.
    pub async fn token(&self, client: &str, secret: &str, scope: &str) -> String {
        let r = self
            .http
            .post(format!("{}/token", self.url))
            .basic_auth(client, Some(secret))
            .form(&[("grant_type", "client_credentials"), ("scope", scope)])
            .send()
            .await
            .unwrap();
        let r = resp(r).await;
        assert_eq!(r.status, 200, "{r:?}");
        r.json["access_token"].as_str().unwrap().to_string()
    }

    /// books-app's token with `read_books`.
    pub async fn books_token(&self) -> String {
        self.token("books-app", "books-secret", "read_books").await
    }

    /// A token minted through the admin API (extra claims, lifetime).
    pub async fn mint(&self, body: Value) -> Value {
        let r = self.post("/tokens", body).await;
        assert_eq!(r.status, 201, "{r:?}");
        r.json
    }

    /// The password grant's response for alice at web-app (with an id_token).
    pub async fn password_grant(&self) -> Value {
        let r = self
            .http
            .post(format!("{}/token", self.url))
            .basic_auth("web-app", Some("web-secret"))
            .form(&[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "alice-password"),
                ("scope", "openid read_books"),
            ])
            .send()
            .await
            .unwrap();
        let r = resp(r).await;
        assert_eq!(r.status, 200, "{r:?}");
        r.json
    }

    /// Calls `/resources/{path}` with `Authorization: Bearer token`.
    pub async fn call(&self, method: reqwest::Method, path: &str, token: Option<&str>) -> Resp {
        let mut req = self.http.request(method, format!("{}/resources/{path}", self.url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        resp(req.send().await.unwrap()).await
    }

    pub async fn get_books(&self, resource: &str, token: &str) -> Resp {
        self.call(reqwest::Method::GET, &format!("{resource}/books"), Some(token))
            .await
    }

    /// Checks a token without calling.
    pub async fn check(&self, resource: &str, token: &str, method: &str, path: &str) -> Resp {
        self.post(
            &format!("/resources/{resource}/check"),
            json!({"token": token, "method": method, "path": path}),
        )
        .await
    }

    /// Moves the virtual clock.
    pub async fn advance(&self, secs: i64) {
        let r = self.post("/clock", json!({"advance": secs})).await;
        assert_eq!(r.status, 200, "{r:?}");
    }

    pub async fn now(&self) -> i64 {
        self.get("/clock").await.json["now"].as_i64().unwrap()
    }

    /// The metadata URL of a resource at the root issuer.
    pub fn metadata_url(&self, name: &str) -> String {
        format!(
            "{}/.well-known/oauth-protected-resource/resources/{name}",
            self.issuer().trim_end_matches('/')
        )
    }
}

/// Splits a JWT, applies `f` to its decoded payload, and reassembles it with the original
/// header and signature (a tampered token).
pub fn tamper(token: &str, f: impl FnOnce(&mut Value)) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload: Value = serde_json::from_slice(&B64.decode(parts[1]).unwrap()).unwrap();
    f(&mut payload);
    let p = B64.encode(serde_json::to_vec(&payload).unwrap());
    format!("{}.{}.{}", parts[0], p, parts[2])
}

/// The decoded payload of a JWT.
pub fn payload(token: &str) -> Value {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    serde_json::from_slice(&B64.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap()
}

/// The decoded header of a JWT.
pub fn header(token: &str) -> Value {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    serde_json::from_slice(&B64.decode(token.split('.').next().unwrap()).unwrap()).unwrap()
}

/// Reads Server-Sent Events from the admin stream.
pub struct Events {
    resp: reqwest::Response,
    buf: String,
}

impl Events {
    pub async fn open(lk: &Lk) -> Events {
        let resp = lk.http.get(lk.api("/events")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        Events {
            resp,
            buf: String::new(),
        }
    }

    /// The data of the next event named `name`, within 5 s.
    pub async fn next_of(&mut self, name: &str) -> Value {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut event = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = Some(v.trim().to_string());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if event.as_deref() == Some(name) {
                    let envelope: Value = serde_json::from_str(&data).unwrap();
                    assert_eq!(envelope["type"], name);
                    return envelope["data"].clone();
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.resp.chunk())
                .await
                .unwrap_or_else(|_| panic!("no {name} event within 5 s"))
                .unwrap()
                .unwrap();
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}
