//! Fixed signing keys from the config file (`[[keys]]`): the same kid on every server started
//! from the file, clear errors for bad keys, and `latchkey keys export` round-tripping.

use latchkey::keys::SigningKey;
use latchkey::keys::import::pem;
use latchkey::model::SigningAlg;
use latchkey::{DbLocation, ServeOptions, StartError};
use serde_json::Value;

use crate::common::*;

/// An EC P-256 private key (its d from RFC 7515 A.3.1).
const EC_JWK: &str = r#"{ kty = "EC", crv = "P-256", x = "-NDceqEMoK7LkNqFECBkNZmcejMepd83WKyXzoOGSLw", y = "nqF04vPqnhon6FZQhq5EqzY6uqGz1jSIrED6Z-g3HqI", d = "jpsQnnGQmL-YBIffH1136cLyYw0ZeeY2qtqrumEmZrY" }"#;

const SERVICE: &str = r#"
[[clients]]
client_id = "svc"
client_secret = "svc-secret"
grant_types = ["client_credentials"]
scopes = ["read"]

[[scopes]]
name = "read"
"#;

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn rsa_pem() -> String {
    pem(&SigningKey::generate(SigningAlg::RS256, 0).expect("RSA key").private_der)
}

fn config_with(keys: &str) -> String {
    format!("{SERVICE}\n{keys}")
}

async fn memory_server(dir: &std::path::Path, config: &str) -> Result<latchkey::RunningServer, StartError> {
    let path = dir.join(format!("latchkey-{}.toml", latchkey::ids::token_id()));
    std::fs::write(&path, config).expect("write config");
    latchkey::start(ServeOptions {
        bind: "127.0.0.1".parse().expect("loopback"),
        port: 0,
        db: DbLocation::Memory,
        config: Some(path),
        ..Default::default()
    })
    .await
}

async fn jwks(url: &str) -> Value {
    let r = http_client().get(format!("{url}/jwks")).send().await.expect("jwks");
    r.json().await.expect("JSON")
}

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_string())
        .collect()
}

async fn client_credentials_token(url: &str) -> String {
    let r = http_client()
        .post(format!("{url}/token"))
        .header("authorization", basic("svc", "svc-secret"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&scope=read")
        .send()
        .await
        .expect("token");
    let v: Value = r.json().await.expect("JSON");
    v["access_token"].as_str().unwrap_or_else(|| panic!("{v}")).to_string()
}

/// Verifies `token` against a JWKS document with jsonwebtoken (signature only).
fn verifies_against(token: &str, jwks: &Value) -> bool {
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks.clone()).expect("a JWK Set");
    let header = jsonwebtoken::decode_header(token).expect("header");
    let Some(jwk) = header.kid.as_deref().and_then(|k| set.find(k)) else {
        return false;
    };
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).expect("decoding key");
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.validate_aud = false;
    v.validate_exp = false;
    v.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(token, &key, &v).is_ok()
}

