//! The `latchkey` command line (design §3.1).

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use latchkey::{DbLocation, ServeOptions};

/// A complete OAuth 2.0 / OpenID Connect provider on your machine, for development.
#[derive(Parser)]
#[command(name = "latchkey", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the provider (headless); the web UI is at <issuer>/admin/.
    Serve {
        /// Port to listen on.
        #[arg(long, default_value_t = 8000, env = "LATCHKEY_PORT")]
        port: u16,
        /// Address to listen on. Anything but loopback requires --admin-token.
        #[arg(long, default_value = "127.0.0.1", env = "LATCHKEY_BIND")]
        bind: IpAddr,
        /// Issuer URL, used exactly as given [default: http://localhost:<port>].
        #[arg(long, env = "LATCHKEY_ISSUER")]
        issuer: Option<String>,
        /// SQLite database file, or `:memory:` [default: latchkey.db in the data directory].
        #[arg(long, env = "LATCHKEY_DB")]
        db: Option<String>,
        /// Config file (latchkey.toml) to load at start: what it names is created or updated.
        #[arg(long, env = "LATCHKEY_CONFIG")]
        config: Option<PathBuf>,
        /// Bearer token the admin API requires (mandatory when --bind is not loopback).
        #[arg(long, env = "LATCHKEY_ADMIN_TOKEN", hide_env_values = true)]
        admin_token: Option<String>,
    },
}

fn db_location(db: Option<String>) -> DbLocation {
    db.map_or_else(DbLocation::default_file, |d| DbLocation::parse(&d))
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LATCHKEY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .compact()
        .init();
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
            db,
            config,
            admin_token,
        } => {
            init_logging();
            let opts = ServeOptions {
                bind,
                port,
                issuer,
                db: db_location(db),
                config,
                admin_token,
                ..ServeOptions::default()
            };
            let server = match latchkey::start(opts).await {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            };
            println!("Latchkey {} is running", env!("CARGO_PKG_VERSION"));
            println!("  issuer    {}", server.issuer());
            println!("  listening http://{}", server.addr());
            println!("  admin UI  {}", server.admin_url());
            println!("  database  {}", server.db());
            println!("Press Ctrl-C to stop.");
            server.run_until_signal().await;
            ExitCode::SUCCESS
        }
    }
}
