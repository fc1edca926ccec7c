//! The standing security suite (issue 9): one clearly named test (or a few) per class of attack
//! that has hurt other OAuth servers, each attacking a real server over HTTP and asserting the
//! specific refusal. Each test's doc comment names the advisory class and, where one applies,
//! the section of RFC 9700 (OAuth 2.0 Security Best Current Practice). `docs/security.md` lists
//! them. New features add their cases here.
//!
//! Files: `web_*.rs` (browser-facing weaknesses fixed in issue 9: script-scheme URIs, framing,
//! RFC 6750 challenges), `resists_*.rs` (classes Latchkey already resisted, kept from
//! regressing), `flow_*.rs` (authorization-flow bindings and bounds).

#[allow(dead_code)]
#[path = "../oidc/common.rs"]
mod common;

mod flow_binding;
mod flow_bounds;
mod flow_consent;
mod flow_redirect_uris;
mod resists_big_inputs;
mod resists_cross_client;
mod resists_forged_jwt;
mod resists_login_csrf;
mod resists_outbound_fetch;
mod resists_pkce_downgrade;
mod resists_redirect_uri;
mod resists_reflection;
mod web_attack;
mod web_bearer;
mod web_framing;
mod web_script_uris;
