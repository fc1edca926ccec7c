//! Discovery documents: OpenID Connect Discovery 1.0 §3 and RFC 8414 §2.
//!
//! Built from the configured issuer and the router's path constants, advertising exactly what
//! is implemented; never from the request's `Host` header.

use serde_json::{Value, json};

use super::paths;
use super::request::RESPONSE_TYPES;
use super::token::SUPPORTED_GRANTS;
use crate::model::GrantType;
use crate::provider::Provider;

/// Client authentication methods of confidential clients at the token, introspection and
/// revocation endpoints.
pub const AUTH_METHODS: &[&str] = &["client_secret_basic", "client_secret_post"];

/// Claims Latchkey can put into id_tokens and UserInfo responses.
const REGISTERED_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "acr",
    "amr",
    "nonce",
    "at_hash",
    "c_hash",
    "azp",
    "jti",
];

/// The discovery document (the same for both well-known paths).
pub fn document(p: &Provider) -> Value {
    let scopes = p.scopes();
    let scope_names: Vec<&str> = scopes.iter().map(|s| s.name.as_str()).collect();
    let mut claims: Vec<&str> = REGISTERED_CLAIMS.to_vec();
    for c in scopes.iter().flat_map(|s| s.claims.iter()) {
        if !claims.contains(&c.as_str()) {
            claims.push(c);
        }
    }
    let mut grants: Vec<&str> = SUPPORTED_GRANTS.iter().map(|g| g.as_str()).collect();
    grants.push(GrantType::Implicit.as_str());
    let alg = p.keys.alg();
    let token_methods: Vec<&str> = AUTH_METHODS.iter().copied().chain(["none"]).collect();
    json!({
        "issuer": p.issuer.id,
        "authorization_endpoint": p.issuer.url(paths::AUTHORIZE),
        "token_endpoint": p.issuer.url(paths::TOKEN),
        "userinfo_endpoint": p.issuer.url(paths::USERINFO),
        "jwks_uri": p.issuer.url(paths::JWKS),
        "introspection_endpoint": p.issuer.url(paths::INTROSPECT),
        "revocation_endpoint": p.issuer.url(paths::REVOKE),
        "end_session_endpoint": p.issuer.url(paths::END_SESSION),
        "scopes_supported": scope_names,
        "response_types_supported": RESPONSE_TYPES,
        "response_modes_supported": ["query", "fragment", "form_post"],
        "grant_types_supported": grants,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [alg.as_str()],
        "token_endpoint_auth_methods_supported": token_methods,
        "introspection_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": token_methods,
        "code_challenge_methods_supported": ["S256", "plain"],
        "claims_supported": claims,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "authorization_response_iss_parameter_supported": true,
        "acr_values_supported": p.acr_values(),
        "claims_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "require_request_uri_registration": false,
        "frontchannel_logout_supported": false,
        "backchannel_logout_supported": false,
    })
}
