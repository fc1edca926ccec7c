//! The config file as the source of truth (docs/setups.md): `--config-mode replace` removes
//! what the file no longer names (tokens stay); `--watch` applies a change and refuses a broken
//! file without changing anything, with its file, line and key in a `config.rejected` event.

use std::time::Duration;

use latchkey::config::ConfigMode;
use reqwest::StatusCode;

use crate::common::spawn_with;

const FULL: &str = r#"
[[scopes]]
name = "read"

[[scopes]]
name = "old-scope"

[[clients]]
client_id = "kept"
client_secret = "kept-secret"
scopes = ["read"]

[[clients]]
client_id = "dropped"
client_secret = "dropped-secret"
scopes = ["old-scope"]

[[users]]
username = "alice"
password = "alice-password"

[[users]]
username = "bob"
password = "bob-password"

[[resources]]
name = "old-api"
audience = "old-api"
"#;

const SMALLER: &str = r#"
[[scopes]]
name = "read"

[[clients]]
client_id = "kept"
client_secret = "kept-secret"
scopes = ["read"]

[[users]]
username = "alice"
password = "alice-password"
"#;

#[tokio::test]
async fn replace_removes_what_the_file_dropped_and_keeps_tokens() {
    // A fixed issuer: a restart on another port must not make the tokens another issuer's.
    let s = spawn_with(FULL, |o| o.issuer = Some("http://localhost:8000".into())).await;
    let kept_token = s.token_basic("kept", "kept-secret", &[]).await.token();
    s.token_basic("dropped", "dropped-secret", &[]).await.token();
    std::fs::write(s.config_path(), SMALLER).unwrap();

    // Merge (the default) keeps what the file no longer names.
    let s = s.restart().await;
    s.token_basic("dropped", "dropped-secret", &[]).await.token();
    assert!(s.provider().scope_exists("old-scope"));
    let i = s.introspect_as("kept", "kept-secret", &kept_token).await;
    assert_eq!(i.json["active"], true, "after a merge restart: {i:?}");

    // Replace removes it; tokens stay.
    let s = s.restart_with(|o| o.config_mode = ConfigMode::Replace).await;
    s.token_basic("dropped", "dropped-secret", &[])
        .await
        .assert_error(401, "invalid_client");
    let p = s.provider();
    assert!(p.client("kept").is_some());
    assert!(!p.scope_exists("old-scope"));
    assert!(p.scope_exists("read"));
    assert!(p.resources().is_empty());
    let users: Vec<String> = p
        .store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.user.username)
        .collect();
    assert_eq!(users, ["alice"]);
    let i = s.introspect_as("kept", "kept-secret", &kept_token).await;
    assert_eq!(i.json["active"], true, "tokens are kept: {i:?}");
    s.shutdown().await;
}

#[tokio::test]
async fn replace_refuses_a_file_using_a_scope_only_the_database_defines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latchkey.toml");
    let opts = |mode| latchkey::ServeOptions {
        port: 0,
        db: latchkey::DbLocation::File(dir.path().join("l.db")),
        config: Some(path.clone()),
        config_mode: mode,
        ..Default::default()
    };
    std::fs::write(&path, FULL).unwrap();
    latchkey::start(opts(ConfigMode::Merge)).await.unwrap().shutdown().await;
    // `read` is now in the database, but the file no longer defines it.
    std::fs::write(
        &path,
        "[[clients]]\nclient_id = \"kept\"\nclient_secret = \"kept-secret\"\nscopes = [\"read\"]\n",
    )
    .unwrap();
    latchkey::start(opts(ConfigMode::Merge)).await.unwrap().shutdown().await;
    let err = latchkey::start(opts(ConfigMode::Replace)).await.err().expect("refused");
    assert!(err.to_string().contains("`clients[0].scopes[0]`"), "{err}");
    assert!(err.to_string().contains("latchkey.toml:4:"), "{err}");
}

