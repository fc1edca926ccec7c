//! The standing security suite: one test per class of attack, each naming the advisory class it
//! guards against and the RFC section where one applies. `flow_*` files cover the authorization
//! flow (browser binding, consent reuse, bounds, redirect URI matching).

#[allow(dead_code)]
#[path = "../oidc/common.rs"]
mod common;

mod flow_binding;
mod flow_bounds;
mod flow_consent;
mod flow_redirect_uris;
