//! OpenID Connect flows end to end: a real server per test, driven over HTTP the way a browser
//! does, with results checked by an independent relying party (the `openidconnect` crate).

mod authorize_errors;
mod auto_login;
mod backchannel_logout;
mod codes;
mod common;
mod fixed_keys;
mod flows;
mod grants;
mod implicit;
mod lineage;
mod pages_discovery;
mod par;
mod resource_indicators;
mod sessions;
mod step_up;
mod userinfo_logout;
