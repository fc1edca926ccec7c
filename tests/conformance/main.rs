//! Library conformance: every resource profile named after a verifier library (panva/jose,
//! auth0 jsonwebtoken, PyJWT, ...) must accept and refuse exactly the tokens that library
//! accepts and refuses (issue 10).
//!
//! The test starts the real server on 127.0.0.1:0 and, for each signing algorithm and key
//! state, builds a corpus of tokens that exercises every check where verifiers differ. For each
//! library-named profile it creates resources with that profile (defaults, a leeway, an
//! explicit algorithm list, and for jose an `accepted_typ`), asks Latchkey's `POST /admin/api/resources/{name}/check`, then
//! runs the library itself (`conformance/node/verify.mjs`, `conformance/python/verify.py`) on
//! the same tokens, configured as the profile's `library.usage` says, fetching the same
//! `/jwks`, with the clock Latchkey's check used (the verdict's `api_now`). Any difference
//! fails the test with a table; the full agreement table is printed either way.
//!
//! Tokens come from Latchkey's own endpoints where it can issue them (client credentials, the
//! admin API's mint with `nbf`, clients with `access_token_typ = "JWT"` or several audiences).
//! Tokens it would never issue (no `exp`, a `crit` header, no `kid`, an `iss` with a trailing
//! slash, ...) are signed by the test with a key it generated and registered as Latchkey's
//! active signing key through the store, as the key rotation does (the admin API's rotation
//! never reveals a private key): they verify against the very JWKS Latchkey publishes, so the
//! verifiers judge them on their claims and headers. Unsigned (`alg: none`), HMAC-signed (with
//! a client secret), tampered and foreign-key tokens are crafted without any trusted key.
//!
//! Needs the libraries installed: `scripts/conformance.sh` does it (npm ci in
//! conformance/node, a venv with conformance/python/requirements.txt) and runs this test,
//! which is `#[ignore]`d so that a plain `cargo test` does not need Node.js and Python.

mod client_assertions;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use latchkey::keys::SigningKey;
use latchkey::model::SigningAlg;
use latchkey::{DbLocation, RunningServer, ServeOptions};
use serde_json::{Value, json};

const CONFIG: &str = r#"
[[scopes]]
name = "read"

[[scopes]]
name = "admin"

# The API's client: its access tokens carry aud "books-api".
[[clients]]
client_id = "app"
client_secret = "app-secret"
audiences = ["books-api"]
scopes = ["read", "admin"]

# The same, with typ JWT for verifiers that refuse at+jwt.
[[clients]]
client_id = "app-jwt"
client_secret = "app-jwt-secret"
audiences = ["books-api"]
access_token_typ = "JWT"
scopes = ["read"]

# Two audiences: aud is an array.
[[clients]]
client_id = "multi"
client_secret = "multi-secret"
audiences = ["orders-api", "books-api"]
scopes = ["read"]

# Another API's tokens.
[[clients]]
client_id = "orders"
client_secret = "orders-secret"
audiences = ["orders-api"]
scopes = ["read"]

# No audience registered: aud is the client id.
[[clients]]
client_id = "plain"
client_secret = "plain-secret"
scopes = ["read"]

[[clients]]
client_id = "opaque"
client_secret = "opaque-secret"
audiences = ["books-api"]
access_token_format = "opaque"
scopes = ["read"]
"#;

/// The audience every test resource accepts besides its identifier.
const AUDIENCE: &str = "books-api";

struct Lk {
    server: RunningServer,
    http: reqwest::Client,
    url: String,
    _dir: tempfile::TempDir,
}

impl Lk {
    async fn start() -> Lk {
        let dir = tempfile::tempdir().expect("temp dir");
        let cfg = dir.path().join("latchkey.toml");
        std::fs::write(&cfg, CONFIG).expect("config");
        let server = latchkey::start(ServeOptions {
            bind: "127.0.0.1".parse().expect("loopback"),
            port: 0,
            db: DbLocation::File(dir.path().join("l.db")),
            config: Some(cfg),
            ..Default::default()
        })
        .await
        .expect("server starts");
        let url = server.url();
        Lk {
            server,
            http: reqwest::Client::new(),
            url,
            _dir: dir,
        }
    }

    fn now(&self) -> i64 {
        self.server.clock().now()
    }

