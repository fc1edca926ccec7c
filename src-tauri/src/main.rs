//! Latchkey's desktop app: a thin Tauri shell around the `latchkey` library.
//!
//! It starts the library's server in-process (port 8000 by default, the default database) and
//! opens a window on the UI the server itself serves at `http://localhost:<port>/admin/`, so the
//! UI and the admin API share one origin and the UI needs no Tauri API at all. When the port is
//! taken, the window shows a small local page (`frontend/index.html`) that says so and lets the
//! user pick another port; the choice is remembered in `settings.json` in the app's config
//! directory. The shell holds no protocol or storage logic.
//!
//! Command line and environment (tests use them to isolate themselves), see [`args`]: `--port`
//! / `LATCHKEY_PORT` (the port to try first, before the remembered one), `--db` / `LATCHKEY_DB`
//! (a database file or `:memory:`), `--config` / `LATCHKEY_CONFIG` (a `latchkey.toml` loaded at
//! start, like `latchkey serve --config`); `LATCHKEY_LOG` is the log filter. `XDG_DATA_HOME` and `XDG_CONFIG_HOME` move the default database and the
//! settings file.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod args;
mod settings;

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use latchkey::{DbLocation, RunningServer, ServeOptions, StartError};
use serde::Serialize;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::webview::{DownloadEvent, NewWindowResponse};
use tauri::{AppHandle, Manager, RunEvent, State, Url, WebviewUrl, WebviewWindowBuilder, Wry};
use tauri_plugin_clipboard_manager::ClipboardExt;
use tauri_plugin_opener::OpenerExt;

use args::{Args, Exit};
use settings::Settings;

/// The port tried when neither `LATCHKEY_PORT` nor a remembered port says otherwise.
const DEFAULT_PORT: u16 = 8000;
/// The same over HTTPS (as `latchkey serve --tls`).
const DEFAULT_TLS_PORT: u16 = 8443;
/// The main window's label.
const MAIN: &str = "main";
/// How long Quit waits for open requests before leaving anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What the start page (and the menu) need to know about the server.
#[derive(Debug, Clone, Serialize)]
struct ServerInfo {
    /// Whether the server is running.
    running: bool,
    /// The port it runs on, or the one it last tried.
    port: u16,
    /// The issuer, when running.
    issuer: Option<String>,
    /// The UI's URL, when running.
    admin_url: Option<String>,
    /// The database.
    db: String,
    /// The last start failed because the port was taken.
    port_in_use: bool,
    /// Why the last start failed.
    error: Option<String>,
    /// A free port to offer when the port is taken.
    suggested_port: Option<u16>,
    /// Whether it serves (or was asked to serve) HTTPS with the local CA.
    tls: bool,
    /// With HTTPS: the local CA's certificate (what to trust in browsers and runtimes).
    ca_cert: Option<String>,
    /// With HTTPS: the server certificate, which the window trusts for localhost.
    #[serde(skip)]
    server_cert: Option<PathBuf>,
    /// The app's version.
    version: &'static str,
}

/// The shell's state: the running server and what to tell the window about it.
struct Shell {
    db: DbLocation,
    config: Option<PathBuf>,
    config_dir: PathBuf,
    /// Serve HTTPS with the local CA in `tls_dir` (the menu's "Serve over HTTPS").
    tls: Mutex<bool>,
    tls_dir: PathBuf,
    /// The port from the command line or the one the user picked (else the default per scheme).
    port_chosen: Mutex<Option<u16>>,
    https_item: Mutex<Option<CheckMenuItem<Wry>>>,
    server: tokio::sync::Mutex<Option<RunningServer>>,
    info: Mutex<ServerInfo>,
    menu: Mutex<Option<(MenuItem<Wry>, MenuItem<Wry>)>>,
}

