//! `latchkey doctor`: what a bug report needs, gathered without changing anything.
//!
//! The version, commit and target of this binary; the operating system; the data directory;
//! the database (path, size, write-ahead log); the local CA for `--tls` (whether it exists, its
//! fingerprint); the ports Latchkey uses by default (free, or in use and by whom: a Latchkey
//! answering discovery, or another program); and the `LATCHKEY_*` variables set (secrets shown
//! as `(set)`). Nothing is created: a missing CA or database is reported as missing.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::store::DbLocation;

/// This binary: `version`, `commit` (12 hex digits, or `dev` for a development build) and the
/// Rust `target` triple it was built for.
#[derive(Debug, Clone, Serialize)]
pub struct Build {
    /// The package version (`0.1.0`).
    pub version: &'static str,
    /// The commit it was built from.
    pub commit: &'static str,
    /// The target triple (`x86_64-unknown-linux-musl`).
    pub target: &'static str,
}

/// This binary's build metadata (set by `build.rs`).
pub const BUILD: Build = Build {
    version: env!("CARGO_PKG_VERSION"),
    commit: env!("LATCHKEY_COMMIT"),
    target: env!("LATCHKEY_TARGET"),
};

/// `latchkey --version`: `0.1.0 (commit 1a2b3c4d5e6f, x86_64-unknown-linux-musl)`.
pub const VERSION_LINE: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("LATCHKEY_COMMIT"),
    ", ",
    env!("LATCHKEY_TARGET"),
    ")"
);

/// What one path holds.
#[derive(Debug, Clone, Serialize)]
pub struct FileInfo {
    /// The path.
    pub path: PathBuf,
    /// Whether it exists.
    pub exists: bool,
    /// Its size in bytes (0 when missing or a directory).
    pub bytes: u64,
    /// Whether it is a directory.
    pub directory: bool,
}

impl FileInfo {
    fn of(path: PathBuf) -> FileInfo {
        let meta = std::fs::metadata(&path).ok();
        let directory = meta.as_ref().is_some_and(|m| m.is_dir());
        FileInfo {
            exists: meta.is_some(),
            bytes: meta.filter(|m| m.is_file()).map_or(0, |m| m.len()),
            directory,
            path,
        }
    }
}

/// The local CA (`serve --tls`).
#[derive(Debug, Clone, Serialize)]
pub struct CaInfo {
    /// The TLS directory.
    pub dir: PathBuf,
    /// Whether `ca.pem` and `ca-key.pem` are there.
    pub exists: bool,
    /// SHA-256 of the CA certificate (hex, colon-separated), when it exists.
    pub fingerprint: Option<String>,
}

/// One port Latchkey uses by default.
#[derive(Debug, Clone, Serialize)]
pub struct PortInfo {
    /// The port on 127.0.0.1.
    pub port: u16,
    /// `free`, `latchkey` (a Latchkey answers discovery there: `issuer` says which), or
    /// `in use` (another program, or a server that did not answer discovery over plain HTTP,
    /// such as a Latchkey with `--tls`).
    pub state: String,
    /// The issuer a Latchkey there reports.
    pub issuer: Option<String>,
}

/// Everything `latchkey doctor` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// This binary.
    pub build: Build,
    /// `linux`, `macos`, `windows`, ...
    pub os: &'static str,
    /// `x86_64`, `aarch64`, ...
    pub arch: &'static str,
    /// The distribution or OS version, where the system says (`/etc/os-release` on Linux).
    pub os_release: Option<String>,
    /// The issuer `latchkey serve` would use with these settings: `LATCHKEY_ISSUER`, else
    /// `http://localhost:<LATCHKEY_PORT or 8000>` (`https` and 8443 with `LATCHKEY_TLS`).
    pub issuer: String,
    /// Latchkey's data directory (`<data dir>/latchkey`).
    pub data_dir: FileInfo,
    /// The database `serve` opens without `--db` (or the one given), and its write-ahead log.
    pub database: FileInfo,
    /// The write-ahead log next to the database.
    pub database_wal: FileInfo,
    /// The local CA.
    pub tls: CaInfo,
    /// The default ports (8000 and 8443, or the one asked about).
    pub ports: Vec<PortInfo>,
    /// `LATCHKEY_*` variables in the environment; secrets are shown as `(set)`.
    pub environment: Vec<(String, String)>,
}

/// Variables whose values are never printed.
const SECRET_VARS: &[&str] = &["LATCHKEY_ADMIN_TOKEN"];