    async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}/admin/api{path}", self.url));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("admin request");
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// A client-credentials access token for `client` (secret `{client}-secret`).
    async fn client_credentials(&self, client: &str) -> String {
        let r = self
            .http
            .post(format!("{}/token", self.url))
            .basic_auth(client, Some(format!("{client}-secret")))
            .form(&[("grant_type", "client_credentials"), ("scope", "read")])
            .send()
            .await
            .expect("token request");
        let v: Value = r.json().await.expect("token response");
        v["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access_token: {v}"))
            .to_string()
    }

    /// An access token minted through the admin API with extra claims.
    async fn mint(&self, claims: Value) -> String {
        let (status, v) = self
            .admin(
                reqwest::Method::POST,
                "/tokens",
                Some(json!({"client_id": "app", "scopes": ["read"], "claims": claims})),
            )
            .await;
        assert_eq!(status, 201, "{v}");
        v["access_token"].as_str().expect("access_token").to_string()
    }

    /// Generates a key for `alg`, makes it Latchkey's active signing key and keeps the
    /// previous keys published for `retention` seconds (0: they leave the JWKS now).
    async fn register_key(&self, alg: SigningAlg, retention: i64) -> TestKey {
        let p = self.server.provider();
        let now = p.clock.now();
        let stored = SigningKey::generate(alg, now).expect("key generation");
        let stranger = SigningKey::generate(alg, now).expect("key generation");
        let key = TestKey {
            kid: stored.kid.clone(),
            alg,
            der: stored.private_der.clone(),
            stranger: Some(Box::new(TestKey {
                kid: stored.kid.clone(),
                alg,
                der: stranger.private_der,
                stranger: None,
            })),
        };
        p.store
            .activate_key(stored, now + retention)
            .await
            .expect("store the key");
        p.keys.reload(&p.store, now).await.expect("reload keys");
        key
    }

    async fn jwks(&self) -> Value {
        let r = self.http.get(format!("{}/jwks", self.url)).send().await.expect("jwks");
        r.json().await.expect("jwks json")
    }
}

/// A private key the test holds, registered with Latchkey.
#[derive(Clone)]
struct TestKey {
    kid: String,
    alg: SigningAlg,
    der: Vec<u8>,
    /// A key Latchkey does not know, of the same algorithm, under this key's kid (forgeries).
    stranger: Option<Box<TestKey>>,
}

impl TestKey {
    fn sign_input(&self, input: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match self.alg {
            SigningAlg::RS256 | SigningAlg::PS256 => {
                let kp = RsaKeyPair::from_pkcs8(&self.der).expect("RSA key");
                let enc: &'static dyn signature::RsaEncoding = if self.alg == SigningAlg::RS256 {
                    &signature::RSA_PKCS1_SHA256
                } else {
                    &signature::RSA_PSS_SHA256
                };
                let mut sig = vec![0; kp.public_modulus_len()];
                kp.sign(enc, &rng, input, &mut sig).expect("RSA signature");
                sig
            }
            SigningAlg::ES256 => {
                let kp =
                    EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &self.der).expect("EC key");
                kp.sign(&rng, input).expect("EC signature").as_ref().to_vec()
            }
            SigningAlg::EdDSA => {
                let kp = Ed25519KeyPair::from_pkcs8(&self.der).expect("Ed25519 key");
                kp.sign(input).as_ref().to_vec()
            }
        }
    }

    /// A compact JWS of `header` and `claims`, signed with this key.
    fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!("{}.{}", b64_json(header), b64_json(claims));
        let sig = self.sign_input(input.as_bytes());
        format!("{input}.{}", B64.encode(sig))
    }

    fn header(&self, typ: Option<&str>) -> Value {
        let mut h = json!({"alg": self.alg.as_str(), "kid": self.kid});
        if let Some(t) = typ {
            h["typ"] = json!(t);
        }
        h
    }
}

fn b64_json(v: &Value) -> String {
    B64.encode(serde_json::to_vec(v).expect("json"))
}

/// HS256 over the signing input with `secret`.
fn hs256(header: &Value, claims: &Value, secret: &str) -> String {
    let input = format!("{}.{}", b64_json(header), b64_json(claims));
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", B64.encode(tag.as_ref()))
}

/// `token` with its payload changed by `edit` and the original signature kept.
fn tampered(token: &str, edit: impl FnOnce(&mut Value)) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value = serde_json::from_slice(&B64.decode(parts[1]).expect("payload b64")).expect("payload");
    edit(&mut claims);
    format!("{}.{}.{}", parts[0], b64_json(&claims), parts[2])
}

