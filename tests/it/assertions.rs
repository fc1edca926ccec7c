//! Shared helpers of the JWT assertion tests: client key pairs, a JWK Set server on
//! `127.0.0.1:0`, signing with the `jsonwebtoken` crate, real time.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use latchkey::model::SigningAlg;
use serde_json::{Map, Value, json};

/// The client-assertion type (RFC 7523 §2.2).
pub const TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The JWT bearer grant type (RFC 7523 §2.1).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// A key pair: the private key as PKCS#8 PEM (for other libraries too) and the public JWK.
pub struct TestKey {
    pub alg: Algorithm,
    /// The private key, PKCS#8 PEM.
    #[allow(dead_code)]
    pub pem: String,
    pub jwk: Map<String, Value>,
    enc: EncodingKey,
}

impl TestKey {
    /// A fresh RS256 or ES256 key pair with `kid`.
    pub fn new(alg: SigningAlg, kid: &str) -> TestKey {
        let stored = latchkey::keys::SigningKey::generate(alg, 0).expect("key generation");
        let pem = latchkey::keys::import::pem(&stored.private_der);
        let mut jwk: Map<String, Value> = serde_json::from_str(&stored.public_jwk).expect("jwk");
        jwk.insert("kid".into(), json!(kid));
        let (alg, enc) = match alg {
            SigningAlg::ES256 => (Algorithm::ES256, EncodingKey::from_ec_der(&stored.private_der)),
            _ => (
                Algorithm::RS256,
                EncodingKey::from_rsa_der(pkcs8_inner(&stored.private_der)),
            ),
        };
        TestKey { alg, pem, jwk, enc }
    }

    /// The JWK's `kid`.
    pub fn kid(&self) -> String {
        self.jwk["kid"].as_str().unwrap_or_default().to_string()
    }

    /// Signs `claims` with this key, the header naming `kid` (when given).
    pub fn sign(&self, claims: &Value, kid: Option<&str>) -> String {
        let mut h = Header::new(self.alg);
        h.kid = kid.map(str::to_string);
        encode(&h, claims, &self.enc).expect("sign")
    }

    /// Signs with this key's own `kid`.
    pub fn sign_kid(&self, claims: &Value) -> String {
        self.sign(claims, Some(&self.kid()))
    }
}

/// The PKCS#1 `RSAPrivateKey` inside a PKCS#8 `PrivateKeyInfo` (RFC 5208 §5: SEQUENCE {
/// version, algorithm, privateKey OCTET STRING }), which is what `EncodingKey::from_rsa_der`
/// takes.
fn pkcs8_inner(der: &[u8]) -> &[u8] {
    // (tag, content start, content end) of the element at `at`.
    fn element(der: &[u8], at: usize) -> (u8, usize, usize) {
        let tag = der[at];
        let first = der[at + 1] as usize;
        if first < 0x80 {
            (tag, at + 2, at + 2 + first)
        } else {
            let n = first & 0x7f;
            let len = der[at + 2..at + 2 + n]
                .iter()
                .fold(0usize, |a, b| (a << 8) | *b as usize);
            (tag, at + 2 + n, at + 2 + n + len)
        }
    }
    let (_, body, _) = element(der, 0);
    let (_, _, version_end) = element(der, body);
    let (_, _, alg_end) = element(der, version_end);
    let (tag, start, end) = element(der, alg_end);
    assert_eq!(tag, 0x04, "PKCS#8 privateKey is an OCTET STRING");
    &der[start..end]
}

/// Signs `claims` with HS256 and `secret` (`client_secret_jwt`).
pub fn sign_hs256(secret: &str, claims: &Value) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

/// An unsigned JWT (`alg: none`).
pub fn unsigned(claims: &Value) -> String {
    format!(
        "{}.{}.",
        B64.encode(json!({"alg": "none"}).to_string()),
        B64.encode(claims.to_string())
    )
}

/// Real time, UNIX seconds (the test's own clock, as a client's would be).
pub fn real_now() -> i64 {
    latchkey::Clock::system().real_now()
}

/// A unique `jti`.
pub fn jti() -> String {
    latchkey::ids::token_id()
}

/// Client-assertion claims for `client_id` and `aud`, stamped with real time, valid 2 minutes.
pub fn client_claims(client_id: &str, aud: Value) -> Value {
    let now = real_now();
    json!({"iss": client_id, "sub": client_id, "aud": aud, "iat": now, "exp": now + 120, "jti": jti()})
}

/// A JWK Set served at `http://127.0.0.1:PORT/jwks`, answered after `delay`.
pub async fn jwks_server(keys: Vec<Map<String, Value>>, delay: Duration) -> String {
    let body = json!({ "keys": keys });
    let router = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            let body = body.clone();
            async move {
                tokio::time::sleep(delay).await;
                axum::Json(body)
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(l, router).await.ok() });
    format!("http://{addr}/jwks")
}

/// A JWK Set served at `http://127.0.0.1:PORT/jwks` whose keys the test can change (key
/// rotation), counting the fetches.
pub async fn rotating_jwks_server(
    keys: Vec<Map<String, Value>>,
) -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<Map<String, Value>>>>,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    let shared = std::sync::Arc::new(std::sync::Mutex::new(keys));
    let fetches = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (k, n) = (shared.clone(), fetches.clone());
    let router = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            let (k, n) = (k.clone(), n.clone());
            async move {
                n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                axum::Json(json!({ "keys": *k.lock().unwrap() }))
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(l, router).await.ok() });
    (format!("http://{addr}/jwks"), shared, fetches)
}

/// A loopback URL where nothing listens.
pub async fn unreachable_url() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    drop(l);
    format!("http://{addr}/jwks")
}

/// A config document (JSON, written as TOML) with the given parts.
pub fn toml_config(doc: Value) -> String {
    toml::to_string(&doc).expect("toml")
}
