//! `latchkey exec`: the environment, exit codes, signals and clean-up.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::http_get;

const CONFIG: &str = r#"
[[scopes]]
name = "read_books"

[[clients]]
client_id = "books-app"
client_secret = "books-secret-0123456789"
grant_types = ["client_credentials"]
scopes = ["read_books"]

[[clients]]
client_id = "svc.orders"
client_secret = "orders-secret-0123456789"
grant_types = ["client_credentials"]
scopes = []

[[clients]]
client_id = "spa"
token_endpoint_auth_method = "none"
redirect_uris = ["http://localhost:3000/cb"]
grant_types = ["authorization_code"]
scopes = ["openid"]
"#;

fn exec_command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    cmd.arg("exec").args(args).current_dir(dir).stdin(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("LATCHKEY_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

fn exec(dir: &Path, args: &[&str]) -> Output {
    exec_command(dir, args).output().expect("run latchkey exec")
}

fn wait_for_file(path: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(t) = std::fs::read_to_string(path)
            && t.ends_with('\n')
        {
            return t;
        }
        assert!(Instant::now() < deadline, "no {} after 30 s", path.display());
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A spawned `latchkey exec`, killed if a failed assertion leaves it running (its command
/// follows it: PR_SET_PDEATHSIG).
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn port_is_free(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
}

fn process_exists(pid: &str) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn the_command_gets_the_servers_urls_and_client_secrets_and_the_server_answers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("latchkey.toml"), CONFIG).unwrap();
    // The command writes its environment, then waits until the test has used the server.
    let script = "env | grep '^LATCHKEY_' | sort > env.txt.tmp; mv env.txt.tmp env.txt; \
                  while [ ! -f done ]; do sleep 0.01; done; exit 0";
    let mut guard = Running(
        exec_command(dir.path(), &["--config", "latchkey.toml", "--", "sh", "-c", script])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let envs = {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(t) = std::fs::read_to_string(dir.path().join("env.txt")) {
                break t;
            }
            assert!(Instant::now() < deadline, "the command never started");
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    let vars: std::collections::HashMap<&str, &str> = envs.lines().filter_map(|l| l.split_once('=')).collect();
    let issuer = vars["LATCHKEY_ISSUER"];
    let url = vars["LATCHKEY_URL"];
    let port: u16 = url.strip_prefix("http://127.0.0.1:").expect(url).parse().unwrap();
    assert_eq!(issuer, format!("http://localhost:{port}"));
    assert_eq!(vars["LATCHKEY_ADMIN_URL"], format!("{issuer}/admin/api"));
    assert_eq!(vars["LATCHKEY_CLIENT_BOOKS_APP_SECRET"], "books-secret-0123456789");
    assert_eq!(vars["LATCHKEY_CLIENT_SVC_ORDERS_SECRET"], "orders-secret-0123456789");
    assert!(
        !vars.contains_key("LATCHKEY_CLIENT_SPA_SECRET"),
        "a public client has no secret: {envs}"
    );
    assert!(!vars.contains_key("LATCHKEY_ADMIN_TOKEN"), "{envs}");

    // The server is up when the command starts, with the config applied and an empty database.
    let addr = format!("127.0.0.1:{port}");
    let (status, body) = http_get(&addr, "/.well-known/openid-configuration");
    assert!(status.contains(" 200 "), "{status}");
    assert!(body.contains(&format!("\"issuer\":\"{issuer}\"")), "{body}");
    let (status, body) = http_get(&addr, "/admin/api/clients");
    assert!(status.contains(" 200 "), "{status}");
    assert!(body.contains("svc.orders"), "{body}");
    let (_, status_doc) = http_get(&addr, "/admin/api/status");
    let status_doc: serde_json::Value = serde_json::from_str(&status_doc).unwrap();
    let counts = status_doc["counts"]["tokens"].as_object().unwrap();
    assert!(counts.values().all(|n| n == 0), "a fresh database: {status_doc}");

    std::fs::write(dir.path().join("done"), "").unwrap();
    let status = guard.0.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(guard.0.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    let out = std::process::Output {
        status,
        stdout: Vec::new(),
        stderr: stderr.into_bytes(),
    };
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(port_is_free(port), "the port is released when the command ends");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!(
            "latchkey exec: Latchkey {} at {issuer} (:memory:)",
            env!("CARGO_PKG_VERSION")
        )),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn exec_exits_with_the_commands_status_or_128_plus_its_signal() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(exec(dir.path(), &["--", "sh", "-c", "exit 0"]).status.code(), Some(0));
    assert_eq!(exec(dir.path(), &["--", "sh", "-c", "exit 7"]).status.code(), Some(7));
    assert_eq!(
        exec(dir.path(), &["-q", "--", "sh", "-c", "exit 255"]).status.code(),
        Some(255)
    );
    assert_eq!(
        exec(dir.path(), &["--", "sh", "-c", "kill -TERM $$"]).status.code(),
        Some(143)
    );
    assert_eq!(
        exec(dir.path(), &["--", "sh", "-c", "kill -KILL $$"]).status.code(),
        Some(137)
    );
    // Without `--` too, and the command's own flags are its own.
    assert_eq!(
        exec(dir.path(), &["sh", "-c", "exit 3", "--quiet"]).status.code(),
        Some(3)
    );
    let out = exec(dir.path(), &["-q", "--", "sh", "-c", "echo out; echo err >&2"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "out\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "err\n", "--quiet adds nothing");
}

#[test]
fn latchkeys_own_failures_have_their_own_exit_codes_and_messages() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    let out = exec(d, &["--", "no-such-command-latchkey-test"]);
    assert_eq!(out.status.code(), Some(127));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim(),
        "latchkey exec: command not found: no-such-command-latchkey-test"
    );

    std::fs::write(d.join("not-executable.sh"), "#!/bin/sh\nexit 0\n").unwrap();
    let out = exec(d, &["--", "./not-executable.sh"]);
    assert_eq!(out.status.code(), Some(126));
    assert!(String::from_utf8_lossy(&out.stderr).contains("latchkey exec: cannot run ./not-executable.sh"));

    std::fs::write(d.join("bad.toml"), "[[clients]]\nclient_id = \"x\"\nbogus = 1\n").unwrap();
    let out = exec(d, &["--config", "bad.toml", "--", "sh", "-c", "echo ran"]);
    assert_eq!(out.status.code(), Some(78));
    assert!(out.stdout.is_empty(), "the command does not run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("latchkey exec: the config file does not load: bad.toml:3"),
        "{err}"
    );
    let out = exec(d, &["--config", "missing.toml", "--", "true"]);
    assert_eq!(out.status.code(), Some(78));

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = exec(d, &["--port", &port, "--", "sh", "-c", "echo ran"]);
    assert_eq!(out.status.code(), Some(69));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("latchkey exec: the server did not start: port"),
        "{err}"
    );

    let out = exec(d, &["--db", "/proc/no/such/dir/l.db", "--", "true"]);
    assert_eq!(out.status.code(), Some(69), "{}", String::from_utf8_lossy(&out.stderr));

    let out = exec(d, &[]);
    assert_eq!(out.status.code(), Some(2), "usage error");
}

fn forwards(sig: &str, code: i32) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The command reports its pid and port, then waits; on the signal it writes a file and exits 3.
    let script = format!(
        "trap 'echo got > trapped; exit 3' {sig}; echo \"$$ ${{LATCHKEY_URL##*:}}\" > pid.tmp; mv pid.tmp pid; \
         while :; do sleep 0.01; done"
    );
    let mut guard = Running(
        exec_command(d, &["-q", "--", "sh", "-c", &script])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let child = &mut guard.0;
    let started = wait_for_file(&d.join("pid"));
    let (pid, port) = started.trim().split_once(' ').unwrap();
    let port: u16 = port.parse().unwrap();
    assert!(!port_is_free(port));
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(ok.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "latchkey exec did not stop after SIG{sig}");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(code), "SIG{sig}");
    assert_eq!(
        std::fs::read_to_string(d.join("trapped")).unwrap(),
        "got\n",
        "the command got SIG{sig}"
    );
    // Nothing is left: the command (and the sleep it ran) is gone, the port is free.
    let deadline = Instant::now() + Duration::from_secs(5);
    while process_exists(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!process_exists(pid), "the command's process {pid} is left behind");
    assert!(port_is_free(port), "the port is released");
}

#[test]
fn sigterm_is_passed_to_the_command_and_its_status_returned() {
    forwards("TERM", 3);
}

#[test]
fn sigint_from_a_script_is_passed_to_the_command() {
    forwards("INT", 3);
}

#[test]
fn sighup_is_passed_to_the_command() {
    forwards("HUP", 3);
}

#[test]
fn a_killed_exec_takes_its_command_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut guard = Running(
        exec_command(
            d,
            &[
                "-q",
                "--",
                "sh",
                "-c",
                "echo $$ > pid.tmp; mv pid.tmp pid; exec sleep 60",
            ],
        )
        .stdout(Stdio::null())
        .spawn()
        .unwrap(),
    );
    let child = &mut guard.0;
    let pid = wait_for_file(&d.join("pid")).trim().to_string();
    child.kill().unwrap();
    child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while process_exists(&pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!process_exists(&pid), "the command outlived a SIGKILLed latchkey exec");
}

#[test]
fn the_admin_token_is_passed_and_reset_works_on_the_in_memory_database() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("latchkey.toml"), CONFIG).unwrap();
    let script = "env | grep '^LATCHKEY_' > env.tmp; mv env.tmp env.txt; while [ ! -f done ]; do sleep 0.01; done";
    let mut guard = Running(
        exec_command(
            d,
            &[
                "-q",
                "--config",
                "latchkey.toml",
                "--admin-token",
                "a-long-enough-admin-token",
                "--",
                "sh",
                "-c",
                script,
            ],
        )
        .stdout(Stdio::null())
        .spawn()
        .unwrap(),
    );
    let child = &mut guard.0;
    let envs = wait_for_file(&d.join("env.txt"));
    assert!(
        envs.contains("LATCHKEY_ADMIN_TOKEN=a-long-enough-admin-token\n"),
        "{envs}"
    );
    let url = envs
        .lines()
        .find_map(|l| l.strip_prefix("LATCHKEY_URL=http://"))
        .unwrap()
        .to_string();
    // Reset answers on the :memory: database, with the token.
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(&url).unwrap();
    write!(
        s,
        "POST /admin/api/reset HTTP/1.1\r\nHost: {url}\r\nAuthorization: Bearer a-long-enough-admin-token\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    assert!(raw.contains("\"tokens\":0"), "{raw}");
    std::fs::write(d.join("done"), "").unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

