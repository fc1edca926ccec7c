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

#[test]
fn ca_env_prints_shell_exports_that_a_shell_can_eval() {
    let dir = tempfile::tempdir().unwrap();
    // A quote in the path must survive the shell's quoting.
    let tls = dir.path().join("it's tls");
    let out = latchkey(&["ca", "--env", "--tls-dir", tls.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().all(|l| l.starts_with("export ")), "{text}");
    let script = format!("{text}\nprintf '%s\\n' \"$NODE_EXTRA_CA_CERTS\" \"$SSL_CERT_FILE\"");
    let sh = Command::new("sh").arg("-c").arg(script).output().unwrap();
    assert!(sh.status.success(), "{sh:?}");
    let printed = String::from_utf8(sh.stdout).unwrap();
    let lines: Vec<&str> = printed.lines().collect();
    let canonical = std::fs::canonicalize(&tls).unwrap();
    assert_eq!(lines[0], canonical.join("ca.pem").display().to_string());
    assert_eq!(lines[1], canonical.join("bundle.pem").display().to_string());
    assert!(
        std::fs::read_to_string(canonical.join("bundle.pem"))
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );
}