/// One token of the corpus.
struct Case {
    id: String,
    token: String,
}

/// The tokens of one phase: minted through Latchkey, and crafted with `key`.
async fn corpus(lk: &Lk, key: &TestKey, carried: &[(String, String)]) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    let mut add = |id: &str, token: String| {
        cases.push(Case {
            id: id.to_string(),
            token,
        })
    };
    let now = lk.now();
    let issuer = lk.server.issuer().to_string();

    // Issued by Latchkey.
    let valid = lk.client_credentials("app").await;
    add("minted: valid at+jwt", valid.clone());
    add(
        "minted: typ JWT (client access_token_typ)",
        lk.client_credentials("app-jwt").await,
    );
    add("minted: aud is a list", lk.client_credentials("multi").await);
    add("minted: aud of another API", lk.client_credentials("orders").await);
    add("minted: aud is the client id", lk.client_credentials("plain").await);
    add("minted: opaque token", lk.client_credentials("opaque").await);
    add("minted: nbf 10 s ahead", lk.mint(json!({"nbf": now + 10})).await);
    add("minted: nbf 100 s ahead", lk.mint(json!({"nbf": now + 100})).await);
    add("minted: nbf passed", lk.mint(json!({"nbf": now - 5})).await);
    add(
        "tampered: scope changed, signature kept",
        tampered(&valid, |c| c["scope"] = json!("read admin")),
    );
    add(
        "tampered: signature cut",
        valid.rsplit_once('.').map(|(a, _)| format!("{a}.")).unwrap_or_default(),
    );
    for (id, token) in carried {
        add(id, token.clone());
    }

    // Crafted with the registered key.
    let base = json!({
        "iss": issuer,
        "sub": "svc",
        "aud": AUDIENCE,
        "client_id": "app",
        "scope": "read",
        "iat": now,
        "exp": now + 300,
        "jti": format!("t-{now}"),
    });
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut c = base.clone();
        edit(&mut c);
        c
    };
    let at = key.header(Some("at+jwt"));
    add("crafted: valid at+jwt", key.sign(&at, &base));
    add("crafted: typ absent", key.sign(&key.header(None), &base));
    add("crafted: typ JWT", key.sign(&key.header(Some("JWT")), &base));
    add(
        "crafted: typ application/at+jwt",
        key.sign(&key.header(Some("application/at+jwt")), &base),
    );
    add("crafted: typ dpop+jwt", key.sign(&key.header(Some("dpop+jwt")), &base));
    add(
        "crafted: no aud",
        key.sign(
            &at,
            &with(&|c| {
                c.as_object_mut().map(|m| m.remove("aud"));
            }),
        ),
    );
    add(
        "crafted: aud list with the API",
        key.sign(&at, &with(&|c| c["aud"] = json!(["other", AUDIENCE]))),
    );
    add(
        "crafted: aud empty list",
        key.sign(&at, &with(&|c| c["aud"] = json!([]))),
    );
    add(
        "crafted: iss with trailing slash",
        key.sign(&at, &with(&|c| c["iss"] = json!(format!("{issuer}/")))),
    );
    // The same server under another host name (an API in a container, say).
    let other_host = if issuer.contains("localhost") {
        issuer.replace("localhost", "127.0.0.1")
    } else {
        issuer.replace("127.0.0.1", "localhost")
    };
    assert_ne!(other_host, issuer);
    add(
        "crafted: iss under another host name",
        key.sign(&at, &with(&|c| c["iss"] = json!(other_host))),
    );
    add(
        "crafted: no iss",
        key.sign(
            &at,
            &with(&|c| {
                c.as_object_mut().map(|m| m.remove("iss"));
            }),
        ),
    );
    add(
        "crafted: no exp",
        key.sign(
            &at,
            &with(&|c| {
                c.as_object_mut().map(|m| m.remove("exp"));
            }),
        ),
    );
    add(
        "crafted: expired 10 s ago",
        key.sign(&at, &with(&|c| c["exp"] = json!(now - 10))),
    );
    add(
        "crafted: expired 100 s ago",
        key.sign(&at, &with(&|c| c["exp"] = json!(now - 100))),
    );
    add(
        "crafted: expired a day ago",
        key.sign(
            &at,
            &with(&|c| {
                c["iat"] = json!(now - 90_000);
                c["exp"] = json!(now - 86_400);
            }),
        ),
    );
    add(
        "crafted: exp is this second",
        key.sign(&at, &with(&|c| c["exp"] = json!(now))),
    );
    add(
        "crafted: exp a numeric string",
        key.sign(&at, &with(&|c| c["exp"] = json!((now + 300).to_string()))),
    );
    add(
        "crafted: nbf 10 s ahead",
        key.sign(&at, &with(&|c| c["nbf"] = json!(now + 10))),
    );
    add(
        "crafted: nbf 100 s ahead",
        key.sign(&at, &with(&|c| c["nbf"] = json!(now + 100))),
    );
    add(
        "crafted: iat 10 s ahead",
        key.sign(&at, &with(&|c| c["iat"] = json!(now + 10))),
    );
    add(
        "crafted: iat 100 s ahead",
        key.sign(&at, &with(&|c| c["iat"] = json!(now + 100))),
    );
    add(
        "crafted: no iat",
        key.sign(
            &at,
            &with(&|c| {
                c.as_object_mut().map(|m| m.remove("iat"));
            }),
        ),
    );
    add(
        "crafted: iat not a number",
        key.sign(&at, &with(&|c| c["iat"] = json!("yesterday"))),
    );
    add("crafted: sub a number", key.sign(&at, &with(&|c| c["sub"] = json!(42))));
    add(
        "crafted: scope under scp",
        key.sign(
            &at,
            &with(&|c| {
                c.as_object_mut().map(|m| m.remove("scope"));
                c["scp"] = json!(["read"]);
            }),
        ),
    );
    let mut crit = at.clone();
    crit["crit"] = json!(["urn:example:extension"]);
    crit["urn:example:extension"] = json!(true);
    add("crafted: crit names an unknown extension", key.sign(&crit, &base));
    let mut no_kid = at.clone();
    no_kid.as_object_mut().map(|m| m.remove("kid"));
    add("crafted: no kid", key.sign(&no_kid, &base));
    let mut unknown_kid = at.clone();
    unknown_kid["kid"] = json!("not-a-published-kid");
    add("crafted: unknown kid", key.sign(&unknown_kid, &base));
    add(
        "crafted: id_token (typ JWT, aud the client, nonce)",
        key.sign(
            &key.header(Some("JWT")),
            &json!({"iss": issuer, "sub": "alice", "aud": "app", "nonce": "n-1", "auth_time": now,
                    "at_hash": "x", "iat": now, "exp": now + 300}),
        ),
    );
    add(
        "crafted: id_token whose aud also names the API",
        key.sign(
            &key.header(Some("JWT")),
            &json!({"iss": issuer, "sub": "alice", "aud": ["app", AUDIENCE], "nonce": "n-1",
                    "auth_time": now, "at_hash": "x", "iat": now, "exp": now + 300}),
        ),
    );

    // No trusted key at all.
    add(
        "forged: alg none",
        format!(
            "{}.{}.",
            b64_json(&json!({"alg": "none", "typ": "at+jwt"})),
            b64_json(&base)
        ),
    );
    add(
        "forged: HS256 with the client secret",
        hs256(&json!({"alg": "HS256", "typ": "at+jwt"}), &base, "app-secret"),
    );
    add(
        "forged: HS256 with the client secret and the key's kid",
        hs256(
            &json!({"alg": "HS256", "typ": "at+jwt", "kid": key.kid}),
            &base,
            "app-secret",
        ),
    );
    add(
        "forged: another key under the published kid",
        key.stranger.as_ref().expect("stranger key").sign(&at, &base),
    );
    cases
}

