//! Discovery (OIDC Discovery 1.0, RFC 8414) and the JWK Set (RFC 7517, RFC 7638).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{CONFIG, TestServer, spawn, spawn_with};

const WELL_KNOWN: [&str; 2] = [
    "/.well-known/openid-configuration",
    "/.well-known/oauth-authorization-server",
];

/// Every advertised URL (`*_endpoint`, `*_uri`) starts with the issuer.
#[track_caller]
fn assert_urls_under(doc: &Value, issuer: &str) {
    let obj = doc.as_object().expect("an object");
    let mut n = 0;
    for (k, v) in obj {
        if k.ends_with("_endpoint") || k.ends_with("_uri") {
            let url = v.as_str().unwrap_or_else(|| panic!("`{k}` is not a string"));
            assert!(
                url.starts_with(&format!("{issuer}/")),
                "`{k}` = {url} is not under the issuer {issuer}"
            );
            n += 1;
        }
    }
    assert!(n >= 4, "too few endpoints advertised: {doc}");
}

/// A GET over a raw connection with the given `Host` (and forwarding headers): returns the
/// status line and the JSON body.
async fn get_with_host(s: &TestServer, path: &str, host: &str) -> (String, Value) {
    let mut stream = tokio::net::TcpStream::connect(s.addr()).await.expect("connect");
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nX-Forwarded-Host: {host}\r\nX-Forwarded-Proto: https\r\nForwarded: host={host};proto=https\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(req.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8(raw).expect("UTF-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
    let status = head.lines().next().unwrap_or("").to_string();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn both_documents_state_the_issuer_and_endpoints_under_it() {
    let s = spawn(CONFIG).await;
    for path in WELL_KNOWN {
        let r = s.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {r:?}");
        assert!(r.header("content-type").starts_with("application/json"));
        let d = &r.json;
        assert_eq!(d["issuer"], s.issuer(), "{path}");
        assert_urls_under(d, s.issuer());
        assert_eq!(d["token_endpoint"], format!("{}/token", s.issuer()));
        assert_eq!(d["jwks_uri"], format!("{}/jwks", s.issuer()));
        assert_eq!(d["introspection_endpoint"], format!("{}/introspect", s.issuer()));
        assert_eq!(d["revocation_endpoint"], format!("{}/revoke", s.issuer()));
        let grants = d["grant_types_supported"].as_array().expect("grant types");
        assert!(grants.contains(&json!("client_credentials")), "{d}");
        let methods = d["token_endpoint_auth_methods_supported"]
            .as_array()
            .expect("auth methods");
        assert!(methods.contains(&json!("client_secret_basic")), "{d}");
        assert!(methods.contains(&json!("client_secret_post")), "{d}");
        let scopes = d["scopes_supported"].as_array().expect("scopes");
        for sc in ["openid", "read", "write"] {
            assert!(scopes.contains(&json!(sc)), "{sc} missing: {d}");
        }
    }
    s.shutdown().await;
}

#[tokio::test]
async fn every_advertised_endpoint_answers_at_the_listener() {
    let s = spawn(CONFIG).await;
    let d = s.get(WELL_KNOWN[0]).await.json;
    let jwks = d["jwks_uri"].as_str().unwrap().replacen(s.issuer(), &s.url(), 1);
    assert_eq!(s.http.get(jwks).send().await.unwrap().status(), StatusCode::OK);
    let token = s.token_basic("basic-client", "basic-secret", &[]).await.token();
    for key in ["token_endpoint", "introspection_endpoint", "revocation_endpoint"] {
        let url = d[key].as_str().unwrap().replacen(s.issuer(), &s.url(), 1);
        let resp = s
            .http
            .post(url)
            .header("authorization", crate::common::basic("api", "api-secret"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(crate::common::form(&[("token", &token)]))
            .send()
            .await
            .unwrap();
        assert_ne!(resp.status(), StatusCode::NOT_FOUND, "{key}");
        assert!(!resp.status().is_server_error(), "{key}");
    }
    s.shutdown().await;
}

#[tokio::test]
async fn a_path_issuer_is_used_exactly_as_configured() {
    let issuer = "https://idp.test/realms/dev";
    let s = spawn_with(CONFIG, |o| o.issuer = Some(issuer.into())).await;
    assert_eq!(s.issuer(), issuer);
    for path in [
        "/realms/dev/.well-known/openid-configuration",
        "/realms/dev/.well-known/oauth-authorization-server",
        // RFC 8414 §3.1: the well-known segment inserted before the issuer's path.
        "/.well-known/oauth-authorization-server/realms/dev",
    ] {
        let r = s.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {r:?}");
        assert_eq!(r.json["issuer"], issuer, "{path}");
        assert_urls_under(&r.json, issuer);
        assert_eq!(r.json["token_endpoint"], "https://idp.test/realms/dev/token");
    }
    // The endpoints live under the path, and tokens carry the issuer verbatim.
    let r = s
        .post_form(
            "/realms/dev/token",
            Some(&crate::common::basic("basic-client", "basic-secret")),
            &[("grant_type", "client_credentials")],
        )
        .await;
    let token = r.token();
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert_eq!(claims["iss"], issuer);
    let r = s
        .post_form(
            "/realms/dev/introspect",
            Some(&crate::common::basic("api", "api-secret")),
            &[("token", &token)],
        )
        .await;
    assert_eq!(r.json["active"], true, "{r:?}");
    assert_eq!(r.json["iss"], issuer);
    assert_eq!(s.get("/realms/dev/jwks").await.status, StatusCode::OK);
    s.shutdown().await;
}

#[tokio::test]
async fn the_host_header_never_changes_the_issuer() {
    let s = spawn(CONFIG).await;
    for path in WELL_KNOWN {
        let (status, doc) = get_with_host(&s, path, "evil.example").await;
        assert!(status.contains(" 200 "), "{path}: {status}");
        assert_eq!(doc["issuer"], s.issuer());
        assert_urls_under(&doc, s.issuer());
        assert!(!doc.to_string().contains("evil.example"), "{doc}");
    }
    // Also with a path issuer and a fixed host.
    let issuer = "https://idp.test/realms/dev";
    let p = spawn_with(CONFIG, |o| o.issuer = Some(issuer.into())).await;
    let (status, doc) = get_with_host(&p, "/realms/dev/.well-known/openid-configuration", "evil.example:8443").await;
    assert!(status.contains(" 200 "), "{status}");
    assert_eq!(doc["issuer"], issuer);
    assert_urls_under(&doc, issuer);
    assert!(!doc.to_string().contains("evil.example"), "{doc}");
    s.shutdown().await;
    p.shutdown().await;
}

/// RFC 7638 §3: SHA-256 over the required members in lexicographic order, no whitespace.
fn thumbprint(k: &Value) -> String {
    let canonical = match k["kty"].as_str().expect("kty") {
        "RSA" => format!(
            r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
            k["e"].as_str().unwrap(),
            k["n"].as_str().unwrap()
        ),
        "EC" => format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            k["crv"].as_str().unwrap(),
            k["x"].as_str().unwrap(),
            k["y"].as_str().unwrap()
        ),
        "OKP" => format!(
            r#"{{"crv":"{}","kty":"OKP","x":"{}"}}"#,
            k["crv"].as_str().unwrap(),
            k["x"].as_str().unwrap()
        ),
        other => panic!("unexpected kty {other}"),
    };
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        canonical.as_bytes(),
    ))
}

/// Fetches /jwks, checks it holds public keys only with RFC 7638 kids, and returns it.
async fn checked_jwks(s: &TestServer) -> Value {
    let r = s.get("/jwks").await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert!(
        r.header("content-type").starts_with("application/jwk-set+json"),
        "{r:?}"
    );
    let keys = r.json["keys"].as_array().expect("keys");
    assert!(!keys.is_empty());
    for k in keys {
        for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
            assert!(k.get(private).is_none(), "private member `{private}` published: {k}");
        }
        assert_eq!(k["kid"].as_str().expect("kid"), thumbprint(k), "{k}");
        if let Some(u) = k.get("use") {
            assert_eq!(u, "sig");
        }
    }
    r.json
}

/// Verifies an access token from `client` against /jwks with jsonwebtoken (checking signature,
/// `iss`, `aud`, `exp`), returning the header algorithm and the claims.
async fn verify_against_jwks(s: &TestServer) -> (jsonwebtoken::Algorithm, Value) {
    let jwks_json = checked_jwks(s).await;
    let set: JwkSet = serde_json::from_value(jwks_json).expect("a JWK Set jsonwebtoken reads");
    let token = s.token_basic("basic-client", "basic-secret", &[]).await.token();
    let header = decode_header(&token).expect("header");
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let kid = header.kid.clone().expect("kid");
    let jwk: &Jwk = set.find(&kid).expect("the token's kid is in /jwks");
    let key = DecodingKey::from_jwk(jwk).expect("decoding key");
    let mut v = Validation::new(header.alg);
    v.set_audience(&["basic-client"]);
    v.set_issuer(&[s.issuer()]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let data = decode::<Value>(&token, &key, &v).expect("the token verifies against /jwks");
    assert_eq!(data.claims["sub"], "basic-client");

    // A wrong audience or issuer fails with the same key.
    let mut wrong = Validation::new(header.alg);
    wrong.set_audience(&["someone-else"]);
    assert!(decode::<Value>(&token, &key, &wrong).is_err());
    let mut wrong = Validation::new(header.alg);
    wrong.set_audience(&["basic-client"]);
    wrong.set_issuer(&["https://elsewhere.example"]);
    assert!(decode::<Value>(&token, &key, &wrong).is_err());
    // A modified payload no longer verifies.
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    let mut claims = data.claims.clone();
    claims["scope"] = json!("admin");
    parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
    assert!(decode::<Value>(&parts.join("."), &key, &v).is_err());
    (header.alg, data.claims)
}

#[tokio::test]
async fn jwks_publishes_public_keys_only_with_thumbprint_kids() {
    let s = spawn(CONFIG).await;
    let jwks = checked_jwks(&s).await;
    let k = &jwks["keys"][0];
    assert_eq!(k["kty"], "RSA");
    assert_eq!(k["alg"], "RS256");
    // 2048-bit modulus.
    assert_eq!(URL_SAFE_NO_PAD.decode(k["n"].as_str().unwrap()).unwrap().len(), 256);
    s.shutdown().await;
}

#[tokio::test]
async fn an_rs256_token_verifies_against_jwks() {
    let s = spawn(CONFIG).await;
    let (alg, _) = verify_against_jwks(&s).await;
    assert_eq!(alg, jsonwebtoken::Algorithm::RS256);
    s.shutdown().await;
}

#[tokio::test]
async fn an_es256_token_verifies_against_jwks() {
    let s = spawn(&format!("[server]\nsigning_alg = \"ES256\"\n{CONFIG}")).await;
    let jwks = checked_jwks(&s).await;
    assert_eq!(jwks["keys"][0]["kty"], "EC");
    assert_eq!(jwks["keys"][0]["crv"], "P-256");
    let (alg, _) = verify_against_jwks(&s).await;
    assert_eq!(alg, jsonwebtoken::Algorithm::ES256);
    s.shutdown().await;
}

#[tokio::test]
async fn an_eddsa_token_verifies_against_jwks() {
    let s = spawn(&format!("[server]\nsigning_alg = \"EdDSA\"\n{CONFIG}")).await;
    let jwks = checked_jwks(&s).await;
    assert_eq!(jwks["keys"][0]["kty"], "OKP");
    assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
    let (alg, _) = verify_against_jwks(&s).await;
    assert_eq!(alg, jsonwebtoken::Algorithm::EdDSA);
    s.shutdown().await;
}

#[tokio::test]
async fn the_signing_key_survives_a_restart_on_the_same_database() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("latchkey.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let opts = || latchkey::ServeOptions {
        bind: "127.0.0.1".parse().unwrap(),
        port: 0,
        db: latchkey::DbLocation::File(dir.path().join("l.db")),
        config: Some(cfg.clone()),
        ..Default::default()
    };
    let http = crate::common::http_client();
    let first = latchkey::start(opts()).await.unwrap();
    // A fresh database's key is made in the background; the library caller waits for it.
    first.provider().keys.ready().await.unwrap();
    let kid1 = first.provider().keys.active().0;
    let jwks1: Value = http
        .get(format!("{}/jwks", first.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    first.shutdown().await;
    let second = latchkey::start(opts()).await.unwrap();
    let jwks2: Value = http
        .get(format!("{}/jwks", second.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(second.provider().keys.active().0, kid1);
    assert_eq!(jwks1, jwks2);
    second.shutdown().await;
}

/// A fresh `:memory:` server makes its RSA key in the background: discovery answers at once,
/// and what needs the key (the JWKS, a token) waits for it instead of failing or serving an
/// empty key set.
#[tokio::test]
async fn discovery_answers_while_the_first_key_is_made_and_what_needs_the_key_waits() {
    for _ in 0..3 {
        let s = spawn_with(CONFIG, |o| o.db = latchkey::DbLocation::Memory).await;
        let (d, j, t) = tokio::join!(
            s.get(WELL_KNOWN[0]),
            s.get("/jwks"),
            s.token_basic("basic-client", "basic-secret", &[])
        );
        assert_eq!(d.status, StatusCode::OK, "{d:?}");
        assert_eq!(
            d.json["id_token_signing_alg_values_supported"],
            json!(["RS256"]),
            "{d:?}"
        );
        assert_eq!(j.status, StatusCode::OK, "{j:?}");
        let keys = j.json["keys"].as_array().expect("keys");
        assert_eq!(keys.len(), 1, "the JWKS is never served empty: {j:?}");
        let token = t.token();
        let kid = decode_header(&token).unwrap().kid.unwrap();
        assert_eq!(keys[0]["kid"], kid.as_str());
        let status = s.get("/admin/api/status").await;
        assert_eq!(status.json["active_kid"], kid.as_str(), "{status:?}");
    }
}
