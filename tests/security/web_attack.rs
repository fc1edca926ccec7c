//! The attacker's tools shared by the security tests: admin API calls, forged JWTs, and a
//! loopback server that counts the requests it receives (to prove Latchkey fetched nothing).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};

use crate::common::*;

/// base64url without padding.
pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A compact JWS from a header, a payload and raw signature bytes.
pub fn jws(header: &Value, payload: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes()),
        b64(signature)
    )
}

/// An HS256 JWS signed with `key`.
pub fn hs256(header: &Value, payload: &Value, key: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    );
    let tag = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key), input.as_bytes());
    format!("{input}.{}", b64(tag.as_ref()))
}

/// An ES256 JWS signed with a fresh attacker key whose public JWK is embedded in the header
/// (`jwk`, RFC 7515 §4.1.3), plus `extra` header members.
pub fn es256_embedded_jwk(payload: &Value, extra: &Value) -> String {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("key");
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).expect("key");
    let point = key.public_key().as_ref();
    let mut header = json!({
        "alg": "ES256",
        "typ": "at+jwt",
        "jwk": {"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..65])},
    });
    if let (Some(h), Some(e)) = (header.as_object_mut(), extra.as_object()) {
        h.extend(e.clone());
    }
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    );
    let sig = key.sign(&rng, input.as_bytes()).expect("sign");
    format!("{input}.{}", b64(sig.as_ref()))
}

/// The decoded JOSE header of a JWT.
pub fn jwt_header(token: &str) -> Value {
    let h = token.split('.').next().expect("a JWT");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(h)
            .expect("base64url header"),
    )
    .expect("JSON header")
}

/// A JSON request to the admin API: `(status, body)`.
pub async fn admin(srv: &TestServer, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = srv.http.request(method, srv.at(&format!("/admin/api{path}")));
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b.to_string());
    }
    let r = req.send().await.expect("admin request");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// The `field` of each invalid field in an admin error body.
pub fn field_names(err: &Value) -> Vec<String> {
    err["fields"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["field"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A loopback HTTP server that answers every request with an attacker's JWKS-looking document
/// and counts the requests. Returns its base URL and the counter.
pub async fn counting_server() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().fallback(move || {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            axum::Json(json!({"keys": []}))
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), hits)
}

/// Signs `alice` in for the `web` client (scope `openid profile`) and returns the token
/// response (access, refresh and id tokens).
pub async fn web_tokens(srv: &TestServer) -> Value {
    let mut b = srv.browser();
    let cb = b
        .code_flow(
            &[
                ("client_id", "web"),
                ("response_type", "code"),
                ("redirect_uri", WEB_CB),
                ("scope", "openid profile offline_access"),
            ],
            "alice",
            "alice-password",
        )
        .await;
    let r = srv
        .token(
            Some(("web", "web-secret")),
            &[
                ("grant_type", "authorization_code"),
                ("code", cb.q("code")),
                ("redirect_uri", WEB_CB),
            ],
        )
        .await;
    assert_eq!(r.status, reqwest::StatusCode::OK, "{r:?}");
    r.json
}
