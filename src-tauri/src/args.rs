//! The desktop app's command line: a small subset of `latchkey serve`'s flags, each with an
//! environment variable for when the app is started by a launcher or a test driver.
//!
//! ```text
//! latchkey-desktop [--port N] [--db PATH|:memory:] [--config FILE] [--tls|--no-tls] [--tls-dir DIR]
//! ```
//!
//! A flag wins over its variable (`LATCHKEY_PORT`, `LATCHKEY_DB`, `LATCHKEY_CONFIG`,
//! `LATCHKEY_TLS`, `LATCHKEY_TLS_DIR`); the port and HTTPS then fall back to what is remembered
//! in `settings.json`, then to 8000 over HTTP (8443 over HTTPS).

use std::ffi::OsString;
use std::path::PathBuf;

/// The usage text for `--help` and for mistakes.
pub const USAGE: &str = "\
Usage: latchkey-desktop [--port N] [--db PATH|:memory:] [--config FILE] [--tls|--no-tls] [--tls-dir DIR]

Latchkey's desktop app: a local OAuth 2.0 / OpenID Connect provider and its UI in a window.

Options:
  --port N         the port to serve on (default: the one you picked last, else 8000) [LATCHKEY_PORT]
  --db PATH        the SQLite database, or :memory: (default: the platform data dir)  [LATCHKEY_DB]
  --config FILE    a latchkey.toml to load at start, as `latchkey serve --config`      [LATCHKEY_CONFIG]
  --tls, --no-tls  serve HTTPS with Latchkey's local CA, or plain HTTP (default: as you
                   chose last in the menu, else HTTP)                                 [LATCHKEY_TLS]
  --tls-dir DIR    where the local CA lives (default: tls/ in the data dir)           [LATCHKEY_TLS_DIR]
  -h, --help       this text
  -V, --version    the version

Headless (no window, for CI): latchkey serve";

/// What the command line and the environment ask for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Args {
    /// The port to try first.
    pub port: Option<u16>,
    /// The database location as given.
    pub db: Option<String>,
    /// The config file to load.
    pub config: Option<PathBuf>,
    /// HTTPS (`Some(true)`) or HTTP (`Some(false)`), when asked for.
    pub tls: Option<bool>,
    /// Where the local CA lives.
    pub tls_dir: Option<PathBuf>,
}

/// What to do instead of starting the app.
#[derive(Debug, PartialEq, Eq)]
pub enum Exit {
    /// Print this and exit 0.
    Print(String),
    /// Print this and the usage to stderr, exit 2.
    Usage(String),
}

impl Args {
    /// Parses the arguments after the program name, then fills what they leave open from `env`.
    pub fn parse(
        args: impl IntoIterator<Item = OsString>,
        env: impl Fn(&str) -> Option<OsString>,
    ) -> Result<Args, Exit> {
        let mut out = Args::default();
        let mut it = args.into_iter();
        while let Some(arg) = it.next() {
            let arg = arg
                .into_string()
                .map_err(|a| Exit::Usage(format!("argument {a:?} is not valid UTF-8")))?;
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
                _ => (arg.clone(), None),
            };
            let mut value = |name: &str| -> Result<String, Exit> {
                match inline.clone() {
                    Some(v) => Ok(v),
                    None => it
                        .next()
                        .and_then(|v| v.into_string().ok())
                        .ok_or_else(|| Exit::Usage(format!("{name} needs a value"))),
                }
            };
            match flag.as_str() {
                "-h" | "--help" => return Err(Exit::Print(USAGE.to_string())),
                "-V" | "--version" => {
                    return Err(Exit::Print(format!("latchkey-desktop {}", env!("CARGO_PKG_VERSION"))));
                }
                "--port" => out.port = Some(parse_port(&value("--port")?, "--port")?),
                "--db" => out.db = Some(value("--db")?),
                "--config" => out.config = Some(PathBuf::from(value("--config")?)),
                "--tls" => out.tls = Some(true),
                "--no-tls" => out.tls = Some(false),
                "--tls-dir" => out.tls_dir = Some(PathBuf::from(value("--tls-dir")?)),
                other => return Err(Exit::Usage(format!("unknown argument `{other}`"))),
            }
        }
        let var = |name: &str| {
            env(name)
                .and_then(|v| v.into_string().ok())
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        if out.port.is_none()
            && let Some(p) = var("LATCHKEY_PORT")
        {
            out.port = Some(parse_port(&p, "LATCHKEY_PORT")?);
        }
        if out.db.is_none() {
            out.db = var("LATCHKEY_DB");
        }
        if out.config.is_none() {
            out.config = var("LATCHKEY_CONFIG").map(PathBuf::from);
        }
        if out.tls.is_none()
            && let Some(v) = var("LATCHKEY_TLS")
        {
            out.tls = Some(match v.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => return Err(Exit::Usage(format!("LATCHKEY_TLS `{v}` is not true or false"))),
            });
        }
        if out.tls_dir.is_none() {
            out.tls_dir = var("LATCHKEY_TLS_DIR").map(PathBuf::from);
        }
        Ok(out)
    }
}

