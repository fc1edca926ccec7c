//! The token endpoint (RFC 6749 §3.2): parse the grant, authenticate the client once, then
//! dispatch to the grant's handler.

use serde::Serialize;

use super::client_auth::{self, BasicAuth};
use super::error::{ErrorCode, OAuthError};
use super::form::Form;
use super::issue::{self, AccessTokenRequest};
use super::scope;
use crate::model::{Client, GrantType};
use crate::provider::Provider;

/// A successful token response (RFC 6749 §5.1).
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
    /// A refresh token, when the grant issues one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// An id_token, when `openid` was granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// The grant types this server implements at the token endpoint.
pub const SUPPORTED_GRANTS: &[GrantType] = &[GrantType::ClientCredentials];

/// Parses `grant_type` (RFC 6749 §4.1.3, §4.3.2, §4.4.2, §6).
fn grant_type(form: &Form) -> Result<GrantType, OAuthError> {
    let raw = form.require("grant_type")?;
    let known = match raw {
        "authorization_code" => Some(GrantType::AuthorizationCode),
        "client_credentials" => Some(GrantType::ClientCredentials),
        "refresh_token" => Some(GrantType::RefreshToken),
        "password" => Some(GrantType::Password),
        _ => None,
    };
    match known {
        Some(g) if SUPPORTED_GRANTS.contains(&g) => Ok(g),
        _ => Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!(
                "grant_type `{raw}` is not supported; supported: {}",
                SUPPORTED_GRANTS
                    .iter()
                    .map(|g| g.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// Handles a token request (RFC 6749 §3.2).
pub async fn exchange(p: &Provider, basic: &BasicAuth, form: &Form) -> Result<TokenResponse, OAuthError> {
    let grant = grant_type(form)?;
    let client = client_auth::authenticate(p, basic, form, true)?;
    match grant {
        GrantType::ClientCredentials => client_credentials(p, &client, form).await,
        other => Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!("grant_type `{}` is not supported", other.as_str()),
        )),
    }
}

/// The client credentials grant (RFC 6749 §4.4): a confidential client obtains a token for
/// itself, limited to its allowed scopes (django-oidc-provider's `client.scope`).
async fn client_credentials(p: &Provider, client: &Client, form: &Form) -> Result<TokenResponse, OAuthError> {
    // RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential clients."
    if client.is_public() {
        return Err(OAuthError::unauthorized_client(format!(
            "client `{}` is a public client and cannot use client_credentials (RFC 6749 §4.4)",
            client.client_id
        )));
    }
    if !client.allows_grant(GrantType::ClientCredentials) {
        return Err(OAuthError::unauthorized_client(format!(
            "client `{}` is not allowed the client_credentials grant (its grant_types: {})",
            client.client_id,
            client
                .grant_types
                .iter()
                .map(|g| g.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    // RFC 6749 §4.4.2 / §3.3: absent scope means the client's allowed scopes.
    let scopes = scope::grant(form.get("scope")?, &client.scopes, &client.client_id)?;
    let issued = issue::access_token(
        p,
        AccessTokenRequest {
            client,
            subject: client.client_id.clone(),
            username: None,
            scopes: scopes.clone(),
            grant_type: GrantType::ClientCredentials.as_str(),
            grant_id: None,
            parent_id: None,
            ttl: None,
            extra_claims: serde_json::Map::new(),
        },
    )
    .await?;
    // RFC 6749 §4.4.3: no refresh token for client credentials.
    Ok(TokenResponse {
        access_token: issued.token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
        scope: scopes.join(" "),
        refresh_token: None,
        id_token: None,
    })
}
