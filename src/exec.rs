//! `latchkey exec -- COMMAND ARGS...`: run a test command against a fresh server.
//!
//! The server runs in this process (no second process to find, wait for or clean up): it binds
//! a free loopback port, opens an in-memory database unless told otherwise, applies the config
//! file, and once it answers a discovery request over its socket the command starts with
//! [`ENV_ISSUER`], [`ENV_URL`], [`ENV_ADMIN_URL`] and one `LATCHKEY_CLIENT_<ID>_SECRET` per
//! confidential client ([`client_secret_var`]) in its environment; with `--tls`, also the
//! variables that make common runtimes trust Latchkey's CA ([`crate::tls::LocalCa::trust_environment`]). Signals sent to
//! `latchkey exec` are passed on to the command; when the command ends, the server stops and
//! `latchkey exec` exits with the command's status (a signal `n` as `128 + n`, as shells do).
//!
//! When Latchkey itself fails, the exit status says where ([`EXIT_CONFIG`], [`EXIT_SERVER`],
//! [`EXIT_NOT_EXECUTABLE`], [`EXIT_NOT_FOUND`]) and one line on stderr starting with
//! `latchkey exec:` says why.

use std::collections::HashMap;
use std::ffi::OsString;
use std::process::ExitStatus;
use std::time::Duration;

use crate::server::{RunningServer, ServeOptions, StartError};

/// The issuer identifier (`iss`, discovery's `issuer`): `http://localhost:<port>` by default.
pub const ENV_ISSUER: &str = "LATCHKEY_ISSUER";
/// Where to send requests: `http://127.0.0.1:<port>` (the bound address).
pub const ENV_URL: &str = "LATCHKEY_URL";
/// The admin API's base URL, `<issuer>/admin/api` (no trailing slash): `POST
/// $LATCHKEY_ADMIN_URL/reset` resets the server between tests.
pub const ENV_ADMIN_URL: &str = "LATCHKEY_ADMIN_URL";
/// The admin token, when `--admin-token` was given.
pub const ENV_ADMIN_TOKEN: &str = "LATCHKEY_ADMIN_TOKEN";

/// The config file did not load (unreadable, invalid TOML, an unknown key, an invalid value):
/// `EX_CONFIG` from sysexits.h.
pub const EXIT_CONFIG: u8 = 78;
/// The server did not start (the port is taken, the database cannot be opened, it did not
/// answer): `EX_UNAVAILABLE` from sysexits.h.
pub const EXIT_SERVER: u8 = 69;
/// The command exists but cannot be run (not executable, a directory): as shells answer.
pub const EXIT_NOT_EXECUTABLE: u8 = 126;
/// The command was not found: as shells answer.
pub const EXIT_NOT_FOUND: u8 = 127;

/// How long the server may take to answer its first request before `latchkey exec` gives up.
pub const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// What to run.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// The server (port 0 and `:memory:` unless the user chose).
    pub serve: ServeOptions,
    /// The command and its arguments (at least the command).
    pub command: Vec<OsString>,
    /// No announcement line on stderr.
    pub quiet: bool,
}

/// `LATCHKEY_CLIENT_<ID>_SECRET` for a client id: ASCII letters and digits uppercased, every
/// other character (`-`, `.`, `:`, `/`, non-ASCII, ...) replaced by `_`. `books-app` gives
/// `LATCHKEY_CLIENT_BOOKS_APP_SECRET`.
pub fn client_secret_var(client_id: &str) -> String {
    let id: String = client_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("LATCHKEY_CLIENT_{id}_SECRET")
}

