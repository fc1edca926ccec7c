//! Starting and stopping a Latchkey server: bind, open the store, apply the config file, load
//! the keys, serve. Used by `latchkey serve`, the desktop shell and the tests alike.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::config::{self, ConfigErrors};
use crate::events::EventBus;
use crate::keys::{KeyError, Keys};
use crate::model::{Settings, builtin_scopes};
use crate::provider::{ChangeError, Issuer, Provider};
use crate::store::{DbLocation, Store, StoreError};

/// What to serve, and where.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to bind.
    pub bind: IpAddr,
    /// Port (0: any free port).
    pub port: u16,
    /// The issuer; defaults to `http://localhost:<port>`.
    pub issuer: Option<String>,
    /// The database.
    pub db: DbLocation,
    /// A config file to upsert at start.
    pub config: Option<PathBuf>,
    /// Bearer token required by the admin API (mandatory off loopback).
    pub admin_token: Option<String>,
    /// The clock (tests pass a fixed one).
    pub clock: Clock,
    /// The back-channel base URL (`--backchannel-url`; overrides `[server] backchannel_url`).
    pub backchannel_url: Option<String>,
    /// `--config-mode`: merge (default) or replace (what the file does not name is removed).
    pub config_mode: crate::config::ConfigMode,
    /// `--watch`: apply the config file again whenever it changes.
    pub watch: bool,
    /// Serve HTTPS with the local CA's certificate (`--tls`); the default issuer is then
    /// `https://localhost:<port>`.
    pub tls: Option<TlsOptions>,
    /// `--scenario NAME`: a scenario (from the config file's `[[scenarios]]` or the database)
    /// applied at start, after the config file; `POST /admin/api/reset` comes back to it.
    pub scenario: Option<String>,
}

