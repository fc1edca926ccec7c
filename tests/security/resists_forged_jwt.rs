//! Forged JWTs (already resisted; kept from regressing). Latchkey recognises a token only if it
//! is byte for byte one it issued (found by hash), and its token inspector verifies signatures
//! only with published keys and the algorithm of the key.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::*;
use crate::web_attack::*;

/// Forged variants of a real token: same claims (or a changed `sub`), attacker-chosen header.
fn forgeries(real: &str, jwks: &Value) -> Vec<(&'static str, String)> {
    let header = jwt_header(real);
    let kid = header["kid"].as_str().expect("kid").to_string();
    let mut payload = jwt_claims(real);
    payload["sub"] = json!("admin");
    let public_jwk = jwks["keys"]
        .as_array()
        .and_then(|ks| ks.iter().find(|k| k["kid"] == kid.as_str()))
        .expect("the signing key is published")
        .clone();
    let n = public_jwk["n"].as_str().unwrap_or("").to_string();
    let real_sig = real.rsplit('.').next().expect("signature");
    let tampered = format!(
        "{}.{}.{}",
        real.split('.').next().expect("header"),
        b64(payload.to_string().as_bytes()),
        real_sig
    );
    vec![
        (
            "alg none",
            jws(&json!({"alg": "none", "typ": "at+jwt", "kid": kid}), &payload, b""),
        ),
        ("alg nOnE", jws(&json!({"alg": "nOnE", "typ": "at+jwt"}), &payload, b"")),
        (
            "alg confusion: HS256 keyed with the public JWK",
            hs256(
                &json!({"alg": "HS256", "typ": "at+jwt", "kid": kid}),
                &payload,
                public_jwk.to_string().as_bytes(),
            ),
        ),
        (
            "alg confusion: HS256 keyed with the modulus",
            hs256(
                &json!({"alg": "HS256", "typ": "at+jwt", "kid": kid}),
                &payload,
                n.as_bytes(),
            ),
        ),
        ("embedded jwk", es256_embedded_jwk(&payload, &json!({}))),
        (
            "embedded jwk with the real kid",
            es256_embedded_jwk(&payload, &json!({"kid": kid})),
        ),
        (
            "kid path traversal to an empty file",
            hs256(
                &json!({"alg": "HS256", "kid": "../../../../../../../dev/null"}),
                &payload,
                b"",
            ),
        ),
        (
            "kid SQL injection",
            hs256(
                &json!({"alg": "HS256", "kid": "x' UNION SELECT 'secret' --"}),
                &payload,
                b"secret",
            ),
        ),
        ("tampered payload, original signature", tampered),
    ]
}

/// Advisory class: forged JWTs: `alg: none`, RS256→HS256 algorithm confusion keyed with the
/// public key, an embedded `jwk` header trusted as the verification key, `kid` path traversal
/// and SQL injection, a tampered payload (RFC 8725 §2.1, §3.1 "Perform Algorithm
/// Verification", §3.10 "Do Not Trust Received Claims"; RFC 9700 has no section on JWT
/// verification). Each forgery is presented where Latchkey accepts a token
/// (`/userinfo`, `/introspect`, `/end_session`'s `id_token_hint`, the admin token inspector):
/// 401 `invalid_token`, `active: false`, an error page, and "not verified".
#[tokio::test]
async fn forged_jwts_are_refused_everywhere_a_token_is_accepted() {
    let srv = spawn_default().await;
    let tokens = web_tokens(&srv).await;
    let access = tokens["access_token"].as_str().expect("access token");
    let id_token = tokens["id_token"].as_str().expect("id token");
    let jwks: Value = srv
        .http
        .get(srv.at("/jwks"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    for (source, real) in [("access token", access), ("id token", id_token)] {
        for (name, forged) in forgeries(real, &jwks) {
            let what = format!("{name} (from the {source})");
            let r = srv
                .http
                .get(srv.at("/userinfo"))
                .header("authorization", format!("Bearer {forged}"))
                .send()
                .await
                .expect("userinfo");
            let status = r.status().as_u16();
            let challenge = r
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            assert_eq!(status, 401, "{what}");
            assert!(challenge.contains("error=\"invalid_token\""), "{what}: {challenge}");

            assert!(!srv.active(&forged).await, "{what} introspects active");

            let mut b = srv.browser();
            let page = b
                .get(&format!("/end_session?{}", form(&[("id_token_hint", &forged)])))
                .await;
            assert_eq!(page.status.as_u16(), 400, "{what}: {page:?}");
            assert!(page.body.contains("id_token_hint"), "{what}: {}", page.body);

            let (s, d) = admin(&srv, Method::POST, "/tokens/inspect", Some(json!({"token": forged}))).await;
            assert_eq!(s, 200, "{what}: {d}");
            assert!(d["record"].is_null(), "{what}: {d}");
            assert_eq!(d["signature"]["verified"], false, "{what}: {d}");
        }
    }
    // The real tokens still work, so the refusals above are about the forgery.
    let r = srv
        .http
        .get(srv.at("/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .expect("userinfo");
    assert_eq!(r.status(), 200);
    let (_, d) = admin(&srv, Method::POST, "/tokens/inspect", Some(json!({"token": access}))).await;
    assert_eq!(d["signature"]["verified"], true, "{d}");
}