/// Polls `check` every 50 ms for up to 10 s.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn watch_applies_a_change_and_refuses_a_broken_file() {
    let s = spawn_with(FULL, |o| {
        o.watch = true;
        o.config_mode = ConfigMode::Replace;
    })
    .await;
    let (_, mut events) = s.provider().events.subscribe(None);
    let path = s.config_path();
    let status = s.get("/admin/api/status").await.json;
    assert_eq!(status["config"]["file"], path.display().to_string(), "{status}");
    assert_eq!(status["config"]["state"], "applied", "{status}");
    assert_eq!(status["config"]["mode"], "replace");
    assert_eq!(status["config"]["watch"], true);

    // A valid change: `dropped` goes, `added` comes, written the way editors save (a new file
    // renamed over the old one).
    let next = SMALLER.to_string()
        + "\n[[clients]]\nclient_id = \"added\"\nclient_secret = \"added-secret\"\nscopes = [\"read\"]\n";
    let tmp = path.with_extension("toml.swp");
    std::fs::write(&tmp, &next).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    let reloaded = loop {
        let e = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .unwrap()
            .unwrap();
        let v = serde_json::to_value(&*e).unwrap();
        if v["type"] == "config.reloaded" {
            break v;
        }
    };
    s.token_basic("added", "added-secret", &[]).await.token();
    s.token_basic("dropped", "dropped-secret", &[])
        .await
        .assert_error(401, "invalid_client");
    assert!(
        reloaded["data"]["removed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "client `dropped`"),
        "{reloaded}"
    );
    let status = s.get("/admin/api/status").await.json;
    assert_eq!(status["config"]["state"], "applied", "{status}");
    assert!(
        status["config"]["removed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "client `dropped`"),
        "{status}"
    );

    // A broken file (a misspelt key, and a client that would be new): nothing changes.
    let broken =
        next.clone() + "\n[[clients]]\nclient_id = \"ghost\"\nclient_secret = \"ghost-secret\"\nscoeps = [\"read\"]\n";
    std::fs::write(&path, &broken).unwrap();
    let rejected = loop {
        let e = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .unwrap()
            .unwrap();
        let v = serde_json::to_value(&*e).unwrap();
        if v["type"] == "config.rejected" {
            break v;
        }
    };
    let err = &rejected["data"]["errors"][0];
    assert_eq!(err["file"], path.display().to_string(), "{rejected}");
    assert_eq!(
        err["line"],
        broken.lines().position(|l| l.starts_with("scoeps")).unwrap() + 1,
        "{rejected}"
    );
    assert!(err["message"].as_str().unwrap().contains("scoeps"), "{rejected}");
    s.token_basic("ghost", "ghost-secret", &[])
        .await
        .assert_error(401, "invalid_client");
    s.token_basic("added", "added-secret", &[]).await.token();
    assert!(s.provider().client("kept").is_some());
    // The admin API says so until the file is fixed (the GUI's banner reads it on load).
    let status = s.get("/admin/api/status").await.json;
    assert_eq!(status["config"]["state"], "rejected", "{status}");
    assert_eq!(status["config"]["errors"], rejected["data"]["errors"], "{status}");

    // Fixing the file applies it again.
    std::fs::write(&path, broken.replace("scoeps", "scopes")).unwrap();
    eventually("the fixed client", async || {
        s.token_basic("ghost", "ghost-secret", &[]).await.status == StatusCode::OK
    })
    .await;
    eventually("status.config applied again", async || {
        s.get("/admin/api/status").await.json["config"]["state"] == "applied"
    })
    .await;
    s.shutdown().await;
}

/// Every ```toml block of the docs and the README.
fn doc_examples() -> Vec<(String, String)> {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(format!("{root}/docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.push(format!("{root}/README.md").into());
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, block) in text.split("```toml\n").skip(1).enumerate() {
            let body = block.split("```").next().unwrap().to_string();
            out.push((format!("{} block {}", f.display(), i + 1), body));
        }
    }
    out
}

#[test]
fn the_schema_validates_every_example_in_the_docs_and_rejects_a_misspelt_key() {
    let schema = latchkey::config::json_schema();
    let validator = jsonschema::draft202012::new(&schema).expect("a valid JSON Schema");
    let examples = doc_examples();
    assert!(examples.len() >= 5, "too few examples found: {}", examples.len());
    for (name, src) in &examples {
        let doc: serde_json::Value = toml::from_str(src).unwrap_or_else(|e| panic!("{name}: not TOML: {e}"));
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
        // The parser agrees, except on `[[keys]]` examples: their key material is elided in
        // the docs (`x = "..."`, a `path` to a file the docs do not ship), which only the
        // schema can judge; tests/oidc/fixed_keys.rs parses real keys.
        if !src.contains("[[keys]]") {
            latchkey::config::parse_and_validate(name, src, &|_| true).unwrap_or_else(|e| panic!("{e}"));
        }
    }
    for bad in [
        "[[clients]]\nclient_id = \"a\"\nscoeps = [\"read\"]\n",
        "[server]\nacess_token_ttl = 60\n",
        "[server]\nsigning_alg = \"HS256\"\n",
        "[server]\naccess_token_ttl = \"soon\"\n",
        "[[users]]\npassword = \"no name\"\n",
        "colour = \"blue\"\n",
    ] {
        let doc: serde_json::Value = toml::from_str(bad).unwrap();
        assert!(!validator.is_valid(&doc), "accepted: {bad}");
        assert!(
            latchkey::config::parse_and_validate("x.toml", bad, &|_| true).is_err(),
            "the parser accepts what the schema refuses: {bad}"
        );
    }
    // Durations with units and a single audience string are valid, as the parser says.
    let ok: serde_json::Value =
        toml::from_str("[server]\ncode_ttl = \"1h30m\"\n[[resources]]\nname = \"r\"\naudience = \"api\"\n").unwrap();
    assert!(validator.is_valid(&ok));
}
