//! Running `latchkey serve` in the background and reading its banner.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// `latchkey serve ARGS` in `dir` with stdout and stderr piped, the environment cleared of
/// `LATCHKEY_*` (so the user's settings never leak in) and the log filter set to `log`.
pub fn serve_command(args: &[&str], dir: &Path, log: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    cmd.arg("serve")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, _) in std::env::vars() {
        if k.starts_with("LATCHKEY_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("LATCHKEY_LOG", log);
    cmd
}

/// A running `latchkey serve`, killed on drop if still alive.
pub struct Serve {
    pub child: Child,
    /// Every stdout line so far.
    pub stdout: Vec<String>,
    lines: Receiver<String>,
    stderr: Receiver<String>,
}

fn forward(r: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Serve {
    /// Starts `latchkey serve ARGS` in `dir` (see [`serve_command`]), logging at `info`.
    pub fn start(args: &[&str], dir: &Path) -> Serve {
        let mut child = serve_command(args, dir, "info").spawn().expect("run latchkey");
        let lines = forward(child.stdout.take().unwrap());
        let stderr = forward(child.stderr.take().unwrap());
        Serve {
            child,
            stdout: Vec::new(),
            lines,
            stderr,
        }
    }

    /// Reads stdout until a line contains `needle` (at most 30 s); returns that line.
    pub fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.stdout.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no stdout line with {needle:?}; stdout so far:\n{}\nstderr:\n{}",
                    self.stdout.join("\n"),
                    self.drain_stderr()
                ),
            }
        }
    }

    /// The line starting (after indentation) with `label`, from the banner read so far.
    pub fn banner_value(&self, label: &str) -> String {
        self.stdout
            .iter()
            .find_map(|l| l.trim_start().strip_prefix(label).map(|v| v.trim().to_string()))
            .unwrap_or_else(|| panic!("no `{label}` line in:\n{}", self.stdout.join("\n")))
    }

    /// Moves every stdout line received so far into `stdout`.
    pub fn drain_stdout(&mut self) {
        self.stdout.extend(self.lines.try_iter());
    }

    pub fn drain_stderr(&self) -> String {
        self.stderr.try_iter().collect::<Vec<_>>().join("\n")
    }

    /// Sends a signal with `kill -SIG PID`, as soon as asked: `latchkey serve` installs its
    /// SIGINT and SIGTERM handlers before it prints its banner, so a signal sent the instant the
    /// banner appears must already shut it down gracefully.
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(ok.success(), "kill -{sig} failed");
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(s) = self.child.try_wait().expect("wait") {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A plain HTTP/1.1 GET; returns the status line and the body.
pub fn http_get(addr: &str, path: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw.lines().next().unwrap_or_default().to_string();
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}