#[tokio::test]
async fn keys_from_the_config_publish_the_same_kid_on_two_fresh_memory_servers() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(&format!(
        "[[keys]]\nkid = \"dev-key-1\"\nalg = \"RS256\"\npem = {}\n\n[[keys]]\nkid = \"dev-key-2\"\nalg = \"ES256\"\njwk = {EC_JWK}\n",
        toml_string(&rsa_pem())
    ));
    let a = memory_server(dir.path(), &config).await.expect("first server");
    let b = memory_server(dir.path(), &config).await.expect("second server");
    let (ja, jb) = (jwks(&a.url()).await, jwks(&b.url()).await);
    assert_eq!(kids(&ja), ["dev-key-1", "dev-key-2"], "{ja}");
    assert_eq!(ja, jb, "both servers publish the same JWKS");
    assert!(!ja.to_string().contains("\"d\""), "public keys only: {ja}");

    let token = client_credentials_token(&a.url()).await;
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.kid.as_deref(), Some("dev-key-1"), "the first key signs");
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    assert!(
        verifies_against(&token, &jb),
        "a token from one verifies with the other's JWKS"
    );
    let other = client_credentials_token(&b.url()).await;
    assert!(verifies_against(&other, &ja));

    // Discovery states the pinned key's algorithm.
    let doc: Value = http_client()
        .get(format!("{}/.well-known/openid-configuration", a.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn a_key_file_is_read_relative_to_the_config_and_a_new_key_retires_the_old() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("keys")).unwrap();
    let ec = SigningKey::generate(SigningAlg::ES256, 0).unwrap();
    std::fs::write(dir.path().join("keys/dev.pem"), pem(&ec.private_der)).unwrap();
    let first = config_with("[[keys]]\nkid = \"from-file\"\nalg = \"ES256\"\npath = \"keys/dev.pem\"\n");
    let config = config_with(&format!(
        "[[keys]]\nkid = \"next\"\nalg = \"RS256\"\npem = {}\n",
        toml_string(&rsa_pem())
    ));
    let db = dir.path().join("l.db");
    let path = dir.path().join("one.toml");
    std::fs::write(&path, &first).unwrap();
    let start = |config: std::path::PathBuf| {
        latchkey::start(ServeOptions {
            bind: "127.0.0.1".parse().unwrap(),
            port: 0,
            db: DbLocation::File(db.clone()),
            config: Some(config),
            ..Default::default()
        })
    };
    let s1 = start(path.clone()).await.expect("first start");
    assert_eq!(
        kids(&jwks(&s1.url()).await),
        ["from-file"],
        "no generated key is published beside the pinned one"
    );
    let old_token = client_credentials_token(&s1.url()).await;
    s1.shutdown().await;
    // The same database restarted with another pinned key: the old one stays published
    // (retired) until tokens it signed have expired; the new one signs.
    let path2 = dir.path().join("two.toml");
    std::fs::write(&path2, &config).unwrap();
    let s2 = start(path2).await.expect("second start");
    let now = jwks(&s2.url()).await;
    assert_eq!(kids(&now), ["next", "from-file"], "{now}");
    assert!(verifies_against(&old_token, &now), "tokens of the old key still verify");
    let header = jsonwebtoken::decode_header(&client_credentials_token(&s2.url()).await).unwrap();
    assert_eq!(header.kid.as_deref(), Some("next"));
    s2.shutdown().await;
}

#[tokio::test]
async fn bad_keys_stop_the_server_with_the_field_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let ec_pem = toml_string(&pem(&SigningKey::generate(SigningAlg::ES256, 0).unwrap().private_der));
    let rsa = toml_string(&rsa_pem());
    let cases: Vec<(String, &str, &str)> = vec![
        (
            "[[keys]]\nkid = \"k\"\nalg = \"RS256\"\npem = \"hello\"\n".into(),
            "`keys[0].pem`",
            "not PEM",
        ),
        (
            format!("[[keys]]\nkid = \"k\"\nalg = \"RS256\"\npem = {ec_pem}\n"),
            "`keys[0].pem`",
            "alg is RS256 but the key is an EC P-256 key",
        ),
        (
            format!("[[keys]]\nkid = \"k\"\nalg = \"RS256\"\npem = {rsa}\n\n[[keys]]\nkid = \"k\"\nalg = \"ES256\"\npem = {ec_pem}\n"),
            "`keys[1].kid`",
            "kid `k` is used by two keys",
        ),
        (
            format!("[[keys]]\nkid = \"k\"\nalg = \"ES256\"\npem = {ec_pem}\njwk = {EC_JWK}\n"),
            "`keys[0].jwk`",
            "exactly one of `pem`, `path` or `jwk`",
        ),
        (
            "[[keys]]\nkid = \"k\"\nalg = \"ES256\"\n".into(),
            "`keys[0].kid`",
            "one of `pem`, `path` or `jwk`",
        ),
        (
            "[[keys]]\nkid = \"k\"\nalg = \"ES256\"\npath = \"missing.pem\"\n".into(),
            "`keys[0].path`",
            "cannot read",
        ),
        (
            "[[keys]]\nkid = \"k\"\nalg = \"ES256\"\njwk = { kty = \"EC\", crv = \"P-256\", x = \"-NDceqEMoK7LkNqFECBkNZmcejMepd83WKyXzoOGSLw\", y = \"nqF04vPqnhon6FZQhq5EqzY6uqGz1jSIrED6Z-g3HqI\" }\n".into(),
            "`keys[0].jwk`",
            "public key",
        ),
        (
            format!("[server]\nsigning_alg = \"ES256\"\n\n[[keys]]\nkid = \"k\"\nalg = \"RS256\"\npem = {rsa}\n"),
            "`server.signing_alg`",
            "the first of [[keys]]",
        ),
        (
            format!("[[keys]]\nkid = \"k\"\nalg = \"HS256\"\npem = {rsa}\n"),
            "`keys[0].alg`",
            "unknown variant",
        ),
    ];
    for (keys, field, message) in cases {
        let config = config_with(&keys);
        let Err(StartError::Config(errs)) = memory_server(dir.path(), &config).await else {
            panic!("{keys} should stop the server");
        };
        let text = errs.to_string();
        assert!(text.contains(field), "{field} in {text}");
        assert!(text.contains(message), "{message} in {text}");
        assert!(
            errs.0.iter().all(|e| e.line.is_some()),
            "a line for every error: {text}"
        );
    }
}

