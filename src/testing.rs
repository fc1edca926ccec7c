//! Latchkey in an app's own Rust tests: a real provider on a free loopback port, in the test
//! process, with the helpers the Python and JavaScript fixtures have.
//!
//! ```no_run
//! use latchkey::testing::TestProvider;
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let idp = TestProvider::with_config(
//!     r#"
//!     [[scopes]]
//!     name = "read_books"
//!
//!     [[clients]]
//!     client_id = "books-backend"
//!     client_secret = "books-backend-secret"
//!     scopes = ["read_books"]
//!     audiences = ["books-api"]
//!     "#,
//! )
//! .await?;
//! // Point the app under test at idp.issuer(); discovery is at
//! // idp.url("/.well-known/openid-configuration").
//! let token = idp.mint_token("books-backend").scopes(["read_books"]).send().await?;
//! idp.advance_clock(3600); // the token is now expired, for introspection too
//! idp.reset().await?; // back to the config: tokens, log and clock cleared
//! idp.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Each `TestProvider` is its own server with its own in-memory database, clock and request log,
//! so tests running in parallel (cargo runs the tests of a binary on several threads) never see
//! each other's changes. Starting one takes a few milliseconds; `#[tokio::test]` and a
//! multi-threaded runtime both work. Nothing is written to disk but the config text, in a
//! temporary file removed once the server has loaded it (the reset goes back to the state
//! recorded at start, not to the file).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value};

use crate::admin::AdminError;
use crate::admin::log_entry::LoggedRequest;
use crate::admin::reset::{ResetRequest, ResetSummary};
use crate::admin::tokens::{MintRequest, Minted};
use crate::provider::Provider;
use crate::server::{RunningServer, ServeOptions, StartError};
use crate::store::DbLocation;

/// A running Latchkey for one test (or one test binary): see the [module docs](self).
pub struct TestProvider {
    server: RunningServer,
}

/// The config text in a temporary file, removed on drop.
struct TempConfig(PathBuf);

impl Drop for TempConfig {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl TempConfig {
    fn write(text: &str) -> Result<TempConfig, StartError> {
        static N: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "latchkey-test-{}-{}.toml",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, text).map_err(|e| {
            StartError::Config(crate::config::ConfigErrors(vec![crate::config::ConfigError {
                file: path.display().to_string(),
                line: None,
                column: None,
                key: None,
                message: format!("cannot write the config to a temporary file: {e}"),
            }]))
        })?;
        Ok(TempConfig(path))
    }
}

impl TestProvider {
    /// A provider with nothing registered (built-in scopes only), on `127.0.0.1:0`.
    pub async fn start() -> Result<TestProvider, StartError> {
        Self::start_with(None, ServeOptions::default()).await
    }

    /// A provider loaded from config text (the `latchkey.toml` format, docs/config.md).
    /// Errors: [`StartError::Config`] naming the line and key of a mistake.
    pub async fn with_config(toml: &str) -> Result<TestProvider, StartError> {
        Self::start_with(Some(TempConfig::write(toml)?), ServeOptions::default()).await
    }

    /// A provider loaded from a config file (e.g. the `latchkey.toml` your app commits; a
    /// relative path is relative to the test's working directory, the package root under
    /// `cargo test`).
    pub async fn from_file(path: impl Into<PathBuf>) -> Result<TestProvider, StartError> {
        let opts = ServeOptions {
            config: Some(path.into()),
            ..ServeOptions::default()
        };
        Self::start_with(None, opts).await
    }

    /// Starts with `opts` (for `issuer`, `admin_token`, a fixed `clock`, ...); the port is
    /// always 0, the bind address loopback and the database in memory.
    pub async fn with_options(opts: ServeOptions) -> Result<TestProvider, StartError> {
        Self::start_with(None, opts).await
    }

    async fn start_with(file: Option<TempConfig>, opts: ServeOptions) -> Result<TestProvider, StartError> {
        let opts = ServeOptions {
            bind: std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            port: 0,
            db: DbLocation::Memory,
            config: file.as_ref().map(|f| f.0.clone()).or(opts.config),
            ..opts
        };
        let server = crate::server::start(opts).await;
        drop(file);
        let server = server?;
        // A fresh database's signing key is generated in the background while the server
        // already answers; the helpers call the library directly (not through the HTTP layer
        // that holds requests until the key exists), so wait for it here.
        server.provider().keys.ready().await?;
        Ok(TestProvider { server })
    }

    /// The issuer identifier (`http://localhost:<port>`), also the base of every endpoint.
    pub fn issuer(&self) -> &str {
        self.server.issuer()
    }

    /// An absolute URL on the provider: `url("/token")` is `{issuer}/token`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer().trim_end_matches('/'))
    }

    /// `http://127.0.0.1:<port>`: the bound address, for clients that should not resolve
    /// `localhost`.
    pub fn addr_url(&self) -> String {
        self.server.url()
    }

    /// The provider itself (store, keys, clock, events), for what the helpers do not cover.
    pub fn provider(&self) -> &Arc<Provider> {
        self.server.provider()
    }

    /// The running server.
    pub fn server(&self) -> &RunningServer {
        &self.server
    }

    /// Back to the state the config describes (`POST /admin/api/reset`): tokens, sessions,
    /// consents, the request log and the clock cleared; clients, scopes, users, resources and
    /// settings as the config has them; the signing keys kept. Returns what was removed and
    /// how long it took.
    pub async fn reset(&self) -> Result<ResetSummary, AdminError> {
        crate::admin::reset::reset(self.server.admin(), ResetRequest::default()).await
    }

    /// [`reset`](Self::reset), and new signing keys: tokens signed before no longer verify
    /// (`POST /admin/api/reset` with `{"keys": true}`).
    pub async fn reset_with_new_keys(&self) -> Result<ResetSummary, AdminError> {
        crate::admin::reset::reset(self.server.admin(), ResetRequest { keys: true }).await
    }

    /// Starts minting an access token for `client_id` without a flow (`POST
    /// /admin/api/tokens`); finish with [`MintBuilder::send`].
    pub fn mint_token(&self, client_id: &str) -> MintBuilder<'_> {
        MintBuilder {
            provider: self.provider(),
            req: MintRequest {
                client_id: client_id.to_string(),
                username: None,
                scopes: None,
                ttl: None,
                claims: None,
            },
        }
    }

    /// Moves the server clock by `secs` seconds (negative: back). Issuance, expiry,
    /// introspection and code lifetimes follow it; [`reset`](Self::reset) puts it back.
    pub fn advance_clock(&self, secs: i64) {
        self.provider().clock.advance(secs);
    }

    /// Sets the clock to real time plus `secs` seconds (0: real time).
    pub fn set_clock_offset(&self, secs: i64) {
        self.provider().clock.set_offset(secs);
    }

    /// The server's time now, UNIX seconds.
    pub fn now(&self) -> i64 {
        self.provider().clock.now()
    }

    /// The request log, oldest first (the last 1,000 protocol requests, secrets redacted).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        let log = &self.server.admin().requests;
        let mut all = Vec::new();
        let mut cursor = None;
        // PAGE_MAX is a valid page size, so `list` cannot fail here.
        while let Ok(page) = log.list(Some(crate::admin::PAGE_MAX), cursor) {
            all.extend(page.items);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        all.reverse();
        all
    }

    /// Adds a fault rule (`POST /admin/api/faults`; docs/faults.md), e.g.
    /// `FaultRule { status: Some(503), times: Some(1), ..FaultRule::new("down", Endpoint::Token,
    /// ActionKind::Status) }`. Errors name the invalid field, or say the name is taken.
    pub async fn add_fault(&self, rule: crate::faults::FaultRule) -> Result<crate::faults::RuleView, AdminError> {
        crate::admin::faults::create(self.provider(), rule).await
    }

    /// Removes the fault rule `name` (404 when there is none).
    pub async fn remove_fault(&self, name: &str) -> Result<(), AdminError> {
        crate::admin::faults::delete(self.provider(), name).await
    }

    /// Every fault rule with its counters (`fired`, `matched`, `active`).
    pub fn faults(&self) -> Vec<crate::faults::RuleView> {
        crate::admin::faults::list(self.provider())
    }

    /// Call counts per endpoint, client and user since start or the last reset
    /// (`GET /admin/api/stats`).
    pub fn stats(&self) -> crate::faults::stats::StatsView {
        crate::admin::faults::stats(self.provider())
    }

    /// Stops the server and waits for open requests to finish. Dropping a `TestProvider`
    /// without it stops accepting too, without waiting.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