impl Shell {
    fn tls(&self) -> bool {
        *self.tls.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The port to serve on: the chosen one, else 8000 (8443 with HTTPS).
    fn port(&self) -> u16 {
        let chosen = *self.port_chosen.lock().unwrap_or_else(|e| e.into_inner());
        chosen.unwrap_or(if self.tls() { DEFAULT_TLS_PORT } else { DEFAULT_PORT })
    }

    /// Remembers the port (when chosen) and the scheme in `settings.json`.
    fn remember(&self) {
        let saved = Settings {
            port: *self.port_chosen.lock().unwrap_or_else(|e| e.into_inner()),
            tls: Some(self.tls()),
        };
        match saved.save(&self.config_dir) {
            Ok(path) => tracing::info!("remembered {saved:?} in {}", path.display()),
            Err(e) => tracing::warn!("cannot write settings in {}: {e}", self.config_dir.display()),
        }
    }

    fn info(&self) -> ServerInfo {
        self.info.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set_info(&self, info: ServerInfo) {
        if let Some((open, copy)) = self.menu.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            let _ = open.set_enabled(info.running);
            let _ = copy.set_enabled(info.running);
        }
        *self.info.lock().unwrap_or_else(|e| e.into_inner()) = info;
    }

    /// Starts the server on `port` unless one is running; records the outcome.
    async fn start(&self, port: u16) -> ServerInfo {
        let mut slot = self.server.lock().await;
        if slot.is_none() {
            let tls = self.tls();
            let opts = ServeOptions {
                port,
                db: self.db.clone(),
                config: self.config.clone(),
                tls: tls.then(|| latchkey::TlsOptions {
                    dir: self.tls_dir.clone(),
                    names: Vec::new(),
                }),
                ..ServeOptions::default()
            };
            let info = match latchkey::start(opts).await {
                Ok(server) => {
                    tracing::info!(
                        "Latchkey {} is running: issuer {}, UI {}, database {}",
                        env!("CARGO_PKG_VERSION"),
                        server.issuer(),
                        server.admin_url(),
                        server.db()
                    );
                    let info = self.running_info(&server);
                    *slot = Some(server);
                    info
                }
                Err(e) => {
                    tracing::warn!("cannot start on port {port}: {e}");
                    let port_in_use = matches!(e, StartError::PortInUse { .. });
                    let error = if port_in_use {
                        format!("Port {port} is already in use on this machine.")
                    } else {
                        e.to_string()
                    };
                    ServerInfo {
                        running: false,
                        port,
                        issuer: None,
                        admin_url: None,
                        db: self.db.to_string(),
                        port_in_use,
                        error: Some(error),
                        suggested_port: free_port_after(port),
                        tls,
                        ca_cert: None,
                        server_cert: None,
                        version: env!("CARGO_PKG_VERSION"),
                    }
                }
            };
            self.set_info(info);
        }
        self.info()
    }

    fn running_info(&self, server: &RunningServer) -> ServerInfo {
        ServerInfo {
            running: true,
            port: server.addr().port(),
            issuer: Some(server.issuer().to_string()),
            admin_url: Some(server.admin_url()),
            db: server.db().to_string(),
            port_in_use: false,
            error: None,
            suggested_port: None,
            tls: server.local_ca().is_some(),
            ca_cert: server.local_ca().map(|ca| ca.ca_cert_path().display().to_string()),
            server_cert: server.local_ca().map(|ca| ca.server_cert_path()),
            version: env!("CARGO_PKG_VERSION"),
        }
    }

    /// Stops the server gracefully (bounded by [`SHUTDOWN_GRACE`]).
    async fn stop(&self) {
        let server = self.server.lock().await.take();
        if let Some(server) = server {
            tracing::info!("shutting down");
            if tokio::time::timeout(SHUTDOWN_GRACE, server.shutdown()).await.is_err() {
                tracing::warn!("open requests did not finish within {SHUTDOWN_GRACE:?}");
            }
            tracing::info!("stopped");
        }
    }
}

/// The first port after `port` that can be bound on loopback right now.
fn free_port_after(port: u16) -> Option<u16> {
    (port.saturating_add(1)..=port.saturating_add(100))
        .filter(|p| *p > 1023 && *p != port)
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
}

/// IPC: what the start page shows.
#[tauri::command]
fn server_info(shell: State<'_, Shell>) -> ServerInfo {
    shell.info()
}

/// IPC: start the server on the port the user picked; on success remember it and load the UI.
#[tauri::command]
async fn start_server(app: AppHandle, shell: State<'_, Shell>, port: u16) -> Result<ServerInfo, String> {
    if port == 0 {
        return Err("Pick a port between 1 and 65535.".into());
    }
    let info = shell.start(port).await;
    if !info.running {
        return Err(info.error.unwrap_or_else(|| "The server did not start.".into()));
    }
    *shell.port_chosen.lock().unwrap_or_else(|e| e.into_inner()) = Some(info.port);
    shell.remember();
    show_ui(&app, &info)?;
    Ok(info)
}

/// Loads the UI of a running server in the main window; over HTTPS, the window first trusts
/// the server's certificate for localhost.
fn show_ui(app: &AppHandle, info: &ServerInfo) -> Result<(), String> {
    let (Some(window), Some(url)) = (app.get_webview_window(MAIN), info.admin_url.as_deref()) else {
        return Ok(());
    };
    if let Some(cert) = &info.server_cert {
        trust_server_certificate(&window, cert);
    }
    let url: Url = url.parse().map_err(|e| format!("{e}"))?;
    window.navigate(url).map_err(|e| e.to_string())
}

/// Lets the window's WebKitGTK accept exactly this server certificate for `localhost` and
/// `127.0.0.1` (`webkit_web_context_allow_tls_certificate_for_host`): the desktop UI works over
/// HTTPS without trusting Latchkey's CA system-wide, and certificate checking stays on for
/// everything else. WKWebView (macOS) and WebView2 (Windows) use the system store: there the CA
/// must be trusted once (`latchkey ca`).
#[cfg(target_os = "linux")]
fn trust_server_certificate(window: &tauri::WebviewWindow, cert: &std::path::Path) {
    let pem = match std::fs::read_to_string(cert) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!("cannot read {}: {e}", cert.display());
            return;
        }
    };
    let done = window.with_webview(move |webview| {
        use webkit2gtk::{WebContextExt, WebViewExt};
        let Some(context) = webview.inner().context() else {
            return;
        };
        match webkit2gtk::gio::TlsCertificate::from_pem(&pem) {
            Ok(certificate) => {
                for host in ["localhost", "127.0.0.1"] {
                    context.allow_tls_certificate_for_host(&certificate, host);
                }
            }
            Err(e) => tracing::warn!("the server certificate does not load: {e}"),
        }
    });
    if let Err(e) = done {
        tracing::warn!("cannot reach the window's web view: {e}");
    }
}