fn parse_port(v: &str, what: &str) -> Result<u16, Exit> {
    match v.trim().parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(Exit::Usage(format!("{what} `{v}` is not a port (1 to 65535)"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str], env: &[(&str, &str)]) -> Result<Args, Exit> {
        let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Args::parse(args.iter().map(OsString::from), |k| {
            env.iter().find(|(n, _)| n == k).map(|(_, v)| OsString::from(v))
        })
    }

    #[test]
    fn flags_win_over_the_environment() {
        let a = parse(
            &["--port", "8123", "--db=:memory:", "--config", "l.toml"],
            &[("LATCHKEY_PORT", "9000"), ("LATCHKEY_DB", "x.db")],
        )
        .unwrap();
        assert_eq!(a.port, Some(8123));
        assert_eq!(a.db.as_deref(), Some(":memory:"));
        assert_eq!(a.config, Some(PathBuf::from("l.toml")));
    }

    #[test]
    fn the_environment_fills_the_gaps() {
        let a = parse(&[], &[("LATCHKEY_PORT", " 9000 "), ("LATCHKEY_CONFIG", "")]).unwrap();
        assert_eq!(a.port, Some(9000));
        assert_eq!(a.db, None);
        assert_eq!(a.config, None);
        assert_eq!(parse(&[], &[]).unwrap(), Args::default());
    }

    #[test]
    fn tls_from_flags_or_the_environment() {
        assert_eq!(parse(&["--tls"], &[]).unwrap().tls, Some(true));
        assert_eq!(parse(&["--no-tls"], &[("LATCHKEY_TLS", "1")]).unwrap().tls, Some(false));
        assert_eq!(parse(&[], &[("LATCHKEY_TLS", "true")]).unwrap().tls, Some(true));
        assert_eq!(parse(&[], &[("LATCHKEY_TLS", "off")]).unwrap().tls, Some(false));
        let a = parse(&["--tls-dir", "ca"], &[("LATCHKEY_TLS_DIR", "other")]).unwrap();
        assert_eq!(a.tls_dir, Some(PathBuf::from("ca")));
        assert!(matches!(parse(&[], &[("LATCHKEY_TLS", "maybe")]), Err(Exit::Usage(m)) if m.contains("LATCHKEY_TLS")));
    }

    #[test]
    fn mistakes_are_usage_errors() {
        assert!(matches!(parse(&["--port", "0"], &[]), Err(Exit::Usage(m)) if m.contains("not a port")));
        assert!(matches!(parse(&["--port"], &[]), Err(Exit::Usage(m)) if m.contains("needs a value")));
        assert!(matches!(parse(&["--bind", "0.0.0.0"], &[]), Err(Exit::Usage(m)) if m.contains("--bind")));
        assert!(matches!(parse(&[], &[("LATCHKEY_PORT", "http")]), Err(Exit::Usage(m)) if m.contains("LATCHKEY_PORT")));
        assert!(matches!(parse(&["--help"], &[]), Err(Exit::Print(m)) if m.starts_with("Usage")));
        assert!(matches!(parse(&["-V"], &[]), Err(Exit::Print(m)) if m.contains("0.1.0")));
    }
}
