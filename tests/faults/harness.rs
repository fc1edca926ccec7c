//! Helpers shared by the fault tests.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{TestServer, spawn};

/// The OIDC tests' config plus a client-credentials client and a resource.
pub fn config() -> String {
    format!(
        "{}{}",
        crate::common::CONFIG,
        r#"
[[clients]]
client_id = "svc"
client_secret = "svc-secret"
grant_types = ["client_credentials"]
scopes = ["read_books"]

[[clients]]
client_id = "svc2"
client_secret = "svc2-secret"
grant_types = ["client_credentials"]
scopes = ["read_books"]

[[resources]]
name = "books"
audience = "books-api"
required_scopes = ["read_books"]
"#
    )
}

pub async fn server() -> TestServer {
    spawn(&config()).await
}

pub async fn admin(s: &TestServer, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = s.http.request(method, s.at(&format!("/admin/api{path}")));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.expect("admin request");
    let status = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Adds a rule; panics unless it was created.
pub async fn add(s: &TestServer, rule: Value) -> Value {
    let (st, v) = admin(s, reqwest::Method::POST, "/faults", Some(rule)).await;
    assert_eq!(st, 201, "{v}");
    v
}

pub async fn rule(s: &TestServer, name: &str) -> Value {
    let (st, v) = admin(s, reqwest::Method::GET, &format!("/faults/{}", enc(name)), None).await;
    assert_eq!(st, 200, "{v}");
    v
}

pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// A client-credentials token request for `svc` (or `client`).
pub async fn cc(s: &TestServer, client: &str) -> reqwest::Response {
    s.http
        .post(s.at("/token"))
        .basic_auth(client, Some(format!("{client}-secret")))
        .form(&[("grant_type", "client_credentials"), ("scope", "read_books")])
        .send()
        .await
        .expect("token request")
}

pub async fn json_of(r: reqwest::Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let st = r.status().as_u16();
    let h = r.headers().clone();
    let text = r.text().await.unwrap_or_default();
    (st, h, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// The newest request-log entry for `path`.
pub async fn logged(s: &TestServer, path: &str) -> Value {
    for _ in 0..50 {
        let (_, page) = admin(s, reqwest::Method::GET, "/requests?limit=50", None).await;
        if let Some(e) = page["items"]
            .as_array()
            .and_then(|a| a.iter().find(|e| e["path"] == path))
        {
            return e.clone();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{path} was not logged");
}

/// Every event of type `name` in the replay buffer (the stream from the start).
pub async fn events_of(s: &TestServer, name: &str) -> Vec<Value> {
    let resp = s
        .http
        .get(s.at("/admin/api/events"))
        .header("last-event-id", "0")
        .send()
        .await
        .expect("events");
    let mut resp = resp;
    let mut buf = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(700);
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(deadline, resp.chunk()).await {
        buf.push_str(&String::from_utf8_lossy(&chunk));
    }
    let mut out = Vec::new();
    for block in buf.split("\n\n") {
        let mut ev = None;
        let mut data = String::new();
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("event:") {
                ev = Some(v.trim().to_string());
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push_str(v.trim_start());
            }
        }
        if ev.as_deref() == Some(name) {
            out.push(serde_json::from_str(&data).unwrap_or(json!(data)));
        }
    }
    out
}

fn b64(s: &str) -> Result<Vec<u8>, String> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|e| format!("not base64url ({e})"))
}

/// An RS256 JWT verifier that shares no code with the server (hand-parsed, `ring` for the
/// signature), as a careful resource server would check: the `alg` (never `none`), the `kid`
/// in the JWK Set, the signature, `iss`, `aud` (when `audience` is not empty), `exp`, `nbf`
/// and `iat` against `now` (UNIX seconds). Returns the claims.
pub fn verify(jwks: &Value, jwt: &str, issuer: &str, audience: &str, now: i64) -> Result<Value, String> {
    use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
    let parts: Vec<&str> = jwt.split('.').collect();
    if parts.len() != 3 {
        return Err("not a compact JWS".into());
    }
    let header: Value = serde_json::from_slice(&b64(parts[0])?).map_err(|e| e.to_string())?;
    let claims: Value = serde_json::from_slice(&b64(parts[1])?).map_err(|e| e.to_string())?;
    if header["alg"] != "RS256" {
        return Err(format!("alg {} refused", header["alg"]));
    }
    let kid = header["kid"].as_str().ok_or("no kid")?;
    let key = jwks["keys"]
        .as_array()
        .ok_or("no keys")?
        .iter()
        .find(|k| k["kid"] == kid)
        .ok_or(format!("kid {kid} is not in /jwks"))?;
    let n = b64(key["n"].as_str().ok_or("no n")?)?;
    let e = b64(key["e"].as_str().ok_or("no e")?)?;
    let sig = b64(parts[2])?;
    RsaPublicKeyComponents { n: &n, e: &e }
        .verify(
            &RSA_PKCS1_2048_8192_SHA256,
            format!("{}.{}", parts[0], parts[1]).as_bytes(),
            &sig,
        )
        .map_err(|_| "bad signature".to_string())?;
    if !issuer.is_empty() && claims["iss"] != issuer {
        return Err(format!("iss {} is not {issuer}", claims["iss"]));
    }
    if !audience.is_empty() {
        let ok = match &claims["aud"] {
            Value::String(a) => a == audience,
            Value::Array(a) => a.iter().any(|x| x == audience),
            _ => false,
        };
        if !ok {
            return Err(format!("aud {} does not include {audience}", claims["aud"]));
        }
    }
    let num = |k: &str| claims[k].as_i64();
    if num("exp").is_none_or(|exp| exp <= now) {
        return Err("expired".into());
    }
    if num("nbf").is_some_and(|nbf| nbf > now + 60) {
        return Err("not yet valid (nbf)".into());
    }
    if num("iat").is_some_and(|iat| iat > now + 60) {
        return Err("issued in the future (iat)".into());
    }
    Ok(claims)
}
