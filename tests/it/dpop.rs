//! DPoP (RFC 9449) against the token endpoint, userinfo and a protected resource, with proofs
//! built independently of the server: keys generated and signatures made by `ring` (the server
//! verifies with jsonwebtoken on aws-lc-rs), JWS and JWK thumbprints (RFC 7638) written out by
//! hand here.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use reqwest::StatusCode;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};

use crate::assertions::{real_now, toml_config};
use crate::common::{Reply, TestServer, basic, reply, spawn};

/// A client's DPoP key pair.
enum Pair {
    Es256(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

struct DpopKey {
    pair: Pair,
    jwk: Value,
    rng: SystemRandom,
}

impl DpopKey {
    fn es256() -> DpopKey {
        let rng = SystemRandom::new();
        let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap();
        // Uncompressed point: 0x04 || x || y (SEC 1 §2.3.3).
        let point = pair.public_key().as_ref().to_vec();
        let jwk = json!({"kty": "EC", "crv": "P-256", "x": B64.encode(&point[1..33]), "y": B64.encode(&point[33..65])});
        DpopKey {
            pair: Pair::Es256(pair),
            jwk,
            rng,
        }
    }

    fn ed25519() -> DpopKey {
        let rng = SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": B64.encode(pair.public_key().as_ref())});
        DpopKey {
            pair: Pair::Ed25519(pair),
            jwk,
            rng,
        }
    }

    fn alg(&self) -> &'static str {
        match self.pair {
            Pair::Es256(_) => "ES256",
            Pair::Ed25519(_) => "EdDSA",
        }
    }

    /// RFC 7638 §3: the required members in lexicographic order, no white space, SHA-256.
    fn jkt(&self) -> String {
        let j = &self.jwk;
        let canonical = match self.pair {
            Pair::Es256(_) => format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                j["x"].as_str().unwrap(),
                j["y"].as_str().unwrap()
            ),
            Pair::Ed25519(_) => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, j["x"].as_str().unwrap()),
        };
        B64.encode(ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes()).as_ref())
    }

    /// A compact JWS of `header` and `claims` signed with this key.
    fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!("{}.{}", B64.encode(header.to_string()), B64.encode(claims.to_string()));
        let sig = match &self.pair {
            Pair::Es256(k) => k.sign(&self.rng, input.as_bytes()).unwrap().as_ref().to_vec(),
            Pair::Ed25519(k) => k.sign(input.as_bytes()).as_ref().to_vec(),
        };
        format!("{input}.{}", B64.encode(sig))
    }

    fn header(&self) -> Value {
        json!({"typ": "dpop+jwt", "alg": self.alg(), "jwk": self.jwk})
    }

    /// A proof for `htm` `htu`, stamped with real time, with `extra` claims merged in.
    fn proof_with(&self, htm: &str, htu: &str, extra: Value) -> String {
        let mut claims = json!({"jti": latchkey::ids::token_id(), "htm": htm, "htu": htu, "iat": real_now()});
        if let (Some(c), Some(e)) = (claims.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                c.insert(k.clone(), v.clone());
            }
        }
        self.sign(&self.header(), &claims)
    }

    fn proof(&self, htm: &str, htu: &str) -> String {
        self.proof_with(htm, htu, json!({}))
    }
}

/// `ath` (RFC 9449 §4.2).
fn ath(token: &str) -> String {
    B64.encode(ring::digest::digest(&ring::digest::SHA256, token.as_bytes()).as_ref())
}

fn payload(jwt: &str) -> Value {
    serde_json::from_slice(&B64.decode(jwt.split('.').nth(1).unwrap()).unwrap()).unwrap()
}

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const CB: &str = "http://localhost:3000/cb";

fn config(server: Value) -> String {
    toml_config(json!({
        "server": server,
        "scopes": [{"name": "read"}],
        "clients": [
            {"client_id": "api", "client_secret": "api-secret", "grant_types": ["client_credentials"], "scopes": ["read"]},
            {"client_id": "svc", "client_secret": "svc-secret", "grant_types": ["client_credentials"],
             "scopes": ["read"], "audiences": ["books-api"]},
            {"client_id": "svc-opaque", "client_secret": "svc-secret", "grant_types": ["client_credentials"],
             "scopes": ["read"], "access_token_format": "opaque"},
            {"client_id": "dpop-only", "client_secret": "svc-secret", "grant_types": ["client_credentials"],
             "scopes": ["read"], "dpop_bound_access_tokens": true},
            {"client_id": "app", "token_endpoint_auth_method": "none", "redirect_uris": [CB],
             "grant_types": ["authorization_code", "refresh_token"], "scopes": ["openid", "profile", "read"],
             "auto_login": true, "audiences": ["books-api"]},
            {"client_id": "web", "client_secret": "web-secret", "redirect_uris": [CB],
             "grant_types": ["authorization_code", "refresh_token"], "scopes": ["openid", "read"], "auto_login": true},
        ],
        "users": [{"username": "alice", "password": "alice-password", "auto_login": true, "claims": {"name": "Alice"}}],
        "resources": [
            {"name": "books", "audience": "books-api", "required_scopes": ["read"]},
            {"name": "books-jose", "audience": "books-api", "required_scopes": ["read"], "profile": "jose-node-5"},
        ],
    }))
}