#[cfg(not(target_os = "linux"))]
fn trust_server_certificate(_window: &tauri::WebviewWindow, _cert: &std::path::Path) {}

/// The menu's "Serve over HTTPS": restarts the server with or without TLS, remembers the
/// choice, and loads the UI from the new address (or the start page, if it did not start).
async fn switch_tls(app: AppHandle, on: bool) {
    let Some(shell) = app.try_state::<Shell>() else {
        return;
    };
    if shell.tls() == on && shell.info().running {
        return;
    }
    *shell.tls.lock().unwrap_or_else(|e| e.into_inner()) = on;
    shell.stop().await;
    let info = shell.start(shell.port()).await;
    shell.remember();
    if let Some(item) = shell.https_item.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
        let _ = item.set_checked(on);
    }
    let shown = if info.running {
        show_ui(&app, &info)
    } else {
        // The start page explains the failure and offers another port.
        match (app.get_webview_window(MAIN), Url::parse(START_PAGE)) {
            (Some(w), Ok(url)) => w.navigate(url).map_err(|e| e.to_string()),
            (_, Err(e)) => Err(e.to_string()),
            _ => Ok(()),
        }
    };
    if let Err(e) = shown {
        tracing::warn!("cannot load the UI: {e}");
    }
}

/// The shell's own start page (`frontend/index.html`) as the window addresses it.
#[cfg(not(windows))]
const START_PAGE: &str = "tauri://localhost/index.html";
#[cfg(windows)]
const START_PAGE: &str = "http://tauri.localhost/index.html";

