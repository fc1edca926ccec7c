//! Access tokens and id tokens verified against /jwks by a verifier that shares no code with
//! the server's signer (`jsonwebtoken` on `aws-lc-rs`): JWT parsing by hand, signatures with
//! `ring`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde_json::Value;

use crate::common::{TestServer, basic, form, reply, spawn};

const CONFIG: &str = r#"
[[scopes]]
name = "read"

[[clients]]
client_id = "rp"
client_secret = "rp-secret"
redirect_uris = ["http://localhost:3000/cb"]
grant_types = ["authorization_code", "client_credentials"]
scopes = ["openid", "profile", "read"]
require_consent = false

[[users]]
username = "alice"
password = "alice-password"
claims = { name = "Alice Liddell" }
"#;

const REDIRECT: &str = "http://localhost:3000/cb";

fn b64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(s)
        .unwrap_or_else(|e| panic!("not base64url ({e}): {s}"))
}

/// Verifies `jwt`'s signature with the /jwks key its `kid` names, and its `iss`, `aud` and
/// `exp` (against `now`, the server's clock); returns the header and the claims.
fn verify(jwks: &Value, jwt: &str, issuer: &str, audience: &str, now: i64) -> Result<(Value, Value), String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    if parts.len() != 3 {
        return Err(format!("not a JWS compact serialization: {jwt}"));
    }
    let header: Value = serde_json::from_slice(&b64(parts[0])).map_err(|e| e.to_string())?;
    let claims: Value = serde_json::from_slice(&b64(parts[1])).map_err(|e| e.to_string())?;
    let sig = b64(parts[2]);
    let signed = format!("{}.{}", parts[0], parts[1]);
    let kid = header["kid"].as_str().ok_or("no kid")?;
    let key = jwks["keys"]
        .as_array()
        .ok_or("no keys")?
        .iter()
        .find(|k| k["kid"] == kid)
        .ok_or(format!("kid {kid} is not in /jwks"))?;
    let alg = header["alg"].as_str().ok_or("no alg")?;
    if key.get("alg").is_some_and(|a| a != alg) {
        return Err(format!("header alg {alg} differs from the key's {}", key["alg"]));
    }
    let member = |m: &str| b64(key[m].as_str().unwrap_or_else(|| panic!("{m} missing: {key}")));
    let ok = match (alg, key["kty"].as_str()) {
        ("RS256", Some("RSA")) => RsaPublicKeyComponents {
            n: member("n"),
            e: member("e"),
        }
        .verify(&signature::RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), &sig)
        .is_ok(),
        ("ES256", Some("EC")) => {
            assert_eq!(key["crv"], "P-256");
            let mut point = vec![0x04];
            point.extend(member("x"));
            point.extend(member("y"));
            UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(signed.as_bytes(), &sig)
                .is_ok()
        }
        ("EdDSA", Some("OKP")) => {
            assert_eq!(key["crv"], "Ed25519");
            UnparsedPublicKey::new(&signature::ED25519, member("x"))
                .verify(signed.as_bytes(), &sig)
                .is_ok()
        }
        other => return Err(format!("unexpected alg and key type {other:?}")),
    };
    if !ok {
        return Err("bad signature".into());
    }
    if claims["iss"] != issuer {
        return Err(format!("iss {} is not {issuer}", claims["iss"]));
    }
    let aud_ok = match &claims["aud"] {
        Value::String(a) => a == audience,
        Value::Array(a) => a.iter().any(|x| x == audience),
        _ => false,
    };
    if !aud_ok {
        return Err(format!("aud {} does not hold {audience}", claims["aud"]));
    }
    match claims["exp"].as_i64() {
        Some(exp) if exp > now => {}
        exp => return Err(format!("expired or no exp: {exp:?}")),
    }
    Ok((header, claims))
}

/// The code flow for alice with `rp`: returns the token response.
async fn code_flow(s: &TestServer) -> Value {
    let params = form(&[
        ("response_type", "code"),
        ("client_id", "rp"),
        ("redirect_uri", REDIRECT),
        ("scope", "openid profile read"),
        ("state", "st"),
        ("nonce", "n-0S6_WzA2Mj"),
    ]);
    let page = s.http.get(s.at(&format!("/authorize?{params}"))).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let flow = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("latchkey_flow="))
        .and_then(|v| v.split(';').next())
        .expect("the flow cookie")
        .to_string();
    let body = page.text().await.unwrap();
    let marker = "name=\"req\" value=\"";
    let start = body.find(marker).unwrap_or_else(|| panic!("no login form: {body}")) + marker.len();
    let req = &body[start..start + body[start..].find('"').unwrap()];
    let done = s
        .http
        .post(s.at("/login"))
        .header("cookie", format!("latchkey_flow={flow}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("req", req),
            ("username", "alice"),
            ("password", "alice-password"),
        ]))
        .send()
        .await
        .unwrap();
    assert!(done.status().is_redirection(), "{done:?}");
    let location = done.headers()["location"].to_str().unwrap().to_string();
    let url = url::Url::parse(&location).unwrap();
    let code = url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap_or_else(|| panic!("no code in {location}"))
        .1
        .into_owned();
    let r = reply(
        s.http
            .post(s.at("/token"))
            .header("authorization", basic("rp", "rp-secret"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ]))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    r.json
}

async fn check(alg: &str) {
    let s = spawn(&format!("[server]\nsigning_alg = \"{alg}\"\n{CONFIG}")).await;
    let jwks = s.get("/jwks").await.json;
    let issuer = s.issuer().to_string();
    let now = s.clock().now();

    // client_credentials access token.
    let at = s.token_basic("rp", "rp-secret", &[("scope", "read")]).await.token();
    let (h, c) = verify(&jwks, &at, &issuer, "rp", now).unwrap_or_else(|e| panic!("{alg} access token: {e}"));
    assert_eq!(h["alg"], alg);
    assert_eq!(h["typ"], "at+jwt");
    assert_eq!(c["sub"], "rp");

    // Code flow: access token and id token.
    let t = code_flow(&s).await;
    let at = t["access_token"].as_str().expect("access_token");
    let (h, c) = verify(&jwks, at, &issuer, "rp", now).unwrap_or_else(|e| panic!("{alg} user access token: {e}"));
    assert_eq!(h["alg"], alg);
    assert!(c["sub"].is_string(), "{c}");
    let id = t["id_token"].as_str().expect("id_token");
    let (h, c) = verify(&jwks, id, &issuer, "rp", now).unwrap_or_else(|e| panic!("{alg} id token: {e}"));
    assert_eq!(h["alg"], alg);
    assert_eq!(c["nonce"], "n-0S6_WzA2Mj");
    assert!(c["iat"].is_u64() && c["sub"].is_string(), "{c}");

    // Tampering is caught: another payload, or another key's audience.
    let parts: Vec<&str> = id.split('.').collect();
    let mut forged = c.clone();
    forged["sub"] = "mallory".into();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(forged.to_string()),
        parts[2]
    );
    assert_eq!(
        verify(&jwks, &forged, &issuer, "rp", now).err().as_deref(),
        Some("bad signature")
    );
    assert!(verify(&jwks, id, &issuer, "someone-else", now).is_err());
    assert!(verify(&jwks, id, "https://elsewhere.example", "rp", now).is_err());
    s.shutdown().await;
}

#[tokio::test]
async fn rs256_tokens_verify_independently() {
    check("RS256").await;
}

#[tokio::test]
async fn es256_tokens_verify_independently() {
    check("ES256").await;
}

#[tokio::test]
async fn eddsa_tokens_verify_independently() {
    check("EdDSA").await;
}
