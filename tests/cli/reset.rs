//! `latchkey reset` on a file database.

use std::path::Path;
use std::process::{Command, Output};

const BASE: &str = r#"
[[scopes]]
name = "read_books"

[[clients]]
client_id = "books-app"
client_secret = "books-secret-0123456789"
grant_types = ["client_credentials"]
scopes = ["read_books"]

[[users]]
username = "alice"
password = "alice-password-xyz"
"#;

const MORE: &str = r#"
[[clients]]
client_id = "added-later"
client_secret = "another-secret-0123456789"
grant_types = ["client_credentials"]
scopes = []

[[users]]
username = "bob"
password = "bob-password-xyz"
"#;

fn latchkey(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    cmd.args(args).current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("LATCHKEY_") {
            cmd.env_remove(k);
        }
    }
    cmd.output().expect("run latchkey")
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = latchkey(dir, args);
    assert!(
        out.status.success(),
        "latchkey {args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn reset_clears_tokens_and_with_a_config_makes_the_registry_exactly_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("base.toml"), BASE).unwrap();
    std::fs::write(d.join("more.toml"), MORE).unwrap();
    ok(d, &["import", "base.toml", "--db", "l.db"]);
    let exported = ok(d, &["export", "--db", "l.db"]);
    ok(d, &["token", "--client", "books-app", "--db", "l.db"]);
    ok(d, &["token", "--client", "books-app", "--db", "l.db"]);

    // Without --config: tokens go, the registry stays.
    let said = ok(d, &["reset", "--db", "l.db"]);
    assert!(said.contains("2 token(s)"), "{said}");
    assert!(said.contains("signing keys kept"), "{said}");
    assert_eq!(ok(d, &["export", "--db", "l.db"]), exported);
    let said = ok(d, &["reset", "--db", "l.db"]);
    assert!(said.contains("0 token(s)"), "{said}");

    // With --config: what the file does not name is gone.
    ok(d, &["import", "more.toml", "--db", "l.db"]);
    let grown = ok(d, &["export", "--db", "l.db"]);
    assert!(grown.contains("added-later") && grown.contains("bob"), "{grown}");
    let said = ok(d, &["reset", "--db", "l.db", "--config", "base.toml", "--keys"]);
    assert!(
        said.contains("now as in base.toml") && said.contains("signing keys replaced"),
        "{said}"
    );
    let after = ok(d, &["export", "--db", "l.db"]);
    assert_eq!(after, exported);
    // The file's user can still be used (its password was hashed again).
    ok(
        d,
        &["token", "--client", "books-app", "--user", "alice", "--db", "l.db"],
    );
}

#[test]
fn reset_refuses_a_missing_database_a_broken_config_and_memory() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = latchkey(d, &["reset", "--db", "nope.db"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no database at nope.db"));
    assert!(!d.join("nope.db").exists(), "a mistyped --db creates nothing");

    std::fs::write(d.join("base.toml"), BASE).unwrap();
    ok(d, &["import", "base.toml", "--db", "l.db"]);
    ok(d, &["token", "--client", "books-app", "--db", "l.db"]);
    std::fs::write(
        d.join("bad.toml"),
        "[[clients]]\nclient_id = \"x\"\nscopes = [\"nope\"]\n",
    )
    .unwrap();
    let out = latchkey(d, &["reset", "--db", "l.db", "--config", "bad.toml"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml"), "{err}");
    // Nothing was deleted.
    let said = ok(d, &["reset", "--db", "l.db"]);
    assert!(said.contains("1 token(s)"), "the failed reset touched nothing: {said}");

    let out = latchkey(d, &["reset", "--db", ":memory:"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("POST /admin/api/reset"));
}