/// The variables the command gets. Two clients whose ids give the same variable name get
/// neither (a warning names them), so a test never reads the wrong client's secret.
pub fn environment(server: &RunningServer, admin_token: Option<&str>) -> Vec<(String, String)> {
    let issuer = server.issuer().to_string();
    let mut vars = vec![
        (ENV_ISSUER.to_string(), issuer.clone()),
        (ENV_URL.to_string(), server.url()),
        (ENV_ADMIN_URL.to_string(), server.provider().issuer.url("/admin/api")),
    ];
    if let Some(t) = admin_token {
        vars.push((ENV_ADMIN_TOKEN.to_string(), t.to_string()));
    }
    if let Some(ca) = server.local_ca() {
        let (trust, error) = ca.trust_environment();
        if let Some(e) = error {
            tracing::warn!("the CA bundle for SSL_CERT_FILE was not written ({e}); it names Latchkey's CA alone");
        }
        vars.extend(trust);
    }
    let mut secrets: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for c in server.provider().clients() {
        if let Some(secret) = c.client_secret.as_deref().filter(|s| !s.is_empty()) {
            secrets
                .entry(client_secret_var(&c.client_id))
                .or_default()
                .push((c.client_id.clone(), secret.to_string()));
        }
    }
    let mut names: Vec<_> = secrets.into_iter().collect();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, clients) in names {
        match clients.as_slice() {
            [(_, secret)] => vars.push((name, secret.clone())),
            many => {
                let ids: Vec<&str> = many.iter().map(|(id, _)| id.as_str()).collect();
                tracing::warn!(
                    "clients {} would all set {name}; it is not set (rename one to tell them apart)",
                    ids.join(", ")
                );
            }
        }
    }
    vars
}

/// The exit status for a server that did not start, by cause.
fn start_failure(e: &StartError) -> u8 {
    match e {
        StartError::Config(_) | StartError::Apply(_) | StartError::Scenario(_) => EXIT_CONFIG,
        _ => EXIT_SERVER,
    }
}

/// Runs `opts.command` against a fresh server and returns the exit status to leave with.
/// `signals` must have been installed before (see [`Signals::install`]).
pub async fn run(opts: ExecOptions, mut signals: Signals) -> u8 {
    let Some((program, args)) = opts.command.split_first() else {
        eprintln!("latchkey exec: no command given; usage: latchkey exec [OPTIONS] -- COMMAND [ARGS...]");
        return 2;
    };
    let admin_token = opts.serve.admin_token.clone();
    let server = match crate::server::start(opts.serve).await {
        Ok(s) => s,
        Err(e) => {
            let code = start_failure(&e);
            if code == EXIT_CONFIG {
                eprintln!("latchkey exec: the config file does not load: {e}");
            } else {
                eprintln!("latchkey exec: the server did not start: {e}");
            }
            return code;
        }
    };
    if let Err(e) = server.wait_answering(READY_TIMEOUT).await {
        eprintln!("latchkey exec: the server did not start: {e}");
        server.shutdown().await;
        return EXIT_SERVER;
    }
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args).envs(environment(&server, admin_token.as_deref()));
    tie_to_parent(&mut cmd);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            server.shutdown().await;
            let name = program.to_string_lossy();
            return match e.kind() {
                std::io::ErrorKind::NotFound => {
                    eprintln!("latchkey exec: command not found: {name}");
                    EXIT_NOT_FOUND
                }
                _ => {
                    eprintln!("latchkey exec: cannot run {name}: {e}");
                    EXIT_NOT_EXECUTABLE
                }
            };
        }
    };
    if !opts.quiet {
        eprintln!(
            "latchkey exec: Latchkey {} at {} ({}); running {}",
            env!("CARGO_PKG_VERSION"),
            server.issuer(),
            server.db(),
            program.to_string_lossy()
        );
    }
    let status = loop {
        tokio::select! {
            status = child.wait() => break status,
            sig = signals.next() => {
                if let (Some(sig), Some(pid)) = (sig, child.id()) {
                    forward(sig, pid);
                }
            }
        }
    };
    server.shutdown().await;
    match status {
        Ok(s) => exit_code(s),
        Err(e) => {
            eprintln!("latchkey exec: lost track of the command: {e}");
            EXIT_SERVER
        }
    }
}