/// HTTPS on loopback (`latchkey serve --tls`, see [`crate::tls`]).
#[derive(Debug, Clone)]
pub struct TlsOptions {
    /// Where the CA and the server certificate live (default [`crate::tls::default_dir`]).
    pub dir: PathBuf,
    /// Names the server certificate covers besides `localhost`, `127.0.0.1` and `::1`
    /// (`--tls-name`): DNS names or IP addresses.
    pub names: Vec<String>,
}

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions {
            dir: crate::tls::default_dir(),
            names: Vec::new(),
        }
    }
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 8000,
            issuer: None,
            db: DbLocation::default_file(),
            config: None,
            admin_token: None,
            clock: Clock::system(),
            backchannel_url: None,
            tls: None,
            config_mode: crate::config::ConfigMode::Merge,
            watch: false,
            scenario: None,
        }
    }
}

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// `--scenario` names no scenario, or applying it failed.
    #[error("--scenario: {0}")]
    Scenario(String),
    /// The port is taken.
    #[error("port {port} is already in use on {bind}; pick another with --port")]
    PortInUse {
        /// The address.
        bind: IpAddr,
        /// The port.
        port: u16,
    },
    /// Binding failed otherwise.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// `--issuer` is not a usable URL.
    #[error("--issuer: {0}")]
    Issuer(String),
    /// Off loopback without an admin token.
    #[error(
        "--bind {0} exposes Latchkey beyond this machine; pass --admin-token TOKEN so the admin API is not open to the network"
    )]
    AdminTokenRequired(IpAddr),
    /// The admin token is empty, blank or too short to protect anything.
    #[error(
        "--admin-token (LATCHKEY_ADMIN_TOKEN) must be at least {min} characters, not blank or whitespace; got {len} character(s)"
    )]
    AdminTokenTooShort {
        /// The minimum length.
        min: usize,
        /// The length given (after trimming whitespace).
        len: usize,
    },
    /// The admin token has a character a cookie or an `Authorization` header cannot carry
    /// as is (it is set as the admin UI's cookie, RFC 6265 §4.1.1).
    #[error(
        "--admin-token (LATCHKEY_ADMIN_TOKEN) may only contain printable ASCII without spaces, `\"`, `,`, `;` or `\\` (it is sent in a cookie); found {0:?}"
    )]
    AdminTokenCharacters(char),
    /// The config file is broken.
    #[error("{0}")]
    Config(ConfigErrors),
    /// The local CA or the server certificate cannot be made or loaded.
    #[error("--tls: {0}")]
    Tls(#[from] crate::tls::TlsError),
    /// `--watch` cannot watch the file.
    #[error("{0}")]
    Watch(String),
    /// `--backchannel-url` is not a usable base URL.
    #[error("--backchannel-url: {0}")]
    BackChannel(String),
    /// The database cannot be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The keys cannot be loaded.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// Applying the config failed.
    #[error("{0}")]
    Apply(#[from] ChangeError),
}

/// A running server.
pub struct RunningServer {
    addr: SocketAddr,
    provider: Arc<Provider>,
    admin: Arc<crate::admin::Admin>,
    db: DbLocation,
    /// With `--tls`: the CA, and a client configuration trusting only it (the readiness probe).
    tls: Option<(crate::tls::LocalCa, Arc<rustls::ClientConfig>)>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    /// `--watch`: the task reloading the config file.
    watcher: Option<JoinHandle<()>>,
}

impl RunningServer {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<bound address>` (`https://` with TLS): where to send requests (tests).
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme(), self.addr)
    }

    /// `http`, or `https` with TLS.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    /// With TLS, the local CA (its files and fingerprint).
    pub fn local_ca(&self) -> Option<&crate::tls::LocalCa> {
        self.tls.as_ref().map(|(ca, _)| ca)
    }

    /// The issuer identifier.
    pub fn issuer(&self) -> &str {
        &self.provider.issuer.id
    }

    /// The admin UI's URL.
    pub fn admin_url(&self) -> String {
        self.provider.issuer.url("/admin/")
    }

    /// The database in use.
    pub fn db(&self) -> &DbLocation {
        &self.db
    }

    /// The provider (store, keys, clock, events).
    pub fn provider(&self) -> &Arc<Provider> {
        &self.provider
    }

    /// The admin context: the request log, the admin token, what `POST /admin/api/reset`
    /// works on ([`crate::admin::reset::reset`]).
    pub fn admin(&self) -> &Arc<crate::admin::Admin> {
        &self.admin
    }

    /// The server clock.
    pub fn clock(&self) -> &Clock {
        &self.provider.clock
    }

    /// Stops accepting, lets open requests finish, and returns.
    pub async fn shutdown(mut self) {
        if let Some(w) = self.watcher.take() {
            w.abort();
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Resolves once the server answers a discovery request over its own socket (HTTP 200), as
    /// a client would see it; fails after `limit`. What `--ready-file` and `latchkey exec` wait
    /// for before they announce the server.
    pub async fn wait_answering(&self, limit: std::time::Duration) -> Result<(), String> {
        let path = format!(
            "{}{}",
            self.provider.issuer.path,
            crate::oauth::paths::OPENID_CONFIGURATION
        );
        let probe = probe(self.addr, path, self.tls.as_ref().map(|(_, c)| c.clone()));
        match tokio::time::timeout(limit, probe).await {
            Ok(r) => r,
            Err(_) => Err(format!("no answer from {} within {} ms", self.url(), limit.as_millis())),
        }
    }

    /// Runs until `stop` resolves, then shuts down gracefully.
    pub async fn run_until(self, stop: impl std::future::Future<Output = ()>) {
        stop.await;
        tracing::info!("shutting down");
        self.shutdown().await;
    }
}

/// One `GET path` over a fresh loopback connection (over TLS, trusting only the local CA, when
/// `tls` is given), retried every 2 ms until it answers 200 (the caller bounds it with a timeout).
async fn probe(addr: SocketAddr, path: String, tls: Option<Arc<rustls::ClientConfig>>) -> Result<(), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let target = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(std::net::Ipv6Addr::LOCALHOST), addr.port())
        }
        _ => addr,
    };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {target}\r\n{}: 1\r\nConnection: close\r\n\r\n",
        crate::admin::requests::READINESS_PROBE_HEADER
    );
    loop {
        let attempt = async {
            let tcp = tokio::net::TcpStream::connect(target)
                .await
                .map_err(|e| e.to_string())?;
            let mut s: Box<dyn Stream> = match &tls {
                None => Box::new(tcp),
                Some(cfg) => {
                    // Every server certificate covers `localhost`, whatever address was bound.
                    let name = rustls::pki_types::ServerName::from(
                        rustls::pki_types::DnsName::try_from("localhost").map_err(|e| e.to_string())?,
                    );
                    let connector = tokio_rustls::TlsConnector::from(cfg.clone());
                    Box::new(connector.connect(name, tcp).await.map_err(|e| e.to_string())?)
                }
            };
            s.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
            let mut head = [0u8; 16];
            let mut n = 0;
            while n < head.len() {
                let got = s.read(&mut head[n..]).await.map_err(|e| e.to_string())?;
                if got == 0 {
                    break;
                }
                n += got;
            }
            let line = String::from_utf8_lossy(&head[..n]).to_string();
            if line.starts_with("HTTP/1.1 200") {
                Ok(())
            } else {
                Err(format!("unexpected answer {line:?}"))
            }
        };
        if let Err(e) = attempt.await {
            tracing::debug!("readiness probe: {e}");
        } else {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
}

/// A plain or TLS client stream (the readiness probe).
trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Stream for T {}

/// Writes `contents` to `path` atomically: a temporary file in the same directory, then a
/// rename, so a reader polling `path` sees nothing or everything (`--ready-file`).
pub fn write_atomically(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path names no file"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let written = std::fs::write(&tmp, contents).and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Writes `contents` to `path`, created (or truncated) readable and writable by its owner only
/// (0600 on Unix): for files holding private keys (`latchkey keys export --out`).
pub fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        opts.mode(0o600);
        let mut f = opts.open(path)?;
        // An existing file keeps its mode on open: narrow it.
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        f.write_all(contents.as_bytes())
    }
    #[cfg(not(unix))]
    {
        opts.open(path)?.write_all(contents.as_bytes())
    }
}

