//! The protocol layer: OAuth 2.0 and OpenID Connect logic, with no HTTP framework in it.
//!
//! Each endpoint function takes the provider and already-extracted inputs (form, Basic
//! credentials) and returns a typed result or an [`OAuthError`]; the HTTP layer only converts.

pub mod acr;
pub mod assertion;
pub mod authorize;
pub mod backchannel_logout;
pub mod bearer;
pub mod claims;
pub mod client_auth;
pub mod client_documents;
pub mod client_metadata_document;
pub mod device;
pub mod discovery;
pub mod dpop;
pub mod error;
pub mod form;
pub mod grants;
pub mod id_token;
pub mod introspect;
pub mod issue;
pub mod jwks_uri;
pub mod logout;
pub mod pending;
pub mod pkce;
pub mod redirect_uri;
pub mod registration;
pub mod replay;
pub mod request;
pub mod resource_indicators;
pub mod revoke;
pub mod scope;
pub mod session;
pub mod token;
pub mod userinfo;

#[cfg(test)]
mod tests;

pub use error::{ErrorCode, OAuthError};

/// Endpoint paths, relative to the issuer. Discovery and the router both use these, so an
/// advertised URL always routes.
pub mod paths {
    /// OIDC Discovery 1.0 §4.
    pub const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
    /// RFC 8414 §3.
    pub const OAUTH_METADATA: &str = "/.well-known/oauth-authorization-server";
    /// RFC 7517.
    pub const JWKS: &str = "/jwks";
    /// RFC 6749 §3.2.
    pub const TOKEN: &str = "/token";
    /// RFC 7662.
    pub const INTROSPECT: &str = "/introspect";
    /// RFC 7009.
    pub const REVOKE: &str = "/revoke";
    /// RFC 6749 §3.1, OIDC Core §3.1.2.
    pub const AUTHORIZE: &str = "/authorize";
    /// OIDC Core §5.3.
    pub const USERINFO: &str = "/userinfo";
    /// OIDC RP-Initiated Logout 1.0.
    pub const END_SESSION: &str = "/end_session";
    /// Latchkey's login page.
    pub const LOGIN: &str = "/login";
    /// Latchkey's consent page.
    pub const CONSENT: &str = "/consent";
    /// RFC 8628 §3.1: the device authorization endpoint.
    pub const DEVICE_AUTHORIZATION: &str = "/device_authorization";
    /// RFC 8628 §3.3: Latchkey's verification page (`verification_uri`).
    pub const DEVICE: &str = "/device";
    /// RFC 9126 §2: the pushed authorization request endpoint.
    pub const PAR: &str = "/par";
    /// RFC 7591 §3: the registration endpoint (RFC 7592: `/register/{client_id}` manages one).
    pub const REGISTER: &str = super::registration::REGISTER_PATH;

    /// Every protocol path above. Add each new protocol route here too: the security suite
    /// (`tests/security/web_framing.rs`) walks them all and checks the headers of every HTML
    /// answer, and fails when one of them is not routed.
    pub const ALL: &[&str] = &[
        OPENID_CONFIGURATION,
        OAUTH_METADATA,
        JWKS,
        TOKEN,
        INTROSPECT,
        REVOKE,
        AUTHORIZE,
        USERINFO,
        END_SESSION,
        LOGIN,
        CONSENT,
        DEVICE_AUTHORIZATION,
        DEVICE,
        PAR,
        REGISTER,
    ];
}
