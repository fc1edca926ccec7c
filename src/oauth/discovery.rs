//! Discovery documents: OpenID Connect Discovery 1.0 §3 and RFC 8414 §2.
//!
//! Built from the configured issuer and the router's path constants, advertising exactly what
//! is implemented; never from the request's `Host` header.

use serde_json::{Value, json};

use super::paths;
use super::token::SUPPORTED_GRANTS;
use crate::provider::Provider;

/// Client authentication methods implemented at the token, introspection and revocation
/// endpoints.
pub const AUTH_METHODS: &[&str] = &["client_secret_basic", "client_secret_post"];

/// The discovery document (the same for both well-known paths).
pub fn document(p: &Provider) -> Value {
    let scopes: Vec<String> = p.scopes().iter().map(|s| s.name.clone()).collect();
    let grants: Vec<&str> = SUPPORTED_GRANTS.iter().map(|g| g.as_str()).collect();
    json!({
        "issuer": p.issuer.id,
        "token_endpoint": p.issuer.url(paths::TOKEN),
        "jwks_uri": p.issuer.url(paths::JWKS),
        "introspection_endpoint": p.issuer.url(paths::INTROSPECT),
        "revocation_endpoint": p.issuer.url(paths::REVOKE),
        "grant_types_supported": grants,
        "response_types_supported": Vec::<String>::new(),
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "scopes_supported": scopes,
    })
}
