//! Token-endpoint grants beyond RFC 6749's, one file each, each citing its RFC, and what every
//! grant shares: the response ([`TokenResponse`]) and the issuing of a user's tokens
//! ([`user_tokens`]). The token endpoint (`oauth::token`) parses `grant_type`, authenticates the
//! client once and dispatches here; nothing here imports it.

use serde::Serialize;

pub mod device_code;
pub mod jwt_bearer;
pub mod token_exchange;
pub mod user_tokens;

/// A successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: String,
    /// Always `Bearer` (RFC 6750).
    pub token_type: &'static str,
    /// Lifetime in seconds.
    pub expires_in: u64,
    /// The granted scope, always stated.
    pub scope: String,
    /// A refresh token, when the client has the refresh_token grant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// An id_token, when `openid` was granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// What a token exchange issued (RFC 8693 §2.2.1), a token type URN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<&'static str>,
}
