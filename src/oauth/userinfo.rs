//! The UserInfo endpoint (OIDC Core §5.3) with bearer-token usage per RFC 6750.

use serde_json::{Map, Value};

use super::claims;
use super::error::{ErrorCode, OAuthError};
use super::introspect::is_active;
use crate::ids;
use crate::provider::Provider;
use crate::store::TokenKind;

/// Reads a `Bearer` token from an `Authorization` header value (RFC 6750 §2.1).
/// `Ok(None)`: no Bearer header; `Err`: a Bearer header without a usable token.
pub fn bearer(header: Option<&[u8]>) -> Result<Option<String>, OAuthError> {
    let Some(raw) = header else { return Ok(None) };
    let value = std::str::from_utf8(raw)
        .map_err(|_| OAuthError::new(ErrorCode::InvalidToken, "the Authorization header is not valid UTF-8"))?;
    let (scheme, token) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(OAuthError::new(
            ErrorCode::InvalidToken,
            "the Bearer credentials are empty",
        ));
    }
    Ok(Some(token.to_string()))
}

/// Answers a UserInfo request: the claims of the token's user released by its scopes.
/// `header_token`: from `Authorization: Bearer`; `body_token`: `access_token` in a POST form
/// (RFC 6750 §2.2). Using both is `invalid_request` (RFC 6750 §2).
pub async fn userinfo(
    p: &Provider,
    header_token: Option<String>,
    body_token: Option<String>,
) -> Result<Value, OAuthError> {
    let token = match (header_token, body_token) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_request(
                "the access token was sent both in the Authorization header and in the body (RFC 6750 §2)",
            ));
        }
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => {
            return Err(OAuthError::new(
                ErrorCode::InvalidToken,
                "no access token: send Authorization: Bearer <token> (RFC 6750 §2.1)",
            ));
        }
    };
    let invalid = |why: &str| OAuthError::new(ErrorCode::InvalidToken, why);
    let record = p
        .store
        .find_token_by_hash(ids::token_hash(&token))
        .await?
        .filter(|r| r.kind == TokenKind::AccessToken)
        .ok_or_else(|| invalid("the access token was not issued by this server"))?;
    if !is_active(p, &record) {
        return Err(invalid("the access token is expired or revoked"));
    }
    let scopes: Vec<String> = record
        .scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if !scopes.iter().any(|s| s == "openid") {
        return Err(OAuthError::new(
            ErrorCode::InsufficientScope,
            "the access token was not granted the `openid` scope",
        ));
    }
    let username = record
        .username
        .as_deref()
        .ok_or_else(|| invalid("the access token was issued to a client, not to a user"))?;
    let user = p
        .store
        .find_user(username)
        .await?
        .ok_or_else(|| invalid("the token's user no longer exists"))?;
    let released: Map<String, Value> = claims::release(&user.user, &record.subject, &scopes, &p.scopes());
    Ok(Value::Object(released))
}