/// A token being minted: see [`TestProvider::mint_token`].
#[must_use = "call .send().await to mint the token"]
pub struct MintBuilder<'a> {
    provider: &'a Arc<Provider>,
    req: MintRequest,
}

impl MintBuilder<'_> {
    /// For this user (username): `sub` becomes the user's subject.
    pub fn user(mut self, username: &str) -> Self {
        self.req.username = Some(username.to_string());
        self
    }

    /// These scopes, within the client's (default: all the client's scopes).
    pub fn scopes<I: IntoIterator<Item = S>, S: Into<String>>(mut self, scopes: I) -> Self {
        self.req.scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// Lifetime in seconds (default: the client's or the server's access-token lifetime).
    pub fn ttl(mut self, secs: u64) -> Self {
        self.req.ttl = Some(secs);
        self
    }

    /// An extra claim (registered claims such as `iss`, `sub`, `aud`, `exp` cannot be replaced).
    pub fn claim(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.req
            .claims
            .get_or_insert_with(Map::new)
            .insert(name.to_string(), value.into());
        self
    }

    /// Mints it: `{access_token, token_type, expires_in, scope, id}`. Errors name the field
    /// (an unknown client, a scope the client may not have, a lifetime out of range).
    pub async fn send(self) -> Result<Minted, AdminError> {
        crate::admin::tokens::mint(self.provider, self.req).await
    }
}
