//! Fault injection (docs/faults.md): every action at the endpoints it applies to, counts, the
//! request-log marks and events, safety (no rule touches the admin API or redirects anywhere
//! unvalidated), config round trip, scenarios and call counts. A real server per test on
//! 127.0.0.1:0, driven over HTTP.

#[allow(dead_code)]
#[path = "../oidc/common.rs"]
mod common;

mod actions;
mod authorize;
mod config;
mod harness;
mod safety;
mod tamper;
