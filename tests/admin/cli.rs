//! `latchkey export`, `import` and `token`.

use std::process::Command;

use crate::common::*;

fn latchkey(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test]
async fn export_import_export_round_trips_and_token_mints_from_the_cli() {
    let lk = start().await;
    let db = lk.dir.path().join("l.db");
    let db = db.to_str().unwrap();

    // A token minted by the CLI on the server's database introspects at the server.
    let out = latchkey(&[
        "token",
        "--client",
        "books-app",
        "--scope",
        "read_books",
        "--user",
        "alice",
        "--ttl",
        "120",
        "--claim",
        "tenant=acme",
        "--claim",
        "level=3",
        "--db",
        db,
        "--issuer",
        lk.server.issuer(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let intro = lk.introspect(&token).await;
    assert_eq!(intro["active"], true, "{intro}");
    assert_eq!(
        (intro["tenant"].as_str(), intro["level"].as_u64()),
        (Some("acme"), Some(3))
    );
    assert_eq!(intro["exp"].as_i64().unwrap() - intro["iat"].as_i64().unwrap(), 120);

    let out = latchkey(&["token", "--client", "books-app", "--scope", "openid", "--db", db]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("scopes[0]"));
    lk.server.shutdown().await;

    let first = lk.dir.path().join("first.toml");
    let out = latchkey(&["export", "--db", db, "--out", first.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let exported = std::fs::read_to_string(&first).unwrap();
    assert!(
        exported.contains("books-app") && exported.contains("alice"),
        "{exported}"
    );
    assert!(!exported.contains(PASSWORD), "passwords are not exported");

    let fresh = lk.dir.path().join("fresh.db");
    let out = latchkey(&["import", first.to_str().unwrap(), "--db", fresh.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = latchkey(&["export", "--db", fresh.to_str().unwrap()]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        exported,
        "export, import, export gives the same file"
    );

    let bad = lk.dir.path().join("bad.toml");
    std::fs::write(&bad, "[[clients]]\nclient_id = \"x\"\ncolour = 1\n").unwrap();
    let out = latchkey(&["import", bad.to_str().unwrap(), "--db", fresh.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:3"), "{err}");
}

#[test]
fn export_and_token_refuse_a_database_that_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("typo.db");
    let typo_s = typo.to_str().unwrap();
    for args in [
        vec!["export", "--db", typo_s],
        vec!["token", "--client", "books-app", "--db", typo_s],
    ] {
        let out = latchkey(&args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("no database at") && err.contains("typo.db"),
            "{args:?}: {err}"
        );
        assert!(!typo.exists(), "{args:?} created {}", typo.display());
    }
    // `import` still creates one, and then `export` reads it.
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let out = latchkey(&["import", cfg.to_str().unwrap(), "--db", typo_s]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = latchkey(&["export", "--db", typo_s]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn a_token_minted_for_another_issuer_introspects_inactive_and_the_default_follows_the_port() {
    let lk = start().await;
    let db = lk.dir.path().join("l.db");
    let mint = |extra: &[&str]| {
        let mut args = vec!["token", "--client", "books-app", "--db", db.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = Command::new(env!("CARGO_BIN_EXE_latchkey"))
            .args(&args)
            .env_remove("LATCHKEY_ISSUER")
            .env_remove("LATCHKEY_PORT")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let elsewhere = mint(&["--issuer", "http://localhost:1"]);
    assert_eq!(lk.introspect(&elsewhere).await, serde_json::json!({"active": false}));
    let port = lk.server.addr().port().to_string();
    let here = mint(&["--port", &port]);
    let intro = lk.introspect(&here).await;
    assert_eq!(intro["active"], true, "{intro}");
    assert_eq!(intro["iss"], lk.server.issuer());
    lk.server.shutdown().await;
}