/// Opens a URL in the user's browser (menu, links that want a new window).
fn open_external(app: &AppHandle, url: &str) {
    if let Err(e) = app.opener().open_url(url, None::<&str>) {
        tracing::warn!("cannot open {url} in the browser: {e}");
    }
}

/// Whether the main window may show `url` itself: the shell's own page and loopback pages (the
/// UI, and the login pages and redirect URIs of the apps under development). Anything else
/// opens in the browser.
fn stays_in_window(url: &Url) -> bool {
    match url.scheme() {
        "tauri" | "about" | "data" | "blob" => true,
        "http" | "https" => matches!(
            url.host_str(),
            Some("localhost" | "127.0.0.1" | "[::1]" | "tauri.localhost")
        ),
        _ => false,
    }
}

type MenuParts = (Menu<Wry>, MenuItem<Wry>, MenuItem<Wry>, CheckMenuItem<Wry>);

fn build_menu(app: &AppHandle, tls: bool) -> tauri::Result<MenuParts> {
    let open = MenuItem::with_id(
        app,
        "open-browser",
        "Open the UI in the Browser",
        false,
        Some("CmdOrCtrl+B"),
    )?;
    let copy = MenuItem::with_id(
        app,
        "copy-issuer",
        "Copy the Issuer URL",
        false,
        Some("CmdOrCtrl+Shift+C"),
    )?;
    let https = CheckMenuItem::with_id(app, "toggle-tls", "Serve over HTTPS", true, tls, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, Some("CmdOrCtrl+Q"))?;
    let sep = PredefinedMenuItem::separator(app)?;
    let sep2 = PredefinedMenuItem::separator(app)?;
    let file = Submenu::with_items(app, "Latchkey", true, &[&open, &copy, &sep, &https, &sep2, &quit])?;
    let menu = Menu::with_items(app, &[&file])?;
    Ok((menu, open, copy, https))
}

fn on_menu(app: &AppHandle, id: &str) {
    let Some(shell) = app.try_state::<Shell>() else {
        return;
    };
    let info = shell.info();
    match id {
        "open-browser" => {
            if let Some(url) = info.admin_url {
                open_external(app, &url);
            }
        }
        "copy-issuer" => {
            if let Some(issuer) = info.issuer {
                match app.clipboard().write_text(issuer.clone()) {
                    Ok(()) => tracing::info!("copied {issuer} to the clipboard"),
                    Err(e) => tracing::warn!("cannot copy to the clipboard: {e}"),
                }
            }
        }
        "toggle-tls" => {
            let on = !shell.tls();
            tauri::async_runtime::spawn(switch_tls(app.clone(), on));
        }
        "quit" => app.exit(0),
        _ => {}
    }
}

/// Ctrl-C or SIGTERM quits like the menu does, with a graceful shutdown. The handlers are in
/// place before the server starts, so a signal never finds the default action (instant death).
fn quit_on_signal(app: &AppHandle) {
    let quit = app.clone();
    // Installed here, inside the runtime, before the server starts.
    let stop = {
        let runtime = tauri::async_runtime::handle();
        let _inside = runtime.inner().enter();
        latchkey::server::shutdown_signal()
    };
    tauri::async_runtime::spawn(async move {
        stop.await;
        quit.exit(0);
    });
}

