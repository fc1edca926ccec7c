//! `latchkey ca`, `latchkey schema` and `serve --tls --ready-file` as a user runs them.

use std::process::Command;

fn latchkey(args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    cmd.args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("LATCHKEY_") {
            cmd.env_remove(k);
        }
    }
    cmd.output().expect("run latchkey")
}

#[test]
fn ca_makes_the_ca_once_and_prints_how_to_trust_it() {
    let dir = tempfile::tempdir().unwrap();
    let tls = dir.path().join("tls");
    let out = latchkey(&["ca", "--tls-dir", tls.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let ca = std::fs::canonicalize(tls.join("ca.pem")).unwrap();
    assert!(text.contains(&ca.display().to_string()), "{text}");
    for needle in [
        "NODE_EXTRA_CA_CERTS",
        "REQUESTS_CA_BUNDLE",
        "SSL_CERT_FILE",
        "keytool -importcert",
        "update-ca-certificates",
        "security add-trusted-cert",
        "Import-Certificate",
        "SHA-256",
    ] {
        assert!(text.contains(needle), "missing {needle}: {text}");
    }
    assert!(String::from_utf8_lossy(&out.stderr).contains("made a new local certificate authority"));
    let again = latchkey(&["ca", "--tls-dir", tls.to_str().unwrap(), "--path"]);
    assert!(again.status.success());
    assert_eq!(String::from_utf8_lossy(&again.stdout).trim(), ca.display().to_string());
    assert!(again.stderr.is_empty(), "the CA was made again: {again:?}");
}

#[test]
fn schema_prints_a_json_schema() {
    let out = latchkey(&["schema"]);
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(v["additionalProperties"], false);
    assert!(v["$defs"]["Client"]["properties"]["client_id"].is_object());
}
