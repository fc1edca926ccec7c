//! `latchkey serve`: what it prints on start-up and how it stops.

use std::time::Duration;

use crate::common::{Serve, http_get};

#[test]
fn start_up_prints_the_issuer_the_database_and_the_admin_url() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("banner.db");
    let mut s = Serve::start(&["--port", "0", "--db", db.to_str().unwrap()], dir.path());
    s.wait_for("Press Ctrl-C to stop.");
    assert!(
        s.stdout[0].starts_with("Latchkey ") && s.stdout[0].ends_with("is running"),
        "{:?}",
        s.stdout
    );

    let listening = s.banner_value("listening");
    let addr = listening
        .strip_prefix("http://")
        .expect("listening http://…")
        .to_string();
    let port: u16 = addr.rsplit(':').next().unwrap().parse().unwrap();
    assert_ne!(port, 0, "the real port is announced, not 0");

    let issuer = s.banner_value("issuer");
    assert!(issuer.starts_with("http://"), "{issuer}");
    assert!(
        issuer.contains(&port.to_string()),
        "the issuer names the bound port: {issuer}"
    );

    let admin = s.banner_value("admin UI");
    assert!(admin.starts_with("http://") && admin.contains("/admin"), "{admin}");
    assert!(admin.contains(&port.to_string()), "{admin}");
    assert!(!admin.contains("access_token"), "no admin token was set: {admin}");

    assert_eq!(s.banner_value("database"), db.display().to_string());
    assert!(db.exists(), "the database file is created");

    // It really serves what it announced.
    let (status, body) = http_get(&addr, "/.well-known/openid-configuration");
    assert!(status.contains(" 200 "), "{status}\n{body}");
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["issuer"], issuer.as_str());
}

#[test]
fn an_admin_token_is_not_printed() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Serve::start(
        &[
            "--port",
            "0",
            "--db",
            ":memory:",
            "--admin-token",
            "hunter2-secret-long-enough",
        ],
        dir.path(),
    );
    s.wait_for("Press Ctrl-C to stop.");
    let admin = s.banner_value("admin UI");
    assert!(admin.contains("access_token=<your --admin-token>"), "{admin}");
    assert!(
        !s.stdout.join("\n").contains("hunter2-secret-long-enough"),
        "{:?}",
        s.stdout
    );
    assert_eq!(s.banner_value("database"), ":memory:");
}

fn stops_gracefully_on(sig: &str) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("signal.db");
    let mut s = Serve::start(&["--port", "0", "--db", db.to_str().unwrap()], dir.path());
    s.wait_for("Press Ctrl-C to stop.");
    let addr = s.banner_value("listening").trim_start_matches("http://").to_string();
    s.signal(sig);
    let status = s
        .wait_exit(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("still running 10 s after SIG{sig}; stderr:\n{}", s.drain_stderr()));
    assert!(
        status.success(),
        "SIG{sig}: exit {status:?}; stderr:\n{}",
        s.drain_stderr()
    );
    // The port is released.
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "{addr} still accepts connections"
    );
}

#[test]
fn sigterm_exits_0_within_10_seconds() {
    stops_gracefully_on("TERM");
}

#[test]
fn sigint_exits_0_within_10_seconds() {
    stops_gracefully_on("INT");
}

#[test]
fn data_survives_a_sigterm_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("restart.db");
    let db_arg = db.to_str().unwrap();

    let mut s = Serve::start(&["--port", "0", "--db", db_arg], dir.path());
    s.wait_for("Press Ctrl-C to stop.");
    let addr = s.banner_value("listening").trim_start_matches("http://").to_string();
    let (_, jwks) = http_get(&addr, "/jwks");
    s.signal("TERM");
    let st = s.wait_exit(Duration::from_secs(10));
    assert!(
        st.is_some_and(|st| st.success()),
        "{st:?}; stderr:\n{}",
        s.drain_stderr()
    );

    let mut s = Serve::start(&["--port", "0", "--db", db_arg], dir.path());
    s.wait_for("Press Ctrl-C to stop.");
    let addr = s.banner_value("listening").trim_start_matches("http://").to_string();
    let (_, again) = http_get(&addr, "/jwks");
    let kids = |body: &str| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
        v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(kids(&jwks), kids(&again), "the signing key is kept in the database");
    s.signal("TERM");
    let st = s.wait_exit(Duration::from_secs(10));
    assert!(
        st.is_some_and(|st| st.success()),
        "{st:?}; stderr:\n{}",
        s.drain_stderr()
    );
}
