//! A running server with a temp database and an HTTP client aimed at it.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use latchkey::{DbLocation, RunningServer, ServeOptions};
use reqwest::header::HeaderMap;
use serde_json::Value;

pub const SECRET: &str = "books-secret-0123456789";
pub const PASSWORD: &str = "alice-password-xyz";

pub const CONFIG: &str = r#"
[[scopes]]
name = "read_books"
description = "Read the catalogue"

[[scopes]]
name = "add_books"

[[clients]]
client_id = "books-app"
client_secret = "books-secret-0123456789"
grant_types = ["client_credentials"]
scopes = ["read_books", "add_books"]

[[users]]
username = "alice"
password = "alice-password-xyz"
claims = { name = "Alice", email = "alice@example.com" }

[[resources]]
name = "books"
audience = "books-api"
required_scopes = ["read_books"]
"#;

/// Everything the server logs (tracing), for the "no secret in the logs" checks.
#[derive(Clone, Default)]
pub struct LogBuf(pub Arc<Mutex<Vec<u8>>>);

impl Write for LogBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The captured logs of every server in this test binary.
pub fn logs() -> &'static LogBuf {
    static LOGS: OnceLock<LogBuf> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = LogBuf::default();
        let writer = buf.clone();
        let _ = tracing_subscriber::fmt()
            .with_env_filter("debug")
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .try_init();
        buf
    })
}

pub fn logged_text() -> String {
    String::from_utf8_lossy(&logs().0.lock().unwrap()).to_string()
}

pub struct Lk {
    pub server: RunningServer,
    pub http: reqwest::Client,
    pub url: String,
    pub dir: tempfile::TempDir,
}

pub async fn start() -> Lk {
    start_with(CONFIG, None).await
}

pub async fn start_with(config: &str, admin_token: Option<&str>) -> Lk {
    logs();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("latchkey.toml");
    std::fs::write(&cfg, config).unwrap();
    let server = latchkey::start(ServeOptions {
        bind: "127.0.0.1".parse().unwrap(),
        port: 0,
        db: DbLocation::File(dir.path().join("l.db")),
        config: Some(cfg),
        admin_token: admin_token.map(str::to_string),
        ..Default::default()
    })
    .await
    .unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = server.url();
    Lk { server, http, url, dir }
}

impl Lk {
    pub fn api(&self, path: &str) -> String {
        format!("{}/admin/api{path}", self.url)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.http.get(self.api(path)).send().await.unwrap();
        body(r).await
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, json: Value) -> (u16, Value) {
        let r = self
            .http
            .request(method, self.api(path))
            .json(&json)
            .send()
            .await
            .unwrap();
        body(r).await
    }

    pub async fn post(&self, path: &str, json: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, json).await
    }

    pub async fn put(&self, path: &str, json: Value) -> (u16, Value) {
        self.send(reqwest::Method::PUT, path, json).await
    }

    pub async fn delete(&self, path: &str) -> u16 {
        self.http.delete(self.api(path)).send().await.unwrap().status().as_u16()
    }

    /// A client-credentials token request with HTTP Basic.
    pub async fn client_credentials(&self, scope: &str) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/token", self.url))
            .basic_auth("books-app", Some(SECRET))
            .form(&[("grant_type", "client_credentials"), ("scope", scope)])
            .send()
            .await
            .unwrap();
        body(r).await
    }

    pub async fn introspect(&self, token: &str) -> Value {
        let r = self
            .http
            .post(format!("{}/introspect", self.url))
            .basic_auth("books-app", Some(SECRET))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap();
        body(r).await.1
    }
}

pub async fn body(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, v)
}

/// The named field of an error body.
pub fn field_names(err: &Value) -> Vec<String> {
    err["fields"]
        .as_array()
        .map(|a| a.iter().map(|f| f["field"].as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

pub fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(*k, v.parse().unwrap());
    }
    h
}
