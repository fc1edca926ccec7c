//! Latchkey: a complete OAuth 2.0 / OpenID Connect provider on your own machine, for
//! development.
//!
//! Layers (design §2): [`http`] (axum: routing, extraction, errors to responses) over
//! [`oauth`] (protocol logic, no HTTP framework) over [`store`] (SQLite), [`keys`] (signing,
//! JWKS), [`clock`] (the one source of time) and [`events`] (the bus behind the live UI).
//! [`server::start`] wires them together.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::todo)]
#![warn(missing_docs)]

pub mod admin;
pub mod clock;
pub mod config;
pub mod doctor;
pub mod events;
pub mod exec;
pub mod faults;
pub mod fetch;
pub mod http;
pub mod ids;
pub mod issuer;
pub mod keys;
pub mod model;
pub mod oauth;
pub mod password;
pub mod provider;
pub mod resources;
pub mod server;
pub mod store;
pub mod testing;
pub mod tls;
pub mod validate;
pub mod watch;

pub use clock::Clock;
pub use server::{RunningServer, ServeOptions, StartError, TlsOptions, start};
pub use store::DbLocation;
