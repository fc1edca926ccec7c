//! The config file as the source of truth: applying it at start in either [`ConfigMode`], and
//! `serve --watch`, which applies it again whenever it changes.
//!
//! A reload is all or nothing as far as the file is concerned: the whole file is parsed and
//! validated first, and a file that does not validate changes nothing; its errors (file, line,
//! column, key) go to the log and, as a `config.rejected` event, to the UI. A file that
//! validates is applied like at start (and, in `replace` mode, what it no longer names is
//! removed), then `config.reloaded` is published.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::config::{self, ConfigErrors, ConfigFile, ConfigMode};
use crate::events::Event;
use crate::model::builtin_scopes;
use crate::provider::{ChangeError, Provider};

/// How long the watcher waits after a change for more (editors write in several steps).
pub const SETTLE: Duration = Duration::from_millis(150);

/// Why a reload changed nothing (or stopped part-way, for [`ReloadError::Apply`]).
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The file cannot be read, parsed or validated: nothing was changed.
    #[error("{0}")]
    Invalid(ConfigErrors),
    /// Applying a valid file failed (the store, or a rule only the registry can check).
    #[error("{0}")]
    Apply(#[from] ChangeError),
}

/// Reads and validates `path` for `mode`: in `replace` mode a custom scope must be defined in
/// the file itself (the ones only in the database are about to be removed).
pub fn load(p: &Provider, path: &Path, mode: ConfigMode) -> Result<ConfigFile, ConfigErrors> {
    let src = config::read(path)?;
    let file = path.display().to_string();
    match mode {
        ConfigMode::Merge => config::parse_and_validate(&file, &src, &|s| p.scope_exists(s)),
        ConfigMode::Replace => {
            config::parse_and_validate(&file, &src, &|s| builtin_scopes().iter().any(|b| b.name == s))
        }
    }
}

/// Applies a validated file: upserts what it names, and in `replace` mode removes what it does
/// not. Returns what was removed.
pub async fn apply(p: &Provider, cfg: ConfigFile, mode: ConfigMode) -> Result<Vec<String>, ChangeError> {
    let names = (mode == ConfigMode::Replace).then(|| cfg.clone());
    p.apply_config(cfg).await?;
    match names {
        Some(f) => p.prune_to(&f).await,
        None => Ok(Vec::new()),
    }
}

/// Records how the file's last load went, for `status.config` (the GUI's banner).
pub fn record(
    p: &Provider,
    path: &Path,
    mode: ConfigMode,
    watch: bool,
    errors: Vec<serde_json::Value>,
    removed: Vec<String>,
) {
    p.set_config_file(config::ConfigFileState {
        file: path.display().to_string(),
        mode: match mode {
            ConfigMode::Merge => "merge",
            ConfigMode::Replace => "replace",
        }
        .to_string(),
        watch,
        state: if errors.is_empty() { "applied" } else { "rejected" }.to_string(),
        errors,
        removed,
        at: p.clock.now_ms(),
    });
}

/// One reload (of a watched file): validate, then apply; records the outcome ([`record`]),
/// publishes `config.reloaded` or `config.rejected` and logs.
pub async fn reload(p: &Provider, path: &Path, mode: ConfigMode) -> Result<Vec<String>, ReloadError> {
    let cfg = match load(p, path, mode) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("config file not applied (nothing changed): {e}");
            let errors: Vec<serde_json::Value> = e.0.iter().map(config::ConfigError::to_json).collect();
            record(p, path, mode, true, errors.clone(), Vec::new());
            p.events.publish(p.clock.now_ms(), Event::ConfigRejected { errors });
            return Err(ReloadError::Invalid(e));
        }
    };
    match apply(p, cfg, mode).await {
        Ok(removed) => {
            tracing::info!(
                "config file {} applied{}",
                path.display(),
                if removed.is_empty() {
                    String::new()
                } else {
                    format!("; removed {}", removed.join(", "))
                }
            );
            record(p, path, mode, true, Vec::new(), removed.clone());
            p.events.publish(
                p.clock.now_ms(),
                Event::ConfigReloaded {
                    file: path.display().to_string(),
                    removed: removed.clone(),
                },
            );
            Ok(removed)
        }
        Err(e) => {
            tracing::error!("config file {} could not be fully applied: {e}", path.display());
            let errors = vec![serde_json::json!({
                "file": path.display().to_string(), "line": null, "column": null, "key": null, "message": e.to_string(),
            })];
            record(p, path, mode, true, errors.clone(), Vec::new());
            p.events.publish(p.clock.now_ms(), Event::ConfigRejected { errors });
            Err(ReloadError::Apply(e))
        }
    }
}

/// Watches `path` (through its directory, so editors that save by writing a new file and
/// renaming it are seen) and reloads it after each change has settled for [`SETTLE`]. A change
/// that leaves the content as it was is ignored. Runs until the returned handle is aborted; the
/// watcher lives inside the task.
pub fn spawn(p: Arc<Provider>, path: PathBuf, mode: ConfigMode) -> Result<tokio::task::JoinHandle<()>, String> {
    use notify::Watcher;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().map(|n| n.to_os_string());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res
            && ev.paths.iter().any(|p| p.file_name().map(|n| n.to_os_string()) == name)
        {
            let _ = tx.send(());
        }
    })
    .map_err(|e| format!("--watch: {e}"))?;
    watcher
        .watch(&dir, notify::RecursiveMode::NonRecursive)
        .map_err(|e| format!("--watch {}: {e}", dir.display()))?;
    let mut last = std::fs::read(&path).ok();
    Ok(tokio::spawn(async move {
        let _watcher = watcher;
        while rx.recv().await.is_some() {
            tokio::time::sleep(SETTLE).await;
            while rx.try_recv().is_ok() {}
            let now = std::fs::read(&path).ok();
            if now.is_some() && now == last {
                continue;
            }
            // A file that is briefly missing (deleted, then renamed into place) is not an error
            // until it stays missing.
            if now.is_none() {
                tokio::time::sleep(SETTLE).await;
                if !path.exists() {
                    let _ = reload(&p, &path, mode).await;
                }
                continue;
            }
            last = now;
            let _ = reload(&p, &path, mode).await;
        }
    }))
}