/// A resource configuration a library-named profile is tested with.
struct Config {
    name: &'static str,
    /// Keys added to the resource (and passed to the library as its options).
    leeway: Option<u64>,
    algorithms: Option<&'static [&'static str]>,
    /// `accepted_typ = [typ]`, for the libraries that have a typ option (jose's `typ`).
    typ: Option<&'static str>,
    /// Only these libraries (`None`: all).
    only: Option<&'static [&'static str]>,
}

const CONFIGS: &[Config] = &[
    Config {
        name: "defaults",
        leeway: None,
        algorithms: None,
        typ: None,
        only: None,
    },
    Config {
        name: "leeway-30",
        leeway: Some(30),
        algorithms: None,
        typ: None,
        only: None,
    },
    Config {
        name: "latchkey-algs",
        leeway: None,
        algorithms: Some(&["RS256", "PS256", "ES256", "EdDSA"]),
        typ: None,
        only: None,
    },
    Config {
        name: "typ-at-jwt",
        leeway: None,
        algorithms: None,
        typ: Some("at+jwt"),
        only: Some(&["jose"]),
    },
];

/// How a library is run.
#[derive(Clone)]
struct Runner {
    /// The profile it checks.
    profile: String,
    /// `jose`, `jsonwebtoken`, `PyJWT`.
    package: String,
    /// The major version the profile is pinned to.
    major: String,
    /// The profile's default algorithms.
    algorithms: Vec<String>,
    /// Whether the library's usage passes the algorithms list always (PyJWT's is required).
    always_algorithms: bool,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> PathBuf {
    std::env::var_os("LATCHKEY_CONFORMANCE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/conformance-venv/bin/python"))
}

