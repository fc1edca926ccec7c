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
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::webview::{DownloadEvent, NewWindowResponse};
use tauri::{AppHandle, Manager, RunEvent, State, Url, WebviewUrl, WebviewWindowBuilder, Wry};
use tauri_plugin_clipboard_manager::ClipboardExt;
use tauri_plugin_opener::OpenerExt;

use args::{Args, Exit};
use settings::Settings;

/// The port tried when neither `LATCHKEY_PORT` nor a remembered port says otherwise.
const DEFAULT_PORT: u16 = 8000;
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
    /// The app's version.
    version: &'static str,
}

/// The shell's state: the running server and what to tell the window about it.
struct Shell {
    db: DbLocation,
    config: Option<PathBuf>,
    config_dir: PathBuf,
    server: tokio::sync::Mutex<Option<RunningServer>>,
    info: Mutex<ServerInfo>,
    menu: Mutex<Option<(MenuItem<Wry>, MenuItem<Wry>)>>,
}

impl Shell {
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
            let opts = ServeOptions {
                port,
                db: self.db.clone(),
                config: self.config.clone(),
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
    let saved = Settings { port: Some(info.port) };
    match saved.save(&shell.config_dir) {
        Ok(path) => tracing::info!("remembered port {} in {}", info.port, path.display()),
        Err(e) => tracing::warn!("cannot remember the port in {}: {e}", shell.config_dir.display()),
    }
    if let (Some(window), Some(url)) = (app.get_webview_window(MAIN), info.admin_url.as_deref()) {
        let url: Url = url.parse().map_err(|e| format!("{e}"))?;
        window.navigate(url).map_err(|e| e.to_string())?;
    }
    Ok(info)
}

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

fn build_menu(app: &AppHandle) -> tauri::Result<(Menu<Wry>, MenuItem<Wry>, MenuItem<Wry>)> {
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
    let quit = MenuItem::with_id(app, "quit", "Quit", true, Some("CmdOrCtrl+Q"))?;
    let sep = PredefinedMenuItem::separator(app)?;
    let file = Submenu::with_items(app, "Latchkey", true, &[&open, &copy, &sep, &quit])?;
    let menu = Menu::with_items(app, &[&file])?;
    Ok((menu, open, copy))
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
    // The command line or environment first, then the port the user picked last time, then 8000.
    let port = args.port.or(remembered.port).unwrap_or(DEFAULT_PORT);

    let (menu, open, copy) = build_menu(&handle)?;
    app.manage(Shell {
        db,
        config: args.config,
        config_dir,
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
            version: env!("CARGO_PKG_VERSION"),
        }),
        menu: Mutex::new(Some((open, copy))),
    });
    quit_on_signal(&handle);
    let shell = app.state::<Shell>();
    let info = tauri::async_runtime::block_on(shell.start(port));

    let url = match &info.admin_url {
        Some(u) => WebviewUrl::External(u.parse()?),
        None => WebviewUrl::App("index.html".into()),
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
