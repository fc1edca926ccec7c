//! Discovery documents: OpenID Connect Discovery 1.0 §3 and RFC 8414 §2.
//!
//! Built from the configured issuer and the router's path constants, advertising exactly what
//! is implemented; never from the request's `Host` header. With `[server] backchannel_url`,
//! the document fetched through that host names the server-to-server endpoints
//! ([`BACK_CHANNEL_ENDPOINTS`]) on it instead; `issuer` and the browser-facing endpoints
//! always keep the front-channel URL.

use serde_json::{Value, json};

use super::paths;
use super::request::RESPONSE_TYPES;
use super::token::SUPPORTED_GRANTS;
use crate::model::GrantType;
use crate::provider::Provider;

/// Client authentication methods of confidential clients at the token, introspection and
/// revocation endpoints (one code path: `client_auth`).
pub const AUTH_METHODS: &[&str] = &[
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
];

/// The JWS algorithms of client assertions (`private_key_jwt`, `client_secret_jwt`), the same at
/// every endpoint that authenticates clients.
pub fn auth_signing_algs() -> Vec<&'static str> {
    use super::assertion::{ASYMMETRIC_ALGS, HMAC_ALGS};
    ASYMMETRIC_ALGS.iter().chain(HMAC_ALGS).copied().collect()
}

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
    "sid",
];

/// The metadata names (OIDC Discovery §3, RFC 8414 §2, RFC 7662 §4, RFC 7009 §3, RFC 7591,
/// RFC 9126 §5, RFC 8628 §4) of the endpoints that servers call directly, never a browser:
/// through the back channel these point at `backchannel_url`. Names not (yet) in the document
/// are skipped.
pub const BACK_CHANNEL_ENDPOINTS: &[&str] = &[
    "token_endpoint",
    "jwks_uri",
    "userinfo_endpoint",
    "introspection_endpoint",
    "revocation_endpoint",
    "registration_endpoint",
    "pushed_authorization_request_endpoint",
    "device_authorization_endpoint",
];

/// The discovery document as seen through the back channel `back` (the front-channel document
/// with every [`BACK_CHANNEL_ENDPOINTS`] URL moved from the issuer's base to `back`'s).
pub fn back_channel_document(p: &Provider, back: &crate::issuer::Issuer) -> Value {
    let mut doc = document(p);
    let front = p.issuer.url("");
    let back_base = back.url("");
    if let Value::Object(map) = &mut doc {
        for name in BACK_CHANNEL_ENDPOINTS {
            if let Some(Value::String(url)) = map.get_mut(*name)
                && let Some(rest) = url.strip_prefix(&front)
            {
                *url = format!("{back_base}{rest}");
            }
        }
    }
    doc
}

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
    let mut doc = json!({
        "issuer": p.issuer.id,
        "authorization_endpoint": p.issuer.url(paths::AUTHORIZE),
        "token_endpoint": p.issuer.url(paths::TOKEN),
        "userinfo_endpoint": p.issuer.url(paths::USERINFO),
        "jwks_uri": p.issuer.url(paths::JWKS),
        "introspection_endpoint": p.issuer.url(paths::INTROSPECT),
        "revocation_endpoint": p.issuer.url(paths::REVOKE),
        "end_session_endpoint": p.issuer.url(paths::END_SESSION),
        "device_authorization_endpoint": p.issuer.url(paths::DEVICE_AUTHORIZATION),
        "scopes_supported": scope_names,
        "response_types_supported": RESPONSE_TYPES,
        "response_modes_supported": ["query", "fragment", "form_post"],
        "grant_types_supported": grants,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [alg.as_str()],
        "token_endpoint_auth_methods_supported": token_methods,
        "introspection_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": token_methods,
        "token_endpoint_auth_signing_alg_values_supported": auth_signing_algs(),
        "introspection_endpoint_auth_signing_alg_values_supported": auth_signing_algs(),
        "revocation_endpoint_auth_signing_alg_values_supported": auth_signing_algs(),
        "code_challenge_methods_supported": ["S256", "plain"],
        // RFC 9449 §5.1: the algorithms accepted in DPoP proofs.
        "dpop_signing_alg_values_supported": super::dpop::ALGS,
        "claims_supported": claims,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "authorization_response_iss_parameter_supported": true,
        "acr_values_supported": p.acr_values(),
        "claims_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "require_request_uri_registration": false,
        "frontchannel_logout_supported": false,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        // RFC 9126 §5. (`request_uri_parameter_supported` above stays false: it advertises
        // request objects by reference, OIDC Core §6.2, which Latchkey does not fetch.)
        "pushed_authorization_request_endpoint": p.issuer.url(paths::PAR),
        "require_pushed_authorization_requests": p.settings().require_pushed_authorization_requests,
    });
    // Dynamic client registration (RFC 7591) and Client ID Metadata Documents.
    super::registration::advertise(p, &mut doc);
    doc
}
