//! The `latchkey` binary: start-up errors are one clear message and a non-zero exit.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use crate::common::serve_command;

/// Runs `latchkey serve ARGS` and waits (at most 30 s) for it to exit.
fn serve(args: &[&str], dir: &Path) -> Output {
    let mut child = serve_command(args, dir, "warn").spawn().expect("run latchkey");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "latchkey serve {args:?} did not exit within 30 s; stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn serve_with_config(contents: &str) -> (Output, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("broken.toml"), contents).unwrap();
    let out = serve(
        &["--config", "broken.toml", "--db", ":memory:", "--port", "0"],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stderr)
}

#[test]
fn an_unknown_key_exits_non_zero_naming_the_file_and_line() {
    let (out, stderr) = serve_with_config("[server]\naccess_token_ttl = 60\ncolour = \"blue\"\n");
    assert!(!out.status.success(), "exit {:?}; stderr: {stderr}", out.status);
    assert!(stderr.contains("broken.toml:3"), "{stderr}");
    assert!(stderr.contains("colour"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing announced as running");
}

#[test]
fn a_syntax_error_exits_non_zero_naming_the_file_and_line() {
    let (out, stderr) = serve_with_config("[server]\naccess_token_ttl = 60\nid_token_ttl = = 5\n");
    assert!(!out.status.success(), "exit {:?}; stderr: {stderr}", out.status);
    assert!(stderr.contains("broken.toml:3"), "{stderr}");
}

#[test]
fn an_invalid_value_exits_non_zero_naming_the_line_and_key() {
    let (out, stderr) = serve_with_config(
        "[[clients]]\nclient_id = \"a\"\nclient_secret = \"s\"\nscopes = [\"openid\", \"missing\"]\n",
    );
    assert!(!out.status.success(), "exit {:?}; stderr: {stderr}", out.status);
    assert!(stderr.contains("broken.toml:4"), "{stderr}");
    assert!(stderr.contains("clients[0].scopes[1]"), "{stderr}");
}

#[test]
fn a_port_in_use_is_a_one_line_error_naming_the_port_and_the_flag() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = serve(&["--db", ":memory:", "--port", &port], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "exit {:?}; stderr: {stderr}", out.status);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got:\n{stderr}");
    assert!(lines[0].contains(&port), "{stderr}");
    assert!(lines[0].contains("--port"), "{stderr}");
    drop(taken);
}
