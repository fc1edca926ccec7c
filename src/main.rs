//! The `latchkey` command line (design §3.1).

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// mimalloc: the request paths allocate many short-lived buffers, where it is markedly faster
/// than glibc's allocator (measured with bench/load.sh).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use latchkey::{DbLocation, ServeOptions};

/// A complete OAuth 2.0 / OpenID Connect provider on your machine, for development.
#[derive(Parser)]
#[command(name = "latchkey", version = latchkey::doctor::VERSION_LINE, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// `--config-mode`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ConfigModeArg {
    Merge,
    Replace,
}

#[derive(Subcommand)]
enum Command {
    /// Run the provider (headless); the web UI is at <issuer>/admin/.
    Serve {
        /// Port to listen on [default: 8000, or 8443 with --tls].
        #[arg(long, env = "LATCHKEY_PORT")]
        port: Option<u16>,
        /// Address to listen on. Anything but loopback requires --admin-token.
        #[arg(long, default_value = "127.0.0.1", env = "LATCHKEY_BIND")]
        bind: IpAddr,
        /// Issuer URL, used exactly as given [default: http://localhost:<port>, https:// with
        /// --tls].
        #[arg(long, env = "LATCHKEY_ISSUER")]
        issuer: Option<String>,
        /// Serve HTTPS with a certificate from Latchkey's local certificate authority (made once
        /// in --tls-dir); `latchkey ca` shows how to trust it.
        #[arg(long, env = "LATCHKEY_TLS")]
        tls: bool,
        /// Another name (DNS name or IP address) the certificate covers, besides localhost,
        /// 127.0.0.1 and ::1 (repeatable; implies --tls).
        #[arg(long = "tls-name", value_name = "NAME")]
        tls_names: Vec<String>,
        /// Where the local CA and the server certificate live [default: tls/ in the data
        /// directory].
        #[arg(long, env = "LATCHKEY_TLS_DIR", value_name = "DIR")]
        tls_dir: Option<PathBuf>,
        /// Back-channel base URL (`http://latchkey:8000` in docker-compose): discovery fetched
        /// through that host names the server-to-server endpoints on it (overrides
        /// `[server] backchannel_url`; see docs/setups.md).
        #[arg(long, env = "LATCHKEY_BACKCHANNEL_URL", value_name = "URL")]
        backchannel_url: Option<String>,
        /// SQLite database file, or `:memory:` [default: latchkey.db in the data directory].
        #[arg(long, env = "LATCHKEY_DB")]
        db: Option<String>,
        /// Config file (latchkey.toml) to load at start: what it names is created or updated.
        #[arg(long, env = "LATCHKEY_CONFIG")]
        config: Option<PathBuf>,
        /// merge: what the config file names is created or updated, nothing else changes;
        /// replace: clients, users, custom scopes and resources it does not name are removed
        /// at start (and at each --watch reload); tokens are kept.
        #[arg(long, value_enum, default_value_t = ConfigModeArg::Merge, env = "LATCHKEY_CONFIG_MODE")]
        config_mode: ConfigModeArg,
        /// Apply the config file again whenever it changes; a file that does not validate
        /// changes nothing and its errors (file, line, key) are logged and shown in the UI.
        #[arg(long, env = "LATCHKEY_WATCH")]
        watch: bool,
        /// Bearer token the admin API requires (mandatory when --bind is not loopback).
        #[arg(long, env = "LATCHKEY_ADMIN_TOKEN", hide_env_values = true)]
        admin_token: Option<String>,
        /// Apply this scenario (a `[[scenarios]]` entry) at start: its clock offset, fault
        /// rules, clients, users and settings (docs/faults.md).
        #[arg(long, env = "LATCHKEY_SCENARIO", value_name = "NAME")]
        scenario: Option<String>,
        /// Once the server answers, write its issuer URL (no trailing newline) to this file,
        /// atomically (temporary file + rename); removed again when the server stops. For
        /// wrappers: start with `--port 0`, wait for the file, read the URL.
        #[arg(long, value_name = "PATH")]
        ready_file: Option<PathBuf>,
        /// No banner and no per-request log lines; warnings and errors still go to stderr.
        #[arg(long, short = 'q')]
        quiet: bool,
        /// Log as JSON, one object per line on stderr (timestamp, level, message, target); the
        /// start-up banner becomes one JSON object on stdout.
        #[arg(long)]
        json_log: bool,
    },
    /// Run a command (a test suite) against a fresh server: a free loopback port, an in-memory
    /// database, the config applied; the command gets LATCHKEY_ISSUER, LATCHKEY_URL,
    /// LATCHKEY_ADMIN_URL and LATCHKEY_CLIENT_<ID>_SECRET for each confidential client. Exits
    /// with the command's status (128+n for signal n); 78: the config does not load, 69: the
    /// server did not start, 127: command not found, 126: command not executable.
    Exec {
        /// Config file (latchkey.toml) to load.
        #[arg(long, env = "LATCHKEY_CONFIG")]
        config: Option<PathBuf>,
        /// SQLite database file [default: :memory:, gone when the command ends].
        #[arg(long)]
        db: Option<String>,
        /// Port on 127.0.0.1 [default: 0, a free port].
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Issuer URL, used exactly as given [default: http://localhost:<port>, https:// with --tls].
        #[arg(long)]
        issuer: Option<String>,
        /// Serve HTTPS with a certificate from Latchkey's local CA (issuer https://localhost:<port>);
        /// the command gets LATCHKEY_CA_CERT, NODE_EXTRA_CA_CERTS, DENO_CERT (the CA) and
        /// SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE (the system's bundle plus the CA).
        #[arg(long)]
        tls: bool,
        /// Another name the certificate covers (repeatable; implies --tls).
        #[arg(long = "tls-name", value_name = "NAME")]
        tls_names: Vec<String>,
        /// Where the local CA lives [default: tls/ in the data directory].
        #[arg(long, env = "LATCHKEY_TLS_DIR", value_name = "DIR")]
        tls_dir: Option<PathBuf>,
        /// Bearer token the admin API requires; the command gets it as LATCHKEY_ADMIN_TOKEN.
        #[arg(long, env = "LATCHKEY_ADMIN_TOKEN", hide_env_values = true)]
        admin_token: Option<String>,
        /// Apply this scenario (a `[[scenarios]]` entry) before the command starts.
        #[arg(long, value_name = "NAME")]
        scenario: Option<String>,
        /// No announcement line; only warnings and errors on stderr.
        #[arg(long, short = 'q')]
        quiet: bool,
        /// Log as JSON, one object per line on stderr.
        #[arg(long)]
        json_log: bool,
        /// The command and its arguments (after `--`).
        #[arg(
            required = true,
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "COMMAND"
        )]
        command: Vec<std::ffi::OsString>,
    },
    /// Write the clients, scopes, users, resources and settings as a config file (users without
    /// passwords: they are stored hashed).
    Export {
        /// SQLite database file [default: latchkey.db in the data directory].
        #[arg(long, env = "LATCHKEY_DB")]
        db: Option<String>,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Leave out dynamically registered clients (RFC 7591).
        #[arg(long)]
        skip_dynamic_clients: bool,
    },
    /// Upsert a config file into a database (what it names is created or replaced). A running
    /// server sees the change after a restart; use `PUT /admin/api/config` to change it live.
    Import {
        /// The config file (latchkey.toml).
        file: PathBuf,
        /// SQLite database file [default: latchkey.db in the data directory].
        #[arg(long, env = "LATCHKEY_DB")]
        db: Option<String>,
    },
    /// Reset a database no server has open, for a clean test run: every token and remembered
    /// consent removed; with --config, the clients, scopes, users and resources become exactly
    /// what the file describes; with --keys, the signing keys are replaced. A running server
    /// resets with `POST /admin/api/reset` instead.
    Reset {
        /// SQLite database file [default: latchkey.db in the data directory].
        #[arg(long, env = "LATCHKEY_DB")]
        db: Option<String>,
        /// Make the registry exactly this config file's (what it does not name is deleted).
        #[arg(long, env = "LATCHKEY_CONFIG")]
        config: Option<PathBuf>,
        /// Also replace every signing key with a fresh one.
        #[arg(long)]
        keys: bool,
    },
    /// Signing keys: `latchkey keys export` writes them as `[[keys]]` for a config file.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Print where Latchkey's local certificate authority (for `serve --tls`) is and how to trust
    /// it on each system and runtime; makes the CA if there is none yet.
    Ca {
        /// Where the local CA lives [default: tls/ in the data directory].
        #[arg(long, env = "LATCHKEY_TLS_DIR", value_name = "DIR")]
        tls_dir: Option<PathBuf>,
        /// Print only the CA certificate's path (for scripts: `export NODE_EXTRA_CA_CERTS=$(latchkey ca --path)`).
        #[arg(long, conflicts_with = "env")]
        path: bool,
        /// Print `export NAME='value'` lines that make Node.js, Python, curl, OpenSSL, Go and Ruby
        /// trust the CA (what `latchkey exec --tls` sets): `eval "$(latchkey ca --env)"`.
        #[arg(long)]
        env: bool,
    },
    /// Print the JSON Schema of latchkey.toml (generated from the code), for TOML editors'
    /// completion and validation: `latchkey schema > latchkey.schema.json`, then
    /// `#:schema ./latchkey.schema.json` as the file's first line (Taplo, Even Better TOML).
    Schema,
    /// Mint an access token for a client (and a user) and print it.
    Token {
        /// The client it is issued to.
        #[arg(long)]
        client: String,
        /// Space-separated scopes, within the client's [default: all the client's scopes].
        #[arg(long)]
        scope: Option<String>,
        /// A user (username): `sub` becomes the user's subject.
        #[arg(long)]
        user: Option<String>,
        /// Lifetime in seconds [default: the client's or the server's].
        #[arg(long)]
        ttl: Option<u64>,
        /// An extra claim, `name=value` (a JSON value, or else a string); repeatable.
        #[arg(long = "claim", value_name = "NAME=VALUE")]
        claims: Vec<String>,
        /// SQLite database file [default: latchkey.db in the data directory].
        #[arg(long, env = "LATCHKEY_DB")]
        db: Option<String>,
        /// The issuer (`iss`) the server runs as; a token for another issuer introspects
        /// inactive [default: what `serve` derives: http://localhost:<--port>].
        #[arg(long, env = "LATCHKEY_ISSUER")]
        issuer: Option<String>,
        /// The port the server runs on, for the default issuer (as `serve --port`).
        #[arg(long, default_value_t = 8000, env = "LATCHKEY_PORT")]
        port: u16,
    },
    /// Print a shell completion script: `latchkey completions bash > /etc/bash_completion.d/latchkey`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print what a bug report needs: version, commit and target, OS, data directory, database
    /// path and size, the local CA, whether the default ports are in use (and by which issuer),
    /// and the LATCHKEY_* variables set (secrets hidden). Changes nothing.
    Doctor {
        /// The database to describe [default: latchkey.db in the data directory].
        #[arg(long, env = "LATCHKEY_DB")]
        db: Option<String>,
        /// Where the local CA lives [default: tls/ in the data directory].
        #[arg(long, env = "LATCHKEY_TLS_DIR", value_name = "DIR")]
        tls_dir: Option<PathBuf>,
        /// A port to check (repeatable) [default: 8000 and 8443].
        #[arg(long = "port", value_name = "PORT")]
        ports: Vec<u16>,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Exit 0 when a Latchkey server on this machine answers its discovery document (a
    /// container's HEALTHCHECK: the image has no shell or curl), 1 otherwise.
    Healthcheck {
        /// The port the server listens on (as `serve --port`).
        #[arg(long, default_value_t = 8000, env = "LATCHKEY_PORT")]
        port: u16,
        /// The server's issuer; only its path is used (`/realms/dev` in
        /// `http://idp:8000/realms/dev`), the request goes to 127.0.0.1.
        #[arg(long, env = "LATCHKEY_ISSUER")]
        issuer: Option<String>,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 3)]
        timeout: u64,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Write the published signing keys (active first) as `[[keys]]` TOML with their private
    /// keys (PKCS#8 PEM), so a config file can pin them: every server started from it
    /// publishes the same kid. For development only: the output holds private keys.
    /// `--db :memory:` writes a freshly generated key.
    Export {
        /// SQLite database file, or `:memory:` [default: latchkey.db in the data directory].
        #[arg(long, env = "LATCHKEY_DB")]
        db: Option<String>,
        /// Write here instead of standard output (created readable by its owner only).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Only the active (signing) key.
        #[arg(long)]
        active_only: bool,
    },
}

