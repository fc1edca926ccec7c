//! Issuing a user's tokens for any grant that ends with a user (authorization code, refresh,
//! password, device code): the access token, the id_token when `openid` was granted, and the
//! refresh token by the client's policy.

use super::TokenResponse;
use crate::ids;
use crate::model::{Client, GrantType};
use crate::oauth::acr::Authn;
use crate::oauth::error::OAuthError;
use crate::oauth::id_token::{self, IdTokenRequest};
use crate::oauth::issue::{self, AccessTokenRequest, RefreshTokenRequest};
use crate::provider::Provider;
use crate::store::StoredUser;

/// The stored user a grant names. Errors: `invalid_grant` when the grant has no user or the
/// user was deleted since (RFC 6749 §5.2).
pub(crate) async fn find_user(p: &Provider, username: Option<&str>) -> Result<StoredUser, OAuthError> {
    let username = username.ok_or_else(|| OAuthError::invalid_grant("the grant has no user"))?;
    p.store
        .find_user(username)
        .await?
        .ok_or_else(|| OAuthError::invalid_grant(format!("user `{username}` no longer exists")))
}

pub(crate) enum RefreshPolicy {
    /// Issue a refresh token if the client has the refresh_token grant.
    New,
    /// Rotation: issue a new refresh token carrying the original scopes.
    Rotate(Vec<String>),
    /// No rotation: hand back the presented token.
    Keep(String),
}

pub(crate) struct UserGrant {
    pub(crate) scopes: Vec<String>,
    pub(crate) auth_time: i64,
    pub(crate) authn: Authn,
    pub(crate) nonce: Option<String>,
    pub(crate) grant_type: &'static str,
    pub(crate) grant_id: String,
    pub(crate) parent_id: Option<String>,
    pub(crate) refresh: RefreshPolicy,
    /// The access token's resources (RFC 8707; its `aud`); empty: the client's audience.
    pub(crate) resources: Vec<String>,
    /// The resources the grant was authorized for, kept with the refresh token (RFC 8707 §2.2).
    pub(crate) granted_resources: Vec<String>,
}

/// Issues the access token, the id_token (when `openid` was granted) and the refresh token for
/// a user grant.
pub(crate) async fn user_tokens(
    p: &Provider,
    client: &Client,
    user: &StoredUser,
    g: UserGrant,
) -> Result<TokenResponse, OAuthError> {
    let sub = user
        .user
        .sub
        .clone()
        .unwrap_or_else(|| ids::stable_sub(&user.user.username));
    let issued = issue::access_token_for(
        p,
        AccessTokenRequest {
            client,
            subject: sub.clone(),
            username: Some(user.user.username.clone()),
            scopes: g.scopes.clone(),
            grant_type: g.grant_type,
            grant_id: Some(g.grant_id.clone()),
            parent_id: g.parent_id.clone(),
            ttl: None,
            extra_claims: serde_json::Map::new(),
        },
        (!g.resources.is_empty()).then(|| g.resources.clone()),
    )
    .await?;
    let id_token = if g.scopes.iter().any(|s| s == "openid") {
        Some(
            id_token::issue(
                p,
                IdTokenRequest {
                    client,
                    user: &user.user,
                    sub: &sub,
                    scopes: &g.scopes,
                    auth_time: g.auth_time,
                    acr: g.authn.acr.as_deref(),
                    amr: &g.authn.amr,
                    sid: g.authn.sid.as_deref(),
                    requested_claims: &g.authn.id_token_claims,
                    nonce: g.nonce.as_deref(),
                    access_token: Some(&issued.token),
                    code: None,
                    grant_id: Some(g.grant_id.clone()),
                    parent_id: g.parent_id.clone(),
                    grant_type: g.grant_type,
                },
            )
            .await?,
        )
    } else {
        None
    };
    let refresh_scopes = match &g.refresh {
        RefreshPolicy::Rotate(original) => Some(original.clone()),
        RefreshPolicy::New if client.allows_grant(GrantType::RefreshToken) => Some(g.scopes.clone()),
        _ => None,
    };
    let refresh_token = match (refresh_scopes, g.refresh) {
        (_, RefreshPolicy::Keep(t)) => Some(t),
        (Some(scopes), _) => Some(
            issue::refresh_token(
                p,
                RefreshTokenRequest {
                    client,
                    subject: sub.clone(),
                    username: user.user.username.clone(),
                    scopes,
                    auth_time: g.auth_time,
                    authn: g.authn.clone(),
                    grant_id: g.grant_id.clone(),
                    parent_id: g.parent_id.clone(),
                    grant_type: g.grant_type,
                    resources: g.granted_resources.clone(),
                },
            )
            .await?,
        ),
        (None, _) => None,
    };
    Ok(TokenResponse {
        access_token: issued.token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
        scope: g.scopes.join(" "),
        refresh_token,
        id_token,
        issued_token_type: None,
    })
}
