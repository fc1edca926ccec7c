//! What the desktop app remembers between runs: the port the user picked when 8000 was taken,
//! and whether to serve HTTPS (the menu's "Serve over HTTPS").
//! A small JSON file, `settings.json` in the app's config directory
//! (`$XDG_CONFIG_HOME/dev.latchkey.desktop/` on Linux).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The file name inside the app's config directory.
pub const FILE: &str = "settings.json";

/// The remembered settings. Unknown fields are ignored; a missing or broken file means defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// The port to serve on, when the user picked one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Serve HTTPS with the local CA, when the user chose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<bool>,
}

impl Settings {
    /// Reads `dir/settings.json`; defaults when it is missing or unreadable (logged).
    pub fn load(dir: &Path) -> Settings {
        let path = dir.join(FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
                tracing::warn!("ignoring {}: {e}", path.display());
                Settings::default()
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Settings::default(),
            Err(e) => {
                tracing::warn!("cannot read {}: {e}", path.display());
                Settings::default()
            }
        }
    }

    /// Writes `dir/settings.json` (through a temporary file, so a crash never leaves half a file).
    pub fn save(&self, dir: &Path) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(FILE);
        let tmp = dir.join(format!("{FILE}.tmp"));
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, text + "\n")?;
        std::fs::rename(&tmp, &path)?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_defaults() {
        let dir = std::env::temp_dir().join(format!("latchkey-desktop-settings-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(Settings::load(&dir), Settings::default());
        let s = Settings {
            port: Some(8123),
            tls: Some(true),
        };
        s.save(&dir).unwrap();
        assert_eq!(Settings::load(&dir), s);
        std::fs::write(dir.join(FILE), "not json").unwrap();
        assert_eq!(Settings::load(&dir), Settings::default());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