/// Runs the library of `runner` on `cases` (JSON objects) and returns (version, id → (accepted, error)).
fn run_library(runner: &Runner, cases: &[Value]) -> (String, BTreeMap<String, (bool, String)>) {
    let node_dir = root().join("conformance/node");
    let (program, args): (PathBuf, Vec<PathBuf>) = match runner.package.as_str() {
        "jose" | "jsonwebtoken" => {
            assert!(
                node_dir.join("node_modules").is_dir(),
                "conformance/node/node_modules is missing: run scripts/conformance.sh (or npm ci in conformance/node)"
            );
            (
                PathBuf::from("node"),
                vec![node_dir.join("verify.mjs"), PathBuf::from(&runner.package)],
            )
        }
        "PyJWT" => {
            let py = python();
            assert!(
                py.exists(),
                "{} is missing: run scripts/conformance.sh (or set LATCHKEY_CONFORMANCE_PYTHON to a python with \
                 conformance/python/requirements.txt)",
                py.display()
            );
            (py, vec![root().join("conformance/python/verify.py")])
        }
        other => panic!(
            "profile {} names library {other}, which has no runner in conformance/: add one",
            runner.profile
        ),
    };
    let mut child = Command::new(&program)
        .args(&args)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let input = serde_json::to_vec(&json!({ "cases": cases })).expect("json");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&input)
        .expect("write cases");
    let out = child.wait_with_output().expect("library run");
    assert!(
        out.status.success(),
        "{} {:?} failed: {}",
        program.display(),
        args,
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "library output is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let version = v["version"].as_str().unwrap_or("").to_string();
    let results = v["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["id"].as_str().expect("id").to_string(),
                (
                    r["accepted"].as_bool().expect("accepted"),
                    r["error"].as_str().unwrap_or("").to_string(),
                ),
            )
        })
        .collect();
    (version, results)
}

/// One comparison.
struct Row {
    phase: String,
    profile: String,
    config: &'static str,
    case: String,
    latchkey: bool,
    latchkey_why: String,
    library: bool,
    library_why: String,
}

fn api_now(verdict: &Value) -> Option<i64> {
    verdict["checks"]
        .as_array()?
        .iter()
        .find(|c| c["check"] == "exp")
        .and_then(|c| c["expected"]["api_now"].as_i64())
}

