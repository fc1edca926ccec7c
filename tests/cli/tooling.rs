//! `latchkey --version`, `latchkey doctor`, `latchkey completions SHELL` and `latchkey healthcheck`.

use std::process::{Command, Output};
use std::time::Duration;

use crate::common::Serve;

fn latchkey(args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    for (k, _) in std::env::vars() {
        if k.starts_with("LATCHKEY_") {
            cmd.env_remove(k);
        }
    }
    cmd.args(args).output().expect("run latchkey")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn version_prints_the_package_version_commit_and_target() {
    let out = latchkey(&["--version"]);
    assert!(out.status.success());
    let line = text(&out.stdout);
    // `latchkey 0.1.0 (commit dev, x86_64-unknown-linux-gnu)`: a test build has no commit set.
    let prefix = format!("latchkey {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(line.starts_with(&prefix), "{line}");
    let (commit, target) = line[prefix.len()..]
        .trim()
        .trim_end_matches(')')
        .split_once(", ")
        .unwrap();
    assert!(
        commit == "dev" || commit.chars().all(|c| c.is_ascii_hexdigit() || c == '-'),
        "{line}"
    );
    assert!(target.starts_with(std::env::consts::ARCH), "{line}");
}

#[test]
fn doctor_reports_the_build_database_ca_ports_and_environment() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("team.db");
    std::fs::write(&db, vec![0u8; 3 * 1024]).unwrap();
    let tls = dir.path().join("tls");
    assert!(latchkey(&["ca", "--tls-dir", tls.to_str().unwrap()]).status.success());
    let mut s = Serve::start(&["--port", "0", "--db", ":memory:"], dir.path());
    s.wait_for("Press Ctrl-C to stop.");
    let busy = port_of(&s);
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let other_port = other.local_addr().unwrap().port().to_string();
    let args = [
        "doctor",
        "--db",
        db.to_str().unwrap(),
        "--tls-dir",
        tls.to_str().unwrap(),
        "--port",
        &busy,
        "--port",
        &free,
        "--port",
        &other_port,
    ];
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    for (k, _) in std::env::vars() {
        if k.starts_with("LATCHKEY_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd
        .args(args)
        .env("LATCHKEY_ADMIN_TOKEN", "very-secret-token")
        .env("LATCHKEY_CONFIG_MODE", "replace")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(
        report.contains(&format!("latchkey     {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "os           {} {}",
            std::env::consts::OS,
            std::env::consts::ARCH
        )),
        "{report}"
    );
    assert!(
        report.contains(&format!("database     {} (3.0 KiB)", db.display())),
        "{report}"
    );
    let fp = std::fs::canonicalize(&tls).unwrap();
    assert!(
        report.contains(&format!("tls ca       {}", fp.join("ca.pem").display()))
            || report.contains(&format!("tls ca       {}", tls.join("ca.pem").display())),
        "{report}"
    );
    assert!(report.contains("SHA-256 "), "{report}");
    assert!(
        report.contains(&format!("port {busy}"))
            && report.contains(&format!("Latchkey answers, issuer http://localhost:{busy}")),
        "{report}"
    );
    assert!(report.contains(&format!("port {free}")), "{report}");
    assert!(report.contains("in use (not a Latchkey"), "{report}");
    assert!(
        report.contains("LATCHKEY_ADMIN_TOKEN=(set)") && !report.contains("very-secret-token"),
        "{report}"
    );
    assert!(report.contains("LATCHKEY_CONFIG_MODE=replace"), "{report}");
    assert!(report.contains("issuer       http://localhost:8000"), "{report}");

    let json = latchkey(&["doctor", "--json", "--db", db.to_str().unwrap(), "--port", &free]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["build"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["database"]["bytes"], 3 * 1024);
    assert_eq!(v["ports"][0]["state"], "free");
    drop(other);
}

#[test]
fn completions_for_each_shell_name_the_subcommands_and_flags() {
    for (shell, marker) in [
        ("bash", "complete -F _latchkey"),
        ("zsh", "#compdef latchkey"),
        ("fish", "complete -c latchkey"),
    ] {
        let out = latchkey(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        assert!(script.contains(marker), "{shell}: no {marker:?} in\n{script}");
        for word in ["serve", "export", "import", "token", "healthcheck", "completions"] {
            assert!(script.contains(word), "{shell}: subcommand {word} missing");
        }
        for flag in ["admin-token", "config", "ready-file", "json-log"] {
            // fish spells a long flag `-l NAME`; bash and zsh `--NAME`.
            let spelled = if shell == "fish" {
                format!("-l {flag}")
            } else {
                format!("--{flag}")
            };
            assert!(script.contains(&spelled), "{shell}: {spelled} missing");
        }
    }
}

#[test]
fn completions_for_an_unknown_shell_list_the_supported_ones() {
    let out = latchkey(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("tcsh") && err.contains("bash") && err.contains("zsh") && err.contains("fish"),
        "{err}"
    );
}

fn port_of(s: &Serve) -> String {
    s.banner_value("listening").rsplit(':').next().unwrap().to_string()
}

#[test]
fn healthcheck_passes_against_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Serve::start(&["--port", "0", "--db", ":memory:"], dir.path());
    s.wait_for("Press Ctrl-C to stop.");
    let port = port_of(&s);

    let out = latchkey(&["healthcheck", "--port", &port]);

    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), format!("healthy: http://localhost:{port}"));
}

#[test]
fn healthcheck_follows_the_issuer_path() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = "http://idp.example:8000/realms/dev";
    let mut s = Serve::start(&["--port", "0", "--db", ":memory:", "--issuer", issuer], dir.path());
    s.wait_for("Press Ctrl-C to stop.");
    let port = port_of(&s);

    let out = latchkey(&["healthcheck", "--port", &port, "--issuer", issuer]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), format!("healthy: {issuer}"));

    // Without the path, the root has no OpenID discovery document.
    let out = latchkey(&["healthcheck", "--port", &port]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("unhealthy: "), "{}", text(&out.stderr));
}

#[test]
fn healthcheck_fails_when_nothing_listens() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port().to_string()
    };
    let out = latchkey(&["healthcheck", "--port", &port]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with(&format!("unhealthy: http://127.0.0.1:{port}/")),
        "{err}"
    );
}

#[test]
fn healthcheck_gives_up_on_a_server_that_never_answers() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port().to_string();
    // Accepts and holds the connection without answering.
    let _held = std::thread::spawn(move || {
        let conn = l.accept();
        std::thread::sleep(Duration::from_secs(5));
        drop(conn);
    });
    let started = std::time::Instant::now();
    let out = latchkey(&["healthcheck", "--port", &port, "--timeout", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(
        text(&out.stderr).contains("did not answer within 1 s"),
        "{}",
        text(&out.stderr)
    );
}
