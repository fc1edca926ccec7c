//! JWT assertions made by independent libraries (PyJWT, panva/jose) against the real server:
//! `private_key_jwt` with RS256 and ES256, `client_secret_jwt` with HS256 at the token,
//! introspection and revocation endpoints, with `aud` as a string and as an array, and the JWT
//! bearer grant (RFC 7523). Each library signs with its own code from the same PKCS#8 keys;
//! Latchkey must accept every assertion and refuse a replayed one and an expired one.
//!
//! Runs with the libraries `scripts/conformance.sh` installs (`#[ignore]`d otherwise).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use latchkey::keys::SigningKey;
use latchkey::model::SigningAlg;
use latchkey::{DbLocation, ServeOptions};
use serde_json::{Map, Value, json};

const TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const HS_SECRET: &str = "a-long-shared-secret-for-hs256-0123456789";
const IDP: &str = "https://idp.conformance.test";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A key pair: PKCS#8 PEM for the libraries, the public JWK for Latchkey.
fn key(alg: SigningAlg, kid: &str) -> (String, Value) {
    let stored = SigningKey::generate(alg, 0).expect("key");
    let mut jwk: Map<String, Value> = serde_json::from_str(&stored.public_jwk).expect("jwk");
    jwk.insert("kid".into(), json!(kid));
    (latchkey::keys::import::pem(&stored.private_der), Value::Object(jwk))
}