/// `--tls`: the command trusts Latchkey's CA through the variables its runtime reads, with
/// verification on: Python's default context (SSL_CERT_FILE), Node.js's fetch
/// (NODE_EXTRA_CA_CERTS) and curl (CURL_CA_BUNDLE). The bundle keeps the system's roots.
#[test]
fn exec_tls_sets_the_trust_variables_and_runtimes_verify_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let tls = dir.path().join("tls");
    let script = r#"set -e
env | grep -E '^(LATCHKEY_|NODE_EXTRA_CA_CERTS|DENO_CERT|SSL_CERT_FILE|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE)' | sort > env.txt
python3 -c 'import json, os, urllib.request; print("python", json.load(urllib.request.urlopen(os.environ["LATCHKEY_ISSUER"] + "/.well-known/openid-configuration"))["issuer"])'
node -e 'fetch(process.env.LATCHKEY_URL + "/.well-known/openid-configuration").then(r => r.json()).then(j => console.log("node", j.issuer)).catch(e => { console.error(e.cause ?? e); process.exit(3); })'
curl -sSf "$LATCHKEY_ISSUER/.well-known/openid-configuration" -o /dev/null && echo curl ok
"#;
    let out = exec(
        dir.path(),
        &["--tls", "--tls-dir", tls.to_str().unwrap(), "--", "sh", "-c", script],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let envs = std::fs::read_to_string(dir.path().join("env.txt")).unwrap();
    let vars: std::collections::HashMap<&str, &str> = envs.lines().filter_map(|l| l.split_once('=')).collect();
    let issuer = vars["LATCHKEY_ISSUER"];
    assert!(issuer.starts_with("https://localhost:"), "{envs}");
    assert!(vars["LATCHKEY_URL"].starts_with("https://127.0.0.1:"), "{envs}");
    let ca = std::fs::canonicalize(tls.join("ca.pem")).unwrap();
    let bundle = std::fs::canonicalize(tls.join("bundle.pem")).unwrap();
    for k in ["LATCHKEY_CA_CERT", "NODE_EXTRA_CA_CERTS", "DENO_CERT"] {
        assert_eq!(vars[k], ca.display().to_string(), "{k}: {envs}");
    }
    for k in ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"] {
        assert_eq!(vars[k], bundle.display().to_string(), "{k}: {envs}");
    }
    assert!(stdout.contains(&format!("python {issuer}")), "{stdout}");
    assert!(stdout.contains(&format!("node {issuer}")), "{stdout}");
    assert!(stdout.contains("curl ok"), "{stdout}");
    // The bundle ends with the CA and, where the system has a bundle, starts with it.
    let text = std::fs::read_to_string(&bundle).unwrap();
    assert!(
        text.trim_end()
            .ends_with(std::fs::read_to_string(&ca).unwrap().trim_end())
    );
    if let Some(system) = latchkey::tls::system_bundle() {
        let sys = std::fs::read_to_string(system).unwrap();
        assert!(text.starts_with(sys.trim_end()), "the system's roots come first");
    }
}