/// Installs the Ctrl-C (SIGINT) and SIGTERM handlers now (on Windows: Ctrl-C, Ctrl-Break, the
/// console closing and system shutdown) and returns a future that resolves on the first of them. Call it before announcing the server: from then on a signal is never lost
/// to the default action (which kills the process without a graceful shutdown). Must be called
/// inside a Tokio runtime.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{Signal, SignalKind, signal};
        let listen = |kind: SignalKind, name: &str| {
            signal(kind)
                .inspect_err(|e| tracing::warn!("cannot listen for {name}: {e}"))
                .ok()
        };
        let int = listen(SignalKind::interrupt(), "SIGINT");
        let term = listen(SignalKind::terminate(), "SIGTERM");
        let recv = |s: Option<Signal>| async move {
            match s {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        async move {
            tokio::select! {
                () = recv(int) => {},
                () = recv(term) => {},
            }
        }
    }
    #[cfg(windows)]
    {
        // Ctrl-C and Ctrl-Break in a console, the console window closed, and the system (or a
        // service manager such as NSSM or `docker stop` on Windows) shutting the process down.
        use tokio::signal::windows;
        // The four listeners have different types with the same `recv`.
        macro_rules! wait_on {
            ($listener:expr) => {{
                let listener = $listener.ok();
                async move {
                    match listener {
                        Some(mut l) => {
                            l.recv().await;
                        }
                        None => std::future::pending::<()>().await,
                    }
                }
            }};
        }
        let c = wait_on!(windows::ctrl_c().inspect_err(|e| tracing::warn!("cannot listen for Ctrl-C: {e}")));
        let brk = wait_on!(windows::ctrl_break());
        let close = wait_on!(windows::ctrl_close());
        let shutdown = wait_on!(windows::ctrl_shutdown());
        async move {
            tokio::select! {
                () = c => {},
                () = brk => {},
                () = close => {},
                () = shutdown => {},
            }
        }
    }
    #[cfg(not(any(unix, windows)))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Opens a database and builds a provider over it without binding a port: what the CLI's
/// `export`, `import` and `token` commands work with. Settings and keys are read as stored
/// (a fresh database gets the defaults and a new signing key).
pub async fn open_provider(db: &DbLocation, issuer: &str, clock: Clock) -> Result<Arc<Provider>, StartError> {
    let issuer = Issuer::parse(issuer).map_err(StartError::Issuer)?;
    let store = Store::open(db).await?;
    let settings = store.load_settings().await?.unwrap_or_default();
    let retention = i64::try_from(settings.access_token_ttl.0.max(settings.id_token_ttl.0)).unwrap_or(i64::MAX);
    let keys = Keys::load(&store, settings.signing_alg, clock.now(), retention)
        .await?
        .with_clock(clock.clone());
    Ok(Arc::new(
        Provider::new(issuer, store, keys, clock, EventBus::new(), settings).await?,
    ))
}

/// The shortest admin token accepted: an empty or guessable token would leave the admin API open.
pub const MIN_ADMIN_TOKEN_LEN: usize = 16;

/// RFC 6265 §4.1.1 `cookie-octet`: `%x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E`.
fn is_cookie_octet(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x2B' | '\x2D'..='\x3A' | '\x3C'..='\x5B' | '\x5D'..='\x7E')
}

/// Starts a server.
pub async fn start(opts: ServeOptions) -> Result<RunningServer, StartError> {
    if let Some(t) = &opts.admin_token {
        let len = t.trim().chars().count();
        if len < MIN_ADMIN_TOKEN_LEN {
            return Err(StartError::AdminTokenTooShort {
                min: MIN_ADMIN_TOKEN_LEN,
                len,
            });
        }
    }
    if let Some(bad) = opts
        .admin_token
        .as_deref()
        .and_then(|t| t.chars().find(|c| !is_cookie_octet(*c)))
    {
        return Err(StartError::AdminTokenCharacters(bad));
    }
    if !opts.bind.is_loopback() && opts.admin_token.is_none() {
        return Err(StartError::AdminTokenRequired(opts.bind));
    }
    if let Some(i) = &opts.issuer {
        Issuer::parse(i).map_err(StartError::Issuer)?;
    }
    let addr = SocketAddr::new(opts.bind, opts.port);
    let listener = TcpListener::bind(addr).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            StartError::PortInUse {
                bind: opts.bind,
                port: opts.port,
            }
        } else {
            StartError::Bind { addr, source: e }
        }
    })?;
    let addr = listener
        .local_addr()
        .map_err(|e| StartError::Bind { addr, source: e })?;
    let scheme = if opts.tls.is_some() { "https" } else { "http" };
    let issuer_id = opts
        .issuer
        .clone()
        .unwrap_or_else(|| format!("{scheme}://localhost:{}", addr.port()));
    let issuer = Issuer::parse(&issuer_id).map_err(StartError::Issuer)?;
    // The CA and certificates use real time (peers check them against theirs), never the
    // virtual clock.
    let tls = match opts.tls.clone() {
        Some(t) => {
            let made = tokio::task::spawn_blocking(move || {
                let now = Clock::system().now();
                let ca = crate::tls::LocalCa::open_or_create(&t.dir, now)?;
                let server = ca.server_config(&t.names, now)?;
                let client = ca.client_config()?;
                Ok::<_, crate::tls::TlsError>((ca, server, client))
            })
            .await
            .map_err(|e| crate::tls::TlsError::Generate(e.to_string()))??;
            if made.0.created {
                tracing::info!(
                    "made a local certificate authority in {}; run `latchkey ca` to see how to trust it",
                    made.0.dir.display()
                );
            }
            Some(made)
        }
        None => None,
    };

    let store = Store::open(&opts.db).await?;
    let stored_settings = store.load_settings().await?.unwrap_or_default();

    let file = match &opts.config {
        Some(path) => {
            let existing: Vec<String> = builtin_scopes()
                .into_iter()
                .map(|s| s.name)
                .chain(store.list_scopes().await?.into_iter().map(|s| s.name))
                .collect();
            // In replace mode the database's custom scopes are about to go: the file must define
            // the ones it uses.
            let replace = opts.config_mode == config::ConfigMode::Replace;
            let cfg = config::parse_file(path, &|s| {
                existing.iter().any(|e| e == s) && (!replace || builtin_scopes().iter().any(|b| b.name == s))
            })
            .map_err(StartError::Config)?;
            Some(cfg)
        }
        None => None,
    };
    let settings: Settings = match &file {
        Some(cfg) => cfg.merge_settings(&stored_settings),
        None => stored_settings,
    };

    let now = opts.clock.now();
    let retention = i64::try_from(settings.access_token_ttl.0.max(settings.id_token_ttl.0)).unwrap_or(i64::MAX);
    let fixed = file
        .as_ref()
        .map(|f| f.fixed_keys(now))
        .transpose()?
        .unwrap_or_default();
    // A fresh database's key is generated in the background: discovery answers meanwhile, and
    // the HTTP layer holds what needs the key until it is there (see `Keys::start`). Fixed keys
    // from the config need no generation.
    let keys = if fixed.is_empty() {
        Keys::start(&store, settings.signing_alg, now, retention).await?
    } else {
        Keys::load_fixed(&store, fixed, now, retention).await?
    }
    .with_clock(opts.clock.clone());
    let provider = Arc::new(
        Provider::new(
            issuer,
            store,
            keys,
            opts.clock.clone(),
            EventBus::new(),
            settings.clone(),
        )
        .await?,
    );
    let fetcher: Arc<dyn crate::fetch::Fetch> = Arc::new(crate::fetch::Defensive);
    provider.remote_jwks.set_fetcher(fetcher.clone());
    provider.client_documents.set_fetcher(fetcher);
    // Beyond loopback, open registration needs a token: the admin token unless
    // `[registration] initial_access_token` names another (docs/modern.md).
    if !opts.bind.is_loopback()
        && let Some(t) = &opts.admin_token
    {
        let _ = provider.registration_gate.set(t.clone());
    }
    if provider.store.load_settings().await?.as_ref() != Some(&settings) {
        provider.set_settings(settings).await?;
    }
    if let Some(cfg) = file {
        let removed = crate::watch::apply(&provider, cfg, opts.config_mode).await?;
        if !removed.is_empty() {
            tracing::info!("--config-mode replace: removed {}", removed.join(", "));
        }
        if let Some(path) = &opts.config {
            crate::watch::record(&provider, path, opts.config_mode, opts.watch, Vec::new(), removed);
        }
    }
    if let Some(url) = &opts.backchannel_url {
        provider.set_back_channel(Some(url)).map_err(StartError::BackChannel)?;
    }
    if let Some(name) = &opts.scenario {
        provider.apply_scenario(name).await.map_err(|e| match e {
            crate::provider::ChangeError::NotFound(_) => StartError::Scenario(format!(
                "no scenario `{name}`; define it with [[scenarios]] in the config file"
            )),
            other => StartError::Scenario(format!("scenario `{name}`: {other}")),
        })?;
    }
    // What `POST /admin/api/reset` goes back to.
    provider.store.save_baseline().await?;

    let admin = Arc::new(crate::admin::Admin::new(
        provider.clone(),
        opts.admin_token.clone(),
        addr.port(),
    ));
    let app = crate::http::router_with(provider.clone(), admin.clone());
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let watcher = match (&opts.config, opts.watch) {
        (Some(path), true) => {
            Some(crate::watch::spawn(provider.clone(), path.clone(), opts.config_mode).map_err(StartError::Watch)?)
        }
        (None, true) => return Err(StartError::Watch("--watch needs --config FILE".into())),
        _ => None,
    };
    let serve_tls = tls.as_ref().map(|(_, server, _)| {
        Arc::new(crate::http::serve::Tls {
            acceptor: tokio_rustls::TlsAcceptor::from(server.clone()),
            https_url: provider.issuer.url("/"),
        })
    });
    let stopping = admin.clone();
    let task = tokio::spawn(crate::http::serve::serve(listener, app, serve_tls, async move {
        let _ = stop_rx.await;
        // Ends the event streams, so open SSE connections do not hold up the shutdown.
        stopping.shutdown();
    }));
    Ok(RunningServer {
        addr,
        provider,
        admin,
        db: opts.db,
        tls: tls.map(|(ca, _, client)| (ca, client)),
        stop: Some(stop_tx),
        task,
        watcher,
    })
}