/// Runs a signer (`node conformance/node/assertion.mjs` or PyJWT's `assertion.py`).
fn sign_with(library: &str, cases: &[Value]) -> (String, Vec<String>) {
    let (program, script) = match library {
        "jose" => (PathBuf::from("node"), root().join("conformance/node/assertion.mjs")),
        _ => (super::python(), root().join("conformance/python/assertion.py")),
    };
    let mut child = Command::new(&program)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let input = serde_json::to_vec(&json!({ "cases": cases })).expect("json");
    child.stdin.take().expect("stdin").write_all(&input).expect("write");
    let out = child.wait_with_output().expect("run");
    assert!(
        out.status.success(),
        "{library}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json output");
    let jwts = v["assertions"]
        .as_array()
        .expect("assertions")
        .iter()
        .map(|a| a["jwt"].as_str().expect("jwt").to_string())
        .collect();
    (
        format!(
            "{} {}",
            v["library"].as_str().unwrap_or(library),
            v["version"].as_str().unwrap_or("?")
        ),
        jwts,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node.js and Python with the libraries: run scripts/conformance.sh"]
async fn assertions_signed_by_pyjwt_and_jose_are_accepted() {
    let (rsa_pem, rsa_jwk) = key(SigningAlg::RS256, "rsa-1");
    let (ec_pem, ec_jwk) = key(SigningAlg::ES256, "ec-1");
    let (idp_pem, idp_jwk) = key(SigningAlg::ES256, "idp-1");
    let config = toml::to_string(&json!({
        "scopes": [{"name": "read"}],
        "clients": [
            {"client_id": "rsa-client", "token_endpoint_auth_method": "private_key_jwt", "token_endpoint_auth_signing_alg": "RS256",
             "jwks": {"keys": [rsa_jwk]}, "grant_types": ["client_credentials", JWT_BEARER], "scopes": ["read"]},
            {"client_id": "ec-client", "token_endpoint_auth_method": "private_key_jwt",
             "jwks": {"keys": [ec_jwk]}, "grant_types": ["client_credentials"], "scopes": ["read"]},
            {"client_id": "hs-client", "client_secret": HS_SECRET, "token_endpoint_auth_method": "client_secret_jwt",
             "grant_types": ["client_credentials"], "scopes": ["read"]},
        ],
        "trusted_issuers": [{"issuer": IDP, "jwks": {"keys": [idp_jwk]}}],
    }))
    .expect("toml");
    let dir = tempfile::tempdir().expect("dir");
    let cfg = dir.path().join("latchkey.toml");
    std::fs::write(&cfg, config).expect("config");
    let server = latchkey::start(ServeOptions {
        bind: "127.0.0.1".parse().expect("loopback"),
        port: 0,
        db: DbLocation::File(dir.path().join("l.db")),
        config: Some(cfg),
        ..Default::default()
    })
    .await
    .expect("server");
    let issuer = server.issuer().trim_end_matches('/').to_string();
    let http = reqwest::Client::new();
    let post = |path: &str, form: Vec<(&str, String)>| {
        let req = http.post(format!("{}{path}", server.url())).form(&form);
        async move {
            let r = req.send().await.expect("request");
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let now = latchkey::Clock::system().real_now();
    for library in ["PyJWT", "jose"] {
        let claims = |client: &str, aud: Value, n: usize| {
            json!({"iss": client, "sub": client, "aud": aud, "iat": now, "exp": now + 120,
                   "jti": format!("{library}-{client}-{n}")})
        };
        let token = format!("{issuer}/token");
        let cases = vec![
            json!({"id": "rsa", "alg": "RS256", "key": rsa_pem, "kid": "rsa-1", "claims": claims("rsa-client", json!(token), 1)}),
            json!({"id": "ec", "alg": "ES256", "key": ec_pem, "kid": "ec-1", "claims": claims("ec-client", json!([issuer.clone()]), 1)}),
            json!({"id": "hs", "alg": "HS256", "key": HS_SECRET, "claims": claims("hs-client", json!([token]), 1)}),
            json!({"id": "intro", "alg": "RS256", "key": rsa_pem, "kid": "rsa-1",
                   "claims": claims("rsa-client", json!(format!("{issuer}/introspect")), 2)}),
            json!({"id": "revoke", "alg": "ES256", "key": ec_pem, "claims": claims("ec-client", json!(format!("{issuer}/revoke")), 2)}),
            json!({"id": "bearer", "alg": "ES256", "key": idp_pem, "kid": "idp-1",
                   "claims": {"iss": IDP, "sub": "alice", "aud": token, "exp": now + 300, "jti": format!("{library}-bearer")}}),
            json!({"id": "bearer-auth", "alg": "RS256", "key": rsa_pem, "kid": "rsa-1", "claims": claims("rsa-client", json!(token), 3)}),
            json!({"id": "expired", "alg": "RS256", "key": rsa_pem, "kid": "rsa-1",
                   "claims": {"iss": "rsa-client", "sub": "rsa-client", "aud": token, "iat": now - 900, "exp": now - 600, "jti": format!("{library}-old")}}),
        ];
        let (name, jwts) = sign_with(library, &cases);
        let [rsa, ec, hs, intro, revoke, bearer, bearer_auth, expired] = jwts.as_slice() else {
            panic!("{name}: {} assertions", jwts.len());
        };
        let cc = |a: &str| {
            vec![
                ("grant_type", "client_credentials".to_string()),
                ("client_assertion_type", TYPE.to_string()),
                ("client_assertion", a.to_string()),
            ]
        };
        let mut issued = Vec::new();
        for (what, a) in [("RS256", rsa), ("ES256", ec), ("HS256", hs)] {
            let (st, body) = post("/token", cc(a)).await;
            assert_eq!(st, 200, "{name} {what}: {body}");
            issued.push(body["access_token"].as_str().expect("token").to_string());
        }
        let (st, body) = post("/token", cc(rsa)).await;
        assert_eq!(
            (st, body["error"].as_str()),
            (401, Some("invalid_client")),
            "{name} replay: {body}"
        );
        let (st, body) = post("/token", cc(expired)).await;
        assert_eq!(
            (st, body["error"].as_str()),
            (401, Some("invalid_client")),
            "{name} expired: {body}"
        );
        let (st, body) = post(
            "/introspect",
            vec![
                ("token", issued[0].clone()),
                ("client_assertion_type", TYPE.to_string()),
                ("client_assertion", intro.clone()),
            ],
        )
        .await;
        assert_eq!(
            (st, &body["active"]),
            (200, &json!(true)),
            "{name} introspection: {body}"
        );
        let (st, body) = post(
            "/revoke",
            vec![
                ("token", issued[1].clone()),
                ("client_assertion_type", TYPE.to_string()),
                ("client_assertion", revoke.clone()),
            ],
        )
        .await;
        assert_eq!(st, 200, "{name} revocation: {body}");
        let mut form = cc(bearer_auth);
        form[0].1 = JWT_BEARER.to_string();
        form.push(("assertion", bearer.clone()));
        let (st, body) = post("/token", form).await;
        assert_eq!(st, 200, "{name} jwt-bearer: {body}");
        eprintln!(
            "{name}: RS256, ES256, HS256 client assertions, introspection, revocation and jwt-bearer accepted; replay and expiry refused"
        );
    }
    server.shutdown().await;
}