#[test]
fn a_scenario_is_applied_before_the_command_runs_and_an_unknown_one_stops_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "{CONFIG}\n[[scenarios]]\nname = \"token endpoint down\"\n[[scenarios.faults]]\nname = \"token 503\"\nendpoint = \"token\"\naction = \"status\"\nstatus = 503\n"
    );
    std::fs::write(dir.path().join("latchkey.toml"), config).unwrap();
    let script = "echo $LATCHKEY_URL > url.txt.tmp; mv url.txt.tmp url.txt; while [ ! -f done ]; do sleep 0.01; done";
    let _guard = Running(
        exec_command(
            dir.path(),
            &[
                "--config",
                "latchkey.toml",
                "--scenario",
                "token endpoint down",
                "--",
                "sh",
                "-c",
                script,
            ],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap(),
    );
    let url = wait_for_file(&dir.path().join("url.txt"));
    let addr = url.trim().strip_prefix("http://").unwrap().to_string();
    let (status, body) = http_get(&addr, "/admin/api/faults");
    assert!(status.contains(" 200 "), "{status}");
    assert!(body.contains("\"name\":\"token 503\""), "{body}");
    std::fs::write(dir.path().join("done"), "").unwrap();

    let out = exec(
        dir.path(),
        &[
            "--config",
            "latchkey.toml",
            "--scenario",
            "nope",
            "--",
            "sh",
            "-c",
            "echo ran",
        ],
    );
    assert_eq!(out.status.code(), Some(78));
    assert!(out.stdout.is_empty(), "the command does not run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--scenario: no scenario `nope`"), "{err}");
}