/// Gathers the report. `db` defaults to [`DbLocation::default_file`], `tls_dir` to
/// [`crate::tls::default_dir`], `ports` to 8000 and 8443; each port is probed over plain HTTP
/// for at most `timeout`.
pub async fn gather(db: Option<DbLocation>, tls_dir: Option<PathBuf>, ports: &[u16], timeout: Duration) -> Report {
    let data_dir = dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("latchkey");
    let db_path = match db.unwrap_or_else(DbLocation::default_file) {
        DbLocation::File(p) => p,
        DbLocation::Memory => PathBuf::from(":memory:"),
    };
    let mut wal = db_path.clone().into_os_string();
    wal.push("-wal");
    let tls_dir = tls_dir.unwrap_or_else(crate::tls::default_dir);
    let mut probed = Vec::new();
    for &port in ports {
        probed.push(port_info(port, timeout).await);
    }
    let mut environment: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("LATCHKEY_"))
        .map(|(k, v)| {
            let shown = if SECRET_VARS.contains(&k.as_str()) {
                "(set)".to_string()
            } else {
                v
            };
            (k, shown)
        })
        .collect();
    environment.sort();
    let tls_on = std::env::var("LATCHKEY_TLS").is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes" | "on"));
    let issuer = std::env::var("LATCHKEY_ISSUER")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| {
            let port = std::env::var("LATCHKEY_PORT").ok().filter(|v| !v.is_empty());
            let (scheme, default) = if tls_on { ("https", "8443") } else { ("http", "8000") };
            format!("{scheme}://localhost:{}", port.as_deref().unwrap_or(default))
        });
    Report {
        issuer,
        build: BUILD,
        os: std::env::consts::OS,
        arch: std::env::consts::ARCH,
        os_release: os_release(),
        data_dir: FileInfo::of(data_dir),
        database: FileInfo::of(db_path),
        database_wal: FileInfo::of(PathBuf::from(wal)),
        tls: ca_info(&tls_dir),
        ports: probed,
        environment,
    }
}

fn ca_info(dir: &Path) -> CaInfo {
    let ca = crate::tls::LocalCa {
        dir: dir.to_path_buf(),
        created: false,
    };
    let exists = ca.ca_cert_path().is_file() && ca.ca_key_path().is_file();
    CaInfo {
        dir: dir.to_path_buf(),
        exists,
        fingerprint: if exists { ca.fingerprint().ok() } else { None },
    }
}

/// `PRETTY_NAME` from `/etc/os-release` (Linux); `None` elsewhere.
fn os_release() -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim().trim_matches('"').to_string())
}

async fn port_info(port: u16, timeout: Duration) -> PortInfo {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    if TcpListener::bind(addr).is_ok() {
        return PortInfo {
            port,
            state: "free".into(),
            issuer: None,
        };
    }
    match tokio::time::timeout(timeout, probe_discovery(port, "")).await {
        Ok(Ok(issuer)) => PortInfo {
            port,
            state: "latchkey".into(),
            issuer: Some(issuer),
        },
        _ => PortInfo {
            port,
            state: "in use".into(),
            issuer: None,
        },
    }
}

/// Asks `http://127.0.0.1:{port}{path}/.well-known/openid-configuration` for its issuer
/// (`latchkey healthcheck`, `latchkey doctor`). Errors: the URL and what went wrong (no answer,
/// an HTTP error status, not a discovery document). The caller bounds the time.
pub async fn probe_discovery(port: u16, path: &str) -> Result<String, String> {
    let url = format!("http://127.0.0.1:{port}{path}/.well-known/openid-configuration");
    let client =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http::<String>();
    let uri: hyper::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
    let resp = client.get(uri).await.map_err(|e| format!("{url}: {e}"))?;
    let status = resp.status();
    let body = axum::body::to_bytes(axum::body::Body::new(resp.into_body()), 1 << 20)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let doc: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| format!("{url}: {status}, not a JSON discovery document"))?;
    match (status.is_success(), doc.get("issuer").and_then(|i| i.as_str())) {
        (true, Some(i)) => Ok(i.to_string()),
        _ => Err(format!("{url}: {status}")),
    }
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1u32 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} bytes"),
    }
}

fn file_line(f: &FileInfo) -> String {
    if f.directory {
        format!("{} (exists)", f.path.display())
    } else if f.exists {
        format!("{} ({})", f.path.display(), size(f.bytes))
    } else {
        format!("{} (missing)", f.path.display())
    }
}

impl Report {
    /// The report as text, one `name: value` line each, for pasting into an issue.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let mut line = |k: &str, v: String| out.push_str(&format!("{k:<13}{v}\n"));
        line(
            "latchkey",
            format!("{} (commit {})", self.build.version, self.build.commit),
        );
        line("target", self.build.target.to_string());
        line(
            "os",
            match &self.os_release {
                Some(r) => format!("{} {} ({r})", self.os, self.arch),
                None => format!("{} {}", self.os, self.arch),
            },
        );
        line("issuer", format!("{} (what serve would use here)", self.issuer));
        line("data dir", file_line(&self.data_dir));
        line("database", file_line(&self.database));
        if self.database_wal.exists {
            line("database wal", file_line(&self.database_wal));
        }
        line(
            "tls ca",
            match (&self.tls.exists, &self.tls.fingerprint) {
                (true, Some(fp)) => format!("{} (SHA-256 {fp})", self.tls.dir.join("ca.pem").display()),
                _ => format!(
                    "none yet in {} (made by serve --tls or latchkey ca)",
                    self.tls.dir.display()
                ),
            },
        );
        for p in &self.ports {
            line(
                &format!("port {}", p.port),
                match (p.state.as_str(), &p.issuer) {
                    ("latchkey", Some(i)) => format!("Latchkey answers, issuer {i}"),
                    ("free", _) => "free".into(),
                    _ => "in use (not a Latchkey answering plain HTTP discovery)".into(),
                },
            );
        }
        if self.environment.is_empty() {
            line("environment", "no LATCHKEY_* variables".into());
        } else {
            for (k, v) in &self.environment {
                line("environment", format!("{k}={v}"));
            }
        }
        out
    }
}
