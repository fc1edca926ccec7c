//! `latchkey serve` for machines: `--port 0`, `--ready-file`, `--quiet`, `--json-log`.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{Serve, http_get};

/// Polls for `path` the way a wrapper script would, returning its contents.
fn wait_for_file(path: &Path, s: &mut Serve) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            return text;
        }
        if let Some(status) = s.child.try_wait().unwrap() {
            panic!(
                "latchkey exited ({status}) before writing {}: {}",
                path.display(),
                s.drain_stderr()
            );
        }
        assert!(Instant::now() < deadline, "no ready file after 30 s");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn port_0_and_a_ready_file_give_a_wrapper_the_real_issuer() {
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready");
    // A stale file from an earlier run is not mistaken for this one.
    std::fs::write(&ready, "http://localhost:1").unwrap();
    let mut s = Serve::start(
        &[
            "--port",
            "0",
            "--db",
            ":memory:",
            "--quiet",
            "--ready-file",
            ready.to_str().unwrap(),
        ],
        dir.path(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let issuer = loop {
        let text = wait_for_file(&ready, &mut s);
        if text != "http://localhost:1" {
            break text;
        }
        assert!(Instant::now() < deadline, "the stale ready file was never replaced");
        std::thread::sleep(Duration::from_millis(5));
    };
    assert!(!issuer.ends_with('\n'), "the URL alone: {issuer:?}");
    let port: u16 = issuer
        .strip_prefix("http://localhost:")
        .expect(&issuer)
        .parse()
        .unwrap();
    assert_ne!(port, 0);
    // Its own readiness probe is not in the request log: the log is empty until an app calls.
    let (status, body) = http_get(&format!("127.0.0.1:{port}"), "/admin/api/requests");
    assert!(status.contains(" 200 "), "{status}");
    let log: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(log["items"], serde_json::json!([]), "{log}");
    // It answers at once, and says the issuer it wrote.
    let (status, body) = http_get(&format!("127.0.0.1:{port}"), "/.well-known/openid-configuration");
    assert!(status.contains(" 200 "), "{status}");
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["issuer"], issuer.as_str());
    assert_eq!(doc["token_endpoint"], format!("{issuer}/token"));
    // No temporary file is left beside it.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names, vec!["ready".to_string()], "{names:?}");

    s.signal("TERM");
    let status = s.wait_exit(Duration::from_secs(10)).expect("stops on SIGTERM");
    assert!(status.success(), "{status}");
    assert!(!ready.exists(), "the ready file is removed when the server stops");
    // --quiet: no banner, no request lines.
    std::thread::sleep(Duration::from_millis(100));
    s.drain_stdout();
    assert!(s.stdout.is_empty(), "{:?}", s.stdout);
    let err = s.drain_stderr();
    assert!(!err.contains("GET /.well-known"), "quiet logs no requests: {err}");
}

#[test]
fn a_ready_file_in_a_missing_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("no/such/dir/ready");
    let mut s = Serve::start(
        &[
            "--port",
            "0",
            "--db",
            ":memory:",
            "--ready-file",
            ready.to_str().unwrap(),
        ],
        dir.path(),
    );
    let status = s.wait_exit(Duration::from_secs(30)).expect("exits");
    assert!(!status.success());
    std::thread::sleep(Duration::from_millis(100));
    let err = s.drain_stderr();
    assert!(
        err.contains("--ready-file") && err.contains("no/such/dir/ready"),
        "{err}"
    );
}

#[test]
fn json_log_writes_one_json_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Serve::start(&["--port", "0", "--db", ":memory:", "--json-log"], dir.path());
    let banner: serde_json::Value = serde_json::from_str(&s.wait_for("\"event\"")).unwrap();
    assert_eq!(banner["event"], "ready");
    let port = banner["port"].as_u64().unwrap();
    assert_ne!(port, 0);
    assert_eq!(banner["issuer"], format!("http://localhost:{port}"));
    assert_eq!(banner["database"], ":memory:");
    let (status, _) = http_get(&format!("127.0.0.1:{port}"), "/jwks");
    assert!(status.contains(" 200 "), "{status}");
    s.signal("TERM");
    s.wait_exit(Duration::from_secs(10)).expect("stops");
    std::thread::sleep(Duration::from_millis(100));
    let err = s.drain_stderr();
    let lines: Vec<serde_json::Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let request = lines
        .iter()
        .find(|l| l["message"].as_str().is_some_and(|m| m.starts_with("GET /jwks 200")))
        .unwrap_or_else(|| panic!("no request line in {err}"));
    assert_eq!(request["level"], "INFO");
    assert!(request["timestamp"].is_string(), "{request}");
    assert!(lines.iter().any(|l| l["message"] == "shutting down"), "{err}");
}