fn setup(app: &mut tauri::App, args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let handle = app.handle().clone();
    let config_dir = app.path().app_config_dir()?;
    let remembered = Settings::load(&config_dir);
    let db = args
        .db
        .as_deref()
        .map_or_else(DbLocation::default_file, DbLocation::parse);
    // The command line or environment first, then what the user picked last time, then 8000
    // over HTTP (8443 over HTTPS).
    let tls = args.tls.or(remembered.tls).unwrap_or(false);
    let port_chosen = args.port.or(remembered.port);
    let port = port_chosen.unwrap_or(if tls { DEFAULT_TLS_PORT } else { DEFAULT_PORT });

    let (menu, open, copy, https) = build_menu(&handle, tls)?;
    app.manage(Shell {
        db,
        config: args.config,
        config_dir,
        tls: Mutex::new(tls),
        tls_dir: args.tls_dir.unwrap_or_else(latchkey::tls::default_dir),
        port_chosen: Mutex::new(port_chosen),
        https_item: Mutex::new(Some(https)),
        server: tokio::sync::Mutex::new(None),
        info: Mutex::new(ServerInfo {
            running: false,
            port,
            issuer: None,
            admin_url: None,
            db: String::new(),
            port_in_use: false,
            error: None,
            suggested_port: None,
            tls,
            ca_cert: None,
            server_cert: None,
            version: env!("CARGO_PKG_VERSION"),
        }),
        menu: Mutex::new(Some((open, copy))),
    });
    quit_on_signal(&handle);
    let shell = app.state::<Shell>();
    let info = tauri::async_runtime::block_on(shell.start(port));

    // Over HTTPS the window must trust the certificate before it loads the UI: it opens on the
    // start page ("Starting...") and is sent on below.
    let url = match (&info.admin_url, info.tls) {
        (Some(u), false) => WebviewUrl::External(u.parse()?),
        _ => WebviewUrl::App("index.html".into()),
    };
    let links = handle.clone();
    let nav = handle.clone();
    WebviewWindowBuilder::new(app, MAIN, url)
        .title("Latchkey")
        .inner_size(1240.0, 760.0)
        .min_inner_size(720.0, 480.0)
        .menu(menu)
        .on_new_window(move |url, _| {
            if matches!(url.scheme(), "http" | "https" | "mailto") {
                open_external(&links, url.as_str());
            }
            NewWindowResponse::Deny
        })
        .on_navigation(move |url| {
            let stay = stays_in_window(url);
            if !stay {
                open_external(&nav, url.as_str());
            }
            stay
        })
        .on_download(|_, event| {
            if let DownloadEvent::Finished { url, path, success } = event {
                tracing::info!(
                    "download of {url} to {path:?}: {}",
                    if success { "done" } else { "failed" }
                );
            }
            true
        })
        .build()?;
    if info.running && info.tls {
        show_ui(&handle, &info)?;
    }

    Ok(())
}

fn main() {
    let args = match Args::parse(std::env::args_os().skip(1), |k| std::env::var_os(k)) {
        Ok(args) => args,
        Err(Exit::Print(text)) => {
            println!("{text}");
            return;
        }
        Err(Exit::Usage(message)) => {
            eprintln!("error: {message}\n\n{}", args::USAGE);
            std::process::exit(2);
        }
    };
    #[cfg(target_os = "linux")]
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        eprintln!(
            "error: no display to open a window on (DISPLAY and WAYLAND_DISPLAY are unset).\n       \
             Without a display, run the headless server instead: latchkey serve"
        );
        std::process::exit(1);
    }
    let filter = tracing_subscriber::EnvFilter::try_from_env("LATCHKEY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .init();

    let app = tauri::Builder::default()
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .invoke_handler(tauri::generate_handler![server_info, start_server])
        .on_menu_event(|app, event| on_menu(app, event.id().as_ref()))
        .setup(move |app| setup(app, args))
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            eprintln!("error: cannot start Latchkey's window: {e}");
            std::process::exit(1);
        }
    };
    app.run(|app, event| {
        if let RunEvent::Exit = event
            && let Some(shell) = app.try_state::<Shell>()
        {
            tauri::async_runtime::block_on(shell.stop());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_keeps_loopback_pages_and_sends_the_rest_to_the_browser() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(stays_in_window(&u("http://localhost:8000/admin/")));
        assert!(stays_in_window(&u("http://127.0.0.1:3000/callback?code=x")));
        assert!(stays_in_window(&u("tauri://localhost/index.html")));
        assert!(!stays_in_window(&u("https://example.com/")));
        assert!(!stays_in_window(&u("file:///etc/passwd")));
    }

    #[test]
    fn a_free_port_is_suggested_after_a_taken_one() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let suggested = free_port_after(port).unwrap();
        assert!(suggested > port);
    }
}