/// The command's exit status as ours: its code, or `128 + n` for a signal `n`.
fn exit_code(s: ExitStatus) -> u8 {
    if let Some(code) = s.code() {
        return u8::try_from(code & 0xff).unwrap_or(1);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = s.signal() {
            return u8::try_from(128 + sig).unwrap_or(255);
        }
    }
    1
}

/// The signals passed on to the command.
pub struct Signals {
    #[cfg(unix)]
    streams: Vec<(i32, tokio::signal::unix::Signal)>,
}

impl Signals {
    /// Installs the handlers (SIGINT, SIGTERM, SIGHUP, SIGQUIT): from now on they no longer
    /// end this process but are queued for the command. Must be called inside a Tokio runtime.
    pub fn install() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let kinds = [
                (libc::SIGINT, SignalKind::interrupt()),
                (libc::SIGTERM, SignalKind::terminate()),
                (libc::SIGHUP, SignalKind::hangup()),
                (libc::SIGQUIT, SignalKind::quit()),
            ];
            let streams = kinds
                .into_iter()
                .filter_map(|(n, k)| match signal(k) {
                    Ok(s) => Some((n, s)),
                    Err(e) => {
                        tracing::warn!("cannot listen for signal {n}: {e}");
                        None
                    }
                })
                .collect();
            Signals { streams }
        }
        #[cfg(not(unix))]
        {
            Signals {}
        }
    }

    /// The next signal received (its number); pending forever when none can arrive.
    async fn next(&mut self) -> Option<i32> {
        #[cfg(unix)]
        {
            if self.streams.is_empty() {
                return std::future::pending().await;
            }
            let futures = self.streams.iter_mut().map(|(n, s)| {
                let n = *n;
                Box::pin(async move { s.recv().await.map(|()| n) })
            });
            futures_util::future::select_all(futures).await.0
        }
        #[cfg(not(unix))]
        {
            std::future::pending().await
        }
    }
}

/// Passes `sig` on to the command. A SIGINT while we run in the terminal's foreground process
/// group came from Ctrl-C, which the terminal already sent to the command (it is in the same
/// group): it is not sent twice.
#[cfg(unix)]
fn forward(sig: i32, pid: u32) {
    if sig == libc::SIGINT && in_terminal_foreground() {
        return;
    }
    let Ok(pid) = libc::pid_t::try_from(pid) else { return };
    // SAFETY: kill(2) has no memory-safety preconditions; `pid` is our own child's, which we
    // have not reaped yet (so it cannot have been reused).
    let _ = unsafe { libc::kill(pid, sig) };
}

#[cfg(not(unix))]
fn forward(_sig: i32, _pid: u32) {}

/// Whether standard input is a terminal whose foreground process group is ours.
#[cfg(unix)]
fn in_terminal_foreground() -> bool {
    // SAFETY: tcgetpgrp and getpgrp only read process state; fd 0 may be closed or not a
    // terminal, in which case tcgetpgrp returns -1.
    unsafe {
        let fg = libc::tcgetpgrp(0);
        fg > 0 && fg == libc::getpgrp()
    }
}

/// On Linux, the command gets SIGTERM if `latchkey exec` dies without passing a signal on
/// (killed with SIGKILL), so no test process outlives it.
fn tie_to_parent(cmd: &mut tokio::process::Command) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: the closure runs in the child between fork and exec and only calls prctl(2),
        // which is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cmd;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_variables_are_upper_case_with_underscores() {
        assert_eq!(client_secret_var("books-app"), "LATCHKEY_CLIENT_BOOKS_APP_SECRET");
        assert_eq!(
            client_secret_var("svc.Orders:v2"),
            "LATCHKEY_CLIENT_SVC_ORDERS_V2_SECRET"
        );
        assert_eq!(client_secret_var("caf\u{e9}"), "LATCHKEY_CLIENT_CAF__SECRET");
    }
}