async fn server() -> TestServer {
    spawn(&config(json!({}))).await
}

fn url(s: &TestServer, path: &str) -> String {
    format!("{}{path}", s.issuer().trim_end_matches('/'))
}

/// A client-credentials request for `client` with `proofs` as DPoP headers.
async fn cc(s: &TestServer, client: &str, proofs: &[&str]) -> Reply {
    let mut req = s
        .http
        .post(s.at("/token"))
        .header("authorization", basic(client, "svc-secret"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials");
    for p in proofs {
        req = req.header("dpop", *p);
    }
    reply(req.send().await.unwrap()).await
}

async fn token_form(s: &TestServer, auth: Option<&str>, pairs: &[(&str, &str)], proof: Option<&str>) -> Reply {
    let mut req = s
        .http
        .post(s.at("/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(crate::common::form(pairs));
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    if let Some(p) = proof {
        req = req.header("dpop", p);
    }
    reply(req.send().await.unwrap()).await
}

/// GET `path` with `Authorization: {scheme} {token}` and an optional proof.
async fn call(s: &TestServer, path: &str, scheme: &str, token: &str, proof: Option<&str>) -> Reply {
    let mut req = s
        .http
        .get(s.at(path))
        .header("authorization", format!("{scheme} {token}"));
    if let Some(p) = proof {
        req = req.header("dpop", p);
    }
    reply(req.send().await.unwrap()).await
}

#[track_caller]
fn assert_proof_refused(r: &Reply, check: &str) {
    r.assert_error(400, "invalid_dpop_proof");
    let d = r.json["error_description"].as_str().unwrap();
    assert!(
        d.contains(&format!("DPoP proof {check}:")),
        "expected the {check} check: {d}"
    );
}

/// The code of an authorization request by `client` (auto_login signs alice in).
async fn code(s: &TestServer, client: &str, extra: &[(&str, &str)]) -> Result<String, String> {
    let mut q = vec![
        ("client_id", client),
        ("response_type", "code"),
        ("redirect_uri", CB),
        ("scope", "openid read"),
        ("state", "st"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    q.extend_from_slice(extra);
    let r = s.http.get(s.at("/authorize")).query(&q).send().await.unwrap();
    let mut location = r.headers().get("location").map(|v| v.to_str().unwrap().to_string());
    // Hands-free login answers with a redirect to the login step first.
    for _ in 0..5 {
        let Some(loc) = location.clone() else { break };
        let u = url::Url::parse(&loc).unwrap_or_else(|_| url::Url::parse(&s.at(&loc)).unwrap());
        if loc.starts_with(CB) {
            let pairs: Vec<(String, String)> = u.query_pairs().into_owned().collect();
            if let Some((_, c)) = pairs.iter().find(|(k, _)| k == "code") {
                return Ok(c.clone());
            }
            return Err(pairs
                .iter()
                .find(|(k, _)| k == "error")
                .map(|(_, e)| e.clone())
                .unwrap_or_default());
        }
        let next = s.http.get(u.as_str()).send().await.unwrap();
        location = next.headers().get("location").map(|v| v.to_str().unwrap().to_string());
    }
    Err(format!("no code (last location {location:?})"))
}

#[tokio::test]
async fn a_proof_binds_the_access_token_and_introspection_shows_cnf_jkt() {
    let s = server().await;
    let d = s.get("/.well-known/openid-configuration").await.json;
    let algs = d["dpop_signing_alg_values_supported"].as_array().unwrap();
    for a in ["ES256", "EdDSA", "RS256", "PS256"] {
        assert!(algs.contains(&json!(a)), "{algs:?}");
    }
    assert!(!algs.contains(&json!("HS256")) && !algs.contains(&json!("none")));
    for key in [DpopKey::es256(), DpopKey::ed25519()] {
        let r = cc(&s, "svc", &[&key.proof("POST", &url(&s, "/token"))]).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.json["token_type"], "DPoP");
        let at = r.json["access_token"].as_str().unwrap();
        assert_eq!(
            payload(at)["cnf"]["jkt"],
            key.jkt(),
            "cnf.jkt is the RFC 7638 thumbprint"
        );
        let i = s.introspect(at).await;
        assert_eq!(i.json["active"], true);
        assert_eq!(i.json["cnf"]["jkt"], key.jkt());
        assert_eq!(i.json["token_type"], "DPoP");
    }
    // Opaque tokens are bound too: the binding shows in introspection (RFC 9449 §6.2).
    let key = DpopKey::es256();
    let r = cc(&s, "svc-opaque", &[&key.proof("POST", &url(&s, "/token"))]).await;
    assert_eq!(r.json["token_type"], "DPoP");
    let i = s.introspect(r.json["access_token"].as_str().unwrap()).await;
    assert_eq!(i.json["cnf"]["jkt"], key.jkt());
    // Without a proof: a Bearer token, no cnf.
    let r = cc(&s, "svc", &[]).await;
    assert_eq!(r.json["token_type"], "Bearer");
    assert!(payload(r.json["access_token"].as_str().unwrap()).get("cnf").is_none());
    // htu compared after normalisation: host case, query and fragment (RFC 9449 §4.3).
    let issuer = url::Url::parse(s.issuer()).unwrap();
    let shouting = format!(
        "HTTP://{}:{}/token?x=1#frag",
        issuer.host_str().unwrap().to_uppercase(),
        issuer.port_or_known_default().unwrap()
    );
    let r = cc(&s, "svc", &[&key.proof("POST", &shouting)]).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    // A client that must use DPoP is refused without a proof.
    assert_proof_refused_plain(&cc(&s, "dpop-only", &[]).await, "dpop_bound_access_tokens");
    let r = cc(&s, "dpop-only", &[&key.proof("POST", &url(&s, "/token"))]).await;
    assert_eq!(r.json["token_type"], "DPoP", "{r:?}");
}

#[track_caller]
fn assert_proof_refused_plain(r: &Reply, needle: &str) {
    r.assert_error(400, "invalid_dpop_proof");
    assert!(r.json["error_description"].as_str().unwrap().contains(needle), "{r:?}");
}

#[tokio::test]
async fn every_proof_error_is_invalid_dpop_proof_naming_its_check_and_logged() {
    let s = server().await;
    let key = DpopKey::es256();
    let other = DpopKey::es256();
    let htu = url(&s, "/token");
    let now = real_now();
    let claims = |extra: Value| {
        let mut c = json!({"jti": latchkey::ids::token_id(), "htm": "POST", "htu": htu, "iat": now});
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let mut private = key.jwk.clone();
    private["d"] = json!(B64.encode([7u8; 32]));
    let hs256 = {
        let input = format!(
            "{}.{}",
            B64.encode(json!({"typ": "dpop+jwt", "alg": "HS256", "jwk": key.jwk}).to_string()),
            B64.encode(claims(json!({})).to_string())
        );
        let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"secret");
        format!(
            "{input}.{}",
            B64.encode(ring::hmac::sign(&k, input.as_bytes()).as_ref())
        )
    };
    let none = format!(
        "{}.{}.",
        B64.encode(json!({"typ": "dpop+jwt", "alg": "none", "jwk": key.jwk}).to_string()),
        B64.encode(claims(json!({})).to_string())
    );
    // Signed by `other`, presenting `key`'s public key.
    let forged = other.sign(&key.header(), &claims(json!({})));
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "wrong typ",
            key.sign(
                &json!({"typ": "JWT", "alg": "ES256", "jwk": key.jwk}),
                &claims(json!({})),
            ),
            "typ",
        ),
        (
            "no typ",
            key.sign(&json!({"alg": "ES256", "jwk": key.jwk}), &claims(json!({}))),
            "typ",
        ),
        ("alg none", none, "header"),
        ("alg HS256", hs256, "alg"),
        (
            "private key in jwk",
            key.sign(
                &json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": private}),
                &claims(json!({})),
            ),
            "jwk",
        ),
        (
            "no jwk",
            key.sign(&json!({"typ": "dpop+jwt", "alg": "ES256"}), &claims(json!({}))),
            "jwk",
        ),
        ("bad signature", forged, "signature"),
        ("htm", key.sign(&key.header(), &claims(json!({"htm": "GET"}))), "htm"),
        (
            "htu another endpoint",
            key.sign(&key.header(), &claims(json!({"htu": url(&s, "/userinfo")}))),
            "htu",
        ),
        (
            "htu behind a proxy",
            key.sign(&key.header(), &claims(json!({"htu": "https://auth.example.com/token"}))),
            "htu",
        ),
        (
            "iat too old",
            key.sign(&key.header(), &claims(json!({"iat": now - 3_600}))),
            "iat",
        ),
        (
            "iat in the future",
            key.sign(&key.header(), &claims(json!({"iat": now + 3_600}))),
            "iat",
        ),
        (
            "no jti",
            key.sign(&key.header(), &json!({"htm": "POST", "htu": htu, "iat": now})),
            "jti",
        ),
        ("not a JWT", "not-a-jwt".to_string(), "header"),
    ];
    for (name, proof, check) in &cases {
        let r = cc(&s, "svc", &[proof]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name}: {r:?}");
        assert_proof_refused(&r, check);
    }
    let behind_proxy = cc(&s, "svc", &[&cases[9].1]).await;
    assert!(
        behind_proxy.json["error_description"]
            .as_str()
            .unwrap()
            .contains("--issuer"),
        "a proxy's htu is explained: {behind_proxy:?}"
    );
    // Two DPoP headers (RFC 9449 §4.3 item 1).
    let r = cc(&s, "svc", &[&key.proof("POST", &htu), &key.proof("POST", &htu)]).await;
    assert_proof_refused_plain(&r, "exactly one proof");
    // A replayed proof: accepted once, refused after.
    let once = key.proof("POST", &htu);
    assert_eq!(cc(&s, "svc", &[&once]).await.status, StatusCode::OK);
    assert_proof_refused(&cc(&s, "svc", &[&once]).await, "jti");
    // The request log shows the proof decoded with every check.
    let log = s.get("/admin/api/requests?limit=3").await.json;
    let entry = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "/token")
        .cloned()
        .unwrap();
    let d = &entry["dpop"];
    assert_eq!(d["accepted"], false, "{entry}");
    assert_eq!(d["error"], "invalid_dpop_proof");
    assert_eq!(d["jkt"], key.jkt());
    assert_eq!(d["header"]["typ"], "dpop+jwt");
    assert_eq!(d["claims"]["htu"], htu);
    assert_eq!(d["time_basis"], "real");
    let checks: Vec<(&str, &str)> = d["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["check"].as_str().unwrap(), c["result"].as_str().unwrap()))
        .collect();
    assert_eq!(
        checks,
        vec![
            ("header", "passed"),
            ("typ", "passed"),
            ("alg", "passed"),
            ("jwk", "passed"),
            ("signature", "passed"),
            ("htm", "passed"),
            ("htu", "passed"),
            ("iat", "passed"),
            ("jti", "failed"),
            ("nonce", "skipped"),
            ("ath", "skipped"),
            ("jkt", "skipped"),
        ]
    );
}

#[tokio::test]
async fn with_use_dpop_nonce_a_proof_without_the_nonce_is_challenged_and_the_retry_succeeds() {
    let s = spawn(&config(json!({"use_dpop_nonce": true}))).await;
    let key = DpopKey::es256();
    let htu = url(&s, "/token");
    let r = cc(&s, "svc", &[&key.proof("POST", &htu)]).await;
    r.assert_error(400, "use_dpop_nonce");
    let nonce = r.header("dpop-nonce").to_string();
    assert!(!nonce.is_empty(), "{r:?}");
    let stale = cc(&s, "svc", &[&key.proof_with("POST", &htu, json!({"nonce": "made-up"}))]).await;
    stale.assert_error(400, "use_dpop_nonce");
    assert_eq!(stale.header("dpop-nonce"), nonce);
    let ok = cc(&s, "svc", &[&key.proof_with("POST", &htu, json!({"nonce": nonce}))]).await;
    assert_eq!(ok.status, StatusCode::OK, "{ok:?}");
    assert_eq!(ok.json["token_type"], "DPoP");
    assert_eq!(
        ok.header("dpop-nonce"),
        nonce,
        "the current nonce is sent with every response"
    );
    // A proof failing another check too is invalid_dpop_proof, still with a nonce.
    let bad = cc(&s, "svc", &[&key.proof_with("GET", &htu, json!({}))]).await;
    bad.assert_error(400, "invalid_dpop_proof");
    assert_eq!(bad.header("dpop-nonce"), nonce);
    // At a resource the nonce error is a 401 with a DPoP challenge (RFC 9449 §9).
    let at = ok.json["access_token"].as_str().unwrap().to_string();
    let rurl = url(&s, "/resources/books/shelf");
    let r = call(
        &s,
        "/resources/books/shelf",
        "DPoP",
        &at,
        Some(&key.proof_with("GET", &rurl, json!({"ath": ath(&at)}))),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
    let challenge = r.header("www-authenticate");
    assert!(
        challenge.starts_with("DPoP ") && challenge.contains("error=\"use_dpop_nonce\""),
        "{challenge}"
    );
    assert_eq!(r.header("dpop-nonce"), nonce);
    let r = call(
        &s,
        "/resources/books/shelf",
        "DPoP",
        &at,
        Some(&key.proof_with("GET", &rurl, json!({"ath": ath(&at), "nonce": nonce}))),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
}

#[tokio::test]
async fn dpop_jkt_binds_the_code_and_a_public_clients_refresh_token_is_bound_to_the_key() {
    let s = server().await;
    let key = DpopKey::es256();
    let other = DpopKey::ed25519();
    let htu = url(&s, "/token");
    let jkt = key.jkt();
    // A malformed dpop_jkt is an error sent back to the client.
    assert_eq!(
        code(&s, "app", &[("dpop_jkt", "not-a-thumbprint")]).await,
        Err("invalid_request".into())
    );
    let c = code(&s, "app", &[("dpop_jkt", &jkt)]).await.unwrap();
    let pairs = [
        ("grant_type", "authorization_code"),
        ("code", c.as_str()),
        ("redirect_uri", CB),
        ("client_id", "app"),
        ("code_verifier", VERIFIER),
    ];
    // No proof: invalid_dpop_proof; a proof from another key: invalid_grant. Neither spends the code.
    assert_proof_refused_plain(&token_form(&s, None, &pairs, None).await, "dpop_jkt");
    token_form(&s, None, &pairs, Some(&other.proof("POST", &htu)))
        .await
        .assert_error(400, "invalid_grant");
    let r = token_form(&s, None, &pairs, Some(&key.proof("POST", &htu))).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.json["token_type"], "DPoP");
    let at = r.json["access_token"].as_str().unwrap().to_string();
    let rt = r.json["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(payload(&at)["cnf"]["jkt"], jkt);
    // The public client's refresh token is bound (RFC 9449 §5).
    assert_eq!(s.introspect(&rt).await.json["cnf"]["jkt"], jkt);
    let refresh = |t: &str| {
        vec![
            ("grant_type", "refresh_token".to_string()),
            ("refresh_token", t.to_string()),
            ("client_id", "app".to_string()),
        ]
    };
    let rp = refresh(&rt);
    let rp: Vec<(&str, &str)> = rp.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_proof_refused_plain(&token_form(&s, None, &rp, None).await, "refresh token");
    token_form(&s, None, &rp, Some(&other.proof("POST", &htu)))
        .await
        .assert_error(400, "invalid_grant");
    let r = token_form(&s, None, &rp, Some(&key.proof("POST", &htu))).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.json["token_type"], "DPoP");
    let rotated = r.json["refresh_token"].as_str().unwrap();
    assert_eq!(
        s.introspect(rotated).await.json["cnf"]["jkt"],
        jkt,
        "rotation keeps the binding"
    );

    // Userinfo (RFC 9449 §7).
    let ui = url(&s, "/userinfo");
    let proof = |htm: &str, u: &str, token: &str| key.proof_with(htm, u, json!({"ath": ath(token)}));
    let ok = call(&s, "/userinfo", "DPoP", &at, Some(&proof("GET", &ui, &at))).await;
    assert_eq!(ok.status, StatusCode::OK, "{ok:?}");
    assert!(ok.json["sub"].is_string(), "{ok:?}");
    let as_bearer = call(&s, "/userinfo", "Bearer", &at, None).await;
    assert_eq!(as_bearer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(as_bearer.error(), "invalid_token");
    let challenge = as_bearer.header("www-authenticate");
    assert!(
        challenge.starts_with("DPoP ") && challenge.contains("algs=\"") && challenge.contains("ES256"),
        "{challenge}"
    );
    let no_proof = call(&s, "/userinfo", "DPoP", &at, None).await;
    assert_eq!(
        (no_proof.status, no_proof.error()),
        (StatusCode::UNAUTHORIZED, "invalid_dpop_proof")
    );
    let wrong_ath = call(
        &s,
        "/userinfo",
        "DPoP",
        &at,
        Some(&key.proof_with("GET", &ui, json!({"ath": ath("another token")}))),
    )
    .await;
    assert_eq!(
        (wrong_ath.status, wrong_ath.error()),
        (StatusCode::UNAUTHORIZED, "invalid_dpop_proof")
    );
    assert!(wrong_ath.json["error_description"].as_str().unwrap().contains("ath"));
    assert!(
        wrong_ath
            .header("www-authenticate")
            .contains("error=\"invalid_dpop_proof\"")
    );
    let no_ath = call(&s, "/userinfo", "DPoP", &at, Some(&key.proof("GET", &ui))).await;
    assert_eq!(no_ath.error(), "invalid_dpop_proof");
    let other_key = call(
        &s,
        "/userinfo",
        "DPoP",
        &at,
        Some(&other.proof_with("GET", &ui, json!({"ath": ath(&at)}))),
    )
    .await;
    assert_eq!(other_key.error(), "invalid_dpop_proof");
    assert!(
        other_key.json["error_description"].as_str().unwrap().contains("jkt"),
        "{other_key:?}"
    );
    // An unbound token sent with the DPoP scheme is refused; as Bearer it works.
    let plain = code(&s, "web", &[]).await.unwrap();
    let r = token_form(
        &s,
        Some(&basic("web", "web-secret")),
        &[
            ("grant_type", "authorization_code"),
            ("code", &plain),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
        None,
    )
    .await;
    let unbound = r.token();
    let r = call(&s, "/userinfo", "DPoP", &unbound, Some(&proof("GET", &ui, &unbound))).await;
    assert_eq!((r.status, r.error()), (StatusCode::UNAUTHORIZED, "invalid_token"));
    assert_eq!(
        call(&s, "/userinfo", "Bearer", &unbound, None).await.status,
        StatusCode::OK
    );
    // A confidential client's refresh token is not bound (its credentials bind it), its access token is.
    let c2 = code(&s, "web", &[]).await.unwrap();
    let r = token_form(
        &s,
        Some(&basic("web", "web-secret")),
        &[
            ("grant_type", "authorization_code"),
            ("code", &c2),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
        Some(&key.proof("POST", &htu)),
    )
    .await;
    assert_eq!(r.json["token_type"], "DPoP");
    assert!(
        s.introspect(r.json["refresh_token"].as_str().unwrap())
            .await
            .json
            .get("cnf")
            .is_none()
    );
}

#[tokio::test]
async fn a_resource_checks_the_proof_and_library_profiles_skip_dpop() {
    let s = server().await;
    let key = DpopKey::es256();
    let r = cc(&s, "svc", &[&key.proof("POST", &url(&s, "/token"))]).await;
    let at = r.json["access_token"].as_str().unwrap().to_string();
    let path = "/resources/books/shelf/1";
    let rurl = url(&s, path);
    let good = |u: &str| key.proof_with("GET", u, json!({"ath": ath(&at)}));
    let r = call(&s, path, "DPoP", &at, Some(&good(&rurl))).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let verdict = s
        .get(r.header("latchkey-verdict").trim_start_matches(&url(&s, "")))
        .await
        .json;
    let row = verdict["verdict"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "dpop")
        .cloned()
        .unwrap_or_else(|| panic!("no dpop row: {verdict}"));
    assert_eq!(row["result"], "passed", "{row}");
    // Query strings are not part of htu.
    let r = call(&s, &format!("{path}?page=2"), "DPoP", &at, Some(&good(&rurl))).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    // A bound token as Bearer: refused with a DPoP challenge and the dpop row deciding.
    let r = call(&s, path, "Bearer", &at, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
    assert_eq!(r.json["decided_by"], "dpop");
    assert_eq!(r.json["error"], "invalid_token");
    assert!(
        r.header("www-authenticate")
            .starts_with("DPoP realm=\"books\", error=\"invalid_token\""),
        "{r:?}"
    );
    // A proof for another URL or method, a reused proof, a wrong ath.
    for (proof, what) in [
        (good(&url(&s, "/resources/books/other")), "htu"),
        (key.proof_with("POST", &rurl, json!({"ath": ath(&at)})), "htm"),
        (key.proof_with("GET", &rurl, json!({"ath": ath("x")})), "ath"),
    ] {
        let r = call(&s, path, "DPoP", &at, Some(&proof)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}: {r:?}");
        assert_eq!(r.json["error"], "invalid_dpop_proof", "{what}");
        assert!(
            r.json["error_description"].as_str().unwrap().contains(what),
            "{what}: {r:?}"
        );
    }
    let once = good(&rurl);
    assert_eq!(call(&s, path, "DPoP", &at, Some(&once)).await.status, StatusCode::OK);
    let replay = call(&s, path, "DPoP", &at, Some(&once)).await;
    assert_eq!(replay.json["error"], "invalid_dpop_proof");
    // The call's request-log entry has the proof with its checks, and its curl asks for a
    // fresh proof (a proof is single-use) with the DPoP scheme kept.
    let log = s.get("/admin/api/requests?limit=3").await.json;
    let entry = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == path)
        .cloned()
        .unwrap();
    assert_eq!(entry["dpop"]["endpoint"], "resource", "{entry}");
    assert_eq!(entry["dpop"]["error"], "invalid_dpop_proof");
    let jti_row = entry["dpop"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "jti")
        .cloned()
        .unwrap();
    assert_eq!(jti_row["result"], "failed", "{jti_row}");
    assert_eq!(entry["verdict"]["decided_by"], "dpop");
    let curl = entry["curl"].as_str().unwrap();
    assert!(
        curl.contains("Authorization: DPoP ${TOKEN:?") && curl.contains("DPoP: ${DPOP_PROOF:?"),
        "{curl}"
    );
    // A library-named profile does not check DPoP: the row is skipped and says so.
    let jose = "/resources/books-jose/shelf";
    let r = call(&s, jose, "Bearer", &at, None).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = call(&s, jose, "DPoP", &at, Some(&good(&url(&s, jose)))).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "jose does not understand the DPoP scheme: {r:?}"
    );
    // The resource metadata advertises DPoP only where it is checked.
    let m = s
        .get("/.well-known/oauth-protected-resource/resources/books")
        .await
        .json;
    assert!(
        m["dpop_signing_alg_values_supported"]
            .as_array()
            .is_some_and(|a| a.contains(&json!("ES256")))
    );
    let m = s
        .get("/.well-known/oauth-protected-resource/resources/books-jose")
        .await
        .json;
    assert!(m.get("dpop_signing_alg_values_supported").is_none());
    // An unbound token as Bearer: the dpop row is skipped.
    let plain = cc(&s, "svc", &[]).await.token();
    let r = call(&s, path, "Bearer", &plain, None).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
}

#[tokio::test]
async fn proofs_stamped_with_real_time_are_accepted_while_the_virtual_clock_is_a_day_ahead() {
    let s = server().await;
    let key = DpopKey::es256();
    let r = reply(
        s.http
            .post(s.at("/admin/api/clock"))
            .json(&json!({"advance": 86_400}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = cc(&s, "svc", &[&key.proof("POST", &url(&s, "/token"))]).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let at = r.json["access_token"].as_str().unwrap().to_string();
    let path = "/resources/books/shelf";
    let proof = key.proof_with("GET", &url(&s, path), json!({"ath": ath(&at)}));
    assert_eq!(call(&s, path, "DPoP", &at, Some(&proof)).await.status, StatusCode::OK);
    // With assertion_time = "virtual" the same real-time proof is a day old.
    let mut settings = s.get("/admin/api/settings").await.json;
    settings["assertion_time"] = json!("virtual");
    let put = reply(
        s.http
            .put(s.at("/admin/api/settings"))
            .json(&settings)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(put.status, StatusCode::OK, "{put:?}");
    let r = cc(&s, "svc", &[&key.proof("POST", &url(&s, "/token"))]).await;
    assert_proof_refused(&r, "iat");
    assert!(
        r.json["error_description"].as_str().unwrap().contains("virtual time"),
        "{r:?}"
    );
}

#[tokio::test]
async fn browsers_may_send_dpop_and_read_dpop_nonce() {
    let s = spawn(&config(json!({"use_dpop_nonce": true}))).await;
    for path in ["/token", "/userinfo", "/resources/books/x"] {
        let r = s
            .http
            .request(reqwest::Method::OPTIONS, s.at(path))
            .header("origin", "http://localhost:3000")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "dpop, authorization")
            .send()
            .await
            .unwrap();
        let allow = r.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase();
        assert!(allow.contains("dpop"), "{path}: {allow}");
    }
    let r = s
        .http
        .post(s.at("/token"))
        .header("origin", "http://localhost:3000")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", basic("svc", "svc-secret"))
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    let expose = r.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        expose.contains("DPoP-Nonce") && expose.contains("WWW-Authenticate"),
        "{expose}"
    );
    assert!(r.headers().contains_key("dpop-nonce"));
}

#[tokio::test]
async fn dpop_settings_round_trip_through_export_and_the_admin_api() {
    let s = spawn(&config(json!({"use_dpop_nonce": true}))).await;
    assert_eq!(s.get("/admin/api/settings").await.json["use_dpop_nonce"], true);
    let c = s.get("/admin/api/clients/dpop-only").await.json;
    assert_eq!(c["dpop_bound_access_tokens"], true, "{c}");
    let exported = s
        .http
        .get(s.at("/admin/api/config"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(exported.contains("use_dpop_nonce = true"), "{exported}");
    assert!(exported.contains("dpop_bound_access_tokens = true"), "{exported}");
    let doc: toml::Value = toml::from_str(&exported).unwrap();
    assert!(doc.get("server").is_some());
}

/// POST /par for the public client `app` with PKCE, `extra` parameters and an optional proof.
async fn push(s: &TestServer, extra: &[(&str, &str)], proof: Option<&str>) -> Reply {
    let mut pairs = vec![
        ("client_id", "app"),
        ("response_type", "code"),
        ("redirect_uri", CB),
        ("scope", "openid read"),
        ("state", "st"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    pairs.extend_from_slice(extra);
    let mut req = s
        .http
        .post(s.at("/par"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(crate::common::form(&pairs));
    if let Some(p) = proof {
        req = req.header("dpop", p);
    }
    reply(req.send().await.unwrap()).await
}

#[tokio::test]
async fn a_proof_at_the_par_endpoint_binds_the_pushed_request_and_its_code_to_the_key() {
    let s = server().await;
    let key = DpopKey::es256();
    let other = DpopKey::ed25519();
    let par = url(&s, "/par");
    let token = url(&s, "/token");

    // RFC 9449 §10.1: the push's proof binds the request; its code needs that key at /token.
    let r = push(&s, &[], Some(&key.proof("POST", &par))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let request_uri = r.json["request_uri"].as_str().unwrap().to_string();
    let c = code(&s, "app", &[("request_uri", &request_uri)]).await.unwrap();
    let pairs = [
        ("grant_type", "authorization_code"),
        ("code", c.as_str()),
        ("redirect_uri", CB),
        ("client_id", "app"),
        ("code_verifier", VERIFIER),
    ];
    token_form(&s, None, &pairs, Some(&other.proof("POST", &token)))
        .await
        .assert_error(400, "invalid_grant");
    let ok = token_form(&s, None, &pairs, Some(&key.proof("POST", &token))).await;
    assert_eq!(ok.status, StatusCode::OK, "{ok:?}");
    assert_eq!(ok.json["token_type"], "DPoP");
    assert_eq!(
        payload(ok.json["access_token"].as_str().unwrap())["cnf"]["jkt"],
        key.jkt()
    );

    // A pushed dpop_jkt that is not the proof's key is refused; the proof's own is accepted.
    let mismatch = push(&s, &[("dpop_jkt", &other.jkt())], Some(&key.proof("POST", &par))).await;
    mismatch.assert_error(400, "invalid_dpop_proof");
    let same = push(&s, &[("dpop_jkt", &key.jkt())], Some(&key.proof("POST", &par))).await;
    assert_eq!(same.status, StatusCode::CREATED, "{same:?}");

    // A bad proof at /par is refused like one at /token, naming its check; the htu is /par's.
    assert_proof_refused(&push(&s, &[], Some(&key.proof("POST", &token))).await, "htu");

    // dpop_jkt without a proof binds the request too (§10: the client may send only the thumbprint).
    let r = push(&s, &[("dpop_jkt", &key.jkt())], None).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let c = code(&s, "app", &[("request_uri", r.json["request_uri"].as_str().unwrap())])
        .await
        .unwrap();
    let pairs = [
        ("grant_type", "authorization_code"),
        ("code", c.as_str()),
        ("redirect_uri", CB),
        ("client_id", "app"),
        ("code_verifier", VERIFIER),
    ];
    assert_proof_refused_plain(&token_form(&s, None, &pairs, None).await, "dpop_jkt");
    let ok = token_form(&s, None, &pairs, Some(&key.proof("POST", &token))).await;
    assert_eq!(ok.status, StatusCode::OK, "{ok:?}");

    // The request log shows the push's proof with its checks.
    let log = s.get("/admin/api/requests?limit=50").await.json;
    let pushes: Vec<&Value> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["path"] == "/par" && e["dpop"].is_object())
        .collect();
    assert!(
        pushes
            .iter()
            .any(|e| e["dpop"]["accepted"] == true && e["dpop"]["jkt"] == key.jkt()),
        "a /par entry carries the decoded proof: {log}"
    );
    assert!(pushes.iter().any(|e| e["dpop"]["accepted"] == false));
}