/// Prints an admin error with its fields and returns failure.
fn fail(e: &latchkey::admin::AdminError) -> ExitCode {
    eprintln!("error: {}", e.message);
    ExitCode::FAILURE
}

/// Whether `provider` may create the database (`import`) or needs an existing one (`export`,
/// `token`: a mistyped `--db` would otherwise silently create and read an empty database).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Db {
    Create,
    MustExist,
}

async fn provider(
    db: Option<String>,
    issuer: &str,
    mode: Db,
) -> Result<std::sync::Arc<latchkey::provider::Provider>, ExitCode> {
    let location = db_location(db);
    if mode == Db::MustExist
        && let DbLocation::File(path) = &location
        && !path.is_file()
    {
        eprintln!(
            "error: no database at {}; check --db (or LATCHKEY_DB), or run `latchkey serve` or `latchkey import` to create one",
            path.display()
        );
        return Err(ExitCode::FAILURE);
    }
    latchkey::server::open_provider(&location, issuer, latchkey::Clock::system())
        .await
        .map_err(|e| {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        })
}

async fn export(db: Option<String>, out: Option<PathBuf>, skip_dynamic_clients: bool) -> ExitCode {
    let p = match provider(db, DEFAULT_ISSUER, Db::MustExist).await {
        Ok(p) => p,
        Err(code) => return code,
    };
    let text = match latchkey::admin::registry::export_toml(&p, !skip_dynamic_clients).await {
        Ok(t) => t,
        Err(e) => return fail(&e),
    };
    match out {
        None => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Some(path) => match std::fs::write(&path, text) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                ExitCode::FAILURE
            }
        },
    }
}