#[tokio::test]
async fn keys_export_writes_a_config_that_pins_the_same_kid() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    let srv = latchkey::start(ServeOptions {
        bind: "127.0.0.1".parse().unwrap(),
        port: 0,
        db: DbLocation::File(db.clone()),
        ..Default::default()
    })
    .await
    .expect("server starts");
    let original = kids(&jwks(&srv.url()).await);
    srv.shutdown().await;
    let out_file = dir.path().join("keys.toml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args([
            "keys",
            "export",
            "--db",
            db.to_str().unwrap(),
            "--out",
            out_file.to_str().unwrap(),
        ])
        .output()
        .expect("run latchkey");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let exported = std::fs::read_to_string(&out_file).unwrap();
    assert!(exported.contains("DEVELOPMENT ONLY"), "{exported}");
    assert!(exported.contains("-----BEGIN PRIVATE KEY-----"), "{exported}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the key file is its owner's only: {mode:o}");
    }
    let pinned = memory_server(dir.path(), &config_with(&exported))
        .await
        .expect("starts from the export");
    assert_eq!(kids(&jwks(&pinned.url()).await), original);
    pinned.shutdown().await;

    // `--db :memory:` prints a fresh key to standard output.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(["keys", "export", "--db", ":memory:"])
        .output()
        .expect("run latchkey");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let parsed: toml::Value = toml::from_str(&text).expect("TOML");
    assert_eq!(parsed["keys"].as_array().map(Vec::len), Some(1), "{text}");
    assert_eq!(parsed["keys"][0]["alg"].as_str(), Some("RS256"));
}

#[tokio::test]
async fn the_admin_api_installs_inline_keys_live_and_refuses_key_files() {
    let srv = spawn(&config_with("")).await;
    let generated = kids(&jwks(&srv.url()).await);
    let put = |body: String| {
        srv.http
            .put(srv.at("/admin/api/config"))
            .header("content-type", "application/toml")
            .body(body)
            .send()
    };
    // A path would let an API caller make the server read files: only a config on disk may.
    let r = put("[[keys]]\nkid = \"k\"\nalg = \"ES256\"\npath = \"/etc/hostname\"\n".into())
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["fields"][0]["field"], "keys[0].path", "{body}");
    assert_eq!(kids(&jwks(&srv.url()).await), generated, "nothing changed");

    let r = put(format!("[[keys]]\nkid = \"live\"\nalg = \"ES256\"\njwk = {EC_JWK}\n"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let now = kids(&jwks(&srv.url()).await);
    assert_eq!(now[0], "live", "the pinned key signs at once: {now:?}");
    assert!(
        now.contains(&generated[0]),
        "the generated key stays published: {now:?}"
    );
    let token = client_credentials_token(&srv.url()).await;
    assert_eq!(
        jsonwebtoken::decode_header(&token).unwrap().kid.as_deref(),
        Some("live")
    );
}