fn refusal(verdict: &Value) -> String {
    let Some(decided) = verdict["decided_by"].as_str() else {
        return String::new();
    };
    let row = verdict["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["check"] == decided))
        .cloned()
        .unwrap_or(Value::Null);
    format!("{decided}: {}", row["explanation"].as_str().unwrap_or(""))
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

/// Checks one phase: for each library and config, recreates the resource (a fresh simulated API
/// holds the current JWKS), builds the corpus, checks every case, then runs the library on the
/// same cases.
async fn phase(
    lk: &Lk,
    name: &str,
    runners: &[Runner],
    key: &TestKey,
    carried: &[(String, String)],
    rows: &mut Vec<Row>,
) {
    let jwks_uri = format!("{}/jwks", lk.url);
    let issuer = lk.server.issuer().to_string();
    for runner in runners {
        let mut lib_cases = Vec::new();
        let mut ours = BTreeMap::new();
        for cfg in CONFIGS {
            if cfg.only.is_some_and(|o| !o.contains(&runner.package.as_str())) {
                continue;
            }
            let resource = format!("{}--{}", runner.profile, cfg.name);
            lk.admin(reqwest::Method::DELETE, &format!("/resources/{resource}"), None)
                .await;
            let mut body = json!({"name": resource, "audience": AUDIENCE, "profile": runner.profile});
            if let Some(l) = cfg.leeway {
                body["leeway"] = json!(l);
            }
            if let Some(a) = cfg.algorithms {
                body["algorithms"] = json!(a);
            }
            if let Some(t) = cfg.typ {
                body["accepted_typ"] = json!([t]);
            }
            let (status, view) = lk.admin(reqwest::Method::POST, "/resources", Some(body)).await;
            assert!(
                status == 201 || status == 200,
                "create resource {resource}: {status} {view}"
            );
            let identifier = view["identifier"].as_str().expect("identifier").to_string();
            // Minted and signed afresh for each resource, so "10 s ahead" is about 10 s ahead
            // when checked (the library gets the very second the check used either way).
            let cases = corpus(lk, key, carried).await;
            for case in &cases {
                let before = lk.now();
                let (status, verdict) = lk
                    .admin(
                        reqwest::Method::POST,
                        &format!("/resources/{resource}/check"),
                        Some(json!({"token": case.token})),
                    )
                    .await;
                assert_eq!(status, 200, "check {resource} {}: {verdict}", case.id);
                let id = format!("{}|{}", cfg.name, case.id);
                let now = api_now(&verdict).unwrap_or(before);
                ours.insert(id.clone(), (verdict["allowed"] == true, refusal(&verdict)));
                let algorithms = match cfg.algorithms {
                    Some(a) => Some(a.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
                    None if runner.always_algorithms => Some(runner.algorithms.clone()),
                    None => None,
                };
                lib_cases.push(json!({
                    "id": id,
                    "token": case.token,
                    "jwks_uri": jwks_uri,
                    "issuer": issuer,
                    "audience": [identifier, AUDIENCE],
                    "leeway": cfg.leeway.unwrap_or(0),
                    "now": now,
                    "algorithms": algorithms,
                    "typ": cfg.typ,
                }));
            }
        }
        let (version, theirs) = run_library(runner, &lib_cases);
        assert_eq!(
            version.split('.').next(),
            Some(runner.major.as_str()),
            "profile {} is pinned to {} {}, but conformance/ installs {version}",
            runner.profile,
            runner.package,
            runner.major
        );
        for (id, (accepted, why)) in ours {
            let (lib_ok, lib_why) = theirs
                .get(&id)
                .cloned()
                .unwrap_or_else(|| panic!("{} gave no result for {id}", runner.package));
            let (config, case) = id.split_once('|').expect("id");
            rows.push(Row {
                phase: name.to_string(),
                profile: format!("{} ({} {version})", runner.profile, runner.package),
                config: CONFIGS.iter().find(|c| c.name == config).map(|c| c.name).unwrap_or("?"),
                case: case.to_string(),
                latchkey: accepted,
                latchkey_why: why,
                library: lib_ok,
                library_why: lib_why,
            });
        }
    }
}

fn verdict_word(ok: bool) -> &'static str {
    if ok { "accept" } else { "refuse" }
}

/// The agreement table: one line per case, one column per (library, config); `A`/`R` when both
/// accept/refuse, `A≠R` (Latchkey ≠ library) when they differ. Then every difference in full.
fn report(rows: &[Row]) -> (String, usize) {
    let mut columns: Vec<String> = Vec::new();
    let mut cells: BTreeMap<(String, String), BTreeMap<String, String>> = BTreeMap::new();
    let mut order: Vec<(String, String)> = Vec::new();
    for r in rows {
        let col = format!("{} / {}", r.profile.split(' ').next().unwrap_or(""), r.config);
        if !columns.contains(&col) {
            columns.push(col.clone());
        }
        let key = (r.phase.clone(), r.case.clone());
        if !cells.contains_key(&key) {
            order.push(key.clone());
        }
        let cell = match (r.latchkey, r.library) {
            (true, true) => "A".to_string(),
            (false, false) => "R".to_string(),
            (a, b) => format!("{}≠{}", if a { "A" } else { "R" }, if b { "A" } else { "R" }),
        };
        cells.entry(key).or_default().insert(col, cell);
    }
    let mut out = String::new();
    out.push_str("| phase | case |");
    for c in &columns {
        out.push_str(&format!(" {c} |"));
    }
    out.push_str("\n|---|---|");
    for _ in &columns {
        out.push_str("---|");
    }
    out.push('\n');
    for key in &order {
        out.push_str(&format!("| {} | {} |", key.0, key.1));
        for c in &columns {
            out.push_str(&format!(" {} |", cells[key].get(c).map_or("", String::as_str)));
        }
        out.push('\n');
    }
    let diffs: Vec<&Row> = rows.iter().filter(|r| r.latchkey != r.library).collect();
    if !diffs.is_empty() {
        out.push_str(&format!("\n{} disagreement(s):\n", diffs.len()));
        out.push_str("| phase | profile | config | case | Latchkey | library |\n|---|---|---|---|---|---|\n");
        for r in &diffs {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} {} | {} {} |\n",
                r.phase,
                r.profile,
                r.config,
                r.case,
                verdict_word(r.latchkey),
                short(&r.latchkey_why, 110),
                verdict_word(r.library),
                short(&r.library_why, 110)
            ));
        }
    }
    (out, diffs.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node.js and Python with the libraries: run scripts/conformance.sh"]
async fn library_profiles_agree_with_their_libraries() {
    let lk = Lk::start().await;
    let (status, profiles) = lk.admin(reqwest::Method::GET, "/resource-profiles", None).await;
    assert_eq!(status, 200, "{profiles}");
    let runners: Vec<Runner> = profiles
        .as_array()
        .expect("profiles")
        .iter()
        .filter(|p| p["library"].is_object())
        .map(|p| {
            let package = p["library"]["package"].as_str().expect("package").to_string();
            Runner {
                profile: p["name"].as_str().expect("name").to_string(),
                always_algorithms: package == "PyJWT",
                package,
                major: p["library"]["version"].as_str().expect("version").to_string(),
                algorithms: p["defaults"]["algorithms"]
                    .as_array()
                    .expect("algorithms")
                    .iter()
                    .map(|a| a.as_str().expect("alg").to_string())
                    .collect(),
            }
        })
        .collect();
    assert!(runners.len() >= 3, "expected the library-named profiles: {profiles}");

    let mut rows = Vec::new();
    let mut carried: Vec<(String, String)> = Vec::new();
    // One phase per signing algorithm, each with a fresh key and the previous one withdrawn;
    // then a rotation that keeps the previous (EdDSA) key published next to a new ES256 key.
    let phases: &[(&str, SigningAlg, i64)] = &[
        ("RS256", SigningAlg::RS256, 0),
        ("PS256", SigningAlg::PS256, 0),
        ("ES256", SigningAlg::ES256, 0),
        ("EdDSA", SigningAlg::EdDSA, 0),
        ("ES256 after rotation, EdDSA kept", SigningAlg::ES256, 3600),
    ];
    for (name, alg, retention) in phases {
        let key = lk.register_key(*alg, *retention).await;
        let jwks = lk.jwks().await;
        let published = jwks["keys"].as_array().map_or(0, Vec::len);
        assert_eq!(
            published,
            if *retention == 0 { 1 } else { 2 },
            "{name}: unexpected JWKS {jwks}"
        );
        phase(&lk, name, &runners, &key, &carried, &mut rows).await;
        // Carried into the next phase: a token of this key, and this key's token without kid.
        let mut no_kid = key.header(Some("at+jwt"));
        no_kid.as_object_mut().map(|m| m.remove("kid"));
        let now = lk.now();
        carried = vec![
            (
                format!("previous key ({}): minted", key.alg.as_str()),
                lk.client_credentials("app").await,
            ),
            (
                format!("previous key ({}): no kid", key.alg.as_str()),
                key.sign(
                    &no_kid,
                    &json!({"iss": lk.server.issuer(), "sub": "svc", "aud": AUDIENCE, "scope": "read",
                            "iat": now, "exp": now + 600}),
                ),
            ),
        ];
    }

    let (table, disagreements) = report(&rows);
    let out = root().join("target/conformance-report.md");
    let _ = std::fs::write(&out, &table);
    println!(
        "{table}\n({} comparisons; table written to {})",
        rows.len(),
        out.display()
    );
    assert_eq!(
        disagreements, 0,
        "library-named profiles disagree with their libraries:\n{table}"
    );
}