async fn keys_export(db: Option<String>, out: Option<PathBuf>, active_only: bool) -> ExitCode {
    let p = match provider(db, DEFAULT_ISSUER, Db::MustExist).await {
        Ok(p) => p,
        Err(code) => return code,
    };
    let text = match latchkey::admin::keys::export_toml(&p, active_only).await {
        Ok(t) => t,
        Err(e) => return fail(&e),
    };
    match out {
        None => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Some(path) => match latchkey::server::write_private(&path, &text) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                ExitCode::FAILURE
            }
        },
    }
}

async fn import(file: PathBuf, db: Option<String>) -> ExitCode {
    if let Err(e) = latchkey::config::read(&file) {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    let location = db_location(db.clone());
    let p = match provider(db, DEFAULT_ISSUER, Db::Create).await {
        Ok(p) => p,
        Err(code) => return code,
    };
    match latchkey::admin::registry::import_file(&p, &file).await {
        Ok(s) => {
            eprintln!(
                "imported {} into {location}: {} client(s), {} scope(s), {} user(s), {} resource(s)",
                file.display(),
                s.clients,
                s.scopes,
                s.users,
                s.resources
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

async fn reset(db: Option<String>, config: Option<PathBuf>, keys: bool) -> ExitCode {
    if matches!(db.as_deref(), Some(":memory:")) {
        eprintln!(
            "error: an in-memory database ends with its server; reset a running server with POST /admin/api/reset"
        );
        return ExitCode::FAILURE;
    }
    // The file is read and validated before anything is deleted.
    let cfg = match &config {
        None => None,
        Some(path) => {
            let builtin: Vec<String> = latchkey::model::builtin_scopes().into_iter().map(|s| s.name).collect();
            let parsed = latchkey::config::parse_file(path, &|s| builtin.iter().any(|b| b == s));
            match parsed {
                Ok(c) => Some(c),
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    };
    let location = db_location(db.clone());
    let p = match provider(db, DEFAULT_ISSUER, Db::MustExist).await {
        Ok(p) => p,
        Err(code) => return code,
    };
    let fixed = match cfg.as_ref().map(|c| c.fixed_keys(p.clock.now())).transpose() {
        Ok(f) => f.unwrap_or_default(),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let new_key = if keys && let Some(first) = fixed.first() {
        // The file pins the keys: they replace every stored key.
        Some(first.clone())
    } else if keys {
        let alg = cfg.as_ref().map_or_else(
            || p.settings().signing_alg,
            |c| c.merge_settings(&p.settings()).signing_alg,
        );
        let now = p.clock.now();
        match tokio::task::spawn_blocking(move || latchkey::keys::SigningKey::generate(alg, now)).await {
            Ok(Ok(k)) => Some(k),
            Ok(Err(e)) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    let counts = match p.store.reset_offline(cfg.is_some(), new_key).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(cfg) = cfg {
        let applied = match p.reload_after_reset().await {
            Ok(()) => p.apply_config(cfg).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = applied {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    eprintln!(
        "reset {location}: {} token(s) and {} consent(s) removed; {}; {}",
        counts.tokens,
        counts.consents,
        match &config {
            Some(path) => format!("clients, scopes, users and resources now as in {}", path.display()),
            None => "clients, scopes, users and resources kept".to_string(),
        },
        if keys {
            "signing keys replaced"
        } else {
            "signing keys kept"
        }
    );
    ExitCode::SUCCESS
}

/// `latchkey ca`: makes the CA when missing, prints its path and how to trust it.
fn ca(dir: Option<PathBuf>, path_only: bool, env: bool) -> ExitCode {
    let dir = dir.unwrap_or_else(latchkey::tls::default_dir);
    match latchkey::tls::LocalCa::open_or_create(&dir, latchkey::Clock::system().now()) {
        Ok(ca) => {
            if path_only {
                println!("{}", ca.ca_cert_path().display());
            } else if env {
                let (vars, error) = ca.trust_environment();
                if let Some(e) = error {
                    eprintln!("warning: the CA bundle was not written ({e}); SSL_CERT_FILE names the CA alone");
                }
                for (k, v) in vars {
                    // POSIX shell quoting: single quotes, each ' written as '\''.
                    println!("export {k}='{}'", v.replace('\'', r"'\''"));
                }
            } else {
                if ca.created {
                    eprintln!("made a new local certificate authority in {}", dir.display());
                }
                print!("{}", latchkey::tls::trust_instructions(&ca));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Parses `--claim name=value`: the value as JSON when it is JSON, else as a string.
fn parse_claims(raw: &[String]) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let mut out = serde_json::Map::new();
    for c in raw {
        let (k, v) = c
            .split_once('=')
            .ok_or_else(|| format!("--claim `{c}`: expected NAME=VALUE"))?;
        if k.is_empty() {
            return Err(format!("--claim `{c}`: the name is empty"));
        }
        let value = serde_json::from_str(v).unwrap_or_else(|_| serde_json::Value::String(v.to_string()));
        out.insert(k.to_string(), value);
    }
    Ok(out)
}

const DEFAULT_ISSUER: &str = "http://localhost:8000";

/// `latchkey healthcheck`: GET `http://127.0.0.1:<port><issuer path>/.well-known/openid-configuration`
/// and expect 200 with a JSON `issuer` (OIDC Discovery §4). Prints why it failed on stderr.
async fn healthcheck(port: u16, issuer: Option<&str>, timeout: u64) -> ExitCode {
    let path = match issuer.map(url::Url::parse) {
        None => String::new(),
        Some(Ok(u)) => u.path().trim_end_matches('/').to_string(),
        Some(Err(e)) => {
            eprintln!("unhealthy: --issuer (LATCHKEY_ISSUER) is not a URL: {e}");
            return ExitCode::FAILURE;
        }
    };
    let url = format!("http://127.0.0.1:{port}{path}/.well-known/openid-configuration");
    let probe = latchkey::doctor::probe_discovery(port, &path);
    match tokio::time::timeout(std::time::Duration::from_secs(timeout), probe).await {
        Ok(Ok(issuer)) => {
            println!("healthy: {issuer}");
            ExitCode::SUCCESS
        }
        Ok(Err(why)) => {
            eprintln!("unhealthy: {why}");
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("unhealthy: {url} did not answer within {timeout} s");
            ExitCode::FAILURE
        }
    }
}

fn db_location(db: Option<String>) -> DbLocation {
    db.map_or_else(DbLocation::default_file, |d| DbLocation::parse(&d))
}

/// Logs go to stderr through a background writer thread that batches lines: a request never
/// waits on the terminal, and a burst of requests costs a few writes instead of one each. Keep
/// the returned guard alive: dropping it flushes what is left.
///
/// `LATCHKEY_LOG` sets the filter (default `default_level`) unless `quiet` (then `warn`,
/// whatever it says); `json` writes one JSON object per line.
fn init_logging(quiet: bool, json: bool, default_level: &str) -> tracing_appender::non_blocking::WorkerGuard {
    let filter = if quiet {
        tracing_subscriber::EnvFilter::new("warn")
    } else {
        tracing_subscriber::EnvFilter::try_from_env("LATCHKEY_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level))
    };
    // 8,192 queued lines at most (the default 128,000 preallocates 4 MiB); beyond that, lines
    // are dropped rather than slowing requests down.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(8192)
        .finish(std::io::BufWriter::new(std::io::stderr()));
    if json {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(writer)
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .init();
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(writer)
            .with_target(false)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .compact()
            .init();
    }
    guard
}

/// How `latchkey serve` announces itself.
struct Announce {
    quiet: bool,
    json: bool,
    admin_token_set: bool,
    ready_file: Option<PathBuf>,
}

async fn serve(opts: ServeOptions, announce: Announce) -> ExitCode {
    // Before the banner: a signal sent as soon as it is printed must stop us gracefully.
    let stop = latchkey::server::shutdown_signal();
    if let Some(path) = &announce.ready_file {
        // A file left by an earlier run must not announce this one before it answers.
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                eprintln!(
                    "error: --ready-file {}: cannot remove the old file: {e}",
                    path.display()
                );
                return ExitCode::FAILURE;
            }
            _ => {}
        }
    }
    let server = match latchkey::start(opts).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if announce.json {
        let banner = serde_json::json!({
            "event": "ready",
            "version": env!("CARGO_PKG_VERSION"),
            "issuer": server.issuer(),
            "listening": format!("{}://{}", server.scheme(), server.addr()),
            "port": server.addr().port(),
            "admin_url": server.admin_url(),
            "database": server.db().to_string(),
        });
        println!("{banner}");
    } else if !announce.quiet {
        println!("Latchkey {} is running", env!("CARGO_PKG_VERSION"));
        println!("  issuer    {}", server.issuer());
        println!("  listening {}://{}", server.scheme(), server.addr());
        if let Some(ca) = server.local_ca() {
            println!(
                "  CA        {} (`latchkey ca` shows how to trust it)",
                ca.ca_cert_path().display()
            );
        }
        if announce.admin_token_set {
            println!("  admin UI  {}?access_token=<your --admin-token>", server.admin_url());
        } else {
            println!("  admin UI  {}", server.admin_url());
        }
        println!("  database  {}", server.db());
        println!("Press Ctrl-C to stop.");
    }
    if let Some(path) = &announce.ready_file {
        if let Err(e) = server.wait_answering(std::time::Duration::from_secs(10)).await {
            eprintln!("error: the server does not answer: {e}");
            server.shutdown().await;
            return ExitCode::FAILURE;
        }
        if let Err(e) = latchkey::server::write_atomically(path, server.issuer()) {
            eprintln!("error: --ready-file {}: {e}", path.display());
            server.shutdown().await;
            return ExitCode::FAILURE;
        }
    }
    server.run_until(stop).await;
    if let Some(path) = &announce.ready_file {
        let _ = std::fs::remove_file(path);
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Serve {
            port,
            bind,
            issuer,
            tls,
            tls_names,
            tls_dir,
            backchannel_url,
            db,
            config,
            config_mode,
            watch,
            admin_token,
            scenario,
            ready_file,
            quiet,
            json_log,
        } => {
            let _log = init_logging(quiet, json_log, "info");
            let announce = Announce {
                quiet,
                json: json_log,
                admin_token_set: admin_token.is_some(),
                ready_file,
            };
            let tls = (tls || !tls_names.is_empty()).then(|| latchkey::TlsOptions {
                dir: tls_dir.unwrap_or_else(latchkey::tls::default_dir),
                names: tls_names,
            });
            let port = port.unwrap_or(if tls.is_some() { 8443 } else { 8000 });
            let opts = ServeOptions {
                bind,
                port,
                tls,
                issuer,
                db: db_location(db),
                config,
                config_mode: match config_mode {
                    ConfigModeArg::Merge => latchkey::config::ConfigMode::Merge,
                    ConfigModeArg::Replace => latchkey::config::ConfigMode::Replace,
                },
                watch,
                admin_token,
                backchannel_url,
                scenario,
                ..ServeOptions::default()
            };
            serve(opts, announce).await
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "latchkey", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        Command::Healthcheck { port, issuer, timeout } => healthcheck(port, issuer.as_deref(), timeout).await,
        Command::Doctor {
            db,
            tls_dir,
            ports,
            json,
        } => {
            let ports = if ports.is_empty() { vec![8000, 8443] } else { ports };
            let report = latchkey::doctor::gather(
                db.map(|d| DbLocation::parse(&d)),
                tls_dir,
                &ports,
                std::time::Duration::from_secs(2),
            )
            .await;
            if json {
                match serde_json::to_string_pretty(&report) {
                    Ok(s) => println!("{s}"),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            } else {
                print!("{}", report.to_text());
            }
            ExitCode::SUCCESS
        }
        Command::Exec {
            config,
            db,
            port,
            issuer,
            tls,
            tls_names,
            tls_dir,
            admin_token,
            scenario,
            quiet,
            json_log,
            command,
        } => {
            let tls = (tls || !tls_names.is_empty()).then(|| latchkey::TlsOptions {
                dir: tls_dir.unwrap_or_else(latchkey::tls::default_dir),
                names: tls_names,
            });
            // Requests are not logged unless LATCHKEY_LOG asks: the command's output stays its own.
            let _log = init_logging(quiet, json_log, "warn");
            // Before the server starts: a signal from now on is passed to the command.
            let signals = latchkey::exec::Signals::install();
            let opts = latchkey::exec::ExecOptions {
                serve: ServeOptions {
                    port,
                    issuer,
                    tls,
                    db: db.map_or(DbLocation::Memory, |d| DbLocation::parse(&d)),
                    config,
                    admin_token,
                    scenario,
                    ..ServeOptions::default()
                },
                command,
                quiet,
            };
            ExitCode::from(latchkey::exec::run(opts, signals).await)
        }
        Command::Ca { tls_dir, path, env } => ca(tls_dir, path, env),
        Command::Schema => match serde_json::to_string_pretty(&latchkey::config::json_schema()) {
            Ok(s) => {
                println!("{s}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Export {
            db,
            out,
            skip_dynamic_clients,
        } => export(db, out, skip_dynamic_clients).await,
        Command::Import { file, db } => import(file, db).await,
        Command::Reset { db, config, keys } => reset(db, config, keys).await,
        Command::Keys {
            command: KeysCommand::Export { db, out, active_only },
        } => keys_export(db, out, active_only).await,
        Command::Token {
            client,
            scope,
            user,
            ttl,
            claims,
            db,
            issuer,
            port,
        } => {
            let issuer = issuer.unwrap_or_else(|| format!("http://localhost:{port}"));
            let claims = match parse_claims(&claims) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let p = match provider(db, &issuer, Db::MustExist).await {
                Ok(p) => p,
                Err(code) => return code,
            };
            let req = latchkey::admin::tokens::MintRequest {
                client_id: client,
                username: user,
                scopes: scope.map(|s| s.split_whitespace().map(str::to_string).collect()),
                ttl,
                claims: Some(claims),
            };
            match latchkey::admin::tokens::mint(&p, req).await {
                Ok(m) => {
                    println!("{}", m.access_token);
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
    }
}
